package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/metrics"
	"github.com/flywheel-metrics/flywheel/metrics/kpi"
	"github.com/flywheel-metrics/flywheel/metrics/report"
	"github.com/flywheel-metrics/flywheel/storage"
)

// testStore opens a real store in t.TempDir holding two counting deployments of
// checkout, on 1 and 3 June 2026.
func testStore(t *testing.T) *storage.Store {
	t.Helper()
	st, err := storage.Open(filepath.Join(t.TempDir(), "flywheel.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ev := flywheel.Events{Deployments: []flywheel.Deployment{
		{ID: "d1", Service: "checkout", Environment: "production", SHA: "aaaaaaa1", Status: "success", FinishedAt: time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)},
		{ID: "d2", Service: "checkout", Environment: "production", SHA: "aaaaaaa2", Status: "success", FinishedAt: time.Date(2026, 6, 3, 10, 0, 0, 0, time.UTC)},
	}}
	if err := st.WriteBatch(context.Background(), flywheel.Batch{Events: ev}); err != nil {
		t.Fatal(err)
	}
	return st
}

// putSnapshot stores a snapshot at at whose 30d "all" group claims n deployments,
// a number the events cannot produce, so a test sees which path answered.
func putSnapshot(t *testing.T, st *storage.Store, at time.Time, n int) {
	t.Helper()
	snap := metrics.Snapshot{At: at, Result: kpi.Result{Report: kpi.Report{At: at, Windows: map[string]kpi.WindowReport{
		"30d": {All: &kpi.KPIs{Deployments: &n}},
	}}}}
	data, err := json.Marshal(snap)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutSnapshot(at, data); err != nil {
		t.Fatal(err)
	}
}

func deployments(t *testing.T, r kpi.Report, window string) int {
	t.Helper()
	w, ok := r.Windows[window]
	if !ok || w.All == nil || w.All.Deployments == nil {
		t.Fatalf("report has no deployments in %s: %+v", window, r.Windows)
	}
	return *w.All.Deployments
}

func TestBuildReportSources(t *testing.T) {
	t.Parallel()
	st := testStore(t)
	stored := time.Date(2026, 6, 10, 0, 0, 0, 0, time.UTC)
	putSnapshot(t, st, stored, 42)
	opts := kpi.DefaultOptions()
	now := func() time.Time { return time.Date(2026, 6, 11, 0, 0, 0, 0, time.UTC) }

	// A stored daily snapshot at exactly the asked time is used as served.
	r, err := buildReport(reportQuery{At: stored, Window: "30d"}, nil, st, opts, now)
	if err != nil {
		t.Fatal(err)
	}
	if got := deployments(t, r, "30d"); got != 42 {
		t.Errorf("at the stored snapshot's time: %d deployments, want the snapshot's 42", got)
	}
	// Any other time is computed from the events, as of that time.
	r, err = buildReport(reportQuery{At: stored.Add(time.Second), Window: "30d"}, nil, st, opts, now)
	if err != nil {
		t.Fatal(err)
	}
	if got := deployments(t, r, "30d"); got != 2 {
		t.Errorf("computed at a time without a snapshot: %d deployments, want 2", got)
	}
	r, err = buildReport(reportQuery{At: time.Date(2026, 6, 2, 0, 0, 0, 0, time.UTC)}, nil, st, opts, now)
	if err != nil {
		t.Fatal(err)
	}
	if got := deployments(t, r, "7d"); got != 1 || len(r.Windows) != 3 {
		t.Errorf("as of 2 June: %d deployments in 7d, %d windows; want 1 and all three windows", got, len(r.Windows))
	}
	// Now with a served snapshot: the snapshot, unless the window is not in it.
	current := &metrics.Snapshot{At: now(), Result: kpi.Result{Report: kpi.Report{At: now(), Windows: map[string]kpi.WindowReport{
		"30d": {All: &kpi.KPIs{Deployments: ptr(7)}},
	}}}}
	r, err = buildReport(reportQuery{Window: "30d"}, current, st, opts, now)
	if err != nil {
		t.Fatal(err)
	}
	if got := deployments(t, r, "30d"); got != 7 {
		t.Errorf("now: %d deployments, want the served snapshot's 7", got)
	}
	r, err = buildReport(reportQuery{Window: "14d"}, current, st, opts, now)
	if err != nil {
		t.Fatal(err)
	}
	if got := deployments(t, r, "14d"); got != 2 || len(r.Windows) != 1 {
		t.Errorf("unconfigured window 14d: %d deployments in %d windows, want 2 in 1", got, len(r.Windows))
	}
	if _, err := buildReport(reportQuery{Window: "fortnight"}, current, st, opts, now); err == nil {
		t.Error("window fortnight accepted")
	}
}

