package caddymodule

// Fifty-fifth review (a): the round-54 fixes checked (the loose GraphQL
// request reading, framed callback transports). Each test fails on the
// code as reviewed. Fake data only.

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/piigate/piigate/config"
)

const alias55 = `{ customer(id: 7) { n: name a: address } }`

func gqlBody55(doc string) string {
	b, _ := json.Marshal(map[string]string{"query": doc})
	return string(b)
}

// gql55 is gql54 with the upstream's read of the body returned too.
func gql55(t *testing.T, m *Mask, req *http.Request) (code int, reached bool, got []byte) {
	t.Helper()
	if m == nil {
		m = agentMask52(t, &Mask{Fields: []config.Field{{Path: "data.customer.name", Type: "person_name"}}})
	}
	rec, _ := serveMask(t, m, req, func(w http.ResponseWriter, r *http.Request) error {
		reached = true
		got, _ = io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, err := io.WriteString(w, `{"data":{}}`)
		return err
	})
	return rec.Code, reached, got
}

// Finding 1 (over-refusal, regression of 54a finding 6): framedCall
// refuses, on every route with field rules, any 2xx page, script or text
// that holds `("a[`, `("c[` or `("<digits>[`/`("<digits>{` anywhere —
// not only a SockJS or Engine.IO callback transport. An attribute
// selector in a string argument is exactly that: jQuery's
// $("a[href^='http']"), document.querySelectorAll("a[href]"), a log line
// console.log("1[x]"). Ordinary pages and bundles served behind the
// gateway are answered 502 data_format.
//
// Suggested fix: require the framing's shape, not a substring: the
// callee is the whole call (`/**/cb("a[…]");`, `p("a[…]");` alone in a
// <script>, `___eio[i]("<digits>…");`), the string argument is a JSON
// string literal that decodes to a frame (a[…]/c[…] a JSON array, or
// Engine.IO digits then JSON) and is the call's only argument; or tie it
// to the request (?c= / ?j= / transport=polling as askedJSONP does).
func TestReview55aFramedCallRefusesOrdinaryScripts(t *testing.T) {
	m := agentMask52(t, &Mask{Fields: []config.Field{{Path: "data.#.mobile", Type: "cn_mobile"}}})
	for _, c := range []struct{ name, ct, body string }{
		{"jQuery page", "text/html; charset=utf-8",
			"<!doctype html><html><body><a href=\"https://example.com\">x</a>\n" +
				"<script>$(\"a[href^='http']\").attr(\"target\", \"_blank\");</script></body></html>"},
		{"script bundle", "application/javascript",
			"document.querySelectorAll(\"a[href]\").forEach(function (a) { a.rel = \"noopener\"; });\n"},
		{"log call", "text/javascript", "console.log(\"1[x]\");\n"},
	} {
		rec, _, cut := serveMaskCut(t, m, httptest.NewRequest(http.MethodGet, "/app/main", nil),
			func(w http.ResponseWriter, r *http.Request) error {
				w.Header().Set("Content-Type", c.ct)
				_, err := io.WriteString(w, c.body)
				return err
			})
		if cut != nil || rec.Code != http.StatusOK || rec.Body.String() != c.body {
			t.Errorf("%s: status %d (cut %v), body %q: an ordinary %s refused", c.name, rec.Code, cut, rec.Body.String(), c.ct)
		}
	}
}

