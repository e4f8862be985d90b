package rewrite

// Twenty-ninth review (of the twenty-seventh and twenty-eighth reviews'
// escapes of text: escapedView, the escape index, walker.text's two
// levels, walker.rawString). Each test fails on the code as reviewed. All
// values are fake (detectorstest).

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/piigate/piigate/config"
	"github.com/piigate/piigate/detectors/detectorstest"
)

// review29Rewrite rewrites in (format f) for role under route and returns
// the output; valid JSON in must give valid JSON out.
func review29Rewrite(t *testing.T, route config.Route, role, in string, f Format) string {
	t.Helper()
	e := engine(t, route, nil)
	var sum Summary
	out, err := e.Rewrite(nil, []byte(in), f, decide(t, role), &sum)
	if err != nil {
		t.Fatalf("%s: %v", in, err)
	}
	if f == JSON && json.Valid([]byte(in)) && !json.Valid(out) {
		t.Fatalf("%s: invalid JSON out %s", in, out)
	}
	return string(out)
}

// Finding 1. Every string that holds an escape goes to rawString (leaf,
// walk.go:1077), which no longer scans the string's JSON reading: it
// scans the text as written only when an escape stands for a letter or a
// digit (walk.go:1120), and otherwise relies on escapedView
// (walk.go:1127), which returns ok=false when the text holds no escape
// that escapeAt knows. escapeAt knows neither \" nor \/ (it returns 0, 0
// for both), so a string whose only escapes are these gets
// applyFindings(content, w.fs = nothing) (walk.go:1129) and rawString
// reports it done (walk.go:1132): it is never scanned. PHP's json_encode
// writes every '/' as \/ (every URL, every date 2024\/05\/01), and any
// quoted text holds \". Under scan all, under a field rule's scan, and for
// an NDJSON line that is one string (content-scanned in every mode), the
// mobile goes out in full. HEAD~3 masked every case (scanText on the
// decoded text).
func TestReview29EscapedQuoteOrSlashStringIsNeverScanned(t *testing.T) {
	g := detectorstest.New(2901)
	m, m2 := g.Mobile(), g.Mobile()
	cases := []struct {
		route config.Route
		in    string
		f     Format
	}{
		{config.Route{Scan: "all"}, `{"note":"he said \"call ` + m + `\""}`, JSON},
		{config.Route{Scan: "all"}, `{"note":"see http:\/\/example.cn\/u ` + m + `"}`, JSON},
		{config.Route{Scan: "off", Fields: []config.Field{{Path: "note", Type: "scan"}}}, `{"note":"see http:\/\/example.cn\/u ` + m + `"}`, JSON},
		{config.Route{Scan: "names"}, `"see http:\/\/example.cn ` + m2 + `"` + "\n", NDJSON},
	}
	for _, c := range cases {
		// Precondition: the same string without the escape is masked.
		plain := strings.NewReplacer(`\/`, `/`, `\"`, `'`).Replace(c.in)
		if out := review29Rewrite(t, c.route, "online_agent", plain, c.f); strings.Contains(out, m) || strings.Contains(out, m2) {
			t.Fatalf("precondition: %s gave %s", plain, out)
		}
		if out := review29Rewrite(t, c.route, "online_agent", c.in, c.f); strings.Contains(out, m) || strings.Contains(out, m2) {
			t.Errorf("scan %q: %s as online_agent (cn_mobile mask) gave %s: the mobile is shown whole", c.route.Scan, c.in, out)
		}
	}
}

