package storage_test

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel/metrics/kpi"
	"github.com/flywheel-metrics/flywheel/storage"
)

// BenchmarkRecomputeFromStore is what serve does for every snapshot — load every
// event from the store, then kpi.Compute — at issue 3's size (1M changes, 200k
// deployments, 50k incidents) with realistic records (titles, labels, paths). It
// lives in the external test package because it wires two packages that must
// not import each other; the non-test import graph is unaffected.
func BenchmarkRecomputeFromStore(b *testing.B) {
	path := bigStore(b)
	b.Cleanup(removeBenchStore)
	s, err := storage.Open(path, storage.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for b.Loop() {
		runtime.GC()
		var peak atomic.Uint64
		stop, done := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(done)
			var ms runtime.MemStats
			for {
				runtime.ReadMemStats(&ms)
				if ms.HeapAlloc > peak.Load() {
					peak.Store(ms.HeapAlloc)
				}
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Millisecond):
				}
			}
		}()
		start := time.Now()
		ev, err := s.Events()
		if err != nil {
			b.Fatal(err)
		}
		loaded := time.Now()
		kpi.Compute(ev, at, kpi.DefaultOptions())
		computed := time.Now()
		close(stop)
		<-done
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		b.ReportMetric(loaded.Sub(start).Seconds(), "load-s")
		b.ReportMetric(computed.Sub(loaded).Seconds(), "compute-s")
		b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
		runtime.KeepAlive(ev)
	}
}
