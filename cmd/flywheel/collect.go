package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/alecthomas/kingpin/v2"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/flywheel-metrics/flywheel/collector"
	"github.com/flywheel-metrics/flywheel/metrics"
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
	kopts, err := cfg.KPIOptions()
	if err != nil {
		return err
	}
	if cfg.GitHub == nil && cfg.PagerDuty == nil {
		return errors.New("collect: no source configured (add a github or pagerduty section to --config.file)")
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
	sources, err := a.sources(cfg, st)
	if err != nil {
		return err
	}

	// SIGINT/SIGTERM cancel the sync at its next batch boundary; what was
	// written stays written.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	progress := newCollectProgress(a.stderr, a.log)
	sched := collector.NewScheduler(collector.SchedulerOptions{
		Sources:  sources,
		Sink:     st,
		Logger:   progress.logger(a.log),
		Progress: progress,
	})
	syncErr := sched.SyncNow(ctx, names...)
	progress.finish()
	for _, s := range sched.Statuses() {
		a.log.Info("source synced", "source", s.Source, "ok", s.LastError == "", "duration", s.LastDuration,
			"events_written", s.EventsWritten, "requests", s.Requests, "rate_limit_remaining", s.RateLimitRemaining)
	}

	snap := metrics.NewSnapshotter(metrics.SnapshotterOptions{Events: st, Store: st, Counts: storeCounts(st), KPI: kopts, Logger: a.log})
	if err := snap.Recompute(context.Background()); err != nil {
		syncErr = errors.Join(syncErr, err)
	} else if cur := snap.Current(); cur != nil {
		a.log.Info("KPI snapshot stored", "at", cur.At, "deployments", cur.Counts.Deployments, "changes", cur.Counts.Changes, "incidents", cur.Counts.Incidents)
	}
	if syncErr != nil {
		return fmt.Errorf("collect: %w", syncErr)
	}
	return nil
}

// collectProgress shows a progress bar on a terminal and plain log lines
// otherwise. It is safe for concurrent use by several sources.
type collectProgress struct {
	mu    sync.Mutex
	bar   *progressbar.ProgressBar // nil when stderr is not a terminal
	log   *slog.Logger
	total int
	done  int
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
	return slog.New(levelFilter{Handler: l.Handler(), min: slog.LevelWarn})
}

var _ collector.Progress = (*collectProgress)(nil)

func (p *collectProgress) Total(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total += n
	if p.bar != nil {
		p.bar.ChangeMax(p.total)
	}
}

func (p *collectProgress) Done(n int, what string) {
	p.mu.Lock()
	defer p.mu.Unlock()
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
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}

// levelFilter drops records below min.
type levelFilter struct {
	slog.Handler
	min slog.Level
}

func (f levelFilter) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= f.min && f.Handler.Enabled(ctx, l)
}
