package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/metrics/kpi"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func TestFormatDuration(t *testing.T) {
	t.Parallel()
	cases := map[float64]string{
		0: "0s", 0.4: "0s", 45: "45s", 59.6: "1m", 60: "1m", 750: "12m 30s", 3600: "1h", 7500: "2h 5m",
		86399: "23h 59m", 86400: "1d", 273600: "3d 4h", 30 * 86400: "30d", -90: "-1m 30s",
	}
	for in, want := range cases {
		if got := FormatDuration(in); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", in, got, want)
		}
	}
}

func TestFormatRateAndRatio(t *testing.T) {
	t.Parallel()
	rates := map[float64]string{0: "0/day", 3.4: "3.4/day", 1: "1/day", 0.3: "2.1/week", 1.0 / 7: "1/week", 1.0 / 30: "1/month", 0.01: "0.3/month"}
	for in, want := range rates {
		if got := FormatRate(in); got != want {
			t.Errorf("FormatRate(%v) = %q, want %q", in, got, want)
		}
	}
	ratios := map[float64]string{0: "0%", 0.125: "12.5%", 1: "100%", 1.0 / 3: "33.3%", 0.0004: "0%"}
	for in, want := range ratios {
		if got := FormatRatio(in); got != want {
			t.Errorf("FormatRatio(%v) = %q, want %q", in, got, want)
		}
	}
}

func p[T any](v T) *T { return &v }

// sampleReport has a value of every kind, absent values, several windows and
// services (one with a long name), urgencies and an initiative.
func sampleReport() kpi.Report {
	full := &kpi.KPIs{
		Deployments: p(96), DeploymentFrequencyPerDay: p(3.2), DeploymentDaysRatio: p(0.9),
		LeadTimeSeconds:      &kpi.Quantiles{P50: 7500, P90: 273600, Count: 210},
		LeadTimeStageSeconds: &kpi.Stages{Coding: &kpi.Quantiles{P50: 3600, P90: 86400, Count: 210}, Pickup: &kpi.Quantiles{P50: 1500, P90: 7200, Count: 180}, Review: &kpi.Quantiles{P50: 2700, P90: 9000, Count: 180}, Deploy: &kpi.Quantiles{P50: 900, P90: 3600, Count: 210}},
		FailedDeployments:    p(12), ChangeFailureRatio: p(0.125),
		FailedDeploymentRecoverySeconds: &kpi.Quantiles{P50: 2820, P90: 14400, Count: 11},
		ReworkDeployments:               p(20), ReworkRatio: p(20.0 / 96),
		Incidents: &kpi.Incidents{Count: 14, Open: 1, TimeToDetect: &kpi.Quantiles{P50: 600, P90: 1800, Count: 9},
			TimeToAcknowledge: &kpi.Quantiles{P50: 180, P90: 900, Count: 14}, TimeToResolve: &kpi.Quantiles{P50: 5400, P90: 28800, Count: 13},
			TimeToRestore: &kpi.Quantiles{P50: 6000, P90: 30000, Count: 9},
			ByUrgency: map[string]*kpi.Incidents{
				"high": {Count: 10, Open: 1, TimeToAcknowledge: &kpi.Quantiles{P50: 120, P90: 300, Count: 10}, TimeToResolve: &kpi.Quantiles{P50: 3600, P90: 14400, Count: 9}},
				"low":  {Count: 4, Open: 0, TimeToAcknowledge: &kpi.Quantiles{P50: 900, P90: 1800, Count: 4}, TimeToResolve: &kpi.Quantiles{P50: 14400, P90: 28800, Count: 4}},
			}},
		ChangesByClass: &kpi.ChangesByClass{Innovation: 120, TuneUp: 45, Fix: 30, Unclassified: 15},
		TuneUpShare:    p(45.0 / 195),
		DORALevel:      &kpi.DORALevels{DeploymentFrequency: kpi.Elite, LeadTime: kpi.Elite, ChangeFailureRate: kpi.High, RecoveryTime: kpi.Elite},
	}
	quiet := &kpi.KPIs{Deployments: p(0), DeploymentFrequencyPerDay: p(0.0), DeploymentDaysRatio: p(0.0),
		DORALevel: &kpi.DORALevels{DeploymentFrequency: kpi.Low}}
	pager := &kpi.KPIs{Incidents: &kpi.Incidents{Count: 2, Open: 2, ByUrgency: map[string]*kpi.Incidents{"unknown": {Count: 2, Open: 2}}}}
	return kpi.Report{
		At: time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC),
		Windows: map[string]kpi.WindowReport{
			"30d": {All: full, Services: map[string]*kpi.KPIs{"checkout": full, "quiet": quiet, "pager-only": pager,
				"a-service-with-a-really-long-name-indeed": {Deployments: p(4), DeploymentFrequencyPerDay: p(0.1), DeploymentDaysRatio: p(0.1),
					FailedDeployments: p(1), ChangeFailureRatio: p(0.25), ReworkDeployments: p(0), ReworkRatio: p(0.0),
					DORALevel: &kpi.DORALevels{DeploymentFrequency: kpi.Medium, ChangeFailureRate: kpi.Low}}}},
			"7d": {},
		},
		TuneUpImpact: []kpi.Impact{{
			Initiative: "ci-speedup", Start: time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC), End: time.Date(2026, 3, 20, 17, 0, 0, 0, time.UTC),
			Scope: []string{"checkout", "search", "payments-gateway", "inventory", "notifications", "identity-provider", "recommendations"},
			KPIs: map[string]kpi.ImpactKPI{
				kpi.ImpactLeadTimeP50:         {Before: p(172800.0), After: p(86400.0), RelativeChange: p(-0.5), NBefore: 80, NAfter: 95, PValue: p(0.0031)},
				kpi.ImpactDeploymentFrequency: {Before: p(2.0), After: p(3.0), RelativeChange: p(0.5), NBefore: 60, NAfter: 90},
				kpi.ImpactRecoveryP50:         {Before: p(3600.0), NBefore: 3, NAfter: 0},
			},
		}},
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run go test -update and review the diff):\n%s", name, got)
	}
}

