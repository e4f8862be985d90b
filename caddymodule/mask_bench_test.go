package caddymodule

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/piigate/piigate/config"
	"github.com/piigate/piigate/detectors/detectorstest"
)

// BenchmarkMaskHandler measures pii_mask's HTTP layer around the engine:
// one guarded 8 KB helpdesk response per op, from a handler that writes it
// as reverse_proxy would, to a recorder. Compare with the engine alone
// (caddymodule/rewrite BenchmarkRewrite/8KB/fields) for the layer's cost,
// and no_rules with next_only (no pii_mask) for the layer without the
// engine's work.
//
//	go test ./caddymodule -run '^$' -bench MaskHandler -benchmem
func BenchmarkMaskHandler(b *testing.B) {
	body := detectorstest.HelpdeskJSON(1, 8192)
	app := &App{Roles: map[string]config.RoleRules{"online_agent": {
		"cn_mobile": "mask", "cn_resident_id": "mask", "bank_card": "mask", "email": "mask",
		"person_name": "mask", "address": "redact", "*": "redact"}}}
	if err := app.compile(); err != nil {
		b.Fatal(err)
	}
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "7460")
		w.WriteHeader(http.StatusOK)
		_, err := w.Write(body)
		return err
	})
	for _, c := range []struct {
		name   string
		fields []config.Field
	}{
		{"fields", []config.Field{
			{Path: "data.#.name", Type: "person_name"}, {Path: "data.#.mobile", Type: "cn_mobile"},
			{Path: "data.#.idCard", Type: "cn_resident_id"}, {Path: "data.#.email", Type: "email"},
			{Path: "data.#.address", Type: "address"}, {Path: "data.#.bankCard", Type: "bank_card"},
		}},
		// The layer alone: the engine only indexes and skips.
		{"no_rules", nil},
		// The reference: the same handler and recorder without pii_mask
		// (the layer's cost is no_rules less this).
		{"next_only", nil},
	} {
		b.Run(c.name, func(b *testing.B) {
			m := &Mask{RolesFrom: "online_agent", Scan: "off", Fields: c.fields}
			if err := m.provisionWith(app); err != nil {
				b.Fatal(err)
			}
			serve := m.ServeHTTP
			if c.name == "next_only" {
				serve = func(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
					return next.ServeHTTP(w, r)
				}
			}
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, "/api/customers", nil)
				repl := caddy.NewReplacer()
				ctx := context.WithValue(req.Context(), caddy.ReplacerCtxKey, repl)
				ctx = context.WithValue(ctx, caddyhttp.VarsCtxKey, map[string]any{})
				rec := httptest.NewRecorder()
				if err := serve(rec, req.WithContext(ctx), next); err != nil {
					b.Fatal(err)
				}
				if rec.Code != 200 || rec.Body.Len() < 6000 {
					b.Fatalf("status %d, %d bytes", rec.Code, rec.Body.Len())
				}
				io.Discard.Write(rec.Body.Bytes())
			}
		})
	}
}
