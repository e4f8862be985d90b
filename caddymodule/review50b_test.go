package caddymodule

// Fiftieth review (b): differential testing of `caddy pii scan` against a
// real gateway on the same Caddyfile. Each gateway here is loaded in
// process (caddy.Load, the admin endpoint where caddytest looks) on a port the OS chose, with an
// httptest upstream; each test fails on the code as reviewed because the
// dry run shows something else than the gateway sends, or accepts or
// refuses differently.

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
)

// r50bBody holds a mobile, an e-mail and a name: under the online_agent
// policy below each is masked whatever the rules read it as.
const r50bBody = `{"mobile":"13812345678","email":"zhang.san@example.com","note":"call 13912345678"}`

const r50bGlobal = `{
	admin localhost:2999
	auto_https off
	persist_config off
	pii {
		role online_agent {
			cn_mobile mask
			email mask
			* redact
		}
		role auditor {
			* plain
		}
	}
}
`

// r50bFreePort returns a loopback port the OS chose.
func r50bFreePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// r50bUpstream answers every request with body and the given fields.
func r50bUpstream(t *testing.T, body string, header ...string) string {
	t.Helper()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		for _, h := range header {
			name, value, _ := strings.Cut(h, ":")
			w.Header().Set(strings.TrimSpace(name), strings.TrimSpace(value))
		}
		io.WriteString(w, body)
	}))
	t.Cleanup(up.Close)
	return up.Listener.Addr().String()
}

// r50bGateway loads site (PORT and UPSTREAM replaced) under r50bGlobal
// into an in-process Caddy and writes the same Caddyfile where caddy pii
// scan reads it. It returns the gateway's base URL and the file.
func r50bGateway(t *testing.T, upstream, site string) (base, file string) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test")
	}
	port := r50bFreePort(t)
	site = strings.ReplaceAll(site, "UPSTREAM", upstream)
	site = strings.ReplaceAll(site, "PORT", fmt.Sprint(port))
	cf := r50bGlobal + site
	file = filepath.Join(t.TempDir(), "Caddyfile")
	if err := os.WriteFile(file, []byte(cf), 0o644); err != nil {
		t.Fatal(err)
	}
	js, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(cf), map[string]any{"filename": file})
	if err != nil {
		t.Fatalf("adapt: %v", err)
	}
	if err := caddy.Load(js, true); err != nil {
		t.Fatalf("load: %v", err)
	}
	// (The admin endpoint stays where caddytest looks, for the tests
	// after this one, which load their own configurations through it.)
	base = fmt.Sprintf("http://127.0.0.1:%d", port)
	for i := 0; i < 50; i++ {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			c.Close()
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	return base, file
}

