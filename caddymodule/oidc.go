package caddymodule

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"golang.org/x/net/http/httpguts"
	"golang.org/x/sync/singleflight"

	"github.com/piigate/piigate/caddymodule/session"
)

func init() {
	caddy.RegisterModule(OIDC{})
}

// oidcNow is the handler's clock; tests move it.
var oidcNow = time.Now

// Placeholders pii_oidc sets for an authenticated request. pii_mask reads
// the roles from the second one by default.
const (
	placeholderUserID    = "http.auth.user.id"
	placeholderUserRoles = "http.auth.user.roles"
	placeholderUserName  = "http.auth.user.name"
	placeholderUserEmail = "http.auth.user.email"
)

// OIDC (module http.handlers.pii_oidc) authenticates agents with an OpenID
// Connect provider before any customer data is served.
//
// A browser without a session is sent to the provider (authorization code
// flow with PKCE, state and nonce) and comes back with an encrypted session
// cookie that any replica sharing the session keys accepts: no server-side
// session store. API clients may instead present a JWT access token
// (`Authorization: Bearer …`) when `bearer` is configured. Requests that
// are not page navigations (XHR/fetch, `Accept: application/json`,
// non-GET) get `401` JSON rather than a redirect.
//
// For an authenticated request it sets `{http.auth.user.id}`,
// `{http.auth.user.roles}` (gateway roles, comma-separated, sorted; empty
// when no provider value maps to a role), `{http.auth.user.name}` and
// `{http.auth.user.email}`, and optionally identity headers to the
// upstream. Identity headers a client sends are always removed first, as
// is the gateway's own session cookie.
//
// When the provider is unreachable, existing sessions keep working until
// they expire and new logins get a 503 page; the gateway keeps serving.
type OIDC struct {
	// Issuer is the provider's issuer URL, exactly as its discovery document
	// and tokens state it (trailing slash included or not). Must be https,
	// except on a loopback host.
	Issuer string `json:"issuer,omitempty"`

	// ClientID is the gateway's client id at the provider.
	ClientID string `json:"client_id,omitempty"`

	// ClientSecret is the gateway's client secret; placeholders such as
	// `{env.OIDC_CLIENT_SECRET}` or `{file./run/secrets/oidc}` are resolved
	// at provisioning. Empty for a public client (PKCE still applies).
	ClientSecret string `json:"client_secret,omitempty"`

	// RedirectURL is the absolute callback URL registered at the provider,
	// e.g. `https://gw.example.com/oauth2/callback`. Its path is where this
	// handler finishes logins.
	RedirectURL string `json:"redirect_url,omitempty"`

	// Scopes requested at login. Default: openid profile email
	// offline_access (the last one yields the refresh token that keeps
	// roles current). "openid" is always requested.
	Scopes []string `json:"scopes,omitempty"`

	// SessionKeys encrypt and authenticate the session cookie
	// (XChaCha20-Poly1305): each is 32 random bytes in base64, usually a
	// placeholder such as `{env.PII_SESSION_KEY}` or `{file./path}`. The
	// first key encrypts, all keys decrypt. To rotate, put a new key first
	// and keep the old one second until session_lifetime has passed, then
	// remove it. Every replica must have the same list.
	SessionKeys []string `json:"session_keys,omitempty"`

	// CookieName is the session cookie's name. Default
	// `__Host-piigate_session` (the `__Host-` prefix makes browsers refuse
	// it unless Secure, host-only and Path=/), or `piigate_session` with
	// insecure_cookie. Login-flow cookies use the same name plus `_flow_`
	// and a flow id.
	CookieName string `json:"cookie_name,omitempty"`

	// InsecureCookie drops the Secure attribute (and the `__Host-` prefix)
	// so cookies work over plain http. Only for development on localhost.
	InsecureCookie bool `json:"insecure_cookie,omitempty"`

	// SessionLifetime is the absolute lifetime of a session from login;
	// refreshing does not extend it. Default 8h.
	SessionLifetime caddy.Duration `json:"session_lifetime,omitempty"`

	// IdleTimeout ends a session unused for this long. Default 30m; 0 in
	// JSON means the default, a negative value disables it.
	IdleTimeout caddy.Duration `json:"idle_timeout,omitempty"`

	// LoginPath starts a login explicitly; `?return=/path` names a
	// same-origin page to come back to. Default `/oauth2/login`.
	LoginPath string `json:"login_path,omitempty"`

	// LogoutPath ends the session (GET or POST) and, when the provider has
	// an end_session_endpoint, the provider's session too. Default
	// `/oauth2/logout`.
	LogoutPath string `json:"logout_path,omitempty"`

	// PostLogoutRedirectURL is where the provider sends the browser after
	// logout; it must be registered at the provider. Without it the
	// provider shows its own page, and a local-only logout shows a
	// signed-out page.
	PostLogoutRedirectURL string `json:"post_logout_redirect_url,omitempty"`

	// UserIDClaim is the claim path of the user id. Default `sub`.
	UserIDClaim string `json:"user_id_claim,omitempty"`

	// NameClaim is the claim path of the display name. Default `name`.
	NameClaim string `json:"name_claim,omitempty"`

	// EmailClaim is the claim path of the e-mail address. Default `email`.
	EmailClaim string `json:"email_claim,omitempty"`

	// RolesClaim is the claim path of the provider's groups or roles: a
	// top-level claim name, or dot-separated names into nested objects
	// (`realm_access.roles`). A string or an array of strings. Default
	// `groups`.
	RolesClaim string `json:"roles_claim,omitempty"`

	// Roles maps each gateway role (as pii_mask's policy names it) to the
	// provider values that grant it. An agent none of whose values map gets
	// no role, which pii_mask treats with its default deny.
	Roles map[string][]string `json:"roles,omitempty"`

	// IdentityHeaders names request headers that carry the identity to the
	// upstream. None by default.
	IdentityHeaders *OIDCIdentityHeaders `json:"identity_headers,omitempty"`

	// SigningAlgs are the accepted token signature algorithms. Default: all
	// asymmetric algorithms (RS*, ES*, PS*, EdDSA). `none` and HS* are
	// refused.
	SigningAlgs []string `json:"signing_algs,omitempty"`

	// ProviderTimeout bounds each call to the provider (discovery, keys,
	// token endpoint). Default 10s.
	ProviderTimeout caddy.Duration `json:"provider_timeout,omitempty"`

	// Bearer, when set, accepts `Authorization: Bearer <JWT access token>`
	// from API clients, verified against the provider's keys, issuer and
	// the configured audience. No session is created.
	Bearer *OIDCBearer `json:"bearer,omitempty"`

	client         *session.Client
	codec          *session.Codec
	policy         session.Policy
	rt             *oidcRuntime
	callbackPath   string
	cookieName     string
	flowPrefix     string
	sessionPurpose string
	flowPurpose    string
	stripHeaders   []string
	logger         *zap.Logger
}

