package caddymodule

// Forty-seventh review (a): `caddy pii scan` (command_scan.go) after the
// three rounds of fixes of 937f90f, a149b8e and e1f0305. Each test fails
// on the code as reviewed, for the reason its comment gives, and passes
// once the finding is fixed. The real-Caddy tests use ports 9080/9081 and
// 2999: run them under flock /tmp/piigate-caddytest.lock.

import (
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Finding 1 — FALSE REASSURANCE (serve mode). e1f0305 applies the
// response operations of `header` directives between a pii_mask and the
// upstream (chainWalk.run appends the headers handler to maskAt.after),
// but reverse_proxy's own response operations — `header_down` in its
// block, Headers.Response applied by finalizeResponse to the upstream's
// header before it is copied to the writer, that is before pii_mask reads
// it — are not: reverseProxy() only reads handle_response. The same
// legacy-upstream fix-up as the forty-sixth review's finding 2, written
// the reverse_proxy way (`header_down Content-Type application/json`),
// makes the gateway read the body as JSON (scan off: field rules only)
// and send the note's e-mail in clear; `caddy pii scan --content-type
// text/plain` (the upstream's real label) content-scans it and prints
// z***@example.com, and prints "< Content-Type: text/plain".
//
// Expected: the walk keeps the reverse_proxy that answers, and serve mode
// applies its headers.response operations (respecting their require
// matcher) to the upstream's header before the innermost pii_mask reads
// it (or scan refuses to guess).
func TestReview47aServeIgnoresReverseProxyHeaderDown(t *testing.T) {
	site := `
	route /api/* {
		pii_mask {
			roles_from {http.request.header.X-Test-Role}
			field mobile cn_mobile
			scan off
		}
		reverse_proxy UPSTREAM {
			header_down Content-Type application/json
		}
	}`
	resp, gw, out, _, err := compareScanServe(t, site, "/api/customers", "online_agent", review44aBody, "Content-Type: text/plain")
	if resp.StatusCode != http.StatusOK || !strings.Contains(gw, tEmail) {
		t.Fatalf("the test's premise: the gateway reads JSON (scan off) and sends the e-mail, got %d %s", resp.StatusCode, gw)
	}
	if err == nil && out != gw {
		t.Errorf("FALSE REASSURANCE: the gateway sends %s\ncaddy pii scan --content-type text/plain shows %s", gw, out)
	}
}

// Finding 2 — MISLEADING (serve mode). A `header` directive that sets a
// field without `>` (and without `-`, `?`, defer) is not deferred: Caddy's
// headers.Handler applies it to w.Header() at once, before the upstream
// answers, and reverse_proxy then *adds* the upstream's fields
// (copyHeader: dst.Add). `header Content-Type application/json` — the
// usual way to relabel a legacy API — thus gives the gateway two
// Content-Type lines, which pii_mask refuses (mask_writer.go WriteHeader:
// `len(h["Content-Type"]) > 1` → 502 uninspectable_type), whether the
// directive is inside the route after pii_mask or at site level (sorted
// before it). The dry run shows a 200 with a view, exit 0: its innermost
// handler *replaces* the fields (`w.Header()[k] = append(...)` in
// serveDryRun), and a headers handler before the first pii_mask is not
// kept at all (chainWalk.run: `len(c.masks) > 0`).
//
// Expected: serve mode adds the upstream's fields as reverse_proxy does,
// and applies the non-deferred response operations of the headers
// handlers before the first pii_mask to the response writer's header
// before serving, so scan reports the gateway's 502.
func TestReview47aServeImmediateHeaderOpDuplicatesType(t *testing.T) {
	for name, site := range map[string]string{
		"inside the route, after pii_mask": `
	route /api/* {
		pii_mask {
			roles_from {http.request.header.X-Test-Role}
			field mobile cn_mobile
			scan off
		}
		header Content-Type application/json
		reverse_proxy UPSTREAM
	}`,
		"at site level, before pii_mask": `
	header /api/* Content-Type application/json
	pii_mask /api/* {
		roles_from {http.request.header.X-Test-Role}
		field mobile cn_mobile
		scan off
	}
	reverse_proxy UPSTREAM`,
	} {
		t.Run(name, func(t *testing.T) {
			resp, gw, out, _, err := compareScanServe(t, site, "/api/customers", "online_agent", review44aBody, "Content-Type: application/json")
			if resp.StatusCode != http.StatusBadGateway {
				t.Fatalf("the test's premise: the gateway refuses two Content-Type lines with 502, got %d %s", resp.StatusCode, gw)
			}
			if err == nil || !strings.Contains(err.Error(), "refuses this response with 502") {
				t.Errorf("MISLEADING: the gateway answers 502 (%s)\ncaddy pii scan shows a view: %q (err %v)", strings.TrimSpace(gw), out, err)
			}
		})
	}
}

// Finding 3 — FALSE REASSURANCE. When a handler fails the request
// (`error`), Caddy's server puts the error in the replacer
// ({http.error.status_code}, {http.error.message} …) before it runs the
// error routes. The walk does not (chainWalk.handler `case "error"` only
// sets failed), so error routes chosen by status — `handle_errors 410 {…}`,
// which Caddy 2.8+ adapts to `expression {http.error.status_code} in
// [410]` — never match in the dry run. Here `error /api/old/* 410` goes,
// in the gateway, to `handle_errors 410`, which proxies the upstream
// unguarded: the agent gets the body unmasked. The walk passes that route
// by and reaches the catch-all `handle_errors` with its pii_mask, and
// prints the masked view.
//
// Expected: the `error` handler's status and message (placeholders
// replaced) are set as Caddy sets them (repl.Set("http.error",
// caddyhttp.Error(code, …)) or the http.error.* keys) before the error
// routes are walked, so status-specific handle_errors are chosen as in
// Caddy.
func TestReview47aScanHandleErrorsByStatus(t *testing.T) {
	gw, scan := compareScanWithGateway(t, `
	error /api/old/* "gone" 410
	handle_errors 410 {
		reverse_proxy UPSTREAM
	}
	handle_errors {
		pii_mask `+review44aMask+`
		reverse_proxy UPSTREAM
	}
	pii_mask /api/* `+review44aMask+`
	reverse_proxy UPSTREAM`, "/api/old/customers", "online_agent", review44aBody)
	review44aScanAgrees(t, review44aBody, gw, scan)
}

// Finding 4 — FALSE REASSURANCE (documented, but silent). Of several
// servers, loadMasksForPath returns the first (by name) whose walk
// reaches a pii_mask and says nothing of the others; the unguarded
// answers of the other servers are reported only when *no* server guards
// the path (`answered` is used only then). A second site on another port
// — an internal or debugging listener, `http://localhost:9081 {
// reverse_proxy … }` — sends /api/customers unmasked; scan prints the
// masked view of 9080 with nothing on stderr, even with --host given. The
// forty-fourth review's finding 7 got a note for sites on one server
// (host matchers); sites on other ports got none.
//
// Expected: when another server answers the same path without a
// pii_mask (c.answered for it), a note names it ("server srv1 (:9081)
// answers /api/customers with reverse_proxy, unguarded"), or a --port /
// --server flag chooses the server.
func TestReview47aScanOtherServerUnguardedSilent(t *testing.T) {
	up := r45aUpstream(t)
	cf := scanGatewayCaddyfile(up, `
	pii_mask /api/* `+review44aMask+`
	reverse_proxy UPSTREAM`) + `
http://localhost:9081 {
	reverse_proxy ` + up + `
}
`
	tc, file := r45aGateway(t, cf)
	req, _ := http.NewRequest(http.MethodGet, "http://localhost:9081/api/customers", nil)
	if other := r45aDo(t, tc.Client, req); other != review44aBody {
		t.Fatalf("the test's premise: the site on 9081 sends the body unmasked, got %s", other)
	}
	out, errOut, err := run(t, scanCommand(), review44aBody, "--config", file, "--role", "online_agent",
		"--path", "/api/customers", "--host", "localhost")
	if err == nil && !strings.Contains(errOut, "srv1") && !strings.Contains(errOut, "9081") {
		t.Errorf("FALSE REASSURANCE: localhost:9081 sends %s unmasked; scan shows %s with nothing about it (stderr %q)",
			review44aBody, out, errOut)
	}
}

// Finding 5 — VALID CONFIG REFUSED. forward_auth with copy_headers of the
// header roles_from reads (the usual way to take the role from an
// authentication service) can never be dry-run: Caddy expands it to a
// reverse_proxy whose 2xx handle_response route deletes X-Test-Role and
// sets it from {http.reverse_proxy.header.X-Test-Role}; the walk runs that
// route (reverseProxy → routes) with no auth response, so the field is
// deleted, and e1f0305's check (chainWalk.handler `!sameRoles(got,
// c.opt.role)`) fails with "holds \"\" there … the configuration sets or
// removes it on the way … cannot show another role's view" — whatever
// --role or --request-header is given (the field is deleted either way).
// The gateway, whose auth service answers X-Test-Role: online_agent,
// sends the online agent's masked view, which is exactly what the admin
// asked scan for.
//
// Expected: the walk takes the auth service to answer the fields
// roles_from reads with --role (set {http.reverse_proxy.header.<name>}
// to --role while it follows a handle_response route that copies it,
// with the existing note), and shows the gateway's view.
func TestReview47aScanForwardAuthCopiedRoleRefused(t *testing.T) {
	auth := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Test-Role", "online_agent")
		w.WriteHeader(http.StatusOK)
	}))
	defer auth.Close()
	gw, scan := compareScanWithGateway(t, `
	forward_auth `+auth.Listener.Addr().String()+` {
		uri /check
		copy_headers X-Test-Role
	}
	pii_mask /api/* `+review44aMask+`
	reverse_proxy UPSTREAM`, "/api/customers", "online_agent", review44aBody)
	if gw == review44aBody || !strings.Contains(gw, "138****5678") {
		t.Fatalf("the test's premise: the gateway masks for the role the auth service names, got %s", gw)
	}
	if scan != gw {
		t.Errorf("VALID CONFIG REFUSED: the gateway sends the online agent %s\ncaddy pii scan --role online_agent: %s", gw, scan)
	}
}

