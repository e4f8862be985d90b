package session

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Claims are the decoded JSON claims of a token.
type Claims map[string]any

// Values returns the strings found at path in c. A path is either a
// top-level claim name taken literally (so URL-shaped names such as
// "https://example.com/roles" work) or, failing that, dot-separated names
// walking nested objects ("realm_access.roles"). A string yields itself, an
// array yields its string elements; anything else yields nothing.
func (c Claims) Values(path string) []string {
	v, ok := c[path]
	if !ok {
		v, ok = c.walk(path)
	}
	if !ok {
		return nil
	}
	switch v := v.(type) {
	case string:
		if v == "" {
			return nil
		}
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			if s, ok := e.(string); ok && s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// String returns the single string at path, or "" when there is none or
// the claim holds several values.
func (c Claims) String(path string) string {
	if vs := c.Values(path); len(vs) == 1 {
		return vs[0]
	}
	return ""
}

func (c Claims) walk(path string) (any, bool) {
	var cur any = map[string]any(c)
	for part := range strings.SplitSeq(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// RoleMap maps the provider's values (groups, roles, scopes) to gateway
// role names. A gateway role may come from several provider values, and one
// provider value may grant several gateway roles.
type RoleMap map[string][]string

// NewRoleMap builds a RoleMap from gateway role → provider values, the
// shape admins write ("role supervisor from cs-supervisors cs-leads").
// Gateway role names must be 1–64 characters of [a-z0-9_-], because they
// travel comma-separated in a placeholder and must mean the same thing to
// pii_mask's policy.
func NewRoleMap(roles map[string][]string) (RoleMap, error) {
	m := RoleMap{}
	for role, from := range roles {
		if err := checkRoleName(role); err != nil {
			return nil, err
		}
		if len(from) == 0 {
			return nil, fmt.Errorf("role %q: no provider value maps to it", role)
		}
		for _, v := range from {
			if v == "" {
				return nil, fmt.Errorf("role %q: empty provider value", role)
			}
			if !slices.Contains(m[v], role) {
				m[v] = append(m[v], role)
			}
		}
	}
	return m, nil
}

func checkRoleName(role string) error {
	if role == "" || len(role) > 64 {
		return fmt.Errorf("role %q: name must be 1–64 characters", role)
	}
	for _, r := range role {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return fmt.Errorf("role %q: name may only hold a-z, 0-9, '_' and '-'", role)
		}
	}
	return nil
}

// Map returns the sorted, distinct gateway roles granted by values. Values
// that map to nothing are ignored: an agent with no mapped role gets no
// role, and pii_mask's default deny takes it from there.
func (m RoleMap) Map(values []string) []string {
	var out []string
	for _, v := range values {
		for _, r := range m[v] {
			if !slices.Contains(out, r) {
				out = append(out, r)
			}
		}
	}
	slices.Sort(out)
	return out
}

// ClaimMapping says which claims carry an agent's identity and roles.
type ClaimMapping struct {
	// UserID is the claim path of the stable user id; "sub" when empty.
	UserID string
	// Name is the claim path of the display name; "name" when empty.
	Name string
	// Email is the claim path of the e-mail address; "email" when empty.
	Email string
	// Roles is the claim path of the provider values mapped by RoleMap.
	Roles string
	// RoleMap turns provider values into gateway roles.
	RoleMap RoleMap
}

// Identity is who an authenticated request comes from, in gateway terms.
type Identity struct {
	// ID is the stable user id (the subject unless configured otherwise).
	ID string
	// Name is the display name, possibly empty.
	Name string
	// Email is the e-mail address, possibly empty.
	Email string
	// Roles are the gateway roles, sorted; empty for an agent with no
	// mapped role.
	Roles []string
}

// Identity extracts an Identity from claims. A missing or non-string user
// id is an error: every flow must name the agent.
func (cm ClaimMapping) Identity(c Claims) (Identity, error) {
	idPath := cmp.Or(cm.UserID, "sub")
	id := c.String(idPath)
	if id == "" {
		return Identity{}, fmt.Errorf("claim %q: no user id in the token", idPath)
	}
	return Identity{
		ID:    id,
		Name:  c.String(cmp.Or(cm.Name, "name")),
		Email: c.String(cmp.Or(cm.Email, "email")),
		Roles: cm.RoleMap.Map(c.Values(cm.Roles)),
	}, nil
}
