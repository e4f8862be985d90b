package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

// errTargetMissed makes report exit with status 3: measured fine, but the
// gateway is slower than the design allows.
var errTargetMissed = errors.New("a target was missed")

// A measurement is one wrk run against one configuration, as test/bench/run
// writes it: key=value pairs on one line.
type measurement struct {
	config  string
	round   int
	rps     float64
	p50     float64 // µs
	p99     float64 // µs
	cpuPer  float64 // Caddy's CPU time per request, µs
	cpuUtil float64 // Caddy's CPU time over wall time (1.0 = one core)
	other   float64 // CPU time of everything but Caddy, wrk and the upstream over wall time
	errors  int64
	reqs    int64
	bytes   int64
}

func parseMeasurement(line string) (measurement, error) {
	kv := map[string]string{}
	for _, f := range strings.Fields(line) {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return measurement{}, fmt.Errorf("bad field %q", f)
		}
		kv[k] = v
	}
	num := func(k string) float64 {
		f, err := strconv.ParseFloat(kv[k], 64)
		if err != nil {
			panic(fmt.Sprintf("field %s=%q: %v", k, kv[k], err))
		}
		return f
	}
	var m measurement
	var err error
	func() {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("%v in %q", r, line)
			}
		}()
		m.config = kv["config"]
		m.round = int(num("round"))
		m.reqs = int64(num("requests"))
		secs := num("duration_us") / 1e6
		m.rps = float64(m.reqs) / secs
		m.p50, m.p99 = num("p50_us"), num("p99_us")
		m.errors = int64(num("errors") + num("non2xx"))
		m.bytes = int64(num("bytes"))
		cpu := num("caddy_cpu_s")
		m.cpuUtil = cpu / secs
		m.other = num("other_cpu_s") / secs
		if m.reqs > 0 {
			m.cpuPer = cpu / float64(m.reqs) * 1e6
		}
	}()
	return m, err
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// report prints the summary table. Figures are medians over the rounds,
// which resists the odd round disturbed by other work on a shared machine;
// the ratio range shows how much the rounds disagreed.
func report(args []string) error {
	fs := flag.NewFlagSet("report", flag.ExitOnError)
	results := fs.String("results", "", "the measurements file")
	fieldsTarget := fs.Float64("fields-target", 0.90, "minimum throughput ratio, field rules only")
	scanTarget := fs.Float64("scan-target", 0.80, "minimum throughput ratio, scan all")
	disturbed := fs.Float64("disturbed", 0.25, "share of a core taken by other work past which a measurement is flagged")
	_ = fs.Parse(args)

	f, err := os.Open(*results)
	if err != nil {
		return err
	}
	defer f.Close()
	byConfig := map[string][]measurement{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		m, err := parseMeasurement(sc.Text())
		if err != nil {
			return err
		}
		byConfig[m.config] = append(byConfig[m.config], m)
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if len(byConfig["plain"]) == 0 {
		return errors.New("no measurement of plain reverse_proxy")
	}

	type summary struct {
		rps, p50, p99, cpuPer, cpuUtil, other float64
		ratios                                []float64 // per round, against plain of the same round
		errors, reqs                          int64
		bodyBytes                             float64
	}
	plainByRound := map[int]float64{}
	for _, m := range byConfig["plain"] {
		plainByRound[m.round] = m.rps
	}
	sums := map[string]*summary{}
	var noisy []string
	for cfg, ms := range byConfig {
		s := &summary{}
		var rps, p50, p99, cpuPer, cpuUtil, other []float64
		for _, m := range ms {
			rps = append(rps, m.rps)
			p50 = append(p50, m.p50)
			p99 = append(p99, m.p99)
			cpuPer = append(cpuPer, m.cpuPer)
			cpuUtil = append(cpuUtil, m.cpuUtil)
			other = append(other, m.other)
			if m.other > *disturbed {
				noisy = append(noisy, fmt.Sprintf("%s in round %d (%.0f %%)", cfg, m.round, 100*m.other))
			}
			s.errors += m.errors
			s.reqs += m.reqs
			s.bodyBytes += float64(m.bytes)
			if p, ok := plainByRound[m.round]; ok && p > 0 {
				s.ratios = append(s.ratios, m.rps/p)
			}
		}
		s.rps, s.p50, s.p99 = median(rps), median(p50), median(p99)
		s.cpuPer, s.cpuUtil, s.other = median(cpuPer), median(cpuUtil), median(other)
		if s.reqs > 0 {
			s.bodyBytes /= float64(s.reqs)
		}
		sums[cfg] = s
	}

	plain := sums["plain"]
	rows := []struct{ cfg, label string }{
		{"plain", "plain reverse_proxy"},
		{"route", "a directive on /api/*"},
		{"noop", "pii_mask, no rules"},
		{"fields", "pii_mask, field rules"},
		{"scan", "pii_mask, scan all"},
	}
	targets := map[string]float64{"fields": *fieldsTarget, "scan": *scanTarget}
	fmt.Printf("\n%-22s %8s %7s %7s %9s %6s %6s %7s %7s %12s %9s  %s\n",
		"configuration", "req/s", "p50 ms", "p99 ms", "cpu µs/r", "cpu %", "other", "ratio", "paired", "ratio/round", "cpu ratio", "target")
	missed, broken := false, false
	for _, r := range rows {
		s, ok := sums[r.cfg]
		if !ok {
			continue
		}
		ratio, paired, rng, cpuRatio, verdict := "", "", "", "", ""
		if r.cfg != "plain" {
			q := s.rps / plain.rps
			ratio = fmt.Sprintf("%.3f", q)
			if len(s.ratios) > 0 {
				// The median of the rounds' own ratios pairs each
				// measurement with plain's of the same round, so the
				// machine's drift between rounds cancels out. A target is
				// met only when both figures meet it: one lucky or
				// unlucky plain measurement moves the ratio of the
				// medians, not the paired one.
				pq := median(s.ratios)
				paired = fmt.Sprintf("%.3f", pq)
				rng = fmt.Sprintf("%.2f–%.2f", slices.Min(s.ratios), slices.Max(s.ratios))
				q = min(q, pq)
			}
			if s.cpuPer > 0 {
				cpuRatio = fmt.Sprintf("%.3f", plain.cpuPer/s.cpuPer)
			}
			t, hasTarget := targets[r.cfg]
			switch {
			case !hasTarget:
				verdict = "(reference)"
			case q >= t:
				verdict = fmt.Sprintf("PASS (≥ %.2f)", t)
			default:
				verdict = fmt.Sprintf("FAIL (< %.2f)", t)
				missed = true
			}
		}
		if s.errors > 0 {
			verdict += fmt.Sprintf(" BROKEN: %d of %d responses were errors or not 2xx", s.errors, s.reqs)
			broken = true
		}
		fmt.Printf("%-22s %8.0f %7.2f %7.2f %9.1f %6.0f %6.0f %7s %7s %12s %9s  %s\n",
			r.label, s.rps, s.p50/1000, s.p99/1000, s.cpuPer, 100*s.cpuUtil, 100*s.other, ratio, paired, rng, cpuRatio, verdict)
	}
	fmt.Printf("\nmedians of %d round(s); ratio = req/s over plain reverse_proxy's; paired = the median of the rounds'\n"+
		"own ratios (each against plain in the same round); a target is met when both are at least the target;\n"+
		"ratio/round = the lowest and highest ratio within one round; cpu µs/r = Caddy's CPU time per request;\n"+
		"cpu ratio = plain's cpu µs/r over this one's (the throughput ratio if Caddy alone were the bottleneck);\n"+
		"cpu %% = Caddy's CPU use, 100 = one core;\n"+
		"other = CPU used by anything but Caddy, wrk and the upstream (other work, kernel network time), %% of one core.\n",
		len(byConfig["plain"]))
	if len(noisy) > 0 {
		fmt.Printf("warning: other work took more than %.0f %% of a core during: %s; rerun when the machine is quieter\n",
			100**disturbed, strings.Join(noisy, ", "))
	}
	if broken {
		return errors.New("some responses under load were errors: the figures are not valid")
	}
	if missed {
		return errTargetMissed
	}
	return nil
}
