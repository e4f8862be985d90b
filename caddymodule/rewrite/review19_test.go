package rewrite

import (
	"github.com/piigate/piigate/detectors"
	"strings"
	"testing"
)

func r19DigitsShown(s string) int {
	n := 0
	for _, c := range s {
		if c >= '0' && c <= '9' {
			n++
		}
	}
	return n
}

// 4531d35: "(+1) 202 555 0123 count all their digits". leadTrim skips only
// ASCII space and tab, ( and [, and U+3000, U+FF08, U+FF3B: the same US
// number after a no-break space, a newline, or a Chinese lenticular
// bracket gets the mainland mobile convention and shows 7 of its 11
// digits (1, 20, 0123).
func TestReview19MaskForeignCodeAfterOtherLeadingChars(t *testing.T) {
	for _, v := range []string{`\u00a0+1 202 555 0123`, `\n+1 202 555 0123`, `【+1】202 555 0123`} {
		out := r17(t, "mask", nil, `{"mobile":"`+v+`"}`)
		if shown := r19DigitsShown(out); shown*2 > 11 {
			t.Errorf("%s masks to %s: %d of its 11 digits shown", v, out, shown)
		}
	}
}

// README: "+86 10 1234 5678 and 010-12345678" give the same pseudonym and
// no-break spaces are not part of the value; " +86 10 1234 5678" (ASCII
// space first) does, but after a leading no-break space foreignCode does
// not see the '+', the 86 stays, and the pseudonym differs.
func TestReview19HashLandlineLeadingNoBreakSpace(t *testing.T) {
	a := r17(t, "hash", nil, `{"landline":"\u00a0+86 10 1234 5678"}`)
	b := r17(t, "hash", nil, `{"landline":"010-12345678"}`)
	if a != b {
		t.Errorf("same number, different pseudonyms:\n%s\n%s", a, b)
	}
}

// README: only +86 is kept as a country code, "+1 202 555 0123 ... count
// all their digits, and the conventions apply to mainland numbers only".
// The mobile's canonical form drops the '+' and keeps a foreign code's
// digits, so the New York number +1 347 555 0123 and the China Mobile
// number 134 7555 0123 get the same pseudonym.
func TestReview19HashForeignMobileCollidesWithMainland(t *testing.T) {
	a := r17(t, "hash", nil, `{"mobile":"+1 347 555 0123"}`)
	b := r17(t, "hash", nil, `{"mobile":"13475550123"}`)
	if !strings.Contains(a, "hash:cn_mobile:") {
		t.Fatalf("premise: %s", a)
	}
	if a == b {
		t.Errorf("+1 347 555 0123 and 13475550123 hash alike: %s", a)
	}
}

// A foreign number's canonical form keeps its digits and a '+': spellings
// of one number agree, and none is the mainland number of the same digits.
func TestForeignNumberCanonical(t *testing.T) {
	for _, typ := range []detectors.Type{detectors.CNMobile, detectors.CNLandline} {
		a := string(canonical([]byte("x:"), typ, []byte("+1 347 555 0123")))
		b := string(canonical([]byte("x:"), typ, []byte("(+1) 347-555-0123")))
		if a != "x:+13475550123" || b != a {
			t.Errorf("%s: canonical forms %q and %q, want x:+13475550123", typ, a, b)
		}
	}
}
