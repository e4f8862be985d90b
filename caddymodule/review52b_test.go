package caddymodule

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"
)

// Review 52b: the admin's experience with bad or unusual Caddyfiles.

// r52bAdapt adapts a Caddyfile named "Caddyfile".
func r52bAdapt(in string) ([]byte, error) {
	out, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(in), map[string]any{"filename": "Caddyfile"})
	return out, err
}

// r52bLoad adapts in and returns the pii app and the first pii_mask
// handler of the adapted JSON, provisioned as Caddy would load them (no
// Caddyfile-only state carried over: this is the JSON round trip).
func r52bLoad(t *testing.T, in string) (*App, *Mask) {
	t.Helper()
	out, err := r52bAdapt(in)
	if err != nil {
		t.Fatalf("adapt: %v", err)
	}
	var cfg struct {
		Apps struct {
			PII  json.RawMessage `json:"pii"`
			HTTP struct {
				Servers map[string]struct {
					Routes []struct {
						Handle []json.RawMessage `json:"handle"`
					} `json:"routes"`
				} `json:"servers"`
			} `json:"http"`
		} `json:"apps"`
	}
	if err := json.Unmarshal(out, &cfg); err != nil {
		t.Fatal(err)
	}
	app := new(App)
	if len(cfg.Apps.PII) > 0 {
		if err := json.Unmarshal(cfg.Apps.PII, app); err != nil {
			t.Fatal(err)
		}
	}
	if err := app.compile(); err != nil {
		t.Fatalf("pii app: %v", err)
	}
	for _, s := range cfg.Apps.HTTP.Servers {
		for _, r := range s.Routes {
			for _, h := range r.Handle {
				var probe struct {
					Handler string `json:"handler"`
				}
				_ = json.Unmarshal(h, &probe)
				if probe.Handler != "pii_mask" {
					continue
				}
				m := new(Mask)
				dec := json.NewDecoder(strings.NewReader(string(h)))
				if err := dec.Decode(m); err != nil {
					t.Fatal(err)
				}
				if err := m.provisionWith(app); err != nil {
					t.Fatalf("pii_mask: %v", err)
				}
				return app, m
			}
		}
	}
	t.Fatalf("no pii_mask handler in %s", out)
	return nil, nil
}

// Finding 1 (silent misconfiguration: the site is unguarded). The README
// says no `order` option is needed, but `order X before reverse_proxy` is
// the idiom most Caddy plugins document, and an admin who writes it for
// pii_mask moves it after handle, handle_path, route, respond … in the
// directive order. With the API behind `handle /api/* { reverse_proxy … }`
// (or `order pii_mask last`), the adapted routes put pii_mask after the
// terminal route: it never runs, every response goes out unmasked, and
// caddy adapt / caddy validate say nothing. parseMask can see the
// adaptation's order (h.Option("order"), the []string Caddy keeps per
// adaptation) and refuse a pii_mask ordered after a directive that
// answers or groups (handle, handle_path, route, respond, reverse_proxy,
// php_fastcgi, file_server, error, abort, copy_response, invoke …).
func TestReview52bOrderOptionPutsMaskAfterTerminalRoutes(t *testing.T) {
	const policy = "{\n pii {\n  role a {\n   * plain\n  }\n }\n"
	for _, c := range []struct{ name, order, site string }{
		{"before reverse_proxy, API in a handle block", "order pii_mask before reverse_proxy",
			":80 {\n pii_mask /api/* {\n  roles_from {header.X-Role}\n }\n handle /api/* {\n  reverse_proxy 127.0.0.1:9000\n }\n handle {\n  respond home\n }\n}\n"},
		{"last", "order pii_mask last",
			":80 {\n pii_mask {\n  roles_from {header.X-Role}\n }\n reverse_proxy 127.0.0.1:9000\n}\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := policy + " " + c.order + "\n}\n" + c.site
			out, err := r52bAdapt(in)
			if err != nil {
				if !strings.Contains(err.Error(), "Caddyfile:") {
					t.Errorf("refused, but without the line: %v", err)
				}
				return
			}
			// The premise: pii_mask comes after the route that answers.
			s := string(out)
			if strings.Index(s, `"pii_mask"`) < strings.Index(s, `"reverse_proxy"`) {
				t.Fatalf("the test's premise: pii_mask after reverse_proxy in %s", s)
			}
			t.Errorf("SILENT: %q adapts (and validates) with pii_mask after the handler that answers, so it never runs:\n%s", c.order, s)
		})
	}
}

