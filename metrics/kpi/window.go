package kpi

import (
	"math"
	"sort"
	"time"

	"github.com/flywheel-metrics/flywheel"
)

// incAcc accumulates the incident block of one group (SPEC §4.5).
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
	all      int   // the all-services group, or -1
	slices   int   // number of 24-hour day slices, 0 to skip the days ratio
}

func (sp span) groups(s int32, f func(g int)) {
	if g := sp.group[s]; g >= 0 {
		f(g)
	}
	if sp.all >= 0 {
		f(sp.all)
	}
}

// accumulate gathers every group's samples and counts over sp.
func (e *engine) accumulate(sp span, n int) []*acc {
	as := make([]*acc, n)
	get := func(g int) *acc {
		if as[g] == nil {
			as[g] = &acc{}
			if sp.slices > 0 {
				as[g].days = make([]bool, sp.slices)
			}
		}
		return as[g]
	}
	// deployments, by finish (§4.3, §4.4)
	k := sort.Search(len(e.deps), func(i int) bool { return e.deps[i].fin >= sp.from })
	for ; k < len(e.deps) && e.deps[k].fin < sp.to; k++ {
		d := &e.deps[k]
		rec, hasRec := d.recovery()
		day := int((d.fin - sp.from) / int64(flywheel.Day))
		sp.groups(d.svc, func(g int) {
			a := get(g)
			a.deploys++
			if sp.slices > 0 && day < sp.slices {
				a.days[day] = true
			}
			if d.failed {
				a.failed++
				if hasRec && rec >= 0 {
					a.recovery = append(a.recovery, rec)
				}
			}
			if d.rework {
				a.rework++
			}
		})
	}
	// merged PRs: lead time by deployed_at (§4.2), classes by merged_at (§4.6)
	for i := range e.chgs {
		r := &e.chgs[i]
		inDeploy := r.deployed != none && r.deployed >= sp.from && r.deployed < sp.to
		inMerge := r.merged >= sp.from && r.merged < sp.to
		if !inDeploy && !inMerge {
			continue
		}
		sp.groups(r.svc, func(g int) {
			a := get(g)
			if inMerge {
				a.merged++
				a.classes[r.cls]++
			}
			if inDeploy {
				if r.flags&hasLead != 0 && r.lead >= 0 {
					a.lead = append(a.lead, seconds(r.lead))
				}
				st, has := e.stages(r)
				for j := range 4 {
					if has[j] {
						a.stage[j] = append(a.stage[j], st[j])
					}
				}
			}
		})
	}
	// incidents, by trigger (§4.5)
	k = sort.Search(len(e.incs), func(i int) bool { return e.incs[i].trig >= sp.from })
	for ; k < len(e.incs) && e.incs[k].trig < sp.to; k++ {
		x := &e.incs[k]
		durs, has := x.durations()
		sp.groups(x.svc, func(g int) {
			a := get(g)
			if a.inc == nil {
				a.inc = &incAcc{}
				a.byUrg = map[int32]*incAcc{}
			}
			u := a.byUrg[x.urg]
			if u == nil {
				u = &incAcc{}
				a.byUrg[x.urg] = u
			}
			for _, ia := range []*incAcc{a.inc, u} {
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
		})
	}
	return as
}

// mergeAccs returns the union of the groups of as (nil ones skipped).
func mergeAccs(as []*acc, slices int) *acc {
	var out *acc
	var nLead, nRec int
	var nStage [4]int
	for _, a := range as {
		if a == nil {
			continue
		}
		nLead += len(a.lead)
		nRec += len(a.recovery)
		for j := range nStage {
			nStage[j] += len(a.stage[j])
		}
	}
	for _, a := range as {
		if a == nil {
			continue
		}
		if out == nil {
			out = &acc{lead: make([]float64, 0, nLead), recovery: make([]float64, 0, nRec)}
			for j := range nStage {
				out.stage[j] = make([]float64, 0, nStage[j])
			}
			if slices > 0 {
				out.days = make([]bool, slices)
			}
		}
		out.deploys += a.deploys
		out.failed += a.failed
		out.rework += a.rework
		for i, d := range a.days {
			out.days[i] = out.days[i] || d
		}
		out.lead = append(out.lead, a.lead...)
		out.recovery = append(out.recovery, a.recovery...)
		for j := range nStage {
			out.stage[j] = append(out.stage[j], a.stage[j]...)
		}
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
	return out
}

func (ia *incAcc) merge(o *incAcc) {
	ia.count += o.count
	ia.open += o.open
	for j := range ia.dur {
		ia.dur[j] = append(ia.dur[j], o.dur[j]...)
	}
}

// durations returns time to detect, acknowledge, resolve and restore (§4.5)
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

// window computes one window's report (SPEC §7) for all services and each.
func (e *engine) window(w flywheel.Window) WindowReport {
	n := len(e.svcNames)
	sp := span{from: e.at - int64(w.Duration), to: e.at, group: make([]int, n), all: -1,
		slices: int(math.Ceil(float64(w.Duration) / float64(flywheel.Day)))}
	for i := range sp.group {
		sp.group[i] = i
	}
	// services first, then "all" as their union: one append per sample, and the
	// union allocated at its exact size
	as := e.accumulate(sp, n)
	as = append(as, mergeAccs(as, sp.slices))
	anyCounting := len(e.deps) > 0
	wr := WindowReport{}
	if k := e.kpis(as[n], anyCounting, w.Duration, sp.slices); k != nil {
		wr.All = k
	}
	for s := range n {
		if k := e.kpis(as[s], e.everCounting[s], w.Duration, sp.slices); k != nil {
			if wr.Services == nil {
				wr.Services = map[string]*KPIs{}
			}
			wr.Services[e.svcNames[s]] = k
		}
	}
	return wr
}

func ptr[T any](v T) *T { return &v }

// kpis turns an accumulation into the KPIs object, leaving out values without
// data (SPEC §4 "absent, not zero"); nil when nothing is present.
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

// levels rates the four keys (SPEC §4.8); nil when none has a value.
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
