package caddymodule

import "testing"

// r23Fresh also drops the Content-Type the earlier response left in the
// shared header map (the upstream's would be a second line, refused).
const r23Fresh = `{"handler":"headers","response":{"delete":["Content-Length","Content-Type"]}}`

const r23Body = `{"mobile":"13812345678","note":"mail a@example.com"}`

// a83e9a4: intercepted() sets c.intercepts to nil before running the
// pending intercepts, and returns on the first whose handle_response
// routes fail, dropping the outer ones. Here the error of the inner
// intercept B's routes goes to subroute S's error routes; the frame of S
// was pushed with intercepts: 1 (A passed before S), and server() slices
// the now nil c.intercepts[:1]: caddy pii scan panics. In Caddy, S's error
// routes answer (masked 2xx) on A's recorder, and A's handle_response
// routes send the upstream's body unmasked.
func TestReview23ScanInterceptFailsIntoSubrouteErrorsOuterInterceptPending(t *testing.T) {
	gw, scan := compareScanWithGatewayJSON(t, `[{"handle":[
		{"handler":"intercept","handle_response":[{"match":{"status_code":[2]},
		  "routes":[{"handle":[`+r23Fresh+`,`+r20Proxy+`]}]}]},
		{"handler":"subroute","routes":[{"handle":[
			{"handler":"intercept","handle_response":[{"match":{"status_code":[2]},
			  "routes":[{"handle":[{"handler":"error","status_code":500}]}]}]},
			`+r18Mask+`,`+r20Proxy+`]}],
		 "errors":{"routes":[{"handle":[`+r23Fresh+`,`+r18Mask+`,`+r20Proxy+`]}]}}]}]`,
		"/api/customers", "online_agent", r23Body)
	scanSaysUnguarded(t, r23Body, gw, scan)
}

// The same without the panic: the inner intercept B's handle_response
// routes hold a subroute whose own error routes answer an error (masked).
// B's routes succeed, so in Caddy the outer intercept A takes that 2xx and
// its handle_response routes send the upstream's body unmasked. scan had
// dropped A when B's routes failed, and shows the masked view.
func TestReview23ScanInterceptRoutesSubrouteErrorsOuterInterceptDropped(t *testing.T) {
	gw, scan := compareScanWithGatewayJSON(t, `[{"handle":[
		{"handler":"intercept","handle_response":[{"match":{"status_code":[2]},
		  "routes":[{"handle":[`+r23Fresh+`,`+r20Proxy+`]}]}]},
		{"handler":"intercept","handle_response":[{"match":{"status_code":[2]},
		  "routes":[{"handle":[{"handler":"subroute",
			"routes":[{"handle":[{"handler":"error","status_code":500}]}],
			"errors":{"routes":[{"handle":[`+r23Fresh+`,`+r18Mask+`,`+r20Proxy+`]}]}}]}]}]},
		`+r18Mask+`,`+r20Proxy+`]}]`,
		"/api/customers", "online_agent", r23Body)
	scanSaysUnguarded(t, r23Body, gw, scan)
}
