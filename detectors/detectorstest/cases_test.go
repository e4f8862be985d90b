package detectorstest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// weak reports whether a span is of a kind that is labelled only next to a
// context word, which the context-free oracle does not report.
func weak(c Case, s Span) bool {
	v := strip(ASCII(c.Text[s.Start:s.End]), " ")
	return s.Type == "cn_passport" || s.Type == "cn_resident_id" && len(v) == 15
}

var contentTypes = map[string]bool{
	"cn_resident_id": true, "cn_mobile": true, "cn_landline": true, "bank_card": true,
	"email": true, "ip_address": true, "hk_id": true, "tw_id": true, "cn_passport": true,
	"cn_license_plate": true, "intl_phone": true, "iban": true,
}

// checkCase checks the labelling of c: spans in order, inside the text, on
// rune boundaries, of content-detected types, each exactly a valid value; and
// the oracle finds exactly the labelled values of the strong types.
func checkCase(t *testing.T, where string, c Case) {
	t.Helper()
	if !utf8.ValidString(c.Text) {
		t.Fatalf("%s: text is not UTF-8: %q", where, c.Text)
	}
	prev := 0
	var strong []Span
	for _, s := range c.Spans {
		if s.Start < prev || s.End <= s.Start || s.End > len(c.Text) {
			t.Fatalf("%s: span %v out of order or outside %q", where, s, c.Text)
		}
		prev = s.End
		if !utf8.RuneStart(c.Text[s.Start]) || s.End < len(c.Text) && !utf8.RuneStart(c.Text[s.End]) {
			t.Fatalf("%s: span %v cuts a rune in %q", where, s, c.Text)
		}
		if !contentTypes[s.Type] {
			t.Fatalf("%s: span of type %q, not a content-detected type", where, s.Type)
		}
		v := c.Text[s.Start:s.End]
		if !Valid(s.Type, v) {
			t.Errorf("%s: span %s %q is not a valid value, in %q", where, s.Type, v, c.Text)
		}
		if strings.TrimSpace(v) != v {
			t.Errorf("%s: span %q has surrounding space", where, v)
		}
		if !weak(c, s) {
			strong = append(strong, s)
		}
	}
	if got := oracle(c.Text); !reflect.DeepEqual(got, strong) && !(len(got) == 0 && len(strong) == 0) {
		t.Errorf("%s: %q\n labelled %s\n  oracle  %s", where, c.Text, show(c.Text, strong), show(c.Text, got))
	}
}

