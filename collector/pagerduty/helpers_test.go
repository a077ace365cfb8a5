package pagerduty_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/collector/pagerduty"
	"github.com/flywheel-metrics/flywheel/collector/pagerduty/pagerdutytest"
)

// fakeClock advances only when someone sleeps (or the test says so), so rate
// limits and backoff take no real time. The simulator reads it too.
type fakeClock struct {
	mu    sync.Mutex
	t     time.Time
	slept time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	c.slept += d
	return nil
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// memSink is an in-memory collector.Sink that applies each batch atomically.
type memSink struct {
	mu        sync.Mutex
	incidents map[string]flywheel.Incident
	cursors   map[string]string
	batches   int
	// before runs before a batch is applied; an error rejects the batch.
	before func(flywheel.Batch) error
}

func newSink() *memSink {
	return &memSink{incidents: map[string]flywheel.Incident{}, cursors: map[string]string{}}
}

func (s *memSink) WriteBatch(ctx context.Context, b flywheel.Batch) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.before != nil {
		if err := s.before(b); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, in := range b.Incidents {
		if in.ID == "" || in.Service == "" || in.TriggeredAt.IsZero() {
			return fmt.Errorf("invalid incident %+v", in)
		}
	}
	for _, in := range b.Incidents {
		s.incidents[in.ID] = in
	}
	for _, c := range b.Cursors {
		s.cursors[c.Source+"/"+c.Key] = c.Value
	}
	s.batches++
	return nil
}

func (s *memSink) Cursor(source, key string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cursors[source+"/"+key], nil
}

func (s *memSink) Validator(string) (flywheel.Validator, bool, error) {
	return flywheel.Validator{}, false, nil
}
func (s *memSink) Deployments(flywheel.Query) ([]flywheel.Deployment, error) { return nil, nil }
func (s *memSink) Changes(flywheel.Query) ([]flywheel.Change, error)         { return nil, nil }

func (s *memSink) Incidents(q flywheel.Query) ([]flywheel.Incident, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []flywheel.Incident
	for _, in := range s.incidents {
		if (q.Service == "" || in.Service == q.Service) &&
			(q.From.IsZero() || !in.TriggeredAt.Before(q.From)) && (q.To.IsZero() || in.TriggeredAt.Before(q.To)) {
			out = append(out, in)
		}
	}
	return out, nil
}

func (s *memSink) snapshot() map[string]flywheel.Incident {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := make(map[string]flywheel.Incident, len(s.incidents))
	for k, v := range s.incidents {
		m[k] = v
	}
	return m
}

func (s *memSink) cursorValues() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var v []string
	for _, c := range s.cursors {
		v = append(v, c)
	}
	return v
}

// progress records what a sync reports.
type progress struct {
	mu              sync.Mutex
	total, done     int
	requests        map[int]int
	remaining, lim  int
	rateLimitCalled bool
	whats           []string
}

func newProgress() *progress { return &progress{requests: map[int]int{}} }

func (p *progress) Total(n int) { p.mu.Lock(); p.total += n; p.mu.Unlock() }
func (p *progress) Done(n int, what string) {
	p.mu.Lock()
	p.done += n
	p.whats = append(p.whats, what)
	p.mu.Unlock()
}
func (p *progress) Request(status int) { p.mu.Lock(); p.requests[status]++; p.mu.Unlock() }
func (p *progress) RateLimit(_ string, remaining, limit int) {
	p.mu.Lock()
	p.remaining, p.lim, p.rateLimitCalled = remaining, limit, true
	p.mu.Unlock()
}

var (
	t0       = time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)
	services = map[string]string{"PCHK001": "checkout", "PPAY002": "payments", "PSRC003": "search"}
	// unconfigured is a service of the account that Flywheel does not read.
	unconfigured = "POTH999"
)