// Finding 2. Even when a string holds escapes escapeAt reads, rawString
// (walk.go:1117-1151) reads it only as written (and that only when an
// escape stands for a letter or a digit) and with every escape decoded at
// once, JSON's and a page's and a link's together (escapedView, intro).
// The reading JSON.parse gives a script, which shows it as text
// (textContent) without decoding a page's or a link's escapes, is never
// scanned: "m%31" followed by a JSON \n is, with all escapes decoded, a
// run of 12 digits (no value), and as JSON.parse gives it, the mobile m
// followed by "%31". The same string without the \n is masked (scanText
// reads the plain text and escapedView both), and HEAD~3 masked both.
// A value next to it that the full decoding does find makes rawString
// rewrite the string, and the mobile still passes.
func TestReview29RawStringSkipsTheJSONParseReading(t *testing.T) {
	g := detectorstest.New(2902)
	m, m2 := g.Mobile(), g.Mobile()
	route := config.Route{Scan: "all"}
	pre := `{"note":"` + m + `%31"}`
	if out := review29Rewrite(t, route, "online_agent", pre, JSON); strings.Contains(out, m) {
		t.Fatalf("precondition: %s gave %s", pre, out)
	}
	for _, in := range []string{
		`{"note":"` + m + `%31\n"}`,
		`{"note":"` + m + `&#49;\u003c"}`,
		`{"note":"` + m + `%31, ` + m2[:10] + `\u0026#` + strconv.Itoa(int(m2[10])) + `;"}`,
	} {
		if out := review29Rewrite(t, route, "online_agent", in, JSON); strings.Contains(out, m) {
			t.Errorf("%s as online_agent gave %s: JSON.parse gives the mobile %s followed by an escape of text, shown as text (textContent)", in, out, m)
		}
	}
}

// Finding 3. A string with a JSON escape that stands for a letter or a
// digit "is also read as it is written" (README, review 28), but only
// values are: walker.key (walk.go:1205-1250) scans the decoded key and its
// page/link escapes, never the key as written. {"m\u0031":1} is the mobile
// m to a page that shows the JSON, and under scan all the key is kept
// (and its member kept for a role that drops mobiles), while ["m\u0031"]
// gives ["138****…\u0031"].
func TestReview29KeyWithEscapedDigitNotReadAsWritten(t *testing.T) {
	g := detectorstest.New(2903)
	m := g.Mobile()
	route := config.Route{Scan: "all"}
	if out := review29Rewrite(t, route, "online_agent", `["`+m+`\u0031"]`, JSON); strings.Contains(out, m) {
		t.Fatalf("precondition: the value gave %s", out)
	}
	for _, role := range []string{"online_agent", "minimal"} {
		in := `{"` + m + `\u0031":1}`
		if out := review29Rewrite(t, route, role, in, JSON); strings.Contains(out, m) {
			t.Errorf("%s as %s gave %s: the key shows the mobile as written", in, role, out)
		}
	}
}

// Finding 4. rawString is skipped for any string whose text starts like
// JSON (leaf, walk.go:1077: !holdsJSON(text)), also when it is not JSON
// and is then scanned as text by scanText: "[tel] m\u0031" (a note that
// starts with a bracket) is read only decoded (12 digits) and passes,
// where "tel m\u0031" is masked. A text body that is such a JSON string
// takes the same path (walker.text walks it as JSON since
// startsJSONQuoted is true, walk.go:1393-1400, and never reads it as the
// text a page shows).
func TestReview29BracketStringNotReadAsWritten(t *testing.T) {
	g := detectorstest.New(2904)
	m := g.Mobile()
	route := config.Route{Scan: "all"}
	if out := review29Rewrite(t, route, "online_agent", `{"note":"tel `+m+`\u0031"}`, JSON); strings.Contains(out, m) {
		t.Fatalf("precondition: gave %s", out)
	}
	for _, c := range []struct {
		in string
		f  Format
	}{
		{`{"note":"[tel] ` + m + `\u0031"}`, JSON},
		{`{"note":"{tel} ` + m + `\u0031"}`, JSON},
		{`"[tel] ` + m + `\u0031"`, Text},
	} {
		if out := review29Rewrite(t, route, "online_agent", c.in, c.f); strings.Contains(out, m) {
			t.Errorf("%s as online_agent gave %s: a page showing it shows the mobile", c.in, out)
		}
	}
}

