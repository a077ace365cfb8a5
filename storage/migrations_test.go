package storage

import (
	"context"
	"encoding/binary"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/flywheel-metrics/flywheel"
)

// writeV1 builds a schema-version-1 file with raw bbolt: records by time and id,
// cursors and validators, but no service or repo index, no counters and no
// snapshots bucket.
func writeV1(t *testing.T, path string, ev flywheel.Events, corrupt bool) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		meta, _ := tx.CreateBucket([]byte("meta"))
		if err := meta.Put([]byte("version"), binary.BigEndian.AppendUint64(nil, 1)); err != nil {
			return err
		}
		cur, _ := tx.CreateBucket([]byte("cursors"))
		if err := cur.Put([]byte("github\x00acme/checkout"), []byte("2026-01-01T00:00:00Z")); err != nil {
			return err
		}
		if _, err := tx.CreateBucket([]byte("validators")); err != nil {
			return err
		}
		put := func(bucket, id string, at time.Time, rec []byte) error {
			kb := tx.Bucket([]byte(bucket))
			tk := appendTimeKey(nil, at)
			if err := kb.Bucket([]byte("by_time")).Put(append(tk, id...), rec); err != nil {
				return err
			}
			return kb.Bucket([]byte("ids")).Put([]byte(id), tk)
		}
		for _, bucket := range []string{"deployments", "changes", "incidents"} {
			kb, _ := tx.CreateBucket([]byte(bucket))
			_, _ = kb.CreateBucket([]byte("by_time"))
			_, _ = kb.CreateBucket([]byte("ids"))
		}
		for i := range ev.Deployments {
			d := &ev.Deployments[i]
			rec := encodeDeployment(nil, d)
			if corrupt && i == len(ev.Deployments)-1 {
				rec = rec[:len(rec)-3]
			}
			if err := put("deployments", d.ID, d.FinishedAt, rec); err != nil {
				return err
			}
		}
		for i := range ev.Changes {
			c := &ev.Changes[i]
			if err := put("changes", c.ID, flywheel.ChangeTime(*c), encodeChange(nil, c)); err != nil {
				return err
			}
		}
		for i := range ev.Incidents {
			in := &ev.Incidents[i]
			if err := put("incidents", in.ID, in.TriggeredAt, encodeIncident(nil, in)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func v1Events() flywheel.Events {
	at := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	return flywheel.Events{
		Deployments: []flywheel.Deployment{
			{ID: "d1", Service: "checkout", Repo: "acme/checkout", Environment: "production", SHA: "a", FinishedAt: at, Status: "success"},
			{ID: "d2", Service: "cart", Repo: "acme/cart", Environment: "production", SHA: "b", FinishedAt: at.Add(time.Hour), Status: "success"},
			{ID: "d3", Service: "checkout", Repo: "acme/checkout", Environment: "staging", SHA: "c", FinishedAt: at.Add(2 * time.Hour), Status: "failure"},
		},
		Changes:   []flywheel.Change{{ID: "pr1", Service: "checkout", Repo: "acme/checkout", OpenedAt: at}},
		Incidents: []flywheel.Incident{{ID: "i1", Service: "cart", Urgency: "high", TriggeredAt: at}},
	}
}

func fileVersion(t *testing.T, path string) uint64 {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v uint64
	_ = db.View(func(tx *bolt.Tx) error { v = getUint64(tx.Bucket(bucketMeta), keyVersion); return nil })
	return v
}

func TestMigrateV1ToV2(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "v1.db")
	writeV1(t, path, v1Events(), false)
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if v := fileVersion(t, path); v != SchemaVersion {
		t.Fatalf("version after migration = %d, want %d", v, SchemaVersion)
	}
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	if c, err := s.Counts(); err != nil || c != (Counts{Deployments: 3, Changes: 1, Incidents: 1}) {
		t.Errorf("counters built by the migration = %+v, %v", c, err)
	}
	ds, err := s.Deployments(flywheel.Query{Service: "checkout"})
	if err != nil || len(ds) != 2 || ds[0].ID != "d1" || ds[1].ID != "d3" {
		t.Errorf("by-service index after migration: %+v, %v", ds, err)
	}
	ds, err = s.Deployments(flywheel.Query{Repo: "acme/cart"})
	if err != nil || len(ds) != 1 || ds[0].ID != "d2" {
		t.Errorf("by-repo index after migration: %+v, %v", ds, err)
	}
	if in, _ := s.Incidents(flywheel.Query{Service: "cart"}); len(in) != 1 {
		t.Errorf("incidents of cart after migration: %+v", in)
	}
	if cur, _ := s.Cursor("github", "acme/checkout"); cur != "2026-01-01T00:00:00Z" {
		t.Errorf("cursor after migration = %q", cur)
	}
	if err := s.PutSnapshot(time.Now(), []byte("x")); err != nil {
		t.Errorf("snapshots bucket missing after migration: %v", err)
	}
	// The migrated store keeps working: an upsert moves the migrated index entry.
	d := v1Events().Deployments[0]
	d.Service = "payments"
	if err := s.WriteBatch(context.Background(), flywheel.Batch{Events: flywheel.Events{Deployments: []flywheel.Deployment{d}}}); err != nil {
		t.Fatal(err)
	}
	if ds, _ := s.Deployments(flywheel.Query{Service: "checkout"}); len(ds) != 1 || ds[0].ID != "d3" {
		t.Errorf("old index entry kept after upsert: %+v", ds)
	}
	if c, _ := s.Counts(); c.Deployments != 3 {
		t.Errorf("upsert of a migrated record changed the count: %+v", c)
	}
	ev, _ := s.Events()
	want := v1Events()
	want.Deployments[0] = d
	if !reflect.DeepEqual(ev, want) {
		t.Errorf("events after migration:\n got %+v\nwant %+v", ev, want)
	}
}

// A failing migration rolls back whole: the file stays at version 1.
func TestFailedMigrationLeavesOldVersion(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "v1.db")
	writeV1(t, path, v1Events(), true)
	_, err := Open(path, Options{})
	if err == nil || !strings.Contains(err.Error(), "migrate to schema version 2 (by-service and by-repo indexes, record counters, snapshots): deployment \"d3\": decode deployment: truncated or corrupt record") {
		t.Fatalf("err = %v", err)
	}
	if v := fileVersion(t, path); v != 1 {
		t.Errorf("version after a failed migration = %d, want 1", v)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_ = db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketDeployments).Bucket(bucketByService) != nil || tx.Bucket(bucketSnapshots) != nil {
			t.Error("a failed migration left part of its work")
		}
		return nil
	})
}

