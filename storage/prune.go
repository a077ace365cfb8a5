package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/flywheel-metrics/flywheel"
)

// Pruned counts what Prune deleted, or what CountBefore found: records per kind
// and daily KPI snapshots.
type Pruned struct {
	Deployments, Changes, Incidents, Snapshots int
}

// Events is the number of records of every kind.
func (p Pruned) Events() int { return p.Deployments + p.Changes + p.Incidents }

func (p *Pruned) add(k flywheel.Kind, n int) {
	switch k {
	case flywheel.KindDeployment:
		p.Deployments += n
	case flywheel.KindChange:
		p.Changes += n
	case flywheel.KindIncident:
		p.Incidents += n
	}
}

// DefaultPruneBatch is the most records Prune deletes in one write
// transaction when PruneOptions.BatchSize is zero. A transaction holds every
// page it changes in memory until it commits; 10,000 records (about 40,000
// keys with their index entries) keep that to a few MiB.
const DefaultPruneBatch = 10_000

// PruneOptions configure Prune.
type PruneOptions struct {
	// BatchSize is the most records (or snapshots) deleted per write
	// transaction; default DefaultPruneBatch.
	BatchSize int
	// Progress, when set, is called after each committed transaction with
	// everything deleted so far.
	Progress func(Pruned)
}

// Prune deletes every event whose own time (a deployment's finish, a change's
// merge else opening, an incident's trigger: the time the store orders it by)
// is before before, with every index entry that points to it, and every KPI
// snapshot computed before it: the daily ones, and the latest when it is that
// old. Cursors and validators are kept, so incremental syncs go on from where
// they were.
//
// It deletes in write transactions of at most opts.BatchSize records, oldest
// first; each transaction deletes whole records (the record, its id, service
// and repo entries and its count together), so a store interrupted between two
// (a crash, a cancelled ctx) is consistent and holds the events at or after
// some time, and running Prune again finishes the work. It returns what it
// deleted, also when it fails part-way.
//
// The freed pages are reused by later writes, but the file does not shrink:
// CompactTo writes a copy without them.
func (s *Store) Prune(ctx context.Context, before time.Time, opts PruneOptions) (Pruned, error) {
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultPruneBatch
	}
	cut := appendTimeKey(nil, before)
	var done Pruned
	step := func(del func(tx *bolt.Tx) (int, error), count func(int)) error {
		for {
			if err := ctx.Err(); err != nil {
				return err
			}
			var n int
			err := s.db.Update(func(tx *bolt.Tx) error {
				var err error
				n, err = del(tx)
				return err
			})
			if err != nil {
				return err
			}
			if n == 0 {
				return nil
			}
			count(n)
			if opts.Progress != nil {
				opts.Progress(done)
			}
		}
	}
	err := step(func(tx *bolt.Tx) (int, error) { return pruneKind(tx, deployments, cut, opts.BatchSize) },
		func(n int) { done.add(flywheel.KindDeployment, n) })
	if err == nil {
		err = step(func(tx *bolt.Tx) (int, error) { return pruneKind(tx, changes, cut, opts.BatchSize) },
			func(n int) { done.add(flywheel.KindChange, n) })
	}
	if err == nil {
		err = step(func(tx *bolt.Tx) (int, error) { return pruneKind(tx, incidents, cut, opts.BatchSize) },
			func(n int) { done.add(flywheel.KindIncident, n) })
	}
	if err == nil {
		err = step(func(tx *bolt.Tx) (int, error) { return pruneSnapshots(tx, cut, opts.BatchSize) },
			func(n int) { done.Snapshots += n })
	}
	if err != nil {
		return done, fmt.Errorf("store %s: prune before %s: %w", s.path, before.UTC().Format(time.RFC3339), err)
	}
	return done, nil
}

// pruneKind deletes up to limit of the oldest records of one kind whose time
// key is before cut, with their index entries, and lowers the kind's counter;
// it returns how many it deleted. Keys are gathered first and then deleted
// bucket by bucket in key order: a bbolt cursor must not be moved over keys
// deleted under it.
func pruneKind[T any](tx *bolt.Tx, k kind[T], cut []byte, limit int) (int, error) {
	kb := tx.Bucket(k.bucket)
	byTime, ids, bySvc := kb.Bucket(bucketByTime), kb.Bucket(bucketIDs), kb.Bucket(bucketByService)
	var byRepo *bolt.Bucket
	if k.repo != nil {
		byRepo = kb.Bucket(bucketByRepo)
	}
	var (
		timeD, idD, svcD, repoD [][]byte
		v                       T
	)
	in := newArena()
	c := byTime.Cursor()
	for key, val := c.First(); key != nil && len(timeD) < limit; key, val = c.Next() {
		if bytes.Compare(key[:timeKeyLen], cut) >= 0 {
			break
		}
		v = *new(T)
		if err := k.decode(val, in, &v); err != nil {
			return 0, fmt.Errorf("%s %q: %w", k.name, key[timeKeyLen:], err)
		}
		// bbolt's keys are valid only during the transaction and may move
		// when the tree changes: copy them before deleting anything.
		key = bytes.Clone(key)
		timeD = append(timeD, key)
		id := key[timeKeyLen:]
		// The id entry is this record's unless the store is inconsistent; a
		// mismatch is left for the record it names.
		if bytes.Equal(ids.Get(id), key[:timeKeyLen]) {
			idD = append(idD, id)
		}
		svcD = append(svcD, append(appendStrKey(nil, k.service(&v)), key...))
		if byRepo != nil {
			repoD = append(repoD, append(appendStrKey(nil, k.repo(&v)), key...))
		}
	}
	if len(timeD) == 0 {
		return 0, nil
	}
	for _, d := range []struct {
		b    *bolt.Bucket
		keys [][]byte
	}{{bySvc, svcD}, {byRepo, repoD}, {ids, idD}, {byTime, timeD}} {
		slices.SortFunc(d.keys, bytes.Compare)
		for _, key := range d.keys {
			if err := d.b.Delete(key); err != nil {
				return 0, fmt.Errorf("%s %q: %w", k.name, key, err)
			}
		}
	}
	meta := tx.Bucket(bucketMeta)
	count := getUint64(meta, countKey(k.name))
	count -= min(count, uint64(len(timeD)))
	if err := putUint64(meta, countKey(k.name), count); err != nil {
		return 0, err
	}
	return len(timeD), nil
}

