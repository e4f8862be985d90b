package rewrite

// Thirty-ninth review, reviewer b (of 8b17e91). Each test fails on the
// code as reviewed.

import "testing"

// Finding 1 (8b17e91 reads a page's &#43; / &plus; only as form data's
// escaped '+'; same gap in 8b17e91^). 8b17e91 made a script's escaped '+'
// a written '+' to form data because a script decodes it before form data
// reads it. A page does the same with its character references in an
// attribute: <a href="/s?q=6222&#43;0263&#43;3741&#43;7020%2B86"> is, to
// the browser, the link /s?q=6222+0263+3741+7020%2B86, and to
// URLSearchParams or PHP q = "6222 0263 3741 7020+86" (review37b's card
// and country code). decodeKinds counts &#43; as escaped, so plusMixed
// is false (no written '+'), the form reading never runs, and te/tk read
// every '+' alike ("… 7020 86" / "…+7020+86") and find no card. The card
// goes out whole in a Text body and in a JSON string; with '+' written
// (review37b) or plain spaces it is masked.
func TestReview39bPageEscapedPlusIsWrittenToFormData(t *testing.T) {
	review35bCheck(t, []review35bCase{
		{`<a href="/s?q=6222 0263 3741 7020+86">x</a>`, `<a href="/s?q=6222&#43;0263&#43;3741&#43;7020%2B86">x</a>`, Text, "3741"},
		{`<a href="/s?q=6222 0263 3741 7020+86">x</a>`, `<a href="/s?q=6222&plus;0263&plus;3741&plus;7020%2B86">x</a>`, Text, "3741"},
		{`<a href="/s?q=6222 0263 3741 7020+86">x</a>`, `<a href="/s?q=6222&#x2b;0263&#x2b;3741&#x2b;7020%2B86">x</a>`, Text, "3741"},
		{`{"html":"<a href=\"/s?q=6222 0263 3741 7020+86\">x</a>"}`, `{"html":"<a href=\"/s?q=6222&#43;0263&#43;3741&#43;7020%2B86\">x</a>"}`, JSON, "3741"},
	})
}
