package detectors

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// rid completes a 17-digit resident ID body with its MOD 11-2 check character.
func rid(body17 string) string { return body17 + string(residentCheck([]byte(body17))) }

// luhnComplete appends the Luhn check digit to prefix.
func luhnComplete(prefix string) string {
	for c := byte('0'); c <= '9'; c++ {
		if luhn([]byte(prefix + string(c))) {
			return prefix + string(c)
		}
	}
	panic("unreachable")
}

// badCheck returns s with its last digit changed so its checksum fails.
func badCheck(s string) string {
	last := s[len(s)-1]
	if last == 'X' || last == '9' {
		return s[:len(s)-1] + "0"
	}
	return s[:len(s)-1] + string(last+1)
}

// fullWidth converts ASCII letters and digits to their full-width forms.
func fullWidth(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '!' && r <= '~' {
			r += 0xFEE0
		}
		b.WriteRune(r)
	}
	return b.String()
}

func show(text string, fs []Finding) []string {
	out := make([]string, 0, len(fs))
	for _, f := range fs {
		out = append(out, f.Type.String()+":"+text[f.Start:f.End])
	}
	return out
}

var (
	id18     = rid("11010519491231002")           // 110105 1949-12-31 002
	id18X    = rid("11010819730311208")           // ends in X
	card16   = luhnComplete("622202633741702")    // UnionPay 16
	card19   = luhnComplete("621226510197472121") // UnionPay 19
	visa     = "4111111111111111"
	mc2      = luhnComplete("222100000000000") // Mastercard 2-series
	jcb      = "3530111333300000"
	badCard  = badCheck(card16)
	badID    = badCheck(id18)
	twPlain  = "A123456789"
	ibanGB   = "GB82WEST12345698765432"
	ibanDE   = "DE89370400440532013000"
	ibanGBsp = "GB82 WEST 1234 5698 7654 32"
)

