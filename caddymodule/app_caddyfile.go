package caddymodule

import (
	"encoding/json"
	"fmt"
	"github.com/caddyserver/caddy/v2"
	"path"
	"strconv"
	"strings"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"

	"github.com/piigate/piigate/config"
	"github.com/piigate/piigate/detectors"
)

func init() {
	httpcaddyfile.RegisterGlobalOption("pii", parseGlobalPII)
}

// parseGlobalPII sets up the pii app from the global option:
//
//	pii {
//		role <name> {
//			<entity_type>|* <action>
//		}
//		unknown_role redact|deny
//		combine most_revealing|least_revealing
//		mask <entity_type> <keep_first> <keep_last>
//		custom <name> <regexp> [<validator>]
//		hash_key <key>
//	}
func parseGlobalPII(d *caddyfile.Dispenser, existing any) (any, error) {
	app := new(App)
	if existing != nil {
		d.Next() // the option's name, for the error's line
		return nil, d.Err("the pii global option may appear only once")
	}
	if err := app.UnmarshalCaddyfile(d); err != nil {
		return nil, err
	}
	return httpcaddyfile.App{Name: "pii", Value: caddyconfig.JSON(app, nil)}, nil
}

// UnmarshalCaddyfile reads the pii global option.
func (a *App) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // option name
	if d.NextArg() {
		return d.ArgErr()
	}
	once := onceCheck{}
	var refs []ruleRef
	roleAt := map[string]string{}
	prev := ""
	for d.NextBlock(0) {
		if d.Val() == "{" {
			return d.Errf("pii: %s takes no block", prev)
		}
		prev = d.Val()
		switch d.Val() {
		case "unknown_role", "combine", "hash_key":
			if err := once.check(d); err != nil {
				return err
			}
		}
		switch d.Val() {
		case "role":
			at := fileLine(d)
			name, rules, rr, err := parseRoleBlock(d)
			if err != nil {
				return err
			}
			refs = append(refs, rr...)
			if a.Roles == nil {
				a.Roles = map[string]config.RoleRules{}
			}
			if _, dup := a.Roles[name]; dup {
				return fmt.Errorf("role %q defined twice (first at %s), at %s", name, roleAt[name], at)
			}
			a.Roles[name] = rules
			roleAt[name] = at
		case "unknown_role":
			v, err := oneOf(d, config.UnknownRedact, config.UnknownDeny)
			if err != nil {
				return err
			}
			a.UnknownRole = v
		case "combine":
			v, err := oneOf(d, config.MostRevealing, config.LeastRevealing)
			if err != nil {
				return err
			}
			a.Combine = v
		case "mask":
			file, line := d.File(), d.Line()
			args := d.RemainingArgs()
			if len(args) != 3 {
				return d.Errf("mask: want <entity_type> <keep_first> <keep_last>, got %d arguments", len(args))
			}
			if _, err := detectors.ParseType(args[0]); err != nil {
				return d.Errf("mask: %v", err)
			}
			first, err1 := strconv.Atoi(args[1])
			last, err2 := strconv.Atoi(args[2])
			if err1 != nil || err2 != nil || first < 0 || last < 0 {
				return d.Errf("mask %s: keep counts must be whole numbers ≥ 0, got %q %q", args[0], args[1], args[2])
			}
			if a.Masks == nil {
				a.Masks = map[string]config.MaskSpec{}
			}
			if _, dup := a.Masks[args[0]]; dup {
				return d.Errf("mask %s given twice", args[0])
			}
			a.Masks[args[0]] = config.MaskSpec{KeepFirst: first, KeepLast: last}
			refs = append(refs, ruleRef{typ: args[0], where: "mask", file: file, line: line})
		case "custom":
			args := d.RemainingArgs()
			if len(args) < 2 || len(args) > 3 {
				return d.Errf("custom: want <name> <regexp> [<validator>]")
			}
			name := args[0]
			if !strings.HasPrefix(name, detectors.CustomPrefix) {
				name = detectors.CustomPrefix + name
			}
			if _, err := detectors.ParseType(name); err != nil {
				return d.Errf("custom: %v", err)
			}
			if placeholderIn(args[1]) {
				return d.Errf("custom %s: a placeholder in a pattern is not read, its text would be matched ({env.…}); write the pattern, or {$VAR} to take it from the environment when the Caddyfile is read", name)
			}
			ct := config.CustomType{Pattern: args[1]}
			if len(args) == 3 {
				if _, ok := detectors.LookupValidator(args[2]); !ok {
					return d.Errf("custom %s: unknown validator %q (known: %s)", name, args[2], strings.Join(detectors.ValidatorNames(), ", "))
				}
				ct.Validator = args[2]
			}
			if _, err := detectors.NewScanner(detectors.Options{Custom: []detectors.CustomDetector{{Type: mustType(name), Pattern: ct.Pattern, Validator: ct.Validator}}}); err != nil {
				return d.Errf("custom %s: %v", name, err)
			}
			if a.Custom == nil {
				a.Custom = map[string]config.CustomType{}
			}
			if _, dup := a.Custom[name]; dup {
				return d.Errf("custom %s defined twice", name)
			}
			a.Custom[name] = ct
		case "hash_key":
			v, err := oneArg(d)
			if err != nil {
				return err
			}
			if !strings.Contains(v, "{") {
				// A literal key (not a placeholder, read at start): checked
				// here, where the line is known.
				if _, err := parseKey(v); err != nil {
					return d.Errf("hash_key: %v", err)
				}
			} else if _, err := caddy.NewReplacer().ReplaceOrErr(v, false, true); err != nil {
				// A placeholder no global provider knows ({evn.…}): its
				// text would be the key. (Its value is read at start.)
				return d.Errf("hash_key: %v (a literal brace is written \\{)", err)
			}
			a.HashKey = v
		default:
			return d.Errf("pii: unknown subdirective %q (want role, unknown_role, combine, mask, custom or hash_key)", d.Val())
		}
	}
	// What a rule refers to, checked now that the block is read (a custom
	// type may be defined after a role that uses it), at the rule's line.
	if err := checkRefs(refs, a.Custom, a.HashKey != ""); err != nil {
		return err
	}
	if _, err := config.Compile(a.policy()); err != nil {
		return d.Errf("pii: %v", err)
	}
	return nil
}

