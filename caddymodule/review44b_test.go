package caddymodule

// Forty-fourth review (b): the streaming and content-coding paths of the
// HTTP layer (mask_stream.go, mask_encoding.go, mask_writer.go). Each test
// fails on the code as reviewed, for the reason its comment gives.

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/piigate/piigate/config"
)

func r44bMask(t *testing.T) *Mask {
	t.Helper()
	return provisionedMask(t, &Mask{RolesFrom: "online_agent", Scan: "names",
		Fields: []config.Field{{Path: "phone", Type: "cn_mobile"}}})
}

// r44bBits writes a bit stream least significant bit first, as brotli
// reads it.
type r44bBits struct {
	out []byte
	n   uint
}

func (b *r44bBits) put(v uint64, n uint) {
	for i := uint(0); i < n; i++ {
		if b.n%8 == 0 {
			b.out = append(b.out, 0)
		}
		if v>>i&1 == 1 {
			b.out[len(b.out)-1] |= 1 << (b.n % 8)
		}
		b.n++
	}
}

func (b *r44bBits) bytes(p []byte) {
	b.n = (b.n + 7) / 8 * 8
	b.out = append(b.out, p...)
	b.n += uint(8 * len(p))
}

// r44bBrotliWithMetadata is a valid brotli stream (RFC 7932) of content,
// preceded by a metadata meta-block holding meta, which decoders skip
// (section 9.2: MNIBBLES = 0).
func r44bBrotliWithMetadata(meta, content string) []byte {
	var b r44bBits
	b.put(0, 1) // WBITS: 16
	b.put(0, 1) // ISLAST
	b.put(3, 2) // MNIBBLES: 0, a metadata meta-block
	b.put(0, 1) // reserved
	b.put(1, 2) // MSKIPBYTES: 1
	b.put(uint64(len(meta)-1), 8)
	b.bytes([]byte(meta))
	b.put(0, 1) // ISLAST
	b.put(0, 2) // MNIBBLES: 4
	b.put(uint64(len(content)-1), 16)
	b.put(1, 1) // ISUNCOMPRESSED
	b.bytes([]byte(content))
	b.put(1, 1) // ISLAST
	b.put(1, 1) // ISLASTEMPTY
	return b.out
}

// TestReview44bCodingMetadataPassesUninspected — LEAK (data passes
// uninspected).
//
// decodeBody (mask_encoding.go) reads only what a coding decodes to. Every
// one of the three container formats also carries bytes that a decoder
// skips: gzip's header fields FNAME, FCOMMENT and FEXTRA (RFC 1952 2.3.1),
// zstd's skippable frames (RFC 8878 3.1.2, magic 0x184D2A5?), brotli's
// metadata meta-blocks (RFC 7932 9.2, MNIBBLES = 0). When the decoded body
// needs no change, finish (mask_writer.go: `same && len(mw.encodings) > 0
// && !mw.m.NoReencode`) sends mw.buf.Bytes(), the upstream's coded bytes,
// as they came, so those skipped bytes reach the agent uninspected: an
// export's gzip FNAME "13812345678.json" (what `gunzip -N`, `gzip -lN` and
// `file` show), or any text an upstream or a tampering component put there.
// A client that cannot decode the coding (the gateway does not check that
// the client accepted it: an upstream may answer zstd to a client that
// asked for gzip, or gzip to curl without --compressed) gets the raw bytes
// and reads the skippable frame's text in plain. The README gives exactly
// this reason for refusing bytes after the end of a stream ("an unchanged
// body would have gone out whole, tail included"); these are bytes inside
// it.
//
// Expected: the view holds nothing the gateway did not read — re-encode
// (or refuse) a body whose coding carries skipped bytes (gzip FLG bits
// FEXTRA|FNAME|FCOMMENT, a skippable zstd frame, a brotli metadata block),
// or always re-encode.
func TestReview44bCodingMetadataPassesUninspected(t *testing.T) {
	m := r44bMask(t)
	const js = `{"ok":true}`
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Header.Name = tMobile + ".json"
	zw.Header.Comment = "customer " + tEmail
	zw.Write([]byte(js))
	zw.Close()

	enc, _ := zstd.NewWriter(nil)
	frame := enc.EncodeAll([]byte(js), nil)
	enc.Close()
	skippable := append([]byte{0x50, 0x2a, 0x4d, 0x18, byte(len(tMobile)), 0, 0, 0}, tMobile...)

	for _, c := range []struct {
		what, ce string
		body     []byte
		accept   string
	}{
		{"gzip FNAME/FCOMMENT", "gzip", gz.Bytes(), "gzip"},
		{"zstd skippable frame first", "zstd", append(append([]byte(nil), skippable...), frame...), "gzip, zstd"},
		{"zstd skippable frame last", "zstd", append(append([]byte(nil), frame...), skippable...), "gzip"},
		{"br metadata meta-block", "br", r44bBrotliWithMetadata("customer "+tMobile, js), "br"},
	} {
		req := httptest.NewRequest(http.MethodGet, "/api/export", nil)
		req.Header.Set("Accept-Encoding", c.accept)
		rec, _, cut := serveMaskCut(t, m, req, func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Encoding", c.ce)
			_, err := w.Write(c.body)
			return err
		})
		raw := rec.Body.String()
		for _, secret := range []string{tMobile, tEmail} {
			if cut == nil && strings.Contains(raw, secret) {
				t.Errorf("%s: status %d, Content-Encoding %q: the agent received the upstream's coded bytes with %s in plain: %q",
					c.what, rec.Code, rec.Header().Get("Content-Encoding"), secret, raw)
			}
		}
	}
}

