package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/flywheel-metrics/flywheel"
)

// WriteBatch stores a batch in one write transaction: its events (upserted by id
// per kind), cursors and validators, all of it or nothing. A record that exists
// is replaced, and its index entries move if its time, service or repo changed.
func (s *Store) WriteBatch(ctx context.Context, b flywheel.Batch) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: write batch: %w", err)
	}
	if b.Len() == 0 && len(b.Cursors) == 0 && len(b.Validators) == 0 {
		return nil
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := upsertAll(tx, deployments, b.Deployments); err != nil {
			return err
		}
		if err := upsertAll(tx, changes, b.Changes); err != nil {
			return err
		}
		if err := upsertAll(tx, incidents, b.Incidents); err != nil {
			return err
		}
		cur := tx.Bucket(bucketCursors)
		for _, c := range b.Cursors {
			if c.Source == "" || c.Key == "" {
				return fmt.Errorf("cursor with empty source or key (source %q, key %q)", c.Source, c.Key)
			}
			if err := cur.Put(cursorKey(c.Source, c.Key), []byte(c.Value)); err != nil {
				return fmt.Errorf("cursor %s/%s: %w", c.Source, c.Key, err)
			}
		}
		val := tx.Bucket(bucketValidators)
		for _, v := range b.Validators {
			if v.Key == "" {
				return errors.New("validator with empty key")
			}
			if err := val.Put([]byte(v.Key), encodeValidator(v)); err != nil {
				return fmt.Errorf("validator %s: %w", v.Key, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store %s: write batch: %w", s.path, err)
	}
	return nil
}

func cursorKey(source, key string) []byte {
	k := make([]byte, 0, len(source)+1+len(key))
	k = append(k, source...)
	k = append(k, 0)
	return append(k, key...)
}

// upsertAll writes records of one kind. Index entries of a replaced record are
// deleted first, because its time, service or repo may have changed.
func upsertAll[T any](tx *bolt.Tx, k kind[T], records []T) error {
	if len(records) == 0 {
		return nil
	}
	kb := tx.Bucket(k.bucket)
	byTime, ids, bySvc := kb.Bucket(bucketByTime), kb.Bucket(bucketIDs), kb.Bucket(bucketByService)
	var byRepo *bolt.Bucket
	if k.repo != nil {
		byRepo = kb.Bucket(bucketByRepo)
	}
	meta := tx.Bucket(bucketMeta)
	count := getUint64(meta, countKey(k.name))
	var (
		old  T
		buf  []byte
		key  []byte
		ikey []byte
	)
	for i := range records {
		r := &records[i]
		id := k.id(r)
		if id == "" {
			return fmt.Errorf("%s #%d of the batch has an empty id", k.name, i+1)
		}
		if oldTime := ids.Get([]byte(id)); oldTime != nil {
			oldKey := append(append([]byte(nil), oldTime...), id...)
			if raw := byTime.Get(oldKey); raw != nil {
				if err := k.decode(raw, nil, &old); err != nil {
					return fmt.Errorf("%s %q: %w", k.name, id, err)
				}
				if err := bySvc.Delete(append(appendStrKey(nil, k.service(&old)), oldKey...)); err != nil {
					return err
				}
				if byRepo != nil {
					if err := byRepo.Delete(append(appendStrKey(nil, k.repo(&old)), oldKey...)); err != nil {
						return err
					}
				}
				if err := byTime.Delete(oldKey); err != nil {
					return err
				}
			}
		} else {
			count++
		}
		key = append(appendTimeKey(key[:0], k.time(r)), id...)
		buf = k.encode(buf[:0], r)
		// bbolt keeps the slices passed to Put until the transaction ends, so
		// each Put gets its own copy.
		if err := byTime.Put(bytes.Clone(key), bytes.Clone(buf)); err != nil {
			return fmt.Errorf("%s %q: %w", k.name, id, err)
		}
		if err := ids.Put([]byte(id), bytes.Clone(key[:timeKeyLen])); err != nil {
			return fmt.Errorf("%s %q: %w", k.name, id, err)
		}
		ikey = append(appendStrKey(ikey[:0], k.service(r)), key...)
		if err := bySvc.Put(bytes.Clone(ikey), nil); err != nil {
			return fmt.Errorf("%s %q: %w", k.name, id, err)
		}
		if byRepo != nil {
			ikey = append(appendStrKey(ikey[:0], k.repo(r)), key...)
			if err := byRepo.Put(bytes.Clone(ikey), nil); err != nil {
				return fmt.Errorf("%s %q: %w", k.name, id, err)
			}
		}
	}
	return putUint64(meta, countKey(k.name), count)
}

// Cursor returns the stored value of a source's cursor, or "" if none.
func (s *Store) Cursor(source, key string) (string, error) {
	var v string
	err := s.db.View(func(tx *bolt.Tx) error {
		v = string(tx.Bucket(bucketCursors).Get(cursorKey(source, key)))
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("store %s: read cursor %s/%s: %w", s.path, source, key, err)
	}
	return v, nil
}

// Validator returns the stored HTTP validator for key; ok is false if none.
func (s *Store) Validator(key string) (flywheel.Validator, bool, error) {
	var (
		v  flywheel.Validator
		ok bool
	)
	err := s.db.View(func(tx *bolt.Tx) error {
		raw := tx.Bucket(bucketValidators).Get([]byte(key))
		if raw == nil {
			return nil
		}
		ok = true
		var err error
		v, err = decodeValidator(key, raw)
		return err
	})
	if err != nil {
		return flywheel.Validator{}, false, fmt.Errorf("store %s: read validator: %w", s.path, err)
	}
	return v, ok, nil
}

// Deployments returns the deployments of q ordered by FinishedAt, then id.
func (s *Store) Deployments(q flywheel.Query) ([]flywheel.Deployment, error) {
	return query(s, deployments, q)
}

// Changes returns the changes of q ordered by flywheel.ChangeTime, then id.
func (s *Store) Changes(q flywheel.Query) ([]flywheel.Change, error) {
	return query(s, changes, q)
}

// Incidents returns the incidents of q ordered by TriggeredAt, then id.
// Incidents have no repo: q.Repo is ignored.
func (s *Store) Incidents(q flywheel.Query) ([]flywheel.Incident, error) {
	return query(s, incidents, q)
}

func query[T any](s *Store, k kind[T], q flywheel.Query) ([]T, error) {
	var out []T
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		out, err = scan(tx, k, q)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store %s: query %ss: %w", s.path, k.name, err)
	}
	return out, nil
}

// scan reads [q.From, q.To) from the by_time bucket directly, or through the
// service (else repo) index; with both set, the service index is used and the
// repo filtered.
func scan[T any](tx *bolt.Tx, k kind[T], q flywheel.Query) ([]T, error) {
	kb := tx.Bucket(k.bucket)
	byTime := kb.Bucket(bucketByTime)
	var from, to []byte
	if !q.From.IsZero() {
		from = appendTimeKey(nil, q.From)
	}
	if !q.To.IsZero() {
		to = appendTimeKey(nil, q.To)
	}
	// With both Service and Repo set, the service index is read and the repo
	// filtered.
	var (
		idx        *bolt.Bucket
		prefix     []byte
		filterRepo string
	)
	switch {
	case q.Service != "":
		idx, prefix = kb.Bucket(bucketByService), appendStrKey(nil, q.Service)
		if k.repo != nil {
			filterRepo = q.Repo
		}
	case q.Repo != "" && k.repo != nil:
		idx, prefix = kb.Bucket(bucketByRepo), appendStrKey(nil, q.Repo)
	}
	in := newArena()
	var (
		out []T
		v   T
	)
	emit := func(raw []byte) error {
		if err := k.decode(raw, in, &v); err != nil {
			return err
		}
		if filterRepo != "" && k.repo(&v) != filterRepo {
			return nil
		}
		out = append(out, v)
		return nil
	}
	if idx == nil {
		c := byTime.Cursor()
		var key, val []byte
		if from != nil {
			key, val = c.Seek(from)
		} else {
			key, val = c.First()
		}
		for ; key != nil; key, val = c.Next() {
			if to != nil && bytes.Compare(key[:timeKeyLen], to) >= 0 {
				break
			}
			if err := emit(val); err != nil {
				return nil, fmt.Errorf("%q: %w", key[timeKeyLen:], err)
			}
		}
		return out, nil
	}
	c := idx.Cursor()
	key, _ := c.Seek(append(bytes.Clone(prefix), from...))
	for ; key != nil && bytes.HasPrefix(key, prefix); key, _ = c.Next() {
		tk := key[len(prefix):]
		if to != nil && bytes.Compare(tk[:timeKeyLen], to) >= 0 {
			break
		}
		raw := byTime.Get(tk)
		if raw == nil {
			return nil, fmt.Errorf("index entry %q has no record", tk[timeKeyLen:])
		}
		if err := emit(raw); err != nil {
			return nil, fmt.Errorf("%q: %w", tk[timeKeyLen:], err)
		}
	}
	return out, nil
}

// Events returns every stored event, each kind in time order.
func (s *Store) Events() (flywheel.Events, error) {
	var ev flywheel.Events
	err := s.db.View(func(tx *bolt.Tx) error { return scanAll(tx, &ev) })
	if err != nil {
		return flywheel.Events{}, fmt.Errorf("store %s: read events: %w", s.path, err)
	}
	return ev, nil
}

// Scan passes every stored event to sink in one read transaction: the
// deployments, then the changes, then the incidents, each kind in time order.
// Unlike Events it never holds more than one record at a time, so a sink that
// keeps less than whole records (kpi.Input) needs less memory than the store's
// contents. The record passed is reused for the next one (flywheel.EventSink).
func (s *Store) Scan(sink flywheel.EventSink) error {
	if err := s.db.View(func(tx *bolt.Tx) error { return scanAll(tx, sink) }); err != nil {
		return fmt.Errorf("store %s: scan events: %w", s.path, err)
	}
	return nil
}

func scanAll(tx *bolt.Tx, sink flywheel.EventSink) error {
	meta := tx.Bucket(bucketMeta)
	sink.Grow(int(getUint64(meta, countKey(flywheel.KindDeployment))),
		int(getUint64(meta, countKey(flywheel.KindChange))), int(getUint64(meta, countKey(flywheel.KindIncident))))
	if err := each(tx, deployments, sink.AddDeployment); err != nil {
		return err
	}
	if err := each(tx, changes, sink.AddChange); err != nil {
		return err
	}
	return each(tx, incidents, sink.AddIncident)
}

// each decodes every record of one kind in time order into one reused value.
// Each kind has its own arena, so a sink that keeps one kind's strings does not
// keep the chunks of another's.
func each[T any](tx *bolt.Tx, k kind[T], fn func(*T)) error {
	in := newArena()
	var v T
	c := tx.Bucket(k.bucket).Bucket(bucketByTime).Cursor()
	for key, val := c.First(); key != nil; key, val = c.Next() {
		// zeroed, so that no field of one record can show through in the next
		v = *new(T)
		if err := k.decode(val, in, &v); err != nil {
			return fmt.Errorf("%s %q: %w", k.name, key[timeKeyLen:], err)
		}
		fn(&v)
	}
	return nil
}

// Counts are the numbers of stored records per kind.
type Counts struct{ Deployments, Changes, Incidents int }

// Counts reads the record counters kept by WriteBatch; it does not scan.
func (s *Store) Counts() (Counts, error) {
	var c Counts
	err := s.db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		c = Counts{
			Deployments: int(getUint64(meta, countKey(flywheel.KindDeployment))),
			Changes:     int(getUint64(meta, countKey(flywheel.KindChange))),
			Incidents:   int(getUint64(meta, countKey(flywheel.KindIncident))),
		}
		return nil
	})
	if err != nil {
		return Counts{}, fmt.Errorf("store %s: counts: %w", s.path, err)
	}
	return c, nil
}
