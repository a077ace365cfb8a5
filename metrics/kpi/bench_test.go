package kpi

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel"
)

// BenchmarkCompute is the engine alone — Input.Compute — over a synthetic
// organisation at three scales; the largest, of 1,000,000
// changes, 200,000 deployments and 50,000 incidents, is the one
// docs/benchmarks.md measures. The events are added to an
// Input and dropped before the clock starts, as a store scan leaves them. It
// reports, besides time and allocations, the heap held by the Input
// (input-MiB), the peak heap during Compute sampled every 5 ms (peak-heap-MiB,
// Input included) and the peak minus the Input (compute-MiB). The whole path
// from the store, against the targets of docs/benchmarks.md, is storage's
// BenchmarkRecomputeFromStore.
//
//	go test -run '^$' -bench Compute -benchtime 1x ./metrics/kpi/
func BenchmarkCompute(b *testing.B) {
	for _, c := range []struct {
		name string
		sz   genSize
	}{
		{"10k", genSize{services: 20, changes: 10_000, deployments: 2_000, incidents: 500}},
		{"100k", genSize{services: 50, changes: 100_000, deployments: 20_000, incidents: 5_000}},
		{"1M", genSize{services: 100, changes: 1_000_000, deployments: 200_000, incidents: 50_000}},
	} {
		b.Run(c.name, func(b *testing.B) {
			if testing.Short() && c.sz.changes > 100_000 {
				b.Skip("1M events in -short mode")
			}
			var before runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			opts := DefaultOptions()
			opts.TuneUps = []Initiative{{Name: "ci-speedup", Label: "tuneup:ci-speedup"},
				{Name: "spring", From: at.Add(-200 * 24 * time.Hour), To: at.Add(-170 * 24 * time.Hour)}}
			in := NewInput(opts)
			in.Add(genEvents(c.sz, 42, at))
			d, ch, i := in.Len()
			var base runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&base)

			var (
				peak uint64
				stop = make(chan struct{})
				wg   sync.WaitGroup
			)
			wg.Add(1)
			go func() { // owned by this benchmark; stopped below
				defer wg.Done()
				t := time.NewTicker(5 * time.Millisecond)
				defer t.Stop()
				var m runtime.MemStats
				for {
					select {
					case <-stop:
						return
					case <-t.C:
						runtime.ReadMemStats(&m)
						peak = max(peak, m.HeapAlloc)
					}
				}
			}()
			b.ReportAllocs()
			b.ResetTimer()
			var r Result
			for range b.N {
				r = in.Compute(at)
			}
			b.StopTimer()
			close(stop)
			wg.Wait()
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			peak = max(peak, after.HeapAlloc)
			if r.Report.Windows["30d"].All == nil {
				b.Fatal("empty result")
			}
			mib := func(v uint64) float64 { return float64(v) / (1 << 20) }
			b.ReportMetric(float64(d+ch+i), "events")
			b.ReportMetric(mib(base.HeapAlloc-before.HeapAlloc), "input-MiB")
			b.ReportMetric(mib(peak), "peak-heap-MiB")
			b.ReportMetric(mib(peak-base.HeapAlloc), "compute-MiB")
		})
	}
}

// BenchmarkComputeGroups is ComputeGroups over the 30-day window with the
// services split into five teams, beside BenchmarkCompute's scales: the HTML
// report runs it once per page.
//
//	go test -run '^$' -bench 'Compute(Groups)?/100k' -benchtime 3x ./metrics/kpi/
func BenchmarkComputeGroups(b *testing.B) {
	for _, c := range []struct {
		name string
		sz   genSize
	}{
		{"10k", genSize{services: 20, changes: 10_000, deployments: 2_000, incidents: 500}},
		{"100k", genSize{services: 50, changes: 100_000, deployments: 20_000, incidents: 5_000}},
	} {
		b.Run(c.name, func(b *testing.B) {
			opts := DefaultOptions()
			in := NewInput(opts)
			ev := genEvents(c.sz, 42, at)
			in.Add(ev)
			groups := map[string][]string{}
			seen := map[string]bool{}
			for _, d := range ev.Deployments {
				if !seen[d.Service] {
					seen[d.Service] = true
					team := fmt.Sprintf("team-%d", len(seen)%5)
					groups[team] = append(groups[team], d.Service)
				}
			}
			w := opts.Windows[slices.IndexFunc(opts.Windows, func(w flywheel.Window) bool { return w.Name == "30d" })]
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if len(in.ComputeGroups(at, w, groups)) != 5 {
					b.Fatal("not five teams")
				}
			}
		})
	}
}
