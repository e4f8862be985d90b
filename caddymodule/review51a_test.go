package caddymodule

// Fifty-first review (a): the fixes of the fiftieth review (a and b) held
// against the code and against Caddy. Each test fails on the code as
// reviewed, for the reason its comment gives.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"

	"golang.org/x/crypto/bcrypt"

	"github.com/piigate/piigate/config"
)

// Finding 1 (wrong metric/outcome): the rewrite duration still holds the
// upstream's wait for a held response that reverse_proxy aborts.
//
// maskWriter.serve measures mw.upstream on the line after
// next.ServeHTTP returns. reverse_proxy never returns when the copy of
// the body fails: it panics with http.ErrAbortHandler
// (reverseproxy.go, finalizeResponse: "aborting with incomplete
// response"), both when the upstream dies mid-body and when pii_mask's
// own Write refuses (a body over max_body, an unknown coding: errRefused).
// serve's deferred recover turns that into the 502 refusal, but
// mw.upstream stays 0, and ServeHTTP's deferred observe measures from
// start: Outcome.Duration and piigate_mask_rewrite_duration_seconds hold
// the whole wait for the upstream — exactly for the refusals an operator
// looks at (body_too_large, upstream_failed).
//
// Expected: as for the same body when it completes, the time the handler
// after pii_mask took is left out.
func TestReview51aDurationAbortedHeldResponse(t *testing.T) {
	const wait = 300 * time.Millisecond
	for _, tc := range []struct {
		name   string
		reason string
		next   func(w http.ResponseWriter, r *http.Request) error
	}{
		{"upstream dies mid-body", reasonUpstream, func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			io.WriteString(w, `{"mobile":"138`)
			time.Sleep(wait)
			panic(http.ErrAbortHandler) // as reverse_proxy does when the body breaks off
		}},
		{"body over max_body", reasonTooLarge, func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			time.Sleep(wait)
			if _, err := io.WriteString(w, `{"mobile":"13812345678","note":"`+strings.Repeat("x", 100)+`"}`); err != nil {
				panic(http.ErrAbortHandler) // reverse_proxy on a failed copy
			}
			return nil
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := provisionedMask(t, &Mask{RolesFrom: "online_agent", MaxBody: 64,
				Fields: []config.Field{{Path: "mobile", Type: "cn_mobile"}}})
			rec, vars := serveMask(t, m, httptest.NewRequest(http.MethodGet, "/api/c", nil), tc.next)
			out := vars[varOutcome].(*Outcome)
			if rec.Code != http.StatusBadGateway || out.Reason != tc.reason {
				t.Fatalf("the test's premise: refused with 502 (%s), got %d %q", tc.reason, rec.Code, out.Reason)
			}
			if out.Duration >= wait {
				t.Errorf("rewrite duration %v holds the upstream's %v for a held response reverse_proxy aborted (README: the wait for a response it holds whole is left out)", out.Duration, wait)
			}
		})
	}
}

// Finding 2 (wrong metric/outcome, low): a stream cut for a bad unit is
// measured as if it had been held, and its duration drops to ~0.
//
// serve decides whether to leave the handler's time out by mw.mode
// *after* next.ServeHTTP returned. A stream (modeStream, its header sent
// when it came) whose later unit is refused has been switched to
// modeRefuse by streamer.refuse, so the whole time it streamed — which
// the README counts for a stream ("the wait for a response it holds
// whole is left out, a stream's is not") — is taken for an upstream wait
// and subtracted. A handler that stops on the Write error and returns
// (http.ServeContent, file_server serving an .ndjson file, any handler
// that ignores or returns the error) gets this; the same stream with a
// good last line is measured in full. (It should be decided by whether
// the response was held: !mw.sentHeader, as the mode was when the
// header came.)
//
// Expected: the cut stream's duration holds the time it streamed, as the
// complete one's does.
func TestReview51aDurationCutStream(t *testing.T) {
	const wait = 300 * time.Millisecond
	m := provisionedMask(t, &Mask{RolesFrom: "online_agent", Fields: []config.Field{{Path: "mobile", Type: "cn_mobile"}}})
	serve := func(last string) *Outcome {
		_, vars, _ := serveMaskCut(t, m, httptest.NewRequest(http.MethodGet, "/api/c", nil), func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Content-Type", "application/x-ndjson")
			w.WriteHeader(http.StatusOK)
			io.WriteString(w, `{"mobile":"13812345678"}`+"\n")
			w.(http.Flusher).Flush()
			time.Sleep(wait)
			io.WriteString(w, `{"mobile":"13912345678"}`+"\n")
			io.WriteString(w, last) // the error, if any, ends the copy, as in http.ServeContent
			return nil
		})
		return vars[varOutcome].(*Outcome)
	}
	whole := serve(`{"mobile":"13712345678"}` + "\n")
	if whole.Result != resultRewritten || whole.Duration < wait {
		t.Fatalf("the test's premise: the complete stream is rewritten and measured in full, got %q %v", whole.Result, whole.Duration)
	}
	cut := serve(`{"mobile":` + "\n")
	if cut.Result != resultRefused || cut.Reason != reasonMalformed {
		t.Fatalf("the test's premise: the bad last line cuts the stream, got %q %q", cut.Result, cut.Reason)
	}
	if cut.Duration < wait {
		t.Errorf("the cut stream streamed for %v like the complete one (measured %v), but its duration is %v: its time was taken for a held response's upstream wait", wait, whole.Duration, cut.Duration)
	}
}

