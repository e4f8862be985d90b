package caddymodule

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddytest"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/piigate/piigate/config"
)

// raw is the path at which the test origin serves body with Content-Type
// ct ("" for JSON, "none" for no type).
func raw(body, ct string) string {
	return "/api/raw?b=" + base64.URLEncoding.EncodeToString([]byte(body)) + "&type=" + url.QueryEscape(ct)
}

func nested(depth int) string {
	return strings.Repeat("[", depth) + `"` + tMobile + `"` + strings.Repeat("]", depth)
}

// TestMaskReadsEveryFormThroughCaddy runs the engine's hard cases (point 3
// of the masking issue) through a real Caddy in front of the test origin:
// each reaches the online agent masked and as valid JSON, or is refused.
func TestMaskReadsEveryFormThroughCaddy(t *testing.T) {
	tc, _ := startGateway(t)
	for _, c := range []struct {
		name, body, ct string
		want           string   // the whole view, when given
		has            []string // in the view
		secrets        []string // never in the view
	}{
		{name: "BOM", body: "\xEF\xBB\xBF" + customerJSON},
		{name: "escaped digits", body: `{"data":[{"mobile":"\u0031\u0033\u0038\u0031\u0032\u0033\u0034\u0035\u0036\u0037\u0038"}]}`,
			want: `{"data":[{"mobile":"138****5678"}]}`},
		{name: "escaped key", body: `{"data":[{"mob\u0069le":"` + tMobile + `"}]}`, secrets: []string{tMobile}},
		{name: "full-width digits", body: `{"data":[{"note":"客户电话１３８１２３４５６７８"}]}`,
			secrets: []string{"１３８１２３４５６７８", "１２３４"}},
		{name: "mobile as a number", body: `{"data":[{"id":1,"contact":` + tMobile + `}]}`, secrets: []string{tMobile}},
		{name: "ID as a number inside text", body: `{"data":[{"id":1,"remark":"证件 ` + tID + `"}]}`, secrets: []string{tID}},
		{name: "JSON inside a string", body: `{"payload":"{\"mobile\":\"` + tMobile + `\",\"email\":\"` + tEmail + `\"}"}`,
			secrets: []string{tMobile, tEmail}},
		{name: "duplicate keys", body: `{"data":[{"mobile":"` + tMobile + `","mobile":"13912345678"}]}`,
			want: `{"data":[{"mobile":"138****5678","mobile":"139****5678"}]}`},
		{name: "deep but within the limit", body: nested(100), secrets: []string{tMobile}},
		// A legacy app's JSON under another label gets its field rules and
		// key names, not only content detection.
		{name: "JSON as text/javascript", body: customerJSON, ct: "text/javascript"},
		{name: "JSON as application/xml", body: customerJSON, ct: "application/xml"},
		{name: "JSON lines as text/plain", body: "{\"mobile\":\"" + tMobile + "\"}\n{\"n\":1}\n", ct: "text/plain",
			want: "{\"mobile\":\"138****5678\"}\n{\"n\":1}\n"},
		{name: "JSON lines without a type", body: "{\"mobile\":\"" + tMobile + "\"}\n{\"n\":1}\n", ct: "none",
			want: "{\"mobile\":\"138****5678\"}\n{\"n\":1}\n"},
	} {
		resp, body := get(t, tc, raw(c.body, c.ct), "online_agent")
		if resp.StatusCode != 200 {
			t.Errorf("%s: status %d: %s", c.name, resp.StatusCode, body)
			continue
		}
		switch {
		case c.want != "":
			if body != c.want {
				t.Errorf("%s: view %s, want %s", c.name, body, c.want)
			}
		case c.secrets == nil:
			masked(t, c.name, body)
		}
		for _, s := range c.secrets {
			if strings.Contains(body, s) {
				t.Errorf("%s: %s leaked: %s", c.name, s, body)
			}
		}
		view := strings.TrimPrefix(body, "\xEF\xBB\xBF")
		if !json.Valid([]byte(view)) && !strings.Contains(c.name, "lines") {
			t.Errorf("%s: the view is not JSON: %s", c.name, body)
		}
	}

	// Over the depth limit (128 by default), and malformed JSON under a
	// type that does not say JSON: refused, never passed on.
	for name, path := range map[string]string{
		"too deep":                nested(200),
		"malformed as text/plain": raw(`{"mobile":"`+tMobile+`",`, "text/plain"),
	} {
		if !strings.HasPrefix(path, "/") {
			path = raw(path, "")
		}
		resp, body := get(t, tc, path, "online_agent")
		assertRefused(t, name, resp, body)
	}
}

// TestSameHeaderName: the spellings CGI and FastCGI upstreams read as one
// header variable. deleteUnderscoreVariants removes the other spellings of
// a name, not the name itself (an identity header whose configured name
// holds '_' is pii_oidc's to set).
func TestSameHeaderName(t *testing.T) {
	h := http.Header{"X_user": {"set by pii_oidc"}, "X.user": {"forged"}, "X-User": {"exact, the caller's"}, "A_b": {"other"}}
	deleteUnderscoreVariants(h, []string{"X_user"})
	if _, ok := h["X.user"]; ok || len(h) != 3 {
		t.Errorf("after deleteUnderscoreVariants: %v", h)
	}
	for _, c := range []struct {
		a, b string
		same bool
	}{
		{"X_Remote_User", "X-Remote-User", true},
		{"x_remote-USER", "X-Remote-User", true},
		{"X-Remote-User", "X-Remote-User", true},
		{"X.Remote.User", "X-Remote-User", true},
		{"X_Remote_Users", "X-Remote-User", false},
		{"X:Remote:User", "X-Remote-User", false},
		{"Y_Remote_User", "X-Remote-User", false},
	} {
		if sameHeaderName(c.a, c.b) != c.same {
			t.Errorf("sameHeaderName(%q, %q) = %v", c.a, c.b, !c.same)
		}
	}
}

