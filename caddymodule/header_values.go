package caddymodule

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/htmlindex"

	"github.com/piigate/piigate/detectors"
)

// A reading is one way a client may read a response header's value: its
// text, and the JSON pieces in it (jsonPieces), if any.
type reading struct {
	text   string
	pieces []piece
	// look: a reading to look in, never to send (readParams' rewrite of
	// the parameters is not the value's form).
	look bool
}

// A piece is a part of a reading's text: plain text (json empty) or a
// JSON object or array as a client reads it, written (raw) as is, percent-
// encoded ('p') or in a quoted cookie value ('q').
type piece struct {
	raw   string
	json  string
	style byte
	// A key=value pair ('k': a cookie's, a URL query's or fragment's)
	// whose key types its value, read as {"key":"value"}: key is the
	// key as written with its '=', pct that the value was percent-
	// encoded (or a query's '+' stood for a space).
	key    string
	pct    bool
	quoted bool // a quoted cookie value, written back quoted
}

// valueReadings returns the ways a client may read v, those that decode
// something first, then v as written (line breaks as the spaces net/http
// sends each of them as). RFC 2047 encoded-words are decoded as Firefox
// decodes a download's name (the texts of adjacent words of one charset
// and encoding joined, spaces allowed in a word) and as a strict decoder
// (Chrome's, Go's) does. Parameters (filename="…", filename*=…) are read
// as browsers read them: quoted-pairs undone, RFC 2231 continuations
// joined, RFC 5987 values decoded in their charset. ok is false for a
// value that is not UTF-8 (a browser reads it in some charset the
// detectors would not), or that names a charset no browser knows, or
// whose encoded-words are nested too deep: the value is removed.
func valueReadings(v string) (rs []reading, ok bool) {
	if !utf8.ValidString(v) {
		return nil, false
	}
	if strings.ContainsAny(v, "\r\n") {
		v = strings.Map(func(r rune) rune {
			if r == '\r' || r == '\n' {
				return ' '
			}
			return r
		}, v)
	}
	var texts, looks []string // looks: readings to look in only
	if strings.Contains(v, "=?") {
		a, okA := decodeWords(v, true)
		b, okB := decodeWords(v, false)
		if !okA || !okB {
			return nil, false
		}
		texts = append(texts, a, b)
	}
	if strings.IndexByte(v, ';') >= 0 && strings.ContainsAny(v, "\"*\\") {
		p, ok := readParams(v)
		if !ok {
			return nil, false
		}
		if p != "" && p != v && !slices.Contains(texts, p) {
			texts = append(texts, p)
			looks = append(looks, p)
		}
	}
	if strings.Contains(v, "%25") {
		// A URL encoded twice (a login redirect's return URL holding a
		// search: %2540 is an '@' once it is followed): read with one
		// level decoded, the engine's link reading doing the other.
		if d, _ := percentDecode(v); d != v && utf8.ValidString(d) && !slices.Contains(texts, d) {
			texts = append(texts, d)
			looks = append(looks, d)
		}
	}
	texts = append(texts, v)
	for i, t := range texts {
		if slices.Contains(texts[:i], t) {
			continue
		}
		ps, ok := jsonPieces(t)
		if !ok {
			return nil, false
		}
		// (The parameters' reading, and a URL decoded once, are looked
		// in only when they are no other reading: sent, they would
		// change the value's form.)
		rs = append(rs, reading{text: t, pieces: ps, look: slices.Contains(looks, t) && t != v})
	}
	return rs, true
}