// Finding 3 (refuses what the gateway sends, dry run default mode): the
// new max_body check refuses streams, which the gateway does not hold.
//
// The 50b fix compares the whole of stdin with each pii_mask's MaxBody
// before the rewrite, whatever the format. The gateway holds only JSON
// and text whole: NDJSON, JSON sequences and server-sent events are
// rewritten unit by unit as they come (modeStream), and max_body bounds
// only the unit being read (streamer.writeDecoded checks s.pending,
// which is emptied after each complete unit). A stream longer than
// max_body (an NDJSON export or an event feed over the 16MiB default)
// goes out masked from the gateway; `caddy pii scan --format ndjson`
// (and `--format events`, `--format json-seq`) says "the gateway
// refuses this response with 502 (body_too_large)". Serve mode (--content-type application/x-ndjson)
// runs the handler but hands it the whole of stdin in one Write
// (serveDryRun), where reverse_proxy copies at most 32KiB per Write:
// the streamer's pending buffer then holds the whole body, and serve mode
// "cuts this stream after 0 bytes (body_too_large)".
//
// Expected: in default mode the max_body check applies to the formats the
// gateway holds whole (JSON, JSONP, text); for a stream, to its longest
// unit; serve mode writes the body in reverse_proxy's 32KiB pieces.
func TestReview51aScanMaxBodyStream(t *testing.T) {
	// 2000 records of 46 bytes: 92kB, over a max_body of 40000 that
	// each of reverse_proxy's 32KiB writes stays under.
	var lines []string
	for i := 0; i < 2000; i++ {
		lines = append(lines, fmt.Sprintf(`{"id":%5d,"mobile":"13812345678","ok":true}`, i))
	}
	const maxBody = 40000
	body := strings.Join(lines, "\n") + "\n"
	up := r50bUpstream(t, body, "Content-Type: application/x-ndjson")
	base, file := r50bGateway(t, up, `
:PORT {
	pii_mask /api/* {
		roles_from {http.request.header.X-Role}
		max_body 40000
	}
	reverse_proxy UPSTREAM
}
`)
	resp, gw := r50bGet(t, "GET", base+"/api/export", "X-Role: online_agent")
	if resp.StatusCode != http.StatusOK || !strings.Contains(gw, `"mobile":"138****5678"`) || strings.Count(gw, "\n") != len(lines) || len(body) <= maxBody {
		t.Fatalf("the test's premise: the gateway streams the %d-byte NDJSON body masked, got %d %s", len(body), resp.StatusCode, gw)
	}
	// Serve mode too: serveDryRun hands the whole body to the handlers in
	// one Write, where reverse_proxy writes at most 32KiB at a time.
	if served, errOut := r50bScan(t, file, body, "--role", "online_agent", "--path", "/api/export", "--content-type", "application/x-ndjson"); served != gw {
		t.Errorf("serve mode: the gateway streams %d bytes masked\ncaddy pii scan --content-type application/x-ndjson shows %.200s (stderr %q)", len(gw), served, errOut)
	}
	if scan, errOut := r50bScan(t, file, body, "--role", "online_agent", "--path", "/api/export", "--format", "ndjson"); scan != gw {
		t.Errorf("--format ndjson: the gateway streams %d bytes masked\ncaddy pii scan shows %.200s (stderr %q)", len(gw), scan, errOut)
	}
}

