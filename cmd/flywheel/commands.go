package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/collector"
	"github.com/flywheel-metrics/flywheel/config"
	"github.com/flywheel-metrics/flywheel/metrics"
	"github.com/flywheel-metrics/flywheel/metrics/kpi"
	"github.com/flywheel-metrics/flywheel/storage"
)

// The store satisfies what each consumer declares it needs (interfaces
// belong to their consumer); these
// assertions catch drift at compile time.
var (
	_ collector.Sink        = (*storage.Store)(nil)
	_ metrics.EventReader   = (*storage.Store)(nil)
	_ metrics.SnapshotStore = (*storage.Store)(nil)
)

// storeLockTimeout bounds the wait for the store's file lock: a second process
// on the same file fails fast with a clear error instead of hanging.
const storeLockTimeout = time.Second

// commands registers every sub-command on k.
func (a *app) commands(k *kingpin.Application) []command {
	return []command{
		a.serveCommand(k),
		a.collectCommand(k),
		a.reportCommand(k),
		a.explainCommand(k),
		a.importCommand(k),
		a.exportCommand(k),
		a.pruneCommand(k),
		a.backfillCommand(k),
		a.checkConfigCommand(k),
		a.demoCommand(k),
	}
}

// loadConfig reads --config.file, or the defaults without one. A
// config error prints every problem as "path: message".
func (a *app) loadConfig() (*config.Config, error) {
	return config.Load(a.flags.configFile)
}

// storagePath is --storage.path, else the config's storage.path (which
// config.Load defaults).
func (a *app) storagePath(cfg *config.Config) string {
	if a.flags.storagePath != "" {
		return a.flags.storagePath
	}
	return cfg.Storage.Path
}

// openStore opens the store named by flags and config for a command that
// writes: it creates the file if needed and migrates it.
func (a *app) openStore(cfg *config.Config) (*storage.Store, error) {
	return storage.Open(a.storagePath(cfg), storage.Options{Timeout: storeLockTimeout, Logger: a.log})
}

// openStoreReadOnly opens the store named by flags and config for a command
// that only reads it (report, explain, export, backfill): it never creates, migrates or
// changes the file, so a mistyped path is an error rather than a new empty
// store. While a writer (a running serve) holds the file it fails after
// storeLockTimeout; servedAt is the endpoint at which that serve answers the
// same question (e.g. "/api/v1/report"), or "" when none does.
func (a *app) openStoreReadOnly(cfg *config.Config, servedAt string) (*storage.Store, error) {
	path := a.storagePath(cfg)
	st, err := storage.OpenReadOnly(path, storage.Options{Timeout: storeLockTimeout, Logger: a.log})
	switch {
	case err == nil:
		return st, nil
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("store %s does not exist (a command that only reads never creates one): check --storage.path or storage.path", path)
	case errors.Is(err, storage.ErrLocked) && servedAt != "":
		return nil, fmt.Errorf("%s is in use by another flywheel process (serve?); the same answer is served at %s", path, servedAt)
	case errors.Is(err, storage.ErrLocked):
		return nil, fmt.Errorf("%s is in use by another flywheel process (serve?): stop it first, or read the copy its GET /api/v1/backup gives", path)
	}
	return nil, err
}

// openForReading loads the config, resolves its KPI options and opens the
// store read-only (see openStoreReadOnly): what report and explain start
// with.
func (a *app) openForReading(servedAt string) (*config.Config, kpi.Options, *storage.Store, error) {
	cfg, err := a.loadConfig()
	if err != nil {
		return nil, kpi.Options{}, nil, err
	}
	opts, err := cfg.KPIOptions()
	if err != nil {
		return nil, kpi.Options{}, nil, err
	}
	st, err := a.openStoreReadOnly(cfg, servedAt)
	return cfg, opts, st, err
}

// fail prints err the way a user reads it: a config error one problem per line,
// anything else as one line; it returns the exit code 1.
func (a *app) fail(err error) int {
	var cerr *config.Errors
	if errors.As(err, &cerr) {
		for _, p := range cerr.Problems {
			fmt.Fprintf(a.stderr, "%s: %s\n", p.Path, p.Message)
		}
		return 1
	}
	a.log.Error(err.Error())
	return 1
}

// exitCode turns a command's error into its exit code: 130 for a one-off
// sync stopped by SIGINT or SIGTERM (already logged as such), as a shell
// reports a command ended by Ctrl-C.
func (a *app) exitCode(err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errInterrupted):
		return 130
	}
	return a.fail(err)
}

