package kpi

import (
	"strings"

	"github.com/flywheel-metrics/flywheel"
)

// minPrefix is the shortest sha prefix a caused-by may use (SPEC §4.1).
const minPrefix = 7

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// resolveShas resolves each caused-by of need (a deployment id matched
// nothing) as a sha by SPEC §4.1's "deployment that shipped a sha": the first
// commit list holding it, else the earliest deployment of that own sha, else the
// deployment that shipped the PR with that merge sha. A prefix of at least 7 hex
// characters stands for the one sha it starts, if unique among those shas.
// need's values are set to the deployment index, or stay -1.
func (e *engine) resolveShas(need map[string]int32) {
	lists := e.scanLists(need)
	// full shas to look up among merge shas, and the caused-by values they answer
	viaMerge := map[string][]string{}
	// prefix candidates, bucketed by their first 7 characters
	buckets := map[string][]string{}
	for s := range need {
		if j, ok := lists.exact[s]; ok {
			need[s] = j
			continue
		}
		if j, ok := e.firstOwn(s); ok {
			need[s] = j
			continue
		}
		viaMerge[s] = append(viaMerge[s], s)
		if len(s) >= minPrefix && isHex(s) {
			buckets[s[:minPrefix]] = append(buckets[s[:minPrefix]], s)
		}
	}
	// an exact match among merge shas of shipped PRs
	var buf [shaLen]byte
	exactMerge := map[string]bool{}
	for i := range e.chgs {
		r := &e.chgs[i]
		if r.dep < 0 {
			continue
		}
		m := e.in.mergeSHA(e.change(r), &buf)
		if _, ok := viaMerge[m]; ok {
			exactMerge[strings.Clone(m)] = true
		}
	}
	// prefixes: find the distinct shas each one starts, the listed ones first
	match := map[string]string{}
	ambiguous := map[string]bool{}
	if len(buckets) > 0 {
		for _, ps := range buckets {
			for _, p := range ps {
				if h := lists.prefix[p]; h != nil && !exactMerge[p] {
					match[p] = h.sha
					ambiguous[p] = h.ambiguous
				}
			}
		}
		see := func(sha string) {
			if len(sha) < minPrefix {
				return
			}
			for _, p := range buckets[sha[:minPrefix]] {
				if exactMerge[p] || !strings.HasPrefix(sha, p) {
					continue
				}
				if m, ok := match[p]; !ok {
					match[p] = strings.Clone(sha)
				} else if m != sha {
					ambiguous[p] = true
				}
			}
		}
		for _, en := range e.own.ents {
			see(e.deps[en.ref].d.SHA)
		}
		for i := range e.chgs {
			if e.chgs[i].dep >= 0 {
				see(e.in.mergeSHA(e.change(&e.chgs[i]), &buf))
			}
		}
	}
	// resolve the full shas: lists and own shas first, then merge shas
	for p, sha := range match {
		if ambiguous[p] {
			continue
		}
		// a listed sha starting with p is lists.prefix[p]'s, or p is ambiguous
		if h := lists.prefix[p]; h != nil && h.sha == sha {
			need[p] = h.dep
		} else if j, ok := e.firstOwn(sha); ok {
			need[p] = j
		} else {
			viaMerge[sha] = append(viaMerge[sha], p)
		}
	}
	for i := range e.chgs {
		r := &e.chgs[i]
		if r.dep < 0 {
			continue
		}
		for _, s := range viaMerge[e.in.mergeSHA(e.change(r), &buf)] {
			// several PRs with one merge sha: the earliest deployment wins
			if cur := need[s]; cur < 0 || r.dep < cur {
				need[s] = r.dep
			}
		}
	}
}

// listHits is what one ordered pass over the commit lists found for the
// caused-by values of need (scanLists).
type listHits struct {
	// exact maps a value to the first counting deployment listing it.
	exact map[string]int32
	// prefix maps each value that may be a sha prefix (7 or more hex
	// characters) to the first listed sha it starts, and its first deployment.
	prefix map[string]*prefixHit
}

type prefixHit struct {
	sha       string
	dep       int32
	ambiguous bool // the value starts another listed sha too
}

