package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/demo"
	"github.com/flywheel-metrics/flywheel/metrics"
	"github.com/flywheel-metrics/flywheel/metrics/kpi"
)

func (a *app) demoCommand(k *kingpin.Application) command {
	c := k.Command("demo", "Start simulated GitHub and PagerDuty APIs on 127.0.0.1 holding a generated organisation, run the real collectors against them, and serve /metrics as serve does, on 127.0.0.1:9891 unless --web.listen-address says otherwise. Needs no config, token or network; --config.file is ignored. The store is a temporary file unless --storage.path is given. Ctrl-C stops it (exit 0).")
	w := addWebFlags(c, defaultDemoListenAddress)
	seed := c.Flag("seed", "Seed of the generated organisation; the same seed gives the same organisation.").Default("1").Int64()
	return command{name: c.FullCommand(), run: func() int {
		return a.exitCode(a.runDemo(w, *seed))
	}}
}

func (a *app) runDemo(w *webOptions, seed int64) (err error) {
	if a.flags.configFile != "" {
		a.log.Warn("demo ignores --config.file: it configures itself for the simulated APIs")
	}
	// Bound first: a port in use fails the demo before it collects anything.
	listeners, err := listen(w.flags)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	env, err := demo.Start(ctx, seed, time.Now())
	if err != nil {
		return errors.Join(err, closeListeners(listeners))
	}
	defer env.Close()
	cfg := env.Config

	path := a.flags.storagePath
	if path == "" {
		dir, err := os.MkdirTemp("", "flywheel-demo-")
		if err != nil {
			return errors.Join(fmt.Errorf("demo: %w", err), closeListeners(listeners))
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, "flywheel.db")
	}
	cfg.Storage.Path = path
	a.flags.storagePath = path
	st, err := a.openStore(cfg)
	if err != nil {
		return errors.Join(err, closeListeners(listeners))
	}
	sources, err := a.sources(cfg, st, env.Getenv)
	if err != nil {
		return errors.Join(err, st.Close(), closeListeners(listeners))
	}
	a.log.Info("demo: simulated APIs started", "github", env.GitHubURL, "pagerduty", env.PagerDutyURL, "store", path, "seed", seed)
	progress := newCollectProgress(a.stderr, a.log)
	// The first sync happens here, with the progress bar, so that serve starts
	// with data; serve's scheduler then runs the sources on their schedules.
	p, err := a.newPipeline(cfg, st, sources, pipelineOptions{progress: progress, logger: progress.logger(a.log), skipInitialSync: true})
	if err != nil {
		return errors.Join(err, st.Close(), closeListeners(listeners))
	}
	start := time.Now()
	if err := a.syncOnce(ctx, p, progress); err != nil {
		if errors.Is(err, errInterrupted) {
			return errors.Join(err, st.Close(), closeListeners(listeners))
		}
		return errors.Join(fmt.Errorf("demo: first sync: %w", err), st.Close(), closeListeners(listeners))
	}
	addrs := make([]string, len(listeners))
	for i, l := range listeners {
		addrs[i] = l.Addr().String()
	}
	writeDemoSummary(a.stdout, p.snap.Current(), p.sched.Statuses(), time.Since(start), addrs, w.telemetryPath)
	// serve installs its own signal handling and owns the store and the
	// listeners from here; it says "ready" once it serves.
	stop()
	return a.serve(p, w, listeners, func() {
		fmt.Fprintln(a.stdout, "\nReady. Press Ctrl-C to stop.")
	})
}

// writeDemoSummary prints what the first sync collected, the headline KPIs and
// where to look next.
func writeDemoSummary(out io.Writer, s *metrics.Snapshot, statuses []flywheel.SourceStatus, took time.Duration, addrs []string, telemetryPath string) {
	fmt.Fprintf(out, "\nFlywheel demo: collected a simulated organisation in %s.\n", took.Round(100*time.Millisecond))
	for _, st := range statuses {
		var reqs int64
		for _, n := range st.Requests {
			reqs += n
		}
		fmt.Fprintf(out, "  %-10s %6d events in %4d API requests\n", st.Source, st.EventsWritten, reqs)
	}
	fmt.Fprintf(out, "  stored: %d deployments, %d changes, %d incidents\n", s.Counts.Deployments, s.Counts.Changes, s.Counts.Incidents)
	if w, ok := s.Result.Report.Windows["30d"]; ok && w.All != nil {
		k := w.All
		fmt.Fprintf(out, "  last 30 days, all services:")
		if k.DeploymentFrequencyPerDay != nil {
			fmt.Fprintf(out, " %.2f deployments/day", *k.DeploymentFrequencyPerDay)
		}
		if k.LeadTimeSeconds != nil {
			fmt.Fprintf(out, ", lead time p50 %s", humanDuration(time.Duration(k.LeadTimeSeconds.P50*float64(time.Second))))
		}
		if k.ChangeFailureRatio != nil {
			fmt.Fprintf(out, ", change failure rate %.1f%%", 100**k.ChangeFailureRatio)
		}
		if k.DORALevel != nil {
			fmt.Fprintf(out, " (DORA: %s)", doraSummary(k.DORALevel))
		}
		fmt.Fprintln(out)
	}
	for _, addr := range addrs {
		base := "http://" + browsable(addr)
		fmt.Fprintf(out, "\n  metrics:  %s%s\n  report:   %s/api/v1/report?window=30d\n", base, telemetryPath, base)
	}
}

func doraSummary(l *kpi.DORALevels) string {
	var parts []string
	for _, p := range []struct {
		name  string
		level kpi.Level
	}{{"frequency", l.DeploymentFrequency}, {"lead time", l.LeadTime}, {"failure rate", l.ChangeFailureRate}, {"recovery", l.RecoveryTime}} {
		if p.level != "" {
			parts = append(parts, p.name+" "+string(p.level))
		}
	}
	return strings.Join(parts, ", ")
}

// browsable turns a listen address such as ":9891" into one a browser opens.
func browsable(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// humanDuration prints 2d 4h, 5h 30m or 45m.
func humanDuration(d time.Duration) string {
	d = d.Round(time.Minute)
	switch days, hours := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour); {
	case days > 0:
		return fmt.Sprintf("%dd %dh", days, hours)
	case hours > 0:
		return fmt.Sprintf("%dh %dm", hours, int(d%time.Hour/time.Minute))
	default:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	}
}
