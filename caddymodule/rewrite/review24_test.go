package rewrite

import (
	"testing"

	"github.com/piigate/piigate/config"
)

// 0069b93: dropControlLetters drops a plain-scan finding that starts at the
// letter after a lone backslash. In a page (a Windows path), the browser
// shows C:\temp\n.li@example.com, and the address n.li@example.com is what
// the detectors find in it (the same string in a JSON body is masked:
// "C:\\temp\\n***@example.com"). The decoded reading (a line feed, then
// .li@example.com) finds no address, so nothing is masked. a83e9a4 masked
// it (the finding began inside the escape and took it in).
func TestReview24ControlLetterDropLeaksValue(t *testing.T) {
	e := engine(t, config.Route{Scan: "all"}, nil)
	for _, in := range []string{`<p>C:\temp\n.li@example.com</p>`, `\t.x@example.com`} {
		var sum Summary
		out, err := e.Rewrite(nil, []byte(in), Text, decide(t, "online_agent"), &sum)
		if err != nil {
			t.Fatal(err)
		}
		if string(out) == in || sum.Total() != 1 {
			t.Errorf("%s as online_agent: gave %s, counts %v; the address the page shows is unmasked", in, out, sum.Counts)
		}
	}
}

// 0069b93: textAgain now adds the text pass's plain values beyond the JSON
// reading's count. The text pass over u1+2@example.com reads the address
// twice ('+' between digits is a space there: u1+2@example.com and
// 2@example.com), so the supervisor is counted two addresses where the
// online_agent is counted one (a83e9a4 counted one for both).
func TestReview24TextScalarPlusEmailCountedTwice(t *testing.T) {
	e := engine(t, config.Route{Scan: "all"}, nil)
	in := `"u1+2@example.com"`
	var agent, sup Summary
	if _, err := e.Rewrite(nil, []byte(in), Text, decide(t, "online_agent"), &agent); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Rewrite(nil, []byte(in), Text, decide(t, "supervisor"), &sup); err != nil {
		t.Fatal(err)
	}
	if sup.Total() != 1 || agent.Total() != 1 {
		t.Errorf("%s: supervisor counts %v, online_agent %v; want one e-mail for each", in, sup.Counts, agent.Counts)
	}
}
