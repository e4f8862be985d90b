package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/piigate/piigate/test/idp"
)

// newUpstream starts a stand-in for the legacy helpdesk, for the tests of
// login mechanics: a customer page whose script loads the customer's JSON
// (as legacy single-page UIs do), and the JSON API, which echoes the
// identity the gateway sent.
func newUpstream(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /customers/42", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><html><head><title>Customer 42</title></head><body>
<h1 id="customer">Customer 42</h1><pre id="record"></pre><p id="seen-by"></p>
<script>
fetch("/api/customers/42", {headers: {"Accept": "application/json"}})
  .then(r => r.json())
  .then(c => {
    document.getElementById("seen-by").textContent = "user=" + c.seen_by.user + " roles=" + c.seen_by.roles + " host=" + c.seen_by.host;
    delete c.seen_by;
    document.getElementById("record").textContent = JSON.stringify(c);
    document.body.dataset.loaded = "yes";
  });
</script></body></html>`)
	})
	mux.HandleFunc("GET /api/customers/42", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"id": 42, "name": "王小明", "phone": "13812345678", "email": "xiaoming.wang@example.com",
			"seen_by": map[string]string{
				"user":   r.Header.Get("X-Auth-User"),
				"roles":  r.Header.Get("X-Auth-Roles"),
				"name":   r.Header.Get("X-Auth-Name"),
				"host":   r.Host,
				"cookie": r.Header.Get("Cookie"),
			},
		})
	})
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>Helpdesk</title><h1 id="home">Helpdesk home</h1><p id="home-user">%s</p>`, r.Header.Get("X-Auth-User"))
	})
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// gatewayConfig is the pii_oidc Caddyfile of a replica on port, without
// pii_mask: the upstream's echo of the identity arrives as it was sent.
func gatewayConfig(h *hydra, c idp.Client, upstream string) func(port int) string {
	return func(port int) string {
		origin := fmt.Sprintf("http://127.0.0.1:%d", port)
		return fmt.Sprintf(`{
	admin off
	auto_https off
	persist_config off
}
%[1]s {
	pii_oidc {
		issuer %[2]s
		client_id %[3]s
		client_secret {env.E2E_CLIENT_SECRET}
		redirect_url %[1]s/oauth2/callback
		post_logout_redirect_url %[1]s/
		session_key {env.PII_SESSION_KEY}
		roles_claim groups
		role online_agent from cs-online
		role supervisor from cs-supervisor
		role api_reader from helpdesk.read
		identity_header id X-Auth-User
		identity_header roles X-Auth-Roles
		identity_header name X-Auth-Name
		bearer {
			audience helpdesk-api
			roles_claim scp
		}
	}
	reverse_proxy %[4]s
}
`, origin, h.Issuer, c.ID, strings.TrimPrefix(upstream, "http://"))
	}
}

const (
	sessionKey      = "c2Vzc2lvbi1rZXktZm9yLWUyZS10ZXN0cy0wMDAwMDA="
	otherSessionKey = "b3RoZXIta2V5LWZvci1lMmUtdGVzdHMtMDAwMDAwMDA="
)

func gatewayEnv(c idp.Client, key string) []string {
	return []string{"E2E_CLIENT_SECRET=" + c.Secret, "PII_SESSION_KEY=" + key}
}

// origin is the URL of a gateway on a loopback port.
func origin(port int) string { return fmt.Sprintf("http://127.0.0.1:%d", port) }

// browser is a Chromium tab.
type browser struct {
	t   *testing.T
	ctx context.Context
}

// newBrowser starts Debian's Chromium with a fresh profile.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("Debian's chromium is required (test/run installs it): %v", err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(withTimeout(t, 4*time.Minute), opts...)
	tab, cancelTab := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelTab(); cancelAlloc() })
	// The first run starts the browser; it must not carry a step timeout.
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return &browser{t: t, ctx: tab}
}

// run runs steps with a time limit and fails the test, saying where the
// browser was, when one fails.
func (b *browser) run(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		loc, _ := chromedp.Run(b.ctx, chromedp.Location())
		b.t.Fatalf("%s (browser at %s): %v", what, loc, err)
	}
}

// text returns the text of the element with id.
func (b *browser) text(id string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID(id)))
	if err != nil {
		b.t.Fatalf("text of #%s: %v", id, err)
	}
	return v
}

// signIn fills the provider's login form, which must be on screen, for
// one of the test users.
func (b *browser) signIn(user string) {
	b.t.Helper()
	b.signInWith(user, users[user].Password)
}

// signInWith fills the provider's login form, which must be on screen.
func (b *browser) signInWith(user, password string) {
	b.t.Helper()
	b.run("sign in as "+user,
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), user),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.ID("signin")),
	)
}

// seenBy waits for the stand-in upstream's customer page to load its data
// and returns what the upstream saw of the agent.
func (b *browser) seenBy() string {
	b.t.Helper()
	b.run("load the customer page", chromedp.WaitVisible(chromedp.CSS(`body[data-loaded="yes"]`)))
	return b.text("seen-by")
}

// sessionCookie returns the gateway session cookie the browser holds for
// origin.
func (b *browser) sessionCookie(origin string) *network.Cookie {
	b.t.Helper()
	res, err := chromedp.Call(b.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{origin + "/"}})
	if err != nil {
		b.t.Fatalf("reading cookies: %v", err)
	}
	for _, c := range res.Cookies {
		if c.Name == "__Host-piigate_session" {
			return c
		}
	}
	return nil
}

