// Package bench holds the gateway benchmark (test/bench/run) and its
// in-process counterpart here: the rewrite engine on the same body, with
// the same rules and role, without HTTP. When test/bench/run misses a
// target, this tells how much of the gap is the engine itself:
//
//	go test -run '^$' -bench . -benchmem ./test/bench/
package bench

import (
	"testing"

	"github.com/piigate/piigate/caddymodule/rewrite"
	"github.com/piigate/piigate/config"
	"github.com/piigate/piigate/detectors/detectorstest"
)

// The policy and field rules of the Caddyfiles test/bench/run writes.
var (
	benchRole = config.RoleRules{
		"cn_mobile":      "mask",
		"cn_resident_id": "mask",
		"bank_card":      "mask",
		"email":          "mask",
		"person_name":    "mask",
		"address":        "redact",
		"*":              "redact",
	}
	benchFields = []config.Field{
		{Path: "data.#.name", Type: "person_name"},
		{Path: "data.#.mobile", Type: "cn_mobile"},
		{Path: "data.#.phone", Type: "cn_landline"},
		{Path: "data.#.idCard", Type: "cn_resident_id"},
		{Path: "data.#.email", Type: "email"},
		{Path: "data.#.address", Type: "address"},
		{Path: "data.#.bankCard", Type: "bank_card"},
		{Path: "data.#.birthday", Type: "birth_date"},
		{Path: "data.#.plate", Type: "cn_license_plate"},
	}
)

func BenchmarkEngine(b *testing.B) {
	body := detectorstest.HelpdeskJSON(1, 8192)
	table, err := config.Compile(config.Policy{Roles: map[string]config.RoleRules{"online_agent": benchRole}})
	if err != nil {
		b.Fatal(err)
	}
	for _, scan := range []string{"off", "names", "all"} {
		b.Run("scan="+scan, func(b *testing.B) {
			route, err := config.CompileRoute(config.Route{Fields: benchFields, Scan: scan})
			if err != nil {
				b.Fatal(err)
			}
			e, err := rewrite.New(rewrite.Options{Route: route, Table: table})
			if err != nil {
				b.Fatal(err)
			}
			var d config.Decision
			table.Decide("online_agent", &d)
			var dst []byte
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				var sum rewrite.Summary
				out, err := e.Rewrite(dst[:0], body, rewrite.JSON, &d, &sum)
				if err != nil {
					b.Fatal(err)
				}
				if !sum.Changed {
					b.Fatal("nothing masked")
				}
				dst = out // reused, as pii_mask reuses its buffers
			}
		})
	}
}