// importCommand is `flywheel import FILE`: all or nothing; what is valid but
// suspicious is stored with a warning.
func (a *app) importCommand(k *kingpin.Application) command {
	c := k.Command("import", "Load events in the neutral JSON-lines format (what export writes) into the store; a file with any bad line stores nothing, and a line that is valid but probably wrong (a repeated id, a status of SUCCESS, a year 1970) is stored with a warning.")
	file := c.Arg("file", "JSON-lines file of deployments, changes and incidents (- for standard input).").Required().String()
	return command{name: c.FullCommand(), run: func() int {
		f := a.fileArg(*file)
		if f == "" {
			fmt.Fprintln(a.stderr, "flywheel import: the file name is empty (- reads standard input)")
			return 2
		}
		return a.exitCode(a.runImport(f))
	}}
}

// stdinName names standard input in messages.
const stdinName = "<stdin>"

func (a *app) runImport(file string) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	in, name := a.stdin, stdinName
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		defer f.Close()
		in, name = f, file
	}
	dec, err := flywheel.DecodeEventsChecked(in, flywheel.DecodeOptions{Source: "import", Now: time.Now(), KeepWarnings: importWarningsShown})
	var bad *flywheel.DecodeError
	if errors.As(err, &bad) {
		for _, l := range bad.Lines {
			fmt.Fprintf(a.stderr, "%s:%d: %s\n", name, l.Line, l.Reason)
		}
		return fmt.Errorf("import %s: %d invalid line(s), nothing stored", name, bad.Count())
	}
	if err != nil {
		return fmt.Errorf("import %s: %w", name, err)
	}
	for _, w := range dec.Warnings {
		fmt.Fprintf(a.stderr, "%s:%d: warning: %s\n", name, w.Line, w.Reason)
	}
	if n := dec.WarningTotal(); n > 0 {
		fmt.Fprintf(a.stderr, "%s: %s; every line was stored as written (see docs/events.md)\n", name, warningSummary(dec, len(dec.Warnings)))
	}
	ev := dec.Events
	st, err := a.openStore(cfg)
	if err != nil {
		return err
	}
	added, err := writeCounted(st, ev)
	if cerr := st.Close(); cerr != nil && err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("import %s: %w", name, err)
	}
	total := len(ev.Deployments) + len(ev.Changes) + len(ev.Incidents)
	fmt.Fprintf(a.stdout, "imported %d deployments, %d changes, %d incidents from %s into %s (%d new, %d updated",
		len(ev.Deployments), len(ev.Changes), len(ev.Incidents), name, a.storagePath(cfg), added, total-added)
	if r := dec.Replaced(); r > 0 {
		fmt.Fprintf(a.stdout, "; %d lines, %d of them replaced an earlier line with the same id", dec.Lines, r)
	}
	fmt.Fprintln(a.stdout, ")")
	return nil
}

// writeCounted writes ev as one batch and returns how many of its records
// were new to the store; the others replaced a stored record with the same
// kind and id.
func writeCounted(st *storage.Store, ev flywheel.Events) (int, error) {
	before, err := st.Counts()
	if err != nil {
		return 0, err
	}
	if err := st.WriteBatch(context.Background(), flywheel.Batch{Events: ev}); err != nil {
		return 0, err
	}
	after, err := st.Counts()
	if err != nil {
		return 0, err
	}
	return after.Deployments - before.Deployments + after.Changes - before.Changes + after.Incidents - before.Incidents, nil
}

// importWarningsShown bounds the warnings import prints one by one; the
// summary counts them all.
const importWarningsShown = 1000

// warningSummary sums up a decoded input's warnings by kind, saying how many
// of them were shown.
func warningSummary(d flywheel.Decoded, shown int) string {
	words := map[flywheel.WarningKind]string{
		flywheel.WarnDuplicateID: "repeated id",
		flywheel.WarnStatus:      `status not exactly "success"`,
		flywheel.WarnTime:        "time before 2000 or in the future",
		flywheel.WarnOrder:       "times in an impossible order",
	}
	var parts []string
	for _, k := range []flywheel.WarningKind{flywheel.WarnDuplicateID, flywheel.WarnStatus, flywheel.WarnTime, flywheel.WarnOrder} {
		if n := d.WarningCounts[k]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s: %d", words[k], n))
		}
	}
	total := d.WarningTotal()
	noun := "warnings"
	if total == 1 {
		noun = "warning"
	}
	msg := fmt.Sprintf("%d %s (%s)", total, noun, strings.Join(parts, ", "))
	if shown < total {
		msg += fmt.Sprintf(", the first %d shown", shown)
	}
	return msg
}
