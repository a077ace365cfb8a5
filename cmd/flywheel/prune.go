package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/config"
	"github.com/flywheel-metrics/flywheel/storage"
)

// pruneOptions are the flags of `flywheel prune`.
type pruneOptions struct {
	before    time.Time
	dryRun    bool
	compactTo string
	batch     int // records per write transaction
}

// pruneCommand is `flywheel prune (--before DATE | --older-than DURATION)
// [--dry-run] [--compact FILE]`: the store's retention.
func (a *app) pruneCommand(k *kingpin.Application) command {
	c := k.Command("prune", "Delete the events whose own time (a deployment's finish, a change's merge else its opening, an incident's trigger) is before a cut, with the daily KPI snapshots computed before it. It writes to the store, so stop serve first. Sync cursors are kept. The file does not shrink: --compact writes a compacted copy.")
	var (
		beforeS, olderS string
		o               pruneOptions
	)
	c.Flag("before", "The cut: a date (midnight UTC, 2025-01-01) or an RFC3339 time. Give this or --older-than.").PlaceHolder("DATE").StringVar(&beforeS)
	c.Flag("older-than", "The cut as an age from now, such as 400d or 56w (d is 24 hours, w 7 days). Give this or --before.").PlaceHolder("DURATION").StringVar(&olderS)
	c.Flag("dry-run", "Print what would be deleted and delete nothing.").BoolVar(&o.dryRun)
	c.Flag("batch-size", "Records deleted per write transaction: each one deletes whole records with their index entries, so an interrupted prune leaves a consistent store. Larger is faster and needs more memory.").Default(strconv.Itoa(storage.DefaultPruneBatch)).IntVar(&o.batch)
	c.Flag("compact", "After pruning, write a compacted copy of the store to FILE (which must not exist); stop every flywheel process on the store and move the copy over it to get the space back.").PlaceHolder("FILE").StringVar(&o.compactTo)
	return command{name: c.FullCommand(), run: func() int {
		usage := func(format string, args ...any) int {
			fmt.Fprintf(a.stderr, "flywheel prune: "+format+" (see flywheel prune --help)\n", args...)
			return 2
		}
		now := time.Now().UTC()
		switch {
		case beforeS == "" && olderS == "":
			return usage("give the cut: --before DATE or --older-than DURATION")
		case beforeS != "" && olderS != "":
			return usage("give --before or --older-than, not both")
		case beforeS != "":
			t, err := parseTime(beforeS)
			if err != nil {
				return usage("--before: %v", err)
			}
			o.before = t
		default:
			d, err := flywheel.ParseDuration(olderS)
			if err != nil {
				return usage("--older-than: %v", err)
			}
			o.before = now.Add(-d)
		}
		if o.before.After(now) {
			return usage("--before %s is in the future (it is now %s): that would delete events that have not happened yet", o.before.Format(time.RFC3339), now.Truncate(time.Second).Format(time.RFC3339))
		}
		if o.batch < 1 {
			return usage("--batch-size must be at least 1")
		}
		if o.dryRun && o.compactTo != "" {
			return usage("--dry-run changes nothing, so it cannot --compact")
		}
		return a.exitCode(a.runPrune(o, now))
	}}
}