// r50bGet asks the gateway for path with the given request fields
// ("Name: value") and returns the response and its body.
func r50bGet(t *testing.T, method, url string, header ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	req.Header.Set("Accept-Encoding", "identity")
	for _, h := range header {
		name, value, _ := strings.Cut(h, ":")
		req.Header.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// r50bScan runs caddy pii scan on file with body on stdin; the view, or
// "error: …" in its place, and stderr.
func r50bScan(t *testing.T, file, body string, args ...string) (string, string) {
	t.Helper()
	out, errOut, err := run(t, scanCommand(), body, append([]string{"--config", file}, args...)...)
	if err != nil {
		out = "error: " + err.Error()
	}
	return out, errOut
}

// r50bAgreeBody fails unless the dry run printed exactly the body the
// gateway sent (or, where the gateway answered with an error status, the
// dry run failed too).
func r50bAgreeBody(t *testing.T, resp *http.Response, gw, scan, errOut string) {
	t.Helper()
	if resp.StatusCode != http.StatusOK {
		if !strings.HasPrefix(scan, "error: ") {
			t.Errorf("the gateway answers %d %s\ncaddy pii scan shows a view: %s\n(stderr %q)", resp.StatusCode, gw, scan, errOut)
		}
		return
	}
	if scan != gw {
		t.Errorf("the gateway sends %s\ncaddy pii scan shows   %s\n(stderr %q)", gw, scan, errOut)
	}
}

// Finding 1 — FALSE REASSURANCE. Caddy's server (v2.11, serveHTTP) drops
// every request header field whose name holds '_' or '.' before any
// route runs (unless the server's expected_underscore_headers /
// expected_dot_headers allow it: GHSA-f59h-q822-g45g). scanRequest only
// calls caddyhttp.PrepareRequest, so the dry run's request keeps such
// fields — those of --request-header and the role it presets where
// roles_from reads one. Here the agents' route is chosen by the header
// their client sends, X_Agent_Role: the gateway never sees it, so every
// agent falls through to the unguarded catch-all and gets the mobile and
// the e-mail in clear; caddy pii scan walks the agents' route and prints
// the masked view, exit 0, no note.
//
// Fix: drop the same fields as Caddy's server does (the server's allow
// lists honoured) after building the request and presetting the role —
// or refuse such a roles_from / --request-header name with a message.
func TestReview50bScanUnderscoreHeaderDroppedByCaddy(t *testing.T) {
	up := r50bUpstream(t, r50bBody)
	base, file := r50bGateway(t, up, `
:PORT {
	@agents header X_Agent_Role *
	handle @agents {
		pii_mask {
			roles_from {http.request.header.X_Agent_Role}
		}
		reverse_proxy UPSTREAM
	}
	handle {
		reverse_proxy UPSTREAM
	}
}
`)
	resp, gw := r50bGet(t, "GET", base+"/api/customers", "X_Agent_Role: online_agent")
	if gw != r50bBody {
		t.Fatalf("the test's premise: the gateway drops X_Agent_Role and sends the upstream's body unmasked, got %d %s", resp.StatusCode, gw)
	}
	scan, errOut := r50bScan(t, file, r50bBody, "--role", "online_agent", "--path", "/api/customers",
		"--request-header", "X_Agent_Role: online_agent")
	if !strings.HasPrefix(scan, "error: ") {
		t.Errorf("FALSE REASSURANCE: the gateway sends the agent %s\ncaddy pii scan shows %s (stderr %q)", gw, scan, errOut)
	}
}

// Finding 2 — FALSE REASSURANCE. scanRequest puts --role in every
// request header that any pii_mask of the configuration reads its roles
// from (opt.rolesFrom is collected over the whole configuration), unless
// --request-header gives that field. A site that serves two kinds of
// client — partners, whose role comes in X-Partner-Role and whose
// traffic is routed on that field, and the call-centre agents, whose role
// comes in X-Role — thus gets a dry-run request that carries both: the
// agent's request is taken for a partner's. An agent asking for a path
// outside /api/* gets the catch-all's upstream body in clear; caddy pii
// scan --role online_agent (even with --request-header "X-Role:
// online_agent", the field the agent's client really sends) walks the
// partners' route and prints the masked view, without a note.
//
// Fix: preset only the field(s) the pii_mask handlers on the way read —
// e.g. walk once per candidate field, or require --request-header when
// the configuration reads roles from several request fields and a route
// matcher reads one of them — and in any case name the preset fields in a
// note when a matcher on the way reads them.
func TestReview50bScanPresetsEveryRoleHeader(t *testing.T) {
	up := r50bUpstream(t, r50bBody)
	base, file := r50bGateway(t, up, `
:PORT {
	@partner header X-Partner-Role *
	handle @partner {
		pii_mask {
			roles_from {http.request.header.X-Partner-Role}
		}
		reverse_proxy UPSTREAM
	}
	handle /api/* {
		pii_mask {
			roles_from {http.request.header.X-Role}
		}
		reverse_proxy UPSTREAM
	}
	handle {
		reverse_proxy UPSTREAM
	}
}
`)
	resp, gw := r50bGet(t, "GET", base+"/internal/customers", "X-Role: online_agent")
	if gw != r50bBody {
		t.Fatalf("the test's premise: the agent gets the catch-all's body unmasked, got %d %s", resp.StatusCode, gw)
	}
	scan, errOut := r50bScan(t, file, r50bBody, "--role", "online_agent", "--path", "/internal/customers",
		"--request-header", "X-Role: online_agent")
	if !strings.HasPrefix(scan, "error: ") && !strings.Contains(errOut, "X-Partner-Role") {
		t.Errorf("FALSE REASSURANCE: the gateway sends an online agent %s\ncaddy pii scan shows %s and names no preset X-Partner-Role (stderr %q)", gw, scan, errOut)
	}
}

// Finding 3 — WRONG VIEW, silently. scanRequest sets every
// {http.auth.user.*} placeholder a roles_from reads to --role before the
// walk starts, whether or not an authentication handler (pii_oidc,
// basic_auth) is on the request's way; the note "… is not run: of what it
// sets, only the placeholder roles_from reads holds --role" is printed
// only when the walk passes one. The README says the role is carried
// where pii_mask reads it from "the placeholders pii_oidc or basic_auth
// would set, which are not run: a note says so". Here the login guards
// /admin/* only and the API is left out: in the gateway nothing sets
// {http.auth.user.roles} on /api/customers, every agent is an unknown
// role and gets everything redacted (403 under unknown_role deny); the
// dry run prints the online_agent view (138****5678, z***@example.com)
// with no note at all, so the admin never learns the API has no login.
//
// Fix: set the auth placeholders to --role when the walk passes an
// authentication / pii_oidc handler (not up front), so a pii_mask that
// reads them with none on the way fails the role check ("nothing on the
// way set it"), or at least note that no handler on the way sets them.
func TestReview50bScanAuthPlaceholdersWithoutAuthHandler(t *testing.T) {
	up := r50bUpstream(t, r50bBody)
	base, file := r50bGateway(t, up, `
:PORT {
	basic_auth /admin/* {
		admin $2a$04$3rR8MTrNQ3XhT6.nP8lqmOZp2lxQ9H4mA7mqwJ6Yb4w0GZQnwV3i.
	}
	pii_mask /api/*
	reverse_proxy UPSTREAM
}
`)
	resp, gw := r50bGet(t, "GET", base+"/api/customers")
	if resp.StatusCode != http.StatusOK || !strings.Contains(gw, `"mobile":"[cn_mobile]"`) {
		t.Fatalf("the test's premise: with no login on /api/*, the gateway redacts everything, got %d %s", resp.StatusCode, gw)
	}
	scan, errOut := r50bScan(t, file, r50bBody, "--role", "online_agent", "--path", "/api/customers")
	if !strings.HasPrefix(scan, "error: ") && scan != gw && !strings.Contains(errOut, "auth") {
		t.Errorf("WRONG VIEW: the gateway sends every agent %s\ncaddy pii scan --role online_agent shows %s and notes nothing (stderr %q)", gw, scan, errOut)
	}
}

// Finding 4 — FALSE REASSURANCE (serve mode). A reverse_proxy whose
// handle_response route ends in copy_response sends the upstream's
// response through reverse_proxy's finalizeResponse, which applies the
// proxy's header_down operations (Caddy: copy_response →
// finalizeResponse → h.Headers.Response.ApplyTo). chainWalk.reverseProxy
// sets c.upstreamOps = nil as soon as it follows a handle_response route,
// so serveDryRun hands the pii_mask inside the route the upstream's
// fields without header_down. A legacy upstream that labels its JSON
// text/html, relabelled by header_down Content-Type application/json,
// is read by the gateway's pii_mask as JSON: `scan off` applies, and the
// e-mail and the note's mobile go out in clear. The dry run (--header
// "Content-Type: text/html", what the upstream sends) reads it as
// text/html, content-scanned everywhere, and prints them masked.
//
// Fix: keep the reverse_proxy's response operations for the
// handle_response routes when they reach copy_response (drop them only
// for routes that go on to the next handler, as forward_auth's do).
func TestReview50bServeCopyResponseAppliesHeaderDown(t *testing.T) {
	up := r50bUpstream(t, r50bBody, "Content-Type: text/html")
	base, file := r50bGateway(t, up, `
:PORT {
	route /api/* {
		reverse_proxy UPSTREAM {
			header_down Content-Type application/json
			@ok status 2xx
			handle_response @ok {
				pii_mask {
					roles_from {http.request.header.X-Role}
					field mobile cn_mobile
					scan off
				}
				copy_response
			}
		}
	}
}
`)
	resp, gw := r50bGet(t, "GET", base+"/api/customers", "X-Role: online_agent")
	if resp.StatusCode != http.StatusOK || !strings.Contains(gw, "zhang.san@example.com") || !strings.Contains(gw, "138****5678") {
		t.Fatalf("the test's premise: the gateway reads the relabelled body as JSON (scan off), got %d %s", resp.StatusCode, gw)
	}
	scan, errOut := r50bScan(t, file, r50bBody, "--role", "online_agent", "--path", "/api/customers",
		"--header", "Content-Type: text/html")
	r50bAgreeBody(t, resp, gw, scan, errOut)
}

// Finding 5 — ACCEPTS WHAT THE GATEWAY REFUSES (default mode). Without
// --content-type/--header the dry run runs engine.Rewrite on stdin and
// never compares the body with the pii_mask's max_body (16MiB by
// default): a body the gateway refuses with 502 (body_too_large) is shown
// masked, exit 0. An admin who dry-runs the real size of an export
// ("will the agents get the monthly customer list?") is told yes. (Serve
// mode runs the handler and refuses, as the gateway does.)
//
// Fix: in default mode, refuse a body over each pii_mask's MaxBody with
// the gateway's reason, as serve mode does.
func TestReview50bScanIgnoresMaxBody(t *testing.T) {
	up := r50bUpstream(t, r50bBody)
	base, file := r50bGateway(t, up, `
:PORT {
	pii_mask /api/* {
		roles_from {http.request.header.X-Role}
		max_body 40
	}
	reverse_proxy UPSTREAM
}
`)
	resp, gw := r50bGet(t, "GET", base+"/api/customers", "X-Role: online_agent")
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("the test's premise: the gateway refuses a body over max_body with 502, got %d %s", resp.StatusCode, gw)
	}
	scan, errOut := r50bScan(t, file, r50bBody, "--role", "online_agent", "--path", "/api/customers")
	r50bAgreeBody(t, resp, gw, scan, errOut)
}

// Finding 6 — FALSE REASSURANCE (serve mode). matchesSuccess takes a
// handle_response matcher whose only condition is a status code to match
// whenever any of its codes is a 2xx: `status 201` matches. But serve
// mode's upstream answers 200 (serveDryRun writes http.StatusOK, and
// header conditions are evaluated with m.Match(http.StatusOK, …)), and
// Caddy evaluates the matcher on that status: 201 ≠ 200, the route is not
// taken, and reverse_proxy sends the upstream's response as it is. Here
// the only pii_mask sits in the route for 201 Created: every 200 goes out
// in clear, and the dry run prints it masked.
//
// Fix: evaluate the matcher with ResponseMatcher.Match(http.StatusOK,
// header) in serve mode (and in default mode say which status was
// assumed, or take 200 too); the same for intercept.
func TestReview50bServeHandleResponseStatus201(t *testing.T) {
	up := r50bUpstream(t, r50bBody)
	base, file := r50bGateway(t, up, `
:PORT {
	route /api/* {
		reverse_proxy UPSTREAM {
			@created status 201
			handle_response @created {
				pii_mask {
					roles_from {http.request.header.X-Role}
				}
				copy_response
			}
		}
	}
}
`)
	resp, gw := r50bGet(t, "GET", base+"/api/customers", "X-Role: online_agent")
	if resp.StatusCode != http.StatusOK || gw != r50bBody {
		t.Fatalf("the test's premise: the gateway sends a 200 unmasked, got %d %s", resp.StatusCode, gw)
	}
	scan, errOut := r50bScan(t, file, r50bBody, "--role", "online_agent", "--path", "/api/customers",
		"--content-type", "application/json")
	if !strings.HasPrefix(scan, "error: ") {
		t.Errorf("FALSE REASSURANCE: the upstream's 200 goes out %s\ncaddy pii scan --content-type application/json shows %s (stderr %q)", gw, scan, errOut)
	}
}

// Finding 7 — FALSE REASSURANCE. Without --host the dry run's request
// is for Host localhost; host *matchers* are taken to match and noted
// (chainWalk.matches), but handlers that read the host — `map {host}`,
// a rewrite to /{host}{uri}, vars or header values with {host} — are run
// on "localhost" without a word, and a matcher that reads what they set
// (`vars {tenant} public`) holds no "host" and gets no note either. A
// site that serves two names and routes the public one around pii_mask
// (`map {host} {tenant}`) sends the public name's agents the upstream's
// body in clear; caddy pii scan prints the masked view and a note that
// the routes of "agents.example.com, public.example.com" were taken to
// match — as if the view held for both names.
//
// Fix: note (or, better, walk once per host name the matched site
// blocks list and report views that differ) when a handler or matcher on
// the way reads a host placeholder ({host}, {http.request.host},
// {hostport} …) and --host was not given.
func TestReview50bScanHostPlaceholderInMapSilent(t *testing.T) {
	up := r50bUpstream(t, r50bBody)
	base, file := r50bGateway(t, up, `
http://public.example.com:PORT, http://agents.example.com:PORT {
	map {host} {tenant} {
		public.example.com public
		default agents
	}
	@public vars {tenant} public
	handle @public {
		reverse_proxy UPSTREAM
	}
	handle {
		pii_mask {
			roles_from {http.request.header.X-Role}
		}
		reverse_proxy UPSTREAM
	}
}
`)
	req, _ := http.NewRequest(http.MethodGet, base+"/api/customers", nil)
	req.Host = "public.example.com"
	req.Header.Set("X-Role", "online_agent")
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if gw := string(b); gw != r50bBody {
		t.Fatalf("the test's premise: public.example.com's agents get the upstream's body unmasked, got %d %s", resp.StatusCode, gw)
	}
	scan, errOut := r50bScan(t, file, r50bBody, "--role", "online_agent", "--path", "/api/customers")
	if strings.HasPrefix(scan, "error: ") {
		return
	}
	for _, line := range strings.Split(errOut, "\n") {
		if strings.Contains(line, "map") || strings.Contains(line, "{host}") || strings.Contains(line, "reads the host") {
			return
		}
	}
	t.Errorf("FALSE REASSURANCE: public.example.com sends %s\ncaddy pii scan (no --host) shows %s, and says only %q", string(b), scan, errOut)
}
