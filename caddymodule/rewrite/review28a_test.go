package rewrite

// Twenty-eighth review (28a: the twenty-seventh review's fix: escapes of
// text in every content-scanned string, the text reading of JSON-string
// bodies and event data, the per-document escape index). Each test fails
// on the code as reviewed. All values are fake (detectorstest, the
// documentation prefix 2001:db8::/32, the shared fixtures).

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/piigate/piigate/config"
	"github.com/piigate/piigate/detectors"
	"github.com/piigate/piigate/detectors/detectorstest"
)

// colonSpelt writes the IPv6 address v with every ':' as the JSON escape
// \u003a.
func colonSpelt(v, esc string) string { return strings.ReplaceAll(v, ":", esc) }

// A text body (or event data) that is one JSON string is no longer walked
// as JSON (walker.text, walk.go:1297-1321): it is read as text only, with
// decodeTextEscapes standing in for JSON.parse (levels 2). But decode
// decodes only the escapes of letters, digits, '@', a few separators
// (textEscapeDecoded, jsonstr.go:177-189) and the escape introducers
// (escapeIntro); any other \uXXXX becomes a space, a boundary. JSON.parse
// decodes them all. So an IPv6 address whose colons are written \u003a
// (JSON.parse: 2001:db8:…, the address itself) is not found: the body
// "2001\u003adb8\u003a…" passes unchanged to online_agent (ip_address
// redact), while the same string inside a JSON document, or the address
// written with plain colons, gives "[ip_address]". Before the commit, Sniff
// said JSON and the body was walked by w.document, which decodes all JSON
// escapes and found it (checked on HEAD~1). Event data is read the same
// way (events.go:86) and leaks alike.
func TestReview28aScalarTextBodyJSONEscapeOfColonHidesIPv6(t *testing.T) {
	e := engine(t, config.Route{Scan: "all"}, nil)
	d := decide(t, "online_agent")
	g := detectorstest.New(2801)
	tried := 0
	for i := 0; i < 40 && tried < 6; i++ {
		ip := g.IPv6()
		if strings.Count(ip, ":") < 2 {
			continue
		}
		// Precondition: the same string as a JSON document's value is
		// found (the JSON reading decodes \u003a).
		docIn := `["` + colonSpelt(ip, `\u003a`) + `"]`
		var dsum Summary
		dout, err := e.Rewrite(nil, []byte(docIn), JSON, d, &dsum)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(dout), `\u003a`) {
			continue // not found in the JSON reading either
		}
		tried++
		body := `"` + colonSpelt(ip, `\u003a`) + `"`
		for _, c := range []struct {
			in string
			f  Format
		}{
			{body, Sniff([]byte(body))}, // the gateway's path for text/*, no type
			{"data: " + body + "\n\n", Events},
		} {
			var sum Summary
			out, err := e.Rewrite(nil, []byte(c.in), c.f, d, &sum)
			if err != nil {
				t.Fatal(err)
			}
			s := strings.TrimSpace(strings.TrimPrefix(string(out), "data: "))
			var parsed string
			if err := json.Unmarshal([]byte(s), &parsed); err != nil {
				t.Fatalf("%q: invalid JSON out %s", c.in, out)
			}
			if strings.Contains(parsed, ip) {
				t.Errorf("%q (format %d) as online_agent: gave %q, counts %v; JSON.parse gives the address %s "+
					"(as a JSON document's value it gives %s)", c.in, c.f, out, sum.Counts, ip, dout)
			}
		}
	}
	if tried == 0 {
		t.Fatal("fixture: no IPv6 address found")
	}
}

