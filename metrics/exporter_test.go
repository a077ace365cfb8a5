package metrics

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/internal/promtest"
	"github.com/flywheel-metrics/flywheel/metrics/kpi"
)

var update = flag.Bool("update", false, "rewrite testdata/metrics.golden and docs/metrics.md")

// fixtureAt is the evaluation time of the golden exposition: the fixture's events
// run from March to 11 May 2026.
var fixtureAt = time.Date(2026, 5, 12, 0, 0, 0, 0, time.UTC)

var fixtureTeams = map[string]string{"checkout": "payments", "search": "discovery"} // billing has none

func loadEvents(t testing.TB) flywheel.Events {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ev, err := flywheel.DecodeEvents(f, "import")
	if err != nil {
		t.Fatalf("decode testdata/events.jsonl: %v", err)
	}
	// The neutral format has no unparsed impact start (the GitHub collector
	// keeps one): two checkout incidents and one of search get one, so that the
	// data-quality count has something to show.
	for i := range ev.Incidents {
		switch ev.Incidents[i].ID {
		case "PD-CH8", "PD-CH20", "PD-SE14":
			ev.Incidents[i].ImpactStartUnparsed = "yesterday around 3pm"
		}
	}
	return ev
}

// fixtureInput is testdata/events.jsonl as the KPI engine's input for opts.
func fixtureInput(t testing.TB, opts kpi.Options) *kpi.Input {
	in := kpi.NewInput(opts)
	in.Add(loadEvents(t))
	return in
}

func fixtureOptions() kpi.Options {
	o := kpi.DefaultOptions()
	o.TuneUps = []kpi.Initiative{{Name: "ci-speedup", Label: "tuneup:ci-speedup"}}
	return o
}

func fixtureSnapshot(t testing.TB) *Snapshot {
	t.Helper()
	ev := loadEvents(t)
	return &Snapshot{
		At:     fixtureAt,
		Result: kpi.Compute(ev, fixtureAt, fixtureOptions()),
		Counts: Counts{Deployments: len(ev.Deployments), Changes: len(ev.Changes), Incidents: len(ev.Incidents)},
		// as a Snapshotter records them: the defaults unless configured
		Thresholds: kpi.DefaultThresholds,
	}
}

func fixtureHealth() []flywheel.SourceStatus {
	return []flywheel.SourceStatus{
		{
			Source: "github", LastAttempt: fixtureAt.Add(-10 * time.Minute), LastSuccess: fixtureAt.Add(-10 * time.Minute),
			LastDuration: 2500 * time.Millisecond, Failures: 1, Requests: map[string]int64{"200": 120, "304": 40, "502": 1},
			RateLimitRemaining: 4200, SyncInterval: 15 * time.Minute,
		},
		{
			Source: "pagerduty", LastAttempt: fixtureAt.Add(-2 * time.Minute), LastDuration: 800 * time.Millisecond,
			Failures: 3, LastError: "pagerduty: list incidents: 500 Internal Server Error", Requests: map[string]int64{"500": 3},
			RateLimitRemaining: -1,
		},
	}
}

func fixtureExporter(t testing.TB) prometheus.Collector {
	snap := fixtureSnapshot(t)
	return NewExporter(func() *Snapshot { return snap }, fixtureHealth, constTeams(fixtureTeams), func() time.Time { return fixtureAt.Add(time.Minute) }, Disabled{})
}

// exposition renders c in the Prometheus text format, as /metrics does.
func exposition(t testing.TB, c prometheus.Collector) []byte {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	var buf bytes.Buffer
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&buf, mf); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func TestLint(t *testing.T) {
	t.Parallel()
	problems, err := testutil.CollectAndLint(fixtureExporter(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

// TestGolden compares /metrics for testdata/events.jsonl at fixtureAt with
// testdata/metrics.golden; `go test ./metrics -update` rewrites it (review the diff).
func TestGolden(t *testing.T) {
	t.Parallel()
	got := exposition(t, fixtureExporter(t))
	golden := filepath.Join("testdata", "metrics.golden")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./metrics -update)", err)
	}
	if d := lineDiff(string(want), string(got)); d != "" {
		t.Errorf("/metrics differs from %s (-want +got; refresh with -update):\n%s", golden, d)
	}
}

// lineDiff lists lines only in want (-) or only in got (+), at most 40.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var out []string
	for _, l := range w {
		if !slices.Contains(g, l) {
			out = append(out, "-"+l)
		}
	}
	for _, l := range g {
		if !slices.Contains(w, l) {
			out = append(out, "+"+l)
		}
	}
	if len(out) > 40 {
		out = append(out[:40], "…")
	}
	return strings.Join(out, "\n")
}

// specLabels are the only label names docs/metrics.md documents; any other
// would be a new, undocumented dimension.
var specLabels = []string{"service_name", "team", "deployment_environment", "window", "quantile", "class",
	"urgency", "source", "stage", "initiative", "kpi", "level", "code", "le"}

