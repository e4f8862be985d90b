package rewrite

// Twenty-seventh review (27a: the text reading of JSON scalars, masks, the
// rest of the engine). Each test fails on the code as reviewed.

import (
	"encoding/json"
	"html"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/piigate/piigate/config"
	"github.com/piigate/piigate/detectors"
	"github.com/piigate/piigate/detectors/detectorstest"
)

// clientReadings returns what a client may make of s, a string it got:
// s itself, s with HTML references decoded (a page, innerHTML), and s
// percent-decoded as form data ('+' a space), each with its spaces
// removed, so that a value split by a '+' reads whole.
func clientReadings(s string) []string {
	return []string{s, html.UnescapeString(s), formDecode(s)}
}

// formDecode decodes %XX escapes (leaving malformed ones as they are) and
// reads '+' as a space, then drops the spaces.
func formDecode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '%' && i+2 < len(s) && hexDigit(s[i+1]) >= 0 && hexDigit(s[i+2]) >= 0:
			b.WriteByte(byte(hexDigit(s[i+1])<<4 | hexDigit(s[i+2])))
			i += 2
		case c == '+', c == ' ':
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// The twenty-sixth review's fix (a text body that is one JSON string with a
// percent-escape or an HTML reference, in which the JSON reading rewrote a
// value, is redacted whole) sits in walker.text, which only Rewrite(…,
// Text, …) reaches. The gateway never reaches it for such a body: under
// text/plain, text/html, a script type or no type (mask_writer.go) the
// body is sniffed, and Sniff returns JSON for one JSON string
// (engine.go:478, jsonScalar), so the body goes to w.document through
// RewriteScanned, which reads no percent-escape and no HTML reference. The
// review-26 leak is whole there: for online_agent "13010219900&#49;011237"
// served as text/html becomes "130****9900&#49;011237", which the browser
// renders as 130****99001011237 (the resident ID 130102199001011237's
// birth-date digits 9900101 and its last four, which the ID's mask hides:
// 130102********1237); the minimal role (drop everything) gets
// "&#49;011237", the ID's last seven digits. (Checked through the handler
// too: the same bodies under text/plain and text/html answer 200 with
// exactly these views.)
func TestReview27aGatewayScalarTextBodySkipsTextReading(t *testing.T) {
	e := engine(t, config.Route{Scan: "all"}, nil)
	for _, in := range []string{`"13010219900%31011237"`, `"13010219900&#49;011237"`} {
		f := Sniff([]byte(in)) // as the gateway does for text/*, scripts and no type
		for _, role := range []string{"online_agent", "minimal"} {
			var sum Summary
			out, err := e.RewriteScanned(nil, []byte(in), f, decide(t, role), &sum)
			if err != nil {
				t.Fatal(err)
			}
			var s string
			if err := json.Unmarshal(out, &s); err != nil {
				t.Fatalf("%s as %s: invalid JSON out %s", in, role, out)
			}
			for _, r := range clientReadings(s) {
				if strings.Contains(r, "1011237") || strings.Contains(r, "9900101") {
					t.Errorf("%s (sniffed as format %d) as %s: gave %s (reads %q), counts %v; digits of the resident ID its role hides are shown",
						in, f, role, out, r, sum.Counts)
					break
				}
			}
		}
	}
}

// RewriteScanned is "for JSON found in a body whose type did not say JSON,
// which would otherwise have been content-scanned as text", and the README
// says such JSON "is also content-scanned everywhere ... as the text it
// was labelled would have been". It is not: the text reading decodes HTML
// references and percent-escapes (walker.text → textEscapes), the JSON
// walk's scanText (walk.go:1138) reads each string as it is. So a text/html
// page <p>1381234567&#56;</p> is masked (138****5678), while the text/html
// body ["1381234567&#56;"] passes unchanged, and a browser shows the
// page as ["13812345678"]. Likewise {"note":"1381234567%38"} under
// text/plain (or form data) passes where the text 1381234567%38 is masked.
func TestReview27aSniffedJSONStringsSkipTextEscapes(t *testing.T) {
	e := engine(t, config.Route{Scan: "all"}, nil)
	d := decide(t, "online_agent")
	for _, c := range []struct{ text, doc string }{
		{`<p>1381234567&#56;</p>`, `["1381234567&#56;"]`},
		{`note: 1381234567%38`, `{"note":"1381234567%38"}`},
		{`tel 138+1234+5678`, `{"note":"tel 138+1234+5678"}`},
	} {
		// The same characters read as text are masked ...
		var tsum Summary
		tout, err := e.Rewrite(nil, []byte(c.text), Text, d, &tsum)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range clientReadings(string(tout)) {
			if strings.Contains(r, mobile) {
				t.Fatalf("precondition: the text %s gave %s", c.text, tout)
			}
		}
		// ... and inside JSON sniffed from the same label they are not.
		f := Sniff([]byte(c.doc))
		var sum Summary
		out, err := e.RewriteScanned(nil, []byte(c.doc), f, d, &sum)
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatalf("%s: invalid JSON out %s", c.doc, out)
		}
		leaves(v, "", func(_, s string, _ bool) {
			for _, r := range clientReadings(s) {
				if strings.Contains(r, mobile) {
					t.Errorf("%s (sniffed, format %d) as online_agent: gave %s, counts %v; the client reads %q (the text %s gave %s)",
						c.doc, f, out, sum.Counts, r, c.text, tout)
					return
				}
			}
		})
	}
}

