package caddymodule

// Fifty-seventh review (a): the round-56a fixes checked (GraphQL request
// reading). Each test fails on the code as reviewed. Fake data only.

import (
	"bytes"
	"encoding/binary"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/piigate/piigate/config"
)

// utf16LE57 and utf32LE57 encode s as Python's json.loads (and the
// gateway's toUTF8) read them without a byte-order mark.
func utf16LE57(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	return b
}

func utf32LE57(s string) []byte {
	r := []rune(s)
	b := make([]byte, 4*len(r))
	for i, c := range r {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(c))
	}
	return b
}

// Finding 1 (leak, incomplete fix of 56a finding 3): the 413 rule for a
// JSON body still open at max_body is decided by jsonQueryScan on the
// bytes peekBody read: limit+1 of them. In UTF-16 that is an odd count
// (in UTF-32 one byte past a code unit): toUTF8 turns the dangling byte
// into U+FFFD (or gives up and returns the raw bytes), and unless the cut
// falls inside a string the decoder meets a syntax error, not EOF, so
// `open` is false and the body passes unchecked. `{"variables":{"ids":
// [1,2,3,…]},"query":"{ n: name }"}` in UTF-16 or UTF-32 (the README
// says such bodies are read) carries its aliased query past the limit to
// a server that reads it (Python's json.loads detects both). The same
// body in UTF-8 is refused 413.
//
// Suggested fix: in the !whole case trim the read prefix to a whole
// number of code units of the detected encoding (b[:limit], then down to
// a multiple of 2 or 4) before jsonQueryScan, and treat a decoding that
// fails or ends in U+FFFD at the cut as still open.
func TestReview57aGraphQLOversizeUTF16QueryAfterLimit(t *testing.T) {
	ids := strings.TrimSuffix(strings.Repeat("1,", 3000), ",")
	body := `{"variables":{"ids":[` + ids + `]},"query":` + jsonString54(alias55) + `}`
	for _, c := range []struct {
		name string
		body []byte
	}{
		{"UTF-8 (control)", []byte(body)},
		{"UTF-16LE", utf16LE57(body)},
		{"UTF-32LE", utf32LE57(body)},
	} {
		m := agentMask52(t, &Mask{MaxBody: 4096, Fields: []config.Field{{Path: "data.customer.name", Type: "person_name"}}})
		req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(c.body))
		req.Header.Set("Content-Type", "application/json")
		if code, reached, _ := gql55(t, m, req); reached {
			t.Errorf("%s body of %d bytes over max_body 4096, query after the limit: it reached the upstream (status %d), not 413",
				c.name, len(c.body), code)
		}
	}
}

// Finding 2 (leak, incomplete fix of 56a finding 5): requestMedia cuts
// the Content-Type at its first ',' before the lenient parameter read,
// and the lenient read splits at every ';', both inside quotes too. A
// quoted boundary may hold a comma (RFC 2046 bchars), so
// `multipart/form-data; boundary="B,1"; charset` (one parameter without
// '=') is read as boundary `B` (the quote trimmed): no part is found and
// the operations' aliased query passes. Django (parse_header_parameters
// honours quotes and skips the bare `charset`) and PHP (rfc1867.c takes
// a quoted boundary to its closing quote) read boundary B,1 and the
// operations.
//
// Suggested fix: on a parse failure read the parameters with a
// quote-aware splitter over the whole header (cut the type list at a
// comma outside quotes only), or try every boundary candidate servers
// may take and check the operations each one yields.
func TestReview57aGraphQLMultipartQuotedBoundaryComma(t *testing.T) {
	ops := `{"query":` + jsonString54(alias55) + `,"variables":{}}`
	const b = "B,1"
	body := "--" + b + "\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n" + ops +
		"\r\n--" + b + "\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n{}\r\n--" + b + "--\r\n"
	for _, ct := range []string{
		`multipart/form-data; boundary="B,1"; charset`,
		`multipart/form-data; charset; boundary="B,1"`,
	} {
		req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
		req.Header.Set("Content-Type", ct)
		if code, reached, _ := gql55(t, nil, req); reached {
			t.Errorf("Content-Type %q: the operations' aliased query reached the upstream (status %d)", ct, code)
		}
	}
}

// Finding 3 (leak, incomplete fix of 56a finding 5): the lenient read
// keeps the last of a repeated parameter (a map overwritten), but PHP
// (main/rfc1867.c: strstr(content_type, "boundary")) takes the first:
// `multipart/form-data; boundary=A; boundary=Z` (ParseMediaType rejects
// the duplicate) is read by the gateway with boundary Z, by Laravel
// Lighthouse / graphql-php uploads with A. A body framed with A passes
// the check with its aliased operations. (56a's suggested fix said
// "first wins"; Django keeps the last, so no single choice covers both.)
//
// Suggested fix: on a duplicate, check the body under each boundary
// given (or refuse a guarded multipart request whose boundary is
// ambiguous).
func TestReview57aGraphQLMultipartDuplicateBoundary(t *testing.T) {
	ops := `{"query":` + jsonString54(alias55) + `,"variables":{}}`
	body := "--A\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n" + ops +
		"\r\n--A\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n{}\r\n--A--\r\n"
	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
	req.Header.Set("Content-Type", "multipart/form-data; boundary=A; boundary=Z")
	if code, reached, _ := gql55(t, nil, req); reached {
		t.Errorf("boundary=A; boundary=Z, body framed with A (PHP's reading): the aliased query reached the upstream (status %d)", code)
	}
}