// oidcRuntime is the handler's mutable state, behind a pointer so the
// module value itself stays copyable.
type oidcRuntime struct {
	used         session.UsedStates
	refreshes    singleflight.Group
	refreshPause atomic.Int64 // Unix time before which refreshes are not tried
}

// OIDCIdentityHeaders names the upstream request headers that carry an
// authenticated agent's identity. An empty name sends no header.
type OIDCIdentityHeaders struct {
	// ID carries the user id, e.g. `X-Auth-User`.
	ID string `json:"id,omitempty"`
	// Roles carries the gateway roles, comma-separated, e.g. `X-Auth-Roles`.
	Roles string `json:"roles,omitempty"`
	// Name carries the display name (UTF-8), e.g. `X-Auth-Name`.
	Name string `json:"name,omitempty"`
	// Email carries the e-mail address, e.g. `X-Auth-Email`.
	Email string `json:"email,omitempty"`
}

// OIDCBearer configures API access with JWT access tokens.
type OIDCBearer struct {
	// Audience the access token's `aud` must contain: the API's identifier
	// at the provider. It must differ from client_id, or the gateway's own
	// ID tokens would pass as access tokens.
	Audience string `json:"audience,omitempty"`
	// UserIDClaim is the claim path of the caller's id. Default `sub`.
	UserIDClaim string `json:"user_id_claim,omitempty"`
	// RolesClaim is the claim path of the values mapped by roles. Default
	// the handler's roles_claim.
	RolesClaim string `json:"roles_claim,omitempty"`
}

