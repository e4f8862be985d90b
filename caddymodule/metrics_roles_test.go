package caddymodule

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/piigate/piigate/caddymodule/rewrite"
	"github.com/piigate/piigate/config"
)

// The role label of piigate_mask_values_total is the agent's roles as
// roles_from listed them, in their order and with repeats: one policy with
// two roles gives a new series for every spelling of the same role set
// (and the handler's cache stops at 1024, the registry does not).
func TestMetricsRoleLabelIsCanonical(t *testing.T) {
	tbl, err := config.Compile(config.Policy{Roles: map[string]config.RoleRules{
		"online_agent": {"*": "mask"}, "supervisor": {"*": "plain"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	m := &metrics{
		responses: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "r"}, []string{"result"}),
		values:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "v"}, []string{"entity", "action", "role"}),
		refusals:  prometheus.NewCounterVec(prometheus.CounterOpts{Name: "f"}, []string{"reason"}),
		duration:  prometheus.NewHistogram(prometheus.HistogramOpts{Name: "d"}),
	}
	e, err := rewrite.New(rewrite.Options{Route: mustRoute(t), Table: tbl})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 2000; i++ {
		roles := "supervisor," + strings.Repeat("online_agent,", i)
		var d config.Decision
		tbl.Decide(roles, &d)
		o := &Outcome{Result: resultRewritten}
		if _, err := e.Rewrite(nil, []byte(`{"mobile":"13812345678"}`), rewrite.JSON, &d, &o.Summary); err != nil {
			t.Fatal(err)
		}
		m.observe(o, &d)
	}
	ch := make(chan prometheus.Metric, 4096)
	m.values.Collect(ch)
	close(ch)
	if n := len(ch); n > 3 {
		t.Errorf("%d series of piigate_mask_values_total for one role set {online_agent, supervisor}", n)
	}
}

func mustRoute(t *testing.T) *config.CompiledRoute {
	r, err := config.CompileRoute(config.Route{Scan: "names"})
	if err != nil {
		t.Fatal(err)
	}
	return r
}
