package rewrite

// Thirty-fifth review, reviewer b (of 4786618, f73892b and cbbf714, and
// the '+' rule as a whole). Each test fails on the code as reviewed.

import (
	"strings"
	"testing"

	"github.com/piigate/piigate/config"
)

// review35bCase is one input that must not show secret, given that plain
// (the same value without the escape at issue) does not.
type review35bCase struct {
	plain, in string
	f         Format
	secret    string
}

func review35bCheck(t *testing.T, cs []review35bCase) {
	t.Helper()
	e := engine(t, config.Route{Scan: "all"}, nil)
	d := decide(t, "online_agent")
	for _, c := range cs {
		if out, _ := review31Rewrite(t, e, d, c.plain, c.f); strings.Contains(out, c.secret) {
			t.Fatalf("precondition: %s gave %s", c.plain, out)
		}
		if out, _ := review31Rewrite(t, e, d, c.in, c.f); strings.Contains(out, c.secret) {
			t.Errorf("%s as online_agent gave %s: %s still shown", c.in, out, c.secret)
		}
	}
}

// Finding 1 (a regression of f73892b; masked at f73892b^). The page-only
// reading (decodePage, a page where backslashes are no escapes) asks
// digitBefore whether a '+' follows a digit, and digitBefore
// (jsonstr.go:610-633) walks back to the backslash and reads \135 as a
// script's legacy octal escape (']'), so the '+' after the plainly
// written 135 stays a '+' in that reading too. A path's
// D:\exports\135+1234+5678.csv (the README's own case of a path before
// a mobile) shows the mobile 135 1234 5678 to a page or a form decoder
// and goes out whole; with a space, or a 138 prefix (8 is no octal
// digit), it is masked. Every mobile prefix whose third digit is 0-7
// (130-137, 145, 147, 150-157, 166, 170-177) is affected; %2B and &#43;
// too; values, keys and plain-text bodies.
func TestReview35bPlusAfterOctalLookingPath(t *testing.T) {
	review35bCheck(t, []review35bCase{
		{`{"n":"D:\\exports\\135 1234 5678.csv"}`, `{"n":"D:\\exports\\135+1234+5678.csv"}`, JSON, "1234"},
		{`{"n":"D:\\exports\\135 1234 5678.csv"}`, `{"n":"D:\\exports\\135%2B1234%2B5678.csv"}`, JSON, "1234"},
		{`{"n":"D:\\exports\\135 1234 5678.csv"}`, `{"n":"D:\\exports\\157&#43;1234&#43;5678.csv"}`, JSON, "1234"},
		{`{"D:\\exports\\135 1234 5678.csv":1}`, `{"D:\\exports\\135+1234+5678.csv":1}`, JSON, "1234"},
		{`D:\exports\135 1234 5678.csv`, `D:\exports\135+1234+5678.csv`, Text, "1234"},
	})
}

// Finding 2 (a regression of b1eee9c, the thirty-second review; masked
// at b1eee9c^). digitBefore reads the end of a percent-escape that is not
// a digit's as "no digit before", so the '+' after it stays a country
// code's. But form data (URLSearchParams, PHP, Python's urlencode) writes
// a space as '+' after any character, and every non-ASCII character as
// percent-escapes: {note: "手机 13812345678"} is
// note=%E6%89%8B%E6%9C%BA+13812345678. The detectors read "+13812345678"
// as an international number (none: +1 381 is no valid one) and, after a
// '+', never as an ID or a card, so the mobile, the card and the ID a form
// decoder shows after 手机 / 卡号 / 身份证 go out whole; with %20 they are
// masked.
func TestReview35bFormEncodedWordBeforeValue(t *testing.T) {
	review35bCheck(t, []review35bCase{
		{`{"n":"note=%E6%89%8B%E6%9C%BA%2013812345678"}`, `{"n":"note=%E6%89%8B%E6%9C%BA+13812345678"}`, JSON, "1234"},
		{`{"n":"note=%E5%8D%A1%E5%8F%B7%206222026337417020"}`, `{"n":"note=%E5%8D%A1%E5%8F%B7+6222026337417020"}`, JSON, "633741"},
		{`{"n":"note=%E8%BA%AB%E4%BB%BD%E8%AF%81%2011010519491231002X"}`, `{"n":"note=%E8%BA%AB%E4%BB%BD%E8%AF%81+11010519491231002X"}`, JSON, "19491231"},
		{`"note=%E6%89%8B%E6%9C%BA%2013812345678"`, `"note=%E6%89%8B%E6%9C%BA+13812345678"`, Text, "1234"},
	})
}

// Finding 3 (same root as finding 2, in every version since the '+'
// rule came in): form data's '+' after an ASCII word is read as a '+'
// too, so the most common form-encoded sentence, call me at 13812345678
// (call+me+at+13812345678), or a card or ID after a word, shows the value
// to any form decoder and goes out whole.
func TestReview35bFormEncodedASCIIWordBeforeValue(t *testing.T) {
	review35bCheck(t, []review35bCase{
		{`{"n":"q=call%20me%20at%2013812345678"}`, `{"n":"q=call+me+at+13812345678"}`, JSON, "1234"},
		{`{"n":"q=my%20card%206222026337417020"}`, `{"n":"q=my+card+6222026337417020"}`, JSON, "633741"},
		{`{"n":"q=id%2011010519491231002X"}`, `{"n":"q=id+11010519491231002X"}`, JSON, "19491231"},
	})
}

// Finding 4 (in every version since the '+' rule came in). Every reading
// that decodes escapes reads a '+' between digits, written out or escaped,
// as form data's space; none reads it as the '+' a page (or
// decodeURIComponent) shows. An address whose local part has a '+' between
// digits, with its '@' or '+' escaped, is found only from the digit after
// the '+': zhangsan1990%2B2%40gmail.com (form data's own escape of a
// literal '+') becomes zhangsan1990%2B***@gmail.com, which a link decoder
// shows as zhangsan1990+***@gmail.com: the local part the mask hides
// (z***@gmail.com when written plainly) is shown. Likewise a card followed
// by '+' and digits: 6222 0263 3741 7020+86 is masked, but with its spaces
// as &#32; every decoding reading sees "7020 86" and no card, while a page
// shows the card whole.
func TestReview35bPlusKeptByAPage(t *testing.T) {
	review35bCheck(t, []review35bCase{
		{`{"n":"email=zhangsan1990+2@gmail.com"}`, `{"n":"email=zhangsan1990%2B2%40gmail.com"}`, JSON, "zhangsan1990"},
		{`{"n":"zhangsan1990+2@gmail.com"}`, `{"n":"zhangsan1990&#43;2@gmail.com"}`, JSON, "zhangsan1990"},
		{`{"n":"mailto:zhangsan1990+2@gmail.com"}`, `{"n":"mailto:zhangsan1990+2&#64;gmail.com"}`, JSON, "zhangsan1990"},
		{`{"n":"6222 0263 3741 7020+86"}`, `{"n":"6222&#32;0263&#32;3741&#32;7020+86"}`, JSON, "3741"},
	})
}
