package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/flywheel-metrics/flywheel/collector"
)

func (a *app) collectCommand(k *kingpin.Application) command {
	c := k.Command("collect", "Sync every configured source (or --source) once now, then recompute and store the KPI snapshot; exits non-zero if a source failed.")
	names := c.Flag("source", "Only this source (github, pagerduty); repeatable.").Strings()
	return command{name: c.FullCommand(), run: func() int {
		return a.exitCode(a.runCollect(*names))
	}}
}

func (a *app) runCollect(names []string) (err error) {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	if cfg.GitHub == nil && cfg.PagerDuty == nil {
		return errors.New("collect: no source configured (add a github or pagerduty section to --config.file)")
	}
	if err := cfg.CheckSecrets(os.Getenv); err != nil {
		return err // every unusable secret, as check-config names them
	}
	st, err := a.openStore(cfg)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := st.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	sources, err := a.sources(cfg, st, os.Getenv)
	if err != nil {
		return err
	}
	progress := newCollectProgress(a.stderr, a.log)
	p, err := a.newPipeline(cfg, st, sources, pipelineOptions{progress: progress, logger: progress.logger(a.log)})
	if err != nil {
		return err
	}
	for _, n := range names {
		if !slices.Contains(p.sched.Names(), n) {
			return fmt.Errorf("collect: unknown source %q (configured: %s)", n, strings.Join(p.sched.Names(), ", "))
		}
	}
	// SIGINT/SIGTERM cancel the sync at its next batch boundary; what was
	// written stays written.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	syncErr := a.syncOnce(ctx, p, progress, names...)
	if syncErr != nil && !errors.Is(syncErr, errInterrupted) {
		return fmt.Errorf("collect: %w", syncErr)
	}
	return syncErr
}

// errInterrupted is a one-off sync (collect, demo's first) stopped by SIGINT or
// SIGTERM: exit code 130, as a shell reports a command ended by Ctrl-C.
var errInterrupted = errors.New("interrupted")

// syncOnce syncs the named (or every) source now, logs each one's outcome, and
// computes and stores a KPI snapshot of what is stored — unless the sync was
// interrupted (errInterrupted: the data is half-synced) or every source that
// ran failed: then the last stored snapshot stays the one served.
func (a *app) syncOnce(ctx context.Context, p *pipeline, progress *collectProgress, names ...string) error {
	syncErr := p.sched.SyncNow(ctx, names...)
	interrupted := ctx.Err() != nil
	progress.finish(!interrupted)
	if interrupted {
		a.log.Info("interrupted: what the sync wrote stays and the next sync goes on from there; no KPI snapshot stored")
		return errInterrupted
	}
	for _, s := range p.sched.Statuses() {
		if s.LastAttempt.IsZero() {
			continue
		}
		attrs := []any{"source", s.Source, "ok", s.LastError == "", "duration", s.LastDuration.Round(time.Millisecond),
			"events_written", s.EventsWritten, "requests", formatRequests(s.Requests)}
		if s.RateLimitRemaining >= 0 {
			attrs = append(attrs, "rate_limit_remaining", s.RateLimitRemaining)
		}
		a.log.Info("source synced", attrs...)
	}
	if !p.gate.synced() {
		a.log.Warn("no KPI snapshot stored: every source failed; the last stored snapshot stays")
		return syncErr
	}
	if err := p.snap.Recompute(context.WithoutCancel(ctx)); err != nil {
		return errors.Join(syncErr, err)
	}
	if cur := p.snap.Current(); cur != nil {
		a.log.Info("KPI snapshot stored", "at", cur.At, "deployments", cur.Counts.Deployments, "changes", cur.Counts.Changes, "incidents", cur.Counts.Incidents)
	}
	return syncErr
}

// formatRequests prints API requests by status code as "200:30 304:2" (0 is a
// transport error), for a log line a person reads.
func formatRequests(byCode map[string]int64) string {
	parts := make([]string, 0, len(byCode))
	for _, code := range slices.Sorted(maps.Keys(byCode)) {
		parts = append(parts, fmt.Sprintf("%s:%d", code, byCode[code]))
	}
	return strings.Join(parts, " ")
}