// JSON inside a JSON-string body is walked only when the raw body, after
// its opening quote, starts like JSON to holdsJSON (walk.go:1301), which
// skips only literal quotes and backslashes: "\u007b\"name\":…}" and
// "\n{\"name\":…}" (README: JSON inside strings "also behind escapes,
// "\n{…}", "\u007b…}"") are read as text instead, where key names do not
// count. The record's name (person_name, masked for online_agent) goes
// out whole; "{\"name\":…}" written with a plain '{' gives 张*. Before
// the commit such a body went to w.document, whose strValue/scanText
// decode the string first and walk the record (checked on HEAD~1). Event
// data that is such a string takes the same path (events.go:84).
func TestReview28aScalarTextBodyEscapedJSONInStringSkipsKeyNames(t *testing.T) {
	e := engine(t, config.Route{Scan: "names"}, nil)
	d := decide(t, "online_agent")
	g := detectorstest.New(2802)
	name := g.Name()
	rec := `\"name\":\"` + name + `\"}`
	// Precondition: with a plain '{' the name is masked.
	var psum Summary
	pout, err := e.Rewrite(nil, []byte(`"{`+rec+`"`), Text, d, &psum)
	if err != nil || strings.Contains(string(pout), name) {
		t.Fatalf("precondition: %s gave %s (%v)", `"{`+rec+`"`, pout, err)
	}
	for _, body := range []string{`"\u007b` + rec + `"`, `"\n{` + rec + `"`, `"\t{` + rec + `"`} {
		for _, c := range []struct {
			in string
			f  Format
		}{
			{body, Sniff([]byte(body))},
			{"data: " + body + "\n\n", Events},
		} {
			var sum Summary
			out, err := e.Rewrite(nil, []byte(c.in), c.f, d, &sum)
			if err != nil {
				t.Fatal(err)
			}
			s := strings.TrimSpace(strings.TrimPrefix(string(out), "data: "))
			var inner string
			if err := json.Unmarshal([]byte(s), &inner); err != nil {
				t.Fatalf("%q: invalid JSON out %s", c.in, out)
			}
			if strings.Contains(inner, name) {
				t.Errorf("%q (format %d) as online_agent: gave %q, counts %v; the record's name is shown (with a plain '{': %s)",
					c.in, c.f, out, sum.Counts, pout)
			}
		}
	}
}

// Under scan all, keys are content-scanned ("keys included", README), but
// walker.key (walk.go:1136-1157) scans the key as it is: it never calls
// mayHoldTextEscape/escapedView, which scanText now does for every value.
// {"1381234567&#56;":1} and {"1381234567%38":1} pass unchanged to
// online_agent, while {"13812345678":1} gives {"138****5678":1} and the
// value "1381234567&#56;" gives "138****5678". A page that lists the keys
// shows 13812345678.
func TestReview28aKeysSkipTextEscapes(t *testing.T) {
	e := engine(t, config.Route{Scan: "all"}, nil)
	d := decide(t, "online_agent")
	var vsum Summary
	vout, err := e.Rewrite(nil, []byte(`{"k":"1381234567&#56;"}`), JSON, d, &vsum)
	if err != nil || strings.Contains(string(vout), "&#56;") {
		t.Fatalf("precondition: the value gave %s (%v)", vout, err)
	}
	for _, in := range []string{`{"1381234567&#56;":1}`, `{"1381234567%38":1}`, `{"138+1234+5678":1}`} {
		var sum Summary
		out, err := e.Rewrite(nil, []byte(in), JSON, d, &sum)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatalf("%s: invalid JSON out %s", in, out)
		}
		for k := range m {
			for _, r := range clientReadings(k) {
				if strings.Contains(r, mobile) {
					t.Errorf("%s as online_agent (scan all): gave %s, counts %v; the key reads %q (the same text as a value gives %s)",
						in, out, sum.Counts, r, vout)
					break
				}
			}
		}
	}
}

