package detectorstest

import (
	"fmt"
	"math/big"
	"net"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

const draws = 2000

// iso7064Check computes the MOD 11-2 check character the way ISO 7064
// defines it (recursively), independent of the weights the generator uses.
func iso7064Check(body string) byte {
	p := 0
	for i := 0; i < len(body); i++ {
		p = (p + int(body[i]-'0')) * 2 % 11
	}
	return "0123456789X"[(12-p)%11]
}

// mutate returns s with the digit at i replaced by another digit.
func mutate(g *Gen, s string, i int) string {
	d := int(s[i] - '0')
	return s[:i] + strconv.Itoa((d+g.between(1, 9))%10) + s[i+1:]
}

func TestResidentIDs(t *testing.T) {
	g := New(1)
	regionOK := map[string]bool{}
	for _, r := range regions {
		regionOK[r.code] = true
	}
	xs, women := 0, 0
	for range draws {
		id := g.ResidentID()
		if len(id) != 18 || !allDigits(id[:17]) {
			t.Fatalf("%q is not 17 digits and a check character", id)
		}
		if c := iso7064Check(id[:17]); id[17] != c {
			t.Fatalf("%s: check character %c, ISO 7064 gives %c", id, id[17], c)
		}
		if !regionOK[id[:6]] {
			t.Fatalf("%s: region %s is not in the table", id, id[:6])
		}
		birth, err := time.Parse("20060102", id[6:14])
		if err != nil || birth.Year() < 1945 || birth.Year() > 2007 {
			t.Fatalf("%s: birth date %s is not a date in 1945–2007", id, id[6:14])
		}
		if !ValidResidentID(id) || !Valid("cn_resident_id", id) {
			t.Fatalf("%s rejected by the validator", id)
		}
		if bad := mutate(g, id, g.intn(17)); ValidResidentID(bad) {
			t.Fatalf("%s (one digit changed from %s) accepted", bad, id)
		}
		if id[17] == 'X' {
			xs++
		}
		if (id[16]-'0')%2 == 0 {
			women++
		}
	}
	if xs < draws/20 || women < draws/3 || women > draws*2/3 {
		t.Errorf("%d of %d IDs end in X, %d are women's: want about 1/11 and 1/2", xs, draws, women)
	}
	for range 200 {
		id := g.LegacyResidentID()
		if _, err := time.Parse("060102", id[6:12]); err != nil || len(id) != 15 || !regionOK[id[:6]] {
			t.Fatalf("legacy ID %s: want region, YYMMDD and a sequence", id)
		}
		if !ValidLegacyResidentID(id) || !Valid("cn_resident_id", id) {
			t.Fatalf("legacy ID %s rejected", id)
		}
	}
}

func TestPhoneNumbers(t *testing.T) {
	g := New(2)
	prefixes := map[string]bool{}
	for range draws {
		m := g.Mobile()
		n, err := phonenumbers.Parse("+86"+m, "")
		if err != nil || phonenumbers.GetRegionCodeForNumber(n) != "CN" || phonenumbers.GetNumberType(n) != phonenumbers.MOBILE {
			t.Fatalf("mobile %s: libphonenumber says region %s type %v (%v)", m, phonenumbers.GetRegionCodeForNumber(n), phonenumbers.GetNumberType(n), err)
		}
		if !Valid("cn_mobile", m) {
			t.Fatalf("mobile %s rejected", m)
		}
		prefixes[m[:3]] = true
	}
	if len(prefixes) < 40 {
		t.Errorf("mobiles use %d three-digit prefixes, want the whole plan (40+)", len(prefixes))
	}
	for _, bad := range badMobilePrefixes {
		if prefixes[bad] {
			t.Errorf("a mobile starts with %s, which the plan does not assign", bad)
		}
	}
	for range 500 {
		area, sub := g.Landline()
		if area[0] != '0' || len(sub) < 7 || len(sub) > 8 || sub[0] == '0' || sub[0] == '1' {
			t.Fatalf("landline %s %s: want 0-area and a 7/8-digit subscriber", area, sub)
		}
		n, err := phonenumbers.Parse("+86"+area[1:]+sub, "")
		if typ := phonenumbers.GetNumberType(n); err != nil || typ != phonenumbers.FIXED_LINE && typ != phonenumbers.FIXED_LINE_OR_MOBILE {
			t.Fatalf("landline %s-%s: libphonenumber type %v (%v)", area, sub, typ, err)
		}
		if !Valid("cn_landline", area+"-"+sub) {
			t.Fatalf("landline %s-%s rejected", area, sub)
		}
		s := g.ServiceNumber()
		if !Valid("cn_landline", s) || !(strings.HasPrefix(s, "400") || strings.HasPrefix(s, "800")) {
			t.Fatalf("service number %s rejected", s)
		}
	}
	regions := map[string]bool{}
	for range 500 {
		e, region := g.IntlPhone()
		n, err := phonenumbers.Parse(e, "")
		if err != nil || phonenumbers.GetRegionCodeForNumber(n) != region || region == "CN" || !phonenumbers.IsValidNumber(n) {
			t.Fatalf("%s: parsed region %s, want valid %s", e, phonenumbers.GetRegionCodeForNumber(n), region)
		}
		if !Valid("intl_phone", e) || !Valid("intl_phone", FormatIntl(e)) {
			t.Fatalf("%s / %s rejected", e, FormatIntl(e))
		}
		regions[region] = true
	}
	for _, r := range []string{"HK", "TW", "US", "GB", "JP", "SG", "DE", "FR"} {
		if !regions[r] {
			t.Errorf("no international number from %s", r)
		}
	}
	for _, cn := range []string{"+8613812345678", "+86 10 1234 5678"} {
		if ValidIntlPhone(cn) {
			t.Errorf("ValidIntlPhone(%q): mainland numbers are cn_mobile/cn_landline, not intl_phone", cn)
		}
	}
}

// luhnSum is the Luhn sum written the other way round from Luhn: double the
// digits at odd distance from the end by digit sum of 2d.
func luhnSum(s string) int {
	sum := 0
	for i := range len(s) {
		d := int(s[len(s)-1-i] - '0')
		if i%2 == 1 {
			d = d*2/10 + d*2%10
		}
		sum += d
	}
	return sum
}

func TestCards(t *testing.T) {
	g := New(3)
	inRange := map[string]func(string) bool{
		"unionpay": func(s string) bool { return strings.HasPrefix(s, "62") && len(s) >= 16 && len(s) <= 19 },
		"visa":     func(s string) bool { return s[0] == '4' && len(s) == 16 },
		"mastercard": func(s string) bool {
			p, _ := strconv.Atoi(s[:4])
			return len(s) == 16 && (p >= 5100 && p <= 5599 || p >= 2221 && p <= 2720)
		},
		"amex": func(s string) bool { return (s[:2] == "34" || s[:2] == "37") && len(s) == 15 },
		"jcb":  func(s string) bool { p, _ := strconv.Atoi(s[:4]); return p >= 3528 && p <= 3589 && len(s) == 16 },
	}
	for _, brand := range CardBrands {
		lengths := map[int]bool{}
		for range 400 {
			c := g.Card(brand)
			if !inRange[brand](c) || luhnSum(c)%10 != 0 {
				t.Fatalf("%s card %s: outside its IIN range or length, or Luhn sum %d", brand, c, luhnSum(c))
			}
			if CardBrand(c) != brand || !Valid("bank_card", c) || !Valid("bank_card", groupsOf4(c, " ")) {
				t.Fatalf("%s card %s: validator says brand %q", brand, c, CardBrand(c))
			}
			if bad := mutate(g, c, g.intn(len(c))); Luhn(bad) {
				t.Fatalf("%s: one digit changed from %s, still passes Luhn", bad, c)
			}
			lengths[len(c)] = true
		}
		if brand == "unionpay" && len(lengths) < 3 {
			t.Errorf("UnionPay cards have %d lengths, want 16–19", len(lengths))
		}
	}
}

// hkCheckTest computes an HK ID check character with the published
// algorithm: weights 8..2 on letter and digits, 9 on the first letter or 36
// for a missing one.
func hkCheckTest(body string) string {
	val := func(c byte) int {
		if c >= 'A' && c <= 'Z' {
			return int(c-'A') + 10
		}
		return int(c - '0')
	}
	sum := 0
	if len(body) == 7 {
		sum = 9 * 36
	} else {
		sum = 9 * val(body[0])
		body = body[1:]
	}
	for i := range 7 {
		sum += (8 - i) * val(body[i])
	}
	switch r := 11 - sum%11; r {
	case 11:
		return "0"
	case 10:
		return "A"
	default:
		return strconv.Itoa(r)
	}
}

// twCheckTest checks a Taiwan ID with the letter order
// ABCDEFGHJKLMNPQRSTUVXYWZIO → 10…35 that published validators use.
func twCheckTest(s string) bool {
	n := strings.IndexByte("ABCDEFGHJKLMNPQRSTUVXYWZIO", s[0]) + 10
	sum := n/10 + n%10*9
	for i, w := range []int{8, 7, 6, 5, 4, 3, 2, 1, 1} {
		sum += int(s[i+1]-'0') * w
	}
	return sum%10 == 0
}

var (
	hkRE       = regexp.MustCompile(`^([A-Z]{1,2}[0-9]{6})\(([0-9A])\)$`)
	twRE       = regexp.MustCompile(`^[A-Z][12][0-9]{8}$`)
	passportRE = regexp.MustCompile(`^(E[0-9]{8}|E[A-HJ-NP-Z][0-9]{7}|G[0-9]{8})$`)
	plateRE    = regexp.MustCompile(`^[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-HJ-NP-Z]([A-HJ-NP-Z0-9]{5}|[DF][A-HJ-NP-Z0-9][0-9]{4}|[0-9]{5}[DF])$`)
)

func TestIDsPassportsPlates(t *testing.T) {
	g := New(4)
	twoLetter := 0
	for range draws {
		h := g.HKID()
		m := hkRE.FindStringSubmatch(h)
		if m == nil || hkCheckTest(m[1]) != m[2] {
			t.Fatalf("HK ID %s: shape or check character wrong (want %s)", h, hkCheckTest(m[1]))
		}
		if !Valid("hk_id", h) || !Valid("hk_id", m[1]+m[2]) {
			t.Fatalf("HK ID %s rejected", h)
		}
		if wrong := m[1] + "(" + strings.Replace("0123456789A", m[2], "", 1)[g.intn(10):][:1] + ")"; ValidHKID(wrong) {
			t.Fatalf("HK ID %s with a wrong check character accepted", wrong)
		}
		if len(m[1]) == 8 {
			twoLetter++
		}
		tw := g.TWID()
		if !twRE.MatchString(tw) || !twCheckTest(tw) || !Valid("tw_id", tw) {
			t.Fatalf("Taiwan ID %s: shape or check digit wrong", tw)
		}
		if bad := mutate(g, tw, 9); ValidTWID(bad) {
			t.Fatalf("Taiwan ID %s (check digit changed from %s) accepted", bad, tw)
		}
		p := g.Passport()
		if !passportRE.MatchString(p) || !Valid("cn_passport", p) || ValidHKID(p) {
			t.Fatalf("passport %s: not a PRC passport number, or also an HK ID", p)
		}
		pl := g.Plate()
		if !plateRE.MatchString(pl) || !Valid("cn_license_plate", pl) {
			t.Fatalf("plate %s: shape wrong", pl)
		}
		r := []rune(pl)
		if dotted := string(r[:2]) + "·" + string(r[2:]); !Valid("cn_license_plate", dotted) {
			t.Fatalf("plate %s rejected", dotted)
		}
	}
	if twoLetter == 0 {
		t.Error("no two-letter HK ID drawn")
	}
	for _, bad := range []string{"中A12345", "粤BBBBB", "粤123456", "京I12345", "京A1234", "京AABC12"} {
		if ValidPlate(bad) {
			t.Errorf("ValidPlate(%q) = true", bad)
		}
	}
	for _, bad := range []string{"K12345678", "E1234567", "EI1234567", "G1234567X"} {
		if ValidPassport(bad) {
			t.Errorf("ValidPassport(%q) = true", bad)
		}
	}
}

func TestIBANs(t *testing.T) {
	g := New(5)
	countries := map[string]bool{}
	for range draws {
		s := g.IBAN()
		var num strings.Builder
		for _, c := range s[4:] + s[:4] {
			if c >= 'A' && c <= 'Z' {
				num.WriteString(strconv.Itoa(int(c-'A') + 10))
			} else {
				num.WriteRune(c)
			}
		}
		n, _ := new(big.Int).SetString(num.String(), 10)
		if new(big.Int).Mod(n, big.NewInt(97)).Int64() != 1 {
			t.Fatalf("IBAN %s: mod 97 is not 1", s)
		}
		if !Valid("iban", s) || !Valid("iban", GroupIBAN(s)) {
			t.Fatalf("IBAN %s rejected", s)
		}
		if bad := mutate(g, s, 2+g.intn(2)); ValidIBAN(bad) {
			t.Fatalf("IBAN %s with other check digits accepted", bad)
		}
		countries[s[:2]] = true
		switch s[:2] {
		case "BE":
			first, _ := strconv.Atoi(s[4:14])
			check, _ := strconv.Atoi(s[14:])
			if first%97 != check%97 {
				t.Fatalf("IBAN %s: Belgian check %d, want %d", s, check, first%97)
			}
		case "FR":
			key, _ := new(big.Int).SetString(s[4:27], 10)
			if new(big.Int).Mod(key, big.NewInt(97)).Int64() != 0 {
				t.Fatalf("IBAN %s: RIB key wrong", s)
			}
		}
	}
	if len(countries) < 8 {
		t.Errorf("IBANs from %d countries, want several", len(countries))
	}
	for cc, st := range ibanStructures {
		n := 0
		for _, part := range regexp.MustCompile(`[0-9]+`).FindAllString(st, -1) {
			k, _ := strconv.Atoi(part)
			n += k
		}
		if n != ibanLengths[cc]-4 {
			t.Errorf("structure %s of %s covers %d characters, the IBAN length says %d", st, cc, n, ibanLengths[cc]-4)
		}
	}
}

func TestEmailsAndIPs(t *testing.T) {
	g := New(6)
	v6 := 0
	for range draws {
		e := g.Email()
		a, err := mail.ParseAddress(e)
		if err != nil || a.Address != e || !Valid("email", e) {
			t.Fatalf("e-mail %s: %v", e, err)
		}
		if me := g.MobileEmail(); !Valid("email", me) || !ValidMobile(me[:11]) {
			t.Fatalf("mobile e-mail %s", me)
		}
		ip := g.IPv4()
		if p := net.ParseIP(ip); p == nil || p.To4() == nil || !Valid("ip_address", ip) {
			t.Fatalf("IPv4 %s", ip)
		}
		ip6 := g.IPv6()
		if p := net.ParseIP(ip6); p == nil || p.To4() != nil || !Valid("ip_address", ip6) {
			t.Fatalf("IPv6 %s", ip6)
		}
		if strings.Contains(ip6, "::") {
			v6++
		}
	}
	if v6 < draws/4 {
		t.Errorf("%d of %d IPv6 addresses compressed, want many", v6, draws)
	}
	for _, bad := range []string{"a@b", "a..b@example.com", ".a@example.com", "a@-example.com", "a@example.c0m", "a@@example.com"} {
		if ValidEmail(bad) {
			t.Errorf("ValidEmail(%q) = true", bad)
		}
	}
	for _, bad := range []string{"256.1.1.1", "1.2.3", "01.2.3.4", "12:30:45", "00:1a:2b:3c:4d:5e", "fe80::1%eth0"} {
		if ValidIP(bad) {
			t.Errorf("ValidIP(%q) = true", bad)
		}
	}
}

func TestNamesAndAddresses(t *testing.T) {
	g := New(7)
	for range 500 {
		n := g.Name()
		if c := utf8.RuneCountInString(n); c < 2 || c > 4 {
			t.Fatalf("name %q has %d characters", n, c)
		}
		a := g.Address()
		ok := false
		for _, r := range regions {
			if strings.HasPrefix(a, r.province+r.city+r.district) {
				ok = true
			}
		}
		if !ok || regexp.MustCompile(`[0-9]{5}`).MatchString(a) {
			t.Fatalf("address %q: want a region prefix and no long digit runs", a)
		}
		if oracle(a) != nil {
			t.Fatalf("address %q holds a value the oracle reports", a)
		}
	}
}

func TestGeneratorIsDeterministic(t *testing.T) {
	draw := func(seed int64) string {
		g := New(seed)
		e, _ := g.IntlPhone()
		return fmt.Sprint(g.ResidentID(), g.Mobile(), g.BankCard(), g.Email(), g.HKID(), g.TWID(),
			g.Passport(), g.Plate(), e, g.IBAN(), g.IPv6(), g.Name(), g.Address(), g.Customer(1))
	}
	if a, b := draw(11), draw(11); a != b {
		t.Fatalf("seed 11 gave\n%s\nthen\n%s", a, b)
	}
	if draw(11) == draw(12) {
		t.Fatal("seeds 11 and 12 gave the same values")
	}
}

func TestFullWidth(t *testing.T) {
	if got := FullWidth("A123456(3) 138-x"); got != "Ａ１２３４５６（３） １３８-ｘ" {
		t.Errorf("FullWidth = %q", got)
	}
	if got := ASCII("１３８　Ａ（３）：，"); got != "138 A(3):," {
		t.Errorf("ASCII = %q", got)
	}
}
