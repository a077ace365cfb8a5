package kpi

import (
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel"
)

// TestTimesOutOfRange: a store written before times were checked may hold
// events dated past 2262 or before 1678, whose Unix nanoseconds overflow. The
// engine clamps them to the valid years: a time in 9999 has not happened yet
// as of any evaluation time, one in 1600 lies before every window.
func TestTimesOutOfRange(t *testing.T) {
	t.Parallel()
	far := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	old := time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC)
	farDep := dp("d-far", "checkout", "ffffffffffffffffffffffffffffffffffffff01", 0, nil)
	farDep.FinishedAt = far
	oldDep := dp("d-old", "checkout", "ffffffffffffffffffffffffffffffffffffff02", 0, nil)
	oldDep.FinishedAt = old
	ch := pr("acme/checkout#1", "checkout", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa01", 1, 2, 3, 4)
	ch.FirstCommitAt, ch.MergedAt = old, far
	inc := incident("i-1", "checkout", "high", U, 10, 11, U, "")
	inc.StartedAt, inc.ResolvedAt = old, far
	ev := flywheel.Events{
		Deployments: []flywheel.Deployment{
			dp("d-1", "checkout", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa02", 5, nil), farDep, oldDep,
			dp("d-2", "checkout", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa03", 6, nil),
		},
		Changes:   []flywheel.Change{ch},
		Incidents: []flywheel.Incident{inc},
	}
	r := compute(ev, nil)
	k := w30(t, r, "checkout")
	eqInt(t, "deployments", k.Deployments, 2)
	if k.Incidents == nil || k.Incidents.Count != 1 || k.Incidents.Open != 1 {
		t.Errorf("incidents = %+v, want 1, open (resolved in 9999)", k.Incidents)
	}
	for _, kpi := range []string{"deployments", "lead_time_seconds", "incidents.count", "non_counting_deployments"} {
		if _, err := Explain(ev, at, DefaultOptions(), ExplainQuery{KPI: kpi, Service: "checkout"}); err != nil {
			t.Errorf("explain %s: %v", kpi, err)
		}
	}
}
