package caddymodule

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddytest"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/piigate/piigate/caddymodule/rewrite"
	"github.com/piigate/piigate/config"
)

// Configurations that `caddy adapt` accepts and only Provision refuses, so
// that `caddy validate` and `caddy run` report them without the line (or,
// for the last one, reject them at all only later). Each of them is knowable
// from the Caddyfile alone: the same checks already run at adapt time for
// the pii app's roles (unknown custom types, hash without hash_key, role
// names with commas) but not for pii_mask's role blocks, pass_types, a
// literal hash_key, or the field rule limit.
func TestReview15cAdaptErrorsNameTheLine(t *testing.T) {
	var many strings.Builder
	many.WriteString(":80 {\n pii_mask {\n")
	for i := 0; i <= rewrite.MaxFieldRules; i++ {
		many.WriteString("  field f" + strings.Repeat("x", i%5) + "." + string(rune('a'+i%26)) + string(rune('a'+i/26)) + " cn_mobile\n")
	}
	many.WriteString(" }\n}\n")
	for _, c := range []struct{ name, in, line, want string }{
		{"route role with an undefined custom type", ":80 {\n pii_mask {\n  role a {\n   custom:review15c_nope mask\n  }\n }\n}\n", "Caddyfile:4", `custom:review15c_nope" is not defined`},
		{"route role uses hash without hash_key", ":80 {\n pii_mask {\n  role a {\n   * hash\n  }\n }\n}\n", "Caddyfile:", "hash_key"},
		{"route role name with a comma", ":80 {\n pii_mask {\n  role a,b {\n   * plain\n  }\n }\n}\n", "Caddyfile:3", "commas"},
		{"pass_types bad pattern", ":80 {\n pii_mask {\n  pass_types image/[\n }\n}\n", "Caddyfile:3", "pass_types"},
		{"literal hash_key too short", "{\n pii {\n  hash_key abc\n  role a {\n   * hash\n  }\n }\n}\n:80\n", "Caddyfile:3", "too short"},
		{"more field rules than the engine takes", many.String(), "Caddyfile:", "field rules"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(c.in), map[string]any{"filename": "Caddyfile"})
			if err != nil && strings.Contains(err.Error(), c.want) && strings.Contains(err.Error(), c.line) {
				return
			}
			// What `caddy validate` then says: the problem, without a line.
			var cfg caddy.Config
			verr := json.Unmarshal(out, &cfg)
			if verr == nil {
				verr = caddy.Validate(&cfg)
			}
			t.Errorf("caddy adapt: err=%v, want one containing %q and %q\n(caddy validate afterwards: %v)", err, c.line, c.want, verr)
		})
	}
}

// Invalid or contradictory repetitions that are accepted without a word,
// each one weakening the policy: the later line silently replaces the
// earlier one (unknown_role deny → redact; custom emp's first pattern is
// lost, so employee numbers of that form are no longer found), or the
// later field rule for the same path is silently ignored (the engine
// types a value by "the first rule (in configuration order) that ends
// there"). The pii app refuses a role defined twice and a role with two
// rules for one type; these are the same mistake.
func TestReview15cContradictoryRepeatsAreRefused(t *testing.T) {
	for _, c := range []struct{ name, in string }{
		{"unknown_role twice", "{\n pii {\n  unknown_role deny\n  unknown_role redact\n }\n}\n:80\n"},
		{"combine twice", "{\n pii {\n  combine least_revealing\n  combine most_revealing\n }\n}\n:80\n"},
		{"custom type defined twice", "{\n pii {\n  custom emp E\\d{6}\n  custom emp X\\d{6}\n }\n}\n:80\n"},
		{"mask of one type twice", "{\n pii {\n  mask email 1 0\n  mask email 3 3\n }\n}\n:80\n"},
		{"one path, two entity types", ":80 {\n pii_mask {\n  field data.contact cn_mobile\n  field data.contact person_name\n }\n}\n"},
		{"scan twice", ":80 {\n pii_mask {\n  scan all\n  scan off\n }\n}\n"},
		{"roles_from twice", ":80 {\n pii_mask {\n  roles_from {http.auth.user.roles}\n  roles_from {http.request.header.X-Role}\n }\n}\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(c.in), map[string]any{"filename": "Caddyfile"})
			if err == nil {
				t.Errorf("accepted without an error; adapted to %s", out)
			}
		})
	}
}

