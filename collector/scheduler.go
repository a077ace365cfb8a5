package collector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/flywheel-metrics/flywheel"
)

// Scheduled is a source with its cron schedule (the config's `schedule`, for example
// "@every 15m" or "*/10 * * * *").
type Scheduled struct {
	Source   Source
	Schedule string
}

// SchedulerOptions configure a Scheduler.
type SchedulerOptions struct {
	Sources []Scheduled
	Sink    Sink
	Logger  *slog.Logger
	// OnSynced is called after a sync that wrote events or succeeded, so that the
	// serve loop can recompute the KPI snapshot. It must not block for long.
	OnSynced func(source string)
	// Progress, when set, also receives every source's progress (the collect
	// command's progress bar).
	Progress Progress
	// Now is the clock of the statuses; default time.Now.
	Now func() time.Time
	// SkipInitialSync stops Run from syncing every source once at start; by
	// default a fresh process does not wait a whole schedule period for data.
	SkipInitialSync bool
}

// Scheduler runs each source on its schedule, never two runs of one source at
// once, and keeps each source's health (flywheel.SourceStatus) in memory for the
// collector-health metrics. NewScheduler starts nothing; Run does.
type Scheduler struct {
	opts    SchedulerOptions
	log     *slog.Logger
	now     func() time.Time
	order   []string
	sources map[string]*sourceState
	// parse turns a schedule into a cron.Schedule; tests replace it with a
	// sub-second schedule.
	parse func(string) (cron.Schedule, error)
	// wg tracks every running sync, started by cron or by SyncNow.
	wg sync.WaitGroup
}

type sourceState struct {
	scheduled Scheduled

	mu        sync.Mutex
	status    flywheel.SourceStatus
	remaining map[string]int // rate-limit budget left per resource
}

