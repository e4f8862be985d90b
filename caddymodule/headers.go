package caddymodule

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"
	"unsafe"

	"go.uber.org/zap"
	"golang.org/x/net/http/httpguts"
	"golang.org/x/text/encoding/htmlindex"

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

// The fields of a final response that pii_mask does not read: the length
// (the view's own is set), the coding (checked against the codings the
// gateway decodes), Cache-Control (rebuilt from a fixed vocabulary,
// mergeCacheControl) and X-Content-Type-Options (set to nosniff). Every
// other field, and every field of a 1xx response, is read.
var unreadHeaders = map[string]bool{
	"Content-Length":         true,
	"Content-Encoding":       true,
	"Cache-Control":          true,
	"X-Content-Type-Options": true,
}

// headerEntry is one response header field pii_mask reads.
type headerEntry struct {
	name string
	vals []string // as the upstream sent them
	// read: each value as the agent's client reads it (line breaks as
	// the spaces net/http sends, RFC 2047 encoded-words decoded), the
	// text the engine reads; keep[i] false: the value is removed.
	read []string
	keep []bool
}

// wordDecoder decodes RFC 2047 encoded-words (=?UTF-8?B?…?=), which
// browsers decode in a download's file name, in any charset a browser
// knows.
var wordDecoder = &mime.WordDecoder{CharsetReader: func(charset string, input io.Reader) (io.Reader, error) {
	e, err := htmlindex.Get(charset)
	if err != nil {
		return nil, err
	}
	return e.NewDecoder().Reader(input), nil
}}

// maskHeaders reads the response header for personal data before any of
// it reaches the agent: the final response's (fixHeader; final), a 1xx's
// and a 101's. A field whose name types its value as a key name would
// (X-Customer-Mobile), or one with a value the detectors find something
// in, that holds an escape ('%', '&', '+', '\\'), an encoded-word, a line
// break, JSON, or bytes that are not UTF-8, becomes a member of one JSON
// object under "@header" (a string, or an array of the field's lines),
// which a scan-all engine rewrites as it would a response body: every
// value content-scanned with a page's and a link's escapes decoded, every
// name a key name. Values come back masked, hashed or redacted per the
// roles; a dropped value, a field whose name is itself personal data, a
// value that is not UTF-8 or whose encoded-words cannot be decoded, and
// one no longer valid in a header are removed. What it finds is counted
// in the outcome under paths such as "@header.Location". Other fields
// (most: Date, Server, Alt-Svc, a session cookie) cost one pass of the
// detectors and no allocation.
func (mw *maskWriter) maskHeaders(h http.Header, final bool) {
	m := mw.m
	var stack [8]headerEntry
	read := stack[:0]
	for k, vs := range h {
		if len(vs) == 0 || final && unreadHeaders[k] || k == "Date" && len(vs) == 1 && imfFixdate(vs[0]) {
			continue
		}
		if _, typed := detectors.ClassifyField(k); !typed && !m.needsReading(k) && !m.valuesNeedReading(vs) {
			continue
		}
		read = append(read, headerEntry{name: k, vals: vs})
	}
	if len(read) == 0 {
		return
	}
	mw.headerChanged = mw.rewriteHeaders(h, read) || mw.headerChanged
}

// valuesNeedReading reports whether a value may hold personal data that
// only the engine can find or mask: the detectors find something in it,
// or it holds what the engine reads beyond plain text.
func (m *Mask) valuesNeedReading(vs []string) bool {
	for _, v := range vs {
		if m.needsReading(v) {
			return true
		}
	}
	return false
}

// needsReading is valuesNeedReading for one value (or a field's name).
func (m *Mask) needsReading(v string) bool {
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '%' || c == '&' || c == '+' || c == '\\' || c == '\r' || c == '\n':
			return true // escapes, line breaks
		case c == '=' && i+1 < len(v) && v[i+1] == '?':
			return true // an RFC 2047 encoded-word
		case c >= 0x80 && !utf8.ValidString(v):
			return true
		}
	}
	if t := strings.TrimLeft(v, " \t"); t != "" && (t[0] == '{' || t[0] == '[' || t[0] == '"') {
		return true // JSON, whose keys type values
	}
	return (m.customTypes || detectors.MayMatch(unsafe.Slice(unsafe.StringData(v), len(v)))) &&
		len(m.headerScanner.Scan(v, nil)) > 0
}

