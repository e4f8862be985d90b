package detectorstest

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Kinds of look-alikes: values shaped like personal data that are not, which
// a scanner must not report.
const (
	KindOrderNumber  = "order_number"  // 18-digit 2026MMDD…, DD…, 19-digit Luhn-failing
	KindUnixSeconds  = "unix_seconds"  // 10-digit Unix time
	KindUnixMillis   = "unix_millis"   // 13-digit Unix time in milliseconds
	KindUUID         = "uuid"          // 8-4-4-4-12 hex
	KindHexHash      = "hex_hash"      // MD5, SHA-1 or SHA-256 in hex
	KindTracking     = "tracking"      // parcel numbers: SF…, YT…, JD…, TK…, EA…CN
	KindVersion      = "version"       // v15.1.10
	KindMoney        = "money"         // 26815.58, ¥1,299.00
	KindDate         = "date"          // 2024-05-12, 2024/05/12, 2024年5月12日
	KindDateTime     = "datetime"      // 2024-05-12 12:30:45, RFC 3339
	KindClock        = "clock"         // 12:30:45
	KindMAC          = "mac"           // 00:1a:2b:3c:4d:5e
	KindBadCard      = "bad_card"      // card-shaped, Luhn fails
	KindBadIDCheck   = "bad_id_check"  // resident ID with a wrong check character
	KindBadIDDate    = "bad_id_date"   // resident ID with an impossible birth date, check character right
	KindBadIDRegion  = "bad_id_region" // resident ID with a province code that does not exist
	KindBadMobile    = "bad_mobile"    // 11 digits with a prefix outside the numbering plan
	KindBadHKID      = "bad_hkid"      // HK ID with a wrong check character
	KindBadTWID      = "bad_twid"      // Taiwan ID with a wrong check digit
	KindBadIBAN      = "bad_iban"      // IBAN with a wrong digit
	KindEmbedded     = "embedded"      // a valid number inside a longer run of digits or letters
	KindLongDigitRun = "long_digits"   // 20–24 digits
)

// LookAlikeKinds lists every kind LookAlike accepts.
var LookAlikeKinds = []string{
	KindOrderNumber, KindUnixSeconds, KindUnixMillis, KindUUID, KindHexHash, KindTracking,
	KindVersion, KindMoney, KindDate, KindDateTime, KindClock, KindMAC, KindBadCard,
	KindBadIDCheck, KindBadIDDate, KindBadIDRegion, KindBadMobile, KindBadHKID, KindBadTWID,
	KindBadIBAN, KindEmbedded, KindLongDigitRun,
}

// badMobilePrefixes are three-digit prefixes of 11-digit numbers that the
// mainland numbering plan does not assign to anything.
var badMobilePrefixes = []string{
	"100", "101", "102", "110", "111", "112", "116", "119", "120", "121", "122", "125", "127",
	"140", "141", "142", "143", "144", "146", "148", "149", "154", "160", "161", "163", "164",
	"168", "169", "179", "194",
}

// validAsAnything reports whether the compact string s is, as a whole, a
// valid value of any content-detected type. Look-alikes are drawn until it
// is false, so none is personal data by accident.
func validAsAnything(s string) bool {
	return ValidResidentID(s) || ValidLegacyResidentID(s) || ValidBankCard(s) ||
		ValidMobile(s) || ValidLandline(s) || ValidHKID(s) || ValidTWID(s) ||
		ValidIBAN(s) || ValidPassport(s) || ValidPlate(s) || ValidEmail(s) || ValidIP(s) ||
		(strings.HasPrefix(s, "+") && ValidIntlPhone(s))
}

// LookAlike returns a value of the given kind (one of LookAlikeKinds) that is
// not personal data.
func (g *Gen) LookAlike(kind string) string {
	for range maxTries {
		v := g.lookAlike(kind)
		if !validAsAnything(strip(v, " -")) {
			return v
		}
	}
	panic("detectorstest: no look-alike of kind " + kind)
}

