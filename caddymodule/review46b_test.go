package caddymodule

// Forty-sixth review (b): the fixes of a149b8e ("forty-fifth review (a)")
// to `caddy pii scan` (command_scan.go: the role on the walk's request,
// notes, --remote-ip, serve mode at response time, stream cuts) and to
// streams (event streams under ASCII-compatible labels, JSON text
// sequences). Each test fails on the code as reviewed, for the reason its
// comment gives, and passes once the finding is fixed.

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/piigate/piigate/config"
)

// Finding 1 — LEAK (regression of 0972bf9 that a149b8e did not close).
// WriteHeader (mask_writer.go, case media == "text/event-stream") now
// relabels an event stream under any ASCII-compatible charset label
// (`charset=gbk`, `iso-8859-1`, `windows-1252`) as UTF-8 and streams it:
//
//	if mw.charset != nil && asciiCompatible(mw.charset) { mw.charset = nil; … }
//
// Before 0972bf9 such a stream was read whole (modeBuffer), and finish()
// refused a body that starts with a UTF-16 byte-order mark ("UTF-16
// body", the README's "a UTF-16 body … refused"). The streamer has no such
// check (emit handles only the UTF-8 BOM), and the events walker skips
// every line that is not a data line: "\xFF\xFEd\x00a\x00t\x00a\x00…" goes
// out byte for byte, result "unchanged", now labelled charset=utf-8. A
// reader that decodes with BOM sniffing (WHATWG "decode": XMLHttpRequest's
// responseText, which the EventSource polyfills read; the HTML decoders)
// takes the UTF-16LE BOM over the label and shows 13812345678 and
// zhang.san@example.com. The same holds without a charset label (stream
// mode always): the README promises a UTF-16 body is refused.
//
// Expected: a stream (events, NDJSON) whose first bytes are a UTF-16 BOM is
// refused (before the header, 502 uninspectable), as a buffered body is.
func TestReview46bEventStreamUTF16BOMUnderASCIILabel(t *testing.T) {
	m := provisionedMask(t, &Mask{RolesFrom: "online_agent", Scan: "all",
		Fields: []config.Field{{Path: "mobile", Type: "cn_mobile"}}})
	event := `data: {"mobile":"` + tMobile + `","note":"mail ` + tEmail + `"}` + "\n\n"
	body := append([]byte("\xFF\xFE"), r45aUTF16LE(event)...)
	for _, ct := range []string{"text/event-stream; charset=gbk", "text/event-stream; charset=iso-8859-1", "text/event-stream"} {
		rec, out, cut := serveRaw(t, m, body, "Content-Type", ct)
		view := rec.Body.Bytes()
		if cut == nil && rec.Code == http.StatusOK && bytes.Contains(view, r45aUTF16LE(tMobile)) {
			result := ""
			if out != nil {
				result = out.Result
			}
			t.Errorf("LEAK: %s with a UTF-16LE BOM went out uninspected (result %s, Content-Type %q): %q",
				ct, result, rec.Header().Get("Content-Type"), view)
		}
	}
}

// Finding 2 — FALSE REASSURANCE (serve mode). serveDryRun gives the
// pii_mask handlers the upstream's header (--content-type/--header)
// exactly as given: its innermost `next` writes upHeader straight to the
// pii_mask's writer. In the gateway, the handlers between a pii_mask and
// the upstream wrap the writer too: `header` (headers.Handler's response
// ops, applied at WriteHeader) changes the response header before
// pii_mask reads it. The walk runs `headers` only for its request ops
// (chainWalk.run, on a recorder that is thrown away), so a response op is
// lost. A common fix-up for a legacy upstream — `header Content-Type
// application/json` after pii_mask in a route — makes the gateway read the
// body as JSON (scan off: field rules only) and send the note's e-mail in
// clear; `caddy pii scan --content-type text/plain` (the upstream's real
// label, as the help text asks) content-scans it as JSON under text/plain
// and prints z***@example.com.
//
// Expected: the response header ops of the `headers` handlers the walk
// passes after each pii_mask are applied to the dry run's response before
// that pii_mask reads it (or scan refuses: "a header handler after pii_mask
// changes the response's header; caddy pii scan cannot show it").
func TestReview46bServeIgnoresResponseHeaderOps(t *testing.T) {
	site := `
	route /api/* {
		pii_mask {
			roles_from {http.request.header.X-Test-Role}
			field mobile cn_mobile
			scan off
		}
		header >Content-Type application/json
		reverse_proxy UPSTREAM
	}`
	body := `{"mobile":"13812345678","note":"mail zhang.san@example.com"}`
	resp, gw, out, _, err := compareScanServe(t, site, "/api/customers", "online_agent", body, "Content-Type: text/plain")
	if resp.StatusCode != http.StatusOK || !strings.Contains(gw, tEmail) {
		t.Fatalf("the test's premise: the gateway reads JSON (scan off) and sends the e-mail, got %d %s", resp.StatusCode, gw)
	}
	if err == nil && out != gw {
		t.Errorf("FALSE REASSURANCE: the gateway sends %s\ncaddy pii scan --content-type text/plain shows %s", gw, out)
	}
}

