package caddymodule

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
)

// A coded stream is decoded as it arrives: every coding, written in small
// pieces, gives the view of the same stream uncoded, sent uncoded; bytes
// after the end of the coded stream, and a stream cut short, cut the
// agent's stream; and no decoding goroutine outlives its request.
func TestCodedStreamDecodedAsItArrives(t *testing.T) {
	m := r44bMask(t)
	plain := "{\"phone\":\"13812345678\"}\n{\"phone\":\"13912345678\",\"n\":1}\n"
	code := map[string]func(io.Writer) io.WriteCloser{
		"gzip":        func(w io.Writer) io.WriteCloser { return gzip.NewWriter(w) },
		"deflate":     func(w io.Writer) io.WriteCloser { return zlib.NewWriter(w) },
		"deflate-raw": func(w io.Writer) io.WriteCloser { z, _ := flate.NewWriter(w, 5); return z },
		"br":          func(w io.Writer) io.WriteCloser { return brotli.NewWriter(w) },
		"zstd":        func(w io.Writer) io.WriteCloser { z, _ := zstd.NewWriter(w); return z },
	}
	serve := func(coding string, body []byte, step int) (*httptest.ResponseRecorder, any) {
		rec, _, cut := serveMaskCut(t, m, httptest.NewRequest(http.MethodGet, "/api/s", nil),
			func(w http.ResponseWriter, r *http.Request) error {
				w.Header().Set("Content-Type", "application/x-ndjson")
				w.Header().Set("Content-Encoding", strings.TrimSuffix(coding, "-raw"))
				for i := 0; i < len(body); i += step {
					if _, err := w.Write(body[i:min(i+step, len(body))]); err != nil {
						return err
					}
				}
				return nil
			})
		return rec, cut
	}
	ref, _, cut := serveRaw(t, m, []byte(plain), "Content-Type", "application/x-ndjson")
	if cut != nil || !strings.Contains(ref.Body.String(), "138****5678") {
		t.Fatalf("the uncoded stream: %v %q", cut, ref.Body.String())
	}
	before := runtime.NumGoroutine()
	for coding, newW := range code {
		var b bytes.Buffer
		zw := newW(&b)
		io.WriteString(zw, plain)
		zw.Close()
		for _, step := range []int{1, 7, len(b.Bytes())} {
			rec, cut := serve(coding, b.Bytes(), step)
			if cut != nil || rec.Body.String() != ref.Body.String() || rec.Header().Get("Content-Encoding") != "" {
				t.Errorf("%s in %d-byte writes: cut %v, Content-Encoding %q, %q", coding, step, cut, rec.Header().Get("Content-Encoding"), rec.Body.String())
			}
		}
		if _, cut := serve(coding, append(append([]byte(nil), b.Bytes()...), "{\"phone\":\"13712345678\"}\n"...), 5); cut == nil {
			t.Errorf("%s: bytes after the end of the coded stream were not refused", coding)
		}
		if rec, cut := serve(coding, b.Bytes()[:b.Len()-4], 5); cut == nil || strings.Contains(rec.Body.String(), "13712345678") {
			t.Errorf("%s: a coded stream cut short: cut %v", coding, cut)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before+2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before+2 {
		t.Errorf("%d goroutines after the streams, %d before: a decoder outlived its request", n, before)
	}
}
