package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/oklog/run"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/collector"
	"github.com/flywheel-metrics/flywheel/config"
	"github.com/flywheel-metrics/flywheel/metrics"
	"github.com/flywheel-metrics/flywheel/metrics/kpi"
	"github.com/flywheel-metrics/flywheel/storage"
)

const (
	// shutdownHardCap bounds the whole shutdown after a signal: a sync that does
	// not honour cancellation cannot keep the process alive.
	shutdownHardCap = 30 * time.Second
	// syncStopWait is how long the HTTP server keeps serving while running syncs
	// stop at their next batch boundary.
	syncStopWait = 20 * time.Second
	// httpShutdownWait lets in-flight requests finish.
	httpShutdownWait = 5 * time.Second
	// maxConcurrentReports bounds the report computations running at once.
	maxConcurrentReports = 2
)

// webOptions are the exporter-convention web flags of serve and demo (SPEC §2).
type webOptions struct {
	flags         *web.FlagConfig
	telemetryPath string
	maxRequests   int
	disabled      *disabledFlag // --metrics.disable
}

// addWebFlags registers the web flags on a command.
func addWebFlags(c *kingpin.CmdClause) *webOptions {
	w := &webOptions{flags: kingpinflag.AddFlags(c, defaultListenAddress)}
	c.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").StringVar(&w.telemetryPath)
	c.Flag("web.max-requests", "Maximum number of parallel scrape requests. Use 0 to disable.").Default("40").IntVar(&w.maxRequests)
	w.disabled = addMetricsDisableFlag(c)
	return w
}

func (a *app) serveCommand(k *kingpin.Application) command {
	c := k.Command("serve", "Run the scheduled collectors, recompute KPIs after each sync and serve /metrics, /api/v1/report, /api/v1/explain, /api/v1/events, /-/healthy and /-/ready until SIGINT or SIGTERM.")
	w := addWebFlags(c)
	return command{name: c.FullCommand(), run: func() int {
		return a.exitCode(a.runServe(w))
	}}
}

func (a *app) runServe(w *webOptions) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	st, err := a.openStore(cfg)
	if err != nil {
		return err
	}
	sources, err := a.sources(cfg, st, os.Getenv)
	if err != nil {
		return errors.Join(err, st.Close())
	}
	p, err := a.newPipeline(cfg, st, sources, pipelineOptions{})
	if err != nil {
		return errors.Join(err, st.Close())
	}
	return a.serve(p, w)
}

// pipeline is the store with the scheduler that fills it and the snapshotter
// that computes KPIs from it: what serve, collect and demo share.
type pipeline struct {
	cfg   *config.Config
	st    *storage.Store
	kopts kpi.Options
	sched *collector.Scheduler
	snap  *metrics.Snapshotter
	teams func() map[string]string // service → team for the metrics
}

// pipelineOptions adjust a pipeline for collect and demo.
type pipelineOptions struct {
	progress        collector.Progress // optional, e.g. the collect progress bar
	logger          *slog.Logger       // the scheduler's; default a.log
	skipInitialSync bool               // the caller already synced
}

// newPipeline wires a scheduler and a snapshotter over st; it starts nothing.
// After each sync that wrote events the snapshotter recomputes.
func (a *app) newPipeline(cfg *config.Config, st *storage.Store, sources []collector.Scheduled, o pipelineOptions) (*pipeline, error) {
	kopts, err := cfg.KPIOptions()
	if err != nil {
		return nil, err
	}
	snap := metrics.NewSnapshotter(metrics.SnapshotterOptions{
		Events: st,
		Store:  st,
		KPI:    kopts,
		Logger: a.log,
	})
	if o.logger == nil {
		o.logger = a.log
	}
	sched := collector.NewScheduler(collector.SchedulerOptions{
		Sources:         sources,
		Sink:            st,
		Logger:          o.logger,
		OnSynced:        func(string) { snap.Trigger() },
		Progress:        o.progress,
		SkipInitialSync: o.skipInitialSync,
	})
	return &pipeline{cfg: cfg, st: st, kopts: kopts, sched: sched, snap: snap, teams: serviceTeams(cfg, sources)}, nil
}

