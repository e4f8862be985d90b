package caddymodule

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddytest"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/klauspost/compress/zstd"

	"github.com/piigate/piigate/config"
)

// Fixtures: fake values with valid checksums.
const (
	tMobile = "13812345678"
	tID     = "11010519491231002X"
	tCard   = "6222026337417020"
	tEmail  = "zhang.san@example.com"
)

// customerJSON is what the test origin serves: PII in fields, a key-named
// field and free text.
var customerJSON = `{"data":[{"id":1,"mobile":"` + tMobile + `","name":"张三","idCard":"` + tID +
	`","email":"` + tEmail + `","address":"北京市朝阳区建国路88号","note":"客户手机13912345678，卡号` + tCard + `"}]}`

// origin is the legacy app the tests put the gateway in front of.
type origin struct {
	*httptest.Server
	mu      sync.Mutex
	lastReq http.Header
	sse     chan struct{} // lets the SSE handler send its second event
}

func newOrigin(t *testing.T) *origin {
	o := &origin{sse: make(chan struct{})}
	mux := http.NewServeMux()
	writeCompressed := func(w http.ResponseWriter, enc string, body []byte) {
		var b bytes.Buffer
		switch enc {
		case "gzip":
			zw := gzip.NewWriter(&b)
			zw.Write(body)
			zw.Close()
		case "deflate":
			zw := zlib.NewWriter(&b)
			zw.Write(body)
			zw.Close()
		case "br":
			bw := brotli.NewWriter(&b)
			bw.Write(body)
			bw.Close()
		case "zstd":
			zw, _ := zstd.NewWriter(&b)
			zw.Write(body)
			zw.Close()
		default:
			b.Write(body)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Encoding", enc)
		w.Write(b.Bytes())
	}
	mux.HandleFunc("/api/customers", func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		o.lastReq = r.Header.Clone()
		o.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Last-Modified", "Mon, 02 Jan 2006 15:04:05 GMT")
		w.Header().Set("Cache-Control", "public, max-age=600, no-transform")
		w.Header().Set("Vary", "Accept")
		w.Header().Set("Accept-Ranges", "bytes")
		io.WriteString(w, customerJSON)
	})
	mux.HandleFunc("/api/enc/", func(w http.ResponseWriter, r *http.Request) {
		writeCompressed(w, strings.TrimPrefix(r.URL.Path, "/api/enc/"), []byte(customerJSON))
	})
	mux.HandleFunc("/api/inflates", func(w http.ResponseWriter, r *http.Request) {
		// 200 bytes compressed, 5000 decoded: over a 1000-byte max_body
		// only once decoded.
		writeCompressed(w, "gzip", sizedJSON(5000))
	})
	mux.HandleFunc("/api/typed/", func(w http.ResponseWriter, r *http.Request) {
		if ct := r.URL.Query().Get("type"); ct != "none" {
			w.Header().Set("Content-Type", ct)
		} else {
			w.Header()["Content-Type"] = nil // keep net/http from sniffing one
		}
		io.WriteString(w, r.URL.Query().Get("prefix")+customerJSON)
	})
	mux.HandleFunc("/api/html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "<html><body><p>客户电话 "+tMobile+"</p></body></html>")
	})
	mux.HandleFunc("/api/png", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Write([]byte("\x89PNG\r\n\x1a\n" + tMobile))
	})
	mux.HandleFunc("/api/binary", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write([]byte("\x00\x01\x02" + tMobile))
	})
	mux.HandleFunc("/api/malformed", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"mobile":"`+tMobile+`",`)
	})
	mux.HandleFunc("/api/error", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, `{"error":"no account for mobile `+tMobile+`"}`)
	})
	mux.HandleFunc("/api/notfound", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"mobile":"`+tMobile+`"}`)
	})
	mux.HandleFunc("/api/die", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "100000")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, `{"mobile":"`+tMobile+`","rest":"`)
		w.(http.Flusher).Flush()
		conn, _, _ := http.NewResponseController(w).Hijack()
		conn.Close()
	})
	mux.HandleFunc("/api/sized", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		chunks, _ := strconv.Atoi(r.URL.Query().Get("chunks"))
		body := sizedJSON(n)
		w.Header().Set("Content-Type", "application/json")
		for i := 0; i < chunks; i++ {
			w.Write(body[i*len(body)/chunks : (i+1)*len(body)/chunks])
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("/api/sse", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		var out io.Writer = w
		flush := w.(http.Flusher).Flush
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			// As web frameworks do: compressed, flushed event by event.
			w.Header().Set("Content-Encoding", "gzip")
			zw := gzip.NewWriter(w)
			defer zw.Close()
			out = zw
			flush = func() { zw.Flush(); w.(http.Flusher).Flush() }
		}
		io.WriteString(out, "data: {\"mobile\":\""+tMobile+"\"}\n\n")
		flush()
		select {
		case <-o.sse:
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
		io.WriteString(out, "data: {\"email\":\""+tEmail+"\"}\n\n")
	})
	mux.HandleFunc("/api/ndjson", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-ndjson")
		io.WriteString(w, "{\"mobile\":\""+tMobile+"\"}\n{\"n\":1}\n")
	})
	mux.HandleFunc("/api/echo", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		names := make([]string, 0, len(r.Header))
		for k := range r.Header {
			names = append(names, k)
		}
		json.NewEncoder(w).Encode(map[string]any{
			"range": r.Header.Get("Range"), "if_range": r.Header.Get("If-Range"),
			"user": r.Header.Get("X-Auth-User"), "remote": r.Header.Get("X-Remote-User"),
			"accept_encoding": r.Header.Get("Accept-Encoding"), "method": r.Method,
			"header_names": names,
		})
	})
	// /api/twice sends a header twice: two types (h=ct), or a body
	// gzipped twice, said in two lines (h=ce).
	mux.HandleFunc("/api/twice", func(w http.ResponseWriter, r *http.Request) {
		page := "<p>客户电话 " + tMobile + "</p>"
		switch r.URL.Query().Get("h") {
		case "ct":
			w.Header()["Content-Type"] = []string{"image/png", "text/html"}
			io.WriteString(w, page)
		case "ce":
			gz := func(b []byte) []byte {
				var out bytes.Buffer
				zw := gzip.NewWriter(&out)
				zw.Write(b)
				zw.Close()
				return out.Bytes()
			}
			w.Header().Set("Content-Type", "text/html")
			w.Header()["Content-Encoding"] = []string{"gzip", "gzip"}
			w.Write(gz(gz([]byte(page))))
		}
	})
	// /api/trailers sends trailers holding personal data after a body of
	// type ct.
	mux.HandleFunc("/api/trailers", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", r.URL.Query().Get("ct"))
		w.Header().Set("Trailer", "X-Phone")
		io.WriteString(w, `{"mobile":"`+tMobile+"\"}\n")
		w.(http.Flusher).Flush()
		w.Header().Set("X-Phone", tMobile)
		w.Header().Set(http.TrailerPrefix+"X-Email", tEmail)
	})
	// /api/raw serves the body given in base64 (b), with the type given
	// (type; "none" for no Content-Type at all, the default JSON).
	mux.HandleFunc("/api/raw", func(w http.ResponseWriter, r *http.Request) {
		body, err := base64.URLEncoding.DecodeString(r.URL.Query().Get("b"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		switch ct := r.URL.Query().Get("type"); ct {
		case "":
			w.Header().Set("Content-Type", "application/json")
		case "none":
			w.Header()["Content-Type"] = nil // keep net/http from sniffing one
		default:
			w.Header().Set("Content-Type", ct)
		}
		w.Write(body)
	})
	o.Server = httptest.NewServer(mux)
	t.Cleanup(o.Close)
	return o
}

// sizedJSON returns a JSON document of exactly n bytes holding a mobile.
func sizedJSON(n int) []byte {
	head := `{"mobile":"` + tMobile + `","pad":"`
	tail := `"}`
	return []byte(head + strings.Repeat("x", n-len(head)-len(tail)) + tail)
}

func testCaddyfile(o *origin, files string) string {
	return `{
	skip_install_trust
	admin localhost:2999
	http_port 9080
	https_port 9443
	pii {
		role online_agent {
			cn_mobile mask
			cn_resident_id mask
			bank_card mask
			email mask
			person_name mask
			address redact
			* redact
		}
		role supervisor {
			* plain
		}
		role analyst {
			* hash
		}
		role minimal {
			* drop
		}
		role clerk {
			* tokenize
		}
		hash_key 0123456789abcdef0123456789abcdef
	}
}
http://localhost:9080 {
	handle /oidc/* {
		pii_oidc {
			issuer http://127.0.0.1:1
			client_id piigate
			redirect_url http://localhost:9080/oidc/callback
			session_key MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=
			insecure_cookie
			identity_header id X-Auth-User
		}
		respond "signed in"
	}
	handle /files/* {
		pii_mask {
			roles_from {http.request.header.X-Test-Role}
			scan all
		}
		root * ` + files + `
		file_server
	}
	handle /limited/* {
		uri strip_prefix /limited
		pii_mask {
			roles_from {http.request.header.X-Test-Role}
			max_body 1000
			scan all
		}
		reverse_proxy ` + o.Listener.Addr().String() + ` {
			flush_interval -1
		}
	}
	handle /textual/* {
		uri strip_prefix /textual
		pii_mask {
			roles_from {http.request.header.X-Test-Role}
			scan all
			data_formats scan
		}
		reverse_proxy ` + o.Listener.Addr().String() + `
	}
	handle /passing/* {
		uri strip_prefix /passing
		pii_mask {
			roles_from {http.request.header.X-Test-Role}
			pass_types image/*
		}
		reverse_proxy ` + o.Listener.Addr().String() + `
	}
	handle {
		pii_mask {
			roles_from {http.request.header.X-Test-Role}
			field data.#.mobile cn_mobile
			field data.#.note scan
			scan all
			strip_request_header X-Remote-User
		}
		reverse_proxy ` + o.Listener.Addr().String() + ` {
			flush_interval -1
		}
	}
}
`
}

// startGateway loads the test configuration into an in-process Caddy
// through caddytest. It fails, rather than skips, when Caddy cannot start.
func startGateway(t *testing.T) (*caddytest.Tester, *origin) {
	if testing.Short() {
		t.Skip("integration test")
	}
	ensureAdmin(t)
	o := newOrigin(t)
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "files"), 0o755)
	os.WriteFile(filepath.Join(dir, "files", "customer.json"), []byte(customerJSON), 0o644)
	tester := caddytest.NewTester(t)
	tester.InitServer(testCaddyfile(o, dir), "caddyfile")
	return tester, o
}

