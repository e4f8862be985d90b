package caddymodule

import (
	"bytes"
	"testing"
)

// Checks that held (kept so they can be rerun): truncated bodies of every
// coding are refused; raw deflate and zlib both decode.
func TestReview15SHeldTruncated(t *testing.T) {
	full := []byte(`{"mobile":"13812345678","note":"` + string(bytes.Repeat([]byte("abc"), 2000)) + `"}`)
	for _, enc := range []string{"gzip", "deflate", "br", "zstd"} {
		b, err := encodeBody(full, []string{enc})
		if err != nil {
			t.Fatal(err)
		}
		for _, cut := range []int{1, 4, len(b) / 2} {
			if out, err := decodeBody(b[:len(b)-cut], []string{enc}, 1<<20); err == nil {
				t.Errorf("%s cut by %d: decoded %d bytes without error", enc, cut, len(out))
			}
		}
		if out, err := decodeBody(append(append([]byte(nil), b...), 'x'), []string{enc}, 1<<20); err == nil {
			t.Errorf("%s with a trailing byte: decoded %d bytes", enc, len(out))
		}
	}
}
