package config

import (
	"strings"
	"testing"

	"github.com/piigate/piigate/detectors"
)

var policy = Policy{
	Roles: map[string]RoleRules{
		"online_agent": {"cn_mobile": "mask", "email": "hash", "*": "redact"},
		"supervisor":   {"*": "plain"},
		"phone_agent":  {"cn_mobile": "plain", "email": "drop"},
	},
}

func decide(t *testing.T, p Policy, roles string) *Decision {
	t.Helper()
	tbl, err := Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	var d Decision
	tbl.Decide(roles, &d)
	return &d
}

func TestDecide(t *testing.T) {
	cases := []struct {
		roles         string
		mobile, email Action
		other         Action
		unknown       bool
	}{
		{"online_agent", Mask, Hash, Redact, false},
		{"supervisor", Plain, Plain, Plain, false},
		{"phone_agent", Plain, Drop, Redact, false}, // no "*": default deny
		{"online_agent,phone_agent", Plain, Hash, Redact, false},
		{"phone_agent online_agent", Plain, Hash, Redact, false},
		{"online_agent, intruder", Mask, Hash, Redact, false},
		{"intruder", Redact, Redact, Redact, true},
		{"", Redact, Redact, Redact, true},
		{"Supervisor", Redact, Redact, Redact, true}, // role names are exact
	}
	for _, c := range cases {
		d := decide(t, policy, c.roles)
		if got := [3]Action{d.Action(detectors.CNMobile), d.Action(detectors.Email), d.Action(detectors.IBAN)}; got != [3]Action{c.mobile, c.email, c.other} || d.Unknown != c.unknown {
			t.Errorf("%q: got %v unknown=%v, want %v %v %v unknown=%v", c.roles, got, d.Unknown, c.mobile, c.email, c.other, c.unknown)
		}
	}
	strict := policy
	strict.Combine = LeastRevealing
	d := decide(t, strict, "online_agent,phone_agent")
	if d.Action(detectors.CNMobile) != Mask || d.Action(detectors.Email) != Drop {
		t.Errorf("least_revealing: mobile %v email %v", d.Action(detectors.CNMobile), d.Action(detectors.Email))
	}
	deny := policy
	deny.UnknownRole = UnknownDeny
	if d := decide(t, deny, "intruder"); !d.Deny {
		t.Error("unknown_role deny should deny an agent without a known role")
	}
	if d := decide(t, deny, "supervisor"); d.Deny {
		t.Error("a known role must not be denied")
	}
}

func TestCompileErrors(t *testing.T) {
	for _, c := range []struct {
		p    Policy
		want string
	}{
		{Policy{Roles: map[string]RoleRules{"a": {"phone": "mask"}}}, `role "a": unknown entity type "phone"`},
		{Policy{Roles: map[string]RoleRules{"a": {"cn_mobile": "show"}}}, `role "a": cn_mobile: unknown action "show"`},
		{Policy{Roles: map[string]RoleRules{"a": {"*": "peek"}}}, `role "a": "*": unknown action "peek"`},
		{Policy{Roles: map[string]RoleRules{"a,b": {}}}, `must not contain commas`},
		{Policy{Roles: map[string]RoleRules{"a": {"custom:emp": "mask"}}}, `"custom:emp" is not defined`},
		{Policy{UnknownRole: "maybe"}, `unknown_role "maybe"`},
		{Policy{Combine: "vote"}, `combine "vote"`},
		{Policy{Masks: map[string]MaskSpec{"cn_mobile": {KeepFirst: -1}}}, `must not be negative`},
		{Policy{Custom: map[string]CustomType{"employee": {Pattern: "x"}}}, `custom type: unknown entity type "employee"`},
		{Policy{Custom: map[string]CustomType{"custom:emp": {Pattern: "("}}}, `pattern`},
		{Policy{Custom: map[string]CustomType{"custom:emp": {Pattern: "x", Validator: "nope"}}}, `unknown validator "nope"`},
	} {
		_, err := Compile(c.p)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Compile(%+v) = %v, want an error containing %q", c.p, err, c.want)
		}
	}
}

func TestCustomTypesAndVersion(t *testing.T) {
	p := Policy{
		Roles:  map[string]RoleRules{"a": {"custom:emp": "mask"}},
		Custom: map[string]CustomType{"custom:emp": {Pattern: `EMP-\d{6}`}},
	}
	tbl, err := Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	emp, _ := detectors.ParseType("custom:emp")
	var d Decision
	tbl.Decide("a", &d)
	if d.Action(emp) != Mask || len(tbl.Custom()) != 1 {
		t.Errorf("custom type action %v, detectors %d", d.Action(emp), len(tbl.Custom()))
	}
	again, _ := Compile(p)
	other, _ := Compile(policy)
	if tbl.Version() != again.Version() || tbl.Version() == other.Version() || len(tbl.Version()) != 12 {
		t.Errorf("versions: %q %q %q", tbl.Version(), again.Version(), other.Version())
	}
}

