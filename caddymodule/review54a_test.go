package caddymodule

// Fifty-fourth review (a): the round-53 fixes checked (the GraphQL alias
// check, framed JSON, header key=value pairs). Each test fails on the
// code as reviewed.

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/piigate/piigate/config"
)

const alias54 = `{ customer(id: 7) { n: name a: address } }`

// gql54 sends req through a pii_mask whose route has a field rule and
// reports the status and whether the upstream was reached.
func gql54(t *testing.T, m *Mask, req *http.Request) (int, bool) {
	t.Helper()
	if m == nil {
		m = agentMask52(t, &Mask{Fields: []config.Field{{Path: "data.customer.name", Type: "person_name"}}})
	}
	reached := false
	rec, _ := serveMask(t, m, req, func(w http.ResponseWriter, r *http.Request) error {
		reached = true
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, err := io.WriteString(w, `{"data":{}}`)
		return err
	})
	return rec.Code, reached
}

func jsonString54(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// Finding 1 (leak): an aliased GET query the check never reads.
// graphQLRequest looks at the URL only when RawQuery contains the bytes
// "query=", and reads it with url.ParseQuery, dropping every value when
// ParseQuery reports an error anywhere in the query. Servers decode keys
// and skip a bad pair: gqlgen's GET transport and graphql-go/handler read
// r.URL.Query() (which ignores the error and decodes %71uery to query),
// Node's URLSearchParams and PHP keep %zz and ';' as text.
func TestReview54aGraphQLQueryParamMissed(t *testing.T) {
	q := url.QueryEscape(alias54)
	for _, target := range []string{
		"/graphql?%71uery=" + q,                // the key percent-encoded
		"/graphql?x=%zz&query=" + q,            // a bad escape in another pair
		"/graphql?a=1;b=2&query=" + q,          // a semicolon in another pair
		"/graphql?query=" + q + "&utm=50%+off", // a stray % after it
	} {
		code, reached := gql54(t, nil, httptest.NewRequest(http.MethodGet, target, nil))
		if reached {
			t.Errorf("GET %s: an aliased query reached the upstream (status %d)", target, code)
		}
	}
}

// Finding 2 (leak): aliased JSON bodies the check cannot read but servers
// do. jsonQueries needs the bytes `"query"` (case-sensitive, unescaped)
// and a body json.Unmarshal accepts whole, then keeps nothing on any
// error. gqlgen decodes with json.NewDecoder(...).Decode: keys match case-
// insensitively ("Query") and text after the first value is ignored;
// every JSON parser reads "\u0071uery" as "query"; Express's body-parser
// strips a UTF-8 BOM; JSON.parse keeps the last of duplicate keys.
func TestReview54aGraphQLJSONBodyMissed(t *testing.T) {
	q := jsonString54(alias54)
	for _, c := range []struct{ name, body string }{
		{"key in capitals (gqlgen)", `{"Query":` + q + `}`},
		{"key escaped", `{"\u0071uery":` + q + `}`},
		{"text after the object (gqlgen)", `{"query":` + q + `}` + "\n}"},
		{"byte-order mark (body-parser)", "\xEF\xBB\xBF" + `{"query":` + q + `}`},
		{"duplicate key, first not a string (JSON.parse)", `{"query":0,"query":` + q + `}`},
	} {
		req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(c.body))
		req.Header.Set("Content-Type", "application/json")
		if code, reached := gql54(t, nil, req); reached {
			t.Errorf("%s: an aliased query reached the upstream (status %d): %s", c.name, code, c.body)
		}
	}
}

// Finding 3 (leak): bodies under types the check does not read.
// graphql-go/handler reads a POST body as JSON under any type it does not
// know (`case ContentTypeJSON: fallthrough; default:`), text/plain and
// none included; graphQLRequest peeks only at JSON, GraphQL, form and
// multipart types. And a multipart upload over max_body is refused only
// when its bytes hold name="operations" quoted: gqlgen's multipart
// transport reads the part's name with FormName (mime.ParseMediaType),
// which takes name=operations unquoted just as well.
func TestReview54aGraphQLBodyTypesMissed(t *testing.T) {
	body := `{"query":` + jsonString54(alias54) + `}`
	for _, ct := range []string{"text/plain;charset=UTF-8", ""} {
		req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		if code, reached := gql54(t, nil, req); reached {
			t.Errorf("Content-Type %q: an aliased query reached the upstream (status %d)", ct, code)
		}
	}
	m := agentMask52(t, &Mask{MaxBody: 4096, Fields: []config.Field{{Path: "data.customer.name", Type: "person_name"}}})
	up := "--B\r\nContent-Disposition: form-data; name=operations\r\n\r\n" +
		`{"query":"mutation($f: Upload!) { upload(file: $f) { n: name } }","variables":{"f":null}}` +
		"\r\n--B\r\nContent-Disposition: form-data; name=map\r\n\r\n{\"0\":[\"variables.f\"]}" +
		"\r\n--B\r\nContent-Disposition: form-data; name=0; filename=a.bin\r\nContent-Type: application/octet-stream\r\n\r\n" +
		strings.Repeat("x", 8192) + "\r\n--B--\r\n"
	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(up))
	req.Header.Set("Content-Type", "multipart/form-data; boundary=B")
	if code, reached := gql54(t, m, req); reached {
		t.Errorf("an upload over max_body with name=operations unquoted reached the upstream unchecked (status %d)", code)
	}
}

