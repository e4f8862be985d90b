package caddymodule

// Fiftieth review (a): the README's account of the `pii` global option
// and the `pii_mask` directive held against the code. Each test fails on
// the code as reviewed, for the reason its comment gives, and passes once
// the code (or, where said, the README) is fixed.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/piigate/piigate/config"
)

// Finding 1 (leak, medium): If-Match and If-Unmodified-Since reach the
// upstream.
//
// README (HTTP, "`Range` (and its old name `Request-Range` …), `If-Range`
// and conditional headers are removed"): ServeHTTP (mask.go) deletes
// only Range, Request-Range, If-Range, If-None-Match and
// If-Modified-Since. The other two conditional headers of RFC 9110
// §13.1, If-Match and If-Unmodified-Since, go upstream as the client
// sent them. The gateway drops the ETag of every view, because the
// upstream's validator describes the representation the agent must not
// see; but an agent can still ask the upstream about it. An application
// whose ETag is a hash of the body (Spring's ShallowEtagHeaderFilter,
// Express's default, any handler that sets one and answers through Go's
// http.ServeContent, which honours If-Match) answers 200 to the right
// guess of the unmasked body and 412 to any other: an agent who sees
// `138****5678` tries the 10^4 middle digits and learns the number from
// the status code.
//
// Expected: none of the conditional headers reaches the upstream, and
// the right and the wrong guess get the same answer.
func TestReview50aConditionalHeadersRemoved(t *testing.T) {
	m := provisionedMask(t, &Mask{RolesFrom: "online_agent", Fields: []config.Field{{Path: "mobile", Type: "cn_mobile"}}})
	body := `{"mobile":"13812345678"}`
	etagOf := func(b string) string {
		s := sha256.Sum256([]byte(b))
		return `"` + hex.EncodeToString(s[:8]) + `"`
	}
	var seen http.Header
	upstream := func(w http.ResponseWriter, r *http.Request) error {
		seen = r.Header.Clone()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("ETag", etagOf(body))
		http.ServeContent(w, r, "", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), strings.NewReader(body))
		return nil
	}
	for _, h := range []string{"If-Match", "If-Unmodified-Since"} {
		req := httptest.NewRequest(http.MethodGet, "/api/c", nil)
		if h == "If-Match" {
			req.Header.Set(h, etagOf(body))
		} else {
			req.Header.Set(h, "Mon, 01 Jan 2024 00:00:00 GMT")
		}
		serveMask(t, m, req, upstream)
		if v, ok := seen[h]; ok {
			t.Errorf("%s: %q reached the upstream; README: conditional headers are removed", h, v)
		}
	}

	// The oracle: guesses of the hidden digits, told apart by status.
	status := func(guess string) int {
		req := httptest.NewRequest(http.MethodGet, "/api/c", nil)
		req.Header.Set("If-Match", etagOf(`{"mobile":"138`+guess+`5678"}`))
		rec, _ := serveMask(t, m, req, upstream)
		if strings.Contains(rec.Body.String(), "13812345678") {
			t.Fatalf("the number itself reached the agent: %s", rec.Body)
		}
		return rec.Code
	}
	right, wrong := status("1234"), status("0000")
	if right != wrong {
		t.Errorf("If-Match tells the hidden digits of 138****5678 apart: right guess %d, wrong guess %d", right, wrong)
	}
}

// Finding 2 (wrong/missing warning, low): tokenize in a route's `role`
// override is redacted without the warning the README promises.
//
// README (pii option, Actions): "`tokenize` is accepted; until the token
// key set exists it redacts (fail closed) and Caddy logs a warning at
// start". The warning is App.Provision's, and only for the app's own
// roles (a.table.Uses(config.Tokenize)). pii_mask's `role <name> { <type>
// <action> … }` takes the same actions ("this route's overrides of the
// pii roles"), but Mask.Provision / provisionWith compile the overridden
// table (m.table.Uses(config.Tokenize) is true) and log nothing: an admin
// who writes `role online_agent { cn_mobile tokenize }` on a route is
// never told that agents get `[cn_mobile]` there.
//
// Expected: provisioning a pii_mask whose overrides use tokenize logs the
// same warning (or the README says the warning is the pii option's only).
func TestReview50aRouteTokenizeWarns(t *testing.T) {
	app := &App{Roles: map[string]config.RoleRules{"online_agent": {"cn_mobile": "mask", "*": "redact"}}}
	if err := app.compile(); err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zap.WarnLevel)
	m := &Mask{RolesFrom: "online_agent", Roles: map[string]config.RoleRules{"online_agent": {"cn_mobile": "tokenize"}}}
	m.logger = zap.New(core) // as Provision sets it from the caddy.Context
	if err := m.provisionWith(app); err != nil {
		t.Fatal(err)
	}
	if !m.table.Uses(config.Tokenize) {
		t.Fatal("the route's table does not use tokenize: test broken")
	}
	// The route does redact: fail closed, as documented.
	rec, _ := serveMask(t, m, httptest.NewRequest(http.MethodGet, "/api/c", nil), func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "application/json")
		_, err := w.Write([]byte(`{"mobile":"13812345678"}`))
		return err
	})
	if got := rec.Body.String(); got != `{"mobile":"[cn_mobile]"}` {
		t.Fatalf("view %s", got)
	}
	warned := false
	for _, e := range logs.All() {
		if strings.Contains(strings.ToLower(e.Message), "tokeni") {
			warned = true
		}
	}
	if !warned {
		t.Errorf("a route override uses tokenize (agents get [cn_mobile]) and nothing was logged at start; README: tokenize redacts \"and Caddy logs a warning at start\" (logs: %v)", logs.All())
	}
}

