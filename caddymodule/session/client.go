package session

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Errors a Client's callers tell apart. Detailed causes are wrapped in them.
var (
	// ErrProviderUnavailable: the provider could not be reached or answered
	// with a server error. Existing sessions are unaffected.
	ErrProviderUnavailable = errors.New("session: the OpenID provider cannot be reached")
	// ErrProviderRefused: the provider answered, and said no (bad code,
	// revoked grant, wrong client credentials).
	ErrProviderRefused = errors.New("session: the OpenID provider refused the request")
	// ErrInvalidToken: a token failed verification.
	ErrInvalidToken = errors.New("session: token failed verification")
	// ErrBearerDisabled: VerifyBearer was called without a bearer audience.
	ErrBearerDisabled = errors.New("session: bearer tokens are not accepted")
)

// DefaultSigningAlgs are the asymmetric JWS algorithms accepted when none
// are configured. "none" and the HMAC algorithms (HS256…) are never
// accepted: with HS*, anyone holding the provider's public key — everyone —
// could mint tokens.
var DefaultSigningAlgs = []string{
	oidc.RS256, oidc.RS384, oidc.RS512,
	oidc.ES256, oidc.ES384, oidc.ES512,
	oidc.PS256, oidc.PS384, oidc.PS512,
	oidc.EdDSA,
}

// CheckSigningAlgs rejects algorithm lists that would let forged tokens in.
func CheckSigningAlgs(algs []string) error {
	for _, a := range algs {
		switch {
		case strings.EqualFold(a, "none"):
			return fmt.Errorf("signing algorithm %q: unsigned tokens are never accepted", a)
		case strings.HasPrefix(strings.ToUpper(a), "HS"):
			return fmt.Errorf("signing algorithm %q: HMAC algorithms are not accepted (the verification key would be public)", a)
		case !slices.Contains(DefaultSigningAlgs, a):
			return fmt.Errorf("signing algorithm %q: unknown; use one of %s", a, strings.Join(DefaultSigningAlgs, ", "))
		}
	}
	return nil
}

