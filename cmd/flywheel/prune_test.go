package main

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/storage"
)

// keptSince is ev without the events whose own time is before cut.
func keptSince(ev flywheel.Events, cut time.Time) flywheel.Events {
	var out flywheel.Events
	for _, d := range ev.Deployments {
		if !d.FinishedAt.Before(cut) {
			out.Deployments = append(out.Deployments, d)
		}
	}
	for _, c := range ev.Changes {
		if !flywheel.ChangeTime(c).Before(cut) {
			out.Changes = append(out.Changes, c)
		}
	}
	for _, x := range ev.Incidents {
		if !x.TriggeredAt.Before(cut) {
			out.Incidents = append(out.Incidents, x)
		}
	}
	return out
}

// TestPruneCommand: `flywheel prune --before` in batches leaves the store
// holding the events from the cut on, and its report (every window, every
// service, the initiatives) is byte for byte that of a new store into which
// only those events were written; the compacted copy reports the same again.
// The dry run before it said what would go and changed nothing.
func TestPruneCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "flywheel.yml")
	if err := os.WriteFile(cfg, []byte(roundTripConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "flywheel.db")
	ev := varietyEvents(3000, 4)
	writeStore(t, db, ev)
	cut := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	kept := keptSince(ev, cut)
	pruned := ev.Len() - kept.Len()
	if kept.Len() == 0 || pruned == 0 {
		t.Fatalf("the cut keeps %d of %d events: the test would prove little", kept.Len(), ev.Len())
	}
	fresh := filepath.Join(dir, "fresh.db")
	writeStore(t, fresh, kept)

	before := readFile(t, db)
	r := mustRun(t, "", "--config.file", cfg, "--storage.path", db, "prune", "--before", "2026-05-01", "--dry-run")
	d, c, i := len(ev.Deployments)-len(kept.Deployments), len(ev.Changes)-len(kept.Changes), len(ev.Incidents)-len(kept.Incidents)
	if want := eventCounts(d, c, i) + " and 0 daily KPI snapshots from before 2026-05-01T00:00:00Z in " + db; !strings.Contains(r.stdout, "would delete "+want) ||
		!strings.Contains(r.stdout, "would keep "+eventCounts(len(kept.Deployments), len(kept.Changes), len(kept.Incidents))) {
		t.Errorf("dry run said:\n%s", r.stdout)
	}
	if readFile(t, db) != before {
		t.Error("the dry run changed the store")
	}

	compact := filepath.Join(dir, "compact.db")
	r = mustRun(t, "", "--config.file", cfg, "--storage.path", db, "prune", "--before", "2026-05-01", "--batch-size", "50", "--compact", compact)
	if !strings.Contains(r.stdout, "deleted "+eventCounts(d, c, i)) || !strings.Contains(r.stdout, "kept "+eventCounts(len(kept.Deployments), len(kept.Changes), len(kept.Incidents))) ||
		!strings.Contains(r.stdout, "wrote a compacted copy of the store to "+compact) {
		t.Errorf("prune said:\n%s", r.stdout)
	}
	want := storedEvents(t, fresh)
	for _, p := range []string{db, compact} {
		if got := storedEvents(t, p); !reflect.DeepEqual(got, want) {
			t.Errorf("%s holds %d events, the store of the kept events %d (or they differ)", p, got.Len(), want.Len())
		}
	}
	report := func(path string) string {
		return mustRun(t, "", "--config.file", cfg, "--storage.path", path, "report", "--format", "json", "--at", roundTripAt.Format(time.RFC3339)).stdout
	}
	wantReport := report(fresh)
	for _, p := range []string{db, compact} {
		if got := report(p); got != wantReport {
			t.Errorf("the report of %s differs from that of the kept events in a new store:\n%s", p, firstDifference(got, wantReport))
		}
	}

	// Again: nothing left to delete, and nothing said about the file's size.
	r = mustRun(t, "", "--config.file", cfg, "--storage.path", db, "prune", "--older-than", "1000d")
	if !strings.Contains(r.stdout, "deleted "+eventCounts(0, 0, 0)) || strings.Contains(r.stdout, "the file is still") {
		t.Errorf("a second prune said:\n%s", r.stdout)
	}
}