// readParams reads v's parameters (after its first ';') as browsers read
// them, leniently: a quoted value's quoted-pairs undone (\1\3\8 is 138),
// RFC 2231 continuations (name*0, name*1, …) joined in order, their bytes
// joined before they are decoded (a character may be cut between two), an
// RFC 5987 value (name*=charset'lang'%…) decoded in its charset, and
// encoded-words in a value decoded as Firefox decodes them. Each
// parameter stays one of its own: filename and filename* (clients choose
// one or the other), and a name given twice (Chrome takes the first).
// It returns "first; name="value"; …", a reading to look in, never to
// send, or "" when v has no parameter such reading changes. ok is false
// for a charset no browser knows.
func readParams(v string) (string, bool) {
	head, rest, _ := strings.Cut(v, ";")
	type seg struct {
		n     int
		value string
		ext   bool
	}
	type param struct {
		name string
		segs []seg
	}
	var params []*param
	conts := map[string]*param{} // continued parameters by name
	special := false
	for rest != "" {
		var item string
		item, rest = cutParam(rest)
		k, val, found := strings.Cut(item, "=")
		if !found {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		val = strings.TrimSpace(val)
		if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
			u := unquotePairs(val[1 : len(val)-1])
			special = special || u != val[1:len(val)-1]
			val = u
		}
		name, n, ext := k, -1, false
		if strings.HasSuffix(name, "*") {
			name, ext = name[:len(name)-1], true
		}
		if b, num, found := strings.Cut(name, "*"); found {
			if x, err := strconv.Atoi(num); err == nil && x >= 0 && x < 1000 {
				name, n = b, x
			}
		}
		special = special || ext || n >= 0
		if n >= 0 {
			p := conts[name]
			if p == nil {
				p = &param{name: name}
				conts[name] = p
				params = append(params, p)
			}
			p.segs = append(p.segs, seg{n, val, ext})
			continue
		}
		if ext {
			name += "*"
		}
		params = append(params, &param{name: name, segs: []seg{{0, val, ext}}})
	}
	if !special {
		return "", true
	}
	var b strings.Builder
	b.WriteString(strings.TrimSpace(head))
	for _, p := range params {
		slices.SortStableFunc(p.segs, func(a, b seg) int { return a.n - b.n })
		charset := ""
		var raw []byte
		for i, sg := range p.segs {
			val := sg.value
			if !sg.ext {
				raw = append(raw, val...)
				continue
			}
			if i == 0 {
				// charset'language'value
				cs, r, ok := strings.Cut(val, "'")
				_, r2, ok2 := strings.Cut(r, "'")
				if ok && ok2 {
					charset, val = cs, r2
				}
			}
			d, _ := percentDecode(val)
			raw = append(raw, d...)
		}
		val := string(raw)
		if charset != "" {
			e, err := htmlindex.Get(charset)
			if err != nil {
				return "", false
			}
			dd, err := e.NewDecoder().Bytes(raw)
			if err != nil {
				return "", false
			}
			val = string(dd)
		}
		if d, ok := decodeWords(val, true); ok {
			val = d
		}
		b.WriteString("; ")
		b.WriteString(p.name)
		b.WriteString(`="`)
		b.WriteString(strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(val))
		b.WriteString(`"`)
	}
	return strings.ToValidUTF8(b.String(), "\uFFFD"), true
}

// cutParam returns the parameter rest starts with (up to a ';' outside
// quotes) and what follows it.
func cutParam(rest string) (string, string) {
	quoted := false
	for i := 0; i < len(rest); i++ {
		switch rest[i] {
		case '\\':
			if quoted {
				i++
			}
		case '"':
			quoted = !quoted
		case ';':
			if !quoted {
				return rest[:i], rest[i+1:]
			}
		}
	}
	return rest, ""
}

