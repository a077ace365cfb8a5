package storage_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/metrics/kpi"
)

// TestScanIntoInputMatchesEvents: what serve computes (Store.Scan into a
// kpi.Input, one reused record at a time) is byte for byte what kpi.Compute
// gives over Store.Events' whole records, on the benchmark's varied records.
func TestScanIntoInputMatchesEvents(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	var b flywheel.Batch
	realisticEvents(4000, 2, &b)
	write(t, s, b)
	opts := kpi.DefaultOptions()
	opts.TuneUps = []kpi.Initiative{{Name: "ci-speedup", Label: "tuneup:ci-speedup"}}
	at := time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC)

	ev, err := s.Events()
	if err != nil {
		t.Fatal(err)
	}
	want := kpi.Compute(ev, at, opts)
	if want.Report.Windows["30d"].All == nil || len(want.Report.TuneUpImpact) == 0 {
		t.Fatal("the records yield no 30-day KPIs or no initiative: the comparison would prove little")
	}
	in := kpi.NewInput(opts)
	if err := s.Scan(in); err != nil {
		t.Fatal(err)
	}
	if d, c, i := in.Len(); d != len(b.Deployments) || c != len(b.Changes) || i != len(b.Incidents) {
		t.Fatalf("scanned %d, %d, %d events; stored %d, %d, %d", d, c, i, len(b.Deployments), len(b.Changes), len(b.Incidents))
	}
	got, _ := json.Marshal(in.Compute(at))
	wantJSON, _ := json.Marshal(want)
	if !bytes.Equal(got, wantJSON) {
		t.Fatal("the KPIs of a scan differ from those of the whole records")
	}
}

// growSink records Scan's size hint and the kinds in the order they come.
type growSink struct {
	grow  [3]int
	kinds []flywheel.Kind
}

func (g *growSink) Grow(d, c, i int) { g.grow = [3]int{d, c, i} }
func (g *growSink) AddDeployment(*flywheel.Deployment) {
	g.kinds = append(g.kinds, flywheel.KindDeployment)
}
func (g *growSink) AddChange(*flywheel.Change)     { g.kinds = append(g.kinds, flywheel.KindChange) }
func (g *growSink) AddIncident(*flywheel.Incident) { g.kinds = append(g.kinds, flywheel.KindIncident) }

func TestScanHintsAndOrder(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	write(t, s, flywheel.Batch{Events: flywheel.Events{
		Incidents:   []flywheel.Incident{{ID: "i1", Service: "a", TriggeredAt: hours(1)}},
		Changes:     []flywheel.Change{{ID: "c1", Service: "a", OpenedAt: hours(2)}, {ID: "c2", Service: "a", OpenedAt: hours(1)}},
		Deployments: []flywheel.Deployment{{ID: "d1", Service: "a", FinishedAt: hours(3)}},
	}})
	var g growSink
	if err := s.Scan(&g); err != nil {
		t.Fatal(err)
	}
	if g.grow != [3]int{1, 2, 1} {
		t.Errorf("Grow(%v), want the stored counts 1, 2, 1", g.grow)
	}
	want := []flywheel.Kind{flywheel.KindDeployment, flywheel.KindChange, flywheel.KindChange, flywheel.KindIncident}
	if !slices.Equal(g.kinds, want) {
		t.Errorf("kinds %v, want %v", g.kinds, want)
	}
}
