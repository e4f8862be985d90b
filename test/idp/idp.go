// Package idp runs a real OpenID Connect provider on loopback for
// piigate's end-to-end tests and its local demo: Ory Hydra, built from the
// nested module test/tools/hydra (which keeps Hydra's dependencies out of
// the plugin's module graph), with an in-memory database, plus the small
// login and consent app Hydra delegates sign-in to. The app checks a table
// of users and puts each user's name, e-mail and groups into the tokens.
package idp

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// User is an account at the provider.
type User struct {
	Password string
	Name     string
	Email    string
	// Groups become the `groups` claim of the user's ID and access tokens.
	Groups []string
}

// Build builds Hydra from the nested module test/tools/hydra of the
// repository at root and returns the binary's path. The binary is kept in
// test/.cache under a name derived from the module's go.mod and go.sum, so
// it is built once per Hydra version (the first build takes minutes).
func Build(root string) (string, error) {
	dir := filepath.Join(root, "test", "tools", "hydra")
	h := sha256.New()
	for _, f := range []string{"go.mod", "go.sum"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			return "", fmt.Errorf("hydra tool module: %w", err)
		}
		h.Write(b)
	}
	cache := filepath.Join(root, "test", ".cache")
	bin := filepath.Join(cache, "hydra-"+hex.EncodeToString(h.Sum(nil))[:16])
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", err
	}
	tmp := bin + ".tmp"
	cmd := exec.Command("go", "build", "-tags", "sqlite,sqlite_omit_load_extension", "-o", tmp, "github.com/ory/hydra/v2")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building hydra (test/tools/hydra): %w\n%s", err, out)
	}
	return bin, os.Rename(tmp, bin)
}

// Options configure Start.
type Options struct {
	// Binary is Hydra's executable, as Build returns it.
	Binary string
	// Users are the accounts the login app accepts, by user name.
	Users map[string]User
	// Output receives Hydra's log; nil discards it.
	Output io.Writer
}

// Provider is a running Hydra with its login and consent app.
type Provider struct {
	// Issuer is the issuer URL as Hydra's discovery document states it.
	Issuer string
	// PublicURL is Hydra's public API (authorization, token, JWKS).
	PublicURL string
	// AdminURL is Hydra's admin API (clients, login and consent requests).
	AdminURL string

	users  map[string]User
	cmd    *exec.Cmd
	exited chan struct{} // closed when Hydra has exited
	app    *http.Server
	once   sync.Once
}

