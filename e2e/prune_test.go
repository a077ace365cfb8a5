package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestPruneThenReport: prune refuses a store that serve holds, says in a dry
// run what it would delete, then deletes it; the pruned store and its
// compacted copy report exactly what a new store of the events from the cut
// on (export --since, then import) reports.
func TestPruneThenReport(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "flywheel.db")
	if r := runFlywheel(t, nil, "--storage.path", db, "import", "testdata/events.jsonl"); r.Code != 0 {
		t.Fatalf("import: %s", r.Stderr)
	}
	kept := filepath.Join(dir, "kept.jsonl")
	fresh := filepath.Join(dir, "fresh.db")
	if r := runFlywheel(t, nil, "--storage.path", db, "export", "--since", "2026-10-03", kept); r.Code != 0 {
		t.Fatalf("export: %s", r.Stderr)
	}
	if r := runFlywheel(t, nil, "--storage.path", fresh, "import", kept); r.Code != 0 || !strings.Contains(r.Stdout, "imported 5 deployments, 3 changes, 3 incidents") {
		t.Fatalf("import of the kept events: exit %d: %s%s", r.Code, r.Stdout, r.Stderr)
	}

	addr := freePort(t)
	srv := startFlywheel(t, nil, "--storage.path", db, "serve", "--web.listen-address", addr)
	waitForURL(t, nil, "http://"+addr+"/-/ready", http.StatusOK, 20*time.Second)
	r := runFlywheel(t, nil, "--storage.path", db, "prune", "--before", "2026-10-03")
	if want := db + " is in use by another flywheel process (serve?): stop it, prune, then start it again"; r.Code != 1 || !strings.Contains(r.Stderr, want) {
		t.Errorf("prune while serve runs: exit %d, stderr %q\nwant %q", r.Code, r.Stderr, want)
	}
	if err := srv.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := srv.Wait(t, 30*time.Second); code != 0 {
		t.Fatalf("serve exited %d", code)
	}

	before, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	r = runFlywheel(t, nil, "--storage.path", db, "prune", "--before", "2026-10-03", "--dry-run")
	if r.Code != 0 || !strings.Contains(r.Stdout, "would delete 1 deployments, 1 changes, 0 incidents and 0 daily KPI snapshots from before 2026-10-03T00:00:00Z") ||
		!strings.Contains(r.Stdout, "dry run: nothing deleted") {
		t.Errorf("dry run: exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
	}
	if after, _ := os.ReadFile(db); string(after) != string(before) {
		t.Error("the dry run changed the store")
	}

	compact := filepath.Join(dir, "compact.db")
	r = runFlywheel(t, nil, "--storage.path", db, "prune", "--before", "2026-10-03", "--compact", compact)
	if r.Code != 0 || !strings.Contains(r.Stdout, "deleted 1 deployments, 1 changes, 0 incidents and 0 daily KPI snapshots") ||
		!strings.Contains(r.Stdout, "kept 5 deployments, 3 changes, 3 incidents") || !strings.Contains(r.Stdout, "wrote a compacted copy of the store to "+compact) {
		t.Errorf("prune: exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
	}
	report := func(path string) string {
		r := runFlywheel(t, nil, "--storage.path", path, "report", "--at", "2026-10-10", "--format", "json")
		if r.Code != 0 {
			t.Fatalf("report of %s: %s", path, r.Stderr)
		}
		return r.Stdout
	}
	want := report(fresh)
	for _, p := range []string{db, compact} {
		if got := report(p); got != want {
			t.Errorf("the report of %s differs from that of a new store of the kept events:\n%s\nwant:\n%s", p, got, want)
		}
	}
	// The copy is a store serve can run on.
	addr = freePort(t)
	srv = startFlywheel(t, nil, "--storage.path", compact, "serve", "--web.listen-address", addr)
	waitForURL(t, nil, "http://"+addr+"/-/ready", http.StatusOK, 20*time.Second)
	if code, body := get(t, nil, "http://"+addr+"/metrics"); code != http.StatusOK || sample(t, body, "flywheel_deployments_stored") != 5 {
		t.Errorf("serve on the compacted copy: status %d, flywheel_deployments_stored %v", code, sample(t, body, "flywheel_deployments_stored"))
	}
	if err := srv.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	srv.Wait(t, 30*time.Second)
}

// TestPruneInterruptedBySIGINT: Ctrl-C stops a prune between two
// transactions with exit code 130 and says how far it got; the same command
// run again finishes, and the store then holds the events from the cut on.
func TestPruneInterruptedBySIGINT(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "flywheel.db")
	var b strings.Builder
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const n = 4000
	for i := range n {
		fmt.Fprintf(&b, `{"kind":"deployment","id":"d-%d","service":"svc-%d","repo":"acme/r%d","environment":"production","sha":"%040x","finished_at":%q,"status":"success"}`+"\n",
			i, i%5, i%3, i, start.Add(time.Duration(i)*time.Hour).Format(time.RFC3339))
	}
	events := filepath.Join(dir, "events.jsonl")
	writeFile(t, events, b.String())
	if r := runFlywheel(t, nil, "--storage.path", db, "import", events); r.Code != 0 {
		t.Fatalf("import: %s", r.Stderr)
	}
	cut := start.Add(n / 2 * time.Hour).Format(time.RFC3339)
	// One record per transaction, with a debug line after each, so that the
	// signal arrives mid-way.
	p := startFlywheel(t, nil, "--log.level", "debug", "--storage.path", db, "prune", "--before", cut, "--batch-size", "1")
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(p.Stderr(), "pruned so far") && !p.Exited() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if err := p.Cmd.Process.Signal(syscall.SIGINT); err != nil && !p.Exited() {
		t.Fatal(err)
	}
	code := p.Wait(t, 30*time.Second)
	switch code {
	case 130:
		if !strings.Contains(p.Stdout(), "interrupted after deleting ") || !strings.Contains(p.Stdout(), "run the same command again to finish") {
			t.Errorf("interrupted prune said %q", p.Stdout())
		}
	case 0:
		t.Log("the prune finished before the signal arrived")
	default:
		t.Fatalf("prune exited %d after SIGINT: %s", code, p.Stderr())
	}
	r := runFlywheel(t, nil, "--storage.path", db, "prune", "--before", cut)
	if r.Code != 0 || !strings.Contains(r.Stdout, "kept 2000 deployments, 0 changes, 0 incidents") {
		t.Errorf("prune run again: exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
	}
	r = runFlywheel(t, nil, "--storage.path", db, "export", "--since", "2000-01-01")
	if lines := strings.Count(r.Stdout, "\n"); r.Code != 0 || lines != n/2 || !strings.Contains(r.Stdout, `"id":"d-2000"`) || strings.Contains(r.Stdout, `"id":"d-1999"`) {
		t.Errorf("after the second prune the store exports %d lines (exit %d), want d-2000 to d-3999", lines, r.Code)
	}
}
