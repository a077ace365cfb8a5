package collector

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/flywheel-metrics/flywheel"
)

// testSource runs fn as its Sync.
type testSource struct {
	name string
	fn   func(ctx context.Context, sink Sink, p Progress) error
}

func (s testSource) Name() string { return s.name }
func (s testSource) Sync(ctx context.Context, sink Sink, p Progress) error {
	return s.fn(ctx, sink, p)
}

// memSink is an in-memory Sink.
type memSink struct {
	mu      sync.Mutex
	batches []flywheel.Batch
}

func (m *memSink) WriteBatch(_ context.Context, b flywheel.Batch) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.batches = append(m.batches, b)
	return nil
}
func (m *memSink) Cursor(string, string) (string, error) { return "", nil }
func (m *memSink) Validator(string) (flywheel.Validator, bool, error) {
	return flywheel.Validator{}, false, nil
}
func (m *memSink) Deployments(flywheel.Query) ([]flywheel.Deployment, error) { return nil, nil }
func (m *memSink) Changes(flywheel.Query) ([]flywheel.Change, error)         { return nil, nil }
func (m *memSink) Incidents(flywheel.Query) ([]flywheel.Incident, error)     { return nil, nil }

// recProgress records what was forwarded to a user Progress.
type recProgress struct {
	mu       sync.Mutex
	total    int
	done     int
	requests []int
}

func (r *recProgress) Total(n int)                { r.mu.Lock(); r.total += n; r.mu.Unlock() }
func (r *recProgress) Done(n int, _ string)       { r.mu.Lock(); r.done += n; r.mu.Unlock() }
func (r *recProgress) Request(c int)              { r.mu.Lock(); r.requests = append(r.requests, c); r.mu.Unlock() }
func (r *recProgress) RateLimit(string, int, int) {}

func twoEvents() flywheel.Batch {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return flywheel.Batch{Events: flywheel.Events{
		Deployments: []flywheel.Deployment{{ID: "d1", Service: "s", Environment: "production", SHA: "abc", FinishedAt: at, Status: "success"}},
		Incidents:   []flywheel.Incident{{ID: "i1", Service: "s", TriggeredAt: at, Urgency: "high"}},
	}}
}

func TestSyncNowRecordsStatus(t *testing.T) {
	t.Parallel()
	clock := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	now := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		clock = clock.Add(time.Second)
		return clock
	}
	src := testSource{name: "github", fn: func(ctx context.Context, sink Sink, p Progress) error {
		p.Total(2)
		p.Request(200)
		p.Request(200)
		p.Request(304)
		p.RateLimit("core", 4000, 5000)
		p.RateLimit("graphql", 3000, 5000)
		p.RateLimit("core", 3990, 5000)
		if err := sink.WriteBatch(ctx, twoEvents()); err != nil {
			return err
		}
		p.Done(2, "acme/checkout")
		return nil
	}}
	var synced []string
	user := &recProgress{}
	sink := &memSink{}
	s := NewScheduler(SchedulerOptions{
		Sources:  []Scheduled{{Source: src, Schedule: "@every 15m"}},
		Sink:     sink,
		Now:      now,
		Progress: user,
		OnSynced: func(name string) { synced = append(synced, name) },
	})
	if err := s.SyncNow(context.Background()); err != nil {
		t.Fatalf("SyncNow: %v", err)
	}
	if err := s.SyncNow(context.Background(), "github"); err != nil {
		t.Fatalf("SyncNow(github): %v", err)
	}
	st := s.Statuses()
	if len(st) != 1 {
		t.Fatalf("got %d statuses, want 1", len(st))
	}
	got := st[0]
	if got.Source != "github" || got.Running || got.Failures != 0 || got.LastError != "" {
		t.Errorf("status = %+v", got)
	}
	if got.EventsWritten != 4 {
		t.Errorf("EventsWritten = %d, want 4 (two runs of two events)", got.EventsWritten)
	}
	if got.Requests["200"] != 4 || got.Requests["304"] != 2 {
		t.Errorf("Requests = %v, want 200:4 304:2", got.Requests)
	}
	if got.RateLimitRemaining != 3000 {
		t.Errorf("RateLimitRemaining = %d, want the smallest budget 3000", got.RateLimitRemaining)
	}
	if got.LastDuration != time.Second || !got.LastSuccess.After(got.LastAttempt) {
		t.Errorf("LastAttempt %v LastSuccess %v LastDuration %v", got.LastAttempt, got.LastSuccess, got.LastDuration)
	}
	if len(synced) != 2 || synced[0] != "github" {
		t.Errorf("OnSynced calls = %v", synced)
	}
	if user.total != 4 || user.done != 4 || len(user.requests) != 6 {
		t.Errorf("user progress total=%d done=%d requests=%v", user.total, user.done, user.requests)
	}
	if len(sink.batches) != 2 {
		t.Errorf("sink got %d batches, want 2", len(sink.batches))
	}
	// Statuses is a copy: changing it does not change the scheduler's.
	got.Requests["200"] = 99
	if s.Statuses()[0].Requests["200"] != 4 {
		t.Error("Statuses shares its Requests map with the scheduler")
	}
}

