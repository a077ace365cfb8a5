package storage

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel"
)

// BenchmarkDecodeChange compares the binary record codec with JSON for one
// typical change; the difference, times a million, is why records are binary.
func BenchmarkDecodeChange(b *testing.B) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	c := flywheel.Change{ID: "acme/checkout#4242", Service: "checkout", Repo: "acme/checkout", Title: "feat: add the thing",
		Labels: []string{"feature"}, Author: "ann", FirstCommitAt: at, OpenedAt: at, FirstReviewAt: at, MergedAt: at,
		MergeSHA: "0123456789abcdef0123456789abcdef01234567", Paths: []string{"api/x.go"}, Source: "github"}
	b.Run("binary", func(b *testing.B) {
		rec := encodeChange(nil, &c)
		in := newArena()
		b.ReportAllocs()
		for b.Loop() {
			var got flywheel.Change
			if err := decodeChange(rec, in, &got); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json", func(b *testing.B) {
		rec, _ := json.Marshal(c)
		b.ReportAllocs()
		for b.Loop() {
			var got flywheel.Change
			if err := json.Unmarshal(rec, &got); err != nil {
				b.Fatal(err)
			}
		}
	})
}
