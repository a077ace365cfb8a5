package storage_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/flywheel-metrics/flywheel/metrics"
	"github.com/flywheel-metrics/flywheel/metrics/kpi"
	"github.com/flywheel-metrics/flywheel/storage"
)

// BenchmarkStoreGrowth measures how fast a store grows, for the retention
// figures of docs/setup.md: until it is pruned, the store grows with every
// pull request (and the deployments and incidents that come with it) and with
// one KPI snapshot a day. It fills two stores with realisticEvents, 10k and 110k
// PRs (each with a fifth as many deployments and a twentieth as many
// incidents, over 40 services), and reports the growth per 1,000 PRs between
// them (MiB-per-1000-PRs) and the file size of the larger (file-MiB-110k); then
// it stores 30 daily snapshots of the larger one, computed as serve computes
// them, and reports the growth per snapshot (KiB-per-daily-snapshot). Sizes are
// bbolt's own (pages in use, as a transaction sees them); the file grows to
// them in steps of bbolt's allocation size.
//
//	go test -run '^$' -bench StoreGrowth -benchtime 1x ./storage/
func BenchmarkStoreGrowth(b *testing.B) {
	dir := b.TempDir()
	size := func(path string) int64 {
		db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		var n int64
		if err := db.View(func(tx *bolt.Tx) error { n = tx.Size(); return nil }); err != nil {
			b.Fatal(err)
		}
		return n
	}
	for b.Loop() {
		small, large := filepath.Join(dir, "small.db"), filepath.Join(dir, "large.db")
		for _, p := range []string{small, large} {
			if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
				b.Fatal(err)
			}
		}
		if err := fillStore(small, 10_000, 0); err != nil {
			b.Fatal(err)
		}
		if err := fillStore(large, 110_000, 0); err != nil {
			b.Fatal(err)
		}
		perThousand := float64(size(large)-size(small)) / 100
		fi, err := os.Stat(large)
		if err != nil {
			b.Fatal(err)
		}

		s, err := storage.Open(large, storage.Options{})
		if err != nil {
			b.Fatal(err)
		}
		opts := kpi.DefaultOptions()
		in := kpi.NewInput(opts)
		if err := s.Scan(in); err != nil {
			b.Fatal(err)
		}
		const days = 30
		start := time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		before := size(large)
		if s, err = storage.Open(large, storage.Options{}); err != nil {
			b.Fatal(err)
		}
		for d := range days {
			at := start.Add(time.Duration(d) * 24 * time.Hour)
			data, err := json.Marshal(metrics.Snapshot{At: at, Result: in.Compute(at)})
			if err != nil {
				b.Fatal(err)
			}
			if err := s.PutSnapshot(at, data); err != nil {
				b.Fatal(err)
			}
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(perThousand/(1<<20), "MiB-per-1000-PRs")
		b.ReportMetric(float64(fi.Size())/(1<<20), "file-MiB-110k")
		b.ReportMetric(float64(size(large)-before)/days/(1<<10), "KiB-per-daily-snapshot")
	}
}