// Finding 3 — FALSE REASSURANCE. roles_from made of several placeholders
// ("{http.request.header.X-Test-Role},{http.request.header.X-Extra-Role}",
// which Mask.roles reads with ReplaceFunc, one role per item) is skipped
// by rolesFromKeys (`if k := singlePlaceholder(rf); k != ""`), so the
// walk's request carries the role nowhere, without a word — exactly the
// forty-fifth review's finding 3, for the other form of roles_from. The
// auditor's route (a header matcher on X-Test-Role) bypasses pii_mask in
// the gateway; `scan --role auditor` walks past it and prints the masked
// (default, redact everything) view.
//
// Expected: for a roles_from of several placeholders the walk places
// --role in each of them that it can (or in the first), or fails/notes:
// "roles_from … reads several placeholders: give them with
// --request-header", never silently walks a role-less request.
func TestReview46bScanRolesFromSeveralPlaceholders(t *testing.T) {
	gw, scan := compareScanWithGateway(t, `
	@auditor header X-Test-Role auditor
	handle @auditor {
		reverse_proxy UPSTREAM
	}
	handle {
		pii_mask /api/* {
			roles_from {http.request.header.X-Test-Role},{http.request.header.X-Extra-Role}
			scan all
		}
		reverse_proxy UPSTREAM
	}`, "/api/customers", "auditor", review44aBody)
	review44aScanAgrees(t, review44aBody, gw, scan)
}