// unquotePairs undoes a quoted string's quoted-pairs (\x is x).
func unquotePairs(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// decodeWords decodes the RFC 2047 encoded-words in s (=?UTF-8?B?…?=) as
// browsers do in a download's name: anywhere in the value (inside quotes
// too), B with or without its '=' padding, Q with '_' for a space, in the
// charset the word names as the Encoding Standard reads its label
// (iso-8859-1 and us-ascii are windows-1252), the white space between two
// words dropped; as Firefox (firefox: a word's text may hold spaces, and
// the texts of adjacent words of one charset and encoding are joined
// before they are decoded, so that a character or a base64 quantum split
// across two words is read whole) or as a strict decoder. A word that is
// not one is left as it is. Words whose text is itself encoded-words are
// decoded again (a browser decodes once, but a value rewritten from the
// once-decoded text would show the inner words to it), up to a few
// levels. ok is false for a charset no browser knows, or words nested
// deeper.
func decodeWords(s string, firefox bool) (out string, ok bool) {
	for range 4 {
		d, changed, ok := decodeWordsOnce(s, firefox)
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

// wordText is an encoded-word's charset, encoding and encoded text.
type wordText struct {
	charset string
	enc     byte // 'b' or 'q'
	text    string
	raw     string // the word as written
}

func decodeWordsOnce(s string, firefox bool) (string, bool, bool) {
	// Where each "?=" is, found once: a word's end is the first after its
	// text, and the texts' starts only grow, so each search is a step of
	// one pointer (a value of many "=?" and no "?=" stays linear).
	var ends []int
	for i := 0; ; {
		k := strings.Index(s[i:], "?=")
		if k < 0 {
			break
		}
		ends = append(ends, i+k)
		i += k + 1
	}
	if len(ends) == 0 {
		return s, false, true
	}
	var b strings.Builder
	var pending []wordText // adjacent words not yet decoded (firefox: joined)
	changed, e := false, 0
	flush := func() bool {
		if len(pending) == 0 {
			return true
		}
		t, decoded, ok := decodeWordRun(pending)
		if !ok {
			return false
		}
		b.WriteString(t)
		changed = changed || decoded
		pending = pending[:0]
		return true
	}
	afterWord := false
	i := 0
	for i < len(s) {
		k := strings.Index(s[i:], "=?")
		if k < 0 {
			break
		}
		k += i
		w, n, isWord := encodedWordAt(s, k, ends, &e, firefox)
		if !isWord {
			if !flush() {
				return "", false, false
			}
			b.WriteString(s[i : k+2])
			afterWord = false
			i = k + 2
			continue
		}
		between := s[i:k]
		if !afterWord || strings.TrimLeft(between, " \t") != "" {
			if !flush() {
				return "", false, false
			}
			b.WriteString(between)
		}
		// (White space between two words is dropped.)
		if len(pending) > 0 && !(firefox && w.charset == pending[0].charset && w.enc == pending[0].enc &&
			!strings.HasSuffix(pending[len(pending)-1].text, "=")) {
			if !flush() {
				return "", false, false
			}
		}
		pending = append(pending, w)
		if !firefox {
			if !flush() {
				return "", false, false
			}
		}
		afterWord = true
		i = k + n
	}
	if !flush() {
		return "", false, false
	}
	b.WriteString(s[i:])
	return b.String(), changed, true
}

// encodedWordAt reads the encoded-word at s[i:] ("=?" there) and its
// length; ok is false where there is none. ends are the offsets of s's
// "?=", *e the first that may end this word.
func encodedWordAt(s string, i int, ends []int, e *int, firefox bool) (w wordText, n int, ok bool) {
	rest := s[i+2:]
	q := strings.IndexByte(rest, '?')
	if q <= 0 || q+2 >= len(rest) || rest[q+2] != '?' {
		return w, 0, false
	}
	enc := rest[q+1] | 0x20
	if enc != 'b' && enc != 'q' {
		return w, 0, false
	}
	start := i + 2 + q + 3
	for *e < len(ends) && ends[*e] < start {
		*e++
	}
	if *e >= len(ends) {
		return w, 0, false
	}
	end := ends[*e]
	text := s[start:end]
	// (Each check stops at the first byte that fails it. A strict word
	// holds no '?', so the texts strict checks read do not overlap; a
	// Firefox word that passes is taken whole: linear either way.)
	for j := 0; j < len(text); j++ {
		if c := text[j]; c < ' ' || !firefox && (c == ' ' || c == '?') {
			return w, 0, false
		}
	}
	charset := strings.ToLower(rest[:q])
	if c, _, found := strings.Cut(charset, "*"); found {
		charset = c // RFC 2231's language: =?UTF-8*zh?B?…?=
	}
	if enc == 'b' {
		if _, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(text, "=")); err != nil && !firefox {
			return w, 0, false
		}
	}
	return wordText{charset, enc, text, s[i : end+2]}, end + 2 - i, true
}

// decodeWordRun decodes adjacent words (one charset and encoding when
// there are several) as one text; decoded is false when their text is not
// base64 after all, and they stay as written. ok is false for a charset
// no browser knows.
func decodeWordRun(ws []wordText) (text string, decoded, ok bool) {
	var joined strings.Builder
	for _, w := range ws {
		joined.WriteString(w.text)
	}
	t := joined.String()
	var raw []byte
	if ws[0].enc == 'b' {
		var err error
		if raw, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(t, "=")); err != nil {
			// Not base64 after all: the words as they are written.
			var b strings.Builder
			for _, w := range ws {
				b.WriteString(w.raw)
			}
			return b.String(), false, true
		}
	} else {
		raw = make([]byte, 0, len(t))
		for j := 0; j < len(t); j++ {
			switch c := t[j]; {
			case c == '_':
				raw = append(raw, ' ')
			case c == '=' && j+2 < len(t) && isHex(t[j+1]) && isHex(t[j+2]):
				raw = append(raw, unhex(t[j+1])<<4|unhex(t[j+2]))
				j += 2
			default:
				raw = append(raw, c)
			}
		}
	}
	e, err := htmlindex.Get(ws[0].charset)
	if err != nil {
		return "", false, false
	}
	d, err := e.NewDecoder().Bytes(raw)
	if err != nil {
		return "", false, false
	}
	return strings.ToValidUTF8(string(d), "\uFFFD"), true, true
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'f' }

func unhex(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return c | 0x20 - 'a' + 10
}

// maxJSONTries bounds the places jsonPieces tries to read JSON at that
// look like JSON's start (each try reads at most the rest of the value):
// linear in the value. A value with more is removed.
const maxJSONTries = 64

// jsonPieces splits t around the JSON objects and arrays in it: as written
// (a cookie's last={"name":…}, a query's filter={…}), percent-encoded
// (%7B%22name%22…, with stray '%' elsewhere, and with '+' for spaces as
// form data writes it), or in a quoted cookie value with backslash
// escapes (Python's "{\"name\": …}"). nil when there is none, or t is one
// JSON value the engine reads as such itself; ok false when t holds more
// places that look like JSON than are tried.
func jsonPieces(t string) (ps []piece, ok bool) {
	last, tries := 0, 0
	for i := 0; i < len(t); i++ {
		var p piece
		var n int
		switch c := t[i]; {
		case (c == '{' || c == '[') && jsonStart(t[i+1:]):
			if tries++; tries > maxJSONTries {
				return nil, false
			}
			n = jsonLen(t[i:])
			p = piece{raw: t[i : i+n], json: t[i : i+n]}
		case c == '%' && i+2 < len(t) && (t[i+1] == '7' && t[i+2]|0x20 == 'b' || t[i+1] == '5' && t[i+2]|0x20 == 'b'),
			(c == '{' || c == '[') && i+1 < len(t) && t[i+1] == '%':
			// Percent-encoded, its brackets too or not
			// (filename*=utf-8''{%22name%22…}, as Go's
			// mime.FormatMediaType writes it).
			if tries++; tries > maxJSONTries {
				return nil, false
			}
			d, offs := percentDecode(t[i:])
			m := jsonLen(d)
			if m == 0 && strings.IndexByte(t[i:], '+') >= 0 {
				// Form data writes a space as '+'.
				d, offs = percentDecode(strings.ReplaceAll(t[i:], "+", " "))
				m = jsonLen(d)
			}
			if m > 0 {
				n = offs[m]
				p = piece{raw: t[i : i+n], json: d[:m], style: 'p'}
			}
		case c == '"' && i+1 < len(t) && (t[i+1] == '{' || t[i+1] == '['):
			if tries++; tries > maxJSONTries {
				return nil, false
			}
			if u, m, ok := unquoteCookie(t[i:]); ok && jsonLen(u) == len(u) {
				n = m
				p = piece{raw: t[i : i+n], json: u, style: 'q'}
			}
		}
		if n == 0 {
			if kp, kn := kvPiece(t, i); kn > 0 {
				if tries++; tries > maxJSONTries {
					return nil, false
				}
				p, n = kp, kn
			}
		}
		if n == 0 {
			continue
		}
		if i > last {
			ps = append(ps, piece{raw: t[last:i]})
		}
		ps = append(ps, p)
		last = i + n
		i = last - 1
	}
	if len(ps) == 0 || len(ps) == 1 && last == len(t) && ps[0].style == 0 && ps[0].json != "" {
		return nil, true
	}
	if last < len(t) {
		ps = append(ps, piece{raw: t[last:]})
	}
	return ps, true
}

// kvPiece reads, at t[i:], a key=value pair whose key types its value as
// a JSON key would (customerName=%E5%BC%A0%E4%B8%89 in a cookie, a
// redirect's ?address=…, a pager link's &contactName=…): the pair as
// {"key":"value"}, the value percent-decoded (and, in a URL's query or
// fragment, '+' read as a space), and its length; 0 when there is none.
// A value that is JSON is left to the JSON pieces.
func kvPiece(t string, i int) (piece, int) {
	k := typedKeyAt(t, i)
	if k < 0 {
		return piece{}, 0
	}
	query := i > 0 && (t[i-1] == '?' || t[i-1] == '&' || t[i-1] == '#')
	key, _ := percentDecode(t[i:k])
	if !utf8.ValidString(key) {
		return piece{}, 0
	}
	v := k + 1
	if !query && v < len(t) && t[v] == '"' {
		// A quoted cookie value (RFC 6265; Python's http.cookies quotes
		// one with a space, and writes \NNN for other characters).
		u, n, ok := unquoteCookie(t[v:])
		if !ok || jsonLen(u) == len(u) {
			return piece{}, 0 // JSON: the JSON pieces read it by its own keys
		}
		js := appendJSONString(append(appendJSONString([]byte{'{'}, key), ':'), u)
		return piece{raw: t[i : v+n], json: string(append(js, '}')), style: 'k', key: t[i : k+1], quoted: true}, v + n - i
	}
	e := v
	for e < len(t) && !kvStop(t[e], query) && !(t[e] == ';' && cookieAttrAt(t, e+1)) {
		e++
	}
	val := t[v:e]
	if val == "" {
		return piece{}, 0
	}
	dec := val
	if query && strings.IndexByte(dec, '+') >= 0 {
		dec = strings.ReplaceAll(dec, "+", " ")
	}
	if strings.IndexByte(dec, '%') >= 0 {
		dec, _ = percentDecode(dec)
	}
	if (dec[0] == '{' || dec[0] == '[') && jsonLen(dec) > 0 {
		return piece{}, 0 // JSON, as written or percent-encoded: the JSON pieces read it
	}
	if !utf8.ValidString(dec) {
		dec = val // read by content as written (a browser would not show it as UTF-8)
	}
	js := appendJSONString(append(appendJSONString([]byte{'{'}, key), ':'), dec)
	return piece{raw: t[i:e], json: string(append(js, '}')), style: 'k', key: t[i : k+1], pct: dec != val}, e - i
}

// typedKeyAt is the index of the '=' after the key that starts at t[i]
// (at the value's start, a cookie's pair, or in a URL's query or
// fragment, after ?, & or #) when the key types its value as a JSON key
// would, else -1.
func typedKeyAt(t string, i int) int {
	if i > 0 && t[i-1] != '?' && t[i-1] != '&' && t[i-1] != '#' {
		// (After a ';' it is a header's parameter, name= a file's
		// name, or a cookie's attribute: not data its key types.)
		return -1
	}
	k := i
	for k < len(t) && isKeyByte(t[k]) {
		k++
	}
	if k == i || k >= len(t) || t[k] != '=' || k-i > 64 {
		return -1
	}
	key := t[i:k]
	if strings.IndexByte(key, '%') >= 0 {
		key, _ = percentDecode(key)
	}
	if _, typed := detectors.ClassifyField(key); !typed {
		return -1
	}
	return k
}

// typedKeyBefore reports whether the '=' at t[eq] ends a key that types
// its value (typedKeyAt).
func typedKeyBefore(t string, eq int) bool {
	i := eq
	for i > 0 && isKeyByte(t[i-1]) {
		i--
	}
	return i < eq && typedKeyAt(t, i) == eq
}

func isKeyByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' || c == '%'
}

