package rewrite

// Thirty-fourth review (of f73892b: digitBefore's percent-escape run,
// its 40-byte back scan to a reference's or a script escape's start, and
// references and escapes without their ';'). Each test fails on the code
// as reviewed. All values are fake (detectorstest); every run is bounded.

import (
	"fmt"
	"html"
	"strings"
	"testing"

	"github.com/piigate/piigate/config"
	"github.com/piigate/piigate/detectors/detectorstest"
)

// review34Mobile is a fake mobile whose second and third digits are octal
// digits (so that \1xy is a legacy octal escape).
func review34Mobile(g *detectorstest.Gen) string {
	m := g.Mobile()
	for m[1] > '7' || m[2] > '7' {
		m = g.Mobile()
	}
	return m
}

func review34Full(s string) string {
	var b strings.Builder
	for _, c := range s {
		b.WriteRune(c - '0' + 0xFF10)
	}
	return b.String()
}

// review34Masked fails t when in's output still holds the middle group of
// m (its digits 4-7), the precondition being that plain (the same mobile
// written plainly) is masked.
func review34Masked(t *testing.T, m, plain, in string, show func(string) string) {
	t.Helper()
	e := engine(t, config.Route{Scan: "all"}, nil)
	d := decide(t, "online_agent")
	if out, _ := review31Rewrite(t, e, d, `{"n":"`+plain+`"}`, JSON); strings.Contains(out, m[3:7]) {
		t.Fatalf("precondition: %s gave %s", plain, out)
	}
	out, _ := review31Rewrite(t, e, d, `{"n":"`+in+`"}`, JSON)
	if s := show(out); strings.Contains(s, m[3:7]) && strings.Contains(s, m[7:]) {
		t.Errorf("{\"n\":\"%s\"} as online_agent gave %s: shown as %s, the mobile %s whole", in, out, s, m)
	}
}

// Finding 1 (regression of f73892b). digitBefore's back scan
// (jsonstr.go:619-626) walks back over the digits before a '+' to a
// backslash and asks escapeAt what starts there, without asking whether
// that backslash is itself escaped. In `\\151+4059+7377` (a JSON value
// holding two backslashes: a script shows one backslash and the digits
// 151) it finds `\151`, legacy octal for 'i', so the '+' after the
// plainly written 151 is "not after a digit" and stays a '+'. Every
// reading holds "151+4059 7377" and the mobile goes out whole. At
// f73892b^ (and with 8 or 9 as the third digit, which no octal escape
// reads) it is masked: "\\158+4059+7377" gives "\\158 **** 7377".
func TestReview34PlusAfterEscapedBackslashOctal(t *testing.T) {
	m := review34Mobile(detectorstest.New(3401))
	plain := `\\\\` + m[:3] + " " + m[3:7] + " " + m[7:]
	in := `\\\\` + m[:3] + "+" + m[3:7] + "+" + m[7:]
	review34Masked(t, m, plain, in, func(s string) string { return strings.ReplaceAll(s, "+", " ") })
}

// Finding 2 (a gap digitBefore's rewrite left: f73892b^ gave the same).
// escapeAt reads a script's \u{31} (braces and all) as a '1', but
// digitBefore (jsonstr.go:612) looks for an escape's end only at a ';',
// a digit or a hex letter, never at a '}': the '+' after \u{31} stays a
// '+', and 15\u{31}+4059+7377 goes out whole while 15\u0031+4059+7377
// is masked.
func TestReview34PlusAfterBracedScriptEscape(t *testing.T) {
	m := review34Mobile(detectorstest.New(3402))
	plain := m[:2] + `\\u0031+` + m[3:7] + "+" + m[7:]
	plain = strings.Replace(plain, `\\u0031`, fmt.Sprintf(`\\u%04x`, m[2]), 1)
	in := m[:2] + fmt.Sprintf(`\\u{%x}+`, m[2]) + m[3:7] + "+" + m[7:]
	review34Masked(t, m, plain, in, func(s string) string {
		return strings.ReplaceAll(strings.ReplaceAll(s, fmt.Sprintf(`\\u{%x}`, m[2]), string(m[2])), "+", " ")
	})
}

// Finding 3 (a gap: f73892b^ gave the same). plusEscapeBetweenDigits
// (jsonstr.go:508-509) takes an escaped '+' (%2B, &#43;) for a group
// separator only before a digit written as it is, ASCII or full-width,
// though its comment says "or escaped" and plusBetweenDigits (a literal
// '+', jsonstr.go:585) takes an escape after it. A link or a page that
// escapes the digit after the separator too (151%2B%34059%2B7377,
// 151&#43;&#52;059&#43;7377) decodes to "151+4059 7377": the first '+'
// stays, and the mobile goes out whole; 151%2B4059%2B7377 and
// 151+%34059+7377 are masked.
func TestReview34EscapedPlusBeforeEscapedDigit(t *testing.T) {
	m := review34Mobile(detectorstest.New(3403))
	for _, c := range []struct{ plain, in string }{
		{m[:3] + "%2B" + m[3:7] + "%2B" + m[7:], m[:3] + "%2B%3" + m[3:4] + m[4:7] + "%2B" + m[7:]},
		{m[:3] + "&#43;" + m[3:7] + "&#43;" + m[7:], fmt.Sprintf("%s&#43;&#%d;%s&#43;%s", m[:3], m[3], m[4:7], m[7:])},
	} {
		review34Masked(t, m, c.plain, c.in, func(s string) string {
			s = html.UnescapeString(strings.ReplaceAll(s, "%2B", "+"))
			s = strings.ReplaceAll(s, "%3"+m[3:4], m[3:4])
			return strings.ReplaceAll(s, "+", " ")
		})
	}
}