// collectProgress shows a progress bar on a terminal and plain log lines
// otherwise. It is safe for concurrent use by several sources.
//
// Sources learn their work as they go (a repository's pages, a window's
// pages), so the total grows during a sync. The bar shows the largest
// fraction done/total seen so far, below 100% until finish: it never moves
// back when the total grows, it waits for the work done to catch up.
type collectProgress struct {
	mu    sync.Mutex
	bar   *progressbar.ProgressBar // nil when stderr is not a terminal
	out   io.Writer                // the bar's
	log   *slog.Logger
	total int
	done  int
	shown int // per mille of the bar, never less than before
	// finished: the one-off sync is over; later scheduled syncs (demo) are
	// reported by the ordinary log lines only.
	finished bool
}

// barScale is the bar's maximum: it counts per mille of the work, not units.
const barScale = 1000

func newCollectProgress(w io.Writer, log *slog.Logger) *collectProgress {
	p := &collectProgress{log: log}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.bar, p.out = newProgressBar(w, 100*time.Millisecond), w
	}
	return p
}

// newProgressBar draws at most one frame per throttle (the last one always).
func newProgressBar(w io.Writer, throttle time.Duration) *progressbar.ProgressBar {
	return progressbar.NewOptions(barScale,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("syncing"),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(throttle),
	)
}

// logger is the logger to use while the bar is shown: only warnings and errors,
// so that info lines do not tear the bar.
func (p *collectProgress) logger(l *slog.Logger) *slog.Logger {
	if p.bar == nil {
		return l
	}
	return slog.New(levelFilter{Handler: l.Handler(), min: slog.LevelWarn, active: p.barShown})
}

// barShown reports whether the bar is still on screen.
func (p *collectProgress) barShown() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.bar != nil && !p.finished
}

var _ collector.Progress = (*collectProgress)(nil)

func (p *collectProgress) Total(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return
	}
	p.total += n
	p.draw("")
}

func (p *collectProgress) Done(n int, what string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return
	}
	p.done += n
	if p.bar == nil {
		p.log.Info("progress", "done", p.done, "total", p.total, "last", what)
		return
	}
	p.draw(what)
}

// draw moves the bar forward to done/total if that is further than shown; what,
// if set, becomes the description. The caller holds p.mu.
func (p *collectProgress) draw(what string) {
	if p.bar == nil {
		return
	}
	if what != "" {
		p.bar.Describe(fmt.Sprintf("%d/%d %s", p.done, p.total, what))
	}
	if p.total <= 0 {
		return
	}
	if f := min(p.done*barScale/p.total, barScale-1); f > p.shown {
		p.shown = f
		_ = p.bar.Set(f)
	}
}

func (p *collectProgress) Request(int)                {}
func (p *collectProgress) RateLimit(string, int, int) {}

// finish ends the bar: at 100% when the sync ran to its end (whether or not a
// source failed), where it stood when it was interrupted.
func (p *collectProgress) finish(complete bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return
	}
	p.finished = true
	if p.bar == nil {
		return
	}
	if complete {
		p.bar.Describe("synced")
		_ = p.bar.Finish()
	} else {
		_ = p.bar.Exit()
	}
	fmt.Fprintln(p.out)
}

// levelFilter drops records below min while active says so.
type levelFilter struct {
	slog.Handler
	min    slog.Level
	active func() bool
}

func (f levelFilter) Enabled(ctx context.Context, l slog.Level) bool {
	return (l >= f.min || !f.active()) && f.Handler.Enabled(ctx, l)
}

func (f levelFilter) WithAttrs(attrs []slog.Attr) slog.Handler {
	return levelFilter{Handler: f.Handler.WithAttrs(attrs), min: f.min, active: f.active}
}

func (f levelFilter) WithGroup(name string) slog.Handler {
	return levelFilter{Handler: f.Handler.WithGroup(name), min: f.min, active: f.active}
}
