package caddymodule

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/net/http/httpguts"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/dustin/go-humanize"

	"github.com/piigate/piigate/caddymodule/rewrite"
	"github.com/piigate/piigate/config"
	"github.com/piigate/piigate/detectors"
)

func init() {
	httpcaddyfile.RegisterHandlerDirective("pii_mask", parseMask)
	// After encode, so the rewritten body is what encode compresses, and
	// after the authentication directives, whose identity it reads; before
	// the handlers that produce responses.
	httpcaddyfile.RegisterDirectiveOrder("pii_mask", httpcaddyfile.After, "encode")
}

func parseMask(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	m := new(Mask)
	if err := m.UnmarshalCaddyfile(h.Dispenser); err != nil {
		return nil, err
	}
	// A route's role overrides may name only custom types the pii global
	// option defines, and use hash only with its hash_key: checked here,
	// at the rule's line, rather than when Caddy starts.
	app, err := appFromOptions(h)
	if err != nil {
		return nil, err
	}
	if app == nil {
		app = new(App)
	}
	if err := checkRefs(m.refs, app.Custom, app.HashKey != ""); err != nil {
		return nil, err
	}
	if order, ok := h.Option("order").([]string); ok {
		// An order option may put pii_mask after a directive that
		// answers the request or takes it into a block of its own: a
		// pii_mask there never runs for what those answer.
		at := slices.Index(order, "pii_mask")
		for _, dir := range order[:max(at, 0)] {
			if answersOrGroups[dir] {
				return nil, h.Errf("pii_mask: the order global option puts it after %s, which answers requests (or takes them into a block) before pii_mask runs, so what those answer goes out unguarded; remove `order pii_mask …` (pii_mask orders itself after encode, before handle, route and the handlers that answer)", dir)
			}
		}
	}
	for name, at := range m.roleAt {
		if _, ok := app.Roles[name]; !ok {
			return nil, fmt.Errorf("role %s: the pii option defines no such role (a route's role block overrides one of its roles), at %s", name, at)
		}
	}
	for name, at := range m.stripAt {
		if err := m.checkStrip(name); err != nil {
			return nil, fmt.Errorf("%v, at %s", err, at)
		}
	}
	if m.RolesFrom != "" && !strings.Contains(m.RolesFrom, "{") {
		// Literal roles: each one the pii option or this route defines
		// (a placeholder whose braces were forgotten, a typo, would give
		// every agent the default).
		for _, r := range strings.FieldsFunc(m.RolesFrom, isRoleSep) {
			if _, ok := app.Roles[r]; !ok {
				return nil, fmt.Errorf("roles_from %q: %q is no role the pii option defines (a placeholder needs braces: {http.auth.user.roles}), at %s",
					m.RolesFrom, r, m.rolesFromAt)
			}
		}
	}
	m.rolesFromAt, m.roleAt, m.stripAt = "", nil, nil
	m.refs = nil
	return m, nil
}

// answersOrGroups are the standard directives, all ordered after
// pii_mask's own place, that answer a request with what an upstream or a
// file holds, or take it into routes of their own, before the directives
// ordered after them run. (Those that answer with the admin's own text,
// respond, redir, error, abort, hold no customer's data.)
var answersOrGroups = map[string]bool{
	"handle": true, "handle_path": true, "route": true, "invoke": true,
	"copy_response": true, "reverse_proxy": true, "php_fastcgi": true, "file_server": true,
}

