package e2e

import (
	"context"
	"encoding/json"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel/demo"
	"github.com/flywheel-metrics/flywheel/storage"
)

// TestDemo runs `flywheel demo` as the README's first command does and checks
// that the real collectors filled /metrics from the simulated APIs. Then, with
// the demo stopped, the configuration it wrote beside its kept store makes
// report and serve on that store answer as the demo did: the same report, with
// the tune-up's impact, and the same teams.
func TestDemo(t *testing.T) {
	t.Parallel()
	addr := freePort(t)
	base := "http://" + addr
	dir := t.TempDir()
	store, keptConfig := filepath.Join(dir, "demo.db"), filepath.Join(dir, "demo.demo.yml")
	p := startFlywheel(t, nil, "demo", "--web.listen-address", addr, "--storage.path", store)
	waitForURL(t, nil, base+"/-/ready", http.StatusOK, 90*time.Second)
	_, body := get(t, nil, base+"/metrics")
	at := time.Now().UTC().Truncate(time.Second).Format(time.RFC3339)
	_, served := get(t, nil, base+"/api/v1/report?at="+at)
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
	if out := p.Stdout(); !strings.Contains(out, base+"/metrics") || !strings.HasSuffix(out, "\nReady. Press Ctrl-C to stop.\n") {
		t.Errorf("demo summary does not show the metrics URL, or does not end with Ready:\n%s", out)
	}
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	if code := p.Wait(t, 30*time.Second); code != 0 {
		t.Errorf("demo exited %d after SIGTERM", code)
	}

	for _, cmd := range []string{"report", "explain change_failure_ratio", "serve"} {
		if want := "flywheel --config.file " + keptConfig + " " + cmd + "\n"; !strings.Contains(p.Stdout(), want) {
			t.Errorf("the demo does not show how to read its kept store (%q):\n%s", want, p.Stdout())
		}
	}
	// The demo's report as of at, from the kept store with the kept
	// configuration: the same document. Without it the tune-up is unknown.
	r := runFlywheel(t, nil, "--config.file", keptConfig, "report", "--format", "json", "--at", at)
	if r.Code != 0 {
		t.Fatalf("report with the kept configuration exited %d:\n%s", r.Code, r.Stderr)
	}
	if !strings.Contains(served, `"tune_up_impact"`) || !strings.Contains(served, `"ci-speedup"`) {
		t.Fatalf("the demo's report has no tune-up impact:\n%s", served)
	}
	if !sameJSON(t, r.Stdout, served) {
		t.Errorf("report on the kept store differs from the demo's /api/v1/report as of %s:\n%s", at, r.Stdout)
	}
	if r := runFlywheel(t, nil, "--storage.path", store, "report", "--format", "json", "--at", at); r.Code != 0 || strings.Contains(r.Stdout, `"tune_up_impact"`) {
		t.Errorf("report without the configuration: exit %d, and it should know no tune-up:\n%s", r.Code, r.Stderr)
	}
	// serve with it: the demo's teams, and no source to reach.
	addr = freePort(t)
	s := startFlywheel(t, nil, "--config.file", keptConfig, "serve", "--web.listen-address", addr)
	waitForURL(t, nil, "http://"+addr+"/-/ready", http.StatusOK, 20*time.Second)
	_, kept := get(t, nil, "http://"+addr+"/metrics")
	if want, got := teamLabels(body), teamLabels(kept); len(want) < 7 || !slices.Equal(got, want) {
		t.Errorf("serve on the kept store labels the services with teams\n%v\nthe demo with\n%v", got, want)
	}
	_ = s.Cmd.Process.Signal(syscall.SIGTERM)
	if code := s.Wait(t, 30*time.Second); code != 0 {
		t.Errorf("serve exited %d after SIGTERM", code)
	}
	if strings.Contains(s.Stderr(), "sync started") {
		t.Errorf("serve with the kept configuration tried to collect:\n%s", s.Stderr())
	}
}

