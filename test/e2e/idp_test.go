package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/piigate/piigate/test/idp"
)

// users are the provider's accounts. Their groups are what the gateways'
// role tables map (Caddyfile.example's and gatewayConfig's); dave's map to
// no role.
var users = map[string]idp.User{
	"alice": {Password: "alice-pw", Name: "Alice Online", Email: "alice@cs.example", Groups: []string{"cs-online"}},
	"bob":   {Password: "bob-pw", Name: "Bob Supervisor", Email: "bob@cs.example", Groups: []string{"cs-supervisor", "staff"}},
	"carol": {Password: "carol-pw", Name: "Carol Phone", Email: "carol@cs.example", Groups: []string{"cs-phone"}},
	"dave":  {Password: "dave-pw", Name: "Dave Contractor", Email: "dave@cs.example", Groups: []string{"contractors"}},
}

// hydra is a running Ory Hydra with its login/consent app.
type hydra struct {
	*idp.Provider
}

// startHydra runs the provider for the test; its log goes to the test log
// when the test fails.
func startHydra(t *testing.T) *hydra {
	t.Helper()
	out := new(syncBuffer)
	p, err := idp.Start(idp.Options{Binary: hydraBin, Users: users, Output: out})
	if err != nil {
		t.Fatalf("%v\n--- hydra output (last 60 lines) ---\n%s", err, tail(out.String(), 60))
	}
	t.Cleanup(func() {
		p.Close()
		if t.Failed() {
			t.Logf("--- hydra output (last 60 lines) ---\n%s", tail(out.String(), 60))
		}
	})
	return &hydra{p}
}

// stop kills Hydra: from then on the provider is unreachable.
func (h *hydra) stop() { h.Close() }

// gatewayClient registers the gateway as a confidential client allowed to
// return to each of the given gateway origins.
func (h *hydra) gatewayClient(t *testing.T, origins ...string) idp.Client {
	t.Helper()
	c, err := h.GatewayClient(origins...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// apiClient registers a machine client that gets JWT access tokens for
// the helpdesk API with client credentials.
func (h *hydra) apiClient(t *testing.T, scope string) idp.Client {
	t.Helper()
	c, err := h.RegisterClient(map[string]any{
		"client_name":                "helpdesk-batch",
		"grant_types":                []string{"client_credentials"},
		"scope":                      scope,
		"audience":                   []string{"helpdesk-api"},
		"token_endpoint_auth_method": "client_secret_basic",
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// clientCredentials gets an access token for c.
func (h *hydra) clientCredentials(t *testing.T, c idp.Client, scope, audience string) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {scope}, "audience": {audience}}
	req, _ := http.NewRequest("POST", h.PublicURL+"/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(c.ID), url.QueryEscape(c.Secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &tok); err != nil || resp.StatusCode != http.StatusOK || tok.AccessToken == "" {
		t.Fatalf("client credentials: %s: %s", resp.Status, b)
	}
	return tok.AccessToken
}
