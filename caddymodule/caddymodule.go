// Package caddymodule integrates piigate with Caddy: the pii app (global
// option), the pii_mask and pii_oidc handlers, their Caddyfile adapters and
// the `caddy pii …` commands. The engines it drives live in sub-packages that
// do not import Caddy.
package caddymodule
