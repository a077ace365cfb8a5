package metrics

import (
	"os"
	"regexp"
	"slices"
	"testing"
)

// TestDashboardContractNamesTheFamilies: the metric names the dashboard
// generator's tests accept (deploy/grafana/gen) are exactly the families served
// here, so a renamed metric cannot leave the dashboards' contract behind.
func TestDashboardContractNamesTheFamilies(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("../deploy/grafana/gen/main_test.go")
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, m := range regexp.MustCompile(`(?m)^\t"(flywheel_[a-z0-9_]+)",$`).FindAllSubmatch(src, -1) {
		listed = append(listed, string(m[1]))
	}
	var served []string
	for _, def := range families {
		served = append(served, def.name)
	}
	slices.Sort(listed)
	slices.Sort(served)
	if !slices.Equal(listed, served) {
		for _, n := range listed {
			if !slices.Contains(served, n) {
				t.Errorf("deploy/grafana/gen lists %s, which is not served", n)
			}
		}
		for _, n := range served {
			if !slices.Contains(listed, n) {
				t.Errorf("%s is served but not in deploy/grafana/gen's contract", n)
			}
		}
	}
}
