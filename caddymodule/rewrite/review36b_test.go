package rewrite

// Thirty-sixth review, reviewer b (of c753bb7 and d7faa27). Each test
// fails on the code as reviewed.

import (
	"testing"
)

// Finding 1 (c753bb7's decodeKeepPlus is incomplete). The reading that
// keeps every '+' a '+' is decodePage's: it decodes a page's and a link's
// escapes only, never a script's (\u0040, \x40, \100). So where a value
// holds a script's escape and a '+' between digits, every reading that
// decodes the script's escape reads the '+' as form data's space, and the
// one reading that keeps the '+' leaves the script's escape as written.
// An address whose '@' a script escapes (var u = "zhangsan1990+2\u0040
// gmail.com", or the same in a JSON string that holds a script's text) is
// found only from the digit after the '+': zhangsan1990+***@gmail.com
// shows the local part the mask hides when the '@' is written plainly
// (z***@gmail.com). Same for a card whose group separators a script
// escapes, followed by "+86": shown whole, masked with plain spaces.
func TestReview36bKeepPlusWithScriptEscapes(t *testing.T) {
	review35bCheck(t, []review35bCase{
		{`zhangsan1990+2@gmail.com`, `zhangsan1990+2\u0040gmail.com`, Text, "zhangsan1990"},
		{`var u = "zhangsan1990+2@gmail.com";`, `var u = "zhangsan1990+2\u0040gmail.com";`, Text, "zhangsan1990"},
		{`var u = "zhangsan1990+2@gmail.com";`, `var u = "zhangsan1990+2\x40gmail.com";`, Text, "zhangsan1990"},
		{`{"n":"zhangsan1990+2@gmail.com"}`, `{"n":"zhangsan1990+2\\u0040gmail.com"}`, JSON, "zhangsan1990"},
		{`{"n":"<a href=\"mailto:zhangsan1990+2@gmail.com\">"}`, `{"n":"<a href=\"mailto:zhangsan1990+2\\u0040gmail.com\">"}`, JSON, "zhangsan1990"},
		{`{"zhangsan1990+2@gmail.com":1}`, `{"zhangsan1990+2\\x40gmail.com":1}`, JSON, "zhangsan1990"},
		{`6222 0263 3741 7020+86`, `6222\u00200263\u00203741\u00207020+86`, Text, "3741"},
		{`{"n":"6222 0263 3741 7020+86"}`, `{"n":"6222\\u00200263\\u00203741\\u00207020+86"}`, JSON, "3741"},
	})
}
