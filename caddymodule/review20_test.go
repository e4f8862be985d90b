package caddymodule

import "testing"

const r20Body = `{"mobile":"13812345678","note":"mail a@example.com"}`

const r20Proxy = `{"handler":"reverse_proxy","upstreams":[{"dial":"UPSTREAM"}]}`

// r20Fresh drops the Content-Length the chain's buffered (masked) response
// left in the shared header map, so that the error routes' own response
// reaches the client intact (an upstream that sends chunked responses
// needs no such step).
const r20Fresh = `{"handler":"headers","response":{"delete":["Content-Length"]}}`

// 50a2555: intercept's handle_response "replaces the response only when its
// handlers write one"; when they fail (sub.failed) scan breaks out and
// walks on as if the chain's own response went out, through the pii_mask
// after intercept. Caddy's Intercept.ServeHTTP returns the routes' error
// (the chain's response is still in the buffer, unsent), so the server's
// handle_errors answers, outside every pii_mask: here its reverse_proxy
// sends the upstream's body unmasked while scan shows the masked view.
func TestReview20ScanInterceptHandleResponseErrors(t *testing.T) {
	gw, scan := compareScanWithGatewayServer(t, `[{"handle":[
		{"handler":"intercept","handle_response":[{"match":{"status_code":[2]},
		  "routes":[{"handle":[{"handler":"error","status_code":500}]}]}]},
		`+r18Mask+`,`+r20Proxy+`]}]`,
		`{"routes":[{"handle":[`+r20Fresh+`,`+r20Proxy+`]}]}`,
		"/api/customers", "online_agent", r20Body)
	scanSaysUnguarded(t, r20Body, gw, scan)
}

// The same with the error taken by the error routes of a subroute inside
// handle_response: Caddy runs them (they answer, on intercept's writer,
// outside the pii_mask after intercept); scan's sub-walk never looks at
// its frames, sees sub.failed and shows the chain's masked view.
func TestReview20ScanInterceptHandleResponseSubrouteErrors(t *testing.T) {
	gw, scan := compareScanWithGatewayJSON(t, `[{"handle":[
		{"handler":"intercept","handle_response":[{"match":{"status_code":[2]},
		  "routes":[{"handle":[{"handler":"subroute",
		    "routes":[{"handle":[{"handler":"error","status_code":500}]}],
		    "errors":{"routes":[{"handle":[`+r20Fresh+`,`+r20Proxy+`]}]}}]}]}]},
		`+r18Mask+`,`+r20Proxy+`]}]`,
		"/api/customers", "online_agent", r20Body)
	scanSaysUnguarded(t, r20Body, gw, scan)
}
