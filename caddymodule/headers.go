package caddymodule

import (
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
