package rewrite

// Fifty-seventh review (a): the round-56a fixes checked (landlines under
// phone keys, birth-date pseudonyms). Each test fails on the code as
// reviewed. Fake data only.

import (
	"strings"
	"testing"

	"github.com/piigate/piigate/config"
)

// Finding 4 (regression of the 56a finding-7 fix): applyTo now keeps a
// landline under a phone key typed cn_mobile whenever the admin has any
// `mask cn_mobile`, so the admin's `mask cn_landline` no longer reaches
// those landlines. An admin who hides landlines entirely (cn_landline
// keep 0/0) and writes the usual mobile mask (cn_mobile keep 3/4) gets
// "phone": "010-12345678" as 010-******78: five digits of a landline the
// same response shows as ***-******** under "landline" (and the previous
// commit showed so under "phone" too). One stricter admin mask is traded
// for the other instead of the stricter one winning.
//
// Suggested fix: when both types have admin masks, mask a landline under
// a mobile's key with the stricter of the two specs (fewer digits kept
// at each end); when only cn_mobile's is custom, keep today's rule.
func TestReview57aLandlineUnderPhoneIgnoresAdminLandlineMask(t *testing.T) {
	m := review55bRun(t, map[string]config.MaskSpec{
		"cn_mobile":   {KeepFirst: 3, KeepLast: 4},
		"cn_landline": {KeepFirst: 0, KeepLast: 0},
	}, "names", "m", `{"landline":"010-12345678","phone":"010-12345678"}`)
	if s := m["landline"].(string); strings.ContainsAny(s, "0123456789") {
		t.Fatalf("control: landline key shows %q", s)
	}
	if s := m["phone"].(string); strings.ContainsAny(s, "0123456789") {
		t.Errorf("admin masks cn_landline to nothing; the same landline under phone shows %q", s)
	}
}

// Finding 5 (collision, over-broad 56a finding-9 fix): dateDigits stops
// at the third digit run whenever a fourth follows a space or a T,
// without checking that a time of day follows. "1990-03-07 2001-01-01"
// (two dates in one field) and "1990-03-07 1" get the pseudonym of
// 1990-03-07: distinct values, one pseudonym, which links records the
// pseudonym should keep apart. Meanwhile the same date with a time in
// ISO 8601's basic format (19900307T000000Z, as vCard's BDAY and
// iCalendar write it) still gets another pseudonym than 19900307.
//
// Suggested fix: take the first three runs only when what follows the
// separator reads as a time (hh:mm[:ss[.f…]] with an optional Z or
// ±hh[:mm], or hhmmss[Z] after T for the basic format), and apply the
// same rule after an 8-digit run.
func TestReview57aBirthDateTimeSuffixHash(t *testing.T) {
	hashOf := func(v string) any {
		return review55bRun(t, nil, "names", "h", `{"birth_date":"`+v+`"}`)["birth_date"]
	}
	date := hashOf("1990-03-07")
	for _, v := range []string{"1990-03-07 2001-01-01", "1990-03-07 1"} {
		if hashOf(v) == date {
			t.Errorf("%q (no time after the date) gets the pseudonym of 1990-03-07: %v", v, date)
		}
	}
	if h := hashOf("19900307T000000Z"); h != hashOf("19900307") {
		t.Errorf("19900307T000000Z gets %v, 19900307 gets %v: one date, two pseudonyms", h, hashOf("19900307"))
	}
}