var adminOnce sync.Once

// ensureAdmin starts Caddy with its admin endpoint where caddytest looks,
// so that caddytest never skips for want of a running server.
func ensureAdmin(t *testing.T) {
	adminOnce.Do(func() {
		if c, err := net.Dial("tcp", "localhost:2999"); err == nil {
			c.Close()
			return
		}
		if err := caddy.Load([]byte(`{"admin":{"listen":"localhost:2999"}}`), true); err != nil {
			t.Fatalf("starting caddy: %v", err)
		}
	})
	c, err := net.DialTimeout("tcp", "localhost:2999", 5*time.Second)
	if err != nil {
		t.Fatalf("caddy admin endpoint not reachable: %v", err)
	}
	c.Close()
}

func get(t *testing.T, tc *caddytest.Tester, path, role string, header ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://localhost:9080"+path, nil)
	req.Header.Set("X-Test-Role", role)
	req.Header.Set("Accept-Encoding", "identity")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := tcDo(tc, req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading body: %v", path, err)
	}
	return resp, string(b)
}

// tcDo sends req with the tester's client, once more when a GET or HEAD
// without a body meets a connection the previous configuration's server
// accepted while caddytest's reload shut it down (reset, or closed with
// no answer).
func tcDo(tc *caddytest.Tester, req *http.Request) (*http.Response, error) {
	return retryDo(tc.Client, req)
}

