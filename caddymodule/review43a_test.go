package caddymodule

import (
	"net/http"
	"strings"
	"testing"
)

// TestReview43aLoginRedirectNestedURLEmail: a login redirect carries the
// URL the agent was on as one percent-encoded query parameter, so an
// e-mail that URL held as form data writes it (zhang.san%40example.com,
// how a GET search form sends an '@') is percent-encoded twice:
// zhang.san%2540example.com. Django's login_required
// (redirect_to_login: QueryDict.urlencode(safe="/") of get_full_path())
// and ASP.NET Core's cookie authentication
// (QueryHelpers.AddQueryString(LoginPath, "ReturnUrl", …)) send exactly
// that on a session that expired mid-search. The header engine decodes a
// link's escapes once, so it reads "zhang.san%40example.com", finds no
// address, and online_agent (email: mask) receives the Location as sent;
// the login page decodes the parameter once and shows
// /c?email=zhang.san%40example.com, which its link or the browser
// decodes to the address. (The body engine reads a link's escapes once
// too: this is not a regression of 2b74a8c.)
func TestReview43aLoginRedirectNestedURLEmail(t *testing.T) {
	m := review41aMask(t, "online_agent")
	for _, v := range []string{
		"/accounts/login/?next=/customers/%3Femail%3Dzhang.san%2540example.com",
		"/Account/Login?ReturnUrl=%2Fcustomers%3Femail%3Dzhang.san%2540example.com",
	} {
		rec, _ := serveHeaders(t, m, http.MethodGet, 302, http.Header{
			"Content-Type": {"application/json"}, "Location": {v}})
		for _, got := range rec.Header().Values("Location") {
			if strings.Contains(got, "zhang.san%2540example.com") {
				t.Errorf("Location %q: sent as %q", v, got)
			}
		}
	}
}
