package caddymodule

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/encoding/unicode/utf32"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// A GraphQL client chooses the keys of the answer: an alias renames a
// field (`{ customer { n: name } }` answers {"customer":{"n":…}}), so that
// neither a field rule (data.customer.name) nor a key name types its
// value. pii_mask reads the documents a guarded request carries and
// refuses one whose selections rename a field. Servers read a request
// more loosely than the standard says (keys in any case, bad escapes kept,
// a JSON body under any type, what follows the first JSON value
// ignored): the reading here is at least as loose, so that what a server
// may take for a query is checked.

// graphQLCheck is what graphQLRequest found.
type graphQLCheck uint8

const (
	graphQLNone       graphQLCheck = iota // no GraphQL document, or none that renames a field
	graphQLAliased                        // a document whose selection renames a field
	graphQLTooLarge                       // a body over max_body that may carry a query
	graphQLUnreadable                     // a body in a coding the gateway cannot undo, of a type that may carry a query
	graphQLGone                           // the agent left while the body came
)

// graphQLRequest reads the GraphQL documents r carries: a query
// parameter named query (in any case), a JSON body's query members (one
// request or a batch; a body that starts like JSON under any type but
// form data, multipart and GraphQL's own), an application/graphql body,
// a form's query field, or a multipart request's operations (the
// GraphQL multipart request spec's uploads). The body is read up to
// limit and put back for the handlers after.
func graphQLRequest(r *http.Request, limit int64) graphQLCheck {
	var docs []string
	if r.URL.RawQuery != "" {
		docs = append(docs, looseParams(r.URL.RawQuery)...)
	}
	if r.Body != nil && r.Body != http.NoBody {
		media, _, boundaries := requestMedia(r.Header.Get("Content-Type"))
		if media == "multipart/form-data" && len(boundaries) > 1 {
			// Servers would read the parts under different boundaries:
			// what one of them reads may be no part for the check.
			return graphQLUnreadable
		}
		ce := strings.Join(r.Header.Values("Content-Encoding"), ",")
		coded := strings.TrimSpace(ce) != "" && !strings.EqualFold(strings.TrimSpace(ce), "identity")
		form := media == "application/graphql" || media == "application/x-www-form-urlencoded" || media == "multipart/form-data"
		// A body of unknown length is read only under a type a GraphQL
		// request comes in: another may be a stream whose client waits
		// for an answer before it sends more (gRPC, NDJSON both ways).
		known := r.ContentLength >= 0 || form || media == "" || media == "application/json" || media == "text/plain"
		// JSON, or what a server may read as JSON whatever its type
		// (graphql-go reads any other type as JSON): a body that starts
		// like JSON (a coded one is read to see).
		if known && (form || coded || startsLikeJSON(r)) {
			body, whole, err := peekBody(r, limit)
			if err != nil {
				if r.Context().Err() != nil {
					return graphQLGone
				}
				return graphQLNone // the upstream meets the same error
			}
			if whole && coded {
				// A server may undo the coding first (Express's body
				// parser inflates gzip, deflate and br).
				encs, ok := contentEncodings(ce)
				dec, err := decodeBody(body, encs, limit)
				switch {
				case ok && err == nil:
					body = dec
				case form || mayBeJSON(media):
					return graphQLUnreadable
				default:
					body = nil // another type, in a coding no check needs
				}
				if !form && !startsLikeJSONBytes(body) {
					body = nil
				}
			}
			switch {
			case !whole && coded:
				if form || mayBeJSON(media) {
					return graphQLTooLarge
				}
			case !whole && media == "multipart/form-data":
				// (The spec puts the operations first: a large upload
				// without them is no GraphQL request.)
				for _, b := range boundaries {
					if firstPartIsQuery(body, b) {
						return graphQLTooLarge
					}
				}
			case !whole && media == "application/graphql":
				return graphQLTooLarge
			case !whole && media == "application/x-www-form-urlencoded":
				// (Pairs come in any order: a query may follow the limit.)
				return graphQLTooLarge
			case !whole:
				// JSON still open at the limit may hold a query member
				// after it; a body that is no JSON (a file, a log) is not.
				// (What was read is cut to the limit; one in UTF-16 or
				// UTF-32, cut inside a character, is taken to be open.)
				body = body[:min(int64(len(body)), limit)]
				if _, unit := wideEncoding(body); unit > 0 {
					body = body[:len(body)/unit*unit] // whole code units
					if u := toUTF8(body); bytes.IndexByte(u, 0) >= 0 && startsLikeJSONBytes(body) {
						return graphQLTooLarge // not read as text: taken as open
					}
				}
				if _, key, open := jsonQueryScan(body); key || open {
					return graphQLTooLarge
				}
			case media == "application/graphql":
				docs = append(docs, string(toUTF8(body)))
			case media == "application/x-www-form-urlencoded":
				docs = append(docs, looseParams(string(body))...)
			case media == "multipart/form-data":
				// Every boundary given (PHP takes the first of two,
				// Django the last).
				for _, b := range boundaries {
					docs = append(docs, multipartQueries(body, b)...)
				}
			default:
				q, _ := jsonQueryMembers(body)
				docs = append(docs, q...)
			}
		}
	}
	for _, d := range docs {
		if renames(d) {
			return graphQLAliased
		}
	}
	return graphQLNone
}

