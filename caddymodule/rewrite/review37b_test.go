package rewrite

// Thirty-seventh review, reviewer b (of c753bb7 and b07b1cc). Each test
// fails on the code as reviewed.

import "testing"

// Finding 1 (c753bb7/b07b1cc's keep-'+' readings are all-or-nothing).
// Form data (URLSearchParams, PHP, Python's parse_qs) reads a '+' as
// written as a space and %2B as a '+': "6222+0263+3741+7020%2B86" is
// "6222 0263 3741 7020+86", the README's own case of a card before "+86"
// (masked when the spaces are written plainly or as &#32;). No reading
// shows that: te/tp read every '+' between digits as a space, the
// escaped one too ("6222 0263 3741 7020 86": a card must not stop inside
// a grouped number, so none is found), and tk/tkp keep every '+'
// ("6222+0263+3741+7020+86": no groups). The card goes out whole, and
// with it a mobile that follows ("+86 138 1234 5678" is found only as
// the tail of the grouped run, which the detectors never start after an
// unmatched run). The same value with the escaped '+' written plainly
// is masked.
func TestReview37bFormDataPlusAndEscapedPlus(t *testing.T) {
	review35bCheck(t, []review35bCase{
		{`{"n":"6222 0263 3741 7020+86"}`, `{"n":"6222+0263+3741+7020%2B86"}`, JSON, "3741"},
		{`{"n":"q=6222 0263 3741 7020+86"}`, `{"n":"q=6222+0263+3741+7020%2B86"}`, JSON, "3741"},
		{`{"6222 0263 3741 7020+86":1}`, `{"6222+0263+3741+7020%2B86":1}`, JSON, "3741"},
		{`note=6222 0263 3741 7020+86`, `note=6222+0263+3741+7020%2B86`, Text, "3741"},
		{`{"n":"6222 0263 3741 7020+86"}`, `{"n":"6222+0263+3741+7020&#43;86"}`, JSON, "3741"},
		{`{"n":"6222 0263 3741 7020+86 138 1234 5678"}`, `{"n":"6222+0263+3741+7020%2B86+138+1234+5678"}`, JSON, "1234"},
	})
}
