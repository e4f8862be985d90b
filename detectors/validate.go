package detectors

import (
	"sort"
	"time"
)

// now is the clock used to reject birth dates in the future; tests pin it.
var now = time.Now

// provinces holds the valid first two digits of a GB 11643 resident ID (the
// province-level division of GB/T 2260, plus 71 Taiwan, 81 Hong Kong,
// 82 Macao and 83, which residence permits for Taiwan residents use).
var provinces = func() (t [100]bool) {
	for _, p := range []int{
		11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37,
		41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65,
		71, 81, 82, 83,
	} {
		t[p] = true
	}
	return t
}()

// residentWeights are the ISO 7064 MOD 11-2 weights 2^(17-i) mod 11.
var residentWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// residentCheck returns the ISO 7064 MOD 11-2 check character of the first
// 17 digits of d.
func residentCheck(d []byte) byte {
	sum := 0
	for i, w := range residentWeights {
		sum += int(d[i]-'0') * w
	}
	return "10X98765432"[sum%11]
}

// validResident18 checks an 18-character resident ID: 17 digits and a check
// character (digit or upper-case X), a known province, a real birth date
// not in the future, and the MOD 11-2 check.
func validResident18(d []byte) bool {
	if len(d) != 18 {
		return false
	}
	for _, c := range d[:17] {
		if !isDigit(c) {
			return false
		}
	}
	if !validRegion(d) {
		return false
	}
	if !validDate(num(d[6:10]), num(d[10:12]), num(d[12:14])) {
		return false
	}
	return residentCheck(d) == d[17]
}

// validResident15 checks a legacy 15-digit ID: region, YYMMDD in the 1900s,
// three-digit sequence.
func validResident15(d []byte) bool {
	if len(d) != 15 || !allDigits(d) {
		return false
	}
	return validRegion(d) && validDate(1900+num(d[6:8]), num(d[8:10]), num(d[10:12]))
}

// validRegion checks the six-digit region code at the start of an ID: a
// known province and a city and county within it; residence permits for
// Hong Kong, Macao and Taiwan residents use the bare province (810000).
func validRegion(d []byte) bool {
	p := num(d[0:2])
	return provinces[p] && (num(d[2:6]) != 0 || p >= 71)
}