// The text reading of a scalar text body (textAgain) reads the body as it
// is written, not what the client's JSON.parse gives: an escape of text
// whose introducer or digits are themselves JSON escapes is decoded by the
// client (JSON.parse, then the page or the form decoder) but read by
// neither of the engine's two readings. "1381234567\u0026#56;" is
// JSON.parse'd to exactly the string "1381234567&#56;", which the engine
// masks when the body spells it so (138****5678) — but this spelling has
// no literal '&' (walk.go:1279 ContainsAny(src, "%&+") is false), so the
// text reading is skipped, and "\u0026" would not have been read as the
// start of a reference by decodeTextEscapes anyway (one level of escapes).
// Likewise "%\u00338" (%38 after JSON.parse), "\u002538", and a '+'
// between a digit and a JSON-escaped digit ("138+\u0031234+5678", read
// as "138 1234 5678" by a form decoder): escapeAt reads '+' as a space
// only between two literal digits (jsonstr.go:266).
func TestReview27aTextScalarJSONEscapedTextEscapes(t *testing.T) {
	e := engine(t, config.Route{Scan: "all"}, nil)
	d := decide(t, "online_agent")
	for _, c := range []struct{ in, same string }{
		{`"1381234567\u0026#56;"`, `"1381234567&#56;"`},
		{`"1381234567&#\u00356;"`, `"1381234567&#56;"`},
		{`"1381234567\u002538"`, `"1381234567%38"`},
		{`"1381234567%\u00338"`, `"1381234567%38"`},
		{`"138+\u0031234+5678"`, `"138+1234+5678"`},
		{`"138\u002b1234\u002b5678"`, `"138+1234+5678"`},
	} {
		var a, b string
		json.Unmarshal([]byte(c.in), &a)
		json.Unmarshal([]byte(c.same), &b)
		if a != b {
			t.Fatalf("fixture: %s and %s differ to JSON.parse", c.in, c.same)
		}
		var ssum Summary
		sout, err := e.Rewrite(nil, []byte(c.same), Text, d, &ssum)
		if err != nil {
			t.Fatal(err)
		}
		var sum Summary
		out, err := e.Rewrite(nil, []byte(c.in), Text, d, &sum)
		if err != nil {
			t.Fatal(err)
		}
		var s string
		if err := json.Unmarshal(out, &s); err != nil {
			t.Fatalf("%s: invalid JSON out %s", c.in, out)
		}
		for _, r := range clientReadings(s) {
			if strings.Contains(r, mobile) {
				t.Errorf("%s (JSON.parse: %q) as online_agent: gave %s, counts %v; the client reads %q. The same string spelt %s gives %s",
					c.in, a, out, sum.Counts, r, c.same, sout)
				break
			}
		}
	}
}