// CaddyModule returns the Caddy module information.
func (OIDC) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.pii_oidc",
		New: func() caddy.Module { return new(OIDC) },
	}
}

// Provision resolves placeholders in secrets, applies defaults and starts
// discovery in the background, so the first login does not wait for it and
// a provider that is down does not keep Caddy from starting.
func (o *OIDC) Provision(ctx caddy.Context) error {
	o.logger = ctx.Logger()
	o.rt = new(oidcRuntime)
	repl := caddy.NewReplacer()

	secret, err := resolve(repl, o.ClientSecret, true)
	if err != nil {
		return fmt.Errorf("client_secret: %w", err)
	}
	if len(o.SessionKeys) == 0 {
		return errors.New("session_keys: at least one key is required (32 random bytes in base64, e.g. {env.PII_SESSION_KEY})")
	}
	keys := make([][]byte, 0, len(o.SessionKeys))
	for i, k := range o.SessionKeys {
		v, err := resolve(repl, k, false)
		if err != nil {
			return fmt.Errorf("session_keys[%d]: %w", i, err)
		}
		key, err := session.ParseKey(v)
		if err != nil {
			return fmt.Errorf("session_keys[%d]: %w", i, err)
		}
		keys = append(keys, key)
	}
	if o.codec, err = session.NewCodec(keys); err != nil {
		return fmt.Errorf("session_keys: %w", err)
	}

	if o.Scopes == nil {
		o.Scopes = []string{"openid", "profile", "email", "offline_access"}
	}
	if o.SessionLifetime == 0 {
		o.SessionLifetime = caddy.Duration(8 * time.Hour)
	}
	if o.IdleTimeout == 0 {
		o.IdleTimeout = caddy.Duration(30 * time.Minute)
	}
	if o.LoginPath == "" {
		o.LoginPath = "/oauth2/login"
	}
	if o.LogoutPath == "" {
		o.LogoutPath = "/oauth2/logout"
	}
	if o.RolesClaim == "" {
		o.RolesClaim = "groups"
	}
	if o.ProviderTimeout == 0 {
		o.ProviderTimeout = caddy.Duration(10 * time.Second)
	}
	o.cookieName = o.CookieName
	if o.cookieName == "" {
		o.cookieName = "__Host-piigate_session"
		if o.InsecureCookie {
			o.cookieName = "piigate_session"
		}
	}
	o.flowPrefix = o.cookieName + "_flow_"
	o.policy = session.Policy{Lifetime: time.Duration(o.SessionLifetime), IdleTimeout: max(0, time.Duration(o.IdleTimeout))}
	// Binding cookies to issuer and client means a cookie minted by another
	// pii_oidc configuration that happens to share the key is refused.
	o.sessionPurpose = "piigate session\x00" + o.Issuer + "\x00" + o.ClientID
	o.flowPurpose = "piigate login flow\x00" + o.Issuer + "\x00" + o.ClientID

	if u, err := url.Parse(o.RedirectURL); err == nil {
		o.callbackPath = u.Path
	}
	if h := o.IdentityHeaders; h != nil {
		for _, name := range []string{h.ID, h.Roles, h.Name, h.Email} {
			if name != "" {
				o.stripHeaders = append(o.stripHeaders, http.CanonicalHeaderKey(name))
			}
		}
	}
	// pii_mask removes these headers from requests this handler did not
	// vouch for (a route guarded by pii_mask without pii_oidc before it).
	if app, err := ctx.AppIfConfigured("pii"); err == nil {
		for _, name := range o.stripHeaders {
			app.(*App).registerIdentityHeader(name)
		}
	} else if !errors.Is(err, caddy.ErrNotConfigured) {
		return fmt.Errorf("loading the pii app: %w", err)
	}

	roleMap, err := session.NewRoleMap(o.Roles)
	if err != nil {
		return fmt.Errorf("roles: %w", err)
	}
	cfg := session.Config{
		Issuer:       o.Issuer,
		ClientID:     o.ClientID,
		ClientSecret: secret,
		RedirectURL:  o.RedirectURL,
		Scopes:       o.Scopes,
		SigningAlgs:  o.SigningAlgs,
		Claims: session.ClaimMapping{
			UserID: o.UserIDClaim, Name: o.NameClaim, Email: o.EmailClaim,
			Roles: o.RolesClaim, RoleMap: roleMap,
		},
		HTTPClient: &http.Client{Timeout: time.Duration(o.ProviderTimeout)},
		Now:        func() time.Time { return oidcNow() },
	}
	if b := o.Bearer; b != nil {
		cfg.BearerAudience = b.Audience
		cfg.BearerClaims = session.ClaimMapping{
			UserID: b.UserIDClaim, Name: o.NameClaim, Email: o.EmailClaim,
			Roles: cmp.Or(b.RolesClaim, o.RolesClaim), RoleMap: roleMap,
		}
	}
	if err := o.Validate(); err != nil {
		return err
	}
	if o.client, err = session.NewClient(cfg); err != nil {
		return err
	}
	client, logger := o.client, o.logger
	go func() {
		if err := client.Discover(ctx); err != nil {
			logger.Warn("OpenID provider not reachable yet; existing sessions keep working, logins will retry", zap.Error(err))
		}
	}()
	return nil
}

