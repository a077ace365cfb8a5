package storage_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/storage"
)

// The benchmark store (issue 2's size: 1M changes, 200k deployments, 50k
// incidents) takes a while to build, so it is built once per test binary.
var benchStore struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func removeBenchStore() {
	if benchStore.dir != "" {
		os.RemoveAll(benchStore.dir)
	}
}

const (
	benchChanges     = 1_000_000
	benchDeployments = 200_000
	benchIncidents   = 50_000
)

func bigStore(b *testing.B) string {
	benchStore.once.Do(func() {
		benchStore.dir, benchStore.err = os.MkdirTemp("", "flywheel-bench-")
		if benchStore.err != nil {
			return
		}
		benchStore.path = filepath.Join(benchStore.dir, "flywheel.db")
		benchStore.err = fillStore(benchStore.path)
	})
	if benchStore.err != nil {
		b.Fatal(benchStore.err)
	}
	return benchStore.path
}

// fillStore writes realistic records in batches of 5000, like an import.
func fillStore(path string) error {
	s, err := storage.Open(path, storage.Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	year := 365 * 24 * time.Hour
	at := func(i, n int) time.Time { return start.Add(time.Duration(int64(year) / int64(n) * int64(i))) }
	svc := func(i int) string { return fmt.Sprintf("service-%02d", i%40) }
	const batch = 5000
	var b flywheel.Batch
	flush := func() error {
		err := s.WriteBatch(context.Background(), b)
		b = flywheel.Batch{}
		return err
	}
	for i := range benchChanges {
		b.Changes = append(b.Changes, flywheel.Change{
			ID: fmt.Sprintf("acme/%s#%d", svc(i), i), Service: svc(i), Repo: "acme/" + svc(i),
			Title: fmt.Sprintf("feat: change number %d of the benchmark", i), Labels: []string{"feature", "team-x"},
			Author: fmt.Sprintf("dev-%d", i%300), FirstCommitAt: at(i, benchChanges).Add(-30 * time.Hour),
			OpenedAt: at(i, benchChanges).Add(-20 * time.Hour), FirstReviewAt: at(i, benchChanges).Add(-10 * time.Hour),
			MergedAt: at(i, benchChanges), MergeSHA: fmt.Sprintf("%040x", i), Paths: []string{"api/handler.go", "api/handler_test.go"},
			Source: "github",
		})
		if len(b.Changes) == batch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	for i := range benchDeployments {
		b.Deployments = append(b.Deployments, flywheel.Deployment{
			ID: fmt.Sprintf("%d", 1_000_000_000+i), Service: svc(i), Repo: "acme/" + svc(i), Environment: "production",
			SHA: fmt.Sprintf("%040x", i), FinishedAt: at(i, benchDeployments), Status: "success",
			Commits: []string{fmt.Sprintf("%040x", 5*i), fmt.Sprintf("%040x", 5*i+1), fmt.Sprintf("%040x", 5*i+2)},
			Source:  "github", CompareStatus: "ahead",
		})
		if len(b.Deployments) == batch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	for i := range benchIncidents {
		t := at(i, benchIncidents)
		b.Incidents = append(b.Incidents, flywheel.Incident{
			ID: fmt.Sprintf("Q%010d", i), Service: svc(i), Urgency: "high", Priority: "P2", Title: "checkout latency above SLO",
			StartedAt: t.Add(-5 * time.Minute), TriggeredAt: t, AcknowledgedAt: t.Add(3 * time.Minute), ResolvedAt: t.Add(time.Hour),
			Source: "pagerduty",
		})
		if len(b.Incidents) == batch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// BenchmarkEvents reads every event of the big store, as each KPI computation does.
func BenchmarkEvents(b *testing.B) {
	s, err := storage.Open(bigStore(b), storage.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		ev, err := s.Events()
		if err != nil {
			b.Fatal(err)
		}
		if ev.Len() != benchChanges+benchDeployments+benchIncidents {
			b.Fatalf("read %d events", ev.Len())
		}
	}
}

// BenchmarkDeploymentsByService reads one service's deployments of 30 days.
func BenchmarkDeploymentsByService(b *testing.B) {
	s, err := storage.Open(bigStore(b), storage.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	from := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	b.ResetTimer()
	for b.Loop() {
		ds, err := s.Deployments(flywheel.Query{Service: "service-07", From: from, To: from.Add(30 * 24 * time.Hour)})
		if err != nil || len(ds) == 0 {
			b.Fatal(len(ds), err)
		}
	}
}

// BenchmarkWriteBatch writes API-page-sized batches (100 changes) of new records.
func BenchmarkWriteBatch(b *testing.B) {
	s, err := storage.Open(filepath.Join(b.TempDir(), "w.db"), storage.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	n := 0
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for b.Loop() {
		var batch flywheel.Batch
		for range 100 {
			n++
			batch.Changes = append(batch.Changes, flywheel.Change{ID: fmt.Sprintf("pr-%d", n), Service: "svc", OpenedAt: base.Add(time.Duration(n) * time.Second), Title: "a title"})
		}
		batch.Cursors = []flywheel.Cursor{{Source: "bench", Key: "k", Value: fmt.Sprint(n)}}
		if err := s.WriteBatch(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
}
