package rewrite

import (
	"math/rand/v2"
	"testing"
)

// The escape index (escapeMarks, indexEscapes) must say what
// mayHoldTextEscape says of every part of a text: a string it clears
// wrongly is never read with its escapes decoded.
func TestEscapeIndexAgreesWithByteCheck(t *testing.T) {
	r := rand.New(rand.NewPCG(27, 1))
	tokens := []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "+", "+", "&", "%", "a", "b", " ", ":", "１", "９", ";", "%3"}
	w := &walker{}
	checked, marked := 0, 0
	for n := range 2000 {
		// A document of strings: ["…","…",…].
		src := []byte{'['}
		var parts [][2]int
		for k := r.IntN(12); k >= 0; k-- {
			src = append(src, '"')
			from := len(src)
			for range r.IntN(40) {
				src = append(src, tokens[r.IntN(len(tokens))]...)
			}
			parts = append(parts, [2]int{from, len(src)})
			src = append(src, '"', ',')
		}
		src[len(src)-1] = ']'
		// The AVX2 marks (on amd64) and the generic ones agree.
		full := len(src) / 64
		a, g := make([]uint64, 2*full+1), make([]uint64, 2*full+1)
		escapeMarks(src[:full*64], a)
		escapeMarksGeneric(src[:full*64], g)
		for i := range a {
			if a[i] != g[i] {
				t.Fatalf("doc %d: marks word %d: %x, generic %x", n, i, a[i], g[i])
			}
		}
		w.src, w.escDoc, w.escBuilt = src, src, false
		for _, p := range parts {
			sub := src[p[0]:p[1]]
			got, want := w.mayHoldTextEscape(sub), mayHoldTextEscape(sub)
			if got != want {
				t.Fatalf("doc %d %q, string %q: index says %v, bytes %v", n, src, sub, got, want)
			}
			checked++
			if want {
				marked++
			}
		}
	}
	if marked < checked/10 || marked > checked*9/10 {
		t.Fatalf("%d of %d strings may hold an escape: the test's texts tell little", marked, checked)
	}
}
