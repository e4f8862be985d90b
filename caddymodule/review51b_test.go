package caddymodule

// Fifty-first review (b): concurrency and config reloads. The gateway is
// loaded in process (caddy.Load, the admin endpoint where caddytest looks)
// on a port the OS chose, with an httptest upstream.
//
// Also exercised during the review, with no finding (those tests are not
// kept): 24 agents of two roles (`* plain` next to masked/hashed) at once
// over JSON, gzip/br/zstd bodies, JSON in strings, text, SSE, gzip-coded
// NDJSON streams, refused bodies (too large, malformed) and streams cut by
// the client, each view compared byte for byte with the one served alone;
// caddy.Load alternating two agent policies every 20 ms under that load,
// each view being wholly one policy's; streams held open across ten
// reloads keeping their first policy; no streamDecoder or pii_mask
// goroutine left after cut streams; the body decoders' pools after broken
// bodies; the rewrite engine's pooled walkers shared by 8 goroutines
// against a fresh engine per call.

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
)

const r51bGlobal = `{
	admin localhost:2999
	auto_https off
	persist_config off
	pii {
		role agent {
			cn_mobile mask
			* redact
		}
		role supervisor {
			* plain
		}
	}
}
`

// r51bGateway loads site (PORT and UPSTREAM replaced) under r51bGlobal
// into an in-process Caddy and returns its base URL.
func r51bGateway(t *testing.T, site, upstream string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	site = strings.ReplaceAll(site, "UPSTREAM", upstream)
	site = strings.ReplaceAll(site, "PORT", fmt.Sprint(port))
	js, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(r51bGlobal+site), map[string]any{"filename": "Caddyfile"})
	if err != nil {
		t.Fatalf("adapt: %v", err)
	}
	if err := caddy.Load(js, true); err != nil {
		t.Fatalf("load: %v", err)
	}
	for i := 0; i < 50; i++ {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			c.Close()
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Sprintf("http://127.0.0.1:%d", port)
}

var r51bClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}}

func r51bGet(ctx context.Context, url, role string) (int, string, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	req.Header.Set("X-Role", role)
	resp, err := r51bClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// A refusal after the upstream answered (here a malformed JSON body; the
// same for every fail path after next: body_too_large, unknown_encoding,
// upstream_failed …) reads the request id, {http.request.uuid}, which
// Caddy 2.11 makes on first use by writing the request's variables map
// (SetVar "uuid"). reverse_proxy's transport may meanwhile be dialling for
// the same request on a goroutine of its own (the request was handed an
// idle connection first, and the dial goes on), whose dial function reads
// that map (GetVar proxyVarKey, with the request's context): a data race
// on the map, which when the two meet is Go's unrecoverable "fatal error:
// concurrent map read and map write", the whole gateway down. The same
// load of well-formed bodies (no refusal, so no uuid made after next)
// shows no race.
func TestReview51bRefusalRequestIDRace(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"mobile":"13812345678","bad":`) // cut: malformed
	}))
	t.Cleanup(up.Close)
	base := r51bGateway(t, `
:PORT {
	pii_mask {
		roles_from {http.request.header.X-Role}
	}
	reverse_proxy UPSTREAM {
		transport http {
			keepalive_idle_conns_per_host 1
		}
	}
}
`, up.Listener.Addr().String())
	var wg sync.WaitGroup
	deadline := time.Now().Add(3 * time.Second)
	for g := 0; g < 32; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			role := []string{"agent", "supervisor"}[g%2]
			for time.Now().Before(deadline) {
				code, body, err := r51bGet(context.Background(), base+"/api", role)
				if err == nil && (code != http.StatusBadGateway || strings.Contains(body, "13812345678")) {
					t.Errorf("a malformed body: %d %q", code, body)
					return
				}
			}
		}(g)
	}
	wg.Wait()
}
