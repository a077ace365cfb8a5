package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/collector"
	"github.com/flywheel-metrics/flywheel/config"
	"github.com/flywheel-metrics/flywheel/metrics"
	"github.com/flywheel-metrics/flywheel/metrics/kpi"
	"github.com/flywheel-metrics/flywheel/storage"
)

// The store satisfies what each consumer declares it needs (STYLE.md); these
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
		a.backfillCommand(k),
		a.checkConfigCommand(k),
		a.demoCommand(k),
	}
}

// loadConfig reads --config.file, or the defaults of SPEC §3 without one. A
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
		return nil, fmt.Errorf("%s is in use by another flywheel process (serve?): stop it first, or read a filesystem snapshot of the file", path)
	}
	return nil, err
}

// openForReading loads the config, resolves its KPI options and opens the
// store read-only (see openStoreReadOnly): what report and explain start
// with.
func (a *app) openForReading(servedAt string) (kpi.Options, *storage.Store, error) {
	cfg, err := a.loadConfig()
	if err != nil {
		return kpi.Options{}, nil, err
	}
	opts, err := cfg.KPIOptions()
	if err != nil {
		return kpi.Options{}, nil, err
	}
	st, err := a.openStoreReadOnly(cfg, servedAt)
	return opts, st, err
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

func (a *app) checkConfigCommand(k *kingpin.Application) command {
	c := k.Command("check-config", "Validate the configuration file (--config.file) and print every problem with its path.")
	return command{name: c.FullCommand(), run: func() int {
		if a.flags.configFile == "" {
			fmt.Fprintln(a.stderr, "check-config: no --config.file given; the defaults are always valid")
		}
		if _, err := config.Load(a.flags.configFile); err != nil {
			var cerr *config.Errors
			if errors.As(err, &cerr) {
				for _, p := range cerr.Problems {
					fmt.Fprintf(a.stdout, "%s: %s\n", p.Path, p.Message)
				}
				return 1
			}
			fmt.Fprintf(a.stdout, "%v\n", err)
			return 1
		}
		fmt.Fprintln(a.stdout, "config OK")
		return 0
	}}
}

// importCommand is `flywheel import FILE`: all or nothing.
func (a *app) importCommand(k *kingpin.Application) command {
	c := k.Command("import", "Load events in the neutral JSON-lines format (what export writes) into the store; a file with any bad line stores nothing.")
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
	ev, err := flywheel.DecodeEvents(in, "import")
	var bad *flywheel.DecodeError
	if errors.As(err, &bad) {
		for _, l := range bad.Lines {
			fmt.Fprintf(a.stderr, "%s:%d: %s\n", name, l.Line, l.Reason)
		}
		return fmt.Errorf("import %s: %d invalid line(s), nothing stored", name, len(bad.Lines))
	}
	if err != nil {
		return fmt.Errorf("import %s: %w", name, err)
	}
	st, err := a.openStore(cfg)
	if err != nil {
		return err
	}
	werr := st.WriteBatch(context.Background(), flywheel.Batch{Events: ev})
	cerr := st.Close()
	if werr != nil {
		return fmt.Errorf("import %s: %w", name, werr)
	}
	if cerr != nil {
		return cerr
	}
	fmt.Fprintf(a.stdout, "imported %d deployments, %d changes, %d incidents from %s into %s\n",
		len(ev.Deployments), len(ev.Changes), len(ev.Incidents), name, a.storagePath(cfg))
	return nil
}
