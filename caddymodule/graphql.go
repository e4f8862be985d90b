package caddymodule

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// A GraphQL client chooses the keys of the answer: an alias renames a
// field (`{ customer { n: name } }` answers {"customer":{"n":…}}), so that
// neither a field rule (data.customer.name) nor a key name types its
// value. pii_mask reads the documents a guarded request carries and
// refuses one whose selections rename a field.

// graphQLCheck is what graphQLRequest found.
type graphQLCheck uint8

const (
	graphQLNone     graphQLCheck = iota // no GraphQL document, or none that renames a field
	graphQLAliased                      // a document whose selection renames a field
	graphQLTooLarge                     // a body over max_body that names a query
)

// graphQLRequest reads the GraphQL documents r carries: the query
// parameter `query` (GET), a JSON body's "query" (one request or a
// batch), an application/graphql body, a form's query field, or a
// multipart request's "operations" (the GraphQL multipart request spec's
// uploads). The body is read up to limit and put back for the handlers
// after.
func graphQLRequest(r *http.Request, limit int64) graphQLCheck {
	var docs []string
	if strings.Contains(r.URL.RawQuery, "query=") {
		if q, err := url.ParseQuery(r.URL.RawQuery); err == nil {
			docs = append(docs, q["query"]...)
		}
	}
	if r.Body != nil && r.Body != http.NoBody {
		media, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		json := media == "application/json" || strings.HasSuffix(media, "+json")
		if json || media == "application/graphql" || media == "application/x-www-form-urlencoded" || media == "multipart/form-data" {
			body, whole := peekBody(r, limit)
			switch {
			case !whole && media == "multipart/form-data":
				// (The spec puts "operations" first: a large upload
				// without it is no GraphQL request.)
				if bytes.Contains(body, []byte(`name="operations"`)) || bytes.Contains(body, []byte(`name="query"`)) {
					return graphQLTooLarge
				}
			case !whole:
				if bytes.Contains(body, []byte("query")) {
					return graphQLTooLarge
				}
			case json:
				if bytes.Contains(body, []byte(`"query"`)) {
					docs = append(docs, jsonQueries(body)...)
				}
			case media == "application/graphql":
				docs = append(docs, string(body))
			case media == "multipart/form-data":
				if bytes.Contains(body, []byte("query")) {
					docs = append(docs, multipartQueries(body, params["boundary"])...)
				}
			default:
				if q, err := url.ParseQuery(string(body)); err == nil {
					docs = append(docs, q["query"]...)
				}
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

// peekBody reads up to limit bytes of r's body and puts them back in front
// of the rest. whole reports that the body ended within the limit.
func peekBody(r *http.Request, limit int64) (b []byte, whole bool) {
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	whole = err == nil && int64(len(b)) <= limit
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(b), r.Body), r.Body}
	if whole {
		r.ContentLength = int64(len(b))
	}
	return b, whole
}

// jsonQueries returns the "query" strings of a GraphQL-over-HTTP JSON
// body: one request object, or a batch (an array of them).
func jsonQueries(body []byte) []string {
	type request struct {
		Query string `json:"query"`
	}
	var one request
	if json.Unmarshal(body, &one) == nil {
		return []string{one.Query}
	}
	var batch []request
	if json.Unmarshal(body, &batch) != nil {
		return nil
	}
	out := make([]string, len(batch))
	for i, q := range batch {
		out[i] = q.Query
	}
	return out
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
		switch p.FormName() {
		case "operations":
			if b, err := io.ReadAll(p); err == nil {
				out = append(out, jsonQueries(b)...)
			}
		case "query":
			if b, err := io.ReadAll(p); err == nil {
				out = append(out, string(b))
			}
		}
	}
}

// renames reports whether the GraphQL document doc selects a field under
// another name. A text without a colon, or without a selection ({), that
// is no GraphQL document (a search for "张三") renames nothing.
func renames(doc string) bool {
	if !strings.Contains(doc, ":") {
		return false
	}
	d, err := parser.ParseQuery(&ast.Source{Input: doc})
	if err != nil {
		// Not a document this parser reads, but one with a selection
		// and a colon that an upstream's parser might read (its own
		// extensions): refused rather than guessed.
		return strings.Contains(doc, "{")
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
