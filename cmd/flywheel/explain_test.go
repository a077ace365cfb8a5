package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/metrics/kpi"
	"github.com/flywheel-metrics/flywheel/storage"
)

// explainStorePath writes a store in t.TempDir and closes it, so that the
// command under test can open it: two deployments of checkout, the second
// failed by an incident that names it and shipping one PR.
func explainStorePath(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "flywheel.db")
	st, err := storage.Open(path, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	day := func(d, h int) time.Time { return time.Date(2026, 6, d, h, 0, 0, 0, time.UTC) }
	ev := flywheel.Events{
		Deployments: []flywheel.Deployment{
			{ID: "d1", Service: "checkout", Repo: "acme/checkout", Environment: "production", SHA: "aaaaaaa1", Status: "success", FinishedAt: day(1, 10)},
			{ID: "d2", Service: "checkout", Repo: "acme/checkout", Environment: "production", SHA: "aaaaaaa2", Status: "success", FinishedAt: day(3, 10), Commits: []string{"aaaaaaa2", "bbbbbbb1"}},
		},
		Changes: []flywheel.Change{{ID: "acme/checkout#7", Service: "checkout", Repo: "acme/checkout", Title: "feat: wallet, with \"quotes\"",
			FirstCommitAt: day(2, 8), OpenedAt: day(2, 9), MergedAt: day(2, 12), MergeSHA: "bbbbbbb1"}},
		Incidents: []flywheel.Incident{{ID: "PD-1", Service: "checkout", Urgency: "high", TriggeredAt: day(3, 11), ResolvedAt: day(3, 13), CausedBy: "d2"}},
	}
	if err := st.WriteBatch(context.Background(), flywheel.Batch{Events: ev}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func runExplainMain(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = Main(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestExplainCommand(t *testing.T) {
	t.Parallel()
	db := explainStorePath(t)
	args := func(extra ...string) []string {
		return append([]string{"--storage.path", db, "--log.level", "error", "explain", "change_failure_ratio",
			"--at", "2026-06-10T00:00:00Z", "--window", "30d"}, extra...)
	}

	code, out, errs := runExplainMain(args("--format", "json")...)
	if code != 0 {
		t.Fatalf("json: exit %d: %s", code, errs)
	}
	var doc struct {
		KPI, Window string
		Service     *string
		Value       float64
		Items       []struct {
			ID       string
			Failed   bool
			FailedBy []map[string]string `json:"failed_by"`
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	if doc.KPI != "change_failure_ratio" || doc.Window != "30d" || doc.Service != nil || doc.Value != 0.5 || len(doc.Items) != 2 ||
		doc.Items[1].ID != "d2" || !doc.Items[1].Failed || doc.Items[1].FailedBy[0]["incident"] != "PD-1" {
		t.Errorf("json document: %+v", doc)
	}

	code, out, errs = runExplainMain(args("--format", "csv")...)
	if code != 0 {
		t.Fatalf("csv: exit %d: %s", code, errs)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("csv: %v\n%s", err, out)
	}
	if len(rows) != 3 || strings.Join(rows[0][:3], ",") != "kind,id,service" {
		t.Fatalf("csv: %q", rows)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	if d2 := rows[2]; d2[col["id"]] != "d2" || d2[col["failed"]] != "true" || d2[col["failed_by"]] != "PD-1 (caused_by)" ||
		d2[col["recovery_seconds"]] != "10800" || d2[col["finished_at"]] != "2026-06-03T10:00:00Z" || d2[col["rollback_of"]] != "" {
		t.Errorf("csv row of d2: %q", d2)
	}

	code, out, errs = runExplainMain(args()...)
	if code != 0 {
		t.Fatalf("table: exit %d: %s", code, errs)
	}
	for _, want := range []string{"change_failure_ratio, all services, window 30d [2026-05-11 00:00, 2026-06-10 00:00)",
		"value: 0.5 (50%)", "2 items, 0 left out", "DEPLOYMENT", "PD-1 (caused_by)", "3h"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	// not a terminal: nothing is cut or left out to fit a width
	if strings.Contains(out, "~") || !strings.Contains(out, "acme/checkout") {
		t.Errorf("table written to a buffer is cut:\n%s", out)
	}

	// a PR, its title quoted in CSV as any CSV reader expects
	code, out, _ = runExplainMain("--storage.path", db, "explain", "lead_time_seconds", "--at", "2026-06-10T00:00:00Z", "--format", "csv")
	rows, err = csv.NewReader(strings.NewReader(out)).ReadAll()
	if code != 0 || err != nil || len(rows) != 2 || rows[1][len(rows[1])-1] != `feat: wallet, with "quotes"` {
		t.Errorf("lead time csv: exit %d, %v, %q", code, err, rows)
	}
}

func TestExplainCommandErrors(t *testing.T) {
	t.Parallel()
	db := explainStorePath(t)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown KPI", []string{"lead_time"}, `unknown KPI "lead_time"; valid: deployments, deployment_frequency_per_day,`},
		{"the list goes on to the data-quality counts", []string{"lead_time"}, `non_counting_deployments, impact_start_unparsed; URGENCY is one of: high;`},
		{"unknown window", []string{"deployments", "--window", "fortnight"}, `unknown window "fortnight"; valid: 7d, 30d, 90d`},
		{"unknown service", []string{"deployments", "--service", "search"}, `unknown service "search"; valid: checkout`},
		{"unknown urgency", []string{"incidents.by_urgency.low.count"}, `unknown urgency "low"; valid: high`},
		{"bad time", []string{"deployments", "--at", "soon"}, `--at: "soon" is neither`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runExplainMain(append([]string{"--storage.path", db, "explain"}, tc.args...)...)
			if code != 2 || !strings.Contains(errs, tc.want) || out != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2 and %q", code, out, errs, tc.want)
			}
		})
	}
}

// TestExplainUnconfiguredWindow: a window that report computes without it
// being configured (report --window 14d) can be explained too.
func TestExplainUnconfiguredWindow(t *testing.T) {
	t.Parallel()
	db := explainStorePath(t)
	code, out, errs := runExplainMain("--storage.path", db, "explain", "deployments", "--window", "14d",
		"--at", "2026-06-10T00:00:00Z", "--format", "json")
	if code != 0 || !strings.Contains(out, `"window": "14d"`) {
		t.Errorf("exit %d, stderr %q, stdout %.300q", code, errs, out)
	}
}

// TestExplainEndpoint: GET /api/v1/explain answers what the command prints,
// byte for byte, and a query naming what does not exist is a 400 that lists
// what does.
func TestExplainEndpoint(t *testing.T) {
	t.Parallel()
	db := explainStorePath(t)
	_, cli, _ := runExplainMain("--storage.path", db, "explain", "incidents.by_urgency.high.time_to_resolve_seconds", "--at",
		"2026-06-10T02:00:00+02:00", "--service", "checkout", "--window", "7d", "--format", "json")

	st, err := storage.Open(db, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h := testHandler(t, handlerOptions{explain: func(_ context.Context, q explainQuery) (*kpi.Explanation, error) {
		return buildExplanation(q, st, kpi.DefaultOptions(), time.Now)
	}})
	rec := do(h, "GET", "/api/v1/explain?kpi=incidents.by_urgency.high.time_to_resolve_seconds&at=2026-06-10T02:00:00%2B02:00&window=7d&service=checkout", "", "")
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("status %d %s", rec.Code, rec.Body)
	}
	if body := rec.Body.String(); body != cli || !strings.Contains(body, `"time_to_resolve_seconds":7200`) {
		t.Errorf("the endpoint and the command differ:\n%s\n%s", body, cli)
	}
	for target, want := range map[string]string{
		"/api/v1/explain?kpi=nope":                      `unknown KPI "nope"; valid: deployments,`,
		"/api/v1/explain":                               `missing KPI; valid: deployments,`,
		"/api/v1/explain?kpi=deployments&window=1y":     `unknown window "1y"; valid: 7d, 30d, 90d`,
		"/api/v1/explain?kpi=deployments&service=other": `unknown service "other"; valid: checkout`,
		"/api/v1/explain?kpi=deployments&at=yesterday":  `parameter at: "yesterday"`,
	} {
		if rec := do(h, "GET", target, "", ""); rec.Code != 400 || !strings.Contains(rec.Body.String(), want) {
			t.Errorf("%s: %d %q, want 400 with %q", target, rec.Code, rec.Body, want)
		}
	}
	if rec := do(h, "POST", "/api/v1/explain?kpi=deployments", "", ""); rec.Code != 405 {
		t.Errorf("POST: %d, want 405", rec.Code)
	}
}
