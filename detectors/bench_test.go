package detectors_test

import (
	"testing"

	"github.com/piigate/piigate/detectors"
	"github.com/piigate/piigate/detectors/detectorstest"
)

// BenchmarkScan measures the scanner with every detector on, over 1 MB of
// generated mixed Chinese/English ticket text: "tickets" with a few
// personal values per KB, "clean" with none (where Scan must not allocate).
//
//	go test ./detectors -run '^$' -bench Scan -benchmem
func BenchmarkScan(b *testing.B) {
	for _, c := range []struct {
		name string
		text string
	}{
		{"tickets", detectorstest.Tickets(1, 1<<20)},
		{"clean", detectorstest.CleanTickets(1, 1<<20)},
	} {
		b.Run(c.name, func(b *testing.B) {
			fs := make([]detectors.Finding, 0, 8192)
			// Numbering plans are compiled on a calling code's first
			// sight: warm up, so that the loop measures steady state.
			fs = detectors.Default.Scan(c.text, fs[:0])
			b.SetBytes(int64(len(c.text)))
			b.ReportAllocs()
			for b.Loop() {
				fs = detectors.Default.Scan(c.text, fs[:0])
			}
		})
	}
}
