package rewrite

import (
	"encoding/binary"
	"math/bits"
)

// The structural index: before walking a document, one pass over it marks,
// one bit per input byte, the quotes that open or close strings, the
// backslashes, and the brackets that are not inside strings (the first
// stage of simdjson, Langdale and Lemire, "Parsing Gigabytes of JSON per
// Second", 2019). The walker then finds the end of a string or of a
// skipped container by scanning words of bits, not bytes. The whole stage
// runs in AVX2 where the CPU has it (index_amd64.s: the same steps, the
// prefix XOR as a carry-less multiplication), eight bytes at a time in Go
// otherwise.

// Words of one block in the index.
const (
	ixQuote   = iota // quotes that open or close a string
	ixSlash          // backslashes
	ixBracket        // { } [ ] outside strings
	ixCtrl           // control characters inside strings
	ixWords
)

// index fills w.ix for src and reports a control character inside a
// string, which JSON forbids, as the only error it can find.
func (w *walker) index(src []byte) error {
	w.escBuilt, w.escDoc = false, src // the escape index is of another text
	nb := (len(src) + 63) / 64
	if cap(w.ix) < nb*ixWords {
		w.ix = make([]uint64, nb*ixWords, nb*ixWords+nb*ixWords/4)
	}
	ix := w.ix[:nb*ixWords]
	w.ix = ix
	full := len(src) / 64
	var st indexState
	bad := indexBlocks(src[:full*64], ix, &st)
	if full < nb {
		// The last partial block, padded with spaces (which flag nothing).
		var pad [64]byte
		for i := copy(pad[:], src[full*64:]); i < 64; i++ {
			pad[i] = ' '
		}
		bad = indexBlocks(pad[:], ix[full*ixWords:], &st) || bad
	}
	if bad {
		for b := 0; b < nb; b++ {
			if c := ix[b*ixWords+ixCtrl]; c != 0 {
				return syntaxErr(src, b*64+bits.TrailingZeros64(c), "control character in string")
			}
		}
	}
	return nil
}

// indexState is what indexing carries from one block to the next.
type indexState struct {
	escaped  uint64 // 1 when the next block's first character is escaped
	inString uint64 // all ones when the next block starts inside a string
}

// indexBlocksGeneric is indexBlocks in Go, eight bytes at a time.
func indexBlocksGeneric(src []byte, ix []uint64, st *indexState) bool {
	rawMasksGeneric(src, ix)
	var ctrl uint64
	for b := 0; b+ixWords <= len(src)/64*ixWords; b += ixWords {
		blk := ix[b : b+ixWords : b+ixWords]
		quote := blk[ixQuote]
		if slash := blk[ixSlash]; slash|st.escaped != 0 {
			quote &^= escapedBy(slash, &st.escaped)
			blk[ixQuote] = quote
		}
		in := st.inString
		if quote != 0 {
			in ^= prefixXor(quote)
			st.inString = uint64(int64(in) >> 63)
		}
		blk[ixBracket] &^= in
		blk[ixCtrl] &= in
		ctrl |= blk[ixCtrl]
	}
	return ctrl != 0
}

// escapedBy returns the bits of the characters that backslashes escape in
// a block whose backslashes are slash; *carry says whether the first
// character is escaped by the block before, and is updated for the next.
// (simdjson's branchless find_escaped.)
func escapedBy(slash uint64, carry *uint64) uint64 {
	const even = 0x5555555555555555
	slash &^= *carry
	follows := slash<<1 | *carry
	oddStarts := slash &^ even &^ follows
	sum, overflow := bits.Add64(oddStarts, slash, 0)
	*carry = overflow
	return (even ^ sum<<1) & follows
}

// prefixXor sets each bit to the parity of the bits at and below it: with
// quote bits in, the bits inside strings (opening quote included) out.
func prefixXor(x uint64) uint64 {
	x ^= x << 1
	x ^= x << 2
	x ^= x << 4
	x ^= x << 8
	x ^= x << 16
	x ^= x << 32
	return x
}

// rawMasksGeneric computes the raw masks of whole 64-byte blocks, eight
// bytes at a time.
func rawMasksGeneric(src []byte, ix []uint64) {
	for b := 0; b+64 <= len(src); b += 64 {
		var q, s, br, ct uint64
		for k := 0; k < 8; k++ {
			v := binary.LittleEndian.Uint64(src[b+8*k:])
			sh := uint(8 * k)
			q |= moveMask(eqBytes(v, '"')) << sh
			s |= moveMask(eqBytes(v, '\\')) << sh
			// { and } are [ and ] with bit 5 set.
			lower := v | lsb*0x20
			br |= moveMask(eqBytes(lower, '{')|eqBytes(lower, '}')) << sh
			ct |= moveMask(lessBytes(v, 0x20)) << sh
		}
		o := b / 64 * ixWords
		ix[o+ixQuote], ix[o+ixSlash], ix[o+ixBracket], ix[o+ixCtrl] = q, s, br, ct
	}
}

// eqBytes has the high bit set in exactly the bytes of v equal to c.
func eqBytes(v uint64, c byte) uint64 {
	x := v ^ lsb*uint64(c)
	const low7 = 0x7F7F7F7F7F7F7F7F
	return ^((x&low7 + low7) | x | low7)
}

