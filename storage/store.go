package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Options configure Open.
type Options struct {
	// Timeout bounds the wait for the file lock; default 1s. Another process
	// holding the file makes Open fail after it rather than hang.
	Timeout time.Duration
	// Logger receives migration notices; default discards.
	Logger *slog.Logger
}

// DefaultTimeout is the lock wait when Options.Timeout is zero.
const DefaultTimeout = time.Second

// Store is an open store file. Its methods are safe for concurrent use; bbolt
// serialises writers.
type Store struct {
	db     *bolt.DB
	path   string
	logger *slog.Logger
}

// ErrLocked is wrapped by Open's error when another process holds the file,
// and by OpenReadOnly's when a writer holds it.
var ErrLocked = errors.New("another process holds it")

// ErrNeedsMigration is wrapped by OpenReadOnly's error when the file's schema
// is older than this Flywheel's: only a writer (Open) migrates a store.
var ErrNeedsMigration = errors.New("needs a migration")

// Open opens (creating if needed) the store at path, applies pending schema
// migrations in one write transaction, and refuses a file written by a newer
// Flywheel.
func Open(path string, opts Options) (*Store, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.Timeout})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("open store %s: %w (file lock not acquired within %s)", path, ErrLocked, opts.Timeout)
	}
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s := &Store{db: db, path: path, logger: opts.Logger}
	if err := s.migrate(); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return s, nil
}

// OpenReadOnly opens an existing store for reading only: it never creates the
// file, never migrates it and never writes to it. It takes a shared lock, so
// readers can open the file together but not while a writer (Open) holds it;
// then it fails after opts.Timeout with ErrLocked. A missing file is an error
// wrapping fs.ErrNotExist; a file at an older schema version is refused with
// ErrNeedsMigration, one at a newer version as Open refuses it. The store's
// write methods fail.
func OpenReadOnly(path string, opts Options) (*Store, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	// Checked first because bbolt, asked to open an empty file, initialises it.
	info, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("open store %s: %w", path, fs.ErrNotExist)
	case err != nil:
		return nil, fmt.Errorf("open store %s: %w", path, err)
	case info.IsDir():
		return nil, fmt.Errorf("open store %s: is a directory", path)
	case info.Size() == 0:
		return nil, fmt.Errorf("open store %s: the file is empty: not a Flywheel store", path)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.Timeout, ReadOnly: true})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("open store %s: %w (file lock not acquired within %s)", path, ErrLocked, opts.Timeout)
	}
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if err := db.View(checkReadable); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return &Store{db: db, path: path, logger: opts.Logger}, nil
}

// checkReadable accepts a file at exactly this Flywheel's schema version.
func checkReadable(tx *bolt.Tx) error {
	version, err := readVersion(tx)
	if err != nil {
		return err
	}
	if err := checkVersion(version); err != nil {
		return err
	}
	switch {
	case version == 0:
		return errors.New("not a Flywheel store: the file has no schema version")
	case version < SchemaVersion:
		return fmt.Errorf("%w: schema version %d is older than this Flywheel's (%d); a command that writes (serve, collect or import) migrates it", ErrNeedsMigration, version, SchemaVersion)
	}
	return nil
}

// Close closes the file and releases its lock.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close store %s: %w", s.path, err)
	}
	return nil
}

// Path is the file's path as given to Open.
func (s *Store) Path() string { return s.path }

// Backup writes a copy of the whole store file to w from one read transaction,
// so the copy is consistent while this process keeps writing: it is the store
// as of the moment the backup began, and opens like the original (same schema
// version, events, cursors, validators and snapshots). It returns the bytes
// written. Writers do not wait for a backup, except one that must grow the
// file, which waits until the backup's transaction ends: stream to a fast
// writer.
func (s *Store) Backup(w io.Writer) (int64, error) {
	var n int64
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("back up store %s: %w", s.path, err)
	}
	return n, nil
}

func putUint64(b *bolt.Bucket, key []byte, v uint64) error {
	return b.Put(key, binary.BigEndian.AppendUint64(nil, v))
}

func getUint64(b *bolt.Bucket, key []byte) uint64 {
	v := b.Get(key)
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}
