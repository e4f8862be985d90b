package caddymodule

// Fifty-eighth review: the round-57a fixes checked (requestMedia rewritten,
// wide(), multipart under every boundary). Each test fails on the code as
// reviewed. Fake data only.

import (
	"bytes"
	"encoding/binary"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/piigate/piigate/config"
)

// multipart58 frames a GraphQL multipart upload (operations first) whose
// operations carry an aliased query, with boundary b.
func multipart58(b string) string {
	ops := `{"query":` + jsonString54(alias55) + `,"variables":{}}`
	return "--" + b + "\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n" + ops +
		"\r\n--" + b + "\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n{}\r\n--" + b + "--\r\n"
}

// Finding 1 (leak, regression): requestMedia no longer tries
// mime.ParseMediaType first, and its own reading knows no RFC 2231
// parameters. boundary*= (charset utf-8, no language, value B1) and `boundary*0="B"; boundary*1="1"`
// are read by Go's mime.ParseMediaType (gqlgen and every net/http server:
// r.MultipartReader, r.ParseMultipartForm) as boundary B1, and by Django's
// parse_header_parameters (name*= with a charset and language before the value) too. The gateway
// sees keys "boundary*" and "boundary*0"/"boundary*1", collects no
// boundary at all, and the aliased operations pass unchecked. Before
// e6e1346 ParseMediaType succeeded on these headers and the body was
// checked under B1.
func TestReview58GraphQLMultipartRFC2231Boundary(t *testing.T) {
	for _, ct := range []string{
		`multipart/form-data; boundary*=utf-8''B1`,
		`multipart/form-data; boundary*0="B"; boundary*1="1"`,
	} {
		if _, p, err := mime.ParseMediaType(ct); err != nil || p["boundary"] != "B1" {
			t.Fatalf("control: Go's mime reads %q as %v, %v", ct, p, err)
		}
		req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(multipart58("B1")))
		req.Header.Set("Content-Type", ct)
		if code, reached, _ := gql55(t, nil, req); reached {
			t.Errorf("Content-Type %q (Go and Django read boundary B1): the operations' aliased query reached the upstream (status %d)", ct, code)
		}
	}
}

// Finding 2 (leak, regression): a quoted parameter value is decoded with
// strconv.Unquote, Go's string-literal syntax, not HTTP's quoted-string.
// `"a\b"` becomes "a" + BACKSPACE, `"A\x42"` becomes "AB"; one with an
// escape Go does not know (`"x\-y"`) fails to unquote and is kept with
// its quotes as the boundary. Go's mime (unnecessary escapes before a
// non-tspecial kept as a literal backslash, for MSIE), Django and
// Starlette (only \\ and \" undone) all read a\b, A\x42, x\-y. The body
// framed with what the server reads is checked under another boundary:
// no part, the aliased operations pass. Before e6e1346 ParseMediaType
// read these as the servers do.
func TestReview58GraphQLMultipartBoundaryGoUnquote(t *testing.T) {
	for _, c := range []struct{ ct, server string }{
		{`multipart/form-data; boundary="a\b"`, `a\b`},
		{`multipart/form-data; boundary="A\x42"`, `A\x42`},
		{`multipart/form-data; boundary="x\-y"`, `x\-y`},
	} {
		if _, p, err := mime.ParseMediaType(c.ct); err != nil || p["boundary"] != c.server {
			t.Fatalf("control: Go's mime reads %q as %v, %v", c.ct, p, err)
		}
		_, _, got := requestMedia(c.ct)
		req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(multipart58(c.server)))
		req.Header.Set("Content-Type", c.ct)
		if code, reached, _ := gql55(t, nil, req); reached {
			t.Errorf("Content-Type %s: servers read boundary %q, the gateway %q; the aliased query reached the upstream (status %d)",
				c.ct, c.server, got, code)
		}
	}
}