// validDate reports whether y-m-d is a real date between 1900-01-01 and today.
func validDate(y, m, d int) bool {
	if y < 1900 || m < 1 || m > 12 || d < 1 {
		return false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d { // normalised: 31 April, 29 Feb of a common year
		return false
	}
	return !t.After(now())
}

// luhn reports whether the digits of d pass the Luhn (ISO/IEC 7812) check.
func luhn(d []byte) bool {
	if len(d) < 2 {
		return false
	}
	sum, double := 0, false
	for i := len(d) - 1; i >= 0; i-- {
		v := int(d[i] - '0')
		if v < 0 || v > 9 {
			return false
		}
		if double {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
		double = !double
	}
	return sum%10 == 0
}

// cardIIN reports whether d (all digits) starts with the issuer
// identification number of a card scheme that issues numbers of d's length.
// Ranges follow the schemes' published IIN tables (ISO/IEC 7812).
func cardIIN(d []byte) bool {
	n := len(d)
	if n < 12 || n > 19 {
		return false
	}
	p2 := num(d[:2])
	p3 := num(d[:3])
	p4 := num(d[:4])
	switch {
	case d[0] == '4': // Visa
		return n == 13 || n == 16 || n == 19
	case p2 >= 51 && p2 <= 55, p4 >= 2221 && p4 <= 2720: // Mastercard
		return n == 16
	case p2 == 34 || p2 == 37: // American Express
		return n == 15
	case p2 == 62, p2 == 81: // UnionPay (81: domestic range since 2016)
		return n >= 16
	case p4 >= 3528 && p4 <= 3589: // JCB
		return n >= 16
	case p4 == 6011, p2 == 65, p3 >= 644 && p3 <= 649: // Discover
		return n >= 16
	case p2 == 36, p3 >= 300 && p3 <= 305, p2 == 38, p2 == 39: // Diners Club
		return n >= 14
	case p4 >= 2200 && p4 <= 2204: // Mir
		return n >= 16
	case p4 == 5018, p4 == 5020, p4 == 5038, p4 == 5893, p4 == 6304,
		p4 == 6759, p4 >= 6761 && p4 <= 6763: // Maestro
		return true
	}
	return false
}

// validCard is the bank_card check: a scheme's IIN and length, and Luhn.
func validCard(d []byte) bool { return allDigits(d) && cardIIN(d) && luhn(d) }

// letterValue maps A–Z to 10–35, as HKID and IBAN checks use.
func letterValue(c byte) int { return int(c-'A') + 10 }

// validHKID checks a Hong Kong identity card number: one or two upper-case
// letters, six digits and a check character (digit or A), MOD 11 with
// weights 9…2, a single-letter number counting as if led by a space (36).
func validHKID(letters, digits []byte, check byte) bool {
	if len(digits) != 6 || !allDigits(digits) || len(letters) < 1 || len(letters) > 2 {
		return false
	}
	sum := 0
	if len(letters) == 1 {
		sum = 36*9 + letterValue(letters[0])*8
	} else {
		sum = letterValue(letters[0])*9 + letterValue(letters[1])*8
	}
	for i, c := range digits {
		sum += int(c-'0') * (7 - i)
	}
	want := (11 - sum%11) % 11
	switch {
	case want == 10:
		return check == 'A'
	default:
		return check == byte('0'+want)
	}
}

// twLetter holds the two-digit codes of the first letter of a Taiwan ID.
var twLetter = [26]int{
	10, 11, 12, 13, 14, 15, 16, 17, 34, 18, 19, 20, 21,
	22, 35, 23, 24, 25, 26, 27, 28, 29, 32, 30, 31, 33,
}

// validTWID checks a Taiwan national ID (or new-format resident certificate):
// a letter, 1/2 (or 8/9), seven digits and a check digit, weighted sum mod 10.
func validTWID(d []byte) bool {
	if len(d) != 10 || !isUpper(d[0]) || !allDigits(d[1:]) {
		return false
	}
	switch d[1] {
	case '1', '2', '8', '9':
	default:
		return false
	}
	code := twLetter[d[0]-'A']
	sum := code/10 + (code%10)*9
	for i := 1; i < 9; i++ {
		sum += int(d[i]-'0') * (9 - i)
	}
	sum += int(d[9] - '0')
	return sum%10 == 0
}

// ibanLengths is the IBAN length of each country in the SWIFT IBAN Registry.
var ibanLengths = map[[2]byte]int{
	{'A', 'D'}: 24, {'A', 'E'}: 23, {'A', 'L'}: 28, {'A', 'T'}: 20, {'A', 'Z'}: 28,
	{'B', 'A'}: 20, {'B', 'E'}: 16, {'B', 'G'}: 22, {'B', 'H'}: 22, {'B', 'I'}: 27,
	{'B', 'R'}: 29, {'B', 'Y'}: 28, {'C', 'H'}: 21, {'C', 'R'}: 22, {'C', 'Y'}: 28,
	{'C', 'Z'}: 24, {'D', 'E'}: 22, {'D', 'J'}: 27, {'D', 'K'}: 18, {'D', 'O'}: 28,
	{'E', 'E'}: 20, {'E', 'G'}: 29, {'E', 'S'}: 24, {'F', 'I'}: 18, {'F', 'K'}: 18,
	{'F', 'O'}: 18, {'F', 'R'}: 27, {'G', 'B'}: 22, {'G', 'E'}: 22, {'G', 'I'}: 23,
	{'G', 'L'}: 18, {'G', 'R'}: 27, {'G', 'T'}: 28, {'H', 'N'}: 28, {'H', 'R'}: 21,
	{'H', 'U'}: 28, {'I', 'E'}: 22, {'I', 'L'}: 23, {'I', 'Q'}: 23, {'I', 'S'}: 26,
	{'I', 'T'}: 27, {'J', 'O'}: 30, {'K', 'W'}: 30, {'K', 'Z'}: 20, {'L', 'B'}: 28,
	{'L', 'C'}: 32, {'L', 'I'}: 21, {'L', 'T'}: 20, {'L', 'U'}: 20, {'L', 'V'}: 21,
	{'L', 'Y'}: 25, {'M', 'C'}: 27, {'M', 'D'}: 24, {'M', 'E'}: 22, {'M', 'K'}: 19,
	{'M', 'N'}: 20, {'M', 'R'}: 27, {'M', 'T'}: 31, {'M', 'U'}: 30, {'N', 'I'}: 28,
	{'N', 'L'}: 18, {'N', 'O'}: 15, {'O', 'M'}: 23, {'P', 'K'}: 24, {'P', 'L'}: 28,
	{'P', 'S'}: 29, {'P', 'T'}: 25, {'Q', 'A'}: 29, {'R', 'O'}: 24, {'R', 'S'}: 22,
	{'R', 'U'}: 33, {'S', 'A'}: 24, {'S', 'C'}: 31, {'S', 'D'}: 18, {'S', 'E'}: 24,
	{'S', 'I'}: 19, {'S', 'K'}: 24, {'S', 'M'}: 27, {'S', 'O'}: 23, {'S', 'T'}: 25,
	{'S', 'V'}: 28, {'T', 'L'}: 23, {'T', 'N'}: 24, {'T', 'R'}: 26, {'U', 'A'}: 29,
	{'V', 'A'}: 22, {'V', 'G'}: 24, {'X', 'K'}: 20, {'Y', 'E'}: 30,
}

// ibanLengthTable is ibanLengths indexed by the two letters (A–Z), read
// for every upper-case word the scanner meets: cheaper than the map.
var ibanLengthTable = func() (t [26 * 26]uint8) {
	for cc, n := range ibanLengths {
		t[int(cc[0]-'A')*26+int(cc[1]-'A')] = uint8(n)
	}
	return t
}()

// ibanLength returns the IBAN length of the country a and b name, or 0.
func ibanLength(a, b byte) int {
	if !isUpper(a) || !isUpper(b) {
		return 0
	}
	return int(ibanLengthTable[int(a-'A')*26+int(b-'A')])
}

// validIBAN checks an IBAN without separators, upper case: the country's
// registered length and ISO 7064 MOD 97-10 (the rearranged number mod 97 is 1).
func validIBAN(d []byte) bool {
	if len(d) < 15 || len(d) > 34 || !isUpper(d[0]) || !isUpper(d[1]) || !isDigit(d[2]) || !isDigit(d[3]) {
		return false
	}
	if ibanLength(d[0], d[1]) != len(d) {
		return false
	}
	if f, ok := bbanFormats[[2]byte{d[0], d[1]}]; ok && !bbanMatches(f, d[4:]) {
		return false
	}
	return mod97(d[4:], d[:4]) == 1
}

// bbanFormats is the structure of each country's basic bank account number
// as the SWIFT IBAN Registry gives it (via python-stdnum's iban.dat): runs
// of n digits, a upper-case letters, c letters or digits.
var bbanFormats = map[[2]byte]string{
	{'A', 'L'}: "8n16c", {'A', 'D'}: "8n12c", {'A', 'T'}: "16n", {'A', 'Z'}: "4a20c",
	{'B', 'H'}: "4a14c", {'B', 'E'}: "12n", {'B', 'A'}: "16n", {'B', 'R'}: "23n1a1c",
	{'B', 'G'}: "4a6n8c", {'C', 'R'}: "18n", {'H', 'R'}: "17n", {'C', 'Y'}: "8n16c",
	{'C', 'Z'}: "20n", {'D', 'K'}: "14n", {'F', 'O'}: "14n", {'G', 'L'}: "14n",
	{'D', 'O'}: "4c20n", {'E', 'E'}: "16n", {'F', 'I'}: "14n", {'F', 'R'}: "10n11c2n",
	{'G', 'E'}: "2a16n", {'D', 'E'}: "18n", {'G', 'I'}: "4a15c", {'G', 'R'}: "7n16c",
	{'G', 'T'}: "4c20c", {'H', 'U'}: "24n", {'I', 'S'}: "22n", {'I', 'E'}: "4a14n",
	{'I', 'L'}: "19n", {'I', 'T'}: "1a10n12c", {'J', 'O'}: "4a4n18c", {'K', 'Z'}: "3n13c",
	{'X', 'K'}: "16n", {'K', 'W'}: "4a22c", {'L', 'V'}: "4a13c", {'L', 'B'}: "4n20c",
	{'L', 'I'}: "5n12c", {'L', 'T'}: "16n", {'L', 'U'}: "3n13c", {'M', 'K'}: "3n10c2n",
	{'M', 'T'}: "4a5n18c", {'M', 'R'}: "23n", {'M', 'U'}: "4a19n3a", {'M', 'D'}: "20c",
	{'M', 'C'}: "10n11c2n", {'M', 'E'}: "18n", {'N', 'L'}: "4a10n", {'N', 'O'}: "11n",
	{'P', 'K'}: "4a16c", {'P', 'S'}: "4a21c", {'P', 'L'}: "24n", {'P', 'T'}: "21n",
	{'Q', 'A'}: "4a21c", {'R', 'O'}: "4a16c", {'L', 'C'}: "4a24c", {'S', 'M'}: "1a10n12c",
	{'S', 'T'}: "21n", {'S', 'A'}: "2n18c", {'R', 'S'}: "18n", {'S', 'K'}: "20n",
	{'S', 'I'}: "15n", {'E', 'S'}: "20n", {'S', 'E'}: "20n", {'C', 'H'}: "5n12c",
	{'T', 'L'}: "19n", {'T', 'N'}: "20n", {'T', 'R'}: "6n16c", {'A', 'E'}: "19n",
	{'G', 'B'}: "4a14n", {'V', 'G'}: "4a16n",
}

// bbanMatches checks b against a format of bbanFormats.
func bbanMatches(f string, b []byte) bool {
	i := 0
	for j := 0; j < len(f); {
		n := 0
		for j < len(f) && isDigit(f[j]) {
			n = n*10 + int(f[j]-'0')
			j++
		}
		class := f[j]
		j++
		for ; n > 0; n-- {
			if i >= len(b) {
				return false
			}
			c := b[i]
			i++
			switch class {
			case 'n':
				if !isDigit(c) {
					return false
				}
			case 'a':
				if !isUpper(c) {
					return false
				}
			default:
				if !isDigit(c) && !isUpper(c) {
					return false
				}
			}
		}
	}
	return i == len(b)
}

// mod97 computes the ISO 7064 MOD 97-10 remainder of a‖b with letters
// expanded to two digits; it returns -1 for characters other than 0-9A-Z.
func mod97(a, b []byte) int {
	r := 0
	for _, part := range [2][]byte{a, b} {
		for _, c := range part {
			switch {
			case isDigit(c):
				r = (r*10 + int(c-'0')) % 97
			case isUpper(c):
				r = (r*100 + letterValue(c)) % 97
			default:
				return -1
			}
		}
	}
	return r
}

// validIPv4 checks a dotted quad of decimal octets without leading zeros.
func validIPv4(s string) bool {
	parts, v, digits := 0, 0, 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			if digits == 0 {
				return false
			}
			parts, v, digits = parts+1, 0, 0
			continue
		}
		c := s[i]
		if !isDigit(c) || digits > 0 && v == 0 {
			return false
		}
		v = v*10 + int(c-'0')
		if digits++; v > 255 {
			return false
		}
	}
	return parts == 4
}

