package caddymodule

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
)

// The content codings pii_mask can read and write, through well-kept
// libraries: klauspost/compress (gzip, deflate, zstd) and andybalholm/brotli.
var codings = map[string]string{
	"gzip": "gzip", "x-gzip": "gzip", "deflate": "deflate", "br": "br", "zstd": "zstd",
}

var errTooLarge = errors.New("decoded body exceeds max_body")

// zstdMaxWindow is the largest zstd window pii_mask decodes.
const zstdMaxWindow = 8 << 20

// maxCodings is how many content codings pii_mask undoes on one body: each
// is a pass over up to max_body, and no server applies more than two.
const maxCodings = 2

// contentEncodings parses a Content-Encoding value into the codings applied,
// first to last. ok is false when one of them cannot be decoded, or when
// there are more than maxCodings.
func contentEncodings(v string) ([]string, bool) {
	if v == "" || v == "identity" {
		return nil, true
	}
	var out []string
	for _, c := range strings.Split(v, ",") {
		c = strings.ToLower(strings.TrimSpace(c))
		if c == "" || c == "identity" {
			continue
		}
		name, ok := codings[c]
		if !ok {
			return nil, false
		}
		if out = append(out, name); len(out) > maxCodings {
			return nil, false
		}
	}
	return out, true
}

// filterAcceptEncoding keeps, of what the client accepts, the codings the
// gateway can decode: the upstream may then compress, but only so.
func filterAcceptEncoding(h http.Header) {
	vals := h["Accept-Encoding"]
	if len(vals) == 0 || allKnownCodings(vals) {
		return // the common case: nothing to remove, nothing allocated
	}
	var keep []string
	for _, v := range vals {
		for _, part := range strings.Split(v, ",") {
			part = strings.TrimSpace(part)
			name := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
			if _, ok := codings[name]; ok || name == "identity" {
				keep = append(keep, part)
			}
		}
	}
	if len(keep) == 0 {
		h.Del("Accept-Encoding")
		return
	}
	h.Set("Accept-Encoding", strings.Join(keep, ", "))
}

// allKnownCodings reports whether every coding listed in the
// Accept-Encoding values vals is one pii_mask can decode (or identity).
func allKnownCodings(vals []string) bool {
	for _, v := range vals {
		for v != "" {
			part := v
			if i := strings.IndexByte(v, ','); i >= 0 {
				part, v = v[:i], v[i+1:]
			} else {
				v = ""
			}
			if i := strings.IndexByte(part, ';'); i >= 0 {
				part = part[:i]
			}
			part = strings.TrimSpace(part)
			if _, ok := codings[part]; !ok && part != "identity" && part != "" {
				return false // unknown, or not in lower case: the general path decides
			}
		}
	}
	return true
}

var (
	gzipReaders = sync.Pool{}
	gzipWriters = sync.Pool{New: func() any { w, _ := gzip.NewWriterLevel(nil, gzip.DefaultCompression); return w }}
	zlibWriters = sync.Pool{New: func() any { w, _ := zlib.NewWriterLevel(nil, zlib.DefaultCompression); return w }}
	brWriters   = sync.Pool{New: func() any { return brotli.NewWriterLevel(nil, 5) }}
	brReaders   = sync.Pool{New: func() any { return brotli.NewReader(nil) }}
	zstdReaders = sync.Pool{}

	zstdOnce    sync.Once
	zstdEncoder *zstd.Encoder
)

