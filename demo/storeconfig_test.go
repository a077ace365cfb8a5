package demo

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/flywheel-metrics/flywheel/config"
)

// TestStoreConfigRoundTrip: the configuration the demo writes beside a kept
// store loads with config.Load (strict: every key it writes is one Flywheel
// reads) and computes KPIs exactly as the demo's own configuration does, with
// the same teams, without any source.
func TestStoreConfigRoundTrip(t *testing.T) {
	t.Parallel()
	org := Generate(3, demoNow)
	demoCfg, err := config.Parse([]byte(org.ConfigYAML("http://127.0.0.1:1/", "http://127.0.0.1:2")))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// A path that needs quoting in YAML: spaces, a colon, a hash, quotes, non-ASCII.
	store := filepath.Join(dir, `kept: "demo" #1 – ü.db`)
	file := filepath.Join(dir, "kept.demo.yml")
	text := org.StoreConfigYAML(store)
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(file)
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	if !strings.HasPrefix(text, StoreConfigHeader) {
		t.Errorf("the file does not begin with %q:\n%s", StoreConfigHeader, text)
	}
	if cfg.Storage.Path != store {
		t.Errorf("storage.path = %q, want %q", cfg.Storage.Path, store)
	}
	if cfg.GitHub != nil || cfg.PagerDuty != nil {
		t.Errorf("the kept configuration names a source; the simulated APIs are gone once the demo stops")
	}
	if len(cfg.TuneUps) != 1 || cfg.TuneUps[0].Name != "ci-speedup" || cfg.TuneUps[0].Label != "tuneup:ci-speedup" {
		t.Errorf("tune_ups = %+v, want the ci-speedup initiative", cfg.TuneUps)
	}
	if want := []string{"7d", "30d", "90d"}; !reflect.DeepEqual(cfg.Windows, want) {
		t.Errorf("windows = %v, want %v", cfg.Windows, want)
	}
	if cfg.IncidentTimeZone != "UTC" || cfg.IncidentTimeZone != demoCfg.IncidentTimeZone {
		t.Errorf("incident_time_zone = %q, the demo's %q", cfg.IncidentTimeZone, demoCfg.IncidentTimeZone)
	}
	teams := cfg.ServiceTeams()
	if len(teams) != len(org.Services) || !reflect.DeepEqual(teams, demoCfg.ServiceTeams()) {
		t.Errorf("teams = %v, the demo's %v", teams, demoCfg.ServiceTeams())
	}
	if got := fmt.Sprint(teams); !strings.Contains(got, "checkout:payments") {
		t.Errorf("teams = %v, want checkout in payments", got)
	}
	kept, err := cfg.KPIOptions()
	if err != nil {
		t.Fatal(err)
	}
	own, err := demoCfg.KPIOptions()
	if err != nil {
		t.Fatal(err)
	}
	if a, b := fmt.Sprintf("%+v", kept), fmt.Sprintf("%+v", own); a != b {
		t.Errorf("the kept configuration computes KPIs differently from the demo's:\nkept %s\ndemo %s", a, b)
	}
}
