package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/storage"
)

// exportCommand is `flywheel export [--since DATE] [FILE|-]`: the stored events
// in the format import reads, so that export then import into an empty store
// restores a store that reports the same numbers.
func (a *app) exportCommand(k *kingpin.Application) command {
	c := k.Command("export", "Write the stored events in the neutral JSON-lines format that import reads: deployments, then changes, then incidents, each ordered by its own time, then id. A file is written whole or not at all. This is the way to back up or move a store.")
	var sinceFlag string
	c.Flag("since", "Only events whose own time (a deployment's finish, a change's merge else its opening, an incident's trigger) is at or after this date (UTC) or RFC3339 time.").StringVar(&sinceFlag)
	file := c.Arg("file", "Output file; - or none for standard output.").String()
	return command{name: c.FullCommand(), run: func() int {
		var since time.Time
		if sinceFlag != "" {
			t, err := parseTime(sinceFlag)
			if err != nil {
				fmt.Fprintf(a.stderr, "flywheel export: --since: %v\n", err)
				return 2
			}
			since = t
		}
		return a.exitCode(a.runExport(since, a.fileArg(*file)))
	}}
}

func (a *app) runExport(since time.Time, file string) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	st, err := a.openStoreReadOnly(cfg, "")
	if err != nil {
		return err
	}
	toStdout := file == "" || file == "-"
	var enc *flywheel.EventEncoder
	write := func(w io.Writer) error {
		enc = flywheel.NewEventEncoder(w)
		if err := st.ScanSince(since, enc); err != nil {
			return err
		}
		return enc.Flush()
	}
	if toStdout {
		err = write(a.stdout)
	} else if err = notTheStore(file, st); err == nil {
		err = writeFileAtomic(file, write)
	}
	if cerr := st.Close(); cerr != nil && err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	d, c, i := enc.Written()
	if toStdout {
		a.log.Info("exported", "deployments", d, "changes", c, "incidents", i, "store", st.Path())
		return nil
	}
	fmt.Fprintf(a.stdout, "exported %d deployments, %d changes, %d incidents from %s to %s\n", d, c, i, st.Path(), file)
	return nil
}

// notTheStore refuses to export over the store's own file, which the rename
// at the end of writeFileAtomic would replace.
func notTheStore(file string, st *storage.Store) error {
	out, err := os.Stat(file)
	if err != nil {
		return nil // does not exist yet, or writeFileAtomic will say why
	}
	if db, err := os.Stat(st.Path()); err == nil && os.SameFile(out, db) {
		return fmt.Errorf("%s is the store itself; export to another file", file)
	}
	return nil
}

// writeFileAtomic writes path through a temporary file in the same directory
// that is renamed over path only once write has succeeded and the data is on
// disk, so that a failed export leaves no partial file and an existing file as
// it was. The file is readable by its owner only, as the store is.
//
// A path that exists and is not a regular file (a device such as /dev/null or
// /dev/stdout, a named pipe) is written directly: renaming over it would
// replace the device or pipe with a file, which as root breaks the machine.
func writeFileAtomic(path string, write func(io.Writer) error) (err error) {
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		if fi.IsDir() {
			return fmt.Errorf("create %s: is a directory", path)
		}
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return fmt.Errorf("open %s: %w", path, err)
		}
		if err := write(f); err != nil {
			_ = f.Close()
			return fmt.Errorf("write %s: %w", path, err)
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		return nil
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		// The temporary name means nothing to the user; the reason does.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("create %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	if err := write(f); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		var le *os.LinkError
		if errors.As(err, &le) {
			err = le.Err
		}
		return fmt.Errorf("create %s: %w", path, err)
	}
	return nil
}