// optionsCaddyfile holds the pii_mask options the main test configuration
// leaves at their defaults, and a policy that denies unknown agents.
func optionsCaddyfile(o *origin) string {
	up := o.Listener.Addr().String()
	route := func(prefix, opts string) string {
		return `
	handle /` + prefix + `/* {
		uri strip_prefix /` + prefix + `
		pii_mask {
			roles_from {http.request.header.X-Test-Role}
			` + opts + `
		}
		reverse_proxy ` + up + `
	}`
	}
	return `{
	skip_install_trust
	admin localhost:2999
	http_port 9080
	https_port 9443
	servers {
		expected_underscore_headers X_Remote_User X_Request_Note
		expected_dot_headers X.Auth.User
	}
	pii {
		unknown_role deny
		role online_agent {
			cn_mobile mask
			* redact
		}
	}
}
http://localhost:9080 {` +
		route("shallow", "max_depth 8\n\t\t\tscan all") +
		route("uncompressed", "no_reencode\n\t\t\tscan all") +
		route("ws", "allow_websocket") +
		route("names", "scan names") +
		route("dataformats", "scan names\n\t\t\tdata_formats scan") +
		route("guarded", "scan all\n\t\t\tstrip_request_header X-Remote-User X-Auth-User") + `
}
`
}

// TestMaskOptionsThroughCaddy exercises, in a running Caddy, the options
// and policy settings the other integration tests leave at their defaults.
func TestMaskOptionsThroughCaddy(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	ensureAdmin(t)
	o := newOrigin(t)
	o.Config.Handler.(*http.ServeMux).HandleFunc("/api/upgrade", upgradeHandler)
	tc := caddytest.NewTester(t)
	tc.InitServer(optionsCaddyfile(o), "caddyfile")

	// max_depth 8: eight levels pass, nine are refused.
	if resp, body := get(t, tc, "/shallow"+raw(nested(8), ""), "online_agent"); resp.StatusCode != 200 ||
		!strings.Contains(body, "138****5678") {
		t.Errorf("8 levels under max_depth 8: %d %s", resp.StatusCode, body)
	}
	resp, body := get(t, tc, "/shallow"+raw(nested(9), ""), "online_agent")
	assertRefused(t, "9 levels under max_depth 8", resp, body)

	// no_reencode: the masked view goes out uncompressed, for encode.
	req, _ := http.NewRequest(http.MethodGet, "http://localhost:9080/uncompressed/api/enc/gzip", nil)
	req.Header.Set("X-Test-Role", "online_agent")
	req.Header.Set("Accept-Encoding", "gzip")
	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	r2, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r2.Body)
	r2.Body.Close()
	if r2.Header.Get("Content-Encoding") != "" || !strings.Contains(string(b), `"mobile":"138****5678"`) ||
		strings.Contains(string(b), tMobile) {
		t.Errorf("no_reencode: Content-Encoding %q, body %.80q", r2.Header.Get("Content-Encoding"), b)
	}

	// Spellings of the stripped headers that the server lets in (its
	// expected_underscore_headers and expected_dot_headers) are stripped
	// too; other such headers pass.
	_, echo := get(t, tc, "/guarded/api/echo", "online_agent",
		"X_Remote_User", "admin", "X.Auth.User", "forged", "X_Request_Note", "kept")
	var names struct {
		Names []string `json:"header_names"`
	}
	if err := json.Unmarshal([]byte(echo), &names); err != nil {
		t.Fatalf("echo: %v: %s", err, echo)
	}
	kept := false
	for _, n := range names.Names {
		if sameHeaderName(n, "X-Remote-User") || sameHeaderName(n, "X-Auth-User") {
			t.Errorf("%s reached the upstream", n)
		}
		kept = kept || n == "X_request_note"
	}
	if !kept {
		t.Errorf("a header that names no identity was removed too: %v", names.Names)
	}

	// Under scan names (the default), JSON under a label that did not say
	// JSON is content-scanned everywhere, as the text it was labelled;
	// a body that is not JSON under a label of its own kind of text is
	// that text.
	for _, c := range []struct{ name, body, ct, want string }{
		{"JSON as text/javascript", `{"note":"客户电话 ` + tMobile + `"}`, "text/javascript", `{"note":"客户电话 138****5678"}`},
		{"JSON lines as text/plain", "{\"ok\":true}\n\"客户电话 " + tMobile + "\"\n[1]\n" + tMobile + "\n", "text/plain",
			"{\"ok\":true}\n\"客户电话 138****5678\"\n[1]\n\"138****5678\"\n"},
		{"JSON with a note", `{"id":1,"note":"电话 ` + tMobile + `"}`, "application/json", `{"id":1,"note":"电话 ` + tMobile + `"}`},
	} {
		resp, body := get(t, tc, "/names"+raw(c.body, c.ct), "online_agent")
		if resp.StatusCode != 200 || body != c.want {
			t.Errorf("scan names, %s: %d %q, want %q", c.name, resp.StatusCode, body, c.want)
		}
	}

	// A data format other than JSON (here CSV) cannot have the route's key
	// names applied: refused by default, content-scanned as text with
	// data_formats scan.
	csv := raw("[id],phone\n1,"+tMobile+"\n", "text/csv")
	if resp, body := get(t, tc, "/names"+csv, "online_agent"); resp.StatusCode != http.StatusBadGateway || strings.Contains(body, "phone") {
		t.Errorf("scan names, CSV: %d %q, want a 502", resp.StatusCode, body)
	}
	if resp, body := get(t, tc, "/dataformats"+csv, "online_agent"); resp.StatusCode != 200 || body != "[id],phone\n1,138****5678\n" {
		t.Errorf("data_formats scan, CSV: %d %q", resp.StatusCode, body)
	}

	// An agent the policy denies gets nothing, an allowed WebSocket
	// included.
	if status, rest := upgradeAs(t, "/ws/api/upgrade", "websocket", "stranger"); status != http.StatusForbidden || strings.Contains(rest, tMobile) {
		t.Errorf("a denied agent's WebSocket under allow_websocket: %d %q", status, rest)
	}

	// unknown_role deny: 403 with a request id, nothing of the upstream;
	// refusals before the upstream is asked count in the metrics too.
	const refused = `piigate_mask_responses_total{result="refused"}`
	const denied = `piigate_mask_refusals_total{reason="unknown_role"}`
	r0, d0 := metricValue(t, refused), metricValue(t, denied)
	resp, body = get(t, tc, "/guarded/api/customers", "stranger")
	if resp.StatusCode != http.StatusForbidden || strings.Contains(body, tMobile) ||
		!strings.Contains(body, `"request_id"`) {
		t.Errorf("unknown role under unknown_role deny: %d %s", resp.StatusCode, body)
	}
	// (Counted when the handler returns, which can be just after the
	// client has read the answer.)
	r1, d1 := metricValue(t, refused), metricValue(t, denied)
	for deadline := time.Now().Add(3 * time.Second); (r1 < r0+1 || d1 < d0+1) && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		r1, d1 = metricValue(t, refused), metricValue(t, denied)
	}
	if r1 != r0+1 || d1 != d0+1 {
		t.Errorf("a denied agent: %s %v → %v, %s %v → %v", refused, r0, r1, denied, d0, d1)
	}

	// WebSocket: refused by default, passed with allow_websocket; an
	// upstream switching protocols on a guarded route is refused.
	if status, _ := upgrade(t, "/guarded/api/upgrade", "websocket"); status != http.StatusForbidden {
		t.Errorf("WebSocket upgrade on a guarded route: %d, want 403", status)
	}
	if status, rest := upgrade(t, "/ws/api/upgrade", "websocket"); status != http.StatusSwitchingProtocols ||
		!strings.Contains(rest, "hello") {
		t.Errorf("WebSocket upgrade under allow_websocket: %d %q", status, rest)
	}
	// An upstream that ignores the upgrade and answers a request with the
	// Upgrade header as any other is masked as any other.
	if _, body := get(t, tc, "/ws/api/customers", "online_agent", "Connection", "Upgrade", "Upgrade", "websocket"); strings.Contains(body, tMobile) ||
		!strings.Contains(body, "138****5678") {
		t.Errorf("an upgrade request the upstream answered with data, under allow_websocket: %s", body)
	}
	if status, rest := upgrade(t, "/ws/api/upgrade", "x-custom"); status != http.StatusBadGateway ||
		strings.Contains(rest, tMobile) {
		t.Errorf("another protocol switched to under allow_websocket: %d %q", status, rest)
	}
	if status, rest := upgrade(t, "/guarded/api/upgrade", "x-custom"); status != http.StatusBadGateway ||
		strings.Contains(rest, tMobile) {
		t.Errorf("another protocol switched to on a guarded route: %d %q", status, rest)
	}
}

