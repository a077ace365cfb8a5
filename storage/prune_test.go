package storage_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/storage"
)

// pruneStart is the first instant of pruneEvents; they span 60 days from it.
var pruneStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// pruneEvents generates n records of each kind over 60 days, at nanosecond
// times, in three services and three repos (two services share a repo),
// with unmerged changes (ordered by their opening), records sharing a time,
// and records written twice, the second time moved in time, service and repo
// (so that a replaced record's old index entries would show if they stayed).
// It returns the batches to write in order and the final events.
func pruneEvents(n int, seed uint64) (batches []flywheel.Events, final flywheel.Events) {
	rng := rand.New(rand.NewPCG(seed, 7))
	at := func() time.Time {
		return pruneStart.Add(time.Duration(rng.Int64N(int64(60 * flywheel.Day))))
	}
	svcs := []string{"checkout", "search", "cart"}
	repos := []string{"acme/shop", "acme/search", "acme/shop"}
	var first, second flywheel.Events
	for i := range n {
		s := rng.IntN(3)
		d := flywheel.Deployment{ID: fmt.Sprintf("acme/shop/deployments/%d", i), Service: svcs[s], Repo: repos[s], Environment: "production",
			SHA: fmt.Sprintf("%040x", i), FinishedAt: at(), Status: "success", Commits: []string{fmt.Sprintf("%040x", i)}, Source: "github"}
		c := flywheel.Change{ID: fmt.Sprintf("%s#%d", repos[s], i), Service: svcs[s], Repo: repos[s], Title: "feat: x", OpenedAt: at(), Source: "github"}
		if i%4 != 0 {
			c.MergedAt = c.OpenedAt.Add(time.Duration(rng.Int64N(int64(5 * flywheel.Day))))
			c.MergeSHA = fmt.Sprintf("%040x", i)
		}
		x := flywheel.Incident{ID: fmt.Sprintf("Q%d", i), Service: svcs[s], Title: "down", Urgency: "high", TriggeredAt: at(), Source: "pagerduty"}
		if i%10 == 3 && i > 0 {
			// the same time as the previous record of each kind: ordered by id
			d.FinishedAt = first.Deployments[i-1].FinishedAt
			c.OpenedAt, c.MergedAt = first.Changes[i-1].OpenedAt, first.Changes[i-1].MergedAt
			x.TriggeredAt = first.Incidents[i-1].TriggeredAt
		}
		first.Deployments = append(first.Deployments, d)
		first.Changes = append(first.Changes, c)
		first.Incidents = append(first.Incidents, x)
		if i%5 == 1 {
			t := (s + 1) % 3
			d.Service, d.Repo, d.FinishedAt = svcs[t], repos[t], at()
			c.Service, c.Repo, c.MergedAt, c.OpenedAt = svcs[t], repos[t], time.Time{}, at()
			x.Service, x.TriggeredAt = svcs[t], at()
			second.Deployments = append(second.Deployments, d)
			second.Changes = append(second.Changes, c)
			second.Incidents = append(second.Incidents, x)
		}
	}
	final = flywheel.Events{}
	moved := map[string]bool{}
	for _, d := range second.Deployments {
		moved[d.ID] = true
	}
	for i := range first.Deployments {
		if !moved[first.Deployments[i].ID] {
			final.Deployments = append(final.Deployments, first.Deployments[i])
			final.Changes = append(final.Changes, first.Changes[i])
			final.Incidents = append(final.Incidents, first.Incidents[i])
		}
	}
	final.Deployments = append(final.Deployments, second.Deployments...)
	final.Changes = append(final.Changes, second.Changes...)
	final.Incidents = append(final.Incidents, second.Incidents...)
	return []flywheel.Events{first, second}, final
}

// since keeps the events whose own time is at or after cut, in the store's
// order: by time, then id.
func since(ev flywheel.Events, cut time.Time) flywheel.Events {
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
	order := func(ta, tb time.Time, a, b string) int {
		if c := ta.Compare(tb); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	}
	slices.SortFunc(out.Deployments, func(a, b flywheel.Deployment) int { return order(a.FinishedAt, b.FinishedAt, a.ID, b.ID) })
	slices.SortFunc(out.Changes, func(a, b flywheel.Change) int {
		return order(flywheel.ChangeTime(a), flywheel.ChangeTime(b), a.ID, b.ID)
	})
	slices.SortFunc(out.Incidents, func(a, b flywheel.Incident) int { return order(a.TriggeredAt, b.TriggeredAt, a.ID, b.ID) })
	return out
}

