package detectors

import "unicode/utf8"

// Markers returned by decode for characters without an ASCII equivalent.
// Both are ≥ 0x80, so they never compare equal to an ASCII character.
const (
	cOther = 0x80 // any other character (Han, punctuation, invalid UTF-8)
	cDot   = 0x81 // a middle dot or bullet, the separator in licence plates (粤B·12345)
)

// decode returns the ASCII equivalent of the character starting at s[i] and
// its width in bytes. Full-width forms (U+FF01–U+FF5E: １３８, ＡＢ, ＠, （）,
// －) map to their ASCII counterparts, hyphens and dashes (U+2010–U+2015,
// U+2212) to '-', and the ideographic, no-break and zero-width spaces to
// ' ', so every detector sees such text as ASCII while offsets stay those
// of the original string.
func decode(s string, i int) (byte, int) {
	b := s[i]
	if b < utf8.RuneSelf {
		return b, 1
	}
	if i+1 < len(s) {
		b1 := s[i+1]
		switch b {
		case 0xEF:
			if i+2 < len(s) {
				b2 := s[i+2]
				if b1 == 0xBC && b2 >= 0x81 && b2 <= 0xBF {
					return b2 - 0x60, 3
				}
				if b1 == 0xBD && b2 >= 0x80 && b2 <= 0x9E {
					return b2 - 0x20, 3
				}
			}
		case 0xE3:
			if b1 == 0x80 && i+2 < len(s) && s[i+2] == 0x80 {
				return ' ', 3 // U+3000 ideographic space
			}
			if b1 == 0x83 && i+2 < len(s) && s[i+2] == 0xBB {
				return cDot, 3 // U+30FB katakana middle dot
			}
		case 0xE2:
			if i+2 < len(s) {
				switch b2 := s[i+2]; {
				case b1 == 0x80 && b2 == 0xA2:
					return cDot, 3 // U+2022 bullet
				case b1 == 0x80 && b2 >= 0x90 && b2 <= 0x95, b1 == 0x88 && b2 == 0x92:
					return '-', 3 // U+2010–U+2015 hyphens and dashes (138–1234–5678), U+2212 minus
				case b1 == 0x80 && b2 >= 0x8B && b2 <= 0x8D, b1 == 0x81 && b2 == 0xA0:
					// U+200B–U+200D zero-width space and joiners, U+2060
					// word joiner: invisible, so a separator as a space is
					// (138​1234​5678).
					return ' ', 3
				}
			}
		case 0xC2:
			if b1 == 0xA0 {
				return ' ', 2 // U+00A0 no-break space
			}
			if b1 == 0xB7 {
				return cDot, 2 // U+00B7 middle dot
			}
		}
	}
	_, w := utf8.DecodeRuneInString(s[i:])
	return cOther, w
}

// decodeBefore returns the ASCII equivalent (as decode) of the character
// that ends at s[i-1], and its width; (cOther, 0) at the start of s.
func decodeBefore(s string, i int) (byte, int) {
	if i <= 0 {
		return cOther, 0
	}
	if s[i-1] < utf8.RuneSelf {
		return s[i-1], 1
	}
	j := i - 1
	for j > 0 && i-j < utf8.UTFMax && !utf8.RuneStart(s[j]) {
		j--
	}
	c, w := decode(s, j)
	if j+w != i {
		return cOther, 1 // invalid UTF-8: treat the byte as a character of its own
	}
	return c, w
}

// asciiClass classifies ASCII bytes for the scanner.
var asciiClass = func() (t [256]uint8) {
	for c := '0'; c <= '9'; c++ {
		t[c] = clDigit
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = clUpper
		t[c+'a'-'A'] = clLower
	}
	return t
}()

const (
	clNone uint8 = iota
	clDigit
	clUpper
	clLower
)

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
func isAlnum(c byte) bool { return asciiClass[c] != clNone }

// isWordAt reports whether the character at s[i] is a letter or digit, ASCII
// or full-width: the characters a match may not touch.
func isWordAt(s string, i int) bool {
	if i >= len(s) {
		return false
	}
	c, _ := decode(s, i)
	return isAlnum(c)
}

// isWordBefore reports whether the character ending at s[i-1] is a letter or
// digit, ASCII or full-width.
func isWordBefore(s string, i int) bool {
	c, _ := decodeBefore(s, i)
	return isAlnum(c)
}
