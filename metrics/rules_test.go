package metrics

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

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
