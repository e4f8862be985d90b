package rewrite

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/piigate/piigate/config"
)

// textAgain runs the text pass over the JSON reading's view, not over the
// scalar itself. The resident ID 130102199001011237 written with one digit
// percent-escaped ("13010219900%31011237") is read by the JSON reading as
// the mobile 13010219900 followed by other text; only the text reading
// (%31 decoded) sees the ID. The JSON reading masks (or drops) the mobile
// first, so the text pass no longer sees the ID, and the rest of it is
// shown: minimal (drop everything) gets "%31011237", the ID's last seven
// digits; online_agent gets "130****9900%31011237", which a client decodes
// to 130****99001011237, the birth date's digits 9900101 included (the ID's
// mask hides them: the same text unquoted gives 130102********1237).
func TestReview26TextScalarOverlapHidesIDFromTextPass(t *testing.T) {
	e := engine(t, config.Route{Scan: "all"}, nil)
	for _, in := range []string{`"13010219900%31011237"`, `"13010219900&#49;011237"`} {
		for _, role := range []string{"minimal", "online_agent"} {
			var sum Summary
			out, err := e.Rewrite(nil, []byte(in), Text, decide(t, role), &sum)
			if err != nil {
				t.Fatal(err)
			}
			var s string
			if err := json.Unmarshal(out, &s); err != nil {
				t.Fatalf("%s as %s: invalid JSON out %s", in, role, out)
			}
			// the agent's reading: percent-escapes and &#49; decoded
			dec, _ := url.PathUnescape(strings.ReplaceAll(s, "&#49;", "1"))
			if strings.Contains(dec, "1011237") || strings.Contains(dec, "9900101") {
				t.Errorf("%s as %s: gave %s (reads %q), counts %v; digits of the resident ID its role hides are shown",
					in, role, out, dec, sum.Counts)
			}
		}
	}
}

// The JSON reading of a scalar text body knows no HTML references or
// percent-escapes: a value it finds that starts inside one is replaced from
// there, cutting the reference in two. "&#65bc@example.com" (Abc@…, as a
// page reads it) becomes "&#6***@example.com" for online_agent, "&#" for
// minimal, "&#[email]" for analyst (no hash key here). The same text unquoted takes the
// reference in whole (***@example.com for online_agent, "" for minimal).
func TestReview26TextScalarValueInsideReferenceCutsIt(t *testing.T) {
	e := engine(t, config.Route{Scan: "all"}, nil)
	in := `"&#65bc@example.com"`
	for _, role := range []string{"online_agent", "minimal", "analyst"} {
		var sum Summary
		out, err := e.Rewrite(nil, []byte(in), Text, decide(t, role), &sum)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(out), "&#") {
			t.Errorf("%s as %s: gave %s; the reference &#65 is cut in two", in, role, out)
		}
	}
}
