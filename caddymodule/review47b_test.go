package caddymodule

// Forty-seventh review (b): today's fixes outside `caddy pii scan`
// (codings, streams, configuration). Each test fails on the code as
// reviewed, for the reason its comment gives, and passes once fixed.

import (
	"mime"
	"net/http"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/piigate/piigate/config"
)

func r47bMask(t *testing.T) *Mask {
	t.Helper()
	return provisionedMask(t, &Mask{RolesFrom: "online_agent", Scan: "all",
		Fields: []config.Field{{Path: "phone", Type: "cn_mobile"}}})
}

// r47bUTF16LE is s in UTF-16LE, without a byte-order mark.
func r47bUTF16LE(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}

// r47bCharsets returns every charset parameter of a Content-Type value,
// in order, lower case (mime.ParseMediaType refuses a repeated one).
func r47bCharsets(ct string) []string {
	var out []string
	_, params, _ := strings.Cut(ct, ";")
	for _, p := range strings.Split(params, ";") {
		k, v, ok := strings.Cut(p, "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), "charset") {
			out = append(out, strings.ToLower(strings.Trim(strings.TrimSpace(v), `"`)))
		}
	}
	return out
}

// r47bLabelledUTF8 reports whether the agent is told, in every charset
// parameter, that the view is UTF-8 (or none is named).
func r47bLabelledUTF8(ct string) bool {
	for _, c := range r47bCharsets(ct) {
		if c != "utf-8" && c != "utf8" {
			return false
		}
	}
	return true
}

// Finding 1 (leak, medium): an event stream under a charset label the
// gateway does not take flows on under that label. WriteHeader
// (mask_writer.go) relabels an event stream `charset=utf-8` only when
// legacyCharset returns an encoding (`if mw.charset != nil &&
// asciiCompatible(mw.charset)`), i.e. only when the FIRST charset
// parameter is a WHATWG name other than UTF-8. Two cases stay labelled
// as the upstream wrote them while the rewrite reads the bytes as UTF-8
// (the events walk content-scans every non-data line and accepts any
// bytes, NULs and invalid UTF-8 included):
//
//   - a name WHATWG does not list but other clients decode: `utf-7`
//     (Python's codec; `requests` takes the label for .text and .json(),
//     so `zhang.san+AEA-example.com` is zhang.san@example.com and
//     `+ADEAMwA4…-` is 13812345678 to it, while the detectors see neither);
//     legacyCharset returns (nil, false) and the label is kept;
//   - a repeated charset parameter, `charset=utf-8; charset=utf-16le`:
//     legacyCharset reads the first (UTF-8: nothing to do), `requests`
//     (requests.utils._parse_content_type_header, a dict) the last, and
//     decodes UTF-16LE bytes the walk saw as "1\x003\x00…" (no number).
//
// README: an event stream "is read as UTF-8 whatever ASCII-compatible
// charset its label names … and is relabelled charset=utf-8 (one labelled
// UTF-16 is refused)". Expected: the view of an event stream names UTF-8
// only (every charset parameter replaced, whatever name it gives), or the
// stream is refused when a label names a charset that does not read ASCII
// as ASCII, wherever it stands in the value.
func TestReview47bEventStreamLabelNotTaken(t *testing.T) {
	m := r47bMask(t)
	for _, c := range []struct {
		what, ct string
		body     []byte
	}{
		{"utf-7, a name WHATWG does not list", "text/event-stream; charset=utf-7",
			[]byte("data: write to zhang.san+AEA-example.com or call +ADEAMwA4ADEAMgAzADQANQA2ADcAOA-\n\n")},
		{"a second charset parameter naming UTF-16", "text/event-stream; charset=utf-8; charset=utf-16le",
			r47bUTF16LE("\ndata: call " + tMobile + "\n\n")},
	} {
		rec, out, cut := serveRaw(t, m, c.body, "Content-Type", c.ct)
		if cut != nil || rec.Code != http.StatusOK {
			continue // refused: fine
		}
		if ct := rec.Header().Get("Content-Type"); !r47bLabelledUTF8(ct) {
			t.Errorf("%s: the stream went out (%s, result %q) labelled %q: a client that decodes the label "+
				"(Python requests) reads what the rewrite, reading UTF-8, never saw: %q",
				c.what, rec.Result().Status, out.Result, ct, rec.Body.String())
		}
	}
}

