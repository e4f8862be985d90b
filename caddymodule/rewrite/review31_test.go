package rewrite

// Thirty-first review (of the twenty-ninth review's fixes, commit 61f6071:
// leaf/rawString, key/rawKey, walker.text's four readings, decodeJSON,
// plusEscapeBetweenDigits). Each test fails on the code as reviewed. All
// values are fake (detectorstest).

import (
	"encoding/json"
	"html"
	"net/url"
	"strings"
	"testing"

	"github.com/piigate/piigate/config"
	"github.com/piigate/piigate/detectors"
	"github.com/piigate/piigate/detectors/detectorstest"
)

// review31Rewrite rewrites in (format f) with engine e for decision d and
// returns the output and the summary; valid JSON in must give valid JSON
// out.
func review31Rewrite(t *testing.T, e *Engine, d *config.Decision, in string, f Format) (string, *Summary) {
	t.Helper()
	var sum Summary
	out, err := e.Rewrite(nil, []byte(in), f, d, &sum)
	if err != nil {
		t.Fatalf("%s: %v", in, err)
	}
	if (f == JSON || f == Text) && json.Valid([]byte(in)) && !json.Valid(out) {
		t.Fatalf("%s: invalid JSON out %s", in, out)
	}
	return string(out), &sum
}

// review31Count returns the summary's count of (t, a).
func review31Count(sum *Summary, t detectors.Type, a config.Action) int {
	n := 0
	for _, c := range sum.Counts {
		if c.Type == t && c.Action == a {
			n += c.N
		}
	}
	return n
}

// review31Shows reports whether v stands in s with no ASCII letter or
// digit on either side: a value a reader of s sees whole.
func review31Shows(s, v string) bool {
	alnum := func(c byte) bool { return c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'z' }
	for i := 0; ; {
		k := strings.Index(s[i:], v)
		if k < 0 {
			return false
		}
		k += i
		e := k + len(v)
		if (k == 0 || !alnum(s[k-1])) && (e == len(s) || !alnum(s[e])) {
			return true
		}
		i = k + 1
	}
}

// review31Policy is the example policy with two roles that see e-mail
// addresses plain: one masks mobiles, one drops everything else.
func review31Policy() config.Policy {
	pol := config.Policy{Roles: map[string]config.RoleRules{}}
	for k, v := range examplePolicy.Roles {
		pol.Roles[k] = v
	}
	pol.Roles["email_plain"] = config.RoleRules{"email": "plain", "cn_mobile": "mask", "*": "redact"}
	pol.Roles["email_plain_drop"] = config.RoleRules{"email": "plain", "*": "drop"}
	return pol
}

// Finding 1. leaf (walk.go:1084-1094) reads a string as written
// (rawString) whenever scanText changed nothing, not only when it found
// nothing: a value whose action is plain was found and counted by
// scanText, and rawString's scan of the raw text finds it again and
// applyFindings (walk.go:1123) counts it again. For a role that sees
// mobiles plain, {"n":"<m> x\u0031"} holds one mobile and the summary
// (metrics, flow log) says two; the same string without the \u0031 says
// one. A role that sees e-mail plain and masks mobiles double-counts the
// e-mail address the same way.
func TestReview31PlainValueCountedTwiceWhenReadAsWritten(t *testing.T) {
	g := detectorstest.New(3101)
	m := g.Mobile()
	e := engine(t, config.Route{Scan: "all"}, nil)
	d := decide(t, "supervisor")
	if _, sum := review31Rewrite(t, e, d, `{"n":"`+m+` x1"}`, JSON); review31Count(sum, detectors.CNMobile, config.Plain) != 1 {
		t.Fatalf("precondition: counts %v", sum.Counts)
	}
	for _, in := range []string{
		`{"n":"` + m + ` x\u0031"}`,
		`["` + m + ` x\u0041"]`,
	} {
		if _, sum := review31Rewrite(t, e, d, in, JSON); review31Count(sum, detectors.CNMobile, config.Plain) != 1 {
			t.Errorf("%s as supervisor: counts %v, want one cn_mobile plain (the one mobile, counted by scanText and again by rawString)", in, sum.Counts)
		}
	}
}

// Finding 2. A key is read as written (rawKey) only when its JSON.parse
// reading found nothing at all (walk.go:1280-1285), not when it changed
// nothing: a value there whose action is plain (an e-mail address for a
// role that sees them) stops the reading as written, and the mobile that
// only the key as written holds ("<m>\u0031": a mobile to a page showing
// the JSON, 12 digits to JSON.parse) is kept whole, and its member kept
// for a role that drops mobiles. The same string as a value is masked
// (leaf reads it as written when nothing changed), and the key without
// the e-mail address is masked or dropped.
func TestReview31KeyPlainFindingStopsReadingAsWritten(t *testing.T) {
	g := detectorstest.New(3102)
	m, em := g.Mobile(), g.Email()
	e, dec := engineWith(t, review31Policy(), config.Route{Scan: "all"})
	s := em + ` ` + m + `\u0031`
	if out, _ := review31Rewrite(t, e, dec("email_plain"), `{"n":"`+s+`"}`, JSON); strings.Contains(out, m) {
		t.Fatalf("precondition: the value gave %s", out)
	}
	if out, _ := review31Rewrite(t, e, dec("email_plain"), `{"`+m+`\u0031":1}`, JSON); strings.Contains(out, m) {
		t.Fatalf("precondition: the key without the e-mail address gave %s", out)
	}
	in := `{"` + s + `":1}`
	if out, _ := review31Rewrite(t, e, dec("email_plain"), in, JSON); strings.Contains(out, m) {
		t.Errorf("%s as email_plain (cn_mobile mask) gave %s: the key's mobile, as written, is shown whole", in, out)
	}
	if out, _ := review31Rewrite(t, e, dec("email_plain_drop"), in, JSON); strings.Contains(out, m) {
		t.Errorf("%s as email_plain_drop (cn_mobile drop) gave %s: the member is kept", in, out)
	}
}

