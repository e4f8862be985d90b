package session_test

import (
	"context"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/piigate/piigate/caddymodule/session"
	"github.com/piigate/piigate/caddymodule/session/sessiontest"
)

var agent = map[string]any{"sub": "agent-1", "name": "张三", "email": "a1@example.com", "groups": []any{"cs-online"}}

func newClient(t *testing.T, p *sessiontest.Provider) *session.Client {
	t.Helper()
	rm, err := session.NewRoleMap(map[string][]string{"online_agent": {"cs-online"}, "supervisor": {"cs-supervisor"}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := session.NewClient(session.Config{
		Issuer: p.Issuer, ClientID: p.ClientID, ClientSecret: p.ClientSecret,
		RedirectURL:    "http://127.0.0.1:1/oauth2/callback",
		Claims:         session.ClaimMapping{Roles: "groups", RoleMap: rm},
		BearerAudience: p.APIAudience,
		BearerClaims:   session.ClaimMapping{Roles: "groups", RoleMap: rm},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// login runs a whole login against p and returns the session or error.
func login(t *testing.T, p *sessiontest.Provider, c *session.Client, claims map[string]any) (*session.Session, error) {
	t.Helper()
	f := session.NewFlow(time.Now(), "/")
	authURL, err := c.AuthCodeURL(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	cb := p.Authorize(authURL, claims)
	code := strings.SplitN(strings.SplitN(cb, "code=", 2)[1], "&", 2)[0]
	return c.Exchange(context.Background(), f, code)
}

func TestLogin(t *testing.T) {
	p := sessiontest.New(t)
	c := newClient(t, p)
	s, err := login(t, p, c, agent)
	if err != nil {
		t.Fatal(err)
	}
	if s.ID != "agent-1" || s.Name != "张三" || strings.Join(s.Roles, ",") != "online_agent" || s.RefreshToken == "" || s.IDToken == "" {
		t.Fatalf("session = %+v", s)
	}
}

func TestIDTokenRejections(t *testing.T) {
	p := sessiontest.New(t)
	c := newClient(t, p)
	pubDER, err := x509.MarshalPKIXPublicKey(&p.Key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	hook := func(f func(map[string]any)) func(*sessiontest.Provider) {
		return func(p *sessiontest.Provider) { p.IDTokenHook = f }
	}
	raw := func(f func(map[string]any) string) func(*sessiontest.Provider) {
		return func(p *sessiontest.Provider) { p.RawIDToken = f }
	}
	cases := map[string]func(*sessiontest.Provider){
		"bad signature": raw(func(c map[string]any) string {
			return p.SignWith(jose.RS256, p.OtherKey, p.KeyID, c)
		}),
		"unknown key id": raw(func(c map[string]any) string {
			return p.SignWith(jose.RS256, p.OtherKey, "rotated-away", c)
		}),
		"alg none":              raw(func(c map[string]any) string { return sessiontest.Unsigned(c) }),
		"HS256 with public key": raw(func(c map[string]any) string { return p.SignWith(jose.HS256, pubDER, p.KeyID, c) }),
		"wrong iss":             hook(func(c map[string]any) { c["iss"] = "https://evil.test" }),
		"wrong aud":             hook(func(c map[string]any) { c["aud"] = "another-client" }),
		"wrong azp":             hook(func(c map[string]any) { c["azp"] = "another-client" }),
		"two aud, no azp":       hook(func(c map[string]any) { c["aud"] = []string{p.ClientID, "another-client"} }),
		"expired":               hook(func(c map[string]any) { c["exp"] = time.Now().Add(-time.Minute).Unix() }),
		"iat in the future":     hook(func(c map[string]any) { c["iat"] = time.Now().Add(time.Hour).Unix() }),
		"iat before the login":  hook(func(c map[string]any) { c["iat"] = time.Now().Add(-time.Hour).Unix() }),
		"no iat":                hook(func(c map[string]any) { delete(c, "iat") }),
		"wrong nonce":           hook(func(c map[string]any) { c["nonce"] = "not-the-flows" }),
		"no nonce":              hook(func(c map[string]any) { delete(c, "nonce") }),
		"wrong at_hash":         hook(func(c map[string]any) { c["at_hash"] = "AAAAAAAAAAAAAAAAAAAAAA" }),
		"no subject":            hook(func(c map[string]any) { delete(c, "sub") }),
	}
	for name, setup := range cases {
		t.Run(name, func(t *testing.T) {
			p.IDTokenHook, p.RawIDToken = nil, nil
			setup(p)
			s, err := login(t, p, c, agent)
			if !errors.Is(err, session.ErrInvalidToken) || s != nil {
				t.Fatalf("accepted or wrong error: %+v, %v", s, err)
			}
		})
	}
	// The same provider, untampered, still logs in: the failures above were
	// the tampering, not the set-up.
	p.IDTokenHook, p.RawIDToken = nil, nil
	if _, err := login(t, p, c, agent); err != nil {
		t.Fatal(err)
	}
}

func TestCodeReplayAndPKCE(t *testing.T) {
	p := sessiontest.New(t)
	c := newClient(t, p)
	f := session.NewFlow(time.Now(), "/")
	authURL, _ := c.AuthCodeURL(context.Background(), f)
	cb := p.Authorize(authURL, agent)
	code := strings.SplitN(strings.SplitN(cb, "code=", 2)[1], "&", 2)[0]
	other := session.NewFlow(time.Now(), "/")
	// A code stolen into another flow fails PKCE at the provider.
	if _, err := c.Exchange(context.Background(), other, code); !errors.Is(err, session.ErrProviderRefused) {
		t.Fatalf("code redeemed with another flow's verifier: %v", err)
	}
	f2 := session.NewFlow(time.Now(), "/")
	authURL, _ = c.AuthCodeURL(context.Background(), f2)
	cb = p.Authorize(authURL, agent)
	code = strings.SplitN(strings.SplitN(cb, "code=", 2)[1], "&", 2)[0]
	if _, err := c.Exchange(context.Background(), f2, code); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exchange(context.Background(), f2, code); !errors.Is(err, session.ErrProviderRefused) {
		t.Fatalf("replayed code: %v", err)
	}
}

func TestRefresh(t *testing.T) {
	p := sessiontest.New(t)
	c := newClient(t, p)
	s, err := login(t, p, c, agent)
	if err != nil {
		t.Fatal(err)
	}
	promoted := map[string]any{"sub": "agent-1", "groups": []any{"cs-supervisor"}}
	p.SetClaims(promoted)
	s2, err := c.Refresh(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(s2.Roles, ",") != "supervisor" || s2.RefreshToken == s.RefreshToken || s2.Login != s.Login {
		t.Fatalf("refreshed session = %+v", s2)
	}
	p.SetClaims(map[string]any{"sub": "someone-else"})
	if _, err := c.Refresh(context.Background(), s2); !errors.Is(err, session.ErrInvalidToken) {
		t.Fatalf("refresh naming another user: %v", err)
	}
	p.RevokeRefreshTokens()
	if _, err := c.Refresh(context.Background(), s2); !errors.Is(err, session.ErrProviderRefused) {
		t.Fatalf("revoked refresh token: %v", err)
	}
	p.Down.Store(true)
	if _, err := c.Refresh(context.Background(), s2); !errors.Is(err, session.ErrProviderUnavailable) {
		t.Fatalf("provider down: %v", err)
	}
}

func TestBearer(t *testing.T) {
	p := sessiontest.New(t)
	c := newClient(t, p)
	id, err := c.VerifyBearer(context.Background(), p.AccessToken(agent, time.Hour))
	if err != nil || id.ID != "agent-1" || strings.Join(id.Roles, ",") != "online_agent" {
		t.Fatalf("valid access token: %+v, %v", id, err)
	}
	now := time.Now()
	base := func() map[string]any {
		return map[string]any{"iss": p.Issuer, "aud": p.APIAudience, "sub": "x", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	}
	with := func(k string, v any) map[string]any { c := base(); c[k] = v; return c }
	cases := map[string]string{
		"ID token as access token": p.Sign(with("aud", p.ClientID)),
		"wrong iss":                p.Sign(with("iss", "https://evil.test")),
		"expired":                  p.Sign(with("exp", now.Add(-time.Minute).Unix())),
		"issued in the future":     p.Sign(with("iat", now.Add(time.Hour).Unix())),
		"bad signature":            p.SignWith(jose.RS256, p.OtherKey, p.KeyID, base()),
		"alg none":                 sessiontest.Unsigned(base()),
		"garbage":                  "not.a.jwt",
	}
	for name, tok := range cases {
		if _, err := c.VerifyBearer(context.Background(), tok); !errors.Is(err, session.ErrInvalidToken) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestProviderUnavailable(t *testing.T) {
	p := sessiontest.New(t)
	p.Down.Store(true)
	c := newClient(t, p)
	if _, err := c.AuthCodeURL(context.Background(), session.NewFlow(time.Now(), "/")); !errors.Is(err, session.ErrProviderUnavailable) {
		t.Fatalf("login with provider down: %v", err)
	}
	// A failed discovery is remembered briefly rather than retried per
	// request.
	p.Down.Store(false)
	if err := c.Discover(context.Background()); !errors.Is(err, session.ErrProviderUnavailable) {
		t.Fatalf("discovery retried at once: %v", err)
	}
}

func TestConfigRejections(t *testing.T) {
	base := session.Config{Issuer: "https://id.example", ClientID: "gw", RedirectURL: "https://gw.example/cb"}
	for name, mod := range map[string]func(*session.Config){
		"alg none":             func(c *session.Config) { c.SigningAlgs = []string{"none"} },
		"HS256":                func(c *session.Config) { c.SigningAlgs = []string{"RS256", "HS256"} },
		"unknown alg":          func(c *session.Config) { c.SigningAlgs = []string{"RS1"} },
		"bearer aud is client": func(c *session.Config) { c.BearerAudience = "gw" },
		"no issuer":            func(c *session.Config) { c.Issuer = "" },
	} {
		cfg := base
		mod(&cfg)
		if _, err := session.NewClient(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