// flowRecorder is a ResponseWriter a test can read while the handler is
// still writing.
type flowRecorder struct {
	mu   sync.Mutex
	hdr  http.Header
	code int
	body bytes.Buffer
}

func (f *flowRecorder) Header() http.Header { return f.hdr }
func (f *flowRecorder) WriteHeader(code int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.code == 0 {
		f.code = code
	}
}
func (f *flowRecorder) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.code == 0 {
		f.code = 200
	}
	return f.body.Write(p)
}
func (f *flowRecorder) Flush() {}
func (f *flowRecorder) snapshot() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.body.String()
}

// r44bFlows serves a stream whose upstream sends first, flushes, and then
// waits (as a live event stream does) until the test has looked; it
// returns what the agent had received by then.
func r44bFlows(t *testing.T, m *Mask, hdr http.Header, first, wantSeen string) string {
	t.Helper()
	fr := &flowRecorder{hdr: http.Header{}}
	release := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() { recover() }()
		req := httptest.NewRequest(http.MethodGet, "/api/events", nil)
		req.Header.Set("Accept", "text/event-stream")
		ctx := context.WithValue(req.Context(), caddy.ReplacerCtxKey, caddy.NewReplacer())
		ctx = context.WithValue(ctx, caddyhttp.VarsCtxKey, map[string]any{})
		_ = m.ServeHTTP(fr, req.WithContext(ctx), caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			for k, v := range hdr {
				w.Header()[k] = v
			}
			w.WriteHeader(http.StatusOK)
			if _, err := w.Write([]byte(first)); err != nil {
				return err
			}
			http.NewResponseController(w).Flush()
			select {
			case <-release:
			case <-time.After(5 * time.Second):
			}
			return nil
		}))
	}()
	deadline := time.Now().Add(time.Second)
	var seen string
	for time.Now().Before(deadline) {
		if seen = fr.snapshot(); strings.Contains(seen, wantSeen) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(release)
	<-done
	return seen
}

// TestReview44bEventStreamCharsetStopsFlowing — STREAM STOPS FLOWING.
//
// WriteHeader (mask_writer.go: `if mw.mode == modeStream && (… ||
// mw.charset != nil) { mw.mode = modeBuffer }`) reads an event stream
// whose Content-Type names any charset other than UTF-8 whole: nothing
// reaches the agent until the upstream ends the stream, and a live one
// (which never ends) is held until it passes max_body and is refused.
// `text/event-stream;charset=ISO-8859-1` is what a Servlet container
// (Tomcat, Jetty) sends for every SSE servlet that set its type without a
// charset and then used getWriter() (the Servlet default charset), so
// every such legacy endpoint stops flowing behind pii_mask. And reading it
// in the label's charset is reading it as no client does: the HTML
// standard's EventSource decodes an event stream as UTF-8 whatever the
// label says ("always UTF-8"), as do the fetch-based SSE clients; the
// README itself says "JSON, NDJSON and event streams are taken to be
// UTF-8, as their standards require", yet promises "streams keep flushing
// event by event".
//
// Expected: an event stream is read per event as UTF-8, as EventSource
// reads it, whatever charset its label names (so it keeps flowing; the
// same holds for charset=GBK or Big5 labels, which EventSource ignores
// too).
func TestReview44bEventStreamCharsetStopsFlowing(t *testing.T) {
	m := r44bMask(t)
	for _, ct := range []string{"text/event-stream;charset=ISO-8859-1", "text/event-stream; charset=windows-1252"} {
		seen := r44bFlows(t, m, http.Header{"Content-Type": {ct}},
			"data: {\"mobile\":\""+tMobile+"\"}\n\n", "138****5678")
		if strings.Contains(seen, tMobile) {
			t.Fatalf("%s: the mobile reached the agent: %q", ct, seen)
		}
		if !strings.Contains(seen, "138****5678") {
			t.Errorf("%s: the first event, flushed by the upstream, had not reached the agent after 1s (the stream is read whole): got %q", ct, seen)
		}
	}
}

