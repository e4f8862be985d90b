package caddymodule

import (
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	_ "github.com/caddyserver/caddy/v2/modules/standard"
)

func TestOIDCCaddyfileErrors(t *testing.T) {
	for name, in := range map[string]string{
		"argument on the directive": "pii_oidc extra",
		"unknown subdirective":      "pii_oidc {\n issuer_url https://x\n}",
		"role without from":         "pii_oidc {\n role supervisor cs-sup\n}",
		"role without values":       "pii_oidc {\n role supervisor from\n}",
		"unknown identity field":    "pii_oidc {\n identity_header phone X-Phone\n}",
		"bad duration":              "pii_oidc {\n session_lifetime forever\n}",
		"two issuers on one line":   "pii_oidc {\n issuer https://a https://b\n}",
		"unknown bearer field":      "pii_oidc {\n bearer {\n  aud x\n }\n}",
		"insecure_cookie argument":  "pii_oidc {\n insecure_cookie yes\n}",
	} {
		if err := new(OIDC).UnmarshalCaddyfile(caddyfile.NewTestDispenser(in)); err == nil {
			t.Errorf("%s: accepted %q", name, in)
		}
	}
}