// metricValue reads one series from Caddy's metrics on the admin endpoint
// (0 when it is not there yet).
func metricValue(t *testing.T, series string) float64 {
	t.Helper()
	resp, err := http.Get("http://localhost:2999/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", series, err)
			}
			return f
		}
	}
	return 0
}

// upgradeHandler switches to whatever protocol the client asks for and
// sends a greeting holding a mobile number.
func upgradeHandler(w http.ResponseWriter, r *http.Request) {
	proto := r.Header.Get("Upgrade")
	if proto == "" {
		http.Error(w, "no upgrade", http.StatusBadRequest)
		return
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: %s\r\nConnection: Upgrade\r\n\r\nhello %s\n", proto, tMobile)
	brw.Flush()
	time.Sleep(200 * time.Millisecond)
}

// upgrade asks the gateway to switch path to proto and returns the status
// and what followed the response header within a short time.
func upgrade(t *testing.T, path, proto string) (int, string) {
	t.Helper()
	return upgradeAs(t, path, proto, "online_agent")
}

// upgradeAs is upgrade for an agent of role.
func upgradeAs(t *testing.T, path, proto, role string) (int, string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", "localhost:9080", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: localhost:9080\r\nX-Test-Role: %s\r\nConnection: Upgrade\r\n"+
		"Upgrade: %s\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", path, role, proto)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var rest []byte
	if resp.StatusCode == http.StatusSwitchingProtocols {
		conn.SetDeadline(time.Now().Add(time.Second))
		rest, _ = io.ReadAll(br)
	} else {
		rest, _ = io.ReadAll(resp.Body)
	}
	return resp.StatusCode, string(rest)
}

