package caddymodule

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"
	"unsafe"

	"go.uber.org/zap"
	"golang.org/x/net/http/httpguts"

	"github.com/piigate/piigate/caddymodule/rewrite"
	"github.com/piigate/piigate/detectors"
)

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
	// reads: each value's readings (valueReadings); nil: the value is
	// removed. keep[j] false: value j is removed.
	reads [][]reading
	keep  []bool
}

// maskHeaders reads the response header for personal data before any of
// it reaches the agent: the final response's (fixHeader; final), a 1xx's
// and a 101's. A field is read when its name types its value as a key
// name would (X-Customer-Mobile), or a value holds something the
// detectors find, or more than plain text (needsReading). Its values are
// read as a browser may read them (valueReadings: line breaks, RFC 2047
// encoded-words, RFC 2231 continuations, JSON in them) and become members
// of one JSON object under "@header", which a scan-all engine rewrites
// as it would a response body: every value content-scanned with a page's
// and a link's escapes decoded, every name a key name. Values come back
// masked, hashed or redacted per the roles; a dropped value, a field
// whose name is itself personal data, a value that is not UTF-8 or whose
// encoded-words cannot be decoded, one read in several ways in which
// something is found, and one no longer valid in a header are removed.
// What it finds is counted in the outcome under paths such as
// "@header.Location". Other fields (most: Date, Server, Alt-Svc, a
// session cookie) cost one pass of the detectors and no allocation.
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
		case c == '{' || c == '[' || c == '"' && i+1 < len(v) && (v[i+1] == '{' || v[i+1] == '['):
			return true // JSON, whose keys type values, anywhere in it (jsonPieces)
		case c == '=' && i+1 < len(v) && v[i+1] == '?':
			return true // an RFC 2047 encoded-word
		case c == '*' && i+1 < len(v) && v[i+1] == '0':
			return true // an RFC 2231 continuation (filename*0=…)
		case c >= 0x80 && !utf8.ValidString(v):
			return true
		}
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
		e.reads = make([][]reading, len(e.vals))
		e.keep = make([]bool, len(e.vals))
		for j, v := range e.vals {
			if rs, ok := valueReadings(v); ok {
				e.reads[j], e.keep[j] = rs, true
			} else {
				changed = true // not UTF-8, or a charset no browser knows either: removed
			}
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

// headerDoc writes the fields as {"@header":{"Name":value or [values]}},
// each value as appendValue writes it (removed ones as "").
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
			doc = appendValue(doc, e.reads[0])
			continue
		}
		doc = append(doc, '[')
		for j := range e.vals {
			if j > 0 {
				doc = append(doc, ',')
			}
			doc = appendValue(doc, e.reads[j])
		}
		doc = append(doc, ']')
	}
	return append(doc, "}}"...)
}

// appendValue writes a value's readings: one reading as appendReading
// writes it, several as {"@read":[…]}.
func appendValue(doc []byte, rs []reading) []byte {
	switch len(rs) {
	case 0:
		return append(doc, `""`...)
	case 1:
		return appendReading(doc, rs[0])
	}
	doc = append(doc, `{"@read":[`...)
	for i, r := range rs {
		if i > 0 {
			doc = append(doc, ',')
		}
		doc = appendReading(doc, r)
	}
	return append(doc, "]}"...)
}

// appendReading writes a reading: its text as a string, or, where it
// holds JSON among other text, {"@parts":["text",{…},"text",…]}, the JSON
// pieces as JSON, so that their keys type their values.
func appendReading(doc []byte, r reading) []byte {
	if len(r.pieces) == 0 {
		return appendJSONString(doc, r.text)
	}
	doc = append(doc, `{"@parts":[`...)
	for i, p := range r.pieces {
		if i > 0 {
			doc = append(doc, ',')
		}
		if p.json == "" {
			doc = appendJSONString(doc, p.raw)
		} else {
			doc = append(doc, p.json...)
		}
	}
	return append(doc, "]}"...)
}

// valueView is the view of a value the engine wrote for appendValue:
// the value to send, or ok false when it must be removed (a reading
// changed where the value was read several ways, or the view is not what
// was written). same reports that nothing was changed.
func valueView(raw json.RawMessage, rs []reading) (view string, same, ok bool) {
	if len(rs) == 1 {
		v, ok := readingView(raw, rs[0])
		return v, ok && v == rs[0].text, ok
	}
	var alt struct {
		Read []json.RawMessage `json:"@read"`
	}
	if json.Unmarshal(raw, &alt) != nil || len(alt.Read) != len(rs) {
		return "", false, false
	}
	for i, r := range rs {
		if v, ok := readingView(alt.Read[i], r); !ok || v != r.text {
			// Found in one of several readings (a browser's and
			// another's): no single rewrite of the value is safe
			// for both.
			return "", false, false
		}
	}
	return "", true, true
}

// readingView reassembles a reading from its view.
func readingView(raw json.RawMessage, r reading) (string, bool) {
	if len(r.pieces) == 0 {
		var s string
		return s, json.Unmarshal(raw, &s) == nil
	}
	var parts struct {
		Parts []json.RawMessage `json:"@parts"`
	}
	if json.Unmarshal(raw, &parts) != nil || len(parts.Parts) != len(r.pieces) {
		return "", false
	}
	var b strings.Builder
	for i, p := range r.pieces {
		if p.json == "" {
			var s string
			if json.Unmarshal(parts.Parts[i], &s) != nil {
				return "", false
			}
			b.WriteString(s)
			continue
		}
		b.WriteString(p.encode(string(parts.Parts[i])))
	}
	return b.String(), true
}

// applyHeaderView reads the engine's view of headerDoc(read) back: a value
// the engine changed replaces the upstream's (e.vals), one it dropped,
// left invalid or could not be written back is removed, and a field whose
// member is gone (dropped, or its name was personal data) loses all its
// values. It reports a change.
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
		var vals []json.RawMessage
		switch {
		case !ok:
		case len(e.vals) == 1:
			vals = []json.RawMessage{raw}
		default:
			if json.Unmarshal(raw, &vals) != nil || len(vals) != len(e.vals) {
				vals = nil // the field's array is not what was sent
			}
		}
		for j := range e.vals {
			if !e.keep[j] {
				continue
			}
			if j >= len(vals) {
				e.keep[j] = false
				changed = true
				continue
			}
			v, same, ok := valueView(vals[j], e.reads[j])
			switch {
			case ok && same:
				continue // as the upstream sent it
			case ok && utf8.ValidString(v) && httpguts.ValidHeaderFieldValue(v):
				e.vals[j] = v
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
