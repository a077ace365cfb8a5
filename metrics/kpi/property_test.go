package kpi

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/flywheel-metrics/flywheel"
)

func propertyOptions() Options {
	o := DefaultOptions()
	o.TuneUps = []Initiative{{Name: "ci-speedup", Label: "tuneup:ci-speedup"},
		{Name: "q1", From: at.Add(-200 * flywheel.Day), To: at.Add(-170 * flywheel.Day), Services: []string{"svc-001"}}}
	return o
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPropertiesRangesAndQuantiles(t *testing.T) {
	t.Parallel()
	r := Compute(genEvents(genSize{services: 5, changes: 3000, deployments: 600, incidents: 150}, 1, at), at, propertyOptions())
	ratio := func(where string, v *float64) {
		if v != nil && (*v < 0 || *v > 1) {
			t.Errorf("%s = %v, outside [0, 1]", where, *v)
		}
	}
	quant := func(where string, q *Quantiles) {
		if q != nil && (q.P50 > q.P90 || q.Count <= 0 || q.P50 < 0) {
			t.Errorf("%s = %+v", where, *q)
		}
	}
	checked := 0
	for wn, wr := range r.Report.Windows {
		groups := map[string]*KPIs{"all": wr.All}
		for s, k := range wr.Services {
			groups[s] = k
		}
		for g, k := range groups {
			where := wn + "/" + g
			ratio(where+" days ratio", k.DeploymentDaysRatio)
			ratio(where+" cfr", k.ChangeFailureRatio)
			ratio(where+" rework", k.ReworkRatio)
			ratio(where+" tune-up share", k.TuneUpShare)
			quant(where+" lead", k.LeadTimeSeconds)
			quant(where+" recovery", k.FailedDeploymentRecoverySeconds)
			if st := k.LeadTimeStageSeconds; st != nil {
				for _, q := range []*Quantiles{st.Coding, st.Pickup, st.Review, st.Deploy} {
					quant(where+" stage", q)
				}
			}
			if in := k.Incidents; in != nil {
				if in.Open > in.Count {
					t.Errorf("%s open %d > count %d", where, in.Open, in.Count)
				}
				for _, q := range []*Quantiles{in.TimeToDetect, in.TimeToAcknowledge, in.TimeToResolve, in.TimeToRestore} {
					quant(where+" incident", q)
				}
			}
			if k.LeadTimeSeconds != nil && k.FailedDeploymentRecoverySeconds != nil && k.Incidents != nil {
				checked++
			}
		}
	}
	if checked == 0 {
		t.Fatal("the generated data exercised no group with lead time, recovery and incidents")
	}
	for _, im := range r.Report.TuneUpImpact {
		for key, k := range im.KPIs {
			if k.PValue != nil && (*k.PValue < 0 || *k.PValue > 1) {
				t.Errorf("%s %s p = %v", im.Initiative, key, *k.PValue)
			}
		}
	}
	if len(r.Report.TuneUpImpact) != 2 {
		t.Errorf("impacts = %d, want 2", len(r.Report.TuneUpImpact))
	}
}

func TestPropertyInputOrder(t *testing.T) {
	t.Parallel()
	ev := genEvents(genSize{services: 4, changes: 2000, deployments: 500, incidents: 120}, 2, at)
	want := mustJSON(t, Compute(ev, at, propertyOptions()))
	rng := rand.New(rand.NewPCG(7, 7))
	for range 3 {
		sh := flywheel.Events{
			Deployments: append([]flywheel.Deployment(nil), ev.Deployments...),
			Changes:     append([]flywheel.Change(nil), ev.Changes...),
			Incidents:   append([]flywheel.Incident(nil), ev.Incidents...),
		}
		rng.Shuffle(len(sh.Deployments), func(i, j int) { sh.Deployments[i], sh.Deployments[j] = sh.Deployments[j], sh.Deployments[i] })
		rng.Shuffle(len(sh.Changes), func(i, j int) { sh.Changes[i], sh.Changes[j] = sh.Changes[j], sh.Changes[i] })
		rng.Shuffle(len(sh.Incidents), func(i, j int) { sh.Incidents[i], sh.Incidents[j] = sh.Incidents[j], sh.Incidents[i] })
		if got := mustJSON(t, Compute(sh, at, propertyOptions())); !bytes.Equal(got, want) {
			t.Fatal("the result depends on the order of the input events")
		}
	}
}

// TestPropertyServicesIndependent: adding every event of other services never
// changes a service's KPIs or history.
func TestPropertyServicesIndependent(t *testing.T) {
	t.Parallel()
	ev := genEvents(genSize{services: 4, changes: 2000, deployments: 500, incidents: 120}, 3, at)
	const svc = "svc-001"
	var only flywheel.Events
	for _, d := range ev.Deployments {
		if d.Service == svc {
			only.Deployments = append(only.Deployments, d)
		}
	}
	for _, c := range ev.Changes {
		if c.Service == svc {
			only.Changes = append(only.Changes, c)
		}
	}
	for _, x := range ev.Incidents {
		if x.Service == svc {
			only.Incidents = append(only.Incidents, x)
		}
	}
	o := DefaultOptions()
	full, alone := Compute(ev, at, o), Compute(only, at, o)
	for _, w := range o.Windows {
		a := mustJSON(t, full.Report.Windows[w.Name].Services[svc])
		b := mustJSON(t, alone.Report.Windows[w.Name].Services[svc])
		if !bytes.Equal(a, b) {
			t.Errorf("%s: %s changes when other services' events are added:\n%s\n%s", w.Name, svc, b, a)
		}
		if string(a) == "null" {
			t.Errorf("%s: %s has no KPIs", w.Name, svc)
		}
	}
	if a, b := mustJSON(t, full.History.Services[svc]), mustJSON(t, alone.History.Services[svc]); !bytes.Equal(a, b) {
		t.Errorf("history changes:\n%s\n%s", b, a)
	}
}
