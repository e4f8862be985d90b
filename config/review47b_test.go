package config

import "testing"

// Finding 4 (valid configuration refused, low): CompileRoute's same-depth
// overlap check (route.go) takes two key patterns with wildcards to
// overlap whenever their literal starts and ends agree (componentsOverlap
// → literalEnds), counting `?` as `*`. Patterns whose `?`s fix different
// key lengths never match one key — `phone?` (phone1…phone9, six
// characters) and `phone??` (seven) — yet are refused as "can reach the
// same value with different types", as are `id_??` and `id_???`. A legacy
// schema that numbers its columns this way (tel1, tel12) cannot type them
// apart. Expected: patterns without `*` are compared by length too (a key
// pattern made of literals and `?` matches keys of one rune count only;
// two such of different counts never overlap), so these compile.
func TestReview47bQuestionMarkPatternsOfDifferentLengths(t *testing.T) {
	for _, pair := range [][2]string{{"data.phone?", "data.phone??"}, {"rows.#.id_??", "rows.#.id_???"}} {
		_, err := CompileRoute(Route{Fields: []Field{{Path: pair[0], Type: "cn_mobile"}, {Path: pair[1], Type: "email"}}})
		if err != nil {
			t.Errorf("%s and %s can never reach one value (different key lengths), refused: %v", pair[0], pair[1], err)
		}
	}
}
