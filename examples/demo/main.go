// Command demo starts the whole piigate stack on this machine for a person
// to try in a browser:
//
//	go run ./examples/demo [-port 8080] [-seed 1]
//
// It builds Caddy with piigate (examples/caddy), the sample legacy helpdesk
// (examples/helpdesk) and Ory Hydra (test/tools/hydra; the first build
// downloads and compiles it in a few minutes, with cgo for SQLite), then runs Hydra with a login
// app that knows three demo agents, the helpdesk with fake customers, and
// Caddy with the repository's Caddyfile.example in front of it, keys and
// client credentials generated for this run. It prints the address to
// open, the agents and their passwords. Everything listens on 127.0.0.1
// only. Ctrl-C stops everything and removes the run's files.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/piigate/piigate/test/idp"
)

// agent is a demo account: its provider groups map to role in
// Caddyfile.example.
type agent struct {
	name, role, sees string
	idp.User
}

var agents = []agent{
	{"alice", "online_agent", "masked names, phones, IDs and e-mails; no card numbers, addresses or birthdays",
		idp.User{Password: "alice-pw", Name: "Alice (online agent)", Email: "alice@cs.example", Groups: []string{"cs-online"}}},
	{"carol", "phone_agent", "names, phones and birthdays; masked IDs, cards, e-mails and addresses",
		idp.User{Password: "carol-pw", Name: "Carol (phone agent)", Email: "carol@cs.example", Groups: []string{"cs-phone"}}},
	{"bob", "supervisor", "everything except full card numbers",
		idp.User{Password: "bob-pw", Name: "Bob (supervisor)", Email: "bob@cs.example", Groups: []string{"cs-supervisor"}}},
}

func main() {
	port := flag.Int("port", 8080, "loopback port of the gateway")
	seed := flag.Int64("seed", 1, "seed of the helpdesk's fake customers")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *port, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// run starts the stack and keeps it running until ctx ends or a part of
// it exits; it always stops what it started.
func run(ctx context.Context, port int, seed int64) error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	// The port is checked first so that a busy one fails before any build.
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("port %d: %w (choose another with -port)", port, err)
	}
	l.Close()
	dir, err := os.MkdirTemp("", "piigate-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	step("building Caddy with piigate (examples/caddy)")
	caddyBin := filepath.Join(dir, "bin", "caddy")
	if err := goBuild(root, caddyBin, "./examples/caddy"); err != nil {
		return err
	}
	step("building the sample helpdesk (examples/helpdesk)")
	helpdeskBin := filepath.Join(dir, "bin", "helpdesk")
	if err := goBuild(root, helpdeskBin, "./examples/helpdesk"); err != nil {
		return err
	}
	step("building Ory Hydra (test/tools/hydra; the first time takes a few minutes and needs a C compiler for SQLite)")
	hydraBin, err := idp.Build(root)
	if err != nil {
		return err
	}

	step("starting Ory Hydra, the OpenID provider")
	hydraLog, err := os.Create(filepath.Join(dir, "hydra.log"))
	if err != nil {
		return err
	}
	defer hydraLog.Close()
	users := map[string]idp.User{}
	for _, a := range agents {
		users[a.name] = a.User
	}
	provider, err := idp.Start(idp.Options{Binary: hydraBin, Users: users, Output: hydraLog})
	if err != nil {
		return fmt.Errorf("%w (log: %s)", err, hydraLog.Name())
	}
	defer provider.Close()
	gatewayURL := fmt.Sprintf("http://127.0.0.1:%d", port)
	client, err := provider.GatewayClient(gatewayURL)
	if err != nil {
		return err
	}

	step(fmt.Sprintf("starting the helpdesk (fake customers, seed %d)", seed))
	helpdeskAddr, err := freeAddr()
	if err != nil {
		return err
	}
	helpdesk, err := startProcess("helpdesk", dir, nil, helpdeskBin, "-listen", helpdeskAddr, "-seed", strconv.FormatInt(seed, 10))
	if err != nil {
		return err
	}
	defer helpdesk.stop()
	if err := waitHTTP(ctx, "http://"+helpdeskAddr+"/api/customers?pageSize=1", helpdesk); err != nil {
		return err
	}

	step("starting Caddy with Caddyfile.example")
	adminAddr, err := freeAddr()
	if err != nil {
		return err
	}
	env := []string{
		"HELPDESK_ORIGIN=" + gatewayURL,
		"GATEWAY_BIND=127.0.0.1",
		"OIDC_ISSUER=" + provider.Issuer,
		"OIDC_CLIENT_ID=" + client.ID,
		"OIDC_CLIENT_SECRET=" + client.Secret,
		"HELPDESK_UPSTREAM=" + helpdeskAddr,
		"PII_SESSION_KEY=" + randomKey(),
		"PII_HASH_KEY=" + randomKey(),
		"CADDY_ADMIN=" + adminAddr,
	}
	envFile := filepath.Join(dir, "env")
	if err := os.WriteFile(envFile, []byte(strings.Join(env, "\n")+"\n"), 0o600); err != nil {
		return err
	}
	caddyfile := filepath.Join(root, "Caddyfile.example")
	// Caddy keeps its state (autosaved config, certificates) in the run's
	// directory, not in the user's home.
	caddyEnv := append(env, "HOME="+dir, "XDG_DATA_HOME="+dir, "XDG_CONFIG_HOME="+dir)
	caddy, err := startProcess("caddy", dir, caddyEnv, caddyBin, "run", "--config", caddyfile, "--adapter", "caddyfile")
	if err != nil {
		return err
	}
	defer caddy.stop()
	if err := waitHTTP(ctx, gatewayURL+"/oauth2/logout", caddy); err != nil {
		return err
	}

	fmt.Printf("\npiigate demo is running. Open %s/ and sign in as\n\n", gatewayURL)
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  user\tpassword\trole\tsees")
	for _, a := range agents {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", a.name, a.Password, a.role, a.sees)
	}
	tw.Flush()
	fmt.Printf(`
Sign out at %[1]s/oauth2/logout to switch agents.

  configuration  %[2]s
  environment    %[3]s (generated keys and client)
  logs           %[4]s
  helpdesk       http://%[5]s/ (direct, unmasked: what the gateway protects)
  provider       %[7]s (Ory Hydra)

Dry-run the rules on a customer record:

  curl -s http://%[5]s/api/customers/10001 | env $(cat %[3]s) %[6]s pii scan --config %[2]s --role online_agent --path /api/customers/10001

Ctrl-C stops everything.
`, gatewayURL, caddyfile, envFile, filepath.Join(dir, "*.log"), helpdeskAddr, caddyBin, provider.Issuer)

	var exit error
	select {
	case <-ctx.Done():
	case <-provider.Exited():
		exit = unlessStopping(ctx, fmt.Errorf("hydra exited; its log:\n%s", tail(hydraLog.Name())))
	case <-helpdesk.exited:
		exit = unlessStopping(ctx, helpdesk.failure())
	case <-caddy.exited:
		exit = unlessStopping(ctx, caddy.failure())
	}
	if exit == nil {
		fmt.Println("\nstopping")
	}
	return exit
}