func TestCodecRejectsGarbage(t *testing.T) {
	t.Parallel()
	d := flywheel.Deployment{ID: "d", Commits: []string{"a", "b"}, FinishedAt: time.Unix(1, 2).UTC()}
	rec := encodeDeployment(nil, &d)
	for i := range len(rec) {
		var got flywheel.Deployment
		if err := decodeDeployment(rec[:i], nil, &got); err == nil {
			t.Errorf("decoding the first %d of %d bytes succeeded", i, len(rec))
		}
	}
	var got flywheel.Deployment
	if err := decodeDeployment(append(rec, 0), nil, &got); err == nil {
		t.Error("trailing byte accepted")
	}
	for _, at := range []time.Time{time.Time{}, time.Unix(-1, 5).UTC(), time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)} {
		if back := parseTimeKey(appendTimeKey(nil, at)); !back.Equal(at) {
			t.Errorf("time key of %v reads back as %v", at, back)
		}
	}
	if string(appendTimeKey(nil, time.Unix(-1, 0))) >= string(appendTimeKey(nil, time.Unix(0, 0))) {
		t.Error("time keys before 1970 do not sort first")
	}
}

// A read-only open never migrates: a version-1 file is refused with
// ErrNeedsMigration and stays at version 1; a newer file is refused as Open
// refuses it.
func TestOpenReadOnlyRefusesOtherVersions(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "v1.db")
	writeV1(t, path, v1Events(), false)
	_, err := OpenReadOnly(path, Options{})
	want := "open store " + path + ": needs a migration: schema version 1 is older than this Flywheel's (2); a command that writes (serve, collect or import) migrates it"
	if !errors.Is(err, ErrNeedsMigration) || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
	if v := fileVersion(t, path); v != 1 {
		t.Errorf("version after a read-only open = %d, want 1", v)
	}
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.db.Update(func(tx *bolt.Tx) error { return putUint64(tx.Bucket(bucketMeta), keyVersion, 99) }); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := OpenReadOnly(path, Options{}); err == nil || !strings.Contains(err.Error(), "schema version 99 is newer than this Flywheel supports (2)") {
		t.Errorf("newer file: err = %v", err)
	}
}
