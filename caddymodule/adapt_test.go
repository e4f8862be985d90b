package caddymodule

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/*.caddyfiletest with the current adapter output")

// TestCaddyfileAdapt adapts each golden Caddyfile (the example among
// them) and compares the JSON: the directives' syntax, their JSON shape and
// the order the plugin gives pii_oidc and pii_mask (pii_oidc after
// forward_auth, pii_mask after encode, both before reverse_proxy, whatever
// order the Caddyfile uses) are pinned here.
func TestCaddyfileAdapt(t *testing.T) {
	names, err := filepath.Glob("testdata/*.caddyfiletest")
	if err != nil || len(names) < 3 {
		t.Fatalf("golden files: %v %v", names, err)
	}
	for _, name := range names {
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
		if *updateGolden {
			if err := os.WriteFile(name, []byte(input+"----------\n"+got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if got != want {
			t.Errorf("%s: adapted JSON differs (go test -run TestCaddyfileAdapt -update-golden to accept):\n%s", name, got)
		}
	}
}

// TestPIICaddyfileErrors: invalid configuration fails `caddy adapt` with
// the line and the problem.
func TestPIICaddyfileErrors(t *testing.T) {
	for _, c := range []struct{ in, line, want string }{
		{"{\n pii {\n  role a {\n   cn_mobil mask\n  }\n }\n}\n:80\n", `Caddyfile:4`, `role a: unknown entity type "cn_mobil"`},
		{"{\n pii {\n  role a {\n   cn_mobile show\n  }\n }\n}\n:80\n", `Caddyfile:4`, `role a: cn_mobile: unknown action "show"`},
		{"{\n pii {\n  role a {\n   cn_mobile\n  }\n }\n}\n:80\n", `Caddyfile:4`, `role a: cn_mobile: missing action`},
		{"{\n pii {\n  unknown_role maybe\n }\n}\n:80\n", `Caddyfile:3`, `unknown_role "maybe"`},
		{"{\n pii {\n  mask cn_mobile 3\n }\n}\n:80\n", `Caddyfile:3`, `mask: want <entity_type> <keep_first> <keep_last>`},
		{"{\n pii {\n  custom emp (\n }\n}\n:80\n", `Caddyfile:3`, `custom custom:emp: custom detector for custom:emp: pattern`},
		{"{\n pii {\n  role a {\n   custom:nope mask\n  }\n }\n}\n:80\n", `Caddyfile:4`, `entity type "custom:nope" is not defined`},
		{"{\n pii {\n  role a {\n   * hash\n  }\n }\n}\n:80\n", `Caddyfile:4`, `role a: * hash needs hash_key`},
		{"{\n pii {\n  colour blue\n }\n}\n:80\n", `Caddyfile:3`, `pii: unknown subdirective "colour"`},
		{":80 {\n pii_mask {\n  field data.#.mobile phone\n }\n}\n", `Caddyfile:3`, `field "data.#.mobile": unknown entity type "phone"`},
		{":80 {\n pii_mask {\n  field data.#(age>1).x cn_mobile\n }\n}\n", `Caddyfile:3`, `field "data.#(age>1).x"`},
		{":80 {\n pii_mask {\n  field data.# cn_mobile\n }\n}\n", `Caddyfile:3`, `path ends in '#'`},
		{":80 {\n pii_mask {\n  scan everything\n }\n}\n", `Caddyfile:3`, `scan: unknown scan mode "everything"`},
		{":80 {\n pii_mask {\n  max_body lots\n }\n}\n", `Caddyfile:3`, `max_body "lots"`},
		{":80 {\n pii_mask {\n  role a {\n   email peek\n  }\n }\n}\n", `Caddyfile:4`, `role a: email: unknown action "peek"`},
		{":80 {\n pii_mask {\n  mask_everything\n }\n}\n", `Caddyfile:3`, `pii_mask: unknown subdirective "mask_everything"`},
		{":80 {\n pii_mask {\n  data_formats maybe\n }\n}\n", `Caddyfile:3`, `data_formats "maybe": want refuse or scan`},
	} {
		_, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(c.in), nil)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.line) {
			t.Errorf("adapting\n%s\ngot error %v\nwant one containing %q and %q", c.in, err, c.want, c.line)
		}
	}
}
