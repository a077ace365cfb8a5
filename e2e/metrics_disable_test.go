package e2e

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeMetricsDisable: `serve --metrics.disable` leaves the named groups of
// series out of /metrics and keeps the rest; a group that does not exist stops
// serve with the valid names.
func TestServeMetricsDisable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	events := filepath.Join(dir, "events.jsonl")
	// Events ending an hour ago, so that every window holds data as of now.
	shiftEvents(t, filepath.Join("testdata", "prometheus", "events.jsonl"), events, time.Now().Add(-time.Hour))
	db := filepath.Join(dir, "flywheel.db")
	if r := runFlywheel(t, nil, "--storage.path", db, "import", events); r.Code != 0 {
		t.Fatalf("import exited %d: %s", r.Code, r.Stderr)
	}
	if r := runFlywheel(t, nil, "--storage.path", db, "serve", "--web.listen-address", freePort(t), "--metrics.disable", "stages,urgency"); r.Code != 2 ||
		!strings.Contains(r.Stderr, `unknown metric group "urgency" (valid: by_urgency, stages, histograms)`) {
		t.Errorf("serve with an unknown group: exit %d, stderr %q", r.Code, r.Stderr)
	}

	addr := freePort(t)
	base := "http://" + addr
	startFlywheel(t, nil, "--storage.path", db, "serve", "--web.listen-address", addr,
		"--metrics.disable", "by_urgency", "--metrics.disable", "stages,histograms")
	waitForURL(t, nil, base+"/-/ready", http.StatusOK, 20*time.Second)
	code, body := get(t, nil, base+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: status %d", code)
	}
	for _, gone := range []string{"flywheel_lead_time_stage_seconds", "flywheel_lead_time_distribution_seconds",
		"flywheel_incident_time_to_resolve_distribution_seconds", `urgency="high"`, `urgency="low"`} {
		if strings.Contains(body, gone) {
			t.Errorf("/metrics has %s, disabled", gone)
		}
	}
	for _, kept := range []string{`flywheel_lead_time_seconds{service_name="all",team="all",window="30d",quantile="0.5"}`,
		`flywheel_incidents{service_name="all",team="all",urgency="all"}`,
		`flywheel_incident_time_to_resolve_seconds_count{service_name="all",team="all",urgency="all",window="90d"}`} {
		if !strings.Contains(body, kept) {
			t.Errorf("/metrics lacks %s", kept)
		}
	}
}