// NewScheduler returns a scheduler for opts.Sources. Sources are identified by
// Name; a later source with the same name replaces an earlier one.
func NewScheduler(opts SchedulerOptions) *Scheduler {
	s := &Scheduler{
		opts:    opts,
		log:     opts.Logger,
		now:     opts.Now,
		sources: map[string]*sourceState{},
		parse:   cron.ParseStandard,
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	for _, sc := range opts.Sources {
		name := sc.Source.Name()
		if _, ok := s.sources[name]; !ok {
			s.order = append(s.order, name)
		}
		s.sources[name] = &sourceState{
			scheduled: sc,
			status:    flywheel.SourceStatus{Source: name, RateLimitRemaining: -1},
			remaining: map[string]int{},
		}
	}
	return s
}

// Run syncs every source once (unless SkipInitialSync), then on its schedule,
// until ctx is done. It then stops scheduling and waits for the running syncs,
// which see the cancelled ctx and return at their next batch boundary. A bad
// schedule is an error before anything runs.
func (s *Scheduler) Run(ctx context.Context) error {
	schedules := make(map[string]cron.Schedule, len(s.order))
	for _, name := range s.order {
		st := s.sources[name]
		sched, err := s.parse(st.scheduled.Schedule)
		if err != nil {
			return fmt.Errorf("collector: schedule %q of source %s: %w", st.scheduled.Schedule, name, err)
		}
		schedules[name] = sched
		interval := longestGap(sched, s.now().UTC())
		st.mu.Lock()
		st.status.SyncInterval = interval
		st.mu.Unlock()
	}
	c := cron.New(cron.WithLocation(time.UTC), cron.WithLogger(cronLogger{s.log}))
	for _, name := range s.order {
		c.Schedule(schedules[name], cron.FuncJob(func() { s.scheduledRun(ctx, name) }))
	}
	c.Start()
	if !s.opts.SkipInitialSync {
		for _, name := range s.order {
			s.wg.Go(func() { s.scheduledRun(ctx, name) })
		}
	}
	<-ctx.Done()
	s.log.Info("stopping the scheduler; waiting for running syncs")
	<-c.Stop().Done()
	s.wg.Wait()
	return nil
}

// gapHorizon is how far ahead longestGap walks a schedule: a week and a day, so
// a schedule that skips weekends or runs once a week shows its longest gap.
const gapHorizon = 8 * 24 * time.Hour

// maxGapRuns bounds the walk for schedules that fire every minute or faster.
const maxGapRuns = 20000

// longestGap is the longest time between consecutive runs of sched from from
// on, over the next gapHorizon (or maxGapRuns runs): the time after which a
// sync is overdue. A schedule of evenly spaced runs gives its period; "0 9 * *
// 1-5" gives the 72 hours from Friday to Monday. 0 if sched never fires.
func longestGap(sched cron.Schedule, from time.Time) time.Duration {
	var longest time.Duration
	prev := sched.Next(from)
	if prev.IsZero() {
		return 0
	}
	for n := 0; n < maxGapRuns && prev.Sub(from) < gapHorizon; n++ {
		next := sched.Next(prev)
		if next.IsZero() {
			break
		}
		longest = max(longest, next.Sub(prev))
		prev = next
	}
	return longest
}

// scheduledRun is one scheduled sync; a source still busy with its previous run
// is skipped, not queued.
func (s *Scheduler) scheduledRun(ctx context.Context, name string) {
	if ctx.Err() != nil {
		return
	}
	s.wg.Add(1)
	defer s.wg.Done()
	if err := s.run(ctx, name); errors.Is(err, errRunning) {
		s.log.Warn("sync skipped: the previous sync of this source is still running", "source", name)
	}
}

var errRunning = errors.New("a sync of this source is still running")

// SyncNow runs one sync of each named source (every source when none is named)
// concurrently and waits for them. The error joins each failed source's error.
func (s *Scheduler) SyncNow(ctx context.Context, names ...string) error {
	if len(names) == 0 {
		names = s.order
	}
	for _, n := range names {
		if _, ok := s.sources[n]; !ok {
			return fmt.Errorf("collector: unknown source %q (configured: %v)", n, s.order)
		}
	}
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, n := range names {
		s.wg.Add(1)
		wg.Go(func() {
			defer s.wg.Done()
			if err := s.run(ctx, n); err != nil {
				errs[i] = nameSource(n, err)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// nameSource prefixes err with the source's name unless its message already
// begins with it, as the GitHub and PagerDuty sources' errors do: one
// "github: ", not two.
func nameSource(name string, err error) error {
	if strings.HasPrefix(err.Error(), name+": ") {
		return err
	}
	return fmt.Errorf("%s: %w", name, err)
}

// run performs one sync of a source and records its outcome. A panic is
// recovered and recorded as a failure. A sync that returns an error after ctx
// was cancelled was interrupted (a shutdown, Ctrl-C): that is logged at info
// level and counted neither as a failure nor as a success.
func (s *Scheduler) run(ctx context.Context, name string) (err error) {
	st := s.sources[name]
	st.mu.Lock()
	if st.status.Running {
		st.mu.Unlock()
		return errRunning
	}
	start := s.now()
	st.status.Running = true
	st.status.LastAttempt = start
	st.mu.Unlock()

	sink := &countingSink{Sink: s.opts.Sink}
	log := s.log.With("source", name)
	log.Info("sync started")
	defer func() {
		panicked := false
		if r := recover(); r != nil {
			panicked = true
			err = fmt.Errorf("panic: %v", r)
			log.Error("sync panicked", "panic", r, "stack", string(debug.Stack()))
		}
		interrupted := err != nil && !panicked && ctx.Err() != nil
		end := s.now()
		written := sink.written()
		st.mu.Lock()
		st.status.Running = false
		st.status.LastDuration = end.Sub(start)
		st.status.EventsWritten += written
		switch {
		case interrupted:
		case err != nil:
			st.status.Failures++
			st.status.LastError = err.Error()
		default:
			st.status.LastSuccess = end
			st.status.LastError = ""
		}
		st.mu.Unlock()
		switch {
		case interrupted:
			log.Info("sync interrupted; what it wrote stays", "duration", end.Sub(start), "events_written", written)
		case err != nil:
			log.Error("sync failed", "err", err, "duration", end.Sub(start), "events_written", written)
		default:
			log.Info("sync finished", "duration", end.Sub(start), "events_written", written)
		}
		if (err == nil || written > 0) && s.opts.OnSynced != nil {
			s.opts.OnSynced(name)
		}
	}()
	return st.scheduled.Source.Sync(ctx, sink, &runProgress{state: st, user: s.opts.Progress})
}

// Statuses returns a copy of every source's status, in configuration order.
func (s *Scheduler) Statuses() []flywheel.SourceStatus {
	out := make([]flywheel.SourceStatus, 0, len(s.order))
	for _, name := range s.order {
		st := s.sources[name]
		st.mu.Lock()
		v := st.status
		if v.Requests != nil {
			v.Requests = make(map[string]int64, len(st.status.Requests))
			for k, n := range st.status.Requests {
				v.Requests[k] = n
			}
		}
		st.mu.Unlock()
		out = append(out, v)
	}
	return out
}

// Names lists the configured sources in configuration order.
func (s *Scheduler) Names() []string { return slices.Clone(s.order) }

// countingSink counts the events a run wrote, for SourceStatus.EventsWritten.
type countingSink struct {
	Sink
	mu sync.Mutex
	n  int64
}

func (c *countingSink) WriteBatch(ctx context.Context, b flywheel.Batch) error {
	if err := c.Sink.WriteBatch(ctx, b); err != nil {
		return err
	}
	c.mu.Lock()
	c.n += int64(b.Events.Len())
	c.mu.Unlock()
	return nil
}

func (c *countingSink) written() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// runProgress records requests and rate limits into a source's status and
// forwards everything to the user's Progress, if any.
type runProgress struct {
	state *sourceState
	user  Progress
}

func (p *runProgress) Total(n int) {
	if p.user != nil {
		p.user.Total(n)
	}
}

func (p *runProgress) Done(n int, what string) {
	if p.user != nil {
		p.user.Done(n, what)
	}
}

func (p *runProgress) Request(status int) {
	st := p.state
	st.mu.Lock()
	if st.status.Requests == nil {
		st.status.Requests = map[string]int64{}
	}
	st.status.Requests[strconv.Itoa(status)]++
	st.mu.Unlock()
	if p.user != nil {
		p.user.Request(status)
	}
}

func (p *runProgress) RateLimit(resource string, remaining, limit int) {
	st := p.state
	st.mu.Lock()
	st.remaining[resource] = remaining
	low := -1
	for _, r := range st.remaining {
		if low < 0 || r < low {
			low = r
		}
	}
	st.status.RateLimitRemaining = low
	st.mu.Unlock()
	if p.user != nil {
		p.user.RateLimit(resource, remaining, limit)
	}
}

// cronLogger sends robfig/cron's own messages to slog at debug level (errors
// at error level).
type cronLogger struct{ log *slog.Logger }

func (l cronLogger) Info(msg string, kv ...any) { l.log.Debug("cron: "+msg, cronKV(kv)...) }

func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.Error("cron: "+msg, append([]any{"err", err}, cronKV(kv)...)...)
}

// cronKV drops cron's time.Time values' monotonic noise by formatting them.
func cronKV(kv []any) []any {
	out := make([]any, len(kv))
	for i, v := range kv {
		if t, ok := v.(time.Time); ok {
			v = t.UTC().Format(time.RFC3339)
		}
		out[i] = v
	}
	return out
}
