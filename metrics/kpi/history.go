package kpi

import (
	"sort"
)

// Bucket bounds (seconds) of the all-history histograms. They are
// fixed so that series stay comparable across restarts and versions.
var (
	// LeadTimeBounds: 1h, 4h, 12h, 1d, 2d, 4d, 7d, 14d, 30d, 60d.
	LeadTimeBounds = []float64{3600, 4 * 3600, 12 * 3600, 86400, 2 * 86400, 4 * 86400, 7 * 86400, 14 * 86400, 30 * 86400, 60 * 86400}
	// TimeToResolveBounds: 5m, 15m, 30m, 1h, 2h, 4h, 8h, 1d, 3d, 7d.
	TimeToResolveBounds = []float64{300, 900, 1800, 3600, 2 * 3600, 4 * 3600, 8 * 3600, 86400, 3 * 86400, 7 * 86400}
)

func newHistogram(bounds []float64) Histogram {
	return Histogram{Bounds: append([]float64(nil), bounds...), Buckets: make([]uint64, len(bounds))}
}

// exactSum adds nanosecond durations without rounding, so that a histogram's
// sum does not depend on the order of the observations.
type exactSum struct{ sec, nsec int64 }

func (s *exactSum) add(d int64) {
	s.sec += d / 1e9
	s.nsec += d % 1e9
	if s.nsec >= 1e9 || s.nsec <= -1e9 {
		s.sec += s.nsec / 1e9
		s.nsec %= 1e9
	}
}

func (s exactSum) seconds() float64 { return float64(s.sec) + float64(s.nsec)/1e9 }

// observe adds a duration of d nanoseconds to the cumulative histogram.
func (h *Histogram) observe(d int64, sum *exactSum) {
	v := seconds(d)
	i := sort.SearchFloat64s(h.Bounds, v) // first bound ≥ v
	for ; i < len(h.Buckets); i++ {
		h.Buckets[i]++
	}
	h.Count++
	sum.add(d)
	h.Sum = sum.seconds()
}

// history computes the all-history figures as of at, per service, and counts
// the data-quality problems (some were counted while loading).
func (e *engine) history() History {
	n := len(e.svcNames)
	hs := make([]*ServiceHistory, n)
	leadSum, ttrSum := make([]exactSum, n), make([]exactSum, n)
	for s := range hs {
		hs[s] = &ServiceHistory{IncidentsByUrgency: map[string]int{}, OpenByUrgency: map[string]int{},
			LeadTime: newHistogram(LeadTimeBounds), TimeToResolve: newHistogram(TimeToResolveBounds)}
	}
	for i := range e.deps {
		d := &e.deps[i]
		h := hs[d.svc]
		h.Deployments++
		if d.failed {
			h.FailedDeployments++
			if rec, ok := d.recovery(); ok && rec < 0 {
				e.quality[d.svc].NegativeDurations++
			}
		}
		if d.rework {
			h.ReworkDeployments++
		}
		if d.flags&shippedAny == 0 {
			e.quality[d.svc].EmptyDeployments++
		}
	}
	for i := range e.chgs {
		r := &e.chgs[i]
		h := hs[r.svc]
		switch r.cls {
		case ClassFix:
			h.ChangesByClass.Fix++
		case ClassTuneUp:
			h.ChangesByClass.TuneUp++
		case ClassInnovation:
			h.ChangesByClass.Innovation++
		default:
			h.ChangesByClass.Unclassified++
		}
		if r.dep < 0 {
			e.quality[r.svc].UndeployedChanges++
			continue
		}
		if r.flags&fallbackMapped != 0 {
			e.quality[r.svc].TimeFallbackChanges++
		}
		if l, ok := e.lead(r); ok {
			if l < 0 {
				e.quality[r.svc].NegativeDurations++
			} else {
				h.LeadTime.observe(l, &leadSum[r.svc])
			}
		}
	}
	for i := range e.incs {
		x := &e.incs[i]
		h := hs[x.svc]
		u := e.urgNames[x.urg]
		h.IncidentsByUrgency[u]++
		if x.res == none {
			h.OpenByUrgency[u]++
		}
		durs, has := x.durations()
		for j := range 4 {
			if has[j] && durs[j] < 0 {
				e.quality[x.svc].NegativeDurations++
			}
		}
		if x.res != none && x.res >= x.trig {
			h.TimeToResolve.observe(x.res-x.trig, &ttrSum[x.svc])
		}
	}
	out := History{Services: make(map[string]*ServiceHistory, n)}
	for s, h := range hs {
		h.Quality = e.quality[s]
		out.Services[e.svcNames[s]] = h
	}
	return out
}