// genAccount fills an account with n incidents created in [from, to): every
// fifth on an unconfigured service; most acknowledged (some unacknowledged and
// re-acknowledged), most resolved; assign and notify entries (not in the
// overview); triggers from the web UI and Events API events that name a
// cause; notes with caused-by / impact-start, some after the resolve.
func genAccount(seed uint64, n int, from, to time.Time) *pagerdutytest.Account {
	rng := rand.New(rand.NewPCG(seed, 7))
	ids := slices.Sorted(func(yield func(string) bool) {
		for id := range services {
			if !yield(id) {
				return
			}
		}
	})
	acct := &pagerdutytest.Account{Users: []pagerdutytest.User{{ID: "PU1", Name: "Ann"}, {ID: "PU2", Name: "Bo"}}}
	for _, id := range append(ids, unconfigured) {
		acct.Services = append(acct.Services, pagerdutytest.Service{ID: id, Name: "svc " + id, CreatedAt: from.Add(-time.Hour)})
	}
	span := int64(to.Sub(from) / time.Second)
	for i := range n {
		created := from.Add(time.Duration(rng.Int64N(span)) * time.Second)
		svc := ids[i%len(ids)]
		if i%5 == 4 {
			svc = unconfigured
		}
		in := &pagerdutytest.Incident{
			ID: fmt.Sprintf("Q%06d", i+1), Number: i + 1, Title: fmt.Sprintf("incident %d", i+1),
			ServiceID: svc, Urgency: []string{"high", "low"}[rng.IntN(2)], CreatedAt: created,
		}
		if rng.IntN(3) == 0 {
			in.Priority = &pagerdutytest.Priority{ID: "PRIO1", Name: "P1"}
		}
		if rng.IntN(10) == 0 {
			in.Description = fmt.Sprintf("deploy went wrong\ncaused-by: d-%d", i)
		}
		// Some are opened by hand or by a script that names a cause (chosen by
		// i, not rng, so that the incidents and request counts stay the same).
		switch i % 7 {
		case 1:
			in.Trigger, in.TriggeredBy, in.Details = pagerdutytest.TriggerWeb, "PU1", fmt.Sprintf("Opened by hand.\ncaused-by: w-%d", i)
		case 3:
			in.CustomDetails = map[string]any{"caused_by": fmt.Sprintf("e-%d", i), "region": "eu-west-1"}
		}
		at := func(d int) time.Time { return created.Add(time.Duration(d) * time.Second) }
		in.Log = append(in.Log,
			pagerdutytest.LogEntry{Type: pagerdutytest.LogAssign, At: at(0), UserID: "PU1"},
			pagerdutytest.LogEntry{Type: pagerdutytest.LogNotify, At: at(5), UserID: "PU1"})
		last := created
		if rng.IntN(100) < 85 {
			ack := at(1 + rng.IntN(1800))
			in.Acknowledge(ack, "PU1")
			last = ack
			if rng.IntN(10) == 0 {
				in.Log = append(in.Log, pagerdutytest.LogEntry{Type: pagerdutytest.LogUnacknowledge, At: ack.Add(30 * time.Minute)})
				in.Acknowledge(ack.Add(35*time.Minute), "PU2")
				last = ack.Add(35 * time.Minute)
			}
		}
		resolved := rng.IntN(100) < 90
		if resolved {
			last = last.Add(time.Duration(60+rng.IntN(36000)) * time.Second)
			in.Resolve(last, "PU2")
		}
		if rng.IntN(5) == 0 {
			noteAt := last.Add(-time.Second)
			if !noteAt.After(created) {
				noteAt = created.Add(time.Second)
			}
			in.AddNote(noteAt, "PU1", fmt.Sprintf("rolled back\ncaused-by: %07x", rng.IntN(1<<28)))
		}
		if rng.IntN(10) == 0 {
			in.AddNote(created.Add(2*time.Second), "PU2", "impact-start: "+created.Add(-10*time.Minute).Format(time.RFC3339))
		}
		if resolved && rng.IntN(20) == 0 {
			in.AddNote(last.Add(2*time.Hour), "PU2", "postmortem\ncaused-by: none")
		}
		acct.Incidents = append(acct.Incidents, in)
	}
	return acct
}

