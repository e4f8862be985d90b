package caddymodule

// Fifty-second review (a): a curious agent with a masked role
// (online_agent: cn_mobile, email, cn_resident_id, bank_card and
// person_name masked, address and everything else redacted) looking,
// through the gateway alone, for values the policy hides. Each test
// fails on the code as reviewed because a hidden value reaches the
// agent, and passes once it no longer does.

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/piigate/piigate/config"
)

// The README's online_agent, and a supervisor who sees everything.
func agentMask52(t *testing.T, m *Mask) *Mask {
	t.Helper()
	app := &App{Roles: map[string]config.RoleRules{
		"online_agent": {"cn_mobile": "mask", "email": "mask", "cn_resident_id": "mask", "bank_card": "mask",
			"person_name": "mask", "address": "redact", "*": "redact"},
		"supervisor": {"*": "plain"},
	}}
	if err := app.compile(); err != nil {
		t.Fatal(err)
	}
	if m.RolesFrom == "" {
		m.RolesFrom = "online_agent"
	}
	if err := m.provisionWith(app); err != nil {
		t.Fatal(err)
	}
	return m
}

// A customer record as a legacy app stores it (fake data).
const (
	name52    = "张三"
	address52 = "北京市朝阳区建国路88号"
	record52  = `{"data":[{"name":"` + name52 + `","address":"` + address52 + `","mobile":"13812345678"}]}`
)

// leaked52 reports the hidden values s shows as they are.
func leaked52(s string) []string {
	var out []string
	for _, v := range []string{name52, address52, "13812345678"} {
		if strings.Contains(s, v) {
			out = append(out, v)
		}
	}
	return out
}

// Finding 1 (leak, high): a JSONP answer whose callback name the
// recogniser does not read is content-scanned as text, so the names and
// addresses in it (which only key names and field rules type) reach the
// agent as they are.
//
// README (pii_mask, "The engine reads JSON once"): JSONP, "a callback's
// call, `cb({…});`, as Express's `res.jsonp` and many legacy APIs answer
// `?callback=`: its argument is read as JSON, the call kept"; and (Other
// data formats) a JSONP call the client asked for whose argument is not
// JSON is refused. But rewrite.jsonpCall only takes a callee that is a
// dotted chain of identifiers (jsName). The callback is the agent's to
// choose, and the frameworks the README names let through more than
// that: Express's res.jsonp keeps `[`, `]`, `.`, `$` and \w
// (`callback.replace(/[^\[\]\w$.]/g, "")`), so `?callback=a[0]` (a
// common JSONP-library callback, `callbacks[3]`), `?callback=0` or
// `?callback=cb.` give `/**/ typeof a[0] === 'function' && a[0]({…});`
// under text/javascript; Spring's JSONP support (MappingJackson2-
// HttpMessageConverter, AbstractJsonpResponseBodyAdvice) accepts
// `[0-9A-Za-z_.]*` and writes `/**/0({…});` under application/javascript.
// None is recognised (Sniff says Text), the label is a script's, which
// dataFormat does not refuse, and askedJSONP never runs (no callee was
// read): the body is content-scanned only. The mobile is masked by
// content; the name and the address, which no content detector finds,
// go out in clear: the agent reads 张三 and the whole address with curl.
//
// Suggested fix: recognise the call by what the client asked for rather
// than by JavaScript's grammar: when a query value v of the request
// occurs in the body as `v(` after the optional guard (or, more simply,
// when the body after a prefix holding no `{`, `[`, `"` ends in a
// parenthesised JSON value followed by `)`, `;`, white space and empty
// comments), read that argument as JSON and keep the rest; and on routes
// whose rules read JSON (refuseData), refuse a body under a script label
// that holds a `(` followed by `{`/`[` but is not recognised, as the
// README already does for a call whose argument is not JSON.
func TestReview52aJSONPCallbackNotRecognised(t *testing.T) {
	m := agentMask52(t, &Mask{Fields: []config.Field{{Path: "data.#.mobile", Type: "cn_mobile"}}})
	express := regexp.MustCompile(`[^\[\]\w$.]`)
	springOK := regexp.MustCompile(`^[0-9A-Za-z_.]*$`)
	// Express 4/5 res.jsonp, as written.
	expressApp := func(w http.ResponseWriter, r *http.Request) error {
		cb := express.ReplaceAllString(r.URL.Query().Get("callback"), "")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		_, err := io.WriteString(w, "/**/ typeof "+cb+" === 'function' && "+cb+"("+record52+");")
		return err
	}
	// Spring 4.x MappingJackson2HttpMessageConverter with a JSONP advice.
	springApp := func(w http.ResponseWriter, r *http.Request) error {
		cb := r.URL.Query().Get("callback")
		if !springOK.MatchString(cb) {
			w.Header().Set("Content-Type", "application/json")
			_, err := io.WriteString(w, record52)
			return err
		}
		w.Header().Set("Content-Type", "application/javascript")
		_, err := io.WriteString(w, "/**/"+cb+"("+record52+");")
		return err
	}
	for _, c := range []struct {
		app      string
		callback string
	}{
		{"express", "cb"}, // recognised: the control
		{"express", "a[0]"},
		{"express", "0"},
		{"express", "cb."},
		{"spring", "0"},
		{"spring", "cb."},
	} {
		app := expressApp
		if c.app == "spring" {
			app = springApp
		}
		req := httptest.NewRequest(http.MethodGet, "/api/customers?callback="+url.QueryEscape(c.callback), nil)
		rec, _ := serveMask(t, m, req, app)
		if l := leaked52(rec.Body.String()); len(l) > 0 {
			t.Errorf("%s, ?callback=%s: the agent reads %q in clear (status %d):\n%s", c.app, c.callback, l, rec.Code, rec.Body)
		}
	}
}

