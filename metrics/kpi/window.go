package kpi

import (
	"math"
	"sort"
	"time"

	"github.com/flywheel-metrics/flywheel"
)

// incAcc accumulates the incident block of one group.
type incAcc struct {
	count, open int
	dur         [4][]float64 // detect, acknowledge, resolve, restore
}

// acc accumulates one group's KPIs over one time range.
type acc struct {
	deploys, failed, rework int
	days                    []bool
	lead                    []float64
	stage                   [4][]float64
	recovery                []float64
	classes                 [4]int // indexed by Class
	merged                  int
	inc                     *incAcc
	byUrg                   map[int32]*incAcc
}

// span is a time range [from, to) and how records map to groups.
type span struct {
	from, to int64
	group    []int // service → group, or -1 to skip
	slices   int   // number of 24-hour day slices, 0 to skip the days ratio
}

// samples is the scratch space of one accumulation's duration samples, reused
// from one span to the next: a full recompute would otherwise allocate (and,
// the input being the larger part of the heap, not collect) hundreds of MB of
// short-lived slices at a million PRs.
type samples struct {
	buf []float64
	// series[k] is the region of series k (lead, the four stages, recovery):
	// every group's samples of that kind, group after group.
	series [6][]float64
}

// accumulate gathers every group's samples and counts over sp, the duration
// samples into smp (overwriting what it held).
func (e *engine) accumulate(sp span, n int, smp *samples) []acc {
	as := make([]acc, n)
	inDeploy := func(r *chg) bool {
		t := e.deployed(r)
		return t != none && t >= sp.from && t < sp.to
	}
	// first pass: bounds of every group's samples, to carve them out of one buffer
	bound := make([][2]int, n) // deployed PRs (lead, stages), failed deployments (recovery)
	first := sort.Search(len(e.deps), func(i int) bool { return e.deps[i].fin >= sp.from })
	for k := first; k < len(e.deps) && e.deps[k].fin < sp.to; k++ {
		if g := sp.group[e.deps[k].svc]; g >= 0 && e.deps[k].failed {
			bound[g][1]++
		}
	}
	for i := range e.chgs {
		r := &e.chgs[i]
		if g := sp.group[r.svc]; g >= 0 && inDeploy(r) {
			bound[g][0]++
		}
	}
	var tot [2]int
	for _, b := range bound {
		tot[0] += b[0]
		tot[1] += b[1]
	}
	if need := 5*tot[0] + tot[1]; cap(smp.buf) < need {
		smp.buf = make([]float64, need)
	}
	off := 0
	for k := range smp.series {
		t := tot[0]
		if k == 5 {
			t = tot[1]
		}
		smp.series[k] = smp.buf[off : off+t]
		off += t
	}
	var at [6]int
	for g := range as {
		a := &as[g]
		if sp.slices > 0 {
			a.days = make([]bool, sp.slices)
		}
		carve := func(k, c int) []float64 {
			x := smp.series[k][at[k] : at[k] : at[k]+c]
			at[k] += c
			return x
		}
		a.lead = carve(0, bound[g][0])
		for j := range a.stage {
			a.stage[j] = carve(1+j, bound[g][0])
		}
		a.recovery = carve(5, bound[g][1])
	}
	// deployments, by finish
	for k := first; k < len(e.deps) && e.deps[k].fin < sp.to; k++ {
		d := &e.deps[k]
		g := sp.group[d.svc]
		if g < 0 {
			continue
		}
		a := &as[g]
		a.deploys++
		if day := int((d.fin - sp.from) / int64(flywheel.Day)); sp.slices > 0 && day < sp.slices {
			a.days[day] = true
		}
		if d.failed {
			a.failed++
			if rec, ok := d.recovery(); ok && rec >= 0 {
				a.recovery = append(a.recovery, rec)
			}
		}
		if d.rework {
			a.rework++
		}
	}
	// merged PRs: lead time by deployed_at, classes by merged_at
	for i := range e.chgs {
		r := &e.chgs[i]
		g := sp.group[r.svc]
		if g < 0 {
			continue
		}
		a := &as[g]
		if r.merged >= sp.from && r.merged < sp.to {
			a.merged++
			a.classes[r.cls]++
		}
		if inDeploy(r) {
			if l, ok := e.lead(r); ok && l >= 0 {
				a.lead = append(a.lead, seconds(l))
			}
			st, has := e.stages(r)
			for j := range 4 {
				if has[j] {
					a.stage[j] = append(a.stage[j], st[j])
				}
			}
		}
	}
	// incidents, by trigger
	k := sort.Search(len(e.incs), func(i int) bool { return e.incs[i].trig >= sp.from })
	for ; k < len(e.incs) && e.incs[k].trig < sp.to; k++ {
		x := &e.incs[k]
		g := sp.group[x.svc]
		if g < 0 {
			continue
		}
		durs, has := x.durations()
		a := &as[g]
		if a.inc == nil {
			a.inc = &incAcc{}
			a.byUrg = map[int32]*incAcc{}
		}
		u := a.byUrg[x.urg]
		if u == nil {
			u = &incAcc{}
			a.byUrg[x.urg] = u
		}
		for _, ia := range [2]*incAcc{a.inc, u} {
			ia.count++
			if x.res == none {
				ia.open++
			}
			for j := range 4 {
				if has[j] && durs[j] >= 0 {
					ia.dur[j] = append(ia.dur[j], durs[j])
				}
			}
		}
	}
	return as
}

