package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Check runs bbolt's consistency check over the whole file and returns every
// problem found, joined. Only tests use it, so it is compiled only with them.
func (s *Store) Check() error {
	var errs []error
	err := s.db.View(func(tx *bolt.Tx) error {
		for e := range tx.Check() {
			errs = append(errs, e)
		}
		return nil
	})
	if err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("check store %s: %w", s.path, err)
	}
	return nil
}

// CheckIndexes checks that every kind's indexes and counter agree with its
// records: each record has its id, service and repo entries, each index entry
// names a stored record with that service or repo, and the counter is the
// number of records. It returns every disagreement found, joined.
func (s *Store) CheckIndexes() error {
	var errs []error
	err := s.db.View(func(tx *bolt.Tx) error {
		errs = append(errs, checkKind(tx, deployments)...)
		errs = append(errs, checkKind(tx, changes)...)
		errs = append(errs, checkKind(tx, incidents)...)
		return nil
	})
	if err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("check indexes of %s: %w", s.path, err)
	}
	return nil
}

func checkKind[T any](tx *bolt.Tx, k kind[T]) []error {
	var errs []error
	kb := tx.Bucket(k.bucket)
	byTime, ids := kb.Bucket(bucketByTime), kb.Bucket(bucketIDs)
	type idx struct {
		name  string
		b     *bolt.Bucket
		field func(*T) string
	}
	indexes := []idx{{"by_service", kb.Bucket(bucketByService), k.service}}
	if k.repo != nil {
		indexes = append(indexes, idx{"by_repo", kb.Bucket(bucketByRepo), k.repo})
	}
	in := newArena()
	var v T
	records := 0
	err := byTime.ForEach(func(key, val []byte) error {
		records++
		if err := k.decode(val, in, &v); err != nil {
			errs = append(errs, fmt.Errorf("%s %q: %w", k.name, key[timeKeyLen:], err))
			return nil
		}
		id := key[timeKeyLen:]
		if string(id) != k.id(&v) {
			errs = append(errs, fmt.Errorf("%s key %q holds id %q", k.name, id, k.id(&v)))
		}
		if got := ids.Get(id); !bytes.Equal(got, key[:timeKeyLen]) {
			errs = append(errs, fmt.Errorf("%s %q: id entry %x, want %x", k.name, id, got, key[:timeKeyLen]))
		}
		for _, x := range indexes {
			if x.b.Get(append(appendStrKey(nil, x.field(&v)), key...)) == nil {
				errs = append(errs, fmt.Errorf("%s %q: no %s entry", k.name, id, x.name))
			}
		}
		return nil
	})
	if err != nil {
		errs = append(errs, err)
	}
	n := 0
	_ = ids.ForEach(func(id, t []byte) error {
		n++
		if byTime.Get(append(bytes.Clone(t), id...)) == nil {
			errs = append(errs, fmt.Errorf("%s id entry %q names no record", k.name, id))
		}
		return nil
	})
	if n != records {
		errs = append(errs, fmt.Errorf("%s: %d id entries for %d records", k.name, n, records))
	}
	for _, x := range indexes {
		n := 0
		_ = x.b.ForEach(func(key, _ []byte) error {
			n++
			if len(key) < 2 {
				errs = append(errs, fmt.Errorf("%s %s entry %q is too short", k.name, x.name, key))
				return nil
			}
			l := int(binary.BigEndian.Uint16(key))
			if len(key) < 2+l+timeKeyLen {
				errs = append(errs, fmt.Errorf("%s %s entry %q is too short", k.name, x.name, key))
				return nil
			}
			raw := byTime.Get(key[2+l:])
			if raw == nil {
				errs = append(errs, fmt.Errorf("%s %s entry %q names no record", k.name, x.name, key))
				return nil
			}
			if err := k.decode(raw, in, &v); err == nil && x.field(&v) != string(key[2:2+l]) {
				errs = append(errs, fmt.Errorf("%s %s entry %q: the record has %q", k.name, x.name, key, x.field(&v)))
			}
			return nil
		})
		if n != records {
			errs = append(errs, fmt.Errorf("%s: %d %s entries for %d records", k.name, n, x.name, records))
		}
	}
	if c := getUint64(tx.Bucket(bucketMeta), countKey(k.name)); c != uint64(records) {
		errs = append(errs, fmt.Errorf("%s: counter %d for %d records", k.name, c, records))
	}
	return errs
}
