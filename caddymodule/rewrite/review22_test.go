package rewrite

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/piigate/piigate/config"
)

// 68c8ee9: a text body that is one JSON scalar holding '%', '&' or '+' is
// read as JSON and then read again as text by textAgain, both counting into
// the same summary. A value the JSON reading leaves as it is (plain) is found
// again by the text pass and counted twice; the same body typed JSON counts it
// once (and 54ea228 counted it once).
func TestReview22TextScalarCountedTwice(t *testing.T) {
	e := engine(t, config.Route{Scan: "all"}, nil)
	d := decide(t, "supervisor")
	for _, in := range []string{`"13812345678+"`, `"\nx@a.cn+"`} {
		var sum Summary
		if _, err := e.Rewrite(nil, []byte(in), Text, d, &sum); err != nil {
			t.Fatal(err)
		}
		var js Summary
		if _, err := e.Rewrite(nil, []byte(in), JSON, d, &js); err != nil {
			t.Fatal(err)
		}
		if sum.Total() != 1 || !slices.Equal(sum.Counts, js.Counts) {
			t.Errorf("%s: text counts %v, JSON counts %v; want one value", in, sum.Counts, js.Counts)
		}
	}
}

// The text pass over the JSON reading's view still glues a JSON escape's
// letter to what follows ("\n@example.com" is the email n@example.com to
// it) and rewrites from the letter, leaving the escape's backslash before
// the view: valid JSON in, invalid JSON out ("\***@example.com+", "\+").
// The commit's aim was that JSON's \n is read as JSON.parse reads it.
func TestReview22TextScalarEscapeLetterBreaksJSON(t *testing.T) {
	e := engine(t, config.Route{Scan: "all"}, nil)
	in := `"\n@example.com+"`
	for _, roles := range []string{"online_agent", "minimal", "analyst"} {
		var sum Summary
		out, err := e.Rewrite(nil, []byte(in), Text, decide(t, roles), &sum)
		if err != nil {
			t.Fatal(err)
		}
		if !json.Valid(out) {
			t.Errorf("%s: valid JSON %s gave invalid %s", roles, in, out)
		}
	}
}