// resolve replaces placeholders ({env.*}, {file.*}) in a secret. An
// unknown placeholder or one that resolves to nothing is an error that
// names it, rather than a silently empty secret.
func resolve(repl *caddy.Replacer, s string, emptyOK bool) (string, error) {
	if s == "" && emptyOK {
		return "", nil
	}
	v, err := repl.ReplaceOrErr(s, true, true)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(v), nil
}

// Validate checks the configuration and names what is wrong.
func (o *OIDC) Validate() error {
	if err := checkProviderURL("issuer", o.Issuer); err != nil {
		return err
	}
	if o.ClientID == "" {
		return errors.New("client_id is required")
	}
	if err := checkProviderURL("redirect_url", o.RedirectURL); err != nil {
		return err
	}
	if o.callbackPath == "" || o.callbackPath == "/" {
		return fmt.Errorf("redirect_url %q: needs a path of its own for the callback, e.g. /oauth2/callback", o.RedirectURL)
	}
	for name, p := range map[string]string{"login_path": o.LoginPath, "logout_path": o.LogoutPath} {
		if !strings.HasPrefix(p, "/") {
			return fmt.Errorf("%s %q: must start with /", name, p)
		}
		if p == o.callbackPath {
			return fmt.Errorf("%s %q: is the redirect_url's callback path", name, p)
		}
	}
	if o.LoginPath == o.LogoutPath {
		return fmt.Errorf("login_path and logout_path are both %q", o.LoginPath)
	}
	if o.PostLogoutRedirectURL != "" {
		if u, err := url.Parse(o.PostLogoutRedirectURL); err != nil || !u.IsAbs() || u.Host == "" {
			return fmt.Errorf("post_logout_redirect_url %q: must be an absolute URL", o.PostLogoutRedirectURL)
		}
	}
	if o.SessionLifetime <= 0 {
		return fmt.Errorf("session_lifetime %s: must be positive", time.Duration(o.SessionLifetime))
	}
	if o.IdleTimeout > o.SessionLifetime {
		return fmt.Errorf("idle_timeout %s: longer than session_lifetime %s", time.Duration(o.IdleTimeout), time.Duration(o.SessionLifetime))
	}
	if strings.HasPrefix(o.cookieName, "__Host-") && o.InsecureCookie {
		return fmt.Errorf("cookie_name %q: browsers refuse __Host- cookies without Secure; drop insecure_cookie or the prefix", o.cookieName)
	}
	if o.cookieName != "" && !validHeaderName(o.cookieName) {
		return fmt.Errorf("cookie_name %q: not a valid cookie name", o.cookieName)
	}
	if err := session.CheckSigningAlgs(o.SigningAlgs); err != nil {
		return fmt.Errorf("signing_algs: %w", err)
	}
	if _, err := session.NewRoleMap(o.Roles); err != nil {
		return fmt.Errorf("roles: %w", err)
	}
	seen := map[string]bool{}
	for _, h := range o.stripHeaders {
		if !validHeaderName(h) {
			return fmt.Errorf("identity_headers: %q is not a valid header name", h)
		}
		switch h {
		case "Host", "Cookie", "Authorization", "Connection", "Content-Length", "Content-Type", "Transfer-Encoding", "Te", "Upgrade", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto":
			return fmt.Errorf("identity_headers: %q is a header the request itself needs", h)
		}
		if seen[h] {
			return fmt.Errorf("identity_headers: %q is used twice", h)
		}
		seen[h] = true
	}
	if b := o.Bearer; b != nil {
		if b.Audience == "" {
			return errors.New("bearer: audience is required (the API's identifier at the provider)")
		}
		if b.Audience == o.ClientID {
			return fmt.Errorf("bearer: audience %q equals client_id; ID tokens issued to the gateway would pass as access tokens", b.Audience)
		}
	}
	return nil
}

