package config

import (
	"testing"

	"github.com/piigate/piigate/detectors"
)

// A route's `role` block overrides the pii app's role "rule by rule: a
// type o does not mention keeps t's action" (Table.Override), and `*` is
// "every entity type without a rule of its own" (Wildcard). An override
// that only says `* mask` does not mention bank_card, and in the merged
// rules bank_card has a rule of its own (the app's `bank_card drop`): it
// must stay dropped. Override fills the override's `*` over every type
// instead, so the app's explicit drop becomes mask and the route reveals
// the card's IIN and last four digits, which the policy never allowed.
func TestReview15cOverrideWildcardKeepsBaseTypeRules(t *testing.T) {
	tbl, err := Compile(Policy{Roles: map[string]RoleRules{
		"online_agent": {"bank_card": "drop", "address": "redact", "*": "redact"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	o, err := tbl.Override(map[string]RoleRules{"online_agent": {"*": "mask"}})
	if err != nil {
		t.Fatal(err)
	}
	var d Decision
	o.Decide("online_agent", &d)
	if got := d.Action(detectors.BankCard); got != Drop {
		t.Errorf("bank_card after an override of `*` only: %v, want drop (the app's own bank_card rule, which the override does not mention)", got)
	}
	if got := d.Action(detectors.Email); got != Mask {
		t.Errorf("email (no rule of its own, the override's `*` applies): %v, want mask", got)
	}
}

// A route override may only name entity types the policy defines: Compile
// refuses an undefined custom type for the app's roles ("is not defined
// (define it with custom …)"), and Override means to as well. But
// Override's check is `int(typ) < t.width`, and custom type ids are
// interned process-wide in the order names are first parsed (a Caddyfile
// parsed earlier, a config reloaded earlier, `custom:` in another route).
// A misspelt custom type parsed before the defined one gets a lower id and
// passes: `role supervisor { custom:employe_no redact }` (meant to hide
// employee numbers on this route) is accepted and restricts nothing.
func TestReview15cOverrideUndefinedCustomType(t *testing.T) {
	// Parsed first, as a previous configuration or another route would.
	if _, err := detectors.ParseType("custom:review15c_employe_no"); err != nil {
		t.Fatal(err)
	}
	tbl, err := Compile(Policy{
		Roles:  map[string]RoleRules{"supervisor": {"*": "plain"}},
		Custom: map[string]CustomType{"custom:review15c_employee_no": {Pattern: `E\d{6}`}},
	})
	if err != nil {
		t.Fatal(err)
	}
	// The same rule for an app role is refused:
	if _, err := Compile(Policy{
		Roles:  map[string]RoleRules{"supervisor": {"*": "plain", "custom:review15c_employe_no": "redact"}},
		Custom: map[string]CustomType{"custom:review15c_employee_no": {Pattern: `E\d{6}`}},
	}); err == nil {
		t.Fatal("Compile accepted an undefined custom type")
	}
	if _, err := tbl.Override(map[string]RoleRules{"supervisor": {"custom:review15c_employe_no": "redact"}}); err == nil {
		emp, _ := detectors.ParseType("custom:review15c_employee_no")
		o, _ := tbl.Override(map[string]RoleRules{"supervisor": {"custom:review15c_employe_no": "redact"}})
		var d Decision
		o.Decide("supervisor", &d)
		t.Errorf("a route override naming the undefined custom:review15c_employe_no was accepted; the defined custom:review15c_employee_no stays %v", d.Action(emp))
	}
}
