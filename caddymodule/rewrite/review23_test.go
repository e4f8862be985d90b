package rewrite

import (
	"encoding/json"
	"slices"
	"strings"
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

// "\n@example.com": in a script the \n is a line feed and there is no
// address; in a page (HTML has no backslash escapes) the text shows
// n@example.com, an address. Text does not say which it is, so the value
// the plain scan finds is masked, escape and all (review 24: dropping it
// let C:\temp\n.li@example.com pass in a page). The output stays valid
// and shows nothing of the address.
func TestReview23ControlEscapeLetterMaskedSafely(t *testing.T) {
	e := engine(t, config.Route{Scan: "all"}, nil)
	for _, in := range []string{`var s = "\n@example.com";`, `"\n@example.com+"`} {
		var sum Summary
		out, err := e.Rewrite(nil, []byte(in), Text, decide(t, "online_agent"), &sum)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(out), "n@example.com") || strings.Contains(string(out), `\*`) {
			t.Errorf("%s: gave %s", in, out)
		}
		if in[0] == '"' && !json.Valid(out) {
			t.Errorf("%s: gave invalid JSON %s", in, out)
		}
	}
}