// Finding 5 (low). The engine reads a '+' between digits as form data's
// space (138+1234+5678 is masked), but a '+' that a page's or a link's
// escape stands for (%2B, &#43;) is decoded by decodeTextEscapes to a
// literal '+' (jsonstr.go:247) that the detectors do not read as a
// separator, and escapeAt's '+' rule (jsonstr.go:282) applies only to a
// '+' as written. A link decoder shows "138%2B1234%2B5678" as
// 138+1234+5678, which the engine masks when written so; in a JSON string
// (scan all) it passes. A text body that is the same JSON string is
// masked (its second reading sees the decoded '+'), so the two paths
// disagree.
func TestReview29EscapedPlusNotReadAsSpace(t *testing.T) {
	g := detectorstest.New(2905)
	m := g.Mobile()
	route := config.Route{Scan: "all"}
	plus := m[:3] + "+" + m[3:7] + "+" + m[7:]
	if out := review29Rewrite(t, route, "online_agent", `{"note":"`+plus+`"}`, JSON); strings.Contains(out, m[3:7]) {
		t.Fatalf("precondition: %s gave %s", plus, out)
	}
	for _, sep := range []string{"%2B", "&#43;"} {
		v := m[:3] + sep + m[3:7] + sep + m[7:]
		for _, c := range []struct {
			in string
			f  Format
		}{
			{`{"note":"` + v + `"}`, JSON},
			{`{"` + v + `":1}`, JSON},
		} {
			if out := review29Rewrite(t, route, "online_agent", c.in, c.f); strings.Contains(out, m[3:7]) {
				t.Errorf("%s as online_agent gave %s; a link decoder shows %s", c.in, out, plus)
			}
		}
	}
}

// Finding 6. The two-level reading (escapedView with levels 2: a one-string
// text body or event data, walker.text; every string with escapes in a
// document, rawString) is not "JSON.parse, then a page": its first level
// (textEscapes.decode with intro, jsonstr.go:216-264) decodes JSON's
// escapes and a page's and a link's in the same pass, left to right. An
// HTML reference whose digits are partly JSON escapes ("&#5\u0036;", which
// JSON.parse makes "&#56;", an 8 in a page) is read at level 1 as the
// reference "&#5" without its ';' (charRefAt, U+0005) followed by "6;",
// so the second level (te2, walk.go:1646-1657) never sees "&#56;". The
// mobile passes in a text body, in event data and in a document's string,
// while "1381234567\u0026#56;" is masked. With another value in the same
// body (an IP address), HEAD~3 redacted the whole body and the new code
// shows the mobile (differential case: an ID written with &#4\u0038;).
func TestReview29PageEscapeSplitByJSONEscapeNotReadTwice(t *testing.T) {
	g := detectorstest.New(2906)
	m := g.Mobile()
	last := strconv.Itoa(int(m[10])) // the last digit's code, two digits
	route := config.Route{Scan: "all"}
	pre := `"` + m[:10] + `\u0026#` + last + `;"`
	if out := review29Rewrite(t, route, "online_agent", pre, Text); strings.Contains(out, m[:10]) {
		t.Fatalf("precondition: %s gave %s", pre, out)
	}
	split := m[:10] + `&#` + last[:1] + `\u00` + strconv.FormatInt(int64(last[1]), 16) + `;`
	for _, c := range []struct {
		in string
		f  Format
	}{
		{`"` + split + `"`, Text},
		{"data: \"" + split + "\"\n\n", Events},
		{`{"note":"` + split + `"}`, JSON},
		{`"` + split + ` ` + g.IPv4() + `"`, Text},
	} {
		if out := review29Rewrite(t, route, "online_agent", c.in, c.f); strings.Contains(out, m[:10]) {
			t.Errorf("%s as online_agent gave %s: JSON.parse gives %s…&#%s;, the mobile %s in a page", c.in, out, m[:10], last, m)
		}
	}
}
