package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	_ "github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"

	"github.com/piigate/piigate/detectors/detectorstest"
)

// exampleFile is the repository's Caddyfile.example.
var exampleFile = filepath.Join("..", "..", "Caddyfile.example")

// adaptExample adapts Caddyfile.example as `caddy adapt` does (nothing is
// provisioned, nothing reaches the network) and fails on any warning,
// unformatted input included.
func adaptExample(t *testing.T) map[string]any {
	t.Helper()
	src, err := os.ReadFile(exampleFile)
	if err != nil {
		t.Fatal(err)
	}
	out, warnings, err := caddyconfig.GetAdapter("caddyfile").Adapt(src, map[string]any{"filename": exampleFile})
	if err != nil {
		t.Fatalf("caddy adapt Caddyfile.example: %v", err)
	}
	for _, w := range warnings {
		t.Errorf("caddy adapt Caddyfile.example: warning: %s", w)
	}
	var cfg map[string]any
	if err := json.Unmarshal(out, &cfg); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// handlers returns every handler object in cfg, subroutes included, by
// handler name.
func handlers(v any, found map[string][]map[string]any) map[string][]map[string]any {
	switch v := v.(type) {
	case map[string]any:
		if name, ok := v["handler"].(string); ok {
			found[name] = append(found[name], v)
		}
		for _, x := range v {
			handlers(x, found)
		}
	case []any:
		for _, x := range v {
			handlers(x, found)
		}
	}
	return found
}

func TestCaddyfileExampleAdapts(t *testing.T) {
	cfg := adaptExample(t)
	srv := cfg["apps"].(map[string]any)["http"].(map[string]any)["servers"].(map[string]any)["srv0"].(map[string]any)
	if got := srv["listen"]; len(got.([]any)) != 1 || got.([]any)[0] != ":443" {
		t.Errorf("production listeners %v, want [:443]", got)
	}
	hs := handlers(cfg, map[string][]map[string]any{})
	for _, name := range []string{"pii_oidc", "pii_mask", "encode", "reverse_proxy"} {
		if len(hs[name]) != 1 {
			t.Errorf("%d %s handlers, want 1", len(hs[name]), name)
		}
	}
	// The response's security headers, and the routing headers some
	// frameworks obey instead of the path (around pii_mask /api/*)
	// removed from requests.
	deleted := map[string]bool{}
	for _, h := range hs["headers"] {
		if req, ok := h["request"].(map[string]any); ok {
			for _, d := range req["delete"].([]any) {
				deleted[d.(string)] = true
			}
		}
	}
	if len(hs["headers"]) != 3 || !deleted["X-Original-URL"] || !deleted["X-Rewrite-URL"] {
		t.Errorf("headers handlers %v, want the response's and two removing X-Original-URL and X-Rewrite-URL", hs["headers"])
	}
	if len(hs["static_response"]) != 1 || hs["static_response"][0]["status_code"] != float64(400) {
		t.Errorf("static_response %v, want one answering paths with ';' 400", hs["static_response"])
	}
	if t.Failed() {
		return
	}
	oidc := hs["pii_oidc"][0]
	if oidc["issuer"] != "https://sso.example.com/realms/customer-service" ||
		oidc["redirect_url"] != "https://helpdesk.example.com/oauth2/callback" ||
		oidc["client_secret"] != "{env.OIDC_CLIENT_SECRET}" {
		t.Errorf("pii_oidc: %v", oidc)
	}
	if m := hs["pii_mask"][0]; m["scan"] != "all" || len(m["fields"].([]any)) != 18 {
		t.Errorf("pii_mask: %v", m)
	}
	// Searches carry phone and ID numbers: the access log must not.
	var logs struct {
		Logs map[string]struct {
			Encoder struct {
				Fields map[string]struct {
					Filter  string `json:"filter"`
					Actions []struct {
						Parameter, Type string
					} `json:"actions"`
				} `json:"fields"`
			} `json:"encoder"`
		} `json:"logs"`
	}
	b, _ := json.Marshal(cfg["logging"])
	if err := json.Unmarshal(b, &logs); err != nil {
		t.Fatal(err)
	}
	uri := logs.Logs["log0"].Encoder.Fields["request>uri"]
	if uri.Filter != "query" || len(uri.Actions) != 1 || uri.Actions[0].Parameter != "q" || uri.Actions[0].Type != "delete" {
		t.Errorf("the access log keeps the search query: %s", b)
	}
	pii := cfg["apps"].(map[string]any)["pii"].(map[string]any)
	roles := pii["roles"].(map[string]any)
	for _, r := range []string{"online_agent", "phone_agent", "supervisor"} {
		if roles[r] == nil {
			t.Errorf("the pii app lacks role %s", r)
		}
	}
	if pii["unknown_role"] != "deny" || pii["hash_key"] != "{env.PII_HASH_KEY}" {
		t.Errorf("pii app: %v", pii)
	}
}

// TestCaddyfileExampleDeploymentFromEnvironment: the parse-time variables
// move the gateway (the local demo and the end-to-end tests run the file
// this way).
func TestCaddyfileExampleDeploymentFromEnvironment(t *testing.T) {
	t.Setenv("HELPDESK_ORIGIN", "http://127.0.0.1:8080")
	t.Setenv("GATEWAY_BIND", "127.0.0.1")
	t.Setenv("OIDC_ISSUER", "http://127.0.0.1:4444/")
	t.Setenv("OIDC_CLIENT_ID", "demo-client")
	t.Setenv("HELPDESK_UPSTREAM", "127.0.0.1:9100")
	cfg := adaptExample(t)
	srv := cfg["apps"].(map[string]any)["http"].(map[string]any)["servers"].(map[string]any)["srv0"].(map[string]any)
	if got := srv["listen"].([]any); len(got) != 1 || got[0] != "127.0.0.1:8080" {
		t.Errorf("listeners %v, want [127.0.0.1:8080]", got)
	}
	hs := handlers(cfg, map[string][]map[string]any{})
	oidc := hs["pii_oidc"][0]
	if oidc["issuer"] != "http://127.0.0.1:4444/" || oidc["client_id"] != "demo-client" ||
		oidc["redirect_url"] != "http://127.0.0.1:8080/oauth2/callback" ||
		oidc["post_logout_redirect_url"] != "http://127.0.0.1:8080/" {
		t.Errorf("pii_oidc: %v", oidc)
	}
	up := hs["reverse_proxy"][0]["upstreams"].([]any)[0].(map[string]any)
	if up["dial"] != "127.0.0.1:9100" {
		t.Errorf("upstream %v", up)
	}
}

// scanExample runs `caddy pii scan --config Caddyfile.example` in process:
// what an agent with role gets for body on path.
func scanExample(t *testing.T, role, path string, body []byte) (string, error) {
	t.Helper()
	t.Setenv("PII_HASH_KEY", "aGFzaC1rZXktb2YtdGhlLWV4YW1wbGUtdGVzdHMtMDA=")
	cmd := &cobra.Command{Use: "pii", SilenceUsage: true, SilenceErrors: true}
	caddycmd.Commands()["pii"].CobraFunc(cmd)
	var out, stderr bytes.Buffer
	cmd.SetArgs([]string{"scan", "--config", exampleFile, "--role", role, "--path", path})
	cmd.SetIn(bytes.NewReader(body))
	cmd.SetOut(&out)
	cmd.SetErr(&stderr)
	err := cmd.Execute()
	return out.String(), err
}

// mask is the default mask: keep first and last, stars between.
func mask(s string, first, last int) string {
	r := []rune(s)
	return string(r[:first]) + strings.Repeat("*", len(r)-first-last) + string(r[len(r)-last:])
}

// TestCaddyfileExamplePolicy dry-runs the example's rules on the
// helpdesk's JSON: each role sees what its job needs, in the form the
// comments promise, in a single record and in a list.
func TestCaddyfileExamplePolicy(t *testing.T) {
	customers := detectorstest.Customers(1, 3)
	c := customers[0]
	one, _ := json.Marshal(map[string]any{"code": 0, "message": "ok", "data": c})
	list, _ := json.Marshal(map[string]any{"code": 0, "message": "ok", "data": customers, "page": 1, "pageSize": 20, "total": 3})

	type want struct {
		name, mobile, phone, idCard, bankCard, email, address, birthday string
	}
	maskedName := mask(c.Name, 1, 0)
	maskedCard := mask(c.BankCard, 6, 4)
	for role, w := range map[string]want{
		"online_agent": {maskedName, mask(c.Mobile, 3, 4), "", mask(c.IDCard, 6, 4), "<dropped>", "", "[address]", "[birth_date]"},
		"phone_agent":  {c.Name, c.Mobile, c.Phone, mask(c.IDCard, 6, 4), maskedCard, "", "", c.Birthday},
		"supervisor":   {c.Name, c.Mobile, c.Phone, c.IDCard, maskedCard, c.Email, c.Address, c.Birthday},
	} {
		for name, body := range map[string][]byte{"record": one, "list": list} {
			out, err := scanExample(t, role, "/api/customers/10001", body)
			if err != nil {
				t.Fatalf("%s, %s: %v", role, name, err)
			}
			var got map[string]any
			var v struct {
				Data json.RawMessage `json:"data"`
			}
			if err := json.Unmarshal([]byte(out), &v); err != nil {
				t.Fatalf("%s, %s: output is not JSON: %v\n%s", role, name, err, out)
			}
			if name == "list" {
				var all []map[string]any
				if err := json.Unmarshal(v.Data, &all); err != nil || len(all) != 3 {
					t.Fatalf("%s: list output %s", role, out)
				}
				got = all[0]
			} else if err := json.Unmarshal(v.Data, &got); err != nil {
				t.Fatal(err)
			}
			check := func(field, want string) {
				switch v, ok := got[field]; {
				case want == "<dropped>" && ok:
					t.Errorf("%s, %s: %s = %v, want it dropped", role, name, field, v)
				case want == "" || want == "<dropped>":
				case v != want:
					t.Errorf("%s, %s: %s = %v, want %q", role, name, field, v, want)
				}
			}
			check("name", w.name)
			check("mobile", w.mobile)
			check("phone", w.phone)
			check("idCard", w.idCard)
			check("bankCard", w.bankCard)
			check("email", w.email)
			check("address", w.address)
			check("birthday", w.birthday)
			if role != "supervisor" {
				for _, sp := range c.NoteSpans {
					if v := c.Note[sp.Start:sp.End]; strings.Contains(out, v) {
						t.Errorf("%s, %s: the note's %s %q survived", role, name, sp.Type, v)
					}
				}
			}
		}
	}
	// The same record as JSONP: sniffed, and its argument read as JSON.
	out, err := scanExample(t, "online_agent", "/api/customers/10001", []byte("cb("+string(one)+");"))
	if err != nil || !strings.HasPrefix(out, "cb({") || !strings.HasSuffix(out, "});") ||
		strings.Contains(out, c.Name) || !strings.Contains(out, maskedName) {
		t.Errorf("JSONP: %v\n%s", err, out)
	}
	if _, err := scanExample(t, "contractor", "/api/customers/10001", one); err == nil || !strings.Contains(err.Error(), "unknown_role deny") {
		t.Errorf("an agent without a known role: %v, want the policy to deny", err)
	}
}
