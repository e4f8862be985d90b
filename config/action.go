// Package config decides who may see what: roles, the action each role gets
// for each entity type, route and field rules, defaults, and their
// compilation into a decision table fast enough to consult per value. It is
// the parse-independent model behind the pii app and the pii_mask handler;
// the Caddyfile and Caddy JSON are adapters onto it. It does not import Caddy.
package config

import "fmt"

// Action is what an agent receives in place of a value.
type Action uint8

// The actions, from the most revealing to the least. The order matters:
// when an agent holds several roles, Combine picks along it.
const (
	Unset    Action = iota // no rule: the default applies
	Plain                  // the value unchanged
	Mask                   // partly hidden, format-aware: 138****5678
	Tokenize               // an opaque, reversible token (the token key set decides the form)
	Hash                   // a keyed HMAC pseudonym: joins without the value
	Redact                 // a placeholder naming the type: [cn_mobile]
	Drop                   // the field removed
	numActions
)

var actionNames = [numActions]string{"unset", "plain", "mask", "tokenize", "hash", "redact", "drop"}

// String returns the action's configuration name.
func (a Action) String() string {
	if a < numActions {
		return actionNames[a]
	}
	return fmt.Sprintf("action(%d)", uint8(a))
}

// ParseAction returns the action called name.
func ParseAction(name string) (Action, error) {
	for a := Plain; a < numActions; a++ {
		if actionNames[a] == name {
			return a, nil
		}
	}
	return Unset, fmt.Errorf("unknown action %q (want plain, mask, tokenize, hash, redact or drop)", name)
}

// Actions lists the actions in order, most revealing first.
func Actions() []Action {
	return []Action{Plain, Mask, Tokenize, Hash, Redact, Drop}
}

// MarshalText implements encoding.TextMarshaler.
func (a Action) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (a *Action) UnmarshalText(b []byte) error {
	v, err := ParseAction(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}