// Config configures a Client.
type Config struct {
	// Issuer is the provider's issuer URL, exactly as in its discovery
	// document and its tokens' "iss".
	Issuer string
	// ClientID and ClientSecret are the gateway's client credentials.
	ClientID, ClientSecret string
	// RedirectURL is the gateway's callback URL, registered at the provider.
	RedirectURL string
	// Scopes are requested at login; "openid" is added when missing.
	Scopes []string
	// SigningAlgs are the accepted JWS algorithms; DefaultSigningAlgs when
	// empty.
	SigningAlgs []string
	// Claims maps ID token claims to the agent's identity.
	Claims ClaimMapping
	// BearerAudience is the "aud" an API access token must carry. Empty
	// disables bearer tokens.
	BearerAudience string
	// BearerClaims maps access token claims to the caller's identity.
	BearerClaims ClaimMapping
	// HTTPClient talks to the provider; it should have a timeout.
	HTTPClient *http.Client
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Client runs the OpenID Connect protocol for the gateway. Discovery is
// lazy and retried, so a gateway starts (and serves existing sessions)
// while the provider is down. A Client is safe for concurrent use.
type Client struct {
	cfg Config

	mu       sync.Mutex
	d        *discovered
	lastErr  error
	lastFail time.Time

	probeMu    sync.Mutex
	probeAt    time.Time
	probeError error
}

type discovered struct {
	oauth      oauth2.Config
	id         *oidc.IDTokenVerifier
	bearer     *oidc.IDTokenVerifier
	endSession string
}

// retryDiscovery is how long a failed discovery (or reachability probe) is
// remembered, so a dead provider costs one timeout per interval, not one
// per request; and how long a successful probe is trusted.
const retryDiscovery = 5 * time.Second

// NewClient checks cfg and returns a Client. It makes no network call.
func NewClient(cfg Config) (*Client, error) {
	if cfg.Issuer == "" || cfg.ClientID == "" || cfg.RedirectURL == "" {
		return nil, errors.New("session: issuer, client id and redirect URL are required")
	}
	if len(cfg.SigningAlgs) == 0 {
		cfg.SigningAlgs = DefaultSigningAlgs
	}
	if err := CheckSigningAlgs(cfg.SigningAlgs); err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	if cfg.BearerAudience != "" && cfg.BearerAudience == cfg.ClientID {
		// Otherwise any ID token issued to the gateway would pass as an API
		// access token.
		return nil, fmt.Errorf("session: bearer audience %q equals the client id; use the API's own audience", cfg.BearerAudience)
	}
	if !slices.Contains(cfg.Scopes, oidc.ScopeOpenID) {
		cfg.Scopes = append([]string{oidc.ScopeOpenID}, cfg.Scopes...)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Client{cfg: cfg}, nil
}

func (c *Client) httpContext(ctx context.Context) context.Context {
	return oidc.ClientContext(ctx, c.cfg.HTTPClient)
}

// Discover fetches the provider's discovery document unless it already
// has. A failure is remembered for a few seconds and returned as is.
func (c *Client) Discover(ctx context.Context) error {
	_, err := c.discover(ctx)
	return err
}

func (c *Client) discover(ctx context.Context) (*discovered, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.d != nil {
		return c.d, nil
	}
	if c.lastErr != nil && c.cfg.Now().Sub(c.lastFail) < retryDiscovery {
		return nil, c.lastErr
	}
	p, err := oidc.NewProvider(c.httpContext(ctx), c.cfg.Issuer)
	if err != nil {
		c.lastErr = fmt.Errorf("%w: discovery at %q: %w", ErrProviderUnavailable, c.cfg.Issuer, err)
		c.lastFail = c.cfg.Now()
		return nil, c.lastErr
	}
	var meta struct {
		EndSession string `json:"end_session_endpoint"`
	}
	// A discovery document that fetched but lacks the field is fine: logout
	// then stays local.
	_ = p.Claims(&meta)
	// The key set outlives this request: give it a context that is never
	// cancelled but carries the client with its timeout.
	keyCtx := c.httpContext(context.Background())
	d := &discovered{
		oauth: oauth2.Config{
			ClientID:     c.cfg.ClientID,
			ClientSecret: c.cfg.ClientSecret,
			Endpoint:     p.Endpoint(),
			RedirectURL:  c.cfg.RedirectURL,
			Scopes:       c.cfg.Scopes,
		},
		id: p.VerifierContext(keyCtx, &oidc.Config{
			ClientID:             c.cfg.ClientID,
			SupportedSigningAlgs: c.cfg.SigningAlgs,
			Now:                  c.cfg.Now,
		}),
		endSession: meta.EndSession,
	}
	if c.cfg.BearerAudience != "" {
		d.bearer = p.VerifierContext(keyCtx, &oidc.Config{
			ClientID:             c.cfg.BearerAudience,
			SupportedSigningAlgs: c.cfg.SigningAlgs,
			Now:                  c.cfg.Now,
		})
	}
	c.d, c.lastErr = d, nil
	c.probeMu.Lock()
	c.probeAt, c.probeError = c.cfg.Now(), nil
	c.probeMu.Unlock()
	return d, nil
}

// probe checks that the provider answers before a browser is sent there,
// so an agent sees the gateway's own "try again shortly" page rather than a
// browser error when the provider is down. Results are reused for a few
// seconds either way.
func (c *Client) probe(ctx context.Context) error {
	c.probeMu.Lock()
	defer c.probeMu.Unlock()
	now := c.cfg.Now()
	if now.Sub(c.probeAt) < retryDiscovery {
		return c.probeError
	}
	c.probeAt, c.probeError = now, nil
	wellKnown := strings.TrimSuffix(c.cfg.Issuer, "/") + "/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, wellKnown, nil)
	if err == nil {
		var resp *http.Response
		if resp, err = c.cfg.HTTPClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				err = errors.New(resp.Status)
			}
		}
	}
	if err != nil {
		c.probeError = fmt.Errorf("%w: %s: %w", ErrProviderUnavailable, wellKnown, err)
	}
	return c.probeError
}