// fillPruneStore writes pruneEvents into a new store at path and returns the
// final events.
func fillPruneStore(t *testing.T, path string, n int, seed uint64) flywheel.Events {
	t.Helper()
	s, err := storage.Open(path, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	batches, final := pruneEvents(n, seed)
	for _, b := range batches {
		write(t, s, flywheel.Batch{Events: b})
	}
	return final
}

// checkStore runs bbolt's check and the index check.
func checkStore(t *testing.T, s *storage.Store) {
	t.Helper()
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	if err := s.CheckIndexes(); err != nil {
		t.Fatal(err)
	}
}

// checkHolds checks that the store holds exactly want: every event, counts,
// and the answers of queries by service, repo and time.
func checkHolds(t *testing.T, s *storage.Store, want flywheel.Events) {
	t.Helper()
	checkStore(t, s)
	got, err := s.Events()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("the store holds %d deployments, %d changes, %d incidents; want %d, %d, %d (or they differ)",
			len(got.Deployments), len(got.Changes), len(got.Incidents), len(want.Deployments), len(want.Changes), len(want.Incidents))
	}
	if c, err := s.Counts(); err != nil || c != (storage.Counts{Deployments: len(want.Deployments), Changes: len(want.Changes), Incidents: len(want.Incidents)}) {
		t.Errorf("Counts() = %+v, %v; want %d, %d, %d", c, err, len(want.Deployments), len(want.Changes), len(want.Incidents))
	}
	var scanned flywheel.Events
	if err := s.Scan(eventsSink{&scanned}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(scanned, want) {
		t.Error("Scan passes other events than Events returns")
	}
	mid := pruneStart.Add(45 * flywheel.Day)
	for _, q := range []flywheel.Query{
		{Service: "checkout"}, {Service: "search"}, {Service: "cart"}, {Repo: "acme/shop"}, {Repo: "acme/search"},
		{Service: "cart", Repo: "acme/shop"}, {From: mid}, {To: mid}, {Service: "checkout", To: mid},
	} {
		match := func(svc, repo string, at time.Time) bool {
			return (q.Service == "" || svc == q.Service) && (q.Repo == "" || repo == q.Repo) &&
				(q.From.IsZero() || !at.Before(q.From)) && (q.To.IsZero() || at.Before(q.To))
		}
		var wd []flywheel.Deployment
		for _, d := range want.Deployments {
			if match(d.Service, d.Repo, d.FinishedAt) {
				wd = append(wd, d)
			}
		}
		var wc []flywheel.Change
		for _, c := range want.Changes {
			if match(c.Service, c.Repo, flywheel.ChangeTime(c)) {
				wc = append(wc, c)
			}
		}
		var wi []flywheel.Incident
		for _, x := range want.Incidents {
			if match(x.Service, q.Repo, x.TriggeredAt) { // incidents have no repo: q.Repo does not apply
				wi = append(wi, x)
			}
		}
		gd, err1 := s.Deployments(q)
		gc, err2 := s.Changes(q)
		gi, err3 := s.Incidents(q)
		if err := errors.Join(err1, err2, err3); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(gd, wd) || !reflect.DeepEqual(gc, wc) || !reflect.DeepEqual(gi, wi) {
			t.Errorf("query %+v: %d deployments, %d changes, %d incidents; want %d, %d, %d (or they differ)",
				q, len(gd), len(gc), len(gi), len(wd), len(wc), len(wi))
		}
	}
}

// eventsSink collects what Scan passes, copying each record.
type eventsSink struct{ ev *flywheel.Events }

func (e eventsSink) Grow(int, int, int) {}
func (e eventsSink) AddDeployment(d *flywheel.Deployment) {
	e.ev.Deployments = append(e.ev.Deployments, *d)
}
func (e eventsSink) AddChange(c *flywheel.Change)     { e.ev.Changes = append(e.ev.Changes, *c) }
func (e eventsSink) AddIncident(x *flywheel.Incident) { e.ev.Incidents = append(e.ev.Incidents, *x) }

// TestPruneKeepsEventsFromTheCut: after Prune the store holds exactly the
// events whose own time is at or after the cut, whatever the batch size; its
// indexes and counters agree with them, it equals a store into which those
// events alone were written, and it goes on taking writes (a pruned id
// written again is new).
func TestPruneKeepsEventsFromTheCut(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		cut   time.Time
		batch int
	}{
		{"middle, batches of 7", pruneStart.Add(30*flywheel.Day + 1234567), 7},
		{"middle, one batch", pruneStart.Add(30*flywheel.Day + 1234567), 0},
		{"before every event", pruneStart, 5},
		{"after every event", pruneStart.Add(61 * flywheel.Day), 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, "flywheel.db")
			all := fillPruneStore(t, path, 300, 1)
			want := since(all, tc.cut)
			s, err := storage.Open(path, storage.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			dry, err := s.CountBefore(tc.cut)
			if err != nil {
				t.Fatal(err)
			}
			var batches int
			p, err := s.Prune(context.Background(), tc.cut, storage.PruneOptions{BatchSize: tc.batch, Progress: func(storage.Pruned) { batches++ }})
			if err != nil {
				t.Fatal(err)
			}
			wantPruned := storage.Pruned{Deployments: 300 - len(want.Deployments), Changes: 300 - len(want.Changes), Incidents: 300 - len(want.Incidents)}
			if p != wantPruned || dry != wantPruned {
				t.Errorf("Prune deleted %+v, CountBefore counted %+v; want %+v", p, dry, wantPruned)
			}
			if tc.batch > 0 {
				if min := (wantPruned.Deployments+tc.batch-1)/tc.batch + (wantPruned.Changes+tc.batch-1)/tc.batch +
					(wantPruned.Incidents+tc.batch-1)/tc.batch; batches != min {
					t.Errorf("%d transactions, want %d of at most %d records", batches, min, tc.batch)
				}
			}
			checkHolds(t, s, want)

			fresh := openTemp(t)
			write(t, fresh, flywheel.Batch{Events: want})
			if a, b := mustEvents(t, s), mustEvents(t, fresh); !reflect.DeepEqual(a, b) {
				t.Error("the pruned store differs from a store written with the kept events only")
			}
			// Pruning again deletes nothing.
			if p, err := s.Prune(context.Background(), tc.cut, storage.PruneOptions{}); err != nil || p != (storage.Pruned{}) {
				t.Errorf("a second prune: %+v, %v", p, err)
			}
			// A pruned record written again is a new record; a kept one
			// replaced stays one.
			again := all.Deployments[0]
			again.FinishedAt = tc.cut.Add(time.Hour)
			b := flywheel.Batch{Events: flywheel.Events{Deployments: []flywheel.Deployment{again}}}
			if len(want.Changes) > 0 {
				b.Changes = []flywheel.Change{want.Changes[0]}
			}
			write(t, s, b)
			c, _ := s.Counts()
			wantD := len(want.Deployments)
			if all.Deployments[0].FinishedAt.Before(tc.cut) {
				wantD++
			}
			if c.Deployments != wantD || c.Changes != len(want.Changes) {
				t.Errorf("after writing again: %+v, want %d deployments and %d changes", c, wantD, len(want.Changes))
			}
			checkStore(t, s)
		})
	}
}

