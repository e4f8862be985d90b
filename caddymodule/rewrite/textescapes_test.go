// Found by the eighth review (each failed before its fix): JSONP comments, escapes in text, the e-mail mask's domain.

package rewrite

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/piigate/piigate/config"
)

// JSONP: the call's prefix and suffix are copied without a content scan;
// the same body was content-scanned whole as text before JSONP was
// recognised.
func TestJSONPCommentsNotScanned(t *testing.T) {
	e := engine(t, config.Route{Scan: "names"}, nil)
	d := decide(t, "online_agent")
	for _, in := range []string{
		"/* customer 13812345678 */ cb({\"id\":1});",
		"cb({\"id\":1}); /* zhang.san@example.com */",
	} {
		f := Sniff([]byte(in))
		var sum Summary
		out, err := e.RewriteScanned(nil, []byte(in), f, d, &sum) // as the gateway, for a sniffed body
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(out, []byte("13812345678")) || bytes.Contains(out, []byte("zhang.san")) {
			t.Errorf("format %d: %q passes as %q", f, in, out)
		}
	}
}

// Text with \u escapes: when the decoded text has more findings, the view
// is of the decoded text, but rewrite() then flushes the ORIGINAL src from
// w.last (an offset into the shorter decoded text) to its end: the view
// gets the tail of the original appended, escaped values and all.
func TestTextEscapesViewHasOriginalTail(t *testing.T) {
	e := engine(t, config.Route{Scan: "all"}, nil)
	d := decide(t, "online_agent")
	const a = `\u0031\u0033\u0038\u0031\u0032\u0033\u0034\u0035\u0036\u0037\u0038` // 13812345678
	const b = `\u0031\u0033\u0039\u0038\u0037\u0036\u0035\u0034\u0033\u0032\u0031` // 13987654321
	in := `var a = "` + a + `"; var b = "` + b + `";`
	var sum Summary
	out, err := e.Rewrite(nil, []byte(in), Text, d, &sum)
	if err != nil {
		t.Fatal(err)
	}
	if want := `var a = "138****5678"; var b = "139****4321";`; string(out) != want {
		t.Errorf("view %s\nwant %s", out, want)
	}
	if te := decodeTextEscapes(out); bytes.Contains(te.dec, []byte("13987654321")) {
		t.Errorf("the view holds 13987654321 behind escapes: %s", out)
	}
}

// A value only the undecoded scan finds is lost when the decoded scan,
// which finds more, wins (the escape glues a digit to it).
func TestTextEscapesLoseAFinding(t *testing.T) {
	e := engine(t, config.Route{Scan: "all"}, nil)
	d := decide(t, "online_agent")
	const esc = `\u0031\u0033\u0039\u0031\u0032\u0033\u0034\u0035\u0036\u0037\u0038` // 13912345678
	in := `<p>A ` + esc + ` B ` + esc + ` C 13812345678\u0030</p>`
	var sum Summary
	out, err := e.Rewrite(nil, []byte(in), Text, d, &sum)
	if err != nil {
		t.Fatal(err)
	}
	if i := bytes.Index(out, []byte("</p>")); i >= 0 {
		out = out[:i] // leave the appended tail (TestTextEscapesViewHasOriginalTail) aside
	}
	if bytes.Contains(out, []byte("13812345678")) {
		t.Errorf("%s\n gives %s", in, out)
	}
}

// Text with \u escapes: an escaped backslash before "u0031" is not an
// escape, but decodeTextEscapes decodes it, and the view is of that text.
func TestTextEscapesBreakScript(t *testing.T) {
	e := engine(t, config.Route{Scan: "all"}, nil)
	d := decide(t, "online_agent")
	const esc = `\u0031\u0033\u0038\u0031\u0032\u0033\u0034\u0035\u0036\u0037\u0038`
	in := `var m = "` + esc + `"; var dir = "C:\\u0031\\data";`
	var sum Summary
	out, err := e.Rewrite(nil, []byte(in), Text, d, &sum)
	if err != nil {
		t.Fatal(err)
	}
	if want := `var m = "138****5678"; var dir = "C:\\u0031\\data";`; string(out) != want {
		t.Errorf("%s\n gives %s", in, out)
	}
}

// The e-mail mask keeps "the domain" as every ASCII letter, digit, '.'
// and '-' after the '@': a mobile glued to it with '-' or '.' passes.
func TestEmailMaskDomainSwallowsDigits(t *testing.T) {
	e := engine(t, config.Route{Scan: "all", Fields: []config.Field{{Path: "contact", Type: "email"}}}, nil)
	d := decide(t, "online_agent")
	for _, in := range []string{
		`{"contact":"zhang.san@example.com-13812345678"}`,
		`{"contact":"zhang.san@163.com.13812345678"}`,
	} {
		var sum Summary
		out, err := e.Rewrite(nil, []byte(in), JSON, d, &sum)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(out, []byte("13812345678")) {
			t.Errorf("%s gives %s", in, out)
		}
	}
	_ = strings.Contains
	_ = json.Valid
}
