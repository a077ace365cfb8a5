package flywheel_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportDirections enforces the one-way dependencies the README's Layout
// describes, on the whole (transitive) import graph of the non-test code: the
// root package uses the standard library only; sources import neither storage nor metrics;
// storage imports neither collector nor metrics; metrics imports neither storage
// nor collector; config is wiring and no source imports it; only cmd/flywheel (and the demo it runs) may know them all.
func TestImportDirections(t *testing.T) {
	const mod = "github.com/flywheel-metrics/flywheel"
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Deps " "}}`, "./...").Output()
	if err != nil {
		t.Skipf("go list unavailable: %v", err)
	}
	forbidden := map[string][]string{
		"collector": {"storage", "metrics", "config", "cmd"},
		"storage":   {"collector", "metrics", "config", "cmd"},
		"metrics":   {"storage", "collector", "config", "cmd"},
		// config builds kpi.Options, so it may import metrics/kpi (pure, no I/O);
		// it is used only by the wiring (cmd, demo), never by a source.
		"config": {"storage", "collector", "cmd"},
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(strings.TrimPrefix(fields[0], mod), "/")
		top, _, _ := strings.Cut(pkg, "/")
		for _, dep := range fields[1:] {
			if pkg == "" && strings.Contains(strings.SplitN(dep, "/", 2)[0], ".") {
				t.Errorf("root package imports %s: it must use the standard library only", dep)
			}
			rel, ok := strings.CutPrefix(dep, mod+"/")
			if !ok {
				continue
			}
			depTop, _, _ := strings.Cut(rel, "/")
			for _, f := range forbidden[top] {
				if depTop == f {
					t.Errorf("%s imports %s (directly or through another package)", fields[0], dep)
				}
			}
		}
	}
}
