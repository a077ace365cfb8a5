package kpi

import (
	"math"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel"
)

// t0 is the origin of every hand-worked example; H(h) is t0 plus h hours.
var t0 = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

// U marks an unknown time in the builders below.
var U = math.Inf(-1)

func H(h float64) time.Time {
	if math.IsInf(h, -1) {
		return time.Time{}
	}
	return t0.Add(time.Duration(h * float64(time.Hour)))
}

// dp is a counting deployment of svc's repo acme/svc to "production".
func dp(id, svc, sha string, h float64, commits []string) flywheel.Deployment {
	return flywheel.Deployment{ID: id, Service: svc, Repo: "acme/" + svc, Environment: "production",
		SHA: sha, FinishedAt: H(h), Status: flywheel.StatusSuccess, Commits: commits}
}

// pr is a PR of svc's repo; times in hours, U for unknown.
func pr(id, svc, mergeSHA string, first, opened, review, merged float64) flywheel.Change {
	return flywheel.Change{ID: id, Service: svc, Repo: "acme/" + svc, MergeSHA: mergeSHA,
		FirstCommitAt: H(first), OpenedAt: H(opened), FirstReviewAt: H(review), MergedAt: H(merged)}
}

func incident(id, svc, urgency string, started, triggered, acked, resolved float64, causedBy string) flywheel.Incident {
	return flywheel.Incident{ID: id, Service: svc, Urgency: urgency, StartedAt: H(started), TriggeredAt: H(triggered),
		AcknowledgedAt: H(acked), ResolvedAt: H(resolved), CausedBy: causedBy}
}

// at is the evaluation time of the examples: ten days after t0, so the 30d
// window [H(-480), H(240)) holds every example event.
var at = H(240)

func compute(ev flywheel.Events, mod func(*Options)) Result {
	o := DefaultOptions()
	if mod != nil {
		mod(&o)
	}
	return Compute(ev, at, o)
}

func w30(t *testing.T, r Result, svc string) *KPIs {
	t.Helper()
	wr := r.Report.Windows["30d"]
	if svc == "" {
		return wr.All
	}
	return wr.Services[svc]
}

func eqInt(t *testing.T, name string, got *int, want int) {
	t.Helper()
	if got == nil {
		t.Errorf("%s absent, want %d", name, want)
	} else if *got != want {
		t.Errorf("%s = %d, want %d", name, *got, want)
	}
}

func eqF(t *testing.T, name string, got *float64, want float64) {
	t.Helper()
	if got == nil {
		t.Errorf("%s absent, want %v", name, want)
	} else if math.Abs(*got-want) > 1e-9*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %v, want %v", name, *got, want)
	}
}

func eqQ(t *testing.T, name string, got *Quantiles, p50, p90 float64, count int) {
	t.Helper()
	if got == nil {
		t.Errorf("%s absent, want p50=%v p90=%v count=%d", name, p50, p90, count)
		return
	}
	if math.Abs(got.P50-p50) > 1e-6 || math.Abs(got.P90-p90) > 1e-6 || got.Count != count {
		t.Errorf("%s = %+v, want p50=%v p90=%v count=%d", name, *got, p50, p90, count)
	}
}

func absent[T any](t *testing.T, name string, v *T) {
	t.Helper()
	if v != nil {
		t.Errorf("%s = %+v, want absent", name, *v)
	}
}