// serveMask runs a provisioned pii_mask on one request with next as the
// upstream, the way Caddy's server would: with a replacer and request
// variables in the context. It returns the recorder and the variables.
func serveMask(t *testing.T, m *Mask, req *http.Request, next caddyhttp.HandlerFunc) (*httptest.ResponseRecorder, map[string]any) {
	t.Helper()
	rec, vars, cut := serveMaskCut(t, m, req, next)
	if cut != nil {
		t.Fatalf("the response was cut: %v", cut)
	}
	return rec, vars
}

// serveMaskCut is serveMask for a response that may be cut: it also returns
// what ServeHTTP panicked with (http.ErrAbortHandler when the connection
// is cut on the agent), instead of failing on it.
func serveMaskCut(t *testing.T, m *Mask, req *http.Request, next caddyhttp.HandlerFunc) (rec *httptest.ResponseRecorder, vars map[string]any, cut any) {
	t.Helper()
	vars = map[string]any{}
	ctx := context.WithValue(req.Context(), caddy.ReplacerCtxKey, caddy.NewReplacer())
	ctx = context.WithValue(ctx, caddyhttp.VarsCtxKey, vars)
	rec = httptest.NewRecorder()
	defer func() { cut = recover() }()
	if err := m.ServeHTTP(rec, req.WithContext(ctx), next); err != nil {
		t.Fatal(err)
	}
	return rec, vars, nil
}

func provisionedMask(t *testing.T, m *Mask) *Mask {
	t.Helper()
	app := &App{Roles: map[string]config.RoleRules{"online_agent": {"cn_mobile": "mask", "email": "mask", "*": "redact"}}}
	if err := app.compile(); err != nil {
		t.Fatal(err)
	}
	if err := m.provisionWith(app); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestMaskOutcome: the per-request summary the flow log reads from the
// request variable "pii": roles, result, format, counts and paths, and
// nothing counted for a response that was refused.
func TestMaskOutcome(t *testing.T) {
	m := provisionedMask(t, &Mask{RolesFrom: "online_agent", Scan: "names",
		Fields: []config.Field{{Path: "data.#.mobile", Type: "cn_mobile"}}})
	serve := func(body string) (*httptest.ResponseRecorder, *Outcome) {
		rec, vars := serveMask(t, m, httptest.NewRequest(http.MethodGet, "/api/c", nil),
			func(w http.ResponseWriter, r *http.Request) error {
				w.Header().Set("Content-Type", "application/json")
				_, err := io.WriteString(w, body)
				return err
			})
		out, ok := vars[varOutcome].(*Outcome)
		if !ok {
			t.Fatalf("no outcome in the request variables: %v", vars)
		}
		return rec, out
	}

	rec, out := serve(`{"data":[{"mobile":"` + tMobile + `","email":"` + tEmail + `"},{"mobile":"13912345678"}]}`)
	if rec.Code != 200 || strings.Contains(rec.Body.String(), tMobile) {
		t.Fatalf("view %d %s", rec.Code, rec.Body)
	}
	if out.Result != resultRewritten || out.Format != "json" || out.Status != 200 || out.PolicyVersion == "" ||
		len(out.Roles) != 1 || out.Roles[0] != "online_agent" || out.UnknownRole {
		t.Errorf("outcome %s %s %d %q %v %v", out.Result, out.Format, out.Status, out.PolicyVersion, out.Roles, out.UnknownRole)
	}
	counts := map[string]int{}
	for _, c := range out.Summary.Counts {
		counts[c.Type.String()+" "+c.Action.String()] += c.N
	}
	if counts["cn_mobile mask"] != 2 || counts["email mask"] != 1 || len(counts) != 2 {
		t.Errorf("counts %v", counts)
	}
	if got := strings.Join(out.Summary.Paths, " "); got != "data.#.mobile data.#.email" {
		t.Errorf("paths %q", got)
	}
	if _, err := json.Marshal(out); err != nil {
		t.Errorf("the outcome does not marshal for the logs: %v", err)
	}

	rec, out = serve(`{"data":[{"mobile":"` + tMobile + `",`)
	if rec.Code != http.StatusBadGateway || out.Result != resultRefused || out.Reason != reasonMalformed ||
		len(out.Summary.Counts) != 0 || len(out.Summary.Paths) != 0 {
		t.Errorf("malformed: %d, outcome %s/%s, counts %v, paths %v", rec.Code, out.Result, out.Reason,
			out.Summary.Counts, out.Summary.Paths)
	}
}

// TestMaskRefusesTunnels: WebSocket openings over HTTP/1.1 and HTTP/2
// (extended CONNECT, whose protocol Go puts in the ":protocol" header),
// and any other CONNECT, never reach the upstream on a guarded route;
// allow_websocket lets only WebSocket openings through.
func TestMaskRefusesTunnels(t *testing.T) {
	h1 := func() *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/api/ws", nil)
		r.Header.Set("Connection", "Upgrade")
		r.Header.Set("Upgrade", "WebSocket")
		return r
	}
	h2 := func() *http.Request {
		r := httptest.NewRequest(http.MethodConnect, "/api/ws", nil)
		r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/2.0", 2, 0
		r.Header.Set(":protocol", "websocket")
		return r
	}
	tunnel := func() *http.Request {
		r := httptest.NewRequest(http.MethodConnect, "/", nil)
		r.Host, r.RequestURI = "db.internal:5432", "db.internal:5432"
		return r
	}
	for _, c := range []struct {
		name   string
		allow  bool
		req    func() *http.Request
		reason string // refused for reason, or "" for passed on
	}{
		{"HTTP/1.1 upgrade", false, h1, reasonWebSocket},
		{"HTTP/2 extended CONNECT", false, h2, reasonWebSocket},
		{"CONNECT tunnel", false, tunnel, reasonTunnel},
		{"HTTP/1.1 upgrade, allowed", true, h1, ""},
		// Caddy answers an upgraded HTTP/2 WebSocket with a 200 that
		// pii_mask could not tell from a response: refused.
		{"HTTP/2 extended CONNECT, allowed", true, h2, reasonWebSocket},
		{"CONNECT tunnel, WebSocket allowed", true, tunnel, reasonTunnel},
	} {
		m := provisionedMask(t, &Mask{RolesFrom: "online_agent", AllowWebSocket: c.allow})
		reached := false
		rec, vars := serveMask(t, m, c.req(), func(w http.ResponseWriter, r *http.Request) error {
			reached = true
			if r.Header.Get("Upgrade") != "" { // an upstream that switches
				w.Header().Set("Upgrade", "websocket")
				w.WriteHeader(http.StatusSwitchingProtocols)
			}
			return nil
		})
		out := vars[varOutcome].(*Outcome)
		if c.reason == "" {
			if !reached || out.Result != resultPassed || out.Reason != reasonWebSocket {
				t.Errorf("%s: reached %v, outcome %s/%s", c.name, reached, out.Result, out.Reason)
			}
			continue
		}
		if reached || rec.Code != http.StatusForbidden || out.Result != resultRefused || out.Reason != c.reason {
			t.Errorf("%s: reached %v, status %d, outcome %s/%s", c.name, reached, rec.Code, out.Result, out.Reason)
		}
	}
}

