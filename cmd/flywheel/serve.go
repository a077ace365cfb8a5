package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/coreos/go-systemd/v22/activation"
	"github.com/mdlayher/vsock"
	"github.com/oklog/run"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"
	"golang.org/x/net/netutil"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/collector"
	"github.com/flywheel-metrics/flywheel/config"
	"github.com/flywheel-metrics/flywheel/metrics"
	"github.com/flywheel-metrics/flywheel/metrics/kpi"
	"github.com/flywheel-metrics/flywheel/metrics/report"
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

// webOptions are the exporter-convention web flags of serve and demo.
type webOptions struct {
	flags         *web.FlagConfig
	telemetryPath string
	maxRequests   int
	enablePprof   bool
	disabled      *disabledFlag // --metrics.disable
	limits        serverLimits
}

// serverLimits bound what one client can hold of the web server: how long a
// request may take to arrive and to be answered, how long an idle keep-alive
// connection stays open, and how many connections are open at once.
type serverLimits struct {
	readHeader, read, write, idle time.Duration
	maxConns                      int
}

// defaultServerLimits suit an exporter that a few scrapers, dashboards and
// CI jobs talk to. read lets a full 10 MiB ingest body arrive at about
// 1.5 Mbit/s; write is above the longest report computation and a 30 s
// profile, and GET /api/v1/backup lifts it for itself (a store of a gigabyte
// takes longer to send); idle is above a one-minute scrape interval, so a
// scraper keeps its connection. A connection beyond maxConns waits to be
// accepted until another closes.
func defaultServerLimits() serverLimits {
	return serverLimits{
		readHeader: 10 * time.Second,
		read:       time.Minute,
		write:      2 * time.Minute,
		idle:       90 * time.Second,
		maxConns:   512,
	}
}

// newWebServer is the server of one listener, with lim's timeouts, and the
// listener bounded to lim.maxConns open connections.
func newWebServer(l net.Listener, handler http.Handler, lim serverLimits) (*http.Server, net.Listener) {
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: lim.readHeader,
		ReadTimeout:       lim.read,
		WriteTimeout:      lim.write,
		IdleTimeout:       lim.idle,
	}
	probesWithoutAuth(srv, handler)
	return srv, netutil.LimitListener(l, lim.maxConns)
}

// addWebFlags registers the web flags on a command, listening on
// defaultAddress unless told otherwise.
func addWebFlags(c *kingpin.CmdClause, defaultAddress string) *webOptions {
	w := &webOptions{flags: kingpinflag.AddFlags(c, defaultAddress), limits: defaultServerLimits()}
	c.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").StringVar(&w.telemetryPath)
	c.Flag("web.max-requests", "Maximum number of parallel scrape requests. Use 0 to disable.").Default("40").IntVar(&w.maxRequests)
	c.Flag("web.enable-pprof", "Serve Go's profiling endpoints under /debug/pprof/ (linked from the landing page), behind the same TLS and auth as the rest. Off by default: a profile shows the process's internals and costs CPU while it runs.").BoolVar(&w.enablePprof)
	w.disabled = addMetricsDisableFlag(c)
	return w
}

func (a *app) serveCommand(k *kingpin.Application) command {
	c := k.Command("serve", "Run the scheduled collectors, recompute KPIs after each sync and serve /metrics, /report (HTML), /api/v1/report, /api/v1/explain, /api/v1/events, /api/v1/backup, /-/healthy and /-/ready until SIGINT or SIGTERM.")
	w := addWebFlags(c, defaultListenAddress)
	return command{name: c.FullCommand(), run: func() int {
		return a.exitCode(a.runServe(w))
	}}
}

func (a *app) runServe(w *webOptions) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	// Every secret is checked before anything starts, and every unusable one
	// named, as check-config does.
	if err := cfg.CheckSecrets(os.Getenv); err != nil {
		return err
	}
	listeners, err := listen(w.flags)
	if err != nil {
		return err
	}
	st, err := a.openStore(cfg)
	if err != nil {
		return errors.Join(err, closeListeners(listeners))
	}
	sources, err := a.sources(cfg, st, os.Getenv)
	if err != nil {
		return errors.Join(err, st.Close(), closeListeners(listeners))
	}
	p, err := a.newPipeline(cfg, st, sources, pipelineOptions{})
	if err != nil {
		return errors.Join(err, st.Close(), closeListeners(listeners))
	}
	return a.serve(p, w, listeners, nil)
}

