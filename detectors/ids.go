package detectors

import "strings"

// Identity documents, licence plates and IBANs: words that mix letters and
// digits.

// alnum handles a word of letters and digits at st.w and returns where
// scanning resumes.
func (st *scan) alnum() int {
	w := &st.w
	c := w.c[:w.n]
	start, end := w.start, w.end
	lead := 0
	for lead < len(c) && isUpper(c[lead]) {
		lead++
	}
	if lead == 1 && w.n == 10 && w.nl == 1 && validTWID(c) {
		st.found(TWID, start, end, confPlan)
		return end
	}
	if lead == 1 || lead == 2 {
		if e, ok := st.hkid(lead); ok {
			return e
		}
	}
	if lead >= 1 && st.passport() {
		return end
	}
	if lead >= 1 {
		if e, ok := st.plate(); ok {
			return e
		}
	}
	if lead == 2 && w.n >= 4 && isDigit(c[2]) && isDigit(c[3]) {
		if e, ok := st.iban(); ok {
			return e
		}
	}
	return end
}

// hkid finds a Hong Kong ID: A123456(7) with its check digit in brackets,
// or A1234567 written together (only with a context word, since a letter
// and seven digits is a common reference format).
func (st *scan) hkid(lead int) (int, bool) {
	s, w := st.s, &st.w
	c := w.c[:w.n]
	if w.n < lead+6 || !allDigits(c[lead:lead+6]) {
		return 0, false
	}
	switch w.n - lead {
	case 6:
		p := w.end
		if p >= len(s) {
			return 0, false
		}
		open, ow := decode(s, p)
		if open != '(' || p+ow >= len(s) {
			return 0, false
		}
		check, cw := decode(s, p+ow)
		if p+ow+cw >= len(s) {
			return 0, false
		}
		closing, clw := decode(s, p+ow+cw)
		if closing != ')' || !(isDigit(check) || check == 'A') || !validHKID(c[:lead], c[lead:], check) {
			return 0, false
		}
		end := p + ow + cw + clw
		st.found(HKID, w.start, end, confStrong)
		return end, true
	case 7:
		check := c[lead+6]
		if (isDigit(check) || check == 'A') && validHKID(c[:lead], c[lead:lead+6], check) &&
			hasContext(s, w.start, w.end, HKID) {
			st.found(HKID, w.start, w.end, confInContext)
			return w.end, true
		}
	}
	return 0, false
}

// passport finds a PRC passport number near a context word: E12345678,
// EA1234567, G12345678, DE1234567 and the older D/S/P numbers.
func (st *scan) passport() bool {
	w := &st.w
	c := w.c[:w.n]
	ok := false
	switch {
	case w.n == 9 && (c[0] == 'E' || c[0] == 'G') && allDigits(c[1:]):
		ok = true
	case w.n == 9 && c[0] == 'E' && plateLetter(c[1]) && allDigits(c[2:]):
		ok = true
	case w.n == 9 && (c[0] == 'D' || c[0] == 'S' || c[0] == 'P') && c[1] == 'E' && allDigits(c[2:]):
		ok = true
	case (w.n == 8 || w.n == 9) && (c[0] == 'D' || c[0] == 'S' || c[0] == 'P') && allDigits(c[1:]):
		ok = true
	}
	if !ok || !hasContext(st.s, w.start, w.end, CNPassport) {
		return false
	}
	return st.found(CNPassport, w.start, w.end, confInContext)
}

// provinceChars are the one-character province abbreviations that start a
// mainland licence plate.
const provinceChars = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"

// plateSuffixes end special plates: 粤Z·1234港, 京A·1234警.
const plateSuffixes = "挂学警港澳领使"

// provinceBefore reports whether a province abbreviation ends at s[i-1].
func provinceBefore(s string, i int) bool {
	return i >= 3 && s[i-3] >= 0xE4 && s[i-3] <= 0xE9 && strings.Contains(provinceChars, s[i-3:i])
}

// plateLetter reports whether c may appear on a plate (no I or O).
func plateLetter(c byte) bool { return isUpper(c) && c != 'I' && c != 'O' }

// plateBody checks what follows the province: an issuing-office letter and
// five characters (at most two letters), or six for new-energy vehicles
// (D/F first or last); four when a suffix character follows.
func plateBody(office byte, body []byte, suffix bool) bool {
	if !plateLetter(office) {
		return false
	}
	letters := 0
	for _, c := range body {
		switch {
		case isDigit(c):
		case plateLetter(c):
			letters++
		default:
			return false
		}
	}
	switch len(body) {
	case 4:
		return suffix && letters <= 1
	case 5:
		return letters <= 2
	case 6:
		return (body[0] == 'D' || body[0] == 'F') && allDigits(body[2:]) ||
			allDigits(body[:5]) && (body[5] == 'D' || body[5] == 'F')
	}
	return false
}

// plateSuffixAt returns the width of a special-plate suffix at s[i], or 0.
func plateSuffixAt(s string, i int) int {
	if i+3 <= len(s) && s[i] >= 0xE4 && s[i] <= 0xE9 && strings.Contains(plateSuffixes, s[i:i+3]) {
		return 3
	}
	return 0
}

// plate finds a licence plate written without a separator: 京A12345.
func (st *scan) plate() (int, bool) {
	s, w := st.s, &st.w
	if !provinceBefore(s, w.start) || w.n < 5 || w.n > 7 {
		return 0, false
	}
	end := w.end
	sw := plateSuffixAt(s, end)
	if !plateBody(w.c[0], w.c[1:w.n], sw > 0) {
		return 0, false
	}
	if w.n == 5 {
		end += sw
	}
	st.found(CNLicensePlate, w.start-3, end, confWeak)
	return end, true
}

// plateSplit finds a licence plate whose office letter stands apart: 粤B·12345,
// 京A 12345. st.w holds the single letter.
func (st *scan) plateSplit() int {
	s, w := st.s, &st.w
	office, start, resume := w.c[0], w.start-3, w.end
	if !provinceBefore(s, w.start) || w.end >= len(s) {
		return resume
	}
	c, cw := decode(s, w.end)
	if c != cDot && c != ' ' && c != '-' {
		return resume
	}
	p := w.end + cw
	if p >= len(s) || !isWordAt(s, p) {
		return resume
	}
	readWord(s, p, w)
	if w.n < 4 || w.n > 6 {
		return resume
	}
	end := w.end
	sw := plateSuffixAt(s, end)
	if !plateBody(office, w.c[:w.n], sw > 0) {
		return resume
	}
	if w.n == 4 {
		end += sw
	}
	st.found(CNLicensePlate, start, end, confWeak)
	return end
}

// iban finds an IBAN written together or in groups of four.
func (st *scan) iban() (int, bool) {
	s, w := st.s, &st.w
	want := ibanLength(w.c[0], w.c[1])
	if want == 0 {
		return 0, false
	}
	start, end := w.start, w.end
	buf := append(st.dig[:0], w.c[:min(w.n, maxWord)]...)
	if w.n == 4 {
		for len(buf) < want && end+1 < len(s) && s[end] == ' ' && isWordAt(s, end+1) {
			readWord(s, end+1, w)
			if w.n > 4 || w.n < 4 && len(buf)+w.n != want {
				break
			}
			buf = append(buf, w.c[:w.n]...)
			end = w.end
		}
	}
	if len(buf) != want || !validIBAN(buf) {
		return 0, false
	}
	st.found(IBAN, start, end, confStrong)
	return end, true
}
