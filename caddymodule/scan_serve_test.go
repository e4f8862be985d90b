package caddymodule

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddytest"
)

// compareScanServe serves body from an upstream with the given header
// fields ("Name: value"; Content-Type among them), asks the real gateway
// for path as role, and runs `caddy pii scan --header …` on the same
// Caddyfile. It returns the gateway's response and body, and scan's
// stdout, stderr and error.
func compareScanServe(t *testing.T, site, path, role, body string, header ...string) (resp *http.Response, gateway, out, errOut string, err error) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test")
	}
	ensureAdmin(t)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, h := range header {
			name, value, _ := strings.Cut(h, ":")
			w.Header().Add(strings.TrimSpace(name), strings.TrimSpace(value))
		}
		io.WriteString(w, body)
	}))
	defer up.Close()
	cf := scanGatewayCaddyfile(up.Listener.Addr().String(), site)
	tc := caddytest.NewTester(t)
	tc.InitServer(cf, "caddyfile")
	resp, gateway = get(t, tc, path, role)

	file := filepath.Join(t.TempDir(), "Caddyfile")
	os.WriteFile(file, []byte(cf), 0o644)
	args := []string{"--config", file, "--role", role, "--path", path}
	for _, h := range header {
		args = append(args, "--header", h)
	}
	out, errOut, err = run(t, scanCommand(), body, args...)
	return resp, gateway, out, errOut, err
}

const scanServeSite = `
	pii_mask /api/* {
		roles_from {http.request.header.X-Test-Role}
		field mobile cn_mobile
		scan off
	}
	reverse_proxy UPSTREAM`

// --content-type/--header run the body through the handlers: JSON under
// text/html is content-scanned everywhere (the note's e-mail, which scan
// off leaves under application/json), and the header fields are read
// too. The dry run shows what the real gateway sends, body and header.
func TestScanServesThroughHandlers(t *testing.T) {
	body := `{"mobile":"13812345678","note":"mail zhang.san@example.com"}`
	resp, gw, out, errOut, err := compareScanServe(t, scanServeSite, "/api/customers", "online_agent", body,
		"Content-Type: text/html; charset=utf-8", "X-Customer-Mobile: 13912345678")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(gw, "z***@example.com") || !strings.Contains(gw, "138****5678") {
		t.Fatalf("the test's premise: the gateway content-scans JSON under text/html, got %s", gw)
	}
	if out != gw {
		t.Errorf("gateway sends %s\ncaddy pii scan shows %s", gw, out)
	}
	want := "< X-Customer-Mobile: " + resp.Header.Get("X-Customer-Mobile") + "\n"
	if resp.Header.Get("X-Customer-Mobile") == "13912345678" || !strings.Contains(errOut, want) {
		t.Errorf("header: gateway sends %q; scan prints\n%s", resp.Header.Get("X-Customer-Mobile"), errOut)
	}
	if !strings.Contains(errOut, "< Cache-Control: private, no-store") {
		t.Errorf("the gateway's own header fields are not shown:\n%s", errOut)
	}

	// Without --content-type, the same body is read as application/json:
	// scan off leaves the note.
	out, _, err = run(t, scanCommand(), body, "--config", writeCaddyfile(t, scanServeSite), "--role", "online_agent", "--path", "/api/customers")
	if err != nil || !strings.Contains(out, "zhang.san@example.com") {
		t.Errorf("as application/json: %s %v", out, err)
	}
}

// A response the gateway refuses (CSV on a route whose rules read JSON,
// a type it cannot inspect) is an error that says why, as the gateway's
// 502 does.
func TestScanServeRefusals(t *testing.T) {
	for _, c := range []struct{ ct, body, reason string }{
		{"text/csv", "mobile\n13812345678\n", "data_format"},
		{"application/pdf", "%PDF-1.4 13812345678", "uninspectable_type"},
	} {
		t.Run(c.ct, func(t *testing.T) {
			resp, _, out, _, err := compareScanServe(t, scanServeSite, "/api/export", "online_agent", c.body, "Content-Type: "+c.ct)
			if resp.StatusCode != http.StatusBadGateway {
				t.Fatalf("the test's premise: the gateway refuses with 502, got %d", resp.StatusCode)
			}
			if err == nil || !strings.Contains(err.Error(), "refuses this response with 502 ("+c.reason+")") {
				t.Errorf("scan: %q %v", out, err)
			}
			if strings.Contains(out, "13812345678") {
				t.Errorf("scan printed the refused body: %s", out)
			}
		})
	}
}

func TestScanServeFlags(t *testing.T) {
	file := writeCaddyfile(t, scanServeSite)
	for _, args := range [][]string{
		{"--header", "no colon"},
		{"--header", "Bad Name: x"},
		{"--content-type", "text/html", "--format", "json"},
	} {
		_, _, err := run(t, scanCommand(), `{}`, append([]string{"--config", file, "--role", "online_agent", "--path", "/api/x"}, args...)...)
		if err == nil {
			t.Errorf("%q: no error", args)
		}
	}
}

func writeCaddyfile(t *testing.T, site string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "Caddyfile")
	if err := os.WriteFile(file, []byte(scanGatewayCaddyfile("127.0.0.1:9", site)), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}
