package metrics

import (
	"slices"
	"sync"
	"time"

	"github.com/flywheel-metrics/flywheel/metrics/kpi"
)

// histKey names one exposed histogram: its family and service_name. The team
// label follows the service, so it is not part of the key.
type histKey struct {
	f       family
	service string
}

// histSeries is what histState remembers of one histogram.
type histSeries struct {
	raw     kpi.Histogram // as last computed from the store
	exposed kpi.Histogram // as last exposed
}

// histState keeps the exposed histograms monotonic within a process.
//
// Each snapshot computes the histograms from the whole stored history, so a
// correction (a change mapped to another deployment, an incident's resolve time
// fixed, an event re-imported) can lower a bucket, the count or the sum.
// Prometheus reads any drop in a histogram series as a counter reset, and
// increase() across it would count the whole history again. So the exposed
// value of each bucket (the +Inf bucket is the count) and of the sum only ever
// rises, by the rise of the store's value since the previous snapshot; a drop
// adds nothing. Buckets then take the running maximum over le, so they stay
// cumulative and the count stays the +Inf bucket. A correction thus reads as no
// new observation, except that an observation moved back into a lower bucket
// can read as one new observation there. A restart starts again from the store's
// values, which Prometheus handles as the new process's reset.
//
// The state is updated once per snapshot (by its evaluation time), not per
// scrape, and holds only the histograms of the last snapshot's services.
type histState struct {
	mu       sync.Mutex
	observed bool
	at       time.Time                 // evaluation time of the snapshot last observed
	series   map[histKey]*histSeries   // per exposed histogram
	current  map[histKey]kpi.Histogram // exposed values for the snapshot at `at`; never mutated
}

func newHistState() *histState {
	return &histState{series: map[histKey]*histSeries{}}
}

// observe returns the histograms to expose for s, updating the state when s is
// a snapshot not observed before. The returned map is shared and read-only.
func (hs *histState) observe(s *Snapshot) map[histKey]kpi.Histogram {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	if hs.observed && s.At.Equal(hs.at) {
		return hs.current
	}
	raw := storeHistograms(s.Result.History)
	current := make(map[histKey]kpi.Histogram, len(raw))
	for k, h := range raw {
		st := hs.series[k]
		if st == nil || !slices.Equal(st.raw.Bounds, h.Bounds) {
			// New, or its buckets changed: start from the store's values.
			st = &histSeries{raw: cloneHistogram(h), exposed: cloneHistogram(h)}
			hs.series[k] = st
		} else {
			st.exposed = advance(st.exposed, st.raw, h)
			st.raw = cloneHistogram(h)
		}
		current[k] = st.exposed
	}
	// Bounded by the services of the last snapshot: a service gone from the
	// history takes its histograms along.
	for k := range hs.series {
		if _, ok := raw[k]; !ok {
			delete(hs.series, k)
		}
	}
	hs.observed, hs.at, hs.current = true, s.At, current
	return current
}

// advance returns the next exposed histogram: each bucket (and the count, the
// +Inf bucket) and the sum rise by the store's rise from prev to next and never
// fall; the buckets then take the running maximum over le. The result is a new
// histogram: the previous one may still be read by a scrape.
func advance(exposed, prev, next kpi.Histogram) kpi.Histogram {
	out := kpi.Histogram{Bounds: exposed.Bounds, Buckets: make([]uint64, len(next.Buckets))}
	rise := func(e, p, n uint64) uint64 {
		if n > p {
			return e + (n - p)
		}
		return e
	}
	var floor uint64
	for i := range next.Buckets {
		v := max(rise(exposed.Buckets[i], prev.Buckets[i], next.Buckets[i]), floor)
		out.Buckets[i], floor = v, v
	}
	out.Count = max(rise(exposed.Count, prev.Count, next.Count), floor)
	out.Sum = exposed.Sum
	if next.Sum > prev.Sum {
		out.Sum += next.Sum - prev.Sum
	}
	return out
}

// storeHistograms returns the store's histograms of every service of h and of
// all services together (left out when the services' bounds differ, which
// would make the sum meaningless). Histograms whose buckets do not match their
// bounds are left out.
func storeHistograms(h kpi.History) map[histKey]kpi.Histogram {
	out := map[histKey]kpi.Histogram{}
	if len(h.Services) == 0 {
		return out
	}
	var allLead, allResolve kpi.Histogram
	leadOK, resolveOK := true, true
	first := true
	for _, name := range sortedKeys(h.Services) {
		sh := h.Services[name]
		if sh == nil {
			continue
		}
		leadOK = leadOK && addHistogram(&allLead, sh.LeadTime, first)
		resolveOK = resolveOK && addHistogram(&allResolve, sh.TimeToResolve, first)
		first = false
		put(out, histKey{famLeadTimeDistribution, name}, sh.LeadTime)
		put(out, histKey{famTimeToResolveDistribution, name}, sh.TimeToResolve)
	}
	if first {
		return out
	}
	if leadOK {
		put(out, histKey{famLeadTimeDistribution, allServices}, allLead)
	}
	if resolveOK {
		put(out, histKey{famTimeToResolveDistribution, allServices}, allResolve)
	}
	return out
}

func put(m map[histKey]kpi.Histogram, k histKey, h kpi.Histogram) {
	if len(h.Bounds) > 0 && len(h.Bounds) == len(h.Buckets) {
		m[k] = h
	}
}

func cloneHistogram(h kpi.Histogram) kpi.Histogram {
	return kpi.Histogram{Bounds: slices.Clone(h.Bounds), Buckets: slices.Clone(h.Buckets), Count: h.Count, Sum: h.Sum}
}

// addHistogram adds h to sum; it reports false when the bounds differ, so the
// aggregate would be meaningless.
func addHistogram(sum *kpi.Histogram, h kpi.Histogram, first bool) bool {
	if first {
		sum.Bounds = slices.Clone(h.Bounds)
		sum.Buckets = make([]uint64, len(h.Buckets))
	}
	if !slices.Equal(sum.Bounds, h.Bounds) || len(sum.Buckets) != len(h.Buckets) {
		return false
	}
	for i, n := range h.Buckets {
		sum.Buckets[i] += n
	}
	sum.Count += h.Count
	sum.Sum += h.Sum
	return true
}