func TestBackfillPointsPreferStoredSnapshots(t *testing.T) {
	t.Parallel()
	st := testStore(t)
	day := func(d int) time.Time { return time.Date(2026, 6, d, 0, 0, 0, 0, time.UTC) }
	putSnapshot(t, st, day(3), 42)
	// A daily snapshot taken mid-day is not at a step's time, so it is not used.
	putSnapshot(t, st, day(4).Add(12*time.Hour), 43)

	in, err := loadInput(st, kpi.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	points, stored, err := backfillPoints(st, in, day(1), day(6), flywheel.Day)
	if err != nil {
		t.Fatal(err)
	}
	if len(points) != 5 || stored != 1 {
		t.Fatalf("%d points, %d from the store; want 5 and 1", len(points), stored)
	}
	want := []int{0, 1, 42, 2, 2}
	for i, p := range points {
		if !p.At.Equal(day(1 + i)) {
			t.Errorf("point %d at %v, want %v", i, p.At, day(1+i))
		}
		got := 0
		if w := p.Result.Report.Windows["30d"]; w.All != nil && w.All.Deployments != nil {
			got = *w.All.Deployments
		}
		if got != want[i] {
			t.Errorf("point %d (%s): %d deployments in 30d, want %d", i, p.At.Format(time.DateOnly), got, want[i])
		}
	}
}

// TestBuildHTMLReport: the HTML report computes its numbers and their lists
// from one scan of the events, never from a stored snapshot (whose numbers
// could then disagree with the lists), and takes a window not configured.
func TestBuildHTMLReport(t *testing.T) {
	t.Parallel()
	st := testStore(t)
	stored := time.Date(2026, 6, 10, 0, 0, 0, 0, time.UTC)
	putSnapshot(t, st, stored, 42)
	opts := kpi.DefaultOptions()
	now := func() time.Time { return stored }

	page, err := buildHTMLReport(reportQuery{At: stored, Window: "30d"}, st, opts, nil, now)
	if err != nil {
		t.Fatal(err)
	}
	if got := deployments(t, page.report, "30d"); got != 2 {
		t.Errorf("at a stored snapshot's time: %d deployments, want the events' 2", got)
	}
	e, err := page.explainer.Explain(kpi.ExplainQuery{KPI: "deployments", Window: "30d", Service: "checkout"})
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Items) != 2 || !e.At.Equal(stored) {
		t.Errorf("explainer lists %d deployments as of %v, want 2 as of %v", len(e.Items), e.At, stored)
	}
	if len(page.history) != htmlHistoryWeeks {
		t.Errorf("%d history points, want %d", len(page.history), htmlHistoryWeeks)
	}
	if page.previous == nil || !page.previous.At.Equal(stored.Add(-30*flywheel.Day)) {
		t.Errorf("previous period: %+v, want the report as of 30 days before", page.previous)
	}
	for _, h := range page.history {
		if _, ok := h.Windows[htmlBucketWindow]; !ok {
			t.Fatalf("history at %v lacks the %s window of the weekly columns", h.At, htmlBucketWindow)
		}
	}

	page, err = buildHTMLReport(reportQuery{Window: "14d"}, st, opts, nil, now)
	if err != nil {
		t.Fatal(err)
	}
	if got := deployments(t, page.report, "14d"); got != 2 || len(page.report.Windows) != 1 {
		t.Errorf("unconfigured window 14d: %d deployments in %d windows, want 2 in 1", got, len(page.report.Windows))
	}
	var b strings.Builder
	if err := report.WriteHTML(&b, page.report, page.history, page.explainer); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`href="#x-svc-checkout-freq"`, `id="x-svc-checkout-freq"`,
		"flywheel explain deployment_frequency_per_day --window 14d --service checkout --at 2026-06-10T00:00:00Z"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("the 14d page lacks %s", want)
		}
	}
	if _, err := buildHTMLReport(reportQuery{Window: "fortnight"}, st, opts, nil, now); err == nil {
		t.Error("window fortnight accepted")
	}
}

