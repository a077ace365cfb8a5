package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// get fetches url and returns its status and body.
func get(t testing.TB, client *http.Client, url string) (int, string) {
	t.Helper()
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", url, err)
	}
	return resp.StatusCode, string(b)
}

// sample returns the value of the series whose exposition line starts with
// series (name and labels exactly as printed), or fails.
func sample(t testing.TB, exposition, series string) float64 {
	t.Helper()
	for line := range strings.SplitSeq(exposition, "\n") {
		rest, ok := strings.CutPrefix(line, series+" ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.Fields(rest)[0], 64)
		if err != nil {
			t.Fatalf("series %s: value %q: %v", series, rest, err)
		}
		return v
	}
	t.Fatalf("series %s not in /metrics", series)
	return 0
}

// TestServeEndToEnd is the end-to-end test of serve: import an events file, serve
// it, scrape /metrics, see a second serve on the same store fail on the lock, and
// stop the first with SIGTERM.
func TestServeEndToEnd(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "flywheel.db")

	r := runFlywheel(t, nil, "--storage.path", db, "import", "testdata/events.jsonl")
	if r.Code != 0 {
		t.Fatalf("import exited %d: %s", r.Code, r.Stderr)
	}
	if !strings.Contains(r.Stdout, "imported 6 deployments, 4 changes, 3 incidents") {
		t.Errorf("import output = %q", r.Stdout)
	}
	// Importing the same ids again updates rather than duplicates (checked below
	// through the store gauges).
	if r := runFlywheel(t, nil, "--storage.path", db, "import", "testdata/events.jsonl"); r.Code != 0 {
		t.Fatalf("second import exited %d: %s", r.Code, r.Stderr)
	}

	addr := freePort(t)
	base := "http://" + addr
	srv := startFlywheel(t, nil, "--storage.path", db, "serve", "--web.listen-address", addr)
	waitForURL(t, nil, base+"/-/healthy", http.StatusOK, 20*time.Second)
	waitForURL(t, nil, base+"/-/ready", http.StatusOK, 20*time.Second)

	code, body := get(t, nil, base+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: status %d", code)
	}
	for series, want := range map[string]float64{
		"flywheel_deployments_stored":                                  6,
		"flywheel_changes_stored":                                      4,
		"flywheel_incidents_stored":                                    3,
		`flywheel_deployments{service_name="checkout",team="unknown"}`: 3,
		`flywheel_deployments{service_name="search",team="unknown"}`:   1,
	} {
		if got := sample(t, body, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	if ts := sample(t, body, "flywheel_snapshot_timestamp_seconds"); time.Since(time.Unix(int64(ts), 0)) > time.Minute {
		t.Errorf("flywheel_snapshot_timestamp_seconds = %v, not recent", ts)
	}
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total", "promhttp_metric_handler_requests_total"} {
		if !strings.Contains(body, "\n"+name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	// flywheel_build_info says what --version says.
	ver := regexp.MustCompile(`^flywheel, version (\S+) \(branch: (\S+), revision: (\S+)\)`).FindStringSubmatch(runFlywheel(t, nil, "--version").Stdout)
	if ver == nil {
		t.Fatal("--version prints no version line")
	}
	if want := fmt.Sprintf(`flywheel_build_info{branch=%q,goarch=%q,goos=%q,goversion=%q,revision=%q,`, ver[2], runtime.GOARCH, runtime.GOOS, runtime.Version(), ver[3]); !strings.Contains(body, want) ||
		!strings.Contains(body, fmt.Sprintf(`version=%q} 1`, ver[1])) {
		t.Errorf("/metrics lacks %s…version=%q} 1:\n%s", want, ver[1], grep(body, "build_info"))
	}

	// The report API returns the JSON document of `flywheel report --format json`.
	code, body = get(t, nil, base+"/api/v1/report?at=2026-10-10T00:00:00Z&window=30d")
	if code != http.StatusOK {
		t.Fatalf("/api/v1/report: status %d: %s", code, body)
	}
	var rep struct {
		At      time.Time `json:"at"`
		Windows map[string]struct {
			All *struct {
				Deployments *int `json:"deployments"`
			} `json:"all"`
		} `json:"windows"`
	}
	if err := json.Unmarshal([]byte(body), &rep); err != nil {
		t.Fatalf("report JSON: %v\n%s", err, body)
	}
	if w, ok := rep.Windows["30d"]; !ok || w.All == nil || w.All.Deployments == nil || *w.All.Deployments != 4 || len(rep.Windows) != 1 {
		t.Errorf("report windows = %s", body)
	}
	// The same query through the CLI gives the same document, once serve has let
	// go of the store (checked after shutdown below).
	apiReport := body

	// The HTML report is served at /report and /api/v1/report?format=html:
	// the page `flywheel report --format html` writes (compared after shutdown).
	code, htmlReport := get(t, nil, base+"/report?at=2026-10-10T00:00:00Z&window=30d")
	if code != http.StatusOK || !strings.HasPrefix(htmlReport, "<!DOCTYPE html>") || !strings.Contains(htmlReport, "delivery report") {
		t.Errorf("/report: status %d: %.300s", code, htmlReport)
	}
	if code, body := get(t, nil, base+"/api/v1/report?format=html&at=2026-10-10T00:00:00Z&window=30d"); code != http.StatusOK || body != htmlReport {
		t.Errorf("/api/v1/report?format=html: status %d, differs from /report", code)
	}
	if code, body := get(t, nil, base+"/report?service=chekout"); code != http.StatusBadRequest || !strings.Contains(body, `unknown service "chekout"`) {
		t.Errorf("/report?service=chekout: status %d %q, want 400", code, body)
	}

	// Every explain link of the Grafana dashboards answers, for the
	// all-services aggregate and for a service, as a browser would follow it.
	for _, link := range dashboardExplainLinks(t) {
		for _, svc := range []string{"all", "checkout"} {
			u := strings.NewReplacer("${flywheel_url}", base, "${service_name}", svc, "${__data.fields.Service}", svc,
				"${window}", "30d").Replace(link)
			if code, body := get(t, nil, u); code != http.StatusOK || !strings.Contains(body, `"items": [`) {
				t.Errorf("dashboard link %s: status %d: %.300s", u, code, body)
			}
		}
	}

	// Every link of the landing page answers (no /debug/pprof without
	// --web.enable-pprof).
	code, landing := get(t, nil, base+"/")
	links := regexp.MustCompile(`href="(/[^"]*)"`).FindAllStringSubmatch(landing, -1)
	if code != http.StatusOK || len(links) < 5 || strings.Contains(landing, "debug/pprof") {
		t.Errorf("landing page: status %d, %d links:\n%s", code, len(links), landing)
	}
	for _, l := range links {
		if code, body := get(t, nil, base+html.UnescapeString(l[1])); code != http.StatusOK {
			t.Errorf("landing page link %s: status %d: %.200s", l[1], code, body)
		}
	}

	// The events behind a number: d-2 failed by PD-1, which names it.
	code, apiExplain := get(t, nil, base+"/api/v1/explain?kpi=change_failure_ratio&at=2026-10-10T00:00:00Z&window=30d&service=checkout")
	if code != http.StatusOK || !strings.Contains(apiExplain, `"value": 0.3333333333333333`) ||
		!strings.Contains(apiExplain, `"failed_by":[{"incident":"PD-1","rule":"caused_by"}]`) {
		t.Errorf("/api/v1/explain: status %d:\n%s", code, apiExplain)
	}
	if code, body := get(t, nil, base+"/api/v1/explain?kpi=cfr"); code != http.StatusBadRequest || !strings.Contains(body, "change_failure_ratio") {
		t.Errorf("/api/v1/explain?kpi=cfr: status %d: %s", code, body)
	}
	// A report query that names what does not exist is a 400 saying what is
	// valid, as explain's are.
	for query, want := range map[string]string{
		"service=chekout": `unknown service "chekout"; valid: checkout, search`,
		"format=csv":      `unknown format "csv"; valid: json`,
		"servce=checkout": `unknown parameter "servce"`,
		"at=2999-01-01":   "at 2999-01-01T00:00:00Z is in the future",
	} {
		if code, body := get(t, nil, base+"/api/v1/report?"+query); code != http.StatusBadRequest || !strings.Contains(body, want) {
			t.Errorf("/api/v1/report?%s: status %d %q, want 400 containing %q", query, code, body, want)
		}
	}

	// A second serve on the same store fails fast on the file lock.
	second := startFlywheel(t, nil, "--storage.path", db, "serve", "--web.listen-address", freePort(t))
	if code := second.Wait(t, 5*time.Second); code == 0 {
		t.Errorf("second serve exited 0")
	}
	if msg := second.Stderr(); !strings.Contains(msg, db) || !strings.Contains(msg, "another process") {
		t.Errorf("second serve's error does not name the path and another process:\n%s", msg)
	}
	if srv.Exited() {
		t.Fatalf("first serve exited while the second ran:\n%s", srv.Stderr())
	}
	// Commands that only read fail fast too, and report names where serve
	// answers the same; a failed export leaves no file.
	r = runFlywheel(t, nil, "--storage.path", db, "report", "--format", "json")
	if want := db + " is in use by another flywheel process (serve?); the same answer is served at /api/v1/report"; r.Code != 1 || !strings.Contains(r.Stderr, want) {
		t.Errorf("report while serve runs: exit %d, stderr %q\nwant %q", r.Code, r.Stderr, want)
	}
	out := filepath.Join(dir, "events.jsonl")
	if r := runFlywheel(t, nil, "--storage.path", db, "export", out); r.Code != 1 || !strings.Contains(r.Stderr, db+" is in use by another flywheel process") {
		t.Errorf("export while serve runs: exit %d, stderr %q", r.Code, r.Stderr)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed export left %s", out)
	}

	if err := srv.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	if code := srv.Wait(t, 30*time.Second); code != 0 {
		t.Errorf("serve exited %d after SIGTERM, want 0\n%s", code, srv.Stderr())
	}

	r = runFlywheel(t, nil, "--storage.path", db, "report", "--at", "2026-10-10T00:00:00Z", "--window", "30d", "--format", "json")
	if r.Code != 0 {
		t.Fatalf("report exited %d: %s", r.Code, r.Stderr)
	}
	if r.Stdout != apiReport {
		t.Errorf("report --format json differs from GET /api/v1/report:\nCLI:\n%s\nAPI:\n%s", r.Stdout, apiReport)
	}
	r = runFlywheel(t, nil, "--storage.path", db, "report", "--at", "2026-10-10T00:00:00Z", "--window", "30d", "--format", "html")
	if r.Code != 0 || r.Stdout != htmlReport {
		t.Errorf("report --format html (exit %d) differs from GET /report", r.Code)
	}
	r = runFlywheel(t, nil, "--storage.path", db, "explain", "change_failure_ratio", "--at", "2026-10-10T00:00:00Z", "--window", "30d",
		"--service", "checkout", "--format", "json")
	if r.Code != 0 || r.Stdout != apiExplain {
		t.Errorf("explain --format json (exit %d) differs from GET /api/v1/explain:\nCLI:\n%s\nAPI:\n%s", r.Code, r.Stdout, apiExplain)
	}
}

// TestIngestAPI covers POST /api/v1/events: bearer token, body cap, all-or-nothing
// validation, and a successful write reaching /metrics.
func TestIngestAPI(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const token = "s3cr3t-ingest-token-value"
	tokenFile := filepath.Join(dir, "ingest-token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "flywheel.yml")
	writeFile(t, cfg, fmt.Sprintf("api:\n  token_file: %s\n  max_body_bytes: 4096\nstorage:\n  path: %s\n", tokenFile, filepath.Join(dir, "flywheel.db")))

	addr := freePort(t)
	base := "http://" + addr
	srv := startFlywheel(t, nil, "--config.file", cfg, "serve", "--web.listen-address", addr)
	waitForURL(t, nil, base+"/-/ready", http.StatusOK, 20*time.Second)

	post := func(auth, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, base+"/api/v1/events", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("POST /api/v1/events: %v", err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	good := `{"kind":"deployment","id":"argo-1","service":"checkout","environment":"production","sha":"abcdef1234567","finished_at":"2026-10-01T10:00:00Z","status":"success"}` + "\n" +
		`{"kind":"incident","id":"OG-1","service":"checkout","triggered_at":"2026-10-01T11:00:00Z","urgency":"high"}` + "\n"

	if code, _ := post("", good); code != http.StatusUnauthorized {
		t.Errorf("without a token: status %d, want 401", code)
	}
	if code, _ := post("Bearer wrong-token", good); code != http.StatusUnauthorized {
		t.Errorf("with a wrong token: status %d, want 401", code)
	}
	if code, _ := post("Bearer "+token, strings.Repeat(good, 40)); code != http.StatusRequestEntityTooLarge {
		t.Errorf("above max_body_bytes: status %d, want 413", code)
	}
	bad := good + `{"kind":"deployment","id":"argo-2","service":"checkout"}` + "\n" + `{"kind":"change","id":"x","service":"s","opened_at":"yesterday"}` + "\n"
	code, body := post("Bearer "+token, bad)
	if code != http.StatusBadRequest {
		t.Errorf("bad lines: status %d, want 400", code)
	}
	var lineErrs struct {
		Lines []struct {
			Line   int    `json:"line"`
			Reason string `json:"reason"`
		} `json:"lines"`
	}
	if err := json.Unmarshal([]byte(body), &lineErrs); err != nil || len(lineErrs.Lines) != 2 || lineErrs.Lines[0].Line != 3 || lineErrs.Lines[1].Line != 4 {
		t.Errorf("bad lines: body %s (err %v), want lines 3 and 4", body, err)
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /api/v1/events: %v %v, want 405", resp.StatusCode, err)
	} else {
		resp.Body.Close()
	}
	// Nothing of a rejected request was stored.
	_, metrics := get(t, nil, base+"/metrics")
	if got := sample(t, metrics, "flywheel_deployments_stored"); got != 0 {
		t.Errorf("after rejected requests flywheel_deployments_stored = %v, want 0", got)
	}

	code, body = post("Bearer "+token, good)
	if code != http.StatusOK || !strings.Contains(body, `"deployments":1`) || !strings.Contains(body, `"incidents":1`) {
		t.Fatalf("good request: status %d body %s", code, body)
	}
	// The write triggers a recompute; the store gauges follow shortly.
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, metrics = get(t, nil, base+"/metrics")
		if sample(t, metrics, "flywheel_deployments_stored") == 1 && sample(t, metrics, "flywheel_incidents_stored") == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("store gauges did not reach 1 deployment and 1 incident:\n%s", grep(metrics, "_stored"))
		}
		time.Sleep(100 * time.Millisecond)
	}

	// The token never appears in logs, responses or /metrics.
	if strings.Contains(metrics, token) {
		t.Error("/metrics contains the ingest token")
	}
	_ = srv.Cmd.Process.Signal(syscall.SIGTERM)
	if code := srv.Wait(t, 30*time.Second); code != 0 {
		t.Errorf("serve exited %d after SIGTERM", code)
	}
	if strings.Contains(srv.Stderr(), token) || strings.Contains(srv.Stdout(), token) {
		t.Errorf("the ingest token appears in serve's output:\n%s", srv.Stderr())
	}
}

// TestSecretsNeverLeak runs every command that reads a secret with debug logging
// and a config that also has problems, and checks that no token value appears in
// any output, error or /metrics.
func TestSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const (
		ingest = "ingest-TOKEN-7f3a9c"
		gh     = "ghp_SECRETvalue0123456789abcdef"
	)
	tokenFile := filepath.Join(dir, "ingest")
	writeFile(t, tokenFile, ingest)
	db := filepath.Join(dir, "flywheel.db")
	env := []string{"FLYWHEEL_E2E_GH_TOKEN=" + gh}
	cfg := filepath.Join(dir, "ok.yml")
	writeFile(t, cfg, fmt.Sprintf("api:\n  token_file: %s\nstorage:\n  path: %s\n", tokenFile, db))

	var outputs []string
	addr := freePort(t)
	srv := startFlywheel(t, env, "--config.file", cfg, "--log.level", "debug", "serve", "--web.listen-address", addr)
	waitForURL(t, nil, "http://"+addr+"/-/ready", http.StatusOK, 20*time.Second)
	_, metrics := get(t, nil, "http://"+addr+"/metrics")
	outputs = append(outputs, metrics)
	// A wrong token is refused without echoing either token.
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/api/v1/events", strings.NewReader("{}"))
	req.Header.Set("Authorization", "Bearer "+gh)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		outputs = append(outputs, string(b))
	}
	_ = srv.Cmd.Process.Signal(syscall.SIGTERM)
	srv.Wait(t, 30*time.Second)
	outputs = append(outputs, srv.Stdout(), srv.Stderr())

	// A config with problems next to a token in the environment: the errors name
	// keys, never values.
	bad := filepath.Join(dir, "bad.yml")
	writeFile(t, bad, "github:\n  token_env: FLYWHEEL_E2E_GH_TOKEN\n  schedule: \"every 15 minutes\"\n  repos:\n    - name: not-a-repo\napi:\n  token_file: "+filepath.Join(dir, "missing")+"\n")
	for _, args := range [][]string{
		{"--config.file", bad, "check-config"},
		{"--config.file", bad, "--log.level", "debug", "serve", "--web.listen-address", freePort(t)},
		{"--config.file", cfg, "--log.level", "debug", "report", "--format", "json"},
	} {
		r := runFlywheel(t, env, args...)
		outputs = append(outputs, r.Stdout, r.Stderr)
	}
	for i, out := range outputs {
		for _, secret := range []string{ingest, gh} {
			if strings.Contains(out, secret) {
				t.Errorf("output %d contains a secret:\n%s", i, out)
			}
		}
	}
}

// TestImportRejectsBadFile checks that a file with bad lines reports each with
// its line number and stores nothing.
func TestImportRejectsBadFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "flywheel.db")
	file := filepath.Join(dir, "events.jsonl")
	good, err := os.ReadFile("testdata/events.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(good, []byte("\n"))
	var in bytes.Buffer
	in.Write(lines[0])
	in.WriteString(`{"kind":"deployment","id":"d-x","service":"checkout","environment":"production","sha":"abc","finished_at":"2026-13-01T00:00:00Z","status":"success"}` + "\n")
	in.Write(lines[1])
	in.WriteString(`{"kind":"incident","id":"i-x","service":"checkout","triggered_at":"2026-10-01T00:00:00Z","severity":"high"}` + "\n")
	in.WriteString("not json\n")
	writeFile(t, file, in.String())

	r := runFlywheel(t, nil, "--storage.path", db, "import", file)
	if r.Code == 0 {
		t.Fatalf("import of a bad file exited 0")
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(regexp.QuoteMeta(file) + `:2: .*finished_at`),
		regexp.MustCompile(regexp.QuoteMeta(file) + `:4: .*severity`),
		regexp.MustCompile(regexp.QuoteMeta(file) + `:5: `),
	} {
		if !want.MatchString(r.Stderr) {
			t.Errorf("stderr does not match %s:\n%s", want, r.Stderr)
		}
	}
	if strings.Contains(r.Stderr, file+":1:") || strings.Contains(r.Stderr, file+":3:") {
		t.Errorf("good lines reported as bad:\n%s", r.Stderr)
	}
	// Nothing stored: the file is checked before the store is opened, so none
	// was even created, and report (which never creates one) says so.
	if _, err := os.Stat(db); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a rejected import created the store (stat: %v)", err)
	}
	r = runFlywheel(t, nil, "--storage.path", db, "report", "--format", "json", "--at", "2026-10-10T00:00:00Z")
	if r.Code == 0 || !strings.Contains(r.Stderr, "store "+db+" does not exist") {
		t.Errorf("report after a rejected import: exit %d\n%s", r.Code, r.Stderr)
	}
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// grep returns the lines of s containing sub.
func grep(s, sub string) string {
	var out []string
	for line := range strings.SplitSeq(s, "\n") {
		if strings.Contains(line, sub) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// TestWebConfigBasicAuth checks that --web.config.file protects every endpoint
// but the two probes, which an orchestrator calls without credentials.
func TestWebConfigBasicAuth(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	addr := freePort(t)
	base := "http://" + addr
	srv := startFlywheel(t, nil, "--storage.path", filepath.Join(dir, "flywheel.db"), "serve",
		"--web.listen-address", addr, "--web.config.file", "testdata/web-config.yml")
	waitForURL(t, nil, base+"/-/healthy", http.StatusOK, 20*time.Second)
	// no source configured: ready after the first computation
	waitForURL(t, nil, base+"/-/ready", http.StatusOK, 20*time.Second)
	for _, path := range []string{"/metrics", "/api/v1/report", "/report", "/api/v1/report?format=html", "/api/v1/explain?kpi=change_failure_ratio", "/api/v1/backup", "/"} {
		if code, _ := get(t, nil, base+path); code != http.StatusUnauthorized {
			t.Errorf("%s without credentials: status %d, want 401", path, code)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/metrics", nil)
	req.SetBasicAuth("prometheus", "wrong")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("/metrics with a wrong password: %v %v, want 401", resp.StatusCode, err)
	} else {
		resp.Body.Close()
	}
	req.SetBasicAuth("prometheus", "scrape-password")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "go_goroutines") {
		t.Errorf("/metrics with credentials: status %d", resp.StatusCode)
	}
	_ = srv.Cmd.Process.Signal(syscall.SIGTERM)
	if code := srv.Wait(t, 30*time.Second); code != 0 {
		t.Errorf("serve exited %d after SIGTERM", code)
	}
}

// dashboardExplainLinks returns the distinct explain links of the committed
// Grafana dashboards, with their variables still in.
func dashboardExplainLinks(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../deploy/grafana/dashboards/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("dashboards: %v (%d files)", err, len(files))
	}
	seen := map[string]bool{}
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if u, ok := x.(string); ok && k == "url" && strings.Contains(u, "/api/v1/explain?") && !seen[u] {
					seen[u] = true
					out = append(out, u)
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc any
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		walk(doc)
	}
	if len(out) < 5 {
		t.Fatalf("only %d explain links in the dashboards", len(out))
	}
	sort.Strings(out)
	return out
}