// requestMedia reads a request's Content-Type as servers do: its first
// type when it is a list (GraphQL Yoga takes what stands before the
// first comma outside quotes), lower case, with that type's parameters
// (read leniently when one does not parse: Django, Starlette and PHP
// skip it), and the boundaries servers may read from it: Go's mime
// reading (RFC 2231 continuations too), the first and every later
// boundary parameter, a quoted value with its backslashes undone or
// kept, an unquoted one with its commas, and PHP's first "boundary"
// anywhere in the header. More than one is an ambiguous request.
func requestMedia(ct string) (string, map[string]string, []string) {
	first := ct
	quoted := false
	for i := 0; i < len(ct); i++ {
		switch c := ct[i]; {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case c == ',' && !quoted:
			first = ct[:i]
			i = len(ct)
		}
	}
	var boundaries []string
	add := func(b string) {
		if b != "" && !slices.Contains(boundaries, b) {
			boundaries = append(boundaries, b)
		}
	}
	media, rest, _ := strings.Cut(first, ";")
	params := map[string]string{}
	if m, p, err := mime.ParseMediaType(first); err == nil {
		media, params = m, p
		add(p["boundary"])
	}
	for p := range splitOutsideQuotes(rest, ';') {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		v = strings.TrimSpace(v)
		raw := v
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = unquoteHTTP(v[1 : len(v)-1])
		}
		if _, seen := params[k]; !seen {
			params[k] = v
		}
		if k == "boundary" {
			add(v)
			if len(raw) >= 2 && raw[0] == '"' {
				add(raw[1 : len(raw)-1]) // backslashes kept, as Go's mime and PHP read them
			}
		}
	}
	// Django reads an unquoted boundary up to its ";", commas and all.
	if i := strings.Index(strings.ToLower(ct), "boundary="); i >= 0 {
		v := ct[i+len("boundary="):]
		if !strings.HasPrefix(v, `"`) {
			v, _, _ = strings.Cut(v, ";")
			add(strings.TrimSpace(v))
		}
		// PHP: the first "boundary" anywhere in the header.
		if j := strings.Index(strings.ToLower(ct), "boundary"); j >= 0 && j != i {
			add("\x00ambiguous")
		}
	}
	return strings.ToLower(strings.TrimSpace(media)), params, boundaries
}