// When the JSON reading of a scalar text body rewrote a value and the body
// holds a '%', '&' or '+', the body is redacted whole (walk.go:1280-1288)
// and only the JSON reading's counts are kept: the value only the text
// reading sees is hidden but never counted. "13010219900%31011237" for
// online_agent counts one cn_mobile and no cn_resident_id; the same text
// unquoted (13010219900%31011237) counts both, as the twenty-fifth review
// made the text path do for values it redacts as one.
func TestReview27aTextScalarRedactedWholeCountsOnlyJSONReading(t *testing.T) {
	e := engine(t, config.Route{Scan: "all"}, nil)
	d := decide(t, "online_agent")
	var usum Summary
	if _, err := e.Rewrite(nil, []byte(`13010219900%31011237`), Text, d, &usum); err != nil {
		t.Fatal(err)
	}
	if countOf(&usum, detectors.CNResidentID, config.Mask) != 1 {
		t.Fatalf("precondition: unquoted counts %v", usum.Counts)
	}
	var sum Summary
	out, err := e.Rewrite(nil, []byte(`"13010219900%31011237"`), Text, d, &sum)
	if err != nil {
		t.Fatal(err)
	}
	if countOf(&sum, detectors.CNResidentID, config.Mask)+countOf(&sum, detectors.CNResidentID, config.Redact) == 0 {
		t.Errorf(`"13010219900%%31011237" as online_agent: gave %s, counts %v; the resident ID it hid is not counted (unquoted: %v)`,
			out, sum.Counts, usum.Counts)
	}
}

// An event's data that is not JSON is content-scanned by scanText
// (events.go:90), which reads no escape of text, where a text body with the
// same line is read with them decoded (walker.text → textEscapes). "data:
// 13010219900%31011237" gives "130****9900%31011237" to online_agent (the
// review-26 overlap: percent-decoded, 130****99001011237 shows the
// resident ID's birth-date digits), and "data: 1381234567&#56;" passes
// whole (13812345678 once the page renders it); the text body
// 13010219900%31011237 gives 130102********1237 and 1381234567&#56; gives
// 138****5678.
func TestReview27aEventDataSkipsTextEscapes(t *testing.T) {
	e := engine(t, config.Route{Scan: "all"}, nil)
	d := decide(t, "online_agent")
	for _, line := range []string{"13010219900%31011237", "1381234567&#56;"} {
		var sum Summary
		out, err := e.Rewrite(nil, []byte("data: "+line+"\n\n"), Events, d, &sum)
		if err != nil {
			t.Fatal(err)
		}
		var tsum Summary
		tout, _ := e.Rewrite(nil, []byte(line), Text, d, &tsum)
		data := strings.TrimSpace(strings.TrimPrefix(string(out), "data: "))
		for _, r := range clientReadings(data) {
			if strings.Contains(r, mobile) || strings.Contains(r, "1011237") || strings.Contains(r, "9900101") {
				t.Errorf("event data %s as online_agent: gave %q (reads %q), counts %v; as a text body it gives %s",
					line, out, r, sum.Counts, tout)
				break
			}
		}
	}
}

// foundWhole reports whether the detectors find the value v itself in the
// client's reading rd.
func foundWhole(e *Engine, rd, v string) bool {
	for _, f := range e.scanner.Scan(rd, nil) {
		if rd[f.Start:f.End] == v {
			return true
		}
	}
	return false
}