// rewriteHeaders runs the header engine over the fields in read and
// writes its view back into h. It reports whether h changed.
func (mw *maskWriter) rewriteHeaders(h http.Header, read []headerEntry) (changed bool) {
	slices.SortFunc(read, func(a, b headerEntry) int { return strings.Compare(a.name, b.name) })
	for i := range read {
		e := &read[i]
		e.vals = slices.Clone(e.vals) // the header map's own slice is not written
		e.read = make([]string, len(e.vals))
		e.keep = make([]bool, len(e.vals))
		for j, v := range e.vals {
			if !utf8.ValidString(v) {
				// A browser reads it in some charset the detectors
				// would not: removed.
				changed = true
				continue
			}
			if strings.ContainsAny(v, "\r\n") {
				// net/http sends line breaks as spaces.
				v = strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ").Replace(v)
			}
			if strings.Contains(v, "=?") {
				d, err := wordDecoder.DecodeHeader(v)
				if err != nil || !utf8.ValidString(d) {
					changed = true // a charset no browser knows either: removed
					continue
				}
				v = d
			}
			e.read[j], e.keep[j] = v, true
		}
	}
	var sum rewrite.Summary
	view, err := mw.m.headerEngine.Rewrite(nil, headerDoc(read), rewrite.JSON, mw.d, &sum)
	if err != nil {
		// One field the engine cannot read (nested too deep): each is
		// read on its own, and only the ones that fail are removed.
		sum.Reset()
		for i := range read {
			var one rewrite.Summary
			v, err := mw.m.headerEngine.Rewrite(nil, headerDoc(read[i:i+1]), rewrite.JSON, mw.d, &one)
			if err != nil {
				mw.m.logger.Debug("a response header field the gateway cannot read is removed",
					zap.String("field", read[i].name), zap.Error(err))
				clear(read[i].keep)
				changed = true
				continue
			}
			changed = applyHeaderView(read[i:i+1], v) || changed
			sum.Merge(&one)
		}
	} else {
		changed = applyHeaderView(read, view) || changed
	}
	for _, e := range read {
		var vals []string
		for j, v := range e.vals {
			if e.keep[j] {
				vals = append(vals, v)
			}
		}
		if len(vals) == 0 {
			delete(h, e.name)
		} else {
			h[e.name] = vals
		}
	}
	mw.out.Summary.Merge(&sum)
	return changed
}

// headerDoc writes the fields as {"@header":{"Name":"value" or [values]}},
// the values as read (removed ones left out).
func headerDoc(read []headerEntry) []byte {
	doc := append(make([]byte, 0, 256), `{"@header":{`...)
	for i, e := range read {
		if i > 0 {
			doc = append(doc, ',')
		}
		doc = appendJSONString(doc, e.name)
		doc = append(doc, ':')
		if len(e.vals) == 1 {
			doc = appendJSONString(doc, e.read[0])
			continue
		}
		doc = append(doc, '[')
		for j, v := range e.read {
			if j > 0 {
				doc = append(doc, ',')
			}
			doc = appendJSONString(doc, v)
		}
		doc = append(doc, ']')
	}
	return append(doc, "}}"...)
}

// applyHeaderView reads the engine's view of headerDoc(read) back: a value
// the engine changed replaces the upstream's (e.vals), one it dropped or
// left invalid is removed, a field whose member is gone (dropped, or its
// name was personal data) loses all its values. It reports a change.
func applyHeaderView(read []headerEntry, view []byte) (changed bool) {
	var got struct {
		Header map[string]json.RawMessage `json:"@header"`
	}
	if err := json.Unmarshal(view, &got); err != nil {
		got.Header = nil // cannot happen for the engine's view of valid JSON; fail closed
	}
	for i := range read {
		e := &read[i]
		raw, ok := got.Header[e.name]
		var vals []string
		switch {
		case !ok:
		case len(e.vals) == 1:
			var s string
			if json.Unmarshal(raw, &s) == nil {
				vals = []string{s}
			}
		default:
			var l []any
			if json.Unmarshal(raw, &l) == nil && len(l) == len(e.vals) {
				for _, x := range l {
					s, _ := x.(string)
					vals = append(vals, s)
				}
			}
		}
		for j := range e.vals {
			if !e.keep[j] {
				continue
			}
			switch {
			case j >= len(vals):
				e.keep[j] = false // the member, or its array, is not what was sent
			case vals[j] == e.read[j]:
				continue // as the upstream sent it
			case utf8.ValidString(vals[j]) && httpguts.ValidHeaderFieldValue(vals[j]):
				e.vals[j] = vals[j]
			default:
				e.keep[j] = false
			}
			changed = true
		}
	}
	return changed
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

// imfFixdate reports whether v is an HTTP date as servers write it
// (Sun, 06 Nov 1994 08:49:37 GMT): nothing in it can be personal data.
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
