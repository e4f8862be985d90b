// Found by the review of d87c8f5 (each fails on d87c8f5).

// Found by the tenth review (each failed before its fix).

package rewrite

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/piigate/piigate/config"
	"github.com/piigate/piigate/detectors"
)

// badJSEscape matches a \u not followed by four hex digits (nor {hex}) or a
// \x not followed by two: a SyntaxError in a script.
var badJSEscape = regexp.MustCompile(`\\u([^0-9a-fA-F{]|[0-9a-fA-F]{1,3}[^0-9a-fA-F])|\\x([^0-9a-fA-F]|[0-9a-fA-F][^0-9a-fA-F])`)

// The plain scan reads the hex digits of an escape as an e-mail's local
// part (Python's json.dumps writes 你好zhang@… as \u4f60\u597dzhang@…, Go's
// encoder writes <zhang@…> as \u003czhang@…\u003e); its finding starts
// inside the escape, wins over the decoded scan's (it starts first), and
// the mask cuts the escape: "\u***@example.com" is a SyntaxError, so the
// page's script stops.
func TestTextEscapeCutByPlainFinding(t *testing.T) {
	e := engine(t, config.Route{Scan: "all"}, nil)
	for _, in := range []string{
		`<script>var c = {"to": "\u4f60\u597dzhang@example.com"};</script>`,
		`<script>var c = {"to":"Zhang \u003czhang.san@example.com\u003e"};</script>`,
		`<script>var c = "zhang\u005fsan@example.com";</script>`,
		`<script>var c = "\x3czhang@example.com\x3e";</script>`,
	} {
		var sum Summary
		out, err := e.Rewrite(nil, []byte(in), Text, decide(t, "online_agent"), &sum)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(out, []byte("zhang")) {
			t.Errorf("%s\n  gives %s (the local part shows)", in, out)
		}
		if badJSEscape.Match(out) {
			t.Errorf("%s\n  gives %s (broken escape)", in, out)
		}
	}
}

// Escapes a browser decodes but the decoder does not: JavaScript's \xHH and
// \u{…}, and HTML character references in a page. Each value passes.
func TestTextOtherEscapesHideValues(t *testing.T) {
	e := engine(t, config.Route{Scan: "all"}, nil)
	for _, c := range []struct{ in, shown string }{
		{`<script>var m = "\x31\x33\x38\x31\x32\x33\x34\x35\x36\x37\x38";</script>`, "13812345678"},
		{`<script>var m = "\u{31}\u{33}\u{38}\u{31}\u{32}\u{33}\u{34}\u{35}\u{36}\u{37}\u{38}";</script>`, "13812345678"},
		{`<script>var m = "zhang.san\x40example.com";</script>`, "zhang.san@example.com"},
		{`<p>&#49;&#51;&#56;&#49;&#50;&#51;&#52;&#53;&#54;&#55;&#56;</p>`, "13812345678"},
		{`<p>138&#45;1234&#45;5678</p>`, "138-1234-5678"},
		{`<a>zhang.san&#64;example.com</a>`, "zhang.san@example.com"},
	} {
		var sum Summary
		out, err := e.Rewrite(nil, []byte(c.in), Text, decide(t, "online_agent"), &sum)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(out, []byte(c.in)) {
			t.Errorf("%s passes unchanged (a browser shows %s)", c.in, c.shown)
		}
	}
}

// markPIIKeys scans the key as written (escapes and all) and only keys
// with five digits or an '@': under scan names and scan off, an escaped
// mobile key, an IP address and a licence plate (which scan all finds in
// the same keys) go into the summary's paths, the flow log's.
func TestSummaryPathKeysMarkPIIKeysMisses(t *testing.T) {
	for _, scan := range []string{"names", "off"} {
		e := engine(t, config.Route{Scan: scan, Fields: []config.Field{{Path: "customers.*.mobile", Type: "cn_mobile"}}}, nil)
		for _, c := range []struct{ key, value string }{
			{`\u0031\u0033\u0038\u0031\u0032\u0033\u0034\u0035\u0036\u0037\u0038`, "13812345678"},
			{`li\u0040qq.com`, "li@qq"},
			{`1.2.3.4`, `1\.2\.3\.4`},
			{`fe80::1`, "fe80::1"},
			{`京A8B2C3`, "京A8B2C3"},
		} {
			var sum Summary
			in := `{"customers":{"` + c.key + `":{"mobile":"13812345678"}}}`
			if _, err := e.Rewrite(nil, []byte(in), JSON, decide(t, "online_agent"), &sum); err != nil {
				t.Fatal(err)
			}
			for _, p := range sum.Paths {
				if strings.Contains(p, c.value) {
					t.Errorf("scan %s: key %s: summary path %q", scan, c.key, p)
				}
			}
		}
	}
}

