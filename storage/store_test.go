package storage_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/storage"
)

func openTemp(t *testing.T) *storage.Store {
	t.Helper()
	s, err := storage.Open(filepath.Join(t.TempDir(), "flywheel.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func write(t *testing.T, s *storage.Store, b flywheel.Batch) {
	t.Helper()
	if err := s.WriteBatch(context.Background(), b); err != nil {
		t.Fatal(err)
	}
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func hours(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }

func deployIDs(ds []flywheel.Deployment) []string {
	ids := []string{}
	for _, d := range ds {
		ids = append(ids, d.ID)
	}
	return ids
}

func TestRoundTripAllFields(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	berlin := time.FixedZone("CET", 3600)
	d := flywheel.Deployment{ID: "d-1", Service: "checkout", Repo: "acme/checkout", Environment: "production",
		SHA: "abc", FinishedAt: time.Date(2026, 3, 1, 13, 0, 0, 123456789, berlin), Status: "success",
		Commits: []string{"abc", "def"}, CompareStatus: "ahead", Source: "github"}
	empty := flywheel.Deployment{ID: "d-2", Service: "checkout", Environment: "staging", SHA: "x",
		FinishedAt: hours(2), Status: "failure", Commits: []string{}}
	unknown := flywheel.Deployment{ID: "d-3", Service: "checkout", Environment: "staging", SHA: "y",
		FinishedAt: hours(3), Status: "failure"}
	c := flywheel.Change{ID: "acme/checkout#42", Service: "checkout", Repo: "acme/checkout", Title: "feat: ünïcode",
		Labels: []string{"feature"}, Author: "ann", FirstCommitAt: hours(-5), OpenedAt: hours(-4),
		FirstReviewAt: hours(-3), MergedAt: hours(-1), MergeSHA: "def", Paths: []string{"api/x.go"}, Source: "import"}
	open := flywheel.Change{ID: "acme/checkout#43", Service: "checkout", OpenedAt: hours(-2)}
	in := flywheel.Incident{ID: "PD-1", Service: "checkout", Urgency: "high", Priority: "P1", Title: "down",
		StartedAt: hours(1), TriggeredAt: hours(1).Add(time.Minute), AcknowledgedAt: hours(2), ResolvedAt: hours(3),
		CausedBy: "d-1", Source: "pagerduty"}
	write(t, s, flywheel.Batch{Events: flywheel.Events{
		Deployments: []flywheel.Deployment{d, empty, unknown},
		Changes:     []flywheel.Change{c, open},
		Incidents:   []flywheel.Incident{in},
	}})
	ev, err := s.Events()
	if err != nil {
		t.Fatal(err)
	}
	// Times come back in UTC, the same instant.
	d.FinishedAt = d.FinishedAt.UTC()
	want := flywheel.Events{
		Deployments: []flywheel.Deployment{d, empty, unknown},
		Changes:     []flywheel.Change{open, c}, // by ChangeTime: open at −2h, c merged at −1h
		Incidents:   []flywheel.Incident{in},
	}
	if !reflect.DeepEqual(ev, want) {
		t.Fatalf("events differ:\n got %+v\nwant %+v", ev, want)
	}
	if ev.Deployments[1].Commits == nil || ev.Deployments[2].Commits != nil {
		t.Errorf("empty and nil commit lists not kept apart: %#v %#v", ev.Deployments[1].Commits, ev.Deployments[2].Commits)
	}
	counts, err := s.Counts()
	if err != nil {
		t.Fatal(err)
	}
	if counts != (storage.Counts{Deployments: 3, Changes: 2, Incidents: 1}) {
		t.Errorf("counts = %+v", counts)
	}
}

func TestUpsertReplacesAndMovesIndexes(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	old := flywheel.Deployment{ID: "d-1", Service: "checkout", Repo: "acme/checkout", Environment: "production", SHA: "a", FinishedAt: hours(1), Status: "in_progress"}
	write(t, s, flywheel.Batch{Events: flywheel.Events{Deployments: []flywheel.Deployment{old}}})
	write(t, s, flywheel.Batch{Events: flywheel.Events{Deployments: []flywheel.Deployment{old}}})
	newer := old
	newer.Service, newer.Repo, newer.FinishedAt, newer.Status = "payments", "acme/payments", hours(5), "success"
	write(t, s, flywheel.Batch{Events: flywheel.Events{Deployments: []flywheel.Deployment{newer}}})

	for _, tc := range []struct {
		name string
		q    flywheel.Query
		want []string
	}{
		{"all", flywheel.Query{}, []string{"d-1"}},
		{"old service", flywheel.Query{Service: "checkout"}, []string{}},
		{"new service", flywheel.Query{Service: "payments"}, []string{"d-1"}},
		{"old repo", flywheel.Query{Repo: "acme/checkout"}, []string{}},
		{"new repo", flywheel.Query{Repo: "acme/payments"}, []string{"d-1"}},
		{"old time", flywheel.Query{From: hours(0), To: hours(2)}, []string{}},
		{"new time", flywheel.Query{From: hours(4), To: hours(6)}, []string{"d-1"}},
	} {
		got, err := s.Deployments(tc.q)
		if err != nil {
			t.Fatal(err)
		}
		if ids := deployIDs(got); !reflect.DeepEqual(ids, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, ids, tc.want)
		}
		if len(got) == 1 && !reflect.DeepEqual(got[0], newer) {
			t.Errorf("%s: got %+v, want the newer version %+v", tc.name, got[0], newer)
		}
	}
	if c, _ := s.Counts(); c.Deployments != 1 {
		t.Errorf("counts after three writes of one id = %+v, want 1 deployment", c)
	}
	// A change moves in time when it is merged.
	ch := flywheel.Change{ID: "pr-1", Service: "checkout", OpenedAt: hours(1)}
	write(t, s, flywheel.Batch{Events: flywheel.Events{Changes: []flywheel.Change{ch}}})
	ch.MergedAt = hours(10)
	write(t, s, flywheel.Batch{Events: flywheel.Events{Changes: []flywheel.Change{ch}}})
	if got, _ := s.Changes(flywheel.Query{Service: "checkout", To: hours(5)}); len(got) != 0 {
		t.Errorf("merged change still found at its opening time: %+v", got)
	}
	if got, _ := s.Changes(flywheel.Query{Service: "checkout", From: hours(10)}); len(got) != 1 || !got[0].MergedAt.Equal(hours(10)) {
		t.Errorf("merged change not found at its merge time: %+v", got)
	}
}

func TestQueryRangesAndOrder(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	mk := func(id, svc, repo string, h int) flywheel.Deployment {
		return flywheel.Deployment{ID: id, Service: svc, Repo: repo, Environment: "production", SHA: id, FinishedAt: hours(h), Status: "success"}
	}
	// Written out of order and across two batches; "b" and "a" share a time.
	write(t, s, flywheel.Batch{Events: flywheel.Events{Deployments: []flywheel.Deployment{
		mk("e", "checkout", "acme/shop", 4), mk("b", "checkout", "acme/checkout", 2), mk("c", "cart", "acme/shop", 3),
	}}})
	write(t, s, flywheel.Batch{Events: flywheel.Events{Deployments: []flywheel.Deployment{
		mk("a", "cart", "acme/cart", 2), mk("z", "checkout", "acme/checkout", -100), mk("d", "checkout2", "acme/checkout", 3),
	}}})
	for _, tc := range []struct {
		name string
		q    flywheel.Query
		want []string
	}{
		{"all by time then id", flywheel.Query{}, []string{"z", "a", "b", "c", "d", "e"}},
		{"from inclusive", flywheel.Query{From: hours(3)}, []string{"c", "d", "e"}},
		{"to exclusive", flywheel.Query{To: hours(3)}, []string{"z", "a", "b"}},
		{"range", flywheel.Query{From: hours(2), To: hours(4)}, []string{"a", "b", "c", "d"}},
		{"empty range", flywheel.Query{From: hours(5), To: hours(9)}, []string{}},
		{"service exact, not prefix", flywheel.Query{Service: "checkout"}, []string{"z", "b", "e"}},
		{"service range", flywheel.Query{Service: "checkout", From: hours(0), To: hours(4)}, []string{"b"}},
		{"repo", flywheel.Query{Repo: "acme/shop"}, []string{"c", "e"}},
		{"service and repo", flywheel.Query{Service: "checkout", Repo: "acme/checkout"}, []string{"z", "b"}},
		{"unknown service", flywheel.Query{Service: "nope"}, []string{}},
	} {
		got, err := s.Deployments(tc.q)
		if err != nil {
			t.Fatal(err)
		}
		if ids := deployIDs(got); !reflect.DeepEqual(ids, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, ids, tc.want)
		}
	}
	write(t, s, flywheel.Batch{Events: flywheel.Events{Incidents: []flywheel.Incident{
		{ID: "i2", Service: "checkout", Urgency: "high", TriggeredAt: hours(2)},
		{ID: "i1", Service: "checkout", Urgency: "low", TriggeredAt: hours(1)},
		{ID: "i3", Service: "cart", Urgency: "low", TriggeredAt: hours(0)},
	}}})
	got, err := s.Incidents(flywheel.Query{Service: "checkout", Repo: "ignored/for-incidents"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != "i1" || got[1].ID != "i2" {
		t.Errorf("incidents of checkout = %+v, want i1, i2", got)
	}
}

func TestBatchIsAllOrNothing(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	bad := flywheel.Batch{
		Events: flywheel.Events{
			Deployments: []flywheel.Deployment{{ID: "ok", Service: "s", FinishedAt: hours(1)}},
			Incidents:   []flywheel.Incident{{ID: "", Service: "s", TriggeredAt: hours(1)}},
		},
		Cursors:    []flywheel.Cursor{{Source: "github", Key: "acme/x", Value: "v1"}},
		Validators: []flywheel.Validator{{Key: "https://x", ETag: `"e"`}},
	}
	err := s.WriteBatch(context.Background(), bad)
	if err == nil || !strings.Contains(err.Error(), "empty id") {
		t.Fatalf("WriteBatch of a record without id: err = %v, want an empty-id error", err)
	}
	ev, _ := s.Events()
	cur, _ := s.Cursor("github", "acme/x")
	_, ok, _ := s.Validator("https://x")
	counts, _ := s.Counts()
	if ev.Len() != 0 || cur != "" || ok || counts != (storage.Counts{}) {
		t.Errorf("a failed batch left data: events %d, cursor %q, validator %v, counts %+v", ev.Len(), cur, ok, counts)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	bad.Incidents[0].ID = "i"
	if err := s.WriteBatch(ctx, bad); !errors.Is(err, context.Canceled) {
		t.Errorf("WriteBatch with a cancelled context: err = %v", err)
	}
}

func TestCursorsAndValidators(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	write(t, s, flywheel.Batch{
		Cursors: []flywheel.Cursor{{Source: "github", Key: "acme/x", Value: "v1"}, {Source: "pagerduty", Key: "acme/x", Value: "p"}},
		Validators: []flywheel.Validator{
			{Key: "https://api/x", ETag: `W/"abc"`, LastModified: "Mon, 02 Jan 2006 15:04:05 GMT"},
		},
	})
	write(t, s, flywheel.Batch{Cursors: []flywheel.Cursor{{Source: "github", Key: "acme/x", Value: "v2"}}})
	for _, tc := range []struct{ source, key, want string }{
		{"github", "acme/x", "v2"}, {"pagerduty", "acme/x", "p"}, {"github", "acme/y", ""}, {"github", "acme", ""},
	} {
		if got, err := s.Cursor(tc.source, tc.key); err != nil || got != tc.want {
			t.Errorf("Cursor(%q, %q) = %q, %v; want %q", tc.source, tc.key, got, err, tc.want)
		}
	}
	v, ok, err := s.Validator("https://api/x")
	if err != nil || !ok || v != (flywheel.Validator{Key: "https://api/x", ETag: `W/"abc"`, LastModified: "Mon, 02 Jan 2006 15:04:05 GMT"}) {
		t.Errorf("Validator = %+v, %v, %v", v, ok, err)
	}
	if _, ok, err := s.Validator("https://api/other"); ok || err != nil {
		t.Errorf("missing validator: ok %v, err %v", ok, err)
	}
}

// Values must be copied out of bbolt's memory map: after Close unmaps the file,
// reading a slice that still pointed into it would crash.
func TestValuesOutliveTheStore(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "flywheel.db")
	s, err := storage.Open(path, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	write(t, s, flywheel.Batch{
		Events: flywheel.Events{
			Deployments: []flywheel.Deployment{{ID: "d", Service: "svc", Environment: "production", SHA: "sha", Status: "success", FinishedAt: hours(1), Commits: []string{"c1"}}},
			Changes:     []flywheel.Change{{ID: "c", Service: "svc", Title: "t", OpenedAt: hours(1), Labels: []string{"x"}}},
		},
		Cursors: []flywheel.Cursor{{Source: "s", Key: "k", Value: "cursor-value"}},
	})
	if err := s.PutSnapshot(hours(1), []byte("snapshot-data")); err != nil {
		t.Fatal(err)
	}
	ev, err := s.Events()
	if err != nil {
		t.Fatal(err)
	}
	ds, _ := s.Deployments(flywheel.Query{Service: "svc"})
	cur, _ := s.Cursor("s", "k")
	_, snap, _, _ := s.LatestSnapshot()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	got := strings.Join([]string{ev.Deployments[0].SHA, ev.Deployments[0].Commits[0], ev.Changes[0].Title,
		ev.Changes[0].Labels[0], ds[0].Service, cur, string(snap)}, ",")
	if got != "sha,c1,t,x,svc,cursor-value,snapshot-data" {
		t.Errorf("values after Close = %q", got)
	}
}

func TestReopenKeepsDataAndCounts(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "flywheel.db")
	s, err := storage.Open(path, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	write(t, s, flywheel.Batch{Events: flywheel.Events{Incidents: []flywheel.Incident{{ID: "i", Service: "s", TriggeredAt: hours(1)}}}})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = storage.Open(path, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Path() != path {
		t.Errorf("Path() = %q, want %q", s.Path(), path)
	}
	if c, _ := s.Counts(); c != (storage.Counts{Incidents: 1}) {
		t.Errorf("counts after reopen = %+v", c)
	}
	if err := s.Check(); err != nil {
		t.Error(err)
	}
}

func TestSnapshots(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	if _, _, ok, err := s.LatestSnapshot(); ok || err != nil {
		t.Fatalf("empty store: ok %v, err %v", ok, err)
	}
	day := func(d, h int) time.Time { return time.Date(2026, 3, d, h, 0, 0, 0, time.UTC) }
	for _, p := range []struct {
		at   time.Time
		data string
	}{
		{day(1, 10), "1@10"}, {day(1, 23), "1@23"}, {day(1, 12), "1@12 late write, earlier time"},
		{day(3, 1), "3@1"}, {day(2, 5), "2@5 backfilled"},
		{day(4, 0).In(time.FixedZone("X", -3600)), "4@0"},
	} {
		if err := s.PutSnapshot(p.at, []byte(p.data)); err != nil {
			t.Fatal(err)
		}
	}
	at, data, ok, err := s.LatestSnapshot()
	if err != nil || !ok || !at.Equal(day(4, 0)) || string(data) != "4@0" {
		t.Errorf("LatestSnapshot = %v %q %v %v, want the one at %v", at, data, ok, err, day(4, 0))
	}
	got, err := s.Snapshots(day(1, 11), day(4, 0))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, sn := range got {
		names = append(names, sn.At.Format("2@15")+"="+string(sn.Data))
	}
	want := []string{"1@23=1@23", "2@05=2@5 backfilled", "3@01=3@1"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("Snapshots = %v, want %v", names, want)
	}
	all, _ := s.Snapshots(time.Time{}, time.Time{})
	if len(all) != 4 {
		t.Errorf("all daily snapshots: %d, want 4", len(all))
	}
}

// rawUpdate writes into a closed store file with bbolt directly.
func rawUpdate(t *testing.T, path string, fn func(tx *bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
}

func TestOpenRefusesNewerOrForeignFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	newer := filepath.Join(dir, "newer.db")
	s, err := storage.Open(newer, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	rawUpdate(t, newer, func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("meta")).Put([]byte("version"), []byte{0, 0, 0, 0, 0, 0, 0, 99})
	})
	_, err = storage.Open(newer, storage.Options{})
	if want := "open store " + newer + ": schema version 99 is newer than this Flywheel supports (2): use a newer Flywheel"; err == nil || err.Error() != want {
		t.Errorf("newer file: err = %v\nwant %s", err, want)
	}

	foreign := filepath.Join(dir, "foreign.db")
	rawUpdate(t, foreign, func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("other")); return err })
	if _, err = storage.Open(foreign, storage.Options{}); err == nil || !strings.Contains(err.Error(), "not a Flywheel store") {
		t.Errorf("foreign file: err = %v", err)
	}
	if _, err = storage.Open(filepath.Join(dir, "missing", "x.db"), storage.Options{}); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "missing", "x.db")) {
		t.Errorf("missing directory: err = %v, want the path named", err)
	}
}

