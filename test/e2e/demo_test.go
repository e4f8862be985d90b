//go:build unix

package e2e

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/piigate/piigate/detectors/detectorstest"
)

// TestDemo runs examples/demo as a person would: it prints where to go and
// who to be, an agent signs in with the printed password and sees the
// helpdesk masked for an online agent, and Ctrl-C stops every part of the
// stack and removes the run's files.
func TestDemo(t *testing.T) {
	needE2E(t)
	bin := filepath.Join(t.TempDir(), "demo")
	if err := run(repoRoot, "go", "build", "-o", bin, "./examples/demo"); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	out := new(syncBuffer)
	cmd := exec.Command(bin, "-port", strconv.Itoa(port))
	cmd.Dir = repoRoot
	cmd.Stdout, cmd.Stderr = out, out
	// Its own process group, so that a failed test can still kill every
	// part of the stack.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
		if t.Failed() {
			t.Logf("--- demo output ---\n%s", out.String())
		}
	})

	// The demo builds Caddy and the helpdesk again (from Go's build cache)
	// before it prints anything useful.
	deadline := time.After(4 * time.Minute)
	for !strings.Contains(out.String(), "Ctrl-C stops everything.") {
		select {
		case <-exited:
			t.Fatal("the demo exited before it was ready")
		case <-deadline:
			t.Fatal("the demo was not ready after 4 minutes")
		case <-time.After(200 * time.Millisecond):
		}
	}
	banner := out.String()
	find := func(re string) string {
		t.Helper()
		m := regexp.MustCompile(re).FindStringSubmatch(banner)
		if m == nil {
			t.Fatalf("the demo's banner lacks %s:\n%s", re, banner)
		}
		return m[1]
	}
	gatewayURL := find(`Open (http://127\.0\.0\.1:\d+)/ `)
	password := find(`(?m)^\s+alice\s+(\S+)\s+online_agent`)
	helpdesk := find(`helpdesk\s+http://(127\.0\.0\.1:\d+)/`)
	provider := find(`provider\s+http://(127\.0\.0\.1:\d+)/`)
	runDir := filepath.Dir(find(`environment\s+(\S+)`))
	if gatewayURL != origin(port) {
		t.Fatalf("the demo says to open %s, want %s", gatewayURL, origin(port))
	}

	b := newBrowser(t)
	c := detectorstest.Customers(1, 1)[0] // the demo's default seed
	b.run("open the demo", chromedp.Navigate(fmt.Sprintf("%s/customers/%d", gatewayURL, c.ID)))
	b.signInWith("alice", password)
	page := b.helpdeskPage()
	expectShown(t, "alice in the demo", page, map[string]string{"agent": "alice", "mobile": mask(c.Mobile, 3, 4)})
	expectAbsent(t, "alice in the demo", page, c.Mobile, c.IDCard)

	// Ctrl-C: the terminal signals the whole process group.
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		t.Fatal("the demo did not stop within 30s of Ctrl-C")
	}
	if !cmd.ProcessState.Success() || !strings.Contains(out.String(), "\nstopping\n") {
		t.Errorf("Ctrl-C: the demo ended with %v", cmd.ProcessState)
	}
	for name, addr := range map[string]string{"gateway": strings.TrimPrefix(gatewayURL, "http://"), "helpdesk": helpdesk, "provider": provider} {
		if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			conn.Close()
			t.Errorf("the %s still listens on %s after Ctrl-C", name, addr)
		}
	}
	if _, err := os.Stat(runDir); !os.IsNotExist(err) {
		t.Errorf("the run's directory %s is still there (%v)", runDir, err)
	}
}
