package caddymodule

// Fifty-sixth review (a): the round-55a fixes checked (GraphQL request
// reading, framed callback transports). Each test fails on the code as
// reviewed. Fake data only.

import (
	"bytes"
	"encoding/binary"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/piigate/piigate/config"
)

// Finding 1 (hang, incomplete fix of 55a finding 2): the known-length
// rule reads a body of unknown length under every type mayBeJSON takes,
// and mayBeJSON takes any "+json" suffix. gRPC with the JSON codec
// (application/grpc+json) and Connect streaming with JSON
// (application/connect+json) are exactly the bidi streams the fix meant
// not to hold: startsLikeJSON's io.ReadFull waits for 64 bytes the client
// sends only after an answer (an envelope is 5 bytes + a short message).
//
// Suggested fix: keep the +json suffix out of the unknown-length rule
// (application/json, text/plain and none only), or never block on the
// head: peek only what has arrived, and exclude application/grpc* and
// application/connect+* outright.
func TestReview56aGraphQLPeekBlocksJSONCodecStreams(t *testing.T) {
	m := agentMask52(t, &Mask{Fields: []config.Field{{Path: "data.customer.name", Type: "person_name"}}})
	for _, ct := range []string{"application/grpc+json", "application/connect+json"} {
		msg := []byte(`{"topic":"t"}`)
		env := make([]byte, 5, 5+len(msg))
		binary.BigEndian.PutUint32(env[1:], uint32(len(msg)))
		env = append(env, msg...)
		pr, pw := io.Pipe()
		reached := make(chan struct{})
		go func() {
			pw.Write(env)
			select { // the client sends more only once it has an answer
			case <-reached:
			case <-time.After(2 * time.Second):
			}
			pw.Close()
		}()
		req := httptest.NewRequest(http.MethodPost, "/svc.Chat/Talk", pr)
		req.Proto, req.ProtoMajor, req.ProtoMinor = "HTTP/2.0", 2, 0
		req.ContentLength = -1
		req.Header.Set("Content-Type", ct)
		start := time.Now()
		var waited time.Duration
		serveMask(t, m, req, func(w http.ResponseWriter, r *http.Request) error {
			waited = time.Since(start)
			close(reached)
			w.Header().Set("Content-Type", ct)
			io.Copy(io.Discard, r.Body)
			return nil
		})
		if waited > time.Second {
			t.Errorf("%s: the upstream was reached only after %v (the stream was held)", ct, waited.Round(100*time.Millisecond))
		}
	}
}

// Finding 2 (leak, incomplete fix of 55a finding 4): UTF-32. Python's
// json.loads on bytes (Starlette's request.json(): Strawberry, Ariadne on
// FastAPI/Starlette) detects UTF-32 as it does UTF-16 (the 55a finding
// named both). toUTF8 reads a UTF-32LE body (`{ 00 00 00`) as UTF-16LE, so
// it decodes to `{` NUL `"` NUL … and the JSON walk stops at the first
// NUL; a UTF-32BE body (`00 00 00 {`) and one with the UTF-32LE BOM
// (FF FE 00 00, taken for UTF-16LE's) do not start like JSON and are not
// read at all.
//
// Suggested fix: detect UTF-32 first, as json.detect_encoding does (BOMs
// 00 00 FE FF / FF FE 00 00; XX 00 00 00 and 00 00 00 XX), or refuse a
// guarded body that is neither UTF-8 nor decodable.
func TestReview56aGraphQLUTF32Body(t *testing.T) {
	body := []rune(gqlBody55(alias55))
	le := make([]byte, 4*len(body))
	be := make([]byte, 4*len(body))
	for i, r := range body {
		binary.LittleEndian.PutUint32(le[4*i:], uint32(r))
		binary.BigEndian.PutUint32(be[4*i:], uint32(r))
	}
	for _, c := range []struct {
		name string
		body []byte
	}{
		{"UTF-32LE", le},
		{"UTF-32BE", be},
		{"UTF-32LE with BOM", append([]byte{0xFF, 0xFE, 0, 0}, le...)},
	} {
		req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(c.body))
		req.Header.Set("Content-Type", "application/json")
		if code, reached, _ := gql55(t, nil, req); reached {
			t.Errorf("%s: an aliased query reached the upstream (status %d)", c.name, code)
		}
	}
}

// Finding 3 (leak): a body over max_body is refused only when what was
// read holds a query member or parameter. Nothing puts the query first:
// `{"variables":{…large…},"query":"{ n: name }"}` is an ordinary request
// (Apollo and gqlgen read members in any order), and a form's pairs come
// in any order. The read prefix holds no "query", the check passes, and
// the upstream reads the whole body and its aliased query. (The README
// documents the multipart case only.)
//
// Suggested fix: a JSON body whose first value has not closed within
// max_body may still get a top-level query member: 413 when the prefix
// is a JSON object (or batch) still open at the limit, unless the route
// is known not to be GraphQL; or keep walking the JSON tokens past the
// limit as the body streams on to the upstream (holding nothing) and cut
// it on a query member whose document renames. Likewise a form: 413 when
// the limit falls before the form's end.
func TestReview56aGraphQLOversizeQueryAfterLimit(t *testing.T) {
	m := agentMask52(t, &Mask{MaxBody: 4096, Fields: []config.Field{{Path: "data.customer.name", Type: "person_name"}}})
	pad := strings.Repeat("a", 5000)
	for _, c := range []struct{ ct, body string }{
		{"application/json", `{"variables":{"note":"` + pad + `"},"query":` + jsonString54(alias55) + `}`},
		{"application/x-www-form-urlencoded", "variables=" + pad + "&query=" + url.QueryEscape(alias55)},
	} {
		req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(c.body))
		req.Header.Set("Content-Type", c.ct)
		if code, reached, got := gql55(t, m, req); reached && strings.Contains(string(got), "n: name") || reached && strings.Contains(string(got), "n%3A+name") {
			t.Errorf("%s body of %d bytes, query after max_body: the aliased query reached the upstream (status %d)", c.ct, len(c.body), code)
		}
	}
}

