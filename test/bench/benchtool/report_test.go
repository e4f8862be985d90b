package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeResults writes one measurement line per (round, config, requests in
// 10 s), as test/bench/run does.
func writeResults(t *testing.T, rounds []map[string]int) string {
	t.Helper()
	var b strings.Builder
	for i, r := range rounds {
		for _, cfg := range []string{"plain", "noop", "fields", "scan"} {
			n, ok := r[cfg]
			if !ok {
				continue
			}
			fmt.Fprintf(&b, "config=%s round=%d caddy_cpu_s=9.9 other_cpu_s=0.1 requests=%d duration_us=10000000 "+
				"bytes=%d errors=0 non2xx=0 p50_us=4000 p99_us=13000\n", cfg, i+1, n, n*7600)
		}
	}
	p := filepath.Join(t.TempDir(), "results.txt")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReportVerdicts(t *testing.T) {
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	stdout := os.Stdout
	os.Stdout = devNull // the table is for people
	defer func() { os.Stdout = stdout }()

	for _, c := range []struct {
		name   string
		rounds []map[string]int
		want   error
	}{
		{"both met", []map[string]int{
			{"plain": 60000, "fields": 55000, "scan": 50000},
			{"plain": 62000, "fields": 57000, "scan": 51000},
			{"plain": 58000, "fields": 53000, "scan": 48000},
		}, nil},
		{"scan missed", []map[string]int{
			{"plain": 60000, "fields": 55000, "scan": 40000},
			{"plain": 62000, "fields": 57000, "scan": 41000},
			{"plain": 58000, "fields": 53000, "scan": 39000},
		}, errTargetMissed},
		// The ratio of the medians passes (55000 / 60000 = 0.917) only
		// because plain was slow in one round; paired with plain in each
		// round, field rules reach 0.86: not met.
		{"lucky ratio of medians", []map[string]int{
			{"plain": 64000, "fields": 55000, "scan": 60000},
			{"plain": 60000, "fields": 52000, "scan": 58000},
			{"plain": 50000, "fields": 56000, "scan": 48000},
		}, errTargetMissed},
		// noop is a reference: however low, it misses no target.
		{"noop has no target", []map[string]int{
			{"plain": 60000, "noop": 30000, "fields": 55000, "scan": 50000},
			{"plain": 60000, "noop": 30000, "fields": 55000, "scan": 50000},
		}, nil},
		// So is route.
		{"route has no target", []map[string]int{
			{"plain": 60000, "route": 30000, "noop": 30000, "fields": 55000, "scan": 50000},
			{"plain": 60000, "route": 30000, "noop": 30000, "fields": 55000, "scan": 50000},
		}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := report([]string{"-results", writeResults(t, c.rounds)})
			if !errors.Is(err, c.want) {
				t.Fatalf("report: %v, want %v", err, c.want)
			}
		})
	}
}
