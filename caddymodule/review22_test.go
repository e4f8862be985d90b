package caddymodule

import "testing"

const r22Body = `{"mobile":"13812345678","note":"mail a@example.com"}`

// 68c8ee9: intercepted() runs only once, after the server's routes, and
// only when they did not fail. An intercept before a subroute whose own
// error routes answer the error with a 2xx: in Caddy the subroute returns
// nil to Intercept.ServeHTTP, which gives that 2xx to its handle_response
// routes, on intercept's writer (outside the pii_mask in the error routes):
// their reverse_proxy sends the upstream's body unmasked. scan drops the
// pending intercept (c.failed) and shows the error routes' masked view.
func TestReview22ScanInterceptBeforeSubrouteErrorsThatAnswer(t *testing.T) {
	gw, scan := compareScanWithGatewayJSON(t, `[{"handle":[
		{"handler":"intercept","handle_response":[{"match":{"status_code":[2]},
		  "routes":[{"handle":[`+r20Fresh+`,`+r20Proxy+`]}]}]},
		{"handler":"subroute","routes":[{"handle":[{"handler":"error","status_code":500}]}],
		 "errors":{"routes":[{"handle":[`+r18Mask+`,`+r20Proxy+`]}]}}]}]`,
		"/api/customers", "online_agent", r22Body)
	scanSaysUnguarded(t, r22Body, gw, scan)
}

// An intercept inside the server's handle_errors routes: onError walks
// the routes, the intercept is queued in c.intercepts, and nothing ever
// runs it. Caddy runs the handle_response routes on the 2xx the error
// routes' masked reverse_proxy gave; their reverse_proxy writes to the
// client unmasked. scan shows the masked view.
func TestReview22ScanInterceptInsideHandleErrors(t *testing.T) {
	gw, scan := compareScanWithGatewayServer(t, `[{"handle":[{"handler":"error","status_code":500}]}]`,
		`{"routes":[{"handle":[
		{"handler":"intercept","handle_response":[{"match":{"status_code":[2]},
		  "routes":[{"handle":[`+r20Fresh+`,`+r20Proxy+`]}]}]},
		`+r18Mask+`,`+r20Proxy+`]}]}`,
		"/api/customers", "online_agent", r22Body)
	scanSaysUnguarded(t, r22Body, gw, scan)
}
