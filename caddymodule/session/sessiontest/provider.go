// Package sessiontest is an in-process OpenID Connect provider for unit
// tests of the session engine and the pii_oidc handler: discovery, JWKS,
// authorization codes with PKCE, refresh tokens and end-session, with hooks
// to make it misbehave. End-to-end tests use a real provider instead.
package sessiontest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Provider is a running test provider.
type Provider struct {
	// Issuer is the provider's issuer URL (the test server's URL).
	Issuer string
	// ClientID and ClientSecret are the one registered client.
	ClientID, ClientSecret string
	// APIAudience is the audience of the access tokens it issues.
	APIAudience string
	// Key signs tokens and is published in the JWKS; OtherKey is a key of
	// the same kind under the same key id that is not published.
	Key, OtherKey *rsa.PrivateKey
	// KeyID is the published key's id.
	KeyID string

	// Down, when set, makes every endpoint answer 503.
	Down atomic.Bool

	// TokenRequests counts requests to the token endpoint, answered or not.
	TokenRequests atomic.Int64

	// NoEndSession leaves end_session_endpoint out of discovery.
	NoEndSession bool

	// Now is the provider's clock for issuing tokens; time.Now when nil.
	Now func() time.Time

	srv *httptest.Server
	t   testing.TB

	mu sync.Mutex
	// IDTokenHook, when set, edits the claims of every ID token issued.
	IDTokenHook func(claims map[string]any)
	// RawIDToken, when set, replaces every ID token issued.
	RawIDToken func(claims map[string]any) string
	// AccessTokenTTL is the lifetime of access tokens (default 1h).
	AccessTokenTTL time.Duration
	codes          map[string]*grant
	refresh        map[string]*grant
}

type grant struct {
	redirectURI string
	challenge   string
	nonce       string
	claims      map[string]any
	used        bool
}

// New starts a provider; it stops when the test ends.
func New(t testing.TB) *Provider {
	t.Helper()
	p := &Provider{
		ClientID:     "gateway",
		ClientSecret: "gateway-secret",
		APIAudience:  "helpdesk-api",
		KeyID:        "test-key-1",
		Key:          newKey(t),
		OtherKey:     newKey(t),
		t:            t,
		codes:        map[string]*grant{},
		refresh:      map[string]*grant{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /jwks", p.jwks)
	mux.HandleFunc("POST /token", p.token)
	p.srv = httptest.NewServer(p.guard(mux))
	p.Issuer = p.srv.URL
	t.Cleanup(p.srv.Close)
	return p
}

func newKey(t testing.TB) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func (p *Provider) guard(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			p.TokenRequests.Add(1)
		}
		if p.Down.Load() {
			http.Error(w, "down for the test", http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// Close stops the server: afterwards the provider is unreachable.
func (p *Provider) Close() { p.srv.Close() }

func (p *Provider) discovery(w http.ResponseWriter, _ *http.Request) {
	doc := map[string]any{
		"issuer":                                p.Issuer,
		"authorization_endpoint":                p.Issuer + "/authorize",
		"token_endpoint":                        p.Issuer + "/token",
		"jwks_uri":                              p.Issuer + "/jwks",
		"id_token_signing_alg_values_supported": []string{"RS256"},
	}
	if !p.NoEndSession {
		doc["end_session_endpoint"] = p.Issuer + "/logout"
	}
	writeJSON(w, doc)
}

func (p *Provider) jwks(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &p.Key.PublicKey, KeyID: p.KeyID, Algorithm: "RS256", Use: "sig"}}})
}

// Authorize plays the provider's login page: it checks the authorization
// request the gateway built (PKCE S256, state, nonce, client, redirect URI)
// and returns the callback URL a browser would be sent to, with a fresh
// code for a user with the given claims ("sub" at least).
func (p *Provider) Authorize(authURL string, claims map[string]any) string {
	p.t.Helper()
	u, err := url.Parse(authURL)
	if err != nil {
		p.t.Fatalf("authorization URL %q: %v", authURL, err)
	}
	q := u.Query()
	for k, want := range map[string]string{"response_type": "code", "client_id": p.ClientID, "code_challenge_method": "S256"} {
		if q.Get(k) != want {
			p.t.Fatalf("authorization request: %s = %q, want %q", k, q.Get(k), want)
		}
	}
	for _, k := range []string{"state", "nonce", "code_challenge", "redirect_uri"} {
		if q.Get(k) == "" {
			p.t.Fatalf("authorization request has no %s", k)
		}
	}
	code := random()
	p.mu.Lock()
	p.codes[code] = &grant{redirectURI: q.Get("redirect_uri"), challenge: q.Get("code_challenge"), nonce: q.Get("nonce"), claims: claims}
	p.mu.Unlock()
	cb, _ := url.Parse(q.Get("redirect_uri"))
	cq := cb.Query()
	cq.Set("code", code)
	cq.Set("state", q.Get("state"))
	cb.RawQuery = cq.Encode()
	return cb.String()
}