// Finding 4 (refuses a dry run it should run): one request field spelt in
// two cases counts as two fields.
//
// scanRequest collects the request fields the pii_mask handlers read the
// roles from by canonicalising each placeholder's name
// (http.CanonicalHeaderKey), but rolesFromKeys dedupes the placeholders
// as written, case-sensitively. `{http.request.header.X-Role}` on one
// route and `{http.request.header.x-role}` (or `{header.X-ROLE}`) on
// another are one field — Caddy reads both from the same header — yet
// fields holds "X-Role" twice, and every dry run on the site without
// --request-header fails with "the pii_mask handlers read the roles from
// the request fields X-Role, X-Role: give the one the agent's client
// sends", although there is only one to give and the gateway masks as
// usual.
//
// Expected: fields compared canonically (slices.Compact after sorting),
// and the one field preset as before.
func TestReview51aScanRoleFieldCaseDuplicate(t *testing.T) {
	up := r50bUpstream(t, r50bBody)
	base, file := r50bGateway(t, up, `
:PORT {
	handle /v1/* {
		pii_mask {
			roles_from {http.request.header.X-Role}
		}
		reverse_proxy UPSTREAM
	}
	handle {
		pii_mask {
			roles_from {http.request.header.x-role}
		}
		reverse_proxy UPSTREAM
	}
}
`)
	resp, gw := r50bGet(t, "GET", base+"/v1/customers", "X-Role: online_agent")
	if resp.StatusCode != http.StatusOK || !strings.Contains(gw, "138****5678") {
		t.Fatalf("the test's premise: the gateway masks for X-Role online_agent, got %d %s", resp.StatusCode, gw)
	}
	scan, errOut := r50bScan(t, file, r50bBody, "--role", "online_agent", "--path", "/v1/customers")
	r50bAgreeBody(t, resp, gw, scan, errOut)
}

// Finding 5 (wrong view, silently): basic_auth counts as the login that
// sets the roles, but sets none.
//
// The 50b fix notes a pii_mask that reads {http.auth.user.*} with "no
// login handler (pii_oidc, basic_auth, authentication) on the way", and
// takes any authentication handler passed as one that sets what
// roles_from reads (chainWalk.loggedIn), with the note "authentication
// on the way is not run: of what it sets, only the placeholder
// roles_from reads holds --role". Caddy's authentication handler sets
// {http.auth.user.id} and one {http.auth.user.<key>} per metadata entry
// of the user its provider returns (caddyauth.go); http_basic, the
// provider of basic_auth, returns User{ID: username} with no metadata
// (basicauth.go). With pii_mask's default roles_from,
// {http.auth.user.roles}, behind basic_auth every logged-in agent is an
// unknown role and gets the roleless view (everything redacted); the dry
// run shows --role's view, and the note it prints says the login sets
// the roles.
//
// Expected: only pii_oidc (or an authentication provider known to set the
// key read) counts as setting {http.auth.user.<key>} other than id;
// otherwise the dry run says that every agent gets the roleless view (or
// fails the role check), as for no login at all.
func TestReview51aScanBasicAuthSetsNoRoles(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("secret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	up := r50bUpstream(t, r50bBody)
	base, file := r50bGateway(t, up, `
:PORT {
	basic_auth {
		agent `+string(hash)+`
	}
	pii_mask /api/*
	reverse_proxy UPSTREAM
}
`)
	req, _ := http.NewRequest(http.MethodGet, base+"/api/customers", nil)
	req.SetBasicAuth("agent", "secret")
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	gw := string(b)
	if resp.StatusCode != http.StatusOK || !strings.Contains(gw, `"mobile":"[cn_mobile]"`) {
		t.Fatalf("the test's premise: behind basic_auth the logged-in agent has no role and gets everything redacted, got %d %s", resp.StatusCode, gw)
	}
	scan, errOut := r50bScan(t, file, r50bBody, "--role", "online_agent", "--path", "/api/customers")
	if !strings.HasPrefix(scan, "error: ") && scan != gw && !strings.Contains(errOut, "without a role") {
		t.Errorf("WRONG VIEW: the gateway sends the logged-in agent %s\ncaddy pii scan --role online_agent shows %s (stderr %q)", gw, scan, errOut)
	}
}

// Finding 6 (wrong view, silently): a role field given empty is replaced
// by --role.
//
// scanRequest presets --role in the one request field roles_from reads
// unless --request-header "gives" it, and a field counts as given only
// when req.Header.Get(f) != "". `--request-header "X-Role:"` — what an
// admin passes to ask what a client sending the field empty gets (a
// front-end that forwards an unset attribute as an empty header) — is
// overwritten with --role, and the dry run shows --role's view, without
// a note. The gateway reads the empty field: no role, everything
// redacted. (With several role fields, the same empty field is not
// "given" either, and the error asks for the field that was given.)
//
// Expected: a field present in --request-header is given, empty or not
// (len(req.Header.Values(f)) > 0 / a map lookup), so the pii_mask's role
// check reports that it holds "" and not --role.
func TestReview51aScanEmptyRoleFieldGiven(t *testing.T) {
	up := r50bUpstream(t, r50bBody)
	base, file := r50bGateway(t, up, `
:PORT {
	pii_mask /api/* {
		roles_from {http.request.header.X-Role}
	}
	reverse_proxy UPSTREAM
}
`)
	resp, gw := r50bGet(t, "GET", base+"/api/customers", "X-Role:")
	if resp.StatusCode != http.StatusOK || !strings.Contains(gw, `"mobile":"[cn_mobile]"`) {
		t.Fatalf("the test's premise: with X-Role empty the gateway redacts everything, got %d %s", resp.StatusCode, gw)
	}
	scan, errOut := r50bScan(t, file, r50bBody, "--role", "online_agent", "--path", "/api/customers", "--request-header", "X-Role:")
	if !strings.HasPrefix(scan, "error: ") && scan != gw {
		t.Errorf("WRONG VIEW: with X-Role empty the gateway sends %s\ncaddy pii scan --request-header \"X-Role:\" shows %s (stderr %q)", gw, scan, errOut)
	}
}

// Finding 7 (divergence from Caddy, low): the dry run applies allow lists
// that Caddy refuses to load.
//
// dropAliasHeaders builds its rules from the server's raw
// ExpectedUnderscoreHeaders / ExpectedDotHeaders without the checks of
// Caddy's provisionHeaderAliasAllowlist (server.go): an entry without
// its separator, a '*' other than trailing, non-ASCII. An admin who
// lists the hyphenated name he means to keep (`expected_underscore_headers
// X-Agent-Role`) gets a Caddy that does not start ("does not contain
// '_'"); caddy pii scan takes the entry as a rule (dropping X-Agent-Role,
// where --request-header gives it, as a "hyphenated variant") and prints
// a view, exit 0, for a configuration that never runs.
//
// Expected: the entries checked as Caddy checks them, and the dry run
// failing with Caddy's message.
func TestReview51aScanAllowListValidatedAsCaddy(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	cf := `{
	admin localhost:2999
	auto_https off
	persist_config off
	servers {
		expected_underscore_headers X-Agent-Role
	}
	pii {
		role online_agent {
			cn_mobile mask
			email mask
			* redact
		}
	}
}
:8080 {
	pii_mask /api/* {
		roles_from {http.request.header.X-Role}
	}
	reverse_proxy 127.0.0.1:9
}
`
	file := filepath.Join(t.TempDir(), "Caddyfile")
	if err := os.WriteFile(file, []byte(cf), 0o644); err != nil {
		t.Fatal(err)
	}
	js, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(cf), map[string]any{"filename": file})
	if err != nil {
		t.Fatalf("adapt: %v", err)
	}
	var cfg caddy.Config
	if err := json.Unmarshal(js, &cfg); err != nil {
		t.Fatal(err)
	}
	if err := caddy.Validate(&cfg); err == nil || !strings.Contains(err.Error(), "expected_underscore_headers") {
		t.Fatalf("the test's premise: Caddy refuses the allow list, got %v", err)
	}
	scan, errOut := r50bScan(t, file, r50bBody, "--role", "online_agent", "--path", "/api/customers")
	if !strings.HasPrefix(scan, "error: ") {
		t.Errorf("Caddy refuses this configuration; caddy pii scan shows %s (stderr %q)", scan, errOut)
	}
}

