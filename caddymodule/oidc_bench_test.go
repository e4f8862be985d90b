package caddymodule

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/piigate/piigate/caddymodule/session/sessiontest"
)

type nopHandler struct{}

func (nopHandler) ServeHTTP(http.ResponseWriter, *http.Request) error { return nil }

// BenchmarkAuthenticatedRequest measures what pii_oidc adds to every
// request of a signed-in agent: strip client identity headers, decrypt and
// check the session cookie, set placeholders and identity headers, strip
// the gateway's cookie. It fails if any request reaches the provider.
func BenchmarkAuthenticatedRequest(b *testing.B) {
	p := sessiontest.New(b)
	o := newTestOIDC(b, p, nil)
	br := newBrowser(b, o)
	br.login(p, "/", onlineAgent)
	cookie := "app_session=legacy; __Host-piigate_session=" + br.cookies["__Host-piigate_session"]
	before := p.TokenRequests.Load()

	r := httptest.NewRequest("GET", "/customers/42", nil)
	r.Header.Set("Accept", "text/html")
	repl := caddy.NewReplacer()
	ctx := context.WithValue(r.Context(), caddy.ReplacerCtxKey, repl)
	ctx = context.WithValue(ctx, caddyhttp.VarsCtxKey, map[string]any{caddyhttp.ClientIPVarKey: "192.0.2.7"})
	r = r.WithContext(ctx)
	w := httptest.NewRecorder()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r.Header["Cookie"] = []string{cookie}
		r.Header["X-Auth-User"] = []string{"forged"}
		if err := o.ServeHTTP(w, r, nopHandler{}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if v, _ := repl.GetString(placeholderUserRoles); v != "online_agent" {
		b.Fatalf("roles placeholder = %q: the benchmark did not authenticate", v)
	}
	if len(w.Result().Cookies()) != 0 {
		b.Fatal("a cookie was reissued: the benchmark measured more than the steady state")
	}
	if after := p.TokenRequests.Load(); after != before {
		b.Fatalf("%d provider requests during the benchmark", after-before)
	}
}
