package storage_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/storage"
)

// shortLock keeps the lock tests quick: the lock is held for the whole wait.
var shortLock = storage.Options{Timeout: 50 * time.Millisecond}

// A read-only open of a missing file fails naming it and creates nothing; an
// empty file (which bbolt would initialise) and a directory are refused.
func TestOpenReadOnlyNeverCreates(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.db")
	_, err := storage.OpenReadOnly(missing, shortLock)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing file: err = %v, want fs.ErrNotExist naming the path", err)
	}
	if _, err := os.Stat(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a read-only open created %s (stat: %v)", missing, err)
	}
	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := storage.OpenReadOnly(empty, shortLock); err == nil || !strings.Contains(err.Error(), "the file is empty: not a Flywheel store") {
		t.Errorf("empty file: err = %v", err)
	}
	if info, err := os.Stat(empty); err != nil || info.Size() != 0 {
		t.Errorf("the empty file was written to: %v, %v", info, err)
	}
	if _, err := storage.OpenReadOnly(dir, shortLock); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("directory: err = %v", err)
	}
	foreign := filepath.Join(dir, "foreign.db")
	rawUpdate(t, foreign, func(*bolt.Tx) error { return nil })
	if _, err := storage.OpenReadOnly(foreign, shortLock); err == nil || !strings.Contains(err.Error(), "not a Flywheel store: the file has no schema version") {
		t.Errorf("bbolt file without a schema: err = %v", err)
	}
}

// A read-only store reads what a writer stored, refuses writes, and leaves the
// file byte for byte as it was; several readers share it, a writer waits for
// them, and a reader fails with ErrLocked while a writer holds it.
func TestOpenReadOnlyReadsAndLocks(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "flywheel.db")
	w, err := storage.Open(path, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := flywheel.Events{Deployments: []flywheel.Deployment{{ID: "d1", Service: "s", Environment: "production", SHA: "a",
		FinishedAt: hours(1), Status: "success", Source: "github"}}}
	write(t, w, flywheel.Batch{Events: want})

	_, err = storage.OpenReadOnly(path, shortLock)
	if !errors.Is(err, storage.ErrLocked) || !strings.Contains(err.Error(), path) {
		t.Errorf("read-only open while a writer holds the file: err = %v, want ErrLocked naming the path", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	r1, err := storage.OpenReadOnly(path, shortLock)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := storage.OpenReadOnly(path, shortLock)
	if err != nil {
		t.Fatalf("a second reader: %v", err)
	}
	if _, err := storage.Open(path, shortLock); !errors.Is(err, storage.ErrLocked) {
		t.Errorf("a writer opened the file while readers held it: %v", err)
	}
	var got flywheel.Events
	if err := r1.Scan(&got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("read %+v, want %+v", got, want)
	}
	if err := r2.WriteBatch(t.Context(), flywheel.Batch{Events: want}); err == nil {
		t.Error("a read-only store accepted a write")
	}
	if err := r2.PutSnapshot(hours(2), []byte("x")); err == nil {
		t.Error("a read-only store accepted a snapshot")
	}
	for _, r := range []*storage.Store{r1, r2} {
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Error("reading the store changed its file")
	}
}

func TestScanSince(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	write(t, s, flywheel.Batch{Events: flywheel.Events{
		Deployments: []flywheel.Deployment{
			{ID: "d-late", Service: "s", Environment: "p", SHA: "a", Status: "success", FinishedAt: hours(5)},
			{ID: "d-at", Service: "s", Environment: "p", SHA: "b", Status: "success", FinishedAt: hours(2)},
			{ID: "d-before", Service: "s", Environment: "p", SHA: "c", Status: "success", FinishedAt: hours(2).Add(-time.Nanosecond)},
		},
		Changes: []flywheel.Change{
			{ID: "c-merged-late", Service: "s", OpenedAt: hours(0), MergedAt: hours(3)}, // by its merge
			{ID: "c-open-early", Service: "s", OpenedAt: hours(1)},
			{ID: "c-open-late", Service: "s", OpenedAt: hours(4)},
		},
		Incidents: []flywheel.Incident{
			{ID: "i-early", Service: "s", Urgency: "high", TriggeredAt: hours(1)},
			{ID: "i-b", Service: "s", Urgency: "high", TriggeredAt: hours(6)},
			{ID: "i-a", Service: "s", Urgency: "high", TriggeredAt: hours(6)},
		},
	}})
	var got flywheel.Events
	if err := s.ScanSince(hours(2), &got); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, d := range got.Deployments {
		ids = append(ids, d.ID)
	}
	for _, c := range got.Changes {
		ids = append(ids, c.ID)
	}
	for _, x := range got.Incidents {
		ids = append(ids, x.ID)
	}
	// Each kind from since on, by its own time, then id.
	if want := []string{"d-at", "d-late", "c-merged-late", "c-open-late", "i-a", "i-b"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("ScanSince = %q, want %q", ids, want)
	}
	var all flywheel.Events
	if err := s.ScanSince(time.Time{}, &all); err != nil || all.Len() != 9 {
		t.Errorf("ScanSince(zero) read %d events, %v; want all 9", all.Len(), err)
	}
}