// AuthCodeURL returns the provider URL that starts flow f.
func (c *Client) AuthCodeURL(ctx context.Context, f *Flow) (string, error) {
	d, err := c.discover(ctx)
	if err != nil {
		return "", err
	}
	if err := c.probe(ctx); err != nil {
		return "", err
	}
	return d.oauth.AuthCodeURL(f.State, oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier)), nil
}

// Exchange finishes flow f with the authorization code from the callback:
// it redeems the code (with the PKCE verifier), verifies the ID token
// (signature, issuer, audience, authorized party, expiry, issued-at, nonce,
// access token hash) and returns the new session.
func (c *Client) Exchange(ctx context.Context, f *Flow, code string) (*Session, error) {
	d, err := c.discover(ctx)
	if err != nil {
		return nil, err
	}
	tok, err := d.oauth.Exchange(c.httpContext(ctx), code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		return nil, classify("redeeming the authorization code", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, fmt.Errorf("%w: the token response has no id_token (is the %q scope granted?)", ErrInvalidToken, oidc.ScopeOpenID)
	}
	claims, idt, err := c.verifyID(ctx, d, raw, f.Created)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(f.Nonce)) != 1 {
		return nil, fmt.Errorf("%w: ID token nonce does not match the login flow", ErrInvalidToken)
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			return nil, fmt.Errorf("%w: at_hash: %w", ErrInvalidToken, err)
		}
	}
	ident, err := c.cfg.Claims.Identity(claims)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	now := c.cfg.Now().Unix()
	return &Session{
		Identity:     ident,
		Login:        now,
		Seen:         now,
		TokenExpiry:  tokenExpiry(tok, idt),
		RefreshToken: tok.RefreshToken,
		IDToken:      raw,
	}, nil
}

// Refresh renews s's tokens with its refresh token and re-reads the
// identity (roles included) from the new ID token, so a role the provider
// withdrew is withdrawn here at the next refresh. It returns
// ErrProviderRefused when the grant is gone (the session must end) and
// ErrProviderUnavailable when the provider cannot say (the session may go
// on until it expires).
func (c *Client) Refresh(ctx context.Context, s *Session) (*Session, error) {
	d, err := c.discover(ctx)
	if err != nil {
		return nil, err
	}
	ts := d.oauth.TokenSource(c.httpContext(ctx), &oauth2.Token{RefreshToken: s.RefreshToken})
	tok, err := ts.Token()
	if err != nil {
		return nil, classify("refreshing the session", err)
	}
	next := *s
	if tok.RefreshToken != "" {
		next.RefreshToken = tok.RefreshToken
	}
	next.TokenExpiry = tokenExpiry(tok, nil)
	if raw, _ := tok.Extra("id_token").(string); raw != "" {
		claims, idt, err := c.verifyID(ctx, d, raw, 0)
		if err != nil {
			return nil, err
		}
		ident, err := c.cfg.Claims.Identity(claims)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
		}
		if ident.ID != s.ID {
			return nil, fmt.Errorf("%w: refreshed ID token names user %q, the session %q", ErrInvalidToken, ident.ID, s.ID)
		}
		next.Identity = ident
		next.IDToken = raw
		next.TokenExpiry = tokenExpiry(tok, idt)
	}
	return &next, nil
}

// verifyID checks an ID token beyond what go-oidc checks (signature with an
// allowed algorithm, issuer, audience, expiry): the authorized party and
// the issue time. notBefore, when not zero, is the Unix time the flow
// started; a token issued before it is a replay.
func (c *Client) verifyID(ctx context.Context, d *discovered, raw string, notBefore int64) (Claims, *oidc.IDToken, error) {
	idt, err := d.id.Verify(ctx, raw)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: ID token: %w", ErrInvalidToken, err)
	}
	var claims Claims
	if err := idt.Claims(&claims); err != nil {
		return nil, nil, fmt.Errorf("%w: ID token claims: %w", ErrInvalidToken, err)
	}
	// OpenID Connect Core 3.1.3.7: with several audiences the token must
	// name the party it was issued to, and that must be us.
	azp, hasAzp := claims["azp"].(string)
	if len(idt.Audience) > 1 && !hasAzp {
		return nil, nil, fmt.Errorf("%w: ID token has %d audiences and no azp", ErrInvalidToken, len(idt.Audience))
	}
	if _, present := claims["azp"]; present && azp != c.cfg.ClientID {
		return nil, nil, fmt.Errorf("%w: ID token azp %q is not this client", ErrInvalidToken, claims["azp"])
	}
	if err := c.checkIssuedAt(idt.IssuedAt, notBefore); err != nil {
		return nil, nil, fmt.Errorf("%w: ID token: %w", ErrInvalidToken, err)
	}
	return claims, idt, nil
}