// Finding 4 — FALSE REASSURANCE. scanRequest puts --role where roles_from
// reads it *before* the walk; the handlers on the way then run on that
// request (chainWalk.run: headers, vars, map, and the handle_response
// routes of reverse_proxy) and may delete or overwrite it — as they do in
// the gateway, where the value they leave is the role the pii_mask reads
// and the matchers after them test. The dry run never looks again: the
// pii_mask handlers are decided with --role (serveDryRun `m.RolesFrom =
// role`, RunE `Decide(role)`), the matchers see what the walk left, and
// nothing is noted.
//   - forward_auth … copy_headers X-Test-Role: Caddy expands it to a
//     reverse_proxy whose 2xx handle_response routes first *delete*
//     X-Test-Role, then set it from {http.reverse_proxy.header.X-Test-Role}
//     only when that is not empty. The walk runs those routes: the role is
//     deleted and not set again (no auth response), so `@auditor header
//     X-Test-Role auditor` does not match. In the gateway the auth service
//     answers X-Test-Role: auditor and the auditor gets the body unmasked;
//     scan prints the masked view. (forward_auth is also an authentication
//     handler the dry run does not run, but unlike `authentication` and
//     pii_oidc it gets no note.)
//   - vars: roles_from {http.vars.role}, set by `vars role online_agent`
//     and, for the auditor's API key, `vars @key role auditor`; the walk
//     sets vars.role = --role, then the first vars handler overwrites it
//     (no key given), the auditor's route (`@auditor vars {vars.role}
//     auditor`) is passed, and the mask is still decided for "auditor".
//     In the gateway the auditor (with the key) gets the body unmasked.
//
// Expected: after the walk, the value of each pii_mask's roles_from on
// the request as the walk reached it is compared with --role; when the
// handlers on the way changed or removed it, scan fails (or at least
// notes) "… sets/deletes X-Test-Role on the way; caddy pii scan cannot
// tell which route the role takes: give it with --request-header", and
// forward_auth (a reverse_proxy whose 2xx handle_response copies headers
// from the auth response) is noted as an authentication the dry run does
// not run.
func TestReview46bScanWalkOverwritesRoleSource(t *testing.T) {
	t.Run("forward_auth copy_headers", func(t *testing.T) {
		auth := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Test-Role", "auditor")
			w.WriteHeader(http.StatusOK)
		}))
		defer auth.Close()
		gw, scan := compareScanWithGateway(t, `
	forward_auth `+auth.Listener.Addr().String()+` {
		uri /check
		copy_headers X-Test-Role
	}
	@auditor header X-Test-Role auditor
	handle @auditor {
		reverse_proxy UPSTREAM
	}
	handle {
		pii_mask /api/* `+review44aMask+`
		reverse_proxy UPSTREAM
	}`, "/api/customers", "auditor", review44aBody)
		review44aScanAgrees(t, review44aBody, gw, scan)
	})
	t.Run("vars overwrites the role variable", func(t *testing.T) {
		up := r45aUpstream(t)
		cf := scanGatewayCaddyfile(up, `
	@key header X-Api-Key k-auditor-1
	@auditor vars {vars.role} auditor
	route {
		vars role online_agent
		vars @key role auditor
		handle @auditor {
			reverse_proxy UPSTREAM
		}
		handle {
			pii_mask /api/* {
				roles_from {http.vars.role}
				scan all
			}
			reverse_proxy UPSTREAM
		}
	}`)
		tc, file := r45aGateway(t, cf)
		req, _ := http.NewRequest(http.MethodGet, "http://localhost:9080/api/customers", nil)
		req.Header.Set("X-Api-Key", "k-auditor-1")
		gw := r45aDo(t, tc.Client, req)
		out, _, err := run(t, scanCommand(), review44aBody, "--config", file, "--role", "auditor", "--path", "/api/customers")
		if err != nil {
			out = "error: " + err.Error()
		}
		review44aScanAgrees(t, review44aBody, gw, out)
	})
}

// Finding 5 — FALSE REASSURANCE. The forty-fifth review's fix notes a
// matcher on the client's address only when its JSON names remote_ip or
// client_ip (matches(): `strings.Contains(low, "remote_ip") ||
// strings.Contains(low, "client_ip")`). The client's address is also read
// through placeholders: {remote_host} ({http.request.remote.host}),
// {remote}, {remote_port}, in vars, expression, header_regexp … matchers.
// With --host given, such a matcher is evaluated on the made-up
// 127.0.0.1:40000 without a word (without --host the only note is the
// host one, "a vars matcher that reads the host was evaluated for Host
// localhost", which points the admin at the wrong thing). An agent at
// 127.0.0.2 gets the body unmasked; scan prints the masked view.
//
// Expected: a matcher whose JSON reads http.request.remote (any of its
// placeholders) is noted like remote_ip ("a matcher on the client's
// address was evaluated for 127.0.0.1 …").
func TestReview46bScanRemoteHostPlaceholderNoNote(t *testing.T) {
	up := r45aUpstream(t)
	cf := scanGatewayCaddyfile(up, `
	@onhost vars {remote_host} 127.0.0.1
	handle @onhost {
		pii_mask /api/* `+review44aMask+`
		reverse_proxy UPSTREAM
	}
	handle {
		reverse_proxy UPSTREAM
	}`)
	_, file := r45aGateway(t, cf)
	client := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{
		LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}).DialContext}}
	req, _ := http.NewRequest(http.MethodGet, "http://localhost:9080/api/customers", nil)
	if got := r45aDo(t, client, req); got != review44aBody {
		t.Fatalf("the test's premise: an agent at 127.0.0.2 gets the body unmasked, got %s", got)
	}
	out, errOut, err := run(t, scanCommand(), review44aBody, "--config", file, "--role", "online_agent",
		"--path", "/api/customers", "--host", "localhost")
	low := strings.ToLower(errOut)
	if err == nil && !strings.Contains(low, "remote") && !strings.Contains(low, "client") && !strings.Contains(low, "127.0.0.1") {
		t.Errorf("FALSE REASSURANCE: an agent at 127.0.0.2 gets %s unmasked; scan shows %s with nothing about the client's address (stderr %q)",
			review44aBody, out, errOut)
	}
}

