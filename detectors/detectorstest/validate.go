package detectorstest

import (
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

// Valid reports whether text, exactly as it stands in a labelled span, is a
// valid value of the entity type typ. It undoes what the labelling
// conventions allow inside a span (full-width forms, separators, country
// prefixes) and applies the type's validator. Field-only and unknown types are
// never valid.
func Valid(typ, text string) bool {
	s := ASCII(text)
	switch typ {
	case "cn_mobile":
		return ValidMobile(stripCNPrefix(strip(s, " -")))
	case "cn_landline":
		d := strip(s, " -")
		if rest, ok := strings.CutPrefix(d, "+86"); ok {
			d = "0" + rest
		}
		return ValidLandline(d)
	case "cn_resident_id":
		d := strip(s, " ")
		if len(d) == 15 {
			return ValidLegacyResidentID(d)
		}
		return ValidResidentID(d)
	case "bank_card":
		return ValidBankCard(strip(s, " -"))
	case "email":
		return ValidEmail(s)
	case "ip_address":
		return ValidIP(s)
	case "hk_id":
		return ValidHKID(s)
	case "tw_id":
		return ValidTWID(s)
	case "cn_passport":
		return ValidPassport(s)
	case "cn_license_plate":
		return ValidPlate(s)
	case "intl_phone":
		return ValidIntlPhone(s)
	case "iban":
		return ValidIBAN(s)
	}
	return false
}

// strip removes every byte of cut from s.
func strip(s, cut string) string {
	return strings.Map(func(r rune) rune {
		if strings.ContainsRune(cut, r) {
			return -1
		}
		return r
	}, s)
}

// stripCNPrefix removes a mainland country prefix (+86, 0086, 86) from a
// separator-free mobile number.
func stripCNPrefix(d string) string {
	for _, p := range []string{"+86", "0086", "86"} {
		if rest, ok := strings.CutPrefix(d, p); ok && len(rest) == 11 {
			return rest
		}
	}
	return d
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// realDate reports whether year-month-day is a calendar date between 1900-01-01
// and today.
func realDate(year, month, day int) bool {
	if year < 1900 || month < 1 || month > 12 || day < 1 {
		return false
	}
	t := time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC)
	if t.Year() != year || int(t.Month()) != month || t.Day() != day {
		return false
	}
	return !t.After(time.Now())
}

// ValidResidentID reports whether s is an 18-character mainland resident ID:
// a province code that exists, a real birth date, and the ISO 7064 MOD 11-2
// check character (digit or X/x) at the end.
func ValidResidentID(s string) bool {
	if len(s) != 18 || !allDigits(s[:17]) {
		return false
	}
	if !provinceCodes[s[:2]] {
		return false
	}
	y, _ := strconv.Atoi(s[6:10])
	m, _ := strconv.Atoi(s[10:12])
	d, _ := strconv.Atoi(s[12:14])
	if !realDate(y, m, d) {
		return false
	}
	var last int
	switch c := s[17]; {
	case c >= '0' && c <= '9':
		last = int(c - '0')
	case c == 'X' || c == 'x':
		last = 10
	default:
		return false
	}
	// MOD 11-2: the weighted sum over all 18 positions, weight 2^(17-i) mod 11,
	// is 1 mod 11 for a valid number.
	sum, w := last, 2
	for i := 16; i >= 0; i-- {
		sum += int(s[i]-'0') * w
		w = w * 2 % 11
	}
	return sum%11 == 1
}

// ValidLegacyResidentID reports whether s is a 15-digit first-generation
// resident ID: a province code that exists and a real birth date 19YYMMDD.
// Such IDs have no check digit.
func ValidLegacyResidentID(s string) bool {
	if len(s) != 15 || !allDigits(s) || !provinceCodes[s[:2]] {
		return false
	}
	y, _ := strconv.Atoi(s[6:8])
	m, _ := strconv.Atoi(s[8:10])
	d, _ := strconv.Atoi(s[10:12])
	return realDate(1900+y, m, d)
}

// Luhn reports whether the digit string s passes the Luhn check.
func Luhn(s string) bool {
	if !allDigits(s) {
		return false
	}
	doubled := [10]int{0, 2, 4, 6, 8, 1, 3, 5, 7, 9}
	sum := 0
	for i := 0; i < len(s); i++ {
		d := int(s[len(s)-1-i] - '0')
		if i%2 == 1 {
			d = doubled[d]
		}
		sum += d
	}
	return sum%10 == 0
}

// CardBrand names the card network whose IIN range and length s fits, or ""
// when it fits none. It does not check the Luhn digit.
func CardBrand(s string) string {
	if !allDigits(s) {
		return ""
	}
	n := len(s)
	p2, _ := strconv.Atoi(s[:min(2, n)])
	p3, _ := strconv.Atoi(s[:min(3, n)])
	p4, _ := strconv.Atoi(s[:min(4, n)])
	switch {
	case s[0] == '4' && (n == 13 || n == 16 || n == 19):
		return "visa"
	case (p2 >= 51 && p2 <= 55 || p4 >= 2221 && p4 <= 2720) && n == 16:
		return "mastercard"
	case (p2 == 34 || p2 == 37) && n == 15:
		return "amex"
	case p4 >= 3528 && p4 <= 3589 && n >= 16 && n <= 19:
		return "jcb"
	case p2 == 62 && n >= 16 && n <= 19:
		return "unionpay"
	case (p4 == 6011 || p3 >= 644 && p3 <= 649 || p2 == 65) && n >= 16 && n <= 19:
		return "discover"
	case (p3 >= 300 && p3 <= 305 || p2 == 36 || p2 == 38 || p2 == 39) && n >= 14 && n <= 16:
		return "diners"
	}
	return ""
}

// ValidBankCard reports whether the digit string s is a payment card number:
// a known IIN range with a length that range issues, and the Luhn check.
func ValidBankCard(s string) bool { return CardBrand(s) != "" && Luhn(s) }

// cnNumberType parses a mainland number written nationally and returns its
// libphonenumber type, or false when it is not a valid mainland number.
func cnNumberType(d string) (phonenumbers.PhoneNumberType, bool) {
	if !allDigits(d) {
		return 0, false
	}
	n, err := phonenumbers.Parse(d, "CN")
	if err != nil || !phonenumbers.IsValidNumberForRegion(n, "CN") {
		return 0, false
	}
	return phonenumbers.GetNumberType(n), true
}

// ValidMobile reports whether s is an 11-digit mainland mobile number in a
// range that libphonenumber's metadata gives as MOBILE.
func ValidMobile(s string) bool {
	if len(s) != 11 || s[0] != '1' {
		return false
	}
	t, ok := cnNumberType(s)
	return ok && t == phonenumbers.MOBILE
}

// ValidLandline reports whether the digit string s is a mainland fixed-line
// number with its area code (0 + 2–3 digits + 7–8 digits, FIXED_LINE in
// libphonenumber's metadata) or a 400/800 service number.
func ValidLandline(s string) bool {
	switch {
	case len(s) >= 10 && len(s) <= 12 && s[0] == '0' && s[1] != '0':
		t, ok := cnNumberType(s)
		return ok && (t == phonenumbers.FIXED_LINE || t == phonenumbers.FIXED_LINE_OR_MOBILE)
	case len(s) == 10 && (strings.HasPrefix(s, "400") || strings.HasPrefix(s, "800")):
		t, ok := cnNumberType(s)
		return ok && (t == phonenumbers.TOLL_FREE || t == phonenumbers.SHARED_COST || t == phonenumbers.UAN)
	}
	return false
}

// ValidIntlPhone reports whether s is a number outside mainland China written
// with "+" and its country code (separators ' ', '-', '(', ')' allowed) that
// libphonenumber's metadata accepts as valid.
func ValidIntlPhone(s string) bool {
	d := strip(s, " -()")
	if len(d) < 8 || d[0] != '+' || !allDigits(d[1:]) {
		return false
	}
	n, err := phonenumbers.Parse(d, "")
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return false
	}
	return phonenumbers.GetRegionCodeForNumber(n) != "CN"
}