// ruleRef is a role's rule, with its line, for the checks that need the
// whole configuration.
type ruleRef struct {
	role, typ, action string
	// where is what names the type when it is not a role's rule
	// ("field data.emp", "mask").
	where string
	file  string // the file the rule is in (an import's own)
	line  int
}

// checkRefs checks that the rules name only defined custom types and use
// hash only with a hash_key.
func checkRefs(refs []ruleRef, custom map[string]config.CustomType, hashKey bool) error {
	for _, r := range refs {
		if strings.HasPrefix(r.typ, detectors.CustomPrefix) && custom[r.typ].Pattern == "" {
			where := "role " + r.role
			if r.where != "" {
				where = r.where
			}
			return errAt(r, "%s: entity type %q is not defined (define it with custom %s <regex> in the pii global option)", where, r.typ,
				strings.TrimPrefix(r.typ, detectors.CustomPrefix))
		}
		if r.action == "hash" && !hashKey {
			return errAt(r, "role %s: %s hash needs hash_key in the pii global option (e.g. hash_key {env.PII_HASH_KEY})", r.role, r.typ)
		}
	}
	return nil
}

// errAt is Dispenser.Errf for the rule r, read earlier.
func errAt(r ruleRef, format string, args ...any) error {
	return fmt.Errorf("%s, at %s:%d", fmt.Sprintf(format, args...), r.file, r.line)
}

// onceCheck refuses a subdirective given twice in one block: the second
// would silently replace the first.
type onceCheck map[string]string

