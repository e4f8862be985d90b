package caddymodule

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	_ "github.com/caddyserver/caddy/v2/modules/standard"
)

var updateOIDCGolden = flag.Bool("update-oidc-golden", false, "rewrite testdata/oidc_*.caddyfiletest with the current adapter output")

// TestOIDCCaddyfileAdapt adapts the Caddyfile in each golden file and
// compares the JSON with the expected half: the directive's syntax, its
// JSON shape and its place in the handler order (before encode, whatever
// the order written) are all pinned here.
func TestOIDCCaddyfileAdapt(t *testing.T) {
	for _, name := range []string{"testdata/oidc_adapt.caddyfiletest"} {
		raw, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		input, want, ok := strings.Cut(string(raw), "----------\n")
		if !ok {
			t.Fatalf("%s: no ---------- separator", name)
		}
		out, warnings, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(input), nil)
		if err != nil {
			t.Fatalf("%s: adapt: %v", name, err)
		}
		for _, w := range warnings {
			t.Errorf("%s:%d: warning: %s", name, w.Line, w.Message)
		}
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, out, "", "\t"); err != nil {
			t.Fatal(err)
		}
		got := pretty.String() + "\n"
		if *updateOIDCGolden {
			if err := os.WriteFile(name, []byte(input+"----------\n"+got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if got != want {
			t.Errorf("%s: adapted JSON differs (run go test -run TestOIDCCaddyfileAdapt -update-oidc-golden to accept):\n%s", name, got)
		}
	}
}

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
