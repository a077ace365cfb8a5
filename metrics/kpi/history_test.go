package kpi

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/flywheel-metrics/flywheel"
)

// TestHistory: all-history figures as of at — counters, cumulative
// histograms with their fixed bounds, and data-quality counts.
//
//	d1 H-2000 ships PR1 (lead 30m) · d2 H-1000 ships PR2 (lead 3d) · d3 H10 ships nothing
//	d-stg staging, d-late after at: not counted
//	r1 resolves in 10m, r2 in 2d, r3 negative (resolved before triggered), r4 open
func TestHistory(t *testing.T) {
	t.Parallel()
	stg := dp("d-stg", "svc", "s", 5, nil)
	stg.Environment = "staging"
	ev := flywheel.Events{
		Deployments: []flywheel.Deployment{
			dp("d1", "svc", "a", -2000, nil), dp("d2", "svc", "b", -1000, []string{"m2", "b"}), dp("d3", "svc", "c", 10, []string{}),
			stg, dp("d-late", "svc", "z", 300, nil),
		},
		Changes: []flywheel.Change{pr("PR1", "svc", "m1", -2000.5, -2000.4, U, -2000.2), pr("PR2", "svc", "m2", -1072, -1071, U, -1070)},
		Incidents: []flywheel.Incident{
			incident("r1", "svc", "high", U, 100, U, 100+10.0/60, "none"),
			incident("r2", "svc", "low", U, 110, U, 158, "none"),
			incident("r3", "svc", "low", U, 120, U, 119, "none"),
			incident("r4", "svc", "high", U, 130, U, U, "none"),
		},
	}
	h := compute(ev, nil).History.Services["svc"]
	if h.Deployments != 3 || h.FailedDeployments != 0 {
		t.Errorf("deployments %d failed %d, want 3 0", h.Deployments, h.FailedDeployments)
	}
	if !slices.Equal(h.LeadTime.Bounds, LeadTimeBounds) || h.LeadTime.Count != 2 || h.LeadTime.Sum != 1800+3*86400 {
		t.Errorf("lead histogram = %+v", h.LeadTime)
	}
	// 1800 ≤ 1h and every bound above; 259200 (3d) ≤ 4d and above
	if want := []uint64{1, 1, 1, 1, 1, 2, 2, 2, 2, 2}; !slices.Equal(h.LeadTime.Buckets, want) {
		t.Errorf("lead buckets = %v, want %v", h.LeadTime.Buckets, want)
	}
	// 600 ≤ 15m …; 172800 (2d) ≤ 3d; r3 is negative, r4 open
	if want := []uint64{0, 1, 1, 1, 1, 1, 1, 1, 2, 2}; !slices.Equal(h.TimeToResolve.Buckets, want) || h.TimeToResolve.Count != 2 || h.TimeToResolve.Sum != 600+172800 {
		t.Errorf("resolve histogram = %+v, want buckets %v", h.TimeToResolve, want)
	}
	if h.IncidentsByUrgency["high"] != 2 || h.IncidentsByUrgency["low"] != 2 || h.OpenByUrgency["high"] != 1 || len(h.OpenByUrgency) != 1 {
		t.Errorf("incidents %v open %v", h.IncidentsByUrgency, h.OpenByUrgency)
	}
	want := DataQuality{UnattributedIncidents: 4, EmptyDeployments: 1, TimeFallbackChanges: 1, NegativeDurations: 1, NonCountingDeploys: 1}
	if h.Quality != want {
		t.Errorf("quality = %+v, want %+v", h.Quality, want)
	}
	if h.ChangesByClass != (ChangesByClass{Unclassified: 2}) {
		t.Errorf("classes = %+v", h.ChangesByClass)
	}
}

// TestReportJSONShape: the keys of the JSON report, and none for absent values.
func TestReportJSONShape(t *testing.T) {
	t.Parallel()
	r := compute(attributionEvents(), func(o *Options) {
		o.TuneUps = []Initiative{{Name: "all-june", From: H(-240), To: H(50)}}
	})
	raw, err := json.Marshal(r.Report)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	keys := func(v any) []string {
		m, _ := v.(map[string]any)
		var ks []string
		for k := range m {
			ks = append(ks, k)
		}
		slices.Sort(ks)
		return ks
	}
	if got := keys(doc); !slices.Equal(got, []string{"at", "tune_up_impact", "windows"}) {
		t.Errorf("top-level keys %v", got)
	}
	if got := keys(doc["windows"]); !slices.Equal(got, []string{"30d", "7d", "90d"}) {
		t.Errorf("windows %v", got)
	}
	checkout := doc["windows"].(map[string]any)["30d"].(map[string]any)["services"].(map[string]any)["checkout"]
	want := []string{"change_failure_ratio", "deployment_days_ratio", "deployment_frequency_per_day", "deployments",
		"dora_level", "failed_deployment_recovery_seconds", "failed_deployments", "incidents", "rework_deployments", "rework_ratio"}
	if got := keys(checkout); !slices.Equal(got, want) {
		t.Errorf("checkout keys %v\nwant %v", got, want)
	}
	inc := checkout.(map[string]any)["incidents"]
	if got := keys(inc); !slices.Equal(got, []string{"by_urgency", "count", "open", "time_to_acknowledge_seconds",
		"time_to_detect_seconds", "time_to_resolve_seconds", "time_to_restore_seconds"}) {
		t.Errorf("incident keys %v", got)
	}
	low := inc.(map[string]any)["by_urgency"].(map[string]any)["low"]
	if got := keys(low); !slices.Equal(got, []string{"count", "open"}) {
		t.Errorf("low urgency keys %v (count and open always, nothing else without data)", got)
	}
	if got := keys(checkout.(map[string]any)["failed_deployment_recovery_seconds"]); !slices.Equal(got, []string{"count", "p50", "p90"}) {
		t.Errorf("quantile keys %v", got)
	}
	imp := doc["tune_up_impact"].([]any)[0]
	if got := keys(imp); !slices.Equal(got, []string{"end", "initiative", "kpis", "scope", "start"}) {
		t.Errorf("impact keys %v", got)
	}
	if s := string(raw); strings.Contains(s, "null") {
		t.Errorf("report holds null: %s", s)
	}
	// before [H-960, H-240) has no deployment: frequency 0 (so no relative change)
	// and no failure rate; after [H50, H240) has d3, failed by i7
	ikpis := imp.(map[string]any)["kpis"].(map[string]any)
	if got := keys(ikpis["change_failure_ratio"]); !reflect.DeepEqual(got, []string{"after", "n_after", "n_before"}) {
		t.Errorf("impact cfr = %v", ikpis["change_failure_ratio"])
	}
	if got := keys(ikpis["deployment_frequency_per_day"]); !reflect.DeepEqual(got, []string{"after", "before", "n_after", "n_before"}) {
		t.Errorf("impact frequency = %v", ikpis["deployment_frequency_per_day"])
	}
}