// Finding 2 (regression, hang): graphQLRequest now reads the first 64
// bytes of every request body, of any type (startsLikeJSON's
// io.ReadFull), and the whole body up to max_body when it starts with {
// or [ (peekBody), before anything after pii_mask runs. A request body
// that is a stream the client feeds as the response comes — a gRPC or
// Connect bidi stream, an NDJSON duplex over HTTP/2, a long upload whose
// client waits for an early answer — never reaches the upstream: the
// gateway waits for bytes the client sends only after a response.
// Before round 54 an application/octet-stream or x-ndjson body was not
// read at all.
//
// Suggested fix: never block on the body for types no GraphQL server
// reads (application/octet-stream, application/grpc*, */x-ndjson …);
// for the rest, peek only what has already arrived or bound the wait,
// and read whole only bodies that are whole (Content-Length set and
// ≤ max_body), refusing (or passing, per policy) a stream of an unknown
// length rather than hanging on it.
func TestReview55aGraphQLPeekBlocksStreamingRequest(t *testing.T) {
	m := agentMask52(t, &Mask{Fields: []config.Field{{Path: "data.customer.name", Type: "person_name"}}})
	for _, c := range []struct{ ct, first string }{
		{"application/octet-stream", "\x00\x00\x00\x00\x05hello"},
		{"application/x-ndjson", "{\"op\":\"subscribe\",\"topic\":\"t\"}\n"},
	} {
		pr, pw := io.Pipe()
		reached := make(chan struct{})
		go func() {
			pw.Write([]byte(c.first))
			// The client sends more only once it has an answer.
			select {
			case <-reached:
			case <-time.After(2 * time.Second):
			}
			pw.Close()
		}()
		req := httptest.NewRequest(http.MethodPost, "/api/stream", pr)
		req.Proto, req.ProtoMajor, req.ProtoMinor = "HTTP/2.0", 2, 0
		req.ContentLength = -1
		req.Header.Set("Content-Type", c.ct)
		start := time.Now()
		var waited time.Duration
		serveMask(t, m, req, func(w http.ResponseWriter, r *http.Request) error {
			waited = time.Since(start)
			close(reached)
			w.Header().Set("Content-Type", "application/json")
			_, err := io.WriteString(w, `{"ok":true}`)
			io.Copy(io.Discard, r.Body)
			return err
		})
		if waited > time.Second {
			t.Errorf("%s: the upstream was reached only after %v, when the client gave up on an answer", c.ct, waited.Round(100*time.Millisecond))
		}
	}
}

// Finding 3 (over-refusal): a body over max_body is refused 413 when it
// merely starts with { or [ (under any type) and holds anywhere the
// bytes "uery", "%" or `\u`. That is not "may hold a query": an RTF
// document starts with `{\rtf1` and writes every non-ASCII letter as
// \uN; a log file's lines start with `[2026-…]`; neither is JSON past its
// second byte, and no server reads a query member from them. In a real
// JSON body "%" can spell nothing ("quer%79" is no JSON key), and `\u`
// escapes of other letters (Python's json.dumps writes 张 as \u5f20) spell
// no "query". Before round 54 neither an RTF nor a log upload was read.
//
// Suggested fix: walk the read prefix with the JSON tokenizer (as
// jsonQueries does) and answer 413 only when it is still valid JSON at
// the limit and a top-level key so far (or the key cut at the limit)
// could be "query"; drop "%" for non-form bodies and test `\u` escapes
// only for the letters of query.
//
// (Since the fifty-sixth review a JSON body still open at max_body is
// refused whatever it held so far: a query member may follow the limit.
// Files and logs that are no JSON pass, as here.)
func TestReview55aOversizeBodyRefusedAsGraphQL(t *testing.T) {
	m := agentMask52(t, &Mask{MaxBody: 4096, Fields: []config.Field{{Path: "data.customer.name", Type: "person_name"}}})
	for _, c := range []struct{ name, ct, body string }{
		{"RTF document", "application/rtf",
			`{\rtf1\ansi\deff0{\fonttbl{\f0 SimSun;}}` + strings.Repeat(`\pard \u24352?\u19977? 50\% done\par`+"\n", 200) + "}"},
		{"log file", "application/octet-stream",
			strings.Repeat("[2026-11-28 09:00:00] WARN disk /var at 91% full\n", 120)},
	} {
		if len(c.body) <= 4096 {
			t.Fatalf("%s: body of %d bytes is not over max_body", c.name, len(c.body))
		}
		req := httptest.NewRequest(http.MethodPost, "/api/upload", strings.NewReader(c.body))
		req.Header.Set("Content-Type", c.ct)
		code, reached, got := gql55(t, m, req)
		if !reached || string(got) != c.body {
			t.Errorf("%s (%s, %d bytes): refused with %d as a GraphQL request too large to check", c.name, c.ct, len(c.body), code)
		}
	}
}

