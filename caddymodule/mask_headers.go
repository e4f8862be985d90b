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
	// many: written as an array (the field has several values); at: the
	// indexes of the values in the field they stand for (passes 2 and 3).
	many bool
	at   []int
	of   string // pass 3: the field checked
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
		if !m.valuesNeedReading(vs) && !nameNeedsReading(m, k) {
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

// plainHeaderNames are names of standard fields, which type nothing as
// key names (TestPlainHeaderNamesTypeNothing): looked up, not classified,
// on every response.
var plainHeaderNames = map[string]bool{}

func init() {
	for _, k := range []string{"Content-Type", "Date", "Server", "Via", "Set-Cookie", "Location", "Vary",
		"Alt-Svc", "Strict-Transport-Security", "X-Powered-By", "Etag", "Last-Modified", "Expires", "Pragma",
		"Content-Language", "Content-Disposition", "Content-Location", "Link", "Refresh", "Retry-After",
		"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Allow-Headers",
		"Access-Control-Allow-Methods", "Access-Control-Expose-Headers", "Access-Control-Max-Age",
		"Content-Security-Policy", "Referrer-Policy", "Permissions-Policy", "X-Frame-Options", "X-Xss-Protection",
		"Cross-Origin-Opener-Policy", "Cross-Origin-Embedder-Policy", "Cross-Origin-Resource-Policy",
		"X-Request-Id", "X-Runtime", "X-Ua-Compatible", "Www-Authenticate", "Accept-Ranges", "Age", "Allow",
		"Connection", "Keep-Alive", "Transfer-Encoding", "Trailer", "Upgrade", "Timing-Allow-Origin", "Server-Timing",
		"Report-To", "Nel", "X-Dns-Prefetch-Control", "X-Download-Options", "X-Permitted-Cross-Domain-Policies"} {
		plainHeaderNames[k] = true
	}
}

// nameNeedsReading reports whether a field's name may be personal data or
// type its value as a key name does.
func nameNeedsReading(m *Mask, k string) bool {
	if plainHeaderNames[k] {
		return false
	}
	if _, typed := detectors.ClassifyField(k); typed {
		return true
	}
	return m.needsReading(k)
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
	nonASCII := false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '%' || c == '&' || c == '+' || c == '\\' || c == '\r' || c == '\n':
			return true // escapes, line breaks
		case c == '{' || c == '[' || c == '"' && i+1 < len(v) && (v[i+1] == '{' || v[i+1] == '['):
			return true // JSON, whose keys type values, anywhere in it (jsonPieces)
		case c == '=' && i+1 < len(v) && v[i+1] == '?':
			return true // an RFC 2047 encoded-word
		case c == '=' && typedKeyBefore(v, i):
			return true // a key=value pair whose key types its value (kvPiece)
		case c == '*' && i+1 < len(v) && v[i+1] == '0':
			return true // an RFC 2231 continuation (filename*0=…)
		case c >= 0x80:
			nonASCII = true
		}
	}
	if nonASCII && !utf8.ValidString(v) {
		return true
	}
	return (m.customTypes || detectors.MayMatch(unsafe.Slice(unsafe.StringData(v), len(v)))) &&
		len(m.headerScanner.Scan(v, nil)) > 0
}