// Finding 3 (leak, incomplete fix of 57a finding 3): "every boundary
// given" is every parameter named exactly boundary, read one way. PHP
// (main/rfc1867.c, still in PHP 8) finds the boundary with
// strstr(content_type, "boundary") and strchr '=': the first occurrence of
// the bytes "boundary" anywhere, so `xboundary=Q; boundary=A` is read as
// Q (a known WAF bypass), and an unquoted value ends at ',' or ';'.
// Django reads an unquoted `boundary=a,b` whole (its parameters are split
// at ';' only), where the gateway cuts the list at the comma and keeps
// "a". A body framed with the server's boundary passes unchecked.
func TestReview58GraphQLMultipartBoundaryServersReadOtherwise(t *testing.T) {
	for _, c := range []struct{ ct, server, who string }{
		{`multipart/form-data; xboundary=Q; boundary=A`, "Q", "PHP (strstr \"boundary\")"},
		{`multipart/form-data; boundary=a,b`, "a,b", "Django (parse_header_parameters)"},
	} {
		_, _, got := requestMedia(c.ct)
		req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(multipart58(c.server)))
		req.Header.Set("Content-Type", c.ct)
		if code, reached, _ := gql55(t, nil, req); reached {
			t.Errorf("Content-Type %s: %s reads boundary %q, the gateway checks %q; the aliased query reached the upstream (status %d)",
				c.ct, c.who, c.server, got, code)
		}
	}
}

// utf32BE58 encodes s as UTF-32BE without a byte-order mark (toUTF8 reads
// 00 00 00 xx as UTF-32BE, as Python's json.detect_encoding does).
func utf32BE58(s string) []byte {
	r := []rune(s)
	b := make([]byte, 4*len(r))
	for i, c := range r {
		binary.BigEndian.PutUint32(b[4*i:], uint32(c))
	}
	return b
}

// Finding 4 (leak, incomplete fix of 57a finding 1): wide() knows
// UTF-32BE only by its byte-order mark. Without one (00 00 00 7B) the
// first two bytes are both zero, so (b[0]==0) != (b[1]==0) is false and
// the body is not taken as open. With a max_body that is no multiple of
// 4, the cut falls inside a code unit: the UTF-32 decoder fails, toUTF8
// returns the raw bytes, jsonQueryScan meets a syntax error (not EOF) and
// the body with its aliased query after the limit passes. UTF-32LE
// without a mark, and UTF-16 either way, are refused 413. (With max_body
// 4099 this is a regression: before e6e1346 the limit+1 bytes read were
// whole code units; the new cut to the limit breaks them.)
func TestReview58GraphQLOversizeUTF32BENoBOM(t *testing.T) {
	ids := strings.TrimSuffix(strings.Repeat("1,", 3000), ",")
	body := `{"variables":{"ids":[` + ids + `]},"query":` + jsonString54(alias55) + `}`
	for _, c := range []struct {
		name string
		body []byte
	}{
		{"UTF-32LE (control)", utf32LE57(body)},
		{"UTF-32BE", utf32BE58(body)},
	} {
		for _, limit := range []int64{4097, 4098, 4099} {
			m := agentMask52(t, &Mask{MaxBody: limit, Fields: []config.Field{{Path: "data.customer.name", Type: "person_name"}}})
			req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(c.body))
			req.Header.Set("Content-Type", "application/json")
			if code, reached, _ := gql55(t, m, req); reached {
				t.Errorf("%s body of %d bytes over max_body %d, query after the limit: it reached the upstream (status %d), not 413",
					c.name, len(c.body), limit, code)
			}
		}
	}
}

// Finding 5 (over-refusal, 57a finding 1's fix too broad): any body over
// max_body that is "wide" and starts like JSON is refused 413, even when
// its first JSON value closed long before the limit, the case the UTF-8
// rule lets pass ("a body that is no JSON (a file, a log) is not"). A
// JSON Lines log or export in UTF-16 (what Windows PowerShell 5.1's
// Out-File and > write) uploaded over max_body is refused, while the same
// records in UTF-8 pass. Only a body cut inside a code unit needed taking
// as open.
func TestReview58GraphQLOversizeUTF16LinesRefused(t *testing.T) {
	line := `{"level":"info","msg":"upload ok"}` + "\n"
	text := strings.Repeat(line, 200)
	for _, c := range []struct {
		name string
		body []byte
	}{
		{"UTF-8 (control)", []byte(text)},
		{"UTF-16LE", utf16LE57(text)},
		{"UTF-16LE with BOM", append([]byte{0xFF, 0xFE}, utf16LE57(text)...)},
	} {
		m := agentMask52(t, &Mask{MaxBody: 4096, Fields: []config.Field{{Path: "data.customer.name", Type: "person_name"}}})
		req := httptest.NewRequest(http.MethodPost, "/logs", bytes.NewReader(c.body))
		req.Header.Set("Content-Type", "application/x-ndjson")
		if code, reached, _ := gql55(t, m, req); !reached {
			t.Errorf("%s JSON Lines body of %d bytes over max_body 4096 (first record closed, no query): refused with %d",
				c.name, len(c.body), code)
		}
	}
}