// UnmarshalCaddyfile reads the pii_mask directive:
//
//	pii_mask [<matcher>] {
//		roles_from <placeholder>
//		field <gjson path> <entity_type>|scan
//		scan off|names|all
//		role <name> {
//			<entity_type>|* <action>
//		}
//		max_body <size>
//		max_depth <n>
//		strip_request_header <name...>
//		allow_websocket
//		pass_types <media type pattern...>
//		data_formats refuse|scan
//		no_reencode
//	}
func (m *Mask) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // directive name
	if d.NextArg() {
		return d.ArgErr()
	}
	once := onceCheck{}
	fieldLines := map[string]string{}
	prev := ""
	for d.NextBlock(0) {
		if d.Val() == "{" {
			return d.Errf("pii_mask: %s takes no block", prev)
		}
		prev = d.Val()
		switch d.Val() {
		case "roles_from", "scan", "max_body", "max_depth", "data_formats", "allow_websocket", "no_reencode":
			if err := once.check(d); err != nil {
				return err
			}
		}
		switch d.Val() {
		case "roles_from":
			at := fileLine(d)
			v, err := oneArg(d)
			if err != nil {
				return err
			}
			if !bracesPaired(v) {
				return fmt.Errorf("roles_from %q: its braces do not pair up, at %s", v, at)
			}
			m.rolesFromAt = at // a literal list is checked against the roles in parseMask
			m.RolesFrom = v
		case "field":
			file, line := d.File(), d.Line()
			args := d.RemainingArgs()
			if len(args) != 2 {
				return d.Errf("field: want <gjson path> <entity_type>|scan, got %d arguments", len(args))
			}
			if _, err := config.ParsePath(args[0]); err != nil {
				return d.Errf("field %q: %v", args[0], err)
			}
			if args[1] != config.FieldScan {
				if _, err := detectors.ParseType(args[1]); err != nil {
					return d.Errf("field %q: %v (or scan)", args[0], err)
				}
			}
			if at, dup := fieldLines[args[0]]; dup {
				// The first rule would win, the second do nothing.
				return d.Errf("field %q given twice (first at %s)", args[0], at)
			}
			if args[1] != config.FieldScan {
				p, _ := config.ParsePath(args[0])
				for _, o := range m.Fields {
					if o.Type == config.FieldScan || o.Type == args[1] {
						continue
					}
					// (A rule inside a typed container wins over it, whatever
					// the order: only rules of one depth are decided by it.)
					if op, _ := config.ParsePath(o.Path); len(op) == len(p) && config.PathsOverlap(op, p) {
						return d.Errf("field %q (%s) and field %q (%s, at %s) can reach the same value with different types: the first would win; type each place once",
							args[0], args[1], o.Path, o.Type, fieldLines[o.Path])
					}
				}
			}
			fieldLines[args[0]] = fileLine(d)
			m.refs = append(m.refs, ruleRef{typ: args[1], where: "field " + args[0], file: file, line: line})
			if len(m.Fields) == rewrite.MaxFieldRules {
				return d.Errf("field %q: at most %d field rules per pii_mask", args[0], rewrite.MaxFieldRules)
			}
			m.Fields = append(m.Fields, config.Field{Path: args[0], Type: args[1]})
		case "scan":
			v, err := oneArg(d)
			if err != nil {
				return err
			}
			if _, err := config.ParseScanMode(v); err != nil {
				return d.Errf("scan: %v", err)
			}
			m.Scan = v
		case "role":
			at := fileLine(d)
			name, rules, refs, err := parseRoleBlock(d)
			if err != nil {
				return err
			}
			m.refs = append(m.refs, refs...)
			if m.Roles == nil {
				m.Roles, m.roleAt = map[string]config.RoleRules{}, map[string]string{}
			}
			if _, dup := m.Roles[name]; dup {
				return fmt.Errorf("role %q overridden twice (first at %s), at %s", name, m.roleAt[name], at)
			}
			m.Roles[name] = rules
			m.roleAt[name] = at
		case "max_body":
			v, err := oneArg(d)
			if err != nil {
				return err
			}
			n, err := humanize.ParseBytes(v)
			if err != nil || n == 0 || n > MaxMaxBody {
				return d.Errf("max_body %q: want a size such as 16MB, at most 1GiB (the body is held in memory)", v)
			}
			m.MaxBody = int64(n)
		case "max_depth":
			v, err := oneArg(d)
			if err != nil {
				return err
			}
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > rewrite.MaxMaxDepth {
				return d.Errf("max_depth %q: want a whole number from 1 to %d", v, rewrite.MaxMaxDepth)
			}
			m.MaxDepth = n
		case "strip_request_header":
			args := d.RemainingArgs()
			if len(args) == 0 {
				return d.ArgErr()
			}
			for _, a := range args {
				if !httpguts.ValidHeaderFieldName(a) {
					return d.Errf("strip_request_header %q: not a header field name (names are separated by spaces, not commas)", a)
				}
				if m.stripAt == nil {
					m.stripAt = map[string]string{}
				}
				m.stripAt[a] = fileLine(d)
			}
			m.StripRequestHeaders = append(m.StripRequestHeaders, args...)
		case "allow_websocket":
			if d.NextArg() {
				return d.ArgErr()
			}
			m.AllowWebSocket = true
		case "pass_types":
			args := d.RemainingArgs()
			if len(args) == 0 {
				return d.ArgErr()
			}
			for _, a := range args {
				if !strings.Contains(a, "/") || strings.Contains(a, ";") || !validPattern(a) {
					return d.Errf("pass_types: %q is not a media type pattern such as image/* (no parameters)", a)
				}
				m.PassTypes = append(m.PassTypes, strings.ToLower(a)) // media types are case-insensitive
			}
		case "data_formats":
			if !d.NextArg() {
				return d.ArgErr()
			}
			switch v := d.Val(); v {
			case dataFormatsRefuse, dataFormatsScan:
				m.DataFormats = v
			default:
				return d.Errf("data_formats %q: want refuse or scan", v)
			}
			if d.NextArg() {
				return d.ArgErr()
			}
		case "no_reencode":
			if d.NextArg() {
				return d.ArgErr()
			}
			m.NoReencode = true
		default:
			return d.Errf("pii_mask: unknown subdirective %q", d.Val())
		}
	}
	return nil
}

// Interface guard
var _ caddyfile.Unmarshaler = (*Mask)(nil)

// bracesPaired reports whether every { in s is closed by a } before the
// next {, and every } closes one (a backslash escapes either).
func bracesPaired(s string) bool {
	open := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '{':
			if open {
				return false
			}
			open = true
		case '}':
			if !open {
				return false
			}
			open = false
		}
	}
	return !open
}

func isRoleSep(r rune) bool { return r == ',' || r == ' ' || r == '\t' }
