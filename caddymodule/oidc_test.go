package caddymodule

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/piigate/piigate/caddymodule/session"
	"github.com/piigate/piigate/caddymodule/session/sessiontest"
)

const (
	testKeyA = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="
	testKeyB = "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI="
	gwOrigin = "http://127.0.0.1:8443"
)

var (
	onlineAgent = map[string]any{"sub": "agent-1", "name": "张三", "email": "a1@example.com", "groups": []any{"cs-online"}}
	nobody      = map[string]any{"sub": "temp-1", "groups": []any{"contractors"}}
)

// newTestOIDC provisions a pii_oidc handler against provider p.
func newTestOIDC(t testing.TB, p *sessiontest.Provider, mod func(*OIDC)) *OIDC {
	t.Helper()
	o := &OIDC{
		Issuer:                p.Issuer,
		ClientID:              p.ClientID,
		ClientSecret:          p.ClientSecret,
		RedirectURL:           gwOrigin + "/oauth2/callback",
		PostLogoutRedirectURL: gwOrigin + "/",
		SessionKeys:           []string{testKeyA},
		Roles:                 map[string][]string{"online_agent": {"cs-online"}, "supervisor": {"cs-supervisor", "cs-leads"}},
		IdentityHeaders:       &OIDCIdentityHeaders{ID: "X-Auth-User", Roles: "X-Auth-Roles", Name: "X-Auth-Name", Email: "X-Auth-Email"},
		Bearer:                &OIDCBearer{Audience: p.APIAudience},
	}
	if mod != nil {
		mod(o)
	}
	p.Now = func() time.Time { return oidcNow() }
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	t.Cleanup(cancel)
	if err := o.Provision(ctx); err != nil {
		t.Fatalf("provision: %v", err)
	}
	o.logger = zap.NewNop()
	return o
}

// upstream records what reached the next handler.
type upstream struct {
	called  bool
	header  http.Header
	trailer http.Header // after the body was read to its end
	vars    map[string]string
}