// AnyLookAlike returns a look-alike of a kind drawn at random, and the kind.
func (g *Gen) AnyLookAlike() (kind, value string) {
	kind = pick(g, LookAlikeKinds)
	return kind, g.LookAlike(kind)
}

// recentTime returns a time between 2017-07 and 2026-12.
func (g *Gen) recentTime() time.Time {
	return time.Unix(int64(g.between(1500000000, 1798000000)), 0).In(time.FixedZone("CST", 8*3600))
}

func (g *Gen) lookAlike(kind string) string {
	switch kind {
	case KindOrderNumber:
		switch g.weighted(40, 15, 15, 15, 15) {
		case 0:
			return "2026" + g.recentTime().Format("0102") + g.digits(10)
		case 1:
			return "DD" + g.recentTime().Format("20060102") + g.digits(6)
		case 2:
			return g.BadMobile()
		case 3:
			return g.lookAlike(KindUnixMillis)
		default:
			return g.BadCard()
		}
	case KindUnixSeconds:
		return strconv.FormatInt(g.recentTime().Unix(), 10)
	case KindUnixMillis:
		return strconv.FormatInt(g.recentTime().Unix()*1000+int64(g.intn(1000)), 10)
	case KindUUID:
		return g.UUID()
	case KindHexHash:
		return g.hex(pick(g, []int{32, 32, 40, 64}))
	case KindTracking:
		switch g.weighted(30, 20, 15, 20, 15) {
		case 0:
			return "SF" + strconv.Itoa(g.between(1, 9)) + g.digits(12)
		case 1:
			return "YT" + g.digits(13)
		case 2:
			return "JDVA" + g.digits(11)
		case 3:
			if g.chance(0.5) {
				return "TK" + g.Mobile()
			}
			return "TK" + g.digits(11)
		default:
			return "E" + string(upper[g.intn(26)]) + g.digits(9) + "CN"
		}
	case KindVersion:
		v := fmt.Sprintf("%d.%d.%d", g.between(1, 16), g.between(0, 20), g.between(0, 20))
		return pick(g, []string{"v", "v", "V", ""}) + v
	case KindMoney:
		n := g.between(1, 9999999)
		whole, cents := n/100, n%100
		switch g.weighted(40, 30, 15, 15) {
		case 0:
			return fmt.Sprintf("%d.%02d", whole, cents)
		case 1:
			return "¥" + thousands(whole) + fmt.Sprintf(".%02d", cents)
		case 2:
			return "$" + thousands(whole/7) + fmt.Sprintf(".%02d", cents)
		default:
			return "RMB " + thousands(whole) + ".00"
		}
	case KindDate:
		t := g.recentTime()
		return t.Format(pick(g, []string{"2006-01-02", "2006/01/02", "2006年1月2日", "20060102"}))
	case KindDateTime:
		t := g.recentTime()
		return t.Format(pick(g, []string{"2006-01-02 15:04:05", time.RFC3339, "2006-01-02T15:04:05.000Z07:00", "2006/01/02 15:04"}))
	case KindClock:
		t := g.recentTime()
		return t.Format(pick(g, []string{"15:04:05", "15:04"}))
	case KindMAC:
		return g.MAC()
	case KindBadCard:
		return g.BadCard()
	case KindBadIDCheck:
		id := g.ResidentID()
		checks := strings.ReplaceAll("0123456789X", id[17:], "")
		return id[:17] + string(checks[g.intn(len(checks))])
	case KindBadIDDate:
		return g.BadIDDate()
	case KindBadIDRegion:
		id := g.ResidentID()
		body := pick(g, []string{"00", "20", "24", "38", "48", "59", "70", "90", "99"}) + id[2:17]
		return body + string(ricCheck(body))
	case KindBadMobile:
		return g.BadMobile()
	case KindBadHKID:
		body, check := g.hkidParts()
		checks := strings.ReplaceAll("0123456789A", string(check), "")
		return body + "(" + string(checks[g.intn(len(checks))]) + ")"
	case KindBadTWID:
		id := g.TWID()
		return id[:9] + strconv.Itoa((int(id[9]-'0')+g.between(1, 9))%10)
	case KindBadIBAN:
		iban := g.IBAN()
		i := 4 + g.intn(len(iban)-4)
		for iban[i] < '0' || iban[i] > '9' {
			i = 4 + g.intn(len(iban)-4)
		}
		return iban[:i] + strconv.Itoa((int(iban[i]-'0')+g.between(1, 9))%10) + iban[i+1:]
	case KindEmbedded:
		switch g.weighted(30, 25, 25, 20) {
		case 0:
			return g.digits(g.between(3, 6)) + g.Mobile() + g.digits(g.between(3, 6))
		case 1:
			return g.ResidentID() + g.digits(g.between(2, 4))
		case 2:
			return "TK" + g.Mobile()
		default:
			return pick(g, []string{"ORD", "PAY", "TXN"}) + g.BankCard() + string(upper[g.intn(26)])
		}
	case KindLongDigitRun:
		return strconv.Itoa(g.between(1, 9)) + g.digits(g.between(19, 23))
	}
	panic("detectorstest: unknown look-alike kind " + kind)
}

