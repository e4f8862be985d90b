package caddymodule

// Forty-fifth review (a): the changes of 937f90f and 0972bf9 — the dry
// run's route walk with Caddy's own matchers and request-changing handlers
// (command_scan.go), codings sent as they came (mask_encoding.go
// codedAsIs), event streams read as UTF-8 whatever their label
// (mask_writer.go WriteHeader), and JSON text sequences over several lines
// (rewrite/walk.go lines, mask_stream.go seqBoundary). Each test fails on
// the code as reviewed, for the reason its comment gives, and passes once
// the finding is fixed.

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/caddyserver/caddy/v2/caddytest"
	_ "github.com/caddyserver/caddy/v2/modules/caddyhttp/caddyauth"
	"golang.org/x/crypto/bcrypt"

	"github.com/piigate/piigate/config"
)

// r45aUTF16LE is s in UTF-16LE.
func r45aUTF16LE(s string) []byte {
	var b []byte
	for _, c := range utf16.Encode([]rune(s)) {
		b = append(b, byte(c), byte(c>>8))
	}
	return b
}

// Finding 1 — LEAK (data passes uninspected). 0972bf9 reads an event
// stream as UTF-8 whatever charset its label names: WriteHeader
// (mask_writer.go, case media == "text/event-stream") sets mw.charset =
// nil and relabels charset=utf-8 before anything else looks at the
// charset. That also drops the check that refused a charset that does not
// read ASCII as ASCII (finish: `!asciiCompatible(mw.charset)` →
// "charset does not read ASCII as ASCII", which the README still promises:
// "a UTF-16 body, and a charset that does not read ASCII as ASCII (UTF-16
// by label …) are refused: they could hide the bytes from the rewrite and
// show them to the agent"). A `text/event-stream; charset=utf-16` body now
// streams through unchanged: read as UTF-8, "d\0a\0t\0a\0:\0" is no data
// line, the JSON in it is never parsed, and the detectors see digits
// separated by NULs. The agent gets every byte ("1\x003\x008…": a reader
// that sniffs UTF-16 from the NULs or the upstream's BOM, or any text
// layer that drops NULs before the model, shows 13812345678 and
// zhang.san@example.com), with result "unchanged". Before 0972bf9 the
// same response was read whole and refused (reasonUninspectable).
//
// Expected: an event stream whose label names a charset that is not
// ASCII-compatible (UTF-16LE/BE, the "replacement" charsets) is refused
// (502 before the header, as for other bodies), or decoded as labelled;
// only ASCII-compatible labels are read as UTF-8 and relabelled.
func TestReview45aEventStreamUTF16PassesUninspected(t *testing.T) {
	m := provisionedMask(t, &Mask{RolesFrom: "online_agent", Scan: "all",
		Fields: []config.Field{{Path: "mobile", Type: "cn_mobile"}}})
	event := `data: {"mobile":"` + tMobile + `","note":"mail ` + tEmail + `"}` + "\n\n"
	for _, cs := range []string{"utf-16", "utf-16le"} {
		rec, out, cut := serveRaw(t, m, r45aUTF16LE(event), "Content-Type", "text/event-stream; charset="+cs)
		view := rec.Body.Bytes()
		if rec.Code == http.StatusOK && cut == nil &&
			(strings.Contains(string(view), string(r45aUTF16LE(tMobile))) || strings.Contains(string(view), string(r45aUTF16LE(tEmail)))) {
			t.Errorf("charset=%s: the event stream went out uninspected (result %s, Content-Type %q): %q",
				cs, out.Result, rec.Header().Get("Content-Type"), view)
		}
	}
}