// Finding 6 — FALSE REASSURANCE. scanRequest sets {http.vars.*} and
// {http.auth.user.*} from --role on the request *before* the walk
// (`caddyhttp.SetVar(…)`, `repl.Set(key, opt.role)`), as if the role were
// known from the start. In the gateway a variable exists only once the
// handler that sets it has run (vars, map, pii_oidc, basic_auth), and a
// matcher evaluated before that reads "". A configuration whose role is
// set too late — here `route { vars role … }`, which the Caddyfile sorts
// after the handle blocks, so it never runs before them (a mistake the
// dry run is there to catch) — sends everyone down the "no role" route:
// the gateway passes the body unmasked to every agent; `scan --role
// online_agent` sees the variable already set, takes the guarded route
// and prints the masked view.
//
// Expected: a role that roles_from reads from a variable or an
// authentication placeholder is placed when the walk passes the handler
// that sets it (vars/map naming that variable, authentication, pii_oidc),
// not before; when no such handler is on the way before a matcher reads
// it, the matcher sees what the gateway's does ("" — and scan says so).
func TestReview46bScanRolePresetBeforeItIsSet(t *testing.T) {
	up := r45aUpstream(t)
	cf := scanGatewayCaddyfile(up, `
	route {
		vars role {http.request.header.X-Test-Role}
	}
	@anonymous vars {vars.role} ""
	handle @anonymous {
		reverse_proxy UPSTREAM
	}
	handle {
		pii_mask /api/* {
			roles_from {http.vars.role}
			scan all
		}
		reverse_proxy UPSTREAM
	}`)
	tc, file := r45aGateway(t, cf)
	req, _ := http.NewRequest(http.MethodGet, "http://localhost:9080/api/customers", nil)
	gw := r45aDo(t, tc.Client, req)
	out, _, err := run(t, scanCommand(), review44aBody, "--config", file, "--role", "online_agent", "--path", "/api/customers")
	if err != nil {
		out = "error: " + err.Error()
	}
	review44aScanAgrees(t, review44aBody, gw, out)
}

