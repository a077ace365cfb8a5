package storage_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/metrics"
	"github.com/flywheel-metrics/flywheel/metrics/kpi"
	"github.com/flywheel-metrics/flywheel/storage"
)

// BenchmarkPrune prunes half of a 100k-event store: realisticEvents of 80,000
// PRs (16,000 deployments, 4,000 incidents over 40 services, one year from
// 2025-01-01) cut at 2025-07-02, in transactions of DefaultPruneBatch records,
// then writes a compacted copy. It reports the prune's time and peak heap,
// the file's size before and after the prune (the same: bbolt keeps the freed
// pages) and the copy's size and time. The "snapshots" case also holds a
// year of daily KPI snapshots as serve stores them (one computed over the
// store, stored for each day), half of which go too.
//
//	go test -run '^$' -bench Prune -benchtime 1x ./storage/
func BenchmarkPrune(b *testing.B) {
	for _, withSnapshots := range []bool{false, true} {
		name := "events"
		if withSnapshots {
			name = "snapshots"
		}
		b.Run(name, func(b *testing.B) {
			dir := b.TempDir()
			size := func(p string) float64 {
				fi, err := os.Stat(p)
				if err != nil {
					b.Fatal(err)
				}
				return float64(fi.Size()) / (1 << 20)
			}
			cut := time.Date(2025, 7, 2, 0, 0, 0, 0, time.UTC)
			for b.Loop() {
				b.StopTimer()
				path := filepath.Join(dir, "flywheel.db")
				out := filepath.Join(dir, "compact.db")
				for _, p := range []string{path, out} {
					if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
						b.Fatal(err)
					}
				}
				if err := fillStore(path, 80_000, 0); err != nil {
					b.Fatal(err)
				}
				s, err := storage.Open(path, storage.Options{})
				if err != nil {
					b.Fatal(err)
				}
				if withSnapshots {
					putYearOfSnapshots(b, s)
				}
				before := size(path)
				runtime.GC()
				b.StartTimer()
				stop := samplePeakHeap()
				start := time.Now()
				p, err := s.Prune(context.Background(), cut, storage.PruneOptions{})
				elapsed := time.Since(start)
				peak := stop()
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				start = time.Now()
				if _, err := s.CompactTo(out); err != nil {
					b.Fatal(err)
				}
				compact := time.Since(start)
				if err := s.Close(); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(p.Events()), "events-deleted")
				b.ReportMetric(float64(p.Snapshots), "snapshots-deleted")
				b.ReportMetric(elapsed.Seconds(), "prune-s")
				b.ReportMetric(float64(peak)/(1<<20), "prune-peak-heap-MiB")
				b.ReportMetric(before, "file-MiB-before")
				b.ReportMetric(size(path), "file-MiB-after")
				b.ReportMetric(size(out), "compacted-MiB")
				b.ReportMetric(compact.Seconds(), "compact-s")
				b.StartTimer()
			}
		})
	}
}

// putYearOfSnapshots stores a KPI snapshot of the store for each day of 2025.
func putYearOfSnapshots(b *testing.B, s *storage.Store) {
	in := kpi.NewInput(kpi.DefaultOptions())
	if err := s.Scan(in); err != nil {
		b.Fatal(err)
	}
	at := time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)
	data, err := json.Marshal(metrics.Snapshot{At: at, Result: in.Compute(at)})
	if err != nil {
		b.Fatal(err)
	}
	for d := range 365 {
		day := time.Date(2025, 1, 1, 23, 0, 0, 0, time.UTC).Add(time.Duration(d) * flywheel.Day)
		if err := s.PutSnapshot(day, data); err != nil {
			b.Fatal(err)
		}
	}
}
