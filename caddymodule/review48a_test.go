package caddymodule

// Forty-eighth review (a): `caddy pii scan` (command_scan.go) after the
// fixes of 4e2f26b. Each test fails on the code as reviewed, for the
// reason its comment gives, and passes once the finding is fixed. The
// real-Caddy tests use ports 9080/9081 and 2999: run them under
// flock /tmp/piigate-caddytest.lock.

import (
	"net/http"
	"strings"
	"testing"
)

// r48aScan runs caddy pii scan on file and returns "error: …" in place of
// the view when it fails, and stderr.
func r48aScan(t *testing.T, file, body string, args ...string) (string, string) {
	t.Helper()
	out, errOut, err := run(t, scanCommand(), body, append([]string{"--config", file}, args...)...)
	if err != nil {
		out = "error: " + err.Error()
	}
	return out, errOut
}

// Finding 1 — FALSE REASSURANCE. file_server is in `answers`
// (command_scan.go: `"file_server": true`): the walk stops there and the
// pii_mask handlers before it are taken to guard the response. But Caddy's
// file_server answers only when the file exists under root; otherwise it
// returns a 404 error (fileserver notFound: caddyhttp.Error(404, nil)),
// which goes up through the pii_mask (which writes nothing) to the
// server's handle_errors, whose routes write to the client's own writer.
// A "serve the JSON export from disk, fall back to the live API" site
// (handle_errors 404 { reverse_proxy … }) thus sends the upstream's body
// unmasked for every path whose file is missing, and `caddy pii scan`
// prints the masked view. The dry run already evaluates `file` matchers on
// the local disk; it can as well look up the file file_server would serve.
//
// Expected: the walk treats a file_server whose file does not exist under
// its root (on the local disk, as the file matcher does) as an `error`
// 404 (or pass_thru: go on to the next handler), and then finds the
// unguarded handle_errors: "no pii_mask guards" or "cannot tell".
func TestReview48aScanFileServerMissingFileGoesToErrors(t *testing.T) {
	root := t.TempDir()
	up := r45aUpstream(t)
	cf := scanGatewayCaddyfile(up, `
	route /api/* {
		pii_mask `+review44aMask+`
		root * `+root+`
		file_server
	}
	handle_errors 404 {
		reverse_proxy `+up+`
	}`)
	tc, file := r45aGateway(t, cf)
	_, gw := get(t, tc, "/api/customers.json", "online_agent")
	if gw != review44aBody {
		t.Fatalf("the test's premise: the gateway sends the upstream's body unmasked, got %s", gw)
	}
	scan, _ := r48aScan(t, file, review44aBody, "--role", "online_agent", "--path", "/api/customers.json")
	review44aScanAgrees(t, review44aBody, gw, scan)
}

// Finding 2 — FALSE REASSURANCE (silent). The dry run is a GET
// (scanRequest: http.NewRequest(http.MethodGet, …)) and the walk evaluates
// `method` matchers — and expressions on {method} — on it without a word
// (chainWalk.matches notes the host, the client's address and the
// protocol, not the method). An API whose search is a POST on the same
// path, routed around pii_mask (`@search method POST` → a handle of its
// own), sends the agent the upstream's body unmasked; `caddy pii scan
// --path /api/customers/search` prints the masked view, exit 0, and
// nothing says that another method takes another way.
//
// Expected: a matcher that reads the method notes "evaluated for GET; an
// agent's POST/PUT … may take another way" (as the protocol matcher is
// noted), or scan takes --method and builds the request with it.
func TestReview48aScanMethodMatcherSilent(t *testing.T) {
	up := r45aUpstream(t)
	tc, file := r45aGateway(t, scanGatewayCaddyfile(up, `
	@search method POST
	handle @search {
		reverse_proxy UPSTREAM
	}
	handle {
		pii_mask /api/* `+review44aMask+`
		reverse_proxy UPSTREAM
	}`))
	req, _ := http.NewRequest(http.MethodPost, "http://localhost:9080/api/customers/search", strings.NewReader(`{"q":"zhang"}`))
	if gw := r45aDo(t, tc.Client, req); gw != review44aBody {
		t.Fatalf("the test's premise: the gateway answers a POST unmasked, got %s", gw)
	}
	scan, errOut := r48aScan(t, file, review44aBody, "--role", "online_agent", "--path", "/api/customers/search")
	if !strings.HasPrefix(scan, "error: ") && !strings.Contains(strings.ToLower(errOut), "method") {
		t.Errorf("FALSE REASSURANCE: an agent's POST gets the upstream's body unmasked; caddy pii scan shows %s and notes nothing of the method (stderr %q)", scan, errOut)
	}
}

// Finding 3 — FALSE REASSURANCE (silent). Of several servers that guard
// the path, loadMasksForPath shows the first by name and skips the others
// without a note (`if found != nil { continue }`); only a server that
// answers the path *unguarded* is named (4e2f26b). A second site on
// another port (the internal port the call-centre agents use, an older
// site block left in place) whose pii_mask reads only field rules (`scan
// off`) sends the note's e-mail in clear; scan prints srv0's view, in
// which the e-mail is masked, and names no other server.
//
// Expected: every other server whose walk reaches a pii_mask (or
// answers) is named in a note, at least when its view of the body
// differs; better, --listen/--port chooses the server.
func TestReview48aScanOtherServerGuardsDifferentlySilent(t *testing.T) {
	up := r45aUpstream(t)
	cf := scanGatewayCaddyfile(up, `
	pii_mask /api/* `+review44aMask+`
	reverse_proxy UPSTREAM`) + `
http://localhost:9081 {
	pii_mask /api/* {
		roles_from {http.request.header.X-Test-Role}
		field mobile cn_mobile
		scan off
	}
	reverse_proxy ` + up + `
}
`
	tc, file := r45aGateway(t, cf)
	req, _ := http.NewRequest(http.MethodGet, "http://localhost:9081/api/customers", nil)
	gw := r45aDo(t, tc.Client, req)
	if !strings.Contains(gw, "zhang.san@example.com") {
		t.Fatalf("the test's premise: the site on 9081 sends the e-mail in clear, got %s", gw)
	}
	scan, errOut := r48aScan(t, file, review44aBody, "--role", "online_agent", "--path", "/api/customers")
	if strings.HasPrefix(scan, "error: ") {
		return
	}
	if !strings.Contains(scan, "zhang.san@example.com") && !strings.Contains(errOut, "9081") {
		t.Errorf("FALSE REASSURANCE: the site on :9081 sends %s\ncaddy pii scan shows %s and names no other server (stderr %q)", gw, scan, errOut)
	}
}