func (u *upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) error {
	u.called = true
	u.header = r.Header.Clone()
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
	}
	u.trailer = r.Trailer.Clone()
	u.vars = map[string]string{}
	repl := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
	for _, k := range []string{placeholderUserID, placeholderUserRoles, placeholderUserName, placeholderUserEmail} {
		v, _ := repl.GetString(k)
		u.vars[k] = v
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// browser keeps cookies the way a browser would for the gateway's origin.
type browser struct {
	t       testing.TB
	o       *OIDC
	cookies map[string]string
	header  http.Header
}

func newBrowser(t testing.TB, o *OIDC) *browser {
	return &browser{t: t, o: o, cookies: map[string]string{}, header: http.Header{"Accept": {"text/html,application/xhtml+xml"}}}
}

func (b *browser) do(method, target string, mod func(*http.Request)) (*httptest.ResponseRecorder, *upstream) {
	b.t.Helper()
	r := httptest.NewRequest(method, target, nil)
	r.Header = b.header.Clone()
	for k, v := range b.cookies {
		r.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	if mod != nil {
		mod(r)
	}
	repl := caddy.NewReplacer()
	ctx := context.WithValue(r.Context(), caddy.ReplacerCtxKey, repl)
	ctx = context.WithValue(ctx, caddyhttp.VarsCtxKey, map[string]any{caddyhttp.ClientIPVarKey: "192.0.2.7"})
	r = r.WithContext(ctx)
	w := httptest.NewRecorder()
	up := new(upstream)
	if err := b.o.ServeHTTP(w, r, up); err != nil {
		b.t.Fatalf("%s %s: %v", method, target, err)
	}
	for _, c := range w.Result().Cookies() {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c.Value
		}
	}
	return w, up
}

// login goes through the whole browser flow for claims, starting at
// target, and returns the callback response.
func (b *browser) login(p *sessiontest.Provider, target string, claims map[string]any) *httptest.ResponseRecorder {
	b.t.Helper()
	w, _ := b.do("GET", target, nil)
	if w.Code != http.StatusFound || !strings.HasPrefix(w.Header().Get("Location"), p.Issuer) {
		b.t.Fatalf("GET %s without session: %d to %q, want a redirect to the provider", target, w.Code, w.Header().Get("Location"))
	}
	cb := p.Authorize(w.Header().Get("Location"), claims)
	w, _ = b.do("GET", cb, nil)
	return w
}

func TestOIDCBrowserLogin(t *testing.T) {
	p := sessiontest.New(t)
	o := newTestOIDC(t, p, nil)
	b := newBrowser(t, o)
	w := b.login(p, "/customers/42?tab=contact", onlineAgent)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/customers/42?tab=contact" {
		t.Fatalf("callback: %d to %q", w.Code, w.Header().Get("Location"))
	}
	sc := findCookie(w, "__Host-piigate_session")
	if sc == nil || !sc.HttpOnly || !sc.Secure || sc.SameSite != http.SameSiteLaxMode || sc.Path != "/" || sc.Domain != "" {
		t.Fatalf("session cookie attributes: %+v", sc)
	}

	_, up := b.do("GET", "/customers/42", func(r *http.Request) {
		r.Header.Set("X-Auth-User", "forged-admin")
		r.Header.Set("X-Auth-Roles", "supervisor")
		r.AddCookie(&http.Cookie{Name: "app_session", Value: "legacy"})
	})
	if !up.called {
		t.Fatal("authenticated request did not reach the upstream")
	}
	want := map[string]string{placeholderUserID: "agent-1", placeholderUserRoles: "online_agent", placeholderUserName: "张三", placeholderUserEmail: "a1@example.com"}
	for k, v := range want {
		if up.vars[k] != v {
			t.Errorf("{%s} = %q, want %q", k, up.vars[k], v)
		}
	}
	if got := up.header.Values("X-Auth-User"); len(got) != 1 || got[0] != "agent-1" {
		t.Errorf("X-Auth-User upstream = %q (forged value must be replaced)", got)
	}
	if got := up.header.Get("X-Auth-Roles"); got != "online_agent" {
		t.Errorf("X-Auth-Roles upstream = %q", got)
	}
	if c := up.header.Get("Cookie"); strings.Contains(c, "piigate") || !strings.Contains(c, "app_session=legacy") {
		t.Errorf("Cookie upstream = %q: want the app's cookie only", c)
	}
}

func TestOIDCForgedIdentityHeadersNeverPass(t *testing.T) {
	p := sessiontest.New(t)
	o := newTestOIDC(t, p, nil)
	b := newBrowser(t, o)
	b.login(p, "/", nobody)
	// An agent without name, e-mail or mapped role: the headers for those
	// stay absent rather than keep the client's forged values.
	_, up := b.do("GET", "/", func(r *http.Request) {
		for _, h := range []string{"X-Auth-Roles", "X-Auth-Name", "X-Auth-Email", "x-auth-roles"} {
			r.Header.Add(h, "supervisor")
		}
	})
	for _, h := range []string{"X-Auth-Roles", "X-Auth-Name", "X-Auth-Email"} {
		if v := up.header.Values(h); len(v) != 0 {
			t.Errorf("%s reached the upstream as %q", h, v)
		}
	}
	if up.vars[placeholderUserRoles] != "" || up.vars[placeholderUserID] != "temp-1" {
		t.Errorf("agent with no mapped role: vars %v", up.vars)
	}
	// Nor as request trailers, which net/http fills in at the body's end
	// and reverse_proxy forwards.
	_, up = b.do("POST", "/", func(r *http.Request) {
		r.Trailer = http.Header{"X-Checksum": nil}
		r.Body = &trailerBody{r: strings.NewReader("q=1"), trailer: r.Trailer,
			add: http.Header{"X-Checksum": {"1"}, "X-Auth-Roles": {"supervisor"}, "X_auth_roles": {"supervisor"}}}
	})
	if len(up.trailer) != 1 || up.trailer.Get("X-Checksum") != "1" {
		t.Errorf("trailers reached the upstream as %v, want only X-Checksum", up.trailer)
	}
	// Unauthenticated requests never reach the upstream at all.
	anon := newBrowser(t, o)
	_, up = anon.do("GET", "/", func(r *http.Request) { r.Header.Set("X-Auth-User", "agent-1") })
	if up.called {
		t.Fatal("unauthenticated request with a forged identity header reached the upstream")
	}
}

