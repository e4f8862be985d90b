package caddymodule

import (
	"errors"
	"maps"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/caddyserver/caddy/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/piigate/piigate/config"
	"github.com/piigate/piigate/detectors"
)

// metrics are pii_mask's Prometheus series, on Caddy's registry (served by
// the admin endpoint's /metrics and the metrics handler).
type metrics struct {
	responses *prometheus.CounterVec
	values    *prometheus.CounterVec
	refusals  *prometheus.CounterVec
	duration  prometheus.Histogram

	// The counters of label values seen before: WithLabelValues hashes
	// every label and takes a lock, several times per response otherwise.
	resultCounters counterCache[string]
	valueCounters  counterCache[valueLabels]

	// The registry, and how many handlers use these series (guarded by
	// metricsMu): each configuration Caddy loads has a registry of its
	// own, dropped with the last handler's Cleanup, or every reload would
	// keep the old registry and its series alive.
	reg   prometheus.Registerer
	users int
}

// release is a handler's Cleanup: the last one drops the registry's
// entry.
func (m *metrics) release() {
	if m == nil {
		return
	}
	metricsMu.Lock()
	defer metricsMu.Unlock()
	if m.users--; m.users == 0 {
		delete(metricsByReg, m.reg)
	}
}

type valueLabels struct {
	entity detectors.Type
	action config.Action
	role   string
}

// counterCache maps label values to their counter: a map replaced whole on
// insert, read without a lock. Label values are few (results; types ×
// actions × role sets), and bounded here all the same.
type counterCache[K comparable] struct {
	m atomic.Pointer[map[K]prometheus.Counter]
}

func (c *counterCache[K]) get(k K, newCounter func() prometheus.Counter) prometheus.Counter {
	old := c.m.Load()
	if old != nil {
		if ctr, ok := (*old)[k]; ok {
			return ctr
		}
	}
	ctr := newCounter()
	if old == nil || len(*old) < 1024 {
		n := make(map[K]prometheus.Counter, 1)
		if old != nil {
			n = maps.Clone(*old)
		}
		n[k] = ctr
		c.m.Store(&n)
	}
	return ctr
}

var (
	metricsMu    sync.Mutex
	metricsByReg = map[prometheus.Registerer]*metrics{}
)

// registerMetrics returns the series registered on ctx's registry, creating
// them once per registry (one per loaded configuration).
func registerMetrics(ctx caddy.Context) *metrics {
	reg := ctx.GetMetricsRegistry()
	metricsMu.Lock()
	defer metricsMu.Unlock()
	if m, ok := metricsByReg[reg]; ok {
		m.users++
		return m
	}
	const ns, sub = "piigate", "mask"
	m := &metrics{
		responses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "responses_total",
			Help: "Guarded responses by result: rewritten, unchanged, passed, refused, handler_error, client_gone.",
		}, []string{"result"}),
		values: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "values_total",
			Help: "Personal data values found, by entity type, the action applied and the agent's roles.",
		}, []string{"entity", "action", "role"}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "refusals_total",
			Help: "Responses refused (fail closed), by reason.",
		}, []string{"reason"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: ns, Subsystem: sub, Name: "rewrite_duration_seconds",
			Help:    "Time pii_mask spent on a guarded response, upstream excluded when buffered.",
			Buckets: prometheus.ExponentialBuckets(0.00005, 2, 14),
		}),
	}
	m.responses = register(reg, m.responses).(*prometheus.CounterVec)
	m.values = register(reg, m.values).(*prometheus.CounterVec)
	m.refusals = register(reg, m.refusals).(*prometheus.CounterVec)
	m.duration = register(reg, m.duration).(prometheus.Histogram)
	metricsByReg[reg] = m
	m.reg, m.users = reg, 1
	return m
}

// register tolerates a collector registered before (by an earlier config).
func register(reg prometheus.Registerer, c prometheus.Collector) prometheus.Collector {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			return are.ExistingCollector
		}
		panic(err)
	}
	return c
}

func (m *metrics) refused(reason string) {
	if m == nil { // a handler outside a running Caddy (caddy pii scan, benchmarks)
		return
	}
	m.refusals.WithLabelValues(reason).Inc()
}

// observe records one response.
func (m *metrics) observe(o *Outcome, d *config.Decision) {
	if m == nil || o.Result == "" {
		return
	}
	m.resultCounters.get(o.Result, func() prometheus.Counter { return m.responses.WithLabelValues(o.Result) }).Inc()
	m.duration.Observe(o.Duration.Seconds())
	role := strings.Join(d.Roles, ",")
	if d.Unknown {
		role = "(none)"
	}
	for _, c := range o.Summary.Counts {
		m.valueCounters.get(valueLabels{c.Type, c.Action, role}, func() prometheus.Counter {
			return m.values.WithLabelValues(c.Type.String(), c.Action.String(), role)
		}).Add(float64(c.N))
	}
}
