package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

func TestCheckConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yml")
	writeFile(t, good, "windows: [7d, 30d]\ntune_ups:\n  - name: ci-speedup\n    label: \"tuneup:ci-speedup\"\n")
	if r := runFlywheel(t, nil, "--config.file", good, "check-config"); r.Code != 0 || !strings.Contains(r.Stdout, "config OK") {
		t.Errorf("good config: exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
	}
	bad := filepath.Join(dir, "bad.yml")
	writeFile(t, bad, "windows: [7d, soon]\nstorage:\n  pth: x.db\n")
	r := runFlywheel(t, nil, "--config.file", bad, "check-config")
	if r.Code == 0 {
		t.Fatal("bad config: exit 0")
	}
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	if len(lines) < 2 {
		t.Fatalf("bad config: want one line per problem, got:\n%s", r.Stdout)
	}
	for _, want := range []*regexp.Regexp{regexp.MustCompile(`(?m)^windows\[1\]: .*soon`), regexp.MustCompile(`(?m)^storage\.pth: `)} {
		if !want.MatchString(r.Stdout) {
			t.Errorf("bad config output does not match %s:\n%s", want, r.Stdout)
		}
	}
	// serve refuses the same config at start, with the same lines.
	if r := runFlywheel(t, nil, "--config.file", bad, "serve", "--web.listen-address", freePort(t)); r.Code == 0 || !strings.Contains(r.Stderr, "storage.pth: ") {
		t.Errorf("serve with a bad config: exit %d, stderr %q", r.Code, r.Stderr)
	}
}

func TestBackfillWritesOpenMetrics(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "flywheel.db")
	if r := runFlywheel(t, nil, "--storage.path", db, "import", "testdata/events.jsonl"); r.Code != 0 {
		t.Fatalf("import: %s", r.Stderr)
	}
	out := filepath.Join(dir, "backfill.om")
	r := runFlywheel(t, nil, "--storage.path", db, "backfill", "--from", "2026-10-01", "--to", "2026-10-11", "--step", "1d", "--output", out)
	if r.Code != 0 {
		t.Fatalf("backfill exited %d: %s", r.Code, r.Stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	if !strings.HasSuffix(text, "# EOF\n") {
		t.Errorf("backfill output does not end with # EOF")
	}
	// Each point sees only what had happened before it: the first deployment
	// finished on 1 October at 10:00, so checkout has 0 at 2026-10-01T00:00Z and
	// 3 at 2026-10-10T00:00Z (1.7915904e+09 s).
	if !strings.Contains(text, `flywheel_deployments{service_name="checkout",team="unknown"} 0.0 1.7908128e+09`) ||
		!strings.Contains(text, `flywheel_deployments{service_name="checkout",team="unknown"} 3.0 1.7915904e+09`) {
		t.Errorf("backfill output lacks checkout's 3 deployments at 2026-10-10:\n%s", grep(text, "flywheel_deployments"))
	}
	if promtool, err := exec.LookPath("promtool"); err == nil {
		tsdb := filepath.Join(dir, "tsdb")
		cmd := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics", out, tsdb)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool rejected the backfill: %v\n%s", err, b)
		}
	} else {
		t.Log("promtool not installed; skipping its check")
	}
	// Bad flags are usage errors, not crashes.
	if r := runFlywheel(t, nil, "--storage.path", db, "backfill", "--from", "2026-10-11", "--to", "2026-10-01"); r.Code != 2 {
		t.Errorf("backfill with from after to: exit %d, stderr %q", r.Code, r.Stderr)
	}
}

