package rewrite

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/piigate/piigate/config"
	"github.com/piigate/piigate/detectors"
	"github.com/piigate/piigate/detectors/detectorstest"
)

// The policy of the example Caddyfile.
var examplePolicy = config.Policy{
	Roles: map[string]config.RoleRules{
		"online_agent": {
			"cn_mobile": "mask", "cn_resident_id": "mask", "bank_card": "mask", "email": "mask",
			"person_name": "mask", "address": "redact", "*": "redact",
		},
		"supervisor": {"*": "plain"},
		"analyst":    {"*": "hash"},
		"minimal":    {"*": "drop"},
		"tokens":     {"*": "tokenize"},
	},
}

const (
	mobile = "13812345678"
	idcard = "11010519491231002X" // fixed below by init
	card   = "6222026337417020"
)

var validID string

func init() {
	// Complete the ID fixture's check character from the detectors'
	// validator rather than hard-coding it.
	v, _ := detectors.LookupValidator("cn_resident_id")
	for _, c := range "0123456789X" {
		if cand := idcard[:17] + string(c); v(cand) {
			validID = cand
		}
	}
	if validID == "" {
		panic("no valid check character for fixture")
	}
}

func engine(t testing.TB, route config.Route, hashKey []byte) *Engine {
	t.Helper()
	tbl, err := config.Compile(examplePolicy)
	if err != nil {
		t.Fatal(err)
	}
	cr, err := config.CompileRoute(route)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(Options{Route: cr, Table: tbl, HashKey: hashKey})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func decide(t testing.TB, roles string) *config.Decision {
	tbl, err := config.Compile(examplePolicy)
	if err != nil {
		t.Fatal(err)
	}
	var d config.Decision
	tbl.Decide(roles, &d)
	return &d
}

func rewrite(t *testing.T, e *Engine, roles, in string, f Format) (string, *Summary) {
	t.Helper()
	var sum Summary
	out, err := e.Rewrite(nil, []byte(in), f, decide(t, roles), &sum)
	if err != nil {
		t.Fatalf("Rewrite(%s): %v", in, err)
	}
	if f == JSON && json.Valid([]byte(in)) && !json.Valid(out) {
		t.Fatalf("valid input gave invalid output:\n in %s\nout %s", in, out)
	}
	return string(out), &sum
}

func TestRewriteActions(t *testing.T) {
	e := engine(t, config.Route{
		Fields: []config.Field{{Path: "data.#.mobile", Type: "cn_mobile"}, {Path: "data.#.note", Type: "scan"}},
		Scan:   "names",
	}, []byte("0123456789abcdef0123456789abcdef"))
	in := `{"data":[{"id":7,"mobile":"` + mobile + `","name":"张三","idCard":"` + validID + `","email":"zhang.san@example.com","address":"北京市朝阳区建国路88号","note":"客户手机13912345678，卡号` + card + `","status":"open"}],"total":1}`
	cases := []struct {
		roles string
		want  []string // substrings of the output
		not   []string // substrings that must be gone
	}{
		{"online_agent", []string{`"mobile":"138****5678"`, `"name":"张*"`, `"idCard":"110105********002X"`, `"email":"z***@example.com"`, `"address":"[address]"`, `客户手机139****5678，卡号622202******7020`, `"status":"open"`, `"id":7`},
			[]string{mobile, validID, "zhang.san", "建国路"}},
		{"supervisor", []string{in}, nil},
		{"nobody", []string{`"mobile":"[cn_mobile]"`, `"name":"[person_name]"`, `"address":"[address]"`, `客户手机[cn_mobile]，卡号[bank_card]`}, []string{mobile}},
		{"minimal", []string{`{"data":[{"id":7,"note":"客户手机，卡号","status":"open"}],"total":1}`}, []string{mobile}},
		{"analyst", []string{`"mobile":"hash:cn_mobile:`}, []string{mobile, "zhang.san"}},
		{"tokens", []string{`"mobile":"[cn_mobile]"`}, []string{mobile}}, // no tokenizer: fail closed
		{"online_agent,supervisor", []string{in}, nil},
	}
	for _, c := range cases {
		out, sum := rewrite(t, e, c.roles, in, JSON)
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: output lacks %s\n%s", c.roles, w, out)
			}
		}
		for _, n := range c.not {
			if strings.Contains(out, n) {
				t.Errorf("%s: output still holds %s\n%s", c.roles, n, out)
			}
		}
		if sum.Total() != 7 {
			t.Errorf("%s: counted %d values, want 7: %+v", c.roles, sum.Total(), sum.Counts)
		}
	}
	_, sum := rewrite(t, e, "online_agent", in, JSON)
	wantPaths := "[data.#.mobile data.#.name data.#.idCard data.#.email data.#.address data.#.note]"
	if fmt.Sprint(sum.Paths) != wantPaths {
		t.Errorf("paths %v, want %s", sum.Paths, wantPaths)
	}
}

func TestRewriteSupervisorReturnsInputUntouched(t *testing.T) {
	e := engine(t, config.Route{Scan: "all"}, nil)
	in := []byte(`{"mobile":"13812345678","note":"call 13912345678"}`)
	var sum Summary
	out, err := e.Rewrite(nil, in, JSON, decide(t, "supervisor"), &sum)
	if err != nil {
		t.Fatal(err)
	}
	if &out[0] != &in[0] || sum.Changed || sum.Total() != 2 {
		t.Errorf("plain view should alias the input and still count: changed=%v total=%d", sum.Changed, sum.Total())
	}
}

func TestRewriteEncodings(t *testing.T) {
	e := engine(t, config.Route{Scan: "all"}, nil)
	cases := []struct{ name, in, want string }{
		{"unicode escapes", `{"n":"\u0031\u0033\u0038\u0031\u0032\u0033\u0034\u0035\u0036\u0037\u0038"}`, `{"n":"138****5678"}`},
		{"escaped key", `{"mob\u0069le":"13812345678"}`, `{"mob\u0069le":"138****5678"}`},
		{"full width", `{"n":"１３８１２３４５６７８"}`, `{"n":"１３８****５６７８"}`},
		{"number literal", `{"mobile":13812345678,"n":[13912345678]}`, `{"mobile":"138****5678","n":["139****5678"]}`},
		{"json in a string", `{"p":"{\"name\":\"张三\",\"mobile\":\"13812345678\"}"}`, `{"p":"{\"name\":\"张*\",\"mobile\":\"138****5678\"}"}`},
		{"bom", "\xef\xbb\xbf{\"mobile\":\"13812345678\"}", "\xef\xbb\xbf{\"mobile\":\"138****5678\"}"},
		{"xssi", ")]}'\n{\"mobile\":\"13812345678\"}", ")]}'\n{\"mobile\":\"138****5678\"}"},
		{"duplicate keys", `{"mobile":"13812345678","mobile":"13912345678"}`, `{"mobile":"138****5678","mobile":"139****5678"}`},
		{"pii key", `{"13812345678":{"x":1}}`, `{"138****5678":{"x":1}}`},
		{"quotes kept", `{"note":"say \"13812345678\"\n"}`, `{"note":"say \"138****5678\"\n"}`},
		{"object under a pii key", `{"address":{"city":"北京","zip":100000}}`, `{"address":{"city":"[address]","zip":"[address]"}}`},
		{"pretty", "{\n  \"mobile\": \"13812345678\",\n  \"ok\": true\n}\n", "{\n  \"mobile\": \"138****5678\",\n  \"ok\": true\n}\n"},
		{"scalars", `[1.5e3,-0,true,false,null,"x"]`, `[1.5e3,-0,true,false,null,"x"]`},
	}
	for _, c := range cases {
		out, _ := rewrite(t, e, "online_agent", c.in, JSON)
		if out != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, out, c.want)
		}
	}
}

func TestKeysThatArePersonalDataAreNotCached(t *testing.T) {
	e := engine(t, config.Route{Scan: "all"}, nil)
	for i := 0; i < 2; i++ { // the second time from the cache, if anything
		out, _ := rewrite(t, e, "online_agent", `{"13812345678":1,"mobile":"13912345678"}`, JSON)
		if out != `{"138****5678":1,"mobile":"139****5678"}` {
			t.Fatalf("pass %d: %s", i, out)
		}
	}
	if _, ok := e.keys.get([]byte("13812345678")); ok {
		t.Error("a key that is a phone number stays in the engine's key cache")
	}
	if ki, ok := e.keys.get([]byte("mobile")); !ok || ki.names != detectors.CNMobile || !ki.clean {
		t.Errorf("mobile: cached %v %+v", ok, ki)
	}
	// Numbers too short to be personal data are not scanned; long ones are.
	out, _ := rewrite(t, e, "online_agent", `[123456,13812345678]`, JSON)
	if out != `[123456,"138****5678"]` {
		t.Errorf("numbers: %s", out)
	}
}

func TestRewriteJSONInStringsWithKeyNames(t *testing.T) {
	e := engine(t, config.Route{Scan: "names"}, nil)
	in := `{"payload":"{\"customer\":{\"mobile\":\"13812345678\",\"name\":\"张三\"}}","note":"call 13912345678","raw":"[not json"}`
	want := `{"payload":"{\"customer\":{\"mobile\":\"138****5678\",\"name\":\"张*\"}}","note":"call 13912345678","raw":"[not json"}`
	out, sum := rewrite(t, e, "online_agent", in, JSON)
	if out != want {
		t.Errorf("\n got %s\nwant %s", out, want)
	}
	// The paths go on from the document's key into the nested one's.
	if got := fmt.Sprint(sum.Paths); got != "[payload.customer.mobile payload.customer.name]" {
		t.Errorf("paths %s", got)
	}
}

