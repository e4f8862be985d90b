package caddymodule

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/klauspost/compress/zstd"
)

type r49Flusher interface {
	io.WriteCloser
	Flush() error
}

// r49Coders are the upstream's compressors, each able to flush.
var r49Coders = map[string]func(io.Writer) r49Flusher{
	"gzip":        func(w io.Writer) r49Flusher { return gzip.NewWriter(w) },
	"deflate":     func(w io.Writer) r49Flusher { return zlib.NewWriter(w) },
	"deflate-raw": func(w io.Writer) r49Flusher { z, _ := flate.NewWriter(w, 5); return z },
	"br":          func(w io.Writer) r49Flusher { return brotli.NewWriter(w) },
	"zstd":        func(w io.Writer) r49Flusher { z, _ := zstd.NewWriter(w); return z },
}

// r49Run serves a stream of the given Content-Type and Content-Encoding
// whose upstream writes chunks one by one (each followed by a flush); after
// each write and flush, seen gets what the agent had by then. It fails
// the test if the handler does not end within a few seconds. cut is what
// ServeHTTP panicked with.
func r49Run(t *testing.T, m *Mask, ct, coding string, chunks [][]byte) (seen []string, final string, cut any) {
	t.Helper()
	fr := &flowRecorder{hdr: http.Header{}}
	step := make(chan struct{})
	cont := make(chan struct{})
	done := make(chan any, 1)
	go func() {
		var rec any
		defer func() { done <- rec }()
		defer func() { rec = recover() }()
		req := httptest.NewRequest(http.MethodGet, "/api/s", nil)
		ctx := context.WithValue(req.Context(), caddy.ReplacerCtxKey, caddy.NewReplacer())
		ctx = context.WithValue(ctx, caddyhttp.VarsCtxKey, map[string]any{})
		_ = m.ServeHTTP(fr, req.WithContext(ctx), caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Content-Type", ct)
			if coding != "" {
				w.Header().Set("Content-Encoding", strings.TrimSuffix(coding, "-raw"))
			}
			w.WriteHeader(http.StatusOK)
			for _, c := range chunks {
				_, err := w.Write(c)
				http.NewResponseController(w).Flush()
				step <- struct{}{}
				<-cont
				if err != nil {
					return err
				}
			}
			return nil
		}))
	}()
	for range chunks {
		select {
		case <-step:
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: an upstream write did not return within 5 s", coding)
		}
		seen = append(seen, fr.snapshot())
		cont <- struct{}{}
	}
	select {
	case cut = <-done:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: the handler did not return within 5 s", coding)
	}
	return seen, fr.snapshot(), cut
}

// r49Chunks codes units, flushing the coder after each: one chunk per unit,
// the last one ending the coded stream (when closeIt).
func r49Chunks(coding string, units []string, closeIt bool) [][]byte {
	var b bytes.Buffer
	zw := r49Coders[coding](&b)
	var chunks [][]byte
	for i, u := range units {
		io.WriteString(zw, u)
		if i == len(units)-1 && closeIt {
			zw.Close()
		} else {
			zw.Flush()
		}
		chunks = append(chunks, append([]byte(nil), b.Bytes()...))
		b.Reset()
	}
	return chunks
}

// r49GoneWriter is an agent that went away after the header: every body
// write fails, as a closed connection's does.
type r49GoneWriter struct{ hdr http.Header }

func (g *r49GoneWriter) Header() http.Header       { return g.hdr }
func (g *r49GoneWriter) WriteHeader(int)           {}
func (g *r49GoneWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }
func (g *r49GoneWriter) Flush()                    {}

func r49Gone(t *testing.T, m *Mask, coding string, body []byte) *Outcome {
	vars := map[string]any{}
	req := httptest.NewRequest(http.MethodGet, "/api/s", nil)
	ctx := context.WithValue(req.Context(), caddy.ReplacerCtxKey, caddy.NewReplacer())
	ctx = context.WithValue(ctx, caddyhttp.VarsCtxKey, vars)
	func() {
		defer func() { recover() }()
		_ = m.ServeHTTP(&r49GoneWriter{hdr: http.Header{}}, req.WithContext(ctx), caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Content-Type", "application/x-ndjson")
			if coding != "" {
				w.Header().Set("Content-Encoding", coding)
			}
			_, err := w.Write(body)
			return err
		}))
	}()
	out, _ := vars[varOutcome].(*Outcome)
	return out
}

