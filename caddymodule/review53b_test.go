package caddymodule

// Fifty-third review (b): response formats a legacy helpdesk, or the
// frameworks under it, really emit on a guarded route, read by an agent
// with a masked role (agentMask52's online_agent: person_name masked,
// address redacted, cn_mobile masked, * redacted). Names and addresses
// are typed only by JSON keys and field rules, so wherever the gateway
// reads a record as plain text they pass. Each test fails on the code as
// reviewed because a name, an address or a mobile reaches the agent in
// clear, and passes once it no longer does (masked or refused).
// Fake data only.

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/piigate/piigate/config"
)

// Finding 1 (leak, high): JSON in GBK with Chinese keys, served under a
// sniffed type that names no charset (text/html, as classic ASP, JSP and
// PHP pages of a Chinese-locale app send it; no type at all; text/plain;
// text/javascript), goes out unchanged: the keys 姓名 and 地址 are GBK
// bytes the key classifier (UTF-8) cannot read, so the name and the
// address are typed by nothing. A browser reads an unlabelled page in the
// locale's charset (GBK in China; Chrome's detector agrees), and so does
// an agent who saves the answer: 张三 and the address in clear.
//
// README (HTTP): "A body of a sniffed type whose charset is not declared
// must be UTF-8 throughout (the whole body is checked) … or it is refused
// as not text." In finish (mask_writer.go) the check (looksLikeText) runs
// only when Sniff says Text; a body Sniff reads as JSON (or NDJSON, or
// JSONP) is never checked, and the engine reads its bytes as they are.
// (Under application/json the README says JSON is taken to be UTF-8
// without a check; that case is not claimed here.)
//
// Suggested fix: in finish, when mw.sniff && !mw.charsetDeclared &&
// mw.charset == nil and the format is JSON, NDJSON or JSONP, refuse a
// body that is not valid UTF-8 (looksLikeText), as the README says; the
// cost stays off application/json's path.
func TestReview53bSniffedJSONInGBKUnchecked(t *testing.T) {
	m := agentMask52(t, &Mask{Fields: []config.Field{{Path: "data.#.mobile", Type: "cn_mobile"}}})
	record := `{"data":[{"姓名":"` + name52 + `","地址":"` + address52 + `","手机":"13812345678"}]}`
	gbk, err := simplifiedchinese.GBK.NewEncoder().String(record)
	if err != nil {
		t.Fatal(err)
	}
	for _, ct := range []string{"text/html", "", "text/plain", "text/javascript"} {
		rec, _ := serveMask(t, m, httptest.NewRequest(http.MethodGet, "/api/customers", nil),
			func(w http.ResponseWriter, r *http.Request) error {
				if ct == "" {
					w.Header()["Content-Type"] = nil
				} else {
					w.Header().Set("Content-Type", ct)
				}
				_, err := io.WriteString(w, gbk)
				return err
			})
		// As the agent's browser (Chinese locale) or editor reads it.
		shown, _ := simplifiedchinese.GBK.NewDecoder().String(rec.Body.String())
		if l := leaked52(shown); len(l) > 0 {
			t.Errorf("GBK JSON under %q, no charset: the agent reads %q in clear (status %d):\n%s", ct, l, rec.Code, shown)
		}
	}
}

