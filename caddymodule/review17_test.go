package caddymodule

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
)

// d5530fc treats every reverse_proxy with handle_response as passing the
// request on. Caddy passes on only when a handle_response route matches
// the upstream's response and its routes do not answer: a response no
// handle_response matches is copied to the client as reverse_proxy always
// does. The common use of handle_response is to replace the upstream's
// error pages (`@err status 5xx`): a 2xx from such a proxy is the
// upstream's body, answered unmasked. scan shows the masked view of a
// pii_mask the request never reaches.
func TestReview17ScanHandleResponseForErrorsAnswers(t *testing.T) {
	body := `{"mobile":"13812345678","note":"mail a@example.com"}`
	gw, scan := compareScanWithGateway(t, `
	route {
		reverse_proxy /api/public/* UPSTREAM {
			@err status 5xx
			handle_response @err {
				respond "upstream error" 502
			}
		}
		pii_mask /api/* {
			roles_from {http.request.header.X-Test-Role}
			scan all
		}
		reverse_proxy UPSTREAM
	}`, "/api/public/customers", "online_agent", body)
	scanSaysUnguarded(t, body, gw, scan)
}

// The same when the matching handle_response's routes answer themselves:
// copy_response writes the upstream's body, unmasked.
func TestReview17ScanHandleResponseThatCopiesAnswers(t *testing.T) {
	body := `{"mobile":"13812345678","note":"mail a@example.com"}`
	gw, scan := compareScanWithGateway(t, `
	route {
		reverse_proxy /api/public/* UPSTREAM {
			handle_response {
				copy_response
			}
		}
		pii_mask /api/* {
			roles_from {http.request.header.X-Test-Role}
			scan all
		}
		reverse_proxy UPSTREAM
	}`, "/api/public/customers", "online_agent", body)
	scanSaysUnguarded(t, body, gw, scan)
}

// d5530fc made scan read routes strictly "as Caddy does", but the servers
// around them are still read leniently: a misspelt server field (here
// "lisen" for "listen") makes Caddy refuse the whole configuration, and
// scan prints a masked view and exits 0 for it. The same class as
// TestReview16ScanRefusesMisspeltRoute, one level up.
func TestReview17ScanRefusesMisspeltServerField(t *testing.T) {
	cfg := `{"apps":{"pii":{"roles":{"a":{"*":"mask"}}},"http":{"servers":{"s":{"lisen":[":9999"],"routes":[{"match":[{"path":["/api/*"]}],"handle":[{"handler":"pii_mask","scan":"all"}]}]}}}}}`
	var c caddy.Config
	if err := json.Unmarshal([]byte(cfg), &c); err != nil {
		t.Fatal(err)
	}
	verr := caddy.Validate(&c)
	if verr == nil {
		t.Fatal("caddy validate accepts it (then this is not a finding)")
	}
	f := filepath.Join(t.TempDir(), "caddy.json")
	os.WriteFile(f, []byte(cfg), 0o644)
	out, _, err := run(t, scanCommand(), `{"mobile":"13812345678"}`, "--config", f, "--role", "a", "--path", "/api/x")
	if err == nil {
		t.Errorf("caddy pii scan printed %s and succeeded; caddy validate says: %v", out, verr)
	}
}

// A rule's error now names its own file, but the errors for a
// subdirective or field given twice still name the first one by line
// alone ("first at line 9"): when the first is in an imported file (or a
// snippet defined elsewhere), the message sends the admin to line 9 of
// the file that holds the second, which may not even have one.
func TestReview17DuplicateErrorsNameTheFirstOnesFile(t *testing.T) {
	dir := t.TempDir()
	inc := filepath.Join(dir, "fields.caddy")
	os.WriteFile(inc, []byte("# shared field rules\n\n\n\n\n\n\n\nfield mobile cn_mobile\nscan names\n"), 0o644)
	for _, c := range []struct{ name, second string }{
		{"field", "field mobile email"},
		{"scan", "scan all"},
	} {
		t.Run(c.name, func(t *testing.T) {
			main := ":8080 {\n\tpii_mask {\n\t\timport " + inc + "\n\t\t" + c.second + "\n\t}\n}\n"
			_, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(main), map[string]any{"filename": "Caddyfile"})
			if err == nil {
				t.Fatal("adapted")
			}
			if !strings.Contains(err.Error(), "fields.caddy") {
				t.Errorf("the first one is at fields.caddy:9 or :10; the error says only %v", err)
			}
		})
	}
}

// A handler that fails (here `error`, as for a retired endpoint; a
// file_server's missing file or an upstream that is down do the same)
// after pii_mask: pii_mask has sent nothing and returns the error, and
// Caddy answers with the server's handle_errors routes, on the client's
// own writer, outside every pii_mask. scan stops at the failing handler,
// finds the pii_mask before it and shows a masked view, where the agent
// gets what handle_errors answers: here the upstream's body, unmasked.
func TestReview17ScanIgnoresHandleErrors(t *testing.T) {
	body := `{"mobile":"13812345678","note":"mail a@example.com"}`
	gw, scan := compareScanWithGateway(t, `
	pii_mask /api/* {
		roles_from {http.request.header.X-Test-Role}
		scan all
	}
	error /api/legacy/* 410
	reverse_proxy UPSTREAM
	handle_errors {
		reverse_proxy UPSTREAM
	}`, "/api/legacy/customers", "online_agent", body)
	if gw != body {
		t.Fatalf("the test's premise: the gateway sends %s, not the upstream's body", gw)
	}
	if gw != scan && !strings.Contains(scan, "no pii_mask handler guards path") {
		t.Errorf("gateway sends the upstream's body unmasked (from handle_errors)\ncaddy pii scan shows %s", scan)
	}
}

// chainWalk's guard against invoke loops counts every invoke of the walk,
// not how deeply they nest: a route that invokes a small named route 17
// times in a row (no loop at all) makes scan fail with "named routes
// invoke each other too deeply", where Caddy serves the request.
func TestReview17ScanCountsInvokesNotTheirDepth(t *testing.T) {
	body := `{"mobile":"13812345678","note":"mail a@example.com"}`
	invokes := strings.Repeat("\t\tinvoke hdr\n", 17)
	gw, scan := compareScanWithGateway(t, `
	route {
`+invokes+`		pii_mask /api/* {
			roles_from {http.request.header.X-Test-Role}
			scan all
		}
		reverse_proxy UPSTREAM
	}
}
&(hdr) {
	header X-Seen yes
`, "/api/customers", "online_agent", body)
	if gw == body {
		t.Fatalf("the test's premise: the gateway masks, got %s", gw)
	}
	if gw != scan {
		t.Errorf("gateway sends %s\ncaddy pii scan shows %s", gw, scan)
	}
}