// TestJSONInStringsBehindEscapes: JSON held in a string is found by what
// the string says, not by how it is written: behind escaped white space or
// with its first bracket escaped, under key names (which walk JSON in
// strings) as under scan all. The rewritten document goes back as a JSON
// string; a string whose escapes stand for other text is not JSON.
func TestJSONInStringsBehindEscapes(t *testing.T) {
	maskedID := validID[:6] + "********" + validID[14:]
	cases := []struct{ in, want string }{
		{`{"payload":"\n{\"mobile\":\"13812345678\"}"}`, `{"payload":"\n{\"mobile\":\"138****5678\"}"}`},
		{`{"payload":"\u007b\"mobile\":\"13812345678\"}"}`, `{"payload":"{\"mobile\":\"138****5678\"}"}`},
		{`{"payload":"\u005B{\"mobile\":\"13812345678\"}]"}`, `{"payload":"[{\"mobile\":\"138****5678\"}]"}`},
		{`{"payload":" \r\n\t\u0020[{\"name\":\"张三\"}]"}`, `{"payload":" \r\n\t [{\"name\":\"张*\"}]"}`},
		{`["\u000A{\"idCard\":\"` + validID + `\"}"]`, `["\n{\"idCard\":\"` + maskedID + `\"}"]`},
		{`{"a":"\t{\"b\":\"\\n{\\\"mobile\\\":\\\"13812345678\\\"}\"}"}`, // JSON in a string in JSON in a string
			`{"a":"\t{\"b\":\"\\n{\\\"mobile\\\":\\\"138****5678\\\"}\"}"}`},
	}
	for _, scan := range []string{"names", "all"} {
		fast := engine(t, config.Route{Scan: scan}, nil)
		slow := engine(t, config.Route{Scan: scan}, nil)
		slow.slow = true
		for _, c := range cases {
			for _, e := range []*Engine{fast, slow} {
				if out, _ := rewrite(t, e, "online_agent", c.in, JSON); out != c.want {
					t.Errorf("scan %s, slow=%v: %s\n got %s\nwant %s", scan, e.slow, c.in, out, c.want)
				}
			}
		}
	}
	names := engine(t, config.Route{Scan: "names"}, nil)
	for _, in := range []string{
		`{"note":"\n13812345678"}`,
		`{"note":"\u017b\"mobile\":\"13812345678\"}"}`, // Ż, whose low byte is {
	} {
		if out, _ := rewrite(t, names, "online_agent", in, JSON); out != in {
			t.Errorf("%s is not JSON in a string, got %s", in, out)
		}
	}
	// Quotes and backslashes before a { are what a JSON string holding
	// JSON starts with ("\"{\\\"name…"): such text is tried as JSON,
	// and text that is not JSON after all is content-scanned.
	for _, in := range []string{
		`{"note":"\\{\"mobile\":\"13812345678\"}"}`, // a backslash, then {
		`{"note":"\"{\"mobile\":\"13812345678\"}"}`,
	} {
		if out, _ := rewrite(t, names, "online_agent", in, JSON); out != strings.Replace(in, mobile, "138****5678", 1) {
			t.Errorf("%s: got %s, want it content-scanned", in, out)
		}
	}
}

// TestNestedJSONFailsClosed: JSON in a string that the walk cannot finish
// is not passed over. Nested deeper than the limit (counted from the
// document's top), it fails the rewrite as the document would; malformed,
// it is scanned as text, whatever the scan mode that looked inside, and
// what the failed walk counted is not in the summary; a failing tokenizer
// inside it fails the rewrite.
func TestNestedJSONFailsClosed(t *testing.T) {
	inner := func(depth int) string {
		return strings.Repeat("[", depth) + `{\"mobile\":\"13812345678\"}` + strings.Repeat("]", depth)
	}
	d := decide(t, "online_agent")
	for _, scan := range []string{"names", "all"} {
		fast := engine(t, config.Route{Scan: scan}, nil)
		slow := engine(t, config.Route{Scan: scan}, nil)
		slow.slow = true
		for _, e := range []*Engine{fast, slow} {
			for _, in := range []string{
				`{"p":"` + inner(DefaultMaxDepth) + `"}`,
				strings.Repeat("[", 100) + `"` + inner(30) + `"` + strings.Repeat("]", 100),
				`{"p":"{\"q\":\"` + strings.Repeat("[", DefaultMaxDepth) + strings.Repeat("]", DefaultMaxDepth) + `\"}"}`,
			} {
				var sum Summary
				if out, err := e.Rewrite(nil, []byte(in), JSON, d, &sum); !errors.Is(err, ErrTooDeep) {
					t.Errorf("scan %s, slow=%v: nested too deeply: %v, %.80s", scan, e.slow, err, out)
				}
			}
			// Within the limit: the string's nesting goes on from the
			// document's (2 for the object and the string).
			in := `{"p":"` + inner(DefaultMaxDepth-3) + `"}`
			if out, _ := rewrite(t, e, "online_agent", in, JSON); out != strings.Replace(in, mobile, "138****5678", 1) {
				t.Errorf("scan %s, slow=%v: nested within the limit: %.80s…", scan, e.slow, out)
			}
			for _, c := range []struct{ in, want string }{
				{`{"p":"{\"name\":\"张三\",\"mobile\":\"13812345678\""}`, `{"p":"{\"name\":\"张三\",\"mobile\":\"138****5678\""}`},
				{`{"p":"{\"mobile\":\"13812345678\",}"}`, `{"p":"{\"mobile\":\"138****5678\",}"}`},
				{`{"p":"[1] 13812345678"}`, `{"p":"[1] 138****5678"}`},
				{`{"p":"\n{\"mobile\":\"13812345678\"} x"}`, `{"p":"\n{\"mobile\":\"138****5678\"} x"}`},
				{`{"p":"{\"mobile\":\"13812345678\",\"x\":\"\u0001\"}"}`, `{"p":"{\"mobile\":\"138****5678\",\"x\":\"\u0001\"}"}`},
			} {
				out, sum := rewrite(t, e, "online_agent", c.in, JSON)
				if out != c.want {
					t.Errorf("scan %s, slow=%v: malformed JSON in a string:\n got %s\nwant %s", scan, e.slow, out, c.want)
				}
				if want := "[{cn_mobile mask 1}] [p]"; fmt.Sprint(sum.Counts, sum.Paths) != want {
					t.Errorf("scan %s, slow=%v: %s: summary %v %v, want %s", scan, e.slow, c.in, sum.Counts, sum.Paths, want)
				}
			}
		}
	}

	tbl, err := config.Compile(examplePolicy)
	if err != nil {
		t.Fatal(err)
	}
	cr, err := config.CompileRoute(config.Route{Scan: "names"})
	if err != nil {
		t.Fatal(err)
	}
	bad, err := New(Options{Route: cr, Table: tbl, Tokenizer: testTokenizer{fail: true}})
	if err != nil {
		t.Fatal(err)
	}
	var sum Summary
	in := `{"p":"{\"mobile\":\"13812345678\"}"}`
	if out, err := bad.Rewrite(nil, []byte(in), JSON, decide(t, "tokens"), &sum); err == nil {
		t.Errorf("a failing tokenizer inside JSON in a string gave %s", out)
	}
}

func TestRewriteDropKeepsJSONValid(t *testing.T) {
	e := engine(t, config.Route{Scan: "names"}, nil)
	cases := []struct{ in, want string }{
		{`{"mobile":"1","a":1}`, `{"a":1}`},
		{`{"a":1,"mobile":"1"}`, `{"a":1}`},
		{`{"a":1,"mobile":"1","b":2}`, `{"a":1,"b":2}`},
		{`{"mobile":"1","email":"x","a":1}`, `{"a":1}`},
		{`{"a":1,"mobile":"1","email":"x"}`, `{"a":1}`},
		{`{"mobile":"1","email":"x"}`, `{}`},
		{`{ "a" : 1 , "mobile" : "1" , "b" : [ {"email":"x"} , 2 ] }`, `{ "a" : 1  , "b" : [ {} , 2 ] }`},
		{`{"phones":["1","2"],"a":{"mobile":{"x":[1]}}}`, `{"a":{}}`}, // phones: a plural names what its singular does
		{`{"counts":["1","2"],"a":{"mobile":{"x":[1]}}}`, `{"counts":["1","2"],"a":{}}`},
	}
	for _, c := range cases {
		out, _ := rewrite(t, e, "minimal", c.in, JSON)
		if out != c.want {
			t.Errorf("drop %s:\n got %s\nwant %s", c.in, out, c.want)
		}
	}
	arr := engine(t, config.Route{Fields: []config.Field{
		{Path: "list", Type: "cn_mobile"},
		{Path: "some.0", Type: "cn_mobile"}, {Path: "some.2", Type: "cn_mobile"},
	}, Scan: "off"}, nil)
	for _, c := range []struct{ in, want string }{
		{`{"list":["1","2","3"],"x":1}`, `{"x":1}`},
		{`{"some":["1","2","3"]}`, `{"some":["2"]}`},
		{`{"some":["1"]}`, `{"some":[]}`},
		{`{"some":[ "1" , "2" ]}`, `{"some":[ "2" ]}`},
	} {
		out, _ := rewrite(t, arr, "minimal", c.in, JSON)
		if out != c.want {
			t.Errorf("drop elements %s:\n got %s\nwant %s", c.in, out, c.want)
		}
	}
}