// Finding 2 (silent misconfiguration that leaks). pii_mask's `role` is
// documented as "this route's overrides of the pii roles", but a role the
// pii option does not define is accepted as a new route-only role. A typo
// in the overridden role's name (superviser) makes the override a no-op
// for the real role: here supervisors were to get resident IDs redacted
// on the export route, and they get them plain, with no word from caddy
// adapt or caddy validate. Expected: an override of a role the pii option
// does not define is refused, naming its line (Caddyfile:11).
func TestReview52bRouteOverrideOfUndefinedRole(t *testing.T) {
	in := "{\n pii {\n  role supervisor {\n   * plain\n  }\n }\n}\n" + // 1-7
		":80 {\n" + // 8
		" pii_mask /api/export/* {\n" + // 9
		"  roles_from supervisor\n" + // 10
		"  role superviser {\n" + // 11
		"   cn_resident_id redact\n" + // 12
		"  }\n }\n respond ok\n}\n"
	_, err := r52bAdapt(in)
	if err != nil {
		if !strings.Contains(err.Error(), "Caddyfile:11") {
			t.Errorf("refused, but not at the role's line (Caddyfile:11): %v", err)
		}
		return
	}
	_, m := r52bLoad(t, in)
	rec, _ := serveMask(t, m, httptest.NewRequest(http.MethodGet, "/api/export/1", nil), func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "application/json")
		_, err := w.Write([]byte(`{"id_card":"11010519491231002X"}`))
		return err
	})
	t.Errorf("SILENT: `role superviser` (no such role in the pii option) adapts; the supervisor's override is lost, the route answers %s", rec.Body.String())
}

// Finding 3 (silent misconfiguration). Media types are case-insensitive,
// and the response's is lowercased before pass_types is matched
// (mediaType), but the patterns are matched as written: `pass_types
// Image/*` never matches, so every image on the route is refused (502)
// while adapt and validate accept it. A pattern with parameters
// (`"application/pdf; charset=binary"`) can never match either, as the
// parameters are cut from the response's type. Expected: patterns
// lowercased (or refused), and one with `;` refused, naming the line.
func TestReview52bPassTypesNeverMatch(t *testing.T) {
	t.Run("upper case", func(t *testing.T) {
		in := ":80 {\n pii_mask {\n  pass_types Image/*\n }\n respond ok\n}\n"
		if _, err := r52bAdapt(in); err != nil {
			if !strings.Contains(err.Error(), "Caddyfile:3") {
				t.Errorf("refused, but not at Caddyfile:3: %v", err)
			}
			return
		}
		_, m := r52bLoad(t, in)
		rec, _ := serveMask(t, m, httptest.NewRequest(http.MethodGet, "/logo.png", nil), func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Content-Type", "image/png")
			_, err := w.Write([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"))
			return err
		})
		if rec.Code != http.StatusOK {
			t.Errorf("SILENT: pass_types Image/* adapts, and an image/png answer is refused: %d %s", rec.Code, rec.Body.String())
		}
	})
	t.Run("parameters", func(t *testing.T) {
		in := ":80 {\n pii_mask {\n  pass_types \"application/pdf; charset=binary\"\n }\n respond ok\n}\n"
		if _, err := r52bAdapt(in); err == nil || !strings.Contains(err.Error(), "Caddyfile:3") {
			t.Errorf("SILENT: a pass_types pattern with parameters (it can never match) adapts: err=%v", err)
		}
	})
}

// Finding 4 (silent misconfiguration). `custom <name> <regexp>` takes the
// regexp literally, with no placeholder replacement, while hash_key, the
// other value of the pii option an admin keeps out of the Caddyfile,
// takes {env.…}. `custom emp {env.EMP_PATTERN}` adapts and validates: RE2
// reads the braces as literal characters, the detector looks for the
// text "{env.EMP_PATTERN}" and no employee number is ever found (the
// role's `custom:emp redact` never applies). Expected: either the
// placeholder is resolved as hash_key's is, or a pattern that is a Caddy
// placeholder is refused at its line with a hint ({$VAR} is replaced when
// the Caddyfile is read).
func TestReview52bCustomPatternPlaceholderTakenLiterally(t *testing.T) {
	t.Setenv("REVIEW52B_EMP_PATTERN", `EMP-\d{6}`)
	in := "{\n pii {\n  custom emp {env.REVIEW52B_EMP_PATTERN}\n  role a {\n   custom:emp redact\n   * plain\n  }\n }\n}\n" +
		":80 {\n pii_mask {\n  roles_from a\n  scan all\n }\n respond ok\n}\n"
	if _, err := r52bAdapt(in); err != nil {
		if !strings.Contains(err.Error(), "Caddyfile:3") {
			t.Errorf("refused, but not at Caddyfile:3: %v", err)
		}
		return
	}
	_, m := r52bLoad(t, in)
	rec, _ := serveMask(t, m, httptest.NewRequest(http.MethodGet, "/x", nil), func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "application/json")
		_, err := w.Write([]byte(`{"note":"工号 EMP-123456"}`))
		return err
	})
	if strings.Contains(rec.Body.String(), "EMP-123456") {
		t.Errorf("SILENT: custom emp {env.…} adapts, the pattern is the placeholder's text, and EMP-123456 passes: %s", rec.Body.String())
	}
}