// union returns the union of the groups of as, whose duration samples smp
// holds: it moves them together inside smp, so it must come after the
// groups' own summaries (which only sort them).
func union(as []acc, smp *samples, slices int) acc {
	var out acc
	if slices > 0 {
		out.days = make([]bool, slices)
	}
	var w [6]int
	gather := func(k int, xs []float64) {
		w[k] += copy(smp.series[k][w[k]:], xs)
	}
	for g := range as {
		a := &as[g]
		out.deploys += a.deploys
		out.failed += a.failed
		out.rework += a.rework
		for i, d := range a.days {
			out.days[i] = out.days[i] || d
		}
		gather(0, a.lead)
		for j := range a.stage {
			gather(1+j, a.stage[j])
		}
		gather(5, a.recovery)
		for c := range a.classes {
			out.classes[c] += a.classes[c]
		}
		out.merged += a.merged
		if a.inc != nil {
			if out.inc == nil {
				out.inc = &incAcc{}
				out.byUrg = map[int32]*incAcc{}
			}
			out.inc.merge(a.inc)
			for u, ia := range a.byUrg {
				if out.byUrg[u] == nil {
					out.byUrg[u] = &incAcc{}
				}
				out.byUrg[u].merge(ia)
			}
		}
	}
	out.lead = smp.series[0][:w[0]]
	for j := range out.stage {
		out.stage[j] = smp.series[1+j][:w[1+j]]
	}
	out.recovery = smp.series[5][:w[5]]
	return out
}

func (ia *incAcc) merge(o *incAcc) {
	ia.count += o.count
	ia.open += o.open
	for j := range ia.dur {
		ia.dur[j] = append(ia.dur[j], o.dur[j]...)
	}
}

// durations returns time to detect, acknowledge, resolve and restore
// and which of them the incident has.
func (x *inc) durations() (d [4]float64, has [4]bool) {
	if x.started != none {
		d[0], has[0] = seconds(x.trig-x.started), true
	}
	if x.ack != none {
		d[1], has[1] = seconds(x.ack-x.trig), true
	}
	if x.res != none {
		d[2], has[2] = seconds(x.res-x.trig), true
		if x.started != none {
			d[3], has[3] = seconds(x.res-x.started), true
		}
	}
	return d, has
}

// window computes one window's report for all services and each.
func (e *engine) window(w flywheel.Window, smp *samples) WindowReport {
	n := len(e.svcNames)
	sp := span{from: e.at - int64(w.Duration), to: e.at, group: make([]int, n),
		slices: int(math.Ceil(float64(w.Duration) / float64(flywheel.Day)))}
	for i := range sp.group {
		sp.group[i] = i
	}
	// services first, then "all" as their union, in the same buffer
	as := e.accumulate(sp, n, smp)
	wr := WindowReport{}
	var freq []Level // the deployment-frequency level of each service with a frequency
	for s := range n {
		if k := e.kpis(&as[s], e.everCounting[s], w.Duration, sp.slices); k != nil {
			if wr.Services == nil {
				wr.Services = map[string]*KPIs{}
			}
			wr.Services[e.svcNames[s]] = k
			if k.DORALevel != nil && k.DORALevel.DeploymentFrequency != "" {
				freq = append(freq, k.DORALevel.DeploymentFrequency)
			}
		}
	}
	all := union(as, smp, sp.slices)
	if k := e.kpis(&all, len(e.deps) > 0, w.Duration, sp.slices); k != nil {
		// the group's summed frequency stays its throughput, but its level is
		// its services': many slow services must not add up to a fast one
		if k.DORALevel != nil && k.DORALevel.DeploymentFrequency != "" {
			k.DORALevel.DeploymentFrequency = GroupLevel(freq)
		}
		wr.All = k
	}
	return wr
}

// GroupLevel is the deployment-frequency level of a group of services from
// its services' own levels: the best level that at least half of them reach,
// their own or a better one. Six services deploying twice a week each are a
// high group, though together they ship more than once a day. Of services
// split evenly between two levels, the group takes the better one; a group of
// one service has that service's level; without a service, "". Callers pass
// the level of every service with a frequency in the window, those that
// deployed before but not in the window (frequency 0, low) included.
func GroupLevel(levels []Level) Level {
	var n [4]int // services at elite, high, medium, low
	for _, l := range levels {
		n[rank(l)]++
	}
	reach := 0
	for i, lv := range [...]Level{Elite, High, Medium, Low} {
		reach += n[i]
		if len(levels) > 0 && 2*reach >= len(levels) {
			return lv
		}
	}
	return ""
}

