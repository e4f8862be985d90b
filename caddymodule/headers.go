package caddymodule

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
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
	// json: the JSON a value holds after other text (a cookie's
	// lastCustomer={"name":…}, or percent-encoded), read as JSON, its key
	// names typing its values; nil for none.
	json []*jsonParts
}

// jsonParts splits a value read (headerEntry.read) around the JSON in it.
type jsonParts struct {
	prefix, json, suffix string
	pct                  bool // the JSON was percent-encoded: its view is too
}

// embeddedJSON finds a JSON object or array in v after other text (one
// that is all of v the engine reads as JSON itself), as written or
// percent-encoded (%7B%22name%22…).
func embeddedJSON(v string) *jsonParts {
	if p := findJSON(v); p != nil {
		return p
	}
	if strings.Contains(v, "%7B") || strings.Contains(v, "%7b") || strings.Contains(v, "%5B") || strings.Contains(v, "%5b") {
		if d, err := url.PathUnescape(v); err == nil {
			if p := findJSON(d); p != nil {
				p.pct = true
				return p
			}
		}
	}
	return nil
}

// findJSON returns the first of v's (at most eight) '{' or '[' that
// starts a JSON object or array, unless it is all of v.
func findJSON(v string) *jsonParts {
	from := 0
	for range 8 {
		i := strings.IndexAny(v[from:], "{[")
		if i < 0 {
			return nil
		}
		i += from
		dec := json.NewDecoder(strings.NewReader(v[i:]))
		var raw json.RawMessage
		if dec.Decode(&raw) == nil {
			n := int(dec.InputOffset())
			if i == 0 && n == len(v) {
				return nil
			}
			return &jsonParts{prefix: v[:i], json: v[i : i+n], suffix: v[i+n:]}
		}
		from = i + 1
	}
	return nil
}

// decodeWords decodes the RFC 2047 encoded-words in s (=?UTF-8?B?…?=) as
// browsers do in a download's file name: anywhere in the value (inside
// quotes too), B with or without its '=' padding, Q with '_' for a space,
// in the charset the word names as the Encoding Standard reads its label
// (iso-8859-1 and us-ascii are windows-1252), the white space between two
// words dropped. A word that is not one is left as it is. Words whose
// text is itself encoded-words are decoded again (a browser decodes once,
// but a value rewritten from the once-decoded text would show the inner
// words to it), up to a few levels. ok is false for a charset no browser
// knows, or words nested deeper.
func decodeWords(s string) (out string, ok bool) {
	for range 4 {
		d, changed, ok := decodeWordsOnce(s)
		if !ok {
			return "", false
		}
		if !changed {
			return s, true
		}
		s = d
	}
	return "", false
}

func decodeWordsOnce(s string) (string, bool, bool) {
	var b strings.Builder
	changed := false
	afterWord := false // the text from i follows a decoded word
	for i := 0; i < len(s); {
		k := strings.Index(s[i:], "=?")
		if k < 0 {
			b.WriteString(s[i:])
			break
		}
		k += i
		text, n, ok, known := encodedWordAt(s, k)
		if !ok {
			b.WriteString(s[i : k+2])
			afterWord = false
			i = k + 2
			continue
		}
		if !known {
			return "", false, false
		}
		between := s[i:k]
		if afterWord && strings.TrimLeft(between, " \t") == "" {
			between = "" // white space between two words is dropped
		}
		b.WriteString(between)
		b.WriteString(text)
		afterWord = true
		changed = true
		i = k + n
	}
	return b.String(), changed, true
}

// encodedWordAt reads the encoded-word at s[i:] ("=?" there): its text,
// decoded, and its length. ok is false where there is none; known is
// false for a word in a charset no browser knows.
func encodedWordAt(s string, i int) (text string, n int, ok, known bool) {
	rest := s[i+2:]
	q := strings.IndexByte(rest, '?')
	if q <= 0 || q+2 >= len(rest) || rest[q+2] != '?' {
		return "", 0, false, false
	}
	charset, enc := rest[:q], rest[q+1]|0x20
	if c, _, found := strings.Cut(charset, "*"); found {
		charset = c // RFC 2231's language: =?UTF-8*zh?B?…?=
	}
	body := rest[q+3:]
	end := strings.Index(body, "?=")
	if end < 0 || strings.ContainsAny(body[:end], " \t") {
		return "", 0, false, false
	}
	body = body[:end]
	var raw []byte
	switch enc {
	case 'b':
		var err error
		if raw, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(body, "=")); err != nil {
			return "", 0, false, false
		}
	case 'q':
		raw = make([]byte, 0, len(body))
		for j := 0; j < len(body); j++ {
			switch c := body[j]; {
			case c == '_':
				raw = append(raw, ' ')
			case c == '=' && j+2 < len(body) && isHex(body[j+1]) && isHex(body[j+2]):
				raw = append(raw, unhex(body[j+1])<<4|unhex(body[j+2]))
				j += 2
			default:
				raw = append(raw, c)
			}
		}
	default:
		return "", 0, false, false
	}
	e, err := htmlindex.Get(charset)
	if err != nil {
		return "", 0, true, false
	}
	d, err := e.NewDecoder().Bytes(raw)
	if err != nil || !utf8.Valid(d) {
		return "", 0, true, false
	}
	return string(d), 2 + q + 3 + end + 2, true, true
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'f' }