// A property over the text reading of scalar text bodies: a value whose
// characters are spelt in any of the ways the engine decodes — literally,
// as JSON \uXXXX, as a percent-escape, as an HTML reference — and, one
// time in four, an escape of text whose introducer or digits are JSON
// escapes (\u0025 + hex, %\u00XX\u00XX, \u0026#N;, &#\u00XX;). The oracle
// is the client: JSON.parse of the view, then its readings (as it is, as a
// page, as form data) must not hold the value. Only the mixed spellings
// fail (TestReview27aTextScalarJSONEscapedTextEscapes).
func TestReview27aTextScalarSpellingsProperty(t *testing.T) {
	e := engine(t, config.Route{Scan: "all"}, nil)
	d := decide(t, "online_agent")
	g := detectorstest.New(27)
	r := rand.New(rand.NewPCG(27, 1))
	uesc := func(c byte) string {
		return `\u00` + strconv.FormatInt(int64(c)>>4, 16) + strconv.FormatInt(int64(c)&15, 16)
	}
	hex2 := func(c byte) string { return strconv.FormatInt(int64(c)>>4, 16) + strconv.FormatInt(int64(c)&15, 16) }
	fails := map[bool]int{}
	runs := map[bool]int{}
	for i := 0; i < 3000; i++ {
		var v string
		switch i % 3 {
		case 0:
			v = g.Mobile()
		case 1:
			v = g.ResidentID()
		default:
			v = g.BankCard()
		}
		if strings.ContainsAny(v, " -") {
			continue
		}
		if plain, _ := e.Rewrite(nil, []byte(`"`+v+`"`), Text, d, &Summary{}); strings.Contains(string(plain), v) {
			continue // not found written plainly either (a card of a rare length, without its context word)
		}
		mixed := r.IntN(4) == 0
		var b strings.Builder
		b.WriteByte('"')
		for j := 0; j < len(v); j++ {
			c := v[j]
			k := r.IntN(4)
			if mixed && r.IntN(3) == 0 {
				k = 4 + r.IntN(4)
			}
			switch k {
			case 0, 1:
				b.WriteByte(c)
			case 2:
				b.WriteString(uesc(c))
			case 3:
				if r.IntN(2) == 0 {
					b.WriteString("%" + hex2(c))
				} else {
					b.WriteString("&#" + strconv.Itoa(int(c)) + ";")
				}
			case 4:
				b.WriteString(`\u0025` + hex2(c))
			case 5:
				h := hex2(c)
				b.WriteString("%" + uesc(h[0]) + uesc(h[1]))
			case 6:
				b.WriteString(`\u0026#` + strconv.Itoa(int(c)) + ";")
			case 7:
				n := strconv.Itoa(int(c))
				b.WriteString("&#" + uesc(n[0]) + n[1:] + ";")
			}
		}
		b.WriteByte('"')
		in := b.String()
		var sum Summary
		out, err := e.Rewrite(nil, []byte(in), Text, d, &sum)
		if err != nil {
			t.Fatal(err)
		}
		var s string
		if err := json.Unmarshal(out, &s); err != nil {
			t.Errorf("%s: invalid JSON out %s", in, out)
			continue
		}
		runs[mixed]++
		for _, rd := range clientReadings(s) {
			if foundWhole(e, rd, v) {
				fails[mixed]++
				if fails[mixed] <= 3 {
					t.Errorf("%s (mixed %v) as online_agent: gave %s, counts %v; the client reads %q", in, mixed, out, sum.Counts, rd)
				}
				break
			}
		}
	}
	if fails[false]+fails[true] > 0 {
		t.Logf("values shown: %d of %d with one level of escapes, %d of %d with mixed spellings",
			fails[false], runs[false], fails[true], runs[true])
	}
}

// engineWith is engine under a policy of the test's own.
func engineWith(t testing.TB, pol config.Policy, route config.Route) (*Engine, func(roles string) *config.Decision) {
	t.Helper()
	tbl, err := config.Compile(pol)
	if err != nil {
		t.Fatal(err)
	}
	cr, err := config.CompileRoute(route)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(Options{Route: cr, Table: tbl})
	if err != nil {
		t.Fatal(err)
	}
	return e, func(roles string) *config.Decision {
		var d config.Decision
		tbl.Decide(roles, &d)
		return &d
	}
}

// An IP address written with full-width separators is one IP address to
// the engine (parseIP folds full-width forms, so oneValue accepts it, and
// the hash's canonical form makes １９２．１６８．１．１０ the address
// 192.168.1.10; URL parsers map U+FF0E to '.' too), but maskIP
// (action.go:1084-1095) looks for the ASCII '.' and ':' byte by byte: it finds
// no separator, so nothing is masked and the whole address is shown. Under
// the key name clientIp, for a role with "ip_address mask", both
// {"clientIp":"192．168．1．10"} and its all-full-width spelling come back
// unchanged (192.168.1.10 gives 192.168.*.*); so does an IPv6 address
// with full-width colons.
func TestReview27aIPMaskFullWidthSeparatorsShowsAll(t *testing.T) {
	e, decide := engineWith(t, config.Policy{Roles: map[string]config.RoleRules{
		"ops": {"ip_address": "mask", "*": "redact"},
	}}, config.Route{Scan: "names"})
	for _, v := range []string{"192．168．1．10", "１９２．１６８．１．１０", "2001：db8：85a3：0：0：8a2e：370：7334"} {
		if _, ok := parseIP([]byte(v)); !ok {
			t.Fatalf("fixture: %s does not parse", v)
		}
		in := `{"clientIp":"` + v + `"}`
		var sum Summary
		out, err := e.Rewrite(nil, []byte(in), JSON, decide("ops"), &sum)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(out), v) || !strings.Contains(string(out), "*") {
			t.Errorf("%s as ops (ip_address mask): gave %s, counts %v; the whole address is shown", in, out, sum.Counts)
		}
	}
}
