package caddymodule

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/piigate/piigate/config"
)

func init() {
	caddy.RegisterModule(App{})
}

// App (module `pii`, Caddyfile global option `pii`) holds the policy that
// every pii_mask handler applies: the gateway roles and what each may see
// of each entity type, mask formats, custom entity types and the key of
// the hash action.
//
// Default deny: a role without a rule for a type, and without `*`, gets
// redact for it; an agent with no role the policy knows gets redact for
// everything, or 403 with `unknown_role deny`.
type App struct {
	// Roles maps a gateway role to its rules: an entity type name (or `*`
	// for all other types) to an action: plain, mask, tokenize, hash,
	// redact or drop.
	Roles map[string]config.RoleRules `json:"roles,omitempty"`

	// UnknownRole is what an agent without a known role gets: `redact`
	// (default) or `deny` (403).
	UnknownRole string `json:"unknown_role,omitempty"`

	// Combine decides between the rules of an agent's several roles:
	// `most_revealing` (default: roles grant) or `least_revealing` (roles
	// restrict). Actions rank plain, mask, tokenize, hash, redact, drop.
	Combine string `json:"combine,omitempty"`

	// Masks overrides how mask shows a type: significant characters kept
	// at the start and the end. No mask shows more than half of a value,
	// except the national conventions for mobiles (3+4), resident IDs
	// (6+4) and card numbers (6+4) that are the defaults.
	Masks map[string]config.MaskSpec `json:"masks,omitempty"`

	// Custom defines entity types, keyed `custom:<name>`, found by a
	// regular expression and optionally a built-in validator.
	Custom map[string]config.CustomType `json:"custom,omitempty"`

	// HashKey keys the hash action (HMAC-SHA256): at least 32 bytes, given
	// in base64 or as text, normally a placeholder such as
	// `{env.PII_HASH_KEY}`. Required when a role uses hash.
	HashKey string `json:"hash_key,omitempty"`

	table   *config.Table
	hashKey []byte
	logger  *zap.Logger

	identity *identityRegistry
}

// identityRegistry holds the headers gateway handlers (pii_oidc) set on
// requests to the upstream.
type identityRegistry struct {
	mu    sync.Mutex
	names map[string]bool
	list  atomic.Value // []string, sorted: read per request without locking
}

// CaddyModule returns the Caddy module information.
func (App) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "pii",
		New: func() caddy.Module { return new(App) },
	}
}

// Provision compiles the policy.
func (a *App) Provision(ctx caddy.Context) error {
	a.logger = ctx.Logger()
	if err := a.compile(); err != nil {
		return err
	}
	if a.table.Uses(config.Tokenize) {
		a.logger.Warn("tokenize has no token key set in this build; tokenized values are redacted until one is configured")
	}
	return nil
}

// compile builds the decision table and reads the hash key.
func (a *App) compile() error {
	a.identity = &identityRegistry{names: map[string]bool{}}
	for name, ct := range a.Custom {
		if placeholderIn(ct.Pattern) {
			return fmt.Errorf("pii: custom %s: a placeholder in a pattern is not read, its text would be matched (%s)", name, ct.Pattern)
		}
	}
	t, err := config.Compile(a.policy())
	if err != nil {
		return fmt.Errorf("pii: %w", err)
	}
	a.table = t
	if a.HashKey != "" {
		resolved, err := caddy.NewReplacer().ReplaceOrErr(a.HashKey, true, true)
		if err != nil {
			// A mistyped placeholder ({evn.…}) would otherwise be the
			// key itself: text printed in the configuration.
			return fmt.Errorf("pii: hash_key: %w", err)
		}
		key, err := parseKey(resolved)
		if err != nil {
			return fmt.Errorf("pii: hash_key: %w", err)
		}
		a.hashKey = key
	}
	if t.Uses(config.Hash) && a.hashKey == nil {
		return fmt.Errorf("pii: a role uses hash, which needs hash_key (32 random bytes, e.g. {env.PII_HASH_KEY})")
	}
	return nil
}

func (a *App) policy() config.Policy {
	return config.Policy{Roles: a.Roles, UnknownRole: a.UnknownRole, Combine: a.Combine, Masks: a.Masks, Custom: a.Custom}
}

// Validate is done by Provision, which compiles the policy.
func (a *App) Validate() error { return nil }

// Start implements caddy.App.
func (a *App) Start() error { return nil }

// Stop implements caddy.App.
func (a *App) Stop() error { return nil }

// Table returns the compiled policy.
func (a *App) Table() *config.Table { return a.table }

// registerIdentityHeader records a header that a gateway handler (pii_oidc)
// sets on requests to the upstream, so that pii_mask removes it from
// requests that no such handler vouched for.
func (a *App) registerIdentityHeader(name string) {
	a.identity.mu.Lock()
	defer a.identity.mu.Unlock()
	a.identity.names[http.CanonicalHeaderKey(name)] = true
	hs := make([]string, 0, len(a.identity.names))
	for h := range a.identity.names {
		hs = append(hs, h)
	}
	sort.Strings(hs)
	a.identity.list.Store(hs)
}

// identityHeaders returns the registered identity headers, sorted.
func (a *App) identityHeaders() []string {
	hs, _ := a.identity.list.Load().([]string)
	return hs
}

// parseKey reads a secret key given in base64 or as text; either way it
// must hold at least 32 bytes.
func parseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) >= 32 {
			return b, nil
		}
	}
	if len(s) >= 32 {
		return []byte(s), nil
	}
	if s == "" {
		return nil, fmt.Errorf("empty (is the environment variable set?)")
	}
	return nil, fmt.Errorf("too short: need at least 32 bytes")
}

// Interface guards
var (
	_ caddy.App         = (*App)(nil)
	_ caddy.Provisioner = (*App)(nil)
	_ caddy.Validator   = (*App)(nil)
)