func (o onceCheck) check(d *caddyfile.Dispenser) error {
	if at, dup := o[d.Val()]; dup {
		return d.Errf("%s given twice (first at %s)", d.Val(), at)
	}
	o[d.Val()] = fileLine(d)
	return nil
}

// placeholderIn reports whether s holds a placeholder of Caddy's global
// namespaces ({env.…}, {file.…}, {system.…}, {time.…}), which a regular
// expression's braces never start.
func placeholderIn(s string) bool {
	for _, ns := range []string{"{env.", "{file.", "{system.", "{time."} {
		if strings.Contains(s, ns) {
			return true
		}
	}
	return false
}

// fileLine is where the dispenser stands, as file:line.
func fileLine(d *caddyfile.Dispenser) string { return fmt.Sprintf("%s:%d", d.File(), d.Line()) }

// appFromOptions returns the pii app the global options configure, or nil.
func appFromOptions(h httpcaddyfile.Helper) (*App, error) {
	v, ok := h.Option("pii").(httpcaddyfile.App)
	if !ok {
		return nil, nil
	}
	a := new(App)
	if err := json.Unmarshal(v.Value, a); err != nil {
		return nil, err
	}
	return a, nil
}

// validPattern reports whether p is a pattern path.Match accepts.
func validPattern(p string) bool {
	_, err := path.Match(p, "")
	return err == nil
}

// oneArg reads the single argument of the current subdirective.
func oneArg(d *caddyfile.Dispenser) (string, error) {
	if !d.NextArg() {
		return "", d.ArgErr()
	}
	v := d.Val()
	if d.NextArg() {
		return "", d.ArgErr()
	}
	return v, nil
}

// oneOf reads a single argument that must be one of choices.
func oneOf(d *caddyfile.Dispenser, choices ...string) (string, error) {
	name := d.Val()
	v, err := oneArg(d)
	if err != nil {
		return "", err
	}
	for _, c := range choices {
		if v == c {
			return v, nil
		}
	}
	return "", d.Errf("%s %q: want %s", name, v, strings.Join(choices, " or "))
}

func mustType(name string) detectors.Type {
	t, _ := detectors.ParseType(name)
	return t
}

// parseRoleBlock reads `role <name> { <type> <action> … }`.
func parseRoleBlock(d *caddyfile.Dispenser) (string, config.RoleRules, []ruleRef, error) {
	if !d.NextArg() {
		return "", nil, nil, d.ArgErr()
	}
	name := d.Val()
	if err := config.CheckRoleName(name); err != nil {
		return "", nil, nil, d.Err(err.Error())
	}
	if d.NextArg() {
		return "", nil, nil, d.ArgErr()
	}
	rules := config.RoleRules{}
	var refs []ruleRef
	prev := ""
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		typ := d.Val()
		if typ == "{" {
			return "", nil, nil, d.Errf("role %s: a rule (%s) takes no block", name, prev)
		}
		prev = typ
		if typ != config.Wildcard {
			if _, err := detectors.ParseType(typ); err != nil {
				return "", nil, nil, d.Errf("role %s: %v", name, err)
			}
		}
		if !d.NextArg() {
			return "", nil, nil, d.Errf("role %s: %s: missing action (plain, mask, tokenize, hash, redact or drop)", name, typ)
		}
		if _, err := config.ParseAction(d.Val()); err != nil {
			return "", nil, nil, d.Errf("role %s: %s: %v", name, typ, err)
		}
		if _, dup := rules[typ]; dup {
			return "", nil, nil, d.Errf("role %s: %s has two rules", name, typ)
		}
		rules[typ] = d.Val()
		refs = append(refs, ruleRef{role: name, typ: typ, action: d.Val(), file: d.File(), line: d.Line()})
		if d.NextArg() {
			return "", nil, nil, d.Errf("role %s: %s: one action only, got also %q", name, typ, d.Val())
		}
	}
	return name, rules, refs, nil
}

// Interface guard
var _ caddyfile.Unmarshaler = (*App)(nil)
