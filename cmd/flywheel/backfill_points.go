package main

import (
	"time"

	"github.com/flywheel-metrics/flywheel/metrics"
	"github.com/flywheel-metrics/flywheel/metrics/kpi"
)

// backfillPoints returns a snapshot at from, from+step, … before to. A stored
// daily snapshot computed at exactly that time is used as it is (it is what
// the server showed then); every other point is computed from in, the stored
// events, as of its time. stored counts the points taken from the store.
func backfillPoints(st reportStore, in *kpi.Input, from, to time.Time, step time.Duration) (points []metrics.Snapshot, stored int, err error) {
	snaps, err := st.Snapshots(from, to)
	if err != nil {
		return nil, 0, err
	}
	byTime := make(map[int64]*metrics.Snapshot, len(snaps))
	for _, s := range snaps {
		if snap, err := metrics.DecodeSnapshot(s.Data); err == nil {
			byTime[s.At.UnixNano()] = snap
		}
	}
	for at := from; at.Before(to); at = at.Add(step) {
		if snap, ok := byTime[at.UnixNano()]; ok {
			points = append(points, *snap)
			stored++
			continue
		}
		one, err := metrics.ComputeSnapshots(in, at, at.Add(step), step)
		if err != nil {
			return nil, 0, err
		}
		points = append(points, one...)
	}
	return points, stored, nil
}
