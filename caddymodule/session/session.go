// Package session is the engine behind piigate's pii_oidc handler: OpenID
// Connect login (authorization code with PKCE, state and nonce), ID and
// access token verification, stateless encrypted session cookies, and the
// mapping of provider claims to gateway roles. It does not import Caddy; the
// handler in package caddymodule is glue around it.
package session

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"golang.org/x/oauth2"
)

// Session is what the session cookie carries (encrypted and authenticated,
// never readable by the browser). Times are Unix seconds to keep the cookie
// small.
type Session struct {
	Identity
	// Login is when the agent logged in; the absolute lifetime counts from it.
	Login int64
	// Seen is when the session was last used (to a granularity of the
	// touch interval); the idle timeout counts from it.
	Seen int64
	// TokenExpiry is when the provider's tokens expire; the gateway
	// refreshes at or after it when it holds a refresh token.
	TokenExpiry int64
	// RefreshToken renews the provider's tokens (and re-reads roles).
	RefreshToken string
	// IDToken is the last ID token, kept as id_token_hint for logout at the
	// provider. Dropped when the cookie would grow too large.
	IDToken string
}

// Policy bounds how long a session lives.
type Policy struct {
	// Lifetime is the absolute lifetime from login; no refresh extends it.
	Lifetime time.Duration
	// IdleTimeout ends a session not used for this long.
	IdleTimeout time.Duration
}

// Errors from Session.Check.
var (
	ErrSessionExpired = errors.New("session: absolute lifetime is over")
	ErrSessionIdle    = errors.New("session: idle timeout passed")
	ErrSessionFuture  = errors.New("session: issued in the future")
)

// clockSkew is how far clocks of the gateway replicas and the provider may
// disagree.
const clockSkew = time.Minute

// Check reports whether s is still valid at now under p.
func (s *Session) Check(now time.Time, p Policy) error {
	t := now.Unix()
	switch {
	case s.Login > t+int64(clockSkew/time.Second):
		return ErrSessionFuture
	case t >= s.Login+int64(p.Lifetime/time.Second):
		return ErrSessionExpired
	case p.IdleTimeout > 0 && t >= s.Seen+int64(p.IdleTimeout/time.Second):
		return ErrSessionIdle
	}
	return nil
}

// Expires returns when s ends at the latest (its absolute lifetime).
func (s *Session) Expires(p Policy) time.Time {
	return time.Unix(s.Login, 0).Add(p.Lifetime)
}

// NeedsTouch reports whether Seen is old enough that the cookie should be
// reissued to keep the idle timeout from running out. Reissuing on every
// request would cost an encryption and a Set-Cookie each time; a tenth of
// the idle timeout is precise enough.
func (s *Session) NeedsTouch(now time.Time, p Policy) bool {
	return p.IdleTimeout > 0 && now.Unix()-s.Seen >= int64(p.IdleTimeout/10/time.Second)
}

// NeedsRefresh reports whether the provider's tokens have expired and a
// refresh token is there to renew them.
func (s *Session) NeedsRefresh(now time.Time) bool {
	return s.RefreshToken != "" && s.TokenExpiry != 0 && now.Unix() >= s.TokenExpiry
}

// maxCookie keeps a session cookie, name and attributes included, under
// the 4096 bytes every browser accepts.
const maxCookie = 3900

// Seal encrypts s for a cookie. When the ID token makes it too large, the
// token is dropped (logout then goes to the provider without a hint); if it
// is still too large, Seal fails rather than have the browser silently
// drop the cookie.
func (s *Session) Seal(c *Codec, purpose string) (string, error) {
	v := c.Seal(purpose, s.marshal())
	if len(v) > maxCookie && s.IDToken != "" {
		lean := *s
		lean.IDToken = ""
		return lean.Seal(c, purpose)
	}
	if len(v) > maxCookie {
		return "", fmt.Errorf("session: cookie for %q would be %d bytes, more than browsers keep; fewer roles or a shorter refresh token are needed", s.ID, len(v))
	}
	return v, nil
}

// Open decrypts a cookie value made by Seal.
func Open(c *Codec, purpose, value string) (*Session, error) {
	b, err := c.Open(purpose, value)
	if err != nil {
		return nil, err
	}
	s := new(Session)
	if err := s.unmarshal(b); err != nil {
		return nil, fmt.Errorf("session: decoding: %w", err)
	}
	return s, nil
}