func TestRewriteFieldPaths(t *testing.T) {
	e := engine(t, config.Route{Fields: []config.Field{
		{Path: "a.b", Type: "cn_mobile"},
		{Path: "list.1", Type: "email"},
		{Path: "c*.x?", Type: "person_name"},
		{Path: `dot\.key`, Type: "address"},
	}, Scan: "off"}, nil)
	in := `{"a":{"b":"13812345678","c":"13812345678"},"list":["a@x.com","b@x.com"],"cust":{"xy":"张三","xyz":"李四"},"dot.key":"北京市朝阳区","mobile":"13912345678"}`
	want := `{"a":{"b":"138****5678","c":"13812345678"},"list":["a@x.com","***@x.com"],"cust":{"xy":"张*","xyz":"李四"},"dot.key":"[address]","mobile":"13912345678"}`
	if out, _ := rewrite(t, e, "online_agent", in, JSON); out != want {
		t.Errorf("\n got %s\nwant %s", out, want)
	}
}

func TestRewriteStreamsAndText(t *testing.T) {
	e := engine(t, config.Route{Scan: "all"}, nil)
	nd := "{\"mobile\":\"13812345678\"}\n\n{\"x\":\"邮箱 a@example.com\"}\n"
	if out, _ := rewrite(t, e, "online_agent", nd, NDJSON); out != "{\"mobile\":\"138****5678\"}\n\n{\"x\":\"邮箱 ***@example.com\"}\n" {
		t.Errorf("ndjson: %q", out)
	}
	sse := "event: update\r\nid: 1\r\ndata: {\"name\":\"张三\",\r\ndata: \"mobile\":\"13812345678\"}\r\n\r\n: comment 13912345678\ndata: plain 13712345678\n\n"
	want := "event: update\nid: 1\ndata: {\"name\":\"张*\",\ndata: \"mobile\":\"138****5678\"}\n\n: comment 139****5678\ndata: plain 137****5678\n\n"
	if out, _ := rewrite(t, e, "online_agent", sse, Events); out != want {
		t.Errorf("events:\n got %q\nwant %q", out, want)
	}
	if out, _ := rewrite(t, e, "online_agent", "<p>电话 13812345678</p>", Text); out != "<p>电话 138****5678</p>" {
		t.Errorf("text: %q", out)
	}
	if Sniff([]byte("\xef\xbb\xbf )]}'\n [1]")) != Text || Sniff([]byte(")]}'\n[1]")) != JSON || Sniff([]byte(" \n{")) != JSON || Sniff([]byte("<html>")) != Text {
		t.Error("Sniff misjudges")
	}
}

func TestRewriteRejectsBadInput(t *testing.T) {
	e := engine(t, config.Route{Scan: "all"}, nil)
	d := decide(t, "online_agent")
	for _, in := range []string{`{"a":}`, `{"a":1`, `[1,]`, `{"a" 1}`, `"abc`, `{"a":"\x01"}`, `{} {}`, `{"a":tru}`, `{"a":01}`, `{"a":"\u12"}`} {
		var sum Summary
		if _, err := e.Rewrite(nil, []byte(in), JSON, d, &sum); !errors.Is(err, errSyntax) {
			t.Errorf("%s: got %v, want a syntax error", in, err)
		}
	}
	deep := strings.Repeat("[", DefaultMaxDepth+1) + strings.Repeat("]", DefaultMaxDepth+1)
	var sum Summary
	if _, err := e.Rewrite(nil, []byte(deep), JSON, d, &sum); !errors.Is(err, ErrTooDeep) {
		t.Errorf("deep nesting: %v", err)
	}
	off := engine(t, config.Route{Scan: "off"}, nil)
	if _, err := off.Rewrite(nil, []byte(`{"a":`+deep+`}`), JSON, d, &sum); !errors.Is(err, ErrTooDeep) {
		t.Errorf("deep nesting in a skipped subtree: %v", err)
	}
	if _, err := e.Rewrite(nil, []byte("{\"a\":1}\n{"), NDJSON, d, &sum); err == nil {
		t.Error("a bad NDJSON line should fail the whole body")
	}
}

func TestHashIsKeyedAndCanonical(t *testing.T) {
	route := config.Route{Fields: []config.Field{{Path: "a", Type: "cn_mobile"}, {Path: "b", Type: "cn_mobile"}}, Scan: "off"}
	e1 := engine(t, route, []byte("key-one-key-one-key-one-key-one!"))
	e2 := engine(t, route, []byte("key-two-key-two-key-two-key-two!"))
	in := `{"a":"138-1234-5678","b":"+86 13812345678"}`
	var v1, v2 map[string]string
	o1, _ := rewrite(t, e1, "analyst", in, JSON)
	o2, _ := rewrite(t, e2, "analyst", in, JSON)
	json.Unmarshal([]byte(o1), &v1)
	json.Unmarshal([]byte(o2), &v2)
	if v1["a"] != v1["b"] || !strings.HasPrefix(v1["a"], "hash:cn_mobile:") {
		t.Errorf("one number in two formats should hash alike: %v", v1)
	}
	if v1["a"] == v2["a"] {
		t.Error("different keys should give different pseudonyms")
	}
}

func TestMasks(t *testing.T) {
	tbl, err := config.Compile(config.Policy{Masks: map[string]config.MaskSpec{"iban": {KeepFirst: 20, KeepLast: 20}}})
	if err != nil {
		t.Fatal(err)
	}
	a := newActor(tbl, nil, nil)
	cases := []struct {
		t        detectors.Type
		in, want string
	}{
		{detectors.CNMobile, "13812345678", "138****5678"},
		{detectors.CNMobile, "+86 138-1234-5678", "+86 138-****-5678"},
		{detectors.CNMobile, "8613812345678", "86138****5678"},
		{detectors.CNMobile, "12345", "12***"}, // not a mobile's length: at most half
		{detectors.CNResidentID, "110101199003071234", "110101********1234"},
		{detectors.BankCard, "6222 0263 3741 7020", "6222 02** **** 7020"},
		{detectors.BankCard, "622202633740", "622202******"},           // 12 digits: not a mainland card's length, at most half
		{detectors.BankCard, "378282246310005", "378282********5"},     // 15 (Amex): at most half
		{detectors.BankCard, "3782 822463 10005", "3782 82**** ****5"}, // the same, formatted
		{detectors.BankCard, "6222 0263 3740", "6222 02** ****"},       // 12, formatted
		{detectors.Email, "zhang@example.com", "z***@example.com"},
		{detectors.Email, "z@example.com", "***@example.com"},
		{detectors.PersonName, "张三", "张*"},
		{detectors.PersonName, "欧阳娜娜", "欧***"},
		{detectors.PersonName, "Zhang San", "***** ***"}, // two words: nothing tells a name from a name and another value
		{detectors.PersonName, "买买提·艾力", "买**·艾*"},
		{detectors.Address, "北京市朝阳区建国路88号院3号楼", "北京市朝阳区**********"},
		{detectors.CNLandline, "025-66654259", "025-******59"},
		{detectors.IPAddress, "192.168.1.23", "192.168.*.**"},
		{detectors.BirthDate, "1990-03-07", "1990-**-**"},
		{detectors.IBAN, "GB82 WEST 1234 5698 7654 32", "GB82 WEST 123* **** **** **"}, // admin keeps clamped to half
		{detectors.CNLicensePlate, "京A·12345", "京A·*****"},
	}
	for _, c := range cases {
		got := string(a.mask(nil, c.t, []byte(c.in)))
		if got != c.want {
			t.Errorf("mask %s %q = %q, want %q", c.t, c.in, got, c.want)
		}
	}

	// Masks write into the caller's buffer and allocate nothing, long
	// non-ASCII values included (utf8.RuneCount copies them to a string).
	dst := make([]byte, 0, 1024)
	for _, c := range cases {
		v := []byte(c.in)
		if n := testing.AllocsPerRun(10, func() { a.mask(dst[:0], c.t, v) }); n != 0 {
			t.Errorf("mask %s %q: %v allocations", c.t, c.in, n)
		}
	}
	for _, c := range []struct {
		t detectors.Type
		v string
	}{
		{detectors.Address, "浙江省杭州市西湖区滨江大道71号幸福里小区3号楼102室（靠近地铁站东门）"},
		{detectors.PersonName, "欧阳娜娜欧阳娜娜欧阳娜娜欧阳娜娜"},
		{detectors.Email, "欧阳娜娜欧阳娜娜欧阳娜娜欧阳娜娜@example.com"},
	} {
		v := []byte(c.v)
		if n := testing.AllocsPerRun(10, func() { a.mask(dst[:0], c.t, v) }); n != 0 {
			t.Errorf("mask %s %q: %v allocations", c.t, c.v, n)
		}
	}

	// An admin's mask for a type with a national convention replaces the
	// convention, on plain digits as on formatted values.
	tbl, err = config.Compile(config.Policy{Masks: map[string]config.MaskSpec{
		"cn_mobile": {KeepFirst: 2, KeepLast: 2}, "cn_resident_id": {KeepFirst: 3, KeepLast: 15}}})
	if err != nil {
		t.Fatal(err)
	}
	a = newActor(tbl, nil, nil)
	for _, c := range []struct {
		t        detectors.Type
		in, want string
	}{
		{detectors.CNMobile, "13812345678", "13*******78"},
		{detectors.CNMobile, "138-1234-5678", "13*-****-**78"},
		{detectors.CNResidentID, "110101199003071234", "110*********071234"}, // clamped to half
		{detectors.BankCard, "6222026337417020", "622202******7020"},         // no admin mask: the convention
	} {
		if got := string(a.mask(nil, c.t, []byte(c.in))); got != c.want {
			t.Errorf("admin mask %s %q = %q, want %q", c.t, c.in, got, c.want)
		}
	}
}

