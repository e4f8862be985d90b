//go:build amd64 && !purego

package rewrite

import "golang.org/x/sys/cpu"

var hasAVX2 = cpu.X86.HasAVX2

// rawMasks computes the raw masks of whole 64-byte blocks.
func rawMasks(src []byte, ix []uint64) {
	if hasAVX2 && len(src) >= 64 {
		rawMasksAVX2(&src[0], len(src)/64, &ix[0])
		return
	}
	rawMasksGeneric(src, ix)
}

//go:noescape
func rawMasksAVX2(src *byte, blocks int, ix *uint64)
