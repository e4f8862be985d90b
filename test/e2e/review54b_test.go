package e2e

// Fifty-fourth review (b): the real binary, end to end, as an admin runs
// it: a Caddyfile with the pii option and pii_mask in front of a real
// upstream listening on loopback, driven by plain HTTP clients.

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// review54bUpstream serves h on a loopback port of its own and returns its
// address.
func review54bUpstream(t *testing.T, h http.Handler) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return l.Addr().String()
}

// review54bCaddyfile is an admin's gateway: the role comes from a header
// set by the SSO in front (vars), /api/* is guarded with the default scan
// (names), and the admin endpoint (for /metrics) listens on adminPort.
func review54bCaddyfile(adminPort int, upstream string) func(port int) string {
	return func(port int) string {
		return fmt.Sprintf(`{
	admin 127.0.0.1:%d
	pii {
		role online_agent {
			cn_mobile mask
			person_name mask
			* redact
		}
	}
}
http://127.0.0.1:%d {
	vars role {http.request.header.X-Role}
	pii_mask /api/* {
		roles_from {http.vars.role}
	}
	reverse_proxy %s
}
`, adminPort, port, upstream)
	}
}

// TestReview54bGraphQLAliasInEncodedRequest: pii_mask refuses a GraphQL
// request whose selections rename fields (403 graphql_alias), as an alias
// takes the answer's values out from under the key names and field rules.
// It looks for the document in the request's bytes as they came, though,
// and an upstream reads the request after decoding it:
//
//   - a JSON body sent with Content-Encoding: gzip (Express's body-parser,
//     which Apollo Server and express-graphql run behind, inflates gzip
//     and deflate bodies by default): the check sees compressed bytes;
//   - a JSON body whose key is written with an escape, {"\u0071uery": …}:
//     every JSON parser reads the key "query", the check's bytes.Contains
//     for `"query"` does not;
//   - a GET whose parameter name is percent-encoded, ?quer%79=…: every
//     query-string parser decodes names, the check's strings.Contains for
//     "query=" does not.
//
// Each gets the aliased answer through the real gateway: the customer's
// name and mobile unmasked. The plain body (the control) is refused.
func TestReview54bGraphQLAliasInEncodedRequest(t *testing.T) {
	needE2E(t)
	const doc = `{ customer(id: 7) { n: name m: mobile } }`
	upstream := review54bUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A GraphQL server as Express runs one: the body inflated, the
		// query string's names decoded, the JSON keys unescaped.
		var body io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			body = zr
		}
		b, _ := io.ReadAll(body)
		query := r.URL.Query().Get("query")
		var req struct {
			Query string `json:"query"`
		}
		if json.Unmarshal(b, &req) == nil && req.Query != "" {
			query = req.Query
		}
		w.Header().Set("Content-Type", "application/json")
		if strings.Contains(query, "n: name") && strings.Contains(query, "m: mobile") {
			io.WriteString(w, `{"data":{"customer":{"n":"张三","m":"13812345678"}}}`)
			return
		}
		io.WriteString(w, `{"data":{"customer":{"name":"张三","mobile":"13812345678"}}}`)
	}))
	port := freePort(t)
	g := startGateway(t, "gateway", port, review54bCaddyfile(freePort(t), upstream))
	endpoint := g.URL + "/api/graphql"

	jsonBody, _ := json.Marshal(map[string]string{"query": doc})
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(jsonBody)
	zw.Close()
	escaped := []byte(`{"\u0071uery":` + strconv.Quote(doc) + `}`)
	pctName := endpoint + "?quer%79=" + url.QueryEscape(doc)

	send := func(method, target string, body []byte, hdr ...string) (int, string) {
		t.Helper()
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequest(method, target, rd)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Role", "online_agent")
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableCompression: true}}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	// The control: the same document in a plain JSON body is refused.
	if st, b := send("POST", endpoint, jsonBody, "Content-Type", "application/json"); st != http.StatusForbidden {
		t.Fatalf("control: a plain aliased query got %d %s, want 403 graphql_alias", st, b)
	}
	for _, c := range []struct {
		name   string
		method string
		target string
		body   []byte
		hdr    []string
	}{
		{"gzip body", "POST", endpoint, gz.Bytes(), []string{"Content-Type", "application/json", "Content-Encoding", "gzip"}},
		{"escaped key", "POST", endpoint, escaped, []string{"Content-Type", "application/json"}},
		{"percent-encoded parameter name", "GET", pctName, nil, nil},
	} {
		st, b := send(c.method, c.target, c.body, c.hdr...)
		if st != http.StatusForbidden || strings.Contains(b, "13812345678") || strings.Contains(b, "张三") {
			t.Errorf("%s: the aliased query got %d %s; want 403 graphql_alias, as for the plain body", c.name, st, b)
		}
	}
}