func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !httpguts.IsTokenRune(rune(s[i])) {
			return false
		}
	}
	return true
}

// checkProviderURL requires an absolute https URL, or http on a loopback
// host (a provider or gateway on the same machine, as in development).
func checkProviderURL(field, raw string) error {
	if raw == "" {
		return fmt.Errorf("%s is required", field)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%s %q: not an absolute URL", field, raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); host == "localhost" || ip != nil && ip.IsLoopback() {
			return nil
		}
		return fmt.Errorf("%s %q: must be https (plain http is allowed only on a loopback host)", field, raw)
	}
	return fmt.Errorf("%s %q: scheme must be https", field, raw)
}

// ServeHTTP authenticates the request or answers it itself (login
// endpoints, redirects to the provider, 401/503).
func (o *OIDC) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	// Identity headers from the client are removed before anything else, so
	// no path through this handler forwards a forged one.
	for _, h := range o.stripHeaders {
		r.Header.Del(h)
	}
	deleteUnderscoreVariants(r.Header, o.stripHeaders)
	stripTrailers(r, o.stripHeaders)
	switch r.URL.Path {
	case o.callbackPath:
		return o.serveCallback(w, r)
	case o.LoginPath:
		return o.serveLogin(w, r)
	case o.LogoutPath:
		return o.serveLogout(w, r)
	}
	if o.Bearer != nil {
		if raw, ok := bearerToken(r); ok {
			return o.serveBearer(w, r, next, raw)
		}
	}
	s, err := o.session(w, r)
	if err != nil {
		return err
	}
	if s == nil {
		return o.unauthenticated(w, r)
	}
	o.setIdentity(r, s.Identity)
	return next.ServeHTTP(w, r)
}

