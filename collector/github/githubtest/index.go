package githubtest

import (
	"sort"
	"strings"
	"time"
)

// index is the derived lookup structure of an Org, rebuilt on every Update.
type index struct {
	repos map[string]*repoIndex // by lower-case "owner/name"
	byOrg []*repoIndex          // in Org.Repos order
}

type repoIndex struct {
	repo     *Repo
	commits  map[string]*Commit
	gen      map[string]int // generation number: 1 + max(parent generations)
	pulls    map[int]*Pull
	issues   map[int]*Issue
	deploys  map[int64]*Deployment
	wfByID   map[int64]*Workflow
	wfByFile map[string]*Workflow
}

// buildIndex assigns missing IDs and defaults in place and indexes the org.
func buildIndex(org *Org) *index {
	ix := &index{repos: map[string]*repoIndex{}}
	// IDs given by the test stay; missing ones count up from the largest given.
	var maxID int64 = 1000
	eachID(org, func(id *int64) { maxID = max(maxID, *id) })
	eachID(org, func(id *int64) {
		if *id == 0 {
			maxID++
			*id = maxID
		}
	})
	for _, r := range org.Repos {
		if r.Owner == "" {
			r.Owner = org.Name
		}
		if r.DefaultBranch == "" {
			r.DefaultBranch = "main"
		}
		ri := &repoIndex{repo: r, commits: map[string]*Commit{}, gen: map[string]int{},
			pulls: map[int]*Pull{}, issues: map[int]*Issue{}, deploys: map[int64]*Deployment{},
			wfByID: map[int64]*Workflow{}, wfByFile: map[string]*Workflow{}}
		for _, c := range r.Commits {
			ri.commits[c.SHA] = c
		}
		for _, p := range r.Pulls {
			ri.pulls[p.Number] = p
		}
		for _, d := range r.Deployments {
			ri.deploys[d.ID] = d
		}
		for _, w := range r.Workflows {
			ri.wfByID[w.ID] = w
			ri.wfByFile[w.Path[strings.LastIndex(w.Path, "/")+1:]] = w
		}
		for _, is := range r.Issues {
			ri.issues[is.Number] = is
		}
		ri.computeGenerations()
		ix.repos[strings.ToLower(r.FullName())] = ri
		ix.byOrg = append(ix.byOrg, ri)
	}
	return ix
}

// eachID calls f on every ID field of org, in a fixed order (which decides the
// IDs given to items without one).
func eachID(org *Org, f func(*int64)) {
	for _, r := range org.Repos {
		f(&r.ID)
		for _, p := range r.Pulls {
			f(&p.ID)
			for i := range p.Reviews {
				f(&p.Reviews[i].ID)
			}
		}
		for _, d := range r.Deployments {
			f(&d.ID)
			for i := range d.Statuses {
				f(&d.Statuses[i].ID)
			}
		}
		for _, w := range r.Workflows {
			f(&w.ID)
		}
		for _, x := range r.Runs {
			f(&x.ID)
		}
		for _, x := range r.Releases {
			f(&x.ID)
		}
		for _, is := range r.Issues {
			f(&is.ID)
			for i := range is.Comments {
				f(&is.Comments[i].ID)
			}
			for i := range is.Events {
				f(&is.Events[i].ID)
			}
		}
	}
}

func (ix *index) repo(owner, name string) *repoIndex {
	return ix.repos[strings.ToLower(owner+"/"+name)]
}

func (ri *repoIndex) computeGenerations() {
	// Iterative post-order so deep histories do not recurse deeply.
	for _, c := range ri.repo.Commits {
		if _, ok := ri.gen[c.SHA]; ok {
			continue
		}
		stack := []string{c.SHA}
		for len(stack) > 0 {
			sha := stack[len(stack)-1]
			if _, ok := ri.gen[sha]; ok {
				stack = stack[:len(stack)-1]
				continue
			}
			cm := ri.commits[sha]
			g, pending := 1, false
			if cm != nil {
				for _, p := range cm.Parents {
					pg, ok := ri.gen[p]
					if !ok && ri.commits[p] != nil {
						stack = append(stack, p)
						pending = true
						continue
					}
					if pg+1 > g {
						g = pg + 1
					}
				}
			}
			if pending {
				continue
			}
			ri.gen[sha] = g
			stack = stack[:len(stack)-1]
		}
	}
}