// TestCardMaskLengths: the card convention (IIN and last 4) applies to 16
// to 19 digits; a card of 12 to 15 shows at most half of its digits. Plain
// digits (the masks' and the walker's fast path) and formatted values (the
// general path) show the same digits.
func TestCardMaskLengths(t *testing.T) {
	tbl, err := config.Compile(examplePolicy)
	if err != nil {
		t.Fatal(err)
	}
	a := newActor(tbl, nil, nil)
	fast := engine(t, config.Route{Scan: "off", Fields: []config.Field{{Path: "card", Type: "bank_card"}}}, nil)
	slow := engine(t, config.Route{Scan: "off", Fields: []config.Field{{Path: "card", Type: "bank_card"}}}, nil)
	slow.slow = true
	r := rand.New(rand.NewPCG(3, 4))
	for n := 12; n <= 19; n++ {
		for range 20 {
			body := "62"
			for len(body) < n-1 {
				body += strconv.Itoa(r.IntN(10))
			}
			v := body + luhnDigit(body)
			grouped := groupsOf4(v)
			plain := string(a.mask(nil, detectors.BankCard, []byte(v)))
			shown := 0
			for i := range v {
				if plain[i] == v[i] {
					shown++
				}
			}
			switch {
			case n >= 16 && plain != v[:6]+strings.Repeat("*", n-10)+v[n-4:]:
				t.Errorf("%s (%d digits): %s, want the convention's IIN and last 4", v, n, plain)
			case n < 16 && shown > n/2:
				t.Errorf("%s (%d digits): %s shows %d digits, more than half", v, n, plain, shown)
			}
			if got := strings.ReplaceAll(string(a.mask(nil, detectors.BankCard, []byte(grouped))), " ", ""); got != plain {
				t.Errorf("%s: formatted %q masks to %s, plain digits to %s", v, grouped, got, plain)
			}
			in := `{"card":"` + v + `"}`
			want := `{"card":"` + plain + `"}`
			for _, e := range []*Engine{fast, slow} {
				if out, _ := rewrite(t, e, "online_agent", in, JSON); out != want {
					t.Errorf("slow=%v: %s gives %s, want %s", e.slow, in, out, want)
				}
			}
		}
	}
}

// luhnDigit returns the digit that makes body + digit pass Luhn.
func luhnDigit(body string) string {
	sum := 0
	for i := len(body) - 1; i >= 0; i-- {
		d := int(body[i] - '0')
		if (len(body)-1-i)%2 == 0 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return strconv.Itoa((10 - sum%10) % 10)
}

// groupsOf4 writes digits in groups of four, as printed on a card.
func groupsOf4(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(v[i:min(i+4, len(v))])
	}
	return b.String()
}

// leaves calls fn with every key, string or number in the JSON value v and
// the key it sits under (none for a key), and goes on into strings that
// hold a JSON object or array, which the engine rewrites as JSON. A number
// that is an integer written with a fraction or an exponent is given as
// written and as its integer's digits too.
func leaves(v any, key string, fn func(key, s string, isKey bool)) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			fn("", k, true) // keys are text too
			leaves(c, k, fn)
		}
	case []any:
		for _, c := range x {
			leaves(c, key, fn)
		}
	case string:
		fn(key, x, false)
		if t := strings.TrimLeft(x, " \t\r\n"); t != "" && (t[0] == '{' || t[0] == '[') && json.Valid([]byte(t)) {
			leaves(decodeJSON(nil, []byte(t)), "", fn)
		}
	case json.Number:
		fn(key, x.String(), false)
		if d, ok := bigInteger(x.String()); ok {
			fn(key, d, false)
		}
	}
}

// decodeJSON decodes a valid JSON document, numbers as json.Number.
func decodeJSON(t testing.TB, doc []byte) any {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		if t == nil {
			panic(err)
		}
		t.Fatal(err)
	}
	return v
}

// escapesValid reports whether every backslash in s starts an escape JSON
// allows. The engine does not check the escapes of a string it has no
// reason to decode, in a document as in JSON held in a string.
func escapesValid(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			continue
		}
		if i+1 >= len(s) || !strings.ContainsRune(`"\/bfnrtu`, rune(s[i+1])) {
			return false
		}
		if s[i+1] == 'u' {
			if _, ok := hex4([]byte(s), i+2); !ok {
				return false
			}
		}
		i++
	}
	return true
}

// FuzzRewrite: valid JSON in gives valid JSON out, and under a role that
// redacts everything: with scan all, no detectable value is left in any
// string or number; with key names, no value under a key naming personal
// data, in the document or in JSON in its strings, and no detectable value
// in a string that starts like JSON and is not (scanned as text).
func FuzzRewrite(f *testing.F) {
	for _, s := range []string{
		`{"data":[{"mobile":"13812345678","note":"卡号6222026337417020","name":"张三"}]}`,
		`{"p":"{\"mobile\":\"13812345678\"}","13912345678":1}`,
		`[13812345678,"\u0031\u0033\u0038\u0031\u0032\u0033\u0034\u0035\u0036\u0037\u0038",{"a":{"email":["a@b.co"]}}]`,
		`{"n":"联系电话：１３８１２３４５６７８，邮箱a@example.com"}`,
		`"x@example.com"`, `1`, `{}`,
		`{"x":1.3812345678E10,"y":[13912345678.0,-1.3712345678e+10,0.0013612345678e13]}`,
		`{"p":"\n{\"mobile\":\"13812345678\"}","q":"\u007b\"name\":\"张三\"}","r":"\u005b1,\"13912345678\"]"}`,
		`{"p":"{\"mobile\":\"13812345678\",","q":"[\"13912345678\"] x","r":"{\"a\":{\"b\":\"13712345678\"}"}`,
	} {
		f.Add([]byte(s))
	}
	e := engine(f, config.Route{Scan: "all"}, nil)
	names := engine(f, config.Route{Scan: "names"}, nil)
	d := decide(f, "nobody")
	// notRedacted reports a value under a key naming personal data that
	// is not the key's placeholder. A key the gateway redacted holds a
	// placeholder, which may itself read like a key naming personal data.
	notRedacted := func(key, s string) bool {
		typ, ok := detectors.ClassifyField(key)
		return ok && !strings.Contains(key, "[") && s != "["+typ.String()+"]"
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var nsum Summary
		nout, nerr := names.Rewrite(nil, in, JSON, d, &nsum)
		var sum Summary
		out, err := e.Rewrite(nil, in, JSON, d, &sum)
		if !json.Valid(in) {
			return
		}
		if err != nil || nerr != nil {
			if errors.Is(err, ErrTooDeep) && errors.Is(nerr, ErrTooDeep) {
				return
			}
			t.Fatalf("valid input refused: scan all %v, names %v\n%s", err, nerr, in)
		}
		if startsJSON(in) {
			// The same document as a callback's argument (JSONP): the same
			// view inside the same call.
			var psum Summary
			call := append(append([]byte("cb("), in...), ");"...)
			if pout, perr := e.Rewrite(nil, call, JSONP, d, &psum); perr != nil || string(pout) != "cb("+string(out)+");" {
				t.Fatalf("JSONP: %v\n in %s\nout %s\nwant cb(%s);", perr, call, pout, out)
			}
		}
		if !json.Valid(nout) {
			t.Fatalf("names: invalid output for valid input:\n in %s\nout %s", in, nout)
		}
		leaves(decodeJSON(t, nout), "", func(key, s string, isKey bool) {
			if notRedacted(key, s) {
				t.Fatalf("names: value %q under key %q was not redacted\n in %s\nout %s", s, key, in, nout)
			}
			if isKey || !startsJSON([]byte(s)) || json.Valid([]byte(s)) || !escapesValid(s) {
				return
			}
			if fs := detectors.Default.Scan(s, nil); len(fs) > 0 {
				t.Fatalf("names: %s survived in %q, which is not JSON\n in %s\nout %s", fs[0].Type, s, in, nout)
			}
		})
		if !json.Valid(out) {
			t.Fatalf("invalid output for valid input:\n in %s\nout %s", in, out)
		}
		leaves(decodeJSON(t, out), "", func(key, s string, _ bool) {
			if fs := detectors.Default.Scan(s, nil); len(fs) > 0 {
				t.Fatalf("%s survived in %q\n in %s\nout %s", fs[0].Type, s, in, out)
			}
			if notRedacted(key, s) {
				t.Fatalf("value %q under key %q was not redacted\n in %s\nout %s", s, key, in, out)
			}
		})
	})
}