func TestOIDCAPIRequestsGet401(t *testing.T) {
	p := sessiontest.New(t)
	o := newTestOIDC(t, p, nil)
	for name, mod := range map[string]func(*http.Request){
		"fetch":            func(r *http.Request) { r.Header.Set("Sec-Fetch-Mode", "cors") },
		"XHR":              func(r *http.Request) { r.Header.Set("X-Requested-With", "XMLHttpRequest") },
		"JSON":             func(r *http.Request) { r.Header.Set("Accept", "application/json") },
		"POST":             func(r *http.Request) { r.Method = http.MethodPost },
		"non-bearer authz": func(r *http.Request) { r.Header.Set("Authorization", "Basic eDp5") },
	} {
		w, up := newBrowser(t, o).do("GET", "/api/customers/42", mod)
		var body map[string]string
		_ = json.Unmarshal(w.Body.Bytes(), &body)
		if w.Code != http.StatusUnauthorized || up.called || body["error"] != "unauthenticated" || body["login_url"] != "/oauth2/login" {
			t.Errorf("%s: %d %s", name, w.Code, w.Body)
		}
		if w.Header().Get("Location") != "" || findCookie(w, "__Host-piigate_session_flow_") != nil {
			t.Errorf("%s: an API request started a login", name)
		}
	}
}

func TestOIDCCallbackRejections(t *testing.T) {
	p := sessiontest.New(t)
	o := newTestOIDC(t, p, nil)

	t.Run("replayed callback", func(t *testing.T) {
		b := newBrowser(t, o)
		w, _ := b.do("GET", "/", nil)
		cb := p.Authorize(w.Header().Get("Location"), onlineAgent)
		flow := map[string]string{}
		for k, v := range b.cookies {
			flow[k] = v
		}
		if w, _ := b.do("GET", cb, nil); w.Code != http.StatusSeeOther {
			t.Fatalf("first callback: %d", w.Code)
		}
		// The attacker (or a back button) replays the callback with the
		// flow cookie it captured.
		replay := newBrowser(t, o)
		replay.cookies = flow
		w, _ = replay.do("GET", cb, nil)
		assertNoSession(t, w, http.StatusBadRequest)
		// And without the flow cookie.
		w, _ = newBrowser(t, o).do("GET", cb, nil)
		assertNoSession(t, w, http.StatusBadRequest)
	})

	t.Run("wrong state", func(t *testing.T) {
		b := newBrowser(t, o)
		w, _ := b.do("GET", "/", nil)
		cb, _ := url.Parse(p.Authorize(w.Header().Get("Location"), onlineAgent))
		q := cb.Query()
		state := q.Get("state")
		for _, forged := range []string{state[:8] + "forged-state-with-same-prefix", "", "short", strings.Repeat("A", 43)} {
			q.Set("state", forged)
			cb.RawQuery = q.Encode()
			w, _ := b.do("GET", cb.String(), nil)
			assertNoSession(t, w, http.StatusBadRequest)
		}
	})

	t.Run("expired flow", func(t *testing.T) {
		b := newBrowser(t, o)
		w, _ := b.do("GET", "/", nil)
		cb := p.Authorize(w.Header().Get("Location"), onlineAgent)
		defer setNow(time.Now().Add(11 * time.Minute))()
		w, _ = b.do("GET", cb, nil)
		assertNoSession(t, w, http.StatusBadRequest)
	})

	t.Run("provider says no", func(t *testing.T) {
		b := newBrowser(t, o)
		w, _ := b.do("GET", "/", nil)
		u, _ := url.Parse(w.Header().Get("Location"))
		w, _ = b.do("GET", "/oauth2/callback?error=access_denied&state="+url.QueryEscape(u.Query().Get("state")), nil)
		assertNoSession(t, w, http.StatusForbidden)
	})

	t.Run("ID token fails verification", func(t *testing.T) {
		p.IDTokenHook = func(c map[string]any) { c["aud"] = "someone-else" }
		defer func() { p.IDTokenHook = nil }()
		w := newBrowser(t, o).login(p, "/", onlineAgent)
		assertNoSession(t, w, http.StatusUnauthorized)
	})

	t.Run("POST to callback", func(t *testing.T) {
		r := httptest.NewRequest("POST", "/oauth2/callback", nil)
		err := o.ServeHTTP(httptest.NewRecorder(), r, new(upstream))
		if he, ok := err.(caddyhttp.HandlerError); !ok || he.StatusCode != http.StatusMethodNotAllowed {
			t.Fatalf("POST callback: %v", err)
		}
	})
}

