package rewrite

import (
	"strings"
	"testing"

	"github.com/piigate/piigate/config"
)

// TestJSONP: a callback's call (JSONP) is recognised by Sniff and its
// argument rewritten as JSON, so field rules and key names apply to it;
// the call around it is kept as it was.
func TestJSONP(t *testing.T) {
	e := engine(t, config.Route{Fields: []config.Field{{Path: "data.#.name", Type: "person_name"}}, Scan: "off"}, nil)
	const arg = `{"data":[{"name":"张三","mobile":"` + mobile + `"}]}`
	const view = `{"data":[{"name":"张*","mobile":"` + mobile + `"}]}`
	for _, wrap := range []struct{ pre, post string }{
		{"cb(", ")"},
		{"cb(", ");"},
		{"cb(", ");\n"},
		{"\uFEFF cb ( ", " ) ; "},
		{"/**/ typeof cb === 'function' && cb(", ");"}, // Express's res.jsonp
		{`typeof jQuery1_2.cb=="function"&&jQuery1_2.cb(`, ")"},
		{"/**/\nwindow.$cb_9(", "); /**/"},
	} {
		in := wrap.pre + arg + wrap.post
		if f := Sniff([]byte(in)); f != JSONP {
			t.Errorf("Sniff(%q) = %v, want JSONP", in, f)
			continue
		}
		if got, _ := rewrite(t, e, "online_agent", in, JSONP); got != wrap.pre+view+wrap.post {
			t.Errorf("%q\n got %q\nwant %q", in, got, wrap.pre+view+wrap.post)
		}
	}
	// An array argument, and one under key names.
	names := engine(t, config.Route{Scan: "names"}, nil)
	if got, _ := rewrite(t, names, "online_agent", `cb([{"name":"张三"}])`, JSONP); got != `cb([{"name":"张*"}])` {
		t.Errorf("array under key names: %q", got)
	}

	// Names that are no JavaScript identifiers but what Express or Spring
	// let through of a client's ?callback= (a[0], cb., 0): calls all the
	// same, their argument read as JSON.
	for _, name := range []string{"1cb", "cb.", "a[0]", "0"} {
		if f := Sniff([]byte(name + `(` + arg + `)`)); f != JSONP {
			t.Errorf("Sniff(%q(…)) = %v, want JSONP", name, f)
		}
	}

	// Not calls of one JSON object or array: text.
	for _, in := range []string{
		`cb("张三")`,
		`cb(` + arg + `) + 1`,
		`var data = ` + arg + `;`,
		`cb(` + arg,
		`typeof cb === 'object' && cb(` + arg + `)`,
		`typeof cb === 'function' cb(` + arg + `)`,
		`/* "unpaired */ cb(` + arg + `)`,
		// A comment with something in it: the text is content-scanned.
		`/* customer 13812345678 */ cb(` + arg + `);`,
		`cb(` + arg + `); /* zhang.san@example.com */`,
		`(` + arg + `)`,
	} {
		if f := Sniff([]byte(in)); f != Text {
			t.Errorf("Sniff(%q) = %v, want Text", in, f)
		}
	}
	// A call whose argument is not JSON is an error, as malformed JSON is
	// (the gateway then reads it as text).
	for _, in := range []string{`cb({"name":"张三",})`, `cb({"a":1} {"b":2})`, `cb({"name":"张三"}`} {
		var sum Summary
		if _, err := e.Rewrite(nil, []byte(in), JSONP, decide(t, "online_agent"), &sum); err == nil {
			t.Errorf("Rewrite(%q, JSONP): no error", in)
		}
	}
	// An unchanged call passes as it is.
	if got, sum := rewrite(t, e, "supervisor", "cb("+arg+");", JSONP); got != "cb("+arg+");" || sum.Changed {
		t.Errorf("supervisor: %q", got)
	}
	if strings.Contains(view, "张三") {
		t.Fatal("fixture")
	}
}
