package caddymodule

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/caddyserver/caddy/v2"

	"github.com/piigate/piigate/caddymodule/rewrite"
	"github.com/piigate/piigate/config"
	"github.com/piigate/piigate/detectors"
)

// Review 46a: the forty-fifth review's configuration fixes (004cad4), for
// regressions and gaps. None of these tests needs a running Caddy; run
// them with
//
//	flock /tmp/piigate-caddytest.lock go test ./caddymodule -run 'TestReview46a' -count 1
//
// (TestReview46aCleanupRacesInFlightRequest reports its finding only under
// the race detector: add -race.)

// Finding 1 (valid configuration refused, low-medium), the adapter's side
// of config/review46a_test.go TestReview46aContainerAndInnerRuleAccepted.
// mask_caddyfile.go refuses
//
//	field data.address address
//	field data.address.contactPhone cn_mobile
//
// with "can reach the same value with different types: the first would
// win", because config.PathsOverlap treats a path and any path inside it
// as overlapping. The engine does not let the first win there: a rule
// that types the value itself ranks above the type its container's rule
// passes down (walk.go child, prioField over prioFieldInherit), in either
// order — shown below on the engine with the refusal bypassed. The pair is
// a natural way to say "this record is an address, but its phone is a
// mobile" and worked before 004cad4. Expected: the Caddyfile adapts (only
// rules ending at the same depth, where order decides, are refused).
func TestReview46aAdapterAcceptsContainerAndInnerRule(t *testing.T) {
	// The engine's own precedence, both orders.
	tbl, err := config.Compile(config.Policy{Roles: map[string]config.RoleRules{
		"online_agent": {"address": "plain", "cn_mobile": "mask", "*": "redact"}}})
	if err != nil {
		t.Fatal(err)
	}
	outer, _ := config.ParsePath("data.address")
	inner, _ := config.ParsePath("data.address.contactPhone")
	rules := []config.CompiledField{{Source: "data.address", Path: outer, Type: detectors.Address},
		{Source: "data.address.contactPhone", Path: inner, Type: detectors.CNMobile}}
	for _, order := range [][2]int{{0, 1}, {1, 0}} {
		e, err := rewrite.New(rewrite.Options{Table: tbl, Route: &config.CompiledRoute{Scan: config.ScanOff,
			Fields: []config.CompiledField{rules[order[0]], rules[order[1]]}}})
		if err != nil {
			t.Fatal(err)
		}
		var d config.Decision
		tbl.Decide("online_agent", &d)
		var sum rewrite.Summary
		view, err := e.Rewrite(nil, []byte(`{"data":{"address":{"city":"北京市朝阳区","contactPhone":"13812345678"}}}`), rewrite.JSON, &d, &sum)
		if err != nil || !strings.Contains(string(view), `"contactPhone":"138****5678"`) {
			t.Fatalf("the test's premise (the inner rule wins in order %v): %s %v", order, view, err)
		}
	}

	in := "{\n pii {\n  role online_agent {\n   address plain\n   cn_mobile mask\n   * redact\n  }\n }\n}\n" +
		":80 {\n pii_mask {\n  roles_from {http.vars.role}\n  field data.address address\n  field data.address.contactPhone cn_mobile\n }\n}\n"
	if _, err := r45bAdapt(in); err != nil {
		t.Errorf("a container rule and a rule inside it (the inner one ranks first whatever the order) refused: %v", err)
	}
}

// Finding 2 (valid configuration refused, low): a literal roles_from that
// names a defined role holding a dot is refused at adapt time.
// mask_caddyfile.go: `if !strings.Contains(v, "{") && strings.Contains(v,
// ".")` → "a placeholder needs braces …; role names hold no dots". But
// role names may hold dots (config.checkRoleName refuses separators, *,
// braces, quotes, controls and a leading '(' — not dots), and dotted role
// names are common (Azure AD / Entra app roles are `Data.Read`,
// `Helpdesk.Viewer`; Keycloak client roles `app.viewer`). The pii option
// below defines `helpdesk.viewer`, and Provision would accept the literal
// (it names a role the app defines: mask.go provisionWith), but `caddy
// adapt` refuses it with a message that contradicts the role-name rules.
// Expected: the dotted literal is refused only when it names no role the
// pii option (or the route's own role overrides) defines — a check the
// adapter can make in parseCaddyfile, where appFromOptions gives the pii
// option.
func TestReview46aRolesFromDottedRoleName(t *testing.T) {
	in := "{\n pii {\n  role helpdesk.viewer {\n   cn_mobile mask\n   * redact\n  }\n }\n}\n" +
		":80 {\n pii_mask /public/* {\n  roles_from helpdesk.viewer\n }\n}\n"
	if _, err := r45bAdapt(in); err != nil {
		t.Errorf("roles_from helpdesk.viewer, a role the pii option defines, refused: %v", err)
	}
	// Provision agrees that it is valid.
	app := &App{Roles: map[string]config.RoleRules{"helpdesk.viewer": {"cn_mobile": "mask", "*": "redact"}}}
	if err := app.compile(); err != nil {
		t.Fatal(err)
	}
	if err := (&Mask{RolesFrom: "helpdesk.viewer"}).provisionWith(app); err != nil {
		t.Errorf("the test's premise: Provision accepts roles_from helpdesk.viewer: %v", err)
	}
}

