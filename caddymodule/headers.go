package caddymodule

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"go.uber.org/zap"
	"golang.org/x/net/http/httpguts"

	"github.com/piigate/piigate/caddymodule/rewrite"
	"github.com/piigate/piigate/detectors"
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

// The response headers pii_mask does not read for personal data: the ones
// whose values HTTP fixes (lengths, codings, hop-by-hop fields), the ones
// the gateway sets or rewrites itself, and the validators it drops.
// Everything else the upstream (or a handler before pii_mask) sends on a
// guarded route is read: Location, Content-Disposition, Link, Refresh,
// Set-Cookie, custom X-… fields, and the headers of 1xx responses.
var unreadHeaders = map[string]bool{
	"Content-Length":            true,
	"Content-Encoding":          true,
	"Transfer-Encoding":         true,
	"Connection":                true,
	"Keep-Alive":                true,
	"Trailer":                   true,
	"Upgrade":                   true,
	"Cache-Control":             true, // merged: private, no-store and the upstream's restricting directives
	"Vary":                      true, // merged
	"X-Content-Type-Options":    true, // set to nosniff
	"Strict-Transport-Security": true,
}

// headerEntry is one response header pii_mask reads.
type headerEntry struct {
	name string
	vals []string
}

// maskHeaders reads the response header for personal data before any of
// it reaches the agent (WriteHeader of a 1xx, a 101, or the final
// response). The fields pii_mask reads become the members of one JSON
// object under "@header", each a string (or an array of the field's
// lines), which a scan-all engine rewrites as it would a response body:
// the content detectors read every value (with a page's and a link's
// escapes decoded, so a Location's %40 is an '@'), and a custom field's
// name types its value as a key name does (X-Customer-Mobile is a
// mobile). Values come back masked, hashed or redacted per the roles; a
// dropped value, a field whose name is itself personal data, and a value
// that is not UTF-8 (a browser reads it in a charset the detectors would
// not) are removed. What it finds is counted in the outcome, under paths
// such as "@header.Location".
func (mw *maskWriter) maskHeaders(h http.Header) {
	m := mw.m
	var stack [8]headerEntry
	read := stack[:0]
	var bad []string
	for k, vs := range h {
		if unreadHeaders[k] || len(vs) == 0 {
			continue
		}
		if k == "Content-Type" && len(vs) == 1 && plainContentType(vs[0]) ||
			k == "Date" && len(vs) == 1 && imfFixdate(vs[0]) {
			continue
		}
		if !m.customTypes && !mayHoldPII(k, vs) {
			continue
		}
		if !validUTF8(vs) {
			bad = append(bad, k)
			continue
		}
		read = append(read, headerEntry{k, vs})
	}
	for _, k := range bad {
		delete(h, k)
		mw.headerChanged = true
	}
	if len(read) == 0 {
		return
	}
	slices.SortFunc(read, func(a, b headerEntry) int { return strings.Compare(a.name, b.name) })
	doc := append(make([]byte, 0, 256), `{"@header":{`...)
	for i, e := range read {
		if i > 0 {
			doc = append(doc, ',')
		}
		doc = appendJSONString(doc, e.name)
		doc = append(doc, ':')
		if len(e.vals) == 1 {
			doc = appendJSONString(doc, e.vals[0])
			continue
		}
		doc = append(doc, '[')
		for j, v := range e.vals {
			if j > 0 {
				doc = append(doc, ',')
			}
			doc = appendJSONString(doc, v)
		}
		doc = append(doc, ']')
	}
	doc = append(doc, "}}"...)
	var sum rewrite.Summary
	view, err := m.headerEngine.Rewrite(nil, doc, rewrite.JSON, mw.d, &sum)
	if err == nil && !sum.Changed {
		return
	}
	var got struct {
		Header map[string]json.RawMessage `json:"@header"`
	}
	if err == nil {
		err = json.Unmarshal(view, &got)
	}
	if err != nil {
		// Cannot happen for a document built above; fail closed.
		m.logger.Error("reading the response header failed; its fields are removed", zap.Error(err))
	}
	for _, e := range read {
		raw, ok := got.Header[e.name]
		if !ok {
			delete(h, e.name) // dropped, or its name was personal data
			continue
		}
		var vals []string
		if len(e.vals) == 1 {
			var s string
			if json.Unmarshal(raw, &s) == nil {
				vals = []string{s}
			}
		} else {
			var l []any
			if json.Unmarshal(raw, &l) == nil {
				for _, x := range l {
					if s, ok := x.(string); ok {
						vals = append(vals, s)
					}
				}
			}
		}
		kept := vals[:0]
		for _, v := range vals {
			if utf8.ValidString(v) && httpguts.ValidHeaderFieldValue(v) {
				kept = append(kept, v)
			}
		}
		if len(kept) == 0 {
			delete(h, e.name)
			continue
		}
		h[e.name] = kept
	}
	mw.out.Summary.Merge(&sum)
	mw.headerChanged = true
}

func validUTF8(vs []string) bool {
	for _, v := range vs {
		if !utf8.ValidString(v) {
			return false
		}
	}
	return true
}

// mayHoldPII reports whether a header field may hold personal data for the
// built-in types: its name types it as a key name would, or a value holds
// a byte some finding needs (a digit, '@', ':'), one that may start an
// escape of one ('%', '&', '+', '\'), or one beyond ASCII (full-width
// forms, Han characters).
func mayHoldPII(name string, vs []string) bool {
	for _, v := range vs {
		for i := 0; i < len(v); i++ {
			if c := v[i]; c >= '0' && c <= ':' || c == '@' || c == '%' || c == '&' || c == '+' || c == '\\' || c >= 0x80 {
				return true
			}
		}
	}
	_, typed := detectors.ClassifyField(name)
	return typed
}

// plainContentType reports whether v is a media type with at most a
// charset parameter, all of them tokens: nothing in it can be personal
// data.
func plainContentType(v string) bool {
	media, rest, _ := strings.Cut(v, ";")
	if !isToken(media, '/') {
		return false
	}
	rest = strings.TrimSpace(rest)
	if rest == "" {
		return true
	}
	name, val, ok := strings.Cut(rest, "=")
	return ok && strings.EqualFold(strings.TrimSpace(name), "charset") && isToken(strings.Trim(strings.TrimSpace(val), `"`), 0)
}

// isToken reports whether s is letters, digits and - . + _ (and extra, if
// not 0), and not empty.
func isToken(s string, extra byte) bool {
	s = strings.TrimSpace(s)
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '+' || c == '_' || extra != 0 && c == extra) {
			return false
		}
	}
	return true
}

// imfFixdate reports whether v is an HTTP date as servers write it
// (Sun, 06 Nov 1994 08:49:37 GMT).
func imfFixdate(v string) bool {
	const form = "AAA, 00 AAA 0000 00:00:00 GMT"
	if len(v) != len(form) {
		return false
	}
	for i := 0; i < len(v); i++ {
		c, f := v[i], form[i]
		switch f {
		case 'A':
			if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
				return false
			}
		case '0':
			if c < '0' || c > '9' {
				return false
			}
		default:
			if c != f {
				return false
			}
		}
	}
	return true
}

// appendJSONString appends s as a JSON string. s is valid UTF-8; only what
// JSON requires is escaped.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