// Finding 4 (gate and decoder disagree; a gap: f73892b^ gave the same).
// plusRun (walk.go:1706, 1712) reads only the run of ASCII digits and
// '+' around a '+': a '+' with ASCII digits on both sides counts only if
// that run holds six digits. With full-width digits around short ASCII
// runs (１５1+4０５9+7３７７, a mobile in mixed widths) both runs hold two
// digits, so mayHoldTextEscape says no escape and the string is scanned
// as written; decodeTextEscapes reads both '+' as spaces ("１５1 4０５9
// 7３７７", masked when written so). The mobile goes out whole; with one
// '+' beside a full-width digit (…+７３７７) the gate opens and it is
// masked.
func TestReview34GateMixedWidthRun(t *testing.T) {
	m := review34Mobile(detectorstest.New(3404))
	fw := review34Full
	mixed := func(sep string) string {
		return fw(m[:2]) + m[2:3] + sep + m[3:4] + fw(m[4:6]) + m[6:7] + sep + m[7:8] + fw(m[8:])
	}
	if te := decodeTextEscapes([]byte(mixed("+"))); string(te.dec) != mixed(" ") {
		t.Fatalf("precondition: decodeTextEscapes(%s) = %q", mixed("+"), te.dec)
	}
	if !mayHoldTextEscape([]byte(mixed("+"))) {
		t.Errorf("mayHoldTextEscape(%s) = false, though decodeTextEscapes reads it as %s", mixed("+"), mixed(" "))
	}
	full := func(s string) string { // the digits as ASCII, '+' as a space
		var b strings.Builder
		for _, c := range s {
			switch {
			case c >= 0xFF10 && c <= 0xFF19:
				b.WriteRune(c - 0xFF10 + '0')
			case c == '+':
				b.WriteByte(' ')
			default:
				b.WriteRune(c)
			}
		}
		return b.String()
	}
	review34Masked(t, m, mixed(" "), mixed("+"), full)
}

// Finding 5 (f73892b's fix incomplete). The commit says a numeric
// reference with any number of leading zeros is found however long, but
// digitBefore's back scan stops 40 bytes before the '+'
// (jsonstr.go:619): &#0…049; with 45 zeros (charRefAt and browsers read
// a '1') is not found, the '+' after it stays a '+', and
// 15&#0…049;+4059+7377 goes out whole; with 30 zeros it is masked.
func TestReview34PlusAfterReferenceBeyondScan(t *testing.T) {
	m := review34Mobile(detectorstest.New(3405))
	ref := func(z int) string { return fmt.Sprintf("&#%s%d;", strings.Repeat("0", z), m[2]) }
	plain := m[:2] + ref(30) + "+" + m[3:7] + "+" + m[7:]
	in := m[:2] + ref(45) + "+" + m[3:7] + "+" + m[7:]
	review34Masked(t, m, plain, in, func(s string) string { return strings.ReplaceAll(html.UnescapeString(s), "+", " ") })
}

// Finding 6 (an international '+' after a non-digit escape read as a
// space; a gap: f73892b^ gave the same). When the back scan gives up
// (jsonstr.go:619, more than 40 bytes) digitBefore falls back to "a digit
// as written" (jsonstr.go:627-628) for the last digit of a reference
// without its ';'. "Tel:&#0…0160+49…" (45 zeros: a no-break space to a
// browser) then reads the '+' as form data's space; the international
// phone, its digits partly written as references so the plain reading
// cannot see it, goes out whole. With the ';' it is redacted.
func TestReview34IntlPlusAfterLongReferenceWithoutSemicolon(t *testing.T) {
	g := detectorstest.New(3406)
	var p string
	for p == "" {
		if n, region := g.IntlPhone(); region != "CN" && len(n) > 8 {
			p = n
		}
	}
	// +CC, then digit 3 as a reference, the rest plain, the last-but-one
	// as a reference.
	body := fmt.Sprintf("%s&#%d;%s&#%d;%s", p[:3], p[3], p[4:len(p)-2], p[len(p)-2], p[len(p)-1:])
	z := strings.Repeat("0", 45)
	e := engine(t, config.Route{Scan: "all"}, nil)
	d := decide(t, "online_agent")
	pre := `{"n":"Tel:&#` + z + `160;` + body + `"}`
	if out, _ := review31Rewrite(t, e, d, pre, JSON); review31Shows(html.UnescapeString(out), p) {
		t.Fatalf("precondition: %s gave %s", pre, out)
	}
	for _, in := range []string{
		`{"n":"Tel:&#` + z + `160` + body + `"}`,
		`{"n":"Tel:&#x` + z + `a0` + body + `"}`,
	} {
		out, _ := review31Rewrite(t, e, d, in, JSON)
		if r := html.UnescapeString(out); review31Shows(r, p) {
			t.Errorf("%s as online_agent gave %s: a page showing it shows %s, an international phone, whole", in, out, p)
		}
	}
}