// FuzzFieldRules checks the walker's shortcuts for field rules against its
// general path (Engine.slow): the same view and the same summary, for
// rules with literal keys, #, indexes and wildcards, every action, and
// any document.
func FuzzFieldRules(f *testing.F) {
	for _, s := range []string{
		`{"data":[{"mobile":"13812345678","name":"张三","email":"a@b.co","address":{"city":"北京"},"n":1}],"total":1}`,
		`{"data":[{"mobile":13812345678,"idCard":"110105194912310029"},{"mobile":"1\u0033812345678"}]}`,
		`{"a":{"x":{"b":"secret","c":[1,2]}},"list":[{"0":{"y":"z"}},{"y":"w"}]}`,
		`{"data":[{"mobile":"13812345678","mobile":"x"}],"data":{"mobile":"1"}}`,
		`{"data":[],"a":{},"list":[[{"y":1}]]}`, `[]`, `"x"`,
		"{\"data\":[{\"email\":\"a\xe2\x80\xa8b@example.com\",\"name\":\"\xe2\x80\xa9张三\"}]}",
		`{"x":"电话13812345678","y":13912345678,"mobile":"13712345678","data":[{"note":"卡号6222026337417020","z":"{\"phone\":\"13612345678\"}"}]}`,
		// The memo of the general path: the same key at the same depth
		// and position under another parent (a rule's key, and not), keys
		// that are personal data, and records whose keys change order.
		`{"list":[{"y":"6222026337417020"}],"data":[{"y":"6222026337417020"}],"a":{"x":{"y":"6222026337417020"}}}`,
		`{"data":[{"13812345678":"x","y":1},{"13812345678":"y","y":2}]}`,
		`{"data":[{"mobile":"13812345678","note":"x"},{"note":"13912345678","mobile":"y"},{"mobile":"13712345678"}]}`,
		`{"data":[{"mobile":"13812345678","idCard":"110105194912310029"},{"idCard":"13912345678","mobile":"110105194912310029"}]}`,
		`{"data":[{"customerName":"张三","customerNote":"x"},{"customerNote":"张三","customerName":"y"}]}`,
		// Values the rules type in every form: escaped, numbers written
		// as decimals, containers, wildcards, an index that is a key.
		`{"data":[{"mobile":1.3812345678E10,"idCard":"\u0031\u0031\u0030105194912310029","name":"\u5f20\u4e09","email":"zhang@example.com"}]}`,
		`{"data":[{"address":{"city":"北京","zip":100000,"lines":["Room 3B","Gate 12"]},"email":["a1@b.co",{"x":"b2@c.co"}]}],"a":{"k":{"b":"13812345678"},"x":{"b":13912345678}},"list":{"0":{"y":"6222026337417020"}}}`,
		`{"data":[{"mobile":"+86"},{"mobile":"138****5678"},{"name":"[person_name]"},{"mobile":"+86 138 1234 5678"}]}`,
	} {
		// online_agent under each scan mode; nobody (scan off), minimal
		// (names) and analyst (all).
		for _, role := range []uint8{0, 5, 10, 2, 8, 14} {
			f.Add([]byte(s), role)
		}
	}
	route := &config.Route{Scan: "off", Fields: []config.Field{
		{Path: "data.#.mobile", Type: "cn_mobile"},
		{Path: "data.#.name", Type: "person_name"},
		{Path: "data.#.email", Type: "email"},
		{Path: "data.#.address", Type: "address"},
		{Path: "data.#.idCard", Type: "cn_resident_id"},
		{Path: "a.*.b", Type: "cn_mobile"},
		{Path: "a.x.c", Type: "scan"},
		{Path: "list.0.y", Type: "bank_card"},
		{Path: "list.#.0.y", Type: "email"},
		{Path: "data.#.note", Type: "scan"},
	}}
	// The same rules under each scan mode: role's byte picks the role
	// (low bits) and the mode.
	modes := []string{"off", "names", "all"}
	var fasts, slows []*Engine
	for _, mode := range modes {
		r := *route
		r.Scan = mode
		fast := engine(f, r, []byte("0123456789abcdef0123456789abcdef"))
		slow := engine(f, r, []byte("0123456789abcdef0123456789abcdef"))
		slow.slow = true
		fasts, slows = append(fasts, fast), append(slows, slow)
	}
	roles := []string{"online_agent", "supervisor", "nobody", "minimal", "analyst"}
	ds := make([]*config.Decision, len(roles))
	for i, r := range roles {
		ds[i] = decide(f, r)
	}
	// hides reports, per role, whether the role sees no type a rule gives
	// in plain.
	hides := make([]bool, len(ds))
	for i, d := range ds {
		hides[i] = true
		for _, r := range fasts[0].route.Fields {
			if !r.ScanContent && d.Action(r.Type) == config.Plain {
				hides[i] = false
			}
		}
	}
	f.Fuzz(func(t *testing.T, in []byte, role uint8) {
		d := ds[int(role)%len(ds)]
		mode := int(role) / len(ds) % len(modes)
		fast, slow := fasts[mode], slows[mode]
		var fs, ss Summary
		fout, ferr := fast.Rewrite(nil, in, JSON, d, &fs)
		sout, serr := slow.Rewrite(nil, in, JSON, d, &ss)
		if (ferr != nil) != (serr != nil) {
			t.Fatalf("errors differ: shortcuts %v, general %v\n%s", ferr, serr, in)
		}
		if ferr != nil {
			return
		}
		// Both paths could pass a value over alike: a role that sees the
		// rules' types other than plain finds none of the values they
		// type where it was.
		if hides[int(role)%len(ds)] && json.Valid(in) && json.Valid(fout) && json.Valid(sout) {
			for _, out := range [][]byte{fout, sout} {
				if p, v, ok := typedLeft(fast.route.Fields, in, out); ok {
					t.Fatalf("%s, scan %s: the value %q at %s, which a field rule types, is in the view as it was:\n in %s\nout %s",
						roles[int(role)%len(ds)], modes[mode], v, p, in, out)
				}
			}
		}
		if !bytes.Equal(fout, sout) {
			t.Fatalf("views differ for %s, scan %s:\n in %s\nshortcuts %s\n  general %s", roles[int(role)%len(ds)], modes[mode], in, fout, sout)
		}
		if fmt.Sprint(fs.Counts, fs.Paths, fs.Changed) != fmt.Sprint(ss.Counts, ss.Paths, ss.Changed) {
			t.Fatalf("summaries differ:\n in %s\nshortcuts %+v %v\n  general %+v %v", in, fs.Counts, fs.Paths, ss.Counts, ss.Paths)
		}
		if json.Valid(in) && !json.Valid(fout) {
			t.Fatalf("invalid output for valid input:\n in %s\nout %s", in, fout)
		}
	})
}

// typedLeft looks for a string or number of the valid JSON document in
// that a field rule of rules types (its path, or a container's it is in;
// scan rules type nothing) and that out, at the same path, still holds as
// it was. It only looks at values that no action can leave as they are: a
// mask hides at least one letter or digit with a '*', a redaction is a
// placeholder in brackets; a cn_mobile mask keeps a country code (+86)
// whole, so values of fewer than three letters and digits are left out.
// The path is compared, not the value alone, which may be elsewhere in the
// document where no rule types it.
func typedLeft(rules []config.CompiledField, in, out []byte) (path, value string, found bool) {
	have := map[string][]string{}
	jsonPaths(out, func(p []pathStep, v string) {
		k := stepsKey(p)
		have[k] = append(have[k], v)
	})
	jsonPaths(in, func(p []pathStep, v string) {
		if found || !distinctive(v) || !typedByRule(rules, p) {
			return
		}
		if k := stepsKey(p); slices.Contains(have[k], v) {
			path, value, found = k, v, true
		}
	})
	return path, value, found
}

// pathStep is one step into a JSON document: a key, or an array index.
type pathStep struct {
	key   string
	index int // -1 for a key
}

// jsonPaths calls fn with the path and text (a number as written) of every
// string and number in the valid JSON document doc, under duplicate keys
// too. fn must not keep the path.
func jsonPaths(doc []byte, fn func(path []pathStep, text string)) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var walk func(path []pathStep)
	walk = func(path []pathStep) {
		tok, err := dec.Token()
		if err != nil {
			panic(err)
		}
		switch x := tok.(type) {
		case json.Delim:
			if x == '{' {
				for dec.More() {
					k, err := dec.Token()
					if err != nil {
						panic(err)
					}
					walk(append(path, pathStep{key: k.(string), index: -1}))
				}
			} else {
				for i := 0; dec.More(); i++ {
					walk(append(path, pathStep{index: i}))
				}
			}
			if _, err := dec.Token(); err != nil { // the closing bracket
				panic(err)
			}
		case string:
			fn(path, x)
		case json.Number:
			fn(path, x.String())
		}
	}
	walk(nil)
}

// stepsKey writes a path as a map key.
func stepsKey(p []pathStep) string {
	var b strings.Builder
	for _, s := range p {
		if s.index >= 0 {
			fmt.Fprintf(&b, "[%d]", s.index)
		} else {
			b.WriteString("." + strconv.Quote(s.key))
		}
	}
	return b.String()
}

