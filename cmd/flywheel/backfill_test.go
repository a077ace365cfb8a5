package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/storage"
)

func TestBackfillStart(t *testing.T) {
	t.Parallel()
	ts := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	first := ts("2026-09-30T10:20:00Z")
	for _, c := range []struct {
		name string
		from string // "" for none
		step time.Duration
		want string
	}{
		{"no from, daily: the midnight UTC after the first event", "", flywheel.Day, "2026-10-01T00:00:00Z"},
		{"no from, hourly", "", time.Hour, "2026-09-30T11:00:00Z"},
		{"no from, 6h", "", 6 * time.Hour, "2026-09-30T12:00:00Z"},
		{"from long before: on its grid, the step after the first event", "2020-01-01T12:00:00Z", flywheel.Day, "2026-09-30T12:00:00Z"},
		{"from within the step before: its point would be empty", "2026-09-30T00:00:00Z", flywheel.Day, "2026-10-01T00:00:00Z"},
		{"from at the first event: its point sees nothing yet", "2026-09-30T10:20:00Z", flywheel.Day, "2026-10-01T10:20:00Z"},
		{"from after the first event: kept", "2026-09-30T10:21:00Z", flywheel.Day, "2026-09-30T10:21:00Z"},
		{"from days after: kept", "2026-10-05T00:00:00Z", flywheel.Day, "2026-10-05T00:00:00Z"},
		{"from too far back to measure in nanoseconds", "0001-01-01T00:00:00Z", flywheel.Day, "2026-10-01T00:00:00Z"},
	} {
		var from time.Time
		if c.from != "" {
			from = ts(c.from)
		}
		if got := backfillStart(from, first, c.step); !got.Equal(ts(c.want)) {
			t.Errorf("%s: backfillStart(%s, %v) = %s, want %s", c.name, c.from, c.step, got.Format(time.RFC3339), c.want)
		}
	}
	// An event before the Unix epoch: still the first step after it.
	old := ts("1969-12-30T18:00:00Z")
	if got := backfillStart(time.Time{}, old, flywheel.Day); !got.Equal(ts("1969-12-31T00:00:00Z")) {
		t.Errorf("backfillStart before the epoch = %s", got.Format(time.RFC3339))
	}
}

// A store without events has no history: backfill says so and writes nothing.
func TestBackfillEmptyStore(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "flywheel.db")
	st, err := storage.Open(path, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.om")
	r := runCLI("", "--storage.path", path, "backfill", "--output", out)
	if r.code != 1 || !strings.Contains(r.stderr, "the store holds no events") {
		t.Errorf("backfill of an empty store: exit %d, stderr %q", r.code, r.stderr)
	}
	if _, err := os.Stat(out); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("backfill of an empty store created %s (%v)", out, err)
	}
}

func TestHumanBytes(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{0: "0 KiB", 1: "1 KiB", 5 << 20: "5.0 MiB", 1717986918: "1.6 GiB"} {
		if got := humanBytes(n); got != want {
			t.Errorf("humanBytes(%d) = %q, want %q", n, got, want)
		}
	}
}
