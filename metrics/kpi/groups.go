package kpi

import (
	"math"
	"slices"
	"time"

	"github.com/flywheel-metrics/flywheel"
)

// ComputeGroups computes, as of at over window w, the KPIs of each named
// group of services (a team, say) the way a window's report computes those
// of all services: the group's deployments, changes and incidents pooled for
// every value, its deployment frequency the sum of its services', and that
// frequency's DORA level GroupLevel of its services' levels. A service may
// belong to more than one group; a service without events adds nothing. A
// group with nothing in the window is left out. It does not change the Input
// and costs about as much as Compute.
func (in *Input) ComputeGroups(at time.Time, w flywheel.Window, groups map[string][]string) map[string]*KPIs {
	e := in.attributed(at)
	e.own, e.ids, e.countIdx = nil, nil, nil
	n := len(e.svcNames)
	sp := span{from: e.at - int64(w.Duration), to: e.at, group: make([]int, n),
		slices: int(math.Ceil(float64(w.Duration) / float64(flywheel.Day)))}
	var smp samples

	// every service's own deployment-frequency level, for GroupLevel
	for i := range sp.group {
		sp.group[i] = i
	}
	freq := make([]Level, n) // "": no frequency in the window
	as := e.accumulate(sp, n, &smp)
	for s := range n {
		if k := e.kpis(&as[s], e.everCounting[s], w.Duration, sp.slices); k != nil && k.DORALevel != nil {
			freq[s] = k.DORALevel.DeploymentFrequency
		}
	}

	// groups in rounds: within a round no service is in two groups, so one
	// accumulation pools every group of the round
	names := make([]string, 0, len(groups))
	for name := range groups {
		names = append(names, name)
	}
	slices.Sort(names)
	out := map[string]*KPIs{}
	for len(names) > 0 {
		for i := range sp.group {
			sp.group[i] = -1
		}
		var round, next []string
		for _, name := range names {
			if !e.fits(sp.group, groups[name]) {
				next = append(next, name)
				continue
			}
			for _, svc := range groups[name] {
				if s, ok := e.svcIdx[svc]; ok {
					sp.group[s] = len(round)
				}
			}
			round = append(round, name)
		}
		as := e.accumulate(sp, len(round), &smp)
		for g, name := range round {
			ever := false
			var levels []Level
			for s, sg := range sp.group {
				if sg == g {
					ever = ever || e.everCounting[s]
					if freq[s] != "" {
						levels = append(levels, freq[s])
					}
				}
			}
			k := e.kpis(&as[g], ever, w.Duration, sp.slices)
			if k == nil {
				continue
			}
			if k.DORALevel != nil && k.DORALevel.DeploymentFrequency != "" {
				k.DORALevel.DeploymentFrequency = GroupLevel(levels)
			}
			out[name] = k
		}
		names = next
	}
	return out
}

// fits says whether none of services is in a group of assigned yet.
func (e *engine) fits(assigned []int, services []string) bool {
	for _, svc := range services {
		if s, ok := e.svcIdx[svc]; ok && assigned[s] >= 0 {
			return false
		}
	}
	return true
}