func assertNoSession(t *testing.T, w *httptest.ResponseRecorder, status int) {
	t.Helper()
	if w.Code != status {
		t.Errorf("status %d, want %d: %s", w.Code, status, w.Body)
	}
	if c := findCookie(w, "__Host-piigate_session"); c != nil && c.MaxAge >= 0 {
		t.Errorf("a session cookie was set: %+v", c)
	}
	if !strings.Contains(w.Header().Get("Content-Type"), "text/html") || !strings.Contains(w.Body.String(), "<h1") {
		t.Errorf("no error page: %q", w.Body)
	}
}

func TestOIDCOpenRedirects(t *testing.T) {
	p := sessiontest.New(t)
	o := newTestOIDC(t, p, nil)
	for _, ret := range []string{"//evil.test/x", `/\evil.test`, "https://evil.test", "/%2F%2Fevil.test", "%2F%2Fevil.test", "/%5Cevil.test", "/%09/evil.test", "javascript:alert(1)"} {
		b := newBrowser(t, o)
		w := b.login(p, "/oauth2/login?return="+url.QueryEscape(ret), onlineAgent)
		if loc := w.Header().Get("Location"); w.Code != http.StatusSeeOther || loc != "/" {
			t.Errorf("return=%q: %d to %q, want /", ret, w.Code, loc)
		}
		// Already signed in, the login path redirects at once: same rule.
		w, _ = b.do("GET", "/oauth2/login?return="+url.QueryEscape(ret), nil)
		if loc := w.Header().Get("Location"); loc != "/" {
			t.Errorf("signed in, return=%q: redirected to %q", ret, loc)
		}
	}
	b := newBrowser(t, o)
	if w := b.login(p, "/oauth2/login?return=%2Fcustomers%2F7", onlineAgent); w.Header().Get("Location") != "/customers/7" {
		t.Errorf("same-origin return lost: %q", w.Header().Get("Location"))
	}
}

func TestOIDCTamperedAndForeignCookies(t *testing.T) {
	p := sessiontest.New(t)
	o := newTestOIDC(t, p, nil)
	b := newBrowser(t, o)
	b.login(p, "/", onlineAgent)
	good := b.cookies["__Host-piigate_session"]

	// Same key, another gateway configuration (another client), and a
	// well-formed session under a key this gateway does not have.
	ident := session.Session{Identity: session.Identity{ID: "sup-1", Roles: []string{"supervisor"}}, Login: time.Now().Unix(), Seen: time.Now().Unix()}
	codecA, _ := session.NewCodec([][]byte{mustKey(t, testKeyA)})
	codecB, _ := session.NewCodec([][]byte{mustKey(t, testKeyB)})
	otherClient, _ := ident.Seal(codecA, "piigate session\x00"+p.Issuer+"\x00other-client")
	foreignKey, _ := ident.Seal(codecB, o.sessionPurpose)
	if same, _ := ident.Seal(codecA, o.sessionPurpose); same == "" {
		t.Fatal("cannot seal the control session")
	} else if _, up := (&browser{t: t, o: o, cookies: map[string]string{"__Host-piigate_session": same}, header: http.Header{}}).do("GET", "/", nil); !up.called {
		t.Fatal("control: a correctly sealed session was refused, so the cases below prove nothing")
	}

	flip := []byte(good)
	flip[len(flip)/2] ^= 0x01
	for name, v := range map[string]string{
		"bit flipped":    string(flip),
		"truncated":      good[:len(good)-5],
		"other client's": otherClient,
		"foreign key's":  foreignKey,
		"flow cookie as session": func() string {
			nb := newBrowser(t, o)
			nb.do("GET", "/", nil)
			for k, v := range nb.cookies {
				if strings.Contains(k, "_flow_") {
					return v
				}
			}
			return ""
		}(),
	} {
		if v == "" {
			t.Fatalf("%s: no cookie to test with", name)
		}
		tb := newBrowser(t, o)
		tb.cookies["__Host-piigate_session"] = v
		w, up := tb.do("GET", "/", nil)
		if up.called || w.Code != http.StatusFound {
			t.Errorf("%s cookie: upstream reached=%v status %d", name, up.called, w.Code)
		}
		if c := findCookie(w, "__Host-piigate_session"); c == nil || c.MaxAge >= 0 {
			t.Errorf("%s cookie was not cleared", name)
		}
	}
}

