package storage

import (
	"bytes"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Snapshot is a stored KPI snapshot: the evaluation time and the caller's
// encoding of the result (the store does not interpret it).
type Snapshot struct {
	At   time.Time
	Data []byte
}

// PutSnapshot stores a KPI snapshot computed at at: it becomes the
// latest unless a later one is stored, and the daily snapshot of at's UTC day
// unless one with a later at is stored for that day. Keeping the latest lets a
// restarted server serve at once; the daily ones feed report and backfill.
func (s *Store) PutSnapshot(at time.Time, data []byte) error {
	if at.IsZero() {
		return fmt.Errorf("store %s: put snapshot: zero time", s.path)
	}
	at = at.UTC()
	val := append(appendTimeKey(nil, at), data...)
	day := appendTimeKey(nil, at.Truncate(24*time.Hour))
	err := s.db.Update(func(tx *bolt.Tx) error {
		snap := tx.Bucket(bucketSnapshots)
		if cur := snap.Get(keyLatest); len(cur) < timeKeyLen || bytes.Compare(val[:timeKeyLen], cur[:timeKeyLen]) >= 0 {
			if err := snap.Put(keyLatest, val); err != nil {
				return err
			}
		}
		daily := snap.Bucket(bucketDaily)
		if cur := daily.Get(day); len(cur) < timeKeyLen || bytes.Compare(val[:timeKeyLen], cur[:timeKeyLen]) >= 0 {
			return daily.Put(day, bytes.Clone(val))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store %s: put snapshot at %s: %w", s.path, at.Format(time.RFC3339), err)
	}
	return nil
}

// LatestSnapshot returns the snapshot with the latest evaluation time; ok is
// false when none is stored.
func (s *Store) LatestSnapshot() (at time.Time, data []byte, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketSnapshots).Get(keyLatest)
		if len(v) < timeKeyLen {
			return nil
		}
		at, data, ok = parseTimeKey(v), bytes.Clone(v[timeKeyLen:]), true
		return nil
	})
	if err != nil {
		return time.Time{}, nil, false, fmt.Errorf("store %s: read latest snapshot: %w", s.path, err)
	}
	return at, data, ok, nil
}

// Snapshots returns the daily snapshots with At in [from, to), ordered by At;
// zero bounds are unbounded.
func (s *Store) Snapshots(from, to time.Time) ([]Snapshot, error) {
	var out []Snapshot
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketSnapshots).Bucket(bucketDaily).Cursor()
		k, v := c.First()
		if !from.IsZero() {
			// A day's snapshot is at or after its midnight, so start at from's day.
			k, v = c.Seek(appendTimeKey(nil, from.UTC().Truncate(24*time.Hour)))
		}
		for ; k != nil; k, v = c.Next() {
			if len(v) < timeKeyLen {
				return fmt.Errorf("daily snapshot %s: truncated", parseTimeKey(k).Format(time.DateOnly))
			}
			at := parseTimeKey(v)
			if !from.IsZero() && at.Before(from) {
				continue
			}
			if !to.IsZero() && !at.Before(to) {
				break
			}
			out = append(out, Snapshot{At: at, Data: bytes.Clone(v[timeKeyLen:])})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store %s: read snapshots: %w", s.path, err)
	}
	return out, nil
}