// resolve turns a branch name, "HEAD", a full SHA or a ≥7-character SHA prefix into a
// commit SHA, "" if unknown.
func (ri *repoIndex) resolve(ref string) string {
	ref = strings.TrimPrefix(ref, "refs/heads/")
	if ref == "HEAD" || ref == "" {
		ref = ri.repo.DefaultBranch
	}
	if sha, ok := ri.repo.Branches[ref]; ok {
		return sha
	}
	if _, ok := ri.commits[ref]; ok {
		return ref
	}
	if t, ok := strings.CutPrefix(ref, "refs/tags/"); ok {
		ref = t
	}
	for _, rel := range ri.repo.Releases {
		if rel.TagName == ref {
			return ri.resolve(rel.TargetCommitish)
		}
	}
	if len(ref) >= 7 {
		for sha := range ri.commits {
			if strings.HasPrefix(sha, ref) {
				return sha
			}
		}
	}
	return ""
}

// ancestors is the set of commits reachable from sha (itself included).
func (ri *repoIndex) ancestors(sha string) map[string]bool {
	seen := map[string]bool{}
	stack := []string{sha}
	for len(stack) > 0 {
		s := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[s] {
			continue
		}
		seen[s] = true
		if c := ri.commits[s]; c != nil {
			stack = append(stack, c.Parents...)
		}
	}
	return seen
}

// logOrder sorts SHAs newest first as `git log` does: by committer date, children
// before parents when dates tie.
func (ri *repoIndex) logOrder(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for s := range set {
		if ri.commits[s] != nil {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := ri.commits[out[i]], ri.commits[out[j]]
		if !a.CommittedAt.Equal(b.CommittedAt) {
			return a.CommittedAt.After(b.CommittedAt)
		}
		if ri.gen[a.SHA] != ri.gen[b.SHA] {
			return ri.gen[a.SHA] > ri.gen[b.SHA]
		}
		return a.SHA < b.SHA
	})
	return out
}

// compare is GitHub's compare of base...head computed on the DAG.
type comparison struct {
	status    string
	aheadBy   int
	behindBy  int
	commits   []string // oldest first
	mergeBase string
}

func (ri *repoIndex) compare(base, head string) comparison {
	ab, ah := ri.ancestors(base), ri.ancestors(head)
	ahead, behind := map[string]bool{}, map[string]bool{}
	var common []string
	for s := range ah {
		if !ab[s] {
			ahead[s] = true
		} else {
			common = append(common, s)
		}
	}
	for s := range ab {
		if !ah[s] {
			behind[s] = true
		}
	}
	c := comparison{aheadBy: len(ahead), behindBy: len(behind)}
	switch {
	case c.aheadBy == 0 && c.behindBy == 0:
		c.status = "identical"
	case c.behindBy == 0:
		c.status = "ahead"
	case c.aheadBy == 0:
		c.status = "behind"
	default:
		c.status = "diverged"
	}
	newest := ri.logOrder(ahead)
	for i := len(newest) - 1; i >= 0; i-- {
		c.commits = append(c.commits, newest[i])
	}
	// Merge base: the common ancestor of highest generation (then newest).
	var best *Commit
	for _, s := range common {
		cm := ri.commits[s]
		if cm == nil {
			continue
		}
		if best == nil || ri.gen[s] > ri.gen[best.SHA] ||
			(ri.gen[s] == ri.gen[best.SHA] && cm.CommittedAt.After(best.CommittedAt)) {
			best = cm
		}
	}
	if best != nil {
		c.mergeBase = best.SHA
	}
	return c
}

// history is the log from sha, newest first, filtered by committer date in
// [since, until] (zero bounds are open).
func (ri *repoIndex) history(sha string, since, until time.Time) []string {
	all := ri.logOrder(ri.ancestors(sha))
	if since.IsZero() && until.IsZero() {
		return all
	}
	out := all[:0:0]
	for _, s := range all {
		t := ri.commits[s].CommittedAt
		if (!since.IsZero() && t.Before(since)) || (!until.IsZero() && t.After(until)) {
			continue
		}
		out = append(out, s)
	}
	return out
}