func TestOIDCKeyRotation(t *testing.T) {
	p := sessiontest.New(t)
	old := newTestOIDC(t, p, nil)
	b := newBrowser(t, old)
	b.login(p, "/", onlineAgent)
	t.Setenv("PIIGATE_TEST_NEW_KEY", testKeyB)
	rotated := newTestOIDC(t, p, func(o *OIDC) { o.SessionKeys = []string{"{env.PIIGATE_TEST_NEW_KEY}", testKeyA} })
	b.o = rotated
	if _, up := b.do("GET", "/", nil); !up.called {
		t.Fatal("a session from before the rotation was refused")
	}
}

func TestOIDCLifetimeIdleAndRefresh(t *testing.T) {
	p := sessiontest.New(t)
	p.AccessTokenTTL = 5 * time.Minute
	o := newTestOIDC(t, p, func(o *OIDC) {
		o.SessionLifetime = caddy.Duration(time.Hour)
		o.IdleTimeout = caddy.Duration(20 * time.Minute)
	})
	b := newBrowser(t, o)
	b.login(p, "/", onlineAgent)
	start := time.Now()

	// Touching keeps an active session alive past the idle timeout.
	for _, m := range []int{10, 25, 40} {
		restore := setNow(start.Add(time.Duration(m) * time.Minute))
		_, up := b.do("GET", "/", nil)
		restore()
		if !up.called {
			t.Fatalf("active session refused at +%d min", m)
		}
	}

	b2 := newBrowser(t, o)
	b2.login(p, "/", onlineAgent)
	promoted := map[string]any{"sub": "agent-1", "groups": []any{"cs-online", "cs-leads"}}
	p.SetClaims(promoted)
	restore := setNow(time.Now().Add(6 * time.Minute))
	_, up := b2.do("GET", "/", nil)
	restore()
	if up.vars[placeholderUserRoles] != "online_agent,supervisor" {
		t.Fatalf("roles after refresh = %q", up.vars[placeholderUserRoles])
	}

	// Idle: no request for longer than the idle timeout.
	restore = setNow(time.Now().Add(6*time.Minute + 21*time.Minute))
	w, up := b2.do("GET", "/", nil)
	restore()
	if up.called || w.Code != http.StatusFound {
		t.Fatalf("idle session still served: %d", w.Code)
	}

	// Absolute lifetime: activity does not extend it.
	b3 := newBrowser(t, o)
	b3.login(p, "/", onlineAgent)
	for m := 15; m <= 60; m += 15 {
		restore := setNow(time.Now().Add(time.Duration(m) * time.Minute))
		_, up := b3.do("GET", "/", nil)
		restore()
		if up.called != (m < 60) {
			t.Fatalf("at +%d min: served=%v", m, up.called)
		}
	}

	// Revoked at the provider: the session ends at the next refresh.
	b4 := newBrowser(t, o)
	b4.login(p, "/", onlineAgent)
	p.RevokeRefreshTokens()
	restore = setNow(time.Now().Add(6 * time.Minute))
	_, up = b4.do("GET", "/", nil)
	restore()
	if up.called {
		t.Fatal("a session whose grant was revoked was served")
	}
}

