package session

import (
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/chacha20poly1305"
)

// KeySize is the length of a session key in bytes (XChaCha20-Poly1305).
const KeySize = chacha20poly1305.KeySize

// codecVersion is the first byte of every sealed value, so the format can
// change later without old cookies being misread.
const codecVersion = 1

const keyIDSize = 4

// ErrInvalidCookie is returned by Codec.Open for any value that does not
// decrypt: tampered, truncated, sealed under a key that is not configured
// (any more), or sealed for another purpose. The causes are not told apart
// on purpose: a client learns nothing from the answer.
var ErrInvalidCookie = errors.New("session: cookie does not decrypt under any configured key")

// Codec seals and opens cookie values with XChaCha20-Poly1305 under a list of
// keys: the first key seals, every key opens. That makes rotation a
// two-step configuration change (prepend a new key; drop the old one after
// the longest session lifetime has passed) with no coordination between
// replicas beyond sharing the list.
type Codec struct {
	keys []codecKey
}

type codecKey struct {
	id   [keyIDSize]byte
	aead cipher.AEAD
}

// ParseKey decodes a session key given as standard or URL-safe base64, with
// or without padding, surrounding white space ignored (as read from a file
// or environment variable). It must decode to exactly KeySize bytes.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("empty key")
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil {
			if len(k) != KeySize {
				return nil, fmt.Errorf("key decodes to %d bytes, want %d (generate one with: head -c 32 /dev/urandom | base64)", len(k), KeySize)
			}
			return k, nil
		}
	}
	return nil, errors.New("key is not base64 (generate one with: head -c 32 /dev/urandom | base64)")
}

// NewCodec returns a Codec over keys, the first of which seals. Keys must be
// KeySize bytes and distinct.
func NewCodec(keys [][]byte) (*Codec, error) {
	if len(keys) == 0 {
		return nil, errors.New("session: at least one key is required")
	}
	c := &Codec{keys: make([]codecKey, 0, len(keys))}
	for i, k := range keys {
		aead, err := chacha20poly1305.NewX(k)
		if err != nil {
			return nil, fmt.Errorf("session: key %d: %w", i+1, err)
		}
		ck := codecKey{aead: aead}
		// The key id lets Open pick the key directly instead of trying
		// each one; a truncated hash under a fixed label reveals nothing
		// usable about the key.
		h := sha256.Sum256(append([]byte("piigate session key id\x00"), k...))
		copy(ck.id[:], h[:keyIDSize])
		for j, prev := range c.keys {
			if prev.id == ck.id {
				return nil, fmt.Errorf("session: key %d repeats key %d", i+1, j+1)
			}
		}
		c.keys = append(c.keys, ck)
	}
	return c, nil
}

// Seal encrypts plaintext under the first key, binding it to purpose (as
// additional data) so a value sealed for one purpose — a login flow, say —
// cannot be replayed as another — a session. The result is URL-safe base64,
// ready for a cookie.
func (c *Codec) Seal(purpose string, plaintext []byte) string {
	k := c.keys[0]
	n := 1 + keyIDSize + chacha20poly1305.NonceSizeX
	buf := make([]byte, n, n+len(plaintext)+chacha20poly1305.Overhead)
	buf[0] = codecVersion
	copy(buf[1:], k.id[:])
	// crypto/rand.Read never fails (Go 1.24+): it crashes the program rather
	// than return a predictable nonce.
	_, _ = rand.Read(buf[1+keyIDSize : n])
	buf = k.aead.Seal(buf, buf[1+keyIDSize:n], plaintext, []byte(purpose))
	return base64.RawURLEncoding.EncodeToString(buf)
}

// Open decrypts a value made by Seal with any configured key for the same
// purpose. Every failure is ErrInvalidCookie.
func (c *Codec) Open(purpose, value string) ([]byte, error) {
	raw, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil || len(raw) < 1+keyIDSize+chacha20poly1305.NonceSizeX+chacha20poly1305.Overhead || raw[0] != codecVersion {
		return nil, ErrInvalidCookie
	}
	var id [keyIDSize]byte
	copy(id[:], raw[1:])
	for _, k := range c.keys {
		if k.id != id {
			continue
		}
		nonce := raw[1+keyIDSize : 1+keyIDSize+chacha20poly1305.NonceSizeX]
		ct := raw[1+keyIDSize+chacha20poly1305.NonceSizeX:]
		// Decrypt in place: raw is ours, and this path runs on every request.
		pt, err := k.aead.Open(ct[:0], nonce, ct, []byte(purpose))
		if err != nil {
			return nil, ErrInvalidCookie
		}
		return pt, nil
	}
	return nil, ErrInvalidCookie
}