// unlessStopping returns err unless the demo is being stopped: Ctrl-C
// reaches the whole process group, so a part may exit just before the demo
// itself sees the signal.
func unlessStopping(ctx context.Context, err error) error {
	select {
	case <-ctx.Done():
		return nil
	case <-time.After(time.Second):
		return err
	}
}

func step(what string) { fmt.Println("→", what) }

// repoRoot is the directory of the main module, where the demo must be run
// from (go run ./examples/demo).
func repoRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(out)))
	if _, err := os.Stat(filepath.Join(root, "Caddyfile.example")); err != nil {
		return "", errors.New("run the demo from the piigate repository: go run ./examples/demo")
	}
	return root, nil
}

func goBuild(root, out, pkg string) error {
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOWORK=off")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, b)
	}
	return nil
}

// freeAddr returns a loopback address whose port was free a moment ago.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// randomKey returns 32 random bytes in base64, the form the session and
// hash keys take.
func randomKey() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// process is a part of the stack running as a child process, its output in
// <dir>/<name>.log.
type process struct {
	name, log string
	cmd       *exec.Cmd
	exited    chan struct{}
}

func startProcess(name, dir string, env []string, bin string, args ...string) (*process, error) {
	logFile, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		return nil, err
	}
	p := &process{name: name, log: logFile.Name(), cmd: exec.Command(bin, args...), exited: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
	if err := p.cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	go func() {
		_ = p.cmd.Wait()
		logFile.Close()
		close(p.exited)
	}()
	return p, nil
}

// stop ends the process and waits for it.
func (p *process) stop() {
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// failure describes an unexpected exit, with the end of the log.
func (p *process) failure() error {
	return fmt.Errorf("%s exited (%v); its log:\n%s", p.name, p.cmd.ProcessState, tail(p.log))
}

// waitHTTP waits until url answers, failing early when p exits.
func waitHTTP(ctx context.Context, url string, p *process) error {
	c := &http.Client{Timeout: 2 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	deadline := time.After(60 * time.Second)
	for {
		resp, err := c.Get(url)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-p.exited:
			return p.failure()
		case <-deadline:
			return fmt.Errorf("%s did not answer at %s within a minute; its log: %s", p.name, url, p.log)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// tail returns the last lines of the file at path.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return strings.Join(lines[max(0, len(lines)-30):], "\n")
}
