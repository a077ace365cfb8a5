package metrics

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/flywheel-metrics/flywheel/internal/promtest"
	"github.com/flywheel-metrics/flywheel/metrics/kpi"
)

// storeModel is the stored lead times (seconds) per service, from which each
// snapshot's histograms are computed the way the KPI engine does: cumulative
// buckets over the whole history.
type storeModel map[string][]float64

func (m storeModel) snapshot(at time.Time) *Snapshot {
	h := kpi.History{Services: map[string]*kpi.ServiceHistory{}}
	for svc, obs := range m {
		lead := kpi.Histogram{Bounds: slices.Clone(kpi.LeadTimeBounds), Buckets: make([]uint64, len(kpi.LeadTimeBounds))}
		for _, v := range obs {
			for i, b := range lead.Bounds {
				if v <= b {
					lead.Buckets[i]++
				}
			}
			lead.Count++
			lead.Sum += v
		}
		resolve := kpi.Histogram{Bounds: slices.Clone(kpi.TimeToResolveBounds), Buckets: make([]uint64, len(kpi.TimeToResolveBounds))}
		h.Services[svc] = &kpi.ServiceHistory{LeadTime: lead, TimeToResolve: resolve}
	}
	return &Snapshot{At: at, Result: kpi.Result{History: h}}
}

// exposedHist is one scrape's histogram samples: "<labels> le=<bound>" for a
// bucket (le="+Inf" is _count), "<labels> sum" for _sum.
type exposedHist map[string]float64

func gatherHists(t *testing.T, reg *prometheus.Registry) exposedHist {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := exposedHist{}
	for _, mf := range mfs {
		if mf.GetType() != dto.MetricType_HISTOGRAM {
			continue
		}
		for _, m := range mf.Metric {
			id := mf.GetName() + seriesLabels(m)
			h := m.GetHistogram()
			prev := -1.0
			for _, b := range h.Bucket {
				v := float64(b.GetCumulativeCount())
				if v < prev {
					t.Errorf("%s: bucket le=%g holds %g, below the bucket before it (%g)", id, b.GetUpperBound(), v, prev)
				}
				prev = v
				out[id+" le="+strconv.FormatFloat(b.GetUpperBound(), 'g', -1, 64)] = v
			}
			if c := float64(h.GetSampleCount()); c < prev {
				t.Errorf("%s: _count %g is below the last finite bucket %g", id, c, prev)
			}
			out[id+" le=+Inf"] = float64(h.GetSampleCount())
			out[id+" sum"] = h.GetSampleSum()
		}
	}
	return out
}