// unquoteHTTP undoes a quoted-string's quoted-pairs (RFC 9110: a
// backslash and the character after it stand for that character).
func unquoteHTTP(s string) string {
	if !strings.Contains(s, "\\") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// splitOutsideQuotes yields the parts of s between seps outside quotes.
func splitOutsideQuotes(s string, sep byte) func(func(string) bool) {
	return func(yield func(string) bool) {
		quoted, start := false, 0
		for i := 0; i < len(s); i++ {
			switch c := s[i]; {
			case c == '\\' && quoted:
				i++
			case c == '"':
				quoted = !quoted
			case c == sep && !quoted:
				if !yield(s[start:i]) {
					return
				}
				start = i + 1
			}
		}
		yield(s[start:])
	}
}

// wideEncoding detects a body in UTF-32 or UTF-16 as Python's
// json.detect_encoding does (UTF-32 first): by its byte-order mark, or
// by the zero bytes of ASCII text. unit is the code unit's size, 0 for
// UTF-8.
func wideEncoding(b []byte) (e encoding.Encoding, unit int) {
	switch {
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE, 0, 0}), len(b) >= 4 && b[0] != 0 && b[1] == 0 && b[2] == 0 && b[3] == 0:
		return utf32.UTF32(utf32.LittleEndian, utf32.UseBOM), 4
	case bytes.HasPrefix(b, []byte{0, 0, 0xFE, 0xFF}), len(b) >= 4 && b[0] == 0 && b[1] == 0 && b[2] == 0 && b[3] != 0:
		return utf32.UTF32(utf32.BigEndian, utf32.UseBOM), 4
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}), len(b) >= 2 && b[0] != 0 && b[1] == 0:
		return unicode.UTF16(unicode.LittleEndian, unicode.UseBOM), 2
	case bytes.HasPrefix(b, []byte{0xFE, 0xFF}), len(b) >= 2 && b[0] == 0 && b[1] != 0:
		return unicode.UTF16(unicode.BigEndian, unicode.UseBOM), 2
	}
	return nil, 0
}

// toUTF8 reads a body in UTF-16 or UTF-32 (wideEncoding: Python's
// json.loads detects them, Express's body parser follows the charset) as
// UTF-8; b itself when it is neither, or does not decode.
func toUTF8(b []byte) []byte {
	e, _ := wideEncoding(b)
	if e == nil {
		return b
	}
	if u, err := e.NewDecoder().Bytes(b); err == nil {
		return u
	}
	return b
}

// mayBeJSON reports whether a request's media type is one a GraphQL
// server may read a JSON body under: JSON's, none, or plain text.
func mayBeJSON(media string) bool {
	return media == "" || media == "application/json" || strings.HasSuffix(media, "+json") || media == "text/plain"
}

// looseParams returns the values of the parameters named query (in any
// case, the name percent-decoded) of a query string or form, reading
// pairs as the loosest servers do: split at & and ;, a bad escape kept
// as it is written.
func looseParams(raw string) []string {
	if !strings.Contains(strings.ToLower(raw), "uery") && !strings.Contains(raw, "%") {
		return nil
	}
	var out []string
	for pair := range strings.FieldsFuncSeq(raw, func(r rune) bool { return r == '&' || r == ';' }) {
		k, v, _ := strings.Cut(pair, "=")
		if k = looseUnescape(k); !strings.EqualFold(strings.TrimSpace(k), "query") {
			continue
		}
		out = append(out, looseUnescape(v))
	}
	return out
}

// looseUnescape decodes a query component: + as a space, %XX escapes,
// and a bad escape kept as written.
func looseUnescape(s string) string {
	s = strings.ReplaceAll(s, "+", " ")
	d, _ := percentDecode(s) // a bad escape kept as written
	return d
}

// startsLikeJSON reports whether r's body starts, after white space and
// a byte-order mark, with { or [ (the first bytes are read and put back).
func startsLikeJSON(r *http.Request) bool {
	head := make([]byte, 64)
	if r.ContentLength >= 0 && r.ContentLength < int64(len(head)) {
		head = head[:r.ContentLength]
	}
	n, _ := io.ReadFull(r.Body, head)
	head = head[:n]
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), r.Body), r.Body}
	return startsLikeJSONBytes(head)
}

