package metrics

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/flywheel-metrics/flywheel/internal/promtest"
)

const rulesDir = "../deploy/prometheus"

// TestPrometheusRules runs `promtool check rules` and `promtool test rules` on
// deploy/prometheus (every alert firing and not firing).
func TestPrometheusRules(t *testing.T) {
	t.Parallel()
	promtool := promtest.NeedTool(t, "promtool")
	for _, args := range [][]string{
		{"check", "rules", "rules.yml"},
		{"test", "rules", "rules_test.yml"},
	} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = rulesDir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %v: %v\n%s", args, err, out)
		}
	}
}

// TestRulesUseExposedMetrics fails when a rule names a metric the exporter does
// not expose, so a rename cannot silently break an alert.
func TestRulesUseExposedMetrics(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join(rulesDir, "rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	known := exposedNames()
	names := regexp.MustCompile(`\bflywheel_[a-z_]+`).FindAllString(string(data), -1)
	if len(names) < 6 {
		t.Fatalf("only %d metric names in rules.yml", len(names))
	}
	for _, n := range names {
		if !known[n] {
			t.Errorf("rules.yml uses %s, which the exporter does not expose", n)
		}
	}
}

// exposedNames are the sample names of every family (with a histogram's and a
// summary's suffixed series).
func exposedNames() map[string]bool {
	known := map[string]bool{}
	for _, def := range families {
		known[def.name] = true
		switch def.kind {
		case kindHistogram:
			known[def.name+"_bucket"], known[def.name+"_sum"], known[def.name+"_count"] = true, true, true
		case kindSummary:
			known[def.name+"_sum"], known[def.name+"_count"] = true, true
		}
	}
	return known
}

// TestDashboardsUseExposedMetrics fails when a Grafana dashboard under deploy/
// names a metric the exporter does not expose (or a recording rule not in
// rules.yml).
func TestDashboardsUseExposedMetrics(t *testing.T) {
	t.Parallel()
	known := exposedNames()
	rules, err := os.ReadFile(filepath.Join(rulesDir, "rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`record: (\S+)`).FindAllStringSubmatch(string(rules), -1) {
		known[m[1]] = true
	}
	files, err := filepath.Glob(filepath.Join("..", "deploy", "grafana", "dashboards", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Skip("no dashboards under deploy/grafana/dashboards yet")
	}
	name := regexp.MustCompile(`\bflywheel[_:][a-z_:]+`)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range name.FindAllString(string(data), -1) {
			// the variable that holds Flywheel's address for the explain links
			if n == "flywheel_url" {
				continue
			}
			if !known[n] {
				t.Errorf("%s uses %s, which the exporter does not expose", filepath.Base(f), n)
			}
		}
	}
}

// ruleFile is the part of a Prometheus rule file these tests read.
type ruleFile struct {
	Groups []struct {
		Rules []struct {
			Record      string            `yaml:"record"`
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

func readRules(t *testing.T) ruleFile {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(rulesDir, "rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var rf ruleFile
	if err := yaml.Unmarshal(data, &rf); err != nil {
		t.Fatalf("rules.yml: %v", err)
	}
	return rf
}

// runbookBase is where every alert's runbook_url points: docs/runbook.md as
// GitHub renders it, one section per alert.
const runbookBase = "https://github.com/flywheel-metrics/flywheel/blob/main/docs/runbook.md#"

// TestAlertsPageOnlyForFlywheelHealth: every alert has a known severity and a
// runbook_url to a section of docs/runbook.md, and only alerts over Flywheel's
// own health (a scrape's up, collector-health families) may page: a KPI is a
// ticket, never a page.
func TestAlertsPageOnlyForFlywheelHealth(t *testing.T) {
	t.Parallel()
	runbook, err := os.ReadFile("../docs/runbook.md")
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^#{2,3} (.+)$`).FindAllStringSubmatch(string(runbook), -1) {
		anchors[githubAnchor(m[1])] = true
	}
	health := map[string]bool{}
	for _, def := range families {
		health[def.name] = def.health
	}
	alerts := 0
	for _, g := range readRules(t).Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			alerts++
			sev := r.Labels["severity"]
			if sev != "critical" && sev != "warning" && sev != "info" {
				t.Errorf("%s: severity %q, want critical, warning or info", r.Alert, sev)
			}
			url := r.Annotations["runbook_url"]
			anchor, ok := strings.CutPrefix(url, runbookBase)
			if !ok || !anchors[anchor] {
				t.Errorf("%s: runbook_url %q is not a section of docs/runbook.md (%s…)", r.Alert, url, runbookBase)
			}
			if anchor != githubAnchor(r.Alert) {
				t.Errorf("%s: runbook_url points at #%s, want the alert's own section #%s", r.Alert, anchor, githubAnchor(r.Alert))
			}
			if sev != "critical" {
				continue
			}
			for _, n := range regexp.MustCompile(`\bflywheel_[a-z_]+`).FindAllString(r.Expr, -1) {
				if !health[n] {
					t.Errorf("%s pages (critical) on %s, which is not Flywheel's own health", r.Alert, n)
				}
			}
		}
	}
	if alerts < 8 {
		t.Errorf("only %d alerts", alerts)
	}
}

// githubAnchor is the id GitHub gives a Markdown heading: lower case, spaces
// as hyphens, punctuation dropped.
func githubAnchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteRune('-')
		}
	}
	return b.String()
}

