// Package e2e runs piigate end to end: the real Caddy binary built from
// examples/caddy, a real OpenID provider (Ory Hydra with its login/consent
// app, from test/idp), the sample legacy helpdesk built from
// examples/helpdesk (or a small stand-in upstream that echoes what it was
// sent) and Debian's Chromium driven by chromedp. Everything listens on
// loopback.
//
// Missing Chromium or a Hydra that does not build fails these tests; only
// `go test -short` skips them.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/piigate/piigate/test/idp"
)

// repoRoot is the main module's directory (tests run in test/e2e).
var repoRoot = func() string {
	wd, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	return filepath.Clean(filepath.Join(wd, "..", ".."))
}()

var (
	buildOnce   sync.Once
	buildDir    string
	caddyBin    string
	helpdeskBin string
	hydraBin    string
	buildErr    error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// needE2E skips under -short and otherwise builds (once per run) what the
// end-to-end tests need, failing the test when something is missing.
func needE2E(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: skipped with -short")
	}
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "piigate-e2e-")
		if buildErr != nil {
			return
		}
		caddyBin = filepath.Join(buildDir, "caddy")
		if buildErr = run(repoRoot, "go", "build", "-o", caddyBin, "./examples/caddy"); buildErr != nil {
			buildErr = fmt.Errorf("building caddy: %w", buildErr)
			return
		}
		helpdeskBin = filepath.Join(buildDir, "helpdesk")
		if buildErr = run(repoRoot, "go", "build", "-o", helpdeskBin, "./examples/helpdesk"); buildErr != nil {
			buildErr = fmt.Errorf("building the helpdesk: %w", buildErr)
			return
		}
		hydraBin, buildErr = idp.Build(repoRoot)
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
}

func run(dir, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, out)
	}
	return nil
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// process is a child process whose output goes to the test log when the
// test fails.
type process struct {
	cmd *exec.Cmd
	out *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func start(t *testing.T, name string, env []string, bin string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	p := &process{cmd: cmd, out: new(syncBuffer)}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("--- %s output (last 60 lines) ---\n%s", name, tail(p.out.String(), 60))
		}
	})
	return p
}

func tail(s string, n int) string {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// waitHTTP polls url until it answers with want (any status when want is
// 0), or fails the test after a deadline.
func waitHTTP(t *testing.T, url string, want int) {
	t.Helper()
	c := &http.Client{Timeout: 2 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := c.Get(url)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if want == 0 || resp.StatusCode == want {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready after 60s (last error %v)", url, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// gateway is one running Caddy replica.
type gateway struct {
	URL  string
	Port int
}

// startGateway writes the Caddyfile that caddyfile returns for port and
// runs the real Caddy binary with it.
func startGateway(t *testing.T, name string, port int, caddyfile func(port int) string, env ...string) *gateway {
	t.Helper()
	cf := filepath.Join(t.TempDir(), "Caddyfile")
	if err := os.WriteFile(cf, []byte(caddyfile(port)), 0o600); err != nil {
		t.Fatal(err)
	}
	return runGateway(t, name, port, cf, env...)
}

// runGateway runs the real Caddy binary with the Caddyfile at path, which
// must serve http://127.0.0.1:port, its storage in a temporary directory.
func runGateway(t *testing.T, name string, port int, path string, env ...string) *gateway {
	t.Helper()
	dir := t.TempDir()
	env = append(env, "HOME="+dir, "XDG_DATA_HOME="+dir, "XDG_CONFIG_HOME="+dir)
	start(t, name, env, caddyBin, "run", "--config", path, "--adapter", "caddyfile")
	g := &gateway{URL: origin(port), Port: port}
	waitHTTP(t, g.URL+"/oauth2/logout", 0)
	return g
}

func withTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
