//go:build !amd64 || purego

package rewrite

const hasAVX2 = false

// indexBlocks indexes whole 64-byte blocks of src into ix, carrying st
// from call to call; it reports whether a control character sits inside a
// string (the blocks' last words say where).
func indexBlocks(src []byte, ix []uint64, st *indexState) bool {
	return indexBlocksGeneric(src, ix, st)
}

// escapeMarks writes, for each whole 64-byte block of src, two words to
// out: where '&' or '%' is, and where '+' is.
func escapeMarks(src []byte, out []uint64) { escapeMarksGeneric(src, out) }