// decodeBody undoes the codings (last applied first) and refuses a result
// longer than limit: a small compressed body may inflate to gigabytes.
func decodeBody(b []byte, encs []string, limit int64) ([]byte, error) {
	if len(b) == 0 {
		return b, nil // an empty body under any coding is empty to clients
	}
	for i := len(encs) - 1; i >= 0; i-- {
		var r io.Reader
		var done func()
		src := bytes.NewReader(b)
		switch encs[i] {
		case "gzip":
			zr, _ := gzipReaders.Get().(*gzip.Reader)
			var err error
			if zr == nil {
				zr, err = gzip.NewReader(src)
			} else {
				err = zr.Reset(src)
			}
			if err != nil {
				return nil, fmt.Errorf("gzip: %w", err)
			}
			// Browsers read the first member only: one after it is
			// left in src, and refused below, rather than read by the
			// rewrite and not by the agent's browser.
			zr.Multistream(false)
			r, done = zr, func() { gzipReaders.Put(zr) }
		case "deflate":
			// RFC 9110 deflate is zlib-wrapped; some servers send it raw.
			if zr, err := zlib.NewReader(src); err == nil {
				r, done = zr, func() {}
			} else {
				src = bytes.NewReader(b)
				r, done = flate.NewReader(src), func() {}
			}
		case "br":
			br := brReaders.Get().(*brotli.Reader)
			if err := br.Reset(src); err != nil {
				return nil, fmt.Errorf("br: %w", err)
			}
			r, done = br, func() { brReaders.Put(br) }
		case "zstd":
			zr, _ := zstdReaders.Get().(*zstd.Decoder)
			var err error
			if zr == nil {
				// A frame declares its window, which the decoder
				// allocates: bounded to the 8 MiB that RFC 8878 asks HTTP
				// decoders to support (browsers refuse larger ones), and
				// the decoder's memory to the body's limit.
				zr, err = zstd.NewReader(src, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
					zstd.WithDecoderMaxWindow(zstdMaxWindow), zstd.WithDecoderMaxMemory(uint64(max(limit, zstdMaxWindow))))
			} else {
				err = zr.Reset(src)
			}
			if err != nil {
				return nil, fmt.Errorf("zstd: %w", err)
			}
			r, done = zr, func() { zr.Reset(nil); zstdReaders.Put(zr) }
		}
		out, err := io.ReadAll(io.LimitReader(r, limit+1))
		done()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", encs[i], err)
		}
		if int64(len(out)) > limit {
			return nil, errTooLarge
		}
		if src.Len() != 0 {
			// Bytes after the end of the stream, which a decoder that
			// stops there (deflate) never reads: a client that reads
			// the body otherwise could see them, the rewrite would not,
			// and an unchanged body is passed on as it came.
			return nil, fmt.Errorf("%s: %d bytes after the end of the stream", encs[i], src.Len())
		}
		b = out
	}
	return b, nil
}

// codedAsIs reports whether the upstream's coded bytes may go to the agent
// as they came when what they decode to is unchanged: only where the
// coding carries nothing its decoder skips. A gzip header can hold a file
// name, a comment and extra fields (which gunzip -N, file and archive
// tools show), zstd skippable frames and brotli metadata blocks any bytes
// at all; a body whose coding may hold such parts is coded again from
// the view instead.
func codedAsIs(b []byte, encs []string) bool {
	if len(b) == 0 {
		return true
	}
	if len(encs) != 1 {
		return false
	}
	switch encs[0] {
	case "gzip":
		const fextra, fname, fcomment = 1 << 2, 1 << 3, 1 << 4
		return len(b) >= 10 && b[3]&(fextra|fname|fcomment) == 0
	case "deflate":
		return true // zlib or raw deflate: no part a decoder skips
	}
	return false
}

// resettable is what the pooled compressors share.
type resettable interface {
	io.WriteCloser
	Reset(io.Writer)
}

// encodeBody applies the codings in order.
func encodeBody(b []byte, encs []string) ([]byte, error) {
	for _, enc := range encs {
		var out bytes.Buffer
		var pool *sync.Pool
		switch enc {
		case "gzip":
			pool = &gzipWriters
		case "deflate":
			pool = &zlibWriters
		case "br":
			pool = &brWriters
		case "zstd":
			zstdOnce.Do(func() {
				zstdEncoder, _ = zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
			})
			out.Write(zstdEncoder.EncodeAll(b, nil))
			b = out.Bytes()
			continue
		}
		w := pool.Get().(resettable)
		w.Reset(&out)
		_, err := w.Write(b)
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		pool.Put(w)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", enc, err)
		}
		b = out.Bytes()
	}
	return b, nil
}
