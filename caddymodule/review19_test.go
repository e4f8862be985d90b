package caddymodule

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddytest"
)

const r19Body = `{"mobile":"13812345678","note":"mail a@example.com"}`

// 4531d35: "an intercept whose handle_response takes a 2xx in answers with
// that route's handlers". Caddy's intercept runs those routes on a
// recorder ending in an empty handler; when they write no body (a
// pii_mask alone writes nothing), it copies the buffered upstream body to
// the client itself, outside the pii_mask in handle_response. The agent
// gets the upstream's body unmasked; scan adds that pii_mask and shows the
// masked view.
func TestReview19ScanInterceptHandleResponseMaskOnly(t *testing.T) {
	gw, scan := compareScanWithGateway(t, `
	route {
		intercept {
			@ok status 2xx
			handle_response @ok {
				pii_mask {
					roles_from {http.request.header.X-Test-Role}
					scan all
				}
			}
		}
		reverse_proxy UPSTREAM
	}`, "/api/customers", "online_agent", r19Body)
	scanSaysUnguarded(t, r19Body, gw, scan)
}

// The same copy the other way: handle_response routes that write no body
// (a header) send the buffered response, which went through the pii_mask
// after intercept. The gateway masks; scan says "intercept (an empty
// response)" answers before any pii_mask.
func TestReview19ScanInterceptHandleResponseWithoutBody(t *testing.T) {
	gw, scan := compareScanWithGateway(t, `
	route {
		intercept {
			@ok status 2xx
			handle_response @ok {
				header X-Seen 1
			}
		}
		pii_mask {
			roles_from {http.request.header.X-Test-Role}
			scan all
		}
		reverse_proxy UPSTREAM
	}`, "/api/customers", "online_agent", r19Body)
	if gw == r19Body {
		t.Fatalf("the test's premise: the gateway masks, got %s", gw)
	}
	if gw != scan {
		t.Errorf("gateway sends %s\ncaddy pii scan shows %s", gw, scan)
	}
}

// compareScanWithGatewayServer is compareScanWithGatewayJSON with the
// server's error routes set too (nil: none).
func compareScanWithGatewayServer(t *testing.T, routesJSON, errorsJSON, path, role, body string) (gateway, scan string) {
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
	addr := up.Listener.Addr().String()
	adapted, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(scanGatewayCaddyfile(addr, "respond 204")), nil)
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(adapted, &cfg); err != nil {
		t.Fatal(err)
	}
	var routes, errs any
	if err := json.Unmarshal([]byte(strings.ReplaceAll(routesJSON, "UPSTREAM", addr)), &routes); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(strings.ReplaceAll(errorsJSON, "UPSTREAM", addr)), &errs); err != nil {
		t.Fatal(err)
	}
	for _, s := range cfg["apps"].(map[string]any)["http"].(map[string]any)["servers"].(map[string]any) {
		s.(map[string]any)["routes"] = routes
		if errs != nil {
			s.(map[string]any)["errors"] = errs
		}
	}
	full, _ := json.Marshal(cfg)
	tc := caddytest.NewTester(t)
	tc.InitServer(string(full), "json")
	_, gateway = get(t, tc, path, role)
	file := filepath.Join(t.TempDir(), "caddy.json")
	os.WriteFile(file, full, 0o644)
	out, _, err := run(t, scanCommand(), body, "--config", file, "--role", role, "--path", path)
	if err != nil {
		out = "error: " + err.Error()
	}
	return gateway, out
}

// 4531d35: "a subroute's own error routes take an error ... inside the
// pii_mask handlers before the subroute". Caddy compiles a subroute's
// routes with the handlers after it as their next (Subroute.ServeHTTP), so
// its error routes also take an error from a handler after the subroute.
// Here that error reaches the subroute's errors, whose reverse_proxy
// answers with no pii_mask before it: the agent gets the upstream's body
// unmasked. scan walks past the subroute, hands the error to the server's
// handle_errors, and shows the view of the pii_mask there.
func TestReview19ScanErrorAfterSubrouteTakenBySubrouteErrors(t *testing.T) {
	gw, scan := compareScanWithGatewayServer(t, `[{"handle":[
		{"handler":"subroute",
		 "routes":[{"handle":[{"handler":"headers","response":{"set":{"X-A":["1"]}}}]}],
		 "errors":{"routes":[{"handle":[{"handler":"reverse_proxy","upstreams":[{"dial":"UPSTREAM"}]}]}]}},
		{"handler":"error","status_code":410}]}]`,
		`{"routes":[{"handle":[`+r18Mask+`,{"handler":"reverse_proxy","upstreams":[{"dial":"UPSTREAM"}]}]}]}`,
		"/api/customers", "online_agent", r19Body)
	scanSaysUnguarded(t, r19Body, gw, scan)
}

// The subroute's error routes are compiled with the handlers after the
// subroute as their next too: error routes that do not answer (a header)
// go on to the pii_mask and reverse_proxy after the subroute. The gateway
// masks; scan says the error routes answer before any pii_mask.
func TestReview19ScanSubrouteErrorRoutesGoOn(t *testing.T) {
	gw, scan := compareScanWithGatewayJSON(t, `[{"handle":[
		{"handler":"subroute",
		 "routes":[{"handle":[{"handler":"error","status_code":410}]}],
		 "errors":{"routes":[{"handle":[{"handler":"headers","response":{"set":{"X-A":["1"]}}}]}]}},
		`+r18Mask+`,
		{"handler":"reverse_proxy","upstreams":[{"dial":"UPSTREAM"}]}]}]`,
		"/api/customers", "online_agent", r19Body)
	if gw == r19Body {
		t.Fatalf("the test's premise: the gateway masks, got %s", gw)
	}
	// The dry run does not follow error routes that go on to the
	// handlers after their subroute: it must say so rather than show a
	// view, and must not claim the path is unguarded.
	if gw != scan && !strings.Contains(scan, "cannot tell what answers") {
		t.Errorf("gateway sends %s\ncaddy pii scan shows %s", gw, scan)
	}
}