// Finding 4 (over-refusal): every `query` parameter holding a colon and a
// brace that gqlparser cannot parse is refused as a GraphQL alias. The
// query APIs of Prometheus and Loki take exactly that: PromQL's recording
// rule names are level:metric:operation with {label="…"} selectors,
// LogQL starts with a {stream selector} and filters by text holding
// colons (URLs, times); Grafana sends them as ?query= or as a POST form.
// A log search through the gateway (where masking is most wanted) is
// answered 403 graphql_alias.
func TestReview54aQueryLanguagesRefusedAsGraphQL(t *testing.T) {
	for _, c := range []struct{ path, query string }{
		{"/api/v1/query", `job:http_requests:rate5m{job="checkout"}`},
		{"/api/v1/query", `rate(http_requests_total{job="checkout"}[5m])[30m:1m]`},
		{"/loki/api/v1/query_range", `{app="checkout"} |= "https://"`},
		{"/loki/api/v1/query_range", `{app="checkout"} |= "12:30"`},
	} {
		code, reached := gql54(t, nil, httptest.NewRequest(http.MethodGet, c.path+"?query="+url.QueryEscape(c.query), nil))
		if !reached {
			t.Errorf("GET %s?query=%s: refused with %d, not GraphQL", c.path, c.query, code)
		}
		req := httptest.NewRequest(http.MethodPost, c.path, strings.NewReader("query="+url.QueryEscape(c.query)))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if code, reached := gql54(t, nil, req); !reached {
			t.Errorf("POST form %s query=%s: refused with %d, not GraphQL", c.path, c.query, code)
		}
	}
}

// Finding 5 (regression of 53a, cookie attributes destroyed): a URL in a
// cookie's value (a login's return-to, as Go's http.SetCookie writes it:
// '?' and '=' kept) holds a typed query pair; since kvStop no longer ends
// a query value at ';', the pair's value runs over the cookie's own ';'
// and the attributes after it are masked with the name. The agent's
// browser receives a cookie without HttpOnly and Secure (or without its
// Path, stored under another scope).
func TestReview54aCookieURLValueEatsAttributes(t *testing.T) {
	m := agentMask52(t, &Mask{Fields: []config.Field{{Path: "data.#.mobile", Type: "cn_mobile"}}})
	for _, c := range []struct{ value, attr string }{
		{"next=/account?customerName=Zhang; Path=/account; HttpOnly; Secure", "; Path=/account; HttpOnly; Secure"},
		{"next=/account?customerName=Zhang;HttpOnly;Secure", ";HttpOnly;Secure"},
	} {
		rec, _ := serveMask(t, m, httptest.NewRequest(http.MethodGet, "/api/customers/42", nil),
			func(w http.ResponseWriter, r *http.Request) error {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Set-Cookie", c.value)
				_, err := io.WriteString(w, `{"ok":true}`)
				return err
			})
		got := rec.Header().Get("Set-Cookie")
		if !strings.HasSuffix(got, c.attr) || strings.Contains(got, "Zhang") || !strings.HasPrefix(got, "next=/account?customerName=") {
			t.Errorf("Set-Cookie %q goes out as %q: want the name masked and %q kept", c.value, got, c.attr)
		}
	}
}