// ValidEmail reports whether s is an e-mail address of the usual shape:
// local part of letters, digits and ._%+- (no leading, trailing or doubled
// dot) and a domain of at least two labels with an alphabetic top level.
func ValidEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || len(local) > 64 || strings.Contains(domain, "@") {
		return false
	}
	if local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return false
	}
	for i := 0; i < len(local); i++ {
		c := local[i]
		if !isAlnum(c) && !strings.ContainsRune("._%+-", rune(c)) {
			return false
		}
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			if !isAlnum(l[i]) && l[i] != '-' {
				return false
			}
		}
	}
	tld := labels[len(labels)-1]
	if len(tld) < 2 {
		return false
	}
	for i := 0; i < len(tld); i++ {
		if !isLetter(tld[i]) {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isAlnum(c byte) bool  { return isLetter(c) || c >= '0' && c <= '9' }

// ValidIP reports whether s is an IPv4 address in dotted-quad form (no leading
// zeros) or an IPv6 address without a zone.
func ValidIP(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.Zone() == ""
}

// hkValue is the value of an HK ID character in the check-digit sum.
func hkValue(c byte) int {
	if c >= 'A' && c <= 'Z' {
		return int(c-'A') + 10
	}
	return int(c - '0')
}

// ValidHKID reports whether s is a Hong Kong identity card number: one or two
// capital letters, six digits and a check character 0–9 or A, written with
// the check character in brackets ("A123456(3)") or without them
// ("A1234563").
func ValidHKID(s string) bool {
	if strings.HasSuffix(s, ")") {
		if len(s) < 4 || s[len(s)-3] != '(' {
			return false
		}
		s = s[:len(s)-3] + s[len(s)-2:len(s)-1]
	}
	if len(s) != 8 && len(s) != 9 {
		return false
	}
	nl := len(s) - 7
	for i := 0; i < nl; i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	if !allDigits(s[nl : nl+6]) {
		return false
	}
	c := s[len(s)-1]
	if !(c >= '0' && c <= '9' || c == 'A') {
		return false
	}
	// The check character makes the weighted sum of all nine positions (a
	// missing second letter counts as 36, weights 9 down to 1) divisible by 11.
	padded := s
	sum := 0
	if nl == 1 {
		sum = 36 * 9
		padded = " " + s
	}
	for i := 0; i < 9; i++ {
		if padded[i] == ' ' {
			continue
		}
		sum += hkValue(padded[i]) * (9 - i)
	}
	return sum%11 == 0
}

// ValidTWID reports whether s is a Taiwan national ID: a capital letter, 1 or
// 2 (sex), seven digits and a check digit.
func ValidTWID(s string) bool {
	if len(s) != 10 || s[1] != '1' && s[1] != '2' || !allDigits(s[1:]) {
		return false
	}
	code, ok := twLetterCodes[s[0]]
	if !ok {
		return false
	}
	sum := code/10 + code%10*9
	for i := 1; i <= 8; i++ {
		sum += int(s[i]-'0') * (9 - i)
	}
	sum += int(s[9] - '0')
	return sum%10 == 0
}

// ValidPassport reports whether s is a PRC ordinary passport number: E and 8
// digits, E, a letter other than I or O and 7 digits, or G and 8 digits.
func ValidPassport(s string) bool {
	if len(s) != 9 {
		return false
	}
	switch {
	case (s[0] == 'E' || s[0] == 'G') && allDigits(s[1:]):
		return true
	case s[0] == 'E' && strings.IndexByte(upperNoIO, s[1]) >= 0 && allDigits(s[2:]):
		return true
	}
	return false
}

// ValidPlate reports whether s is a mainland licence plate: a province
// character, a letter (not I or O), an optional "·", then five characters
// (letters other than I and O, at most two of them, and digits) or a
// new-energy serial of six (D or F and five more, or five digits and D or F).
func ValidPlate(s string) bool {
	r, size := utf8.DecodeRuneInString(s)
	if !strings.ContainsRune(plateProvinces, r) {
		return false
	}
	s = s[size:]
	if s == "" || strings.IndexByte(upperNoIO, s[0]) < 0 {
		return false
	}
	tail := strings.TrimPrefix(s[1:], "·")
	switch len(tail) {
	case 5:
		letters := 0
		for i := 0; i < 5; i++ {
			switch c := tail[i]; {
			case c >= '0' && c <= '9':
			case strings.IndexByte(upperNoIO, c) >= 0:
				letters++
			default:
				return false
			}
		}
		return letters <= 2
	case 6:
		if (tail[0] == 'D' || tail[0] == 'F') && strings.IndexByte(upperNoIO+digitSet, tail[1]) >= 0 && allDigits(tail[2:]) {
			return true
		}
		return allDigits(tail[:5]) && (tail[5] == 'D' || tail[5] == 'F')
	}
	return false
}

// ibanLengths is the IBAN length of each country in the IBAN registry that
// this package knows.
var ibanLengths = map[string]int{
	"AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16,
	"BG": 22, "BH": 22, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28,
	"CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24,
	"FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18,
	"GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23,
	"IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32,
	"LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22,
	"MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24,
	"PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24,
	"SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28,
	"TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}

// ibanStructures gives the BBAN structure of some countries in the IBAN
// registry's notation: a count and n (digits), a (capital letters) or c
// (either), e.g. "4a14n".
var ibanStructures = map[string]string{
	"AE": "3n16n", "AT": "5n11n", "BE": "3n7n2n", "BG": "4a4n2n8c", "CH": "5n12c",
	"DE": "8n10n", "ES": "4n4n1n1n10n", "FR": "5n5n11c2n", "GB": "4a6n8n",
	"GI": "4a15c", "IE": "4a6n8n", "NL": "4a10n", "SA": "2n18c",
}

// matchStructure reports whether bban follows the registry structure st.
func matchStructure(bban, st string) bool {
	for st != "" {
		i := 0
		for i < len(st) && st[i] >= '0' && st[i] <= '9' {
			i++
		}
		n, _ := strconv.Atoi(st[:i])
		class := st[i]
		st = st[i+1:]
		if n > len(bban) {
			return false
		}
		for _, c := range []byte(bban[:n]) {
			digit := c >= '0' && c <= '9'
			if class == 'n' && !digit || class == 'a' && digit {
				return false
			}
		}
		bban = bban[n:]
	}
	return bban == ""
}

// ValidIBAN reports whether s is an IBAN, compact or in groups separated by
// single spaces: a known country, its length, its BBAN structure where known
// and the ISO 7064 MOD 97-10 check digits.
func ValidIBAN(s string) bool {
	if strings.Contains(s, "  ") || strings.HasPrefix(s, " ") || strings.HasSuffix(s, " ") {
		return false
	}
	s = strip(s, " ")
	if len(s) < 5 || ibanLengths[s[:2]] != len(s) || !allDigits(s[2:4]) {
		return false
	}
	for i := 4; i < len(s); i++ {
		if !(s[i] >= '0' && s[i] <= '9' || s[i] >= 'A' && s[i] <= 'Z') {
			return false
		}
	}
	if st, ok := ibanStructures[s[:2]]; ok && !matchStructure(s[4:], st) {
		return false
	}
	// Move the first four characters to the end, expand letters to 10–35 and
	// take the remainder mod 97 nine digits at a time.
	var num strings.Builder
	for _, c := range []byte(s[4:] + s[:4]) {
		if c >= 'A' && c <= 'Z' {
			num.WriteString(strconv.Itoa(int(c-'A') + 10))
		} else {
			num.WriteByte(c)
		}
	}
	digits := num.String()
	rem := 0
	for len(digits) > 0 {
		n := min(9, len(digits))
		v, _ := strconv.Atoi(strconv.Itoa(rem) + digits[:n])
		rem = v % 97
		digits = digits[n:]
	}
	return rem == 1
}