func TestReportFormats(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "flywheel.db")
	// `cat events.jsonl | flywheel import -`
	events, err := os.Open("testdata/events.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer events.Close()
	if r := runFlywheelInput(t, events, nil, "--storage.path", db, "import", "-"); r.Code != 0 || !strings.Contains(r.Stdout, "imported 6 deployments, 4 changes, 3 incidents from <stdin>") {
		t.Fatalf("import - exited %d: %s%s", r.Code, r.Stdout, r.Stderr)
	}
	// report never creates a store: a mistyped path is an error naming it.
	missing := filepath.Join(dir, "typo.db")
	if r := runFlywheel(t, nil, "--storage.path", missing, "report"); r.Code != 1 || !strings.Contains(r.Stderr, "store "+missing+" does not exist") {
		t.Errorf("report on a missing store: exit %d, stderr %q", r.Code, r.Stderr)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Errorf("report created %s", missing)
	}
	for format, want := range map[string][]string{
		"table":    {"Flywheel report as of 2026-10-10", "checkout", "search"},
		"markdown": {"# Flywheel report as of 2026-10-10", "| checkout |"},
		"html":     {"<!DOCTYPE html>", "checkout", `href="#x-svc-checkout-cfr"`, "flywheel explain change_failure_ratio --window 30d --service checkout --at 2026-10-10T00:00:00Z"},
		"json":     {`"at": "2026-10-10T00:00:00Z"`, `"checkout": {`},
	} {
		r := runFlywheel(t, nil, "--storage.path", db, "report", "--at", "2026-10-10", "--window", "30d", "--format", format)
		if r.Code != 0 {
			t.Errorf("report --format %s exited %d: %s", format, r.Code, r.Stderr)
			continue
		}
		for _, w := range want {
			if !strings.Contains(r.Stdout, w) {
				t.Errorf("report --format %s lacks %q:\n%s", format, w, r.Stdout)
			}
		}
	}
	r := runFlywheel(t, nil, "--storage.path", db, "report", "--at", "2026-10-10", "--service", "search", "--format", "json")
	if r.Code != 0 || strings.Contains(r.Stdout, `"checkout"`) || strings.Contains(r.Stdout, `"all"`) || !strings.Contains(r.Stdout, `"search"`) {
		t.Errorf("report --service search: exit %d\n%s", r.Code, r.Stdout)
	}
	if r := runFlywheel(t, nil, "--storage.path", db, "report", "--at", "tomorrow"); r.Code != 2 {
		t.Errorf("report --at tomorrow: exit %d, want 2 (usage)", r.Code)
	}
	// What does not exist is a usage error saying what is valid, not "No data".
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"report", "--service", "chekout"}, `flywheel report: unknown service "chekout"; valid: checkout, search (the services with events before `},
		{[]string{"report", "--service", "search", "--at", "2026-10-01"}, `unknown service "search"; valid: checkout (the services with events before 2026-10-01T00:00:00Z)`},
		{[]string{"report", "--service", "chekout", "--format", "html"}, `unknown service "chekout"`},
		{[]string{"report", "--at", "2999-01-01"}, "flywheel report: at 2999-01-01T00:00:00Z is in the future"},
		{[]string{"explain", "deployments", "--at", "2999-01-01"}, "flywheel explain: at 2999-01-01T00:00:00Z is in the future"},
	} {
		r := runFlywheel(t, nil, append([]string{"--storage.path", db}, tc.args...)...)
		if r.Code != 2 || !strings.Contains(r.Stderr, tc.want) || r.Stdout != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 2 and %q", tc.args, r.Code, r.Stdout, r.Stderr, tc.want)
		}
	}
}

func TestExplainFormats(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "flywheel.db")
	if r := runFlywheel(t, nil, "--storage.path", db, "import", "testdata/events.jsonl"); r.Code != 0 {
		t.Fatalf("import: %s", r.Stderr)
	}
	for format, want := range map[string][]string{
		"table": {"unattributed_incidents, all services, all history", "value: 2", "PD-2", "none: caused-by: none", "GH-3"},
		"csv":   {"kind,id,service,urgency,", "incident,GH-3,checkout,unknown,2026-10-09T10:00:00Z"},
		"json":  {`"kpi": "unattributed_incidents"`, `"window": null`, `"reason":"no deployment in the attribution window"`},
	} {
		r := runFlywheel(t, nil, "--storage.path", db, "explain", "unattributed_incidents", "--at", "2026-10-10", "--format", format)
		if r.Code != 0 {
			t.Errorf("explain --format %s exited %d: %s", format, r.Code, r.Stderr)
			continue
		}
		for _, w := range want {
			if !strings.Contains(r.Stdout, w) {
				t.Errorf("explain --format %s lacks %q:\n%s", format, w, r.Stdout)
			}
		}
	}
	r := runFlywheel(t, nil, "--storage.path", db, "explain", "lead_time", "--window", "30d")
	if r.Code != 2 || !strings.Contains(r.Stderr, `unknown KPI "lead_time"; valid: deployments,`) || !strings.Contains(r.Stderr, "lead_time_seconds") {
		t.Errorf("explain lead_time: exit %d, want 2 and the valid KPIs:\n%s", r.Code, r.Stderr)
	}
}