// Finding 3 (error reported late, without its line; low): README
// ("Checked as written"): "a roles_from without braces must name a role
// the pii option defines …: caddy adapt names the line of the mistake".
// Only a dotted literal is refused at adapt time; a literal without a dot
// that names no defined role — a typo (`roles_from online_agnet`) or a
// header name whose placeholder was forgotten (`roles_from X-Auth-Roles`)
// — adapts without a word and fails only when Caddy starts, in
// provisionWith, whose error names neither file nor line. Expected: caddy
// adapt refuses it, naming Caddyfile:11 (the roles_from line: line 1 `{`,
// 2 ` pii {`, 3 `  role online_agent {`, 4 `   cn_mobile mask`, 5 `  }`,
// 6 ` }`, 7 `}`, 8 `:80 {`, 9 ` pii_mask {`, 10 `  field …`, 11
// `  roles_from online_agnet`).
func TestReview46aRolesFromUndefinedLiteralAtAdapt(t *testing.T) {
	for _, literal := range []string{"online_agnet", "X-Auth-Roles"} {
		in := "{\n pii {\n  role online_agent {\n   cn_mobile mask\n  }\n }\n}\n" +
			":80 {\n pii_mask {\n  field data.mobile cn_mobile\n  roles_from " + literal + "\n }\n}\n"
		if _, err := r45bAdapt(in); err == nil || !strings.Contains(err.Error(), "Caddyfile:11") {
			t.Errorf("roles_from %s (no placeholder, no role the pii option defines): adapt err %v, want an error at Caddyfile:11", literal, err)
		}
	}
}

// Finding 4 (silent misconfiguration, fail-closed, low): a roles_from
// whose braces do not balance — `{http.vars.role` (closing brace lost),
// `{http.vars.role}}` — passes both new checks: the adapter's looks for
// "no '{' and a '.'", provisionWith's for "no '{'" (mask.go `if
// !strings.Contains(m.RolesFrom, "{")`). singlePlaceholder does not
// recognise it, so at each request roles() runs ReplaceFunc, which leaves
// an unclosed brace as text: every agent's role string is
// "{http.vars.role" (or "online_agent}"), a role no policy defines, and
// every agent gets redact everywhere (403 under unknown_role deny) with no
// hint at adapt or start — the same failure finding 15 of review 45b fixed
// for forgotten braces. Expected: unbalanced braces in roles_from are
// refused, by the adapter (with the line) and by Provision.
func TestReview46aRolesFromUnbalancedBraces(t *testing.T) {
	app := &App{Roles: map[string]config.RoleRules{"online_agent": {"cn_mobile": "mask", "*": "redact"}}}
	if err := app.compile(); err != nil {
		t.Fatal(err)
	}
	for _, from := range []string{"{http.vars.role", "{http.vars.role}}"} {
		m := &Mask{RolesFrom: from}
		if err := m.provisionWith(app); err == nil {
			repl := caddy.NewReplacer()
			repl.Set("http.vars.role", "online_agent")
			var d config.Decision
			m.table.Decide(m.roles(repl), &d)
			t.Errorf("roles_from %q accepted by Provision; with {http.vars.role} = online_agent the agent's roles read %q, roles %v (unknown %v)",
				from, m.roles(repl), d.Roles, d.Unknown)
		}
		in := "{\n pii {\n  role online_agent {\n   cn_mobile mask\n  }\n }\n}\n:80 {\n pii_mask {\n  roles_from " + from + "\n }\n}\n"
		if _, err := r45bAdapt(in); err == nil || !strings.Contains(err.Error(), "Caddyfile:10") {
			t.Errorf("roles_from %s: adapt err %v, want an error at Caddyfile:10", from, err)
		}
	}
}

// Finding 5 (data race, low): Mask.Cleanup (mask.go) writes `m.metrics =
// nil` without synchronisation, while a request the handler is still
// serving reads m.metrics in its deferred observe (and in refused). Caddy
// cancels the old configuration's context — and so calls Cleanup — after
// its servers' Shutdown, which does not wait for hijacked connections
// (a WebSocket pii_mask passes with allow_websocket: reverse_proxy's own
// Cleanup closes it, and the handler unwinds into observe while Cleanup
// runs) nor, with grace_period set, for requests that outlive it (an
// event stream pii_mask rewrites). The race detector, which CI runs,
// reports it. Expected: Cleanup only releases the registry's entry (the
// handler keeps its *metrics, whose series simply stop being scraped), or
// the field is read and written atomically.
func TestReview46aCleanupRacesInFlightRequest(t *testing.T) {
	app := &App{Roles: map[string]config.RoleRules{"online_agent": {"cn_mobile": "mask", "*": "redact"}}}
	if err := app.compile(); err != nil {
		t.Fatal(err)
	}
	m := &Mask{RolesFrom: "online_agent"}
	if err := m.provisionWith(app); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := caddy.NewContext(caddy.Context{Context: t.Context()})
	defer cancel()
	m.metrics = registerMetrics(ctx)

	inUpstream := make(chan struct{})
	release := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		serveMask(t, m, httptest.NewRequest(http.MethodGet, "/api/x", nil), func(w http.ResponseWriter, r *http.Request) error {
			close(inUpstream)
			<-release
			w.Header().Set("Content-Type", "application/json")
			_, err := w.Write([]byte(`{"mobile":"13812345678"}`))
			return err
		})
	}()
	<-inUpstream
	// The upstream answers and, at the same time, Caddy unloads the
	// configuration: nothing orders the handler's observe after Cleanup.
	close(release)
	if err := m.Cleanup(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
}