// Finding 8 (broken behaviour, low): If-Match: * is removed from writes,
// which turns an update-only PUT into a create.
//
// The 50a fix deletes If-Match and If-Unmodified-Since from every
// guarded request, whatever the method and the value. The oracle it
// closes needs a validator (an entity tag that hashes the body, a date);
// `If-Match: *` names none — it asks "only if a representation exists"
// (RFC 9110 §13.1.1), and answers nothing about the body. API clients
// send it on PUT/PATCH so that an update of a record deleted meanwhile is
// refused (412) instead of re-creating it. Behind pii_mask the upstream
// gets an unconditional PUT and creates the record. (`If-None-Match: *`,
// create-only, removed before, has the mirror effect: a create overwrites.)
//
// Expected: the wildcard kept (or the conditional headers removed only
// where they carry a validator).
func TestReview51aIfMatchWildcardKept(t *testing.T) {
	m := provisionedMask(t, &Mask{RolesFrom: "online_agent"})
	exists := false
	upstream := func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("If-Match") == "*" && !exists {
			w.WriteHeader(http.StatusPreconditionFailed)
			_, err := io.WriteString(w, `{"error":"record was deleted"}`)
			return err
		}
		exists = true
		w.WriteHeader(http.StatusCreated)
		_, err := io.WriteString(w, `{"id":7}`)
		return err
	}
	req := httptest.NewRequest(http.MethodPut, "/api/customers/7", strings.NewReader(`{"mobile":"13812345678"}`))
	req.Header.Set("If-Match", "*")
	rec, _ := serveMask(t, m, req, upstream)
	if rec.Code != http.StatusPreconditionFailed || exists {
		t.Errorf("PUT with If-Match: * of a deleted record: the upstream got an unconditional PUT and re-created it (%d %s)", rec.Code, rec.Body)
	}
}