// TestReview49EmptyCodedStreamCut — WRONG-BUT-SAFE (a stream now cut
// that used to be delivered).
//
// The forty-fourth review settled that an empty body under any coding is
// an empty body (TestReview44bEmptyCodedBodyRefused; decodeBody: "an
// empty body under any coding is empty to clients"), and before this
// commit a coded stream was read whole through decodeBody, so an empty
// gzip/br/deflate NDJSON or event stream was a 200 with an empty body.
// Now WriteHeader starts a streamDecoder for it, and with no body at all
// finish → streamer.close → streamDecoder.close hands the decoder EOF at
// once: gzip.NewReader (mask_stream_decode.go `zr, err :=
// gzip.NewReader(d)`) fails with "gzip: EOF", brotli and flate with
// unexpected EOF, streamer.close refuses it as unknown_encoding and finish
// panics http.ErrAbortHandler: the agent's stream (200 already sent) is
// cut. An empty zstd stream, and the same empty stream uncoded, still end
// cleanly. (An SSE endpoint with nothing to say that closes at once, under
// a compression middleware that labels every response, is cut on every
// poll and the agent reconnects in a loop.)
//
// Expected: a coded stream that carried no byte at all ends as an empty
// stream, whatever its coding (close with no input ever fed: nothing to
// decode, no error).
func TestReview49EmptyCodedStreamCut(t *testing.T) {
	m := r44bMask(t)
	for _, coding := range []string{"", "zstd", "gzip", "br", "deflate"} {
		_, final, cut := r49Run(t, m, "application/x-ndjson", coding, nil)
		if cut != nil || final != "" {
			t.Errorf("Content-Encoding %q, an empty NDJSON stream: cut %v, %q; want it ended cleanly, empty (as uncoded and zstd)", coding, cut, final)
		}
	}
}

// TestReview49TrailingBytesInLastWriteDropped — WRONG-BUT-SAFE.
//
// The commit promises that "trailing bytes ... cut the agent's" stream, and
// run checks for them at the coding's end (mask_stream_decode.go: `left :=
// len(d.in); if left > 0 { return errors.New("bytes after the end of the
// compressed stream") }`). But gzip and deflate read through a
// bufio.Reader (klauspost gzip.NewReader wraps d in one; reader() builds
// `br := bufio.NewReader(d)` for deflate), which pulls up to 4 KiB from
// d.in at a time: bytes after the gzip trailer / zlib checksum / final
// deflate block that came in the same upstream write as the end sit in
// that bufio buffer, d.in is empty, and run returns nil. The agent's
// stream ends cleanly, as if complete, and the bytes are silently
// dropped. br (errExcessiveInput) and zstd cut the same stream, and the
// same bytes in a later write cut it too (feed after done), as does the
// buffered path (decodeBody: "bytes after the end of the stream"). Nothing
// unmasked reaches the agent (the view is sent uncoded), hence only
// wrong-but-safe: a malformed upstream response is passed as a complete
// one, inconsistently by coding and by how the upstream's writes fell.
//
// Expected: bytes after the end of a coded stream cut the agent's stream
// whatever the coding and however they were written (e.g. after EOF also
// check the decoder's own buffer: bufio.Reader.Buffered() > 0, or read one
// more byte from it).
func TestReview49TrailingBytesInLastWriteDropped(t *testing.T) {
	m := r44bMask(t)
	units := []string{"{\"phone\":\"13812345678\"}\n", "{\"n\":2}\n"}
	for _, coding := range []string{"br", "zstd", "gzip", "deflate", "deflate-raw"} {
		whole := bytes.Join(r49Chunks(coding, units, true), nil)
		body := append(whole, "{\"phone\":\"13912345678\"}\n"...)
		_, final, cut := r49Run(t, m, "application/x-ndjson", coding, [][]byte{body})
		if cut == nil {
			t.Errorf("%s: bytes after the end of the coded stream, in the same write as its end, were dropped and the stream ended as complete (%q); want it cut (as br and zstd, and as the same bytes in a later write)", coding, final)
		}
	}
}

// TestReview49AgentGoneRecordedAsUnknownEncoding — MINOR (observability).
//
// When the agent goes away mid-stream, the decoder goroutine's out →
// writeDecoded → emit fails on the response writer's Write; run records
// that as d.err and feed (or close) returns it. streamer.write and
// streamer.close take every error of the decoder for a bad coding
// (mask_stream.go: `if err := s.dec.feed(p); err != nil { if
// s.mw.out.Result != resultRefused { s.mw.refuse(reasonEncoding); …
// s.mw.m.metrics.refused(reasonEncoding) } }`): a client disconnect on a
// coded stream is logged and counted as refused/unknown_encoding, the
// reason that says the upstream sent a coding pii_mask cannot check. An
// uncoded stream whose agent went away is recorded as upstream_failed
// (serve's aborted), and finish's own comment says an error not recorded
// as a refusal is "the agent went away". Alerts on unknown_encoding fire
// for every SSE client that closes its tab.
//
// Expected: only a decoding error (the coding's reader failing, trailing
// bytes) is recorded as unknown_encoding; an error of out (the agent's
// write failing) is recorded as for an uncoded stream (e.g. keep out's
// error apart in streamDecoder and return it unwrapped for the streamer
// to tell).
func TestReview49AgentGoneRecordedAsUnknownEncoding(t *testing.T) {
	m := r44bMask(t)
	plain := "{\"phone\":\"13812345678\"}\n"
	ref := r49Gone(t, m, "", []byte(plain))
	if ref == nil {
		t.Fatal("no outcome for the uncoded stream")
	}
	for _, coding := range []string{"gzip", "br", "zstd", "deflate"} {
		body := bytes.Join(r49Chunks(coding, []string{plain}, true), nil)
		o := r49Gone(t, m, coding, body)
		if o == nil {
			t.Fatalf("%s: no outcome", coding)
		}
		if o.Reason == reasonEncoding || o.Reason != ref.Reason {
			t.Errorf("%s: the agent went away mid-stream and the outcome says %s/%s; an uncoded stream says %s/%s", coding, o.Result, o.Reason, ref.Result, ref.Reason)
		}
	}
}
