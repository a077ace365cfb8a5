package e2e

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/flywheel-metrics/flywheel/collector/pagerduty/pagerdutytest"
	"github.com/flywheel-metrics/flywheel/internal/promtest"
)

// TestPrometheusEndToEnd is the end-to-end test with Prometheus: import an events file,
// `flywheel serve` it, let a real Prometheus scrape it every second with the rules
// of deploy/prometheus loaded, then evaluate every PromQL expression shipped in
// deploy/ (rules and Grafana dashboards) through Prometheus's HTTP API.
func TestPrometheusEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts flywheel and Prometheus")
	}
	t.Parallel()
	promtest.NeedTool(t, "prometheus")
	dir := t.TempDir()

	// The fixture's events end on 2026-05-11; serve reports as of now, so shift
	// every time to end a few hours ago and the windows hold data.
	events := filepath.Join(dir, "events.jsonl")
	shiftEvents(t, filepath.Join("testdata", "prometheus", "events.jsonl"), events, time.Now().Add(-4*time.Hour))
	store := filepath.Join(dir, "flywheel.db")

	// A simulated PagerDuty (no incidents) so the collector-health metrics have data.
	pd := pagerdutytest.NewServer(&pagerdutytest.Account{
		Services: []pagerdutytest.Service{{ID: "PE2E001", Name: "Checkout", CreatedAt: time.Now().Add(-400 * 24 * time.Hour)}},
	}, pagerdutytest.Options{Token: "e2e-token"})
	defer pd.Close()
	tmpl, err := os.ReadFile(filepath.Join("testdata", "prometheus", "flywheel.yml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "flywheel.yml")
	if err := os.WriteFile(cfg, []byte(strings.ReplaceAll(string(tmpl), "PAGERDUTY_URL", pd.URL)), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"FLYWHEEL_E2E_PAGERDUTY_TOKEN=e2e-token"}

	if r := runFlywheel(t, env, "import", events, "--storage.path", store, "--config.file", cfg); r.Code != 0 {
		t.Fatalf("flywheel import exited %d: %s", r.Code, r.Stderr)
	}
	addr := freePort(t)
	startFlywheel(t, env, "serve", "--storage.path", store, "--config.file", cfg, "--web.listen-address", addr)
	waitForURL(t, nil, "http://"+addr+"/-/ready", http.StatusOK, 60*time.Second)

	rules, err := filepath.Abs(filepath.Join("..", "deploy", "prometheus", "rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	prom := promtest.Start(t, fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [%q]
scrape_configs:
  - job_name: flywheel
    static_configs:
      - targets: [%q]
`, rules, addr), filepath.Join(dir, "prometheus-data"))

	// Wait for a few scrapes (rate and increase need two samples) and for the
	// recording rules to have run.
	waitFor(t, prom, `count_over_time(flywheel_snapshot_timestamp_seconds[1m]) >= 3`, 90*time.Second)
	waitFor(t, prom, `flywheel:dora_level:score`, 30*time.Second)
	waitFor(t, prom, `flywheel_source_last_success_timestamp_seconds{source="pagerduty"}`, 60*time.Second)

	exprs := shippedExpressions(t)
	if len(exprs) < 20 {
		t.Fatalf("only %d expressions found under deploy/", len(exprs))
	}
	empty := 0
	for _, e := range exprs {
		t.Run(e.where, func(t *testing.T) {
			q, err := substituteGrafanaVars(e.expr, liveVars)
			if err != nil {
				t.Fatal(err)
			}
			res, err := prom.Query(q, time.Time{})
			if err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			n := res.Series
			if _, err := prom.QueryRange(q, time.Now().Add(-30*time.Second), time.Now(), time.Second); err != nil {
				t.Fatalf("%s (range): %v", q, err)
			}
			if n == 0 {
				reason := e.mayBeEmpty
				if reason == "" {
					t.Fatalf("%s returned no data", q)
				}
				empty++
				t.Logf("%s: empty (%s)", q, reason)
			}
		})
	}
	t.Logf("%d expressions evaluated, %d allowed to be empty were empty", len(exprs), empty)
}

var rfc3339InJSON = regexp.MustCompile(`"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d))"`)

// shiftEvents copies an events file, moving every time by the same amount so the
// latest one is at end.
func shiftEvents(t *testing.T, from, to string, end time.Time) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	var latest time.Time
	for _, m := range rfc3339InJSON.FindAllSubmatch(data, -1) {
		ts, err := time.Parse(time.RFC3339, string(m[1]))
		if err != nil {
			t.Fatal(err)
		}
		if ts.After(latest) {
			latest = ts
		}
	}
	shift := end.Sub(latest).Truncate(time.Second)
	out := rfc3339InJSON.ReplaceAllFunc(data, func(b []byte) []byte {
		ts, _ := time.Parse(time.RFC3339, string(b[1:len(b)-1]))
		return []byte(`"` + ts.Add(shift).UTC().Format(time.RFC3339) + `"`)
	})
	if err := os.WriteFile(to, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// shipped is one PromQL expression found in deploy/.
type shipped struct {
	where string // file and position, the subtest name
	expr  string
	// mayBeEmpty says why the expression may return no data here; empty: it must.
	mayBeEmpty string
}

// githubOnly matches expressions over the GitHub source's health alone: this test
// runs only a (simulated) PagerDuty source.
var githubOnly = regexp.MustCompile(`source="github"`)

// ratioChange matches the relative change of the tune-up impact's rates.
var ratioChange = regexp.MustCompile(`flywheel_tune_up_impact_relative_change\{[^}]*_ratio`)

// firingOnFixture are the alerts whose condition holds on the fixture (a 30-day
// change failure ratio above 15%, a high-urgency incident open): their
// expressions must return data.
var firingOnFixture = map[string]bool{"FlywheelChangeFailureRatioHigh": true, "FlywheelHighUrgencyIncidentOpen": true}

func mayBeEmpty(expr, alert string) string {
	if alert != "" && !firingOnFixture[alert] {
		return "an alert's condition: empty while it does not fire"
	}
	if githubOnly.MatchString(expr) {
		return "GitHub health: no GitHub source in this test"
	}
	if ratioChange.MatchString(expr) {
		return "a relative change from a rate of 0 is undefined, and the fixture's initiative had no failures before"
	}
	return ""
}

// shippedExpressions reads every rule `expr` of deploy/prometheus/*.yml (not the
// promtool tests) and every `expr` of the Grafana dashboards under deploy/.
func shippedExpressions(t *testing.T) []shipped {
	t.Helper()
	var out []shipped
	ruleFiles, _ := filepath.Glob(filepath.Join("..", "deploy", "prometheus", "*.yml"))
	for _, f := range ruleFiles {
		if strings.HasSuffix(f, "_test.yml") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var rf struct {
			Groups []struct {
				Name  string `yaml:"name"`
				Rules []struct {
					Record string `yaml:"record"`
					Alert  string `yaml:"alert"`
					Expr   string `yaml:"expr"`
				} `yaml:"rules"`
			} `yaml:"groups"`
		}
		if err := yaml.Unmarshal(data, &rf); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, g := range rf.Groups {
			for _, r := range g.Rules {
				name := r.Record + r.Alert
				out = append(out, shipped{
					where:      filepath.Base(f) + "/" + name,
					expr:       r.Expr,
					mayBeEmpty: mayBeEmpty(r.Expr, r.Alert),
				})
			}
		}
	}
	err := filepath.WalkDir(filepath.Join("..", "deploy"), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var doc any
		if err := json.Unmarshal(data, &doc); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		var exprs []string
		collectExprs(doc, &exprs)
		for i, e := range exprs {
			out = append(out, shipped{
				where:      fmt.Sprintf("%s/expr%02d", filepath.Base(path), i),
				expr:       e,
				mayBeEmpty: mayBeEmpty(e, ""),
			})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func collectExprs(v any, out *[]string) {
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if s, ok := v[k].(string); ok && k == "expr" && strings.TrimSpace(s) != "" {
				*out = append(*out, s)
				continue
			}
			collectExprs(v[k], out)
		}
	case []any:
		for _, e := range v {
			collectExprs(e, out)
		}
	}
}

// liveVars are the dashboard variables and the values TestPrometheusEndToEnd
// gives them: the job it scrapes Flywheel as, a real service and team of the
// fixture, the 30d window, and Grafana's interval variables.
var liveVars = map[string]string{
	"job":             "flywheel",
	"service_name":    "checkout",
	"service":         "checkout",
	"team":            ".*",
	"window":          "30d",
	"__rate_interval": "5m",
	"__interval":      "1m",
	"__range":         "1h",
}

var grafanaVar = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(?::[a-z]+)?\}|\[\[([A-Za-z_][A-Za-z0-9_]*)\]\]|\$([A-Za-z_][A-Za-z0-9_]*)`)

func substituteGrafanaVars(expr string, vars map[string]string) (string, error) {
	var unknown []string
	out := grafanaVar.ReplaceAllStringFunc(expr, func(m string) string {
		sub := grafanaVar.FindStringSubmatch(m)
		name := sub[1] + sub[2] + sub[3]
		v, ok := vars[name]
		if !ok {
			unknown = append(unknown, m)
			return m
		}
		return v
	})
	if len(unknown) > 0 {
		return "", fmt.Errorf("unknown Grafana variables %v in %s", unknown, expr)
	}
	return out, nil
}

// waitFor polls until expr returns data.
func waitFor(t *testing.T, p *promtest.Server, expr string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		res, err := p.Query(expr, time.Time{})
		if err == nil && res.Series > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus: no data for %s within %v (last error %v)", expr, timeout, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// TestBackfillIntoPrometheus checks backfill end to end: `flywheel backfill`
// output goes through `promtool tsdb create-blocks-from openmetrics` into a real
// Prometheus, and a past value read back equals `flywheel report --at` for that time.
func TestBackfillIntoPrometheus(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Prometheus")
	}
	t.Parallel()
	promtest.NeedTool(t, "prometheus")
	promtool := promtest.NeedTool(t, "promtool")
	dir := t.TempDir()
	store := filepath.Join(dir, "flywheel.db")
	if r := runFlywheel(t, nil, "import", filepath.Join("testdata", "prometheus", "events.jsonl"), "--storage.path", store); r.Code != 0 {
		t.Fatalf("flywheel import exited %d: %s", r.Code, r.Stderr)
	}
	om := filepath.Join(dir, "backfill.om")
	// From the first stored event, as backfill does without --from.
	if r := runFlywheel(t, nil, "backfill", "--storage.path", store, "--to", "2026-05-12", "--step", "1d", "--output", om); r.Code != 0 {
		t.Fatalf("flywheel backfill exited %d: %s", r.Code, r.Stderr)
	}
	// The promtool command the README and backfill recommend: blocks of up to
	// 486 hours (promtool's largest range within 744h), not one per daily point.
	data := filepath.Join(dir, "tsdb")
	if out, err := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=744h", om, data).CombinedOutput(); err != nil {
		t.Fatalf("promtool tsdb create-blocks-from openmetrics: %v\n%s", err, out)
	}
	first, last := sampleTimes(t, readFile(t, om))
	days := int((last-first)/86400) + 1
	blocks, err := os.ReadDir(data)
	if err != nil {
		t.Fatal(err)
	}
	if maxBlocks := days*24/486 + 2; len(blocks) == 0 || len(blocks) > maxBlocks || days < 30 {
		t.Errorf("%d daily points became %d blocks, want at most %d", days, len(blocks), maxBlocks)
	}
	prom := promtest.Start(t, "global: {}\n", data, "--storage.tsdb.retention.time=100y")

	at := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	r := runFlywheel(t, nil, "report", "--storage.path", store, "--at", at.Format(time.RFC3339), "--window", "30d", "--format", "json")
	if r.Code != 0 {
		t.Fatalf("flywheel report exited %d: %s", r.Code, r.Stderr)
	}
	type quantiles struct{ P50, P90 float64 }
	type kpis struct {
		DeploymentFrequencyPerDay *float64   `json:"deployment_frequency_per_day"`
		ChangeFailureRatio        *float64   `json:"change_failure_ratio"`
		LeadTimeSeconds           *quantiles `json:"lead_time_seconds"`
	}
	var report struct {
		Windows map[string]struct {
			All      *kpis            `json:"all"`
			Services map[string]*kpis `json:"services"`
		} `json:"windows"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &report); err != nil {
		t.Fatalf("report JSON: %v\n%s", err, r.Stdout)
	}
	w := report.Windows["30d"]
	if w.All == nil || w.Services["checkout"] == nil || w.All.LeadTimeSeconds == nil || w.All.ChangeFailureRatio == nil || w.Services["checkout"].DeploymentFrequencyPerDay == nil {
		t.Fatalf("report at %s lacks the compared values:\n%s", at.Format(time.RFC3339), r.Stdout)
	}
	for _, c := range []struct {
		query string
		want  float64
	}{
		{`flywheel_deployment_frequency_per_day{service_name="checkout",window="30d"}`, *w.Services["checkout"].DeploymentFrequencyPerDay},
		{`flywheel_lead_time_seconds{service_name="all",window="30d",quantile="0.5"}`, w.All.LeadTimeSeconds.P50},
		{`flywheel_change_failure_ratio{service_name="all",window="30d"}`, *w.All.ChangeFailureRatio},
	} {
		res, err := prom.Query(c.query, at)
		if err != nil {
			t.Errorf("%s at %s: %v", c.query, at.Format(time.RFC3339), err)
			continue
		}
		got := res.Values
		if len(got) != 1 || got[0] != c.want {
			t.Errorf("%s at %s = %v, want [%v] (flywheel report --at)", c.query, at.Format(time.RFC3339), got, c.want)
		}
	}
}

// TestDemoExposition checks /metrics of `flywheel demo` (the generated
// organisation, collected by the real collectors): `promtool check metrics`
// accepts it and it stays under a budget of 2,000 flywheel series
// (docs/benchmarks.md).
func TestDemoExposition(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo")
	}
	t.Parallel()
	promtool := promtest.NeedTool(t, "promtool")
	addr := freePort(t)
	base := "http://" + addr
	startFlywheel(t, nil, "demo", "--web.listen-address", addr, "--storage.path", filepath.Join(t.TempDir(), "demo.db"))
	waitForURL(t, nil, base+"/-/ready", http.StatusOK, 90*time.Second)

	// Wait until the served snapshot was computed after both sources' first sync.
	var body string
	deadline := time.Now().Add(90 * time.Second)
	for {
		_, body = get(t, nil, base+"/metrics")
		snap, ok1 := demoSample(body, "flywheel_snapshot_timestamp_seconds")
		gh, ok2 := demoSample(body, `flywheel_source_last_success_timestamp_seconds{source="github"}`)
		pd, ok3 := demoSample(body, `flywheel_source_last_success_timestamp_seconds{source="pagerduty"}`)
		if ok1 && ok2 && ok3 && snap >= gh && snap >= pd {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no snapshot after both sources' syncs within 90s")
		}
		time.Sleep(200 * time.Millisecond)
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics on the demo's /metrics: %v\n%s", err, out)
	}
	series := 0
	for line := range strings.SplitSeq(body, "\n") {
		if strings.HasPrefix(line, "flywheel_") {
			series++
		}
	}
	t.Logf("demo organisation: %d flywheel series", series)
	if series > 2000 {
		t.Errorf("demo organisation has %d flywheel series, over the budget of 2000", series)
	}
}

// demoSample returns the value of an exposition line that starts with series.
func demoSample(body, series string) (float64, bool) {
	for line := range strings.SplitSeq(body, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(strings.Fields(rest)[0], 64)
			return f, err == nil
		}
	}
	return 0, false
}

// TestPrometheusDashboardsOnDemoHistory loads the demo organisation's backfilled year
// into a real Prometheus, as the compose file does, and evaluates every panel's
// queries the way Grafana does on the dashboards' default 90 days (range
// queries at a 2h step, instant queries at the last point), for the
// all-services default and for one service. Every panel must show data, except
// those that only read the collector's own health, which backfill does not
// write (TestPrometheusEndToEnd checks them on a live scrape).
func TestPrometheusDashboardsOnDemoHistory(t *testing.T) {
	if testing.Short() {
		t.Skip("backfills the demo into Prometheus")
	}
	t.Parallel()
	promtest.NeedTool(t, "prometheus")
	promtool := promtest.NeedTool(t, "promtool")
	dir := t.TempDir()
	om := filepath.Join(dir, "backfill.om")
	if r := runFlywheel(t, nil, "backfill", "--demo", "--seed", "1", "--step", "1d", "--output", om); r.Code != 0 {
		t.Fatalf("flywheel backfill --demo exited %d: %s", r.Code, r.Stderr)
	}
	data := filepath.Join(dir, "tsdb")
	if out, err := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=744h", om, data).CombinedOutput(); err != nil {
		t.Fatalf("promtool tsdb create-blocks-from openmetrics: %v\n%s", err, out)
	}
	text := readFile(t, om)
	_, last := sampleTimes(t, text)
	backfilled := map[string]bool{}
	for line := range strings.SplitSeq(text, "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			backfilled[line[:strings.IndexAny(line, "{ ")]] = true
		}
	}
	prom := promtest.Start(t, "global: {}\n", data, "--storage.tsdb.retention.time=100y")

	end := time.Unix(int64(last), 0).UTC()
	const step = 2 * time.Hour
	start := end.Add(-90 * 24 * time.Hour).Truncate(step)
	// No Flywheel is scraped, so the job variable has no value: the matcher
	// selects the backfilled series, which have no job label.
	base := map[string]string{"job": "", "window": "30d", "__rate_interval": "2h", "__interval": "2h", "__range": "90d"}
	files, err := filepath.Glob(filepath.Join("..", "deploy", "grafana", "dashboards", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards: %v", err)
	}
	checked := 0
	for _, scope := range []map[string]string{
		{"service_name": "all", "team": ".*"},
		{"service_name": "checkout", "team": "payments"},
	} {
		vars := maps.Clone(base)
		maps.Copy(vars, scope)
		for _, f := range files {
			for _, p := range dashboardPanels(t, f) {
				where := fmt.Sprintf("%s %q (service %s)", filepath.Base(f), p.Title, vars["service_name"])
				// A panel's minimum interval is Grafana's step and $__interval there.
				pvars, pstep := vars, step
				if p.Interval != "" {
					d, err := grafanaDuration(p.Interval)
					if err != nil {
						t.Fatalf("%s: %v", where, err)
					}
					pvars = maps.Clone(vars)
					pvars["__interval"], pstep = p.Interval, max(d, step)
				}
				onlyHealth := true
				hasData := false
				for _, tg := range p.Targets {
					for _, m := range regexp.MustCompile(`\bflywheel_[a-z_]+`).FindAllString(tg.Expr, -1) {
						onlyHealth = onlyHealth && !backfilled[m]
					}
					q, err := substituteGrafanaVars(tg.Expr, pvars)
					if err != nil {
						t.Fatal(err)
					}
					// (q) == (q) drops NaN values: a quantile of nothing is no data.
					nonNaN := "(" + q + ") == (" + q + ")"
					var res promtest.Result
					if tg.Instant {
						res, err = prom.Query(nonNaN, end)
					} else {
						res, err = prom.QueryRange(nonNaN, start, end, pstep)
					}
					if err != nil {
						t.Errorf("%s: %s: %v", where, q, err)
						continue
					}
					hasData = hasData || res.Series > 0
				}
				checked++
				switch {
				case hasData:
				case onlyHealth && filepath.Base(f) == "collector-health.json":
					t.Logf("%s: empty (the collector's health is not backfilled)", where)
				default:
					t.Errorf("%s shows no data on the demo's backfilled history", where)
				}
			}
		}
	}
	if checked < 80 {
		t.Errorf("only %d panels checked", checked)
	}
}

// grafanaDuration reads a panel interval such as 1h, 1d or 1w.
func grafanaDuration(s string) (time.Duration, error) {
	unit := map[byte]time.Duration{'m': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour}[s[len(s)-1]]
	n, err := strconv.Atoi(s[:len(s)-1])
	if err != nil || unit == 0 {
		return 0, fmt.Errorf("interval %q is not a number of minutes, hours, days or weeks", s)
	}
	return time.Duration(n) * unit, nil
}

// dashboardPanel is what TestPrometheusDashboardsOnDemoHistory reads of a panel.
type dashboardPanel struct {
	Type     string           `json:"type"`
	Title    string           `json:"title"`
	Interval string           `json:"interval"`
	Panels   []dashboardPanel `json:"panels"`
	Targets  []struct {
		Expr    string `json:"expr"`
		Instant bool   `json:"instant"`
	} `json:"targets"`
}

// dashboardPanels returns the panels (not rows) of a dashboard file.
func dashboardPanels(t *testing.T, file string) []dashboardPanel {
	t.Helper()
	var d struct {
		Panels []dashboardPanel `json:"panels"`
	}
	if err := json.Unmarshal([]byte(readFile(t, file)), &d); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	var out []dashboardPanel
	var walk func([]dashboardPanel)
	walk = func(ps []dashboardPanel) {
		for _, p := range ps {
			if p.Type != "row" {
				out = append(out, p)
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return out
}