// indexEscapes (walk.go:1423-1446) marks each '+' that plusJoins accepts,
// and plusJoins (walk.go:1455-1470) walks the whole run of digits and '+'
// around the '+' it is asked about, both ways: for a string value
// "1+1+1+…" of n bytes that is n/2 calls of O(n), quadratic. It runs on the
// first scanned string of every document (scan all, or any JSON sniffed
// under a text type), whatever string holds the run. 64 KiB of "1+" takes
// seconds (about 3.4 s here) where the same length of "1&" or "1," takes
// about a millisecond; the default max_body (16 MiB) would take days.
// (mayHoldTextEscape, the byte-by-byte check, skips the rest of a run after
// its first '+', and is linear.)
func TestReview28aIndexEscapesQuadraticInPlusRun(t *testing.T) {
	e := engine(t, config.Route{Scan: "all"}, nil)
	d := decide(t, "online_agent")
	const n = 32 << 10
	timeOf := func(sep string) time.Duration {
		in := []byte(`["x","` + strings.Repeat("1"+sep, n) + `"]`)
		start := time.Now()
		var sum Summary
		if _, err := e.Rewrite(nil, in, JSON, d, &sum); err != nil {
			t.Fatal(err)
		}
		return time.Since(start)
	}
	base := timeOf("&") // as many escape marks, each O(1)
	plus := timeOf("+")
	if plus > 50*base+200*time.Millisecond {
		t.Errorf(`["x","1+1+…"] (%d KiB) took %v; the same length of "1&1&…" took %v: the '+' index is quadratic`,
			(4*n+10)>>10, plus, base)
	}
}

// A ':' is not among the characters whose escapes decodeTextEscapes decodes
// (textEscapeDecoded, jsonstr.go:177-189), though it is the separator the
// IPv6 detector reads (README: escapes of "the separators the detectors
// read" are decoded): %3A and &#58; become a space. A link or form field
// that holds an IPv6 address percent-encodes its colons
// (ip=2001%3Adb8%3A…, as URLSearchParams and encodeURIComponent write it),
// and a page may write them &#58;; the client decodes them to the address.
// {"note":"ip=2001%3Adb8%3A…"} passes unchanged to online_agent, where
// {"note":"ip=2001:db8:…"} gives "ip=[ip_address]".
func TestReview28aEscapedColonHidesIPv6(t *testing.T) {
	e := engine(t, config.Route{Scan: "all"}, nil)
	d := decide(t, "online_agent")
	g := detectorstest.New(2803)
	tried := 0
	for i := 0; i < 40 && tried < 4; i++ {
		ip := g.IPv6()
		if strings.Count(ip, ":") < 2 {
			continue
		}
		var psum Summary
		pout, err := e.Rewrite(nil, []byte(`{"note":"ip=`+ip+`"}`), JSON, d, &psum)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(pout), ip) {
			continue // not found written plainly either
		}
		tried++
		for _, esc := range []string{"%3A", "&#58;"} {
			in := `{"note":"ip=` + colonSpelt(ip, esc) + `"}`
			var sum Summary
			out, err := e.Rewrite(nil, []byte(in), JSON, d, &sum)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]string
			if err := json.Unmarshal(out, &m); err != nil {
				t.Fatalf("%s: invalid JSON out %s", in, out)
			}
			for _, r := range clientReadings(m["note"]) {
				if strings.Contains(r, ip) {
					t.Errorf("%s as online_agent: gave %s, counts %v; the client reads %q (written plainly: %s)",
						in, out, sum.Counts, r, pout)
					break
				}
			}
		}
	}
	if tried == 0 {
		t.Fatal("fixture: no IPv6 address found")
	}
}