// retryDo is tcDo for any client.
func retryDo(c *http.Client, req *http.Request) (*http.Response, error) {
	resp, err := c.Do(req)
	if err != nil && (req.Method == http.MethodGet || req.Method == http.MethodHead) && req.Body == nil &&
		(errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)) {
		c.CloseIdleConnections()
		resp, err = c.Do(req)
	}
	return resp, err
}

// masked asserts the online agent's view of customerJSON.
func masked(t *testing.T, what, body string) {
	t.Helper()
	for _, want := range []string{`"mobile":"138****5678"`, `"name":"张*"`, `"idCard":"110105********002X"`,
		`"email":"z***@example.com"`, `"address":"[address]"`, `客户手机139****5678，卡号622202******7020`} {
		if !strings.Contains(body, want) {
			t.Errorf("%s: no %s in %s", what, want, body)
		}
	}
	for _, secret := range []string{tMobile, tID, tCard, tEmail, "建国路"} {
		if strings.Contains(body, secret) {
			t.Errorf("%s: %s leaked: %s", what, secret, body)
		}
	}
}

func TestMaskActionsThroughCaddy(t *testing.T) {
	tc, _ := startGateway(t)
	resp, body := get(t, tc, "/api/customers", "online_agent")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	masked(t, "online_agent", body)
	if _, body := get(t, tc, "/api/customers", "supervisor"); body != customerJSON {
		t.Errorf("supervisor should see the record unchanged: %s", body)
	}
	_, body = get(t, tc, "/api/customers", "analyst")
	if !strings.Contains(body, `"mobile":"hash:cn_mobile:`) || strings.Contains(body, tMobile) {
		t.Errorf("analyst should see pseudonyms: %s", body)
	}
	if _, body := get(t, tc, "/api/customers", "minimal"); body != `{"data":[{"id":1,"note":"客户手机，卡号"}]}` {
		t.Errorf("minimal: %s", body)
	}
	_, body = get(t, tc, "/api/customers", "clerk") // tokenize without a token key set: redacted
	if !strings.Contains(body, `"mobile":"[cn_mobile]"`) {
		t.Errorf("clerk: %s", body)
	}
	for _, role := range []string{"", "intruder", " , "} {
		_, body = get(t, tc, "/api/customers", role)
		if !strings.Contains(body, `"mobile":"[cn_mobile]"`) || !strings.Contains(body, `"name":"[person_name]"`) || strings.Contains(body, tMobile) {
			t.Errorf("unknown role %q should get redact: %s", role, body)
		}
	}
	if _, body := get(t, tc, "/api/customers", "online_agent,supervisor"); body != customerJSON {
		t.Errorf("most revealing role should win: %s", body)
	}
}

