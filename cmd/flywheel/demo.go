package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
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
	c := k.Command("demo", "Start simulated GitHub and PagerDuty APIs on 127.0.0.1 holding a generated organisation, run the real collectors against them, and serve /metrics as serve does, on 127.0.0.1:9891 unless --web.listen-address says otherwise. Needs no config, token or network; --config.file is ignored. The store is a temporary file unless --storage.path is given; then the demo's configuration is written beside it (kept.db: kept.demo.yml), for report, explain and serve to read the kept store with. Ctrl-C stops it (exit 0).")
	w := addWebFlags(c, defaultDemoListenAddress)
	seed := c.Flag("seed", "Seed of the generated organisation; the same seed gives the same organisation.").Default("1").Int64()
	printConfig := c.Flag("print-config", "Print the demo's configuration for reading the store it fills (its teams, tune-up initiative and windows; no sources, as the simulated APIs stop with the demo) as YAML, and exit. With --storage.path it is the file the demo writes beside that store.").Bool()
	return command{name: c.FullCommand(), run: func() int {
		if *printConfig {
			return a.exitCode(a.printDemoConfig(*seed))
		}
		return a.exitCode(a.runDemo(w, *seed))
	}}
}

// printDemoConfig writes the configuration the demo would write beside
// --storage.path (without a storage section when none is given).
func (a *app) printDemoConfig(seed int64) error {
	store := ""
	if a.flags.storagePath != "" {
		abs, err := filepath.Abs(a.flags.storagePath)
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		store = abs
	}
	_, err := io.WriteString(a.stdout, demo.Generate(seed, time.Now()).StoreConfigYAML(store))
	return err
}

// demoConfigPath is where the demo writes its configuration beside the store
// at store: kept.db gives kept.demo.yml. The name is not flywheel.yml, so that
// it never meets a user's own configuration file of that usual name.
func demoConfigPath(store string) string {
	return strings.TrimSuffix(store, filepath.Ext(store)) + ".demo.yml"
}

