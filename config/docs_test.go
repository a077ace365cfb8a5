package config_test

import (
	"os"
	"strings"
	"testing"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/config"
	"github.com/flywheel-metrics/flywheel/metrics/kpi"
)

// TestDocumentedClassificationExample loads the example of the classification
// section of docs/configuration.md and checks that the PRs its text describes
// get the classes it says.
func TestDocumentedClassificationExample(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "\n## `classification`\n")
	if !ok {
		t.Fatal("docs/configuration.md has no classification section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	_, block, ok := strings.Cut(section, "```yaml\n")
	if !ok {
		t.Fatal("the classification section has no YAML example")
	}
	block, _, _ = strings.Cut(block, "```")
	c, err := config.Parse([]byte(block))
	if err != nil {
		t.Fatalf("the documented example does not load: %v", err)
	}
	opts, err := c.KPIOptions()
	if err != nil {
		t.Fatal(err)
	}
	k := kpi.NewClassifier(opts.Classification)
	for _, tc := range []struct {
		what   string
		change flywheel.Change
		want   kpi.Class
	}{
		{"labelled Sev:2", flywheel.Change{Title: "Handle timeouts", Labels: []string{"Sev:2"}}, kpi.ClassFix},
		{"labelled dependencies", flywheel.Change{Title: "Bump x", Labels: []string{"dependencies"}}, kpi.ClassUnclassified},
		{"a chore: title", flywheel.Change{Title: "chore: bump x"}, kpi.ClassTuneUp},
		{"touching only Makefile", flywheel.Change{Title: "Faster build", Paths: []string{"Makefile"}}, kpi.ClassUnclassified},
		{"a fix: title (fix types kept)", flywheel.Change{Title: "fix: nil map"}, kpi.ClassFix},
		{"a feature: title", flywheel.Change{Title: "feature: wallet"}, kpi.ClassInnovation},
		{"touching only docs/", flywheel.Change{Title: "Guide", Paths: []string{"docs/guide.md"}}, kpi.ClassTuneUp},
	} {
		if got := k.Classify(&tc.change); got != tc.want {
			t.Errorf("%s: class %s, the documentation says %s", tc.what, got, tc.want)
		}
	}
}
