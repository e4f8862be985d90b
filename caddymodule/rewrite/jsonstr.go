package rewrite

import (
	"encoding/binary"
	"errors"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// errSyntax is wrapped by every malformed-input error.
var errSyntax = errors.New("malformed JSON")

const (
	lsb         = 0x0101010101010101
	msb         = 0x8080808080808080
	quotes      = lsb * '"'
	backslashes = lsb * '\\'
)

// hasZero has the high bit set in each byte of v that is zero (and
// possibly in a byte above one that is: callers only test for any).
func hasZero(v uint64) uint64 { return (v - lsb) &^ v }

// hasLess has the high bit set in each byte of v below n (n ≤ 128).
func hasLess(v uint64, n byte) uint64 { return (v - lsb*uint64(n)) &^ v }

// unquote appends the decoded content of the JSON string src (quotes
// included) to dst. Lone surrogates become U+FFFD.
func unquote(dst, src []byte) ([]byte, error) {
	s := src[1 : len(src)-1]
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			j := i + 1
			for j < len(s) && s[j] != '\\' {
				j++
			}
			dst = append(dst, s[i:j]...)
			i = j
			continue
		}
		if i+1 >= len(s) {
			return dst, errSyntax
		}
		switch s[i+1] {
		case '"', '\\', '/':
			dst = append(dst, s[i+1])
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, ok := hex4(s, i+2)
			if !ok {
				return dst, errSyntax
			}
			i += 6
			if utf16IsHigh(r) {
				if lo, ok := hex4(s, i+2); ok && i+1 < len(s) && s[i] == '\\' && s[i+1] == 'u' && utf16IsLow(lo) {
					r = (r-0xD800)<<10 + (lo - 0xDC00) + 0x10000
					i += 6
				} else {
					r = utf8.RuneError
				}
			} else if utf16IsLow(r) {
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default:
			return dst, errSyntax
		}
		i += 2
	}
	return dst, nil
}

func utf16IsHigh(r rune) bool { return r >= 0xD800 && r < 0xDC00 }
func utf16IsLow(r rune) bool  { return r >= 0xDC00 && r < 0xE000 }