// rewriteHeaders runs the header engine over the fields in read and
// writes its view back into h. It reports whether h changed.
//
// Three passes, the last two only for values something was found in:
//  1. find: every reading of every value (valueReadings) is rewritten;
//     a value none of whose readings changed stays as the upstream sent
//     it, and a field whose member is gone (its name was personal data,
//     or drop) loses all its values;
//  2. count: for each value that changed, its first reading that changed
//     (the decoded ones come first) is rewritten alone, which counts each
//     value once and gives the value to send;
//  3. check: every reading of that value (a client may decode what the
//     rewrite wrote, encoded-words or continuations) must hold nothing
//     the roles may not see; a value that fails, or is no longer a valid
//     header value, is removed.
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
	// 1. Find.
	found := mw.findInHeaders(read)
	// 2. Count, and the values to send.
	var sum rewrite.Summary
	var pass2 []headerEntry
	for i := range read {
		e := &read[i]
		gone := found[i] != nil && len(found[i]) == 0
		if found[i] == nil {
			// The engine cannot read the field: all its values go.
			for j := range e.keep {
				changed = changed || e.keep[j]
				e.keep[j] = false
			}
			continue
		}
		c := headerEntry{name: e.name, many: len(e.vals) > 1}
		for j := range e.vals {
			// (A field whose member is gone, its name personal data
			// or dropped, is counted, and goes in pass 3.)
			if e.keep[j] && (gone || found[i][j] >= 0) {
				r := 0
				if !gone {
					r = found[i][j]
				}
				c.vals = append(c.vals, e.vals[j])
				c.reads = append(c.reads, []reading{e.reads[j][r]})
				c.keep = append(c.keep, true)
				c.at = append(c.at, j)
			}
		}
		if len(c.vals) > 0 {
			pass2 = append(pass2, c)
		}
	}
	defer func() {
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
	}()
	if len(pass2) == 0 {
		return changed
	}
	changed = true
	view, err := mw.m.headerEngine.Rewrite(nil, headerDoc(pass2), rewrite.JSON, mw.d, &sum)
	views := viewsOf(pass2, view, err)
	// 3. Check.
	var pass3 []headerEntry
	for k, c := range pass2 {
		e := entryNamed(read, c.name)
		for n, j := range c.at {
			if views[k] == nil || views[k][n] == "\x00" || c.reads[n][0].look {
				// Dropped, or the field's name was personal data, or
				// found only where the value cannot be rewritten.
				e.keep[j] = false
				continue
			}
			v := views[k][n]
			if !utf8.ValidString(v) || !httpguts.ValidHeaderFieldValue(v) {
				e.keep[j] = false
				continue
			}
			rs, ok := valueReadings(v)
			if !ok {
				e.keep[j] = false
				continue
			}
			e.vals[j] = v
			// Every reading of it, itself included (a mask shortens the
			// text, and a context word may come within reach of a
			// number that needs one), under a name that types nothing:
			// the field's name typed the view already.
			// JSON the value to send holds as it is written was typed
			// by its keys already, and a masked value masked again
			// need not be what it is: read by content. JSON only a
			// decoding shows (continuations joined, a word only a
			// strict decoder reads) is read by its keys too.
			sent := sentJSON(v)
			for _, r := range rs {
				r = checkReading(r, sent)
				pass3 = append(pass3, headerEntry{name: "@check", vals: []string{v}, reads: [][]reading{{r}},
					keep: []bool{true}, at: []int{j}, of: c.name})
			}
		}
	}
	if len(pass3) > 0 {
		// Each checked on its own member (one name may hold several).
		for k := range pass3 {
			var scratch rewrite.Summary
			c := &pass3[k]
			doc := headerDoc(pass3[k : k+1])
			view, err := mw.m.headerEngine.Rewrite(nil, doc, rewrite.JSON, mw.d, &scratch)
			if err != nil || string(view) != string(doc) {
				entryNamed(read, c.of).keep[c.at[0]] = false
			}
		}
	}
	// The reading's own structure is not the header's: a piece's key
	// under its field (@header.Location.email, from a redirect's
	// ?email=…).
	sum.MapPaths(func(p string) string {
		return strings.ReplaceAll(strings.ReplaceAll(p, ".@parts.#", ""), ".@read.#", "")
	})
	into.Merge(&sum)
	return changed
}

func entryNamed(read []headerEntry, name string) *headerEntry {
	for i := range read {
		if read[i].name == name {
			return &read[i]
		}
	}
	return nil
}

// sentJSON returns the JSON texts the value v holds as written: its
// pieces', and v itself when it is all JSON.
func sentJSON(v string) []string {
	var out []string
	if t := strings.TrimSpace(v); jsonLen(t) == len(t) && t != "" {
		out = append(out, t)
	}
	ps, _ := jsonPieces(v)
	for _, p := range ps {
		if p.json != "" {
			out = append(out, p.json)
		}
	}
	return out
}

// checkReading is r as pass 3 reads it: the JSON in sent as text (by
// content), other JSON as JSON, and a text that is all JSON held in sent
// behind "| " (which keeps it from being read as JSON).
func checkReading(r reading, sent []string) reading {
	if len(r.pieces) == 0 {
		if t := strings.TrimSpace(r.text); slices.Contains(sent, t) || jsonLen(t) != len(t) {
			return reading{text: "| " + r.text}
		}
		return r
	}
	ps := make([]piece, len(r.pieces))
	for i, p := range r.pieces {
		if p.json != "" && slices.Contains(sent, p.json) {
			p = piece{raw: "| " + p.raw}
		}
		ps[i] = p
	}
	return reading{text: r.text, pieces: ps}
}

