package storage_test

import (
	"io"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel/metrics/kpi"
	"github.com/flywheel-metrics/flywheel/metrics/report"
	"github.com/flywheel-metrics/flywheel/storage"
)

// BenchmarkRecomputeFromStore is what serve, report and backfill do for every
// computation — scan every event from the store into a kpi.Input, then compute —
// up to the large organisation of docs/benchmarks.md (1M changes, 200k deployments, 50k incidents) with
// realistic records (realisticEvents): squash merges, so five shas to a commit
// list, and "merge-commits", eight commits to a PR and forty to a list. The
// "events" variant loads whole
// records with Store.Events and calls kpi.Compute, the path they used before
// the Input existed, for comparison. It lives in the external test package
// because it wires two packages that must not import each other; the non-test
// import graph is unaffected.
func BenchmarkRecomputeFromStore(b *testing.B) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	opts := kpi.DefaultOptions()
	opts.TuneUps = []kpi.Initiative{{Name: "ci-speedup", Label: "tuneup:ci-speedup"}}
	for _, c := range []struct {
		name                   string
		changes, branchCommits int
		events                 bool
	}{
		{"scan/10k", 10_000, 0, false},
		{"scan/100k", 100_000, 0, false},
		{"scan/1M", benchChanges, 0, false},
		{"events/1M", benchChanges, 0, true},
		// merge commits: 8 commits a PR, 40-sha commit lists
		{"scan/1M-merge-commits", benchChanges, 7, false},
	} {
		b.Run(c.name, func(b *testing.B) {
			s, err := storage.Open(benchStore(b, c.changes, c.branchCommits), storage.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			if c.events {
				measureRecompute(b, func() func() {
					ev, err := s.Events()
					if err != nil {
						b.Fatal(err)
					}
					return func() { kpi.Compute(ev, at, opts) }
				})
				return
			}
			measureRecompute(b, func() func() {
				in := kpi.NewInput(opts)
				if err := s.Scan(in); err != nil {
					b.Fatal(err)
				}
				return func() { in.Compute(at) }
			})
		})
	}
}

// measureRecompute reports the time of load and of the compute it returns,
// and the peak heap over both, sampled every 5 ms.
func measureRecompute(b *testing.B, load func() (compute func())) {
	for b.Loop() {
		runtime.GC()
		stop := samplePeakHeap()
		start := time.Now()
		compute := load()
		loaded := time.Now()
		compute()
		computed := time.Now()
		peak := stop()
		b.ReportMetric(loaded.Sub(start).Seconds(), "load-s")
		b.ReportMetric(computed.Sub(loaded).Seconds(), "compute-s")
		b.ReportMetric(computed.Sub(start).Seconds(), "total-s")
		b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	}
}

// BenchmarkExplainFromStore is `flywheel explain lead_time_seconds --window
// 90d --format json` on the largest store (1M changes, 200k deployments, 50k
// incidents; squash merges), the longest list an explanation gives there:
// every PR deployed in 90 days, of all services. It scans the store into an
// Input that keeps PR ids and titles, explains, and writes the JSON document
// (discarded), reporting each step's time, the items listed and the peak heap
// over all three.
func BenchmarkExplainFromStore(b *testing.B) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	opts := kpi.DefaultOptions()
	s, err := storage.Open(benchStore(b, benchChanges, 0), storage.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for b.Loop() {
		runtime.GC()
		stop := samplePeakHeap()
		start := time.Now()
		in := kpi.NewExplainInput(opts)
		if err := s.Scan(in); err != nil {
			b.Fatal(err)
		}
		loaded := time.Now()
		e, err := in.Explain(at, kpi.ExplainQuery{KPI: "lead_time_seconds", Window: "90d"})
		if err != nil {
			b.Fatal(err)
		}
		explained := time.Now()
		if err := report.WriteExplainJSON(io.Discard, e); err != nil {
			b.Fatal(err)
		}
		done := time.Now()
		p := stop()
		b.ReportMetric(loaded.Sub(start).Seconds(), "load-s")
		b.ReportMetric(explained.Sub(loaded).Seconds(), "explain-s")
		b.ReportMetric(done.Sub(explained).Seconds(), "json-s")
		b.ReportMetric(done.Sub(start).Seconds(), "total-s")
		b.ReportMetric(float64(len(e.Items)), "items")
		b.ReportMetric(float64(p)/(1<<20), "peak-heap-MiB")
		runtime.KeepAlive(in)
	}
}

// samplePeakHeap samples HeapAlloc every 5 ms until the returned stop, which
// returns the peak.
func samplePeakHeap() (stop func() uint64) {
	var peak atomic.Uint64
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peak.Load() {
				peak.Store(ms.HeapAlloc)
			}
			select {
			case <-quit:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	return func() uint64 {
		close(quit)
		<-done
		return peak.Load()
	}
}