// Finding 4 (leak): a JSON body in UTF-16 is read by servers and not by
// the check. Python's json.loads on bytes detects UTF-16 and UTF-32 by
// their zero bytes (Starlette's request.json(), so Ariadne and Strawberry
// on FastAPI/Starlette), and Express's body-parser decodes any utf-*
// charset named in the type. The check decodes nothing: the UTF-16LE
// body starts with `{` and jsonQueries stops at the zero byte; a
// UTF-16BE one starts with a zero byte, so startsLikeJSON is false and
// the body is not even read.
//
// Suggested fix: detect UTF-16/32 (BOM, or RFC 4627's zero-byte pattern,
// and the charset parameter) in startsLikeJSONBytes and jsonQueries and
// transcode to UTF-8 before reading; or refuse a guarded body that is
// JSON-ish but not UTF-8.
func TestReview55aGraphQLUTF16Body(t *testing.T) {
	body := gqlBody55(alias55)
	u := utf16.Encode([]rune(body))
	le := make([]byte, 2*len(u))
	be := make([]byte, 2*len(u))
	for i, c := range u {
		binary.LittleEndian.PutUint16(le[2*i:], c)
		binary.BigEndian.PutUint16(be[2*i:], c)
	}
	for _, c := range []struct {
		name, ct string
		body     []byte
	}{
		{"UTF-16LE (json.loads)", "application/json", le},
		{"UTF-16BE (json.loads)", "application/json", be},
		{"UTF-16LE with BOM, charset named (body-parser)", "application/json; charset=utf-16", append([]byte{0xFF, 0xFE}, le...)},
	} {
		req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(c.body))
		req.Header.Set("Content-Type", c.ct)
		if code, reached, _ := gql55(t, nil, req); reached {
			t.Errorf("%s: an aliased query reached the upstream (status %d)", c.name, code)
		}
	}
}

// Finding 5 (leak): a Content-Type that is a list. GraphQL Yoga reads a
// request's type as the part before the first comma ("a list of
// content-types is not valid as per HTTP spec, but some clients dont
// care": isContentTypeMatch), so `application/x-www-form-urlencoded,
// text/plain` is a form and `application/graphql, text/plain` a GraphQL
// document to it. mime.ParseMediaType rejects the list and media is "":
// a form body (query=…) does not start like JSON and is not read; a
// document `{ customer { n: name } }` starts like JSON, is read as JSON,
// and holds no query member.
//
// Suggested fix: when ParseMediaType fails, fall back to the text before
// the first ',' or ';' (trimmed, lowercased) as the media type — or
// refuse a guarded request with a body whose type cannot be parsed.
func TestReview55aGraphQLContentTypeList(t *testing.T) {
	for _, c := range []struct{ ct, body string }{
		{"application/x-www-form-urlencoded, text/plain", "query=" + url.QueryEscape(alias55)},
		{"application/graphql, text/plain", alias55},
		{"application/graphql, text/plain", "query Q " + alias55},
	} {
		req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(c.body))
		req.Header.Set("Content-Type", c.ct)
		if code, reached, _ := gql55(t, nil, req); reached {
			t.Errorf("Content-Type %q, body %q: an aliased query reached the upstream (status %d)", c.ct, c.body, code)
		}
	}
}

// Finding 6 (leak): multipart parts the check does not name. Go's
// Part.FormName is "" unless the disposition is exactly form-data; PHP
// ($_POST, so webonyx/graphql-php's multipart reading), Django
// (graphene-file-upload, Strawberry's Django view) and Starlette's
// parser (Ariadne) take a part's name= under any disposition
// (`attachment; name="operations"`). And over max_body only the first
// part is judged (firstPartIsQuery), while those servers read the whole
// form and find "operations" wherever it is (request.POST / form.get):
// a large file first, then the operations, is never checked.
//
// Suggested fix: read the name parameter of Content-Disposition whatever
// its type (mime.ParseMediaType on the header, params["name"]); for a
// multipart body over max_body, scan its parts as a stream (skipping the
// file parts' contents without holding them) for an operations or query
// part anywhere, or refuse it.
func TestReview55aGraphQLMultipartNamesMissed(t *testing.T) {
	ops := `{"query":` + jsonString54(alias55) + `,"variables":{}}`
	small := "--B\r\nContent-Disposition: attachment; name=\"operations\"\r\n\r\n" + ops +
		"\r\n--B\r\nContent-Disposition: attachment; name=\"map\"\r\n\r\n{}\r\n--B--\r\n"
	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(small))
	req.Header.Set("Content-Type", "multipart/form-data; boundary=B")
	if code, reached, _ := gql55(t, nil, req); reached {
		t.Errorf("operations under Content-Disposition: attachment reached the upstream (status %d)", code)
	}

	// (An upload over max_body whose operations come after its file is
	// a documented limit: the spec puts them first, and only the first
	// part of such a body is judged.)
}

