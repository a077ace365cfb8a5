package kpi

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/flywheel-metrics/flywheel"
)

// genSize sizes a synthetic organisation.
type genSize struct {
	services, changes, deployments, incidents int
}

var (
	genTitles = []string{"feat: add thing", "fix(api): crash", "refactor!: split", "chore(deps): bump", "Revert \"feat: x\"", "update readme", "perf: faster", "docs: guide"}
	genLabels = [][]string{nil, nil, {"feature"}, {"bug"}, {"tech-debt"}, {"tuneup:ci-speedup"}, {"feature", "bug"}}
	genPaths  = [][]string{nil, {"api/x.go"}, {"docs/a.md"}, {"README.md", ".github/workflows/ci.yml"}, {"api/x.go", "docs/a.md"}}
	genUrg    = []string{"high", "high", "low", "unknown"}
)

// namingForm names deployment d the way the i-th incident's caused-by
// writes it: its stored id, the id GitHub shows (a number or a tag), a URL, a
// PR it shipped (which names the same deployment: the PR is in d's commit list
// only) or, with Markdown around it.
func namingForm(d *flywheel.Deployment, i int, shippedPR map[string]string) string {
	repo, kind, v, _ := sourceID(d.ID)
	switch i % 6 {
	case 1:
		return v
	case 2:
		switch kind {
		case flywheel.RefDeployment:
			return "https://api.github.com/repos/" + repo + "/deployments/" + v
		case flywheel.RefRun:
			return "https://ghe.example.com/" + repo + "/actions/runs/" + v
		}
		return "https://github.com/" + repo + "/releases/tag/" + v
	case 3:
		return "`" + v + "`."
	case 4:
		if pr, ok := shippedPR[d.ID]; ok {
			return pr
		}
	case 5:
		if pr, ok := shippedPR[d.ID]; ok {
			r, n, _ := pullID(pr)
			return fmt.Sprintf("<https://github.com/%s/pull/%d>", r, n)
		}
	}
	return d.ID
}

