package rewrite

import (
	"testing"

	"github.com/piigate/piigate/config"
	"github.com/piigate/piigate/detectors"
)

// 753d03f: a plain span that overlaps any earlier span is skipped, "counted
// with the span it overlaps". In "138 1234 5678%2Cab@example.com" the plain
// scan reads the address 5678%2Cab@example.com (overlapping the mobile the
// decoded scan reads, 138 1234 5678) and the decoded scan reads
// ab@example.com: both readings of the one address are skipped, so the
// supervisor, shown it unchanged, is counted no e-mail at all (the same
// address after "138 1234 5678, " is counted once).
func TestReview25PlainValueReadTwoWaysCountedNever(t *testing.T) {
	e := engine(t, config.Route{Scan: "all"}, nil)
	for _, in := range []string{`138 1234 5678%2Cab@example.com`, `138 1234 5678, ab@example.com`} {
		var sum Summary
		out, err := e.Rewrite(nil, []byte(in), Text, decide(t, "supervisor"), &sum)
		if err != nil {
			t.Fatal(err)
		}
		if n := countOf(&sum, detectors.Email, config.Plain); n != 1 {
			t.Errorf("%s as supervisor: gave %s, counts %v; want one e-mail shown plain", in, out, sum.Counts)
		}
	}
}

// Overlapping non-plain spans: the second is folded into the first's
// redaction and never counted. For online_agent the same text becomes
// "[cn_mobile]": the address ab@example.com is hidden, but the summary
// (the flow log, the metrics) says only a mobile was masked.
func TestReview25OverlappingMaskedValueNotCounted(t *testing.T) {
	e := engine(t, config.Route{Scan: "all"}, nil)
	in := `138 1234 5678%2Cab@example.com`
	var sum Summary
	out, err := e.Rewrite(nil, []byte(in), Text, decide(t, "online_agent"), &sum)
	if err != nil {
		t.Fatal(err)
	}
	if countOf(&sum, detectors.Email, config.Mask) == 0 && countOf(&sum, detectors.Email, config.Redact) == 0 {
		t.Errorf("%s as online_agent: gave %s, counts %v; the address it hid is not counted", in, out, sum.Counts)
	}
}

// countOf returns how many values of type t under action a s counted.
func countOf(s *Summary, t detectors.Type, a config.Action) int {
	for _, c := range s.Counts {
		if c.Type == t && c.Action == a {
			return c.N
		}
	}
	return 0
}
