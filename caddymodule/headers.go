package caddymodule

import (
	"io"
	"net/http"
	"strings"
)

// deleteUnderscoreVariants removes the request headers whose names are one
// of the lists' names (canonical, with '-') spelt with '_' or '.' for some
// '-', in any case: X_Remote_User, x.remote-user for X-Remote-User. Go keeps
// such a header under its own name, but CGI and FastCGI upstreams (PHP's
// $_SERVER and the frameworks that read headers through it) see all these
// spellings as one variable, HTTP_X_REMOTE_USER, so a client could forge an
// identity header the exact name would not catch. Caddy drops names with
// '_' or '.' before any handler unless the server's
// expected_underscore_headers or expected_dot_headers let them in; this
// keeps an allowed spelling from standing in for an identity header. Only
// names holding '_' or '.' are compared, so the usual request costs one
// scan of its header names.
func deleteUnderscoreVariants(h http.Header, lists ...[]string) {
	for k := range h {
		if strings.IndexByte(k, '_') < 0 && strings.IndexByte(k, '.') < 0 {
			continue
		}
	lists:
		for _, names := range lists {
			for _, n := range names {
				if k != n && sameHeaderName(k, n) { // the exact names are the callers' to keep or drop
					delete(h, k)
					break lists
				}
			}
		}
	}
}

// sameHeaderName reports whether a and b name the same header when case
// is ignored and '_' and '.' are read as '-'.
func sameHeaderName(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x == '_' || x == '.' {
			x = '-'
		}
		if y == '_' || y == '.' {
			y = '-'
		}
		if x != y && lowerASCII(x) != lowerASCII(y) {
			return false
		}
	}
	return true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// stripTrailers keeps the names of lists (in every spelling
// deleteUnderscoreVariants knows) out of the request's trailers. A request
// that declares trailers has a Trailer map that every copy of it shares;
// net/http fills it in, with any name the client sends, when the body has
// been read, and reverse_proxy forwards it then (chunked, to an HTTP/1.1
// upstream): an upstream that merges trailers into headers would take a
// client's X-Remote-User for the gateway's. The body is wrapped so that
// the names are removed at its end, before anything after this handler
// sees the trailers. (A request that declares none has no shared map:
// what net/http reads reaches no copy.)
func stripTrailers(r *http.Request, lists ...[]string) {
	if r.Trailer == nil || r.Body == nil || r.Body == http.NoBody {
		return
	}
	ts := &trailerStripper{ReadCloser: r.Body, trailer: r.Trailer, lists: lists}
	ts.strip()
	r.Body = ts
}

type trailerStripper struct {
	io.ReadCloser
	trailer http.Header
	lists   [][]string
}

func (b *trailerStripper) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.strip()
	}
	return n, err
}

func (b *trailerStripper) strip() {
	for k := range b.trailer {
	lists:
		for _, names := range b.lists {
			for _, n := range names {
				if sameHeaderName(k, n) {
					delete(b.trailer, k)
					break lists
				}
			}
		}
	}
}