// cookieAttrAt reports whether a Set-Cookie attribute (Path, Secure …)
// starts at t[i], after optional white space: a URL in a cookie's value
// ends at the ';' before it.
func cookieAttrAt(t string, i int) bool {
	for i < len(t) && t[i] == ' ' {
		i++
	}
	for _, a := range [...]string{"path", "domain", "expires", "max-age", "secure", "httponly", "samesite", "partitioned", "priority"} {
		if len(t)-i >= len(a) && strings.EqualFold(t[i:i+len(a)], a) {
			if j := i + len(a); j == len(t) || t[j] == '=' || t[j] == ';' || t[j] == ' ' {
				return true
			}
		}
	}
	return false
}

// kvStop ends a key=value pair's value: in a URL's query or fragment an
// '&' or '#', or the end of the URL (white space, the '>' or the quote
// that closes a Link's target or a Refresh's url); in a cookie its ';'.
// (A comma, an apostrophe stay: Spring and encodeURIComponent leave them
// as they are.)
func kvStop(c byte, query bool) bool {
	if !query {
		return c == ';'
	}
	switch c {
	case '&', '#', ' ', '\t', '"', '>':
		return true
	}
	return false
}

// jsonStart reports whether what follows a '{' or '[' may go on as JSON:
// white space, then a string, a closing bracket, or (in an array) a value.
func jsonStart(t string) bool {
	t = strings.TrimLeft(t, " \t")
	if t == "" {
		return false
	}
	switch c := t[0]; {
	case c == '"' || c == '}' || c == ']' || c == '{' || c == '[' || c == '-' || c >= '0' && c <= '9':
		return true
	case strings.HasPrefix(t, "true") || strings.HasPrefix(t, "false") || strings.HasPrefix(t, "null"):
		return true
	}
	return false
}