// session returns the request's valid session, refreshed and touched as
// needed (with a new cookie on w), or nil. A cookie that does not open or
// has expired is cleared.
func (o *OIDC) session(w http.ResponseWriter, r *http.Request) (*session.Session, error) {
	c, err := r.Cookie(o.cookieName)
	if err != nil {
		return nil, nil
	}
	s, err := session.Open(o.codec, o.sessionPurpose, c.Value)
	if err != nil {
		o.logger.Info("session cookie refused", zap.String("client_ip", clientIP(r)), zap.Error(err))
		o.clearCookie(w, o.cookieName)
		return nil, nil
	}
	now := oidcNow()
	if err := s.Check(now, o.policy); err != nil {
		o.logger.Info("session ended", zap.String("user_id", s.ID), zap.String("client_ip", clientIP(r)), zap.Error(err))
		o.clearCookie(w, o.cookieName)
		return nil, nil
	}
	dirty := false
	if s.NeedsRefresh(now) && now.Unix() >= o.rt.refreshPause.Load() {
		next, err := o.refresh(r.Context(), s)
		switch {
		case err == nil:
			s, dirty = next, true
		case errors.Is(err, session.ErrProviderUnavailable):
			// Availability over freshness: the session goes on until it
			// expires, and this replica waits a little before asking again.
			o.logger.Warn("session refresh postponed: provider unavailable", zap.String("user_id", s.ID), zap.Error(err))
			o.rt.refreshPause.Store(now.Add(refreshRetry).Unix())
		default:
			o.logger.Warn("session refresh refused; session ended", zap.String("user_id", s.ID), zap.String("client_ip", clientIP(r)), zap.Error(err))
			o.clearCookie(w, o.cookieName)
			return nil, nil
		}
	}
	if s.NeedsTouch(now, o.policy) {
		s.Seen, dirty = now.Unix(), true
	}
	if dirty {
		if err := o.setSessionCookie(w, s); err != nil {
			return nil, caddyhttp.Error(http.StatusInternalServerError, err)
		}
	}
	return s, nil
}

// refreshRetry is how long a replica waits before trying a refresh again
// after the provider did not answer.
const refreshRetry = 30 * time.Second

// refresh renews s once per refresh token even when several requests of
// the same browser arrive together: providers that rotate refresh tokens
// treat a second use of the old one as theft and revoke the grant.
func (o *OIDC) refresh(ctx context.Context, s *session.Session) (*session.Session, error) {
	v, err, _ := o.rt.refreshes.Do(s.RefreshToken, func() (any, error) {
		// Detached from the request: one caller going away must not fail
		// the refresh for the others waiting on it.
		return o.client.Refresh(context.WithoutCancel(ctx), s)
	})
	if err != nil {
		return nil, err
	}
	next := *v.(*session.Session)
	next.Seen = s.Seen
	return &next, nil
}

func (o *OIDC) setIdentity(r *http.Request, id session.Identity) {
	roles := strings.Join(id.Roles, ",")
	if repl, ok := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer); ok {
		repl.Set(placeholderUserID, id.ID)
		repl.Set(placeholderUserRoles, roles)
		repl.Set(placeholderUserName, id.Name)
		repl.Set(placeholderUserEmail, id.Email)
	}
	if h := o.IdentityHeaders; h != nil {
		for _, kv := range [...][2]string{{h.ID, id.ID}, {h.Roles, roles}, {h.Name, id.Name}, {h.Email, id.Email}} {
			if kv[0] != "" && kv[1] != "" && httpguts.ValidHeaderFieldValue(kv[1]) {
				r.Header.Set(kv[0], kv[1])
			}
		}
		caddyhttp.SetVar(r.Context(), varIdentitySet, o.stripHeaders)
	}
	o.stripOwnCookies(r)
}

// stripOwnCookies removes the gateway's cookies from the request: the
// upstream has no use for them, and a session cookie in an upstream's logs
// would be a stolen session.
func (o *OIDC) stripOwnCookies(r *http.Request) {
	hs := r.Header["Cookie"]
	if len(hs) == 0 {
		return
	}
	out := hs[:0]
	for _, h := range hs {
		if !strings.Contains(h, o.cookieName) {
			out = append(out, h)
			continue
		}
		var kept []string
		for part := range strings.SplitSeq(h, ";") {
			name, _, _ := strings.Cut(strings.TrimSpace(part), "=")
			if name != o.cookieName && !strings.HasPrefix(name, o.flowPrefix) {
				kept = append(kept, strings.TrimSpace(part))
			}
		}
		if len(kept) > 0 {
			out = append(out, strings.Join(kept, "; "))
		}
	}
	if len(out) == 0 {
		r.Header.Del("Cookie")
		return
	}
	r.Header["Cookie"] = out
}

