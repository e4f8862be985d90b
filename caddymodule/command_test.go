package caddymodule

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

func run(t *testing.T, cmd *cobra.Command, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	cmd.SilenceUsage = true
	err := cmd.Execute()
	return out.String(), errOut.String(), err
}

func TestDetectCommand(t *testing.T) {
	out, _, err := run(t, detectCommand(), "手机13812345678\nnothing here\r\nmail a@example.com\n", "--lines")
	if err != nil {
		t.Fatal(err)
	}
	want := `{"line":1,"type":"cn_mobile","start":6,"end":17}` + "\n" +
		`{"line":3,"type":"email","start":5,"end":18}` + "\n"
	if out != want {
		t.Errorf("--lines:\n got %s\nwant %s", out, want)
	}
	out, _, err = run(t, detectCommand(), "手机13812345678 a@example.com", "--types", "email")
	if err != nil || out != `{"type":"email","start":18,"end":31}`+"\n" {
		t.Errorf("--types email: %q %v", out, err)
	}
	if _, _, err := run(t, detectCommand(), "", "--types", "phone"); err == nil || !strings.Contains(err.Error(), `unknown entity type "phone"`) {
		t.Errorf("unknown type: %v", err)
	}
}

func TestScanCommand(t *testing.T) {
	dir := t.TempDir()
	caddyfile := filepath.Join(dir, "Caddyfile")
	os.WriteFile(caddyfile, []byte(`{
	pii {
		role online_agent {
			cn_mobile mask
			person_name mask
			* redact
		}
	}
}
:8080 {
	pii_mask /api/* {
		field data.#.mobile cn_mobile
		scan all
	}
	reverse_proxy 127.0.0.1:9000
}
`), 0o644)
	body := `{"data":[{"mobile":"13812345678","name":"张三","note":"邮箱 a@example.com"}]}`
	out, errOut, err := run(t, scanCommand(), body, "--config", caddyfile, "--role", "online_agent", "--path", "/api/customers", "--summary")
	if err != nil {
		t.Fatal(err)
	}
	if out != `{"data":[{"mobile":"138****5678","name":"张*","note":"邮箱 [email]"}]}` {
		t.Errorf("view: %s", out)
	}
	if !strings.Contains(errOut, "cn_mobile            mask     1") || !strings.Contains(errOut, "path data.#.note") {
		t.Errorf("summary: %s", errOut)
	}
	if _, _, err := run(t, scanCommand(), `{"data":[`, "--config", caddyfile, "--role", "online_agent", "--path", "/api/x"); err == nil || !strings.Contains(err.Error(), "malformed JSON") {
		t.Errorf("bad JSON: %v", err)
	}
	if _, _, err := run(t, scanCommand(), body, "--config", caddyfile, "--role", "online_agent", "--path", "/other"); err == nil || !strings.Contains(err.Error(), "no pii_mask handler guards path /other") {
		t.Errorf("unguarded path: %v", err)
	}
	bad := filepath.Join(dir, "Caddyfile.bad")
	os.WriteFile(bad, []byte("{\n pii {\n  role a {\n   cn_mobile peek\n  }\n }\n}\n:80 {\n pii_mask\n}\n"), 0o644)
	if _, _, err := run(t, scanCommand(), body, "--config", bad, "--role", "a"); err == nil || !strings.Contains(err.Error(), "Caddyfile.bad:4") {
		t.Errorf("bad config: %v", err)
	}
}
