//go:build !amd64 || purego

package rewrite

const hasAVX2 = false

// rawMasks computes the raw masks of whole 64-byte blocks.
func rawMasks(src []byte, ix []uint64) { rawMasksGeneric(src, ix) }