// TestMaskBodyLimitCountsEveryWrite: max_body bounds the running total of
// the upstream's writes, whatever their number and size.
func TestMaskBodyLimitCountsEveryWrite(t *testing.T) {
	m := provisionedMask(t, &Mask{RolesFrom: "online_agent", Scan: "names", MaxBody: 1000})
	for _, n := range []int{999, 1000, 1001} {
		for _, writes := range []int{1, 50, 1001} {
			body := sizedJSON(n)
			calls := 0
			rec, vars := serveMask(t, m, httptest.NewRequest(http.MethodGet, "/api/c", nil),
				func(w http.ResponseWriter, r *http.Request) error {
					w.Header().Set("Content-Type", "application/json")
					for i := range writes {
						calls++
						if _, err := w.Write(body[i*len(body)/writes : (i+1)*len(body)/writes]); err != nil {
							return err
						}
					}
					return nil
				})
			out := vars[varOutcome].(*Outcome)
			what := fmt.Sprintf("%d bytes in %d writes", n, writes)
			if n <= 1000 {
				if rec.Code != 200 || !strings.Contains(rec.Body.String(), "138****5678") || calls != writes {
					t.Errorf("%s: %d after %d writes: %.60s", what, rec.Code, calls, rec.Body)
				}
				continue
			}
			if rec.Code != http.StatusBadGateway || out.Reason != reasonTooLarge || strings.Contains(rec.Body.String(), tMobile) {
				t.Errorf("%s: %d, outcome %s/%s", what, rec.Code, out.Result, out.Reason)
			}
		}
	}
}

// TestMaskRecordsCutStreams: a stream whose upstream dies after the header
// went out is cut on the agent, and its outcome says so.
func TestMaskRecordsCutStreams(t *testing.T) {
	m := provisionedMask(t, &Mask{RolesFrom: "online_agent", Scan: "names"})
	rec, vars, rec2 := serveMaskCut(t, m, httptest.NewRequest(http.MethodGet, "/api/stream", nil),
		func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Content-Type", "application/x-ndjson")
			io.WriteString(w, `{"mobile":"`+tMobile+"\"}\n")
			panic(http.ErrAbortHandler) // what reverse_proxy does when the upstream dies mid-body
		})
	if rec2 != http.ErrAbortHandler {
		t.Fatalf("recovered %v, want http.ErrAbortHandler (the connection is cut)", rec2)
	}
	out := vars[varOutcome].(*Outcome)
	if out.Result != resultRefused || out.Reason != reasonUpstream {
		t.Errorf("outcome %s/%s, want refused/%s", out.Result, out.Reason, reasonUpstream)
	}
	if got := rec.Body.String(); got != "{\"mobile\":\"138****5678\"}\n" {
		t.Errorf("what went out before the cut: %q", got)
	}
}

