package detectorstest

import (
	"math/rand/v2"
	"strings"
)

// Gen generates fake personal data, look-alikes and labelled texts. All of
// its output is a function of the seed it was created with. A Gen is not safe
// for concurrent use.
type Gen struct {
	r *rand.Rand
}

// New returns a generator seeded with seed.
func New(seed int64) *Gen {
	return &Gen{r: rand.New(rand.NewPCG(uint64(seed), 0x5eedf00d9a7e5eed))}
}

// intn returns a number in [0, n).
func (g *Gen) intn(n int) int { return g.r.IntN(n) }

// between returns a number in [lo, hi].
func (g *Gen) between(lo, hi int) int { return lo + g.r.IntN(hi-lo+1) }

// chance reports true with probability p.
func (g *Gen) chance(p float64) bool { return g.r.Float64() < p }

func pick[T any](g *Gen, xs []T) T { return xs[g.r.IntN(len(xs))] }

// digits returns n random decimal digits.
func (g *Gen) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + g.r.IntN(10))
	}
	return string(b)
}

// letters returns n random capital letters from the alphabet set.
func (g *Gen) letters(n int, set string) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = set[g.r.IntN(len(set))]
	}
	return string(b)
}

// weighted returns an index into weights, chosen proportionally.
func (g *Gen) weighted(weights ...int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := g.r.IntN(total)
	for i, w := range weights {
		if n < w {
			return i
		}
		n -= w
	}
	return len(weights) - 1
}

const (
	upper        = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	upperNoIO    = "ABCDEFGHJKLMNPQRSTUVWXYZ"
	lower        = "abcdefghijklmnopqrstuvwxyz"
	hexDigits    = "0123456789abcdef"
	digitSet     = "0123456789"
	plateLetters = upperNoIO
)

// group splits s into groups of the given sizes joined by sep; the last group
// takes whatever is left.
func group(s, sep string, sizes ...int) string {
	var b strings.Builder
	for _, n := range sizes {
		if len(s) <= n {
			break
		}
		b.WriteString(s[:n])
		b.WriteString(sep)
		s = s[n:]
	}
	b.WriteString(s)
	return b.String()
}

// groupsOf4 splits s into groups of four joined by sep.
func groupsOf4(s, sep string) string {
	var b strings.Builder
	for i := 0; i < len(s); i += 4 {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(s[i:min(i+4, len(s))])
	}
	return b.String()
}

// FullWidth returns s with ASCII digits, letters and brackets replaced by
// their full-width forms (１３８…, Ａ, （）), as a Chinese input method in
// full-width mode types them.
func FullWidth(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9', r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z', r == '(', r == ')':
			b.WriteRune(r + 0xFEE0)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// ASCII returns s with full-width ASCII forms (U+FF01–U+FF5E) and the
// ideographic space replaced by their ASCII equivalents.
func ASCII(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 0xFF01 && r <= 0xFF5E:
			b.WriteRune(r - 0xFEE0)
		case r == 0x3000:
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
