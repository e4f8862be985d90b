package rewrite

// Forty-second review, reviewer b (of 7c8c71a, rewrite engine). A
// differential against 7c8c71a^ (~90k generated inputs: inline JSON from
// Go's json.Marshal with and without HTML escaping, PHP json_encode with
// and without JSON_HEX_*, the OWASP encoder's \xHH, html/template's
// JSEscapeString, \u{…}, legacy octal, line continuations, surrogate
// pairs; values right after hex escapes of boundary characters; Text and
// JSON) found no value masked before and shown now, no invalid JSON, no
// escape cut in two, no panic.

import (
	"testing"
)

// Finding 1 (a gap in 7c8c71a's fix; the same output at 7c8c71a^).
// decodeScript reads \u{…} and legacy octal, but the trigger for the
// two-level reading, scriptEscapesPageEscape, knows only \u0026, \u0025,
// \x26 and \x25. A script that writes its '&' or '%' as \u{26}, \u{25}
// (ES2015 code-point escapes) or \46, \45 (sloppy-mode octal) writes
// "&#56;" or "%38" into the page, an 8, and the mobile or ID goes out
// whole; the same text with \u0026 or \x25 is masked.
func TestReview42bCodePointAndOctalPageEscape(t *testing.T) {
	review35bCheck(t, []review35bCase{
		// The control: \u0026 triggers the two-level reading.
		{`<script>row.innerHTML = "\u003ctd\u003e13812345678\u003c/td\u003e";</script>`, `<script>row.innerHTML = "\u003ctd\u003e1381234567\u0026#56;\u003c/td\u003e";</script>`, Text, "1234"},
		{`<script>row.innerHTML = "\u{3c}td\u{3e}13812345678\u{3c}/td\u{3e}";</script>`, `<script>row.innerHTML = "\u{3c}td\u{3e}1381234567\u{26}#56;\u{3c}/td\u{3e}";</script>`, Text, "1234"},
		{`<script>row.innerHTML = "13812345678";</script>`, `<script>row.innerHTML = "1381234567\u{000026}#56;";</script>`, Text, "1234"},
		{`<script>row.innerHTML = '\74td\7611010519491231002X\74/td\76';</script>`, `<script>row.innerHTML = '\74td\7611010519491231002\46#88;\74/td\76';</script>`, Text, "19491231"},
		{`<script>var d = '\x3ca href=\x22\/s?q=13812345678\x22\x3e';</script>`, `<script>var d = '\x3ca href=\x22\/s?q=1381234567\u{25}38\x22\x3e';</script>`, Text, "1234"},
		{`<script>var d = '\x3ca href=\x22\/s?q=13812345678\x22\x3e';</script>`, `<script>var d = '\x3ca href=\x22\/s?q=1381234567\4538\x22\x3e';</script>`, Text, "1234"},
	})
}