// lessBytes has the high bit set in exactly the bytes of v below n (n ≤ 128).
func lessBytes(v uint64, n byte) uint64 {
	const low7 = 0x7F7F7F7F7F7F7F7F
	// bytes ≥ 128 are never below n; for the rest, adding 128-n carries
	// into bit 7 exactly when the byte is at least n.
	return ^((v&low7 + lsb*uint64(128-n)) | v | low7)
}

// moveMask gathers the high bits of v's bytes into the low eight bits.
func moveMask(v uint64) uint64 {
	return (v >> 7 & lsb) * 0x0102040810204080 >> 56
}

// strEnd returns the offset just past the string whose opening quote is at
// src[i] (src being the indexed w.src), and whether it holds escapes.
func (w *walker) strEnd(i int) (end int, escaped bool, err error) {
	if end, escaped, ok := w.strEndFast(i); ok {
		return end, escaped, nil
	}
	ix, n := w.ix, len(w.src)
	b := i >> 6
	m := ix[b*ixWords+ixQuote] & (^uint64(0) << (uint(i) & 63) << 1)
	for m == 0 {
		if b++; b*64 >= n {
			return 0, false, syntaxErr(w.src, i, "unterminated string")
		}
		m = ix[b*ixWords+ixQuote]
	}
	end = b*64 + bits.TrailingZeros64(m)
	if end >= n {
		return 0, false, syntaxErr(w.src, i, "unterminated string")
	}
	return end + 1, w.anySlash(i+1, end), nil
}

// strEndNext is strEnd for the string at i that strEndIx found not closed
// in its own block: most such strings close in the next one, which is
// looked at directly, escapes included, before the general loop.
func (w *walker) strEndNext(i int) (end int, escaped bool, err error) {
	ix := w.ix
	o := (i>>6 + 1) * ixWords
	if o < len(ix) {
		if m := ix[o+ixQuote]; m != 0 {
			end = (i>>6+1)*64 + bits.TrailingZeros64(m)
			if end < len(w.src) {
				escaped = ix[o-ixWords+ixSlash]&(^uint64(0)<<(uint(i)&63)<<1) != 0 ||
					ix[o+ixSlash]&(m^(m-1)) != 0
				return end + 1, escaped, nil
			}
		}
	}
	return w.strEnd(i)
}

// anySlash reports whether src[from:to] holds a backslash.
func (w *walker) anySlash(from, to int) bool {
	if from >= to {
		return false
	}
	ix := w.ix
	fb, lb := from>>6, (to-1)>>6
	lo := ^uint64(0) << (uint(from) & 63)
	hi := ^uint64(0) >> (63 - uint(to-1)&63)
	if fb == lb {
		return ix[fb*ixWords+ixSlash]&lo&hi != 0
	}
	if ix[fb*ixWords+ixSlash]&lo != 0 || ix[lb*ixWords+ixSlash]&hi != 0 {
		return true
	}
	for b := fb + 1; b < lb; b++ {
		if ix[b*ixWords+ixSlash] != 0 {
			return true
		}
	}
	return false
}

// containerEnd returns the offset just past the object or array whose
// opening bracket is at src[i], without looking inside.
func (w *walker) containerEnd(i int) (int, error) {
	ix, src := w.ix, w.src
	b := i >> 6
	m := ix[b*ixWords+ixBracket] & (^uint64(0) << (uint(i) & 63))
	depth := 0
	for {
		for ; m != 0; m &= m - 1 {
			p := b*64 + bits.TrailingZeros64(m)
			if p >= len(src) {
				return 0, syntaxErr(src, i, "unterminated container")
			}
			if c := src[p]; c == '{' || c == '[' {
				if depth++; w.depth+depth > w.e.maxDepth {
					return 0, ErrTooDeep
				}
			} else if depth--; depth == 0 {
				return p + 1, nil
			}
		}
		if b++; b*64 >= len(src) {
			return 0, syntaxErr(src, i, "unterminated container")
		}
		m = ix[b*ixWords+ixBracket]
	}
}

// strEndFast is strEnd for a string that ends in the block it starts in,
// small enough to be inlined; ok is false when the caller must call
// strEnd.
func (w *walker) strEndFast(i int) (end int, escaped, ok bool) {
	return strEndIx(w.ix, len(w.src), i)
}

// strEndIx is strEndFast on the index ix of a text of n bytes, for loops
// that keep the index in a local variable (a method reads w.ix again after
// every write through w).
func strEndIx(ix []uint64, n, i int) (end int, escaped, ok bool) {
	o := i >> 6 * ixWords
	after := ^uint64(0) << (uint(i) & 63) << 1
	m := ix[o+ixQuote] & after
	end = i&^63 + bits.TrailingZeros64(m)
	return end + 1, ix[o+ixSlash]&after&(m^(m-1)) != 0, m != 0 && end < n
}

// escapeMarksGeneric is escapeMarks in Go, eight bytes at a time.
func escapeMarksGeneric(src []byte, out []uint64) {
	for b := 0; b+64 <= len(src); b += 64 {
		var ap, p uint64
		for k := 0; k < 8; k++ {
			v := binary.LittleEndian.Uint64(src[b+8*k:])
			sh := uint(8 * k)
			ap |= moveMask(eqBytes(v, '&')|eqBytes(v, '%')) << sh
			p |= moveMask(eqBytes(v, '+')) << sh
		}
		out[b/64*2], out[b/64*2+1] = ap, p
	}
}
