package config

import "testing"

// Outcome.PolicyVersion (the flow log's policy_version) is the table's
// Version; a route's role overrides leave it as the pii app's, so the
// flow records of a route whose override shows mobiles plain carry the
// same version as those of routes that mask them, before and after the
// override was added.
func TestOverrideChangesPolicyVersion(t *testing.T) {
	base, err := Compile(Policy{Roles: map[string]RoleRules{"online_agent": {"cn_mobile": "mask", "*": "redact"}}})
	if err != nil {
		t.Fatal(err)
	}
	o, err := base.Override(map[string]RoleRules{"online_agent": {"cn_mobile": "plain"}})
	if err != nil {
		t.Fatal(err)
	}
	if o.Version() == base.Version() {
		t.Errorf("override cn_mobile plain: policy version %s, the same as without it", o.Version())
	}
}