// TestReview44bEventStreamLegacyCharsetLeak — LEAK.
//
// The other half of the same decision: an event stream labelled with a
// legacy charset (GBK, Big5 …) is decoded in that charset before the
// rewrite (finish, mask_writer.go: `mw.charset.NewDecoder().Bytes(body)`;
// only a body that is valid UTF-8 throughout is read as UTF-8). But the
// only reader of an event stream, EventSource (and every fetch-based SSE
// client), decodes it as UTF-8 whatever the label says. The two readings
// split bytes into characters differently: the UTF-8 character 中 (E4 B8
// AD) followed by a backslash is, in GBK, E4B8 and then AD 5C, a
// character that swallows the backslash. So the rewrite reads
// `中\u00313812345678` as "…u00313812345678" (no escape, no mobile), while
// the client's JSON.parse(e.data) gives "中13812345678", and a text data
// line or id: shows the JavaScript escape the rewrite decodes everywhere
// else. The same events under a UTF-8 label are masked (checked below).
// One GBK-encoded word elsewhere (客户 in a comment) keeps the body from
// being valid UTF-8, so the label is followed.
//
// Expected: an event stream is read as UTF-8, as EventSource reads it,
// whatever its label (or a label other than UTF-8 is refused).
func TestReview44bEventStreamLegacyCharsetLeak(t *testing.T) {
	const gbkWord = "\xbf\xcd\xbb\xa7" // 客户 in GBK: not UTF-8
	for _, c := range []struct {
		scan, event string
	}{
		{"all", "data: {\"note\":\"中\\u0031" + tMobile[1:] + "\"}\n\n"},
		{"names", "data: 中\\u0031" + tMobile[1:] + "\n\n"},
		{"names", "id: 中\\u0031" + tMobile[1:] + "\ndata: x\n\n"},
	} {
		m := provisionedMask(t, &Mask{RolesFrom: "online_agent", Scan: c.scan})
		body := ": " + gbkWord + "\n\n" + c.event
		for _, ct := range []string{"text/event-stream; charset=utf-8", "text/event-stream; charset=GBK", "text/event-stream; charset=Big5"} {
			rec, _, cut := serveRaw(t, m, []byte(body), "Content-Type", ct)
			if cut == nil && rec.Code == http.StatusOK && strings.Contains(rec.Body.String(), "中\\u0031"+tMobile[1:]) {
				t.Errorf("scan %s, %s: %q reached the agent unmasked (EventSource reads it as UTF-8): %q",
					c.scan, ct, c.event, rec.Body.String())
			}
		}
	}
}

// TestReview44bEmptyCodedBodyRefused — WRONG-BUT-SAFE.
//
// An empty body under Content-Encoding gzip, br or deflate is refused
// (502, unknown_encoding): decodeBody (mask_encoding.go) hands the empty
// input to gzip.NewReader / zlib+flate / brotli, which fail with EOF on a
// missing header, and finish takes any decode error for an encoding it
// cannot check. Nothing is there to check: browsers and curl take an empty
// coded body as an empty body, the same empty body without a coding passes
// (200), and so does an empty zstd one. A 200 or a 401/404 with an empty
// body that a compression middleware or a cache labelled gzip becomes a
// gateway error.
//
// Expected: an empty body decodes to an empty body whatever its codings.
func TestReview44bEmptyCodedBodyRefused(t *testing.T) {
	m := r44bMask(t)
	for _, ce := range []string{"gzip", "br", "deflate", "zstd"} {
		rec, out, cut := serveRaw(t, m, nil, "Content-Type", "application/json", "Content-Encoding", ce)
		if cut != nil || rec.Code != http.StatusOK || rec.Body.Len() != 0 {
			reason := ""
			if out != nil {
				reason = out.Reason
			}
			t.Errorf("Content-Encoding %s, empty body: status %d (%s), %q; want 200 and an empty body", ce, rec.Code, reason, rec.Body.String())
		}
	}
}

// TestReview44bJSONSeqMultiLineRecordCut — WRONG-BUT-SAFE (a working
// stream cut).
//
// application/json-seq (RFC 7464) separates texts with RS (0x1E); a text
// may span lines (possible-JSON is anything but RS), and `jq --seq`, the
// common producer, pretty-prints each record over several lines unless
// told -c. The writer streams it as NDJSON (WriteHeader: json-seq →
// rewrite.NDJSON; the streamer cuts at '\n', walker.lines reads each line
// as a document), so the first line, `\x1E{`, is malformed and the stream
// is cut after its header went out, for a record that could have been
// masked (the same record on one line is).
//
// Expected: under application/json-seq a unit is a record, from one RS to
// the next (or the LF that ends a complete text), and a record spanning
// lines is rewritten as one document.
func TestReview44bJSONSeqMultiLineRecordCut(t *testing.T) {
	m := r44bMask(t)
	body := "\x1e{\n  \"mobile\": \"" + tMobile + "\",\n  \"ok\": true\n}\n\x1e{\n  \"ok\": false\n}\n"
	rec, out, cut := serveRaw(t, m, []byte(body), "Content-Type", "application/json-seq")
	if strings.Contains(rec.Body.String(), tMobile) {
		t.Fatalf("the mobile reached the agent: %q", rec.Body.String())
	}
	if cut != nil || !strings.Contains(rec.Body.String(), "138****5678") {
		reason := ""
		if out != nil {
			reason = out.Result + "/" + out.Reason
		}
		t.Errorf("a pretty-printed JSON text sequence was cut (%v, %s) instead of masked: %q", cut, reason, rec.Body.String())
	}
}