// formSpaces decodes form data as a form decoder does: %XX escapes, '+' a
// space (the spaces kept).
func formSpaces(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '%' && i+2 < len(s) && hexDigit(s[i+1]) >= 0 && hexDigit(s[i+2]) >= 0:
			b.WriteByte(byte(hexDigit(s[i+1])<<4 | hexDigit(s[i+2])))
			i += 2
		case c == '+':
			b.WriteByte(' ')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// A '+' is read as form data's space only between two literal ASCII digit
// bytes (escapeAt, jsonstr.go:281-287; plusJoins, walk.go:1455, counts
// ASCII digits only). A form decoder turns every '+' into a space, whatever
// stands beside it, and decodes %XX in the same pass: 138+%31234+5678 is
// 138 1234 5678, a mobile with spaces, which the detectors find (and so is
// the full-width １３８+１２３４+５６７８, full-width digits counting as
// ASCII ones). Both pass unchanged to online_agent inside a scanned string,
// where 138+1234+5678 gives 138 **** 5678.
func TestReview28aFormPlusBesideEscapedOrFullWidthDigits(t *testing.T) {
	e := engine(t, config.Route{Scan: "all"}, nil)
	d := decide(t, "online_agent")
	var psum Summary
	pout, err := e.Rewrite(nil, []byte(`{"q":"tel=138+1234+5678"}`), JSON, d, &psum)
	if err != nil || strings.Contains(string(pout), "1234") {
		t.Fatalf("precondition: gave %s (%v)", pout, err)
	}
	for _, v := range []string{"138+%31234+5678", "%31%33%38+%31%32%33%34+%35%36%37%38", "１３８+１２３４+５６７８", "138+１２３４+5678"} {
		read := formSpaces(v)
		if fs := e.scanner.Scan(read, nil); len(fs) != 1 || fs[0].Type != detectors.CNMobile {
			t.Fatalf("fixture: %q (form-decoded %q) is not one mobile to the detectors: %v", v, read, fs)
		}
		in := `{"q":"tel=` + v + `"}`
		var sum Summary
		out, err := e.Rewrite(nil, []byte(in), JSON, d, &sum)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]string
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatalf("%s: invalid JSON out %s", in, out)
		}
		if fs := e.scanner.Scan(formSpaces(m["q"]), nil); len(fs) > 0 {
			t.Errorf("%s as online_agent: gave %s, counts %v; a form decoder reads %q, which holds a %s (138+1234+5678 gives %s)",
				in, out, sum.Counts, formSpaces(m["q"]), fs[0].Type, pout)
		}
	}
}

// JSON sniffed under a text type is "content-scanned everywhere ... as the
// text it was labelled would have been" (README), and this commit reads a
// JSON-string body both ways for that reason: "a page shows it as it is".
// A JSON document under text/html is shown as it is too (the browser
// renders the body as a page; it does not run JSON.parse), but the engine
// reads its strings only as JSON.parse gives them (strValue → scanText on
// the decoded string): "13812345678\u0031" is 138123456781 to JSON, twelve
// digits and no mobile, and 13812345678\u0031 on the page, a mobile. The
// body ["13812345678\u0031"] sniffed under text/html (RewriteScanned)
// passes unchanged, while the body "13812345678\u0031" (one JSON string)
// gives "138****5678\u0031" and the page <p>13812345678\u0031</p> gives
// <p>138****5678\u0031</p>.
func TestReview28aSniffedJSONDocumentNotReadAsThePageShowsIt(t *testing.T) {
	e := engine(t, config.Route{Scan: "all"}, nil)
	d := decide(t, "online_agent")
	for _, c := range []struct{ doc, scalar string }{
		{`["13812345678\u0031"]`, `"13812345678\u0031"`},
		{`{"note":"tel 13812345678\u0039 x"}`, `"tel 13812345678\u0039 x"`},
	} {
		var ssum Summary
		sout, err := e.Rewrite(nil, []byte(c.scalar), Sniff([]byte(c.scalar)), d, &ssum)
		if err != nil || strings.Contains(string(sout), mobile) {
			t.Fatalf("precondition: %s gave %s (%v)", c.scalar, sout, err)
		}
		var sum Summary
		out, err := e.RewriteScanned(nil, []byte(c.doc), Sniff([]byte(c.doc)), d, &sum)
		if err != nil {
			t.Fatal(err)
		}
		if !json.Valid(out) {
			t.Fatalf("%s: invalid JSON out %s", c.doc, out)
		}
		if strings.Contains(string(out), mobile) {
			t.Errorf("%s sniffed under text/html as online_agent: gave %s, counts %v; the page shows %s "+
				"(the one-string body %s gives %s)", c.doc, out, sum.Counts, mobile, c.scalar, sout)
		}
	}
}