// TestMaskAsksStreamsUncompressed: a compressed stream could only be
// rewritten whole, which would stop it flowing, so for a client that asks
// for events pii_mask does not pass on its Accept-Encoding. The test
// origin compresses its events when asked to; the first event must reach
// the agent, masked, before the origin sends the second.
func TestMaskAsksStreamsUncompressed(t *testing.T) {
	tc, o := startGateway(t)
	req, _ := http.NewRequest(http.MethodGet, "http://localhost:9080/api/sse", nil)
	req.Header.Set("X-Test-Role", "online_agent")
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := tcDo(tc, req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	defer func() {
		select {
		case <-o.sse:
		default:
			close(o.sse)
		}
	}()
	if ce := resp.Header.Get("Content-Encoding"); ce != "" {
		t.Fatalf("Content-Encoding %q: the stream was compressed", ce)
	}
	first := make(chan string, 1)
	r := bufio.NewReader(resp.Body)
	go func() {
		line, _ := r.ReadString('\n')
		first <- line
	}()
	select {
	case line := <-first:
		if line != "data: {\"mobile\":\"138****5678\"}\n" {
			t.Fatalf("first event: %q", line)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the first event did not arrive before the origin sent the second: the stream was held back")
	}
	close(o.sse)
	rest, _ := io.ReadAll(r)
	if string(rest) != "\ndata: {\"email\":\"z***@example.com\"}\n\n" {
		t.Errorf("second event: %q", rest)
	}
}

// TestMaskLegacyCharsets: a body in a legacy charset the Content-Type names
// (GBK, as many Chinese helpdesks still serve) is read in it and answered
// in it, masked; unchanged, it passes byte for byte.
func TestMaskLegacyCharsets(t *testing.T) {
	tc, _ := startGateway(t)
	gbk := simplifiedchinese.GBK
	enc := func(s string) string {
		b, err := gbk.NewEncoder().String(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	dec := func(s string) string {
		b, err := gbk.NewDecoder().String(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, c := range []struct {
		name, ct, body, want string
	}{
		{"HTML", "text/html; charset=GBK", "<p>客户电话 " + tMobile + "，邮箱 " + tEmail + "</p>",
			"<p>客户电话 138****5678，邮箱 z***@example.com</p>"},
		{"JSON", "application/json;charset=gb2312", `{"data":[{"name":"张三","mobile":"` + tMobile + `"}]}`,
			`{"data":[{"name":"张*","mobile":"138****5678"}]}`},
		{"JSON as text/javascript", `text/javascript; charset="gb18030"`, `{"data":[{"name":"张三","address":"北京市朝阳区建国路88号"}]}`,
			`{"data":[{"name":"张*","address":"[address]"}]}`},
		{"unchanged", "text/plain; charset=gbk", "您好，请问有什么可以帮您？", "您好，请问有什么可以帮您？"},
		// The charset named only in the page's <meta> tag.
		{"HTML with a meta charset", "text/html", `<html><head><meta charset="gbk"></head><body>客户电话 ` + tMobile + `</body></html>`,
			`<html><head><meta charset="gbk"></head><body>客户电话 138****5678</body></html>`},
		{"HTML with an http-equiv", "text/html", `<meta http-equiv="Content-Type" content="text/html; charset=gb2312"><p>张先生 ` + tMobile + `</p>`,
			`<meta http-equiv="Content-Type" content="text/html; charset=gb2312"><p>张先生 138****5678</p>`},
		// A stream in a legacy charset is read whole, in its charset.
		{"NDJSON", "application/x-ndjson; charset=gbk", "{\"name\":\"张三\"}\n{\"mobile\":\"" + tMobile + "\"}\n",
			"{\"name\":\"张*\"}\n{\"mobile\":\"138****5678\"}\n"},
	} {
		resp, body := get(t, tc, raw(enc(c.body), c.ct), "online_agent")
		if resp.StatusCode != 200 {
			t.Errorf("%s: status %d: %s", c.name, resp.StatusCode, body)
			continue
		}
		if got := dec(body); got != c.want {
			t.Errorf("%s: view %q, want %q", c.name, got, c.want)
		}
		if resp.Header.Get("Content-Type") != c.ct {
			t.Errorf("%s: Content-Type %q, want the upstream's %q", c.name, resp.Header.Get("Content-Type"), c.ct)
		}
		if c.name == "unchanged" && body != enc(c.body) {
			t.Errorf("unchanged: the bytes differ from the upstream's")
		}
	}
	// A UTF-8 byte-order mark wins over the label, as in browsers.
	resp0, body0 := get(t, tc, raw("\xEF\xBB\xBF护照 E12345678，电话 "+tMobile, "text/plain; charset=gbk"), "online_agent")
	if resp0.StatusCode != 200 || !strings.HasPrefix(body0, "\xEF\xBB\xBF护照 ") || !strings.Contains(body0, "电话 138****5678") ||
		strings.Contains(body0, "E12345678") {
		t.Errorf("UTF-8 with a BOM labelled gbk: %d %q", resp0.StatusCode, body0)
	}
	// Charsets that do not read ASCII as ASCII could hide a body from the
	// rewrite and show it to the agent: refused. So is UTF-16.
	for name, c := range map[string]struct{ body, ct string }{
		"iso-2022-kr":           {"客户电话 " + tMobile, "text/plain; charset=iso-2022-kr"},
		"hz-gb-2312 as JSON":    {`{"mobile":"` + tMobile + `"}`, "application/json; charset=hz-gb-2312"},
		"ASCII labelled UTF-16": {"mobile " + tMobile, "text/plain; charset=utf-16le"},
		"UTF-16 with a BOM":     {"\xFF\xFE1\x003\x008\x00", "text/plain"},
	} {
		resp, body := get(t, tc, raw(c.body, c.ct), "online_agent")
		assertRefused(t, name, resp, body)
	}
	// The charset a page or an XML document names for itself, when the
	// header names none, however far the text in it starts; the header's
	// wins when it names one.
	iso2022 := japanese.ISO2022JP
	for name, c := range map[string]struct{ body, ct, dec string }{
		"meta gbk after 9 KB": {enc(`<meta charset="gbk">` + strings.Repeat("x", 9000) + "客户电话１３８１２３４５６７８ " + tMobile), "text/html", "gbk"},
		"meta iso-2022-jp":    {`<meta charset="iso-2022-jp"><p>tel 138` + "\x1b(B" + `1234` + "\x1b(B" + `5678</p>`, "text/html", "iso-2022-jp"},
		"XML iso-2022-jp":     {`<?xml version="1.0" encoding='ISO-2022-JP'?><tel>138` + "\x1b(B" + `12345678</tel>`, "application/xml", "iso-2022-jp"},
		"header utf-8 wins":   {`<meta charset="iso-2022-jp"><p>` + "\x1b$B!!" + tMobile + "!\x1b(B</p>", "text/html; charset=utf-8", "utf-8"},
		"XML gbk":             {enc(`<?xml version="1.0" encoding="GBK"?><name>张三</name><tel>` + tMobile + `</tel>`), "text/xml", "gbk"},
	} {
		path := raw(c.body, c.ct)
		if strings.Contains(c.ct, "xml") {
			path = "/textual" + path // XML is content-scanned only under data_formats scan
		}
		resp, body := get(t, tc, path, "online_agent")
		var view string
		switch c.dec {
		case "gbk":
			view = dec(body)
		case "iso-2022-jp":
			v, err := iso2022.NewDecoder().String(body)
			if err != nil {
				t.Fatal(err)
			}
			view = v
		default:
			view = body
		}
		if resp.StatusCode != 200 || strings.Contains(view, tMobile) || strings.Contains(view, "１２３４５６７８") || !strings.Contains(view, "138****5678") {
			t.Errorf("%s: %d, read as the agent's browser would: %q", name, resp.StatusCode, view)
		}
	}
	// No charset named, and escapes a browser may take for ISO-2022-JP:
	// refused.
	resp, body := get(t, tc, raw("tel 138\x1b(B12345678", "text/plain"), "online_agent")
	assertRefused(t, "ISO-2022 escapes with no charset", resp, body)
	// '@' is a trail byte of common Big5 characters (一 is A4 40): not
	// taken for a hidden one.
	if resp, body := get(t, tc, raw("{\"a\":\"\xa4@\"}", "application/json; charset=big5"), "online_agent"); resp.StatusCode != 200 {
		t.Errorf("Big5 一: %d %q", resp.StatusCode, body)
	}
	// Digits the charset reads into other characters (GB18030's four-byte
	// forms hold digits) would be seen by a client reading UTF-8 and not
	// by the rewrite: refused.
	hidden := ""
	for _, d := range tMobile {
		hidden += "\x81" + string(d) + "\x81" + string(d)
	}
	resp, body = get(t, tc, raw(`{"n":"`+hidden+`"}`, "application/json; charset=gb18030"), "online_agent")
	assertRefused(t, "digits inside GB18030 four-byte forms", resp, body)
	// Without a charset in the header or the page, a body that is not
	// UTF-8 is not read in a guessed one: refused.
	resp, body = get(t, tc, raw(enc("<p>客户电话 "+tMobile+"</p>"), "text/html"), "online_agent")
	assertRefused(t, "GBK HTML naming no charset", resp, body)
	// Two types (clients disagree on which counts): refused. A body
	// compressed twice, said in two header lines: read twice.
	resp, body = get(t, tc, "/passing/api/twice?h=ct", "online_agent") // pass_types image/*
	assertRefused(t, "two Content-Type lines", resp, body)
	// Two types in one line, split at the comma as browsers do: refused
	// (a stream to the gateway would be a page to the browser). A comma
	// inside a quoted parameter is not a second type.
	resp, body = get(t, tc, raw(`<meta charset="iso-2022-jp"><p>tel 138`+"\x1b(B"+`12345678</p>`, "text/event-stream;x=1, text/html"), "online_agent")
	assertRefused(t, "two types in one line", resp, body)
	// (And a view is never to be sniffed for another type.)
	if resp, body := get(t, tc, raw("tel "+tMobile, `text/plain; x="a,b"`), "online_agent"); resp.StatusCode != 200 ||
		body != "tel 138****5678" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("a quoted comma: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	// UTF-8 for 9 KB, then another charset: not text the rewrite reads.
	resp, body = get(t, tc, raw(strings.Repeat("x", 9000)+enc("客户张三 ")+tMobile, "text/plain"), "online_agent")
	assertRefused(t, "UTF-8, then GBK after 9 KB", resp, body)
	resp, body = get(t, tc, "/api/twice?h=ce", "online_agent", "Accept-Encoding", "gzip")
	plain, err := decodeBody([]byte(body), []string{"gzip", "gzip"}, 1<<20)
	if resp.StatusCode != 200 || err != nil || string(plain) != "<p>客户电话 138****5678</p>" {
		t.Errorf("gzip twice in two lines: %d %v %q", resp.StatusCode, err, plain)
	}
	for ct, want := range map[string]bool{
		"application/json": false, "application/json; charset=utf-8": false, "text/html; Charset=UTF8": false,
		"text/plain; charset=us-ascii": false, "text/plain; charset=x-unknown": false,
		"text/html; charset=gbk": true, "text/html; foo=bar; charset=\"Big5\"": true, "text/csv;charset=windows-1252": true,
	} {
		if enc, _ := legacyCharset(ct); (enc != nil) != want {
			t.Errorf("legacyCharset(%q) = %v", ct, enc)
		}
	}
	if n := testing.AllocsPerRun(100, func() { legacyCharset("application/json; charset=utf-8") }); n != 0 {
		t.Errorf("a UTF-8 Content-Type: %v allocations", n)
	}
}

// TestMaskPassesBinaryAsBinary: with application/octet-stream in
// pass_types, only a body whose type is that or none passes uninspected,
// and it goes out as binary, not to be rendered; text under a text label
// that is not UTF-8 is refused.
func TestMaskPassesBinaryAsBinary(t *testing.T) {
	m := provisionedMask(t, &Mask{RolesFrom: "online_agent", Scan: "names", PassTypes: []string{"application/octet-stream"}})
	serve := func(ct, body string) *httptest.ResponseRecorder {
		rec, _ := serveMask(t, m, httptest.NewRequest(http.MethodGet, "/api/f", nil),
			func(w http.ResponseWriter, r *http.Request) error {
				if ct != "" {
					w.Header().Set("Content-Type", ct)
				} else {
					w.Header()["Content-Type"] = nil
				}
				_, err := io.WriteString(w, body)
				return err
			})
		return rec
	}
	if rec := serve("text/html", "<p>Jos\xe9 "+tMobile+"</p>"); rec.Code != http.StatusBadGateway || strings.Contains(rec.Body.String(), tMobile) {
		t.Errorf("Latin-1 HTML with octet-stream passed: %d %q", rec.Code, rec.Body)
	}
	rec := serve("", "\x00\x01\x02"+tMobile)
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/octet-stream" || rec.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("binary of no type: %d %v", rec.Code, rec.Header())
	}
	// Binary is not held to the text checks (ISO-2022 escapes, a UTF-16
	// byte-order mark): those byte pairs turn up in any large download.
	for _, b := range []string{"\x00\x01\x1b(\x02\xff", "\xff\xfe\x00\x01\x02"} {
		if rec := serve("application/octet-stream", b); rec.Code != 200 || rec.Body.String() != b {
			t.Errorf("binary %q: %d", b, rec.Code)
		}
	}
	for decl, want := range map[string]string{
		`<?xml version="1.0" encoding="GBK"?><a/>`:              "GBK",
		"<?xml\tversion='1.0'\nencoding = 'Big5' ?>":            "Big5",
		`<?xml-stylesheet href="a.xsl" encoding="gbk"?><a/>`:    "",
		`<?xml version="1.0" foo-encoding="gbk"?><a/>`:          "",
		`<?xml version="1.0" foo-encoding="x" encoding="gbk"?>`: "gbk",
		`<?xml version="1.0" encoding="gbk`:                     "",
		`<a/>`:                                                  "",
	} {
		if got := xmlDeclEncoding([]byte(decl)); got != want {
			t.Errorf("xmlDeclEncoding(%q) = %q, want %q", decl, got, want)
		}
	}
}

// TestMaskDropsTrailers: the upstream's trailers are not inspected, so
// they do not reach the agent, as trailers or as headers, whether the body
// was buffered or streamed.
func TestMaskDropsTrailers(t *testing.T) {
	tc, _ := startGateway(t)
	for _, ct := range []string{"application/json", "application/x-ndjson"} {
		req, _ := http.NewRequest(http.MethodGet, "http://localhost:9080/api/trailers?ct="+url.QueryEscape(ct), nil)
		req.Header.Set("X-Test-Role", "online_agent")
		resp, err := tcDo(tc, req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		all := fmt.Sprint(resp.Header, resp.Trailer)
		if resp.StatusCode != 200 || !strings.Contains(string(body), "138****5678") ||
			strings.Contains(all, tMobile) || strings.Contains(all, tEmail) {
			t.Errorf("%s: %d %q, header and trailer %s", ct, resp.StatusCode, body, all)
		}
	}
}

// TestMaskStreamEdges: a byte-order mark at a stream's start (which
// EventSource drops) does not hide the first event from field rules; a
// stream whose unit is refused is cut, not ended as if complete; '@' as a
// Big5 trail byte is not taken for a hidden one.
func TestMaskStreamEdges(t *testing.T) {
	m := provisionedMask(t, &Mask{RolesFrom: "online_agent", Scan: "off", Fields: []config.Field{{Path: "mobile", Type: "cn_mobile"}}})
	stream := func(ct string, parts ...string) (*httptest.ResponseRecorder, any) {
		rec, _, cut := serveMaskCut(t, m, httptest.NewRequest(http.MethodGet, "/api/s", nil),
			func(w http.ResponseWriter, r *http.Request) error {
				w.Header().Set("Content-Type", ct)
				for _, p := range parts {
					if _, err := io.WriteString(w, p); err != nil {
						return err
					}
				}
				return nil
			})
		return rec, cut
	}
	for ct, in := range map[string]string{
		"text/event-stream":    "\xEF\xBB\xBFdata: {\"mobile\":\"abcdef\"}\n\n",
		"application/x-ndjson": "\xEF\xBB\xBF{\"mobile\":\"abcdef\"}\n",
	} {
		rec, p := stream(ct, in[:2], in[2:])
		if p != nil || !strings.HasPrefix(rec.Body.String(), "\xEF\xBB\xBF") || strings.Contains(rec.Body.String(), "abcdef") ||
			!strings.Contains(rec.Body.String(), `"mobile":"`) {
			t.Errorf("%s with a BOM: %q (panic %v)", ct, rec.Body, p)
		}
	}
	rec, p := stream("text/event-stream", "data: {\"mobile\":\"abcdef\"}\n\n", "data: {\"mobile\":\n\n")
	if p != http.ErrAbortHandler || strings.Contains(rec.Body.String(), "abcdef") {
		t.Errorf("a refused unit mid-stream: %q, recovered %v, want the connection cut", rec.Body, p)
	}
	if n := asciiDigits([]byte("a1\xa4@2")); n != 2 {
		t.Errorf("asciiDigits: %d", n)
	}
}
