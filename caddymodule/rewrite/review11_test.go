// Found by the eleventh review (each failed before its fix).

// Found by the review of 9c28223 and cb17be4.

package rewrite

import (
	"bytes"
	"strings"
	"testing"

	"github.com/piigate/piigate/config"
	"github.com/piigate/piigate/detectors"
)

// textView rewrites in as Text for online_agent under scan all.
func textView(t *testing.T, in string) string {
	t.Helper()
	e := engine(t, config.Route{Scan: "all"}, nil)
	var sum Summary
	out, err := e.Rewrite(nil, []byte(in), Text, decide(t, "online_agent"), &sum)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// HTML character references a browser decodes (HTML5 tokenizer) but
// escapeAt misreads: leading zeros past its digit limit, a missing ';'
// (a parse error, decoded all the same), and 0x80–0x9F, which HTML maps
// through Windows-1252 (&#150; is U+2013, a separator the mobile detector
// reads), and named references (&nbsp;, &ndash;, &commat;). shown is
// what the page displays; the detectors find it.
func TestHTMLReferencesBrowserDecodes(t *testing.T) {
	for _, c := range []struct{ in, shown string }{
		{`<p>&#0000000049;3812345678</p>`, "13812345678"},
		{`<p>&#x0000000031;3812345678</p>`, "13812345678"},
		{`<p>&#49&#51&#56&#49&#50&#51&#52&#53&#54&#55&#56</p>`, "13812345678"},
		{`<p>138&#150;1234&#150;5678</p>`, "138\u20131234\u20135678"},
		{`<p>138&nbsp;1234&nbsp;5678</p>`, "138\u00a01234\u00a05678"},
		{`<p>138&ndash;1234&ndash;5678</p>`, "138\u20131234\u20135678"},
		{`<p>zhang.san&commat;example.com</p>`, "zhang.san@example.com"},
	} {
		if len(detectors.Default.Scan(c.shown, nil)) == 0 {
			t.Fatalf("the detectors find nothing in %q", c.shown)
		}
		if out := textView(t, c.in); out == c.in {
			t.Errorf("%s passes unchanged (a browser shows %s)", c.in, c.shown)
		}
	}
}

// JavaScript string escapes a browser decodes but escapeAt does not:
// \u{…} with more than seven hex digits (leading zeros are valid), legacy
// octal escapes (sloppy-mode scripts), identity escapes (\@ is @) and a
// line continuation.
func TestJSEscapesBrowserDecodes(t *testing.T) {
	for _, c := range []struct{ in, shown string }{
		{`<script>var m = "\u{00000031}3812345678";</script>`, "13812345678"},
		{`<script>var m = "\61\63\70\61\62\63\64\65\66\67\70";</script>`, "13812345678"},
		{`<script>var m = "zhang.san\@example.com";</script>`, "zhang.san@example.com"},
		{"<script>var m = \"138\\\n12345678\";</script>", "13812345678"},
	} {
		if len(detectors.Default.Scan(c.shown, nil)) == 0 {
			t.Fatalf("the detectors find nothing in %q", c.shown)
		}
		if out := textView(t, c.in); out == c.in {
			t.Errorf("%s passes unchanged (a browser shows %s)", c.in, c.shown)
		}
	}
}

// simpleDomain (cb17be4) shows a domain the slow path masks: an empty
// label (qq.com..wangwei.cn) ends the domain in the slow path, which
// masks the rest whole; the fast path passes it all.
func TestSimpleDomainEmptyLabel(t *testing.T) {
	e := engine(t, config.Route{Scan: "off", Fields: []config.Field{{Path: "email", Type: "email"}}}, nil)
	var sum Summary
	in := `{"email":"li@qq.com..wangwei.cn"}`
	out, err := e.Rewrite(nil, []byte(in), JSON, decide(t, "online_agent"), &sum)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(out, []byte("wangwei")) {
		t.Errorf("%s gives %s (the slow path, before cb17be4, masked what follows qq.com)", in, out)
	}
}

// keyMayMatch (cb17be4) skips a key with no digit, '@' or ':': a custom
// type the admin defined without digits is a key markPIIKeys no longer
// scans (9c28223 scanned every key), so under scan off it is written into
// the summary's paths, the flow log's.
func TestKeyMayMatchSkipsCustomType(t *testing.T) {
	pol := examplePolicy
	pol.Custom = map[string]config.CustomType{"custom:member": {Pattern: `VIP-[A-Z]{8}`}}
	tbl, err := config.Compile(pol)
	if err != nil {
		t.Fatal(err)
	}
	cr, err := config.CompileRoute(config.Route{Scan: "off", Fields: []config.Field{{Path: "customers.*.mobile", Type: "cn_mobile"}}})
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(Options{Route: cr, Table: tbl})
	if err != nil {
		t.Fatal(err)
	}
	if len(e.scanner.Scan("VIP-QWERTYUI", nil)) == 0 {
		t.Fatal("the custom detector finds nothing in the key")
	}
	var d config.Decision
	tbl.Decide("online_agent", &d)
	var sum Summary
	in := `{"customers":{"VIP-QWERTYUI":{"mobile":"13812345678"}}}`
	if _, err := e.Rewrite(nil, []byte(in), JSON, &d, &sum); err != nil {
		t.Fatal(err)
	}
	for _, p := range sum.Paths {
		if strings.Contains(p, "QWERTYUI") {
			t.Errorf("summary path %q (the key is custom:member)", p)
		}
	}
}
