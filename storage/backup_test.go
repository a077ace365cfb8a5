package storage_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"sync"
	"testing"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/storage"
)

// yieldingWriter lets other goroutines run between the pieces of a backup, so
// that the concurrent writer of the test commits while the copy is under way.
type yieldingWriter struct{ f *os.File }

func (w yieldingWriter) Write(p []byte) (int, error) {
	runtime.Gosched()
	return w.f.Write(p)
}

// TestBackupWhileWriting backs up a store while another goroutine keeps
// committing batches: the copy opens as a store, passes bbolt's consistency
// check, holds what was stored before the backup began, and its record
// counters agree with its records (one transaction, not a mix).
func TestBackupWhileWriting(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	before := flywheel.Batch{
		Events: flywheel.Events{
			Deployments: []flywheel.Deployment{{ID: "d1", Service: "checkout", Environment: "production", SHA: "abc1234", FinishedAt: hours(1), Status: flywheel.StatusSuccess}},
			Changes:     []flywheel.Change{{ID: "acme/checkout#1", Service: "checkout", Repo: "acme/checkout", OpenedAt: hours(0), MergedAt: hours(1)}},
			Incidents:   []flywheel.Incident{{ID: "PD-1", Service: "checkout", TriggeredAt: hours(2)}},
		},
		Cursors:    []flywheel.Cursor{{Source: "github", Key: "acme/checkout", Value: "cursor-1"}},
		Validators: []flywheel.Validator{{Key: "https://api.example/repos/acme/checkout", ETag: `"e1"`}},
	}
	write(t, s, before)
	if err := s.PutSnapshot(hours(3), []byte(`{"at":"x"}`)); err != nil {
		t.Fatal(err)
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			var ds []flywheel.Deployment
			for j := range 50 {
				ds = append(ds, flywheel.Deployment{ID: fmt.Sprintf("w%d-%d", i, j), Service: "search", Environment: "production",
					SHA: "def5678", FinishedAt: hours(10 + i), Status: flywheel.StatusSuccess})
			}
			if err := s.WriteBatch(context.Background(), flywheel.Batch{Events: flywheel.Events{Deployments: ds}}); err != nil {
				t.Error(err)
				return
			}
		}
	})

	path := filepath.Join(t.TempDir(), "backup.db")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.Backup(yieldingWriter{f})
	close(stop)
	wg.Wait()
	if cerr := f.Close(); err != nil || cerr != nil {
		t.Fatalf("backup: %v, close: %v", err, cerr)
	}
	if info, err := os.Stat(path); err != nil || info.Size() != n {
		t.Fatalf("backup reported %d bytes, the file has %v (%v)", n, info.Size(), err)
	}

	b, err := storage.OpenReadOnly(path, storage.Options{})
	if err != nil {
		t.Fatalf("the backup does not open as a store: %v", err)
	}
	defer b.Close()
	if err := b.Check(); err != nil {
		t.Fatal(err)
	}
	ev, err := b.Events()
	if err != nil {
		t.Fatal(err)
	}
	counts, err := b.Counts()
	if err != nil {
		t.Fatal(err)
	}
	if got := (storage.Counts{Deployments: len(ev.Deployments), Changes: len(ev.Changes), Incidents: len(ev.Incidents)}); got != counts {
		t.Errorf("the backup's counters %+v disagree with its records %+v", counts, got)
	}
	if ev.Deployments[0].ID != "d1" || !reflect.DeepEqual(ev.Changes, before.Events.Changes) || !reflect.DeepEqual(ev.Incidents, before.Events.Incidents) {
		t.Errorf("the backup lacks what was stored before it began: %+v", ev)
	}
	if c, err := b.Cursor("github", "acme/checkout"); err != nil || c != "cursor-1" {
		t.Errorf("cursor in the backup = %q, %v", c, err)
	}
	if v, ok, err := b.Validator("https://api.example/repos/acme/checkout"); err != nil || !ok || v.ETag != `"e1"` {
		t.Errorf("validator in the backup = %+v, %v, %v", v, ok, err)
	}
	if at, data, ok, err := b.LatestSnapshot(); err != nil || !ok || !at.Equal(hours(3)) || string(data) != `{"at":"x"}` {
		t.Errorf("snapshot in the backup = %v %q %v %v", at, data, ok, err)
	}
	// The original is still the writer's: it holds every batch written since.
	orig, err := s.Counts()
	if err != nil || orig.Deployments < counts.Deployments {
		t.Errorf("original counts %+v (%v) below the backup's %+v", orig, err, counts)
	}
}