// TestReplicasShareSessions: a session made by one replica is honoured by
// another with the same key (no shared store), and refused by a gateway
// with another key; when the provider dies, the session still works and
// new logins get a 503 page.
func TestReplicasShareSessions(t *testing.T) {
	needE2E(t)
	h := startHydra(t)
	up := newUpstream(t)
	pa, pb, pc := freePort(t), freePort(t), freePort(t)
	client := h.gatewayClient(t, origin(pa), origin(pb), origin(pc))
	ga := startGateway(t, "replica-a", pa, gatewayConfig(h, client, up.URL), gatewayEnv(client, sessionKey)...)
	gb := startGateway(t, "replica-b", pb, gatewayConfig(h, client, up.URL), gatewayEnv(client, sessionKey)...)
	gc := startGateway(t, "other-key", pc, gatewayConfig(h, client, up.URL), gatewayEnv(client, otherSessionKey)...)

	b := newBrowser(t)
	b.run("open replica A", chromedp.Navigate(ga.URL+"/customers/42"))
	b.signIn("alice")
	if seen := b.seenBy(); seen != fmt.Sprintf("user=alice roles=online_agent host=127.0.0.1:%d", pa) {
		t.Fatalf("replica A: %q", seen)
	}
	// The same browser on replica B: no login form, straight to the data.
	b.run("open replica B", chromedp.Navigate(gb.URL+"/customers/42"))
	if seen := b.seenBy(); seen != fmt.Sprintf("user=alice roles=online_agent host=127.0.0.1:%d", pb) {
		t.Fatalf("replica B: %q", seen)
	}

	cookie := b.sessionCookie(ga.URL)
	if cookie == nil {
		t.Fatal("no session cookie in the browser")
	}
	noRedirect := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(g *gateway) *http.Response {
		req, _ := http.NewRequest("GET", g.URL+"/customers/42", nil)
		req.Header.Set("Accept", "text/html")
		req.AddCookie(&http.Cookie{Name: cookie.Name, Value: cookie.Value})
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := get(gb); resp.StatusCode != http.StatusOK {
		t.Fatalf("replica B with A's cookie: %s", resp.Status)
	}
	resp := get(gc)
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), h.PublicURL) {
		t.Fatalf("gateway with another key accepted the cookie: %s to %q", resp.Status, resp.Header.Get("Location"))
	}

	// The provider goes away. Sessions that exist keep working (nothing is
	// asked of the provider per request); new logins get the gateway's 503
	// page once it has noticed.
	h.stop()
	b.run("reload on replica B without the provider", chromedp.Navigate(gb.URL+"/customers/42"))
	if seen := b.seenBy(); !strings.HasPrefix(seen, "user=alice roles=online_agent") {
		t.Fatalf("existing session with the provider down: %q", seen)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		req, _ := http.NewRequest("GET", gb.URL+"/customers/42", nil)
		req.Header.Set("Accept", "text/html")
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusServiceUnavailable {
			if !strings.Contains(string(body), "Sign-in temporarily unavailable") || resp.Header.Get("Retry-After") == "" {
				t.Fatalf("503 without the explanation page: %s", body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("new login with the provider down: still %s after 20s", resp.Status)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// TestBearerTokenAPI: an API client with a JWT access token from Hydra's
// client-credentials grant is let through with the roles its scopes map
// to; missing, tampered and wrong-audience tokens get 401 JSON.
func TestBearerTokenAPI(t *testing.T) {
	needE2E(t)
	h := startHydra(t)
	up := newUpstream(t)
	port := freePort(t)
	client := h.gatewayClient(t, origin(port))
	g := startGateway(t, "gateway", port, gatewayConfig(h, client, up.URL), gatewayEnv(client, sessionKey)...)
	api := h.apiClient(t, "helpdesk.read")

	call := func(token string) (int, map[string]any, http.Header) {
		req, _ := http.NewRequest("GET", g.URL+"/api/customers/42", nil)
		req.Header.Set("Accept", "application/json")
		req.Header.Set("X-Auth-Roles", "supervisor") // forged: must not arrive
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body, resp.Header
	}

	tok := h.clientCredentials(t, api, "helpdesk.read", "helpdesk-api")
	status, body, _ := call(tok)
	seen, _ := body["seen_by"].(map[string]any)
	if status != http.StatusOK || seen["user"] != api.ID || seen["roles"] != "api_reader" {
		t.Fatalf("valid access token: %d %v", status, body)
	}

	status, body, hdr := call("")
	if status != http.StatusUnauthorized || body["error"] != "unauthenticated" || hdr.Get("WWW-Authenticate") == "" {
		t.Fatalf("no token: %d %v", status, body)
	}
	parts := strings.Split(tok, ".")
	sig := []byte(parts[2])
	sig[10] ^= 0x01
	tampered := parts[0] + "." + parts[1] + "." + string(sig)
	noAudience := h.clientCredentials(t, api, "helpdesk.read", "")
	for name, bad := range map[string]string{"tampered signature": tampered, "no helpdesk-api audience": noAudience} {
		status, body, hdr := call(bad)
		if status != http.StatusUnauthorized || body["error"] != "invalid_token" || !strings.Contains(hdr.Get("WWW-Authenticate"), "invalid_token") {
			t.Errorf("%s: %d %v", name, status, body)
		}
	}
}