// plainFound looks through every plain finding for every decoded one:
// text with n findings of each takes n² steps (a 1 MB page: seconds; the
// default 16 MB max_body: minutes of CPU per response).
func TestTextEscapesLinear(t *testing.T) {
	e := engine(t, config.Route{Scan: "all"}, nil)
	d := decide(t, "online_agent")
	took := func(n int) time.Duration {
		in := []byte("<script>var a = \"" + strings.Repeat("13812345678 \\u00313912345678 ", n) + "\";</script>")
		var sum Summary
		st := time.Now()
		if _, err := e.Rewrite(nil, in, Text, d, &sum); err != nil {
			t.Fatal(err)
		}
		return time.Since(st)
	}
	// The best of three of each, in one run (the machine is shared):
	// linear is 8×, the quadratic merge this guards against was 50×.
	took(1000) // warm up
	best := func(n int) time.Duration {
		b := took(n)
		for range 2 {
			b = min(b, took(n))
		}
		return b
	}
	small, large := best(4000), best(32000)
	if r := float64(large) / float64(small); r > 24 {
		t.Errorf("8× the text takes %.0f× the time (%v, %v)", r, small, large)
	}
}

// The e-mail detector ends an address at its top-level domain only when a
// '.' follows it: glued with '-' (the usual way to write an address and a
// number together) the address is not found, and passes in text.
func TestEmailGluedWithHyphen(t *testing.T) {
	e := engine(t, config.Route{Scan: "all"}, nil)
	for _, in := range []string{
		`{"note":"邮箱 zhang.san@example.com-13812345678"}`,
		`{"note":"zhang.san@example.com-备用"}`,
	} {
		var sum Summary
		out, err := e.Rewrite(nil, []byte(in), JSON, decide(t, "online_agent"), &sum)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(out, []byte("zhang.san@example.com")) {
			t.Errorf("%s gives %s", in, out)
		}
	}
}

// FuzzTextEscapes: text with escapes (a script, a page) is rewritten
// without a panic, its view never cuts an escape the text did not already
// have cut, and no mobile the detectors find in the text, read with its
// escapes decoded, is found again in the view read the same way.
func FuzzTextEscapes(f *testing.F) {
	for _, s := range []string{
		`var a = "\u0031\u0033\u0038\u0031\u0032\u0033\u0034\u0035\u0036\u0037\u0038";`,
		`<p>&#49;&#51;&#56;&#49;&#50;&#51;&#52;&#53;&#54;&#55;&#56;</p>`,
		`var c = {"to": "\u4f60\u597dzhang@example.com"}; 13912345678 \x31\x33\x38`,
		`"C:\\u0031\\data" \u{31}\u{33}\u{38}1234\u{35}678 li@qq.com-13987654321`,
	} {
		f.Add(s)
	}
	e := engine(f, config.Route{Scan: "all"}, nil)
	d := decide(f, "online_agent")
	mobiles := func(b []byte) []string {
		var out []string
		te := decodeTextEscapes(b)
		for _, fd := range detectors.Default.Scan(string(te.dec), nil) {
			if fd.Type == detectors.CNMobile {
				out = append(out, string(te.dec[fd.Start:fd.End]))
			}
		}
		return out
	}
	f.Fuzz(func(t *testing.T, in string) {
		var sum Summary
		out, err := e.Rewrite(nil, []byte(in), Text, d, &sum)
		if err != nil {
			t.Fatal(err)
		}
		if cutEscape([]byte(out)) && !cutEscape([]byte(in)) {
			t.Fatalf("a cut escape:\n in %q\nout %q", in, out)
		}
		seen := map[string]bool{}
		for _, m := range mobiles([]byte(in)) {
			seen[m] = true
		}
		for _, m := range mobiles(out) {
			if seen[m] {
				t.Fatalf("mobile %q survives:\n in %q\nout %q", m, in, out)
			}
		}
	})
}

// cutEscape reports whether b holds a JavaScript \x or \u escape that is
// not whole (an escaped backslash before the x or u is not one).
func cutEscape(b []byte) bool {
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' || i+1 >= len(b) {
			continue
		}
		switch b[i+1] {
		case '\\':
			i++
		case 'x':
			if i+3 >= len(b) || hexDigit(b[i+2]) < 0 || hexDigit(b[i+3]) < 0 {
				return true
			}
		case 'u':
			if i+2 < len(b) && b[i+2] == '{' {
				j := i + 3
				for j < len(b) && hexDigit(b[j]) >= 0 {
					j++
				}
				if j == i+3 || j >= len(b) || b[j] != '}' {
					return true
				}
				continue
			}
			if _, ok := hex4(b, i+2); !ok {
				return true
			}
		}
	}
	return false
}
