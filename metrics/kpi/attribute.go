package kpi

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/flywheel-metrics/flywheel"
)

// minPrefix is the shortest sha prefix a caused-by may use.
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
// nothing) as a sha by the rule for "the deployment that shipped a sha": the first
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

// attribute pins incidents to deployments — rule 1, the deployment an
// incident's caused-by names, else rule 2, the latest counting deployment of
// its service in the attribution window before its impact start — and gives a
// rule-1 incident without an impact start its deployment's finish.
func (e *engine) attribute() {
	n := 0
	for i := range e.incs {
		if e.incs[i].i.CausedBy != "" {
			n++
		}
	}
	// most incidents have no caused-by: only those that do are listed
	refs := make([]causedBy, 0, n)
	for i := range e.incs {
		if cb := e.incs[i].i.CausedBy; cb != "" {
			if r := flywheel.ParseCausedBy(cb); r.Kind != flywheel.RefEmpty {
				refs = append(refs, causedBy{int32(i), r})
			}
		}
	}
	e.resolveCausedBy(refs)
	var urgencies map[string]bool
	if e.opts.AttributionUrgencies != nil {
		urgencies = map[string]bool{}
		for _, u := range e.opts.AttributionUrgencies {
			urgencies[strings.ToLower(u)] = true
		}
	}
	win := int64(e.opts.AttributionWindow)
	next := 0 // refs[next] is the caused-by of the next incident that has one
	for i := range e.incs {
		x := &e.incs[i]
		kind := flywheel.RefEmpty
		if next < len(refs) && refs[next].inc == int32(i) {
			kind = refs[next].Kind
			next++
		}
		if kind == flywheel.RefNotCaused {
			x.why = whyNotCaused
			e.quality[x.svc].UnattributedIncidents++
			continue
		}
		// why the caused-by attributed nothing, kept for when rule 2 finds nothing either
		miss := x.why
		x.why = whyAttributed
		if x.dep >= 0 {
			x.by = byCausedBy
			if x.started == none {
				x.started, x.from = e.deps[x.dep].fin, startCausedBy
			}
		} else {
			// the urgency as reported (an incident without one has "unknown")
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
			if x.dep < 0 && kind != flywheel.RefEmpty {
				x.why = miss
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
			d.end = none // recovery is now by incident resolution, not by rollback
		}
		if x.res == none {
			d.flags |= openAttrib
		} else if x.res > d.end {
			d.end = x.res
		}
	}
}

// causedBy is the parsed caused-by of incident e.incs[inc].
type causedBy struct {
	inc int32
	flywheel.CausedByRef
}

// resolveCausedBy finds what each incident's caused-by (refs) names:
// it sets x.named to the stored deployment named and x.dep to it when it
// counts, or x.why to why it names no counting deployment. A word is, in this
// order, a stored deployment id, the id its source shows (sourceID), or a sha
// (resolveShas); a URL names a deployment, run or release of its repo, a
// commit (a sha), or a PR (the deployment that shipped it).
//
// Only the values asked are looked for: one pass over the stored deployment
// ids when a value may be a source id, the sha passes of resolveShas when one
// may be a sha, and one pass over the PRs when one names a PR. A million PRs
// are never indexed for a few incidents.
func (e *engine) resolveCausedBy(refs []causedBy) {
	src := map[string][]int32{}   // source ids asked → the stored deployments showing one
	need := map[string]int32{}    // possible shas → counting deployment, or -1
	pulls := map[uint32][]int32{} // PR numbers asked → the PRs of that number, in any repo
	for _, r := range refs {
		x := &e.incs[r.inc]
		switch r.Kind {
		case flywheel.RefWord:
			if ref, ok := e.ids.find(r.Value); ok {
				x.named = ref
			} else {
				src[r.Value] = nil
			}
		case flywheel.RefDeployment, flywheel.RefRun, flywheel.RefRelease:
			src[r.Value] = nil
		case flywheel.RefCommit:
			need[r.Value] = -1
		case flywheel.RefPull:
			if n, ok := pullNumber(r.Value); ok {
				pulls[n] = nil
			}
		}
	}
	if len(src) > 0 {
		// in Input order, which reads memory in sequence; countIdx is -2 for a
		// deployment not finished before at, or the record of a duplicate id not kept
		for j := range e.in.deps {
			if e.countIdx[j] == -2 {
				continue
			}
			if _, _, v, ok := sourceID(e.in.deps[j].ID); ok {
				if c, asked := src[v]; asked {
					src[v] = append(c, int32(j))
				}
			}
		}
	}
	for _, r := range refs {
		// a word that is no id falls to the sha rule
		if r.Kind == flywheel.RefWord && e.incs[r.inc].named < 0 && len(src[r.Value]) == 0 {
			need[r.Value] = -1
		}
	}
	if len(need) > 0 {
		e.resolveShas(need)
	}
	if len(pulls) > 0 {
		// a bit per low 16 bits of a number asked, checked before the map: most
		// PRs are not asked for
		var bits [1 << 16 / 64]uint64
		for n := range pulls {
			bits[n&0xffff/64] |= 1 << (n % 64)
		}
		for k := range e.in.chgs {
			n := e.in.chgs[k].num
			if n == 0 || bits[n&0xffff/64]&(1<<(n%64)) == 0 {
				continue
			}
			if c, asked := pulls[n]; asked {
				pulls[n] = append(c, int32(k))
			}
		}
	}
	var own ownRepos
	for _, r := range refs {
		x := &e.incs[r.inc]
		switch r.Kind {
		case flywheel.RefNotCaused, flywheel.RefURL:
		case flywheel.RefWord:
			if x.named < 0 {
				if c := src[r.Value]; len(c) > 0 {
					x.named = e.pickNamed(own.filter(e, x, c))
				} else {
					x.dep = need[r.Value]
				}
			}
		case flywheel.RefDeployment, flywheel.RefRun, flywheel.RefRelease:
			var c []int32
			for _, ref := range src[r.Value] {
				if repo, kind, _, _ := sourceID(e.in.deps[ref].ID); kind == r.Kind && strings.EqualFold(repo, r.Repo) {
					c = append(c, ref)
				}
			}
			x.named = e.pickNamed(c)
		case flywheel.RefCommit:
			x.dep = need[r.Value]
		case flywheel.RefPull:
			n, _ := pullNumber(r.Value)
			found := false
			for _, k := range pulls[n] {
				if !strings.EqualFold(e.in.pullRepo(k), r.Repo) {
					continue
				}
				c := &e.in.chgs[k]
				if e.before(c.opened) == none && e.before(c.merged) == none {
					continue // not opened yet as of at
				}
				found = true
				// several PRs of one id: the earliest deployment wins
				if j := e.shippedBy(k); j >= 0 && (x.dep < 0 || j < x.dep) {
					x.dep = j
				}
			}
			if found && x.dep < 0 {
				x.why = whyNamesUndeployed
			}
		}
		switch {
		case x.named >= 0:
			// a stored deployment named by id, which may not count
			if x.dep = e.countIdx[x.named]; x.dep < 0 {
				x.why = whyNamesUncounted
			}
		case x.dep >= 0:
			x.named = e.deps[x.dep].j
		case x.why == whyAttributed && r.Kind != flywheel.RefNotCaused:
			x.why = whyNamesNothing
		}
	}
}

// shippedBy returns the deployment that shipped the Input's PR k, or -1.
// e.chgs holds the PRs merged before at in Input order, so it is searched by
// index.
func (e *engine) shippedBy(k int32) int32 {
	i, ok := slices.BinarySearchFunc(e.chgs, k, func(r chg, k int32) int { return cmp.Compare(r.idx, k) })
	if !ok {
		return -1
	}
	return e.chgs[i].dep
}

// pickNamed chooses among stored deployments (by Input index) showing one
// source id: the earliest counting one, else, when none counts, the first by
// finish and id. It returns -1 for none.
func (e *engine) pickNamed(c []int32) int32 {
	best := int32(-1)
	for _, ref := range c {
		switch {
		case best < 0:
			best = ref
		case e.countIdx[ref] >= 0 && e.countIdx[best] >= 0:
			if e.countIdx[ref] < e.countIdx[best] {
				best = ref
			}
		case e.countIdx[ref] >= 0:
			best = ref
		case e.countIdx[best] < 0 && e.in.depOrder(ref, best) < 0:
			best = ref
		}
	}
	return best
}

// ownRepos finds the repos an incident belongs to, for a source id that
// several repos show (release tags are only unique within a repo): an
// incident opened as a GitHub issue belongs to the issue's repo, any other to
// the repos of its service's deployments.
type ownRepos struct {
	// svcRepos holds "service index, lower-case repo" of every deployment
	// finished before at; built on first need.
	svcRepos map[svcRepo]bool
}

type svcRepo struct {
	svc  int32
	repo string
}

// filter returns the deployments of c (Input indexes) in x's own repos when
// there are any, else c.
func (o *ownRepos) filter(e *engine, x *inc, c []int32) []int32 {
	first, _, _, _ := sourceID(e.in.deps[c[0]].ID)
	same := true
	for _, ref := range c[1:] {
		repo, _, _, _ := sourceID(e.in.deps[ref].ID)
		same = same && strings.EqualFold(repo, first)
	}
	if same {
		return c // one repo: nothing to prefer
	}
	issueRepo, isIssue := issueRepo(x.i.ID)
	if !isIssue && o.svcRepos == nil {
		o.svcRepos = map[svcRepo]bool{}
		for _, en := range e.ids.ents {
			d := &e.in.deps[en.ref]
			o.svcRepos[svcRepo{e.svcIdx[d.Service], strings.ToLower(d.Repo)}] = true
		}
	}
	var mine []int32
	for _, ref := range c {
		repo, _, _, _ := sourceID(e.in.deps[ref].ID)
		if isIssue && strings.EqualFold(repo, issueRepo) || !isIssue && o.svcRepos[svcRepo{x.svc, strings.ToLower(repo)}] {
			mine = append(mine, ref)
		}
	}
	if len(mine) == 0 {
		return c
	}
	return mine
}

// sourceID splits a stored id of a GitHub deployment, workflow run or release
// — "owner/repo/deployments/N", "owner/repo/runs/N", "owner/repo/releases/TAG"
// — into its repo, its kind and the id GitHub shows for it (N or TAG).
func sourceID(id string) (repo string, kind flywheel.RefKind, v string, ok bool) {
	repo, rest, ok := splitRepo(id)
	if !ok {
		return "", 0, "", false
	}
	k, v, _ := strings.Cut(rest, "/")
	switch k {
	case "deployments":
		kind = flywheel.RefDeployment
	case "runs":
		kind = flywheel.RefRun
	case "releases":
		kind = flywheel.RefRelease
	}
	if kind == 0 || v == "" {
		return "", 0, "", false
	}
	return repo, kind, v, true
}

// issueRepo returns the repo of an incident opened as a GitHub issue, whose id
// is "owner/repo/issues/N".
func issueRepo(id string) (string, bool) {
	repo, rest, ok := splitRepo(id)
	if n, issue := strings.CutPrefix(rest, "issues/"); !ok || !issue || n == "" {
		return "", false
	}
	return repo, true
}

// splitRepo splits "owner/repo/rest" after its repo.
func splitRepo(id string) (repo, rest string, ok bool) {
	a := strings.IndexByte(id, '/')
	if a <= 0 {
		return "", "", false
	}
	b := strings.IndexByte(id[a+1:], '/')
	if b <= 0 {
		return "", "", false
	}
	b += a + 1
	return id[:b], id[b+1:], true
}

// pullNumber reads a PR number as ParseCausedBy leaves it.
func pullNumber(v string) (uint32, bool) {
	n, err := strconv.ParseUint(v, 10, 32)
	return uint32(n), err == nil && n > 0
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
// service was open, by one sweep per service over deployments by
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
