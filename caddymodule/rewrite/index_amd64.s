//go:build amd64 && !purego

#include "textflag.h"

// func rawMasksAVX2(src *byte, blocks int, ix *uint64)
//
// For each 64-byte block of src, writes four words to ix: the bits of its
// quotes, backslashes, brackets ({ } [ ]) and control characters (< 0x20).
//
// Only VEX-encoded instructions touch vector registers here: a legacy SSE
// instruction (MOVQ AX, X1) after a VEX one has dirtied the upper halves
// costs a state transition, about 100 ns each on this project's machines.
TEXT ·rawMasksAVX2(SB), NOSPLIT, $0-24
	MOVQ src+0(FP), SI
	MOVQ blocks+8(FP), CX
	MOVQ ix+16(FP), DI

	MOVQ $0x2222222222222222, AX
	VMOVQ AX, X0
	VPBROADCASTQ X0, Y0 // '"'
	MOVQ $0x5C5C5C5C5C5C5C5C, AX
	VMOVQ AX, X1
	VPBROADCASTQ X1, Y1 // '\\'
	MOVQ $0x2020202020202020, AX
	VMOVQ AX, X2
	VPBROADCASTQ X2, Y2 // bit 5: [ ] to { }
	MOVQ $0x7B7B7B7B7B7B7B7B, AX
	VMOVQ AX, X3
	VPBROADCASTQ X3, Y3 // '{'
	MOVQ $0x7D7D7D7D7D7D7D7D, AX
	VMOVQ AX, X4
	VPBROADCASTQ X4, Y4 // '}'
	MOVQ $0x1F1F1F1F1F1F1F1F, AX
	VMOVQ AX, X5
	VPBROADCASTQ X5, Y5 // last control character

loop:
	TESTQ CX, CX
	JZ    done
	VMOVDQU (SI), Y6
	VMOVDQU 32(SI), Y7

	VPCMPEQB Y0, Y6, Y8
	VPCMPEQB Y0, Y7, Y9
	VPMOVMSKB Y8, AX
	VPMOVMSKB Y9, BX
	SHLQ $32, BX
	ORQ  BX, AX
	MOVQ AX, 0(DI)

	VPCMPEQB Y1, Y6, Y8
	VPCMPEQB Y1, Y7, Y9
	VPMOVMSKB Y8, AX
	VPMOVMSKB Y9, BX
	SHLQ $32, BX
	ORQ  BX, AX
	MOVQ AX, 8(DI)

	VPOR     Y2, Y6, Y10
	VPOR     Y2, Y7, Y11
	VPCMPEQB Y3, Y10, Y8
	VPCMPEQB Y4, Y10, Y12
	VPOR     Y12, Y8, Y8
	VPCMPEQB Y3, Y11, Y9
	VPCMPEQB Y4, Y11, Y13
	VPOR     Y13, Y9, Y9
	VPMOVMSKB Y8, AX
	VPMOVMSKB Y9, BX
	SHLQ $32, BX
	ORQ  BX, AX
	MOVQ AX, 16(DI)

	// x ≤ 0x1F exactly when min(x, 0x1F) == x (unsigned).
	VPMINUB  Y5, Y6, Y10
	VPMINUB  Y5, Y7, Y11
	VPCMPEQB Y6, Y10, Y8
	VPCMPEQB Y7, Y11, Y9
	VPMOVMSKB Y8, AX
	VPMOVMSKB Y9, BX
	SHLQ $32, BX
	ORQ  BX, AX
	MOVQ AX, 24(DI)

	ADDQ $64, SI
	ADDQ $32, DI
	DECQ CX
	JMP  loop

done:
	VZEROUPPER
	RET
