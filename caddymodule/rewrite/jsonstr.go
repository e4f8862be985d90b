package rewrite

import (
	"encoding/binary"
	"errors"
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
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
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
	case r == '@', r == '.', r == '-', r == '+', r == ' ', r == '(', r == ')', r == '·':
		return true
	case r >= 0xFF01 && r <= 0xFF5E: // full-width forms
		return true
	case r >= 0x2010 && r <= 0x2015, r == 0x2212, r >= 0x200B && r <= 0x200D, r == 0x2060, r == 0x3000, r == 0xA0, r == 0x2022, r == 0x30FB:
		return true
	}
	return false
}

// decodeTextEscapes returns src with its \uXXXX escapes (surrogate pairs
// included) decoded where they stand for a character textEscapeDecoded
// names; other escapes, and a \u
// after an escaped backslash (\\u0031 is a backslash and "u0031"), stay as
// they are. offs maps each byte of the result, and its end, to its offset
// in src. ok reports whether any escape was decoded.
func decodeTextEscapes(src []byte) (dec []byte, offs []int32, ok bool) {
	for i := 0; i < len(src); {
		if src[i] == '\\' && i+1 < len(src) && src[i+1] == '\\' {
			dec, offs = append(dec, '\\', '\\'), append(offs, int32(i), int32(i+1))
			i += 2
			continue
		}
		if src[i] == '\\' && i+1 < len(src) && src[i+1] == 'u' {
			r, good := hex4(src, i+2)
			n := 6
			if good && utf16IsHigh(r) {
				if lo, ok := hex4(src, i+8); ok && i+7 < len(src) && src[i+6] == '\\' && src[i+7] == 'u' && utf16IsLow(lo) {
					r, n = (r-0xD800)<<10+(lo-0xDC00)+0x10000, 12
				} else {
					good = false
				}
			}
			if good && textEscapeDecoded(r) {
				k := len(dec)
				dec = utf8.AppendRune(dec, r)
				for range len(dec) - k {
					offs = append(offs, int32(i))
				}
				i += n
				ok = true
				continue
			}
		}
		dec, offs = append(dec, src[i]), append(offs, int32(i))
		i++
	}
	return dec, append(offs, int32(len(src))), ok
}
