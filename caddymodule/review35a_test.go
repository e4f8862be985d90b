package caddymodule

import (
	"context"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/piigate/piigate/config"
)

// agentSees reports every header line of h that shows secret.
func agentSees(h http.Header, secret string) []string {
	var got []string
	for k, vs := range h {
		for _, v := range vs {
			if strings.Contains(k, secret) || strings.Contains(v, secret) {
				got = append(got, k+": "+v)
			}
		}
	}
	return got
}

// TestReview35aEncodedWordFilename: a download name written as an RFC 2047
// encoded-word (what JavaMail's MimeUtility.encodeWord and many legacy
// Java/.NET apps send for non-ASCII file names) is decoded by Chrome and
// Firefox into the saved file's name; maskHeaders does not decode it, so
// the customer's mobile is in the agent's download.
func TestReview35aEncodedWordFilename(t *testing.T) {
	m := headerMask(t, "online_agent")
	for _, cd := range []string{
		// "客户_13812345678.json", base64
		`attachment; filename="=?UTF-8?B?5a6i5oi3XzEzODEyMzQ1Njc4Lmpzb24=?="`,
		// "13812345678.json", quoted-printable
		`attachment; filename="=?UTF-8?Q?=31=33=38=31=32=33=34=35=36=37=38.json?="`,
	} {
		rec, _ := serveHeaders(t, m, http.MethodGet, 200, http.Header{
			"Content-Type": {"application/json"}, "Content-Disposition": {cd}})
		got := rec.Header().Get("Content-Disposition")
		_, params, err := mime.ParseMediaType(got)
		if err != nil {
			t.Fatalf("%q: %v", got, err)
		}
		name, err := new(mime.WordDecoder).DecodeHeader(params["filename"])
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(name, tMobile) {
			t.Errorf("Content-Disposition %q: the browser saves the file as %q", got, name)
		}
	}
}

// TestReview35aSkipListCarriesData: fields on the skip list are passed as
// the upstream wrote them, but only part of their value is fixed by HTTP or
// the gateway: mergeCacheControl keeps every extension directive (and its
// argument) verbatim, mergeVary keeps every upstream item, and
// Strict-Transport-Security is never set by the gateway at all.
func TestReview35aSkipListCarriesData(t *testing.T) {
	m := headerMask(t, "online_agent")
	for _, c := range []struct{ name, value string }{
		{"Cache-Control", `no-cache, x-customer="` + tMobile + `"`},
		{"Cache-Control", `private="X-Customer-` + tMobile + `"`},
		{"Vary", "Accept, X-Customer-" + tMobile},
		{"Strict-Transport-Security", "max-age=300; contact=" + tMobile},
	} {
		for _, ct := range []string{"application/json", "text/event-stream"} {
			rec, _ := serveHeaders(t, m, http.MethodGet, 200, http.Header{
				"Content-Type": {ct}, c.name: {c.value}})
			if leak := agentSees(rec.Header(), tMobile); len(leak) > 0 {
				t.Errorf("%s (%s): the agent receives %q", c.name, ct, leak)
			}
		}
	}
}

// earlyHintsRecorder records the header of every 1xx the handler sends.
type earlyHintsRecorder struct {
	*httptest.ResponseRecorder
	hints []http.Header
}

func (r *earlyHintsRecorder) WriteHeader(code int) {
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		r.hints = append(r.hints, r.Header().Clone())
		return
	}
	r.ResponseRecorder.WriteHeader(code)
}

// TestReview35aEarlyHintsSkipList: the skip list is justified by the
// gateway fixing those fields (Cache-Control and Vary merged,
// X-Content-Type-Options set to nosniff), but fixHeader never runs for a
// 103: the upstream's values of those fields go to the agent as written.
func TestReview35aEarlyHintsSkipList(t *testing.T) {
	m := headerMask(t, "online_agent")
	hint := http.Header{
		"Link":                      {"</app.css>; rel=preload; as=style"},
		"Cache-Control":             {"x-customer=" + tMobile},
		"Vary":                      {"X-Customer-" + tMobile},
		"X-Content-Type-Options":    {tMobile},
		"Strict-Transport-Security": {"max-age=1; u=" + tMobile},
	}
	req := httptest.NewRequest(http.MethodGet, "/api/c", nil)
	ctx := context.WithValue(req.Context(), caddy.ReplacerCtxKey, caddy.NewReplacer())
	ctx = context.WithValue(ctx, caddyhttp.VarsCtxKey, map[string]any{})
	rec := &earlyHintsRecorder{ResponseRecorder: httptest.NewRecorder()}
	err := m.ServeHTTP(rec, req.WithContext(ctx), caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		// As reverse_proxy does with an upstream's 103.
		for k, vs := range hint {
			w.Header()[k] = append([]string(nil), vs...)
		}
		w.WriteHeader(http.StatusEarlyHints)
		for k := range hint {
			delete(w.Header(), k)
		}
		w.Header().Set("Content-Type", "application/json")
		_, err := io.WriteString(w, `{"ok":true}`)
		return err
	}))
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.hints) != 1 {
		t.Fatalf("%d 1xx responses", len(rec.hints))
	}
	if leak := agentSees(rec.hints[0], tMobile); len(leak) > 0 {
		t.Errorf("103 Early Hints: the agent receives %q", leak)
	}
}

