package detectorstest

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestLookAlikesAreNotPII puts every kind of look-alike into text, next to
// Han characters, ASCII and full-width punctuation, and checks that the
// reference scanner finds nothing.
func TestLookAlikesAreNotPII(t *testing.T) {
	g := New(8)
	for _, kind := range LookAlikeKinds {
		for range 300 {
			v := g.LookAlike(kind)
			for _, text := range []string{v, "订单" + v + "已发货", "ref " + v + ".", "（" + v + "），", "金额：" + v + " 元"} {
				if hits := oracle(text); hits != nil {
					t.Fatalf("%s look-alike in %q: oracle finds %s", kind, text, show(text, hits))
				}
			}
		}
	}
}

func TestLookAlikesHaveTheirShape(t *testing.T) {
	g := New(9)
	digits := regexp.MustCompile(`^[0-9]+$`)
	for range 300 {
		if s := g.LookAlike(KindUnixSeconds); len(s) != 10 || !digits.MatchString(s) {
			t.Fatalf("unix seconds %q", s)
		}
		if s := g.LookAlike(KindUnixMillis); len(s) != 13 || !digits.MatchString(s) {
			t.Fatalf("unix millis %q", s)
		}
		if s := g.UUID(); !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(s) {
			t.Fatalf("UUID %q", s)
		}
		if s := g.MAC(); !regexp.MustCompile(`^([0-9a-f]{2}:){5}[0-9a-f]{2}$|^([0-9A-F]{2}-){5}[0-9A-F]{2}$`).MatchString(s) {
			t.Fatalf("MAC %q", s)
		}
		if s := g.LookAlike(KindClock); !regexp.MustCompile(`^[0-2][0-9]:[0-5][0-9](:[0-5][0-9])?$`).MatchString(s) {
			t.Fatalf("clock %q", s)
		}
		c := g.BadCard()
		if CardBrand(c) == "" || Luhn(c) {
			t.Fatalf("bad card %s: want a card's prefix and length with a failing Luhn digit", c)
		}
		id := g.BadIDDate()
		if iso7064Check(id[:17]) != id[17] {
			t.Fatalf("bad-date ID %s: check character should be right", id)
		}
		if _, err := time.Parse("20060102", id[6:14]); err == nil {
			t.Fatalf("bad-date ID %s has a real date", id)
		}
		id = g.LookAlike(KindBadIDCheck)
		if _, err := time.Parse("20060102", id[6:14]); err != nil || iso7064Check(id[:17]) == id[17] {
			t.Fatalf("bad-check ID %s: want a real date and a wrong check character", id)
		}
		id = g.LookAlike(KindBadIDRegion)
		if provinceCodes[id[:2]] || iso7064Check(id[:17]) != id[17] {
			t.Fatalf("bad-region ID %s: want an unknown province and a right check character", id)
		}
		m := g.BadMobile()
		if len(m) != 11 || m[0] != '1' {
			t.Fatalf("bad mobile %s: want 11 digits starting with 1", m)
		}
		if _, ok := cnNumberType(m); ok {
			t.Fatalf("bad mobile %s is a valid mainland number", m)
		}
		if h := g.LookAlike(KindBadHKID); !hkRE.MatchString(h) || ValidHKID(h) {
			t.Fatalf("bad HK ID %s", h)
		}
		if tw := g.LookAlike(KindBadTWID); !twRE.MatchString(tw) || twCheckTest(tw) {
			t.Fatalf("bad Taiwan ID %s", tw)
		}
		if s := g.LookAlike(KindBadIBAN); ValidIBAN(s) || ibanLengths[s[:2]] != len(s) {
			t.Fatalf("bad IBAN %s", s)
		}
		if s := g.LookAlike(KindLongDigitRun); len(s) < 20 || !digits.MatchString(s) {
			t.Fatalf("long digit run %q", s)
		}
		if s := g.LookAlike(KindVersion); strings.Count(s, ".") != 2 {
			t.Fatalf("version %q: want three parts (four would be an IPv4 address)", s)
		}
	}
}

// TestEmbeddedHoldValidValues checks that the embedded look-alikes really
// contain a valid value, so a scanner that ignores run boundaries fails on
// them.
func TestEmbeddedHoldValidValues(t *testing.T) {
	g := New(10)
	for range 300 {
		s := g.LookAlike(KindEmbedded)
		found := false
		for i := 0; i < len(s) && !found; i++ {
			for _, n := range []int{11, 15, 16, 17, 18, 19} {
				if i+n <= len(s) {
					sub := s[i : i+n]
					if ValidMobile(sub) || ValidResidentID(sub) || ValidBankCard(sub) {
						found = true
					}
				}
			}
		}
		if !found {
			t.Fatalf("embedded look-alike %s holds no valid mobile, ID or card", s)
		}
	}
	if tk := "TK" + g.Mobile(); oracle(tk) != nil || oracle("单号"+tk+"，") != nil {
		t.Fatalf("oracle reports a mobile inside %s", tk)
	}
	if _, err := strconv.Atoi(g.LookAlike(KindUnixSeconds)); err != nil {
		t.Fatal(err)
	}
}
