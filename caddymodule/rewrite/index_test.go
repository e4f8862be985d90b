package rewrite

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"testing"
)

// The byte-at-a-time scanner the structural index replaced is kept here as
// the reference the index is checked against.

// refStrStop marks the bytes that end the fast scan through a string: the
// closing quote, an escape, and control characters, which JSON forbids raw.
var refStrStop = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'] = true
	t['\\'] = true
	return t
}()

// refStringEnd returns the offset just past the string whose opening quote is
// at src[i], and whether it holds escapes.
func refStringEnd(src []byte, i int) (end int, escaped bool, err error) {
	j := i + 1
	for {
		// Eight bytes at a time while none of them is a quote, a backslash
		// or a control character (SWAR: the classic has-zero-byte test).
		for j+8 <= len(src) {
			v := binary.LittleEndian.Uint64(src[j:])
			if m := (hasZero(v^quotes) | hasZero(v^backslashes) | hasLess(v, 0x20)) & msb; m != 0 {
				// The lowest flagged byte is exact (false flags only
				// follow a true one): jump to it.
				j += bits.TrailingZeros64(m) / 8
				break
			}
			j += 8
		}
		for j < len(src) && !refStrStop[src[j]] {
			j++
		}
		if j >= len(src) {
			return 0, false, syntaxErr(src, i, "unterminated string")
		}
		switch c := src[j]; {
		case c == '"':
			return j + 1, escaped, nil
		case c == '\\':
			escaped = true
			if j+1 < len(src) && src[j+1] < 0x20 {
				// raw even when escaped: the index reports it too
				return 0, false, syntaxErr(src, j+1, "control character in string")
			}
			j += 2
		default:
			return 0, false, syntaxErr(src, j, "control character in string")
		}
	}
}

// naiveMasks is the per-byte definition of the raw masks.
func naiveMasks(src []byte, ix []uint64) {
	for i, c := range src {
		o, bit := i/64*ixWords, uint64(1)<<(i%64)
		switch {
		case c == '"':
			ix[o+ixQuote] |= bit
		case c == '\\':
			ix[o+ixSlash] |= bit
		case c == '{' || c == '}' || c == '[' || c == ']':
			ix[o+ixBracket] |= bit
		case c < 0x20:
			ix[o+ixCtrl] |= bit
		}
	}
}

func TestRawMasks(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("\"\\{}[]:, \x00\x1f\x20\x7f\x80\xfe\xffa0\xe2\x5b\x7b")
	for n := 0; n < 2000; n++ {
		src := make([]byte, 64*(1+r.IntN(4)))
		for i := range src {
			if r.IntN(2) == 0 {
				src[i] = alphabet[r.IntN(len(alphabet))]
			} else {
				src[i] = byte(r.IntN(256))
			}
		}
		want := make([]uint64, len(src)/64*ixWords)
		naiveMasks(src, want)
		gen := make([]uint64, len(want))
		rawMasksGeneric(src, gen)
		for i := range want {
			if gen[i] != want[i] {
				t.Fatalf("word %d of %q: naive %064b, generic %064b", i, src, want[i], gen[i])
			}
		}
	}
}

// TestIndexBlocks checks the AVX2 index against the portable one, state
// carried across calls included, on inputs dense in quotes, backslashes,
// brackets and control characters.
func TestIndexBlocks(t *testing.T) {
	if !hasAVX2 {
		t.Skip("no AVX2 and PCLMULQDQ here, or built with purego: only the portable index runs")
	}
	r := rand.New(rand.NewPCG(7, 8))
	alphabet := []byte("\"\"\\\\\\{}[]:, \x00\x1f\x20\x80\xffa")
	for n := 0; n < 5000; n++ {
		nb := 1 + r.IntN(6)
		src := make([]byte, 64*nb)
		for i := range src {
			src[i] = alphabet[r.IntN(len(alphabet))]
		}
		split := 64 * r.IntN(nb+1) // two calls, the state carried between
		want := make([]uint64, nb*ixWords)
		var ws indexState
		wantBad := indexBlocksGeneric(src[:split], want, &ws)
		wantBad = indexBlocksGeneric(src[split:], want[split/64*ixWords:], &ws) || wantBad
		got := make([]uint64, nb*ixWords)
		var gs indexState
		gotBad := indexBlocks(src[:split], got, &gs)
		gotBad = indexBlocks(src[split:], got[split/64*ixWords:], &gs) || gotBad
		if gotBad != wantBad || gs != ws {
			t.Fatalf("%q split at %d: control %v, state %+v; portable %v, %+v", src, split, gotBad, gs, wantBad, ws)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%q split at %d, word %d: AVX2 %064b, portable %064b", src, split, i, got[i], want[i])
			}
		}
	}
}