// Finding 7 — FALSE REASSURANCE. The dry run's request is always plain
// HTTP/1.1 without TLS (scanRequest: http.NewRequest("GET",
// "http://"+host+path)), and matchers on the connection — `protocol
// https|http/2|http/3`, {http.request.scheme}, {http.request.proto},
// {http.request.tls.*} (mTLS client certificates) — are evaluated on it
// without a note, unlike host and client-address matchers. A site served
// over both HTTP and HTTPS that lets TLS clients through unmasked
// (`@secure protocol https`; the same with "services that present a
// client certificate") sends an agent on https:// the body unmasked;
// scan prints the masked view, nothing on stderr.
//
// Expected: a matcher that reads the protocol, scheme or TLS state is
// noted ("a protocol matcher was evaluated for plain HTTP/1.1 …"), or the
// walk refuses to guess, or a flag (--scheme https) names it.
func TestReview46bScanProtocolMatcherNoNote(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	up := r45aUpstream(t)
	cf := strings.Replace(scanGatewayCaddyfile(up, `
	@secure protocol https
	handle @secure {
		reverse_proxy UPSTREAM
	}
	handle {
		pii_mask /api/* `+review44aMask+`
		reverse_proxy UPSTREAM
	}`), "http://localhost:9080 {", "http://localhost:9080, https://localhost:9443 {\n\ttls internal", 1)
	tc, file := r45aGateway(t, cf)
	// The internal CA issues the site's certificate in the background.
	var got string
	for i := 0; i < 50; i++ {
		req, _ := http.NewRequest(http.MethodGet, "https://localhost:9443/api/customers", nil)
		req.Header.Set("X-Test-Role", "online_agent")
		if resp, err := tcDo(tc, req); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			got = string(b)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got != review44aBody {
		t.Fatalf("the test's premise: an agent on https gets the body unmasked, got %s", got)
	}
	out, errOut, err := run(t, scanCommand(), review44aBody, "--config", file, "--role", "online_agent",
		"--path", "/api/customers", "--host", "localhost")
	low := strings.ToLower(errOut)
	if err == nil && !strings.Contains(low, "protocol") && !strings.Contains(low, "https") && !strings.Contains(low, "tls") {
		t.Errorf("FALSE REASSURANCE: an agent on https gets %s unmasked; scan shows %s with nothing about the protocol (stderr %q)",
			review44aBody, out, errOut)
	}
}

// Finding 8 — FALSE REASSURANCE. pii_mask changes the request before the
// handlers after it see it: Mask.ServeHTTP → stripRequest deletes its
// strip_request_headers (and pii_oidc's identity headers, underscore
// spellings and trailers). The walk does not: chainWalk.handler's
// `case "pii_mask"` only records the handler, so the matchers after it are
// evaluated on a request that still carries the stripped fields. Here the
// outer pii_mask strips X-Agent and a stricter inner pii_mask guards
// `@agent header X-Agent 1`: in the gateway that matcher never matches
// (the field is gone), and the agent gets the outer view only, the
// note's e-mail in clear; `scan --request-header "X-Agent: 1"` applies
// both and prints z***@example.com. (The same with --role placed in a
// header that an earlier pii_mask strips, or that pii_oidc strips before
// it sets its own: matchers after it see the role in the dry run only.)
//
// Expected: the walk applies each pii_mask's request stripping (its
// strip_request_headers and the identity headers) to the dry run's request
// when it passes the pii_mask, as the gateway does.
func TestReview46bScanIgnoresMaskStripRequestHeader(t *testing.T) {
	up := r45aUpstream(t)
	cf := scanGatewayCaddyfile(up, `
	@agent header X-Agent 1
	route /api/* {
		pii_mask {
			roles_from {http.request.header.X-Test-Role}
			field mobile cn_mobile
			scan off
			strip_request_header X-Agent
		}
		pii_mask @agent {
			roles_from {http.request.header.X-Test-Role}
			scan all
		}
		reverse_proxy UPSTREAM
	}`)
	tc, file := r45aGateway(t, cf)
	req, _ := http.NewRequest(http.MethodGet, "http://localhost:9080/api/customers", nil)
	req.Header.Set("X-Agent", "1")
	gw := r45aDo(t, tc.Client, req)
	if !strings.Contains(gw, tEmail) || strings.Contains(gw, tMobile) {
		t.Fatalf("the test's premise: the gateway applies the outer pii_mask only (mobile masked, e-mail clear), got %s", gw)
	}
	out, _, err := run(t, scanCommand(), review44aBody, "--config", file, "--role", "online_agent", "--path", "/api/customers",
		"--request-header", "X-Agent: 1")
	if err == nil && out != gw {
		t.Errorf("FALSE REASSURANCE: the gateway sends %s\ncaddy pii scan --request-header \"X-Agent: 1\" shows %s", gw, out)
	}
}

// Finding 9 — COSMETIC. a149b8e made application/json-seq a format of
// its own (rewrite.JSONSeq: records run over lines), but `caddy pii scan
// --format` still knows only json, ndjson, events, jsonp and text
// (parseFormat): a pretty-printed record (jq --seq) that the gateway
// masks under application/json-seq is "malformed JSON" under --format
// ndjson, and --format json-seq is refused as unknown; the help text and
// the error message do not mention the format.
//
// Expected: --format json-seq reads the body as rewrite.JSONSeq.
func TestReview46bScanFormatJSONSeq(t *testing.T) {
	file := filepath.Join(t.TempDir(), "Caddyfile")
	if err := os.WriteFile(file, []byte(scanGatewayCaddyfile("127.0.0.1:1", scanServeSite)), 0o644); err != nil {
		t.Fatal(err)
	}
	body := "\x1e{\n  \"mobile\": \"13812345678\"\n}\n"
	out, _, err := run(t, scanCommand(), body, "--config", file, "--role", "online_agent",
		"--path", "/api/customers", "--format", "json-seq")
	if err != nil || !strings.Contains(out, "138****5678") {
		t.Errorf("--format json-seq: %q %v", out, err)
	}
}