// typedByRule reports whether a field rule (not a scan rule) types the
// value at path p: its path matches p or a container of p's.
func typedByRule(rules []config.CompiledField, p []pathStep) bool {
	for _, r := range rules {
		if r.ScanContent || len(r.Path) > len(p) {
			continue
		}
		match := true
		for i := range r.Path {
			c := &r.Path[i]
			if p[i].index >= 0 && !c.MatchIndex(p[i].index) || p[i].index < 0 && !c.MatchKey(p[i].key) {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}

// distinctive reports whether every action changes v: it has three ASCII
// letters or digits or more, and no '*' or '[' (a mask's or a
// redaction's).
func distinctive(v string) bool {
	n := 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '*' || c == '[':
			return false
		case isAlnumASCII(c):
			n++
		}
	}
	return n >= 3
}

func TestKeyTable(t *testing.T) {
	var tab keyTable
	keys := []string{"", "a", "id", "mobile", "customer", "customerName", "customerNote", "客户手机", "x.y", "12345678", "123456789"}
	for i := 0; i < 53; i++ {
		keys = append(keys, fmt.Sprintf("field%02d", i))
	}
	for i, k := range keys {
		tab.add(k, 1<<i)
	}
	tab.add("mobile", 1<<63) // a second rule on the same key
	for i, k := range keys {
		want := uint64(1) << i
		if k == "mobile" {
			want |= 1 << 63
		}
		// From a document (capacity past the key), and decoded (no spare capacity).
		doc := []byte(`"` + k + `":1,"`)
		if got := tab.get(doc[1 : 1+len(k)]); got == nil || got.rules != want {
			t.Errorf("%q in a document: %+v, want rules %b", k, got, want)
		}
		if got := tab.get(append([]byte(nil), k...)[:len(k):len(k)]); got == nil || got.rules != want {
			t.Errorf("%q decoded: %+v, want rules %b", k, got, want)
		}
	}
	for _, k := range []string{"b", "mobil", "mobilE", "customerNam", "customerNamf", "1234567", "field53", "客户手"} {
		if got := tab.get([]byte(k)); got != nil {
			t.Errorf("%q is no rule's key, got %+v", k, got)
		}
	}
}

func TestKeyCacheConcurrent(t *testing.T) {
	e := engine(t, config.Route{Scan: "all"}, nil)
	d := decide(t, "online_agent")
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				in := fmt.Sprintf(`{"key_%d_%d":"x","mobile":"13812345678","shared%d":1}`, g, i, i%7)
				var sum Summary
				out, err := e.Rewrite(nil, []byte(in), JSON, d, &sum)
				want := fmt.Sprintf(`{"key_%d_%d":"x","mobile":"138****5678","shared%d":1}`, g, i, i%7)
				if err != nil || string(out) != want {
					t.Errorf("%s: %s %v", in, out, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	// Keys seen once may lose a race to be stored; these repeat.
	for _, k := range []string{"shared6", "mobile"} {
		if _, ok := e.keys.get([]byte(k)); !ok {
			t.Errorf("%s not cached", k)
		}
	}
}

type testTokenizer struct{ fail bool }

func (tk testTokenizer) Tokenize(dst []byte, t detectors.Type, value []byte) ([]byte, error) {
	if tk.fail {
		return dst, errors.New("token vault unreachable")
	}
	return append(dst, `tok"`+t.String()+`"`...), nil // a quote, to prove the token is quoted
}

// A tokenizer's tokens are quoted into the output, and a failing tokenizer
// fails the rewrite of a field-typed value (fail closed) while content
// findings fall back to redaction.
func TestTokenizerOutcomes(t *testing.T) {
	tbl, err := config.Compile(examplePolicy)
	if err != nil {
		t.Fatal(err)
	}
	cr, err := config.CompileRoute(config.Route{Scan: "off", Fields: []config.Field{{Path: "mobile", Type: "cn_mobile"}, {Path: "note", Type: "scan"}}})
	if err != nil {
		t.Fatal(err)
	}
	d := decide(t, "tokens")
	in := []byte(`{"mobile":"13812345678","note":"call 13912345678"}`)
	for _, slow := range []bool{false, true} {
		e, err := New(Options{Route: cr, Table: tbl, Tokenizer: testTokenizer{}})
		if err != nil {
			t.Fatal(err)
		}
		e.slow = slow
		var sum Summary
		out, err := e.Rewrite(nil, in, JSON, d, &sum)
		if want := `{"mobile":"tok\"cn_mobile\"","note":"call tok\"cn_mobile\""}`; err != nil || string(out) != want {
			t.Errorf("slow=%v: %s, %v; want %s", slow, out, err, want)
		}
		bad, _ := New(Options{Route: cr, Table: tbl, Tokenizer: testTokenizer{fail: true}})
		bad.slow = slow
		if out, err := bad.Rewrite(nil, in, JSON, d, &sum); err == nil {
			t.Errorf("slow=%v: a failing tokenizer gave %s", slow, out)
		}
		only := []byte(`{"note":"call 13912345678"}`)
		if out, err := bad.Rewrite(nil, only, JSON, d, &sum); err != nil || string(out) != `{"note":"call [cn_mobile]"}` {
			t.Errorf("slow=%v: content finding with a failing tokenizer: %s, %v", slow, out, err)
		}
	}
}

// maskName's one-word shortcut gives what the word-by-word mask gives.
func TestMaskNameShortcut(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	pieces := []string{"张", "欧阳", "娜", "Zhang", "a", "é", "\xff", "ア", "・", " ", "-", ".", "·", "\u3000", "李"}
	for i := 0; i < 20000; i++ {
		var b []byte
		for k := r.IntN(5); k >= 0; k-- {
			b = append(b, pieces[r.IntN(len(pieces))]...)
		}
		if got, want := maskName(nil, b), maskNameWords(nil, b); !bytes.Equal(got, want) {
			t.Fatalf("%q: shortcut %q, words %q", b, got, want)
		}
	}
}

// The engine does not content-scan numbers with a fraction left (it reads
// one with a fraction or an exponent that is an integer as the integer);
// this holds only while the detectors find nothing in them.
func TestNumbersWithFractionsHoldNoFindings(t *testing.T) {
	g := detectorstest.New(9)
	r := rand.New(rand.NewPCG(9, 10))
	e := engine(t, config.Route{Scan: "all"}, nil)
	var nums []string
	for i := 0; i < 20000; i++ {
		d := piiDigits(g, r, i)
		if d[len(d)-1] == '0' {
			d = d[:len(d)-1] + "7" // so that d[:1].d[1:]e(len-2) keeps a fraction
		}
		var n string
		switch r.IntN(4) {
		case 0:
			n = d + "." + strconv.Itoa(1+r.IntN(999))
		case 1:
			n = d + "e-" + strconv.Itoa(1+r.IntN(20))
		case 2:
			n = d + ".25E+" + strconv.Itoa(r.IntN(2)) // d.25 or d2.5
		default:
			n = d[:1] + "." + d[1:] + "e" + strconv.Itoa(len(d)-2)
		}
		if fs := detectors.Default.Scan(n, nil); len(fs) > 0 {
			t.Fatalf("%s: the detectors find %v; numbers with fractions must then be scanned", n, fs)
		}
		if d, ok := intDigits(nil, []byte(n)); ok {
			t.Fatalf("%s read as the integer %s", n, d)
		}
		if len(nums) < 200 {
			nums = append(nums, n)
		}
	}
	in := "[" + strings.Join(nums, ",") + "]"
	if out, _ := rewrite(t, e, "online_agent", in, JSON); out != in {
		t.Errorf("numbers with a fraction left were rewritten:\n in %s\nout %s", in, out)
	}
	if out, _ := rewrite(t, e, "online_agent", `[13812345678,13812345678.5,-13812345678]`, JSON); out != `["138****5678",13812345678.5,"-138****5678"]` {
		t.Errorf("numbers: %s", out)
	}
}

// piiDigits returns the digits of a fake value of a type the detectors
// find in numbers (or of a random 64-bit number), by i, without a
// leading 0.
func piiDigits(g *detectorstest.Gen, r *rand.Rand, i int) string {
	var d string
	switch i % 6 {
	case 0:
		d = g.Mobile()
	case 1:
		d = g.ResidentID()
	case 2:
		d = g.BankCard()
	case 3:
		area, sub := g.Landline()
		d = area + sub
	case 4:
		d = g.ServiceNumber()
	default:
		d = strconv.FormatUint(r.Uint64(), 10)
	}
	d = strings.Map(func(c rune) rune {
		if c >= '0' && c <= '9' {
			return c
		}
		return -1
	}, d)
	if d == "" || d[0] == '0' {
		d = "1" + d
	}
	return d
}

// TestIntegersWrittenAsDecimals: a number written with a fraction or an
// exponent that is an integer (1.3812345678E10, as Java writes a double;
// 13812345678.0, as Python writes a float) gives the agent what the
// integer gives: content-scanned (scan all), and acted on as a typed value.
func TestIntegersWrittenAsDecimals(t *testing.T) {
	all := engine(t, config.Route{Scan: "all"}, []byte("0123456789abcdef0123456789abcdef"))
	typed := engine(t, config.Route{Scan: "off", Fields: []config.Field{{Path: "v", Type: "bank_card"}}}, []byte("0123456789abcdef0123456789abcdef"))
	typedSlow := engine(t, config.Route{Scan: "off", Fields: []config.Field{{Path: "v", Type: "bank_card"}}}, []byte("0123456789abcdef0123456789abcdef"))
	typedSlow.slow = true
	for _, c := range []struct{ in, want string }{
		{`{"x":1.3812345678E10}`, `{"x":"138****5678"}`},
		{`{"x":13812345678.0}`, `{"x":"138****5678"}`},
		{`{"x":-1.3812345678e+10}`, `{"x":"-138****5678"}`},
		{`{"x":[0.0013812345678e13,138123456780000E-4]}`, `{"x":["138****5678","138****5678"]}`},
		{`{"x":1.5e3,"y":1e25,"z":0.0e10,"w":13812345678.5}`, `{"x":1.5e3,"y":1e25,"z":0.0e10,"w":13812345678.5}`},
	} {
		if out, _ := rewrite(t, all, "online_agent", c.in, JSON); out != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.in, out, c.want)
		}
	}
	if out, _ := rewrite(t, all, "supervisor", `{"x":1.3812345678E10}`, JSON); out != `{"x":1.3812345678E10}` {
		t.Errorf("a plain view rewrote the number: %s", out)
	}

	ds := map[string]*config.Decision{}
	for _, roles := range []string{"online_agent", "analyst", "nobody"} {
		ds[roles] = decide(t, roles)
	}
	g := detectorstest.New(11)
	r := rand.New(rand.NewPCG(11, 12))
	for i := 0; i < 1200; i++ {
		d := piiDigits(g, r, i)
		if len(d) < 2 || len(d) > maxIntDigits {
			continue
		}
		k := 1 + r.IntN(len(d)-1)
		forms := []string{
			d[:1] + "." + d[1:] + "E" + strconv.Itoa(len(d)-1),
			d + ".0",
			d[:k] + "." + d[k:] + "e+" + strconv.Itoa(len(d)-k),
			"0.000" + d + "e" + strconv.Itoa(len(d)+3),
			d + "00E-2",
		}
		for _, sign := range []string{"", "-"} {
			for _, roles := range []string{"online_agent", "analyst", "nobody"} {
				// The integer's view; a number left as it was stays as
				// it was written.
				view := func(e *Engine, doc, num string) (string, *Summary) {
					in := strings.Replace(doc, "N", sign+num, 1)
					var sum Summary
					out, err := e.Rewrite(nil, []byte(in), JSON, ds[roles], &sum)
					if err != nil || !json.Valid(out) {
						t.Fatalf("%s: %s, %v", in, out, err)
					}
					if string(out) == in {
						return doc, &sum
					}
					return string(out), &sum
				}
				wantAll, wantSum := view(all, `[N]`, d)
				wantTyped, _ := view(typed, `{"v":[N]}`, d)
				for _, f := range forms {
					if got, sum := view(all, `[N]`, f); got != wantAll || !reflect.DeepEqual(sum.Counts, wantSum.Counts) {
						t.Fatalf("%s, scan all: %s%s gives %s %v, %s%s gives %s %v", roles, sign, f, got, sum.Counts, sign, d, wantAll, wantSum.Counts)
					}
					for _, e := range []*Engine{typed, typedSlow} {
						if got, _ := view(e, `{"v":[N]}`, f); got != wantTyped {
							t.Fatalf("%s, typed, slow=%v: %s%s gives %s, %s%s gives %s", roles, e.slow, sign, f, got, sign, d, wantTyped)
						}
					}
				}
			}
		}
	}
}

// TestIntDigits checks intDigits against math/big on numbers of every
// shape JSON allows, exponents past any integer included.
func TestIntDigits(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"1.3812345678E10", "13812345678"},
		{"-1.3812345678e+10", "-13812345678"},
		{"13812345678.000", "13812345678"},
		{"1E+2", "100"},
		{"100e-2", "1"},
		{"0.00100e3", "1"},
		{"-5e0", "-5"},
		{"1e19", "1" + strings.Repeat("0", 19)},
		{"1e20", ""}, // 21 digits
		{"12345678901234567890.0", "12345678901234567890"},
		{"123456789012345678900e-1", "12345678901234567890"},
		{"123456789012345678901e-1", ""},
		{"0." + strings.Repeat("0", 30) + "1e31", "1"},
		{"1" + strings.Repeat("0", 30) + "e-30", "1"},
		{"0.0", ""}, {"-0e5", ""}, {"0e-99999999999999999999", ""},
		{"1.5", ""}, {"1e-1", ""}, {"10e-2", ""},
		{"1e99999999999999999999", ""}, {"1e-99999999999999999999", ""},
		{"0." + strings.Repeat("0", 9990) + "1e10001", "1" + strings.Repeat("0", 10)},
	} {
		got, ok := intDigits(nil, []byte(c.in))
		if want := c.want != ""; ok != want || ok && string(got) != c.want {
			t.Errorf("intDigits(%.40s) = %s, %v; want %q", c.in, got, ok, c.want)
		}
	}
	r := rand.New(rand.NewPCG(7, 8))
	digits := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = '0' + byte(r.IntN(10))
			if r.IntN(3) == 0 {
				b[i] = '0' // zeros, so that fractions cancel
			}
		}
		return string(b)
	}
	for i := 0; i < 100000; i++ {
		var n string
		if r.IntN(2) == 0 {
			n = "-"
		}
		if w := digits(1 + r.IntN(12)); w[0] == '0' {
			n += "0"
		} else {
			n += w
		}
		if r.IntN(2) == 0 {
			n += "." + digits(1+r.IntN(12))
		}
		if r.IntN(4) != 0 {
			n += []string{"e", "E"}[r.IntN(2)] + []string{"", "+", "-"}[r.IntN(3)] + strconv.Itoa(r.IntN(30))
		}
		if !strings.ContainsAny(n, ".eE") {
			continue
		}
		want, wantOK := bigInteger(n)
		got, ok := intDigits(nil, []byte(n))
		if ok != wantOK || string(got) != want {
			t.Fatalf("intDigits(%s) = %s, %v; math/big: %s, %v", n, got, ok, want, wantOK)
		}
	}
}