// sessionFormat starts the plaintext of a session cookie. The encoding is
// a plain length-prefixed one rather than JSON because it is decoded on
// every request and JSON was most of the per-request cost; it is only ever
// read after authenticated decryption.
const sessionFormat = 1

func (s *Session) marshal() []byte {
	b := make([]byte, 0, 64+len(s.ID)+len(s.Name)+len(s.Email)+len(s.RefreshToken)+len(s.IDToken))
	b = append(b, sessionFormat)
	b = binary.AppendVarint(b, s.Login)
	b = binary.AppendVarint(b, s.Seen)
	b = binary.AppendVarint(b, s.TokenExpiry)
	for _, f := range []string{s.ID, s.Name, s.Email, s.RefreshToken, s.IDToken} {
		b = appendString(b, f)
	}
	b = binary.AppendUvarint(b, uint64(len(s.Roles)))
	for _, r := range s.Roles {
		b = appendString(b, r)
	}
	return b
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

var errTruncated = errors.New("truncated or malformed session")

func (s *Session) unmarshal(b []byte) error {
	if len(b) == 0 || b[0] != sessionFormat {
		return errTruncated
	}
	d := decoder{b: b[1:]}
	s.Login, s.Seen, s.TokenExpiry = d.varint(), d.varint(), d.varint()
	for _, f := range []*string{&s.ID, &s.Name, &s.Email, &s.RefreshToken, &s.IDToken} {
		*f = d.string()
	}
	if n := d.uvarint(); n > 0 && n <= uint64(len(d.b)) {
		s.Roles = make([]string, n)
		for i := range s.Roles {
			s.Roles[i] = d.string()
		}
	} else if n != 0 {
		d.bad = true
	}
	if d.bad || len(d.b) != 0 {
		return errTruncated
	}
	return nil
}

type decoder struct {
	b   []byte
	bad bool
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.bad, d.b = true, nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.bad, d.b = true, nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) string() string {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.bad, d.b = true, nil
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

// Flow is one login attempt in progress, carried in a short-lived encrypted
// cookie between the redirect to the provider and the callback, so any
// replica sharing the key can finish it.
type Flow struct {
	// State ties the callback to this browser (login CSRF protection).
	State string
	// Nonce ties the ID token to this flow (token replay protection).
	Nonce string
	// Verifier is the PKCE code verifier (RFC 7636, S256).
	Verifier string
	// Return is the same-origin path to send the agent to afterwards.
	Return string
	// Created is when the flow started, in Unix seconds.
	Created int64
}

// FlowTTL is how long an agent has to finish logging in at the provider.
const FlowTTL = 10 * time.Minute

// NewFlow starts a login flow that returns to ret, which must already be a
// SafeReturn path.
func NewFlow(now time.Time, ret string) *Flow {
	return &Flow{
		State:    randomString(),
		Nonce:    randomString(),
		Verifier: oauth2.GenerateVerifier(),
		Return:   ret,
		Created:  now.Unix(),
	}
}

// Errors from Flow.Check.
var (
	ErrFlowExpired     = errors.New("session: login flow expired")
	ErrStateMismatch   = errors.New("session: state does not match the login flow")
	ErrFlowAlreadyUsed = errors.New("session: login flow was already used")
)

// Check reports whether the callback's state belongs to f and f is recent.
func (f *Flow) Check(now time.Time, state string) error {
	if subtle.ConstantTimeCompare([]byte(f.State), []byte(state)) != 1 {
		return ErrStateMismatch
	}
	if age := now.Unix() - f.Created; age < -int64(clockSkew/time.Second) || age > int64(FlowTTL/time.Second) {
		return ErrFlowExpired
	}
	return nil
}

// Seal encrypts f for its cookie.
func (f *Flow) Seal(c *Codec, purpose string) string {
	b, _ := json.Marshal(f) // a struct of strings and an int always encodes
	return c.Seal(purpose, b)
}

// OpenFlow decrypts a flow cookie made by Flow.Seal.
func OpenFlow(c *Codec, purpose, value string) (*Flow, error) {
	b, err := c.Open(purpose, value)
	if err != nil {
		return nil, err
	}
	f := new(Flow)
	if err := json.Unmarshal(b, f); err != nil {
		return nil, fmt.Errorf("session: decoding login flow: %w", err)
	}
	return f, nil
}

func randomString() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails since Go 1.24
	return base64.RawURLEncoding.EncodeToString(b)
}