func (o *OIDC) serveBearer(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, raw string) error {
	id, err := o.client.VerifyBearer(r.Context(), raw)
	switch {
	case err == nil:
		o.setIdentity(r, id)
		return next.ServeHTTP(w, r)
	case errors.Is(err, session.ErrProviderUnavailable):
		o.logger.Warn("bearer token not checked: provider unavailable", zap.String("client_ip", clientIP(r)), zap.Error(err))
		w.Header().Set("Retry-After", "30")
		return writeJSON(w, http.StatusServiceUnavailable, apiError{Error: "provider_unavailable", Message: "the identity provider cannot be reached; try again shortly"})
	default:
		o.logger.Info("bearer token refused", zap.String("client_ip", clientIP(r)), zap.Error(err))
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		return writeJSON(w, http.StatusUnauthorized, apiError{Error: "invalid_token", Message: "the access token is not valid here"})
	}
}

// bearerToken returns the token of an `Authorization: Bearer` header.
func bearerToken(r *http.Request) (string, bool) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// wantsPage reports whether r is a browser navigating to a page (which may
// be redirected to log in) rather than a script or API client (which gets
// 401 and decides itself what to do).
func wantsPage(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	if r.Header.Get("X-Requested-With") != "" || r.Header.Get("Authorization") != "" {
		return false
	}
	if m := r.Header.Get("Sec-Fetch-Mode"); m != "" && m != "navigate" {
		return false
	}
	accept := r.Header.Get("Accept")
	return strings.Contains(accept, "text/html") || !strings.Contains(accept, "json")
}

type apiError struct {
	Error    string `json:"error"`
	Message  string `json:"message"`
	LoginURL string `json:"login_url,omitempty"`
}

