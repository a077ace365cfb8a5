package e2e

import (
	"context"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel/demo"
)

// TestDemo runs `flywheel demo` as the README's first command does and checks
// that the real collectors filled /metrics from the simulated APIs.
func TestDemo(t *testing.T) {
	t.Parallel()
	addr := freePort(t)
	base := "http://" + addr
	p := startFlywheel(t, nil, "demo", "--web.listen-address", addr, "--storage.path", filepath.Join(t.TempDir(), "demo.db"))
	waitForURL(t, nil, base+"/-/ready", http.StatusOK, 90*time.Second)
	_, body := get(t, nil, base+"/metrics")
	for _, series := range []string{"flywheel_deployments_stored", "flywheel_changes_stored", "flywheel_incidents_stored"} {
		if v := sample(t, body, series); v <= 0 {
			t.Errorf("%s = %v, want > 0", series, v)
		}
	}
	for _, want := range []string{
		`flywheel_source_last_success_timestamp_seconds{source="github"}`,
		`flywheel_source_last_success_timestamp_seconds{source="pagerduty"}`,
		`flywheel_api_requests_total{code="200",source="github"}`,
		`flywheel_lead_time_seconds{service_name="all",team="all",window="30d",quantile="0.5"}`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if out := p.Stdout(); !strings.Contains(out, base+"/metrics") {
		t.Errorf("demo summary does not show the metrics URL:\n%s", out)
	}
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	if code := p.Wait(t, 30*time.Second); code != 0 {
		t.Errorf("demo exited %d after SIGTERM", code)
	}
}

// TestCollect runs `flywheel collect` against the simulated APIs with a config
// file and tokens from environment variables, then reports from the store.
func TestCollect(t *testing.T) {
	t.Parallel()
	env, cfg, tokens := startDemoAPIs(t, 7)

	r := runFlywheel(t, tokens, "--config.file", cfg, "collect", "--source", "pagerduty")
	if r.Code != 0 {
		t.Fatalf("collect --source pagerduty exited %d:\n%s", r.Code, r.Stderr)
	}
	if !strings.Contains(r.Stderr, "source=pagerduty") || strings.Contains(r.Stderr, "source=github") {
		t.Errorf("collect --source pagerduty synced something else:\n%s", r.Stderr)
	}
	r = runFlywheel(t, tokens, "--config.file", cfg, "--log.level", "debug", "collect")
	if r.Code != 0 {
		t.Fatalf("collect exited %d:\n%s", r.Code, r.Stderr)
	}
	for _, secret := range []string{env.Getenv(demo.GitHubTokenEnv), env.Getenv(demo.PagerDutyTokenEnv)} {
		if strings.Contains(r.Stderr+r.Stdout, secret) {
			t.Errorf("collect's debug output contains a token")
		}
	}
	// Not a terminal: plain log lines, no progress bar.
	if !strings.Contains(r.Stderr, "msg=progress") || strings.Contains(r.Stderr, "\r") {
		t.Errorf("collect without a terminal should log plain progress lines:\n%s", r.Stderr)
	}
	r = runFlywheel(t, tokens, "--config.file", cfg, "report", "--format", "json", "--window", "90d")
	if r.Code != 0 || !strings.Contains(r.Stdout, `"deployments"`) || !strings.Contains(r.Stdout, `"incidents"`) {
		t.Errorf("report after collect: exit %d\n%s\n%s", r.Code, r.Stdout, r.Stderr)
	}

	// Export then import into an empty store, the documented backup and
	// migration path, restores a store that reports the same JSON, byte for
	// byte, and exports the same file.
	dir := filepath.Dir(cfg)
	backup, again := filepath.Join(dir, "backup.jsonl"), filepath.Join(dir, "again.jsonl")
	restored := filepath.Join(dir, "restored.db")
	if r := runFlywheel(t, tokens, "--config.file", cfg, "export", backup); r.Code != 0 {
		t.Fatalf("export exited %d: %s", r.Code, r.Stderr)
	}
	if r := runFlywheel(t, tokens, "--config.file", cfg, "--storage.path", restored, "import", backup); r.Code != 0 {
		t.Fatalf("import of the export exited %d: %s", r.Code, r.Stderr)
	}
	at := time.Now().UTC().Truncate(time.Second).Format(time.RFC3339)
	original := runFlywheel(t, tokens, "--config.file", cfg, "report", "--format", "json", "--at", at)
	restoredReport := runFlywheel(t, tokens, "--config.file", cfg, "--storage.path", restored, "report", "--format", "json", "--at", at)
	if original.Code != 0 || restoredReport.Code != 0 || !strings.Contains(original.Stdout, `"deployments"`) {
		t.Fatalf("reports: exit %d and %d\n%s%s", original.Code, restoredReport.Code, original.Stderr, restoredReport.Stderr)
	}
	if restoredReport.Stdout != original.Stdout {
		t.Errorf("the restored demo store reports differently from the collected one as of %s", at)
	}
	if r := runFlywheel(t, tokens, "--config.file", cfg, "--storage.path", restored, "export", again); r.Code != 0 {
		t.Fatalf("export of the restored store exited %d: %s", r.Code, r.Stderr)
	}
	if a, b := readFile(t, backup), readFile(t, again); a != b || !strings.Contains(a, `"source":"github"`) || !strings.Contains(a, `"source":"pagerduty"`) {
		t.Errorf("the restored store exports another file (%d and %d bytes), or the sources are missing", len(a), len(b))
	}

	// A wrong token fails the source and the command, without printing the token.
	bad := []string{demo.GitHubTokenEnv + "=not-the-token", demo.PagerDutyTokenEnv + "=not-the-token-either"}
	r = runFlywheel(t, bad, "--config.file", cfg, "collect")
	if r.Code == 0 {
		t.Errorf("collect with wrong tokens exited 0")
	}
	for _, secret := range []string{"not-the-token", env.Getenv(demo.GitHubTokenEnv), env.Getenv(demo.PagerDutyTokenEnv)} {
		if strings.Contains(r.Stderr+r.Stdout, secret) {
			t.Errorf("collect output contains the token %q:\n%s", secret, r.Stderr)
		}
	}
	if r := runFlywheel(t, tokens, "--config.file", cfg, "collect", "--source", "jira"); r.Code == 0 || !strings.Contains(r.Stderr, "unknown source") || !strings.Contains(r.Stderr, "jira") {
		t.Errorf("collect --source jira: exit %d\n%s", r.Code, r.Stderr)
	}
}

// TestServeStopsDuringSync sends SIGTERM while serve's first sync of a year of
// history is running: the sync stops at a batch boundary, serve exits 0, and
// the store opens again with whole batches only.
func TestServeStopsDuringSync(t *testing.T) {
	t.Parallel()
	_, cfg, tokens := startDemoAPIs(t, 3)
	addr := freePort(t)
	p := startFlywheel(t, tokens, "--config.file", cfg, "serve", "--web.listen-address", addr)
	// Wait until the GitHub sync has made a few requests (the collector-health
	// counters are live), so that it is mid-history when the signal comes.
	waitForURL(t, nil, "http://"+addr+"/-/healthy", http.StatusOK, 20*time.Second)
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, body := get(t, nil, "http://"+addr+"/metrics")
		if strings.Contains(body, `flywheel_api_requests_total{code="200",source="github"}`) &&
			sample(t, body, `flywheel_api_requests_total{code="200",source="github"}`) >= 3 {
			break
		}
		if time.Now().After(deadline) || p.Exited() {
			t.Fatalf("serve's GitHub sync made no requests:\n%s", p.Stderr())
		}
		time.Sleep(2 * time.Millisecond)
	}
	started := time.Now()
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	if code := p.Wait(t, 35*time.Second); code != 0 {
		t.Fatalf("serve exited %d after SIGTERM during a sync:\n%s", code, p.Stderr())
	}
	t.Logf("serve stopped %v after SIGTERM", time.Since(started).Round(time.Millisecond))
	// The shutdown order: scheduling stops, then the store closes.
	log := p.Stderr()
	switch {
	case regexp.MustCompile(`msg="sync failed" source=github err=".*context canceled`).MatchString(log):
		// Interrupted, as intended; what it wrote was whole batches (checked by
		// the collect below completing from the stored cursors).
	case strings.Contains(log, `msg="sync finished" source=github`):
		t.Log("the sync finished before SIGTERM arrived; interruption not exercised this time")
	default:
		t.Errorf("the running GitHub sync neither stopped on cancellation nor finished:\n%s", log)
	}
	if i, j := strings.Index(log, "stopping the scheduler"), strings.Index(log, "msg=stopped"); i < 0 || j < i {
		t.Errorf("shutdown not in order (scheduler, then stopped):\n%s", log)
	}
	// The store opens and a later collect completes the history.
	if r := runFlywheel(t, tokens, "--config.file", cfg, "collect"); r.Code != 0 {
		t.Fatalf("collect after an interrupted sync exited %d:\n%s", r.Code, r.Stderr)
	}
	r := runFlywheel(t, tokens, "--config.file", cfg, "report", "--format", "json", "--window", "90d")
	if r.Code != 0 || !strings.Contains(r.Stdout, `"deployments"`) {
		t.Errorf("report after collect: exit %d\n%s", r.Code, r.Stderr)
	}
}

// startDemoAPIs starts the simulated GitHub and PagerDuty APIs of demo seed seed
// and writes a config file for them with the store in a temporary directory; it
// returns the environment, the config file and the token variables.
func startDemoAPIs(t *testing.T, seed int64) (*demo.Env, string, []string) {
	t.Helper()
	env, err := demo.Start(context.Background(), seed, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(env.Close)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "flywheel.yml")
	writeFile(t, cfg, env.ConfigYAML+"storage:\n  path: "+filepath.Join(dir, "flywheel.db")+"\n")
	tokens := []string{
		demo.GitHubTokenEnv + "=" + env.Getenv(demo.GitHubTokenEnv),
		demo.PagerDutyTokenEnv + "=" + env.Getenv(demo.PagerDutyTokenEnv),
	}
	return env, cfg, tokens
}
