package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"

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
	if syncErr != nil {
		return fmt.Errorf("collect: %w", syncErr)
	}
	return nil
}

// syncOnce syncs the named (or every) source now, logs each one's outcome, and
// computes and stores a KPI snapshot of whatever was stored, even after a
// failure.
func (a *app) syncOnce(ctx context.Context, p *pipeline, progress *collectProgress, names ...string) error {
	syncErr := p.sched.SyncNow(ctx, names...)
	progress.finish()
	for _, s := range p.sched.Statuses() {
		if s.LastAttempt.IsZero() {
			continue
		}
		a.log.Info("source synced", "source", s.Source, "ok", s.LastError == "", "duration", s.LastDuration,
			"events_written", s.EventsWritten, "requests", s.Requests, "rate_limit_remaining", s.RateLimitRemaining)
	}
	if err := p.snap.Recompute(context.WithoutCancel(ctx)); err != nil {
		return errors.Join(syncErr, err)
	}
	if cur := p.snap.Current(); cur != nil {
		a.log.Info("KPI snapshot stored", "at", cur.At, "deployments", cur.Counts.Deployments, "changes", cur.Counts.Changes, "incidents", cur.Counts.Incidents)
	}
	return syncErr
}

// collectProgress shows a progress bar on a terminal and plain log lines
// otherwise. It is safe for concurrent use by several sources.
type collectProgress struct {
	mu    sync.Mutex
	bar   *progressbar.ProgressBar // nil when stderr is not a terminal
	log   *slog.Logger
	total int
	done  int
	// finished: the one-off sync is over; later scheduled syncs (demo) are
	// reported by the ordinary log lines only.
	finished bool
}

func newCollectProgress(w io.Writer, log *slog.Logger) *collectProgress {
	p := &collectProgress{log: log}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.bar = progressbar.NewOptions(-1,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription("syncing"),
			progressbar.OptionShowCount(),
			progressbar.OptionSetWidth(30),
			progressbar.OptionClearOnFinish(),
		)
	}
	return p
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
	if p.bar != nil {
		p.bar.ChangeMax(p.total)
	}
}

func (p *collectProgress) Done(n int, what string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return
	}
	p.done += n
	if p.bar != nil {
		p.bar.Describe(what)
		_ = p.bar.Add(n)
		return
	}
	p.log.Info("progress", "done", p.done, "total", p.total, "last", what)
}

func (p *collectProgress) Request(int)                {}
func (p *collectProgress) RateLimit(string, int, int) {}

func (p *collectProgress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return
	}
	p.finished = true
	if p.bar != nil {
		_ = p.bar.Finish()
	}
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