func (o *OIDC) unauthenticated(w http.ResponseWriter, r *http.Request) error {
	if !wantsPage(r) {
		if o.Bearer != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="piigate"`)
		}
		return writeJSON(w, http.StatusUnauthorized, apiError{
			Error: "unauthenticated", Message: "sign in required", LoginURL: o.LoginPath,
		})
	}
	return o.startLogin(w, r, r.URL.RequestURI())
}

// startLogin sends the browser to the provider, remembering the flow in a
// cookie of its own (named after the flow, so logins in several tabs do not
// overwrite each other).
func (o *OIDC) startLogin(w http.ResponseWriter, r *http.Request, ret string) error {
	ret, ok := session.SafeReturn(ret)
	if !ok {
		ret = "/"
	}
	f := session.NewFlow(oidcNow(), ret)
	target, err := o.client.AuthCodeURL(r.Context(), f)
	if err != nil {
		o.logger.Warn("login not started: provider unavailable", zap.String("client_ip", clientIP(r)), zap.Error(err))
		w.Header().Set("Retry-After", "30")
		return writePage(w, http.StatusServiceUnavailable, pageUnavailable)
	}
	http.SetCookie(w, o.cookie(o.flowPrefix+f.State[:8], f.Seal(o.codec, o.flowPurpose), int(session.FlowTTL/time.Second)))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, target, http.StatusFound)
	return nil
}

func (o *OIDC) serveLogin(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		return caddyhttp.Error(http.StatusMethodNotAllowed, fmt.Errorf("pii_oidc: %s on login path", r.Method))
	}
	ret := r.URL.Query().Get("return")
	if s, err := o.session(w, r); err != nil {
		return err
	} else if s != nil {
		if ret, ok := session.SafeReturn(ret); ok {
			return redirect(w, r, ret)
		}
		return redirect(w, r, "/")
	}
	return o.startLogin(w, r, ret)
}

func (o *OIDC) serveCallback(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		return caddyhttp.Error(http.StatusMethodNotAllowed, fmt.Errorf("pii_oidc: %s on callback path", r.Method))
	}
	q := r.URL.Query()
	state := q.Get("state")
	log := o.logger.With(zap.String("client_ip", clientIP(r)))
	if len(state) < 8 {
		log.Info("login callback refused: no state")
		return writePage(w, http.StatusBadRequest, pageFlowInvalid)
	}
	name := o.flowPrefix + state[:8]
	c, err := r.Cookie(name)
	if err != nil {
		log.Info("login callback refused: no login flow cookie (replayed, expired or from another browser)")
		return writePage(w, http.StatusBadRequest, pageFlowInvalid)
	}
	// The flow cookie is single-use whatever happens next.
	o.clearCookie(w, name)
	f, err := session.OpenFlow(o.codec, o.flowPurpose, c.Value)
	if err != nil {
		log.Info("login callback refused: flow cookie does not open", zap.Error(err))
		return writePage(w, http.StatusBadRequest, pageFlowInvalid)
	}
	now := oidcNow()
	if err := f.Check(now, state); err != nil {
		log.Info("login callback refused", zap.Error(err))
		return writePage(w, http.StatusBadRequest, pageFlowInvalid)
	}
	if e := q.Get("error"); e != "" {
		log.Info("login refused by the provider", zap.String("error", e), zap.String("error_description", q.Get("error_description")))
		return writePage(w, http.StatusForbidden, pageRefused)
	}
	if !o.rt.used.Use(state, now) {
		log.Warn("login callback refused: replayed", zap.Error(session.ErrFlowAlreadyUsed))
		return writePage(w, http.StatusBadRequest, pageFlowInvalid)
	}
	s, err := o.client.Exchange(r.Context(), f, q.Get("code"))
	switch {
	case errors.Is(err, session.ErrProviderUnavailable):
		log.Warn("login not finished: provider unavailable", zap.Error(err))
		w.Header().Set("Retry-After", "30")
		return writePage(w, http.StatusServiceUnavailable, pageUnavailable)
	case err != nil:
		log.Warn("login failed", zap.Error(err))
		return writePage(w, http.StatusUnauthorized, pageLoginFailed)
	}
	if err := o.setSessionCookie(w, s); err != nil {
		return caddyhttp.Error(http.StatusInternalServerError, err)
	}
	log.Info("agent logged in", zap.String("user_id", s.ID), zap.Strings("roles", s.Roles))
	return redirect(w, r, f.Return)
}

func (o *OIDC) serveLogout(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		return caddyhttp.Error(http.StatusMethodNotAllowed, fmt.Errorf("pii_oidc: %s on logout path", r.Method))
	}
	var hint, user string
	if c, err := r.Cookie(o.cookieName); err == nil {
		if s, err := session.Open(o.codec, o.sessionPurpose, c.Value); err == nil {
			hint, user = s.IDToken, s.ID
		}
	}
	o.clearCookie(w, o.cookieName)
	o.logger.Info("agent logged out", zap.String("user_id", user), zap.String("client_ip", clientIP(r)))
	if target := o.client.EndSessionURL(hint, o.PostLogoutRedirectURL); target != "" {
		return redirect(w, r, target)
	}
	if o.PostLogoutRedirectURL != "" {
		return redirect(w, r, o.PostLogoutRedirectURL)
	}
	return writePage(w, http.StatusOK, pageSignedOut(o.LoginPath))
}

func (o *OIDC) setSessionCookie(w http.ResponseWriter, s *session.Session) error {
	v, err := s.Seal(o.codec, o.sessionPurpose)
	if err != nil {
		return err
	}
	// The browser may drop the cookie at the absolute expiry; the idle
	// timeout is enforced here, from the Seen time inside it.
	maxAge := int(s.Expires(o.policy).Sub(oidcNow()) / time.Second)
	http.SetCookie(w, o.cookie(o.cookieName, v, max(maxAge, 1)))
	return nil
}

func (o *OIDC) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   !o.InsecureCookie,
		SameSite: http.SameSiteLaxMode,
	}
}

func (o *OIDC) clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, o.cookie(name, "", -1))
}

func redirect(w http.ResponseWriter, r *http.Request, target string) error {
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return caddyhttp.Error(http.StatusInternalServerError, err)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, err = w.Write(b)
	return err
}

func clientIP(r *http.Request) string {
	ip, _ := caddyhttp.GetVar(r.Context(), caddyhttp.ClientIPVarKey).(string)
	return ip
}

// Interface guards
var (
	_ caddy.Provisioner           = (*OIDC)(nil)
	_ caddy.Validator             = (*OIDC)(nil)
	_ caddyhttp.MiddlewareHandler = (*OIDC)(nil)
)
