package storage

import (
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// SchemaVersion is the layout this code reads and writes (see the package doc).
const SchemaVersion = 2

// migration brings a file from version-1 to version. Migrations run in order in
// one write transaction at Open; the new version is written after the last one,
// so a crash mid-way leaves the file at its old version.
type migration struct {
	version int
	name    string
	apply   func(tx *bolt.Tx) error
}

var migrations = []migration{
	{1, "events by time and id, cursors, validators", migrateV1},
	{2, "by-service and by-repo indexes, record counters, snapshots", migrateV2},
}

// migrate checks the file's version and applies the migrations it lacks.
func (s *Store) migrate() error {
	var version uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		version, err = readVersion(tx)
		return err
	})
	if err != nil {
		return err
	}
	if err := checkVersion(version); err != nil {
		return err
	}
	if version == SchemaVersion {
		return nil
	}
	var applied []string
	err = s.db.Update(func(tx *bolt.Tx) error {
		// Read again inside the write transaction: the lock makes it stable.
		v, err := readVersion(tx)
		if err != nil {
			return err
		}
		for _, m := range migrations {
			if uint64(m.version) <= v {
				continue
			}
			if err := m.apply(tx); err != nil {
				return fmt.Errorf("migrate to schema version %d (%s): %w", m.version, m.name, err)
			}
			applied = append(applied, fmt.Sprintf("%d: %s", m.version, m.name))
		}
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			return errors.New("migrations left no meta bucket")
		}
		return putUint64(meta, keyVersion, SchemaVersion)
	})
	if err != nil {
		return err
	}
	for _, a := range applied {
		s.logger.Info("store migrated", "path", s.path, "from", version, "migration", a)
	}
	return nil
}

// checkVersion refuses a file written by a newer Flywheel.
func checkVersion(version uint64) error {
	if version > SchemaVersion {
		return fmt.Errorf("schema version %d is newer than this Flywheel supports (%d): use a newer Flywheel", version, SchemaVersion)
	}
	return nil
}

// readVersion returns 0 for a new, empty file.
func readVersion(tx *bolt.Tx) (uint64, error) {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		empty := true
		_ = tx.ForEach(func([]byte, *bolt.Bucket) error { empty = false; return nil })
		if !empty {
			return 0, errors.New("not a Flywheel store: the file has buckets but no meta bucket")
		}
		return 0, nil
	}
	v := getUint64(meta, keyVersion)
	if v == 0 {
		return 0, errors.New("not a Flywheel store: no schema version in the meta bucket")
	}
	return v, nil
}

// migrateV1 creates the original layout.
func migrateV1(tx *bolt.Tx) error {
	for _, name := range [][]byte{bucketMeta, bucketCursors, bucketValidators} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return err
		}
	}
	for _, name := range [][]byte{bucketDeployments, bucketChanges, bucketIncidents} {
		b, err := tx.CreateBucketIfNotExists(name)
		if err != nil {
			return err
		}
		for _, sub := range [][]byte{bucketByTime, bucketIDs} {
			if _, err := b.CreateBucketIfNotExists(sub); err != nil {
				return err
			}
		}
	}
	return nil
}

// migrateV2 adds the by-service and by-repo indexes and the record counters,
// built from the records, and the snapshots bucket.
func migrateV2(tx *bolt.Tx) error {
	if err := reindex(tx, deployments); err != nil {
		return err
	}
	if err := reindex(tx, changes); err != nil {
		return err
	}
	if err := reindex(tx, incidents); err != nil {
		return err
	}
	snap, err := tx.CreateBucketIfNotExists(bucketSnapshots)
	if err != nil {
		return err
	}
	_, err = snap.CreateBucketIfNotExists(bucketDaily)
	return err
}

func reindex[T any](tx *bolt.Tx, k kind[T]) error {
	kb := tx.Bucket(k.bucket)
	if kb == nil {
		return fmt.Errorf("bucket %s missing", k.bucket)
	}
	bySvc, err := kb.CreateBucketIfNotExists(bucketByService)
	if err != nil {
		return err
	}
	var byRepo *bolt.Bucket
	if k.repo != nil {
		if byRepo, err = kb.CreateBucketIfNotExists(bucketByRepo); err != nil {
			return err
		}
	}
	var n uint64
	var v T
	err = kb.Bucket(bucketByTime).ForEach(func(key, val []byte) error {
		if err := k.decode(val, nil, &v); err != nil {
			return fmt.Errorf("%s %q: %w", k.name, key[min(len(key), timeKeyLen):], err)
		}
		n++
		suffix := key // <time> ‖ id
		if err := bySvc.Put(append(appendStrKey(nil, k.service(&v)), suffix...), nil); err != nil {
			return err
		}
		if byRepo != nil {
			return byRepo.Put(append(appendStrKey(nil, k.repo(&v)), suffix...), nil)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return putUint64(tx.Bucket(bucketMeta), countKey(k.name), n)
}
