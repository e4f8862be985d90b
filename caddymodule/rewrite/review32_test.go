package rewrite

// Thirty-second review (of the thirty-first review's fixes, commit
// d5abec6: leaf → rawString for strings whose JSON escape stands for a
// letter or a digit, rawString's escapedView levels 2 with a page's and a
// link's escapes alone (decodePage), key → rawKey, escSpans/applySpans,
// plusEscapeBetweenDigits). Each test fails on the code as reviewed. All
// values are fake (detectorstest).

import (
	"encoding/json"
	"fmt"
	"html"
	"net/url"
	"strings"
	"testing"

	"github.com/piigate/piigate/config"
	"github.com/piigate/piigate/detectors/detectorstest"
)

// review32Rewrite is review31Rewrite with a panic reported as a failure
// (ok false) rather than ending the test binary.
func review32Rewrite(t *testing.T, e *Engine, d *config.Decision, in string, f Format) (out string, sum *Summary, ok bool) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: panic: %v", in, r)
			ok = false
		}
	}()
	out, sum = review31Rewrite(t, e, d, in, f)
	return out, sum, true
}

// review32Readings are the ways a client reads an output: as a page that
// shows the JSON, as a link decoder given it, and what JSON.parse gives
// (every string, values and keys), as it is, in a page and decoded as a
// link.
func review32Readings(out string) map[string]string {
	r := map[string]string{"the JSON as written": out, "a page showing the JSON": html.UnescapeString(out)}
	if u, err := url.PathUnescape(out); err == nil {
		r["a link decoder given the JSON"] = u
	}
	var v any
	if json.Unmarshal([]byte(out), &v) == nil {
		var ss []string
		var walk func(any)
		walk = func(v any) {
			switch v := v.(type) {
			case string:
				ss = append(ss, v)
			case []any:
				for _, x := range v {
					walk(x)
				}
			case map[string]any:
				for k, x := range v {
					ss = append(ss, k)
					walk(x)
				}
			}
		}
		walk(v)
		s := strings.Join(ss, "\x00")
		r["JSON.parse"] = s
		r["a page showing what JSON.parse gave"] = html.UnescapeString(s)
		if u, err := url.PathUnescape(s); err == nil {
			r["a link decoder given what JSON.parse gave"] = u
		}
	}
	return r
}

// Finding 1. A value found only in the page's-and-link's-alone reading
// (decodePage, walk.go:1782-1786) gets a span in src's offsets that is not
// widened over the JSON escapes it starts in (only the plain scan's spans
// go through outsideEscapes, walk.go:1745-1754): in "\n" + an e-mail
// address whose '@' is written &#64;, a page showing the JSON shows
// "\nbob@…", and the e-mail address the detector finds starts at the
// escape's letter n. applySpans writes the view there, leaving the
// escape's backslash before it: a hash ("\hash:…"), a redaction ("\[…")
// or a drop (a backslash before the closing quote) is no longer a JSON
// string, and rawString's fallback (walk.go:1149) redacts the string
// whole with the type of w.fs[0], the plain scan's first finding: there
// is none (the raw text holds no '@'), and the rewrite panics (index out
// of range). Same for a key (rawKey → rawString), after \t, \r, \b, \f
// and \uXXXX (\u003c, a surrogate pair's low half). Any role that hashes,
// redacts or drops e-mail addresses; the same text without the \uff21
// (so not read as written) is rewritten.
func TestReview32SpanInsideJSONEscapePanics(t *testing.T) {
	g := detectorstest.New(3201)
	em := g.Email()
	at := strings.IndexByte(em, '@')
	esc := em[:at] + `&#64;` + em[at+1:]
	e := engine(t, config.Route{Scan: "all"}, nil)
	for _, role := range []string{"analyst", "minimal"} {
		d := decide(t, role)
		if out, _, ok := review32Rewrite(t, e, d, `{"n":"Ａ\n`+esc+`"}`, JSON); !ok || strings.Contains(out, em[:at]) {
			t.Fatalf("precondition: %s gave %s", `{"n":"Ａ\n`+esc+`"}`, out)
		}
		for _, in := range []string{
			`{"n":"\uff21\n` + esc + `"}`,
			`{"n":"\uff21\t` + esc + `"}`,
			`["\u0041\u003c` + esc + `"]`,
			`{"\uff21\n` + esc + `":1}`,
		} {
			out, _, ok := review32Rewrite(t, e, d, in, JSON)
			if !ok {
				continue
			}
			for name, r := range review32Readings(out) {
				if review31Shows(r, em) {
					t.Errorf("%s as %s gave %s: %s shows %s", in, role, out, name, em)
				}
			}
		}
	}
}