// writeDemoConfig writes text to path unless a file is there that the demo
// did not write (it does not begin with demo.StoreConfigHeader): that file is
// someone's, and is left as it is.
func writeDemoConfig(path, text string) error {
	old, err := os.ReadFile(path)
	switch {
	case err == nil:
		if !strings.HasPrefix(string(old), demo.StoreConfigHeader) {
			return fmt.Errorf("%s exists and flywheel demo did not write it (it does not begin with %q); it is left as it is", path, demo.StoreConfigHeader)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	return os.WriteFile(path, []byte(text), 0o644)
}

// keptDemo says what the demo keeps after it stops, for its summary.
type keptDemo struct {
	store     string // --storage.path as given; "" for a temporary store
	config    string // the configuration written beside it; "" when not
	configErr error  // why it was not written
	seed      int64
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
	kept := keptDemo{store: a.flags.storagePath, seed: seed}
	a.flags.storagePath = path
	st, err := a.openStore(cfg)
	if err != nil {
		return errors.Join(err, closeListeners(listeners))
	}
	// Written once the store is held, so that a demo already running on the
	// same store keeps its file.
	if kept.store != "" {
		kept.config = demoConfigPath(kept.store)
		abs, err := filepath.Abs(kept.store)
		if err == nil {
			err = writeDemoConfig(kept.config, env.Org.StoreConfigYAML(abs))
		}
		if err != nil {
			kept.config, kept.configErr = "", err
			a.log.Warn("demo: its configuration is not written beside the store", "err", err)
		}
	}
	sources, err := a.sources(cfg, st, env.Getenv)
	if err != nil {
		return errors.Join(err, st.Close(), closeListeners(listeners))
	}
	started := []any{"github", env.GitHubURL, "pagerduty", env.PagerDutyURL, "store", path, "seed", seed}
	if kept.config != "" {
		started = append(started, "config", kept.config)
	}
	a.log.Info("demo: simulated APIs started", started...)
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
	kopts, err := cfg.KPIOptions()
	if err != nil {
		kopts = kpi.DefaultOptions() // the demo's configuration is its own and valid; the summary needs only thresholds
	}
	writeDemoSummary(a.stdout, p.snap.Current(), kopts.Thresholds, p.sched.Statuses(), time.Since(start), addrs, w.telemetryPath)
	writeDemoKept(a.stdout, kept)
	// serve installs its own signal handling and owns the store and the
	// listeners from here; it says "ready" once it serves.
	stop()
	return a.serve(p, w, listeners, func() {
		fmt.Fprintln(a.stdout, "\nReady. Press Ctrl-C to stop.")
	})
}

// writeDemoSummary prints what the first sync collected, the headline KPIs and
// where to look next. th are the thresholds the levels were read with.
func writeDemoSummary(out io.Writer, s *metrics.Snapshot, th kpi.Thresholds, statuses []flywheel.SourceStatus, took time.Duration, addrs []string, telemetryPath string) {
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
		fmt.Fprint(out, demoHeadline(w, th))
	}
	for _, addr := range addrs {
		base := "http://" + browsable(addr)
		fmt.Fprintf(out, "\n  metrics:  %s%s\n  report:   %s/report (for people; as JSON: %s/api/v1/report?window=30d)\n", base, telemetryPath, base, base)
	}
}

// demoHeadline is the summary's all-services block of a window: the group's
// deployment-frequency level, which is its services' (the best level at least
// half of them reach), apart from its summed frequency, its throughput, so
// that six services deploying twice a week each do not read as one elite
// service; then the other keys with their levels.
func demoHeadline(w kpi.WindowReport, th kpi.Thresholds) string {
	var b strings.Builder
	k := w.All
	b.WriteString("  last 30 days, all services:\n")
	if k.DeploymentFrequencyPerDay != nil {
		b.WriteString("    deployment frequency: ")
		if k.DORALevel != nil && k.DORALevel.DeploymentFrequency != "" {
			b.WriteString(string(k.DORALevel.DeploymentFrequency) + " (" + groupFrequencyWords(w, k.DORALevel.DeploymentFrequency, th) + "); ")
		}
		fmt.Fprintf(&b, "throughput %.2f deployments/day across all services\n", *k.DeploymentFrequencyPerDay)
	}
	var rest []string
	level := func(l kpi.Level) string {
		if l == "" {
			return ""
		}
		return " (" + string(l) + ")"
	}
	var lv kpi.DORALevels
	if k.DORALevel != nil {
		lv = *k.DORALevel
	}
	if k.LeadTimeSeconds != nil {
		rest = append(rest, "lead time p50 "+humanDuration(time.Duration(k.LeadTimeSeconds.P50*float64(time.Second)))+level(lv.LeadTime))
	}
	if k.ChangeFailureRatio != nil {
		rest = append(rest, fmt.Sprintf("change failure rate %.1f%%", 100**k.ChangeFailureRatio)+level(lv.ChangeFailureRate))
	}
	if k.FailedDeploymentRecoverySeconds != nil {
		rest = append(rest, "failed deployment recovery p50 "+humanDuration(time.Duration(k.FailedDeploymentRecoverySeconds.P50*float64(time.Second)))+level(lv.RecoveryTime))
	}
	if len(rest) > 0 {
		b.WriteString("    " + strings.Join(rest, ", ") + "\n")
	}
	return b.String()
}

// groupFrequencyWords says why a group has its deployment-frequency level:
// how many of its services with a frequency reach it ("4 of 6 services deploy
// at least weekly"), or for low, how few reach the level above.
func groupFrequencyWords(w kpi.WindowReport, group kpi.Level, th kpi.Thresholds) string {
	bounds := map[kpi.Level]float64{kpi.Elite: th.DeploymentFrequencyPerDay[0], kpi.High: th.DeploymentFrequencyPerDay[1], kpi.Medium: th.DeploymentFrequencyPerDay[2]}
	n, reach, reachMedium := 0, 0, 0
	for _, k := range w.Services {
		if k.DeploymentFrequencyPerDay == nil {
			continue
		}
		n++
		if f := *k.DeploymentFrequencyPerDay; group != kpi.Low && f >= bounds[group] {
			reach++
		} else if f >= bounds[kpi.Medium] {
			reachMedium++
		}
	}
	if group == kpi.Low {
		return fmt.Sprintf("%d of %d services deploy %s", reachMedium, n, atLeast(bounds[kpi.Medium]))
	}
	return fmt.Sprintf("%d of %d services deploy %s", reach, n, atLeast(bounds[group]))
}

// atLeast words a frequency bound: "at least weekly" rather than "at least
// 0.142857 a day" for the default bounds.
func atLeast(perDay float64) string {
	switch perDay {
	case 1:
		return "at least daily"
	case 1.0 / 7:
		return "at least weekly"
	case 1.0 / 30:
		return "at least monthly"
	}
	return "at least " + strconv.FormatFloat(perDay, 'g', 3, 64) + " times a day"
}

// writeDemoKept says where the store and the demo's configuration stay, and
// the commands that read them once the demo has stopped (until then the demo
// holds the store, and serves the same answers at its endpoints).
func writeDemoKept(out io.Writer, k keptDemo) {
	seedFlag := ""
	if k.seed != 1 {
		seedFlag = fmt.Sprintf(" --seed %d", k.seed)
	}
	switch {
	case k.store == "":
		fmt.Fprintf(out, "\n  The store is temporary: it goes when the demo stops. `flywheel demo%s --print-config`\n"+
			"  prints the demo's configuration; with --storage.path FILE the store stays, with\n"+
			"  that configuration written beside it.\n", seedFlag)
	case k.config == "":
		fmt.Fprintf(out, "\n  The store stays in %s. Its configuration is not written beside it: %v.\n"+
			"  `flywheel demo%s --storage.path %s --print-config > FILE` writes it elsewhere.\n",
			k.store, k.configErr, seedFlag, shellQuote(k.store))
	default:
		c := shellQuote(k.config)
		fmt.Fprintf(out, "\n  The store stays in %s, and the demo's configuration (teams, tune-up, windows)\n"+
			"  in %s. Once the demo has stopped, read the store with it:\n", k.store, k.config)
		for _, cmd := range []string{"report", "explain change_failure_ratio", "serve"} {
			fmt.Fprintf(out, "    flywheel --config.file %s %s\n", c, cmd)
		}
	}
}

// shellQuote quotes s for a POSIX shell when it holds anything but the
// characters of a plain path.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./-+=:,@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
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