// Finding 6 — VALID CONFIG REFUSED, MISLEADING MESSAGE. A role copied
// into a variable from a request header — `vars role
// {http.request.header.X-Test-Role}` with roles_from {http.vars.role}
// (the README's `vars role …` example fed from the client's header, as in
// the forty-sixth review's own tests), or a `map` from a group header —
// is refused with `--role online_agent`: scanRequest presets --role only
// where roles_from itself reads a request header or an auth placeholder
// (opt.rolesFrom = {http.vars.role} here), so the vars handler copies an
// empty header and the check fails with "the configuration sets or
// removes it on the way (vars, map, forward_auth, a request header), and
// caddy pii scan cannot show another role's view". Nothing sets or
// removes anything; the client's header simply was not given, and the
// message does not say that --request-header "X-Test-Role: online_agent"
// makes it work. (The same for a role read from a cookie or the query.)
//
// Expected: scan shows the gateway's view (follow the placeholder a vars
// or map handler copies into what roles_from reads, and preset --role
// there), or at least the error says which client field is empty and
// that --request-header gives it.
func TestReview47aScanVarsCopiedFromRequestHeader(t *testing.T) {
	gw, scan := compareScanWithGateway(t, `
	vars role {http.request.header.X-Test-Role}
	pii_mask /api/* {
		roles_from {http.vars.role}
		scan all
	}
	reverse_proxy UPSTREAM`, "/api/customers", "online_agent", review44aBody)
	if !strings.Contains(gw, "138****5678") {
		t.Fatalf("the test's premise: the gateway masks for the online agent, got %s", gw)
	}
	if scan != gw && !strings.Contains(scan, "--request-header") {
		t.Errorf("VALID CONFIG REFUSED: the gateway sends the online agent %s\ncaddy pii scan --role online_agent: %s", gw, scan)
	}
}