// Finding 6 (leak, incomplete fix of 53b finding 4): the WebSocket
// fallbacks' other polling transports carry the same JSON records, as a
// JSON string passed to a callback: SockJS's jsonp-polling
// (`/**/cb("a[…]");` under application/javascript) and htmlfile
// (`<script>p("a[…]");</script>` under text/html), Engine.IO's JSONP
// polling (`___eio[0]("42[…]");`, ?j=0). An agent picks the transport in
// the URL. The call is read as JSONP whose argument is a string, which
// is content-scanned (or the page is): the mobile is masked, the name
// and the address typed only by their keys go out in clear.
func TestReview54aSocketFallbackCallbackTransports(t *testing.T) {
	m := agentMask52(t, &Mask{Fields: []config.Field{{Path: "data.#.mobile", Type: "cn_mobile"}}})
	record := `{"name":"` + name52 + `","address":"` + address52 + `","mobile":"13812345678"}`
	stomp := "MESSAGE\ndestination:/topic/customer\ncontent-type:application/json;charset=UTF-8\n\n" + record + "\x00"
	frame := "a[" + jsonString54(stomp) + "]"
	for _, c := range []struct{ name, target, ct, body string }{
		{"SockJS jsonp-polling", "/sockjs/000/s1/jsonp?c=_jp.abc", "application/javascript; charset=UTF-8",
			"/**/_jp.abc(" + jsonString54(frame) + ");\r\n"},
		{"SockJS htmlfile", "/sockjs/000/s1/htmlfile?c=_jp.abc", "text/html; charset=UTF-8",
			"<!doctype html>\n<html><head></head><body><h2>Don't panic!</h2>\n<script>\nvar c = parent._jp.abc;\nc.start();\n" +
				"function p(d) {c.message(d);};\n</script>\r\n<script>\np(" + jsonString54("o") + ");\n</script>\r\n" +
				"<script>\np(" + jsonString54(frame) + ");\n</script>\r\n"},
		{"Engine.IO JSONP polling", "/socket.io/?EIO=4&transport=polling&j=0", "text/javascript; charset=UTF-8",
			"___eio[0](" + jsonString54(`42["customer",`+record+`]`) + ");"},
	} {
		rec, _, _ := serveMaskCut(t, m, httptest.NewRequest(http.MethodGet, c.target, nil), func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Content-Type", c.ct)
			_, err := io.WriteString(w, c.body)
			return err
		})
		if l := leaked52(rec.Body.String()); len(l) > 0 {
			t.Errorf("%s: the agent reads %q in clear (status %d)", c.name, l, rec.Code)
		}
	}
}

// After the fifty-fourth review (a): the JSON reading of a GraphQL body
// takes the request objects' query members only (any case, escapes
// decoded, every repeat), past nested containers, and the first value.
func TestReview54aJSONQueriesWalk(t *testing.T) {
	for _, c := range []struct {
		body string
		want []string
	}{
		{`{"variables":{"a":{"query":"{x: y}"}},"extensions":[1,{"k":2}],"query":"{n: name}"}`, []string{"{n: name}"}},
		{`{"Query":"a","\u0071uery":"b","QUERY":0}`, []string{"a", "b"}},
		{`[{"query":"a"},{"v":{"query":"no"}},{"query":"b"}] trailing`, []string{"a", "b"}},
		{"\xEF\xBB\xBF" + `{"query":"a"} {"query":"no"}`, []string{"a"}},
		{`{"query":{"match":{"name":"x"}}}`, nil},
	} {
		if got := jsonQueries([]byte(c.body)); !slices.Equal(got, c.want) {
			t.Errorf("%s: %q, want %q", c.body, got, c.want)
		}
	}
	for _, c := range []struct {
		doc  string
		want bool
	}{
		{`job:http_requests:rate5m{job="x"}`, false},
		{`{app="x"} |= "https://a"`, false},
		{`rate(x{a="b"}[5m])[30m:1m]`, false},
		{`{ customer { n: name } } ,,, @@`, true},
		{`query Q($a: Int = 1) { customer(id: 1) { name } } @@`, false},
	} {
		if got := renames(c.doc); got != c.want {
			t.Errorf("renames(%q) = %v, want %v", c.doc, got, c.want)
		}
	}
}

// After the fifty-fourth review (b): a coded request body is undone
// before the GraphQL check (a server's body parser inflates it); one in a
// coding the gateway cannot undo, of a type a query may come in, is
// refused with 415; a coded upload of another type passes whole.
func TestReview54aCodedGraphQLBodies(t *testing.T) {
	m := agentMask52(t, &Mask{Fields: []config.Field{{Path: "data.customer.name", Type: "person_name"}}})
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(`{"query":"{ customer(id: 7) { n: name } }"}`))
	zw.Close()
	for _, c := range []struct {
		ct, ce string
		body   []byte
		status int
	}{
		{"application/json", "gzip", gz.Bytes(), http.StatusForbidden},
		{"application/json", "x-unknown", []byte("abc"), http.StatusUnsupportedMediaType},
		{"image/png", "x-unknown", []byte("\x89PNG"), http.StatusOK},
	} {
		req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(c.body))
		req.Header.Set("Content-Type", c.ct)
		req.Header.Set("Content-Encoding", c.ce)
		var got []byte
		rec, _ := serveMask(t, m, req, func(w http.ResponseWriter, r *http.Request) error {
			got, _ = io.ReadAll(r.Body)
			w.Header().Set("Content-Type", "application/json")
			_, err := io.WriteString(w, `{"data":{}}`)
			return err
		})
		if rec.Code != c.status {
			t.Errorf("%s %s: %d, want %d", c.ct, c.ce, rec.Code, c.status)
		}
		if c.status == http.StatusOK && !bytes.Equal(got, c.body) {
			t.Errorf("%s %s: the upstream read %q", c.ct, c.ce, got)
		}
	}
}