// TestReview54bClientGoneIsNotUpstreamFailure: an agent that goes away
// while the gateway holds a response (a browser tab closed during a slow
// report, a fetch aborted) is counted as the upstream's failure:
// piigate_mask_refusals_total{reason="upstream_failed"} and
// responses_total{result="refused"} go up, and the log says "refused a
// guarded response" at warn level, though the upstream answered in full
// and nothing was refused. reverse_proxy, whose copy of the body fails
// with the client's context.Canceled, panics with http.ErrAbortHandler,
// and pii_mask's serve takes every such abort before its header for the
// upstream's. An agent that goes away before the upstream answered is
// counted as a response passed on unchanged (reverse_proxy records its
// 499 with WriteHeader). An alert on upstream_failed (the README's series
// for an upstream that cannot be reached) fires on clients closing tabs.
func TestReview54bClientGoneIsNotUpstreamFailure(t *testing.T) {
	needE2E(t)
	body := `{"data":[{"mobile":"13812345678","name":"张三"}]}`
	upstream := review54bUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/slow-body": // the header and half the body, then the rest
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			io.WriteString(w, body[:10])
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
			case <-time.After(1500 * time.Millisecond):
			}
			io.WriteString(w, body[10:])
		case "/api/slow-answer": // thinks, then answers
			select {
			case <-r.Context().Done():
			case <-time.After(1500 * time.Millisecond):
			}
			io.WriteString(w, body)
		default:
			io.WriteString(w, body)
		}
	}))
	adminPort := freePort(t)
	port := freePort(t)
	g := startGateway(t, "gateway", port, review54bCaddyfile(adminPort, upstream))

	metric := func(series string) float64 {
		t.Helper()
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", adminPort))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindSubmatch(b)
		if m == nil {
			return 0
		}
		v, _ := strconv.ParseFloat(string(m[1]), 64)
		return v
	}
	abandon := func(path string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", g.URL+path, nil)
		req.Header.Set("X-Role", "online_agent")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			t.Fatalf("%s answered before the client gave up", path)
		}
		time.Sleep(1700 * time.Millisecond) // the gateway notices, the upstream ends
	}

	// A complete answer, so that the series exist.
	req, _ := http.NewRequest("GET", g.URL+"/api/fast", nil)
	req.Header.Set("X-Role", "online_agent")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()

	const upstreamFailed = `piigate_mask_refusals_total{reason="upstream_failed"}`
	const refused = `piigate_mask_responses_total{result="refused"}`
	const unchanged = `piigate_mask_responses_total{result="unchanged"}`

	before, beforeRefused := metric(upstreamFailed), metric(refused)
	abandon("/api/slow-body")
	if got := metric(upstreamFailed); got != before {
		t.Errorf("a client that went away mid-body counted as upstream_failed: %s %v -> %v", upstreamFailed, before, got)
	}
	if got := metric(refused); got != beforeRefused {
		t.Errorf("a client that went away mid-body counted as a refusal: %s %v -> %v", refused, beforeRefused, got)
	}

	beforeUnchanged := metric(unchanged)
	abandon("/api/slow-answer")
	if got := metric(unchanged); got != beforeUnchanged {
		t.Errorf("a client that went away before the answer counted as a response passed on unchanged: %s %v -> %v", unchanged, beforeUnchanged, got)
	}
}