// Finding 7 — MISLEADING. pii_mask strips its strip_request_header fields
// *before* it reads the roles (Mask.ServeHTTP: m.stripRequest(r), then
// m.table.Decide(m.roles(repl), d)), so a pii_mask that strips the header
// its roles_from reads — an admin hiding the role header from the
// upstream — gives every agent the default (redact everything; 403 under
// unknown_role deny). The walk does it the other way round
// (chainWalk.handler: `m.roles(repl)` checked against --role, then
// `m.stripRequest(c.req)`), and both output paths decide with --role
// (RunE Decide(role); serveDryRun `m.RolesFrom = role`): scan prints the
// online agent's view 138****5678 / z***@example.com while every agent
// gets [cn_mobile] / [email].
//
// Expected: the walk strips before it reads the roles, as ServeHTTP does,
// and reports what the gateway does (an error: "pii_mask strips
// X-Test-Role, which its roles_from reads: every agent gets the
// default"), or the configuration is refused at adapt time.
//
// Since the fifty-second review (b) the configuration is refused when it
// is adapted, at the strip_request_header line.
func TestReview47aScanStripsRoleHeaderAfterReadingIt(t *testing.T) {
	in := "{\n pii {\n  role online_agent {\n   * plain\n  }\n }\n}\n:80 {\n pii_mask /api/* {\n" +
		"  roles_from {http.request.header.X-Test-Role}\n  scan all\n  strip_request_header X-Test-Role\n }\n reverse_proxy 127.0.0.1:9\n}\n"
	_, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(in), map[string]any{"filename": "Caddyfile"})
	if err == nil || !strings.Contains(err.Error(), "roles_from reads the roles from it") || !strings.Contains(err.Error(), "Caddyfile:12") {
		t.Errorf("stripping the field roles_from reads: %v", err)
	}
}