func TestOverride(t *testing.T) {
	tbl, _ := Compile(policy)
	o, err := tbl.Override(map[string]RoleRules{"online_agent": {"email": "mask"}, "auditor": {"*": "hash"}})
	if err != nil {
		t.Fatal(err)
	}
	var d Decision
	o.Decide("online_agent", &d)
	if d.Action(detectors.Email) != Mask || d.Action(detectors.CNMobile) != Mask || d.Action(detectors.IBAN) != Redact {
		t.Errorf("override should change email only: %v %v %v", d.Action(detectors.Email), d.Action(detectors.CNMobile), d.Action(detectors.IBAN))
	}
	o.Decide("auditor", &d)
	if d.Unknown || d.Action(detectors.CNMobile) != Hash || !o.Uses(Hash) {
		t.Errorf("a role defined by the override: %v", d.Action(detectors.CNMobile))
	}
	tbl.Decide("online_agent", &d)
	if d.Action(detectors.Email) != Hash {
		t.Error("Override must not change the original table")
	}
	if _, err := tbl.Override(map[string]RoleRules{"a": {"phone": "mask"}}); err == nil {
		t.Error("an override with an unknown type should fail")
	}
}

func TestDecideDoesNotAllocate(t *testing.T) {
	tbl, _ := Compile(policy)
	var d Decision
	tbl.Decide("online_agent,phone_agent", &d)
	if n := testing.AllocsPerRun(100, func() { tbl.Decide("online_agent,phone_agent", &d) }); n != 0 {
		t.Errorf("Decide allocated %.0f times per request", n)
	}
}

func TestParsePath(t *testing.T) {
	for _, c := range []struct {
		path  string
		key   []string // keys that match component 1
		nokey []string
		index []int
	}{
		{"data.mobile", []string{"mobile"}, []string{"Mobile", "mobiles"}, nil},
		{"data.3", []string{"3"}, []string{"03"}, []int{3}},
		{"data.mob*", []string{"mob", "mobile"}, []string{"amobile"}, nil},
		{"data.?d", []string{"id", "号d"}, []string{"d", "idd"}, nil},
		{`data.a\.b`, []string{"a.b"}, []string{"a", "ab"}, nil},
		{`data.a\*`, []string{"a*"}, []string{"ab"}, nil},
		{"data.user@host", []string{"user@host"}, nil, nil},
	} {
		p, err := ParsePath(c.path)
		if err != nil {
			t.Errorf("ParsePath(%q): %v", c.path, err)
			continue
		}
		if len(p) != 2 || !p[0].MatchKey("data") {
			t.Errorf("%q: first component", c.path)
		}
		for _, k := range c.key {
			if !p[1].MatchKey(k) {
				t.Errorf("%q should match key %q", c.path, k)
			}
		}
		for _, k := range c.nokey {
			if p[1].MatchKey(k) {
				t.Errorf("%q should not match key %q", c.path, k)
			}
		}
		for _, i := range c.index {
			if !p[1].MatchIndex(i) {
				t.Errorf("%q should match index %d", c.path, i)
			}
		}
		if p.String() != c.path {
			t.Errorf("String() = %q, want %q", p.String(), c.path)
		}
	}
	if p, err := ParsePath("data.#.x"); err != nil || !p[1].AnyIndex || !p[1].MatchIndex(7) || !p[1].MatchKey("#") || p[1].MatchKey("x") {
		t.Errorf("# should match every index and, as gjson, only the key \"#\": %+v %v", p, err)
	}
	for _, bad := range []string{"", "a..b", "a.", "a.#", "a.#(age>1).x", "a|b", "@reverse", "a.!x", `a\`} {
		if _, err := ParsePath(bad); err == nil {
			t.Errorf("ParsePath(%q) should fail", bad)
		}
	}
}

func TestParseNames(t *testing.T) {
	for _, a := range Actions() {
		if got, err := ParseAction(a.String()); err != nil || got != a {
			t.Errorf("ParseAction(%q) = %v, %v", a, got, err)
		}
	}
	if _, err := ParseAction("unset"); err == nil {
		t.Error("unset is not an action an admin may write")
	}
	if m, err := ParseScanMode(""); err != nil || m != ScanNames {
		t.Errorf("default scan mode %v %v", m, err)
	}
	if _, err := CompileRoute(Route{Fields: []Field{{Path: "a", Type: "phone"}}}); err == nil {
		t.Error("a field of an unknown type should fail")
	}
}

func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"data.#.mobile", `a\.b.c*`, "x.?.#.1", "#"} {
		f.Add(s, "key")
	}
	f.Fuzz(func(t *testing.T, path, key string) {
		p, err := ParsePath(path)
		if err != nil {
			return
		}
		for i := range p {
			p[i].MatchKey(key) // must not panic
		}
		if q, err := ParsePath(p.String()); err != nil || q.String() != p.String() {
			t.Fatalf("%q does not round-trip: %q %v", path, p.String(), err)
		}
	})
}