// serve runs the server until a signal, then shuts down in one fixed order: stop
// scheduling, cancel running syncs (they return at a batch boundary), stop the
// HTTP server, and close the store last (STYLE.md example 13). It owns p.st.
func (a *app) serve(p *pipeline, w *webOptions) (err error) {
	cfg, st, snap, sched, kopts := p.cfg, p.st, p.snap, p.sched, p.kopts
	defer func() {
		if cerr := st.Close(); cerr != nil && err == nil {
			err = cerr
		}
		if err == nil {
			a.log.Info("stopped")
		}
	}()
	if snap.Current() == nil {
		if err := snap.LoadLatest(); err != nil {
			a.log.Warn("the last stored snapshot is unreadable; serving after the first recompute", "err", err)
		}
	}
	sources := sched.Names()

	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		metrics.NewExporter(snap.Current, sched.Statuses, p.teams, time.Now, w.disabled.disabled),
	)
	ingest, err := a.ingestOptions(cfg, st, snap)
	if err != nil {
		return err
	}
	reportSlots := make(chan struct{}, maxConcurrentReports)
	handler, err := newHandler(handlerOptions{
		log:           a.log,
		registry:      reg,
		telemetryPath: w.telemetryPath,
		maxRequests:   w.maxRequests,
		ready:         func() bool { return snap.Current() != nil },
		report: func(ctx context.Context, q reportQuery) (kpi.Report, error) {
			// A report at another time scans every event and computes (about as
			// much memory as a snapshot recompute); cap how many run at once so
			// that a burst of requests cannot exhaust memory.
			select {
			case reportSlots <- struct{}{}:
				defer func() { <-reportSlots }()
			case <-ctx.Done():
				return kpi.Report{}, ctx.Err()
			}
			return buildReport(q, snap.Current(), st, kopts, time.Now)
		},
		explain: func(ctx context.Context, q explainQuery) (*kpi.Explanation, error) {
			// scans every event and computes, as a report at another time does
			select {
			case reportSlots <- struct{}{}:
				defer func() { <-reportSlots }()
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			return buildExplanation(q, st, kopts, time.Now)
		},
		ingest: ingest,
	})
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}

	var g run.Group
	{
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
		stop := make(chan struct{})
		g.Add(func() error {
			select {
			case s := <-sigs:
				a.log.Info("shutting down", "signal", s.String())
				time.AfterFunc(shutdownHardCap, func() {
					a.log.Error("shutdown did not finish in time; exiting", "limit", shutdownHardCap)
					os.Exit(1)
				})
			case <-stop:
			}
			return nil
		}, func(error) {
			signal.Stop(sigs)
			close(stop)
		})
	}
	schedDone := make(chan struct{})
	{
		ctx, cancel := context.WithCancel(context.Background())
		g.Add(func() error {
			defer close(schedDone)
			return sched.Run(ctx)
		}, func(error) { cancel() })
	}
	{
		ctx, cancel := context.WithCancel(context.Background())
		g.Add(func() error { return snap.Run(ctx) }, func(error) { cancel() })
	}
	g.Add(func() error {
		a.log.Info("serving", append(version.Slog(), "addresses", *w.flags.WebListenAddresses, "store", st.Path(), "sources", sources)...)
		err := web.ListenAndServe(srv, w.flags, a.log)
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("web server: %w", err)
	}, func(error) {
		// Keep answering scrapes while syncs stop at their batch boundary.
		select {
		case <-schedDone:
		case <-time.After(syncStopWait):
			a.log.Warn("syncs still running after the wait; stopping the web server anyway")
		}
		ctx, cancel := context.WithTimeout(context.Background(), httpShutdownWait)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return g.Run()
}

// ingestOptions reads the ingest token; without one POST /api/v1/events is off.
func (a *app) ingestOptions(cfg *config.Config, st *storage.Store, snap *metrics.Snapshotter) (*ingestOptions, error) {
	if cfg.API.TokenFile == "" && cfg.API.TokenEnv == "" {
		return nil, nil
	}
	token, err := cfg.ReadSecret(cfg.API.Secret, os.Getenv)
	if err != nil {
		return nil, fmt.Errorf("api token: %w", err)
	}
	return &ingestOptions{
		tokenHash: sha256.Sum256([]byte(token)),
		maxBody:   cfg.API.MaxBodyBytes, // config.Load defaults it and refuses ≤ 0
		write: func(ctx context.Context, ev flywheel.Events) error {
			if err := st.WriteBatch(ctx, flywheel.Batch{Events: ev}); err != nil {
				return err
			}
			snap.Trigger()
			return nil
		},
	}, nil
}