// TestBuildReportRefusesWhatIsNotThere: a service without events as of the
// evaluation time and a time after now are errors that say what is valid,
// for the report, its HTML form and explain alike; a served snapshot computed
// before a service's first event does not hide it.
func TestBuildReportRefusesWhatIsNotThere(t *testing.T) {
	t.Parallel()
	st := testStore(t)
	ev := flywheel.Events{Deployments: []flywheel.Deployment{
		{ID: "s1", Service: "search", Environment: "production", SHA: "bbbbbbb1", Status: "success", FinishedAt: time.Date(2026, 6, 5, 10, 0, 0, 0, time.UTC)},
	}}
	if err := st.WriteBatch(context.Background(), flywheel.Batch{Events: ev}); err != nil {
		t.Fatal(err)
	}
	opts := kpi.DefaultOptions()
	now := func() time.Time { return time.Date(2026, 6, 10, 0, 0, 0, 0, time.UTC) }
	june := func(d int) time.Time { return time.Date(2026, 6, d, 0, 0, 0, 0, time.UTC) }

	for _, tc := range []struct {
		name string
		q    reportQuery
		want string
	}{
		{"typo", reportQuery{Service: "chekout"}, `unknown service "chekout"; valid: checkout, search (the services with events before 2026-06-10T00:00:00Z)`},
		{"not yet", reportQuery{Service: "search", At: june(4)}, `unknown service "search"; valid: checkout (the services with events before 2026-06-04T00:00:00Z)`},
		{"nothing yet", reportQuery{Service: "search", At: june(1)}, `unknown service "search"; valid: none`},
		{"all", reportQuery{Service: "all"}, "without a service the report holds all services together"},
		{"future", reportQuery{At: june(11)}, "at 2026-06-11T00:00:00Z is in the future (it is now 2026-06-10T00:00:00Z)"},
	} {
		var bad badQueryError
		_, err := buildReport(tc.q, nil, st, opts, now)
		if !errors.As(err, &bad) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: report error %v, want a bad query containing %q", tc.name, err, tc.want)
		}
		_, err = buildHTMLReport(tc.q, st, opts, nil, now)
		if !errors.As(err, &bad) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: HTML report error %v, want a bad query containing %q", tc.name, err, tc.want)
		}
	}
	if _, err := buildExplanation(explainQuery{KPI: "deployments", At: june(11)}, st, opts, now); err == nil ||
		!strings.Contains(err.Error(), "is in the future") {
		t.Errorf("explain in the future: %v", err)
	}

	// A service known as of the evaluation time, without deployments in a
	// window, is a report of 0 deployments, not an error.
	r, err := buildReport(reportQuery{Service: "checkout", Window: "5d", At: june(10)}, nil, st, opts, now)
	if err != nil {
		t.Fatal(err)
	}
	if k := r.Windows["5d"].Services["checkout"]; k == nil || k.Deployments == nil || *k.Deployments != 0 || len(r.Windows["5d"].Services) != 1 {
		t.Errorf("checkout had no deployment in the 5 days before 10 June: %+v", r.Windows["5d"])
	}
	// The served snapshot was computed before search's first event: the
	// report computes rather than call search unknown.
	current := &metrics.Snapshot{At: now(), Result: kpi.Result{
		Report:  kpi.Report{At: now(), Windows: map[string]kpi.WindowReport{"30d": {All: &kpi.KPIs{Deployments: ptr(2)}}}},
		History: kpi.History{Services: map[string]*kpi.ServiceHistory{"checkout": {}}},
	}}
	r, err = buildReport(reportQuery{Service: "search", Window: "30d"}, current, st, opts, now)
	if err != nil {
		t.Fatal(err)
	}
	if k := r.Windows["30d"].Services["search"]; k == nil || k.Deployments == nil || *k.Deployments != 1 {
		t.Errorf("search as of now: %+v, want its 1 deployment", r.Windows["30d"])
	}
}