func TestSyncNowFailuresAndPanics(t *testing.T) {
	t.Parallel()
	ok := testSource{name: "ok", fn: func(context.Context, Sink, Progress) error { return nil }}
	bad := testSource{name: "pagerduty", fn: func(ctx context.Context, sink Sink, _ Progress) error {
		if err := sink.WriteBatch(ctx, twoEvents()); err != nil {
			return err
		}
		return errors.New("list incidents: 502 Bad Gateway")
	}}
	boom := testSource{name: "github", fn: func(context.Context, Sink, Progress) error {
		var m map[string]int
		m["x"] = 1 // panics: assignment to entry in nil map
		return nil
	}}
	named := testSource{name: "named", fn: func(context.Context, Sink, Progress) error {
		return errors.New("named: named: what failed") // a message that names its source, and the word twice
	}}
	var synced sync.Map
	s := NewScheduler(SchedulerOptions{
		Sources: []Scheduled{{Source: ok, Schedule: "@every 1h"}, {Source: bad, Schedule: "@every 1h"}, {Source: boom, Schedule: "@every 1h"},
			{Source: named, Schedule: "@every 1h"}},
		Sink:     &memSink{},
		OnSynced: func(name string) { synced.Store(name, true) },
	})
	err := s.SyncNow(context.Background())
	if err == nil {
		t.Fatal("SyncNow: want an error")
	}
	for _, want := range []string{"pagerduty: list incidents: 502 Bad Gateway", "github: panic: assignment to entry in nil map", "named: named: what failed"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	// An error that already begins with its source's name is not named twice.
	if strings.Contains(err.Error(), "named: named: named:") {
		t.Errorf("error %q names a source twice", err)
	}
	if strings.Contains(err.Error(), "ok:") {
		t.Errorf("error %q names the source that succeeded", err)
	}
	byName := map[string]flywheel.SourceStatus{}
	for _, st := range s.Statuses() {
		byName[st.Source] = st
	}
	if st := byName["github"]; st.Failures != 1 || st.Running || !st.LastSuccess.IsZero() || !strings.Contains(st.LastError, "panic") {
		t.Errorf("github status after panic = %+v", st)
	}
	if st := byName["pagerduty"]; st.Failures != 1 || st.EventsWritten != 2 || st.LastError != "list incidents: 502 Bad Gateway" {
		t.Errorf("pagerduty status = %+v", st)
	}
	if st := byName["ok"]; st.Failures != 0 || st.LastSuccess.IsZero() || st.RateLimitRemaining != -1 {
		t.Errorf("ok status = %+v", st)
	}
	// A failed sync that wrote events still triggers a recompute; a panic that wrote
	// nothing does not.
	if _, ok := synced.Load("pagerduty"); !ok {
		t.Error("OnSynced not called for a failed sync that wrote events")
	}
	if _, ok := synced.Load("github"); ok {
		t.Error("OnSynced called for a panicked sync that wrote nothing")
	}
	if err := s.SyncNow(context.Background(), "jira"); err == nil || !strings.Contains(err.Error(), `unknown source "jira"`) {
		t.Errorf("SyncNow(jira) = %v", err)
	}
}

func TestSyncNowNeverTwoRunsOfOneSource(t *testing.T) {
	t.Parallel()
	started := make(chan struct{})
	release := make(chan struct{})
	src := testSource{name: "github", fn: func(context.Context, Sink, Progress) error {
		close(started)
		<-release
		return nil
	}}
	s := NewScheduler(SchedulerOptions{Sources: []Scheduled{{Source: src, Schedule: "@every 1h"}}, Sink: &memSink{}})
	first := make(chan error)
	go func() { first <- s.SyncNow(context.Background()) }()
	<-started
	if !s.Statuses()[0].Running {
		t.Error("status not Running during a sync")
	}
	err := s.SyncNow(context.Background())
	if err == nil || !strings.Contains(err.Error(), "still running") {
		t.Errorf("second SyncNow during a run = %v, want a still-running error", err)
	}
	close(release)
	if err := <-first; err != nil {
		t.Errorf("first SyncNow: %v", err)
	}
}

// fastSchedule fires every d.
type fastSchedule time.Duration

func (f fastSchedule) Next(t time.Time) time.Time { return t.Add(time.Duration(f)) }

func TestRunSchedulesSkipsOverlapAndStopsAtBatchBoundary(t *testing.T) {
	t.Parallel()
	var (
		runs, active, maxActive atomic.Int32
		cancelled               atomic.Bool
	)
	src := testSource{name: "github", fn: func(ctx context.Context, sink Sink, _ Progress) error {
		runs.Add(1)
		n := active.Add(1)
		defer active.Add(-1)
		for {
			if m := maxActive.Load(); n <= m || maxActive.CompareAndSwap(m, n) {
				break
			}
		}
		// Pages of work, each a batch, checking ctx between them as a real source does.
		for range 10 {
			select {
			case <-ctx.Done():
				cancelled.Store(true)
				return ctx.Err()
			case <-time.After(15 * time.Millisecond):
			}
			if err := sink.WriteBatch(ctx, twoEvents()); err != nil {
				return err
			}
		}
		return nil
	}}
	var synced atomic.Int32
	var logs syncBuilder
	s := NewScheduler(SchedulerOptions{
		Sources:  []Scheduled{{Source: src, Schedule: "fast"}},
		Sink:     &memSink{},
		OnSynced: func(string) { synced.Add(1) },
		Logger:   slog.New(slog.NewTextHandler(&logs, nil)),
	})
	s.parse = func(string) (cron.Schedule, error) { return fastSchedule(10 * time.Millisecond), nil }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for runs.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if runs.Load() < 3 {
		t.Fatalf("only %d runs started", runs.Load())
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if active.Load() != 0 {
		t.Errorf("Run returned with %d syncs still running", active.Load())
	}
	if maxActive.Load() != 1 {
		t.Errorf("%d runs of one source at once, want 1", maxActive.Load())
	}
	if !cancelled.Load() {
		t.Error("the running sync never saw the cancelled context")
	}
	st := s.Statuses()[0]
	if st.Running || st.LastSuccess.IsZero() || st.Failures != 0 || st.LastError != "" {
		t.Errorf("status after Run = %+v (want finished syncs, and the interrupted one counted neither as a failure nor a success)", st)
	}
	if l := logs.String(); !strings.Contains(l, `level=INFO msg="sync interrupted; what it wrote stays" source=github`) || strings.Contains(l, "level=ERROR") {
		t.Errorf("the interrupted sync is not logged at info level, or something at error level:\n%s", l)
	}
	if synced.Load() == 0 {
		t.Error("OnSynced never called")
	}
	if st.SyncInterval != 10*time.Millisecond {
		t.Errorf("SyncInterval = %v, want the schedule's 10ms", st.SyncInterval)
	}
}

// TestLongestGap: the expected sync interval exported for staleness alerts is
// the longest gap of the schedule, so an hourly or a weekday schedule is not
// taken for a stalled one.
func TestLongestGap(t *testing.T) {
	t.Parallel()
	// a Wednesday, mid-afternoon: the walk must reach the weekend ahead
	from := time.Date(2026, 12, 2, 15, 7, 0, 0, time.UTC)
	for _, c := range []struct {
		schedule string
		want     time.Duration
	}{
		{"@hourly", time.Hour},
		{"@every 15m", 15 * time.Minute},
		{"*/10 * * * *", 10 * time.Minute},
		{"0 9 * * 1-5", 72 * time.Hour},                  // Friday 09:00 to Monday 09:00
		{"*/5 9-17 * * *", 15*time.Hour + 5*time.Minute}, // 17:55 to 09:00
		{"0 3 * * 0", 7 * 24 * time.Hour},                // weekly
	} {
		sched, err := cron.ParseStandard(c.schedule)
		if err != nil {
			t.Fatal(err)
		}
		if got := longestGap(sched, from); got != c.want {
			t.Errorf("longestGap(%q) = %v, want %v", c.schedule, got, c.want)
		}
	}
}

func TestRunRejectsBadSchedule(t *testing.T) {
	t.Parallel()
	src := testSource{name: "github", fn: func(context.Context, Sink, Progress) error { t.Error("sync ran"); return nil }}
	s := NewScheduler(SchedulerOptions{Sources: []Scheduled{{Source: src, Schedule: "every 15 minutes"}}, Sink: &memSink{}})
	err := s.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), `collector: schedule "every 15 minutes" of source github`) {
		t.Errorf("Run = %v", err)
	}
}

// syncBuilder is a strings.Builder safe for a logger writing from several
// goroutines.
type syncBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuilder) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuilder) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