func seriesLabels(m *dto.Metric) string {
	var parts []string
	for _, l := range m.Label {
		parts = append(parts, l.GetName()+"="+l.GetValue())
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// checkNeverFalls fails for every series of prev that next lowers or drops.
func checkNeverFalls(t *testing.T, step string, prev, next exposedHist) {
	t.Helper()
	for k, v := range prev {
		n, ok := next[k]
		if !ok {
			t.Errorf("%s: series %s disappeared", step, k)
		} else if n < v-1e-9 {
			t.Errorf("%s: %s fell from %g to %g", step, k, v, n)
		}
	}
}

const leadAll = "flywheel_lead_time_distribution_seconds{service_name=all,team=all}"

func leadOf(svc string) string {
	return "flywheel_lead_time_distribution_seconds{service_name=" + svc + ",team=unknown}"
}

// TestHistogramCorrectionsDoNotFall feeds the exporter snapshots of a store that
// is corrected (an observation moved to another bucket, removed, moved back)
// between new observations, and checks each exposed bucket, _count and _sum
// never falls, the buckets stay cumulative, and a correction adds no observation.
func TestHistogramCorrectionsDoNotFall(t *testing.T) {
	t.Parallel()
	const h = 3600.0
	store := storeModel{
		"checkout": {0.5 * h, 2 * h, 3 * h, 20 * h, 50 * h},
		"search":   {0.5 * h, 10 * h},
	}
	var cur atomic.Pointer[Snapshot]
	reg := prometheus.NewRegistry()
	reg.MustRegister(newExporter(cur.Load, nil, nil, nil, false, Disabled{}))
	at := fixtureAt
	scrape := func() exposedHist {
		at = at.Add(5 * time.Minute)
		cur.Store(store.snapshot(at))
		return gatherHists(t, reg)
	}
	prev := scrape()
	if prev[leadOf("checkout")+" le=+Inf"] != 5 || prev[leadAll+" le=+Inf"] != 7 {
		t.Fatalf("first scrape should expose the store's counts: %v", prev)
	}

	steps := []struct {
		name     string
		change   func()
		newCount float64 // observations the exposed checkout _count gains
	}{
		{"a change re-mapped to a later deployment (2h moves to 30h)", func() { store["checkout"][1] = 30 * h }, 0},
		// Moved back, it raises the buckets it re-enters (4h to 1d) though
		// they did not fall when it left; the 2d bucket has to follow to stay
		// cumulative, which the 50h observation above it leaves room for, so
		// _count does not rise.
		{"the re-mapping undone (30h back to 2h)", func() { store["checkout"][1] = 2 * h }, 0},
		{"an incident-style removal (3h removed)", func() { store["checkout"] = slices.Delete(store["checkout"], 2, 3) }, 0},
		{"two new observations", func() { store["checkout"] = append(store["checkout"], 1.5*h, 100*h) }, 2},
		{"a re-import dropping every observation", func() { store["checkout"] = nil }, 0},
		{"one new observation after the drop", func() { store["checkout"] = []float64{5 * h} }, 1},
		{"a duplicate removed from search only", func() { store["search"] = store["search"][:1] }, 0},
	}
	for _, st := range steps {
		before := prev[leadOf("checkout")+" le=+Inf"]
		st.change()
		next := scrape()
		checkNeverFalls(t, st.name, prev, next)
		if got := next[leadOf("checkout")+" le=+Inf"] - before; got != st.newCount {
			t.Errorf("%s: checkout _count rose by %g, want %g", st.name, got, st.newCount)
		}
		// A second scrape of the same snapshot changes nothing.
		again := gatherHists(t, reg)
		for k, v := range next {
			if again[k] != v {
				t.Errorf("%s: rescraping the same snapshot changed %s from %g to %g", st.name, k, v, again[k])
			}
		}
		prev = next
	}
	// The series of a store that went empty still carries its past.
	if prev[leadOf("checkout")+" le=+Inf"] < 7 {
		t.Errorf("checkout _count %g: the exposed count should keep the observations seen", prev[leadOf("checkout")+" le=+Inf"])
	}

	// A new exporter (a restart) starts again from the store's values.
	fresh := prometheus.NewRegistry()
	fresh.MustRegister(newExporter(cur.Load, nil, nil, nil, false, Disabled{}))
	if got := gatherHists(t, fresh)[leadOf("checkout")+" le=+Inf"]; got != 1 {
		t.Errorf("after a restart checkout _count = %g, want the store's 1", got)
	}
}

// TestHistogramStateRandomCorrections runs random additions and corrections
// against the rules: never falling, cumulative, and an addition-only step adds
// exactly its observations to _count and their total to _sum.
func TestHistogramStateRandomCorrections(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(13, 7))
	store := storeModel{"a": nil, "b": nil}
	hs := newHistState()
	at := fixtureAt
	var prev map[histKey]kpi.Histogram
	for step := range 400 {
		svc := []string{"a", "b"}[rng.IntN(2)]
		obs := store[svc]
		added, addedSum := uint64(0), 0.0
		// Few observations, so that buckets are often empty and moves cross them.
		switch op := rng.IntN(4); {
		case op == 0 && len(obs) > 0: // remove
			i := rng.IntN(len(obs))
			store[svc] = slices.Delete(obs, i, i+1)
		case (op == 1 || len(obs) >= 8) && len(obs) > 0: // move to another bucket, from 1 min to about 80 days
			obs[rng.IntN(len(obs))] = 60 * math.Pow(2, rng.Float64()*17)
		default: // add
			for range 1 + rng.IntN(3) {
				v := 60 * math.Pow(2, rng.Float64()*17)
				store[svc] = append(store[svc], v)
				added++
				addedSum += v
			}
		}
		at = at.Add(time.Minute)
		next := hs.observe(store.snapshot(at))
		for k, h := range next {
			if !slices.IsSorted(h.Buckets) || (len(h.Buckets) > 0 && h.Count < h.Buckets[len(h.Buckets)-1]) {
				t.Fatalf("step %d %v: not cumulative: %v count %d", step, k, h.Buckets, h.Count)
			}
			p, ok := prev[k]
			if !ok {
				continue
			}
			for i := range h.Buckets {
				if h.Buckets[i] < p.Buckets[i] {
					t.Fatalf("step %d %v: bucket %d fell from %d to %d", step, k, i, p.Buckets[i], h.Buckets[i])
				}
			}
			if h.Count < p.Count || h.Sum < p.Sum {
				t.Fatalf("step %d %v: count %d→%d sum %g→%g", step, k, p.Count, h.Count, p.Sum, h.Sum)
			}
			if k.f == famLeadTimeDistribution && (k.service == svc || k.service == allServices) {
				if added > 0 && (h.Count-p.Count != added || math.Abs(h.Sum-p.Sum-addedSum) > 1e-6*addedSum) {
					t.Fatalf("step %d %v: adding %d observations (%g s) moved count by %d and sum by %g", step, k, added, addedSum, h.Count-p.Count, h.Sum-p.Sum)
				}
			}
		}
		prev = next
	}
	if len(hs.series) != 6 { // lead and resolve of a, b and all
		t.Errorf("state holds %d series, want 6", len(hs.series))
	}
	// A service gone from the history takes its state along.
	delete(store, "b")
	hs.observe(store.snapshot(at.Add(time.Minute)))
	if len(hs.series) != 4 {
		t.Errorf("after b left, state holds %d series, want 4", len(hs.series))
	}
}

// TestHistogramConcurrentScrapes scrapes while snapshots change (run with -race).
func TestHistogramConcurrentScrapes(t *testing.T) {
	t.Parallel()
	store := storeModel{"a": {100, 5000}}
	var cur atomic.Pointer[Snapshot]
	cur.Store(store.snapshot(fixtureAt))
	reg := prometheus.NewRegistry()
	reg.MustRegister(newExporter(cur.Load, nil, nil, nil, false, Disabled{}))
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 20 {
				if _, err := reg.Gather(); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for i := range 20 {
		obs := []float64{100, 5000}
		if i%2 == 1 {
			obs = obs[:1] // a correction every other snapshot
		}
		cur.Store(storeModel{"a": obs}.snapshot(fixtureAt.Add(time.Duration(i+1) * time.Minute)))
	}
	wg.Wait()
}

// TestHistogramIncreaseAcrossCorrection has the real promtool evaluate
// increase() over a day in which the store was corrected: the exposed series
// show the day's new observations; the store's own values would have read as a
// counter reset and counted the whole history again.
func TestHistogramIncreaseAcrossCorrection(t *testing.T) {
	t.Parallel()
	promtool := promtest.NeedTool(t, "promtool")
	const h = 3600.0
	var old []float64
	for i := range 1000 {
		old = append(old, float64(i%50)*h)
	}
	store := storeModel{"checkout": old}
	var cur atomic.Pointer[Snapshot]
	reg := prometheus.NewRegistry()
	reg.MustRegister(newExporter(cur.Load, nil, nil, nil, false, Disabled{}))
	// One scrape an hour for a day: one new 2h lead time each hour; at hour 12
	// a correction removes ten old observations.
	var exposed, stored []string
	for hour := range 25 {
		if hour > 0 {
			store["checkout"] = append(store["checkout"], 2*h)
		}
		if hour == 12 {
			store["checkout"] = store["checkout"][10:]
		}
		snap := store.snapshot(fixtureAt.Add(time.Duration(hour) * time.Hour))
		cur.Store(snap)
		got := gatherHists(t, reg)
		exposed = append(exposed, strconv.FormatFloat(got[leadOf("checkout")+" le=+Inf"], 'g', -1, 64))
		stored = append(stored, strconv.FormatUint(snap.Result.History.Services["checkout"].LeadTime.Count, 10))
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "empty.yml"), []byte("groups: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	test := fmt.Sprintf(`rule_files: [empty.yml]
evaluation_interval: 1h
tests:
  - interval: 1h
    input_series:
      - series: 'flywheel_lead_time_distribution_seconds_count{service_name="checkout"}'
        values: '%s'
      - series: 'store_count{service_name="checkout"}'
        values: '%s'
    promql_expr_test:
      - expr: 'increase(flywheel_lead_time_distribution_seconds_count[1d]) < bool 30'
        eval_time: 24h
        exp_samples:
          - labels: '{service_name="checkout"}'
            value: 1
      - expr: 'increase(store_count[1d]) > bool 900'
        eval_time: 24h
        exp_samples:
          - labels: '{service_name="checkout"}'
            value: 1
`, strings.Join(exposed, " "), strings.Join(stored, " "))
	if err := os.WriteFile(filepath.Join(dir, "test.yml"), []byte(test), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(promtool, "test", "rules", "test.yml")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool test rules: %v\n%s\n%s", err, out, test)
	}
}

// TestWriteOpenMetricsHistogramCorrection: backfilled points are exposed as one
// process would have exposed them in time order, so a correction between two
// points does not lower the histogram's _count either.
func TestWriteOpenMetricsHistogramCorrection(t *testing.T) {
	t.Parallel()
	store := storeModel{"checkout": {100, 5000, 90000}}
	first := *store.snapshot(fixtureAt)
	store["checkout"] = store["checkout"][:1] // two observations corrected away
	second := *store.snapshot(fixtureAt.Add(time.Hour))
	store["checkout"] = append(store["checkout"], 200)
	third := *store.snapshot(fixtureAt.Add(2 * time.Hour))
	var b strings.Builder
	// Out of order on purpose: points are written in time order.
	if err := WriteOpenMetrics(&b, []Snapshot{third, first, second}, nil, Disabled{}); err != nil {
		t.Fatal(err)
	}
	var counts []string
	for line := range strings.Lines(b.String()) {
		if strings.HasPrefix(line, `flywheel_lead_time_distribution_seconds_count{service_name="checkout"`) {
			f := strings.Fields(line)
			counts = append(counts, f[len(f)-2])
		}
	}
	if want := []string{"3", "3", "4"}; !slices.Equal(counts, want) {
		t.Errorf("backfilled checkout _count %v, want %v\n%s", counts, want, b.String())
	}
}