// A field rule naming a numeric key is a legitimate gjson path (an object
// keyed by order number or date, or an array index), and ParsePath accepts
// any number. rewrite.New then grows a slice with one uint64 per index up
// to it, at Provision: `field orders.20240101.amount` costs 160 MB, and an
// 11-digit key (`field byMobile.13812345678 cn_mobile`) asks for 110 GB and
// kills Caddy at start. Here a 7-digit key, measured.
func TestReview15cNumericKeyFieldDoesNotAllocateItsIndex(t *testing.T) {
	if _, err := config.ParsePath("byMobile.13812345678"); err != nil {
		t.Fatalf("ParsePath refuses it (then this is not a finding): %v", err)
	}
	route, err := config.CompileRoute(config.Route{Scan: "off", Fields: []config.Field{{Path: "orders.1000000.amount", Type: "bank_card"}}})
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := config.Compile(config.Policy{Roles: map[string]config.RoleRules{"a": {"*": "mask"}}})
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	if _, err := rewrite.New(rewrite.Options{Route: route, Table: tbl}); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Errorf("compiling one field rule with the key 1000000 allocated %d MB", n>>20)
	}
}

// scanGatewayCaddyfile builds a Caddyfile for the gateway/scan comparison.
func scanGatewayCaddyfile(upstream, site string) string {
	return `{
	skip_install_trust
	admin localhost:2999
	http_port 9080
	https_port 9443
	pii {
		role online_agent {
			cn_mobile mask
			email mask
			* redact
		}
	}
}
http://localhost:9080 {
` + strings.ReplaceAll(site, "UPSTREAM", upstream) + `
}
`
}

// compareScanWithGateway serves body from an upstream, asks the gateway
// for path as role, and runs `caddy pii scan` on the same Caddyfile, path
// and role. It returns both views (scan's error in place of its view).
func compareScanWithGateway(t *testing.T, site, path, role, body string) (gateway, scan string) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test")
	}
	ensureAdmin(t)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, body)
	}))
	defer up.Close()
	cf := scanGatewayCaddyfile(up.Listener.Addr().String(), site)
	tc := caddytest.NewTester(t)
	tc.InitServer(cf, "caddyfile")
	_, gateway = get(t, tc, path, role)

	dir := t.TempDir()
	file := filepath.Join(dir, "Caddyfile")
	os.WriteFile(file, []byte(cf), 0o644)
	out, _, err := run(t, scanCommand(), body, "--config", file, "--role", role, "--path", path)
	if err != nil {
		out = "error: " + err.Error()
	}
	return gateway, out
}

// `caddy pii scan` "must agree with what the gateway really sends". Caddy's
// `handle` blocks are mutually exclusive: the first that matches runs and
// the others do not. findMask descends into the first matching handle,
// finds no pii_mask there and goes on to the next handle, whose pii_mask
// the request never reaches. The dry run shows a masked view where the
// gateway sends the upstream's body unmasked; it should say that no
// pii_mask guards the path.
func TestReview15cScanAgreesWithGatewayHandleGroups(t *testing.T) {
	body := `{"mobile":"13812345678","note":"mail a@example.com"}`
	gw, scan := compareScanWithGateway(t, `
	handle /api/public/* {
		reverse_proxy UPSTREAM
	}
	handle /api/* {
		pii_mask {
			roles_from {http.request.header.X-Test-Role}
			scan all
		}
		reverse_proxy UPSTREAM
	}`, "/api/public/customers", "online_agent", body)
	scanSaysUnguarded(t, body, gw, scan)
}