// Finding 2 — LEAK / FAIL-OPEN (NDJSON types). 0972bf9 lets a record of a
// JSON text sequence run over several lines (rewrite/walk.go lines: `if
// off == 1 { sub = src … up to the next 0x1E }` and `if vEnd > end`). The
// rule is applied to every NDJSON type, not only application/json-seq:
// under application/x-ndjson (and ndjson, jsonl, x-jsonlines) a line that
// starts with a record separator now swallows the lines after it as part
// of one value. An NDJSON client reads every line as its own document (and
// the usual agent loop skips lines that do not parse). The body
//
//	\x1e[
//	{"mobile":"13812345678"}
//	]
//
// is one array to the gateway, in which the field rule `mobile` (a path
// from the document's root) finds nothing, so it goes out unchanged; to
// the NDJSON reader line 2 is a document whose root `mobile` is the
// customer's number, unmasked. Before 0972bf9 the line "\x1e[" was
// malformed and the response refused. (Under application/json-seq the
// reading is RFC 7464's, and the same body is the same array for jq
// --seq; but a line-by-line json-seq reader sees line 2 too.)
//
// Expected: only application/json-seq records span lines; under the other
// NDJSON types each line is one document, the leading separator or not
// (a line "\x1e[" is malformed and refused, as before). Arguably also for
// json-seq: refuse a record whose inner lines are documents of their own.
func TestReview45aNDJSONRecordSeparatorSpansLines(t *testing.T) {
	m := provisionedMask(t, &Mask{RolesFrom: "online_agent", Scan: "off",
		Fields: []config.Field{{Path: "mobile", Type: "cn_mobile"}}})
	body := "\x1e[\n{\"mobile\":\"" + tMobile + "\"}\n]\n"
	for _, ct := range []string{"application/x-ndjson", "application/jsonl"} {
		rec, out, cut := serveRaw(t, m, []byte(body), "Content-Type", ct)
		if cut != nil || rec.Code != http.StatusOK {
			continue // refused: as before 0972bf9
		}
		for _, line := range strings.Split(rec.Body.String(), "\n") {
			if strings.Contains(line, `{"mobile":"`+tMobile+`"}`) {
				t.Errorf("%s: the line-reader's document %s went out unmasked (result %s): %q", ct, line, out.Result, rec.Body.String())
			}
		}
	}
}

// r45aGateway starts the real gateway on cf (scanGatewayCaddyfile's
// global options and pii app) and writes cf where `caddy pii scan` reads it.
func r45aGateway(t *testing.T, cf string) (tc *caddytest.Tester, file string) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test")
	}
	ensureAdmin(t)
	tc = caddytest.NewTester(t)
	tc.InitServer(cf, "caddyfile")
	file = filepath.Join(t.TempDir(), "Caddyfile")
	if err := os.WriteFile(file, []byte(cf), 0o644); err != nil {
		t.Fatal(err)
	}
	return tc, file
}

// r45aUpstream answers every request with review44aBody as JSON.
func r45aUpstream(t *testing.T) string {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, review44aBody)
	}))
	t.Cleanup(up.Close)
	return up.Listener.Addr().String()
}

