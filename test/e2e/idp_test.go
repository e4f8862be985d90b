package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// testUser is an agent account at the test provider.
type testUser struct {
	Password string
	Name     string
	Email    string
	Groups   []string
}

// users are the provider's accounts. Their groups are what the gateway's
// role table maps.
var users = map[string]testUser{
	"alice": {Password: "alice-pw", Name: "Alice Online", Email: "alice@cs.example", Groups: []string{"cs-online"}},
	"bob":   {Password: "bob-pw", Name: "Bob Supervisor", Email: "bob@cs.example", Groups: []string{"cs-supervisor", "staff"}},
	"carol": {Password: "carol-pw", Name: "Carol Contractor", Email: "carol@cs.example", Groups: []string{"contractors"}},
}

// hydra is a running Ory Hydra with its login/consent app.
type hydra struct {
	Issuer    string // as its discovery document states it
	PublicURL string
	AdminURL  string
	proc      *process
}

// stop kills Hydra: from then on the provider is unreachable.
func (h *hydra) stop() {
	_ = h.proc.cmd.Process.Kill()
	_ = h.proc.cmd.Wait()
}

// oauthClient is a client registered at Hydra.
type oauthClient struct {
	ID, Secret string
}

// startHydra runs Hydra (in-memory database, JWT access tokens) and the
// login/consent app it sends browsers to.
func startHydra(t *testing.T) *hydra {
	t.Helper()
	pub, adm := freePort(t), freePort(t)
	h := &hydra{PublicURL: fmt.Sprintf("http://127.0.0.1:%d", pub), AdminURL: fmt.Sprintf("http://127.0.0.1:%d", adm)}
	app := httptest.NewServer(h.loginApp(t))
	t.Cleanup(app.Close)
	h.proc = start(t, "hydra", []string{
		"DSN=memory",
		"SQA_OPT_OUT=true",
		"LOG_LEVEL=warn",
		"SERVE_PUBLIC_HOST=127.0.0.1", "SERVE_PUBLIC_PORT=" + strconv.Itoa(pub),
		"SERVE_ADMIN_HOST=127.0.0.1", "SERVE_ADMIN_PORT=" + strconv.Itoa(adm),
		"URLS_SELF_ISSUER=" + h.PublicURL + "/",
		"URLS_LOGIN=" + app.URL + "/login",
		"URLS_CONSENT=" + app.URL + "/consent",
		"URLS_LOGOUT=" + app.URL + "/logout",
		"SECRETS_SYSTEM=piigate-e2e-system-secret-0123456789",
		"STRATEGIES_ACCESS_TOKEN=jwt",
		"TTL_ACCESS_TOKEN=1h",
	}, hydraBin, "serve", "all", "--dev", "--sqa-opt-out")
	waitHTTP(t, h.AdminURL+"/health/ready", http.StatusOK)
	var disc struct {
		Issuer string `json:"issuer"`
	}
	h.call(t, "GET", h.PublicURL+"/.well-known/openid-configuration", nil, &disc)
	h.Issuer = disc.Issuer
	return h
}

// call makes a JSON request to Hydra and decodes the answer into out.
func (h *hydra) call(t *testing.T, method, u string, in, out any) {
	t.Helper()
	if err := h.try(method, u, in, out); err != nil {
		t.Fatal(err)
	}
}

