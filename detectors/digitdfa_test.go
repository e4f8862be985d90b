package detectors

import (
	"math/rand/v2"
	"regexp"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// TestDigitDFAAgreesWithRegexp checks every pattern of libphonenumber's
// metadata: the automaton and Go's regexp agree on each type's example
// number, on every one-digit change, truncation and extension of it, and on
// random digit strings.
func TestDigitDFAAgreesWithRegexp(t *testing.T) {
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	patterns, automata, checks := 0, 0, 0
	for _, md := range coll.GetMetadata() {
		for _, desc := range []*phonenumbers.PhoneNumberDesc{
			md.GetGeneralDesc(), md.GetMobile(), md.GetFixedLine(), md.GetTollFree(), md.GetPremiumRate(),
			md.GetSharedCost(), md.GetVoip(), md.GetPersonalNumber(), md.GetPager(), md.GetUan(), md.GetVoicemail(),
		} {
			p := desc.GetNationalNumberPattern()
			if p == "" || p == "NA" {
				continue
			}
			patterns++
			m := compileDigits(p)
			if m.re != nil {
				continue // the regexp itself: nothing to compare
			}
			automata++
			re := regexp.MustCompile(`^(?:` + p + `)$`)
			check := func(in []byte) {
				checks++
				if got, want := m.match(in), re.Match(in); got != want {
					t.Fatalf("%s %q on %s: automaton %v, regexp %v", md.GetId(), p, in, got, want)
				}
			}
			ex := []byte(desc.GetExampleNumber())
			check(ex)
			for i := range ex {
				check(ex[:i])
				for d := byte('0'); d <= '9'; d++ {
					v := append([]byte(nil), ex...)
					v[i] = d
					check(v)
					check(append(v, d))
				}
			}
			for k := 0; k < 30; k++ {
				v := make([]byte, 1+r.IntN(16))
				for i := range v {
					v[i] = byte('0' + r.IntN(10))
				}
				check(v)
			}
		}
	}
	t.Logf("%d patterns, %d automata, %d checks", patterns, automata, checks)
	if automata < patterns*9/10 {
		t.Errorf("only %d of %d patterns have an automaton", automata, patterns)
	}
}

func TestDigitMatcherRejectsNonDigits(t *testing.T) {
	m := compileDigits(`1[3-9]\d{9}`)
	if m.re != nil {
		t.Fatal("no automaton for a mobile pattern")
	}
	for _, s := range []string{"1381234567a", "138 12345678", "", "1381234567", "138123456789"} {
		if m.match([]byte(s)) {
			t.Errorf("%q matched", s)
		}
	}
	if !m.match([]byte("13812345678")) {
		t.Error("13812345678 did not match")
	}
	// Assertions keep the regexp.
	if m := compileDigits(`\b12`); m.re == nil {
		t.Error(`\b12 got an automaton`)
	}
}