// genEvents builds a deterministic synthetic organisation of one year before
// end: services with one or two repos, PRs whose merge shas appear in the next
// deployment's commit list (the first deployment of a repo has none), ~5%
// non-counting deployments, ~3% rollbacks, incidents with explicit caused-by
// values in every form (namingForm), sha prefixes, "none", impact starts and
// open ones. Deployment ids are GitHub's (deployments, runs, releases). Shas are unique per service
// and caused-by only names the incident's own service, so services are
// independent of each other (for the property tests).
func genEvents(sz genSize, seed uint64, end time.Time) flywheel.Events {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	span := int64(365 * flywheel.Day)
	start := end.UnixNano() - span
	hex := func() string {
		const digits = "0123456789abcdef"
		b := make([]byte, 40)
		for i := range b {
			b[i] = digits[rng.IntN(16)]
		}
		return string(b)
	}
	at := func(ns int64) time.Time { return time.Unix(0, ns).UTC() }
	ev := flywheel.Events{
		Deployments: make([]flywheel.Deployment, 0, sz.deployments),
		Changes:     make([]flywheel.Change, 0, sz.changes),
		Incidents:   make([]flywheel.Incident, 0, sz.incidents),
	}
	type repo struct {
		svc, name string
		deps      []int64 // finish times, sorted
	}
	var repos []*repo
	for s := range sz.services {
		svc := fmt.Sprintf("svc-%03d", s)
		repos = append(repos, &repo{svc: svc, name: "acme/" + svc})
		if s%3 == 0 {
			repos = append(repos, &repo{svc: svc, name: "acme/" + svc + "-web"})
		}
	}
	for i := 0; i < sz.deployments; i++ {
		r := repos[rng.IntN(len(repos))]
		r.deps = append(r.deps, start+rng.Int64N(span))
	}
	// PRs: merged at a random time, shipped by the next deployment of their repo
	type pending struct{ shas, ids []string }
	lists := map[*repo][]pending{}
	for _, r := range repos {
		slices.Sort(r.deps)
		lists[r] = make([]pending, len(r.deps))
	}
	for i := 0; i < sz.changes; i++ {
		r := repos[rng.IntN(len(repos))]
		merged := start + rng.Int64N(span)
		opened := merged - 1 - rng.Int64N(int64(3*flywheel.Day))
		first := opened - rng.Int64N(int64(5*flywheel.Day)) + int64(time.Hour) // sometimes after opening
		c := flywheel.Change{ID: fmt.Sprintf("%s#%d", r.name, i), Service: r.svc, Repo: r.name,
			Title: genTitles[rng.IntN(len(genTitles))], Labels: genLabels[rng.IntN(len(genLabels))],
			Paths: genPaths[rng.IntN(len(genPaths))], FirstCommitAt: at(first), OpenedAt: at(opened),
			MergeSHA: hex()}
		if rng.IntN(10) > 0 {
			c.MergedAt = at(merged)
			if rng.IntN(5) > 0 {
				c.FirstReviewAt = at(opened + rng.Int64N(merged-opened+1))
			}
			k, _ := slices.BinarySearch(r.deps, merged)
			if k < len(r.deps) {
				lists[r][k].shas = append(lists[r][k].shas, c.MergeSHA)
				lists[r][k].ids = append(lists[r][k].ids, c.ID)
			}
		}
		ev.Changes = append(ev.Changes, c)
	}
	depsBySvc := map[string][]*flywheel.Deployment{}
	// what a caused-by may name besides a deployment's id: a PR it shipped
	shippedPR := map[string]string{}
	for ri, r := range repos {
		var shas []string
		for k, fin := range r.deps {
			// ids as the GitHub collector stores deployments, runs and releases;
			// release tags are unique per service, so that the services stay
			// independent of each other
			id := fmt.Sprintf("%s/deployments/%d", r.name, 1_000_000+len(ev.Deployments))
			switch k % 3 {
			case 1:
				id = fmt.Sprintf("%s/runs/%d", r.name, 1_000_000+len(ev.Deployments))
			case 2:
				id = fmt.Sprintf("%s/releases/v%d.%d.0", r.name, ri, k)
			}
			d := flywheel.Deployment{ID: id, Service: r.svc, Repo: r.name,
				Environment: "production", Status: flywheel.StatusSuccess, FinishedAt: at(fin), SHA: hex()}
			if ids := lists[r][k].ids; len(ids) > 0 {
				shippedPR[id] = ids[0]
			}
			switch n := rng.IntN(100); {
			case n < 3:
				d.Status = "failure"
			case n < 5:
				d.Environment = "staging"
			case n < 8 && len(shas) > 2:
				d.SHA = shas[len(shas)-3] // a rollback two back
			}
			if k > 0 {
				d.Commits = append(lists[r][k].shas, d.SHA)
			}
			shas = append(shas, d.SHA)
			ev.Deployments = append(ev.Deployments, d)
		}
	}
	for i := range ev.Deployments {
		d := &ev.Deployments[i]
		depsBySvc[d.Service] = append(depsBySvc[d.Service], d)
	}
	for i := 0; i < sz.incidents; i++ {
		svc := fmt.Sprintf("svc-%03d", rng.IntN(sz.services))
		trig := start + rng.Int64N(span)
		x := flywheel.Incident{ID: fmt.Sprintf("PD-%d", i), Service: svc, Urgency: genUrg[rng.IntN(len(genUrg))],
			TriggeredAt: at(trig)}
		if rng.IntN(50) > 0 {
			x.ResolvedAt = at(trig + rng.Int64N(int64(2*flywheel.Day)))
		}
		if rng.IntN(4) > 0 {
			x.AcknowledgedAt = at(trig + rng.Int64N(int64(time.Hour)) - int64(time.Minute))
		}
		if rng.IntN(5) == 0 {
			x.StartedAt = at(trig - rng.Int64N(int64(6*time.Hour)))
		}
		ds := depsBySvc[svc]
		switch n := rng.IntN(20); {
		case n == 0:
			x.CausedBy = flywheel.CausedByNone
		case n < 4 && len(ds) > 0:
			x.CausedBy = namingForm(ds[rng.IntN(len(ds))], i, shippedPR)
		case n < 5 && len(ds) > 0:
			d := ds[rng.IntN(len(ds))]
			x.CausedBy = d.SHA[:7]
			if i%2 == 0 {
				x.CausedBy = "https://github.com/" + d.Repo + "/commit/" + d.SHA[:7]
			}
		}
		ev.Incidents = append(ev.Incidents, x)
	}
	return ev
}