// bigInteger returns, by math/big, the integer the JSON number n denotes
// when it is one of 1 to maxIntDigits digits other than 0 (exponents of
// more than 1000 are not tried).
func bigInteger(n string) (string, bool) {
	if i := strings.IndexAny(n, "eE"); i >= 0 {
		if x, err := strconv.Atoi(strings.TrimPrefix(n[i+1:], "+")); err != nil || x > 1000 || x < -1000 {
			return "", false
		}
	}
	var q big.Rat
	if _, ok := q.SetString(n); !ok || !q.IsInt() || q.Sign() == 0 {
		return "", false
	}
	s := q.Num().String()
	if len(strings.TrimPrefix(s, "-")) > maxIntDigits {
		return "", false
	}
	return s, true
}

// TestSummaryCountsEveryValue: a field rule's values are all counted, in
// every format the engine reads and in JSON held in a string, and the
// summary is the same as the general path's (the object loop counts a
// rule's values after its first in the walker and adds them at the end).
func TestSummaryCountsEveryValue(t *testing.T) {
	for _, scan := range []string{"names", "all"} {
		t.Run(scan, func(t *testing.T) { testSummaryCountsEveryValue(t, scan) })
	}
}

// testSummaryCountsEveryValue is TestSummaryCountsEveryValue under one
// scan mode; the walker's memo of keys serves both (and NDJSON lines and
// events, walked as parts of one body).
func testSummaryCountsEveryValue(t *testing.T, scan string) {
	route := config.Route{Fields: []config.Field{
		{Path: "data.#.mobile", Type: "cn_mobile"}, {Path: "data.#.id", Type: "cn_resident_id"}}, Scan: scan}
	rec := `{"mobile":"13812345678","id":"110101199003071234"}`
	doc := `{"data":[` + rec + `,` + rec + `,` + rec + `],"inner":"{\"data\":[` +
		strings.ReplaceAll(rec, `"`, `\"`) + `,` + strings.ReplaceAll(rec, `"`, `\"`) + `]}"}`
	for _, c := range []struct {
		name   string
		in     string
		f      Format
		mobile int
	}{
		{"json", doc, JSON, 5},
		{"ndjson", doc + "\n" + doc + "\n", NDJSON, 10},
		{"events", "data: " + doc + "\n\ndata: " + doc + "\n\n", Events, 10},
	} {
		fast := engine(t, route, nil)
		slow := engine(t, route, nil)
		slow.slow = true
		outF, sumF := rewrite(t, fast, "online_agent", c.in, c.f)
		outS, sumS := rewrite(t, slow, "online_agent", c.in, c.f)
		if outF != outS {
			t.Errorf("%s: views differ:\nfast %s\nslow %s", c.name, outF, outS)
		}
		if !reflect.DeepEqual(sumF.Counts, sumS.Counts) || !reflect.DeepEqual(sumF.Paths, sumS.Paths) {
			t.Errorf("%s: summaries differ:\nfast %+v %q\nslow %+v %q", c.name, sumF.Counts, sumF.Paths, sumS.Counts, sumS.Paths)
		}
		got := 0
		for _, n := range sumF.Counts {
			if n.Type == detectors.CNMobile {
				got += n.N
			}
		}
		if got != c.mobile {
			t.Errorf("%s: %d mobiles counted, want %d (%+v)", c.name, got, c.mobile, sumF.Counts)
		}
	}
}

// TestMemoAcrossDocuments: the walker's memo of keys is of one document.
// Documents rewritten one after the other by one engine (whose pooled
// walker keeps its memo) get the general path's view, when the next
// document has, where the last had a key, another key with the same first
// eight bytes and length.
func TestMemoAcrossDocuments(t *testing.T) {
	route := config.Route{Scan: "names"}
	e := engine(t, route, nil)
	ref := engine(t, route, nil)
	ref.slow = true
	for _, doc := range []string{
		`{"data":[{"customerName":"张三"}]}`,
		`{"data":[{"customerNote":"张三"}]}`,
		`{"data":[{"customerName":"李四"}]}`,
	} {
		got, _ := rewrite(t, e, "online_agent", doc, JSON)
		want, _ := rewrite(t, ref, "online_agent", doc, JSON)
		if got != want {
			t.Errorf("%s: got %s, the general path gives %s", doc, got, want)
		}
	}
}

