package config

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode"

	"github.com/piigate/piigate/detectors"
)

// Wildcard stands for every entity type without a rule of its own.
const Wildcard = "*"

// Policy is who may see what: the pii app's part of the configuration.
type Policy struct {
	// Roles maps each gateway role to its rules: entity type name (or "*"
	// for every other type) to action name. A role without a rule for a
	// type, and without "*", gets redact for it.
	Roles map[string]RoleRules `json:"roles,omitempty"`

	// UnknownRole is what an agent gets whose roles are all unknown to the
	// policy, or who has none: "redact" (the default: every value of every
	// type is redacted) or "deny" (403).
	UnknownRole string `json:"unknown_role,omitempty"`

	// Combine says which action wins when an agent's roles disagree:
	// "most_revealing" (the default; roles grant, so a supervisor who is
	// also an online agent sees what a supervisor sees) or "least_revealing"
	// (every role restricts).
	Combine string `json:"combine,omitempty"`

	// Masks overrides the mask of an entity type.
	Masks map[string]MaskSpec `json:"masks,omitempty"`

	// Custom defines admin entity types, keyed by their full name
	// ("custom:employee_no").
	Custom map[string]CustomType `json:"custom,omitempty"`
}

// RoleRules maps an entity type name or "*" to an action name.
type RoleRules map[string]string

// MaskSpec overrides how mask shows a type: the number of significant
// characters (digits, letters; for e-mail, those of the local part) kept at
// the start and at the end. Separators and prefixes such as +86 are kept.
type MaskSpec struct {
	KeepFirst int `json:"keep_first"`
	KeepLast  int `json:"keep_last"`
}

// CustomType is an admin-defined entity type found by a regular expression
// (RE2 syntax), optionally confirmed by a built-in validator.
type CustomType struct {
	Pattern   string `json:"pattern"`
	Validator string `json:"validator,omitempty"`
}

// The values of Policy.UnknownRole and Policy.Combine.
const (
	UnknownRedact  = "redact"
	UnknownDeny    = "deny"
	MostRevealing  = "most_revealing"
	LeastRevealing = "least_revealing"
)

// Table is a compiled Policy: one action vector per role.
type Table struct {
	roles   map[string][]Action
	rules   map[string]RoleRules // each role's rules as written, for Override
	width   int                  // entity types covered by the vectors
	deny    bool
	least   bool
	masks   map[detectors.Type]MaskSpec // overrides; nil when there are none
	custom  []detectors.CustomDetector
	version string
	uses    [numActions]bool
}

// Compile validates p and builds its decision table. Errors name the role,
// the type and the problem.
func Compile(p Policy) (*Table, error) {
	t := &Table{roles: make(map[string][]Action, len(p.Roles)), rules: make(map[string]RoleRules, len(p.Roles))}
	switch p.UnknownRole {
	case "", UnknownRedact:
	case UnknownDeny:
		t.deny = true
	default:
		return nil, fmt.Errorf("unknown_role %q: want %s or %s", p.UnknownRole, UnknownRedact, UnknownDeny)
	}
	switch p.Combine {
	case "", MostRevealing:
	case LeastRevealing:
		t.least = true
	default:
		return nil, fmt.Errorf("combine %q: want %s or %s", p.Combine, MostRevealing, LeastRevealing)
	}

	for _, name := range sortedKeys(p.Custom) {
		ct := p.Custom[name]
		typ, err := detectors.ParseType(name)
		if err != nil {
			return nil, fmt.Errorf("custom type: %w", err)
		}
		if !typ.IsCustom() {
			return nil, fmt.Errorf("custom type %q: name must start with %q", name, detectors.CustomPrefix)
		}
		t.custom = append(t.custom, detectors.CustomDetector{Type: typ, Pattern: ct.Pattern, Validator: ct.Validator})
	}
	if _, err := detectors.NewScanner(detectors.Options{Custom: t.custom}); err != nil {
		return nil, err
	}
	t.width = int(maxType(t.custom)) + 1

	for _, role := range sortedKeys(p.Roles) {
		if err := checkRoleName(role); err != nil {
			return nil, err
		}
		vec := make([]Action, t.width)
		fill(vec, Redact)
		if err := t.apply(vec, role, p.Roles[role], func(typ detectors.Type, name string) bool {
			return !typ.IsCustom() || p.Custom[name].Pattern != ""
		}); err != nil {
			return nil, err
		}
		t.roles[role] = vec
		t.rules[role] = p.Roles[role]
	}

	t.masks = make(map[detectors.Type]MaskSpec, len(p.Masks))
	for _, name := range sortedKeys(p.Masks) {
		typ, err := detectors.ParseType(name)
		if err != nil {
			return nil, fmt.Errorf("mask: %w", err)
		}
		m := p.Masks[name]
		if m.KeepFirst < 0 || m.KeepLast < 0 {
			return nil, fmt.Errorf("mask %s: keep counts must not be negative", name)
		}
		t.masks[typ] = m
	}

	canon, err := json.Marshal(p) // map keys marshal sorted: a stable fingerprint
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(canon)
	t.version = hex.EncodeToString(sum[:6])
	return t, nil
}

