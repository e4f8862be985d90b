package caddymodule

// Fifty-third review (a): what the fixes of the fifty-second review (a
// and b) got wrong. Each test fails on the code as reviewed.
// Run under flock /tmp/piigate-caddytest.lock.

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/piigate/piigate/config"
)

// Finding 1 (regression, over-refusal: every Caddyfile with an `order`
// option no longer adapts). Review 52b's check in parseMask walks
// h.Option("order") and refuses pii_mask when any directive of
// answersOrGroups comes before it. But Caddy keeps the option as the
// whole directive order (parseOptOrder clones directiveOrder, the
// standard order with every plugin's place, and edits it), so the moment
// a Caddyfile has any `order` line at all, for any directive, the list
// holds `redir`, which the standard order puts long before `encode`, and
// therefore before pii_mask's own registered place (after encode).
// Result: `order pii_oidc before basic_auth` (the admin ordering another
// directive, here this repository's own pii_oidc) and even `order pii_mask
// after encode` (the exact place the plugin registers itself) are refused
// with "the order global option puts it after redir". The README only
// says an order that puts pii_mask after a directive that answers
// requests "or takes them into a block" is refused; the default order
// does that for redir too, and is accepted without an order line.
//
// Suggested fix: compare against the standard order rather than flag
// every answering directive before pii_mask: refuse only directives of
// answersOrGroups that come before pii_mask in h.Option("order") but not
// before its registered place (after encode) in the default order — or
// simply drop redir from answersOrGroups (it answers with the admin's
// own Location, never the upstream's data) and check the directives
// after encode only.
//
// (`order pii_mask before handle` puts pii_mask after invoke, which runs
// a named route that may answer with an upstream's data: refused, as the
// fix keeps invoke among the directives pii_mask must precede.)
func TestReview53aOrderOptionRefusesLegitimateOrders(t *testing.T) {
	const policy = "{\n pii {\n  role a {\n   * plain\n  }\n }\n"
	const site = ":80 {\n pii_mask /api/* {\n  roles_from {header.X-Role}\n }\n reverse_proxy 127.0.0.1:9000\n}\n"
	for _, order := range []string{
		"order pii_oidc before basic_auth", // another directive's place: pii_mask's is the standard one
		"order pii_mask after encode",      // pii_mask's own registered place
	} {
		t.Run(order, func(t *testing.T) {
			out, err := r52bAdapt(policy + " " + order + "\n}\n" + site)
			if err != nil {
				t.Fatalf("OVER-REFUSAL: %q does not adapt: %v", order, err)
			}
			s := string(out)
			if i, j := strings.Index(s, `"pii_mask"`), strings.Index(s, `"reverse_proxy"`); i < 0 || j < 0 || i > j {
				t.Errorf("the test's premise: pii_mask before reverse_proxy in %s", s)
			}
		})
	}
}

// Finding 2 (over-refusal of legitimate traffic: pages and scripts on a
// guarded route answer 502). Review 52a refuses a Text answer when the
// request "asks for a JSONP call" (jsonpAsked) and the body passes an
// object or array to anything (callsWithData). But jsonpAsked takes any
// query key that merely contains "callback" (callbackUrl, callback_url:
// the return address of a sign-in page, NextAuth's
// /api/auth/signin?callbackUrl=…) or is "cb" (the usual cache-buster,
// app.js?cb=1700000000), whatever its value; and callsWithData matches
// `({` or `([` anywhere (init({…}), Object.assign({}, …), console.log([…])),
// which almost every page and script holds. Neither request asked for a
// call, and neither body calls anything named by the request. The README
// says "Pages (HTML, XHTML), scripts, plain text and error responses are
// content-scanned either way"; they are refused (502, data_format)
// instead.
//
// Suggested fix: refuse only when the body actually echoes what the
// request named: some query value v (of callback/jsonp/cb … keys) occurs
// in the body followed, after white space, by "(" then "{" or "[" (the
// x);y( case of review 52a still matches: the body holds "x);y(" ), and
// take only keys that are JSONP parameter names (callback, jsonp,
// jsoncallback, cb, …), not any key holding "callback".
func TestReview53aJSONPRefusalOfOrdinaryPages(t *testing.T) {
	m := agentMask52(t, &Mask{Fields: []config.Field{{Path: "data.#.mobile", Type: "cn_mobile"}}})
	for _, c := range []struct{ name, url, ct, body string }{
		{"a sign-in page with its return address", "/api/auth/signin?callbackUrl=" + url.QueryEscape("/dashboard"),
			"text/html; charset=utf-8", `<!doctype html><html><body><form id="f"></form><script>init({csrfToken: document.cookie})</script></body></html>`},
		{"a script with a cache-buster", "/api/static/app.js?cb=1700000000",
			"application/javascript", `window.cfg = Object.assign({}, window.defaults);`},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec, _ := serveMask(t, m, httptest.NewRequest(http.MethodGet, c.url, nil),
				func(w http.ResponseWriter, r *http.Request) error {
					w.Header().Set("Content-Type", c.ct)
					_, err := io.WriteString(w, c.body)
					return err
				})
			if rec.Code != http.StatusOK || rec.Body.String() != c.body {
				t.Errorf("OVER-REFUSAL: %s (no JSONP asked, no personal data) answers %d: %s", c.url, rec.Code, rec.Body)
			}
		})
	}
}