// Finding 2. What JSON.parse gives is read with a script's, a page's and
// a link's escapes decoded together (te2, walk.go:1801-1809), never with
// a page's or a link's alone, which decodePage does only for the text as
// written (walk.go:1782). Go's encoding/json writes the '&' of
// "1381234567&#56;" as \u0026, so the page's escape is one only after
// JSON.parse: "<10 digits>\u0026#<d>;\\Users" is <10 digits>&#<d>;\Users
// to a script, which a page shows as an 11-digit mobile, a backslash and
// "Users"; te2 reads \U as a script's identity escape (U), the letter
// runs on, and no reading finds the mobile. The same JSON.parse text
// written without the \u0026 ("…&#<d>;\\Users") is masked (te keeps the
// escaped backslash, \\, as two characters), and so is the value when
// scanText reads it, which it would but for escapesAlnum (walk.go:1114-
// 1126) taking the second backslash of \\ for one that starts an escape
// (\\U for \U, a letter): the string goes to rawString. A one-string body
// and a key pass it the same way.
func TestReview32PageReadingOfParsedTextSkipped(t *testing.T) {
	g := detectorstest.New(3202)
	m := g.Mobile()
	page := fmt.Sprintf("%s&#%d;", m[:10], m[10])
	goPage := fmt.Sprintf(`%s\u0026#%d;`, m[:10], m[10])
	e := engine(t, config.Route{Scan: "all"}, nil)
	d := decide(t, "online_agent")
	if out, _, ok := review32Rewrite(t, e, d, `{"n":"`+page+`\\Users"}`, JSON); !ok || strings.Contains(out, page) {
		t.Fatalf("precondition: gave %s", out)
	}
	for _, c := range []struct {
		in string
		f  Format
	}{
		{`{"n":"` + goPage + `\\Users"}`, JSON},
		{`{"n":"` + goPage + `\\uff21"}`, JSON},
		{`"` + goPage + `\\Users"`, Text},
		{`{"` + goPage + `\\Users":1}`, JSON},
	} {
		out, _, ok := review32Rewrite(t, e, d, c.in, c.f)
		if !ok {
			continue
		}
		for name, r := range review32Readings(out) {
			if review31Shows(r, m) {
				t.Errorf("%s as online_agent gave %s: %s shows %s, the mobile whole", c.in, out, name, m)
			}
		}
	}
}

// Finding 3. plusBetweenDigits (jsonstr.go:581-592), for a literal '+' the
// twin of plusEscapeBetweenDigits that the last commit fixed, still reads
// a '+' after the end of any escape as a group separator: after a
// reference's ';' (&nbsp;, &#58;) and after a JSON \uXXXX whose last hex
// digit is a digit (\u00a0, Python's json.dumps for a no-break space).
// "Tel:&nbsp;+<intl phone, last digit &#NN;>" is "Tel: +…" to a page (a
// page never reads '+' as a space), but every decoding reading holds
// "Tel:  …" (no '+', no international phone) and the plain reading holds
// the escape: the number goes out whole. "Tel: +…&#NN;" is redacted, and
// so is "Tel:&nbsp;+<the number written plainly>" (plain scan).
func TestReview32PlusAfterNonDigitEscapeIsASpace(t *testing.T) {
	g := detectorstest.New(3203)
	var p string
	for p == "" {
		if n, region := g.IntlPhone(); region != "CN" {
			p = n
		}
	}
	last := fmt.Sprintf("&#%d;", p[len(p)-1])
	body := p[:len(p)-1] + last
	e := engine(t, config.Route{Scan: "all"}, nil)
	d := decide(t, "online_agent")
	for _, pre := range []string{`{"n":"Tel: ` + body + `"}`, `{"n":"Tel:&nbsp;` + p + `"}`} {
		if out, _, ok := review32Rewrite(t, e, d, pre, JSON); !ok || strings.Contains(out, p[1:len(p)-1]) {
			t.Fatalf("precondition: %s gave %s", pre, out)
		}
	}
	for _, in := range []string{
		`{"n":"Tel:&nbsp;` + body + `"}`,
		`{"n":"tel&#58;` + body + `"}`,
		`"Tel:&nbsp;` + body + `"`,
		`{"n":"Tel:\u00a0` + body + `\u0041"}`,
	} {
		f := JSON
		if in[0] == '"' {
			f = Text
		}
		out, _, ok := review32Rewrite(t, e, d, in, f)
		if !ok {
			continue
		}
		if r := html.UnescapeString(out); strings.Contains(r, p) {
			t.Errorf("%s as online_agent gave %s: a page showing the JSON shows %s, an international phone, whole", in, out, p)
		}
	}
}

// Finding 4. A key whose escapes stand for no letter or digit goes to
// key()'s old path (walk.go:1285-1303), which reads it as JSON.parse
// gives it and with a script's, a page's and a link's escapes decoded
// together (es.te), and goes on to escapedView (where decodePage would
// read a page's and a link's alone) only when that te reading found
// something (escaped = len(es.fs2) > 0). The reading the last commit
// added for values is so never made for keys: a Windows path
// "C:\uploads\<10 digits>%3<d>.jpg" (JSON: C:\\uploads\\…) is, to a
// script, \1<d> (\15, \19: an octal escape, a control character, for
// a mobile whose third digit is 8 or 9; \130 would be X, a letter, and
// send the key to rawKey) then 8 digits, but to a link decoder
// C:\uploads\<11-digit mobile>.jpg. As a value it is masked (scanText →
// escapedView reads the link's escapes alone); as a key it goes out
// whole, and its member is kept for a role that drops mobiles.
func TestReview32KeySkipsPageAndLinkAloneReading(t *testing.T) {
	g := detectorstest.New(3204)
	m := g.Mobile()
	for m[2] < '8' { // \1<digit> then reads as a control character (\13), not a letter (\130 is X)
		m = g.Mobile()
	}
	path := fmt.Sprintf(`C:\\uploads\\%s%%%X.jpg`, m[:10], m[10])
	e := engine(t, config.Route{Scan: "all"}, nil)
	d := decide(t, "online_agent")
	if out, _, ok := review32Rewrite(t, e, d, `{"n":"`+path+`"}`, JSON); !ok || strings.Contains(out, m[:10]) {
		t.Fatalf("precondition: the value gave %s", out)
	}
	in := `{"` + path + `":1}`
	if out, _, ok := review32Rewrite(t, e, d, in, JSON); ok {
		for name, r := range review32Readings(out) {
			if review31Shows(r, m) {
				t.Errorf("%s as online_agent gave %s: %s shows %s, the mobile whole", in, out, name, m)
			}
		}
	}
	if out, _, ok := review32Rewrite(t, e, decide(t, "minimal"), in, JSON); ok && out != `{}` {
		t.Errorf("%s as minimal (drop) gave %s: the member holding a mobile is kept", in, out)
	}
}
