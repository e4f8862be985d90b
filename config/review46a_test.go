package config

import (
	"testing"
)

// Review 46a: the forty-fifth review's configuration fixes, for
// regressions. Run with
//
//	go test ./config -run TestReview46a -count 1

// Finding 1 (valid configuration refused, low-medium): CompileRoute (and
// the Caddyfile adapter, caddymodule/review46a_test.go) now refuse a typed
// field rule on a container together with a typed rule on a path inside
// it — `field data.address address` and `field data.address.contactPhone
// cn_mobile` — "can reach the same value with different types: the first
// would win". PathsOverlap (route.go) compares only the common prefix of
// the two paths (`for i := 0; i < len(a) && i < len(b)`), so any prefix
// counts as an overlap. But the first does not win there: the rewrite
// engine ranks a rule that types the value itself (prioField) above the
// type a container's rule passes down (prioFieldInherit; walk.go
// child: `if r.prio() == prioField && cs.prio() < prioField`), whatever
// the rules' order. The nested pair is therefore deterministic — the inner
// rule specialises the container's type ("everything under address is an
// address, but its contactPhone is a mobile") — and the refusal's
// explanation is wrong. Only rules that end at the same depth are decided
// by configuration order (ruleSlot), and those are the real ambiguity.
// Expected: typed rules of different lengths whose shorter path is a
// prefix of the longer are accepted (or at least not refused as "the
// first would win"); rules of the same length that can match the same
// value stay refused.
func TestReview46aContainerAndInnerRuleAccepted(t *testing.T) {
	for _, fields := range [][]Field{
		{{Path: "data.address", Type: "address"}, {Path: "data.address.contactPhone", Type: "cn_mobile"}},
		{{Path: "data.address.contactPhone", Type: "cn_mobile"}, {Path: "data.address", Type: "address"}},
		{{Path: "data.#.emergencyContact", Type: "person_name"}, {Path: "data.#.emergencyContact.mobile", Type: "cn_mobile"}},
	} {
		if _, err := CompileRoute(Route{Fields: fields, Scan: "off"}); err != nil {
			t.Errorf("field %s %s and field %s %s (a container and a path inside it, the inner rule ranks above the container's type whatever the order): %v",
				fields[0].Path, fields[0].Type, fields[1].Path, fields[1].Type, err)
		}
	}
	// Still refused: the same depth, where the order decides.
	if _, err := CompileRoute(Route{Fields: []Field{{Path: "contact.*", Type: "email"}, {Path: "contact.name", Type: "person_name"}}}); err == nil {
		t.Error("contact.* email and contact.name person_name (same depth, first wins) accepted")
	}
}