// Finding 2 (leak, medium): JSON that is not quite JSON under
// text/x-json (the old JSON label of Prototype/Rails, ExtJS samples and
// much PHP of that era) is content-scanned as text, so its names and
// addresses pass. Legacy servers emit such bodies every day: Python's
// json.dumps writes NaN by default, JSON built by string concatenation in
// a JSP or PHP loop leaves a trailing comma, Json.NET's
// JavaScriptDateTimeConverter writes `new Date(…)`. Under application/json
// and text/json the same bodies are refused (malformed, 502); under
// text/plain and text/html too.
//
// In WriteHeader only application/json, text/json and +json take the
// JSON path; text/x-json falls to the sniffed text types with textLabel
// set (it is not plain, html or octet-stream), so a body that fails as
// JSON and as NDJSON is "that text", content-scanned whole (finish). The
// README documents that for "a label of its own kind of text (CSV, XML, a
// script)", and lists x-json with JSON among the text/* types that are no
// data format: text/x-json is JSON's label, not a kind of text of its own,
// and dataFormat does not refuse it either.
//
// Suggested fix: read text/x-json as text/json is (rewrite.JSON,
// modeBuffer), or at least leave it out of textLabel so a body that is
// not JSON is refused as under text/plain.
func TestReview53bXJSONMalformedScannedAsText(t *testing.T) {
	m := agentMask52(t, &Mask{Fields: []config.Field{{Path: "data.#.mobile", Type: "cn_mobile"}}})
	person := `"name":"` + name52 + `","address":"` + address52 + `","mobile":"13812345678"`
	for what, body := range map[string]string{
		"Python json.dumps NaN":                `{"data":[{` + person + `,"score":NaN}]}`,
		"JSP loop's trailing comma":            `{"data":[{` + person + `},]}`,
		"Json.NET JavaScriptDateTimeConverter": `{"data":[{` + person + `,"birthday":new Date(631152000000)}]}`,
	} {
		for _, status := range []int{http.StatusOK, http.StatusNotFound} {
			rec, _ := serveMask(t, m, httptest.NewRequest(http.MethodGet, "/api/customers", nil),
				func(w http.ResponseWriter, r *http.Request) error {
					w.Header().Set("Content-Type", "text/x-json; charset=utf-8")
					w.WriteHeader(status)
					_, err := io.WriteString(w, body)
					return err
				})
			if l := leaked52(rec.Body.String()); len(l) > 0 {
				t.Errorf("%s under text/x-json (%d): the agent reads %q in clear (status %d):\n%s", what, status, l, rec.Code, rec.Body)
			}
		}
	}
}

// Finding 3 (leak, high): a GraphQL endpoint on a guarded route lets the
// agent name the keys of the answer. With aliases (`n: name`,
// `a: address`, `m: mobile`, standard GraphQL every server honours) the
// response holds {"n":"张三","a":"北京…","m":"13812345678"}: no key names
// personal data, and a field rule by path (data.customer.name) misses the
// renamed member too. Under application/graphql-response+json (or
// application/json) the body is JSON by label, so scan names does not
// content-scan it: the mobile passes as well as the name and the address.
// The same query without aliases is masked (checked as the control).
//
// The README says nothing of GraphQL; it holds that key names and field
// rules type what content detectors cannot find, which assumes the
// upstream, not the client, chooses the keys.
//
// Suggested fix: on a guarded route, read a GraphQL request (POST with
// application/json {"query":…} or application/graphql, GET ?query=) and
// refuse one whose selection uses aliases (or rename the answer's keys
// back by the query's alias map before the rewrite, and alias them again
// after); document that a GraphQL route needs this, or scan all.
func TestReview53bGraphQLAliasesRenameKeys(t *testing.T) {
	m := agentMask52(t, &Mask{Fields: []config.Field{{Path: "data.customer.name", Type: "person_name"}}})
	// A GraphQL server's answer to each query (what any server returns).
	answers := map[string]string{
		`{ customer(id: 7) { name address mobile } }`:          `{"data":{"customer":{"name":"` + name52 + `","address":"` + address52 + `","mobile":"13812345678"}}}`,
		`{ customer(id: 7) { n: name a: address m: mobile } }`: `{"data":{"customer":{"n":"` + name52 + `","a":"` + address52 + `","m":"13812345678"}}}`,
	}
	for query, answer := range answers {
		reqBody := `{"query":` + strconv.Quote(query) + `}`
		req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(reqBody))
		req.Header.Set("Content-Type", "application/json")
		rec, _ := serveMask(t, m, req, func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Content-Type", "application/graphql-response+json")
			_, err := io.WriteString(w, answer)
			return err
		})
		if l := leaked52(rec.Body.String()); len(l) > 0 {
			t.Errorf("query %s: the agent reads %q in clear (status %d):\n%s", query, l, rec.Code, rec.Body)
		}
	}
}

