package caddymodule

import (
	"bytes"
	"html/template"
	"net/http"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// oidcPage is a page pii_oidc shows an agent itself: a login that cannot
// go on needs words a person understands, not an empty error status.
type oidcPage struct {
	Title   string
	Message string
	Link    string
	Action  string
}

var (
	pageFlowInvalid = oidcPage{
		Title:   "Sign-in link no longer valid",
		Message: "This sign-in has expired, was already used, or was started in another browser. No session was created.",
		Link:    "/", Action: "Sign in again",
	}
	pageLoginFailed = oidcPage{
		Title:   "Sign-in failed",
		Message: "The identity provider's answer could not be verified, so no session was created. If this happens again, tell your administrator the time it happened.",
		Link:    "/", Action: "Try again",
	}
	pageRefused = oidcPage{
		Title:   "Sign-in refused",
		Message: "The identity provider did not sign you in. No session was created.",
		Link:    "/", Action: "Try again",
	}
	pageUnavailable = oidcPage{
		Title:   "Sign-in temporarily unavailable",
		Message: "The identity provider cannot be reached right now. Agents already signed in are not affected. Please try again in a minute.",
		Link:    "/", Action: "Try again",
	}
)

func pageSignedOut(loginPath string) oidcPage {
	return oidcPage{
		Title:   "Signed out",
		Message: "You have been signed out of the gateway.",
		Link:    loginPath, Action: "Sign in",
	}
}

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{.Title}}</title></head>
<body style="font-family:sans-serif;max-width:36em;margin:4em auto">
<h1 id="pii-oidc-title">{{.Title}}</h1>
<p>{{.Message}}</p>
<p><a id="pii-oidc-action" href="{{.Link}}">{{.Action}}</a></p>
</body></html>
`))

func writePage(w http.ResponseWriter, status int, p oidcPage) error {
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, p); err != nil {
		return caddyhttp.Error(http.StatusInternalServerError, err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}
