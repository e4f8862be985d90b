package rewrite

// Forty-third review, reviewer b (of 2b74a8c, rewrite engine:
// scriptEscapesPageEscape asks escapeAt and skips escaped backslashes).

import "testing"

// Finding 1 (a regression of 2b74a8c; masked at 2b74a8c^). The old
// trigger matched \u0026/\x26/\u0025/\x25 after any backslash, so JSON
// held in a script's string literal (JSON.parse('…'), where the JSON's
// own \u0026 is written \\u0026) got the two-level reading (decodeScript,
// then a page's/a script's escapes on what it gives), which is what
// JSON.parse hands the script: "张三&13812345678". The new trigger skips
// \\ as an escaped backslash (right for one level), no other reading
// decodes twice, and the plain scan sees the digit run 002613812345678:
// mobile, ID and card go out whole.
func TestReview43bJSONParseLiteralEscapedAmp(t *testing.T) {
	review35bCheck(t, []review35bCase{
		{`<script>window.__STATE__ = JSON.parse('{"contact":"张三 13812345678"}');</script>`, `<script>window.__STATE__ = JSON.parse('{"contact":"张三\\u002613812345678"}');</script>`, Text, "1234"},
		{`<script>window.__STATE__ = JSON.parse("{\"contact\":\"张三 13812345678\"}");</script>`, `<script>window.__STATE__ = JSON.parse("{\"contact\":\"张三\\u002613812345678\"}");</script>`, Text, "1234"},
		{`<script>window.__STATE__ = JSON.parse('{"contact":"张三 11010519491231002X"}');</script>`, `<script>window.__STATE__ = JSON.parse('{"contact":"张三\\u002611010519491231002X"}');</script>`, Text, "19491231"},
		{`<script>window.__STATE__ = JSON.parse('{"contact":"张三 6222026337417020"}');</script>`, `<script>window.__STATE__ = JSON.parse('{"contact":"张三\\u00266222026337417020"}');</script>`, Text, "02633741"},
		{`<script>var s = JSON.parse('"100 13812345678"');</script>`, `<script>var s = JSON.parse('"100\\u002513812345678"');</script>`, Text, "1234"},
	})
}

// Finding 2 (a gap, the same at 2b74a8c^). escapeAt reads identity
// escapes only of letters and @ . - _ + ( ) space, so a script's \& and
// \% (both '&' and '%' in every mode: "\&" === "&") neither trigger the
// two-level reading nor are decoded by any reading; the script writes
// "&#56;" or "%38" into the page or the link, an 8, and the value goes
// out whole. The commit's comment says any form escapeAt reads; it does
// not read these. Likewise an escape inside the reference (&\#56;).
func TestReview43bIdentityEscapeOfAmpPercent(t *testing.T) {
	review35bCheck(t, []review35bCase{
		{`<script>el.innerHTML = "13812345678";</script>`, `<script>el.innerHTML = "1381234567\&#56;";</script>`, Text, "1234"},
		{`<script>el.innerHTML = "11010519491231002X";</script>`, `<script>el.innerHTML = "11010519491231002\&#88;";</script>`, Text, "19491231"},
		{`<script>location.href = '/s?q=13812345678';</script>`, `<script>location.href = '/s?q=1381234567\%38';</script>`, Text, "1234"},
		{`<script>el.innerHTML = "13812345678";</script>`, `<script>el.innerHTML = "1381234567&\#56;";</script>`, Text, "1234"},
	})
}
