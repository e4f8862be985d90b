//go:build amd64 && !purego

package rewrite

import "golang.org/x/sys/cpu"

var hasAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasPCLMULQDQ

// indexBlocks indexes whole 64-byte blocks of src into ix, carrying st
// from call to call; it reports whether a control character sits inside a
// string (the blocks' last words say where).
func indexBlocks(src []byte, ix []uint64, st *indexState) bool {
	if hasAVX2 && len(src) >= 64 {
		return indexAVX2(&src[0], len(src)/64, &ix[0], st) != 0
	}
	return indexBlocksGeneric(src, ix, st)
}

//go:noescape
func indexAVX2(src *byte, blocks int, ix *uint64, st *indexState) (ctrl uint64)

// escapeMarks writes, for each whole 64-byte block of src, two words to
// out: where '&' or '%' is, and where '+' is.
func escapeMarks(src []byte, out []uint64) {
	if hasAVX2 && len(src) >= 64 {
		escapeMarksAVX2(&src[0], len(src)/64, &out[0])
		return
	}
	escapeMarksGeneric(src, out)
}

//go:noescape
func escapeMarksAVX2(src *byte, blocks int, out *uint64)