// Within one batch, a later record with the same id replaces the earlier one.
func TestDuplicateIDsInOneBatch(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	write(t, s, flywheel.Batch{Events: flywheel.Events{Incidents: []flywheel.Incident{
		{ID: "i", Service: "a", Urgency: "low", TriggeredAt: hours(1)},
		{ID: "i", Service: "b", Urgency: "high", TriggeredAt: hours(2)},
	}}})
	got, err := s.Incidents(flywheel.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Service != "b" || got[0].Urgency != "high" {
		t.Errorf("incidents = %+v, want only the second version", got)
	}
	if a, _ := s.Incidents(flywheel.Query{Service: "a"}); len(a) != 0 {
		t.Errorf("index entry of the replaced version kept: %+v", a)
	}
	if c, _ := s.Counts(); c.Incidents != 1 {
		t.Errorf("counts = %+v", c)
	}
}

// Readers and writers run concurrently (bbolt serialises writers); -race checks
// that nothing returned is shared with a transaction.
func TestConcurrentReadersAndWriters(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	done := make(chan error, 4)
	for w := range 2 {
		go func() {
			for i := range 50 {
				err := s.WriteBatch(context.Background(), flywheel.Batch{
					Events:  flywheel.Events{Changes: []flywheel.Change{{ID: fmt.Sprintf("w%d-%d", w, i), Service: "svc", OpenedAt: hours(i)}}},
					Cursors: []flywheel.Cursor{{Source: "w", Key: fmt.Sprint(w), Value: fmt.Sprint(i)}},
				})
				if err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range 2 {
		go func() {
			for range 50 {
				ev, err := s.Events()
				if err != nil {
					done <- err
					return
				}
				for _, c := range ev.Changes {
					if c.Service != "svc" {
						done <- fmt.Errorf("read a torn change %+v", c)
						return
					}
				}
			}
			done <- nil
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if c, _ := s.Counts(); c.Changes != 100 {
		t.Errorf("counts = %+v, want 100 changes", c)
	}
}

// TestLargeBatchesMatchRecordByRecord: batches written in key order per bucket
// (upsertAll) leave the store exactly as writing their records one at a time
// does — records, counts and every index — with new records, replacements that
// move in time, service and repo, and ids repeated within a batch.
func TestLargeBatchesMatchRecordByRecord(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 5))
	svcs := []string{"checkout", "payments", "search", "cart", "auth"}
	var batches [][]flywheel.Change
	for range 4 {
		var b []flywheel.Change
		for range 600 {
			svc := svcs[rng.IntN(len(svcs))]
			c := flywheel.Change{ID: fmt.Sprintf("pr-%d", rng.IntN(1500)), Service: svc, Repo: "acme/" + svc,
				Title: "t", OpenedAt: hours(rng.IntN(5000))}
			if rng.IntN(2) == 0 {
				c.MergedAt = c.OpenedAt.Add(time.Duration(rng.IntN(100)) * time.Hour)
			}
			b = append(b, c)
		}
		batches = append(batches, b)
	}
	big, one := openTemp(t), openTemp(t)
	for _, b := range batches {
		write(t, big, flywheel.Batch{Events: flywheel.Events{Changes: b}})
		for _, c := range b {
			write(t, one, flywheel.Batch{Events: flywheel.Events{Changes: []flywheel.Change{c}}})
		}
	}
	queries := []flywheel.Query{{}, {From: hours(1000), To: hours(3000)}}
	for _, svc := range svcs {
		queries = append(queries, flywheel.Query{Service: svc}, flywheel.Query{Repo: "acme/" + svc},
			flywheel.Query{Service: svc, From: hours(2000)})
	}
	for _, q := range queries {
		got, err := big.Changes(q)
		if err != nil {
			t.Fatal(err)
		}
		want, err := one.Changes(q)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("query %+v: %d changes from large batches, %d written one by one", q, len(got), len(want))
		}
	}
	gc, _ := big.Counts()
	wc, _ := one.Counts()
	if gc != wc {
		t.Errorf("counts %+v from large batches, %+v one by one", gc, wc)
	}
	if err := big.Check(); err != nil {
		t.Error(err)
	}
}
