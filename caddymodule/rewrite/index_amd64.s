//go:build amd64 && !purego

#include "textflag.h"

// func indexAVX2(src *byte, blocks int, ix *uint64, st *indexState) (ctrl uint64)
//
// For each 64-byte block of src, writes four words to ix: the quotes that
// open or close strings (escaped ones removed), the backslashes, the
// brackets ({ } [ ]) outside strings, and the control characters inside
// strings. st carries, from block to block and call to call, whether the
// next character is escaped and whether the next block starts inside a
// string. ctrl is the OR of all blocks' last words: zero when no control
// character sits inside a string.
//
// The escape and string logic is index.go's (escapedBy, prefixXor), with
// the prefix XOR as a carry-less multiplication by all ones.
//
// Only VEX-encoded instructions touch vector registers here: a legacy SSE
// instruction (MOVQ AX, X1) after a VEX one has dirtied the upper halves
// costs a state transition, about 100 ns each on this project's machines.
TEXT ·indexAVX2(SB), NOSPLIT, $0-40
	MOVQ src+0(FP), SI
	MOVQ blocks+8(FP), CX
	MOVQ ix+16(FP), DI
	MOVQ st+24(FP), R12
	MOVQ 0(R12), R9  // 1 when the next character is escaped
	MOVQ 8(R12), R10 // all ones when inside a string
	XORQ R11, R11    // control characters inside strings, ORed

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
	MOVQ $-1, AX
	VMOVQ AX, X13       // all ones: the prefix XOR's multiplier

loop:
	TESTQ CX, CX
	JZ    done
	VMOVDQU (SI), Y6
	VMOVDQU 32(SI), Y7

	// Quotes into AX.
	VPCMPEQB  Y0, Y6, Y8
	VPCMPEQB  Y0, Y7, Y9
	VPMOVMSKB Y8, AX
	VPMOVMSKB Y9, BX
	SHLQ      $32, BX
	ORQ       BX, AX

	// Backslashes into BX, stored as they are.
	VPCMPEQB  Y1, Y6, Y8
	VPCMPEQB  Y1, Y7, Y9
	VPMOVMSKB Y8, BX
	VPMOVMSKB Y9, DX
	SHLQ      $32, DX
	ORQ       DX, BX
	MOVQ      BX, 8(DI)

	// Brackets into DX.
	VPOR      Y2, Y6, Y10
	VPOR      Y2, Y7, Y11
	VPCMPEQB  Y3, Y10, Y8
	VPCMPEQB  Y4, Y10, Y12
	VPOR      Y12, Y8, Y8
	VPCMPEQB  Y3, Y11, Y9
	VPCMPEQB  Y4, Y11, Y12
	VPOR      Y12, Y9, Y9
	VPMOVMSKB Y8, DX
	VPMOVMSKB Y9, R8
	SHLQ      $32, R8
	ORQ       R8, DX

	// Control characters into R8: x ≤ 0x1F exactly when min(x, 0x1F) == x.
	VPMINUB   Y5, Y6, Y10
	VPMINUB   Y5, Y7, Y11
	VPCMPEQB  Y6, Y10, Y8
	VPCMPEQB  Y7, Y11, Y9
	VPMOVMSKB Y8, R8
	VPMOVMSKB Y9, R13
	SHLQ      $32, R13
	ORQ       R13, R8

	// Escaped characters, when there is a backslash or a carried escape.
	MOVQ BX, R13
	ORQ  R9, R13
	JZ   noescape
	MOVQ R9, R13
	NOTQ R13
	ANDQ R13, BX             // backslashes not themselves escaped
	LEAQ (BX)(BX*1), R13
	ORQ  R9, R13             // R13: characters that follow a backslash
	MOVQ $0xAAAAAAAAAAAAAAAA, R12
	ANDQ BX, R12
	MOVQ R13, R9
	NOTQ R9
	ANDQ R9, R12             // R12: runs of backslashes starting on odd bits
	XORQ R9, R9
	ADDQ BX, R12             // their ends; the carry goes to the next block
	ADCQ $0, R9
	SHLQ $1, R12
	MOVQ $0x5555555555555555, BX
	XORQ BX, R12
	ANDQ R13, R12            // R12: escaped characters
	NOTQ R12
	ANDQ R12, AX             // quotes that delimit strings

noescape:
	MOVQ AX, 0(DI)

	// Inside strings: the prefix XOR of the quotes, from the carried state.
	VMOVQ      AX, X10
	VPCLMULQDQ $0x00, X13, X10, X10
	VMOVQ      X10, R12
	XORQ       R10, R12
	MOVQ       R12, R10
	SARQ       $63, R10

	MOVQ R12, R13
	NOTQ R13
	ANDQ R13, DX
	MOVQ DX, 16(DI)          // brackets outside strings
	ANDQ R12, R8
	MOVQ R8, 24(DI)          // control characters inside strings
	ORQ  R8, R11

	ADDQ $64, SI
	ADDQ $32, DI
	DECQ CX
	JMP  loop

done:
	MOVQ st+24(FP), R12
	MOVQ R9, 0(R12)
	MOVQ R10, 8(R12)
	MOVQ R11, ctrl+32(FP)
	VZEROUPPER
	RET

// func escapeMarksAVX2(src *byte, blocks int, out *uint64)
//
// For each 64-byte block of src, writes two words to out: the bytes that
// are '&' or '%', and the bytes that are '+' (walker.indexEscapes).
TEXT ·escapeMarksAVX2(SB), NOSPLIT, $0-24
	MOVQ src+0(FP), SI
	MOVQ blocks+8(FP), CX
	MOVQ out+16(FP), DI

	MOVQ $0x2626262626262626, AX
	VMOVQ AX, X0
	VPBROADCASTQ X0, Y0 // '&'
	MOVQ $0x2525252525252525, AX
	VMOVQ AX, X1
	VPBROADCASTQ X1, Y1 // '%'
	MOVQ $0x2B2B2B2B2B2B2B2B, AX
	VMOVQ AX, X2
	VPBROADCASTQ X2, Y2 // '+'

marks:
	TESTQ CX, CX
	JZ    marksdone
	VMOVDQU (SI), Y6
	VMOVDQU 32(SI), Y7

	VPCMPEQB  Y0, Y6, Y8
	VPCMPEQB  Y1, Y6, Y9
	VPOR      Y9, Y8, Y8
	VPCMPEQB  Y0, Y7, Y10
	VPCMPEQB  Y1, Y7, Y11
	VPOR      Y11, Y10, Y10
	VPMOVMSKB Y8, AX
	VPMOVMSKB Y10, BX
	SHLQ      $32, BX
	ORQ       BX, AX
	MOVQ      AX, 0(DI)

	VPCMPEQB  Y2, Y6, Y8
	VPCMPEQB  Y2, Y7, Y10
	VPMOVMSKB Y8, AX
	VPMOVMSKB Y10, BX
	SHLQ      $32, BX
	ORQ       BX, AX
	MOVQ      AX, 8(DI)

	ADDQ $64, SI
	ADDQ $16, DI
	DECQ CX
	JMP  marks

marksdone:
	VZEROUPPER
	RET
