package rewrite

import (
	"bytes"
	"testing"

	"github.com/piigate/piigate/config"
)

// 54ea228: a text body that is one JSON scalar holding '%', '&' or '+' is
// no longer read as JSON but content-scanned as text. README: "A body ...
// that is one JSON string or number is read as a client's JSON.parse reads
// it, escapes and exponent decoded". A number's exponent sign is a '+'
// (1.3812345678E+10 is 13812345678 to JSON.parse), and the text path does
// not read JSON's \n \t \r \b \f: the escape's letter glues to the digits
// ("n13812345678"). Before 54ea228 each gave "138****5678".
func TestReview21TextJSONScalarWithPlusPercentAmp(t *testing.T) {
	e := engine(t, config.Route{Scan: "all"}, nil)
	d := decide(t, "online_agent")
	for _, in := range []string{
		`1.3812345678E+10`,
		`"\n13812345678&"`,
		`"\b13812345678%"`,
		`"\t13812345678+"`,
	} {
		var sum Summary
		out, err := e.Rewrite(nil, []byte(in), Text, d, &sum)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(out, []byte(mobile)) || bytes.Contains(out, []byte("E+10")) {
			t.Errorf("%s passes as %s", in, out)
		}
	}
}