// TestReview35aContentTypeTokens: plainContentType lets any token through
// unread, digits included: a vendor media type or a charset name holding a
// mobile or a resident ID is served (the +json suffix makes it JSON) with
// its Content-Type unmasked.
func TestReview35aContentTypeTokens(t *testing.T) {
	m := headerMask(t, "online_agent")
	for _, ct := range []string{
		"application/vnd.customer-" + tMobile + "+json",
		"application/vnd.customer." + tID + "+json",
		"application/json; charset=" + tMobile,
	} {
		rec, out := serveHeaders(t, m, http.MethodGet, 200, http.Header{"Content-Type": {ct}})
		if rec.Code != 200 {
			continue // refused: nothing shown
		}
		for _, secret := range []string{tMobile, tID} {
			if leak := agentSees(rec.Header(), secret); len(leak) > 0 {
				t.Errorf("%s: the agent receives %q (result %s)", ct, leak, out.Result)
			}
		}
	}
}

// TestReview35aOneNonUTF8ValueDropsField: the README says a value that is
// not UTF-8 is removed, but maskHeaders removes the whole field: one
// Latin-1 or GBK cookie among the Set-Cookie lines costs the agent the
// session cookie too (the agent is logged out on every such response).
func TestReview35aOneNonUTF8ValueDropsField(t *testing.T) {
	m := headerMask(t, "online_agent")
	rec, _ := serveHeaders(t, m, http.MethodGet, 200, http.Header{
		"Content-Type": {"application/json"},
		"Set-Cookie":   {"JSESSIONID=9b1c2d3e4f5a; Path=/; HttpOnly", "lastSearch=\xd5\xc5\xc8\xfd; Path=/"},
	})
	if got := rec.Header().Values("Set-Cookie"); len(got) != 1 || !strings.HasPrefix(got[0], "JSESSIONID=") {
		t.Errorf("Set-Cookie %q, want the session cookie kept and only the GBK one removed", got)
	}
}

// TestReview35aDeepValueDropsEveryField: the error branch maskHeaders calls
// "cannot happen" is reached by one field whose value is JSON nested deeper
// than the engine's limit: every field read is then removed, Location and
// Set-Cookie included, and a redirect loses its target.
func TestReview35aDeepValueDropsEveryField(t *testing.T) {
	m := headerMask(t, "online_agent")
	rec, _ := serveHeaders(t, m, http.MethodGet, http.StatusFound, http.Header{
		"Content-Type": {"application/json"},
		"Location":     {"/customers/" + tMobile},
		"Set-Cookie":   {"JSESSIONID=9b1c2d3e4f5a; Path=/"},
		"X-Debug":      {strings.Repeat("[", 130) + "1" + strings.Repeat("]", 130)},
	})
	if got := rec.Header().Get("Location"); got != "/customers/138****5678" {
		t.Errorf("Location %q", got)
	}
	if got := rec.Header().Get("Set-Cookie"); got == "" {
		t.Errorf("Set-Cookie removed")
	}
}

// TestReview35aNewlineBecomesSpace: net/http writes a '\n' or '\r' in a
// header value as a space; the engine reads the value with the newline,
// where no mobile is, and leaves it. Over a real connection the agent
// reads "138 1234 5678", which the engine masks when written with spaces.
// (Needs a handler after pii_mask that sets such a value: reverse_proxy
// and php_fastcgi join obs-fold lines before pii_mask sees them.)
func TestReview35aNewlineBecomesSpace(t *testing.T) {
	m := headerMask(t, "online_agent")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := context.WithValue(r.Context(), caddy.ReplacerCtxKey, caddy.NewReplacer())
		ctx = context.WithValue(ctx, caddyhttp.VarsCtxKey, map[string]any{})
		_ = m.ServeHTTP(w, r.WithContext(ctx), caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Content-Type", "application/json")
			w.Header()["X-Customer-Note"] = []string{"call 138\n1234\n5678"}
			_, err := io.WriteString(w, `{"ok":true}`)
			return err
		}))
	}))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("X-Customer-Note"); strings.Contains(got, "1234") {
		t.Errorf("the agent receives X-Customer-Note: %q", got)
	}
}

// TestReview35aAltSvcDefeatsFastPath: behind Caddy's HTTPS listener with
// HTTP/3 on (the default), every response carries Caddy's own
// Alt-Svc: h3=":443"; ma=2592000 before pii_mask runs. Its ':' and digits
// send every response through the engine: the "usual response costs no
// call of the engine and no allocation" the README promises never happens.
func TestReview35aAltSvcDefeatsFastPath(t *testing.T) {
	m := headerMask(t, "online_agent")
	var d config.Decision
	m.table.Decide("online_agent", &d)
	mw := &maskWriter{m: m, d: &d, out: &Outcome{}}
	h := http.Header{
		"Alt-Svc":        {`h3=":443"; ma=2592000`}, // set by Caddy's server
		"Server":         {"Caddy"},
		"Content-Type":   {"application/json; charset=utf-8"},
		"Content-Length": {"7460"},
		"Date":           {"Sat, 28 Nov 2026 03:20:28 GMT"},
		// More fields of an ordinary response with digits in them.
		"Strict-Transport-Security": {"max-age=31536000; includeSubDomains"},
		"X-Powered-By":              {"PHP/7.4.33"},
		"Set-Cookie":                {"PHPSESSID=9b1c7f2e04d3a5b6c8d9e0f1a2b3c4d5; path=/; HttpOnly"},
		"Vary":                      {"Accept-Encoding"},
	}
	if n := testing.AllocsPerRun(100, func() { mw.maskHeaders(h, true) }); n != 0 {
		t.Errorf("%v allocations for the header of a plain response over HTTPS", n)
	}
}
