package rewrite

import (
	"testing"

	"github.com/piigate/piigate/config"
	"github.com/piigate/piigate/detectors/detectorstest"
)

// helpdeskFields are the field rules for detectorstest's helpdesk JSON, the
// same as the gateway configurations test/bench/run writes, so this
// benchmark tells how much of that run's gap is the engine itself.
var helpdeskFields = []config.Field{
	{Path: "data.#.name", Type: "person_name"},
	{Path: "data.#.birthday", Type: "birth_date"},
	{Path: "data.#.mobile", Type: "cn_mobile"},
	{Path: "data.#.phone", Type: "cn_landline"},
	{Path: "data.#.idCard", Type: "cn_resident_id"},
	{Path: "data.#.email", Type: "email"},
	{Path: "data.#.address", Type: "address"},
	{Path: "data.#.bankCard", Type: "bank_card"},
	{Path: "data.#.plate", Type: "cn_license_plate"},
}

// BenchmarkRewrite measures the engine on an 8 KB helpdesk response (and a
// 1 MB one) for the online agent: field rules only, key names, and every
// string scanned. B/op against the body size is the allocation budget
// (≤ 2×). Two references: fields_plain walks with the same rules for a
// supervisor (every rule matches, nothing is rewritten), no_rules only
// indexes and skips the document (the floor of any walk).
//
// 8KB_varied rewrites 64 different 8 KB responses in turn. Rewriting one
// document over and over lets the CPU's branch predictors learn it: the
// same bytes copied to 64 places run as fast as one, 64 different
// documents of the same shape take about 15 % longer. A gateway rarely
// sees the same response twice in a row, so the varied figures are the
// ones to hold against the targets.
//
//	go test ./caddymodule/rewrite -run '^$' -bench Rewrite -benchmem
func BenchmarkRewrite(b *testing.B) {
	// Bodies are made on first use, so that a CPU profile of the 8 KB
	// cases does not show the making of the 1 MB one.
	bodies := map[string][][]byte{}
	for _, size := range []struct {
		name     string
		n, count int
	}{{"8KB", 8 << 10, 1}, {"8KB_varied", 8 << 10, variedDocs}, {"1MB", 1 << 20, 1}} {
		for _, c := range []struct {
			name  string
			route config.Route
		}{
			{"fields", config.Route{Fields: helpdeskFields, Scan: "off"}},
			{"fields_plain", config.Route{Fields: helpdeskFields, Scan: "off"}},
			{"no_rules", config.Route{Scan: "off"}},
			{"names", config.Route{Scan: "names"}},
			{"scan_all", config.Route{Fields: helpdeskFields, Scan: "all"}},
		} {
			b.Run(size.name+"/"+c.name, func(b *testing.B) {
				docs, ok := bodies[size.name]
				if !ok {
					for i := range size.count {
						docs = append(docs, detectorstest.HelpdeskJSON(int64(1+i), size.n))
					}
					bodies[size.name] = docs
				}
				total := 0
				for _, body := range docs {
					total += len(body)
				}
				e := engine(b, c.route, nil)
				role := "online_agent"
				if c.name == "fields_plain" {
					role = "supervisor" // every rule matches, nothing changes
				}
				d := decide(b, role)
				var sum Summary
				dst := make([]byte, 0, 2*total/len(docs))
				// Numbering plans are compiled on a calling code's first
				// sight: warm up, so that the loop measures steady state.
				for _, body := range docs {
					sum.Reset()
					out, err := e.Rewrite(dst[:0], body, JSON, d, &sum)
					if err != nil {
						b.Fatal(err)
					}
					dst = out
				}
				b.SetBytes(int64(total / len(docs)))
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					sum.Reset()
					out, err := e.Rewrite(dst[:0], docs[i], JSON, d, &sum)
					if err != nil {
						b.Fatal(err)
					}
					dst = out
					if i++; i == len(docs) {
						i = 0
					}
				}
				b.ReportMetric(float64(total/len(docs)), "body_B")
			})
		}
	}
}

// variedDocs is how many different documents 8KB_varied takes in turn.
const variedDocs = 64