// scanSaysUnguarded checks that the gateway passes body unchanged and that
// caddy pii scan says no pii_mask guards the path (rather than showing a
// view no agent gets).
func scanSaysUnguarded(t *testing.T, body, gw, scan string) {
	t.Helper()
	if gw != body {
		t.Fatalf("the test's premise: the gateway sends %s, not the upstream's body", gw)
	}
	if !strings.Contains(scan, "no pii_mask handler guards path") {
		t.Errorf("gateway sends the upstream's body unmasked\ncaddy pii scan shows %s", scan)
	}
}

// The same within one `route` block: handlers run in the order written,
// and a reverse_proxy before pii_mask answers /api/public/… itself.
func TestReview15cScanAgreesWithGatewayRouteOrder(t *testing.T) {
	body := `{"mobile":"13812345678","note":"mail a@example.com"}`
	gw, scan := compareScanWithGateway(t, `
	route {
		reverse_proxy /api/public/* UPSTREAM
		pii_mask /api/* {
			roles_from {http.request.header.X-Test-Role}
			scan all
		}
		reverse_proxy UPSTREAM
	}`, "/api/public/customers", "online_agent", body)
	scanSaysUnguarded(t, body, gw, scan)
}

// Two pii_mask directives on one site both guard /api/…: the request goes
// through both (Caddy sorts the one with the more specific matcher first,
// and the other wraps the upstream inside it). scan applies only the
// first, so it shows the note's e-mail address in clear, which the
// gateway masks.
func TestReview15cScanAgreesWithGatewayStackedMasks(t *testing.T) {
	body := `{"mobile":"13812345678","note":"mail a@example.com"}`
	gw, scan := compareScanWithGateway(t, `
	pii_mask {
		roles_from {http.request.header.X-Test-Role}
		scan all
	}
	pii_mask /api/* {
		roles_from {http.request.header.X-Test-Role}
		scan off
		field mobile cn_mobile
	}
	reverse_proxy UPSTREAM`, "/api/customers", "online_agent", body)
	if gw != scan {
		t.Errorf("gateway sends %s\ncaddy pii scan shows %s", gw, scan)
	}
}

// "a placeholder whose value is a list of strings gives one role per
// item". That holds when roles_from is exactly that placeholder; in any
// other roles_from (another placeholder or role beside it, or a default
// value) Caddy's ReplaceAll writes the list as "[agent auditor]", read as
// the roles "[agent" and "auditor]", both unknown. Under least_revealing
// the list's restricting role then restricts nothing.
func TestReview15cListPlaceholderInCompositeRolesFrom(t *testing.T) {
	tbl, err := config.Compile(config.Policy{Combine: config.LeastRevealing, Roles: map[string]config.RoleRules{
		"restricted": {"*": "redact"}, "supervisor": {"*": "plain"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	repl := caddy.NewReplacer()
	repl.Set("idp.roles", []string{"restricted", "contractor"})
	repl.Set("local.role", "supervisor")
	for _, from := range []string{"{idp.roles},{local.role}", "{idp.roles} {local.role}"} {
		m := &Mask{RolesFrom: from, rolesKey: singlePlaceholder(from)}
		var d config.Decision
		tbl.Decide(m.roles(repl), &d)
		if strings.Join(d.Roles, ",") != "restricted,supervisor" {
			t.Errorf("roles_from %s: roles %q read as %v, want [restricted supervisor]", from, m.roles(repl), d.Roles)
		}
	}
}

// piigate_mask_values_total labels the values of agents with no known
// role role="(none)", and a role may be called "(none)": Compile accepts
// it, and its agents' counts land in the same series as unknown agents'.
func TestReview15cMetricsUnknownLabelCollides(t *testing.T) {
	tbl, err := config.Compile(config.Policy{Roles: map[string]config.RoleRules{"(none)": {"*": "redact"}}})
	if err != nil {
		return // refusing the name is a fix
	}
	m := &metrics{
		responses: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "r"}, []string{"result"}),
		values:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "v"}, []string{"entity", "action", "role"}),
		refusals:  prometheus.NewCounterVec(prometheus.CounterOpts{Name: "f"}, []string{"reason"}),
		duration:  prometheus.NewHistogram(prometheus.HistogramOpts{Name: "d"}),
	}
	e, err := rewrite.New(rewrite.Options{Route: mustRoute(t), Table: tbl})
	if err != nil {
		t.Fatal(err)
	}
	for _, roles := range []string{"(none)", "someone_else"} {
		var d config.Decision
		tbl.Decide(roles, &d)
		o := &Outcome{Result: resultRewritten}
		if _, err := e.Rewrite(nil, []byte(`{"mobile":"13812345678"}`), rewrite.JSON, &d, &o.Summary); err != nil {
			t.Fatal(err)
		}
		m.observe(o, &d)
	}
	ch := make(chan prometheus.Metric, 16)
	m.values.Collect(ch)
	close(ch)
	for mt := range ch {
		var pb dto.Metric
		mt.Write(&pb)
		if pb.GetCounter().GetValue() > 1 {
			t.Errorf("one series counts the role (none) and an agent with no known role together: %v", pb.GetLabel())
		}
	}
}

