package config

import (
	"strings"
	"testing"
)

// wildMatchRef is the definition of wildMatch, by trying every split at
// each star: exponential in the number of stars, for comparison on short
// inputs only.
func wildMatchRef(pat, s string) bool {
	for len(pat) > 0 {
		switch pat[0] {
		case '*':
			for len(pat) > 0 && pat[0] == '*' {
				pat = pat[1:]
			}
			if pat == "" {
				return true
			}
			for i := 0; i <= len(s); i++ {
				if wildMatchRef(pat, s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
			_, w := decodeRune(s)
			pat, s = pat[1:], s[w:]
		case '\\':
			if len(pat) < 2 || s == "" || s[0] != pat[1] {
				return false
			}
			pat, s = pat[2:], s[1:]
		default:
			if s == "" || s[0] != pat[0] {
				return false
			}
			pat, s = pat[1:], s[1:]
		}
	}
	return s == ""
}

// TestWildMatch compares wildMatch with its definition on every pattern
// and key over a small alphabet (stars, '?', an escape, a two-byte
// character), and matches a pattern of many stars against a long key,
// which the definition's backtracking would take years for (FuzzParsePath
// found a key of a few thousand bytes that took minutes).
func TestWildMatch(t *testing.T) {
	patAlpha := []string{"*", "?", "a", "\\a", "\\*", "é", "b"}
	keyAlpha := []string{"a", "b", "*", "é", "\xc3"}
	var pats, keys []string
	var gen func(alpha []string, prefix string, n int, out *[]string)
	gen = func(alpha []string, prefix string, n int, out *[]string) {
		*out = append(*out, prefix)
		if n == 0 {
			return
		}
		for _, a := range alpha {
			gen(alpha, prefix+a, n-1, out)
		}
	}
	gen(patAlpha, "", 4, &pats)
	gen(keyAlpha, "", 4, &keys)
	pats = append(pats, "\\") // a trailing backslash matches nothing
	for _, p := range pats {
		for _, k := range keys {
			if got, want := wildMatch(p, k), wildMatchRef(p, k); got != want {
				t.Fatalf("wildMatch(%q, %q) = %v, want %v", p, k, got, want)
			}
		}
	}
	long := strings.Repeat("\xdd", 5000) + "x"
	if wildMatch("*?*??*?*?*?*?*?*0", long) || !wildMatch("*?*??*?*?*?*?*?*x", long) {
		t.Error("many stars against a long key")
	}
}
