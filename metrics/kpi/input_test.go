package kpi

import (
	"bytes"
	"encoding/json"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel"
)

// feed adds ev to in the way a store scan does: through one reused record per
// kind, overwritten after each call, so an Input that kept the pointer instead
// of what it needs would compute from the last record (or from garbage).
func feed(in *Input, ev flywheel.Events) {
	in.Grow(len(ev.Deployments), len(ev.Changes), len(ev.Incidents))
	var (
		d flywheel.Deployment
		c flywheel.Change
		x flywheel.Incident
	)
	for i := range ev.Deployments {
		d = ev.Deployments[i]
		in.AddDeployment(&d)
		d = flywheel.Deployment{ID: "overwritten", SHA: "overwritten", FinishedAt: at.Add(-time.Hour)}
	}
	for i := range ev.Changes {
		c = ev.Changes[i]
		in.AddChange(&c)
		c = flywheel.Change{MergeSHA: "overwritten", Labels: []string{"bug"}, MergedAt: at.Add(-time.Hour)}
	}
	for i := range ev.Incidents {
		x = ev.Incidents[i]
		in.AddIncident(&x)
		x = flywheel.Incident{ID: "overwritten", TriggeredAt: at.Add(-time.Hour)}
	}
}

// TestInputFedLikeAScan: an Input fed one reused record at a time computes
// exactly what Compute does over the whole records, tune-up initiatives (the
// labels the Input keeps) included.
func TestInputFedLikeAScan(t *testing.T) {
	t.Parallel()
	ev := genEvents(genSize{services: 6, changes: 4000, deployments: 800, incidents: 200}, 3, at)
	want := mustJSON(t, Compute(ev, at, propertyOptions()))
	in := NewInput(propertyOptions())
	feed(in, ev)
	if got := mustJSON(t, in.Compute(at)); !bytes.Equal(got, want) {
		t.Fatal("an Input fed like a store scan computes something else than Compute over the records")
	}
	r := in.Compute(at)
	if !slices.ContainsFunc(r.Report.TuneUpImpact, func(im Impact) bool { return im.Initiative == "ci-speedup" }) {
		t.Fatal("no impact of the labelled initiative ci-speedup: the labels an Input keeps are lost")
	}
}

// TestInputComputesAtManyTimes: one Input computed at several evaluation times,
// in any order, gives what a fresh computation at each gives (backfill and the
// HTML report's history share one Input).
func TestInputComputesAtManyTimes(t *testing.T) {
	t.Parallel()
	ev := genEvents(genSize{services: 4, changes: 2000, deployments: 400, incidents: 100}, 4, at)
	in := NewInput(propertyOptions())
	in.Add(ev)
	for _, when := range []time.Time{at, at.Add(-90 * flywheel.Day), at.Add(-30 * flywheel.Day), at} {
		want := mustJSON(t, Compute(ev, when, propertyOptions()))
		if got := mustJSON(t, in.Compute(when)); !bytes.Equal(got, want) {
			t.Fatalf("as of %s, the shared Input differs from a fresh computation", when)
		}
	}
	// Compute only reads the Input, so computations may share it (-race checks)
	want := mustJSON(t, in.Compute(at))
	var wg sync.WaitGroup
	got := make([][]byte, 3)
	for i := range got {
		wg.Go(func() { got[i], _ = json.Marshal(in.Compute(at)) })
	}
	wg.Wait()
	for i := range got {
		if !bytes.Equal(got[i], want) {
			t.Fatalf("concurrent computation %d differs", i)
		}
	}
}

func TestInputCounts(t *testing.T) {
	t.Parallel()
	ev := flywheel.Events{
		Deployments: []flywheel.Deployment{{ID: "d1", FinishedAt: H(1)}, {ID: "d2", FinishedAt: H(5)}},
		Changes:     []flywheel.Change{{ID: "c1", OpenedAt: H(2)}, {ID: "c2", OpenedAt: H(3)}, {ID: "c3"}},
		Incidents:   []flywheel.Incident{{ID: "i1", TriggeredAt: H(4)}},
	}
	in := NewInput(DefaultOptions())
	in.Add(ev)
	if d, c, i := in.Len(); d != 2 || c != 3 || i != 1 {
		t.Errorf("Len = %d, %d, %d; want 2, 3, 1", d, c, i)
	}
	// before H(3): d1; c1 and c3 (no opening time counts as having happened); no incident
	if d, c, i := in.Counts(H(3)); d != 1 || c != 2 || i != 0 {
		t.Errorf("Counts(H(3)) = %d, %d, %d; want 1, 2, 0", d, c, i)
	}
}