func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != p.ClientID || secret != p.ClientSecret {
		tokenError(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var g *grant
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		g = p.codes[r.PostForm.Get("code")]
		if g == nil || g.used || g.redirectURI != r.PostForm.Get("redirect_uri") {
			tokenError(w, http.StatusBadRequest, "invalid_grant")
			return
		}
		g.used = true
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		if base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
			tokenError(w, http.StatusBadRequest, "invalid_grant")
			return
		}
	case "refresh_token":
		rt := r.PostForm.Get("refresh_token")
		g = p.refresh[rt]
		if g == nil {
			tokenError(w, http.StatusBadRequest, "invalid_grant")
			return
		}
		// Rotation, as real providers do: the old token is spent.
		delete(p.refresh, rt)
		g = &grant{claims: g.claims}
	default:
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type")
		return
	}
	now := p.now()
	ttl := p.AccessTokenTTL
	if ttl == 0 {
		ttl = time.Hour
	}
	idc := map[string]any{
		"iss": p.Issuer, "aud": p.ClientID, "iat": now.Unix(), "exp": now.Add(ttl).Unix(),
	}
	if g.nonce != "" {
		idc["nonce"] = g.nonce
	}
	for k, v := range g.claims {
		idc[k] = v
	}
	if p.IDTokenHook != nil {
		p.IDTokenHook(idc)
	}
	idToken := p.Sign(idc)
	if p.RawIDToken != nil {
		idToken = p.RawIDToken(idc)
	}
	rt := random()
	p.refresh[rt] = g
	writeJSON(w, map[string]any{
		"access_token":  p.AccessToken(g.claims, ttl),
		"token_type":    "Bearer",
		"expires_in":    int(ttl / time.Second),
		"refresh_token": rt,
		"id_token":      idToken,
	})
}

func (p *Provider) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// RevokeRefreshTokens makes every refresh token issued so far invalid.
func (p *Provider) RevokeRefreshTokens() {
	p.mu.Lock()
	clear(p.refresh)
	p.mu.Unlock()
}

// SetClaims replaces the claims future refreshes of every grant return, as
// when an administrator changes a user's groups at the provider.
func (p *Provider) SetClaims(claims map[string]any) {
	p.mu.Lock()
	for _, g := range p.refresh {
		g.claims = claims
	}
	p.mu.Unlock()
}

// AccessToken returns a JWT access token for the API audience.
func (p *Provider) AccessToken(claims map[string]any, ttl time.Duration) string {
	now := p.now()
	c := map[string]any{"iss": p.Issuer, "aud": []string{p.APIAudience}, "iat": now.Unix(), "exp": now.Add(ttl).Unix(), "client_id": p.ClientID}
	for k, v := range claims {
		c[k] = v
	}
	return p.Sign(c)
}

// Sign signs claims with the published key (RS256).
func (p *Provider) Sign(claims map[string]any) string {
	return p.SignWith(jose.RS256, p.Key, p.KeyID, claims)
}

// SignWith signs claims with any algorithm, key and key id.
func (p *Provider) SignWith(alg jose.SignatureAlgorithm, key any, kid string, claims map[string]any) string {
	p.t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader(jose.HeaderKey("kid"), kid)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		p.t.Fatalf("signer %s: %v", alg, err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := s.Sign(payload)
	if err != nil {
		p.t.Fatalf("signing: %v", err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		p.t.Fatal(err)
	}
	return out
}

// Unsigned returns claims as a JWT with "alg": "none".
func Unsigned(claims map[string]any) string {
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	b, _ := json.Marshal(claims)
	return h + "." + base64.RawURLEncoding.EncodeToString(b) + "."
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(v); err != nil {
		panic(fmt.Sprintf("sessiontest: encoding response: %v", err))
	}
}

func tokenError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code})
}

func random() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
