// Found by the fourth-round review of 6e4f08e (each fails on 6e4f08e).

// Found by the ninth review (each failed before its fix).

package rewrite

import (
	"bytes"
	"testing"

	"github.com/piigate/piigate/config"
)

// textEscapes drops every decoded finding whose span holds no escape, as
// "the plain scan's", even when the plain scan did not find it: a value
// found only because its context word was escaped (Python's json.dumps
// escapes every Chinese character) reaches the agent.
func TestTextEscapesContextWordEscaped(t *testing.T) {
	e := engine(t, config.Route{Scan: "all"}, nil)
	d := decide(t, "online_agent")
	for _, c := range []struct{ in, value string }{
		{`<script>var n = "\u62a4\u7167 E12345678";</script>`, "E12345678"},                   // 护照
		{`<script>var n = "\u9999\u6e2f A1234563";</script>`, "A1234563"},                     // 香港
		{`<script>var n = "\u8eab\u4efd\u8bc1 110105491231002";</script>`, "110105491231002"}, // 身份证
	} {
		// The same text unescaped is rewritten (the detectors find it).
		var sum Summary
		out, err := e.Rewrite(nil, []byte(c.in), Text, d, &sum)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(out, []byte(c.value)) {
			t.Errorf("%s\n  gives %s", c.in, out)
		}
	}
}

// Escapes of anything but letters, digits and '@' stay escaped for the
// detectors, but a client decodes them: separators the detectors accept
// in plain text (full-width hyphen, U+2010, zero-width space, space, '.'),
// as Python's json.dumps (ensure_ascii) writes them, hide the value.
func TestTextEscapedSeparators(t *testing.T) {
	e := engine(t, config.Route{Scan: "all"}, nil)
	d := decide(t, "online_agent")
	for _, c := range []struct{ plain, escaped string }{
		{"１３８－１２３４－５６７８", `\uff11\uff13\uff18\uff0d\uff11\uff12\uff13\uff14\uff0d\uff15\uff16\uff17\uff18`},
		{"138\u20101234\u20105678", `138\u20101234\u20105678`},
		{"138\u200b1234\u200b5678", `138\u200b1234\u200b5678`},
		{"138 1234 5678", `\u0031\u0033\u0038\u0020\u0031\u0032\u0033\u0034\u0020\u0035\u0036\u0037\u0038`},
		{"zhang.san@example.com", `zhang\u002esan@example\u002ecom`},
	} {
		var sum Summary
		pout, _ := e.Rewrite(nil, []byte(`<script>var m = "`+c.plain+`";</script>`), Text, d, &sum)
		if bytes.Contains(pout, []byte(c.plain)) {
			t.Fatalf("precondition: plain %q not rewritten", c.plain)
		}
		in := `<script>var m = "` + c.escaped + `";</script>`
		out, err := e.Rewrite(nil, []byte(in), Text, d, &sum)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(out, []byte(in)) {
			t.Errorf("%s passes unchanged (a client reads %q; plain it gives %s)", in, c.plain, pout)
		}
	}
}

// The e-mail mask keeps the domain "up to its letters-only top-level
// domain", but the labels before it may hold any digits: the mobile the
// commit's own test hides (zhang.san@example.com-13812345678) passes once
// a letters label follows, in text and in JSON, and so does one that is
// the domain's first label.
func TestEmailMaskDigitsInDomainLabels(t *testing.T) {
	e := engine(t, config.Route{Scan: "all", Fields: []config.Field{{Path: "contact", Type: "email"}}}, nil)
	d := decide(t, "online_agent")
	for _, v := range []string{
		"zhang.san@example.com-13812345678-x.cn",
		"zhang.san@163.com.13812345678.cn",
		"zhang.san@13812345678.cn",
	} {
		for _, c := range []struct {
			in string
			f  Format
		}{{`{"contact":"` + v + `"}`, JSON}, {`{"note":"` + v + `"}`, JSON}, {"备注 " + v + " 。", Text}} {
			var sum Summary
			out, err := e.Rewrite(nil, []byte(c.in), c.f, d, &sum)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(out, []byte("13812345678")) {
				t.Errorf("%s gives %s", c.in, out)
			}
		}
	}
}

// hash's canonical form drops every separator of a number-like type,
// IP addresses included: different addresses get the same pseudonym, so
// an analyst's joins merge different clients.
func TestHashIPAddressesDoNotCollide(t *testing.T) {
	e := engine(t, config.Route{Scan: "off", Fields: []config.Field{{Path: "ip", Type: "ip_address"}}},
		[]byte("0123456789abcdef0123456789abcdef"))
	d := decide(t, "analyst")
	view := func(ip string) string {
		var sum Summary
		out, err := e.Rewrite(nil, []byte(`{"ip":"`+ip+`"}`), JSON, d, &sum)
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	for _, p := range [][2]string{
		{"192.168.1.10", "19.216.81.10"},
		{"10.1.11.1", "101.1.1.1"},
		{"2001:db8::1:0", "2001:db8:10::"},
	} {
		a, b := view(p[0]), view(p[1])
		if a == b {
			t.Errorf("%s and %s both give %s", p[0], p[1], a)
		}
	}
	// And one address is one pseudonym, however it is spelt: IPv4-mapped
	// (a dual-stack listener's), full-width (found by the tenth review).
	for _, p := range [][2]string{
		{"192.168.1.10", "::ffff:192.168.1.10"},
		{"192.168.1.10", "１９２.１６８.１.１０"},
	} {
		if a, b := view(p[0]), view(p[1]); a != b {
			t.Errorf("%s gives %s, %s gives %s", p[0], a, p[1], b)
		}
	}
}

// The summary's paths (the flow log's) show a key that is personal data
// as * only when scan all found it; under scan names (the default) a key
// that is a mobile number goes into the flow log as written.
func TestSummaryPathHoldsNoKeyValue(t *testing.T) {
	for _, route := range []config.Route{
		{Scan: "names"},
		{Scan: "off", Fields: []config.Field{{Path: "customers.*.mobile", Type: "cn_mobile"}}},
	} {
		e := engine(t, route, nil)
		var sum Summary
		in := `{"customers":{"13812345678":{"mobile":"13812345678","name":"张三"}}}`
		if _, err := e.Rewrite(nil, []byte(in), JSON, decide(t, "online_agent"), &sum); err != nil {
			t.Fatal(err)
		}
		for _, p := range sum.Paths {
			if bytes.Contains([]byte(p), []byte("13812345678")) {
				t.Errorf("scan %s: summary path %q holds the mobile", route.Scan, p)
			}
		}
	}
}