// listen checks --web.config.file and binds every --web.listen-address (or
// takes systemd's sockets with --web.systemd-socket), as exporter-toolkit's
// ListenAndServe would, but before anything else runs: a port in use or a bad
// web config fails the command before it syncs or says it serves.
func listen(flags *web.FlagConfig) ([]net.Listener, error) {
	if *flags.WebConfigFile != "" {
		if err := web.Validate(*flags.WebConfigFile); err != nil {
			return nil, fmt.Errorf("web config %s: %w", *flags.WebConfigFile, err)
		}
	}
	if flags.WebSystemdSocket != nil && *flags.WebSystemdSocket {
		ls, err := activation.Listeners()
		if err != nil {
			return nil, fmt.Errorf("web: systemd socket activation: %w", err)
		}
		if len(ls) == 0 {
			return nil, errors.New("web: --web.systemd-socket is set but systemd passed no socket")
		}
		return ls, nil
	}
	if len(*flags.WebListenAddresses) == 0 {
		return nil, errors.New("web: no --web.listen-address")
	}
	var ls []net.Listener
	for _, addr := range *flags.WebListenAddresses {
		var l net.Listener
		var err error
		if strings.HasPrefix(addr, "vsock://") {
			var port uint32
			if port, err = vsockPort(addr); err == nil {
				l, err = vsock.Listen(port, nil)
			}
		} else {
			l, err = net.Listen("tcp", addr)
		}
		switch {
		case errors.Is(err, syscall.EADDRINUSE):
			return nil, errors.Join(fmt.Errorf("web: %w: another process holds the port; choose another with --web.listen-address", err), closeListeners(ls))
		case err != nil:
			return nil, errors.Join(fmt.Errorf("web: listen on %s: %w", addr, err), closeListeners(ls))
		}
		ls = append(ls, l)
	}
	return ls, nil
}

// vsockPort reads the port of a vsock://:PORT listen address.
func vsockPort(addr string) (uint32, error) {
	u, err := url.Parse(addr)
	if err != nil {
		return 0, err
	}
	_, port, err := net.SplitHostPort(u.Host)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseUint(port, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("port %q: %w", port, err)
	}
	return uint32(n), nil
}

func closeListeners(ls []net.Listener) error {
	var errs []error
	for _, l := range ls {
		if l != nil {
			errs = append(errs, l.Close())
		}
	}
	return errors.Join(errs...)
}

// pipeline is the store with the scheduler that fills it and the snapshotter
// that computes KPIs from it: what serve, collect and demo share.
type pipeline struct {
	cfg   *config.Config
	st    *storage.Store
	kopts kpi.Options
	sched *collector.Scheduler
	snap  *metrics.Snapshotter
	gate  *snapshotGate
	teams func() map[string]string // service → team for the metrics
}

// snapshotGate stands between the snapshotter and the store. It stores a KPI
// snapshot only when it counts: computed from events read after a source
// synced successfully in this process — with no source configured, any — so
// that a snapshot of an empty or half-filled store never replaces the last
// good one. And it says when such a snapshot, or one stored by an earlier run,
// is served: what /-/ready waits for.
type snapshotGate struct {
	st *storage.Store
	// synced reports whether a source has synced successfully in this process,
	// or there is no source.
	synced func() bool
	// counts: the last Scan began after synced() held. The snapshotter
	// serialises its recomputes, so a Scan and the PutSnapshot after it pair.
	counts atomic.Bool
	ready  atomic.Bool
}

func (g *snapshotGate) Scan(sink flywheel.EventSink) error {
	g.counts.Store(g.synced())
	return g.st.Scan(sink)
}

// PutSnapshot stores the snapshot if it counts and drops it otherwise; the
// snapshotter serves it either way.
func (g *snapshotGate) PutSnapshot(at time.Time, data []byte) error {
	if !g.counts.Load() {
		return nil
	}
	g.ready.Store(true) // the snapshotter serves a snapshot before it stores it
	return g.st.PutSnapshot(at, data)
}

func (g *snapshotGate) LatestSnapshot() (time.Time, []byte, bool, error) {
	return g.st.LatestSnapshot()
}

