package rewrite

import (
	"math/rand"
	"testing"
	"unicode/utf8"

	"github.com/piigate/piigate/detectors"
)

// oneValueRune is oneValue's rune path (the whole function before 283a6e9).
func oneValueRune(t detectors.Type, v []byte) bool {
	skip := prefixLen(t, v)
	digits, last := 0, rune(0)
	for i := skip; i < len(v); {
		r, w := rune(v[i]), 1
		if r >= utf8.RuneSelf {
			r, w = utf8.DecodeRune(v[i:])
		}
		i += w
		if !significant(r) {
			continue
		}
		if last == 'X' || last == 'x' {
			return false
		}
		switch f := fold(r); {
		case f >= '0' && f <= '9':
			digits++
		case t == detectors.CNResidentID && (f == 'X' || f == 'x'):
			digits++
			last = f
		default:
			return false
		}
	}
	return digits <= maxDigits(t)
}

func TestReview19OneValueASCIIFastPathDifferential(t *testing.T) {
	rng := rand.New(rand.NewSource(19))
	alpha := []byte("0123456789012345678988668600+ -()[]xXaZ")
	bad := 0
	for i := 0; i < 400000 && bad < 10; i++ {
		n := rng.Intn(24)
		v := make([]byte, n)
		for j := range v {
			if rng.Intn(5) == 0 {
				v[j] = byte(rng.Intn(128))
			} else {
				v[j] = alpha[rng.Intn(len(alpha))]
			}
		}
		if rng.Intn(4) == 0 && n > 3 {
			copy(v, []string{"+86", "0086", "86", "+1"}[rng.Intn(4)])
		}
		for _, ty := range []detectors.Type{detectors.CNMobile, detectors.CNLandline, detectors.CNResidentID, detectors.BankCard} {
			if a, b := oneValue(ty, v), oneValueRune(ty, v); a != b {
				t.Errorf("%v %q: fast %v rune %v", ty, v, a, b)
				bad++
			}
		}
	}
}