// startsLikeJSONBytes is startsLikeJSON on bytes read.
func startsLikeJSONBytes(head []byte) bool {
	head = toUTF8(head)
	head = bytes.TrimPrefix(head, []byte("\xEF\xBB\xBF"))
	head = bytes.TrimLeft(head, " \t\r\n")
	return len(head) > 0 && (head[0] == '{' || head[0] == '[')
}

// peekBody reads up to limit bytes of r's body and puts them back in front
// of the rest. whole reports that the body ended within the limit; err a
// failure to read it (the agent gone).
func peekBody(r *http.Request, limit int64) (b []byte, whole bool, err error) {
	b, err = io.ReadAll(io.LimitReader(r.Body, limit+1))
	whole = err == nil && int64(len(b)) <= limit
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(b), r.Body), r.Body}
	if whole {
		r.ContentLength = int64(len(b))
	}
	return b, whole, err
}

// jsonQueries returns the string values of the members named query (in
// any case, escapes decoded; every one of a repeated name) of the first
// JSON value in body (what follows it is ignored, as Go's decoders do):
// of the object, or of each object of a batch (an array). A member that
// is no string is no document.
func jsonQueries(body []byte) []string {
	q, _ := jsonQueryMembers(body)
	return q
}

// jsonQueryMembers is jsonQueries, and whether a query member was seen at
// all (of a body cut at the limit: its value may lie past it).
func jsonQueryMembers(body []byte) (out []string, key bool) {
	out, key, _ = jsonQueryScan(body)
	return out, key
}

// jsonQueryScan is jsonQueryMembers, and whether the body ended inside
// its first JSON value with no syntax error (cut at a limit).
func jsonQueryScan(body []byte) (out []string, key, open bool) {
	dec := json.NewDecoder(bytes.NewReader(bytes.TrimPrefix(toUTF8(body), []byte("\xEF\xBB\xBF"))))
	// The walk: depth of containers; in an object, whether the next
	// token is a key; whether the value after it is a query member's.
	type frame struct{ object, key bool }
	var stack []frame
	want := false
	for {
		tok, err := dec.Token()
		if err != nil {
			return out, key, len(stack) > 0 && (err == io.EOF || err == io.ErrUnexpectedEOF)
		}
		top := len(stack) - 1
		_, closing := tok.(json.Delim)
		closing = closing && (tok == json.Delim('}') || tok == json.Delim(']'))
		isKey := !closing && top >= 0 && stack[top].object && stack[top].key
		if isKey {
			stack[top].key = false
			k, _ := tok.(string)
			// At the request object: the object itself, or one of a
			// batch's.
			want = strings.EqualFold(k, "query") && (len(stack) == 1 || len(stack) == 2 && !stack[0].object)
			key = key || want
			continue
		}
		if s, ok := tok.(string); ok && want {
			out = append(out, s)
		}
		want = false
		switch tok {
		case json.Delim('{'):
			stack = append(stack, frame{object: true, key: true})
			continue
		case json.Delim('['):
			stack = append(stack, frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				return out, key, false // the first value only
			}
		}
		if top := len(stack) - 1; top >= 0 && stack[top].object {
			stack[top].key = true // a value ended: a key comes next
		}
	}
}

// multipartQueries returns the queries of a multipart request's
// "operations" part and its "query" field.
func multipartQueries(body []byte, boundary string) []string {
	var out []string
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	for {
		p, err := mr.NextPart()
		if err != nil {
			return out
		}
		switch partName(p) {
		case "operations":
			if b, err := io.ReadAll(p); err == nil {
				out = append(out, jsonQueries(b)...)
			}
		case "query":
			if b, err := io.ReadAll(p); err == nil {
				out = append(out, string(toUTF8(b)))
			}
		}
	}
}

// firstPartIsQuery reports whether a multipart body's first part is a
// GraphQL request's (operations, or a query field).
func firstPartIsQuery(body []byte, boundary string) bool {
	p, err := multipart.NewReader(bytes.NewReader(body), boundary).NextPart()
	if err != nil {
		return false
	}
	n := partName(p)
	return n == "operations" || n == "query"
}