func show(text string, spans []Span) string {
	var parts []string
	for _, s := range spans {
		parts = append(parts, fmt.Sprintf("%s[%d:%d]=%q", s.Type, s.Start, s.End, text[s.Start:s.End]))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func TestCasesAreLabelledExactly(t *testing.T) {
	for seed := int64(1); seed <= 4; seed++ {
		for i, c := range Cases(seed, 1500) {
			if strings.ContainsAny(c.Text, "\n\r") {
				t.Fatalf("seed %d case %d: newline in a one-line case: %q", seed, i, c.Text)
			}
			checkCase(t, fmt.Sprintf("seed %d case %d", seed, i), c)
		}
	}
}

func TestSampleCasesAreLabelledExactly(t *testing.T) {
	for i, c := range SampleCases(9, 3000) {
		checkCase(t, fmt.Sprintf("case %d", i), c)
	}
}

// TestCasesCoverEveryTypeAndForm checks that the generated texts exercise
// what the scanner must handle, so a change to the weights cannot quietly
// drop a type or a form of writing.
func TestCasesCoverEveryTypeAndForm(t *testing.T) {
	cases := Cases(2, 4000)
	types := map[string]int{}
	forms := map[string]int{}
	negatives := 0
	for _, c := range cases {
		if len(c.Spans) == 0 {
			negatives++
		}
		if len(c.Spans) >= 2 {
			forms["several findings"]++
		}
		for _, s := range c.Spans {
			types[s.Type]++
			v := c.Text[s.Start:s.End]
			switch {
			case ASCII(v) != v:
				forms["full-width"]++
			case strings.HasPrefix(v, "+86"):
				forms["+86"]++
			case strings.HasPrefix(v, "0086"):
				forms["0086"]++
			case s.Type == "cn_mobile" && strings.HasPrefix(v, "86"):
				forms["86"]++
			case s.Type == "cn_resident_id" && len(v) == 15:
				forms["legacy id"]++
			case strings.Contains(v, "-") && s.Type != "email":
				forms["hyphen"]++
			case strings.Contains(v, " "):
				forms["space"]++
			case strings.Contains(v, "·"):
				forms["plate dot"]++
			}
			if s.Start > 0 {
				if r, _ := utf8.DecodeLastRuneInString(c.Text[:s.Start]); r >= 0x4E00 && r <= 0x9FFF {
					forms["after Han"]++
				} else if r >= 0xFF00 {
					forms["after full-width punctuation"]++
				}
			}
		}
	}
	for typ := range contentTypes {
		if types[typ] < 40 {
			t.Errorf("type %s labelled %d times in 4000 cases, want at least 40", typ, types[typ])
		}
	}
	for _, f := range []string{"several findings", "full-width", "+86", "0086", "86", "legacy id", "hyphen", "space", "plate dot", "after Han", "after full-width punctuation"} {
		if forms[f] < 10 {
			t.Errorf("form %q seen %d times in 4000 cases, want at least 10", f, forms[f])
		}
	}
	if frac := float64(negatives) / float64(len(cases)); frac < 0.3 || frac > 0.5 {
		t.Errorf("%.2f of the cases have no span, want 0.3–0.5", frac)
	}
}

func TestCasesAreDeterministic(t *testing.T) {
	a, b := Cases(42, 300), Cases(42, 300)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("Cases(42, 300) differs between two calls")
	}
	c := Cases(43, 300)
	same := 0
	for i := range a {
		if a[i].Text == c[i].Text {
			same++
		}
	}
	if same > 30 {
		t.Errorf("seeds 42 and 43 share %d of 300 texts", same)
	}
	if !reflect.DeepEqual(SampleCases(7, 100), SampleCases(7, 100)) {
		t.Fatal("SampleCases is not deterministic")
	}
}

func TestJSONLRoundTrip(t *testing.T) {
	cases := Cases(5, 200)
	var buf bytes.Buffer
	if err := WriteJSONL(&buf, cases); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != len(cases) {
		t.Fatalf("%d lines for %d cases", len(lines), len(cases))
	}
	for i, l := range lines {
		if len(cases[i].Spans) == 0 && !strings.HasSuffix(l, `"spans":[]}`) {
			t.Fatalf("line %d: a case without spans must have \"spans\":[], got %s", i+1, l)
		}
	}
	got, err := ReadJSONL(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, cases) {
		t.Fatal("cases differ after WriteJSONL and ReadJSONL")
	}
	one := []Case{{Text: "联系电话：15808316008", Spans: []Span{{"cn_mobile", 15, 26}}}}
	buf.Reset()
	if err := WriteJSONL(&buf, one); err != nil {
		t.Fatal(err)
	}
	if want := `{"text":"联系电话：15808316008","spans":[["cn_mobile",15,26]]}` + "\n"; buf.String() != want {
		t.Fatalf("WriteJSONL wrote %s, want %s", buf.String(), want)
	}
}

// samplePath is the shared labelled sample, beside the repository.
var samplePath = filepath.Join("..", "..", "..", "shared", "corpus", "sample.jsonl")

// TestOracleAgreesWithSample checks the labelling conventions against the
// shared sample: the reference scanner the generated cases are checked with
// finds exactly the sample's spans, so both follow the same conventions.
func TestOracleAgreesWithSample(t *testing.T) {
	f, err := os.Open(samplePath)
	if err != nil {
		t.Skipf("shared sample not available: %v", err)
	}
	defer f.Close()
	cases, err := ReadJSONL(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 100 {
		t.Fatalf("sample has %d lines, want at least 100", len(cases))
	}
	for i, c := range cases {
		checkCase(t, fmt.Sprintf("sample line %d", i+1), c)
	}
}

// TestSampleCasesUseSampleTemplates checks that each sample-mode text is
// built from the sample's own sentence frames: with values and look-alikes
// cut out, every clause is a frame that occurs in sample.jsonl.
func TestSampleCasesUseSampleTemplates(t *testing.T) {
	f, err := os.Open(samplePath)
	if err != nil {
		t.Skipf("shared sample not available: %v", err)
	}
	defer f.Close()
	sample, err := ReadJSONL(f)
	if err != nil {
		t.Fatal(err)
	}
	frames := map[string]bool{}
	for _, c := range sample {
		for _, cl := range strings.Split(c.Text, "；") {
			frames[frame(cl)] = true
		}
	}
	for i, c := range SampleCases(3, 2000) {
		for _, cl := range strings.Split(c.Text, "；") {
			if !frames[frame(cl)] {
				t.Errorf("case %d: clause %q (frame %q) has no frame in the sample", i, cl, frame(cl))
			}
		}
	}
}

// frame reduces a clause to its sentence frame: values, look-alikes and
// names are replaced by "#".
func frame(s string) string {
	var b strings.Builder
	inValue := false
	for _, r := range s {
		value := r < 0x80 && (r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || strings.ContainsRune("+-.@()_ ", r)) ||
			r >= 0xFF10 && r <= 0xFF5A
		if value {
			if !inValue {
				b.WriteByte('#')
			}
			inValue = true
			continue
		}
		inValue = false
		b.WriteRune(r)
	}
	f := b.String()
	// Names sit between 客户 and 的手机号是.
	if i, j := strings.Index(f, "客户"), strings.Index(f, "的手机号是"); i >= 0 && j > i {
		f = f[:i+len("客户")] + "#" + f[j:]
	}
	return f
}