// Finding 7 (leak): looksAliased reads a document gqlparser rejects only
// when it starts with { or a keyword after white space, commas and a
// BOM — not after a comment, which GraphQL ignores like white space.
// gqlparser refuses what graphql-js (Apollo Server, Yoga) parses: a
// selection nested 1000 deep (MaxNestingDepth), here inline fragments on
// Query, valid against any schema. `#\n{ … n: name … }` is parsed by the
// server, rejected by gqlparser, and passed by looksAliased.
//
// Suggested fix: skip comments (and every ignored token) before the
// start test in looksAliased; better, refuse any document gqlparser
// cannot parse that starts as GraphQL after ignored tokens, and treat a
// depth error as a refusal, not as "unparseable, maybe not GraphQL".
func TestReview55aGraphQLCommentHidesUnparsedAlias(t *testing.T) {
	deep := strings.Repeat("... on Query { ", 1000) + "customer(id: 7) { n: name }" + strings.Repeat(" }", 1000)
	for _, doc := range []string{
		"# customer lookup\n{ " + deep + " }",
		"#\nquery Q { " + deep + " }",
	} {
		req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(gqlBody55(doc)))
		req.Header.Set("Content-Type", "application/json")
		if code, reached, _ := gql55(t, nil, req); reached {
			t.Errorf("%.40q…: an aliased query reached the upstream (status %d)", doc, code)
		}
	}
}

// goneBody55 gives head, then fails as a request body does when the
// client's connection is reset mid-upload.
type goneBody55 struct{ head *strings.Reader }

func (b goneBody55) Read(p []byte) (int, error) {
	if b.head.Len() > 0 {
		return b.head.Read(p)
	}
	return 0, io.ErrUnexpectedEOF
}

// Finding 8 (wrong metrics, incomplete fix of 54a's client_gone): an
// agent who leaves while the request body is still coming is counted as
// a refusal. peekBody takes a read error for "over max_body" (whole is
// false), and a body that starts like JSON and holds "uery", "%" or `\u`
// in what arrived is answered 413 and recorded refused{reason=
// "graphql_alias"}, with a warning "refused a guarded response" — the
// very case round 54 moved to result client_gone for responses. An
// aborted upload is no oversize GraphQL request.
//
// Suggested fix: tell a read error from the limit in peekBody (and in
// startsLikeJSON); on an error with the request's context done record
// client_gone (no refusal), on another read error answer 400 (or pass the
// error on) rather than 413 graphql_alias.
func TestReview55aAbortedUploadCountedAsRefusal(t *testing.T) {
	m := agentMask52(t, &Mask{Fields: []config.Field{{Path: "data.customer.name", Type: "person_name"}}})
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the agent left
	req := httptest.NewRequest(http.MethodPost, "/api/tickets", nil).WithContext(ctx)
	req.Body = io.NopCloser(goneBody55{strings.NewReader(`{"subject":"refund query","body":"50% of `)})
	req.ContentLength = 1 << 20
	req.Header.Set("Content-Type", "application/json")
	rec, vars, _ := serveMaskCut(t, m, req, func(w http.ResponseWriter, r *http.Request) error {
		io.Copy(io.Discard, r.Body)
		return caddyhttp.Error(499, context.Canceled)
	})
	out, _ := vars[varOutcome].(*Outcome)
	if out == nil || out.Result != resultClientGone {
		var res, reason string
		if out != nil {
			res, reason = out.Result, out.Reason
		}
		t.Errorf("an upload the agent abandoned: status %d, result %q reason %q, want result %q", rec.Code, res, reason, resultClientGone)
	}
}
