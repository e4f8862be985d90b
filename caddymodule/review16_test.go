package caddymodule

import (
	"encoding/json"
	"math/rand/v2"

	"github.com/caddyserver/caddy/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddytest"

	"github.com/piigate/piigate/caddymodule/rewrite"
)

// A handler that passes the request on but is not in passOn makes
// `caddy pii scan` stop there and say no pii_mask guards the path, where
// the gateway masks it. forward_auth (reverse_proxy with handle_response:
// a 2xx from the auth server continues to the next handler) is the usual
// way to get roles from Authelia or Authentik; invoke runs a named route
// and goes on. Before 8097636 scan found the pii_mask in both.
func TestReview16ScanStopsAtHandlersThatPassOn(t *testing.T) {
	body := `{"mobile":"13812345678","note":"mail a@example.com"}`
	for _, c := range []struct{ name, site string }{
		{"forward_auth", `
	forward_auth UPSTREAM {
		uri /verify
	}
	pii_mask /api/* {
		roles_from {http.request.header.X-Test-Role}
		scan all
	}
	reverse_proxy UPSTREAM`},
		{"reverse_proxy with handle_response", `
	route {
		reverse_proxy UPSTREAM {
			@ok status 2xx
			handle_response @ok {
			}
		}
		pii_mask /api/* {
			roles_from {http.request.header.X-Test-Role}
			scan all
		}
		reverse_proxy UPSTREAM
	}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			gw, scan := compareScanWithGateway(t, c.site, "/api/customers", "online_agent", body)
			if gw == body {
				t.Fatalf("the test's premise: the gateway masks, got %s", gw)
			}
			if gw != scan {
				t.Errorf("gateway sends %s\ncaddy pii scan shows %s", gw, scan)
			}
		})
	}
}

// `caddy pii scan` takes the servers in name order and gives up at the
// first whose routes answer the path before any pii_mask, even when
// another server guards it. httpcaddyfile names servers by listener
// address, so the classic HTTP-to-HTTPS redirect site (:80) or any site
// on a lower port becomes srv0, and scan then says no pii_mask guards any
// path of the gateway. Before 8097636 it went on to the next server.
func TestReview16ScanGivesUpAtAnUnguardedServer(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	ensureAdmin(t)
	body := `{"mobile":"13812345678"}`
	cf := scanGatewayCaddyfile("127.0.0.1:1", `
	pii_mask /api/* {
		roles_from {http.request.header.X-Test-Role}
		scan all
	}
	respond `+"`"+body+"`"+` 200`) + `
http://localhost:9079 {
	redir https://localhost{uri}
}
`
	tc := caddytest.NewTester(t)
	tc.InitServer(cf, "caddyfile")
	_, gw := get(t, tc, "/api/customers", "online_agent")
	if gw == body {
		t.Fatalf("the test's premise: the gateway on 9080 masks, got %s", gw)
	}
	file := filepath.Join(t.TempDir(), "Caddyfile")
	os.WriteFile(file, []byte(cf), 0o644)
	out, _, err := run(t, scanCommand(), body, "--config", file, "--role", "online_agent", "--path", "/api/customers")
	if err != nil {
		t.Errorf("gateway on :9080 sends %s\ncaddy pii scan: %v", gw, err)
	} else if out != gw {
		t.Errorf("gateway sends %s\ncaddy pii scan shows %s", gw, out)
	}
}

// The pii option's rule checks run after the block is read and name the
// rule's line, but with the file of the block's last token: a role
// written in an imported file (pii { import roles.caddy }) is reported at
// that line number of the main Caddyfile.
func TestReview16RuleErrorNamesTheWrongFile(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "roles.caddy"), []byte("# roles\n\n\n\n\nrole a {\n\tcustom:review16_nope mask\n}\n"), 0o644)
	main := "{\n\tpii {\n\t\timport " + filepath.Join(dir, "roles.caddy") + "\n\t\tunknown_role deny\n\t}\n}\n:8080 {\n\tpii_mask\n}\n"
	_, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(main), map[string]any{"filename": "Caddyfile"})
	if err == nil {
		t.Fatal("adapted")
	}
	if !strings.Contains(err.Error(), "roles.caddy:7") {
		t.Errorf("the undefined type is at roles.caddy:7; the error says %v", err)
	}
}

// 8097636 made scan decode the pii app and pii_mask strictly, "as Caddy
// does", but the routes around them are still read leniently. Caddy
// decodes the whole http app strictly and refuses a route with a misspelt
// field ("mach" for "match"); scan reads that route as having no matcher,
// says pii_mask guards every path, prints a masked view and exits 0, for
// a configuration the gateway would never run.
func TestReview16ScanRefusesMisspeltRoute(t *testing.T) {
	cfg := `{"apps":{"pii":{"roles":{"a":{"*":"mask"}}},"http":{"servers":{"s":{"listen":[":9999"],"routes":[{"mach":[{"path":["/api/*"]}],"handle":[{"handler":"pii_mask","scan":"all"}]}]}}}}}`
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
	out, _, err := run(t, scanCommand(), `{"mobile":"13812345678"}`, "--config", f, "--role", "a", "--path", "/other")
	if err == nil {
		t.Errorf("caddy pii scan printed %s and succeeded; caddy validate says: %v", out, verr)
	}
}

// An event ends at a blank line, and a line ends at CRLF, LF or CR
// (WHATWG HTML, server-sent events): "data: a\n\r\n" and "data: a\n\r"
// are complete events for EventSource (LF ends the data line, then CRLF
// or CR is the blank line). The streamer's boundary search recognises
// \n\n, \r\r, \r\n\n and \r\n\r\n but not these, so such an event is held
// back until a later event or the end of the stream: "streams keep
// flushing event by event" does not hold for them.
func TestReview16StreamMixedLineEndingBoundary(t *testing.T) {
	for _, ev := range []string{"data: a\n\n", "data: a\r\r", "data: a\r\n\r\n", "data: a\n\r\n", "data: a\n\r", "data: a\r\n\r"} {
		s := &streamer{mw: &maskWriter{format: rewrite.Events}, pending: []byte(ev)}
		if got := s.boundary(0); got != len(ev) {
			t.Errorf("%q: boundary %d, want %d (the whole event)", ev, got, len(ev))
		}
	}
}

// TestStreamEventBoundariesRandom checks the event-stream search against a
// plain reading of the lines (CRLF, LF or CR each end one; a blank line
// ends an event) on random streams split into random writes: every cut
// is at the end of an event (or just before the LF of the CRLF that ends
// one, when the CR came at the end of a write), and no complete event is
// held back.
func TestStreamEventBoundariesRandom(t *testing.T) {
	ends := func(b []byte) map[int]bool { // the ends of events
		out := map[int]bool{}
		lineStart := true
		for i := 0; i < len(b); i++ {
			c := b[i]
			if c != '\n' && c != '\r' {
				lineStart = false
				continue
			}
			end := i + 1
			if c == '\r' && i+1 < len(b) && b[i+1] == '\n' {
				end, i = i+2, i+1
			}
			if lineStart {
				out[end] = true
			}
			lineStart = true
		}
		return out
	}
	r := rand.New(rand.NewPCG(3, 4))
	alphabet := []byte("a:\n\r")
	for range 20000 {
		b := make([]byte, r.IntN(24))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		want := ends(b)
		last := 0
		for e := range want {
			last = max(last, e)
		}
		s := &streamer{mw: &maskWriter{format: rewrite.Events}}
		done := 0 // bytes cut off so far
		for off := 0; off < len(b); {
			n := 1 + r.IntN(len(b)-off)
			from := len(s.pending)
			s.pending = append(s.pending, b[off:off+n]...)
			off += n
			if cut := s.boundary(from); cut > 0 {
				at := done + cut
				if !want[at] && !(want[at+1] && b[at-1] == '\r' && at < len(b) && b[at] == '\n') {
					t.Fatalf("%q: cut at %d, not the end of an event (%v)", b, at, want)
				}
				done = at
				s.pending = append(s.pending[:0], s.pending[cut:]...)
			}
		}
		if done < last-1 || done < last && !(last >= 2 && b[last-1] == '\n' && b[last-2] == '\r') {
			t.Fatalf("%q: cut up to %d, but events end up to %d", b, done, last)
		}
	}
}