// Finding 2 (leak, low): a UTF-8 byte-order mark under a UTF-16 label
// turns the refusal off and keeps the label. An event stream labelled
// `charset=utf-16le` keeps mw.charset (not ASCII-compatible), so it is
// read whole (mask_writer.go WriteHeader: `mode = modeBuffer`) to be
// refused in finish ("charset does not read ASCII as ASCII"). But finish
// first runs `case bytes.HasPrefix(body, "\xEF\xBB\xBF"): mw.charset =
// nil` ("a UTF-8 byte-order mark wins over the label, as in browsers"),
// so the body is read as UTF-8 and sent with its label unchanged: the
// relabelling a few lines below (`withUTF8`) only runs while mw.charset
// is set. The events walk accepts NULs, so a body of EF BB BF 00 and then
// UTF-16LE text is UTF-8 to the gateway ("\x00d\x00a…": no data line, no
// number) and, to a client that follows the label (Python requests), two
// junk characters on a line of their own and then "data: 13812345678".
// (JSON and sniffed text refuse NULs, so for them the label is harmless.)
// Expected: when the mark overrides a label, the view is relabelled
// `charset=utf-8` (as for valid UTF-8 under a legacy label), or, for a
// label that does not read ASCII as ASCII, refused.
func TestReview47bUTF8BOMUnderUTF16LabelKeepsLabel(t *testing.T) {
	m := r47bMask(t)
	body := append([]byte("\xEF\xBB\xBF\x00"), r47bUTF16LE("\ndata: call "+tMobile+"\n\n")...)
	rec, out, cut := serveRaw(t, m, body, "Content-Type", "text/event-stream; charset=utf-16le")
	if cut != nil || rec.Code != http.StatusOK {
		return // refused: fine
	}
	if ct := rec.Header().Get("Content-Type"); !r47bLabelledUTF8(ct) {
		t.Errorf("read as UTF-8 (result %q, format %q) but sent labelled %q: %q",
			out.Result, out.Format, ct, rec.Body.String())
	}
}

// Finding 3 (leak, low-medium; not today's code, the same gap outside
// streams): a buffered body under a charset name the gateway does not
// know goes out under that name. legacyCharset returns (nil, false) for
// `utf-7` (htmlindex: invalid encoding name): "an unknown name, whose body
// is read as bytes (and refused if it does not look like text)". UTF-7 is
// ASCII, so it looks like text; the view keeps `charset=utf-7`, and
// Python requests' Response.json() decodes .text in it: the note below
// is {"note": "mail zhang.san@example.com, 13812345678"} to the agent,
// while content detectors (scan all) saw "+AEA-" and base64. Expected: a
// charset label the gateway cannot decode is not passed on: the view is
// relabelled `charset=utf-8` (what the gateway read it as) or refused.
func TestReview47bUnknownCharsetLabelOnBufferedBody(t *testing.T) {
	m := r47bMask(t)
	body := `{"note":"mail zhang.san+AEA-example.com, +ADEAMwA4ADEAMgAzADQANQA2ADcAOA-"}`
	for _, ct := range []string{"application/json; charset=utf-7", "text/plain; charset=utf-7"} {
		rec, out, cut := serveRaw(t, m, []byte(body), "Content-Type", ct)
		if cut != nil || rec.Code != http.StatusOK {
			continue
		}
		got := rec.Header().Get("Content-Type")
		_, params, _ := mime.ParseMediaType(got)
		if cs := strings.ToLower(params["charset"]); cs != "" && cs != "utf-8" {
			t.Errorf("%s: sent (result %q) labelled %q, a charset the gateway did not read it in: %q",
				ct, out.Result, got, rec.Body.String())
		}
	}
}
