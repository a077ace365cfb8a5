package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

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
// deleted, because its time, service or repo may have changed. A batch holding
// one id twice stores the later record, as two batches in a row would.
//
// The deletions and writes are made bucket by bucket in key order, not record by
// record: bbolt keeps a transaction's new keys in one growing slice per node and
// inserts by copying the tail, so a large batch in arrival order (an import of a
// year of PRs across many services and ids) cost quadratic time: 2.5 minutes for
// 250,000 changes. In key order each insert lands at or near a node's end.
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
	last := make(map[string]int, len(records))
	for i := range records {
		id := k.id(&records[i])
		if id == "" {
			return fmt.Errorf("%s #%d of the batch has an empty id", k.name, i+1)
		}
		last[id] = i
	}
	meta := tx.Bucket(bucketMeta)
	count := getUint64(meta, countKey(k.name))
	// bbolt keeps the slices it is handed until the transaction ends, so none
	// is reused; a record's id entry shares its time key's bytes, which
	// bbolt only reads.
	var (
		byTimeW, idsW, svcW, repoW writes
		byTimeD, svcD, repoD       [][]byte
		old                        T
	)
	for i := range records {
		r := &records[i]
		id := k.id(r)
		if last[id] != i {
			continue
		}
		if oldTime := ids.Get([]byte(id)); oldTime != nil {
			oldKey := append(append([]byte(nil), oldTime...), id...)
			if raw := byTime.Get(oldKey); raw != nil {
				if err := k.decode(raw, nil, &old); err != nil {
					return fmt.Errorf("%s %q: %w", k.name, flywheel.Clip(id), err)
				}
				svcD = append(svcD, append(appendStrKey(nil, k.service(&old)), oldKey...))
				if byRepo != nil {
					repoD = append(repoD, append(appendStrKey(nil, k.repo(&old)), oldKey...))
				}
				byTimeD = append(byTimeD, oldKey)
			}
		} else {
			count++
		}
		key := append(appendTimeKey(nil, k.time(r)), id...)
		byTimeW.add(key, k.encode(nil, r), id)
		idsW.add([]byte(id), key[:timeKeyLen:timeKeyLen], id)
		svcW.add(append(appendStrKey(nil, k.service(r)), key...), nil, id)
		if byRepo != nil {
			repoW.add(append(appendStrKey(nil, k.repo(r)), key...), nil, id)
		}
	}
	for _, d := range []struct {
		b    *bolt.Bucket
		keys [][]byte
	}{{bySvc, svcD}, {byRepo, repoD}, {byTime, byTimeD}} {
		slices.SortFunc(d.keys, bytes.Compare)
		for _, key := range d.keys {
			if err := d.b.Delete(key); err != nil {
				return err
			}
		}
	}
	for _, w := range []struct {
		b *bolt.Bucket
		w writes
	}{{byTime, byTimeW}, {ids, idsW}, {bySvc, svcW}, {byRepo, repoW}} {
		if err := w.w.put(w.b, k.name); err != nil {
			return err
		}
	}
	return putUint64(meta, countKey(k.name), count)
}

// writes are one bucket's puts of a batch, applied in key order.
type writes []write

type write struct {
	key, val []byte
	id       string // the record's, for errors
}

func (w *writes) add(key, val []byte, id string) { *w = append(*w, write{key, val, id}) }

func (w writes) put(b *bolt.Bucket, kind flywheel.Kind) error {
	slices.SortFunc(w, func(x, y write) int { return bytes.Compare(x.key, y.key) })
	for _, e := range w {
		if err := b.Put(e.key, e.val); err != nil {
			return fmt.Errorf("%s %q: %w", kind, flywheel.Clip(e.id), err)
		}
	}
	return nil
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
	err := s.db.View(func(tx *bolt.Tx) error { return scanAll(tx, time.Time{}, &ev) })
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
	return s.ScanSince(time.Time{}, sink)
}

// ScanSince is Scan of the events whose own time (flywheel.Query: a
// deployment's finish, a change's merge else opening, an incident's trigger)
// is at or after since; a zero since passes every event. Each kind is read
// from since on through its time index, not filtered. The counts given to
// sink.Grow are those of the whole store.
func (s *Store) ScanSince(since time.Time, sink flywheel.EventSink) error {
	if err := s.db.View(func(tx *bolt.Tx) error { return scanAll(tx, since, sink) }); err != nil {
		return fmt.Errorf("store %s: scan events: %w", s.path, err)
	}
	return nil
}

func scanAll(tx *bolt.Tx, since time.Time, sink flywheel.EventSink) error {
	meta := tx.Bucket(bucketMeta)
	sink.Grow(int(getUint64(meta, countKey(flywheel.KindDeployment))),
		int(getUint64(meta, countKey(flywheel.KindChange))), int(getUint64(meta, countKey(flywheel.KindIncident))))
	var from []byte
	if !since.IsZero() {
		from = appendTimeKey(nil, since)
	}
	if err := each(tx, deployments, from, sink.AddDeployment); err != nil {
		return err
	}
	if err := each(tx, changes, from, sink.AddChange); err != nil {
		return err
	}
	return each(tx, incidents, from, sink.AddIncident)
}

// each decodes every record of one kind in time order, from the time key from
// on (nil: from the first), into one reused value. Each kind has its own
// arena, so a sink that keeps one kind's strings does not keep the chunks of
// another's.
func each[T any](tx *bolt.Tx, k kind[T], from []byte, fn func(*T)) error {
	in := newArena()
	var v T
	c := tx.Bucket(k.bucket).Bucket(bucketByTime).Cursor()
	key, val := c.First()
	if from != nil {
		key, val = c.Seek(from)
	}
	for ; key != nil; key, val = c.Next() {
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
