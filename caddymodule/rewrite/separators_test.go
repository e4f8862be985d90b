package rewrite

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/piigate/piigate/config"
)

// TestTabAndLineBreakBetweenGroups: a mobile or card whose groups are
// separated by a tab or a line break (JSON's \t, \n) is found under scan
// all and in a text body, and the view stays valid JSON.
func TestTabAndLineBreakBetweenGroups(t *testing.T) {
	e := engine(t, config.Route{Scan: "all"}, nil)
	for _, c := range []struct {
		in   string
		f    Format
		gone string
	}{
		{`{"note":"tel 138\t1234\t5678"}`, JSON, `1234`},
		{`{"note":"tel 138\n1234\n5678"}`, JSON, `1234`},
		{`{"note":"card 6222\t0263\t3741\t7020"}`, JSON, `3741`},
		{"tel 138\t1234\t5678", Text, "1234"},
		{`"tel 138\t1234\t5678"`, Text, "1234"},
	} {
		var sum Summary
		out, err := e.Rewrite(nil, []byte(c.in), c.f, decide(t, "online_agent"), &sum)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(out), c.gone) {
			t.Errorf("%q gives %q", c.in, out)
		}
		if c.f == JSON && !json.Valid(out) {
			t.Errorf("%q gives invalid JSON %q", c.in, out)
		}
	}
}