func (c *Client) checkIssuedAt(iat time.Time, notBefore int64) error {
	if iat.IsZero() {
		return errors.New("no iat")
	}
	now := c.cfg.Now()
	if iat.After(now.Add(clockSkew)) {
		return fmt.Errorf("iat %s is in the future", iat.UTC().Format(time.RFC3339))
	}
	if notBefore != 0 && iat.Before(time.Unix(notBefore, 0).Add(-clockSkew)) {
		return fmt.Errorf("iat %s is before the login started", iat.UTC().Format(time.RFC3339))
	}
	return nil
}

// VerifyBearer verifies a JWT access token presented by an API client:
// signature (allowed algorithms, provider keys), issuer, the configured
// audience, expiry and issue time. It returns the caller's identity.
func (c *Client) VerifyBearer(ctx context.Context, raw string) (Identity, error) {
	if c.cfg.BearerAudience == "" {
		return Identity{}, ErrBearerDisabled
	}
	d, err := c.discover(ctx)
	if err != nil {
		return Identity{}, err
	}
	t, err := d.bearer.Verify(ctx, raw)
	if err != nil {
		return Identity{}, fmt.Errorf("%w: access token: %w", ErrInvalidToken, err)
	}
	if !t.IssuedAt.IsZero() {
		if err := c.checkIssuedAt(t.IssuedAt, 0); err != nil {
			return Identity{}, fmt.Errorf("%w: access token: %w", ErrInvalidToken, err)
		}
	}
	var claims Claims
	if err := t.Claims(&claims); err != nil {
		return Identity{}, fmt.Errorf("%w: access token claims: %w", ErrInvalidToken, err)
	}
	ident, err := c.cfg.BearerClaims.Identity(claims)
	if err != nil {
		return Identity{}, fmt.Errorf("%w: access token: %w", ErrInvalidToken, err)
	}
	return ident, nil
}

// EndSessionURL returns the provider's RP-initiated logout URL, or "" when
// the provider has none (or has not been discovered). idTokenHint and
// postLogout may be empty.
func (c *Client) EndSessionURL(idTokenHint, postLogout string) string {
	c.mu.Lock()
	d := c.d
	c.mu.Unlock()
	if d == nil || d.endSession == "" {
		return ""
	}
	u, err := url.Parse(d.endSession)
	if err != nil {
		return ""
	}
	q := u.Query()
	q.Set("client_id", c.cfg.ClientID)
	if idTokenHint != "" {
		q.Set("id_token_hint", idTokenHint)
	}
	if postLogout != "" {
		q.Set("post_logout_redirect_uri", postLogout)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// tokenExpiry is when the gateway should refresh: the access token's
// expiry, else the ID token's.
func tokenExpiry(tok *oauth2.Token, idt *oidc.IDToken) int64 {
	switch {
	case !tok.Expiry.IsZero():
		return tok.Expiry.Unix()
	case idt != nil:
		return idt.Expiry.Unix()
	}
	return 0
}

// classify turns an error from the token endpoint into ErrProviderRefused
// (the provider answered no) or ErrProviderUnavailable (no answer, or a
// server error).
func classify(what string, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode < 500 {
		code := re.ErrorCode
		if code == "" {
			code = re.Response.Status
		}
		return fmt.Errorf("%w: %s: %s", ErrProviderRefused, what, code)
	}
	return fmt.Errorf("%w: %s: %w", ErrProviderUnavailable, what, err)
}