// jsonLen is the length of the JSON object or array t starts with, 0 for
// none.
func jsonLen(t string) int {
	if t == "" || t[0] != '{' && t[0] != '[' {
		return 0
	}
	dec := json.NewDecoder(strings.NewReader(t))
	var raw json.RawMessage
	if dec.Decode(&raw) != nil {
		return 0
	}
	return int(dec.InputOffset())
}

// percentDecode decodes t's percent-escapes, leaving a '%' that starts
// none as it is; offs[i] is the offset in t of the byte decoded to d[i]
// (and offs[len(d)] is len(t)).
func percentDecode(t string) (string, []int) {
	d := make([]byte, 0, len(t))
	offs := make([]int, 0, len(t)+1)
	for i := 0; i < len(t); {
		if t[i] == '%' && i+2 < len(t) && isHex(t[i+1]) && isHex(t[i+2]) {
			d, offs = append(d, unhex(t[i+1])<<4|unhex(t[i+2])), append(offs, i)
			i += 3
			continue
		}
		d, offs = append(d, t[i]), append(offs, i)
		i++
	}
	return string(d), append(offs, len(t))
}

// quoteCookie quotes s as Python's http.cookies does: \" and \\, and
// \NNN in octal for the other characters up to U+00FF a cookie may not
// hold as they are.
func quoteCookie(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == ',' || r == ';' || r < 0x20 || r >= 0x7F && r <= 0xFF:
			b.WriteByte('\\')
			b.WriteByte(byte('0' + r>>6))
			b.WriteByte(byte('0' + r>>3&7))
			b.WriteByte(byte('0' + r&7))
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// percentEncode writes s percent-encoded but for unreserved characters.
func percentEncode(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// kvPlain reports whether a key=value pair's value may be written as it
// is: printable ASCII that ends no pair and starts no escape.
func kvPlain(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c <= ' ' || c >= 0x7F || c == '%' || c == '+' || c == '=' || c == '\\' || c == ';' || c == ',' ||
			c == '"' || c == '\'' || kvStop(c, true) {
			return false
		}
	}
	return true
}

// unquoteCookie reads the quoted string t starts with as Python's
// http.cookies writes one (\" and \\, and \NNN in octal for other
// characters): its text and the quoted string's length.
func unquoteCookie(t string) (string, int, bool) {
	var b strings.Builder
	for i := 1; i < len(t); i++ {
		switch c := t[i]; c {
		case '"':
			return b.String(), i + 1, b.Len() > 0
		case '\\':
			if i+3 < len(t) && isOctal(t[i+1]) && isOctal(t[i+2]) && isOctal(t[i+3]) {
				// Python reads \374 as the character U+00FC.
				b.WriteRune(rune(t[i+1]-'0')<<6 | rune(t[i+2]-'0')<<3 | rune(t[i+3]-'0'))
				i += 3
			} else if i+1 < len(t) {
				b.WriteByte(t[i+1])
				i++
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, false
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// encode writes a JSON piece's view in the piece's style: the piece as it
// came when the view is what the client read.
func (p piece) encode(view string) string {
	if view == p.json {
		return p.raw
	}
	switch p.style {
	case 'k':
		// {"key":"value"} back to key=value; the value gone (drop), or
		// not one string, leaves the key with an empty value.
		var m map[string]string
		if json.Unmarshal([]byte(view), &m) != nil || len(m) != 1 {
			return p.key
		}
		for _, v := range m {
			if p.quoted {
				return p.key + quoteCookie(v)
			}
			if !p.pct && kvPlain(v) {
				return p.key + v
			}
			// Percent-encoded but for what a query value and a cookie
			// value may both hold as it is (a mask's stars, an e-mail's @).
			var b strings.Builder
			for _, part := range strings.SplitAfter(v, "@") {
				for _, q := range strings.SplitAfter(part, "*") {
					t, sep := q, ""
					if strings.HasSuffix(q, "@") || strings.HasSuffix(q, "*") {
						t, sep = q[:len(q)-1], q[len(q)-1:]
					}
					b.WriteString(percentEncode(t))
					b.WriteString(sep)
				}
			}
			return p.key + b.String()
		}
	case 'p':
		return percentEncode(view)
	case 'q':
		return quoteCookie(view)
	}
	return view
}
