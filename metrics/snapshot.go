// Package metrics keeps the current KPI snapshot and exposes it as the Prometheus
// metrics of docs/metrics.md: a Snapshotter recomputes and persists snapshots after each
// sync and on a timer, an exporter turns the last one into constant metrics on
// every scrape, and WriteOpenMetrics writes past snapshots for backfilling.
package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/metrics/kpi"
)

// Snapshot is one KPI computation with its evaluation time: what /metrics serves
// and what the store persists, JSON-encoded.
type Snapshot struct {
	At     time.Time  `json:"at"`
	Result kpi.Result `json:"result"`
	// Counts are the events held in the store when the snapshot was computed.
	Counts Counts `json:"counts"`
	// Thresholds are the DORA level bounds the levels were computed with,
	// served so alert rules can compare against the configured bounds.
	Thresholds      kpi.Thresholds `json:"thresholds,omitzero"`
	ComputeDuration time.Duration  `json:"compute_duration"`
}

// Counts are the stored events of each kind.
type Counts struct {
	Deployments int `json:"deployments"`
	Changes     int `json:"changes"`
	Incidents   int `json:"incidents"`
}

// DecodeSnapshot reads a snapshot persisted by a Snapshotter.
func DecodeSnapshot(data []byte) (*Snapshot, error) {
	var s Snapshot
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("decode snapshot: %w", err)
	}
	return &s, nil
}

// EventReader passes every stored event to a sink; *storage.Store satisfies it.
// A recompute scans into a kpi.Input, which keeps only what the KPIs read.
type EventReader interface {
	Scan(flywheel.EventSink) error
}

// SnapshotStore persists snapshots by evaluation time; *storage.Store satisfies it.
type SnapshotStore interface {
	PutSnapshot(at time.Time, data []byte) error
	LatestSnapshot() (time.Time, []byte, bool, error)
}

// SnapshotterOptions configure a Snapshotter.
type SnapshotterOptions struct {
	Events   EventReader
	Store    SnapshotStore // nil: snapshots are not persisted
	KPI      kpi.Options
	Interval time.Duration // recompute period so windows roll forward; default 5m
	Now      func() time.Time
	Logger   *slog.Logger
}

// Snapshotter owns the current snapshot. Recomputes are serialised; readers get
// the last complete snapshot without waiting.
type Snapshotter struct {
	o       SnapshotterOptions
	current atomic.Pointer[Snapshot]
	trigger chan struct{}
	mu      sync.Mutex // serialises Recompute
}

// NewSnapshotter returns a Snapshotter; it starts nothing.
func NewSnapshotter(o SnapshotterOptions) *Snapshotter {
	if o.Interval <= 0 {
		o.Interval = 5 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Snapshotter{o: o, trigger: make(chan struct{}, 1)}
}

// Current returns the snapshot to serve, nil before the first.
func (s *Snapshotter) Current() *Snapshot { return s.current.Load() }

// LoadLatest serves the last persisted snapshot at once, so that after a restart
// /metrics is ready before any recompute or sync. No stored snapshot is not an error.
func (s *Snapshotter) LoadLatest() error {
	if s.o.Store == nil {
		return nil
	}
	at, data, ok, err := s.o.Store.LatestSnapshot()
	if err != nil {
		return fmt.Errorf("metrics: load latest snapshot: %w", err)
	}
	if !ok {
		return nil
	}
	snap, err := DecodeSnapshot(data)
	if err != nil {
		return fmt.Errorf("metrics: load latest snapshot of %s: %w", at.UTC().Format(time.RFC3339), err)
	}
	s.swap(snap)
	return nil
}

// swap installs snap unless a newer snapshot is already served.
func (s *Snapshotter) swap(snap *Snapshot) {
	for {
		old := s.current.Load()
		if old != nil && old.At.After(snap.At) {
			return
		}
		if s.current.CompareAndSwap(old, snap) {
			return
		}
	}
}

// Recompute loads every event, computes the KPIs as of now, persists the snapshot
// and serves it. A snapshot that computed but failed to persist is still served,
// and the error returned.
func (s *Snapshotter) Recompute(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.o.Events == nil {
		return errors.New("metrics: recompute: no event reader")
	}
	start := time.Now()
	in := kpi.NewInput(s.o.KPI)
	if err := s.o.Events.Scan(in); err != nil {
		return fmt.Errorf("metrics: recompute: load events: %w", err)
	}
	// the scan read every stored event, so these are the store's counts
	var counts Counts
	counts.Deployments, counts.Changes, counts.Incidents = in.Len()
	at := s.o.Now()
	res, err := compute(in, at)
	if err != nil {
		return fmt.Errorf("metrics: recompute as of %s: %w", at.UTC().Format(time.RFC3339), err)
	}
	th := s.o.KPI.Thresholds
	if th == (kpi.Thresholds{}) {
		th = kpi.DefaultThresholds // what the engine applies to a zero value
	}
	snap := &Snapshot{At: at, Result: res, Counts: counts, Thresholds: th, ComputeDuration: time.Since(start)}
	s.swap(snap)
	s.o.Logger.Debug("KPI snapshot computed", "at", at,
		"events", counts.Deployments+counts.Changes+counts.Incidents, "duration", snap.ComputeDuration)
	if s.o.Store == nil {
		return nil
	}
	data, err := json.Marshal(snap)
	if err != nil {
		return fmt.Errorf("metrics: recompute: encode snapshot: %w", err)
	}
	if err := s.o.Store.PutSnapshot(at, data); err != nil {
		return fmt.Errorf("metrics: recompute: persist snapshot: %w", err)
	}
	return nil
}

// compute runs the engine; a panic (a bug on some odd data) becomes an error so
// the last snapshot stays served rather than the process dying.
func compute(in *kpi.Input, at time.Time) (res kpi.Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("KPI engine panicked: %v\n%s", r, debug.Stack())
		}
	}()
	return in.Compute(at), nil
}

// Trigger asks Run for a recompute without blocking; requests made while one is
// pending coalesce.
func (s *Snapshotter) Trigger() {
	select {
	case s.trigger <- struct{}{}:
	default:
	}
}

// Run recomputes at once, then on every Trigger and every Interval, until ctx is
// done. A failed recompute is logged and the last snapshot stays served.
func (s *Snapshotter) Run(ctx context.Context) error {
	t := time.NewTicker(s.o.Interval)
	defer t.Stop()
	s.recompute(ctx)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-s.trigger:
		}
		s.recompute(ctx)
	}
}

func (s *Snapshotter) recompute(ctx context.Context) {
	if err := s.Recompute(ctx); err != nil && ctx.Err() == nil {
		s.o.Logger.Error("KPI snapshot failed", "err", err)
	}
}