func TestLogFlags(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "flywheel.db")
	// A store created fresh logs its migrations at info level.
	r := runFlywheel(t, nil, "--storage.path", db, "--log.format", "json", "import", "testdata/events.jsonl")
	if r.Code != 0 {
		t.Fatalf("import: %s", r.Stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.Stderr), "\n")
	if len(lines) == 0 || lines[0] == "" {
		t.Fatal("no log lines")
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "{") || !strings.Contains(l, `"level":"INFO"`) {
			t.Errorf("not a JSON info line: %s", l)
		}
	}
	r = runFlywheel(t, nil, "--storage.path", filepath.Join(t.TempDir(), "other.db"), "--log.level", "warn", "import", "testdata/events.jsonl")
	if r.Code != 0 || strings.TrimSpace(r.Stderr) != "" {
		t.Errorf("--log.level warn still logs info lines: %q", r.Stderr)
	}
	if r := runFlywheel(t, nil, "--log.level", "verbose", "check-config"); r.Code != 2 {
		t.Errorf("--log.level verbose: exit %d, want 2", r.Code)
	}
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestTablesPipedKeepNames: table output that goes to a pipe (as here) or a
// file is not fitted to any width, so no service name or id is cut short.
func TestTablesPipedKeepNames(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "flywheel.db")
	const svc = "recommendations-personalisation-ranking-and-experiments-service"
	const id = "acme/recommendations-personalisation-ranking/deployments/1234567890"
	events := `{"kind":"deployment","id":"` + id + `","service":"` + svc + `","repo":"acme/recommendations-personalisation-ranking","environment":"production","sha":"1111111aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","finished_at":"2026-10-01T10:00:00Z","status":"success"}
{"kind":"change","id":"acme/recommendations-personalisation-ranking#4242","service":"` + svc + `","title":"feat: a title long enough that a terminal of a hundred columns could never show it whole","opened_at":"2026-09-30T09:00:00Z","merged_at":"2026-09-30T15:00:00Z","merge_sha":"1111111aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}
`
	if r := runFlywheelInput(t, strings.NewReader(events), nil, "--storage.path", db, "import", "-"); r.Code != 0 {
		t.Fatalf("import: %s", r.Stderr)
	}
	for _, args := range [][]string{
		{"report", "--at", "2026-10-10", "--window", "30d"},
		{"explain", "deployments", "--at", "2026-10-10", "--window", "30d"},
		{"explain", "lead_time_seconds", "--at", "2026-10-10", "--window", "30d"},
	} {
		r := runFlywheel(t, nil, append([]string{"--storage.path", db}, args...)...)
		if r.Code != 0 {
			t.Fatalf("%v: exit %d: %s", args, r.Code, r.Stderr)
		}
		if !strings.Contains(r.Stdout, svc) || strings.Contains(r.Stdout, "~") {
			t.Errorf("%v piped cuts the service name:\n%s", args, r.Stdout)
		}
		if args[1] == "deployments" && !strings.Contains(r.Stdout, id) {
			t.Errorf("%v piped cuts the deployment id:\n%s", args, r.Stdout)
		}
		if args[1] == "lead_time_seconds" && !strings.Contains(r.Stdout, "could never show it whole") {
			t.Errorf("%v piped cuts the PR title:\n%s", args, r.Stdout)
		}
	}
}

