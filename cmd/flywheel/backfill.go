package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/config"
	"github.com/flywheel-metrics/flywheel/demo"
	"github.com/flywheel-metrics/flywheel/metrics"
	"github.com/flywheel-metrics/flywheel/metrics/kpi"
)

// backfillMaxBytes is the estimated output above which backfill asks for
// --force: the points are computed and held in memory before they are written,
// so the process needs about 3.5 times as much memory. A sample line is about
// 130 bytes: a year of daily points is 72 MiB for the demo's six services and
// about 2 GiB for 200, which are better written a part of the range at a time.
const backfillMaxBytes = 1 << 30

// promtoolBlockDuration is the --max-block-duration backfill recommends: the
// 31 days of the largest block Prometheus compacts to by itself. promtool's
// default of 2 hours makes one block per point of a daily backfill.
const promtoolBlockDuration = "744h"

// backfillOptions are the flags of `flywheel backfill`.
type backfillOptions struct {
	from     time.Time // zero: from the first stored event
	to       time.Time
	step     time.Duration
	stepText string // as given, for messages
	output   string
	force    bool
	demo     bool
	seed     int64
	disabled metrics.Disabled
}

func (a *app) backfillCommand(k *kingpin.Application) command {
	c := k.Command("backfill", "Write KPI history as OpenMetrics with timestamps, for `promtool tsdb create-blocks-from openmetrics` (the README shows how to load it into Prometheus).")
	var fromS, toS, stepS string
	var o backfillOptions
	c.Flag("from", "First evaluation time, RFC3339 or a date. Default: the first step after the first stored event; an earlier time starts there too, since the points before it hold no data.").StringVar(&fromS)
	c.Flag("to", "End of the range (exclusive), RFC3339 or a date; default now.").StringVar(&toS)
	c.Flag("step", "Time between evaluations (e.g. 1d, 6h).").Default("1d").StringVar(&stepS)
	c.Flag("output", "Write to this file instead of standard output.").Short('o').StringVar(&o.output)
	c.Flag("force", fmt.Sprintf("Write even when the output is estimated above %d MiB.", backfillMaxBytes>>20)).BoolVar(&o.force)
	c.Flag("demo", "Backfill the demo's generated organisation (--seed) instead of the store: it is collected into a temporary store first, as `flywheel demo` does, with the demo's own configuration.").BoolVar(&o.demo)
	c.Flag("seed", "With --demo: seed of the generated organisation, as for `flywheel demo`.").Default("1").Int64Var(&o.seed)
	disabled := addMetricsDisableFlag(c)
	return command{name: c.FullCommand(), run: func() int {
		var err error
		if fromS != "" {
			if o.from, err = parseTime(fromS); err != nil {
				fmt.Fprintf(a.stderr, "flywheel backfill: --from: %v\n", err)
				return 2
			}
		}
		o.to = time.Now().UTC()
		if toS != "" {
			if o.to, err = parseTime(toS); err != nil {
				fmt.Fprintf(a.stderr, "flywheel backfill: --to: %v\n", err)
				return 2
			}
		}
		o.stepText = stepS
		if o.step, err = flywheel.ParseDuration(stepS); err != nil {
			fmt.Fprintf(a.stderr, "flywheel backfill: --step: %v\n", err)
			return 2
		}
		if !o.from.IsZero() && !o.from.Before(o.to) {
			fmt.Fprintf(a.stderr, "flywheel backfill: --from %s is not before --to %s\n", o.from.Format(time.RFC3339), o.to.Format(time.RFC3339))
			return 2
		}
		o.disabled = disabled.disabled
		return a.exitCode(a.runBackfill(o))
	}}
}

// firstEvent passes every event on to a sink and keeps the earliest time at
// which one happened: a deployment finished, a pull request opened, an
// incident triggered.
type firstEvent struct {
	flywheel.EventSink
	first time.Time
}

func (f *firstEvent) see(t time.Time) {
	if !t.IsZero() && (f.first.IsZero() || t.Before(f.first)) {
		f.first = t
	}
}

func (f *firstEvent) AddDeployment(d *flywheel.Deployment) {
	f.see(d.FinishedAt)
	f.EventSink.AddDeployment(d)
}

func (f *firstEvent) AddChange(c *flywheel.Change) {
	f.see(c.OpenedAt)
	f.EventSink.AddChange(c)
}

func (f *firstEvent) AddIncident(x *flywheel.Incident) {
	f.see(x.TriggeredAt)
	f.EventSink.AddIncident(x)
}

// backfillStart is the first evaluation time: the first step after the first
// event (a point sees only what happened before it, so an earlier one holds no
// data), on the grid of from, or of the Unix epoch without one, so that daily
// steps fall on midnight UTC. A from after the first event is kept as it is.
func backfillStart(from, first time.Time, step time.Duration) time.Time {
	if !from.IsZero() && from.After(first) {
		return from
	}
	origin := from
	if origin.IsZero() || first.Sub(origin) == time.Duration(1<<63-1) {
		origin = time.Unix(0, 0).UTC() // no from, or one too far back to measure
	}
	d := first.Sub(origin)
	steps := d / step
	if d < 0 && d%step != 0 {
		steps-- // floor, for an event before the epoch
	}
	return origin.Add((steps + 1) * step)
}

