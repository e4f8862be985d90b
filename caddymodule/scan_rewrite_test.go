package caddymodule

import (
	"strings"
	"testing"
)

// caddy pii scan follows the rewrites on the way (handle_path, uri,
// rewrite): the handlers after one match the path it leaves, a pii_mask's
// own matcher included, as in the gateway. Each case runs the real gateway
// on the same Caddyfile and path and compares the two views.
func TestScanFollowsRewrites(t *testing.T) {
	const body = `{"mobile":"13812345678","note":"mail a@example.com"}`
	const mask = `{
			roles_from {http.request.header.X-Test-Role}
			scan all
		}`
	for _, c := range []struct {
		name, site, path string
		guarded          bool // the gateway masks the path
	}{
		// The most common layout: the prefix is stripped before the
		// upstream, and the pii_mask inside names the stripped path.
		{"handle_path, mask on the stripped path", `
	handle_path /api/* {
		pii_mask /customers* ` + mask + `
		reverse_proxy UPSTREAM
	}`, "/api/customers", true},
		// The same pii_mask written with the prefix: inside handle_path
		// it never matches, and the agent gets the upstream's body. The
		// dry run must not show a masked view.
		{"handle_path, mask on the prefix", `
	handle_path /api/* {
		pii_mask /api/* ` + mask + `
		reverse_proxy UPSTREAM
	}`, "/api/customers", false},
		{"uri strip_prefix", `
	route {
		uri strip_prefix /v1
		pii_mask /api/* ` + mask + `
		reverse_proxy UPSTREAM
	}`, "/v1/api/customers", true},
		{"uri replace", `
	route {
		uri replace /legacy/ /api/
		pii_mask /api/* ` + mask + `
		reverse_proxy UPSTREAM
	}`, "/legacy/customers", true},
		{"uri path_regexp", `
	route {
		uri path_regexp ^/v[0-9]+/ /
		pii_mask /customers* ` + mask + `
		reverse_proxy UPSTREAM
	}`, "/v2/customers", true},
		// rewrite with a placeholder: the request's own path.
		{"rewrite with a placeholder", `
	route {
		rewrite /old/* /api{path}
		pii_mask /api/old/* ` + mask + `
		reverse_proxy UPSTREAM
	}`, "/old/customers", true},
		// try_files rewrites to what its file matcher found, which the
		// dry run cannot know: it keeps the path, as the gateway does
		// when no file matches.
		{"try_files without the file", `
	route {
		try_files {path} /index.html
		pii_mask /api/* ` + mask + `
		reverse_proxy UPSTREAM
	}`, "/api/customers", true},
		// A rewrite whose route does not match changes nothing.
		{"rewrite not matched", `
	route {
		rewrite /other/* /api/customers
		pii_mask /api/* ` + mask + `
		reverse_proxy UPSTREAM
	}`, "/public/customers", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			gw, scan := compareScanWithGateway(t, c.site, c.path, "online_agent", body)
			if !c.guarded {
				scanSaysUnguarded(t, body, gw, scan)
				return
			}
			if gw == body || !strings.Contains(gw, "138****5678") {
				t.Fatalf("the test's premise: the gateway masks, got %s", gw)
			}
			if scan != gw {
				t.Errorf("gateway sends %s\ncaddy pii scan shows %s", gw, scan)
			}
		})
	}
}

// The matchers on the way are Caddy's own, evaluated on the dry run's
// request: --request-header sets what a header matcher reads, and --host
// picks one site of a server (without it, host matchers are taken to
// match, and a note says so).
func TestScanRequestFlags(t *testing.T) {
	const body = `{"mobile":"13812345678"}`
	file := writeCaddyfile(t, `
	@json header Accept application/json
	pii_mask @json {
		field mobile cn_mobile
	}
	reverse_proxy UPSTREAM
}
http://127.0.0.1:9080 {
	reverse_proxy UPSTREAM`)
	base := []string{"--config", file, "--role", "online_agent", "--path", "/api/customers"}
	out, errOut, err := run(t, scanCommand(), body, append(base, "--request-header", "Accept: application/json")...)
	if err != nil || out != `{"mobile":"138****5678"}` {
		t.Errorf("Accept: application/json: %q %v", out, err)
	}
	if !strings.Contains(errOut, "note: the routes of host(s) localhost in server srv0 were taken to match") {
		t.Errorf("no note of the host matchers taken to match: %q", errOut)
	}
	if _, _, err := run(t, scanCommand(), body, base...); err == nil || !strings.Contains(err.Error(), "no pii_mask handler guards path") {
		t.Errorf("without Accept, the header matcher does not match: %v", err)
	}
	out, errOut, err = run(t, scanCommand(), body, append(base, "--request-header", "Accept: application/json", "--host", "localhost")...)
	if err != nil || out != `{"mobile":"138****5678"}` || strings.Contains(errOut, "host") {
		t.Errorf("--host localhost: %q %q %v", out, errOut, err)
	}
	if _, _, err := run(t, scanCommand(), body, append(base, "--request-header", "Accept: application/json", "--host", "127.0.0.1")...); err == nil ||
		!strings.Contains(err.Error(), "no pii_mask handler guards path") {
		t.Errorf("--host 127.0.0.1, the other site: %v", err)
	}
	for _, bad := range [][]string{{"--host", "a b"}, {"--request-header", "no colon"}} {
		if _, _, err := run(t, scanCommand(), body, append(base, bad...)...); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// --remote-ip is the client's address for remote_ip and client_ip
// matchers, and a note says when one decided the way.
func TestScanRemoteIP(t *testing.T) {
	const body = `{"mobile":"13812345678"}`
	file := writeCaddyfile(t, `
	@onhost remote_ip 127.0.0.1
	pii_mask @onhost {
		field mobile cn_mobile
	}
	reverse_proxy UPSTREAM`)
	base := []string{"--config", file, "--role", "online_agent", "--path", "/api/customers"}
	out, errOut, err := run(t, scanCommand(), body, base...)
	if err != nil || out != `{"mobile":"138****5678"}` || !strings.Contains(errOut, "evaluated for 127.0.0.1") {
		t.Errorf("default client 127.0.0.1: %q %q %v", out, errOut, err)
	}
	if _, _, err := run(t, scanCommand(), body, append(base, "--remote-ip", "127.0.0.2")...); err == nil ||
		!strings.Contains(err.Error(), "no pii_mask handler guards path") {
		t.Errorf("--remote-ip 127.0.0.2: %v", err)
	}
	if _, _, err := run(t, scanCommand(), body, append(base, "--remote-ip", "nowhere")...); err == nil {
		t.Error("--remote-ip nowhere: no error")
	}
}
