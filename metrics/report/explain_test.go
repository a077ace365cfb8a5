package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/metrics/kpi"
)

// negativeDurations explains a count that lists all three kinds of events,
// with long ids and titles.
func negativeDurations(t *testing.T) *kpi.Explanation {
	t.Helper()
	h := func(hours float64) time.Time {
		return time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(hours * float64(time.Hour)))
	}
	ev := flywheel.Events{
		Deployments: []flywheel.Deployment{
			{ID: "acme/checkout-frontend/deployments/123456789", Service: "checkout-frontend", Repo: "acme/checkout-frontend",
				Environment: "production", SHA: "0123456789abcdef0123456789abcdef01234567", Status: "success", FinishedAt: h(10),
				Commits: []string{"feedfacefeedfacefeedfacefeedfacefeedface"}},
		},
		Changes: []flywheel.Change{{ID: "acme/checkout-frontend#4242", Service: "checkout-frontend", Repo: "acme/checkout-frontend",
			Title: "feat(payments): a wallet that remembers every card a customer ever used, and more", Labels: []string{"feature"},
			FirstCommitAt: h(11), OpenedAt: h(8), MergedAt: h(9), MergeSHA: "feedfacefeedfacefeedfacefeedfacefeedface"}},
		Incidents: []flywheel.Incident{{ID: "acme/checkout-frontend/issues/77", Service: "checkout-frontend", Urgency: "sev2",
			TriggeredAt: h(20), AcknowledgedAt: h(19), ResolvedAt: h(22), CausedBy: "https://github.com/acme/checkout-frontend/pull/4242"}},
	}
	e, err := kpi.Explain(ev, h(48), kpi.DefaultOptions(), kpi.ExplainQuery{KPI: "negative_durations"})
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Items) != 2 {
		t.Fatalf("negative durations: %d items, want the PR and the incident", len(e.Items))
	}
	return e
}

func TestWriteExplainTableFits(t *testing.T) {
	t.Parallel()
	e := negativeDurations(t)
	for _, w := range []int{60, 100, 1000} {
		var b strings.Builder
		if err := WriteExplainTable(&b, e, w); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		for _, line := range strings.Split(out, "\n") {
			if width(line) > w {
				t.Errorf("width %d: line of %d: %q", w, width(line), line)
			}
		}
		// the columns that decide a negative duration stay
		for _, want := range []string{"value: 2", "Merged PRs", "LEAD", "-1h", "Incidents", "ACK  ", "-1h  "} {
			if w >= 100 && !strings.Contains(out, want) {
				t.Errorf("width %d: no %q in\n%s", w, want, out)
			}
		}
		if w == 1000 && strings.Contains(out, "~") {
			t.Errorf("a wide terminal shortens cells:\n%s", out)
		}
	}
}

func TestWriteExplainCSVKinds(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	if err := WriteExplainCSV(&b, negativeDurations(t)); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(b.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		if _, dup := col[h]; dup {
			t.Errorf("column %s twice", h)
		}
		col[h] = i
	}
	// the PR's and the incident's fields, each row filling its own
	if len(rows) != 3 || rows[1][0] != "change" || rows[2][0] != "incident" {
		t.Fatalf("rows: %q", rows)
	}
	pr, inc := rows[1], rows[2]
	for name, want := range map[string][2]string{
		"lead_time_seconds":           {"-3600", ""},
		"time_to_acknowledge_seconds": {"", "-3600"},
		"class_rule":                  {"label", ""},
		"counted":                     {"true", "true"},
		"attributed_by":               {"", "caused_by"},
		"stages.coding":               {"0", ""},
	} {
		if got := [2]string{pr[col[name]], inc[col[name]]}; got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	// without items: the fields every kind has
	b.Reset()
	if err := WriteExplainCSV(&b, &kpi.Explanation{}); err != nil || b.String() != "kind,id,service,counted,left_out\n" {
		t.Errorf("empty: %q, %v", b.String(), err)
	}
}

// TestWriteExplainJSON: the document holds what json.Marshal makes of the
// explanation, each item on a line of its own.
func TestWriteExplainJSON(t *testing.T) {
	t.Parallel()
	full := negativeDurations(t)
	for _, e := range []*kpi.Explanation{full, {KPI: "x", Items: []kpi.Item{}}, {KPI: "y", Items: full.Items[:1]}} {
		var got bytes.Buffer
		if err := WriteExplainJSON(&got, e); err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, got.Bytes()); err != nil {
			t.Fatalf("%s: %v\n%s", e.KPI, err, got.String())
		}
		if compact.String() != string(want) {
			t.Errorf("%s:\n%s\nwant\n%s", e.KPI, compact.String(), want)
		}
		lines := strings.Split(got.String(), "\n")
		for _, it := range e.Items {
			b, _ := json.Marshal(it)
			if !slices.ContainsFunc(lines, func(l string) bool { return strings.TrimSuffix(strings.TrimSpace(l), ",") == string(b) }) {
				t.Errorf("%s: no line of its own for %s", e.KPI, b)
			}
		}
		if !strings.HasPrefix(got.String(), "{\n  \"kpi\": ") || !strings.HasSuffix(got.String(), "}\n") {
			t.Errorf("%s: not indented as the report is:\n%s", e.KPI, got.String())
		}
	}
}

// TestWriteExplainTableGroupLevel: the table of the all-services
// deployment-frequency level says it is its services' level and lists them.
func TestWriteExplainTableGroupLevel(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
	var ev flywheel.Events
	for i, n := range []int{40, 5, 5} { // one daily service, two weekly ones
		for j := range n {
			ev.Deployments = append(ev.Deployments, flywheel.Deployment{ID: fmt.Sprintf("d%d-%d", i, j), Service: fmt.Sprintf("svc-%d", i),
				Environment: "production", SHA: fmt.Sprintf("s%d", j), Status: "success", FinishedAt: at.Add(-time.Duration(j*17+1) * time.Hour)})
		}
	}
	e, err := kpi.Explain(ev, at, kpi.DefaultOptions(), kpi.ExplainQuery{KPI: "dora_level.deployment_frequency", Window: "30d"})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := WriteExplainTable(&b, e, 200); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"value: high", "at least half of its 3 services", "svc-0 1.333/day elite", "svc-1 0.1667/day high", "svc-2 0.1667/day"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("no %q in\n%s", want, b.String())
		}
	}
}
