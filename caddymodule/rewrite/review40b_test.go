package rewrite

// Fortieth review, reviewer b (of 5641714). Each test fails on the code as
// reviewed. No input masked at 5641714^ is unmasked at 5641714 (a
// differential of ~280k generated bodies: no regression, no invalid JSON,
// no panic).

import "testing"

// Finding 1 (gap in 5641714's fix; same leak at 5641714^). decodeFormRef
// (plusFormRef) is run only as a full reading (pageOnly false), which
// also decodes a script's escapes. Where the text holds backslashes that
// a page does not read (a Windows path in a link), that reading takes
// "\6222" for a legacy octal escape and eats the card's first digit, so
// the card is never read. For a written '+' the same case is covered:
// plusMixed && te.slashes runs decodeForm (pageOnly), and
// /dl?p=D:\exports\6222+0263+3741+7020%2B86.csv is masked; with &#43;
// (or &plus;, &#x2b;) for the '+' (review39b's own case) there is no
// page-only form-ref reading (in escSpans at either level, nor in
// Engine.key), and the card goes out whole. Every card or digit group
// after \0-\7 is affected (C:\Users\a\6222… too).
func TestReview40bFormRefAfterOctalLookingPath(t *testing.T) {
	review35bCheck(t, []review35bCase{
		{`<a href="/dl?p=D:\exports\6222 0263 3741 7020+86.csv">x</a>`, `<a href="/dl?p=D:\exports\6222&#43;0263&#43;3741&#43;7020%2B86.csv">x</a>`, Text, "3741"},
		{`<a href="/dl?p=D:\exports\6222 0263 3741 7020+86.csv">x</a>`, `<a href="/dl?p=D:\exports\6222&plus;0263&plus;3741&plus;7020%2B86.csv">x</a>`, Text, "3741"},
		{`{"html":"<a href=\"/dl?p=D:\\exports\\6222 0263 3741 7020+86.csv\">x</a>"}`, `{"html":"<a href=\"/dl?p=D:\\exports\\6222&#43;0263&#43;3741&#43;7020%2B86.csv\">x</a>"}`, JSON, "3741"},
		{`{"/dl?p=D:\\exports\\6222 0263 3741 7020+86.csv":1}`, `{"/dl?p=D:\\exports\\6222&#x2b;0263&#x2b;3741&#x2b;7020%2B86.csv":1}`, JSON, "3741"},
		{`C:\Users\a\6222 0263 3741 7020+86`, `C:\Users\a\6222&#43;0263 3741 7020%2B86`, Text, "3741"},
	})
}

// Finding 2 (pre-existing, not of 5641714; a remaining gap next to it). A
// text body (an HTML page) that carries JSON in a script, '&' escaped as
// \u0026 as Go's json.Marshal and Next.js write it, is read one level
// only: "\u0026#43;" is decoded to "&" and "#43;", never to the '+' the
// page shows once the script has parsed the JSON and written the HTML.
// The same JSON as a JSON body is read twice (tj, te2, tfr2) and masked;
// as an HTML page it goes out whole. (The README promises the two-level
// reading only for a body that is one JSON string.)
func TestReview40bTextBodyScriptEscapedReference(t *testing.T) {
	in := `{"h":"\u003ca href=\"/s?q=6222\u0026#43;0263\u0026#43;3741\u0026#43;7020%2B86\"\u003ex\u003c/a\u003e"}`
	review35bCheck(t, []review35bCase{
		// The JSON body: masked (the control).
		{`{"h":"\u003ca href=\"/s?q=6222 0263 3741 7020+86\"\u003ex\u003c/a\u003e"}`, in, JSON, "3741"},
		// The same JSON in a page: not masked.
		{`<script>window.__D__={"h":"\u003ca href=\"/s?q=6222 0263 3741 7020+86\"\u003ex\u003c/a\u003e"}</script>`, `<script>window.__D__=` + in + `</script>`, Text, "3741"},
		{`<script>window.__D__={"h":"\u003ca href=\"/s?q=13812345678\"\u003ex\u003c/a\u003e"}</script>`, `<script>window.__D__={"h":"\u003ca href=\"/s?q=1381234567\u0026#56;\"\u003ex\u003c/a\u003e"}</script>`, Text, "1234"},
	})
}
