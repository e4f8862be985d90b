package config

import (
	"testing"

	"github.com/piigate/piigate/detectors"
)

// Finding (privilege escalation, medium): under `combine least_revealing`
// a role the policy does not define restricts nothing. README: "with
// least_revealing every role restricts and the least revealing wins", and
// under "Default deny": "A role without a rule for a type (and without *)
// gets redact for it". An undefined role is a role with no rule at all, so
// alongside a known role it should pull every type down to redact. Decide
// (policy.go, the `if !ok || … { continue }` in the loop) skips it instead,
// so an agent holding `supervisor,contractor` — contractor mapped by
// pii_oidc or an IdP group but not (yet) written in the pii block, or a
// token mangled by role-string parsing — gets the supervisor's plain view.
// Under most_revealing skipping is the safe reading (an unknown role grants
// nothing), under least_revealing it is the unsafe one.
// Expected: under least_revealing an unknown role token acts as a role
// with redact for every type (or, equivalently, the agent is treated as
// the least revealing outcome, redact).
func TestReview45bLeastRevealingUnknownRoleRestricts(t *testing.T) {
	tbl, err := Compile(Policy{Combine: LeastRevealing, Roles: map[string]RoleRules{
		"supervisor": {"*": "plain"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	var d Decision
	tbl.Decide("supervisor,contractor", &d)
	if got := d.Action(detectors.CNMobile); got == Plain {
		t.Errorf("least_revealing, roles supervisor,contractor (contractor undefined): cn_mobile %v; the undefined role restricts nothing, want redact", got)
	}
}
