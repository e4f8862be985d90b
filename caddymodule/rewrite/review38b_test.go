package rewrite

// Thirty-eighth review, reviewer b (of 6556df9, with c753bb7 and b07b1cc).
// Each test fails on the code as reviewed.

import "testing"

// Finding 1 (6556df9's plusMixed counts a script's escaped '+' as form
// data's escaped one). decodeKinds sets "escaped" for any escape that
// stands for a '+', a script's \u002b, \x2b and \+ included. But a script
// shows those as a '+' as written, which form data (URLSearchParams, PHP)
// then reads as a space; only %2B (or, after form data, &#43;) is form
// data's '+'. So var n = "6222\u002b0263\u002b3741\u002b7020%2B86" is,
// to a script that hands the string to URLSearchParams, the card and
// country code "6222 0263 3741 7020+86" of review37b. te has no written
// '+' there, plusMixed stays false and decodeForm never runs; te and tk
// read every '+' alike ("… 7020 86" / "…+7020+86") and find no card.
// The card goes out whole in a one-string Text body, in a JSON string
// that holds a script's text (\\u002b), and in a key; with the '+' as
// written (review37b) or the spaces plain, it is masked.
func TestReview38bScriptEscapedPlusIsWrittenToFormData(t *testing.T) {
	review35bCheck(t, []review35bCase{
		{`var n = "6222 0263 3741 7020+86";`, `var n = "6222\u002b0263\u002b3741\u002b7020%2B86";`, Text, "3741"},
		{`var n = "6222 0263 3741 7020+86";`, `var n = "6222\x2b0263\x2b3741\x2b7020%2B86";`, Text, "3741"},
		{`6222 0263 3741 7020+86`, `6222\+0263\+3741\+7020&#43;86`, Text, "3741"},
		{`{"n":"6222 0263 3741 7020+86"}`, `{"n":"6222\\u002b0263\\u002b3741\\u002b7020%2B86"}`, JSON, "3741"},
		{`{"6222 0263 3741 7020+86":1}`, `{"6222\\u002b0263\\u002b3741\\u002b7020%2B86":1}`, JSON, "3741"},
	})
}

// Finding 2 (6556df9's decodeForm is decodePage's: no script escapes,
// the same gap b07b1cc closed for the keep-'+' reading). Where plusMixed
// is set, the form reading leaves a script's escapes as written, so a
// digit a script escapes (\u0030, \x30, or Python's json.dumps escaping
// of full-width digits, \uff10…) breaks the card in that reading, and
// the readings that decode it read the '+' alike. A script shows
// "6222+0263+3741+7020%2B86", form data "6222 0263 3741 7020+86": the
// card goes out whole in Text bodies, JSON strings holding a script's
// text, and keys.
func TestReview38bFormReadingWithScriptEscapes(t *testing.T) {
	review35bCheck(t, []review35bCase{
		{`q=6222 0263 3741 7020+86`, `q=6222+0263+3741+702\u0030%2B86`, Text, "3741"},
		{`var q = "\uff16\uff12\uff12\uff12 \uff10\uff12\uff16\uff13 \uff13\uff17\uff14\uff11 \uff17\uff10\uff12\uff10+86";`,
			`var q = "\uff16\uff12\uff12\uff12+\uff10\uff12\uff16\uff13+\uff13\uff17\uff14\uff11+\uff17\uff10\uff12\uff10%2B86";`, Text, `\uff13\uff17\uff14\uff11`},
		{`{"n":"6222 0263 3741 7020+86"}`, `{"n":"6222+0263+3741+702\\x30%2B86"}`, JSON, "3741"},
		{`{"6222 0263 3741 7020+86":1}`, `{"6222+0263+3741+702\\u0030%2B86":1}`, JSON, "3741"},
	})
}