func TestOIDCProviderUnavailable(t *testing.T) {
	p := sessiontest.New(t)
	p.AccessTokenTTL = time.Minute
	o := newTestOIDC(t, p, nil)
	b := newBrowser(t, o)
	b.login(p, "/", onlineAgent)
	p.Down.Store(true)

	// The tokens are due for refresh and the provider is gone: the session
	// goes on, and only one refresh is attempted per retry interval.
	defer setNow(time.Now().Add(2 * time.Minute))()
	for range 3 {
		if _, up := b.do("GET", "/", nil); !up.called {
			t.Fatal("existing session refused while the provider is down")
		}
	}
	if rt := p.TokenRequests.Load(); rt != 2 {
		t.Fatalf("token endpoint requests = %d, want 2 (the login and one refresh)", rt)
	}
	w, up := newBrowser(t, o).do("GET", "/", nil)
	if up.called || w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" || !strings.Contains(w.Body.String(), "cannot be reached") {
		t.Fatalf("new login with provider down: %d %s", w.Code, w.Body)
	}
}

func TestOIDCProviderDownAtStart(t *testing.T) {
	p := sessiontest.New(t)
	p.Down.Store(true)
	o := newTestOIDC(t, p, nil)
	w, _ := newBrowser(t, o).do("GET", "/", nil)
	if w.Code != http.StatusServiceUnavailable {
		t.Fatalf("login with provider down at start: %d", w.Code)
	}
}

func TestOIDCLogout(t *testing.T) {
	p := sessiontest.New(t)
	o := newTestOIDC(t, p, nil)
	b := newBrowser(t, o)
	b.login(p, "/", onlineAgent)
	w, _ := b.do("GET", "/oauth2/logout", nil)
	loc, _ := url.Parse(w.Header().Get("Location"))
	if w.Code != http.StatusSeeOther || loc.Path != "/logout" || loc.Query().Get("id_token_hint") == "" ||
		loc.Query().Get("post_logout_redirect_uri") != gwOrigin+"/" || loc.Query().Get("client_id") != p.ClientID {
		t.Fatalf("logout: %d to %q", w.Code, loc)
	}
	if c := findCookie(w, "__Host-piigate_session"); c == nil || c.MaxAge >= 0 {
		t.Fatal("logout did not clear the session cookie")
	}
	if w, up := b.do("GET", "/", nil); up.called || w.Code != http.StatusFound {
		t.Fatalf("after logout: %d, served=%v", w.Code, up.called)
	}

	// A provider without end_session_endpoint: local logout and a page.
	p2 := sessiontest.New(t)
	p2.NoEndSession = true
	local := newTestOIDC(t, p2, func(o *OIDC) { o.PostLogoutRedirectURL = "" })
	lb := newBrowser(t, local)
	lb.login(p2, "/", onlineAgent)
	w, _ = lb.do("POST", "/oauth2/logout", nil)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "Signed out") {
		t.Fatalf("local logout: %d %s", w.Code, w.Body)
	}
}

func TestOIDCBearer(t *testing.T) {
	p := sessiontest.New(t)
	o := newTestOIDC(t, p, func(o *OIDC) { o.Bearer.RolesClaim = "scp" })
	tok := p.AccessToken(map[string]any{"sub": "api-client-1", "scp": []any{"cs-supervisor"}}, time.Hour)
	w, up := newBrowser(t, o).do("GET", "/api/customers/42", func(r *http.Request) {
		r.Header.Set("Authorization", "Bearer "+tok)
		r.Header.Set("X-Auth-Roles", "online_agent")
	})
	if !up.called || up.vars[placeholderUserID] != "api-client-1" || up.vars[placeholderUserRoles] != "supervisor" || up.header.Get("X-Auth-Roles") != "supervisor" {
		t.Fatalf("bearer: %d vars %v", w.Code, up.vars)
	}
	if c := w.Result().Cookies(); len(c) != 0 {
		t.Errorf("bearer request got cookies: %v", c)
	}
	idTokenAsBearer := p.Sign(map[string]any{"iss": p.Issuer, "aud": p.ClientID, "sub": "x", "iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()})
	for _, bad := range []string{"garbage", idTokenAsBearer} {
		w, up = newBrowser(t, o).do("GET", "/api", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+bad) })
		if up.called || w.Code != http.StatusUnauthorized || !strings.Contains(w.Header().Get("WWW-Authenticate"), "invalid_token") {
			t.Errorf("bad bearer token: %d %q", w.Code, w.Header().Get("WWW-Authenticate"))
		}
	}
}