// Finding 2 (leak, medium): in the response header fields the README
// names as carriers of personal data (Location, Link, Refresh,
// Set-Cookie), a name or an address is typed by nothing but its
// parameter's or cookie's name, and that name is not read as a key:
// `Set-Cookie: customerName=%E5%BC%A0%E4%B8%89` and a redirect to
// `/customers?customerName=…&address=…` reach the agent unchanged.
//
// README (Response headers are read too): "a legacy app puts personal
// data in Location (…), Content-Disposition, Link, Refresh, Set-Cookie";
// "every name is a key name (… `X-Customer-Name: 张三` becomes `张*`)";
// "JSON anywhere in a value is read as JSON, its keys typing its values
// (`last={"name":"张三"}`, `%7B%22name%22…`)". So the cookie
// `last={"name":"张三"}` goes out as `last={"name":"张*"}`, but the far
// more common shape of the same data, a cookie or query parameter named
// after what it holds (Java's `new Cookie("customerName",
// URLEncoder.encode(name))`, Spring's `redirectAttributes.addAttribute(
// "customerName", …)`, a pager's Link to the next page of a search), is
// read by content only, and person_name, address and birth_date have no
// content detector. The agent's browser (document.cookie, the address
// bar after the redirect) or curl shows 张三 and the whole address, where
// the role sees `张*` and `[address]`.
//
// Suggested fix: in the header reading (header_values.go), read the
// key=value pairs of a cookie-pair (Set-Cookie's first pair, its name the
// key) and of a URL's query and fragment (Location, Content-Location,
// Link's targets, Refresh's url=) as members of a JSON object, keys
// percent-decoded and classified as JSON keys are, so that their values
// are typed and masked in place (and counted under
// @header.Set-Cookie.customerName); or, failing that, say in the README
// that names, addresses and birth dates in header fields are found only
// under a header name or a JSON key that types them.
func TestReview52aHeaderKeyValuePairsUntyped(t *testing.T) {
	m := agentMask52(t, &Mask{Fields: []config.Field{{Path: "data.#.mobile", Type: "cn_mobile"}}})
	enc := url.QueryEscape
	for _, c := range []struct {
		field, value string
		status       int
	}{
		// The control: JSON in a cookie is typed by its keys.
		{"Set-Cookie", `last={"name":"` + name52 + `"}; Path=/`, http.StatusOK},
		{"Set-Cookie", "customerName=" + enc(name52) + "; Path=/; HttpOnly", http.StatusOK},
		{"Set-Cookie", "shippingAddress=" + enc(address52) + "; Path=/", http.StatusOK},
		{"Location", "/customers/list?customerName=" + enc(name52) + "&address=" + enc(address52), http.StatusFound},
		{"Link", "</api/customers?page=2&contactName=" + enc(name52) + `>; rel="next"`, http.StatusOK},
		{"Refresh", "0; url=/customers/view?realName=" + enc(name52), http.StatusOK},
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
			if d, err := url.QueryUnescape(v); err == nil {
				shown = d // as the browser's address bar and document.cookie readers show it
			}
			if l := leaked52(shown); len(l) > 0 {
				t.Errorf("%s: %s: the agent reads %q in clear", c.field, v, l)
			}
		}
	}
}