// TestKeysInAnyOrder: the object loop's answers for keys (the literal-key
// table, the precomputed slots) match the general path's when keys share
// their first eight bytes or their length, are not in the table, and come
// in any order, over documents rewritten one after the other by one
// engine. (Predicting a key from its position in the previous object was
// tried on this test and dropped: it was slower than the table probe.)
func TestKeysInAnyOrder(t *testing.T) {
	route := config.Route{Scan: "off", Fields: []config.Field{
		{Path: "data.#.createdAtPhone", Type: "cn_mobile"},
		{Path: "data.#.mobile", Type: "cn_mobile"},
		{Path: "data.#.x", Type: "cn_resident_id"},
	}}
	fast := engine(t, route, nil)
	slow := engine(t, route, nil)
	slow.slow = true
	keys := []string{"createdAtPhone", "createdAtPhonf", "createdAtPhon", "createdAtPhone1", "mobile", "mobilf",
		"mobil", "mobile2", "", "x", "createdA", "createdAt"}
	rng := rand.New(rand.NewPCG(1, 2))
	for doc := 0; doc < 300; doc++ {
		var b strings.Builder
		b.WriteString(`{"data":[`)
		for o := 0; o < 3; o++ {
			if o > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('{')
			for m := 0; m < 1+rng.IntN(5); m++ {
				if m > 0 {
					b.WriteByte(',')
				}
				fmt.Fprintf(&b, `%q:"1381234%04d"`, keys[rng.IntN(len(keys))], rng.IntN(10000))
			}
			b.WriteByte('}')
		}
		b.WriteString(`]}`)
		in := b.String()
		outF, sumF := rewrite(t, fast, "online_agent", in, JSON)
		outS, sumS := rewrite(t, slow, "online_agent", in, JSON)
		if outF != outS || !reflect.DeepEqual(sumF.Counts, sumS.Counts) {
			t.Fatalf("%s\nfast %s %+v\nslow %s %+v", in, outF, sumF.Counts, outS, sumS.Counts)
		}
	}
}

// TestPlainValuesHoldingJSON: a value the role sees plain is still looked
// into when it holds JSON, with key names on: a mobile field may carry a
// whole record, whose other values the role may not see.
func TestPlainValuesHoldingJSON(t *testing.T) {
	tbl, err := config.Compile(config.Policy{Roles: map[string]config.RoleRules{
		"clerk": {"cn_mobile": "plain", "*": "redact"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	var d config.Decision
	tbl.Decide("clerk", &d)
	const record = `{"mobile":"{\"name\":\"张三\",\"email\":\"zhang.san@example.com\"}"}`
	for _, route := range []config.Route{
		{Scan: "names"},
		{Scan: "all"},
		{Scan: "names", Fields: []config.Field{{Path: "mobile", Type: "cn_mobile"}}},
		{Scan: "all", Fields: []config.Field{{Path: "mobile", Type: "cn_mobile"}}},
	} {
		cr, err := config.CompileRoute(route)
		if err != nil {
			t.Fatal(err)
		}
		for _, slow := range []bool{false, true} {
			e, err := New(Options{Route: cr, Table: tbl})
			if err != nil {
				t.Fatal(err)
			}
			e.slow = slow
			what := fmt.Sprintf("scan %s, %d fields, slow=%v", route.Scan, len(route.Fields), slow)
			var sum Summary
			out, err := e.Rewrite(nil, []byte(record), JSON, &d, &sum)
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			if !json.Valid(out) {
				t.Errorf("%s: invalid output %s", what, out)
			}
			for _, secret := range []string{"张三", "zhang.san@example.com"} {
				if bytes.Contains(out, []byte(secret)) {
					t.Errorf("%s: %s passed in %s", what, secret, out)
				}
			}
			// A plain value that holds no JSON stays as it is.
			in := `{"mobile":"13812345678","tel":"{not json"}`
			sum.Reset()
			if out, err := e.Rewrite(nil, []byte(in), JSON, &d, &sum); err != nil || !bytes.Contains(out, []byte(`"mobile":"13812345678"`)) {
				t.Errorf("%s: %s gave %s, %v", what, in, out, err)
			}
		}
	}
}

// TestRewriteScanned: JSON read from a body whose type did not say JSON is
// content-scanned everywhere, as the text it was labelled would have been,
// whatever the route's scan mode; field rules and key names still apply.
func TestRewriteScanned(t *testing.T) {
	for _, c := range []struct {
		in, want string
		f        Format
	}{
		{`{"note":"客户电话 13812345678"}`, `{"note":"客户电话 138****5678"}`, JSON},
		{`["13812345678",13812345678]`, `["138****5678","138****5678"]`, JSON},
		{`{"data":[{"mobile":"13812345678","contact":"zhang.san@example.com"}]}`, `{"data":[{"mobile":"138****5678","contact":"z***@example.com"}]}`, JSON},
		{"{\"ok\":true}\n\"客户电话 13812345678\"\n[1]\n13812345678\n", "{\"ok\":true}\n\"客户电话 138****5678\"\n[1]\n\"138****5678\"\n", NDJSON},
		{`{"payload":"{\"note\":\"电话 13812345678\"}"}`, `{"payload":"{\"note\":\"电话 138****5678\"}"}`, JSON},
	} {
		for _, scan := range []string{"off", "names"} {
			e := engine(t, config.Route{Scan: scan, Fields: []config.Field{{Path: "data.#.mobile", Type: "cn_mobile"}}}, nil)
			var sum Summary
			out, err := e.RewriteScanned(nil, []byte(c.in), c.f, decide(t, "online_agent"), &sum)
			if err != nil {
				t.Fatalf("scan %s: %s: %v", scan, c.in, err)
			}
			if string(out) != c.want {
				t.Errorf("scan %s: %s\n got %s\nwant %s", scan, c.in, out, c.want)
			}
			// Rewrite, on the same engine, keeps the route's mode.
			sum.Reset()
			if out, _ := e.Rewrite(nil, []byte(`{"note":"客户电话 13812345678"}`), JSON, decide(t, "online_agent"), &sum); !bytes.Contains(out, []byte("13812345678")) {
				t.Errorf("scan %s: Rewrite scanned the note: %s", scan, out)
			}
		}
	}
}

// TestAllDigits checks the eight-at-a-time digit test against the byte by
// byte one: every byte value at every position of values of 1 to 20 bytes.
func TestAllDigits(t *testing.T) {
	for n := 1; n <= 20; n++ {
		v := []byte("12345678901234567890")[:n]
		for p := 0; p < n; p++ {
			for c := 0; c < 256; c++ {
				w := append([]byte(nil), v...)
				w[p] = byte(c)
				want := c >= '0' && c <= '9'
				if got := allDigits(w); got != want {
					t.Fatalf("allDigits(%q) = %v, want %v", w, got, want)
				}
			}
		}
	}
	if !allDigits(nil) {
		t.Error("an empty value holds no non-digit")
	}
}

// TestMaskDigitsAndNames checks the masks that copy stars in one piece.
func TestMaskDigitsAndNames(t *testing.T) {
	for _, c := range []struct {
		v    string
		k    keep
		want string
	}{
		{"13812345678", keep{3, 4}, "138****5678"},
		{"110101199003077777", keep{6, 4}, "110101********7777"},
		{"6222021234567890123", keep{6, 4}, "622202*********0123"},
		{"12", keep{0, 0}, "**"},
	} {
		if got := string(maskDigits(nil, []byte(c.v), c.k)); got != c.want {
			t.Errorf("maskDigits(%q, %v) = %q, want %q", c.v, c.k, got, c.want)
		}
	}
	long := strings.Repeat("张", 70)
	if got, want := string(maskName(nil, []byte(long))), "张"+strings.Repeat("*", 69); got != want {
		t.Errorf("maskName of 70 characters = %q, want %q", got, want)
	}
	if got := string(maskName(nil, []byte("欧阳娜娜"))); got != "欧***" {
		t.Errorf("maskName(欧阳娜娜) = %q", got)
	}
}

// TestLargeIndexFieldRule checks that a field rule whose component is a
// large number (a key of digits, or an index past the dense table) still
// reaches the array element and the object member it names.
func TestLargeIndexFieldRule(t *testing.T) {
	e := engine(t, config.Route{Scan: "off", Fields: []config.Field{
		{Path: "list.1500", Type: "cn_mobile"},
		{Path: "byMobile.13812345678.name", Type: "person_name"},
	}}, nil)
	d := decide(t, "online_agent")
	var b strings.Builder
	b.WriteString(`{"list":[`)
	for i := 0; i <= 1501; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"13912345678"`)
	}
	b.WriteString(`],"byMobile":{"13812345678":{"name":"张三"}}}`)
	var sum Summary
	out, err := e.Rewrite(nil, []byte(b.String()), JSON, d, &sum)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(out), `"139****5678"`); n != 1 {
		t.Errorf("%d elements masked, want element 1500 only", n)
	}
	if !strings.Contains(string(out), `{"13812345678":{"name":"张*"}}`) {
		t.Errorf("the member under a key of digits was not masked: …%s", out[len(out)-60:])
	}
}
