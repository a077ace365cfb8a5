package metrics

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/flywheel-metrics/flywheel/metrics/kpi"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// WriteOpenMetrics writes the KPI metric families (every family but the
// collector's health) for each snapshot, with the snapshot's evaluation time as the
// sample timestamp, as OpenMetrics text that `promtool tsdb create-blocks-from
// openmetrics` accepts (`flywheel backfill`). Each family is written once, with every
// series' samples together and in time order, then `# EOF`. Points with the same
// evaluation time keep the last. disabled leaves out groups of series as the
// exporter does.
func WriteOpenMetrics(w io.Writer, points []Snapshot, teams map[string]string, disabled Disabled) error {
	byTime := make(map[int64]int, len(points))
	var order []int
	for i, p := range points {
		ms := p.At.UnixMilli()
		if j, ok := byTime[ms]; ok {
			order[j] = i
			continue
		}
		byTime[ms] = len(order)
		order = append(order, i)
	}
	sort.SliceStable(order, func(a, b int) bool { return points[order[a]].At.Before(points[order[b]].At) })

	merged := map[string]*dto.MetricFamily{}
	// One histogram state across the points, in time order, as one process
	// would have exposed them: a later point's correction does not read as a reset.
	hist := newHistState()
	for _, i := range order {
		p := &points[i]
		reg := prometheus.NewRegistry()
		e := newExporter(func() *Snapshot { return p }, nil, func() map[string]string { return teams }, nil, false, disabled)
		e.hist = hist
		if err := reg.Register(e); err != nil {
			return fmt.Errorf("backfill: register exporter: %w", err)
		}
		mfs, err := reg.Gather()
		if err != nil {
			return fmt.Errorf("backfill: metrics at %s: %w", p.At.UTC().Format(time.RFC3339), err)
		}
		ts := p.At.UnixMilli()
		for _, mf := range mfs {
			acc, ok := merged[mf.GetName()]
			if !ok {
				acc = &dto.MetricFamily{Name: mf.Name, Help: mf.Help, Type: mf.Type}
				merged[mf.GetName()] = acc
			}
			for _, m := range mf.Metric {
				m.TimestampMs = &ts
				acc.Metric = append(acc.Metric, m)
			}
		}
	}
	for _, name := range sortedKeys(merged) {
		mf := merged[name]
		// Group each series' samples in time order: points were gathered in time
		// order and the sort is stable.
		keys := make(map[*dto.Metric]string, len(mf.Metric))
		for _, m := range mf.Metric {
			keys[m] = labelKey(m)
		}
		slices.SortStableFunc(mf.Metric, func(a, b *dto.Metric) int { return strings.Compare(keys[a], keys[b]) })
		if _, err := expfmt.MetricFamilyToOpenMetrics(w, mf); err != nil {
			return fmt.Errorf("backfill: write %s: %w", name, err)
		}
	}
	if _, err := expfmt.FinalizeOpenMetrics(w); err != nil {
		return fmt.Errorf("backfill: write: %w", err)
	}
	return nil
}

func labelKey(m *dto.Metric) string {
	var b strings.Builder
	for _, l := range m.Label {
		b.WriteString(l.GetName())
		b.WriteByte(0)
		b.WriteString(l.GetValue())
		b.WriteByte(0)
	}
	return b.String()
}

// ComputeSnapshots computes a snapshot of in's events as of from, from+step, …
// up to but not including to, with the same engine as `report --at`, for
// `flywheel backfill`. Each point sees only what had happened before it.
func ComputeSnapshots(in *kpi.Input, from, to time.Time, step time.Duration) ([]Snapshot, error) {
	if step <= 0 {
		return nil, fmt.Errorf("backfill: step %v: must be positive", step)
	}
	if !from.Before(to) {
		return nil, fmt.Errorf("backfill: from %s is not before to %s", from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339))
	}
	var out []Snapshot
	for at := from; at.Before(to); at = at.Add(step) {
		start := time.Now()
		res := in.Compute(at)
		var c Counts
		c.Deployments, c.Changes, c.Incidents = in.Counts(at)
		out = append(out, Snapshot{At: at, Result: res, Counts: c, ComputeDuration: time.Since(start)})
	}
	return out, nil
}