// Finding 4 (leak, incomplete fix of 55a finding 7): looksAliased skips a
// comment up to "\n" only. GraphQL's line terminators are \n, \r\n and \r
// (graphql-js readComment stops at either), so `# c\r{ … }` is a comment
// then a document to the server, and all comment to the check. Inside the
// braces the same: `#x\r n: name` hides the alias, and a comment between
// an alias and its colon (`n #x\n : name`, ignored tokens may stand
// anywhere) is not skipped before the colon test. The documents below
// are ones gqlparser rejects (nesting over its limit, as in 55a) and
// graphql-js parses.
//
// Suggested fix: end a comment at \n or \r (both places), and skip
// comments as well as white space and commas between a name and ':'.
func TestReview56aGraphQLCommentLineTerminators(t *testing.T) {
	deep := func(sel string) string {
		return strings.Repeat("... on Query { ", 1000) + "customer(id: 7) { " + sel + " }" + strings.Repeat(" }", 1000)
	}
	for _, doc := range []string{
		"# customer lookup\r{ " + deep("n: name") + " }",
		"{ " + deep("#x\rn: name") + " }",
		"{ " + deep("n #x\n: name") + " }",
	} {
		req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(gqlBody55(doc)))
		req.Header.Set("Content-Type", "application/json")
		if code, reached, _ := gql55(t, nil, req); reached {
			t.Errorf("%.60q…: an aliased query reached the upstream (status %d)", doc, code)
		}
	}
}

// Finding 5 (leak, incomplete fix of 55a finding 5): requestMedia falls
// back, when mime.ParseMediaType fails on a parameter, to the type with
// no parameters at all: a multipart body's boundary is lost and its
// operations are never read. Django (graphene-file-upload, Strawberry's
// Django view), Starlette and PHP read `multipart/form-data; boundary=B;
// charset` leniently (a parameter without '=' is skipped) and find the
// operations.
//
// Suggested fix: on ErrInvalidMediaParameter read the parameters
// leniently (split at ';', keep key=value pairs, first wins), or refuse a
// guarded multipart body whose boundary cannot be read.
func TestReview56aGraphQLMultipartLenientParams(t *testing.T) {
	ops := `{"query":` + jsonString54(alias55) + `,"variables":{}}`
	body := "--B\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n" + ops +
		"\r\n--B\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n{}\r\n--B--\r\n"
	for _, ct := range []string{"multipart/form-data; boundary=B; charset", "multipart/form-data; boundary=B; charset=utf-8; x"} {
		req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
		req.Header.Set("Content-Type", ct)
		if code, reached, _ := gql55(t, nil, req); reached {
			t.Errorf("Content-Type %q: the operations' aliased query reached the upstream (status %d)", ct, code)
		}
	}
}

// Finding 6 (leak still open): isFrame takes an Engine.IO packet as its
// digits (and ':' of a v3 payload) followed at once by [ or {. Socket.IO
// writes an event to a namespace as `42/admin,[…]` and one with binary
// attachments as `451-[…]` (the JSON beside the placeholders is the
// record): neither is read as a frame, so the JSONP polling answer is
// content-scanned and the name and address typed by their keys only go
// out in clear. (The old substring test missed them too.)
//
// Suggested fix: read a Socket.IO packet after the Engine.IO type digit:
// the Socket.IO type, an optional `<n>-` attachment count, an optional
// `/nsp,` namespace, an optional ack id, then JSON.
func TestReview56aSocketIONamespacedFrames(t *testing.T) {
	m := agentMask52(t, &Mask{Fields: []config.Field{{Path: "data.#.mobile", Type: "cn_mobile"}}})
	record := `{"name":"` + name52 + `","address":"` + address52 + `"}`
	for _, packet := range []string{
		`42/admin,["customer",` + record + `]`,
		`451-["customer",` + record + `,{"_placeholder":true,"num":0}]`,
		`42/admin,17["customer",` + record + `]`,
	} {
		body := "___eio[0](" + jsonString54(packet) + ");"
		rec, _, _ := serveMaskCut(t, m, httptest.NewRequest(http.MethodGet, "/socket.io/?EIO=4&transport=polling&j=0", nil),
			func(w http.ResponseWriter, r *http.Request) error {
				w.Header().Set("Content-Type", "text/javascript; charset=UTF-8")
				_, err := io.WriteString(w, body)
				return err
			})
		if l := leaked52(rec.Body.String()); len(l) > 0 {
			t.Errorf("%.30q…: the agent reads %q in clear (status %d)", packet, l, rec.Code)
		}
	}
}
