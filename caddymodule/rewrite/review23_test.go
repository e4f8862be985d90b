package rewrite

import (
	"slices"
	"testing"

	"github.com/piigate/piigate/config"
)

// a83e9a4: textAgain merges the text pass's counts only for non-plain
// actions, on the premise that a value the text pass leaves plain was seen
// by the JSON reading. A value only the text pass finds (behind a
// percent-escape) is rewritten, and counted, for every role but one that
// sees it plain: the supervisor is shown a@b.cn and nothing is counted
// (68c8ee9 counted it; the same text unquoted counts it).
func TestReview23TextScalarPlainValueNotCounted(t *testing.T) {
	e := engine(t, config.Route{Scan: "all"}, nil)
	for _, in := range []string{`"a%40b.cn"`, `"1381234%35678"`} {
		var agent, sup, bare Summary
		if _, err := e.Rewrite(nil, []byte(in), Text, decide(t, "online_agent"), &agent); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Rewrite(nil, []byte(in), Text, decide(t, "supervisor"), &sup); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Rewrite(nil, []byte(in[1:len(in)-1]), Text, decide(t, "supervisor"), &bare); err != nil {
			t.Fatal(err)
		}
		if agent.Total() != 1 || sup.Total() != agent.Total() || !slices.Equal(sup.Counts, bare.Counts) {
			t.Errorf("%s: online_agent counts %v, supervisor %v (unquoted: %v); want the value counted once for each",
				in, agent.Counts, sup.Counts, bare.Counts)
		}
	}
}

// a83e9a4 makes \n a control escape, but the plain scan of the raw text
// still reads its letter as part of a value: \nzhang@example.com gives
// the plain scan nzhang@example.com and the decoded scan zhang@example.com,
// two spans, and a role that sees e-mail plain counts two addresses where
// there is one (68c8ee9 counted one; mask counts one).
func TestReview23ControlEscapeGluedValueCountedTwice(t *testing.T) {
	e := engine(t, config.Route{Scan: "all"}, nil)
	for _, in := range []string{`\nzhang@example.com`, `var s = "\tzhang@example.com";`} {
		for _, role := range []string{"supervisor", "online_agent"} {
			var sum Summary
			if _, err := e.Rewrite(nil, []byte(in), Text, decide(t, role), &sum); err != nil {
				t.Fatal(err)
			}
			if sum.Total() != 1 {
				t.Errorf("%s as %s: counts %v, want one e-mail", in, role, sum.Counts)
			}
		}
	}
}

// The commit's own case, incomplete: "\n@example.com was an address
// starting at the n". With \n read as the line feed it is, there is no
// address (a line feed, then @example.com, as JSON.parse and the JSON
// reading of the same body see it), yet the plain scan's n@example.com is
// kept: the text is counted as an e-mail and masked, the line feed lost.
func TestReview23ControlEscapeLetterStillAnAddress(t *testing.T) {
	e := engine(t, config.Route{Scan: "all"}, nil)
	for _, in := range []string{`var s = "\n@example.com";`, `"\n@example.com+"`} {
		var sum Summary
		out, err := e.Rewrite(nil, []byte(in), Text, decide(t, "online_agent"), &sum)
		if err != nil {
			t.Fatal(err)
		}
		if sum.Total() != 0 || string(out) != in {
			t.Errorf("%s: gave %s, counts %v; want it unchanged, nothing counted", in, out, sum.Counts)
		}
	}
}