func thousands(n int) string {
	s := strconv.Itoa(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func (g *Gen) hex(n int) string { return g.letters(n, hexDigits) }

// hexGroup returns n hex digits with at least one letter, so that a group of
// a UUID or MAC never reads as part of a number.
func (g *Gen) hexGroup(n int) string {
	for {
		s := g.hex(n)
		if strings.ContainsAny(s, "abcdef") {
			return s
		}
	}
}

// UUID returns a random (version 4) UUID in lower case.
func (g *Gen) UUID() string {
	third := "4" + g.hex(3)
	fourth := string("89ab"[g.intn(4)]) + g.hex(3)
	if !strings.ContainsAny(third+fourth, "abcdef") {
		fourth = "a" + fourth[1:]
	}
	return g.hexGroup(8) + "-" + g.hexGroup(4) + "-" + third + "-" + fourth + "-" + g.hexGroup(12)
}

// MAC returns a MAC address, colon- or hyphen-separated.
func (g *Gen) MAC() string {
	parts := make([]string, 6)
	for i := range parts {
		parts[i] = g.hex(2)
	}
	if !strings.ContainsAny(strings.Join(parts, ""), "abcdef") {
		parts[0] = "a" + parts[0][1:]
	}
	if g.chance(0.5) {
		return strings.Join(parts, ":")
	}
	return strings.ToUpper(strings.Join(parts, "-"))
}

// BadCard returns a number with a card network's prefix and length whose
// Luhn digit is wrong.
func (g *Gen) BadCard() string {
	c := g.BankCard()
	last := int(c[len(c)-1] - '0')
	return c[:len(c)-1] + strconv.Itoa((last+g.between(1, 9))%10)
}

// BadIDDate returns an 18-digit resident ID whose check character is right
// but whose birth date cannot exist (month 00 or 13, day 00, 32 or 30 Feb).
func (g *Gen) BadIDDate() string {
	id := g.ResidentID()
	var date string
	y := id[6:10]
	switch g.intn(5) {
	case 0:
		date = y + "13" + id[12:14]
	case 1:
		date = y + "00" + id[12:14]
	case 2:
		date = y + id[10:12] + "32"
	case 3:
		date = y + id[10:12] + "00"
	default:
		date = y + "0230"
	}
	body := id[:6] + date + id[14:17]
	return body + string(ricCheck(body))
}

// BadMobile returns 11 digits starting with 1 that no mainland numbering
// plan range contains.
func (g *Gen) BadMobile() string {
	for range maxTries {
		s := pick(g, badMobilePrefixes) + g.digits(8)
		if _, ok := cnNumberType(s); !ok {
			return s
		}
	}
	panic("detectorstest: no invalid mobile")
}