// findInHeaders is the first pass: for each field, nil when the engine
// cannot read it, empty when its member is gone from the view (its name
// was personal data, or it was dropped), else for each value the index of
// its first reading the engine changed, -1 for none (a value that is
// removed counts as unchanged here). A field the engine cannot read (nested too deep) is
// read on its own, and only one that fails is gone.
func (mw *maskWriter) findInHeaders(read []headerEntry) [][]int {
	var scratch rewrite.Summary
	view, err := mw.m.headerEngine.Rewrite(nil, headerDoc(read), rewrite.JSON, mw.d, &scratch)
	if err == nil {
		return foundIn(read, view)
	}
	out := make([][]int, len(read))
	for i := range read {
		scratch.Reset()
		v, err := mw.m.headerEngine.Rewrite(nil, headerDoc(read[i:i+1]), rewrite.JSON, mw.d, &scratch)
		if err != nil {
			mw.m.logger.Debug("a response header field the gateway cannot read is removed",
				zap.String("field", read[i].name), zap.Error(err))
			continue
		}
		out[i] = foundIn(read[i:i+1], v)[0]
	}
	return out
}

// foundIn reads the first pass's view.
func foundIn(read []headerEntry, view []byte) [][]int {
	members := memberValues(read, view)
	out := make([][]int, len(read))
	for i := range read {
		e := &read[i]
		out[i] = []int{}
		if members[i] == nil {
			continue
		}
		out[i] = make([]int, len(e.vals))
		for j := range e.vals {
			out[i][j] = -1
			if !e.keep[j] {
				continue
			}
			// The first reading that changed and may be sent (one to
			// look in only, if no other did).
			for r, v := range readingViews(members[i][j], e.reads[j]) {
				if v != e.reads[j][r].text && (out[i][j] < 0 || e.reads[j][out[i][j]].look) {
					out[i][j] = r
				}
			}
		}
	}
	return out
}

// viewsOf reads the second pass's view: for each field of pass, the
// views of its values ("\x00" for one dropped or not what was written),
// nil for a field whose member is gone.
func viewsOf(pass []headerEntry, view []byte, err error) [][]string {
	out := make([][]string, len(pass))
	if err != nil {
		return out
	}
	members := memberValues(pass, view)
	for i := range pass {
		c := &pass[i]
		if members[i] == nil {
			continue
		}
		out[i] = make([]string, len(c.vals))
		for j := range c.vals {
			out[i][j] = "\x00"
			if vs := readingViews(members[i][j], c.reads[j]); vs != nil {
				out[i][j] = vs[0]
			}
		}
	}
	return out
}

// memberValues returns, for each field of fields, its values' members in
// the engine's view of headerDoc(fields), nil for a field whose member is
// gone or is not what was written.
func memberValues(fields []headerEntry, view []byte) [][]json.RawMessage {
	var got struct {
		Header map[string]json.RawMessage `json:"@header"`
	}
	if json.Unmarshal(view, &got) != nil {
		got.Header = nil // cannot happen for the engine's view of valid JSON; fail closed
	}
	out := make([][]json.RawMessage, len(fields))
	for i := range fields {
		e := &fields[i]
		raw, ok := got.Header[e.name]
		if !ok {
			continue
		}
		vals := []json.RawMessage{raw}
		if len(e.vals) != 1 || e.many {
			if json.Unmarshal(raw, &vals) != nil || len(vals) != len(e.vals) {
				continue // the field's array is not what was sent
			}
		}
		out[i] = vals
	}
	return out
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
		if len(e.vals) == 1 && !e.many {
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

// readingViews is the view of each of a value's readings in raw (as
// appendValue wrote them), nil when raw is not what was written.
func readingViews(raw json.RawMessage, rs []reading) []string {
	if len(rs) == 1 {
		if v, ok := readingView(raw, rs[0]); ok {
			return []string{v}
		}
		return nil
	}
	var alt struct {
		Read []json.RawMessage `json:"@read"`
	}
	if json.Unmarshal(raw, &alt) != nil || len(alt.Read) != len(rs) {
		return nil
	}
	out := make([]string, len(rs))
	for i, r := range rs {
		v, ok := readingView(alt.Read[i], r)
		if !ok {
			return nil
		}
		out[i] = v
	}
	return out
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
