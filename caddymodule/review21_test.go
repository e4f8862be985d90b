package caddymodule

import "testing"

const r21Body = `{"mobile":"13812345678","note":"mail a@example.com"}`

// intercept's handle_response with both status_code and routes (JSON
// config): Caddy v2.11's Intercept.ServeHTTP buffers the response for the
// status and then, routes being set, runs them: their reverse_proxy
// answers on intercept's writer, outside the pii_mask after intercept.
// scan's intercept() breaks on status_code != "" ("only the status
// changes") and shows the pii_mask's masked view.
func TestReview21ScanInterceptStatusCodeWithRoutes(t *testing.T) {
	gw, scan := compareScanWithGatewayJSON(t, `[{"handle":[
		{"handler":"intercept","handle_response":[{"match":{"status_code":[2]},"status_code":200,
		  "routes":[{"handle":[`+r20Fresh+`,`+r20Proxy+`]}]}]},
		`+r18Mask+`,`+r20Proxy+`]}]`,
		"/api/customers", "online_agent", r21Body)
	scanSaysUnguarded(t, r21Body, gw, scan)
}

// An error inside the server's handle_errors routes, in a subroute with
// error routes of its own: Caddy's Subroute.ServeHTTP hands it to those
// error routes, on the subroute's writer (the client's, outside the
// pii_mask inside the subroute): the upstream's body goes out unmasked.
// scan's onError never looks at the frames pushed in the error routes and
// shows the pii_mask's masked view.
func TestReview21ScanSubrouteErrorsInsideHandleErrors(t *testing.T) {
	gw, scan := compareScanWithGatewayServer(t, `[{"handle":[{"handler":"error","status_code":500}]}]`,
		`{"routes":[{"handle":[{"handler":"subroute",
		   "routes":[{"handle":[`+r18Mask+`,{"handler":"error","status_code":500}]}],
		   "errors":{"routes":[{"handle":[`+r20Fresh+`,`+r20Proxy+`]}]}}]}]}`,
		"/api/customers", "online_agent", r21Body)
	scanSaysUnguarded(t, r21Body, gw, scan)
}

// The handlers after intercept fail the request: Intercept.ServeHTTP
// returns their error before any handle_response route runs, and the
// server's handle_errors answers, outside every pii_mask. scan walks the
// handle_response routes first, at intercept, and shows the view of the
// pii_mask there.
func TestReview21ScanInterceptChainErrorsFirst(t *testing.T) {
	gw, scan := compareScanWithGatewayServer(t, `[{"handle":[
		{"handler":"intercept","handle_response":[{"match":{"status_code":[2]},
		  "routes":[{"handle":[`+r18Mask+`,`+r20Proxy+`]}]}]},
		{"handler":"error","status_code":500}]}]`,
		`{"routes":[{"handle":[`+r20Fresh+`,`+r20Proxy+`]}]}`,
		"/api/customers", "online_agent", r21Body)
	scanSaysUnguarded(t, r21Body, gw, scan)
}