// Finding 3. The reading "as written" (rawString walk.go:1122, rawKey
// walk.go:1315, and walker.text's plain scan) is a plain scan of the raw
// text: a page's or a link's escapes in it are not decoded. The readings
// that decode them all decode the JSON escapes too (te.decode on the raw
// text, walk.go:1689, reads \uXXXX as a script does; scanText reads the
// JSON.parse text), so no reading sees the raw JSON with only a page's
// or a link's escapes decoded, which is what a page that shows the JSON
// as HTML, or a link decoder given the JSON text, shows:
// "1381234567&#56;\uff21" (Python's json.dumps writes a full-width Ａ as
// \uff21) is 13812345678\uff21 to such a page, a mobile and an escape,
// while JSON.parse gives 1381234567&#56;Ａ and then 13812345678Ａ (no
// value: a letter runs on). "%3A<m>\u0041" is :<m>\u0041 to a link
// decoder. Each part alone is masked: "1381234567&#56;" and "<m>\uff21"
// and "%3A<m>". Values, keys, one-string text bodies and NDJSON lines all
// pass the mobile.
func TestReview31AsWrittenReadingSkipsPageAndLinkEscapes(t *testing.T) {
	g := detectorstest.New(3103)
	m := g.Mobile()
	e := engine(t, config.Route{Scan: "all"}, nil)
	d := decide(t, "online_agent")
	page := m[:10] + `&#` + string('0'+m[10]/10) + string('0'+m[10]%10) + `;`
	for _, pre := range []string{`{"n":"` + page + `"}`, `{"n":"` + m + `\uff21"}`, `{"n":"%3A` + m + `"}`} {
		if out, _ := review31Rewrite(t, e, d, pre, JSON); strings.Contains(out, m) || strings.Contains(out, page) {
			t.Fatalf("precondition: %s gave %s", pre, out)
		}
	}
	readings := func(out string) map[string]string {
		r := map[string]string{"a page showing the JSON": html.UnescapeString(out)}
		if u, err := url.PathUnescape(out); err == nil {
			r["a link decoder given the JSON"] = u
		}
		return r
	}
	cases := []struct {
		in string
		f  Format
	}{
		{`{"n":"` + page + `\uff21"}`, JSON},
		{`{"n":"%3A` + m + `\u0041"}`, JSON},
		{`{"` + page + `\uff21":1}`, JSON},
		{`"` + page + `\uff21"`, Text},
		{`"%3A` + m + `\u0041"`, Text},
		{`"` + page + `\uff21"` + "\n", NDJSON},
	}
	for _, c := range cases {
		out, _ := review31Rewrite(t, e, d, c.in, c.f)
		for name, r := range readings(out) {
			if review31Shows(r, m) {
				t.Errorf("%s (format %d) as online_agent gave %s: %s shows %s, the mobile whole", c.in, c.f, out, name, r)
			}
		}
	}
}

// Finding 4 (a regression of 61f6071). decode reads an escaped '+'
// between digits as a space only (jsonstr.go:235), and
// plusEscapeBetweenDigits (jsonstr.go:479-490) counts as "after a digit"
// the end of any percent-escape (its last hex digit) and of any character
// reference (';'). encodeURIComponent("tel:+14153922979") is
// tel%3A%2B14153922979, and a list of E.164 numbers is
// %2B…%2C%2B…: the '+' after %3A or %2C is read as a space, so the
// decoded reading holds ": 14153922979" (no international phone), and the
// plain reading holds no '+' at all. The number goes out whole; the
// commit's parent redacted it (its decoded reading kept the '+'), and
// "%2B14153922979" alone, or "tel:+14153922979", is redacted.
func TestReview31EscapedPlusAfterEscapeIsASpace(t *testing.T) {
	g := detectorstest.New(3104)
	var nums []string
	for len(nums) < 2 {
		if p, region := g.IntlPhone(); region != "CN" {
			nums = append(nums, p)
		}
	}
	e := engine(t, config.Route{Scan: "all"}, nil)
	d := decide(t, "online_agent")
	enc := func(p string) string { return "%2B" + p[1:] }
	for _, pre := range []string{`{"n":"` + enc(nums[0]) + `"}`, `{"n":"tel:` + nums[0] + `"}`} {
		if out, _ := review31Rewrite(t, e, d, pre, JSON); strings.Contains(out, nums[0][1:]) {
			t.Fatalf("precondition: %s gave %s", pre, out)
		}
	}
	for _, c := range []struct{ in, hidden string }{
		{`{"n":"tel%3A` + enc(nums[0]) + `"}`, nums[0][1:]},
		{`{"n":"` + enc(nums[0]) + `%2C` + enc(nums[1]) + `"}`, nums[1][1:]},
		{`{"n":"tel&#58;&#43;` + nums[0][1:] + `"}`, nums[0][1:]},
	} {
		if out, _ := review31Rewrite(t, e, d, c.in, JSON); strings.Contains(out, c.hidden) {
			t.Errorf("%s as online_agent gave %s: a link or page decoder shows +%s, an international phone, whole", c.in, out, c.hidden)
		}
	}
}