func (h *hydra) try(method, u string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("hydra %s %s: %s: %s", method, u, resp.Status, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// gatewayClient registers the gateway as a confidential client allowed to
// return to each of the given gateway origins.
func (h *hydra) gatewayClient(t *testing.T, origins ...string) oauthClient {
	t.Helper()
	var redirects, postLogout []string
	for _, o := range origins {
		redirects = append(redirects, o+"/oauth2/callback")
		postLogout = append(postLogout, o+"/")
	}
	var c struct {
		ID     string `json:"client_id"`
		Secret string `json:"client_secret"`
	}
	h.call(t, "POST", h.AdminURL+"/admin/clients", map[string]any{
		"client_name":                "piigate",
		"grant_types":                []string{"authorization_code", "refresh_token"},
		"response_types":             []string{"code"},
		"scope":                      "openid profile email offline_access",
		"redirect_uris":              redirects,
		"post_logout_redirect_uris":  postLogout,
		"token_endpoint_auth_method": "client_secret_basic",
	}, &c)
	return oauthClient{ID: c.ID, Secret: c.Secret}
}

// apiClient registers a machine client that gets JWT access tokens for
// the helpdesk API with client credentials.
func (h *hydra) apiClient(t *testing.T, scope string) oauthClient {
	t.Helper()
	var c struct {
		ID     string `json:"client_id"`
		Secret string `json:"client_secret"`
	}
	h.call(t, "POST", h.AdminURL+"/admin/clients", map[string]any{
		"client_name":                "helpdesk-batch",
		"grant_types":                []string{"client_credentials"},
		"scope":                      scope,
		"audience":                   []string{"helpdesk-api"},
		"token_endpoint_auth_method": "client_secret_basic",
	}, &c)
	return oauthClient{ID: c.ID, Secret: c.Secret}
}

// clientCredentials gets an access token for c.
func (h *hydra) clientCredentials(t *testing.T, c oauthClient, scope, audience string) string {
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

var loginForm = template.Must(template.New("login").Parse(`<!doctype html>
<html><head><title>Test provider sign-in</title></head><body>
<h1 id="idp-login">Sign in to the test provider</h1>
{{if .Error}}<p id="idp-error">{{.Error}}</p>{{end}}
<form method="post" action="/login">
<input type="hidden" name="challenge" value="{{.Challenge}}">
<label>User <input id="username" name="username" autocomplete="off"></label>
<label>Password <input id="password" name="password" type="password"></label>
<button id="signin" type="submit">Sign in</button>
</form></body></html>
`))

// loginApp is the login, consent and logout UI Hydra delegates to: a form
// checking the users table, consent granted automatically with the user's
// name, e-mail and groups as ID token claims, logout accepted.
func (h *hydra) loginApp(t *testing.T) http.Handler {
	mux := http.NewServeMux()
	admin := func(path string) string { return h.AdminURL + "/admin/oauth2/auth/requests/" + path }
	redirectTo := func(w http.ResponseWriter, r *http.Request, method, u string, body any) {
		var out struct {
			RedirectTo string `json:"redirect_to"`
		}
		if err := h.try(method, u, body, &out); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		http.Redirect(w, r, out.RedirectTo, http.StatusFound)
	}
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		ch := r.URL.Query().Get("login_challenge")
		var req struct {
			Skip    bool   `json:"skip"`
			Subject string `json:"subject"`
		}
		if err := h.try("GET", admin("login?login_challenge="+url.QueryEscape(ch)), nil, &req); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		if req.Skip {
			redirectTo(w, r, "PUT", admin("login/accept?login_challenge="+url.QueryEscape(ch)), map[string]any{"subject": req.Subject})
			return
		}
		_ = loginForm.Execute(w, map[string]string{"Challenge": ch})
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		ch := r.PostFormValue("challenge")
		name := r.PostFormValue("username")
		u, ok := users[name]
		if !ok || u.Password != r.PostFormValue("password") {
			_ = loginForm.Execute(w, map[string]string{"Challenge": ch, "Error": "wrong user or password"})
			return
		}
		redirectTo(w, r, "PUT", admin("login/accept?login_challenge="+url.QueryEscape(ch)), map[string]any{
			"subject": name, "remember": true, "remember_for": 3600,
		})
	})
	mux.HandleFunc("GET /consent", func(w http.ResponseWriter, r *http.Request) {
		ch := r.URL.Query().Get("consent_challenge")
		var req struct {
			Subject  string   `json:"subject"`
			Scopes   []string `json:"requested_scope"`
			Audience []string `json:"requested_access_token_audience"`
		}
		if err := h.try("GET", admin("consent?consent_challenge="+url.QueryEscape(ch)), nil, &req); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		u := users[req.Subject]
		redirectTo(w, r, "PUT", admin("consent/accept?consent_challenge="+url.QueryEscape(ch)), map[string]any{
			"grant_scope":                 req.Scopes,
			"grant_access_token_audience": req.Audience,
			"session": map[string]any{
				"id_token":     map[string]any{"name": u.Name, "email": u.Email, "groups": u.Groups},
				"access_token": map[string]any{"groups": u.Groups},
			},
		})
	})
	mux.HandleFunc("GET /logout", func(w http.ResponseWriter, r *http.Request) {
		ch := r.URL.Query().Get("logout_challenge")
		redirectTo(w, r, "PUT", admin("logout/accept?logout_challenge="+url.QueryEscape(ch)), nil)
	})
	return mux
}