func TestOIDCValidate(t *testing.T) {
	p := sessiontest.New(t)
	cases := map[string]struct {
		mod  func(*OIDC)
		want string
	}{
		"http issuer":             {func(o *OIDC) { o.Issuer = "http://id.example.com" }, "issuer"},
		"no client":               {func(o *OIDC) { o.ClientID = "" }, "client_id"},
		"relative redirect":       {func(o *OIDC) { o.RedirectURL = "/oauth2/callback" }, "redirect_url"},
		"redirect at root":        {func(o *OIDC) { o.RedirectURL = gwOrigin + "/" }, "redirect_url"},
		"no key":                  {func(o *OIDC) { o.SessionKeys = nil }, "session_keys"},
		"short key":               {func(o *OIDC) { o.SessionKeys = []string{"AQEB"} }, "session_keys[0]"},
		"unset env key":           {func(o *OIDC) { o.SessionKeys = []string{"{env.PIIGATE_TEST_UNSET_KEY}"} }, "session_keys[0]"},
		"alg none":                {func(o *OIDC) { o.SigningAlgs = []string{"none"} }, "signing_algs"},
		"HS256":                   {func(o *OIDC) { o.SigningAlgs = []string{"HS256"} }, "signing_algs"},
		"bearer aud = client":     {func(o *OIDC) { o.Bearer = &OIDCBearer{Audience: o.ClientID} }, "bearer"},
		"bearer without audience": {func(o *OIDC) { o.Bearer = &OIDCBearer{} }, "bearer"},
		"bad role name":           {func(o *OIDC) { o.Roles = map[string][]string{"Super Visor": {"x"}} }, "roles"},
		"identity header Cookie":  {func(o *OIDC) { o.IdentityHeaders = &OIDCIdentityHeaders{ID: "cookie"} }, "identity_headers"},
		"identity header twice":   {func(o *OIDC) { o.IdentityHeaders = &OIDCIdentityHeaders{ID: "X-A", Name: "x-a"} }, "identity_headers"},
		"__Host- over http":       {func(o *OIDC) { o.InsecureCookie = true; o.CookieName = "__Host-s" }, "cookie_name"},
		"idle over lifetime":      {func(o *OIDC) { o.IdleTimeout = caddy.Duration(9 * time.Hour) }, "idle_timeout"},
		"login path = callback":   {func(o *OIDC) { o.LoginPath = "/oauth2/callback" }, "login_path"},
		"relative post-logout":    {func(o *OIDC) { o.PostLogoutRedirectURL = "/bye" }, "post_logout_redirect_url"},
	}
	for name, c := range cases {
		o := &OIDC{Issuer: p.Issuer, ClientID: "gw", RedirectURL: gwOrigin + "/oauth2/callback", SessionKeys: []string{testKeyA}}
		c.mod(o)
		ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
		err := o.Provision(ctx)
		cancel()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one naming %q", name, err, c.want)
		}
	}
}

func mustKey(t testing.TB, s string) []byte {
	k, err := session.ParseKey(s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func findCookie(w *httptest.ResponseRecorder, prefix string) *http.Cookie {
	for _, c := range w.Result().Cookies() {
		if strings.HasPrefix(c.Name, prefix) {
			return c
		}
	}
	return nil
}

// setNow moves the handler's clock to t and returns the undo.
func setNow(t time.Time) func() {
	oidcNow = func() time.Time { return t }
	return func() { oidcNow = time.Now }
}