// Finding 3 (incomplete fix, leak): a key=value pair's value is cut at
// characters a URL's query value, or a cookie value, legitimately holds
// as they are, and what follows the cut goes out as it came, read by
// content only. kvStop ends a value at ',', ';', '\”, '<', '>', space
// and '"' as well as '&' and '#', for URLs and cookies alike. But in a
// query ',', ';' and '\” are sub-delims a URL holds unencoded (RFC 3986;
// browsers' URLSearchParams keep them in the value): Spring's
// UriUtils.encodeQueryParam (RedirectView, redirectAttributes) leaves ','
// and '\” as they are, and JavaScript's encodeURIComponent — which
// Express's res.cookie uses for cookie values — leaves '\”. So
// `?address=88%20Jianguo%20Road,%20Chaoyang%20District,%20Beijing` goes
// out as `?address=%5Baddress%5D,%20Chaoyang%20District,%20Beijing`, and
// `customerName=Mary%20O'Brien` as `M*****'Brien`: the agent reads the
// rest of the address, and the surname, that the role may not see.
//
// Suggested fix: stop a query or fragment value only at '&', '#' and
// what ends the URL (white space, and the '>' or quote that closes a
// Link target or a Refresh url), and a cookie value only at ';' (and ','
// where folded Set-Cookie lines are read); or refuse to send a pair
// whose value is followed, up to its real delimiter, by text the cut
// left unread.
func TestReview53aHeaderPairValueCutShort(t *testing.T) {
	m := agentMask52(t, &Mask{Fields: []config.Field{{Path: "data.#.mobile", Type: "cn_mobile"}}})
	for _, c := range []struct {
		field, value string
		status       int
		hidden       []string
	}{
		// Spring's RedirectView: spaces encoded, commas kept.
		{"Location", "/customers?address=88%20Jianguo%20Road,%20Chaoyang%20District,%20Beijing&page=2", http.StatusFound,
			[]string{"Chaoyang", "Beijing"}},
		// encodeURIComponent: the apostrophe kept.
		{"Location", "/customers?customerName=Mary%20O'Brien", http.StatusFound, []string{"Brien"}},
		// Express's res.cookie (encodeURIComponent).
		{"Set-Cookie", "customerName=Mary%20O'Brien; Path=/; HttpOnly", http.StatusOK, []string{"Brien"}},
	} {
		rec, _ := serveMask(t, m, httptest.NewRequest(http.MethodGet, "/api/customers/42", nil),
			func(w http.ResponseWriter, r *http.Request) error {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set(c.field, c.value)
				w.WriteHeader(c.status)
				_, err := io.WriteString(w, `{"ok":true}`)
				return err
			})
		for _, v := range rec.Header().Values(c.field) {
			shown := v
			if d, err := url.PathUnescape(v); err == nil {
				shown = d // as the address bar and a cookie reader show it
			}
			for _, h := range c.hidden {
				if strings.Contains(shown, h) {
					t.Errorf("LEAK: %s: %q goes out as %q: the agent reads %q", c.field, c.value, v, h)
				}
			}
		}
	}
}

// Finding 4 (incomplete fix, leak): a cookie's pair whose value is
// quoted is not read as {key:value}. RFC 6265 allows a cookie-value in
// double quotes, and Python's http.cookies (Django's set_cookie,
// Werkzeug before 2.3) quotes every value holding a space or a
// character outside its legal set, the latter as \NNN octal escapes:
// `customerName="Zhang San"`, `customerName="Jos\351 M\374ller"`.
// kvPiece refuses any value that starts with '"' (also '{', '[', %7B,
// %5B), leaving it to the JSON pieces, which take it only when it is
// JSON; a quoted name is not, so it is read by content only, and a
// person's name or an address, which no content detector finds, reaches
// the agent as it is (the same cookie unquoted, customerName=Zhang%20San,
// is masked).
//
// Suggested fix: in kvPiece, skip only values the JSON pieces actually
// read (jsonLen, or unquoteCookie then jsonLen); read a quoted cookie
// value with unquoteCookie as the pair's value and write the masked
// value back quoted ('q' style) — and likewise a value starting with
// '[' or '{' that is no JSON.
func TestReview53aQuotedCookieValueUntyped(t *testing.T) {
	m := agentMask52(t, &Mask{Fields: []config.Field{{Path: "data.#.mobile", Type: "cn_mobile"}}})
	for _, c := range []struct {
		value  string
		hidden []string
	}{
		{"customerName=Zhang%20San; Path=/", []string{"San"}}, // the control: unquoted, typed and masked
		{`customerName="Zhang San"; Path=/`, []string{"San"}},
		{`customerName="Jos\351 M\374ller"; Path=/`, []string{`M\374ller`, "ller"}},
		{`shippingAddress="88 Jianguo Road Chaoyang District"; Path=/`, []string{"Jianguo", "Chaoyang"}},
	} {
		rec, _ := serveMask(t, m, httptest.NewRequest(http.MethodGet, "/api/customers/42", nil),
			func(w http.ResponseWriter, r *http.Request) error {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Set-Cookie", c.value)
				_, err := io.WriteString(w, `{"ok":true}`)
				return err
			})
		for _, v := range rec.Header().Values("Set-Cookie") {
			shown := v
			if d, err := url.PathUnescape(v); err == nil {
				shown = d
			}
			for _, h := range c.hidden {
				if strings.Contains(shown, h) {
					t.Errorf("LEAK: Set-Cookie %q goes out as %q: the agent reads %q", c.value, v, h)
				}
			}
		}
	}
}
