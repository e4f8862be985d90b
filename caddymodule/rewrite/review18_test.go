package rewrite

import (
	"strings"
	"testing"
)

// 53a2e0f: "Only +86 is kept as a country code: +1 202 555 0123 counts all
// its digits, and the conventions apply to mainland numbers only." The
// fix (foreignCode) looks at the value's first byte only: the same number
// written "(+1) 202 555 0123", or with a leading space, gets the mainland
// mobile convention and shows 7 of its 11 digits (1, 20, 0123).
func TestReview18MaskForeignCodeNotAtFirstByte(t *testing.T) {
	for _, v := range []string{"(+1) 202 555 0123", " +1 202 555 0123"} {
		out := r17(t, "mask", nil, `{"mobile":"`+v+`"}`)
		shown := 0
		for _, c := range out {
			if c >= '0' && c <= '9' {
				shown++
			}
		}
		if shown*2 > 11 {
			t.Errorf("%q masks to %s: %d of its 11 digits shown", v, out, shown)
		}
	}
}

// 53a2e0f: canonical folds "a landline's +86 into its trunk 0" for every
// landline whose digits start with 86, whatever its length: a local
// number with an extension, 86912345-6789, and the Yulin number
// 0912-3456789 get the same pseudonym (before, they did not; the mobile
// rule is gated by length).
func TestReview18HashLandline86Collides(t *testing.T) {
	a := r17(t, "hash", nil, `{"landline":"86912345-6789"}`)
	b := r17(t, "hash", nil, `{"landline":"0912-3456789"}`)
	if !strings.Contains(a, "hash:cn_landline:") {
		t.Fatalf("premise: %s", a)
	}
	if a[len(`{"landline":`):] == b[len(`{"landline":`):] {
		t.Errorf("86912345-6789 and 0912-3456789 hash alike: %s", a)
	}
}
