package kpi

import (
	"slices"
	"strings"
	"time"

	"github.com/flywheel-metrics/flywheel"
)

// impacts compares every tune-up initiative's before and after windows,
// in the order of opts.TuneUps.
func (e *engine) impacts(smp *[2]samples) []Impact {
	var out []Impact
	for _, in := range e.opts.TuneUps {
		if im, ok := e.impact(in, smp); ok {
			out = append(out, im)
		}
	}
	return out
}

func (e *engine) impact(in Initiative, smp *[2]samples) (Impact, bool) {
	scope := map[int32]bool{}
	var start, end int64
	if in.Label != "" {
		first, lastMerge, lastDeploy := int64(forever), int64(none), int64(none)
		for i := range e.chgs {
			r := &e.chgs[i]
			if !slices.ContainsFunc(e.in.labelled[r.idx], func(l string) bool { return strings.EqualFold(l, in.Label) }) {
				continue
			}
			scope[r.svc] = true
			first = min(first, r.merged)
			lastMerge = max(lastMerge, r.merged)
			if t := e.deployed(r); t != none {
				lastDeploy = max(lastDeploy, t)
			}
		}
		if len(scope) == 0 {
			return Impact{}, false // an initiative with no PRs is omitted
		}
		start, end = first, lastDeploy
		if end == none {
			end = lastMerge
		}
	} else {
		if in.From.IsZero() {
			return Impact{}, false
		}
		start, end = ns(in.From), e.at
		if !in.To.IsZero() {
			end = ns(in.To)
		}
		for s := range e.svcNames {
			scope[int32(s)] = true // every service with an event as of at
		}
	}
	if len(in.Services) > 0 {
		scope = map[int32]bool{}
		for _, name := range in.Services {
			if s, ok := e.svcIdx[name]; ok {
				scope[s] = true
			}
		}
	}
	names := make([]string, 0, len(in.Services)+len(scope))
	if len(in.Services) > 0 {
		names = append(names, in.Services...)
	} else {
		for s := range scope {
			names = append(names, e.svcNames[s])
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)

	w := in.ImpactWindow
	if w <= 0 {
		w = e.opts.ImpactWindow
	}
	group := make([]int, len(e.svcNames))
	for s := range group {
		group[s] = -1
		if scope[int32(s)] {
			group[s] = 0
		}
	}
	side := func(from, to int64, smp *samples) (*acc, float64) {
		to = min(to, e.at)
		if to <= from {
			return &acc{}, 0
		}
		a := &e.accumulate(span{from: from, to: to, group: group}, 1, smp)[0]
		return a, float64(to-from) / float64(flywheel.Day)
	}
	before, bDays := side(start-int64(w), start, &smp[0])
	after, aDays := side(end, end+int64(w), &smp[1])

	kpis := map[string]ImpactKPI{}
	durationKPI := func(key string, b, a []float64) {
		if len(b) == 0 && len(a) == 0 {
			return
		}
		k := ImpactKPI{NBefore: len(b), NAfter: len(a)}
		if q := summarize(b); q != nil {
			k.Before = ptr(q.P50)
		}
		if q := summarize(a); q != nil {
			k.After = ptr(q.P50)
		}
		if p, ok := MannWhitneyU(a, b); ok {
			k.PValue = ptr(p)
		}
		kpis[key] = relative(k)
	}
	durationKPI(ImpactLeadTimeP50, before.lead, after.lead)
	durationKPI(ImpactPickupP50, before.stage[1], after.stage[1])
	durationKPI(ImpactRecoveryP50, before.recovery, after.recovery)
	ttr := func(a *acc) []float64 {
		if a.inc == nil {
			return nil
		}
		return a.inc.dur[2]
	}
	durationKPI(ImpactTimeToResolveP50, ttr(before), ttr(after))

	if before.deploys > 0 || after.deploys > 0 {
		k := ImpactKPI{NBefore: before.deploys, NAfter: after.deploys}
		if bDays > 0 {
			k.Before = ptr(float64(before.deploys) / bDays)
		}
		if aDays > 0 {
			k.After = ptr(float64(after.deploys) / aDays)
		}
		kpis[ImpactDeploymentFrequency] = relative(k)
		c := ImpactKPI{NBefore: before.deploys, NAfter: after.deploys}
		if before.deploys > 0 {
			c.Before = ptr(float64(before.failed) / float64(before.deploys))
		}
		if after.deploys > 0 {
			c.After = ptr(float64(after.failed) / float64(after.deploys))
		}
		kpis[ImpactChangeFailureRatio] = relative(c)
	}
	return Impact{Initiative: in.Name, Start: time.Unix(0, start).UTC(), End: time.Unix(0, end).UTC(),
		Scope: names, KPIs: kpis}, true
}

func relative(k ImpactKPI) ImpactKPI {
	if k.Before != nil && k.After != nil && *k.Before != 0 {
		k.RelativeChange = ptr((*k.After - *k.Before) / *k.Before)
	}
	return k
}