// Finding 4 (leak, high; each label is documented as content-scanned,
// the combination is not): pii_mask refuses WebSocket openings by
// default, so the chat and push of a helpdesk built on Socket.IO or on
// Spring's STOMP over SockJS fall back to their HTTP transports, whose
// framing wraps the same JSON records: Engine.IO polling answers
// `42["event",{…}]` (v4; `<len>:42[…]` in v3) under text/plain; SockJS
// answers `a["<frame>"]` under application/javascript (xhr, xhr_streaming)
// and as event data (eventsource), a STOMP frame whose body is the JSON.
// None starts like JSON, so Sniff says Text (and event data that is not
// JSON is content-scanned): the mobile is masked by content, the customer's
// name and address, typed only by their keys, reach the agent in clear.
// A route with field rules or key names refuses CSV or XML for exactly
// this reason (README, Other data formats), but these framings are read
// as plain text or a script.
//
// Suggested fix: read JSON anywhere in a text body and in event data as
// the header path already does (jsonPieces, header_values.go: up to N
// places that look like JSON's start, each read as JSON with its keys
// typing its values, else the text refused on refuseData routes), which
// covers Engine.IO packets, SockJS frames and STOMP bodies (after one
// JSON-string decoding for SockJS); or recognise the two framings; or
// refuse, on refuseData routes, a 2xx text/plain, script or event-data
// body holding `{"` that is not read as JSON.
func TestReview53bWebSocketFallbackFrames(t *testing.T) {
	m := agentMask52(t, &Mask{Fields: []config.Field{{Path: "data.#.mobile", Type: "cn_mobile"}}})
	record := `{"name":"` + name52 + `","address":"` + address52 + `","mobile":"13812345678"}`
	stomp := "MESSAGE\ndestination:/topic/customer\ncontent-type:application/json;charset=UTF-8\n" +
		"subscription:sub-0\nmessage-id:1\n\n" + record + "\x00"
	sockFrame := "a[" + strconv.Quote(stomp) + "]"
	for _, c := range []struct {
		name, ct string
		writes   []string
	}{
		{"Engine.IO v4 polling", "text/plain; charset=UTF-8", []string{"40{\"sid\":\"x\"}\x1e42[\"customer\"," + record + "]"}},
		{"Engine.IO v3 polling", "text/plain; charset=UTF-8", []string{"90:42[\"customer\"," + record + "]"}},
		{"SockJS xhr", "application/javascript;charset=UTF-8", []string{sockFrame + "\n"}},
		{"SockJS xhr_streaming", "application/javascript;charset=UTF-8", []string{strings.Repeat("h", 2048) + "\n", "o\n", sockFrame + "\n"}},
		{"SockJS eventsource", "text/event-stream;charset=UTF-8", []string{"\r\n", "data: o\r\n\r\n", "data: " + sockFrame + "\r\n\r\n"}},
	} {
		rec, _, _ := serveMaskCut(t, m, httptest.NewRequest(http.MethodGet, "/socket/customers", nil),
			func(w http.ResponseWriter, r *http.Request) error {
				w.Header().Set("Content-Type", c.ct)
				w.WriteHeader(http.StatusOK)
				for _, p := range c.writes {
					if _, err := io.WriteString(w, p); err != nil {
						return err
					}
					w.(http.Flusher).Flush()
				}
				return nil
			})
		if l := leaked52(rec.Body.String()); len(l) > 0 {
			t.Errorf("%s: the agent reads %q in clear (status %d):\n%.300q", c.name, l, rec.Code, rec.Body)
		}
	}
}

// After the fifty-third review (b): GraphQL requests that rename a field
// are refused in each form a client sends them (GET ?query=, a JSON body,
// a batch, application/graphql, aliases in fragments); queries without
// aliases, and REST requests whose query parameter or JSON member is no
// GraphQL selection, reach the upstream with their body whole.
func TestReview53bGraphQLRequestForms(t *testing.T) {
	m := agentMask52(t, &Mask{Fields: []config.Field{{Path: "data.customer.name", Type: "person_name"}}})
	for _, c := range []struct {
		name, method, target, ct, body string
		refused                        bool
	}{
		{"GET", http.MethodGet, "/graphql?query=" + url.QueryEscape(`{customer(id:7){n:name}}`), "", "", true},
		{"batch", http.MethodPost, "/graphql", "application/json", `[{"query":"{a}"},{"query":"{customer{n: name}}"}]`, true},
		{"application/graphql", http.MethodPost, "/graphql", "application/graphql", `query Q { customer { x: address } }`, true},
		{"fragment", http.MethodPost, "/graphql", "application/json",
			`{"query":"query { customer { ...F } } fragment F on Customer { n: name }"}`, true},
		{"inline fragment", http.MethodPost, "/graphql", "application/json",
			`{"query":"{ node(id: 1) { ... on Customer { n: name } } }"}`, true},
		{"no alias", http.MethodPost, "/graphql", "application/json",
			`{"query":"query($id: ID!) { customer(id: $id) { name address } }","variables":{"id":"7"}}`, false},
		{"REST search", http.MethodGet, "/api/customers?query=" + url.QueryEscape("张三 status:open"), "", "", false},
		{"REST JSON", http.MethodPost, "/api/search", "application/json", `{"query":{"name":"x"},"page":2}`, false},
	} {
		req := httptest.NewRequest(c.method, c.target, strings.NewReader(c.body))
		if c.ct != "" {
			req.Header.Set("Content-Type", c.ct)
		}
		var got string
		rec, _ := serveMask(t, m, req, func(w http.ResponseWriter, r *http.Request) error {
			b, _ := io.ReadAll(r.Body)
			got = string(b)
			w.Header().Set("Content-Type", "application/json")
			_, err := io.WriteString(w, `{"data":{}}`)
			return err
		})
		if refused := rec.Code == http.StatusForbidden; refused != c.refused {
			t.Errorf("%s: status %d, want refused=%v: %s", c.name, rec.Code, c.refused, rec.Body)
		}
		if !c.refused && got != c.body {
			t.Errorf("%s: the upstream read %q, want %q", c.name, got, c.body)
		}
	}
}