func allDigits(d []byte) bool {
	for _, c := range d {
		if !isDigit(c) {
			return false
		}
	}
	return len(d) > 0
}

// num returns the decimal value of the digits d (at most 9 of them).
func num(d []byte) int {
	v := 0
	for _, c := range d {
		v = v*10 + int(c-'0')
	}
	return v
}

// A Validator reports whether a whole value is valid for a check. Values
// are normalised first: full-width forms become ASCII, spaces and hyphens
// are ignored and letters are upper-cased.
type Validator func(value string) bool

// validatorSet holds the built-in validators custom types may name.
var validatorSet = map[string]Validator{
	"luhn": func(v string) bool { d, ok := compact(v); return ok && allDigits(d) && luhn(d) },
	"iso7064_mod11_2": func(v string) bool {
		d, ok := compact(v)
		return ok && len(d) >= 2 && allDigits(d[:len(d)-1]) && mod11_2(d)
	},
	"mod97":     func(v string) bool { d, ok := compact(v); return ok && len(d) > 4 && mod97(d[4:], d[:4]) == 1 },
	"bank_card": func(v string) bool { d, ok := compact(v); return ok && validCard(d) },
	"cn_resident_id": func(v string) bool {
		d, ok := compact(v)
		return ok && (validResident18(d) || validResident15(d))
	},
	"cn_mobile": func(v string) bool {
		d, ok := compact(v)
		if ok && len(d) == 15 && string(d[:4]) == "0086" {
			d = d[4:]
		}
		if ok && len(d) == 13 && d[0] == '8' && d[1] == '6' {
			d = d[2:]
		}
		return ok && isCNMobile(d)
	},
	"hk_id": func(v string) bool {
		d, ok := compact(v)
		if !ok || len(d) < 8 {
			return false
		}
		if d[len(d)-1] == ')' && len(d) >= 10 && d[len(d)-3] == '(' {
			d = append(d[:len(d)-3], d[len(d)-2])
		}
		nl := len(d) - 7
		return nl >= 1 && nl <= 2 && isUpper(d[0]) && isUpper(d[nl-1]) && validHKID(d[:nl], d[nl:nl+6], d[len(d)-1])
	},
	"tw_id": func(v string) bool { d, ok := compact(v); return ok && validTWID(d) },
	"iban":  func(v string) bool { d, ok := compact(v); return ok && validIBAN(d) },
}