// Finding 3 (leak, low): JSON behind an anti-hijacking prefix spelled
// with a space (`for (;;);`, as Facebook writes it, `while (1);`) is not
// recognised under a script or plain-text label, and is content-scanned
// as text: names and addresses pass.
//
// README: the engine reads "XSSI prefixes (`)]}'`, `while(1);`,
// `for(;;);`)"; under text/plain "a body that starts like JSON but is
// neither is … refused". xssiLen matches the prefixes byte for byte, so
// `for (;;);{…}` and `while (1);{…}` neither start like JSON nor are
// recognised: under text/plain, text/javascript or application/javascript
// (which sniff) the body is Text, content-scanned only. (Under
// application/json the same body is refused as malformed: fail closed.)
//
// Suggested fix: match the prefixes with JavaScript white space allowed
// between their tokens (for ( ; ; ) ;, while ( 1 ) ;, also `throw 1;`),
// or more generally, under a sniffed label, try the text after any
// prefix of such a statement as JSON before falling back to text.
func TestReview52aXSSIPrefixWithSpaces(t *testing.T) {
	m := agentMask52(t, &Mask{Fields: []config.Field{{Path: "data.#.mobile", Type: "cn_mobile"}}})
	for _, c := range []struct{ ct, body string }{
		{"text/javascript; charset=utf-8", "for (;;);" + record52},
		{"application/javascript", "for (;;);" + record52},
		{"text/plain; charset=utf-8", "while (1);" + record52},
	} {
		rec, _ := serveMask(t, m, httptest.NewRequest(http.MethodGet, "/api/customers", nil),
			func(w http.ResponseWriter, r *http.Request) error {
				w.Header().Set("Content-Type", c.ct)
				_, err := io.WriteString(w, c.body)
				return err
			})
		if l := leaked52(rec.Body.String()); len(l) > 0 {
			t.Errorf("%s, %.12q…: the agent reads %q in clear (status %d):\n%s", c.ct, c.body, l, rec.Code, rec.Body)
		}
	}
}

// After the fifty-second review (a): a JSONP answer the gateway cannot
// read as a call (a callback name an app let through unchanged) that
// passes data to something, on a route whose rules read JSON, is refused
// rather than content-scanned; a script without such a request is not.
func TestReview52aUnreadJSONPRefused(t *testing.T) {
	m := agentMask52(t, &Mask{Fields: []config.Field{{Path: "data.#.mobile", Type: "cn_mobile"}}})
	php := func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "application/javascript")
		_, err := io.WriteString(w, r.URL.Query().Get("callback")+"("+record52+");")
		return err
	}
	req := httptest.NewRequest(http.MethodGet, "/api/customers?callback="+url.QueryEscape("x);y"), nil)
	rec, _ := serveMask(t, m, req, php)
	if rec.Code != http.StatusBadGateway || len(leaked52(rec.Body.String())) > 0 {
		t.Errorf("an unread JSONP answer: status %d, body %s", rec.Code, rec.Body)
	}
	script := func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "application/javascript")
		_, err := io.WriteString(w, `init({debug: false});`)
		return err
	}
	rec, _ = serveMask(t, m, httptest.NewRequest(http.MethodGet, "/api/app.js", nil), script)
	if rec.Code != http.StatusOK || rec.Body.String() != `init({debug: false});` {
		t.Errorf("a script no client asked a call of: status %d, body %s", rec.Code, rec.Body)
	}
}

// After the fifty-second review (a): a key=value pair its key types is
// written back in its form, percent-encoded where it came so, and
// counted under its field and key; a header's own parameters and a
// cookie's attributes are no such pairs.
func TestReview52aHeaderPairsWrittenInForm(t *testing.T) {
	m := agentMask52(t, &Mask{Fields: []config.Field{{Path: "data.#.mobile", Type: "cn_mobile"}}})
	enc := url.QueryEscape
	for _, c := range []struct{ field, value, want, path string }{
		{"Set-Cookie", "customerName=" + enc(name52) + "; Path=/; HttpOnly", "customerName=%E5%BC%A0*; Path=/; HttpOnly", "@header.Set-Cookie.customerName"},
		{"Location", "/c?address=" + enc(address52) + "&page=2", "/c?address=%5Baddress%5D&page=2", "@header.Location.address"},
		{"Location", "/c?email=zhang.san@example.com", "/c?email=z***@example.com", "@header.Location.email"},
		{"Content-Disposition", `attachment; name=report; filename="a.json"`, `attachment; name=report; filename="a.json"`, ""},
	} {
		rec, vars := serveMask(t, m, httptest.NewRequest(http.MethodGet, "/api/customers/42", nil),
			func(w http.ResponseWriter, r *http.Request) error {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set(c.field, c.value)
				_, err := io.WriteString(w, `{"ok":true}`)
				return err
			})
		if got := rec.Header().Get(c.field); got != c.want {
			t.Errorf("%s: %q, want %q", c.field, got, c.want)
		}
		out := vars[varOutcome].(*Outcome)
		if c.path != "" && !slices.Contains(out.Summary.Paths, c.path) {
			t.Errorf("%s: paths %v, want %s", c.field, out.Summary.Paths, c.path)
		}
	}
}
