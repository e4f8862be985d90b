// Found by the fourteenth review (each failed before its fix).

package rewrite

import (
	"strings"
	"testing"

	"github.com/piigate/piigate/config"
)

// R9-4: a percent-escape of a separator (',' '=' ':' '/' a line break) is
// kept as written for the detectors, and its last hex digit (%2C, %3D,
// %3A, %2F, %0A) joins the value after it: the second mobile of a
// comma-separated form field, one in an encoded return URL or after a
// textarea's line break is not found; the client reads them decoded.
func TestPercentSeparatorGlues(t *testing.T) {
	e := engine(t, config.Route{Scan: "all"}, nil)
	d := decide(t, "online_agent")
	for _, in := range []string{
		"mobiles=13812345678%2C13912345678",
		"next=%2Fcustomers%3Fmobile%3D13912345678",
		"note=%E5%A4%87%E6%B3%A8%0D%0A13912345678",
		"tel%3A13912345678",
	} {
		var sum Summary
		out, err := e.Rewrite(nil, []byte(in), Text, d, &sum)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(out), "13912345678") {
			t.Errorf("%q -> %q: a mobile passed", in, out)
		}
	}
}

// R9-5: form data writes a space as '+' (URLSearchParams, PHP's
// http_build_query, HTML forms): %20 is read, '+' is not, so a mobile
// typed with spaces passes in form data while its %20 form is masked.
func TestFormPlusIsSpace(t *testing.T) {
	e := engine(t, config.Route{Scan: "all"}, nil)
	d := decide(t, "online_agent")
	for _, in := range []string{"m=138%201234%205678&n=1", "m=138+1234+5678&n=1"} {
		var sum Summary
		out, err := e.Rewrite(nil, []byte(in), Text, d, &sum)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(out), "1234") {
			t.Errorf("%q -> %q: a mobile passed", in, out)
		}
	}
}