func (a *app) runPrune(o pruneOptions, now time.Time) (err error) {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	path := a.storagePath(cfg)
	// Prune only changes an existing store: a mistyped path is an error, not
	// a new empty store.
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("store %s does not exist: check --storage.path or storage.path", path)
	}
	a.pruneWarnings(cfg, o.before, now)
	cut := o.before.Format(time.RFC3339Nano)

	if o.dryRun {
		st, err := a.openStoreReadOnly(cfg, "")
		if err != nil {
			return err
		}
		defer st.Close()
		p, err := st.CountBefore(o.before)
		if err != nil {
			return err
		}
		c, err := st.Counts()
		if err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "would delete %s and %d daily KPI snapshots from before %s in %s\n", eventCounts(p.Deployments, p.Changes, p.Incidents), p.Snapshots, cut, path)
		fmt.Fprintf(a.stdout, "would keep %s\n", eventCounts(c.Deployments-p.Deployments, c.Changes-p.Changes, c.Incidents-p.Incidents))
		fmt.Fprintln(a.stdout, "dry run: nothing deleted")
		return nil
	}

	st, err := storage.Open(path, storage.Options{Timeout: storeLockTimeout, Logger: a.log})
	if errors.Is(err, storage.ErrLocked) {
		return fmt.Errorf("%s is in use by another flywheel process (serve?): stop it, prune, then start it again", path)
	}
	if err != nil {
		return err
	}
	defer func() {
		if cerr := st.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	// SIGINT/SIGTERM stop the prune between two transactions: what was
	// deleted stays deleted, and the store is whole.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	p, err := st.Prune(ctx, o.before, storage.PruneOptions{BatchSize: o.batch, Progress: func(p storage.Pruned) {
		a.log.Debug("pruned so far", "deployments", p.Deployments, "changes", p.Changes, "incidents", p.Incidents, "snapshots", p.Snapshots)
	}})
	deleted := fmt.Sprintf("%s and %d daily KPI snapshots from before %s in %s", eventCounts(p.Deployments, p.Changes, p.Incidents), p.Snapshots, cut, path)
	if errors.Is(err, context.Canceled) {
		fmt.Fprintf(a.stdout, "interrupted after deleting %s; the store is consistent: run the same command again to finish\n", deleted)
		return errInterrupted
	}
	if err != nil {
		return fmt.Errorf("prune: %w (deleted before it failed: %s; run the command again to finish)", err, deleted)
	}
	fmt.Fprintf(a.stdout, "deleted %s (%s)\n", deleted, time.Since(start).Round(time.Millisecond))
	c, err := st.Counts()
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "kept %s\n", eventCounts(c.Deployments, c.Changes, c.Incidents))
	var size int64
	if fi, err := os.Stat(path); err == nil {
		size = fi.Size()
	}
	if o.compactTo == "" {
		if p.Events()+p.Snapshots > 0 {
			fmt.Fprintf(a.stdout, "the file is still %s: new events reuse the freed space, but the file does not shrink; --compact FILE writes a compacted copy\n", humanBytes(size))
		}
		return nil
	}
	n, err := st.CompactTo(o.compactTo)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "wrote a compacted copy of the store to %s (%s; the store is %s): stop every flywheel process on %s, then move %s over it\n",
		o.compactTo, humanBytes(n), humanBytes(size), path, o.compactTo)
	return nil
}

// pruneWarnings says what a cut this recent does besides deleting: the KPIs
// of configured windows reaching before it count less, and a source's first
// sync (a new repository, a store without cursors) reads history back and
// stores again what the cut dropped.
func (a *app) pruneWarnings(cfg *config.Config, before, now time.Time) {
	// "60d", or "2.5d" for a cut less than ten days ago
	ago := func(d time.Duration) string {
		days := d.Hours() / 24
		if days >= 10 {
			return strconv.FormatFloat(math.Round(days), 'f', -1, 64) + "d"
		}
		return strconv.FormatFloat(math.Round(days*10)/10, 'f', -1, 64) + "d"
	}
	if opts, err := cfg.KPIOptions(); err == nil {
		var longest flywheel.Window
		for _, w := range opts.Windows {
			if w.Duration > longest.Duration {
				longest = w
			}
		}
		if before.After(now.Add(-longest.Duration)) {
			fmt.Fprintf(a.stderr, "warning: the cut is %s ago, within the %s window: that window's KPIs as of now will count only events from the cut on\n", ago(now.Sub(before)), longest.Name)
		}
	}
	if cfg.GitHub == nil && cfg.PagerDuty == nil {
		return
	}
	if h := cfg.HistoryDuration(); before.After(now.Add(-h)) {
		fmt.Fprintf(a.stderr, "warning: the cut is %s ago, less than history (%s): a source's first sync (a new repository, a store without sync cursors) reads %s back and stores those events again; set history to %s or less to keep them out\n",
			ago(now.Sub(before)), cfg.History, cfg.History, ago(now.Sub(before)))
	}
}

// eventCounts is "N deployments, N changes, N incidents".
func eventCounts(d, c, i int) string {
	return fmt.Sprintf("%d deployments, %d changes, %d incidents", d, c, i)
}