// Start runs Hydra and the login app on free loopback ports and waits
// until Hydra is ready. Hydra issues JWT access tokens (for bearer API
// clients) valid for an hour.
func Start(opts Options) (*Provider, error) {
	appLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	pub, err := freePort()
	if err != nil {
		appLn.Close()
		return nil, err
	}
	adm, err := freePort()
	if err != nil {
		appLn.Close()
		return nil, err
	}
	secret := make([]byte, 24)
	if _, err := rand.Read(secret); err != nil {
		appLn.Close()
		return nil, err
	}
	p := &Provider{
		PublicURL: "http://127.0.0.1:" + strconv.Itoa(pub),
		AdminURL:  "http://127.0.0.1:" + strconv.Itoa(adm),
		users:     opts.Users,
		exited:    make(chan struct{}),
	}
	appURL := "http://" + appLn.Addr().String()
	p.app = &http.Server{Handler: p.loginApp(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.app.Serve(appLn) }()

	p.cmd = exec.Command(opts.Binary, "serve", "all", "--dev", "--sqa-opt-out")
	p.cmd.Env = append(os.Environ(),
		"DSN=memory",
		"SQA_OPT_OUT=true",
		"LOG_LEVEL=warn",
		"SERVE_PUBLIC_HOST=127.0.0.1", "SERVE_PUBLIC_PORT="+strconv.Itoa(pub),
		"SERVE_ADMIN_HOST=127.0.0.1", "SERVE_ADMIN_PORT="+strconv.Itoa(adm),
		"URLS_SELF_ISSUER="+p.PublicURL+"/",
		"URLS_LOGIN="+appURL+"/login",
		"URLS_CONSENT="+appURL+"/consent",
		"URLS_LOGOUT="+appURL+"/logout",
		"SECRETS_SYSTEM="+hex.EncodeToString(secret),
		"STRATEGIES_ACCESS_TOKEN=jwt",
		"TTL_ACCESS_TOKEN=1h",
	)
	p.cmd.Stdout, p.cmd.Stderr = opts.Output, opts.Output
	if err := p.cmd.Start(); err != nil {
		p.app.Close()
		return nil, fmt.Errorf("starting hydra: %w", err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.exited)
	}()
	if err := p.waitReady(60 * time.Second); err != nil {
		p.Close()
		return nil, err
	}
	var disc struct {
		Issuer string `json:"issuer"`
	}
	if err := p.Call("GET", p.PublicURL+"/.well-known/openid-configuration", nil, &disc); err != nil {
		p.Close()
		return nil, err
	}
	p.Issuer = disc.Issuer
	return p, nil
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (p *Provider) waitReady(limit time.Duration) error {
	c := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(limit)
	for {
		resp, err := c.Get(p.AdminURL + "/health/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.exited:
			return fmt.Errorf("hydra exited before it was ready (%v)", p.cmd.ProcessState)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("hydra not ready after %v (last error %v)", limit, err)
		}
	}
}

// Exited is closed when Hydra has exited, whether Close stopped it or not.
func (p *Provider) Exited() <-chan struct{} { return p.exited }

// Close stops Hydra and the login app: from then on the provider is
// unreachable. It may be called more than once.
func (p *Provider) Close() {
	p.once.Do(func() {
		_ = p.cmd.Process.Kill()
		<-p.exited
		_ = p.app.Close()
	})
}

// Client is an OAuth 2.0 client registered at the provider.
type Client struct {
	ID, Secret string
}

// GatewayClient registers a gateway as a confidential client that signs
// agents in with the authorization-code flow and may return to
// <origin>/oauth2/callback and, after logout, <origin>/ for each origin.
func (p *Provider) GatewayClient(origins ...string) (Client, error) {
	var redirects, postLogout []string
	for _, o := range origins {
		redirects = append(redirects, o+"/oauth2/callback")
		postLogout = append(postLogout, o+"/")
	}
	return p.RegisterClient(map[string]any{
		"client_name":                "piigate",
		"grant_types":                []string{"authorization_code", "refresh_token"},
		"response_types":             []string{"code"},
		"scope":                      "openid profile email offline_access",
		"redirect_uris":              redirects,
		"post_logout_redirect_uris":  postLogout,
		"token_endpoint_auth_method": "client_secret_basic",
	})
}

// RegisterClient registers a client described as Hydra's admin API takes
// it and returns its id and generated secret.
func (p *Provider) RegisterClient(spec map[string]any) (Client, error) {
	var c struct {
		ID     string `json:"client_id"`
		Secret string `json:"client_secret"`
	}
	if err := p.Call("POST", p.AdminURL+"/admin/clients", spec, &c); err != nil {
		return Client{}, err
	}
	return Client{ID: c.ID, Secret: c.Secret}, nil
}

// Call makes a JSON request to Hydra and decodes a 2xx answer into out
// (when out is not nil); any other status is an error carrying the body.
func (p *Provider) Call(method, u string, in, out any) error {
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

var loginForm = template.Must(template.New("login").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Sign in</title></head><body>
<h1 id="idp-login">Sign in to the company's test provider</h1>
{{if .Error}}<p id="idp-error">{{.Error}}</p>{{end}}
<form method="post" action="/login">
<input type="hidden" name="challenge" value="{{.Challenge}}">
<label>User <input id="username" name="username" autocomplete="username"></label>
<label>Password <input id="password" name="password" type="password" autocomplete="current-password"></label>
<button id="signin" type="submit">Sign in</button>
</form></body></html>
`))

var errNoUser = errors.New("wrong user or password")

// loginApp is the login, consent and logout UI Hydra delegates to: a form
// checking the users table, consent granted automatically with the user's
// name, e-mail and groups as claims, logout accepted.
func (p *Provider) loginApp() http.Handler {
	mux := http.NewServeMux()
	admin := func(path, challenge string) string {
		return p.AdminURL + "/admin/oauth2/auth/requests/" + path + url.QueryEscape(challenge)
	}
	redirectTo := func(w http.ResponseWriter, r *http.Request, u string, body any) {
		var out struct {
			RedirectTo string `json:"redirect_to"`
		}
		if err := p.Call("PUT", u, body, &out); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		http.Redirect(w, r, out.RedirectTo, http.StatusFound)
	}
	form := func(w http.ResponseWriter, challenge string, err error) {
		data := map[string]string{"Challenge": challenge}
		if err != nil {
			data["Error"] = err.Error()
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = loginForm.Execute(w, data)
	}
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		ch := r.URL.Query().Get("login_challenge")
		var req struct {
			Skip    bool   `json:"skip"`
			Subject string `json:"subject"`
		}
		if err := p.Call("GET", admin("login?login_challenge=", ch), nil, &req); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		if req.Skip {
			redirectTo(w, r, admin("login/accept?login_challenge=", ch), map[string]any{"subject": req.Subject})
			return
		}
		form(w, ch, nil)
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		ch := r.PostFormValue("challenge")
		name := r.PostFormValue("username")
		u, ok := p.users[name]
		if !ok || u.Password != r.PostFormValue("password") {
			form(w, ch, errNoUser)
			return
		}
		redirectTo(w, r, admin("login/accept?login_challenge=", ch), map[string]any{
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
		if err := p.Call("GET", admin("consent?consent_challenge=", ch), nil, &req); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		u := p.users[req.Subject]
		redirectTo(w, r, admin("consent/accept?consent_challenge=", ch), map[string]any{
			"grant_scope":                 req.Scopes,
			"grant_access_token_audience": req.Audience,
			"session": map[string]any{
				"id_token":     map[string]any{"name": u.Name, "email": u.Email, "groups": u.Groups},
				"access_token": map[string]any{"groups": u.Groups},
			},
		})
	})
	mux.HandleFunc("GET /logout", func(w http.ResponseWriter, r *http.Request) {
		redirectTo(w, r, admin("logout/accept?logout_challenge=", r.URL.Query().Get("logout_challenge")), nil)
	})
	return mux
}