// anySucceeded reports whether a source has synced successfully, or none is
// configured.
func anySucceeded(statuses []flywheel.SourceStatus) bool {
	for _, s := range statuses {
		if !s.LastSuccess.IsZero() {
			return true
		}
	}
	return len(statuses) == 0
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
	gate := &snapshotGate{st: st}
	snap := metrics.NewSnapshotter(metrics.SnapshotterOptions{
		Events: gate,
		Store:  gate,
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
	gate.synced = func() bool { return anySucceeded(sched.Statuses()) }
	return &pipeline{cfg: cfg, st: st, kopts: kopts, sched: sched, snap: snap, gate: gate, teams: serviceTeams(cfg, sources)}, nil
}

// serve runs the server on listeners until a signal, then shuts down in one
// fixed order: stop scheduling, cancel running syncs (they return at a batch
// boundary), stop the HTTP servers, and close the store last. It owns p.st and
// the listeners. onServing, if set, runs once the
// servers are about to accept connections (the demo's "Press Ctrl-C").
func (a *app) serve(p *pipeline, w *webOptions, listeners []net.Listener, onServing func()) (err error) {
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
		switch err := snap.LoadLatest(); {
		case err != nil:
			a.log.Warn("the last stored snapshot is unreadable; ready after the first successful sync", "err", err)
		case snap.Current() != nil:
			// stored by an earlier run after a successful sync: ready at once
			p.gate.ready.Store(true)
		}
	}
	sources := sched.Names()

	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		metrics.NewExporter(snap.Current, sched.Statuses, p.teams, time.Now, w.disabled.disabled),
		a.build.collector(),
	)
	ingest, err := a.ingestOptions(cfg, st, snap)
	if err != nil {
		return errors.Join(err, closeListeners(listeners))
	}
	// A report at another time, an HTML page or an explanation scans every
	// event and computes (about as much memory as a snapshot recompute); cap
	// how many run at once so that a burst of requests cannot exhaust memory.
	reportSlots := make(chan struct{}, maxConcurrentReports)
	acquire := func(ctx context.Context) (release func(), err error) {
		select {
		case reportSlots <- struct{}{}:
			return func() { <-reportSlots }, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	handler, err := newHandler(handlerOptions{
		log:           a.log,
		registry:      reg,
		telemetryPath: w.telemetryPath,
		maxRequests:   w.maxRequests,
		enablePprof:   w.enablePprof,
		ready:         p.gate.ready.Load,
		report: func(ctx context.Context, q reportQuery) (kpi.Report, error) {
			release, err := acquire(ctx)
			if err != nil {
				return kpi.Report{}, err
			}
			defer release()
			return buildReport(q, snap.Current(), st, kopts, time.Now)
		},
		htmlReport: func(ctx context.Context, q reportQuery, out io.Writer) error {
			release, err := acquire(ctx)
			if err != nil {
				return err
			}
			defer release()
			page, err := buildHTMLReport(q, st, kopts, cfg.ServiceTeams(), time.Now)
			if err != nil {
				return err
			}
			return report.WriteHTMLOptions(out, page.report, page.history, page.explainer, htmlOptions(cfg, page))
		},
		explain: func(ctx context.Context, q explainQuery) (*kpi.Explanation, error) {
			release, err := acquire(ctx)
			if err != nil {
				return nil, err
			}
			defer release()
			return buildExplanation(q, st, kopts, time.Now)
		},
		ingest: ingest,
		backup: st.Backup,
		now:    time.Now,
	})
	if err != nil {
		return errors.Join(err, closeListeners(listeners))
	}

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
			// From here a second Ctrl-C ends the process at once.
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
	addrs := make([]string, len(listeners))
	for i, l := range listeners {
		addrs[i] = l.Addr().String()
		// One server per listener: exporter-toolkit's Serve replaces the
		// server's handler, which two listeners of one server would race on.
		srv, bounded := newWebServer(l, handler, w.limits)
		g.Add(func() error {
			err := web.Serve(bounded, srv, w.flags, a.log)
			if errors.Is(err, http.ErrServerClosed) {
				return nil
			}
			return fmt.Errorf("web server on %s: %w", l.Addr(), err)
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
	}
	a.log.Info("serving", append(a.build.logAttrs(), "addresses", strings.Join(addrs, ","), "store", st.Path(), "sources", strings.Join(sources, ","))...)
	if onServing != nil {
		onServing()
	}
	return g.Run()
}

// probesWithoutAuth lets /-/healthy and /-/ready through without the basic
// auth of --web.config.file (TLS still applies), so that an orchestrator's
// probes, which carry no credentials, see the process's health; the two
// answers reveal nothing but that. exporter-toolkit's web.Serve installs its
// auth handler as srv.Handler just before it serves, and http.Server calls
// BaseContext right then, on the same goroutine, before it accepts a
// connection: there the auth handler is put behind a check that sends the
// probes' paths to handler directly. Without a web config the handler is
// handler itself and nothing changes.
func probesWithoutAuth(srv *http.Server, handler http.Handler) {
	srv.BaseContext = func(net.Listener) context.Context {
		if authed := srv.Handler; authed != handler {
			srv.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/-/healthy" || r.URL.Path == "/-/ready" {
					handler.ServeHTTP(w, r)
					return
				}
				authed.ServeHTTP(w, r)
			})
		}
		return context.Background()
	}
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
		labels:    newLabelBudget(cfg, st.Scan),
		write: func(ctx context.Context, ev flywheel.Events) error {
			if err := st.WriteBatch(ctx, flywheel.Batch{Events: ev}); err != nil {
				return err
			}
			snap.Trigger()
			return nil
		},
	}, nil
}