// r45aDo sends req with the test role and returns the body.
func r45aDo(t *testing.T, client *http.Client, req *http.Request) string {
	t.Helper()
	req.Header.Set("X-Test-Role", "online_agent")
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := retryDo(client, req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// Finding 3 — FALSE REASSURANCE. `--role` reaches only the pii_mask
// handlers (serveDryRun/RunE decide with it; the walk's request is built
// by scanRequest from --path, --host and --request-header alone). Where
// the route's own matchers read the role from where pii_mask reads it
// (roles_from {http.request.header.X-Test-Role}, a header matcher on the
// same field), the walk evaluates them on a request that carries no role:
// here the auditor's route bypasses pii_mask, the gateway sends an auditor
// the customer's data unmasked, and `caddy pii scan --role auditor` walks
// past the auditor's route (no X-Test-Role header), reaches the pii_mask
// and prints the default (redact everything) view: "the auditor gets
// redacted data". The reverse mistake (a role-less route that guards
// nothing) gives a false "no pii_mask guards the path".
//
// Expected: the walk's request carries the role where roles_from reads a
// request header (set it from --role unless --request-header gives it),
// or scan fails: "the routes on the way read X-Test-Role, which roles_from
// reads; give it with --request-header".
//
// The same with the identity an authentication handler sets: the walk
// passes `authentication` (basic_auth), pii_oidc and forward_auth's
// handle_response on without running them (passOn), so a matcher on
// {http.auth.user.id} / {http.auth.user.roles} (pii_oidc's default
// roles_from) reads "" — silently. The auditor, logged in, gets the data
// unmasked; `scan --role auditor` shows it redacted.
func TestReview45aScanRoleNotInWalkRequest(t *testing.T) {
	t.Run("role header", func(t *testing.T) {
		gw, scan := compareScanWithGateway(t, `
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
	t.Run("authenticated user", func(t *testing.T) {
		// The lowest cost: the default (14) takes many seconds under the
		// race detector, per request.
		hash, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		up := r45aUpstream(t)
		cf := scanGatewayCaddyfile(up, `
	basic_auth {
		auditor `+string(hash)+`
	}
	@auditor vars {http.auth.user.id} auditor
	handle @auditor {
		reverse_proxy UPSTREAM
	}
	handle {
		pii_mask /api/* {
			roles_from {http.auth.user.id}
			scan all
		}
		reverse_proxy UPSTREAM
	}`)
		tc, file := r45aGateway(t, cf)
		req, _ := http.NewRequest(http.MethodGet, "http://localhost:9080/api/customers", nil)
		req.SetBasicAuth("auditor", "pw")
		gw := r45aDo(t, tc.Client, req)
		out, _, err := run(t, scanCommand(), review44aBody, "--config", file, "--role", "auditor", "--path", "/api/customers")
		if err != nil {
			out = "error: " + err.Error()
		}
		review44aScanAgrees(t, review44aBody, gw, out)
	})
}

// Finding 4 — FALSE REASSURANCE. Without --host, matches() takes a host
// matcher to match only when it is a top-level MatchHost (hostMatcher);
// one nested in `not`, an `expression` reading {host}, or a `header Host`
// matcher is evaluated for real on the dry run's made-up Host "localhost"
// (scanRequest), silently: no note, unlike the top-level case ("the routes
// of host(s) … were taken to match; … --host chooses one"). Here the site
// masks every host but its internal name: an agent that sends
// `Host: api.internal` (or reaches the server by that name) gets the
// customer's data unmasked, and the dry run prints the masked view with
// nothing on stderr.
//
// Expected: a host evaluated without --host is noted as the top-level ones
// are (or the walk refuses to guess: "a matcher on the way reads the
// Host; give --host"), so the admin learns that another Host answers
// otherwise.
func TestReview45aScanNestedHostMatcherSilent(t *testing.T) {
	for _, c := range []struct{ name, matcher string }{
		{"not host", `not host api.internal`},
		{"expression {host}", `expression {host} != "api.internal"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			up := r45aUpstream(t)
			cf := strings.Replace(scanGatewayCaddyfile(up, `
	@public `+c.matcher+`
	handle @public {
		pii_mask /api/* `+review44aMask+`
		reverse_proxy UPSTREAM
	}
	handle {
		reverse_proxy UPSTREAM
	}`), "http://localhost:9080 {", "http://:9080 {", 1)
			tc, file := r45aGateway(t, cf)
			req, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1:9080/api/customers", nil)
			req.Host = "api.internal"
			if got := r45aDo(t, tc.Client, req); got != review44aBody {
				t.Fatalf("the test's premise: Host api.internal gets the body unmasked, got %s", got)
			}
			out, errOut, err := run(t, scanCommand(), review44aBody, "--config", file, "--role", "online_agent", "--path", "/api/customers")
			if err == nil && !strings.Contains(strings.ToLower(errOut), "host") {
				t.Errorf("Host api.internal gets %s unmasked; scan shows %s with nothing about the host (stderr %q)", review44aBody, out, errOut)
			}
		})
	}
}

// Finding 5 — FALSE REASSURANCE. The dry run's client is always
// 127.0.0.1:40000 (scanRequest) and matchers on the client's address are
// evaluated on it without a word: README "from 127.0.0.1", but no note
// when a remote_ip or client_ip matcher decided the way, as there is for
// hosts. Worse, client_ip cannot be modelled at all: scanRequest hands
// caddyhttp.PrepareRequest the server as decoded from JSON, never
// provisioned, so determineTrustedProxy sees s.trustedProxies == nil and
// the client IP is the remote address even when the server trusts
// 127.0.0.1 as a proxy and --request-header gives X-Forwarded-For.
//   - remote_ip: pii_mask guards only agents on this host (remote_ip
//     127.0.0.1); an agent at 127.0.0.2 gets the data unmasked; scan
//     prints the masked view, nothing on stderr.
//   - client_ip behind a trusted proxy: requests from the office range
//     (X-Forwarded-For 203.0.113.5 through the trusted proxy) are not
//     masked; `scan --request-header "X-Forwarded-For: 203.0.113.5"` shows
//     them masked.
//
// Expected: provision the server's trusted_proxies (or compute the client
// IP as Caddy does from the configuration), and note — or refuse without
// a flag such as --remote-ip — when a remote_ip/client_ip matcher was
// evaluated on the made-up address.
func TestReview45aScanClientAddressMatchers(t *testing.T) {
	t.Run("remote_ip", func(t *testing.T) {
		up := r45aUpstream(t)
		cf := scanGatewayCaddyfile(up, `
	@onhost remote_ip 127.0.0.1
	handle @onhost {
		pii_mask /api/* `+review44aMask+`
		reverse_proxy UPSTREAM
	}
	handle {
		reverse_proxy UPSTREAM
	}`)
		tc, file := r45aGateway(t, cf)
		client := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{
			LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}).DialContext}}
		req, _ := http.NewRequest(http.MethodGet, "http://localhost:9080/api/customers", nil)
		if got := r45aDo(t, client, req); got != review44aBody {
			t.Fatalf("the test's premise: an agent at 127.0.0.2 gets the body unmasked, got %s", got)
		}
		_ = tc
		out, errOut, err := run(t, scanCommand(), review44aBody, "--config", file, "--role", "online_agent", "--path", "/api/customers")
		low := strings.ToLower(errOut)
		if err == nil && !strings.Contains(low, "remote") && !strings.Contains(low, "client") && !strings.Contains(low, "127.0.0.1") {
			t.Errorf("an agent at 127.0.0.2 gets %s unmasked; scan shows %s with nothing about the client's address (stderr %q)", review44aBody, out, errOut)
		}
	})
	t.Run("client_ip behind a trusted proxy", func(t *testing.T) {
		up := r45aUpstream(t)
		cf := strings.Replace(scanGatewayCaddyfile(up, `
	@office client_ip 203.0.113.0/24
	handle @office {
		reverse_proxy UPSTREAM
	}
	handle {
		pii_mask /api/* `+review44aMask+`
		reverse_proxy UPSTREAM
	}`), "http_port 9080", "http_port 9080\n\tservers {\n\t\ttrusted_proxies static 127.0.0.1/8\n\t}", 1)
		tc, file := r45aGateway(t, cf)
		req, _ := http.NewRequest(http.MethodGet, "http://localhost:9080/api/customers", nil)
		req.Header.Set("X-Forwarded-For", "203.0.113.5")
		if got := r45aDo(t, tc.Client, req); got != review44aBody {
			t.Fatalf("the test's premise: the office client gets the body unmasked, got %s", got)
		}
		out, _, err := run(t, scanCommand(), review44aBody, "--config", file, "--role", "online_agent", "--path", "/api/customers",
			"--request-header", "X-Forwarded-For: 203.0.113.5")
		if err == nil {
			t.Errorf("FALSE REASSURANCE: the office client (X-Forwarded-For 203.0.113.5 via a trusted proxy) gets %s unmasked;\nscan with that header shows %s", review44aBody, out)
		}
	})
}

// Finding 6 — FALSE REASSURANCE (serve mode). 937f90f made serveDryRun
// hand each pii_mask "the request as the walk reached it" (maskAt.req, a
// copy taken when the walk passed the pii_mask). But Caddy's handlers
// change the one *http.Request in place (rewrite.Rewrite sets r.Method,
// r.URL, r.RequestURI on it; headers edits r.Header), and pii_mask reads
// its request when the response comes (finish → askedJSONP(mw.r, …),
// WriteHeader → mw.r.Method): by then a rewrite *after* it, between it
// and the upstream, has changed it. With `uri query -callback` after the
// pii_mask (the callback kept from the upstream), the gateway's pii_mask
// sees no callback asked for, content-scans the script and sends the
// name in clear (scan off; field rules cannot read a JS literal); the dry
// run gives its pii_mask the URL with ?callback=cb and says "the gateway
// refuses this response with 502 (data_format)".
//
// Expected: each pii_mask reads the request as the whole chain leaves it
// (the walk's final request, as before 937f90f, for what pii_mask reads
// at response time), the snapshot only for its matcher.
func TestReview45aServeSnapshotMissesLaterRewrite(t *testing.T) {
	site := `
	route /api/* {
		pii_mask {
			roles_from {http.request.header.X-Test-Role}
			field mobile cn_mobile
			field name person_name
			scan off
		}
		uri query -callback
		reverse_proxy UPSTREAM
	}`
	body := `cb({mobile:"13812345678",name:"张三"});`
	resp, gw, out, _, err := compareScanServe(t, site, "/api/customers?callback=cb", "online_agent", body, "Content-Type: text/javascript")
	if resp.StatusCode != http.StatusOK || !strings.Contains(gw, "张三") {
		t.Fatalf("the test's premise: the gateway content-scans the script and sends the name, got %d %s", resp.StatusCode, gw)
	}
	if err != nil || out != gw {
		t.Errorf("FALSE REASSURANCE: the gateway sends %s\ncaddy pii scan: %q %v", gw, out, err)
	}
}

// Finding 7 — CRASH (serve mode). serveDryRun runs the pii_mask handlers on
// an httptest recorder and calls next.ServeHTTP without a recover. A
// streamed response (NDJSON, a JSON text sequence, an event stream) has
// its header sent before its units are rewritten; a unit that cannot be
// rewritten cuts the stream, and pii_mask does that by panicking with
// http.ErrAbortHandler (maskWriter.serve / finish / fail: "too late for an
// error page: the connection is cut"), which net/http turns into a closed
// connection. In `caddy pii scan --content-type application/x-ndjson` (or
// application/json-seq — the README's own "one that the next separator
// cuts short is refused" — or text/event-stream) the panic is not caught:
// the command dies with a Go stack trace instead of saying what the
// gateway does.
//
// Expected: serveDryRun recovers http.ErrAbortHandler and reports it as a
// refusal ("the gateway cuts this stream after …: <reason>", exit 1),
// printing nothing of the body (or only what the agent got before the
// cut, clearly marked).
func TestReview45aServeStreamCutPanics(t *testing.T) {
	file := filepath.Join(t.TempDir(), "Caddyfile")
	if err := os.WriteFile(file, []byte(scanGatewayCaddyfile("127.0.0.1:1", scanServeSite)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ ct, body string }{
		{"application/x-ndjson", "{\"mobile\":\"13812345678\"}\n{bad\n"},
		{"application/json-seq", "\x1e{\"ok\":true}\n\x1e{\"mobile\":\n\x1e{\"mobile\":\"13812345678\"}\n"},
		{"text/event-stream", "data: {\"mobile\":\"13812345678\"}\n\ndata: {bad\n\n"},
	} {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("CRASH: caddy pii scan --content-type %s panics: %v", c.ct, r)
				}
			}()
			out, _, err := run(t, scanCommand(), c.body, "--config", file, "--role", "online_agent",
				"--path", "/api/customers", "--content-type", c.ct)
			if err == nil {
				t.Errorf("%s: the gateway cuts this stream; scan shows %q and no error", c.ct, out)
			}
		}()
	}
}