// sameJSON reports whether two JSON documents hold the same values.
func sameJSON(t *testing.T, a, b string) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal([]byte(a), &x); err != nil {
		t.Fatalf("%v:\n%s", err, a)
	}
	if err := json.Unmarshal([]byte(b), &y); err != nil {
		t.Fatalf("%v:\n%s", err, b)
	}
	return reflect.DeepEqual(x, y)
}

// teamLabels lists the distinct service_name and team label pairs of an
// exposition, sorted.
func teamLabels(exposition string) []string {
	seen := map[string]bool{}
	for _, m := range regexp.MustCompile(`service_name="[^"]*",team="[^"]*"`).FindAllString(exposition, -1) {
		seen[m] = true
	}
	return slices.Sorted(maps.Keys(seen))
}

// TestDemoConfigNotOverwritten: the demo rewrites the configuration it wrote
// beside a kept store, but leaves a file of that name that it did not write,
// and says so; --print-config prints the file it would write.
func TestDemoConfigNotOverwritten(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	store, keptConfig := filepath.Join(dir, "kept.db"), filepath.Join(dir, "kept.demo.yml")
	mine := "# my own notes\nwindows: [1d]\n"
	writeFile(t, keptConfig, mine)
	r := runFlywheel(t, nil, "demo", "--print-config", "--seed", "4", "--storage.path", store)
	if r.Code != 0 || !strings.Contains(r.Stdout, "path: \""+store+"\"") || !strings.Contains(r.Stdout, "ci-speedup") || readFile(t, keptConfig) != mine {
		t.Fatalf("demo --print-config: exit %d, or it wrote a file\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	printed := r.Stdout

	addr := freePort(t)
	p := startFlywheel(t, nil, "demo", "--seed", "4", "--web.listen-address", addr, "--storage.path", store)
	waitForURL(t, nil, "http://"+addr+"/-/ready", http.StatusOK, 90*time.Second)
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	if code := p.Wait(t, 30*time.Second); code != 0 {
		t.Errorf("demo exited %d after SIGTERM", code)
	}
	if readFile(t, keptConfig) != mine {
		t.Errorf("the demo overwrote a file it did not write")
	}
	if !strings.Contains(p.Stdout(), "not written beside it: "+keptConfig+" exists and flywheel demo did not write it") ||
		!strings.Contains(p.Stdout(), "--print-config > FILE") || !strings.Contains(p.Stderr(), "level=WARN") {
		t.Errorf("the demo does not say it left the file:\n%s\n%s", p.Stdout(), p.Stderr())
	}

	// A file the demo wrote is its own to rewrite: here, with what
	// --print-config printed.
	writeFile(t, keptConfig, "# Written by flywheel demo, then edited\n")
	addr = freePort(t)
	p = startFlywheel(t, nil, "demo", "--seed", "4", "--web.listen-address", addr, "--storage.path", store)
	waitForURL(t, nil, "http://"+addr+"/-/ready", http.StatusOK, 90*time.Second)
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	if code := p.Wait(t, 30*time.Second); code != 0 {
		t.Errorf("demo exited %d after SIGTERM", code)
	}
	if got := readFile(t, keptConfig); got != printed {
		t.Errorf("the demo did not rewrite its own file with its configuration:\n%s", got)
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
	// Requests read as "200:30 304:2", not as a Go map; an unknown rate limit
	// is left out rather than logged as -1.
	if synced := grep(r.Stderr, `msg="source synced"`); !regexp.MustCompile(`requests=(200:\d+ |"200:\d+( \d+:\d+)+")`).MatchString(synced) ||
		strings.Contains(synced, "map[") || strings.Contains(synced, "=-1") {
		t.Errorf("source synced lines:\n%s", synced)
	}
	db := filepath.Join(filepath.Dir(cfg), "flywheel.db")
	lastGood := latestSnapshot(t, db)
	if lastGood.IsZero() {
		t.Fatal("collect stored no KPI snapshot")
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

	// A wrong token fails the source and the command, without printing the
	// token; with every source failed, the last good snapshot stays.
	bad := []string{demo.GitHubTokenEnv + "=not-the-token", demo.PagerDutyTokenEnv + "=not-the-token-either"}
	r = runFlywheel(t, bad, "--config.file", cfg, "collect")
	if r.Code == 0 {
		t.Errorf("collect with wrong tokens exited 0")
	}
	if !strings.Contains(r.Stderr, "no KPI snapshot stored: every source failed") || !latestSnapshot(t, db).Equal(lastGood) {
		t.Errorf("a collect where every source failed replaced the last good snapshot:\n%s", r.Stderr)
	}
	if strings.Contains(r.Stderr, "github: github:") || strings.Contains(r.Stderr, "pagerduty: pagerduty:") {
		t.Errorf("an error names its source twice:\n%s", r.Stderr)
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
	case strings.Contains(log, `level=INFO msg="sync interrupted; what it wrote stays" source=github`):
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
	if errs := grep(log, "level=ERROR"); errs != "" {
		t.Errorf("a clean shutdown logged errors:\n%s", errs)
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

// latestSnapshot returns the time of the store's latest KPI snapshot, zero if
// it has none.
func latestSnapshot(t *testing.T, path string) time.Time {
	t.Helper()
	st, err := storage.OpenReadOnly(path, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	at, _, ok, err := st.LatestSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		return time.Time{}
	}
	return at
}

// holdingProxy forwards requests to a simulated API and holds the hold-th
// request (counting from 1) until release is called or its client gives up:
// a sync caught mid-way for as long as a test needs.
type holdingProxy struct {
	URL     string        // base URL of the proxy
	Held    chan struct{} // closed when the held request arrives
	release chan struct{}
	once    sync.Once
}

func newHoldingProxy(t *testing.T, target string, hold int64) *holdingProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &holdingProxy{Held: make(chan struct{}), release: make(chan struct{})}
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: u.Scheme, Host: u.Host})
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == hold {
			close(p.Held)
			select {
			case <-p.release:
			case <-r.Context().Done():
				return
			}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(p.Release)
	p.URL = srv.URL
	return p
}

// Release lets the held request through.
func (p *holdingProxy) Release() { p.once.Do(func() { close(p.release) }) }

// proxiedConfig rewrites a config file to reach the simulated APIs through
// the proxies (nil: directly) and returns the new file.
func proxiedConfig(t *testing.T, env *demo.Env, cfg string, github, pagerduty *holdingProxy) string {
	t.Helper()
	yml := readFile(t, cfg)
	for _, p := range []struct {
		proxy  *holdingProxy
		target string
	}{{github, env.GitHubURL}, {pagerduty, env.PagerDutyURL}} {
		if p.proxy == nil {
			continue
		}
		from, _ := url.Parse(p.target)
		to, _ := url.Parse(p.proxy.URL)
		yml = strings.ReplaceAll(yml, "//"+from.Host, "//"+to.Host)
	}
	out := filepath.Join(filepath.Dir(cfg), "proxied.yml")
	writeFile(t, out, yml)
	return out
}

// TestCollectInterrupted sends SIGINT while collect's GitHub sync waits for an
// answer: collect says it was interrupted, at info level, exits 130 as a
// shell reports Ctrl-C, and stores no KPI snapshot of the half-synced store.
func TestCollectInterrupted(t *testing.T) {
	t.Parallel()
	env, cfg, tokens := startDemoAPIs(t, 5)
	gh := newHoldingProxy(t, env.GitHubURL, 8)
	cfg = proxiedConfig(t, env, cfg, gh, nil)
	p := startFlywheel(t, tokens, "--config.file", cfg, "collect", "--source", "github")
	select {
	case <-gh.Held:
	case <-time.After(30 * time.Second):
		t.Fatalf("the GitHub sync never reached its 8th request:\n%s", p.Stderr())
	}
	_ = p.Cmd.Process.Signal(syscall.SIGINT)
	if code := p.Wait(t, 30*time.Second); code != 130 {
		t.Errorf("collect exited %d after SIGINT, want 130", code)
	}
	log := p.Stderr()
	if !strings.Contains(log, `level=INFO msg="interrupted: what the sync wrote stays`) {
		t.Errorf("collect does not say it was interrupted:\n%s", log)
	}
	if errs := grep(log, "level=ERROR"); errs != "" {
		t.Errorf("an interrupted collect logged errors:\n%s", errs)
	}
	if at := latestSnapshot(t, filepath.Join(filepath.Dir(cfg), "flywheel.db")); !at.IsZero() {
		t.Errorf("an interrupted collect stored a KPI snapshot (as of %s)", at)
	}
}

// TestServeReadyAfterFirstSync: on a fresh store, serve is not ready while its
// first syncs are under way (it serves /metrics, from an empty snapshot, and
// says so on /-/ready), and becomes ready once a source has synced.
func TestServeReadyAfterFirstSync(t *testing.T) {
	t.Parallel()
	env, cfg, tokens := startDemoAPIs(t, 6)
	gh, pd := newHoldingProxy(t, env.GitHubURL, 1), newHoldingProxy(t, env.PagerDutyURL, 1)
	cfg = proxiedConfig(t, env, cfg, gh, pd)
	addr := freePort(t)
	base := "http://" + addr
	p := startFlywheel(t, tokens, "--config.file", cfg, "serve", "--web.listen-address", addr)
	for _, h := range []*holdingProxy{gh, pd} {
		select {
		case <-h.Held:
		case <-time.After(30 * time.Second):
			t.Fatalf("a source never sent its first request:\n%s", p.Stderr())
		}
	}
	waitForURL(t, nil, base+"/metrics", http.StatusOK, 20*time.Second)
	// the first, empty snapshot is computed at once
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, body := get(t, nil, base+"/metrics")
		if strings.Contains(body, "flywheel_snapshot_timestamp_seconds") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no snapshot served:\n%s", p.Stderr())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code, body := get(t, nil, base+"/-/ready"); code != http.StatusServiceUnavailable {
		t.Errorf("/-/ready before any sync finished: %d %q, want 503", code, body)
	}
	pd.Release()
	waitForURL(t, nil, base+"/-/ready", http.StatusOK, 30*time.Second)
	gh.Release()
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	if code := p.Wait(t, 35*time.Second); code != 0 {
		t.Errorf("serve exited %d after SIGTERM", code)
	}
}

// TestDemoPortTaken: with its port in use, the demo fails at once, before it
// collects anything or says it is ready, and says which flag to change.
func TestDemoPortTaken(t *testing.T) {
	t.Parallel()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	r := runFlywheel(t, nil, "demo", "--web.listen-address", taken.Addr().String(), "--storage.path", filepath.Join(t.TempDir(), "demo.db"))
	if r.Code == 0 {
		t.Fatal("demo on a taken port exited 0")
	}
	if !strings.Contains(r.Stderr, "address already in use") || !strings.Contains(r.Stderr, "--web.listen-address") {
		t.Errorf("the error does not say the port is taken and which flag to change:\n%s", r.Stderr)
	}
	if strings.Contains(r.Stderr, "sync started") || strings.Contains(r.Stdout, "collected") || strings.Contains(r.Stdout, "Ready") {
		t.Errorf("the demo collected or said it was ready before failing:\n%s\n%s", r.Stdout, r.Stderr)
	}
}

// TestListenDefaults: serve listens on every interface by default, as
// exporters do; the demo on this machine only.
func TestListenDefaults(t *testing.T) {
	t.Parallel()
	for cmd, want := range map[string]string{"serve": `--web.listen-address=:9891`, "demo": `--web.listen-address=127.0.0.1:9891`} {
		r := runFlywheel(t, nil, cmd, "--help")
		if !strings.Contains(r.Stdout+r.Stderr, want) {
			t.Errorf("flywheel %s --help does not show the default %s:\n%s", cmd, want, r.Stdout+r.Stderr)
		}
	}
}