// definesCustom reports whether the policy defines the custom type typ.
func (t *Table) definesCustom(typ detectors.Type) bool {
	for _, c := range t.custom {
		if c.Type == typ {
			return true
		}
	}
	return false
}

func maxType(cs []detectors.CustomDetector) detectors.Type {
	m := detectors.BirthDate
	for _, c := range cs {
		if c.Type > m {
			m = c.Type
		}
	}
	return m
}

// CheckRoleName reports whether role may name a role: not empty, without
// the separators of a list of roles, not starting with '('.
func CheckRoleName(role string) error { return checkRoleName(role) }

func checkRoleName(role string) error {
	if role == "" {
		return fmt.Errorf("role name must not be empty")
	}
	for _, r := range role {
		if isRoleSep(r) {
			return fmt.Errorf("role %q: name must not contain commas or spaces (they separate roles)", role)
		}
	}
	if strings.ContainsAny(role, "*{}\"") || strings.IndexFunc(role, unicode.IsControl) >= 0 {
		// * means every type in a role's rules, not every role; braces
		// are a placeholder's, which a site block would expand.
		return fmt.Errorf("role %q: name must not contain *, braces, double quotes or control characters", role)
	}
	if role[0] == '(' {
		// (none) labels the agents without a known role in the metrics.
		return fmt.Errorf("role %q: name must not start with '(' (reserved for labels such as (none))", role)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// apply sets a role's rules on its action vector: "*" first, for every
// type, then each type's own rule. defined says whether a type the rules
// name exists (custom types must be declared).
func (t *Table) apply(vec []Action, role string, rules RoleRules, defined func(detectors.Type, string) bool) error {
	if a, ok := rules[Wildcard]; ok {
		act, err := ParseAction(a)
		if err != nil {
			return fmt.Errorf("role %q: %q: %w", role, Wildcard, err)
		}
		fill(vec, act)
	}
	for _, a := range vec[1:] {
		t.uses[a] = true
	}
	for _, name := range sortedKeys(rules) {
		if name == Wildcard {
			continue
		}
		typ, err := detectors.ParseType(name)
		if err != nil {
			return fmt.Errorf("role %q: %w", role, err)
		}
		if !defined(typ, name) {
			return fmt.Errorf("role %q: entity type %q is not defined (define it with custom %s <regex> in the pii app)", role, name, name)
		}
		act, err := ParseAction(rules[name])
		if err != nil {
			return fmt.Errorf("role %q: %s: %w", role, name, err)
		}
		vec[typ] = act
		t.uses[act] = true
	}
	return nil
}

func fill(vec []Action, a Action) {
	for i := range vec {
		vec[i] = a
	}
}

// Version identifies the policy the table was compiled from; flow records
// carry it so auditors know which rules applied.
func (t *Table) Version() string { return t.version }

// Custom returns the custom detectors the policy defines.
func (t *Table) Custom() []detectors.CustomDetector { return t.custom }

// Defines reports whether the policy defines role.
func (t *Table) Defines(role string) bool {
	_, ok := t.roles[role]
	return ok
}

// Mask returns the mask override for typ, if the policy sets one.
func (t *Table) Mask(typ detectors.Type) (MaskSpec, bool) {
	if len(t.masks) == 0 {
		return MaskSpec{}, false
	}
	m, ok := t.masks[typ]
	return m, ok
}

// Uses reports whether some role is given action a.
func (t *Table) Uses(a Action) bool { return t.uses[a] }

// HasRole reports whether the policy defines role.
func (t *Table) HasRole(role string) bool {
	_, ok := t.roles[role]
	return ok
}

// Override returns a table in which the roles of o replace those of t
// rule by rule, for routes that need other rules than the app's: a type o
// names gets o's action; a type it does not name keeps t's rule for it,
// and o's `*`, when it has one, replaces only t's `*` (the types t names
// keep their own rules).
func (t *Table) Override(o map[string]RoleRules) (*Table, error) {
	if len(o) == 0 {
		return t, nil
	}
	n := *t
	n.roles = make(map[string][]Action, len(t.roles)+len(o))
	for r, v := range t.roles {
		n.roles[r] = v
	}
	n.rules = make(map[string]RoleRules, len(t.rules)+len(o))
	for r, v := range t.rules {
		n.rules[r] = v
	}
	for _, role := range sortedKeys(o) {
		if err := checkRoleName(role); err != nil {
			return nil, err
		}
		// Rule by rule: the override's rules over the role's own, `*`
		// being one rule among them (an override of `*` alone leaves the
		// role's rules for named types as they are).
		merged := make(RoleRules, len(t.rules[role])+len(o[role]))
		for k, v := range t.rules[role] {
			merged[k] = v
		}
		for k, v := range o[role] {
			merged[k] = v
		}
		vec := make([]Action, t.width)
		fill(vec, Redact)
		if err := n.apply(vec, role, merged, func(typ detectors.Type, _ string) bool {
			return !typ.IsCustom() || t.definesCustom(typ)
		}); err != nil {
			return nil, err
		}
		n.roles[role] = vec
		n.rules[role] = merged
	}
	// A route's overrides make another policy: another version, so that
	// flow records tell them apart.
	canon, err := json.Marshal(o)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(append([]byte(t.version+"\x00"), canon...))
	n.version = hex.EncodeToString(sum[:6])
	return &n, nil
}

// Decision is what one agent may see: an action per entity type, from the
// agent's roles.
type Decision struct {
	actions []Action
	// Roles are the agent's roles the policy knows, sorted, each once.
	Roles []string
	// Unknown is set when the agent has no role the policy knows.
	Unknown bool
	// Deny is set when such an agent is to be refused (unknown_role deny).
	Deny bool
}

// Decide resolves the roles in roles (separated by commas or white space)
// into d, reusing its storage.
func (t *Table) Decide(roles string, d *Decision) {
	d.Roles = d.Roles[:0]
	if cap(d.actions) < t.width {
		d.actions = make([]Action, t.width)
	}
	d.actions = d.actions[:t.width]
	for i := range d.actions {
		d.actions[i] = Unset
	}
	restrict := false
	for rest := roles; rest != ""; {
		i := strings.IndexFunc(rest, isRoleSep)
		role := rest
		if i >= 0 {
			role, rest = rest[:i], rest[i+1:]
		} else {
			rest = ""
		}
		vec, ok := t.roles[role]
		if !ok && role != "" && t.least {
			// Under least_revealing every role restricts: one the
			// policy does not define is a role without rules, which
			// redacts everything.
			restrict = true
			continue
		}
		if !ok || slices.Contains(d.Roles, role) {
			continue
		}
		d.Roles = append(d.Roles, role)
		for i, a := range vec {
			cur := d.actions[i]
			if cur == Unset || (!t.least && a < cur) || (t.least && a > cur) {
				d.actions[i] = a
			}
		}
	}
	// One spelling per set of roles (metrics label them, the flow log
	// records them): sorted.
	slices.Sort(d.Roles)
	d.Unknown = len(d.Roles) == 0
	d.Deny = d.Unknown && t.deny
	if d.Unknown {
		for i := range d.actions {
			d.actions[i] = Redact
		}
	} else if restrict {
		for i, a := range d.actions {
			if a < Redact {
				d.actions[i] = Redact
			}
		}
	}
}

func isRoleSep(r rune) bool { return r == ',' || r == ' ' || r == '\t' }

// Action returns the action for entity type typ.
func (d *Decision) Action(typ detectors.Type) Action {
	if int(typ) < len(d.actions) {
		return d.actions[typ]
	}
	return Redact
}