func hex4(s []byte, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range s[i : i+4] {
		d := hexDigit(c)
		if d < 0 {
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	return r, true
}

const hexDigits = "0123456789abcdef"

// plainString reports whether s needs no escaping in a JSON string: no
// quote, backslash, control character or U+2028/U+2029 (whose UTF-8 starts
// with 0xE2), eight bytes at a time.
func plainString(s []byte) bool {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		v := binary.LittleEndian.Uint64(s[i:])
		if (hasZero(v^quotes)|hasZero(v^backslashes)|hasLess(v, 0x20)|hasZero(v^(lsb*0xE2)))&msb != 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c == 0xE2 {
			return false
		}
	}
	return true
}

// quote appends s as a JSON string. It escapes what JSON requires and
// U+2028/U+2029, which break JavaScript that embeds JSON.
func quote(dst, s []byte) []byte {
	if plainString(s) {
		dst = append(dst, '"')
		dst = append(dst, s...)
		return append(dst, '"')
	}
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			if c == 0xE2 && i+2 < len(s) && s[i+1] == 0x80 && (s[i+2] == 0xA8 || s[i+2] == 0xA9) {
				dst = append(dst, s[start:i]...)
				dst = append(dst, `\u202`...)
				dst = append(dst, hexDigits[s[i+2]&0xF])
				i += 3
				start = i
				continue
			}
			i++
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// textEscapeDecoded reports whether decodeTextEscapes decodes an escape of
// r: the characters of the values detectors find, and the separators they
// read between their parts (Python's json.dumps escapes every non-ASCII
// character this way).
func textEscapeDecoded(r rune) bool {
	switch {
	case unicode.IsLetter(r), unicode.IsNumber(r):
		return true
	case r == '@', r == '.', r == '-', r == '+', r == '_', r == '%', r == ' ', r == '(', r == ')', r == '·',
		r == ':', r == '/': // IPv6's separator, a date's
		return true
	case r >= 0xFF01 && r <= 0xFF5E: // full-width forms
		return true
	case r >= 0x2010 && r <= 0x2015, r == 0x2212, r >= 0x200B && r <= 0x200D, r == 0x2060, r == 0x3000, r == 0xA0, r == 0x2022, r == 0x30FB:
		return true
	}
	return false
}

// textEscapes is what decodeTextEscapes makes of a text.
type textEscapes struct {
	dec  []byte  // the text, with escapes textEscapeDecoded names decoded
	offs []int32 // each byte of dec, and its end, as an offset in the text
	// esc are the escapes of the text, decoded or not ([start, end)
	// pairs, in order).
	esc     [][2]int
	decoded bool // any escape was decoded, or read as a boundary
	// slashes and pages: a script's backslash escape, and a page's or a
	// link's escape, were read.
	slashes, pages bool
	// plusSpace: a '+' (as written or escaped) was read as form data's
	// space between digits, which a page, a script or decodeURIComponent
	// shows as a '+' (decodeKeepPlus and decodeAllKeepPlus read it so).
	// plusMixed: the text holds a '+' as written (or a script's escape of
	// one) and a page's or a link's escape of one, which form data reads
	// differently (decodeForm); plusRefMixed: an HTML reference of a '+'
	// and a percent-escape of one, which form data reads differently when
	// a page has turned the reference into a '+' (an href's &#43;:
	// decodeFormRef).
	plusSpace, plusMixed, plusRefMixed bool
}

// decodeTextEscapes reads the escapes a script or a page may hide a value
// behind: JavaScript's \uXXXX (surrogate pairs included), \u{X…} and \xXX,
// and HTML's &#N; and &#xX;. Those that stand for a character
// textEscapeDecoded names are decoded; others, and one after an escaped
// backslash (\\u0031 is a backslash and "u0031"), stay as they are.
func decodeTextEscapes(src []byte) textEscapes {
	var t textEscapes
	t.decode(src)
	return t
}

// decode is decodeTextEscapes into t, whose storage it reuses.
func (t *textEscapes) decode(src []byte) { t.decodeKinds(src, false, plusDigits) }

// decodePage is decode without a script's backslash escapes: the text as
// a page or a link shows it ("1865557058&#57;\uff21" shows a mobile and
// an escape).
func (t *textEscapes) decodePage(src []byte) { t.decodeKinds(src, true, plusDigits) }

// plusReadings holds the readings of a text that read its '+' otherwise
// than decode and decodePage do (form data reads a written one as a
// space, a page or a link decoder shows every one as a '+'), for the
// texts that hold such a '+'.
type plusReadings [6]textEscapes

// decode reads src each other way its '+' may be read, as te (src's
// decode) and tpPlusSpace (its decodePage read a '+' as a space) call
// for, and returns those that decoded something, appended to out:
//   - a '+' read as a space is read again as a '+' (decodeAllKeepPlus,
//     and decodeKeepPlus for the page's reading);
//   - a written '+' beside an escaped one is read as form data reads them
//     (decodeFormAll, decodeForm where backslashes are there);
//   - a reference of a '+' beside a percent-escape of one is read as form
//     data reads the link a page made of it (decodeFormRef,
//     decodeFormRefPage where backslashes are there).
func (p *plusReadings) decode(src []byte, te *textEscapes, tpPlusSpace bool, out []*textEscapes) []*textEscapes {
	try := func(i int, pageOnly bool, mode uint8) {
		if p[i].decodeKinds(src, pageOnly, mode); p[i].decoded {
			out = append(out, &p[i])
		}
	}
	if te.plusSpace {
		try(0, false, plusKeep)
	}
	if te.plusMixed {
		try(1, false, plusForm)
		if te.slashes {
			try(2, true, plusForm)
		}
	}
	if te.plusRefMixed {
		try(3, false, plusFormRef)
		if te.slashes {
			try(4, true, plusFormRef)
		}
	}
	if tpPlusSpace {
		try(5, true, plusKeep)
	}
	return out
}

// How decodeKinds reads a '+'.
const (
	plusDigits  = iota // between digits a space, as written or escaped
	plusKeep           // a '+', as written or escaped
	plusForm           // as written (or a script's escape) a space, a page's or a link's escape a '+'
	plusFormRef        // as plusForm, but a page's reference a space too (a link's escape a '+')
)

func (t *textEscapes) decodeKinds(src []byte, pageOnly bool, plus uint8) {
	t.dec, t.offs, t.esc, t.decoded = t.dec[:0], t.offs[:0], t.esc[:0], false
	t.slashes, t.pages, t.plusSpace, t.plusMixed, t.plusRefMixed = false, false, false, false, false
	// A '+' as written (or a script's escape), a page's reference of
	// one, a link's percent-escape of one.
	var written, ref, pct bool
	defer func() { t.plusMixed, t.plusRefMixed = written && (ref || pct), ref && pct }()
	for i := 0; i < len(src); {
		if src[i] == '\\' && i+1 < len(src) && src[i+1] == '\\' {
			t.dec, t.offs = append(t.dec, '\\', '\\'), append(t.offs, int32(i), int32(i+1))
			i += 2
			continue
		}
		r, n := rune(0), 0
		switch {
		case src[i] == '+':
			// Form data's space between digits; a page's reading
			// takes no backslash for an escape of a digit before it
			// (D:\exports\135+1234+5678.csv).
			written = true
			if plus == plusForm || plus == plusFormRef || plus == plusDigits && plusEscapeBetweenDigitsIn(src, i, i+1, pageOnly) {
				r, n = ' ', 1
				t.plusSpace = true
			}
		case !pageOnly || src[i] != '\\':
			r, n = escapeAt(src, i)
		}
		if n > 0 {
			if src[i] == '\\' {
				t.slashes = true
			} else {
				t.pages = true
			}
		}
		if n == 0 {
			t.dec, t.offs = append(t.dec, src[i]), append(t.offs, int32(i))
			i++
			continue
		}
		t.esc = append(t.esc, [2]int{i, i + n})
		if r == noRune && n >= 2 && src[i] == '\\' && (src[i+1] == '\n' || src[i+1] == '\r' || src[i+1] == 0xE2) {
			// A line continuation stands for nothing.
			i += n
			t.decoded = true
			continue
		}
		switch {
		case r == '+' && src[i] == '\\':
			// A script's escaped '+' is a '+' the script writes:
			// form data reads it as a space.
			written = true
			if plus == plusForm || plus == plusFormRef {
				r = ' '
				t.plusSpace = true
			}
		case r == '+' && src[i] == '&':
			ref = true
			if plus == plusFormRef {
				r = ' '
				t.plusSpace = true
			}
		case r == '+' && src[i] == '%':
			pct = true
		}
		if r == '+' && src[i] != '+' && plus == plusDigits && plusEscapeBetweenDigitsIn(src, i, i+n, pageOnly) {
			// An escaped '+' between digits (171%2B7904%2B4489): a
			// link decoder shows a '+', which form data reads as the
			// group separator, a space.
			r = ' '
			t.plusSpace = true
		}
		if r >= 0 && textEscapeDecoded(r) {
			k := len(t.dec)
			t.dec = utf8.AppendRune(t.dec, r)
			for range len(t.dec) - k {
				t.offs = append(t.offs, int32(i))
			}
			t.decoded = true
		} else {
			// Any other character (',', '=', ':', a line break …): a
			// boundary for the detectors, as it is to the reader; its
			// escape's last hex digit must not join the value after it
			// (13812345678%2C13912345678).
			t.dec, t.offs = append(t.dec, ' '), append(t.offs, int32(i))
			t.decoded = true
		}
		i += n
	}
	t.offs = append(t.offs, int32(len(src)))
}

// escapeAt reads the escape at src[i], if there is one: what it stands for
// (noRune for one that stands for nothing a detector reads: a lone
// surrogate, a line continuation) and its length, 0 when there is none.
// It reads what browsers read: in scripts \uXXXX, \u{X…} (leading zeros
// and all), \xXX, legacy octal (\61), identity escapes of punctuation
// (\@) and a backslash before a line ending; in pages &#N; and &#xX;
// (leading zeros and all, the ';' optional, 128–159 as Windows-1252) and
// the named references of separators and e-mail characters; in form data
// and links, URL percent-escapes.
func escapeAt(src []byte, i int) (rune, int) {
	switch src[i] {
	case '&':
		return charRefAt(src, i)
	case '%':
		return percentAt(src, i)
	case '+':
		// Form data writes a space as '+': between digits, a group
		// separator (138+1234+5678), the digits written plainly,
		// full-width, or as escapes (138+%31234+5678).
		if plusBetweenDigits(src, i) {
			return ' ', 1
		}
		return 0, 0
	}
	if src[i] != '\\' || i+1 >= len(src) {
		return 0, 0
	}
	switch c := src[i+1]; {
	case c == 'u' && i+2 < len(src) && src[i+2] == '{':
		r, j := rune(0), i+3
		for ; j < len(src) && hexDigit(src[j]) >= 0; j++ {
			if r = r<<4 | rune(hexDigit(src[j])); r > unicode.MaxRune {
				r = unicode.MaxRune + 1 // stays out of range
			}
		}
		if j > i+3 && j < len(src) && src[j] == '}' {
			if r > unicode.MaxRune {
				return noRune, j + 1 - i
			}
			return r, j + 1 - i
		}
	case c == 'u':
		r, good := hex4(src, i+2)
		if !good {
			return 0, 0
		}
		if utf16IsHigh(r) {
			if lo, ok := hex4(src, i+8); ok && i+7 < len(src) && src[i+6] == '\\' && src[i+7] == 'u' && utf16IsLow(lo) {
				return (r-0xD800)<<10 + (lo - 0xDC00) + 0x10000, 12
			}
			return noRune, 6
		}
		return r, 6
	case c == 'x':
		if i+3 < len(src) && hexDigit(src[i+2]) >= 0 && hexDigit(src[i+3]) >= 0 {
			return rune(hexDigit(src[i+2])<<4 | hexDigit(src[i+3])), 4
		}
	case c >= '0' && c <= '7':
		// Legacy octal, as sloppy-mode scripts read it: up to three
		// digits, at most \377.
		r, j := rune(0), i+1
		for ; j < len(src) && j < i+4 && src[j] >= '0' && src[j] <= '7' && r*8+rune(src[j]-'0') <= 0o377; j++ {
			r = r*8 + rune(src[j]-'0')
		}
		return r, j - i
	case c == '\n':
		return noRune, 2 // a line continuation: nothing
	case c == '\r':
		if i+2 < len(src) && src[i+2] == '\n' {
			return noRune, 3
		}
		return noRune, 2
	case c == 0xE2 && i+3 < len(src) && src[i+2] == 0x80 && (src[i+3] == 0xA8 || src[i+3] == 0xA9):
		return noRune, 4 // a line continuation by U+2028 or U+2029
	case c == 'b' || c == 'f' || c == 'n' || c == 'r' || c == 't' || c == 'v':
		// A control character (\n is a line feed, not an n): a
		// boundary, its letter no part of a value.
		return controlEscape[c], 2
	case c == '8', c == '9', c == '@', c == '.', c == '-', c == '_', c == '+', c == '(', c == ')', c == ' ',
		c == '&', c == '%', c == '#', c == ';':
		// An identity escape (\8 and \9 too, in sloppy mode; \& and
		// \% write a page's or a link's escape, "\&#56;" an 8).
		return rune(c), 2
	case c >= 'a' && c <= 'z' && !strings.ContainsRune("bfnrtuvx", rune(c)), c >= 'A' && c <= 'Z':
		return rune(c), 2 // an identity escape of a letter (\a is a)
	}
	return 0, 0
}

// controlEscape maps the letter of a single-character escape to the
// control character it stands for.
var controlEscape = [128]rune{'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t', 'v': '\v'}

// percentAt reads a URL percent-escape at src[i] (a '%'): the bytes of
// one UTF-8 character, %40 or %E5%BC%A0, as form data and links write
// them and clients read them.
func percentAt(src []byte, i int) (rune, int) {
	var b [utf8.UTFMax]byte
	n := 0
	for j := i; n < len(b) && j+2 < len(src) && src[j] == '%' && hexDigit(src[j+1]) >= 0 && hexDigit(src[j+2]) >= 0; j += 3 {
		b[n] = byte(hexDigit(src[j+1])<<4 | hexDigit(src[j+2]))
		n++
	}
	if n == 0 {
		return 0, 0
	}
	r, k := utf8.DecodeRune(b[:n])
	if r == utf8.RuneError && k <= 1 {
		return noRune, 3
	}
	return r, 3 * k
}

// noRune is what escapeAt returns for an escape that stands for nothing
// the detectors read.
const noRune = -1

// charRefAt reads an HTML character reference at src[i] (an '&').
func charRefAt(src []byte, i int) (rune, int) {
	if i+2 >= len(src) {
		return 0, 0
	}
	if src[i+1] != '#' {
		// A named reference: those of the characters detectors read
		// (with its ';', or a legacy one without).
		k := i + 1
		for k < len(src) && k < i+34 && (src[k]|0x20 >= 'a' && src[k]|0x20 <= 'z' || src[k] >= '0' && src[k] <= '9') {
			k++
		}
		name := string(src[i+1 : k])
		if k < len(src) && src[k] == ';' {
			if r, ok := namedRefs[name]; ok {
				return r, k + 1 - i
			}
		}
		for _, legacy := range [...]string{"nbsp", "middot"} {
			if strings.HasPrefix(name, legacy) {
				return namedRefs[legacy], len(legacy) + 1
			}
		}
		return 0, 0
	}
	r, j, start := rune(0), i+2, i+2
	if src[j] == 'x' || src[j] == 'X' {
		j++
		start = j
		for ; j < len(src) && hexDigit(src[j]) >= 0; j++ {
			if r = r<<4 | rune(hexDigit(src[j])); r > unicode.MaxRune {
				r = unicode.MaxRune + 1
			}
		}
	} else {
		for ; j < len(src) && src[j] >= '0' && src[j] <= '9'; j++ {
			if r = r*10 + rune(src[j]-'0'); r > unicode.MaxRune {
				r = unicode.MaxRune + 1
			}
		}
	}
	if j == start {
		return 0, 0
	}
	if j < len(src) && src[j] == ';' {
		j++ // optional: a browser reads &#49 as 1 all the same
	}
	switch {
	case r > unicode.MaxRune:
		return noRune, j - i
	case r >= 0x80 && r <= 0x9F:
		r = windows1252[r-0x80] // as browsers read them
	}
	return r, j - i
}

// namedRefs are the HTML named references of separators and e-mail
// characters.
var namedRefs = map[string]rune{
	"nbsp": 0xA0, "NonBreakingSpace": 0xA0, "ndash": 0x2013, "mdash": 0x2014, "horbar": 0x2015,
	"minus": 0x2212, "hyphen": 0x2010, "dash": 0x2010, "ZeroWidthSpace": 0x200B, "zwj": 0x200D,
	"zwnj": 0x200C, "NoBreak": 0x2060, "commat": '@', "period": '.', "lowbar": '_', "UnderBar": '_',
	"plus": '+', "lpar": '(', "rpar": ')', "middot": 0xB7, "centerdot": 0xB7, "CenterDot": 0xB7,
	"bull": 0x2022, "bullet": 0x2022,
}

// windows1252 maps the references &#128; to &#159; as browsers do.
var windows1252 = [32]rune{
	0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D, 0x017D, 0x8F,
	0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D, 0x017E, 0x0178,
}

func hexDigit(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// outsideEscapes widens [start, end) so that neither end falls inside
// one of the escapes esc (sorted, not overlapping): a finding that took an
// escape's letters or digits for its own (u597dzhang@… in \u597dzhang@…,
// 13812345678 after a path's \ read as \13) takes the whole escape in,
// so that its view replaces the escape whole rather than cutting it in
// two, and shows no more of the value than its mask allows.
func outsideEscapes(esc [][2]int, start, end int) (int, int) {
	i := sort.Search(len(esc), func(i int) bool { return esc[i][1] > start })
	if i < len(esc) && esc[i][0] < start {
		start = esc[i][0]
	}
	j := sort.Search(len(esc), func(j int) bool { return esc[j][1] > end-1 })
	if j < len(esc) && esc[j][0] < end && esc[j][1] > end {
		end = esc[j][1]
	}
	return start, end
}

// plusEscapeBetweenDigits reports whether the escape src[i:j] of a '+'
// stands between two digits (ASCII, full-width, or escaped).
func plusEscapeBetweenDigits(src []byte, i, j int) bool {
	return plusEscapeBetweenDigitsIn(src, i, j, false)
}

// plusEscapeBetweenDigitsIn is plusEscapeBetweenDigits in a script's text
// (page false: a backslash may start an escape of a digit) or a page's or
// a link's (page: a backslash is a backslash).
func plusEscapeBetweenDigitsIn(src []byte, i, j int, page bool) bool {
	if i == 0 || j >= len(src) {
		return false
	}
	// A digit (or an escape of one) stands before it: after the end of
	// another escape (tel%3A%2B886…, &#58;&#43;…) the '+' is a country
	// code's.
	n := src[j]
	before := n >= '0' && n <= '9' || n == '%' || n == '&' || n == '\\' && !page ||
		n == 0xEF && j+2 < len(src) && src[j+1] == 0xBC && src[j+2] >= 0x90 && src[j+2] <= 0x99
	return before && digitBeforeIn(src, i, page)
}

// decodeScript reads src as a script decodes its string literals: each
// backslash escape escapeAt reads (\xHH, \uXXXX, \u{…}, octal, identity
// escapes) decoded to what it stands for, whatever that is (an '&' too,
// for a page's reading of what the script writes), nothing else.
func (t *textEscapes) decodeScript(src []byte) {
	t.dec, t.offs, t.esc, t.decoded = t.dec[:0], t.offs[:0], t.esc[:0], false
	for i := 0; i < len(src); {
		if src[i] == '\\' && i+1 < len(src) && src[i+1] == '\\' {
			t.esc = append(t.esc, [2]int{i, i + 2})
			t.dec, t.offs = append(t.dec, '\\'), append(t.offs, int32(i))
			t.decoded = true
			i += 2
			continue
		}
		r, n := rune(-1), 0
		if src[i] == '\\' {
			r, n = escapeAt(src, i)
		}
		if n == 0 {
			t.dec, t.offs = append(t.dec, src[i]), append(t.offs, int32(i))
			i++
			continue
		}
		t.esc = append(t.esc, [2]int{i, i + n})
		t.decoded = true
		if r >= 0 && r != noRune {
			k := len(t.dec)
			t.dec = utf8.AppendRune(t.dec, r)
			for range len(t.dec) - k {
				t.offs = append(t.offs, int32(i))
			}
		}
		i += n
	}
	t.offs = append(t.offs, int32(len(src)))
}

// decodeJSON reads src, a JSON string's text without its quotes, as
// JSON.parse does, into t (whose storage it reuses): its backslash
// escapes decoded, nothing else. A malformed escape stays as it is.
func (t *textEscapes) decodeJSON(src []byte) {
	t.dec, t.offs, t.esc, t.decoded = t.dec[:0], t.offs[:0], t.esc[:0], false
	for i := 0; i < len(src); {
		c := src[i]
		if c != '\\' || i+1 >= len(src) {
			t.dec, t.offs = append(t.dec, c), append(t.offs, int32(i))
			i++
			continue
		}
		var r rune
		n := 2
		switch src[i+1] {
		case '"', '\\', '/':
			r = rune(src[i+1])
		case 'b':
			r = '\b'
		case 'f':
			r = '\f'
		case 'n':
			r = '\n'
		case 'r':
			r = '\r'
		case 't':
			r = '\t'
		case 'u':
			h, ok := hex4(src, i+2)
			if !ok {
				r = -1
				break
			}
			r, n = h, 6
			if utf16IsHigh(h) {
				if lo, ok := hex4(src, i+8); ok && src[i+6] == '\\' && src[i+7] == 'u' && utf16IsLow(lo) {
					r, n = (h-0xD800)<<10+(lo-0xDC00)+0x10000, 12
				} else {
					r = utf8.RuneError
				}
			} else if utf16IsLow(h) {
				r = utf8.RuneError
			}
		default:
			r = -1
		}
		if r < 0 {
			t.dec, t.offs = append(t.dec, c), append(t.offs, int32(i))
			i++
			continue
		}
		t.esc = append(t.esc, [2]int{i, i + n})
		k := len(t.dec)
		t.dec = utf8.AppendRune(t.dec, r)
		for range len(t.dec) - k {
			t.offs = append(t.offs, int32(i))
		}
		t.decoded = true
		i += n
	}
	t.offs = append(t.offs, int32(len(src)))
}

// plusBetweenDigits reports whether the '+' at src[i] stands between two
// digits, as form data writes a group separator: after an ASCII or a
// full-width digit or the end of an escape (';', a percent-escape's hex
// digit), before an ASCII or a full-width digit or an escape.
func plusBetweenDigits(src []byte, i int) bool { return plusEscapeBetweenDigits(src, i, i+1) }

// digitBeforeIn reports whether what ends at src[i] (exclusive) is a digit:
// an ASCII or a full-width one as written, or an escape of one (%31,
// %EF%BC%91, &#49;, &#0000049, \u0031, \x31). The end of another escape
// (&nbsp;, &#160, %3A, \u00a0, \x20) is not.
// (In a script's text, page false; in a page's or a link's, page true,
// a backslash starts no escape.)
func digitBeforeIn(src []byte, i int, page bool) bool {
	if i == 0 {
		return false
	}
	p := src[i-1]
	if i >= 3 && src[i-3] == '%' && isHexDigit(src[i-2]) && isHexDigit(p) {
		// Percent-escapes: the character their last bytes spell (a
		// full-width digit is three of them).
		var b [4]byte
		n, j := 0, i
		for n < 4 && j >= 3 && src[j-3] == '%' && isHexDigit(src[j-2]) && isHexDigit(src[j-1]) {
			b[3-n] = byte(hexDigit(src[j-2])<<4 | hexDigit(src[j-1]))
			n++
			j -= 3
		}
		r, _ := utf8.DecodeLastRune(b[4-n:])
		return isDigitRune(r)
	}
	if p == ';' || p == '}' || p >= '0' && p <= '9' || p|0x20 >= 'a' && p|0x20 <= 'f' {
		// The end of a reference (with its ';' or without) or of a
		// script's escape? Its start is back over its letters and
		// digits (a scan that stops at the character before them, so
		// each '+' reads only its own stretch: linear).
		k := i - 1
		if p == ';' || p == '}' {
			k--
		}
		for k >= 0 && (src[k] >= '0' && src[k] <= '9' || src[k]|0x20 >= 'a' && src[k]|0x20 <= 'z' || src[k] == '#' || src[k] == '{') {
			k--
		}
		// A backslash that an escaped backslash ends (\\151) starts
		// nothing.
		slashes := 0
		for j := k; j >= 0 && src[j] == '\\'; j-- {
			slashes++
		}
		if k >= 0 && (src[k] == '&' || src[k] == '\\' && slashes%2 == 1 && !page) {
			if r, n := escapeAt(src, k); n == i-k {
				return isDigitRune(r)
			}
		}
		if p >= '0' && p <= '9' {
			return true // a digit as written
		}
		return false
	}
	return i >= 3 && src[i-3] == 0xEF && src[i-2] == 0xBC && p >= 0x90 && p <= 0x99
}

// isDigitRune reports whether r is an ASCII or a full-width digit.
func isDigitRune(r rune) bool { return r >= '0' && r <= '9' || r >= 0xFF10 && r <= 0xFF19 }

func isHexDigit(c byte) bool { return c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'f' }
