package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/metrics/kpi"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// memStore is an in-memory EventReader and SnapshotStore with the semantics of
// storage.Store (the real one is tested with bbolt in storage/).
type memStore struct {
	mu        sync.Mutex
	ev        flywheel.Events
	snapshots map[time.Time][]byte
	loads     int
	putErr    error
}

// Scan passes one reused record per kind, as storage.Store does.
func (m *memStore) Scan(sink flywheel.EventSink) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.loads++
	sink.Grow(len(m.ev.Deployments), len(m.ev.Changes), len(m.ev.Incidents))
	var (
		d flywheel.Deployment
		c flywheel.Change
		x flywheel.Incident
	)
	for _, d = range m.ev.Deployments {
		sink.AddDeployment(&d)
	}
	for _, c = range m.ev.Changes {
		sink.AddChange(&c)
	}
	for _, x = range m.ev.Incidents {
		sink.AddIncident(&x)
	}
	return nil
}

func (m *memStore) PutSnapshot(at time.Time, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.putErr != nil {
		return m.putErr
	}
	if m.snapshots == nil {
		m.snapshots = map[time.Time][]byte{}
	}
	m.snapshots[at] = append([]byte(nil), data...)
	return nil
}

func (m *memStore) LatestSnapshot() (time.Time, []byte, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var at time.Time
	for t := range m.snapshots {
		if t.After(at) {
			at = t
		}
	}
	if at.IsZero() {
		return time.Time{}, nil, false, nil
	}
	return at, m.snapshots[at], true, nil
}

func (m *memStore) loadCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.loads
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestSnapshotterPersistsAndRestores(t *testing.T) {
	t.Parallel()
	store := &memStore{ev: loadEvents(t)}
	clk := &clock{t: fixtureAt}
	s := NewSnapshotter(SnapshotterOptions{Events: store, Store: store, KPI: fixtureOptions(), Now: clk.Now})
	if s.Current() != nil {
		t.Fatal("Current before the first computation is not nil")
	}
	if err := s.LoadLatest(); err != nil {
		t.Fatalf("LoadLatest on an empty store: %v", err)
	}
	if s.Current() != nil {
		t.Fatal("LoadLatest on an empty store served something")
	}
	if err := s.Recompute(context.Background()); err != nil {
		t.Fatal(err)
	}
	first := s.Current()
	if first == nil || !first.At.Equal(fixtureAt) || first.Counts.Deployments != len(store.ev.Deployments) {
		t.Fatalf("Current after Recompute = %+v", first)
	}

	// A restarted process serves the persisted snapshot before any recompute,
	// identical to what was served before.
	restarted := NewSnapshotter(SnapshotterOptions{Events: store, Store: store, KPI: fixtureOptions(), Now: clk.Now})
	loadsBefore := store.loadCount()
	if err := restarted.LoadLatest(); err != nil {
		t.Fatal(err)
	}
	if store.loadCount() != loadsBefore {
		t.Error("LoadLatest loaded events")
	}
	want := string(exposition(t, NewExporter(func() *Snapshot { return first }, nil, constTeams(fixtureTeams), nil, Disabled{})))
	got := string(exposition(t, NewExporter(restarted.Current, nil, constTeams(fixtureTeams), nil, Disabled{})))
	if d := lineDiff(want, got); d != "" {
		t.Errorf("restored snapshot exposes different metrics:\n%s", d)
	}

	// The window rolls forward with time alone.
	clk.Add(24 * time.Hour)
	if err := restarted.Recompute(context.Background()); err != nil {
		t.Fatal(err)
	}
	if at, _, _, _ := store.LatestSnapshot(); !at.Equal(fixtureAt.Add(24 * time.Hour)) {
		t.Errorf("latest persisted snapshot at %v", at)
	}
}

func TestSnapshotterPersistFailureStillServes(t *testing.T) {
	t.Parallel()
	store := &memStore{ev: loadEvents(t), putErr: errors.New("disk full")}
	s := NewSnapshotter(SnapshotterOptions{Events: store, Store: store, KPI: fixtureOptions(), Now: func() time.Time { return fixtureAt }})
	err := s.Recompute(context.Background())
	if err == nil || !strings.Contains(err.Error(), "persist snapshot: disk full") {
		t.Fatalf("Recompute error = %v", err)
	}
	if s.Current() == nil {
		t.Error("computed snapshot not served after a persist failure")
	}
}

func TestSnapshotterLoadLatestBadData(t *testing.T) {
	t.Parallel()
	store := &memStore{snapshots: map[time.Time][]byte{fixtureAt: []byte("{not json")}}
	s := NewSnapshotter(SnapshotterOptions{Events: store, Store: store})
	err := s.LoadLatest()
	if err == nil || !strings.Contains(err.Error(), "load latest snapshot of 2026-05-12T00:00:00Z: decode snapshot") {
		t.Fatalf("LoadLatest error = %v", err)
	}
}