// pruneSnapshots deletes up to limit of the oldest daily snapshots computed
// before cut, and the latest snapshot when it is older than cut too (it would
// then describe events no longer stored); it returns how many daily ones it
// deleted.
func pruneSnapshots(tx *bolt.Tx, cut []byte, limit int) (int, error) {
	snap := tx.Bucket(bucketSnapshots)
	if v := snap.Get(keyLatest); len(v) >= timeKeyLen && bytes.Compare(v[:timeKeyLen], cut) < 0 {
		if err := snap.Delete(keyLatest); err != nil {
			return 0, err
		}
	}
	daily := snap.Bucket(bucketDaily)
	var del [][]byte
	c := daily.Cursor()
	// A day's key is its UTC midnight and its snapshot was computed during
	// that day, so the scan ends at the first day starting at or after cut.
	for k, v := c.First(); k != nil && len(del) < limit && bytes.Compare(k, cut) < 0; k, v = c.Next() {
		if len(v) >= timeKeyLen && bytes.Compare(v[:timeKeyLen], cut) >= 0 {
			continue // computed on the cut's day, after it
		}
		del = append(del, bytes.Clone(k))
	}
	for _, k := range del {
		if err := daily.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(del), nil
}

// CountBefore counts what Prune(before) would delete, in one read
// transaction, changing nothing.
func (s *Store) CountBefore(before time.Time) (Pruned, error) {
	cut := appendTimeKey(nil, before)
	var p Pruned
	err := s.db.View(func(tx *bolt.Tx) error {
		for _, b := range []struct {
			name   flywheel.Kind
			bucket []byte
		}{{flywheel.KindDeployment, bucketDeployments}, {flywheel.KindChange, bucketChanges}, {flywheel.KindIncident, bucketIncidents}} {
			c := tx.Bucket(b.bucket).Bucket(bucketByTime).Cursor()
			n := 0
			for k, _ := c.First(); k != nil && bytes.Compare(k[:timeKeyLen], cut) < 0; k, _ = c.Next() {
				n++
			}
			p.add(b.name, n)
		}
		c := tx.Bucket(bucketSnapshots).Bucket(bucketDaily).Cursor()
		for k, v := c.First(); k != nil && bytes.Compare(k, cut) < 0; k, v = c.Next() {
			if len(v) < timeKeyLen || bytes.Compare(v[:timeKeyLen], cut) < 0 {
				p.Snapshots++
			}
		}
		return nil
	})
	if err != nil {
		return Pruned{}, fmt.Errorf("store %s: count before %s: %w", s.path, before.UTC().Format(time.RFC3339), err)
	}
	return p, nil
}

// compactTxSize bounds the bytes of keys and values CompactTo copies per
// write transaction of the new file, so that compacting a large store does
// not hold it all in memory.
const compactTxSize = 32 << 20

// CompactTo writes a compacted copy of the store to path, which must not
// exist: the same buckets, keys and values, in a file without the free pages
// that deletions leave (bbolt reuses them but never gives them back to the
// file system). The copy is made through a temporary file in path's directory
// renamed to path once complete, so a failure leaves no file at path. It
// returns the new file's size. The copy reads the store in one read
// transaction, so it is the store as of the moment the copy began.
func (s *Store) CompactTo(path string) (int64, error) {
	fail := func(err error) (int64, error) {
		return 0, fmt.Errorf("store %s: compact to %s: %w", s.path, path, err)
	}
	if _, err := os.Lstat(path); err == nil {
		return fail(fs.ErrExist)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fail(err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fail(err)
	}
	name := tmp.Name()
	_ = tmp.Close()
	ok := false
	defer func() {
		if !ok {
			_ = os.Remove(name)
		}
	}()
	dst, err := bolt.Open(name, 0o600, &bolt.Options{Timeout: DefaultTimeout})
	if err != nil {
		return fail(err)
	}
	if err := bolt.Compact(dst, s.db, compactTxSize); err != nil {
		_ = dst.Close()
		return fail(err)
	}
	if err := dst.Close(); err != nil {
		return fail(err)
	}
	fi, err := os.Stat(name)
	if err != nil {
		return fail(err)
	}
	if err := os.Rename(name, path); err != nil {
		return fail(err)
	}
	ok = true
	return fi.Size(), nil
}