// Finding 8 — VALID CONFIG REFUSED. Caddy 2.11's `timeouts` directive
// (http.handlers.timeouts, a middleware that always calls next; the
// Caddyfile orders it first) is not in passOn, so chainWalk.handler takes
// it for a handler that answers: `timeouts { write_timeout 30s }` at site
// level makes scan say "no pii_mask handler guards path /api/customers
// … timeouts answers it in server srv0, before any pii_mask", exit 1,
// while the gateway masks. More generally every handler the walk does
// not know (a plugin's middleware: rate limits, caches) is asserted to
// answer the request, and the message reads as "unguarded" rather than
// "cannot tell".
//
// Expected: timeouts passes on; an unknown handler gives "caddy pii scan
// does not know whether <handler> answers; cannot tell", not "no pii_mask
// guards".
func TestReview47aScanTimeoutsDirectiveAnswers(t *testing.T) {
	gw, scan := compareScanWithGateway(t, `
	timeouts {
		write_timeout 30s
	}
	pii_mask /api/* `+review44aMask+`
	reverse_proxy UPSTREAM`, "/api/customers", "online_agent", review44aBody)
	if !strings.Contains(gw, "138****5678") {
		t.Fatalf("the test's premise: the gateway masks, got %s", gw)
	}
	if scan != gw {
		t.Errorf("VALID CONFIG REFUSED: the gateway sends %s\ncaddy pii scan: %s", gw, scan)
	}
}

// Finding 9 — VALID CONFIG REFUSED (cosmetic: --adapter caddyfile is the
// workaround). loadMasksForPath picks the Caddyfile adapter only for a
// base name that starts with "caddyfile"; Caddy (cmd.isCaddyfile) also
// takes names that end in ".caddyfile" (site.caddyfile, the layout of
// conf.d directories and of the Caddy docs), and reads a "Caddyfile.json"
// as JSON. `caddy run --config site.caddyfile` works; `caddy pii scan
// --config site.caddyfile` says "invalid character 's' looking for
// beginning of object key string".
//
// Expected: the same rule as Caddy's isCaddyfile.
func TestReview47aScanDotCaddyfileName(t *testing.T) {
	file := filepath.Join(t.TempDir(), "site.caddyfile")
	if err := os.WriteFile(file, []byte(scanGatewayCaddyfile("127.0.0.1:9", scanServeSite)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, err := run(t, scanCommand(), review44aBody, "--config", file, "--role", "online_agent", "--path", "/api/customers")
	if err != nil || !strings.Contains(out, "138****5678") {
		t.Errorf("--config site.caddyfile: %q %v", out, err)
	}
}