func TestMaskHeadersAndCaching(t *testing.T) {
	tc, o := startGateway(t)
	resp, _ := get(t, tc, "/api/customers", "online_agent", "Range", "bytes=0-10", "If-Range", `"v1"`,
		"X-Remote-User", "admin", "If-None-Match", `"v1"`)
	if resp.StatusCode != 200 {
		t.Fatalf("a ranged request should get the whole masked body, got %d", resp.StatusCode)
	}
	o.mu.Lock()
	got := o.lastReq
	o.mu.Unlock()
	for _, h := range []string{"Range", "If-Range", "X-Remote-User", "If-None-Match"} {
		if got.Get(h) != "" {
			t.Errorf("%s reached the upstream: %q", h, got.Get(h))
		}
	}
	// X-Auth-User is what pii_oidc sets on its routes; on a route it does
	// not guard, pii_mask removes a forged one.
	_, echo := get(t, tc, "/api/echo", "online_agent", "X-Auth-User", "forged-admin")
	if strings.Contains(echo, "forged-admin") {
		t.Errorf("a forged identity header reached the upstream: %s", echo)
	}
	for _, h := range []string{"Etag", "Last-Modified", "Accept-Ranges"} {
		if resp.Header.Get(h) != "" {
			t.Errorf("%s should be dropped, got %q", h, resp.Header.Get(h))
		}
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "private, no-store, no-transform" {
		t.Errorf("Cache-Control = %q", cc)
	}
	if v := resp.Header.Get("Vary"); v != "Accept, Cookie, Authorization" {
		t.Errorf("Vary = %q", v)
	}
	if cl := resp.Header.Get("Content-Length"); cl == "" {
		t.Error("Content-Length should be set for the rewritten body")
	}

	req, _ := http.NewRequest(http.MethodHead, "http://localhost:9080/api/customers", nil)
	req.Header.Set("X-Test-Role", "online_agent")
	hr, err := tcDo(tc, req)
	if err != nil {
		t.Fatal(err)
	}
	hr.Body.Close()
	if hr.StatusCode != 200 || hr.Header.Get("Etag") != "" || hr.Header.Get("Cache-Control") != "private, no-store, no-transform" {
		t.Errorf("HEAD: %d %v", hr.StatusCode, hr.Header)
	}
	// The length of a view HEAD does not compute is unknown: none is
	// announced, least of all the unmasked one.
	if cl := hr.Header.Get("Content-Length"); cl != "" {
		t.Errorf("HEAD announced Content-Length %s (the unmasked body has %d bytes)", cl, len(customerJSON))
	}
	if v := hr.Header.Get("Vary"); v != "Accept, Cookie, Authorization" {
		t.Errorf("HEAD: Vary = %q", v)
	}
}

func TestMaskCompressedResponses(t *testing.T) {
	tc, _ := startGateway(t)
	for _, enc := range []string{"gzip", "deflate", "br", "zstd"} {
		req, _ := http.NewRequest(http.MethodGet, "http://localhost:9080/api/enc/"+enc, nil)
		req.Header.Set("X-Test-Role", "online_agent")
		req.Header.Set("Accept-Encoding", enc)
		resp, err := tcDo(tc, req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != enc {
			t.Errorf("%s: status %d, Content-Encoding %q", enc, resp.StatusCode, resp.Header.Get("Content-Encoding"))
			continue
		}
		if bytes.Contains(raw, []byte(tMobile)) {
			t.Errorf("%s: the raw body holds the mobile", enc)
		}
		plain, err := decodeBody(raw, []string{enc}, 1<<20)
		if err != nil {
			t.Errorf("%s: the gateway's body does not decode: %v", enc, err)
			continue
		}
		masked(t, enc, string(plain))
	}
	resp, body := get(t, tc, "/api/enc/x-compress", "online_agent")
	assertRefused(t, "unknown encoding", resp, body)
}

func assertRefused(t *testing.T, what string, resp *http.Response, body string) {
	t.Helper()
	if resp.StatusCode != http.StatusBadGateway {
		t.Errorf("%s: status %d, want 502", what, resp.StatusCode)
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(body), &m); err != nil || m["request_id"] == "" || m["error"] == "" {
		t.Errorf("%s: want a JSON error with a request id, got %q", what, body)
	}
	if resp.Header.Get("X-Request-Id") != m["request_id"] {
		t.Errorf("%s: X-Request-Id %q differs from the body's %q", what, resp.Header.Get("X-Request-Id"), m["request_id"])
	}
	// The request id is random hex and may contain "138" by chance.
	rest := strings.Replace(body, m["request_id"], "", 1)
	if strings.Contains(rest, tMobile) || strings.Contains(rest, "138") {
		t.Errorf("%s: upstream bytes leaked: %s", what, body)
	}
}

func TestMaskFailsClosed(t *testing.T) {
	tc, _ := startGateway(t)
	resp, body := get(t, tc, "/api/malformed", "online_agent")
	assertRefused(t, "malformed JSON", resp, body)
	resp, body = get(t, tc, "/api/die", "online_agent")
	assertRefused(t, "upstream died mid-body", resp, body)
	resp, body = get(t, tc, "/api/binary", "online_agent")
	assertRefused(t, "binary octet-stream", resp, body)
	resp, body = get(t, tc, "/api/png", "online_agent")
	assertRefused(t, "image without pass_types", resp, body)
	resp, body = get(t, tc, "/passing/api/png", "online_agent")
	if resp.StatusCode != 200 || !strings.HasPrefix(body, "\x89PNG") {
		t.Errorf("pass_types image/* should pass the image: %d", resp.StatusCode)
	}

	req, _ := http.NewRequest(http.MethodGet, "http://localhost:9080/api/echo", nil)
	req.Header.Set("X-Test-Role", "online_agent")
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	ws, err := tcDo(tc, req)
	if err != nil {
		t.Fatal(err)
	}
	ws.Body.Close()
	if ws.StatusCode != http.StatusForbidden {
		t.Errorf("WebSocket upgrade: status %d, want 403", ws.StatusCode)
	}
}

func TestMaskErrorBodiesAndSniffing(t *testing.T) {
	tc, _ := startGateway(t)
	resp, body := get(t, tc, "/api/error", "online_agent")
	if resp.StatusCode != 500 || !strings.Contains(body, "138****5678") || strings.Contains(body, tMobile) {
		t.Errorf("5xx body should be masked: %d %s", resp.StatusCode, body)
	}
	resp, body = get(t, tc, "/api/notfound", "online_agent")
	if resp.StatusCode != 404 || body != `{"mobile":"138****5678"}` {
		t.Errorf("4xx body should be masked: %d %s", resp.StatusCode, body)
	}
	for _, ct := range []string{"text/plain", "text/html", "application/octet-stream", "none", "application/problem%2Bjson"} {
		_, body := get(t, tc, "/api/typed/?type="+ct, "online_agent")
		masked(t, "type "+ct, body)
	}
	_, body = get(t, tc, "/api/typed/?type=application/json&prefix=)]}'%0A", "online_agent")
	if !strings.HasPrefix(body, ")]}'\n") {
		t.Errorf("XSSI prefix lost: %q", body)
	}
	masked(t, "xssi", body)
	_, body = get(t, tc, "/api/html", "online_agent")
	if body != "<html><body><p>客户电话 138****5678</p></body></html>" {
		t.Errorf("HTML text should be content-scanned: %s", body)
	}
	_, body = get(t, tc, "/api/ndjson", "online_agent")
	if body != "{\"mobile\":\"138****5678\"}\n{\"n\":1}\n" {
		t.Errorf("ndjson: %q", body)
	}
	_, body = get(t, tc, "/files/customer.json", "online_agent")
	masked(t, "file_server (io.Copy through ReadFrom)", body)
}

func TestMaskBodyLimit(t *testing.T) {
	tc, _ := startGateway(t)
	for _, n := range []int{999, 1000, 1001} {
		for _, chunks := range []int{1, 50} {
			resp, body := get(t, tc, fmt.Sprintf("/limited/api/sized?n=%d&chunks=%d", n, chunks), "online_agent")
			what := fmt.Sprintf("%d bytes in %d chunks", n, chunks)
			if n <= 1000 {
				if resp.StatusCode != 200 || !strings.Contains(body, "138****5678") || strings.Contains(body, tMobile) {
					t.Errorf("%s: status %d, body %.60s", what, resp.StatusCode, body)
				}
				continue
			}
			assertRefused(t, what, resp, body)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, "http://localhost:9080/limited/api/inflates", nil)
	req.Header.Set("X-Test-Role", "online_agent")
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := tcDo(tc, req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assertRefused(t, "a body over max_body once decompressed", resp, string(body))
}

func TestMaskStreamsKeepFlowing(t *testing.T) {
	tc, o := startGateway(t)
	req, _ := http.NewRequest(http.MethodGet, "http://localhost:9080/api/sse", nil)
	req.Header.Set("X-Test-Role", "online_agent")
	req.Header.Set("Accept-Encoding", "identity") // a compressed stream: TestMaskAsksStreamsUncompressed
	resp, err := tcDo(tc, req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	first, err := r.ReadString('\n')
	if err != nil || first != "data: {\"mobile\":\"138****5678\"}\n" {
		t.Fatalf("first event before the second was sent: %q %v", first, err)
	}
	close(o.sse) // only now does the origin send the second event
	rest, _ := io.ReadAll(r)
	if string(rest) != "\ndata: {\"email\":\"z***@example.com\"}\n\n" {
		t.Errorf("second event: %q", rest)
	}
}

func TestMaskMetrics(t *testing.T) {
	tc, _ := startGateway(t)
	get(t, tc, "/api/customers", "online_agent")
	get(t, tc, "/api/malformed", "online_agent")
	get(t, tc, "/limited/api/sized?n=5000&chunks=5", "online_agent")
	resp, err := http.Get("http://localhost:2999/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`piigate_mask_responses_total{result="rewritten"}`,
		`piigate_mask_values_total{action="mask",entity="cn_mobile",role="online_agent"}`,
		`piigate_mask_refusals_total{reason="malformed"}`,
		`piigate_mask_refusals_total{reason="body_too_large"}`,
		`piigate_mask_rewrite_duration_seconds_count`,
	} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// The counters (cached per label set by the handler) go on counting.
	value := func(series string) float64 { return metricValue(t, series) }
	const mobiles = `piigate_mask_values_total{action="mask",entity="cn_mobile",role="online_agent"}`
	const rewritten = `piigate_mask_responses_total{result="rewritten"}`
	v0, r0 := value(mobiles), value(rewritten)
	get(t, tc, "/api/customers", "online_agent")
	get(t, tc, "/api/customers", "online_agent")
	// A response is counted when its handler returns, which can be just
	// after the client has read it: wait a little for the second.
	v1, r1 := value(mobiles), value(rewritten)
	for deadline := time.Now().Add(3 * time.Second); r1 < r0+2 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		v1, r1 = value(mobiles), value(rewritten)
	}
	if v1 <= v0 || r1 != r0+2 {
		t.Errorf("after two more responses: values %v → %v, rewritten %v → %v", v0, v1, r0, r1)
	}
}

func TestRolesFrom(t *testing.T) {
	for in, want := range map[string]string{
		"{http.vars.role}":         "http.vars.role",
		"{http.auth.user.roles}":   "http.auth.user.roles",
		"{env.ROLE:agent}":         "", // a default value: Caddy's parser
		"{a}{b}":                   "",
		"{http.vars.role},auditor": "",
		"agent":                    "",
		"{}":                       "",
	} {
		if got := singlePlaceholder(in); got != want {
			t.Errorf("singlePlaceholder(%q) = %q, want %q", in, got, want)
		}
	}
	repl := caddy.NewReplacer()
	repl.Set("one", "agent supervisor")
	repl.Set("list", []string{"agent", "auditor"})
	repl.Set("num", 7)
	for from, want := range map[string]string{
		"{one}":         "agent supervisor",
		"{list}":        "agent,auditor",
		"{num}":         "7",
		"{missing}":     "",
		"{one},auditor": "agent supervisor,auditor",
		"auditor":       "auditor",
	} {
		m := &Mask{RolesFrom: from, rolesKey: singlePlaceholder(from)}
		if got := m.roles(repl); got != want {
			t.Errorf("roles from %q = %q, want %q", from, got, want)
		}
		// The single-placeholder path reads what Caddy's own template
		// expansion would, but for a list: ReplaceAll writes it as
		// "[agent auditor]", which would split into "[agent" and
		// "auditor]", so a list placeholder is joined with commas.
		if from == "{list}" {
			continue
		}
		if got, caddys := m.roles(repl), repl.ReplaceAll(from, ""); got != caddys {
			t.Errorf("roles from %q = %q, Caddy's ReplaceAll gives %q", from, got, caddys)
		}
	}
}

func TestFilterAcceptEncoding(t *testing.T) {
	for in, want := range map[string]string{
		"gzip":                             "gzip",
		"gzip, deflate, br, zstd":          "gzip, deflate, br, zstd",
		"gzip;q=1.0, identity; q=0.5":      "gzip;q=1.0, identity; q=0.5",
		"gzip, compress, br":               "gzip, br",
		"*":                                "",
		"GZIP, x-custom":                   "GZIP",
		"compress":                         "",
		"br;q=0.8, lzma;q=0.9, zstd;q=0.7": "br;q=0.8, zstd;q=0.7",
	} {
		h := http.Header{"Accept-Encoding": {in}}
		filterAcceptEncoding(h)
		if got := h.Get("Accept-Encoding"); got != want {
			t.Errorf("Accept-Encoding %q → %q, want %q", in, got, want)
		}
	}
	h := http.Header{"Accept-Encoding": {"gzip, br"}}
	if n := testing.AllocsPerRun(100, func() { filterAcceptEncoding(h) }); n != 0 {
		t.Errorf("a header with known codings only: %v allocations", n)
	}
}

// TestMaskFlushesTheView: a buffered view is flushed as soon as it is
// written, so net/http sends it before the request ends instead of when it
// finishes the request.
func TestMaskFlushesTheView(t *testing.T) {
	app := &App{Roles: map[string]config.RoleRules{"online_agent": {"cn_mobile": "mask", "*": "redact"}}}
	if err := app.compile(); err != nil {
		t.Fatal(err)
	}
	m := &Mask{RolesFrom: "online_agent", Scan: "off", Fields: []config.Field{{Path: "mobile", Type: "cn_mobile"}}}
	if err := m.provisionWith(app); err != nil {
		t.Fatal(err)
	}
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "application/json")
		_, err := w.Write([]byte(`{"mobile":"` + tMobile + `"}`))
		return err
	})
	rec, _ := serveMask(t, m, httptest.NewRequest(http.MethodGet, "/api/c", nil), next)
	if got := rec.Body.String(); got != `{"mobile":"138****5678"}` {
		t.Fatalf("view %s", got)
	}
	if !rec.Flushed {
		t.Error("the view was not flushed")
	}
	if cl := rec.Header().Get("Content-Length"); cl != "24" {
		t.Errorf("Content-Length %q, want 24", cl)
	}
}
