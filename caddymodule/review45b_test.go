package caddymodule

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/piigate/piigate/config"
)

// Review 45b: the configuration and policy layer and its observability.
// None of these tests needs a running Caddy; run them with
//
//	flock /tmp/piigate-caddytest.lock go test ./caddymodule -run 'TestReview45b' -count 1

func r45bAdapt(in string) (string, error) {
	out, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(in), map[string]any{"filename": "Caddyfile"})
	return string(out), err
}

// r45bServe provisions m against app and serves body as the upstream's
// JSON answer; it returns the agent's view and the outcome.
func r45bServe(t *testing.T, app *App, m *Mask, body string) (string, *Outcome) {
	t.Helper()
	if err := app.compile(); err != nil {
		t.Fatal(err)
	}
	if err := m.provisionWith(app); err != nil {
		t.Fatal(err)
	}
	rec, vars := serveMask(t, m, httptest.NewRequest(http.MethodGet, "/api/x", nil), func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "application/json")
		_, err := w.Write([]byte(body))
		return err
	})
	out, _ := vars[varOutcome].(*Outcome)
	return rec.Body.String(), out
}

// Finding 1 (privilege escalation, high under least_revealing): README
// "a placeholder whose value is a list of strings gives one role per
// item". Mask.roles (mask.go) and joinList handle []string only. A list
// placeholder holding []any — what Caddy's own `vars` handler holds for a
// JSON array (`{"handler":"vars","roles":["restricted","supervisor",…]}`),
// and what auth plugins that copy JSON claims set — falls through to
// repl.ReplaceAll, i.e. Caddy's ToString, fmt's "%+v": "[restricted
// supervisor online_agent]". Decide then reads the roles "[restricted",
// "supervisor" and "online_agent]": the first and last items are lost.
// Under least_revealing the restricting role at the head of the list no
// longer restricts and the agent sees the supervisor's plain view. The
// composite form ({a},{c}) goes through joinList, which has the same gap.
// Expected: any list ([]any of strings, []string) gives one role per item,
// in both code paths.
func TestReview45bAnyListPlaceholderRoles(t *testing.T) {
	tbl, err := config.Compile(config.Policy{Combine: config.LeastRevealing, Roles: map[string]config.RoleRules{
		"restricted": {"*": "redact"}, "supervisor": {"*": "plain"}, "online_agent": {"*": "mask"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	repl := caddy.NewReplacer()
	repl.Set("http.vars.roles", []any{"restricted", "supervisor", "online_agent"})
	repl.Set("http.vars.local", "online_agent")
	for _, from := range []string{"{http.vars.roles}", "{http.vars.roles},{http.vars.local}"} {
		m := &Mask{RolesFrom: from, rolesKey: singlePlaceholder(from)}
		var d config.Decision
		tbl.Decide(m.roles(repl), &d)
		if strings.Join(d.Roles, ",") != "online_agent,restricted,supervisor" {
			t.Errorf("roles_from %s over []any{restricted supervisor online_agent}: read %q, roles %v, want [online_agent restricted supervisor]", from, m.roles(repl), d.Roles)
		}
	}
}

// Finding 2 (privilege escalation, medium): "one role per item" — but an
// item is split again on commas and spaces: roles returns
// strings.Join(v, ",") and Decide splits on ',', ' ' and '\t'. An item
// that is not a role name (role names may not hold spaces, so it cannot be
// one) grants every role that appears as a word in it: a group or claim
// item "trainee supervisor" gives the supervisor role. Expected: an item
// is one role; an item holding a separator names no role (unknown).
func TestReview45bListItemIsOneRole(t *testing.T) {
	tbl, err := config.Compile(config.Policy{Roles: map[string]config.RoleRules{
		"supervisor": {"*": "plain"}, "online_agent": {"*": "mask"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	repl := caddy.NewReplacer()
	repl.Set("idp.groups", []string{"trainee supervisor"})
	m := &Mask{RolesFrom: "{idp.groups}", rolesKey: "idp.groups"}
	var d config.Decision
	tbl.Decide(m.roles(repl), &d)
	if len(d.Roles) != 0 {
		t.Errorf("list item %q (one item, not a role name) granted roles %v", "trainee supervisor", d.Roles)
	}
}

// Finding 3 (silent misconfiguration that leaks, medium): two field rules
// that reach the same value with different types are accepted, and the
// first in configuration order silently wins (rewrite.ruleSlot: "the first
// rule (in configuration order) that ends there types it"). The adapter
// refuses only the same path string twice. `field contact.* email` then
// `field contact.name person_name` plainly says the name is a person's
// name; it is typed email instead, and a role that sees e-mail addresses
// plain (`email plain`, `person_name redact`) sees the name plain. The
// README documents no order between field rules. Expected: refuse typed
// rules that can reach one place with different types at adapt time, or
// apply the least revealing of their actions to such a value.
func TestReview45bOverlappingFieldRules(t *testing.T) {
	in := "{\n pii {\n  role online_agent {\n   email plain\n   person_name redact\n   * redact\n  }\n }\n}\n" +
		":80 {\n pii_mask {\n  roles_from {http.vars.role}\n  field contact.* email\n  field contact.name person_name\n }\n}\n"
	if _, err := r45bAdapt(in); err != nil {
		return // refused at adapt time: a fix
	}
	app := &App{Roles: map[string]config.RoleRules{"online_agent": {"email": "plain", "person_name": "redact", "*": "redact"}}}
	m := &Mask{RolesFrom: "online_agent", Fields: []config.Field{{Path: "contact.*", Type: "email"}, {Path: "contact.name", Type: "person_name"}}}
	view, _ := r45bServe(t, app, m, `{"contact":{"email":"zhang.san@example.com","name":"张三"}}`)
	if strings.Contains(view, `"name":"张三"`) {
		t.Errorf("accepted, and the name under `field contact.name person_name` (person_name redact) reaches the agent plain: %s", view)
	}
}

// Finding 4 (silent misconfiguration that leaks, medium): `*` is the
// wildcard of a role's rules, but as a role *name* it is accepted as a
// literal role called "*" (CheckRoleName allows it). `pii_mask { role * {
// cn_mobile drop } }` reads as "on this route, every role gets mobiles
// dropped"; it defines a role no agent holds (pii_oidc's role names are
// [a-z0-9_-]), and every agent keeps the app's rules. The same in the pii
// block. Expected: refuse `*` (and other non-name characters) as a role
// name at adapt time, naming the line.
func TestReview45bRoleNamedWildcard(t *testing.T) {
	for _, in := range []string{
		"{\n pii {\n  role online_agent {\n   cn_mobile mask\n  }\n }\n}\n:80 {\n pii_mask {\n  role * {\n   cn_mobile drop\n  }\n }\n}\n",
		"{\n pii {\n  role * {\n   cn_mobile drop\n  }\n }\n}\n:80\n",
	} {
		out, err := r45bAdapt(in)
		if err == nil || !strings.Contains(err.Error(), "Caddyfile:") {
			t.Errorf("adapting\n%s\naccepted a role named * (err %v): %.300s", in, err, out)
		}
	}
}

// Finding 5 (silent misconfiguration that lets a forged identity through,
// medium): strip_request_header takes any token as a header name. Written
// as a list with commas, `strip_request_header X-Remote-User, X-Role`, the
// first name is "X-Remote-User," — no request ever has that header, so a
// client's forged X-Remote-User reaches the upstream, which the directive
// exists to prevent. Neither the adapter nor Provision checks the names.
// Expected: refuse a name that is not an HTTP field name (RFC 9110 token),
// naming the line.
func TestReview45bStripRequestHeaderNames(t *testing.T) {
	in := ":80 {\n pii_mask {\n  strip_request_header X-Remote-User, X-Role\n }\n}\n"
	if _, err := r45bAdapt(in); err == nil || !strings.Contains(err.Error(), "Caddyfile:3") {
		t.Errorf("strip_request_header \"X-Remote-User,\": adapt err %v, want an error at Caddyfile:3", err)
	}
	m := &Mask{RolesFrom: "online_agent", StripRequestHeaders: []string{"X-Remote-User,"}}
	app := &App{Roles: map[string]config.RoleRules{"online_agent": {"*": "mask"}}}
	if err := app.compile(); err != nil {
		t.Fatal(err)
	}
	if err := m.provisionWith(app); err == nil {
		req := httptest.NewRequest(http.MethodGet, "/api/x", nil)
		req.Header.Set("X-Remote-User", "forged-admin")
		var seen string
		serveMask(t, m, req, func(w http.ResponseWriter, r *http.Request) error {
			seen = r.Header.Get("X-Remote-User")
			return nil
		})
		if seen != "" {
			t.Errorf("Provision accepted strip_request_headers [\"X-Remote-User,\"], and the upstream got X-Remote-User: %s", seen)
		}
	}
}

// Finding 6 (silent misconfiguration, medium: pseudonyms under a public
// key): a hash_key holding "{" is not checked at adapt time, and at start
// App.compile resolves it with ReplaceKnown, which leaves an unknown
// placeholder as written. A mistyped `hash_key
// {evn.PII_HASH_KEY_FOR_THE_GATEWAY_2024}` (evn for env), or a placeholder
// only known per request, is 38 characters of text: parseKey accepts it as
// the key. Every hash pseudonym is then an HMAC under a key printed in the
// Caddyfile, and mobiles (10^11 values) can be recovered from them by
// enumeration. Expected: a hash_key that still holds a placeholder after
// replacement is an error ("unknown placeholder …").
func TestReview45bHashKeyUnresolvedPlaceholder(t *testing.T) {
	app := &App{HashKey: "{evn.PII_HASH_KEY_FOR_THE_GATEWAY_2024}", Roles: map[string]config.RoleRules{"a": {"*": "hash"}}}
	if err := app.compile(); err == nil {
		t.Errorf("hash_key %s accepted; the key is the placeholder's text %q", app.HashKey, app.hashKey)
	}
}

// Finding 7 (silent misconfiguration, medium): a custom type must be
// defined to be used ("a role's rule names a defined custom type", checked
// by checkRefs for role rules, in the app and in pii_mask's overrides) but
// a field rule `field data.emp custom:employe_no` (typo) and a `mask
// custom:employe_no 1 1` line are accepted: mask_caddyfile.go and
// CompileRoute only call detectors.ParseType, which interns any custom
// name. The field's values are typed with a type no role has a rule for:
// Decision.Action gives Redact when its id is past the table, the role's
// `*` action when a previous configuration interned it earlier (a
// supervisor-like `* plain` role then sees them plain instead of what its
// custom:employee_no rule says). The mask line does nothing. Expected:
// both refused at adapt time with the line, as for role rules.
func TestReview45bUndefinedCustomTypeInFieldAndMask(t *testing.T) {
	for _, c := range []struct{ in, line string }{
		{"{\n pii {\n  custom employee_no E\\d{6}\n }\n}\n:80 {\n pii_mask {\n  field data.emp custom:review45b_employe_no\n }\n}\n", "Caddyfile:8"},
		{"{\n pii {\n  custom employee_no E\\d{6}\n  mask custom:review45b_employe_no 1 1\n }\n}\n:80\n", "Caddyfile:4"},
	} {
		if _, err := r45bAdapt(c.in); err == nil || !strings.Contains(err.Error(), c.line) {
			t.Errorf("adapting\n%s\nerr %v, want \"not defined\" at %s", c.in, err, c.line)
		}
	}
}

// Finding 8 (unbounded resource use: a crash of the whole gateway,
// medium): max_depth takes any whole number ≥ 1 (mask_caddyfile.go
// strconv.Atoi, n < 1 refused) and JSON's MaxDepth any int. The walker is
// recursive (rewrite/walk.go object/array/value), about 500 bytes of stack
// per level: with `max_depth 1000000000` a 4 MB body of `[` (or a
// customer's note holding nested JSON, which is walked too) needs more
// than Go's 1 GB stack limit and Caddy dies with "fatal error: stack
// overflow", which no recover catches (reproduced: 2 Mi levels crash the
// test binary, 1 Mi survive). Expected: max_depth bounded (e.g. ≤ 10000)
// in the adapter, with the line, and in Provision.
func TestReview45bMaxDepthBounded(t *testing.T) {
	if _, err := r45bAdapt(":80 {\n pii_mask {\n  max_depth 1000000000\n }\n}\n"); err == nil {
		t.Error("max_depth 1000000000 accepted by caddy adapt; deep enough input crashes Caddy (stack overflow)")
	}
	app := &App{Roles: map[string]config.RoleRules{"a": {"*": "mask"}}}
	if err := app.compile(); err != nil {
		t.Fatal(err)
	}
	if err := (&Mask{MaxDepth: 1_000_000_000}).provisionWith(app); err == nil {
		t.Error("MaxDepth 1000000000 accepted by Provision")
	}
}

// Finding 9 (unbounded memory, low): registerMetrics keeps one *metrics
// per registry in the global metricsByReg and never removes it. Caddy
// 2.11 gives every config load a new registry
// (NewContextWithCause: prometheus.NewPedanticRegistry()), so each reload
// adds an entry that holds the old registry — its Go and process
// collectors, and every piigate series with its label values — for the
// life of the process. The comment "config reloads reuse them" does not
// hold either: counters restart at every reload. Expected: the entry is
// dropped when its context is cancelled (ctx.OnCancel), or the series
// live on one registry for the process.
func TestReview45bMetricsRegistryReleased(t *testing.T) {
	metricsMu.Lock()
	before := len(metricsByReg)
	metricsMu.Unlock()
	for i := 0; i < 3; i++ {
		ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
		// Two handlers of one configuration share its series; Caddy
		// calls their Cleanup when it unloads the configuration.
		m1, m2 := &Mask{metrics: registerMetrics(ctx)}, &Mask{metrics: registerMetrics(ctx)}
		if m1.metrics != m2.metrics {
			t.Fatal("two handlers of one configuration got different series")
		}
		m1.Cleanup()
		metricsMu.Lock()
		kept := len(metricsByReg)
		metricsMu.Unlock()
		if kept <= before {
			t.Error("the first handler's Cleanup dropped the series the second still uses")
		}
		m2.Cleanup()
		cancel() // the config is unloaded
	}
	metricsMu.Lock()
	after := len(metricsByReg)
	metricsMu.Unlock()
	if after > before {
		t.Errorf("3 config loads, unloaded: metricsByReg grew from %d to %d entries", before, after)
	}
}

// Finding 10 (wrong counts, low-medium): refusals are counted by reason
// in piigate_mask_refusals_total, and responses_total{result="refused"}
// counts them too, except one: when the next handler fails before writing
// anything (reverse_proxy cannot reach the upstream), maskWriter.serve
// sets Result refused, Reason upstream_failed and returns without
// metrics.refused (mask_writer.go, `if !mw.wroteHeader { … return herr }`).
// The commonest refusal (upstream down) is missing from the by-reason
// series, and the two series disagree. Expected: refusals_total
// {reason="upstream_failed"} counted there too.
func TestReview45bUpstreamFailureCountedByReason(t *testing.T) {
	app := &App{Roles: map[string]config.RoleRules{"online_agent": {"*": "mask"}}}
	if err := app.compile(); err != nil {
		t.Fatal(err)
	}
	m := &Mask{RolesFrom: "online_agent"}
	if err := m.provisionWith(app); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	m.metrics = registerMetrics(ctx)
	req := httptest.NewRequest(http.MethodGet, "/api/x", nil)
	vars := map[string]any{}
	c := context.WithValue(req.Context(), caddy.ReplacerCtxKey, caddy.NewReplacer())
	c = context.WithValue(c, caddyhttp.VarsCtxKey, vars)
	err := m.ServeHTTP(httptest.NewRecorder(), req.WithContext(c), caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error {
		return errors.New("dial tcp 127.0.0.1:1: connect: connection refused")
	}))
	if err == nil {
		t.Fatal("the handler's error was not passed on")
	}
	out := vars[varOutcome].(*Outcome)
	mf, _ := ctx.GetMetricsRegistry().Gather()
	var refusedResponses, refusals float64
	for _, f := range mf {
		for _, mm := range f.GetMetric() {
			switch f.GetName() {
			case "piigate_mask_responses_total":
				if mm.GetLabel()[0].GetValue() == resultRefused {
					refusedResponses += mm.GetCounter().GetValue()
				}
			case "piigate_mask_refusals_total":
				refusals += mm.GetCounter().GetValue()
			}
		}
	}
	if refusedResponses != refusals {
		t.Errorf("outcome %s/%s: responses_total{result=refused} = %v, refusals_total (all reasons) = %v", out.Result, out.Reason, refusedResponses, refusals)
	}
}

// Finding 11 (observability, low-medium): README: "Each guarded request
// carries an Outcome (roles, …, counts per type × action, JSON paths …)
// in the request variable pii for the flow log". Outcome.Summary is
// tagged `json:"-"` (mask.go), so wherever the Outcome is written as JSON
// — Caddy's `log_append pii pii` puts it in the access log with zap.Any,
// i.e. encoding/json — the counts and paths are missing: the log says
// "rewritten" and not what was shown to whom. Expected: the JSON form of
// an Outcome carries the counts (type, action, n) and the paths.
func TestReview45bOutcomeJSONCarriesCounts(t *testing.T) {
	app := &App{Roles: map[string]config.RoleRules{"online_agent": {"cn_mobile": "mask", "*": "redact"}}}
	m := &Mask{RolesFrom: "online_agent"}
	_, out := r45bServe(t, app, m, `{"mobile":"13812345678"}`)
	if out == nil || len(out.Summary.Counts) == 0 {
		t.Fatal("the test's premise: the outcome counts the mobile")
	}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "cn_mobile") || !strings.Contains(string(b), `"mobile"`) {
		t.Errorf("the outcome as the access log writes it holds no counts or paths: %s", b)
	}
}

// Finding 12 (wrong error message, low): a second `pii` global option is
// refused with "the pii global option may appear only once, at :0":
// parseGlobalPII calls d.Err before reading a token (app_caddyfile.go), so
// neither the file nor the line is named. Expected: the second block's
// file:line (Caddyfile:7 here).
func TestReview45bDuplicatePIIOptionNamesLine(t *testing.T) {
	in := "{\n pii {\n  role a {\n   * plain\n  }\n }\n pii {\n  role b {\n   * plain\n  }\n }\n}\n:80\n"
	_, err := r45bAdapt(in)
	if err == nil || !strings.Contains(err.Error(), "Caddyfile:7") {
		t.Errorf("two pii blocks: %v, want the error at Caddyfile:7", err)
	}
}

// Finding 13 (silent misconfiguration, low): max_body parses with
// humanize.ParseBytes into a uint64 and stores int64(n): `max_body 10EB`
// (10^19) wraps to a negative number, is written to the JSON as such, and
// Provision's `if m.MaxBody <= 0` replaces it with 16 MiB. Fails closed,
// but a Caddyfile accepted without a word whose value is not the one
// written. Expected: sizes past math.MaxInt64 (or past any sane bound)
// refused with the line.
func TestReview45bMaxBodyOverflow(t *testing.T) {
	out, err := r45bAdapt(":80 {\n pii_mask {\n  max_body 10EB\n }\n}\n")
	if err != nil {
		return
	}
	if strings.Contains(out, `"max_body":-`) {
		t.Errorf("max_body 10EB accepted and adapted to a negative size: %s", out)
	}
}

// Finding 14 (silent misconfiguration, low): role names may look like
// placeholders. The pii global option keeps `role {vars.x}` as written,
// but inside a site block Caddy expands placeholder shorthands in every
// token, so pii_mask's `role {vars.x} { cn_mobile drop }` becomes an
// override of a role "{http.vars.x}": the override the admin wrote for the
// app's role {vars.x} applies to nobody. Expected: role names with { or }
// refused (they are not names an identity provider gives, and a role
// string never holds an unreplaced placeholder), or spelt the same in both.
func TestReview45bRoleNamesLikePlaceholders(t *testing.T) {
	in := "{\n pii {\n  role {vars.x} {\n   cn_mobile mask\n  }\n }\n}\n:80 {\n pii_mask {\n  role {vars.x} {\n   cn_mobile drop\n  }\n }\n}\n"
	out, err := r45bAdapt(in)
	if err != nil {
		return
	}
	if !strings.Contains(out, `"roles":{"{vars.x}"`) || strings.Contains(out, `{http.vars.x}`) {
		t.Errorf("role {vars.x} in pii and in pii_mask adapt to two different roles: %s", out)
	}
}

// Finding 15 (silent misconfiguration, fail-closed, low): `roles_from`
// takes "<placeholder>" (README), but a value without braces is taken as
// a literal role list: `roles_from http.auth.user.roles` (braces
// forgotten) gives every agent the role "http.auth.user.roles", unknown to
// the policy, so everyone gets redact everywhere (or 403 under
// unknown_role deny) with no hint at adapt or start. Expected: a
// roles_from that holds no placeholder and names no role the pii block
// defines is refused at adapt time with the line.
func TestReview45bRolesFromWithoutPlaceholder(t *testing.T) {
	in := "{\n pii {\n  role online_agent {\n   cn_mobile mask\n  }\n }\n}\n:80 {\n pii_mask {\n  roles_from http.auth.user.roles\n }\n}\n"
	if _, err := r45bAdapt(in); err == nil || !strings.Contains(err.Error(), "Caddyfile:10") {
		t.Errorf("roles_from http.auth.user.roles (no placeholder, no defined role): %v, want an error at Caddyfile:10", err)
	}
}