func unhex(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return c | 0x20 - 'a' + 10
}

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
	// What a 1xx or a 101 showed stays counted whatever happens to the
	// final response (a refusal resets the body's counts): it is kept
	// apart and added at the end (ServeHTTP).
	into := &mw.out.Summary
	if !final {
		if mw.early == nil {
			mw.early = new(rewrite.Summary)
		}
		into = mw.early
	}
	mw.headerChanged = mw.rewriteHeaders(h, read, into) || mw.headerChanged
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
		case c == '{' || c == '[':
			return true // JSON, whose keys type values, anywhere in it (embeddedJSON)
		case c == '=' && i+1 < len(v) && v[i+1] == '?':
			return true // an RFC 2047 encoded-word
		case c >= 0x80 && !utf8.ValidString(v):
			return true
		}
	}
	if t := strings.TrimLeft(v, " \t"); t != "" && t[0] == '"' {
		return true // a JSON string, whose escapes the engine reads
	}
	return (m.customTypes || detectors.MayMatch(unsafe.Slice(unsafe.StringData(v), len(v)))) &&
		len(m.headerScanner.Scan(v, nil)) > 0
}

// rewriteHeaders runs the header engine over the fields in read and
// writes its view back into h. It reports whether h changed.
func (mw *maskWriter) rewriteHeaders(h http.Header, read []headerEntry, into *rewrite.Summary) (changed bool) {
	slices.SortFunc(read, func(a, b headerEntry) int { return strings.Compare(a.name, b.name) })
	for i := range read {
		e := &read[i]
		e.vals = slices.Clone(e.vals) // the header map's own slice is not written
		e.read = make([]string, len(e.vals))
		e.keep = make([]bool, len(e.vals))
		e.json = make([]*jsonParts, len(e.vals))
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
				d, ok := decodeWords(v)
				if !ok {
					changed = true // a charset no browser knows either: removed
					continue
				}
				v = d
			}
			e.read[j], e.keep[j] = v, true
			e.json[j] = embeddedJSON(v)
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
	into.Merge(&sum)
	return changed
}

// headerDoc writes the fields as {"@header":{"Name":"value" or [values]}},
// the values as read (removed ones left out).
func headerDoc(read []headerEntry) []byte {
	doc := append(make([]byte, 0, 256), `{"@header":{`...)
	for i := range read {
		e := &read[i]
		if i > 0 {
			doc = append(doc, ',')
		}
		doc = appendJSONString(doc, e.name)
		doc = append(doc, ':')
		if len(e.vals) == 1 {
			doc = appendHeaderValue(doc, e, 0)
			continue
		}
		doc = append(doc, '[')
		for j := range e.read {
			if j > 0 {
				doc = append(doc, ',')
			}
			doc = appendHeaderValue(doc, e, j)
		}
		doc = append(doc, ']')
	}
	return append(doc, "}}"...)
}

// appendHeaderValue writes e's value j as read: a string, or, where it
// holds JSON after other text, {"@text":…,"@json":…,"@rest":…}.
func appendHeaderValue(doc []byte, e *headerEntry, j int) []byte {
	p := e.json[j]
	if p == nil {
		return appendJSONString(doc, e.read[j])
	}
	doc = append(doc, `{"@text":`...)
	doc = appendJSONString(doc, p.prefix)
	doc = append(doc, `,"@json":`...)
	doc = append(doc, p.json...)
	doc = append(doc, `,"@rest":`...)
	doc = appendJSONString(doc, p.suffix)
	return append(doc, '}')
}

// partsView reassembles a value split by jsonParts from the engine's view
// of its object; ok is false when the view is not such an object.
func partsView(raw json.RawMessage, p *jsonParts) (string, bool) {
	var v struct {
		Text string          `json:"@text"`
		JSON json.RawMessage `json:"@json"`
		Rest string          `json:"@rest"`
	}
	if json.Unmarshal(raw, &v) != nil {
		return "", false
	}
	j := string(v.JSON)
	if j == p.json {
		j = p.json
	} else if p.pct {
		j = url.PathEscape(j)
	}
	return v.Text + j + v.Rest, true
}

// valueView is one value's view: a string, or parts reassembled.
func valueView(raw json.RawMessage, p *jsonParts) (string, bool) {
	if p != nil {
		return partsView(raw, p)
	}
	var s string
	return s, json.Unmarshal(raw, &s) == nil
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
			if s, ok := valueView(raw, e.json[0]); ok {
				vals = []string{s}
			}
		default:
			var l []json.RawMessage
			if json.Unmarshal(raw, &l) == nil && len(l) == len(e.vals) {
				for j, x := range l {
					s, ok := valueView(x, e.json[j])
					if !ok {
						vals = nil
						break
					}
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