// mod11_2 checks the ISO 7064 MOD 11-2 check character of any length.
func mod11_2(d []byte) bool {
	p := 0
	for _, c := range d[:len(d)-1] {
		p = (p + int(c-'0')) * 2 % 11
	}
	want := (12 - p%11) % 11
	last := d[len(d)-1]
	if want == 10 {
		return last == 'X'
	}
	return last == byte('0'+want)
}

// ValidatorNames lists the names LookupValidator accepts.
func ValidatorNames() []string {
	names := make([]string, 0, len(validatorSet))
	for n := range validatorSet {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// LookupValidator returns the built-in validator called name.
func LookupValidator(name string) (Validator, bool) {
	v, ok := validatorSet[name]
	return v, ok
}

// compact normalises a value for validators: full-width forms to ASCII,
// letters to upper case, spaces, hyphens and dots dropped. It reports false
// for values longer than 64 significant characters.
func compact(v string) ([]byte, bool) {
	out := make([]byte, 0, 24)
	for i := 0; i < len(v); {
		c, w := decode(v, i)
		i += w
		switch {
		case c == ' ' || c == '-' || c == '.' || c == '+':
			continue
		case c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		}
		if len(out) == 64 {
			return nil, false
		}
		out = append(out, c)
	}
	return out, true
}