// TestPruneCommandErrors: a missing or mistyped cut is a usage error; a
// missing store is not created; a store held by another process (a running
// serve) is left as it was, with an error saying to stop it.
func TestPruneCommandErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "flywheel.db")
	writeStore(t, db, varietyEvents(100, 5))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "give the cut: --before DATE or --older-than DURATION"},
		{[]string{"--before", "2026-01-01", "--older-than", "30d"}, "not both"},
		{[]string{"--before", "01/05/2026"}, `--before: "01/05/2026" is neither an RFC3339 time`},
		{[]string{"--older-than", "a year"}, `--older-than: invalid duration "a year"`},
		{[]string{"--before", "2999-01-01"}, "--before 2999-01-01T00:00:00Z is in the future"},
		{[]string{"--before", "2026-01-01", "--dry-run", "--compact", filepath.Join(dir, "c.db")}, "--dry-run changes nothing"},
		{[]string{"--before", "2026-01-01", "--batch-size", "0"}, "--batch-size must be at least 1"},
	} {
		r := runCLI("", append([]string{"--storage.path", db, "prune"}, tc.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("prune %s: exit %d, stderr %q; want 2 and %q", strings.Join(tc.args, " "), r.code, r.stderr, tc.want)
		}
	}

	missing := filepath.Join(dir, "typo.db")
	for _, dry := range []string{"--dry-run", "--batch-size=10"} {
		r := runCLI("", "--storage.path", missing, "prune", "--older-than", "400d", dry)
		if r.code != 1 || !strings.Contains(r.stderr, "store "+missing+" does not exist") {
			t.Errorf("prune %s on a missing store: exit %d, stderr %q", dry, r.code, r.stderr)
		}
		if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("prune created %s", missing)
		}
	}

	st, err := storage.Open(db, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	before := readFile(t, db)
	r := runCLI("", "--storage.path", db, "prune", "--before", "2026-06-01")
	if want := db + " is in use by another flywheel process (serve?): stop it, prune, then start it again"; r.code != 1 || !strings.Contains(r.stderr, want) {
		t.Errorf("prune while a writer holds the store: exit %d, stderr %q\nwant %q", r.code, r.stderr, want)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if readFile(t, db) != before {
		t.Error("the store changed")
	}
}

// TestPruneWarnings: a cut within the longest KPI window, or more recent than
// history while a source is configured, is pruned with a warning saying what
// it does besides; an old cut with no source warns of nothing.
func TestPruneWarnings(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "flywheel.yml")
	if err := os.WriteFile(cfg, []byte(roundTripConfig+"history: 400d\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "flywheel.db")
	writeStore(t, db, varietyEvents(100, 6))
	r := mustRun(t, "", "--config.file", cfg, "--storage.path", db, "prune", "--older-than", "60d", "--dry-run")
	for _, want := range []string{
		"warning: the cut is 60d ago, within the 90d window: that window's KPIs as of now will count only events from the cut on",
		"warning: the cut is 60d ago, less than history (400d): a source's first sync (a new repository, a store without sync cursors) reads 400d back and stores those events again; set history to 60d or less",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if r := mustRun(t, "", "--storage.path", db, "prune", "--older-than", "500d", "--dry-run"); strings.Contains(r.stderr, "warning") {
		t.Errorf("an old cut without sources warned:\n%s", r.stderr)
	}
	if r := mustRun(t, "", "--config.file", cfg, "--storage.path", db, "prune", "--older-than", "500d"); strings.Contains(r.stderr, "warning") {
		t.Errorf("a cut older than history and every window warned:\n%s", r.stderr)
	}
}