func TestScanTable(t *testing.T) {
	if id18X[17] != 'X' {
		t.Fatalf("fixture %s should end in X", id18X)
	}
	cases := []struct {
		in   string
		want []string
	}{
		// Mobiles: plan, prefixes, separators, full width, boundaries.
		{"手机13812345678", []string{"cn_mobile:13812345678"}},
		{"联系电话：15808316008。", []string{"cn_mobile:15808316008"}},
		{"call 138-1234-5678 now", []string{"cn_mobile:138-1234-5678"}},
		{"call 138 1234 5678 now", []string{"cn_mobile:138 1234 5678"}},
		// Tabs and line breaks separate a table's cells and a column's
		// lines, not a number's groups (review 36).
		{"call 138\t1234\t5678 now", nil},
		{"订单 12345678\n2024年", nil},
		// A '+' before a number no country's plan has: form data's space
		// or a stray '+'; the digits are read on their own.
		{"q=call+me+at+13812345678", []string{"cn_mobile:13812345678"}},
		{"手机+13812345678", []string{"cn_mobile:13812345678"}},
		{"+6222026337417020", []string{"bank_card:6222026337417020"}},
		{"+99912345678", nil}, // no country 999, nor a mobile 999…
		{"tel:+86 138 1234 5678", []string{"cn_mobile:+86 138 1234 5678"}},
		{"tel:+8613812345678", []string{"cn_mobile:+8613812345678"}},
		{"0086 13812345678", []string{"cn_mobile:0086 13812345678"}},
		{"8613812345678", []string{"cn_mobile:8613812345678"}},
		{"回电１３８１２３４５６７８谢谢", []string{"cn_mobile:１３８１２３４５６７８"}},
		{"＋８６ １３８ １２３４ ５６７８", []string{"cn_mobile:＋８６ １３８ １２３４ ５６７８"}},
		{"14512751353 17400123456", []string{"cn_mobile:14512751353", "cn_mobile:17400123456"}},
		{"13812345678 13912345678", []string{"cn_mobile:13812345678", "cn_mobile:13912345678"}},
		{"user_13812345678", []string{"cn_mobile:13812345678"}},
		{"订单号11208961078已发货", nil}, // 112 is not in the plan
		{"金额 12728438541 元", nil},  // 127 is not either
		{"17406123456", nil},       // 1740[6-9] is not assigned
		{"1672771329845", nil},     // millisecond timestamp
		{"202613812345678", nil},   // inside a longer run
		{"a13812345678", nil},      // touches a letter
		{"13812345678b", nil},      // touches a letter
		{"ａ13812345678", nil},      // touches a full-width letter
		{"13812345678９", nil},      // touches a full-width digit
		{"3.13812345678", nil},     // decimal
		{"13812345678.5", nil},     // decimal
		{"v1.13812345678", nil},    // version
		{"TK51292212195", nil},     // tracking number
		{"13812345678@qq.com", []string{"email:13812345678@qq.com"}},
		// A chain of addresses is one finding (FuzzRewrite found a@b.x@c.x
		// masked as a@b.x@[email], an address left whole).
		{"0@0.AA@0.AA@0.AA", []string{"email:0@0.AA@0.AA@0.AA"}},
		{"发给 zhang@corp.cn@mail.example.com 谢谢", []string{"email:zhang@corp.cn@mail.example.com"}},
		{"a@b.cn, c@d.cn", []string{"email:a@b.cn", "email:c@d.cn"}},
		{"138 1234 5678 9012 3456", nil}, // some longer grouped number, not a phone
		// Landlines and service numbers.
		{"公司座机025 66654259转人工", []string{"cn_landline:025 66654259"}},
		{"电话 010-12345678-123", []string{"cn_landline:010-12345678"}},
		{"(010)12345678", []string{"cn_landline:(010)12345678"}},
		{"（０１０）１２３４５６７８", []string{"cn_landline:（０１０）１２３４５６７８"}},
		{"0755-8730-3985", []string{"cn_landline:0755-8730-3985"}},
		{"075587303985", []string{"cn_landline:075587303985"}},
		{"+86 755 8730 3985", []string{"cn_landline:+86 755 8730 3985"}},
		{"热线400-820-8820", []string{"cn_landline:400-820-8820"}},
		{"800 820 8820", []string{"cn_landline:800 820 8820"}},
		{"0123456789", nil},
		{"2024-01-15", nil},
		// International numbers.
		{"call +1 415 555 2671", []string{"intl_phone:+1 415 555 2671"}},
		{"+44 20 7946 0958", []string{"intl_phone:+44 20 7946 0958"}},
		{"+852 9123 4567", []string{"intl_phone:+852 9123 4567"}},
		{"+886 912 345 678", []string{"intl_phone:+886 912 345 678"}},
		{"+12345678", nil},
		{"score +100", nil},
		// Resident IDs.
		{"身份证号：" + id18, []string{"cn_resident_id:" + id18}},
		{"ID on file " + id18X + ", verified", []string{"cn_resident_id:" + id18X}},
		{"lower " + strings.ToLower(id18X), []string{"cn_resident_id:" + strings.ToLower(id18X)}},
		{"证件 " + id18[:6] + " " + id18[6:14] + " " + id18[14:], []string{"cn_resident_id:" + id18[:6] + " " + id18[6:14] + " " + id18[14:]}},
		{fullWidth(id18), []string{"cn_resident_id:" + fullWidth(id18)}},
		{badID, nil},
		{rid("11010519491331002"), nil}, // month 13
		{rid("11010520230229002"), nil}, // 29 Feb of a common year
		{rid("99010519491231002"), nil}, // no province 99
		{rid("11010521991231002"), nil}, // born in the future
		{"交易流水" + id18 + "1", nil},
		{"身份证号码 110101491231002", []string{"cn_resident_id:110101491231002"}},
		{"order 110101491231002", nil}, // 15 digits need a context word
		// Cards.
		{"卡号" + card16, []string{"bank_card:" + card16}},
		{"card " + card19 + " declined", []string{"bank_card:" + card19}},
		{"visa 4111 1111 1111 1111", []string{"bank_card:4111 1111 1111 1111"}},
		{"mc " + mc2, []string{"bank_card:" + mc2}},
		{"amex 3782 822463 10005", []string{"bank_card:3782 822463 10005"}},
		{"jcb " + jcb, []string{"bank_card:" + jcb}},
		{"卡号" + badCard, nil},
		{luhnComplete("123456789012345"), nil}, // no scheme starts with 1
		{"6222 0263 3741 702", nil},            // groups of a longer number
		// E-mail.
		{"请发送发票到邮箱svfc.jacp@gmail.com谢谢", []string{"email:svfc.jacp@gmail.com"}},
		{"reply-to: First.Last+tag@Corp-Mail.com.cn.", []string{"email:First.Last+tag@Corp-Mail.com.cn"}},
		{"a@b", nil},
		{"a@b.c", nil},
		{"@example.com", nil},
		{"x@-bad.com", nil},
		// IP addresses.
		{"登录IP 192.168.1.1，", []string{"ip_address:192.168.1.1"}},
		{"10.0.0.256 1.2.3.4.5 01.2.3.4 v1.2.3.4", nil},
		{"2001:db8::1 and ::1", []string{"ip_address:2001:db8::1", "ip_address:::1"}},
		{"fe80::1ff:fe23:4567:890a", []string{"ip_address:fe80::1ff:fe23:4567:890a"}},
		{"::ffff:192.0.2.1", []string{"ip_address:::ffff:192.0.2.1"}},
		{"12:30:45 00:1a:2b:3c:4d:5e std::vector a :: b 1:2:3:4:5:6:7:8:9", nil},
		// Hong Kong, Taiwan, passports.
		{"香港身份证 D504329(9)", []string{"hk_id:D504329(9)"}},
		{"HKID AB987654(3)", []string{"hk_id:AB987654(3)"}},
		{"香港身份证 D533384(A)", []string{"hk_id:D533384(A)"}},
		{"香港身份证 D5043299", []string{"hk_id:D5043299"}},
		{"ref D5043299", nil},
		{"D504329(8)", nil},
		{"台湾身分证字号：" + twPlain, []string{"tw_id:" + twPlain}},
		{"A123456788", nil},
		{"护照号E12345678", []string{"cn_passport:E12345678"}},
		{"passport: EA1234567", []string{"cn_passport:EA1234567"}},
		{"批次E12345678", nil},
		// Licence plates.
		{"车牌京A12345，粤B·D12345", []string{"cn_license_plate:京A12345", "cn_license_plate:粤B·D12345"}},
		{"沪A-F12345 粤Z·1234港", []string{"cn_license_plate:沪A-F12345", "cn_license_plate:粤Z·1234港"}},
		{"京AI2345 京ABCDEF", nil},
		// IBAN.
		{"IBAN " + ibanGB, []string{"iban:" + ibanGB}},
		{"IBAN " + ibanGBsp + " thanks", []string{"iban:" + ibanGBsp}},
		{"konto " + ibanDE, []string{"iban:" + ibanDE}},
		{"GB82WEST12345698765433", nil},
		// Glued values: a number after a domain's dot, an address whose
		// domain goes on past its top-level domain, full-width '＠',
		// dashes and zero-width spaces between groups.
		{"li@qq.com.13987654321", []string{"email:li@qq.com", "cn_mobile:13987654321"}},
		{"li@qq.com.13987654321-", []string{"email:li@qq.com", "cn_mobile:13987654321"}},
		{"file.13812345678", []string{"cn_mobile:13812345678"}},
		{"v1.13812345678", nil}, // after a digit's dot: a version or a decimal
		{"邮箱 zhang.san＠example.com", []string{"email:zhang.san＠example.com"}},
		{"手机 138–1234–5678", []string{"cn_mobile:138–1234–5678"}},
		{"手机 138\u200b1234\u200b5678", []string{"cn_mobile:138\u200b1234\u200b5678"}},
		// Look-alikes.
		{"金额 4ec04618-f54f-4287-44b6-adeb344c9131 元", nil},
		{"trace=202610004143167231 v15.1.10 26815.58 SF0966542870722", nil},
		{"2a83fb1d9c7c489af9c215672ac38adf", nil},
	}
	for _, c := range cases {
		got := show(c.in, Default.Scan(c.in, nil))
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("Scan(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}

func TestScanTypesAndContext(t *testing.T) {
	sc, err := NewScanner(Options{Types: []Type{Email}})
	if err != nil {
		t.Fatal(err)
	}
	in := "13812345678 a@example.com " + id18
	if got := show(in, sc.Scan(in, nil)); fmt.Sprint(got) != "[email:a@example.com]" {
		t.Errorf("only email wanted, got %q", got)
	}
	plain := Default.Scan("x 13812345678", nil)
	ctx := Default.Scan("手机 13812345678", nil)
	if len(plain) != 1 || len(ctx) != 1 || !(ctx[0].Confidence > plain[0].Confidence) {
		t.Errorf("a context word should raise confidence: %v vs %v", plain, ctx)
	}
	quick, _ := NewScanner(Options{NoConfidence: true})
	if q := quick.Scan("手机 13812345678", nil); len(q) != 1 || q[0].Confidence != plain[0].Confidence {
		t.Errorf("NoConfidence should report the base confidence: %v", q)
	}
	if _, err := NewScanner(Options{Types: []Type{PersonName}}); err == nil {
		t.Error("a field-only type should be refused as a content type")
	}
}

func TestScanAppendsAfterCallerFindings(t *testing.T) {
	prev := []Finding{{Type: Email, Start: 0, End: 1}}
	got := Default.Scan("x@example.com", prev)
	if len(got) != 2 || got[0] != prev[0] || got[1].Type != Email {
		t.Fatalf("Scan should append after the caller's findings: %v", got)
	}
}

func TestCustomDetector(t *testing.T) {
	emp, err := ParseType("custom:employee_no")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := NewScanner(Options{Custom: []CustomDetector{
		{Type: emp, Pattern: `EMP-\d{6}`},
		{Type: emp, Pattern: `\d{16}`, Validator: "luhn"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	in := "工号EMP-123456，XEMP-123456 13812345678 " + luhnComplete("999999999999999")
	got := show(in, sc.Scan(in, nil))
	want := []string{"custom:employee_no:EMP-123456", "cn_mobile:13812345678", "custom:employee_no:" + luhnComplete("999999999999999")}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %q want %q", got, want)
	}
	for _, bad := range []CustomDetector{
		{Type: emp, Pattern: `(`},
		{Type: emp, Pattern: `\d*`},
		{Type: emp, Pattern: `\d+`, Validator: "nope"},
		{Type: Email, Pattern: `x`},
	} {
		if _, err := NewScanner(Options{Custom: []CustomDetector{bad}}); err == nil {
			t.Errorf("NewScanner should refuse %+v", bad)
		}
	}
}

func TestParseType(t *testing.T) {
	for _, b := range Builtin() {
		got, err := ParseType(b.String())
		if err != nil || got != b {
			t.Errorf("ParseType(%q) = %v, %v", b.String(), got, err)
		}
	}
	a, _ := ParseType("custom:order_no")
	b, _ := ParseType("custom:order_no")
	if a != b || !a.IsCustom() || a.String() != "custom:order_no" {
		t.Errorf("custom types should intern: %v %v %q", a, b, a.String())
	}
	for _, bad := range []string{"", "phone", "custom:", "custom:Order", "custom:a-b", "custom:" + strings.Repeat("a", 65)} {
		if _, err := ParseType(bad); err == nil {
			t.Errorf("ParseType(%q) should fail", bad)
		}
	}
}

func TestValidators(t *testing.T) {
	cases := []struct {
		name, value string
		want        bool
	}{
		{"luhn", "4111 1111 1111 1111", true},
		{"luhn", "4111 1111 1111 1112", false},
		{"bank_card", "4111-1111-1111-1111", true},
		{"bank_card", luhnComplete("123456789012345"), false},
		{"cn_resident_id", id18X, true},
		{"cn_resident_id", badID, false},
		{"cn_resident_id", "110101491231002", true},
		{"iso7064_mod11_2", id18X, true},
		{"iso7064_mod11_2", badID, false},
		{"cn_mobile", "+86 138-1234-5678", true},
		{"cn_mobile", "11208961078", false},
		{"hk_id", "D504329(9)", true},
		{"hk_id", "AB987654(3)", true},
		{"hk_id", "D504329(8)", false},
		{"tw_id", "A123456789", true},
		{"tw_id", "A123456788", false},
		{"iban", ibanGBsp, true},
		{"mod97", ibanDE, true},
		{"iban", "GB82WEST12345698765433", false},
	}
	for _, c := range cases {
		v, ok := LookupValidator(c.name)
		if !ok {
			t.Fatalf("no validator %q", c.name)
		}
		if got := v(c.value); got != c.want {
			t.Errorf("%s(%q) = %v, want %v", c.name, c.value, got, c.want)
		}
	}
	// MOD 11-2 agrees with the resident-ID weights for every check value.
	for i := 0; i < 2000; i++ {
		body := fmt.Sprintf("1101011990010%04d", i)
		if !validatorSet["iso7064_mod11_2"](rid(body)) {
			t.Fatalf("mod11_2 disagrees with residentCheck on %s", rid(body))
		}
	}
}

func TestFutureBirthDate(t *testing.T) {
	defer func(f func() time.Time) { now = f }(now)
	now = func() time.Time { return time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC) }
	if validResident18([]byte(rid("11010520000102002"))) {
		t.Error("a birth date after today should be invalid")
	}
	if !validResident18([]byte(rid("11010519991231002"))) {
		t.Error("a birth date before today should be valid")
	}
}

func TestScanDoesNotAllocateWithoutFindings(t *testing.T) {
	text := strings.Repeat("您好，订单号SF0966542870722已于2026-11-27 12:30:45发货，金额 26815.58 元，"+
		"trace=202610004143167231, version v15.1.10, uuid 4ec04618-f54f-4287-44b6-adeb344c9131. "+
		"Customer says the parcel 1672771329845 is late; ticket TK51292212195 escalated. ", 20)
	if fs := Default.Scan(text, nil); len(fs) != 0 {
		t.Fatalf("fixture should hold no personal data, found %v", show(text, fs))
	}
	if n := testing.AllocsPerRun(50, func() { Default.Scan(text, nil) }); n != 0 {
		t.Errorf("Scan allocated %.1f times on text without findings", n)
	}
	dst := make([]Finding, 0, 8)
	withPII := "手机13812345678 邮箱a@example.com 身份证" + id18
	if n := testing.AllocsPerRun(50, func() { Default.Scan(withPII, dst[:0]) }); n != 0 {
		t.Errorf("Scan allocated %.1f times with room in dst", n)
	}
}

// checkFindings asserts the invariants every Scan result keeps.
func checkFindings(t *testing.T, text string, fs []Finding) {
	t.Helper()
	// Rune boundaries as Go reads the text: a byte of invalid UTF-8 is a
	// character of its own.
	boundary := map[int]bool{len(text): true}
	for i := 0; i < len(text); {
		boundary[i] = true
		_, w := utf8.DecodeRuneInString(text[i:])
		i += w
	}
	prevEnd := 0
	for _, f := range fs {
		if f.Start < prevEnd || f.End <= f.Start || f.End > len(text) {
			t.Fatalf("bad span %+v (prev end %d) in %q", f, prevEnd, text)
		}
		if !boundary[f.Start] || !boundary[f.End] {
			t.Fatalf("span %+v not on rune boundaries in %q", f, text)
		}
		if f.Confidence <= 0 || f.Confidence > 1 {
			t.Fatalf("confidence %v out of range", f.Confidence)
		}
		prevEnd = f.End
	}
}

func FuzzScan(f *testing.F) {
	for _, s := range []string{
		"手机13812345678", "+86 138-1234-5678", "（０１０）１２３４５６７８", id18X, "a@b.co", "2001:db8::1",
		"D504329(9)", ibanGBsp, "粤B·D12345", "1.2.3.4", "\xef\xbc", "\xc2", "+", "(", "a@", "::",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fs := Default.Scan(s, nil)
		checkFindings(t, s, fs)
		// The prefilter passes over no text the detectors find something in.
		full := scan{sc: Default, s: s}
		full.run()
		if len(full.out) != len(fs) {
			t.Fatalf("mayMatch(%q) = %v, but the detectors find %v", s, mayMatch(s), full.out)
		}
		again := Default.ScanBytes([]byte(s), nil)
		if fmt.Sprint(fs) != fmt.Sprint(again) {
			t.Fatalf("Scan and ScanBytes differ on %q", s)
		}
	})
}

func FuzzValidators(f *testing.F) {
	for _, s := range []string{id18X, visa, "D504329(9)", twPlain, ibanGB, "+86 138", "((", "\xef\xbc\x90"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, name := range ValidatorNames() {
			validatorSet[name](s) // must not panic
		}
		// The hand-written address checks never accept what the standard
		// library's parser refuses.
		if validIPv4(s) {
			if a, err := netip.ParseAddr(s); err != nil || !a.Is4() {
				t.Fatalf("validIPv4(%q) but netip: %v", s, err)
			}
		}
		if validIPv6(s) {
			if a, err := netip.ParseAddr(s); err != nil || !a.Is6() {
				t.Fatalf("validIPv6(%q) but netip: %v", s, err)
			}
		}
	})
}

func TestMayMatch(t *testing.T) {
	for _, c := range []struct {
		s    string
		want bool
	}{
		{"", false}, {"delivered", false}, {"苏斌", false}, {"abcdefgh/ijklmnop", false},
		{"a1", true}, {"abcdefgh9", true}, {"x@y", true}, {"::", true}, {"０", true},
		{"/;?", false}, {"/", false}, {";", false}, {"\x80\xb0\xba", false}, {"abcdefg\xb0", false},
		{"ABCDEFG0", true}, {"ABCDEFG:", true}, {"ABCDEFG;", false}, {"\xef", true},
	} {
		if got := mayMatch(c.s); got != c.want {
			t.Errorf("mayMatch(%q) = %v, want %v", c.s, got, c.want)
		}
	}
	// Byte by byte, in every position of a word, against the definition.
	for b := 0; b < 256; b++ {
		want := b >= '0' && b <= ':' || b == '@' || b == 0xEF
		for pos := 0; pos < 16; pos++ {
			buf := []byte("zzzzzzzzzzzzzzzz")
			buf[pos] = byte(b)
			if got := mayMatch(string(buf)); got != want {
				t.Fatalf("mayMatch with byte %#x at %d = %v, want %v", b, pos, got, want)
			}
		}
	}
}

func TestDateTimesPassedOver(t *testing.T) {
	for _, c := range []struct {
		s    string
		want int
	}{
		{"2026-06-05", 10}, {"2026/06/05", 10}, {"1990-12-31 x", 10}, {"2026-06-05T15:59:32+08:00", 25},
		{"2026-06-05T15:59:32Z", 20}, {"2026-06-05 15:59:32.123456", 26}, {"2026-06-05T15:59", 16},
		{"2026-06-05T15:59:32+0800", 24}, {"2026-06-05 13812345678", 10},
		{"2026-13-05", 0}, {"2026-06-32", 0}, {"1890-06-05", 0}, {"2026-06/05", 0}, {"2026-06-051", 0},
		{"2026-06-05T13812345678", 0}, {"2026-06-05x", 0}, {"138-1234-5678", 0}, {"2026-06-0", 0},
	} {
		if got := dateTimeLen(c.s, 0); got != c.want {
			t.Errorf("dateTimeLen(%q) = %d, want %d", c.s, got, c.want)
		}
	}
	if got := dateTimeLen("a2026-06-05", 1); got != 0 {
		t.Errorf("a date inside a word: %d", got)
	}
	// What follows a date is still scanned.
	fs := Default.Scan("2026-06-05 13812345678 于2026-06-05T15:59:32+08:00致电", nil)
	if len(fs) != 1 || fs[0].Type != CNMobile || fs[0].Start != 11 {
		t.Errorf("findings %+v", fs)
	}
}