func (a *app) runBackfill(o backfillOptions) (err error) {
	cfg, st, closeStore, err := a.backfillStore(o)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := closeStore(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	kopts, err := cfg.KPIOptions()
	if err != nil {
		return err
	}
	in := kpi.NewInput(kopts)
	seen := &firstEvent{EventSink: in}
	if err := st.Scan(seen); err != nil {
		return fmt.Errorf("backfill: %w", err)
	}
	if seen.first.IsZero() {
		return errors.New("backfill: the store holds no events: there is no history to write")
	}
	from := backfillStart(o.from, seen.first, o.step)
	if !o.from.IsZero() && from.After(o.from) {
		fmt.Fprintf(a.stderr, "flywheel backfill: the first stored event is at %s; starting at %s rather than at --from %s, since the points before it hold no data\n",
			seen.first.UTC().Format(time.RFC3339), from.Format(time.RFC3339), o.from.Format(time.RFC3339))
	}
	if !from.Before(o.to) {
		return fmt.Errorf("backfill: no stored event before --to %s (the first is at %s)", o.to.Format(time.RFC3339), seen.first.UTC().Format(time.RFC3339))
	}
	n := int64((o.to.Sub(from) + o.step - 1) / o.step)
	teams := cfg.ServiceTeams()

	// The last point holds the most series: its size times the number of
	// points bounds the output.
	last := from.Add(time.Duration(n-1) * o.step)
	one, err := metrics.ComputeSnapshots(in, last, last.Add(o.step), o.step)
	if err != nil {
		return fmt.Errorf("backfill: %w", err)
	}
	var size countingWriter
	if err := metrics.WriteOpenMetrics(&size, one, teams, o.disabled); err != nil {
		return err
	}
	estimate := n * size.n
	plan := fmt.Sprintf("%d points every %s from %s to %s, up to about %s", n, o.stepText,
		from.Format(time.RFC3339), o.to.Format(time.RFC3339), humanBytes(estimate))
	if estimate > backfillMaxBytes && !o.force {
		return fmt.Errorf("backfill: %s, above the %s that backfill writes without --force: a larger --step, a later --from or --metrics.disable writes less",
			plan, humanBytes(backfillMaxBytes))
	}
	fmt.Fprintf(a.stderr, "flywheel backfill: %s\n", plan)

	points, stored, err := backfillPoints(st, in, from, o.to, o.step)
	if err != nil {
		return fmt.Errorf("backfill: %w", err)
	}
	var w io.Writer = a.stdout
	var f *os.File
	if o.output != "" {
		if f, err = os.Create(o.output); err != nil {
			return fmt.Errorf("backfill: %w", err)
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	if err := metrics.WriteOpenMetrics(bw, points, teams, o.disabled); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("backfill: write: %w", err)
	}
	if f != nil {
		if err := f.Close(); err != nil {
			return fmt.Errorf("backfill: %w", err)
		}
	}
	a.log.Info("backfill written", "points", len(points), "from_stored_snapshots", stored, "computed", len(points)-stored, "output", o.output)
	if o.output != "" {
		fmt.Fprintf(a.stderr, "Turn it into Prometheus blocks: promtool tsdb create-blocks-from openmetrics --max-block-duration=%s %s DIR\n", promtoolBlockDuration, o.output)
	}
	return nil
}

// backfillStore opens what backfill reads: the store, read-only, with the
// configuration; or with --demo a temporary store holding the demo's
// organisation, collected through its simulated APIs, with the demo's
// configuration (its teams and tune-up).
func (a *app) backfillStore(o backfillOptions) (*config.Config, reportStore, func() error, error) {
	if !o.demo {
		cfg, err := a.loadConfig()
		if err != nil {
			return nil, nil, nil, err
		}
		st, err := a.openStoreReadOnly(cfg, "")
		if err != nil {
			return nil, nil, nil, err
		}
		return cfg, st, st.Close, nil
	}
	if a.flags.configFile != "" || a.flags.storagePath != "" {
		a.log.Warn("backfill --demo ignores --config.file and --storage.path: it collects the demo's organisation into a temporary store")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	env, err := demo.Start(ctx, o.seed, time.Now())
	if err != nil {
		return nil, nil, nil, err
	}
	defer env.Close()
	dir, err := os.MkdirTemp("", "flywheel-backfill-demo-")
	if err != nil {
		return nil, nil, nil, fmt.Errorf("backfill: %w", err)
	}
	cfg := env.Config
	cfg.Storage.Path = filepath.Join(dir, "flywheel.db")
	a.flags.storagePath = cfg.Storage.Path
	st, err := a.openStore(cfg)
	if err != nil {
		return nil, nil, nil, errors.Join(err, os.RemoveAll(dir))
	}
	closeAll := func() error { return errors.Join(st.Close(), os.RemoveAll(dir)) }
	sources, err := a.sources(cfg, st, env.Getenv)
	if err != nil {
		return nil, nil, nil, errors.Join(err, closeAll())
	}
	progress := newCollectProgress(a.stderr, a.log)
	p, err := a.newPipeline(cfg, st, sources, pipelineOptions{progress: progress, logger: progress.logger(a.log)})
	if err != nil {
		return nil, nil, nil, errors.Join(err, closeAll())
	}
	if err := a.syncOnce(ctx, p, progress); err != nil {
		return nil, nil, nil, errors.Join(fmt.Errorf("backfill: collecting the demo: %w", err), closeAll())
	}
	return cfg, st, closeAll, nil
}

// countingWriter counts what is written to it and keeps none of it.
type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

// humanBytes prints 512 KiB, 35.2 MiB or 1.7 GiB.
func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	default:
		return fmt.Sprintf("%d KiB", (n+1023)>>10)
	}
}