// TestImportWarnings: import stores what is valid by the format, warns of
// each suspicious line with its number, sums the warnings up, and counts
// what it stored truly: new and updated records, and lines that replaced an
// earlier line of the same file.
func TestImportWarnings(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db, file := filepath.Join(dir, "flywheel.db"), filepath.Join(dir, "events.jsonl")
	dep := func(id, status, finished string) string {
		return `{"kind":"deployment","id":"` + id + `","service":"checkout","environment":"production","sha":"1111111aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","finished_at":"` + finished + `","status":"` + status + `"}`
	}
	writeFile(t, file, strings.Join([]string{
		dep("d-1", "success", "2026-10-01T10:00:00Z"),
		dep("d-2", "SUCCESS", "2026-10-02T10:00:00Z"),
		dep("d-1", "success", "2026-10-03T10:00:00Z"),
		dep("d-3", "success", "1970-01-01T00:00:00Z"),
		dep("d-4", "success", "2099-01-01T00:00:00Z"),
		`{"kind":"change","id":"acme/checkout#1","service":"checkout","opened_at":"2026-10-02T09:00:00Z","merged_at":"2026-10-01T09:00:00Z"}`,
		dep("d-2", "success", "2026-10-02T10:00:00Z"),
	}, "\n")+"\n")
	r := runFlywheel(t, nil, "--storage.path", db, "--log.level", "warn", "import", file)
	if r.Code != 0 {
		t.Fatalf("import exited %d: %s", r.Code, r.Stderr)
	}
	for _, want := range []string{
		file + `:2: warning: status "SUCCESS" never counts: only exactly "success" (lower case) does`,
		file + `:3: warning: replaces line 1, the same deployment id "d-1": the later line is kept`,
		file + `:4: warning: field "finished_at": 1970-01-01T00:00:00Z is before 2000`,
		file + `:5: warning: field "finished_at": 2099-01-01T00:00:00Z is in the future`,
		file + `:6: warning: merged_at 2026-10-01T09:00:00Z is before opened_at 2026-10-02T09:00:00Z`,
		file + `:7: warning: replaces line 2, the same deployment id "d-2"`,
		file + `: 6 warnings (repeated id: 2, status not exactly "success": 1, time before 2000 or in the future: 2, times in an impossible order: 1); every line was stored as written`,
	} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("import stderr lacks %q:\n%s", want, r.Stderr)
		}
	}
	if want := "imported 4 deployments, 1 changes, 0 incidents from " + file + " into " + db + " (5 new, 0 updated; 7 lines, 2 of them replaced an earlier line with the same id)\n"; r.Stdout != want {
		t.Errorf("import stdout %q, want %q", r.Stdout, want)
	}
	// The same file again updates every record and adds none.
	r = runFlywheel(t, nil, "--storage.path", db, "--log.level", "warn", "import", file)
	if !strings.Contains(r.Stdout, "(0 new, 5 updated;") {
		t.Errorf("second import: %q", r.Stdout)
	}
	// Stored as written: d-2's last line, which says success, counts.
	r = runFlywheel(t, nil, "--storage.path", db, "explain", "deployments", "--at", "2026-10-10", "--window", "30d", "--format", "csv")
	if r.Code != 0 || !strings.Contains(r.Stdout, "deployment,d-2,checkout") || !strings.Contains(r.Stdout, "2026-10-03T10:00:00Z") {
		t.Errorf("explain deployments after the import: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
}

// TestVersion: --version prints, on standard output, the version, revision
// and build date as Prometheus exporters do. This binary is built without
// -ldflags: its version is the module's (a pseudo-version of the commit from
// a git checkout, "devel" without version control). deploy's
// TestDockerfileBuildCommand checks a release build's stamp.
func TestVersion(t *testing.T) {
	t.Parallel()
	r := runFlywheel(t, nil, "--version")
	if r.Code != 0 {
		t.Fatalf("--version exited %d: %s", r.Code, r.Stderr)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`^flywheel, version (devel|\d+\.\d+\.\d+\S*) \(branch: \S+, revision: \S+\)\n`),
		regexp.MustCompile(`(?m)^  build date:       (unknown|\d{8}-\d\d:\d\d:\d\d)$`),
		regexp.MustCompile(`(?m)^  go version:       ` + regexp.QuoteMeta(runtime.Version()) + `$`),
		regexp.MustCompile(`(?m)^  platform:         ` + runtime.GOOS + "/" + runtime.GOARCH + `$`),
	} {
		if !want.MatchString(r.Stdout) {
			t.Errorf("--version does not match %s:\n%s", want, r.Stdout)
		}
	}
}

// TestCheckConfigRefusesDegenerateSchedules: schedules the cron parser takes
// but that would sync every second, never, or not as written are refused by
// check-config, each on a line naming its key.
func TestCheckConfigRefusesDegenerateSchedules(t *testing.T) {
	t.Parallel()
	bad := filepath.Join(t.TempDir(), "schedules.yml")
	writeFile(t, bad, "github:\n  token_env: GITHUB_TOKEN\n  schedule: \"@every 0s\"\n  repos: [{name: acme/checkout}]\n"+
		"pagerduty:\n  token_env: PAGERDUTY_TOKEN\n  schedule: \"*/61 * * * *\"\n  services: [{id: P1, service: checkout}]\n")
	r := runFlywheel(t, nil, "--config.file", bad, "check-config", "--no-secrets")
	want := `github.schedule: invalid schedule "@every 0s": the interval must be positive (at least 1m)` + "\n" +
		`pagerduty.schedule: invalid schedule "*/61 * * * *": minute field "*/61": step 61 exceeds the range 0-59` + "\n"
	if r.Code != 1 || r.Stdout != want {
		t.Errorf("check-config: exit %d\nstdout:\n%s\nwant:\n%s\nstderr: %s", r.Code, r.Stdout, want, r.Stderr)
	}
}