func mustEvents(t *testing.T, s *storage.Store) flywheel.Events {
	t.Helper()
	ev, err := s.Events()
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// TestPruneSnapshots: the daily snapshots computed before the cut go, those
// computed at or after it stay (on the cut's own day too), and the latest
// goes only when it is older than the cut.
func TestPruneSnapshots(t *testing.T) {
	t.Parallel()
	day := func(d, h int) time.Time {
		return pruneStart.Add(time.Duration(d)*flywheel.Day + time.Duration(h)*time.Hour)
	}
	for _, tc := range []struct {
		name       string
		cut        time.Time
		keep       []time.Time
		keepLatest bool
	}{
		{"cut before the day's snapshot", day(3, 12), []time.Time{day(3, 18), day(4, 18), day(5, 18)}, true},
		{"cut after the day's snapshot", day(3, 20), []time.Time{day(4, 18), day(5, 18)}, true},
		{"cut at the snapshot", day(3, 18), []time.Time{day(3, 18), day(4, 18), day(5, 18)}, true},
		{"cut after every snapshot", day(9, 0), nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := openTemp(t)
			for d := range 6 {
				if err := s.PutSnapshot(day(d, 18), []byte(fmt.Sprintf("day %d", d))); err != nil {
					t.Fatal(err)
				}
			}
			dry, err := s.CountBefore(tc.cut)
			if err != nil {
				t.Fatal(err)
			}
			p, err := s.Prune(context.Background(), tc.cut, storage.PruneOptions{BatchSize: 2})
			if err != nil {
				t.Fatal(err)
			}
			if want := (storage.Pruned{Snapshots: 6 - len(tc.keep)}); p != want || dry != want {
				t.Errorf("Prune deleted %+v, CountBefore counted %+v; want %+v", p, dry, want)
			}
			snaps, err := s.Snapshots(time.Time{}, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			var got []time.Time
			for _, sn := range snaps {
				got = append(got, sn.At)
				if want := fmt.Sprintf("day %d", sn.At.Sub(pruneStart)/flywheel.Day); string(sn.Data) != want {
					t.Errorf("snapshot at %s holds %q, want %q", sn.At, sn.Data, want)
				}
			}
			if !reflect.DeepEqual(got, tc.keep) {
				t.Errorf("snapshots kept at %v, want %v", got, tc.keep)
			}
			at, _, ok, err := s.LatestSnapshot()
			if err != nil || ok != tc.keepLatest || (ok && !at.Equal(day(5, 18))) {
				t.Errorf("latest snapshot: %s, %v, %v; want kept: %v", at, ok, err, tc.keepLatest)
			}
			checkStore(t, s)
		})
	}
}

// TestPruneDryRunChangesNothing: CountBefore, also on a store opened
// read-only, leaves the file byte for byte as it was.
func TestPruneDryRunChangesNothing(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "flywheel.db")
	all := fillPruneStore(t, path, 200, 2)
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cut := pruneStart.Add(20 * flywheel.Day)
	for _, open := range []func(string, storage.Options) (*storage.Store, error){storage.Open, storage.OpenReadOnly} {
		s, err := open(path, storage.Options{})
		if err != nil {
			t.Fatal(err)
		}
		p, err := s.CountBefore(cut)
		if err != nil {
			t.Fatal(err)
		}
		kept := since(all, cut)
		if p.Events() != all.Len()-kept.Len() || p.Deployments != len(all.Deployments)-len(kept.Deployments) {
			t.Errorf("CountBefore = %+v, want %d events before the cut", p, all.Len()-kept.Len())
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if after, err := os.ReadFile(path); err != nil || !bytes.Equal(after, before) {
		t.Errorf("the file changed (%v)", err)
	}
	// A read-only store cannot be pruned.
	s, err := storage.OpenReadOnly(path, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Prune(context.Background(), cut, storage.PruneOptions{}); err == nil {
		t.Error("Prune on a read-only store succeeded")
	}
}

// TestPruneInterrupted: a prune stopped between two transactions (its context
// cancelled after the second) leaves a consistent store holding, of each
// kind, the newest records and none older than one it holds; running it again
// finishes the work.
func TestPruneInterrupted(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "flywheel.db")
	all := fillPruneStore(t, path, 200, 3)
	cut := pruneStart.Add(40 * flywheel.Day)
	ctx, cancel := context.WithCancel(context.Background())
	s, err := storage.Open(path, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	p, err := s.Prune(ctx, cut, storage.PruneOptions{BatchSize: 10, Progress: func(storage.Pruned) {
		if n++; n == 2 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Prune after cancel: %v", err)
	}
	if p != (storage.Pruned{Deployments: 20}) {
		t.Errorf("deleted %+v before stopping, want the 20 oldest deployments", p)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = storage.Open(path, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkSuffix(t, s, all)
	rest, err := s.Prune(context.Background(), cut, storage.PruneOptions{BatchSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	want := since(all, cut)
	if total := p.Events() + rest.Events(); total != all.Len()-want.Len() {
		t.Errorf("the two runs deleted %d events, want %d", total, all.Len()-want.Len())
	}
	checkHolds(t, s, want)
}

// checkSuffix checks a store part-way through a prune of all: consistent,
// and holding of each kind the newest records of all, none missing after
// the oldest it holds.
func checkSuffix(t *testing.T, s *storage.Store, all flywheel.Events) {
	t.Helper()
	checkStore(t, s)
	sorted := since(all, time.Time{})
	got := mustEvents(t, s)
	if n := len(got.Deployments); !reflect.DeepEqual(got.Deployments, sorted.Deployments[len(sorted.Deployments)-n:]) {
		t.Errorf("the %d deployments left are not the newest", n)
	}
	if n := len(got.Changes); !reflect.DeepEqual(got.Changes, sorted.Changes[len(sorted.Changes)-n:]) {
		t.Errorf("the %d changes left are not the newest", n)
	}
	if n := len(got.Incidents); !reflect.DeepEqual(got.Incidents, sorted.Incidents[len(sorted.Incidents)-n:]) {
		t.Errorf("the %d incidents left are not the newest", n)
	}
}

// helperPruner prunes the store at path before the time in envCut, one
// record per transaction, printing a line after the first, until done or
// killed.
func helperPruner(path, cut string) int {
	before, err := time.Parse(time.RFC3339Nano, cut)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	s, err := storage.Open(path, storage.Options{Timeout: 10 * time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	first := true
	_, err = s.Prune(context.Background(), before, storage.PruneOptions{BatchSize: 1, Progress: func(storage.Pruned) {
		if first {
			fmt.Println("pruning")
			first = false
		}
	}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	_ = s.Close()
	return 0
}

// TestPruneKilled kills a pruning child process with SIGKILL at random
// moments, in the middle of its transactions; after each kill the store must
// be consistent and hold a newest part of each kind, and a last prune run to
// the end leaves exactly the events from the cut.
func TestPruneKilled(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "flywheel.db")
	all := fillPruneStore(t, path, 400, 4)
	cut := pruneStart.Add(50 * flywheel.Day)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 2))
	kills := 0
	for i := range 8 {
		cmd := helper(context.Background(), "pruner", path)
		cmd.Env = append(cmd.Env, envCut+"="+cut.Format(time.RFC3339Nano))
		line, stderr := startHelper(t, cmd)
		if line == "pruning\n" {
			time.Sleep(time.Duration(rng.IntN(30_000)) * time.Microsecond)
			_ = cmd.Process.Signal(syscall.SIGKILL)
		}
		_ = cmd.Wait()
		ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
		switch {
		case ws.Signaled():
			kills++
		case ws.ExitStatus() != 0:
			t.Fatalf("run %d: the pruner failed: %s", i, stderr.String())
		}
		s, err := storage.Open(path, storage.Options{})
		if err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
		checkSuffix(t, s, all)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if !ws.Signaled() {
			break // it finished: nothing left to interrupt
		}
	}
	s, err := storage.Open(path, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Prune(context.Background(), cut, storage.PruneOptions{}); err != nil {
		t.Fatal(err)
	}
	checkHolds(t, s, since(all, cut))
	t.Logf("%d kills mid-prune", kills)
}

// TestCompactTo: after a prune the file keeps its size; the compacted copy is
// smaller, opens as a store, and holds the same events, counts, cursors and
// snapshots. It refuses to overwrite a file.
func TestCompactTo(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "flywheel.db")
	all := fillPruneStore(t, path, 2000, 5)
	s, err := storage.Open(path, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	write(t, s, flywheel.Batch{Cursors: []flywheel.Cursor{{Source: "github", Key: "acme/shop/pulls", Value: "2026-03-01T00:00:00Z"}}})
	if err := s.PutSnapshot(pruneStart.Add(59*flywheel.Day), []byte("snapshot")); err != nil {
		t.Fatal(err)
	}
	size := func(p string) int64 {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	full := size(path)
	cut := pruneStart.Add(50 * flywheel.Day)
	if _, err := s.Prune(context.Background(), cut, storage.PruneOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := size(path); got != full {
		t.Errorf("the file went from %d to %d bytes after the prune; bbolt does not shrink it", full, got)
	}
	out := filepath.Join(dir, "compact.db")
	n, err := s.CompactTo(out)
	if err != nil {
		t.Fatal(err)
	}
	if n != size(out) || n >= full/2 {
		t.Errorf("the compacted copy is %d bytes (said %d), the store %d: want under half after deleting most events", size(out), n, full)
	}
	c, err := storage.Open(out, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	checkHolds(t, c, since(all, cut))
	if v, err := c.Cursor("github", "acme/shop/pulls"); err != nil || v != "2026-03-01T00:00:00Z" {
		t.Errorf("cursor in the copy: %q, %v", v, err)
	}
	if _, data, ok, err := c.LatestSnapshot(); err != nil || !ok || string(data) != "snapshot" {
		t.Errorf("latest snapshot in the copy: %q, %v, %v", data, ok, err)
	}
	// The copy takes writes.
	write(t, c, flywheel.Batch{Events: flywheel.Events{Deployments: all.Deployments[:1]}})
	checkStore(t, c)

	if _, err := s.CompactTo(out); !errors.Is(err, fs.ErrExist) {
		t.Errorf("compacting onto an existing file: %v", err)
	}
	if _, err := s.CompactTo(path); !errors.Is(err, fs.ErrExist) {
		t.Errorf("compacting onto the store itself: %v", err)
	}
	if _, err := s.CompactTo(filepath.Join(dir, "missing", "x.db")); err == nil {
		t.Error("compacting into a missing directory succeeded")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("the directory holds %d files, want the store and the copy", len(entries))
	}
}