// TestHTMLHistorySpan: the charts over time reach an impact window before the
// earliest initiative, at least 12 weeks and at most 104.
func TestHTMLHistorySpan(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	month := 30 * flywheel.Day
	for _, c := range []struct {
		starts []time.Time
		want   int
	}{
		{nil, 12},
		{[]time.Time{at.Add(-2 * 7 * flywheel.Day)}, 12},
		// July 1: 159 days + 30 = 189 days, 27 weeks, and one more for the column ending at its end
		{[]time.Time{time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC), at.Add(-month)}, 28},
		{[]time.Time{at.AddDate(-5, 0, 0)}, 104},
	} {
		var im []kpi.Impact
		for _, s := range c.starts {
			im = append(im, kpi.Impact{Start: s, End: s.Add(flywheel.Day)})
		}
		if got := htmlHistorySpan(at, im, month); got != c.want {
			t.Errorf("starts %v: %d weeks, want %d", c.starts, got, c.want)
		}
	}
}

// TestHTMLReportTeams: `flywheel report --format html` shows the teams of the
// configuration, each with its services' deployments pooled, and no teams
// section without teams.
func TestHTMLReportTeams(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "flywheel.db")
	st, err := storage.Open(path, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	day := func(d int) time.Time { return time.Date(2026, 6, d, 10, 0, 0, 0, time.UTC) }
	var ev flywheel.Events
	for i, svc := range []string{"checkout", "checkout", "payments", "search"} {
		ev.Deployments = append(ev.Deployments, flywheel.Deployment{ID: fmt.Sprintf("d%d", i), Service: svc,
			Environment: "production", SHA: fmt.Sprintf("aaaaaaa%d", i), Status: "success", FinishedAt: day(i + 1)})
	}
	if err := st.WriteBatch(context.Background(), flywheel.Batch{Events: ev}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	page := func(yml string) string {
		cfg := filepath.Join(dir, "flywheel.yml")
		if err := os.WriteFile(cfg, []byte(yml), 0o600); err != nil {
			t.Fatal(err)
		}
		return mustRun(t, "", "--config.file", cfg, "--storage.path", path, "report", "--format", "html", "--at", day(10).Format(time.RFC3339)).stdout
	}
	out := page("services:\n  - {name: checkout, team: shop}\n  - {name: payments, team: shop}\n")
	i := strings.Index(out, `<section id="teams">`)
	if i < 0 {
		t.Fatal("no teams section with teams configured")
	}
	sec := out[i:]
	sec = sec[:strings.Index(sec, "</section>")]
	// three deployments in 30 days: 0.7 a week
	for _, want := range []string{`shop<span class="cnt">checkout, payments</span>`, `0.7/week`, `<span class="cnt">3</span>`, "Services in no team: search."} {
		if !strings.Contains(sec, want) {
			t.Errorf("teams section lacks %q:\n%s", want, sec)
		}
	}
	if out := page("report:\n  min_samples: 5\n"); strings.Contains(out, `id="teams"`) {
		t.Error("a teams section without teams")
	}
}