func TestSnapshotterRunTriggerAndTimer(t *testing.T) {
	t.Parallel()
	store := &memStore{ev: loadEvents(t)}
	clk := &clock{t: fixtureAt}
	s := NewSnapshotter(SnapshotterOptions{Events: store, KPI: fixtureOptions(), Now: clk.Now, Interval: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()

	waitFor(t, func() bool { return s.Current() != nil }, "the first computation at start")
	clk.Add(time.Minute)
	s.Trigger()
	waitFor(t, func() bool { return s.Current().At.Equal(fixtureAt.Add(time.Minute)) }, "a recompute on Trigger")
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}

	// The timer alone recomputes.
	timed := NewSnapshotter(SnapshotterOptions{Events: store, KPI: fixtureOptions(), Now: clk.Now, Interval: 20 * time.Millisecond})
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	go func() { done <- timed.Run(ctx2) }()
	waitFor(t, func() bool { return timed.Current() != nil }, "the first computation")
	clk.Add(time.Hour)
	waitFor(t, func() bool { return timed.Current().At.Equal(clk.Now()) }, "a recompute on the timer")
	cancel2()
	<-done
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestScrapeDuringRecompute scrapes /metrics while snapshots are swapped; run
// with -race.
func TestScrapeDuringRecompute(t *testing.T) {
	t.Parallel()
	store := &memStore{ev: loadEvents(t)}
	clk := &clock{t: fixtureAt}
	s := NewSnapshotter(SnapshotterOptions{Events: store, Store: store, KPI: fixtureOptions(), Now: clk.Now})
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewExporter(s.Current, fixtureHealth, constTeams(fixtureTeams), clk.Now, Disabled{}))
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
	defer srv.Close()

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := http.Get(srv.URL)
				if err != nil {
					t.Error(err)
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Errorf("scrape: %d %s", resp.StatusCode, body)
					return
				}
			}
		}()
	}
	for range 5 {
		clk.Add(time.Hour)
		if err := s.Recompute(context.Background()); err != nil {
			t.Error(err)
		}
	}
	close(stop)
	wg.Wait()
}

// TestSnapshotServesConfiguredThresholds: the DORA bounds a snapshot was
// computed with are served, so an alert compares against dora_thresholds and
// not a copy of the defaults; a snapshot persisted before bounds were recorded
// serves none rather than zeros.
func TestSnapshotServesConfiguredThresholds(t *testing.T) {
	t.Parallel()
	store := &memStore{ev: loadEvents(t)}
	opts := fixtureOptions()
	opts.Thresholds.ChangeFailureRatio = [3]float64{0.1, 0.2, 0.25}
	s := NewSnapshotter(SnapshotterOptions{Events: store, Store: store, KPI: opts, Now: func() time.Time { return fixtureAt }})
	if err := s.Recompute(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := string(exposition(t, NewExporter(s.Current, nil, nil, nil, Disabled{})))
	for _, want := range []string{
		`flywheel_dora_threshold{kpi="change_failure_rate",level="medium"} 0.25`,
		`flywheel_dora_threshold{kpi="change_failure_rate",level="elite"} 0.1`,
		`flywheel_dora_threshold{kpi="lead_time",level="high"} 604800`,
	} {
		if !strings.Contains(got, want+"\n") {
			t.Errorf("exposition lacks %s:\n%s", want, grepLines(got, "flywheel_dora_threshold"))
		}
	}

	// Options without bounds compute with the defaults, and serve them.
	zero := fixtureOptions()
	zero.Thresholds = kpi.Thresholds{}
	d := NewSnapshotter(SnapshotterOptions{Events: store, KPI: zero, Now: func() time.Time { return fixtureAt }})
	if err := d.Recompute(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := string(exposition(t, NewExporter(d.Current, nil, nil, nil, Disabled{}))); !strings.Contains(got, `flywheel_dora_threshold{kpi="change_failure_rate",level="medium"} 0.15`+"\n") {
		t.Errorf("default bounds not served:\n%s", grepLines(got, "flywheel_dora_threshold"))
	}

	_, data, _, err := store.LatestSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	var old map[string]any
	if err := json.Unmarshal(data, &old); err != nil {
		t.Fatal(err)
	}
	delete(old, "thresholds")
	data, err = json.Marshal(old)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := DecodeSnapshot(data)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(exposition(t, NewExporter(func() *Snapshot { return snap }, nil, nil, nil, Disabled{}))); strings.Contains(got, "flywheel_dora_threshold") {
		t.Errorf("a snapshot without recorded bounds serves some:\n%s", grepLines(got, "flywheel_dora_threshold"))
	}
}

func grepLines(text, substr string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
