package metrics

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel/internal/promtest"
	"github.com/flywheel-metrics/flywheel/metrics/kpi"
)

func TestWriteOpenMetricsShape(t *testing.T) {
	t.Parallel()
	points, err := ComputeSnapshots(fixtureInput(t, fixtureOptions()), fixtureAt.Add(-3*24*time.Hour), fixtureAt, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if len(points) != 3 {
		t.Fatalf("%d points, want 3", len(points))
	}
	// Out of order and duplicated input: sorted by time, the last duplicate wins.
	in := []Snapshot{points[2], points[0], points[1], points[0]}
	var buf bytes.Buffer
	if err := WriteOpenMetrics(&buf, in, fixtureTeams, Disabled{}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.HasSuffix(out, "# EOF\n") {
		t.Error("no # EOF at the end")
	}
	for _, def := range families {
		if def.health && strings.Contains(out, def.name) {
			t.Errorf("health metric %s backfilled", def.name)
		}
	}
	// Every family appears in one block: its TYPE line once, and the samples of
	// each series in increasing time.
	types := map[string]int{}
	last := map[string]float64{}
	for _, line := range strings.Split(out, "\n") {
		if name, ok := strings.CutPrefix(line, "# TYPE "); ok {
			types[strings.Fields(name)[0]]++
			continue
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		ts, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("no timestamp on %q", line)
		}
		series := line[:strings.LastIndexByte(line[:i], ' ')]
		if prev, ok := last[series]; ok && ts <= prev {
			t.Errorf("%s: timestamp %v after %v", series, ts, prev)
		}
		last[series] = ts
	}
	for name, n := range types {
		if n != 1 {
			t.Errorf("family %s has %d TYPE lines", name, n)
		}
	}
	// The last sample of a series is the last point's value at its time.
	series := `flywheel_deployments{service_name="checkout",team="payments"}`
	var value, ts float64
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			if _, err := fmt.Sscan(rest, &value, &ts); err != nil {
				t.Fatalf("%q: %v", line, err)
			}
		}
	}
	if want := float64(points[2].Result.History.Services["checkout"].Deployments); value != want || ts != float64(points[2].At.Unix()) {
		t.Errorf("%s last sample %v @%v, want %v @%v", series, value, ts, want, points[2].At.Unix())
	}
}

func TestComputeSnapshotsErrors(t *testing.T) {
	t.Parallel()
	if _, err := ComputeSnapshots(fixtureInput(t, kpi.DefaultOptions()), fixtureAt, fixtureAt, time.Hour); err == nil {
		t.Error("from == to accepted")
	}
	if _, err := ComputeSnapshots(fixtureInput(t, kpi.DefaultOptions()), fixtureAt, fixtureAt.Add(time.Hour), 0); err == nil {
		t.Error("zero step accepted")
	}
}

// TestBackfillIntoPrometheus feeds WriteOpenMetrics to `promtool tsdb
// create-blocks-from openmetrics`, starts the real Prometheus on the blocks and
// checks that past values read back through its HTTP API equal the snapshot
// computed for that time.
func TestBackfillIntoPrometheus(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Prometheus")
	}
	t.Parallel()
	promtool := promtest.NeedTool(t, "promtool")

	from := time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC)
	points, err := ComputeSnapshots(fixtureInput(t, fixtureOptions()), from, fixtureAt, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	input := filepath.Join(dir, "backfill.om")
	var buf bytes.Buffer
	if err := WriteOpenMetrics(&buf, points, fixtureTeams, Disabled{}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(input, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	if out, err := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics", input, data).CombinedOutput(); err != nil {
		t.Fatalf("promtool tsdb create-blocks-from openmetrics: %v\n%s", err, out)
	}
	api := promtest.Start(t, "global: {}\n", data, "--storage.tsdb.retention.time=100y")

	// Points in the middle of the range, one per query kind.
	p := points[len(points)/2]
	q := points[len(points)-5]
	checkout30 := p.Result.Report.Windows["30d"].Services["checkout"]
	all30 := q.Result.Report.Windows["30d"].All
	for _, c := range []struct {
		query string
		at    time.Time
		want  float64
	}{
		{`flywheel_deployment_frequency_per_day{service_name="checkout",window="30d"}`, p.At, *checkout30.DeploymentFrequencyPerDay},
		{`flywheel_deployments{service_name="search"}`, p.At, float64(p.Result.History.Services["search"].Deployments)},
		{`flywheel_lead_time_seconds{service_name="all",window="30d",quantile="0.9"}`, q.At, all30.LeadTimeSeconds.P90},
		{`flywheel_change_failure_ratio{service_name="all",window="30d"}`, q.At, *all30.ChangeFailureRatio},
	} {
		res, err := api.Query(c.query, c.at)
		if err != nil {
			t.Errorf("%s at %s: %v", c.query, c.at.Format(time.RFC3339), err)
			continue
		}
		got := res.Values
		if len(got) != 1 {
			t.Errorf("%s at %s: %d series, want 1", c.query, c.at.Format(time.RFC3339), len(got))
			continue
		}
		if got[0] != c.want {
			t.Errorf("%s at %s = %v, want %v (the snapshot's value)", c.query, c.at.Format(time.RFC3339), got[0], c.want)
		}
	}
}