// expected is the oracle: what the store must hold for acct as of now, for
// incidents of configured services created at or after since.
func expected(acct *pagerdutytest.Account, now, since time.Time) map[string]flywheel.Incident {
	out := map[string]flywheel.Incident{}
	for _, in := range acct.Incidents {
		svc, ok := services[in.ServiceID]
		if !ok || in.CreatedAt.After(now) || in.CreatedAt.Before(since) {
			continue
		}
		want := flywheel.Incident{ID: in.ID, Service: svc, Urgency: in.Urgency, Title: in.Title,
			TriggeredAt: in.CreatedAt, Source: "pagerduty"}
		if in.Priority != nil {
			want.Priority = in.Priority.Name
		}
		texts := []string{in.Details, in.Description}
		if v, ok := in.CustomDetails["caused_by"].(string); ok {
			want.CausedBy = v
		}
		log := slices.Clone(in.Log)
		slices.SortStableFunc(log, func(a, b pagerdutytest.LogEntry) int { return a.At.Compare(b.At) })
		for _, e := range log {
			if e.At.After(now) {
				continue
			}
			switch e.Type {
			case pagerdutytest.LogAcknowledge:
				if want.AcknowledgedAt.IsZero() {
					want.AcknowledgedAt = e.At
				}
			case pagerdutytest.LogResolve:
				want.ResolvedAt = e.At
			case pagerdutytest.LogAnnotate:
				texts = append(texts, e.Note)
			}
		}
		for _, t := range texts {
			for line := range strings.Lines(t) {
				line = strings.TrimSpace(line)
				if v, ok := strings.CutPrefix(line, "caused-by: "); ok {
					want.CausedBy = v
				}
				if v, ok := strings.CutPrefix(line, "impact-start: "); ok {
					want.StartedAt, _ = time.Parse(time.RFC3339, v)
				}
			}
		}
		out[in.ID] = want
	}
	return out
}

func equal(a, b flywheel.Incident) bool {
	return a.ID == b.ID && a.Service == b.Service && a.Urgency == b.Urgency && a.Priority == b.Priority &&
		a.Title == b.Title && a.StartedAt.Equal(b.StartedAt) && a.TriggeredAt.Equal(b.TriggeredAt) &&
		a.AcknowledgedAt.Equal(b.AcknowledgedAt) && a.ResolvedAt.Equal(b.ResolvedAt) &&
		a.CausedBy == b.CausedBy && a.Source == b.Source && a.ImpactStartUnparsed == b.ImpactStartUnparsed
}

// diff reports how got differs from want (at most a few lines).
func diff(t *testing.T, got, want map[string]flywheel.Incident) {
	t.Helper()
	n := 0
	for id, w := range want {
		g, ok := got[id]
		switch {
		case !ok:
			t.Errorf("missing %s: %+v", id, w)
		case !equal(g, w):
			t.Errorf("%s:\n got  %+v\n want %+v", id, g, w)
		default:
			continue
		}
		if n++; n > 5 {
			t.Fatalf("… and more (%d stored, %d expected)", len(got), len(want))
		}
	}
	for id, g := range got {
		if _, ok := want[id]; !ok {
			t.Errorf("unexpected %s: %+v", id, g)
		}
	}
}

// env is one simulated account with a source and a store.
type env struct {
	clock *fakeClock
	acct  *pagerdutytest.Account
	srv   *pagerdutytest.Server
	sink  *memSink
}

func newEnv(t *testing.T, acct *pagerdutytest.Account, opts pagerdutytest.Options) *env {
	t.Helper()
	e := &env{clock: &fakeClock{t: t0}, acct: acct, sink: newSink()}
	opts.Token = "read-only-key"
	if opts.Now == nil {
		opts.Now = e.clock.Now
	}
	e.srv = pagerdutytest.NewServer(acct, opts)
	t.Cleanup(e.srv.Close)
	return e
}

func (e *env) source(t *testing.T, mod ...func(*pagerduty.Options)) *pagerduty.Source {
	t.Helper()
	o := pagerduty.Options{
		BaseURL: e.srv.URL, Token: "read-only-key", Services: services,
		History: 365 * 24 * time.Hour, Clock: e.clock,
	}
	for _, m := range mod {
		m(&o)
	}
	s, err := pagerduty.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