func TestWriteTableGolden(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := WriteTable(&b, sampleReport(), 100); err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(b.String(), "\n") {
		if n := width(line); n > 100 {
			t.Errorf("line %d is %d columns wide: %q", i+1, n, line)
		}
	}
	golden(t, "report.txt", b.Bytes())
}

func TestWriteMarkdownGolden(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := WriteMarkdown(&b, sampleReport()); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.md", b.Bytes())
}

func TestWriteTableEmpty(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := WriteTable(&b, kpi.Report{At: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}, 80); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "No window") {
		t.Errorf("empty report: %q", b.String())
	}
}

// TestRenderComputedReport renders what the engine computes from neutral
// events, so the renderers follow the engine's shapes.
func TestRenderComputedReport(t *testing.T) {
	t.Parallel()
	lines := `{"kind":"deployment","id":"d-1","service":"checkout","repo":"acme/checkout","environment":"production","sha":"aaaaaaa1","finished_at":"2026-06-20T10:00:00Z","status":"success"}
{"kind":"deployment","id":"d-2","service":"checkout","repo":"acme/checkout","environment":"production","sha":"bbbbbbb2","finished_at":"2026-06-21T10:00:00Z","status":"success","commits":["ccccccc3","bbbbbbb2"]}
{"kind":"change","id":"acme/checkout#1","service":"checkout","repo":"acme/checkout","title":"feat: wallet","first_commit_at":"2026-06-19T08:00:00Z","opened_at":"2026-06-19T09:00:00Z","first_review_at":"2026-06-19T11:00:00Z","merged_at":"2026-06-20T09:00:00Z","merge_sha":"ddddddd4"}
{"kind":"change","id":"acme/checkout#2","service":"checkout","repo":"acme/checkout","title":"fix: crash","opened_at":"2026-06-21T08:00:00Z","merged_at":"2026-06-21T09:00:00Z","merge_sha":"ccccccc3"}
{"kind":"incident","id":"PD-1","service":"checkout","urgency":"high","triggered_at":"2026-06-21T12:00:00Z","acknowledged_at":"2026-06-21T12:05:00Z","resolved_at":"2026-06-21T14:05:00Z"}`
	ev, err := flywheel.DecodeEvents(strings.NewReader(lines), "test")
	if err != nil {
		t.Fatal(err)
	}
	r := kpi.Compute(ev, time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC), kpi.DefaultOptions()).Report
	var txt, md bytes.Buffer
	if err := WriteTable(&txt, r, 100); err != nil {
		t.Fatal(err)
	}
	if err := WriteMarkdown(&md, r); err != nil {
		t.Fatal(err)
	}
	// lead time of #1: 08:00 → d-1 at 10:00 next day = 1d 2h; PD-1 resolves in
	// 2h 5m and fails d-2 (rule 2): failure rate 50%, recovery 10:00 → 14:05;
	// 2 deployments in 30 days = 2/month
	for _, want := range []string{"checkout", "1d 2h", "2h 5m", "50%", "4h 5m", "2/month"} {
		if !strings.Contains(txt.String(), want) || !strings.Contains(md.String(), want) {
			t.Errorf("rendered report lacks %q:\n%s", want, txt.String())
		}
	}
}