// rank orders the levels from elite (0) to low (3).
func rank(l Level) int {
	switch l {
	case Elite:
		return 0
	case High:
		return 1
	case Medium:
		return 2
	}
	return 3
}

func ptr[T any](v T) *T { return &v }

// kpis turns an accumulation into the KPIs object, leaving out values without
// data (absent, not zero); nil when nothing is present.
func (e *engine) kpis(a *acc, everCounting bool, length time.Duration, slices int) *KPIs {
	if a == nil {
		a = &acc{}
	}
	k := &KPIs{}
	present := false
	if everCounting {
		days := 0
		for _, d := range a.days {
			if d {
				days++
			}
		}
		k.Deployments = ptr(a.deploys)
		k.DeploymentFrequencyPerDay = ptr(float64(a.deploys) / (float64(length) / float64(flywheel.Day)))
		if slices > 0 {
			k.DeploymentDaysRatio = ptr(float64(days) / float64(slices))
		}
		present = true
	}
	if a.deploys > 0 {
		k.FailedDeployments = ptr(a.failed)
		k.ChangeFailureRatio = ptr(float64(a.failed) / float64(a.deploys))
		k.ReworkDeployments = ptr(a.rework)
		k.ReworkRatio = ptr(float64(a.rework) / float64(a.deploys))
		present = true
	}
	if q := summarize(a.lead); q != nil {
		k.LeadTimeSeconds = q
		present = true
	}
	st := Stages{Coding: summarize(a.stage[0]), Pickup: summarize(a.stage[1]),
		Review: summarize(a.stage[2]), Deploy: summarize(a.stage[3])}
	if st != (Stages{}) {
		k.LeadTimeStageSeconds = &st
		present = true
	}
	if q := summarize(a.recovery); q != nil {
		k.FailedDeploymentRecoverySeconds = q
		present = true
	}
	if a.inc != nil && a.inc.count > 0 {
		k.Incidents = incidents(a.inc)
		k.Incidents.ByUrgency = map[string]*Incidents{}
		for u, ia := range a.byUrg {
			k.Incidents.ByUrgency[e.urgNames[u]] = incidents(ia)
		}
		present = true
	}
	if a.merged > 0 {
		k.ChangesByClass = &ChangesByClass{Innovation: a.classes[ClassInnovation], TuneUp: a.classes[ClassTuneUp],
			Fix: a.classes[ClassFix], Unclassified: a.classes[ClassUnclassified]}
		if d := a.classes[ClassFix] + a.classes[ClassTuneUp] + a.classes[ClassInnovation]; d > 0 {
			k.TuneUpShare = ptr(float64(a.classes[ClassTuneUp]) / float64(d))
		}
		present = true
	}
	k.DORALevel = e.levels(k)
	if !present {
		return nil
	}
	return k
}

func incidents(ia *incAcc) *Incidents {
	return &Incidents{Count: ia.count, Open: ia.open,
		TimeToDetect: summarize(ia.dur[0]), TimeToAcknowledge: summarize(ia.dur[1]),
		TimeToResolve: summarize(ia.dur[2]), TimeToRestore: summarize(ia.dur[3])}
}

// levels rates the four keys; nil when none has a value.
func (e *engine) levels(k *KPIs) *DORALevels {
	t := e.opts.Thresholds
	var l DORALevels
	if k.DeploymentFrequencyPerDay != nil {
		l.DeploymentFrequency = levelOf(*k.DeploymentFrequencyPerDay, t.DeploymentFrequencyPerDay, func(v, b float64) bool { return v >= b })
	}
	if k.LeadTimeSeconds != nil {
		l.LeadTime = levelOf(k.LeadTimeSeconds.P50, t.LeadTimeSeconds, func(v, b float64) bool { return v < b })
	}
	if k.ChangeFailureRatio != nil {
		l.ChangeFailureRate = levelOf(*k.ChangeFailureRatio, t.ChangeFailureRatio, func(v, b float64) bool { return v <= b })
	}
	if k.FailedDeploymentRecoverySeconds != nil {
		l.RecoveryTime = levelOf(k.FailedDeploymentRecoverySeconds.P50, t.RecoverySeconds, func(v, b float64) bool { return v < b })
	}
	if l == (DORALevels{}) {
		return nil
	}
	return &l
}

// levelOf returns the DORA level of value against bounds {elite, high, medium}.
func levelOf(v float64, bounds [3]float64, better func(v, bound float64) bool) Level {
	for i, lv := range []Level{Elite, High, Medium} {
		if better(v, bounds[i]) {
			return lv
		}
	}
	return Low
}