// TestEveryRuleHasPromtoolCases: rules_test.yml checks every recording rule's
// values and every alert both firing and not firing, so a rule cannot ship
// untested.
func TestEveryRuleHasPromtoolCases(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join(rulesDir, "rules_test.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var tests struct {
		Tests []struct {
			Alerts []struct {
				Name   string `yaml:"alertname"`
				Alerts []any  `yaml:"exp_alerts"`
			} `yaml:"alert_rule_test"`
			Exprs []struct {
				Expr    string `yaml:"expr"`
				Samples []any  `yaml:"exp_samples"`
			} `yaml:"promql_expr_test"`
		} `yaml:"tests"`
	}
	if err := yaml.Unmarshal(data, &tests); err != nil {
		t.Fatalf("rules_test.yml: %v", err)
	}
	fires, silent, records := map[string]bool{}, map[string]bool{}, map[string]bool{}
	recordName := regexp.MustCompile(`\bflywheel:[a-z0-9_:]+`)
	for _, tc := range tests.Tests {
		for _, a := range tc.Alerts {
			if len(a.Alerts) == 0 {
				silent[a.Name] = true
			} else {
				fires[a.Name] = true
			}
		}
		for _, e := range tc.Exprs {
			if len(e.Samples) > 0 {
				for _, n := range recordName.FindAllString(e.Expr, -1) {
					records[n] = true
				}
			}
		}
	}
	for _, g := range readRules(t).Groups {
		for _, r := range g.Rules {
			switch {
			case r.Alert != "" && (!fires[r.Alert] || !silent[r.Alert]):
				t.Errorf("alert %s: firing case %v, not-firing case %v in rules_test.yml", r.Alert, fires[r.Alert], silent[r.Alert])
			case r.Record != "" && !records[r.Record]:
				t.Errorf("recording rule %s has no promql_expr_test with expected samples", r.Record)
			}
		}
	}
}

// counterFunc matches a function that reads its argument as a counter (a drop
// is a reset) and the first metric name inside it.
// (written without a space before the parenthesis, as every query here is:
// prose such as "rework rate (rework ÷ …)" in a description is no call)
var counterFunc = regexp.MustCompile(`\b(increase|rate|irate|resets)\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)`)

// TestCounterFunctionsOnlyOnCounters: no rule and no dashboard applies
// increase(), rate(), irate() or resets() to a gauge. The all-history counts
// are gauges because a correction lowers them, and a counter function reads
// every drop as a reset: one corrected deployment out of 20,000 then counted
// as 20,000 new ones.
func TestCounterFunctionsOnlyOnCounters(t *testing.T) {
	t.Parallel()
	monotonic := map[string]bool{}
	for _, def := range families {
		switch def.kind {
		case kindCounter:
			monotonic[def.name] = true
		case kindHistogram:
			monotonic[def.name+"_bucket"], monotonic[def.name+"_count"], monotonic[def.name+"_sum"] = true, true, true
		}
	}
	files, err := filepath.Glob(filepath.Join("..", "deploy", "grafana", "dashboards", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, filepath.Join(rulesDir, "rules.yml"))
	uses := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range counterFunc.FindAllStringSubmatch(string(data), -1) {
			uses++
			if !monotonic[m[2]] {
				t.Errorf("%s applies %s() to %s, which is not a counter", filepath.Base(f), m[1], m[2])
			}
		}
	}
	if uses == 0 {
		t.Error("no increase() or rate() found at all: the pattern is broken")
	}
}