// partName is a multipart part's name, lower case, whatever its
// disposition's type (PHP, Django and Starlette read name= under any).
func partName(p *multipart.Part) string {
	_, params, err := mime.ParseMediaType(p.Header.Get("Content-Disposition"))
	if err != nil {
		return ""
	}
	return strings.ToLower(params["name"])
}

// renames reports whether the GraphQL document doc selects a field under
// another name. A text the parser cannot read is taken to when it reads
// as a GraphQL selection with an alias (looksAliased): a search, a
// Prometheus or Loki query, renames nothing.
func renames(doc string) bool {
	if !strings.Contains(doc, ":") {
		return false
	}
	d, err := parser.ParseQuery(&ast.Source{Input: doc})
	if err != nil {
		return looksAliased(doc)
	}
	for _, op := range d.Operations {
		if renamesIn(op.SelectionSet) {
			return true
		}
	}
	for _, f := range d.Fragments {
		if renamesIn(f.SelectionSet) {
			return true
		}
	}
	return false
}

func renamesIn(set ast.SelectionSet) bool {
	for _, s := range set {
		switch s := s.(type) {
		case *ast.Field:
			if s.Alias != "" && s.Alias != s.Name || renamesIn(s.SelectionSet) {
				return true
			}
		case *ast.InlineFragment:
			if renamesIn(s.SelectionSet) {
				return true
			}
		}
	}
	return false
}

// looksAliased reads a document the parser could not: one that starts as
// GraphQL does ({, query, mutation, subscription, fragment) and holds,
// inside a selection's braces and outside arguments, strings and
// comments, a name followed by a colon — an alias, as a server's own
// (looser, or newer) parser may read it.
func looksAliased(doc string) bool {
	t := doc
	for {
		t = strings.TrimLeft(t, " \t\r\n,\ufeff")
		if !strings.HasPrefix(t, "#") {
			break
		}
		// A comment, ignored as white space is, to the line's end.
		if i := strings.IndexAny(t, "\r\n"); i >= 0 {
			t = t[i:]
		} else {
			t = ""
		}
	}
	if !strings.HasPrefix(t, "{") && !hasKeyword(t) {
		return false
	}
	braces, parens := 0, 0
	for i := 0; i < len(t); i++ {
		switch c := t[i]; {
		case c == '#':
			for i < len(t) && t[i] != '\n' && t[i] != '\r' {
				i++
			}
		case c == '"':
			if strings.HasPrefix(t[i:], `"""`) {
				if j := strings.Index(t[i+3:], `"""`); j >= 0 {
					i += j + 5
					continue
				}
				return false
			}
			for i++; i < len(t) && t[i] != '"'; i++ {
				if t[i] == '\\' {
					i++
				}
			}
		case c == '(':
			parens++
		case c == ')':
			parens--
		case c == '{':
			braces++
		case c == '}':
			braces--
		case braces > 0 && parens == 0 && (c == '_' || c|0x20 >= 'a' && c|0x20 <= 'z'):
			j := i
			for j < len(t) && (t[j] == '_' || t[j]|0x20 >= 'a' && t[j]|0x20 <= 'z' || t[j] >= '0' && t[j] <= '9') {
				j++
			}
			k := j
			for k < len(t) && (t[k] == ' ' || t[k] == '\t' || t[k] == '\r' || t[k] == '\n' || t[k] == ',' || t[k] == '#') {
				if t[k] == '#' { // a comment between the name and its colon
					for k < len(t) && t[k] != '\n' && t[k] != '\r' {
						k++
					}
					continue
				}
				k++
			}
			if k < len(t) && t[k] == ':' {
				return true
			}
			i = j - 1
		}
	}
	return false
}

func hasKeyword(t string) bool {
	for _, k := range [...]string{"query", "mutation", "subscription", "fragment"} {
		if rest, ok := strings.CutPrefix(t, k); ok && (rest == "" || !(rest[0] == '_' || rest[0]|0x20 >= 'a' && rest[0]|0x20 <= 'z' || rest[0] >= '0' && rest[0] <= '9')) {
			return true
		}
	}
	return false
}