// checkIndex walks src as the old scanner did, from string to string and
// bracket to bracket outside strings, and checks that the index agrees at
// every one.
func checkIndex(t *testing.T, src []byte) {
	w := &walker{e: &Engine{maxDepth: 1 << 30}, src: src}
	err := w.index(src)
	// The reference: the first control character inside a string.
	var refErr error
	// A backslash outside strings is not JSON, and the two may read what
	// follows differently (the index takes it for an escape): stop there.
	valid := len(src)
	for i := 0; i < len(src); i++ {
		if src[i] == '\\' {
			valid = i
			break
		}
		if src[i] != '"' {
			continue
		}
		end, _, e := refStringEnd(src, i)
		if e != nil {
			if bytes.Contains([]byte(e.Error()), []byte("control")) {
				refErr = e
			}
			break
		}
		i = end - 1
	}
	if valid < len(src) {
		// Only the part before the backslash can be compared.
		src = src[:valid]
		w.src = src
		if err != nil && refErr == nil {
			return
		}
	}
	if (err != nil) != (refErr != nil) || err != nil && err.Error() != refErr.Error() {
		t.Fatalf("%q: index error %v, reference %v", src, err, refErr)
	}
	if err != nil {
		return
	}
	for i := 0; i < len(src); i++ {
		switch src[i] {
		case '"':
			end, esc, e := w.strEnd(i)
			rEnd, rEsc, rErr := refStringEnd(src, i)
			if end != rEnd || esc != rEsc || (e != nil) != (rErr != nil) {
				t.Fatalf("%q: string at %d: index %d %v %v, reference %d %v %v", src, i, end, esc, e, rEnd, rEsc, rErr)
			}
			if _, _, ok := strEndIx(w.ix, len(src), i); !ok {
				// The object loop's path for strings that leave their block.
				nEnd, nEsc, nErr := w.strEndNext(i)
				if nEnd != end || nEsc != esc || (nErr != nil) != (e != nil) {
					t.Fatalf("%q: string at %d: strEndNext %d %v %v, strEnd %d %v %v", src, i, nEnd, nEsc, nErr, end, esc, e)
				}
			}
			if e != nil {
				return
			}
			i = end - 1
		case '{', '[':
			end, e := w.containerEnd(i)
			rEnd, rErr := refContainerEnd(src, i)
			if end != rEnd || (e != nil) != (rErr != nil) {
				t.Fatalf("%q: container at %d: index %d %v, reference %d %v", src, i, end, e, rEnd, rErr)
			}
		}
	}
}

func refContainerEnd(src []byte, i int) (int, error) {
	depth := 0
	for j := i; j < len(src); {
		switch src[j] {
		case '"':
			end, _, err := refStringEnd(src, j)
			if err != nil {
				return 0, err
			}
			j = end
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth--; depth == 0 {
				return j + 1, nil
			}
		}
		j++
	}
	return 0, syntaxErr(src, i, "unterminated container")
}

func TestIndexAgreesWithScanner(t *testing.T) {
	for _, s := range []string{
		``, `"`, `""`, `"\\"`, `"\\\\"`, `"\\\""`, `"a\x01"`, `{"a":[1,{"b":"]"}],"c":"\\\\\\"}"}`,
		`{"k":"` + string(bytes.Repeat([]byte(`\\`), 40)) + `"}`,
		`[` + string(bytes.Repeat([]byte(`"x\\\"{[",`), 30)) + `1]`,
		string(bytes.Repeat([]byte(`{"a":"b"}`), 20)) + "\n\"\t\"",
	} {
		checkIndex(t, []byte(s))
	}
	r := rand.New(rand.NewPCG(3, 4))
	alphabet := []byte("\"\"\"\\\\{}[]a \n")
	for n := 0; n < 5000; n++ {
		src := make([]byte, r.IntN(300))
		for i := range src {
			src[i] = alphabet[r.IntN(len(alphabet))]
		}
		checkIndex(t, src)
	}
}

func FuzzIndex(f *testing.F) {
	f.Add([]byte(`{"a":"\\\"","b":[{"c":"}"}]}`))
	f.Add(bytes.Repeat([]byte(`\\"`), 50))
	f.Fuzz(func(t *testing.T, src []byte) {
		// The reference scans from every bracket to its match: quadratic,
		// so keep inputs to a few blocks (plenty for carries across them).
		if len(src) > 4096 {
			src = src[:4096]
		}
		checkIndex(t, src)
	})
}