// Finding 5 (silent misconfiguration, fail-closed). A pii_mask that strips
// the request header its own roles_from reads removes the roles before it
// reads them (ServeHTTP: stripRequest, then Decide): every agent gets the
// view of an agent without a role (redact everything, 403 under
// unknown_role deny). The contradiction is in one block and knowable at
// adapt time (review 47a made caddy pii scan report it, but caddy adapt
// and caddy validate still accept it). Expected: refused, naming the
// strip_request_header line.
func TestReview52bStripRequestHeaderReadByRolesFrom(t *testing.T) {
	in := "{\n pii {\n  role a {\n   * plain\n  }\n }\n}\n" + // 1-7
		":80 {\n pii_mask {\n  roles_from {header.X-Role}\n" + // 8-10
		"  strip_request_header X-Role\n" + // 11
		" }\n respond ok\n}\n"
	if _, err := r52bAdapt(in); err == nil || !strings.Contains(err.Error(), "Caddyfile:11") {
		t.Errorf("SILENT: roles_from {header.X-Role} with strip_request_header X-Role adapts (every agent gets no role): err=%v", err)
	}
}

// Finding 6 (error at the wrong line). A role defined twice in the pii
// option, or overridden twice in one pii_mask, is refused at the line of
// the second block's closing brace, not at its `role` line: the error is
// raised after parseRoleBlock has read the whole block, with the
// dispenser on the `}`. With a long role the line points rows away from
// the mistake, and it does not say where the first definition is (the
// other duplicate errors do: "given twice (first at …)"; not asserted).
func TestReview52bDuplicateRoleNamesItsLine(t *testing.T) {
	for _, c := range []struct{ name, in, line string }{
		{"pii option", "{\n pii {\n  role a {\n   * plain\n  }\n  role a {\n   email mask\n   cn_mobile mask\n   bank_card mask\n  }\n }\n}\n:80\n", "Caddyfile:6"},
		{"pii_mask", ":80 {\n pii_mask {\n  role a {\n   * plain\n  }\n  role a {\n   email mask\n   cn_mobile mask\n  }\n }\n}\n", "Caddyfile:6"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := r52bAdapt(c.in)
			if err == nil || !strings.Contains(err.Error(), "twice") {
				t.Fatalf("the test's premise: refused as defined twice, got %v", err)
			}
			if !strings.Contains(err.Error(), c.line+" ") && !strings.HasSuffix(err.Error(), c.line) {
				t.Errorf("WRONG LINE: %v\nwant the second `role a` line (%s)", err, c.line)
			}
		})
	}
}

// Finding 7 (misleading message). A block opened after a subdirective that
// takes none (`scan all {`, `allow_websocket {`, a role's rule `email mask
// {`, `unknown_role deny {`) is refused, at the right line, but as
// `pii_mask: unknown subdirective "{"` or `role a: unknown entity type
// "{"`: the brace is reported as if it were a name the admin misspelt.
// Expected: "scan takes no block" (or "unexpected block after …").
func TestReview52bNestedBlockMessages(t *testing.T) {
	for _, c := range []struct{ name, in, line string }{
		{"pii_mask scan", ":80 {\n pii_mask {\n  scan all {\n   off\n  }\n }\n}\n", "Caddyfile:3"},
		{"pii_mask allow_websocket", ":80 {\n pii_mask {\n  allow_websocket {\n  }\n }\n}\n", "Caddyfile:3"},
		{"role rule", "{\n pii {\n  role a {\n   email mask {\n    cn_mobile plain\n   }\n  }\n }\n}\n:80\n", "Caddyfile:4"},
		{"unknown_role", "{\n pii {\n  unknown_role deny {\n  }\n }\n}\n:80\n", "Caddyfile:3"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := r52bAdapt(c.in)
			if err == nil {
				t.Fatal("accepted")
			}
			msg := err.Error()
			if !strings.Contains(msg, c.line) || strings.Contains(msg, `"{"`) || !strings.Contains(msg, "block") {
				t.Errorf("MISLEADING: %v\nwant an error at %s saying the subdirective takes no block", err, c.line)
			}
		})
	}
}