func (e *engine) scanLists(need map[string]int32) listHits {
	h := listHits{exact: map[string]int32{}, prefix: map[string]*prefixHit{}}
	byFirst := map[string][]string{} // possible prefixes by their first 7 characters
	for s := range need {
		if len(s) >= minPrefix && isHex(s) {
			byFirst[s[:minPrefix]] = append(byFirst[s[:minPrefix]], s)
		}
	}
	var buf [shaLen]byte
	for i := range e.deps {
		e.in.eachListed(e.deps[i].j, &buf, func(sha string) {
			if _, ok := need[sha]; ok {
				if _, seen := h.exact[sha]; !seen {
					h.exact[strings.Clone(sha)] = int32(i)
				}
			}
			if len(byFirst) == 0 || len(sha) < minPrefix {
				return
			}
			for _, p := range byFirst[sha[:minPrefix]] {
				if !strings.HasPrefix(sha, p) {
					continue
				}
				switch hit := h.prefix[p]; {
				case hit == nil:
					h.prefix[p] = &prefixHit{sha: strings.Clone(sha), dep: int32(i)}
				case hit.sha != sha:
					hit.ambiguous = true
				}
			}
		})
	}
	return h
}

// attribute pins incidents to deployments (SPEC §4.4 rules 1 and 2) and
// derives the impact start of rule-1 incidents (§4.5).
func (e *engine) attribute() {
	need := map[string]int32{}
	for i := range e.incs {
		cb := e.incs[i].i.CausedBy
		if cb == "" || strings.EqualFold(cb, flywheel.CausedByNone) {
			continue
		}
		if _, ok := e.byID(cb); ok {
			continue
		}
		need[cb] = -1
	}
	if len(need) > 0 {
		e.resolveShas(need)
	}
	var urgencies map[string]bool
	if e.opts.AttributionUrgencies != nil {
		urgencies = map[string]bool{}
		for _, u := range e.opts.AttributionUrgencies {
			urgencies[strings.ToLower(u)] = true
		}
	}
	win := int64(e.opts.AttributionWindow)
	for i := range e.incs {
		x := &e.incs[i]
		cb := x.i.CausedBy
		if strings.EqualFold(cb, flywheel.CausedByNone) {
			x.why = whyNotCaused
			e.quality[x.svc].UnattributedIncidents++
			continue
		}
		if cb != "" {
			if j, ok := e.byID(cb); ok {
				x.dep = j // -1 when it names a non-counting deployment
			} else {
				x.dep = need[cb]
			}
			if x.dep >= 0 {
				x.by = byCausedBy
				if x.started == none {
					x.started, x.from = e.deps[x.dep].fin, startCausedBy
				}
			}
		}
		// the urgency as reported (an incident without one has "unknown", §5)
		if x.dep < 0 {
			if urgencies == nil || urgencies[strings.ToLower(e.urgNames[x.urg])] {
				t := x.started
				if t == none {
					t = x.trig
				}
				if x.dep = e.latestBefore(x.svc, t, t-win); x.dep >= 0 {
					x.by = byWindow
				} else {
					x.why = whyNoDeploy
				}
			} else {
				x.why = whyUrgency
			}
			if x.dep < 0 && cb != "" {
				x.why = whyNamesNothing
			}
		}
		if x.dep < 0 {
			e.quality[x.svc].UnattributedIncidents++
			continue
		}
		d := &e.deps[x.dep]
		d.failed = true
		if d.flags&attributedTo == 0 {
			d.flags |= attributedTo
			d.end = none // recovery is now by incident resolution (§4.4), not by rollback
		}
		if x.res == none {
			d.flags |= openAttrib
		} else if x.res > d.end {
			d.end = x.res
		}
	}
}

// latestBefore returns the latest counting deployment of service s with
// from ≤ finish < t, or -1.
func (e *engine) latestBefore(s int32, t, from int64) int32 {
	list := e.depsSvc[s]
	lo, hi := 0, len(list)
	for lo < hi { // first index with fin ≥ t
		m := int(uint(lo+hi) >> 1)
		if e.deps[list[m]].fin < t {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == 0 {
		return -1
	}
	j := list[lo-1]
	if e.deps[j].fin < from {
		return -1
	}
	return j
}

// failures marks rework deployments finished while an incident of their
// service was open (SPEC §4.4), by one sweep per service over deployments by
// finish and incidents by trigger.
func (e *engine) failures() {
	incSvc := make([][]int32, len(e.svcNames))
	for i := range e.incs {
		s := e.incs[i].svc
		incSvc[s] = append(incSvc[s], int32(i))
	}
	for s, list := range e.depsSvc {
		incs := incSvc[s]
		if len(incs) == 0 {
			continue
		}
		k := 0
		var end int64 = none // latest end among incidents triggered so far
		for _, j := range list {
			d := &e.deps[j]
			for k < len(incs) && e.incs[incs[k]].trig <= d.fin {
				x := &e.incs[incs[k]]
				en := x.res
				if en == none {
					en = forever
				}
				end = max(end, en)
				k++
			}
			if end > d.fin {
				d.rework = true
				if e.tr != nil {
					e.tr.rework[j] |= reworkIncident
				}
			}
		}
	}
}