// TestCardinality fails if a label value comes from a PR, user, sha, title or
// incident id of the input, or a label name is not one of specLabels.
func TestCardinality(t *testing.T) {
	t.Parallel()
	ev := loadEvents(t)
	forbidden := map[string]string{}
	for _, d := range ev.Deployments {
		forbidden[d.ID] = "deployment id"
		forbidden[d.SHA] = "deployment sha"
		for _, c := range d.Commits {
			forbidden[c] = "commit sha"
		}
	}
	for _, c := range ev.Changes {
		forbidden[c.ID] = "change id"
		forbidden[c.Author] = "author"
		forbidden[c.Title] = "PR title"
		forbidden[c.MergeSHA] = "merge sha"
		for _, l := range c.Labels {
			forbidden[l] = "PR label"
		}
	}
	for _, i := range ev.Incidents {
		forbidden[i.ID] = "incident id"
		forbidden[i.Title] = "incident title"
		forbidden[i.CausedBy] = "caused_by"
	}
	delete(forbidden, "")
	if len(forbidden) < 100 {
		t.Fatalf("fixture too small: %d forbidden values", len(forbidden))
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(fixtureExporter(t))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	series := 0
	for _, mf := range mfs {
		for _, m := range mf.Metric {
			series++
			for _, l := range m.Label {
				if !slices.Contains(specLabels, l.GetName()) {
					t.Errorf("%s: label %q is not a documented label", mf.GetName(), l.GetName())
				}
				if what, bad := forbidden[l.GetValue()]; bad {
					t.Errorf("%s: label %s=%q is a %s", mf.GetName(), l.GetName(), l.GetValue(), what)
				}
			}
		}
	}
	if series < 100 {
		t.Errorf("only %d series: the fixture should exercise every family", series)
	}
}

// TestEveryFamilyExposed makes sure the fixture covers the whole table, so the
// golden file, the lint and the cardinality test see every family.
func TestEveryFamilyExposed(t *testing.T) {
	t.Parallel()
	got := string(exposition(t, fixtureExporter(t)))
	for _, def := range families {
		if !strings.Contains(got, "\n"+def.name) && !strings.HasPrefix(got, def.name) {
			t.Errorf("%s: no sample for the fixture", def.name)
		}
	}
}

func TestAbsentNotZero(t *testing.T) {
	t.Parallel()
	one, zero := 1.0, 0.0
	n := 3
	snap := &Snapshot{At: fixtureAt, Result: kpi.Result{Report: kpi.Report{At: fixtureAt, Windows: map[string]kpi.WindowReport{
		"30d": {Services: map[string]*kpi.KPIs{"checkout": {
			Deployments:               &n,
			DeploymentFrequencyPerDay: &zero,
			TuneUpShare:               &one,
			LeadTimeSeconds:           &kpi.Quantiles{}, // count 0: absent
			DORALevel:                 &kpi.DORALevels{DeploymentFrequency: kpi.Low},
		}}},
	}}}}
	got := string(exposition(t, NewExporter(func() *Snapshot { return snap }, nil, nil, nil, Disabled{})))
	for _, want := range []string{
		`flywheel_deployment_frequency_per_day{service_name="checkout",team="unknown",window="30d"} 0`,
		`flywheel_tune_up_share{service_name="checkout",team="unknown",window="30d"} 1`,
		`flywheel_dora_level{kpi="deployment_frequency",level="low",service_name="checkout",team="unknown",window="30d"} 1`,
	} {
		if !strings.Contains(got, want+"\n") {
			t.Errorf("missing %s in\n%s", want, got)
		}
	}
	for _, absent := range []string{"flywheel_lead_time_seconds{", "flywheel_change_failure_ratio{", `level="elite"`, "flywheel_rework_ratio{"} {
		if strings.Contains(got, absent) {
			t.Errorf("%s present without data:\n%s", absent, got)
		}
	}
}

func TestNoSnapshotServesHealthOnly(t *testing.T) {
	t.Parallel()
	got := string(exposition(t, NewExporter(func() *Snapshot { return nil }, fixtureHealth, nil, func() time.Time { return fixtureAt }, Disabled{})))
	if strings.Contains(got, "flywheel_deployments") || strings.Contains(got, "flywheel_snapshot_timestamp_seconds") {
		t.Errorf("KPI metrics without a snapshot:\n%s", got)
	}
	for _, want := range []string{
		`flywheel_source_sync_lag_seconds{source="github"} 600`,
		`flywheel_api_rate_limit_remaining{source="github"} 4200`,
		`flywheel_source_sync_errors_total{source="pagerduty"} 3`,
		`flywheel_api_requests_total{code="500",source="pagerduty"} 3`,
	} {
		if !strings.Contains(got, want+"\n") {
			t.Errorf("missing %s in\n%s", want, got)
		}
	}
	// Unknown budget and a source that never succeeded: absent, not 0 or -1.
	for _, absent := range []string{`flywheel_api_rate_limit_remaining{source="pagerduty"}`, `flywheel_source_sync_lag_seconds{source="pagerduty"}`} {
		if strings.Contains(got, absent) {
			t.Errorf("%s present", absent)
		}
	}
}

// TestPromtoolCheckMetrics runs `promtool check metrics` on the golden exposition.
func TestPromtoolCheckMetrics(t *testing.T) {
	t.Parallel()
	promtool := promtest.NeedTool(t, "promtool")
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(exposition(t, fixtureExporter(t)))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}

func constTeams(m map[string]string) func() map[string]string {
	return func() map[string]string { return m }
}