// Finding 4 — FALSE REASSURANCE (serve mode). matchesSuccess takes a
// handle_response matcher's `header` conditions to match ("headers
// matchers are taken to match"), also in serve mode, where the upstream's
// header is given (--content-type/--header). A reverse_proxy that guards
// only the responses its upstream labels JSON — `@json header
// Content-Type application/json*`, `handle_response @json { pii_mask …;
// copy_response }` — sends any other label (text/plain here) straight
// out, unmasked. `caddy pii scan --header "Content-Type: text/plain"`
// follows the handle_response anyway, runs the body through its pii_mask
// (content-scanned, as a text type is) and prints the masked view, exit 0.
//
// Expected: in serve mode, the handle_response matchers are evaluated
// (ResponseMatcher.Match(200, upstream header)) on the upstream's header;
// without a header (default mode) a header condition is "cannot tell" or
// at least a note, not a silent match.
func TestReview48aServeHandleResponseHeaderMatcherTakenToMatch(t *testing.T) {
	site := `
	route /api/* {
		reverse_proxy UPSTREAM {
			@json header Content-Type application/json*
			handle_response @json {
				pii_mask ` + review44aMask + `
				copy_response
			}
		}
	}`
	resp, gw, out, _, err := compareScanServe(t, site, "/api/customers", "online_agent", review44aBody, "Content-Type: text/plain")
	if resp.StatusCode != http.StatusOK || gw != review44aBody {
		t.Fatalf("the test's premise: the gateway sends a text/plain response unmasked, got %d %s", resp.StatusCode, gw)
	}
	if err == nil {
		t.Errorf("FALSE REASSURANCE: the gateway sends %s\ncaddy pii scan --header 'Content-Type: text/plain' shows %s", gw, out)
	}
}

// Finding 5 — REFUSAL OF A VALID CONFIGURATION, misleading (the other
// side of finding 1). `file_server { pass_thru }` — static files first,
// the API behind pii_mask for every other path — calls the next handler
// when the file does not exist (fileserver notFound: `if fsrv.PassThru {
// return next.ServeHTTP(w, r) }`). The walk stops at file_server
// (`answers`) and says "no pii_mask handler guards path /api/customers
// …: file_server answers it … before any pii_mask", exit 1, while the
// gateway masks the path.
//
// Expected: a file_server with pass_thru whose file is missing (looked up
// on the local disk under its root, as the file matcher is) goes on to
// the next handler; where the dry run cannot tell (root unknown), it says
// so rather than "no pii_mask guards".
func TestReview48aScanFileServerPassThru(t *testing.T) {
	root := t.TempDir()
	gw, scan := compareScanWithGateway(t, `
	route {
		root * `+root+`
		file_server {
			pass_thru
		}
		pii_mask /api/* `+review44aMask+`
		reverse_proxy UPSTREAM
	}`, "/api/customers", "online_agent", review44aBody)
	if gw == review44aBody {
		t.Fatalf("the test's premise: the gateway masks, got %s", gw)
	}
	if scan != gw {
		t.Errorf("the gateway sends %s\ncaddy pii scan says %s", gw, scan)
	}
}

// Finding 6 — MISLEADING MESSAGE (serve mode). With `--header
// "Content-Encoding: gzip"` the upstream's body is compressed, so stdin
// must be the gzip bytes; given the plain JSON (what an admin copies from
// a log or the upstream's documentation), the pii_mask fails to decode it
// and scan reports "the gateway refuses this response with 502
// (unknown_encoding): the application answered in an encoding the privacy
// gateway cannot check" — which tells the admin that gzip, an encoding
// the gateway reads, is refused by the gateway, and hints at turning
// compression off upstream. (With real gzip on stdin, the agent's body is
// printed compressed, binary, on the terminal.)
//
// Expected: serveDryRun checks stdin against the Content-Encoding given
// before serving and says "stdin is not gzip: --header Content-Encoding:
// gzip says the upstream's body is compressed; pipe the compressed bytes
// (or drop the header)"; and prints the agent's view decoded (noting the
// coding), or refuses to write binary to a terminal.
func TestReview48aServeGzipHeaderPlainBodyMessage(t *testing.T) {
	file := writeCaddyfile(t, scanServeSite)
	_, _, err := run(t, scanCommand(), review44aBody, "--config", file, "--role", "online_agent", "--path", "/api/x",
		"--header", "Content-Type: application/json", "--header", "Content-Encoding: gzip")
	if err == nil {
		t.Fatal("the test's premise: a plain body under Content-Encoding: gzip is an error")
	}
	if strings.Contains(err.Error(), "gateway refuses") || !strings.Contains(err.Error(), "gzip") {
		t.Errorf("MISLEADING: a plain stdin under --header 'Content-Encoding: gzip' is reported as %q", err)
	}
}