// After the fifty-third review (b): text without a framed record is
// still content-scanned (not refused), under text/plain, a script and as
// event data; a framed record in event data cuts the stream as a data
// format; under data_formats scan the framings are content-scanned.
func TestReview53bFramedJSONOnlyRefused(t *testing.T) {
	m := agentMask52(t, &Mask{Fields: []config.Field{{Path: "data.#.mobile", Type: "cn_mobile"}}})
	for _, c := range []struct{ ct, body, want string }{
		{"text/plain", "call 13812345678 {later}", "call 138****5678 {later}"},
		{"application/javascript", "var a = [1, 2];\nc = {x: 1};", "var a = [1, 2];\nc = {x: 1};"},
		{"text/event-stream", "data: call 13812345678\n\n", "data: call 138****5678\n\n"},
	} {
		rec, _, _ := serveMaskCut(t, m, httptest.NewRequest(http.MethodGet, "/api/x", nil), func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Content-Type", c.ct)
			_, err := io.WriteString(w, c.body)
			return err
		})
		if rec.Code != http.StatusOK || rec.Body.String() != c.want {
			t.Errorf("%s: %d %q, want %q", c.ct, rec.Code, rec.Body, c.want)
		}
	}
	_, vars, _ := serveMaskCut(t, m, httptest.NewRequest(http.MethodGet, "/api/x", nil), func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "text/event-stream")
		_, err := io.WriteString(w, "data: 42[\"customer\",{\"name\":\"张三\"}]\n\n")
		return err
	})
	if out := vars[varOutcome].(*Outcome); out.Reason != reasonDataFormat {
		t.Errorf("a framed record in event data: result %s, reason %q", out.Result, out.Reason)
	}
	scan := agentMask52(t, &Mask{Fields: []config.Field{{Path: "data.#.mobile", Type: "cn_mobile"}}, DataFormats: dataFormatsScan})
	rec, _, _ := serveMaskCut(t, scan, httptest.NewRequest(http.MethodGet, "/api/x", nil), func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "text/plain")
		_, err := io.WriteString(w, `42["customer",{"mobile":"13812345678"}]`)
		return err
	})
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "138****5678") {
		t.Errorf("data_formats scan: %d %s", rec.Code, rec.Body)
	}
}

// A GraphQL multipart request (uploads) carries its query in the
// "operations" part: read too.
func TestReview53bGraphQLMultipart(t *testing.T) {
	m := agentMask52(t, &Mask{Fields: []config.Field{{Path: "data.customer.name", Type: "person_name"}}})
	body := "--B\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n" +
		`{"query":"mutation($f: Upload!) { upload(file: $f) { n: name } }","variables":{"f":null}}` +
		"\r\n--B\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n{\"0\":[\"variables.f\"]}\r\n--B--\r\n"
	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
	req.Header.Set("Content-Type", "multipart/form-data; boundary=B")
	rec, _ := serveMask(t, m, req, func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "application/json")
		_, err := io.WriteString(w, `{"data":{}}`)
		return err
	})
	if rec.Code != http.StatusForbidden {
		t.Errorf("an aliased query in a multipart request: %d %s", rec.Code, rec.Body)
	}
}