// Finding 3 (wrong metric, low): piigate_mask_rewrite_duration_seconds
// counts the upstream's time.
//
// README (Observability) names the series
// `piigate_mask_rewrite_duration_seconds`; its HELP (metrics.go) says
// "Time pii_mask spent on a guarded response, upstream excluded when
// buffered". ServeHTTP (mask.go) starts the clock before calling the
// upstream (`start := time.Now()` … `mw.serve(next)`) and observe stops
// it after: Outcome.Duration, which the histogram observes and the flow
// log's `duration` carries, is the upstream's time plus the rewrite's. A
// slow application shows on the dashboard as a slow gateway, and the
// gateway's own cost (what the series is for) is lost in it.
//
// Expected: for a buffered response the duration excludes the time the
// upstream took (here 300 ms before its first byte; the rewrite of 24
// bytes takes microseconds).
func TestReview50aRewriteDurationExcludesUpstream(t *testing.T) {
	m := provisionedMask(t, &Mask{RolesFrom: "online_agent", Fields: []config.Field{{Path: "mobile", Type: "cn_mobile"}}})
	const upstream = 300 * time.Millisecond
	rec, vars := serveMask(t, m, httptest.NewRequest(http.MethodGet, "/api/c", nil), func(w http.ResponseWriter, r *http.Request) error {
		time.Sleep(upstream)
		w.Header().Set("Content-Type", "application/json")
		_, err := w.Write([]byte(`{"mobile":"13812345678"}`))
		return err
	})
	if got := rec.Body.String(); got != `{"mobile":"138****5678"}` {
		t.Fatalf("view %s", got)
	}
	out := vars[varOutcome].(*Outcome)
	if out.Duration >= upstream {
		t.Errorf("rewrite duration %v includes the upstream's %v (HELP: \"upstream excluded when buffered\")", out.Duration, upstream)
	}
}

// Finding 4 (wrong metric/flow record, low): every handler error after
// pii_mask counts as a refusal of an unreachable upstream.
//
// README (Observability): `piigate_mask_responses_total{result}` counts
// refused responses ("refusals before the upstream is asked, and streams
// cut after their header"), and "An upstream that cannot be reached
// counts in `refusals_total` as `upstream_failed`". maskWriter.serve
// (mask_writer.go) records result refused, reason upstream_failed, and
// increments refusals_total{reason="upstream_failed"} for any error the
// next handler returns before writing a header. The README itself puts
// pii_mask in front of `file_server` (`io.Copy`/`ReadFrom` "as
// `file_server` uses"), whose answer to a missing file is exactly such an
// error (caddyhttp.Error(404)), as is the `error` directive's. Every 404
// of a guarded file_server shows up as a fail-closed refusal of an
// unreachable upstream, on the dashboard and in the flow log, which hides
// the real refusals the series is there to alarm on.
//
// Expected: a handler's own error status (a 404 nobody refused) is not
// recorded as refused / upstream_failed.
func TestReview50aHandlerErrorNotUpstreamFailed(t *testing.T) {
	m := provisionedMask(t, &Mask{RolesFrom: "online_agent"})
	req := httptest.NewRequest(http.MethodGet, "/api/missing.json", nil)
	vars := map[string]any{}
	ctx := context.WithValue(req.Context(), caddy.ReplacerCtxKey, caddy.NewReplacer())
	ctx = context.WithValue(ctx, caddyhttp.VarsCtxKey, vars)
	rec := httptest.NewRecorder()
	err := m.ServeHTTP(rec, req.WithContext(ctx), caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		// What file_server returns for a file that does not exist.
		return caddyhttp.Error(http.StatusNotFound, fs.ErrNotExist)
	}))
	var he caddyhttp.HandlerError
	if !errors.As(err, &he) || he.StatusCode != http.StatusNotFound {
		t.Fatalf("the handler's 404 did not come back to Caddy: %v", err)
	}
	out := vars[varOutcome].(*Outcome)
	if out.Result == resultRefused || out.Reason == reasonUpstream {
		t.Errorf("a file_server 404 is recorded as result %q, reason %q (refusals_total{reason=\"upstream_failed\"}); README: upstream_failed is an upstream that cannot be reached", out.Result, out.Reason)
	}
}
