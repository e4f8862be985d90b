package detectors_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/piigate/piigate/detectors"
	"github.com/piigate/piigate/detectors/detectorstest"
)

// score matches findings to labelled spans the way the corpus scorer
// (../shared/corpus/score_detect.py) does: same type, covering at least half
// of the span; unmatched findings are false positives.
type score struct{ tp, fp, fn map[string]int }

func newScore() *score {
	return &score{tp: map[string]int{}, fp: map[string]int{}, fn: map[string]int{}}
}

func (s *score) add(c detectorstest.Case, fs []detectors.Finding, t *testing.T) {
	used := make([]bool, len(fs))
	for _, sp := range c.Spans {
		hit := -1
		for j, f := range fs {
			if used[j] || f.Type.String() != sp.Type {
				continue
			}
			if min(f.End, sp.End)-max(f.Start, sp.Start) >= (sp.End-sp.Start+1)/2 {
				hit = j
				break
			}
		}
		if hit < 0 {
			s.fn[sp.Type]++
			t.Logf("missed %s %q in %q", sp.Type, c.Text[sp.Start:sp.End], c.Text)
			continue
		}
		used[hit] = true
		s.tp[sp.Type]++
	}
	for j, f := range fs {
		if !used[j] {
			s.fp[f.Type.String()]++
			t.Logf("false %s %q in %q", f.Type, c.Text[f.Start:f.End], c.Text)
		}
	}
}

func sum(m map[string]int) (n int) {
	for _, v := range m {
		n += v
	}
	return n
}

// TestQualityOnFreshCases scores the scanner on labelled cases generated
// by detectorstest, an independent implementation of every format and
// checksum, with seeds that differ from run to run of the generator's own
// tests: cases that are not in the repository.
func TestQualityOnFreshCases(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 3000
	}
	s := newScore()
	var fs []detectors.Finding
	for _, c := range detectorstest.Cases(20261127, n) {
		fs = detectors.Default.Scan(c.Text, fs[:0])
		s.add(c, fs, t)
	}
	tp, fp, fn := sum(s.tp), sum(s.fp), sum(s.fn)
	precision := float64(tp) / float64(tp+fp)
	recall := float64(tp) / float64(tp+fn)
	t.Logf("%d cases: precision %.4f recall %.4f", n, precision, recall)
	if precision < 0.99 || recall < 0.98 {
		t.Errorf("precision %.4f (want ≥ 0.99), recall %.4f (want ≥ 0.98)", precision, recall)
	}
	for typ, hit := range s.tp {
		if r := float64(hit) / float64(hit+s.fn[typ]); r < 0.95 {
			t.Errorf("%s: recall %.4f, want ≥ 0.95", typ, r)
		}
	}
	if len(s.tp) < 12 {
		t.Errorf("only %d types exercised, want all 12 content types", len(s.tp))
	}
}

// TestQualityOnSample scores the labelled sample the project was given.
func TestQualityOnSample(t *testing.T) {
	f, err := os.Open("../../shared/corpus/sample.jsonl")
	if err != nil {
		t.Skipf("shared corpus not present: %v", err)
	}
	defer f.Close()
	cases, err := detectorstest.ReadJSONL(f)
	if err != nil {
		t.Fatal(err)
	}
	s := newScore()
	for _, c := range cases {
		s.add(c, detectors.Default.Scan(c.Text, nil), t)
	}
	if fp, fn := sum(s.fp), sum(s.fn); fp+fn > 0 {
		t.Errorf("sample: %d false positives, %d misses", fp, fn)
	}
}

// TestPublishedVectors checks the validators and the scanner against
// published test numbers (testdata/vectors.json names each source).
func TestPublishedVectors(t *testing.T) {
	b, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var vs []struct {
		Type, Value, Source string
		Valid               bool
	}
	if err := json.Unmarshal(b, &vs); err != nil {
		t.Fatal(err)
	}
	if len(vs) < 100 {
		t.Fatalf("only %d vectors", len(vs))
	}
	for _, v := range vs {
		typ, err := detectors.ParseType(v.Type)
		if err != nil {
			t.Fatalf("%s: %v", v.Value, err)
		}
		// Weak types are reported with their context word only.
		prefix := map[detectors.Type]string{
			detectors.CNPassport: "护照 ", detectors.CNResidentID: "身份证 ", detectors.HKID: "香港身份证 ",
			detectors.BankCard: "card ",
		}[typ]
		text := prefix + v.Value + " 。"
		fs := detectors.Default.Scan(text, nil)
		found := len(fs) == 1 && fs[0].Type == typ && fs[0].Start == len(prefix) && fs[0].End == len(prefix)+len(v.Value)
		if found != v.Valid {
			t.Errorf("%s %q (valid=%v, %s): scanner found %v", v.Type, v.Value, v.Valid, v.Source, fs)
		}
		if val, ok := detectors.LookupValidator(v.Type); ok {
			if got := val(v.Value); got != v.Valid && !strings.Contains(v.Value, " ") {
				t.Errorf("validator %s(%q) = %v, want %v (%s)", v.Type, v.Value, got, v.Valid, v.Source)
			}
		}
	}
}
