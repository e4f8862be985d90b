package rewrite

// Thirty-third review (of the thirty-second review's fixes, commit
// b1eee9c: escSpans widening every reading's spans over te.esc and
// tj.esc, the page-only reading tp2 of what JSON.parse gives, applySpans'
// es.first, escapesAlnum skipping \\, keys through escSpans/applySpans,
// Engine.key's page-only reading, digitBefore). Each test fails on the
// code as reviewed. All values are fake (detectorstest).

import (
	"fmt"
	"html"
	"net/url"
	"strings"
	"testing"

	"github.com/piigate/piigate/config"
	"github.com/piigate/piigate/detectors/detectorstest"
)

// review33FullWidthPercent writes the ASCII digits of s as full-width
// digits, percent-encoded (１ is %EF%BC%91), as a link or form data writes
// them.
func review33FullWidthPercent(s string) string {
	var b strings.Builder
	for _, c := range s {
		for _, x := range []byte(string(c - '0' + 0xFF10)) {
			fmt.Fprintf(&b, "%%%02X", x)
		}
	}
	return b.String()
}

// Finding 1 (regression of b1eee9c). digitBefore (jsonstr.go:598-600)
// reads a percent-escape before a '+' with percentAt(src, i-3): the last
// three bytes alone. A full-width digit written as a link writes it
// (%EF%BC%99 for ９) ends in %99, a continuation byte, which percentAt
// reads as noRune: "not a digit", so the '+' after it stays a '+' and
// 159+6280+6772 written full-width and percent-encoded
// (%EF%BC%91%EF%BC%95%EF%BC%99+…) is no longer read as a mobile in form
// data: it goes out whole. Before b1eee9c (HEAD~2) plusBetweenDigits took
// any %XX before a '+' and the mobile was masked (159 **** 6772 in full
// width); the same mobile with full-width digits written plainly
// (１５９+６２８０+６７７２) is masked now too.
func TestReview33PlusAfterPercentFullWidthDigitKept(t *testing.T) {
	g := detectorstest.New(3301)
	m := g.Mobile()
	e := engine(t, config.Route{Scan: "all"}, nil)
	d := decide(t, "online_agent")
	fw := func(s string) string {
		var b strings.Builder
		for _, c := range s {
			b.WriteRune(c - '0' + 0xFF10)
		}
		return b.String()
	}
	pre := `{"n":"` + fw(m[:3]) + `+` + fw(m[3:7]) + `+` + fw(m[7:]) + `"}`
	if out, _ := review31Rewrite(t, e, d, pre, JSON); strings.Contains(out, fw(m[3:7])) {
		t.Fatalf("precondition: %s gave %s", pre, out)
	}
	p := review33FullWidthPercent
	in := `{"n":"` + p(m[:3]) + `+` + p(m[3:7]) + `+` + p(m[7:]) + `"}`
	out, _ := review31Rewrite(t, e, d, in, JSON)
	if u, err := url.QueryUnescape(out); err == nil && strings.Contains(u, fw(m[3:7])) {
		t.Errorf("%s as online_agent gave %s: form data shows %s, the mobile %s whole", in, out, u, m)
	}
}

// Finding 2 (regression of b1eee9c). digitBefore's reference case
// (jsonstr.go:604-611) looks for the reference's '&' at most 12 bytes
// before the '+'. charRefAt (and a browser) reads any number of leading
// zeros (&#000000000057; is a 9), but a reference of 14 bytes or more is
// never found: the '+' after it is "not after a digit" and stays a '+',
// and 15<9>+6280+6772 goes out whole. HEAD~2 (any ';' before a '+')
// masked it; &#57; (short) is masked now.
func TestReview33PlusAfterLongDigitReferenceKept(t *testing.T) {
	g := detectorstest.New(3302)
	m := g.Mobile()
	e := engine(t, config.Route{Scan: "all"}, nil)
	d := decide(t, "online_agent")
	short := fmt.Sprintf(`%s&#%d;+%s+%s`, m[:2], m[2], m[3:7], m[7:])
	if out, _ := review31Rewrite(t, e, d, `{"n":"`+short+`"}`, JSON); strings.Contains(out, m[3:7]) {
		t.Fatalf("precondition: %s gave %s", short, out)
	}
	long := fmt.Sprintf(`%s&#0000000000%d;+%s+%s`, m[:2], m[2], m[3:7], m[7:])
	in := `{"n":"` + long + `"}`
	out, _ := review31Rewrite(t, e, d, in, JSON)
	if r := strings.ReplaceAll(html.UnescapeString(out), "+", " "); strings.Contains(r, m[3:7]) && strings.Contains(r, m[7:]) {
		t.Errorf("%s as online_agent gave %s: a page showing it, read as form data, shows %s", in, out, r)
	}
}

// Finding 3 (a gap in b1eee9c's digitBefore, not a regression: HEAD~2
// gave the same). digitBefore (jsonstr.go:612-613) reads any ASCII digit
// before the '+' as a digit as written, but it may be the last digit of a
// reference written without its ';' (&#160 is a no-break space, &#58 a
// ':', &#32 a space: browsers read them so, and charRefAt reads them
// so). "Tel:&#160+<intl phone, last digit &#NN;>" is "Tel: +…" to a page,
// an international phone whole; the '+' is read as a form space, every
// decoding reading holds "Tel:  …" (no '+', no international phone) and
// it goes out whole. With the ';' (&#160;+…) it is redacted.
func TestReview33PlusAfterReferenceWithoutSemicolon(t *testing.T) {
	g := detectorstest.New(3303)
	var p string
	for p == "" {
		if n, region := g.IntlPhone(); region != "CN" {
			p = n
		}
	}
	body := p[:len(p)-1] + fmt.Sprintf("&#%d;", p[len(p)-1])
	e := engine(t, config.Route{Scan: "all"}, nil)
	d := decide(t, "online_agent")
	pre := `{"n":"Tel:&#160;` + body + `"}`
	if out, _ := review31Rewrite(t, e, d, pre, JSON); strings.Contains(out, p[1:len(p)-1]) {
		t.Fatalf("precondition: %s gave %s", pre, out)
	}
	for _, in := range []string{
		`{"n":"Tel:&#160` + body + `"}`,
		`{"n":"Tel&#58` + body + `"}`,
		`{"n":"Tel:&#32` + body + `"}`,
	} {
		out, _ := review31Rewrite(t, e, d, in, JSON)
		if r := html.UnescapeString(out); review31Shows(r, p) {
			t.Errorf("%s as online_agent gave %s: a page showing it shows %s, an international phone, whole", in, out, p)
		}
	}
}