// The pii app's policy-wide checks (role names, undefined custom types,
// hash without hash_key) run after the whole block is read, and d.Errf
// then names the line of the block's closing brace, not the line at
// fault: in a long policy the admin is sent to the wrong place.
func TestReview15cPolicyErrorsNameTheOffendingLine(t *testing.T) {
	for _, c := range []struct{ in, line string }{
		{"{\n pii {\n  role a,b {\n   * plain\n  }\n  role c {\n   * plain\n  }\n }\n}\n:80\n", "Caddyfile:3"},
		{"{\n pii {\n  role a {\n   custom:review15c_undef mask\n  }\n  role c {\n   * plain\n  }\n }\n}\n:80\n", "Caddyfile:4"},
	} {
		_, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(c.in), map[string]any{"filename": "Caddyfile"})
		if err == nil || !strings.Contains(err.Error(), c.line+",") && !strings.HasSuffix(err.Error(), c.line) {
			t.Errorf("adapting\n%s\ngot %v, want the error at %s", c.in, err, c.line)
		}
	}
}

// A JSON configuration (no adapter) with a misspelt pii_mask field:
// Caddy decodes module configs strictly and refuses to load it ("unknown
// field"), but `caddy pii scan` decodes it leniently, drops the field
// rules, prints the mobile in clear and exits 0: a dry run that answers
// for a configuration the gateway would never run, and gets it wrong.
func TestReview15cScanRefusesWhatCaddyRefuses(t *testing.T) {
	cfg := `{"apps":{"pii":{"roles":{"a":{"*":"mask"}}},"http":{"servers":{"s":{"listen":[":9999"],"routes":[{"handle":[{"handler":"pii_mask","feilds":[{"path":"mobile","type":"cn_mobile"}],"scan":"off"}]}]}}}}}`
	var c caddy.Config
	if err := json.Unmarshal([]byte(cfg), &c); err != nil {
		t.Fatal(err)
	}
	verr := caddy.Validate(&c)
	if verr == nil {
		t.Fatal("caddy validate accepts it (then this is not a finding)")
	}
	f := filepath.Join(t.TempDir(), "caddy.json")
	os.WriteFile(f, []byte(cfg), 0o644)
	out, _, err := run(t, scanCommand(), `{"mobile":"13812345678"}`, "--config", f, "--role", "a", "--path", "/x")
	if err == nil {
		t.Errorf("caddy pii scan printed %s and succeeded; caddy validate says: %v", out, verr)
	}
}
