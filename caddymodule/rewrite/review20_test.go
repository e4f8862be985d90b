package rewrite

import "testing"

// 50a2555: a '+' before the first digit counts as +86 only when "86"
// follows it at once (plus86(v[p+w:])). README: "any dash, zero-width or
// no-break space" is not part of the value and 138-1234-5678 and
// +8613812345678 give the same pseudonym; a separator between the '+' and
// the 86 now makes the mainland number a "foreign" one whose canonical
// form is "+8613812345678", so its pseudonym differs. Before 50a2555 all
// of these hashed alike.
func TestReview20HashSeparatorAfterPlusBefore86(t *testing.T) {
	for _, c := range []struct{ key, v, same string }{
		{"mobile", `+\u200b86 138 1234 5678`, `+8613812345678`},
		{"mobile", `+\u00a086 138 1234 5678`, `+8613812345678`},
		{"mobile", `+ 86 138 1234 5678`, `+8613812345678`},
		{"landline", `+\u200b86 10 1234 5678`, `010-12345678`},
	} {
		a := r17(t, "hash", nil, `{"`+c.key+`":"`+c.v+`"}`)
		b := r17(t, "hash", nil, `{"`+c.key+`":"`+c.same+`"}`)
		if a != b {
			t.Errorf("%s and %s, one number, get different pseudonyms:\n%s\n%s", c.v, c.same, a, b)
		}
	}
}
