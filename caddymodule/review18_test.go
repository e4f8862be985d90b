package caddymodule

import (
	"os"
	"path/filepath"
	"testing"
)

// The upstream Caddyfile helper's site, adapted to JSON, with the server's
// routes replaced by routesJSON (UPSTREAM is the upstream's address): for
// subroutes with their own error routes, which a Caddyfile cannot write.
func compareScanWithGatewayJSON(t *testing.T, routesJSON, path, role, body string) (gateway, scan string) {
	t.Helper()
	return compareScanWithGatewayServer(t, routesJSON, "null", path, role, body)
}

const r18Mask = `{"handler":"pii_mask","roles_from":"{http.request.header.X-Test-Role}","scan":"all"}`

// 25b9d06: "an error handler hands the request to handle_errors (server's
// or subroute's), outside every pii_mask". A subroute's error routes run
// on the writer the subroute was given (Subroute.ServeHTTP), inside every
// pii_mask before the subroute: the agent gets the masked view. scan drops
// those masks (onError clears c.masks) and says no pii_mask guards the
// path.
func TestReview18ScanSubrouteErrorsKeepOuterMasks(t *testing.T) {
	body := `{"mobile":"13812345678","note":"mail a@example.com"}`
	gw, scan := compareScanWithGatewayJSON(t, `[{"handle":[`+r18Mask+`,
		{"handler":"subroute",
		 "routes":[{"handle":[{"handler":"error","status_code":410}]}],
		 "errors":{"routes":[{"handle":[{"handler":"reverse_proxy","upstreams":[{"dial":"UPSTREAM"}]}]}]}}]}]`,
		"/api/customers", "online_agent", body)
	if gw == body {
		t.Fatalf("the test's premise: the gateway masks, got %s", gw)
	}
	if gw != scan {
		t.Errorf("gateway sends %s\ncaddy pii scan shows %s", gw, scan)
	}
}

// 25b9d06 taught scan that a reverse_proxy's handle_response routes may
// answer a 2xx themselves; intercept (in passOn) has the same
// handle_response, and its routes answer on the writer intercept was
// given, outside every pii_mask after it. This is Caddy's own intercept
// example (X-Accel-Redirect: the upstream names a file, file_server sends
// it), here matched by status: the agent gets the file unmasked; scan
// passes intercept on and shows the masked view.
func TestReview18ScanInterceptHandleResponseAnswers(t *testing.T) {
	body := `{"mobile":"13812345678","note":"mail a@example.com"}`
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "export.json"), []byte(body), 0o644)
	gw, scan := compareScanWithGateway(t, `
	route {
		intercept {
			@ok status 2xx
			handle_response @ok {
				root * `+dir+`
				rewrite * /export.json
				file_server
			}
		}
		pii_mask /api/* {
			roles_from {http.request.header.X-Test-Role}
			scan all
		}
		reverse_proxy UPSTREAM
	}`, "/api/customers", "online_agent", body)
	scanSaysUnguarded(t, body, gw, scan)
}

// copy_response_headers (inside a reverse_proxy's handle_response)
// copies the upstream's headers and calls the next handler; scan counts
// it as a handler that answers and misses the pii_mask after it.
func TestReview18ScanCopyResponseHeadersPassesOn(t *testing.T) {
	body := `{"mobile":"13812345678","note":"mail a@example.com"}`
	gw, scan := compareScanWithGateway(t, `
	route {
		reverse_proxy UPSTREAM {
			handle_response {
				copy_response_headers {
					include X-Request-Tag
				}
			}
		}
		pii_mask /api/* {
			roles_from {http.request.header.X-Test-Role}
			scan all
		}
		reverse_proxy UPSTREAM
	}`, "/api/customers", "online_agent", body)
	if gw == body {
		t.Fatalf("the test's premise: the gateway masks, got %s", gw)
	}
	if gw != scan {
		t.Errorf("gateway sends %s\ncaddy pii scan shows %s", gw, scan)
	}
}
