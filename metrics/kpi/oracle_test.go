package kpi

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel"
)

// TestOracle compares Compute with a direct, quadratic reading of the rules
// of docs/kpis.md for shipping, lead time, failures and incidents (no indexes, no sweeps, no shared buffers) on small
// random organisations whose few shas make rollbacks, roll-forwards, shared
// commit lists, sha prefixes (ambiguous ones too) and repo-less deployments
// frequent, and whose caused-by values take every form: stored ids, GitHub ids
// and tags shared by several repos and kinds, URLs (some of repos in another
// case), PRs merged or not. It checks every service's 30d deployments, failures, rework,
// recovery, lead time, deploy stage and incident block.
func TestOracle(t *testing.T) {
	t.Parallel()
	for seed := range uint64(1000) {
		ev := oracleEvents(seed)
		urg := []string{"high"}
		if seed%2 == 0 {
			urg = nil
		}
		r := Compute(ev, at, func() Options { o := DefaultOptions(); o.AttributionUrgencies = urg; return o }())
		want := oracle(ev, at, 30*flywheel.Day, urg)
		for svc, w := range want {
			got := r.Report.Windows["30d"].Services[svc]
			if g, x := fmt.Sprint(oracleView(got)), fmt.Sprint(w); g != x {
				t.Fatalf("seed %d, service %s:\n got  %s\n want %s", seed, svc, g, x)
			}
		}
		for _, w := range []flywheel.Window{{Name: "7d", Duration: 7 * flywheel.Day}, {Name: "30d", Duration: 30 * flywheel.Day}} {
			all := r.Report.Windows[w.Name].All
			var got, lv string
			if all != nil && all.DeploymentFrequencyPerDay != nil {
				got = fmt.Sprint(*all.DeploymentFrequencyPerDay)
				lv = string(all.DORALevel.DeploymentFrequency)
			}
			wantF, wantL := oracleGroupFrequency(ev, at, w.Duration)
			if got != wantF || lv != wantL {
				t.Fatalf("seed %d, %s all services: frequency %s level %q, want %s %q", seed, w.Name, got, lv, wantF, wantL)
			}
		}
	}
}

// oracleKPIs is what the oracle checks of one service's window.
type oracleKPIs struct {
	deploys, failed, rework     int
	recovery, lead, deployStage string
	incidents, open             int
	detect, resolve             string
}

func quant(xs []float64) string {
	if len(xs) == 0 {
		return "-"
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return fmt.Sprintf("%v/%v/%d", Quantile(s, 0.5), Quantile(s, 0.9), len(s))
}

func qstr(q *Quantiles) string {
	if q == nil {
		return "-"
	}
	return fmt.Sprintf("%v/%v/%d", q.P50, q.P90, q.Count)
}

func oracleView(k *KPIs) oracleKPIs {
	var o oracleKPIs
	if k == nil {
		return oracleKPIs{recovery: "-", lead: "-", deployStage: "-", detect: "-", resolve: "-"}
	}
	if k.Deployments != nil && *k.Deployments > 0 {
		o.deploys, o.failed, o.rework = *k.Deployments, *k.FailedDeployments, *k.ReworkDeployments
	}
	o.recovery, o.lead = qstr(k.FailedDeploymentRecoverySeconds), qstr(k.LeadTimeSeconds)
	o.deployStage = "-"
	if k.LeadTimeStageSeconds != nil {
		o.deployStage = qstr(k.LeadTimeStageSeconds.Deploy)
	}
	o.detect, o.resolve = "-", "-"
	if k.Incidents != nil {
		o.incidents, o.open = k.Incidents.Count, k.Incidents.Open
		o.detect, o.resolve = qstr(k.Incidents.TimeToDetect), qstr(k.Incidents.TimeToResolve)
	}
	return o
}

func oracleEvents(seed uint64) flywheel.Events {
	rng := rand.New(rand.NewPCG(seed, 99))
	// short shas (kept as strings by the Input), full lowercase ones (packed
	// into 20 bytes) sharing their prefixes, and an upper-case one (a string
	// again, distinct from its lower-case twin)
	full := func(prefix, fill string) string { return prefix + strings.Repeat(fill, 40-len(prefix)) }
	pool := []string{"aaaaaaa111", "aaaaaaa222", "bbbbbbb333", "ccccccc444", "ddddddd555", "eeeeeee666", "fffffff777",
		full("aaaaaaa", "1"), full("bbbbbbb", "3"), full("ccccccc", "4"), full("1234567", "8"), full("1234567", "9"),
		full("ABCDEF1", "2"), full("abcdef1", "2")}
	hour := func(lo, hi int) time.Time { return H(float64(lo+rng.IntN(hi-lo)) + float64(rng.IntN(4))/4) }
	svcRepos := map[string][]string{"a": {"acme/a", "acme/a2", ""}, "b": {"acme/b", ""}}
	var ev flywheel.Events
	// deployments under the ids the GitHub collector gives them (numbers and
	// tags repeated across repos and kinds, so that a bare one is ambiguous),
	// or imported ones ("dN")
	srcIDs := map[string]bool{}
	for i := range 14 {
		svc := []string{"a", "b"}[rng.IntN(2)]
		d := flywheel.Deployment{ID: fmt.Sprintf("d%d", i), Service: svc, Repo: svcRepos[svc][rng.IntN(len(svcRepos[svc]))],
			Environment: []string{"production", "production", "prod", "staging"}[rng.IntN(4)],
			SHA:         pool[rng.IntN(len(pool))], FinishedAt: hour(-100, 300), Status: "success"}
		if d.Repo != "" && rng.IntN(4) > 0 {
			id := d.Repo + []string{"/deployments/", "/runs/", "/releases/v"}[rng.IntN(3)] + fmt.Sprint(100+rng.IntN(4))
			if !srcIDs[id] {
				srcIDs[id] = true
				d.ID = id
			}
		}
		if rng.IntN(8) == 0 {
			d.Status = "failure"
		}
		if rng.IntN(3) > 0 {
			d.Commits = []string{}
			for range rng.IntN(3) {
				d.Commits = append(d.Commits, pool[rng.IntN(len(pool))])
			}
		}
		if rng.IntN(6) == 0 {
			d.CompareStatus = "behind"
		}
		ev.Deployments = append(ev.Deployments, d)
	}
	for i := range 10 {
		svc := []string{"a", "b"}[rng.IntN(2)]
		merged := hour(-120, 260)
		c := flywheel.Change{ID: fmt.Sprintf("c%d", i), Service: svc, Repo: svcRepos[svc][rng.IntN(len(svcRepos[svc]))],
			Title: []string{"fix: x", "feat: y"}[rng.IntN(2)], MergeSHA: pool[rng.IntN(len(pool))],
			FirstCommitAt: merged.Add(-time.Duration(rng.IntN(30)-3) * time.Hour), OpenedAt: merged.Add(-time.Hour), MergedAt: merged}
		// PR ids as GitHub's, some unmerged; a PR without repo may still have one
		switch {
		case c.Repo != "":
			c.ID = fmt.Sprintf("%s#%d", c.Repo, i+1)
		case rng.IntN(2) == 0:
			c.ID = fmt.Sprintf("acme/%s#%d", svc, i+1)
		}
		if rng.IntN(6) == 0 {
			c.MergedAt, c.MergeSHA = time.Time{}, ""
		}
		ev.Changes = append(ev.Changes, c)
	}
	anyRepo := func() string { return []string{"acme/a", "acme/a2", "acme/b", "Acme/A"}[rng.IntN(4)] }
	for i := range 8 {
		svc := []string{"a", "b"}[rng.IntN(2)]
		x := flywheel.Incident{ID: fmt.Sprintf("i%d", i), Service: svc, Urgency: []string{"high", "low"}[rng.IntN(2)], TriggeredAt: hour(-80, 260)}
		if rng.IntN(2) == 0 { // an issue of one of the repos
			x.ID = fmt.Sprintf("%s/issues/%d", anyRepo(), i)
		}
		if rng.IntN(3) > 0 {
			x.ResolvedAt = x.TriggeredAt.Add(time.Duration(rng.IntN(40)-2) * time.Hour)
		}
		if rng.IntN(4) == 0 {
			x.StartedAt = x.TriggeredAt.Add(-time.Duration(rng.IntN(30)) * time.Hour)
		}
		switch rng.IntN(12) {
		case 0:
			x.CausedBy = "None"
		case 1:
			x.CausedBy = fmt.Sprintf("d%d", rng.IntN(16))
		case 2:
			x.CausedBy = pool[rng.IntN(len(pool))]
		case 3:
			x.CausedBy = pool[rng.IntN(len(pool))][:7]
		case 4: // an id as GitHub shows it
			x.CausedBy = []string{"", "v"}[rng.IntN(2)] + fmt.Sprint(100+rng.IntN(4))
		case 5:
			x.CausedBy = fmt.Sprintf("`https://github.com/%s/%s%d`", anyRepo(),
				[]string{"deployments/", "actions/runs/", "releases/tag/v"}[rng.IntN(3)], 100+rng.IntN(4))
		case 6:
			x.CausedBy = fmt.Sprintf("https://ghe.example.com/api/v3/repos/%s/commits/%s", anyRepo(), pool[rng.IntN(len(pool))][:7+rng.IntN(4)])
		case 7:
			x.CausedBy = fmt.Sprintf("%s#%d", anyRepo(), 1+rng.IntN(11))
		case 8:
			x.CausedBy = fmt.Sprintf("<https://github.com/%s/pull/%d>.", anyRepo(), 1+rng.IntN(11))
		case 9:
			x.CausedBy = "https://status.example.com/incidents/1"
		}
		ev.Incidents = append(ev.Incidents, x)
	}
	return ev
}

// oracle computes what oracleKPIs holds for every service, straight from the rules.
func oracle(ev flywheel.Events, atT time.Time, w time.Duration, urgencies []string) map[string]oracleKPIs {
	prodRe := regexp.MustCompile(`^prod(uction)?$`)
	before := func(t time.Time) bool { return !t.IsZero() && t.Before(atT) }
	var deps []flywheel.Deployment // counting, by finish then id
	for _, d := range ev.Deployments {
		if before(d.FinishedAt) && d.Status == "success" && prodRe.MatchString(d.Environment) {
			deps = append(deps, d)
		}
	}
	slices.SortFunc(deps, func(a, b flywheel.Deployment) int {
		if c := a.FinishedAt.Compare(b.FinishedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	n := len(deps)
	seqOf := func(d flywheel.Deployment) string {
		if d.Repo == "" {
			return "svc:" + d.Service + "/" + d.Environment
		}
		return d.Repo + "/" + d.Environment
	}
	// rollbacks: the sequence first deployed D(i)'s sha before D(i−1)'s
	rollback, failedBy := make([]bool, n), make([]int, n)
	for i := range failedBy {
		failedBy[i] = -1
	}
	firstOf := func(i int, sha string) int {
		for j := 0; j <= i; j++ {
			if seqOf(deps[j]) == seqOf(deps[i]) && deps[j].SHA == sha {
				return j
			}
		}
		return -1
	}
	for i := range deps {
		p := -1
		for j := i - 1; j >= 0; j-- {
			if seqOf(deps[j]) == seqOf(deps[i]) {
				p = j
				break
			}
		}
		if p < 0 || deps[p].SHA == deps[i].SHA {
			continue
		}
		if deps[i].CompareStatus == "behind" || firstOf(i, deps[i].SHA) < firstOf(p, deps[p].SHA) {
			rollback[i], failedBy[p] = true, i
		}
	}
	// shipping
	type change struct {
		c   flywheel.Change
		dep int
	}
	var chgs []change
	for _, c := range ev.Changes {
		if !before(c.MergedAt) {
			continue
		}
		dep := -1
		for j, d := range deps {
			if slices.Contains(d.Commits, c.MergeSHA) {
				dep = j
				break
			}
		}
		if dep < 0 {
			for j, d := range deps {
				// of its repo, or of its service when either has no repo
				mine := c.Repo != "" && d.Repo == c.Repo || (c.Repo == "" || d.Repo == "") && d.Service == c.Service
				if d.Commits == nil && !d.FinishedAt.Before(c.MergedAt) && mine {
					dep = j
					break
				}
			}
		}
		chgs = append(chgs, change{c, dep})
	}
	// the deployment that shipped a sha
	shaSet := map[string]bool{}
	for _, d := range deps {
		shaSet[d.SHA] = true
		for _, s := range d.Commits {
			shaSet[s] = true
		}
	}
	for _, c := range chgs {
		if c.dep >= 0 {
			shaSet[c.c.MergeSHA] = true
		}
	}
	shipped := func(s string) int {
		for j, d := range deps {
			if slices.Contains(d.Commits, s) {
				return j
			}
		}
		for j, d := range deps {
			if d.SHA == s {
				return j
			}
		}
		best := -1
		for _, c := range chgs {
			if c.dep >= 0 && c.c.MergeSHA == s && (best < 0 || c.dep < best) {
				best = c.dep
			}
		}
		return best
	}
	shaRule := func(v string) int {
		if shaSet[v] {
			return shipped(v)
		}
		if len(v) < 7 {
			return -1
		}
		var m []string
		for s := range shaSet {
			if strings.HasPrefix(s, v) {
				m = append(m, s)
			}
		}
		if len(m) == 1 {
			return shipped(m[0])
		}
		return -1
	}
	// what a caused-by names
	var stored []flywheel.Deployment
	for _, d := range ev.Deployments {
		if before(d.FinishedAt) {
			stored = append(stored, d)
		}
	}
	// the earliest counting deployment of ds, or -1
	earliest := func(ds []flywheel.Deployment) int {
		best := -1
		for _, d := range ds {
			for j, c := range deps {
				if c.ID == d.ID && (best < 0 || j < best) {
					best = j
				}
			}
		}
		return best
	}
	// "owner/repo/KIND/V" → repo, KIND, V
	source := func(id string) (repo, kind, v string) {
		p := strings.SplitN(id, "/", 4)
		if len(p) < 4 || p[0] == "" || p[1] == "" || p[3] == "" || !slices.Contains([]string{"deployments", "runs", "releases"}, p[2]) {
			return "", "", ""
		}
		return p[0] + "/" + p[1], p[2], p[3]
	}
	ownRepo := func(x flywheel.Incident, repo string) bool {
		p := strings.SplitN(x.ID, "/", 4)
		if len(p) == 4 && p[0] != "" && p[1] != "" && p[2] == "issues" && p[3] != "" {
			return strings.EqualFold(repo, p[0]+"/"+p[1])
		}
		for _, d := range stored {
			if d.Service == x.Service && strings.EqualFold(d.Repo, repo) {
				return true
			}
		}
		return false
	}
	kinds := map[flywheel.RefKind]string{flywheel.RefDeployment: "deployments", flywheel.RefRun: "runs", flywheel.RefRelease: "releases"}
	resolve := func(x flywheel.Incident, ref flywheel.CausedByRef) int {
		switch ref.Kind {
		case flywheel.RefWord:
			for _, d := range stored {
				if d.ID == ref.Value {
					return earliest([]flywheel.Deployment{d})
				}
			}
			var all, own []flywheel.Deployment
			for _, d := range stored {
				if repo, _, v := source(d.ID); repo != "" && v == ref.Value {
					all = append(all, d)
					if ownRepo(x, repo) {
						own = append(own, d)
					}
				}
			}
			switch {
			case len(own) > 0:
				return earliest(own)
			case len(all) > 0:
				return earliest(all)
			}
			return shaRule(ref.Value)
		case flywheel.RefDeployment, flywheel.RefRun, flywheel.RefRelease:
			var named []flywheel.Deployment
			for _, d := range stored {
				if repo, kind, v := source(d.ID); strings.EqualFold(repo, ref.Repo) && kind == kinds[ref.Kind] && v == ref.Value {
					named = append(named, d)
				}
			}
			return earliest(named)
		case flywheel.RefCommit:
			return shaRule(ref.Value)
		case flywheel.RefPull:
			best := -1
			for _, c := range chgs {
				if strings.EqualFold(c.c.ID, ref.Repo+"#"+ref.Value) && c.dep >= 0 && (best < 0 || c.dep < best) {
					best = c.dep
				}
			}
			return best
		}
		return -1
	}
	// attribution
	type incident struct {
		x       flywheel.Incident
		dep     int
		started time.Time
	}
	var incs []incident
	for _, x := range ev.Incidents {
		if !before(x.TriggeredAt) {
			continue
		}
		in := incident{x: x, dep: -1, started: x.StartedAt}
		ref := flywheel.ParseCausedBy(x.CausedBy)
		if ref.Kind == flywheel.RefNotCaused {
			incs = append(incs, in)
			continue
		}
		if in.dep = resolve(x, ref); in.dep >= 0 && in.started.IsZero() {
			in.started = deps[in.dep].FinishedAt
		}
		if in.dep < 0 && (urgencies == nil || slices.Contains(urgencies, x.Urgency)) {
			t := x.TriggeredAt
			if !x.StartedAt.IsZero() {
				t = x.StartedAt
			}
			for j, d := range deps {
				if d.Service == x.Service && !d.FinishedAt.Before(t.Add(-72*time.Hour)) && d.FinishedAt.Before(t) {
					in.dep = j
				}
			}
		}
		incs = append(incs, in)
	}
	resolved := func(x flywheel.Incident) (time.Time, bool) { return x.ResolvedAt, before(x.ResolvedAt) }
	from := atT.Add(-w)
	inWin := func(t time.Time) bool { return !t.Before(from) && t.Before(atT) }
	acc := map[string]*struct {
		k                                   oracleKPIs
		rec, lead, deploy, detect, resolveS []float64
	}{}
	get := func(s string) *struct {
		k                                   oracleKPIs
		rec, lead, deploy, detect, resolveS []float64
	} {
		if acc[s] == nil {
			acc[s] = &struct {
				k                                   oracleKPIs
				rec, lead, deploy, detect, resolveS []float64
			}{}
		}
		return acc[s]
	}
	for j, d := range deps {
		a := get(d.Service)
		if !inWin(d.FinishedAt) {
			continue
		}
		a.k.deploys++
		var attributed []incident
		for _, in := range incs {
			if in.dep == j {
				attributed = append(attributed, in)
			}
		}
		if len(attributed) > 0 || failedBy[j] >= 0 {
			a.k.failed++
			var end time.Time
			ok := true
			if len(attributed) > 0 {
				for _, in := range attributed {
					r, res := resolved(in.x)
					if !res {
						ok = false
					} else if r.After(end) {
						end = r
					}
				}
			} else {
				end = deps[failedBy[j]].FinishedAt
			}
			if ok && !end.Before(d.FinishedAt) {
				a.rec = append(a.rec, end.Sub(d.FinishedAt).Seconds())
			}
		}
		rework := rollback[j]
		for _, c := range chgs {
			if c.dep == j && strings.HasPrefix(c.c.Title, "fix:") {
				rework = true
			}
		}
		for _, in := range incs {
			r, res := resolved(in.x)
			if in.x.Service == d.Service && !in.x.TriggeredAt.After(d.FinishedAt) && (!res || r.After(d.FinishedAt)) {
				rework = true
			}
		}
		if rework {
			a.k.rework++
		}
	}
	for _, c := range chgs {
		a := get(c.c.Service)
		if c.dep < 0 || !inWin(deps[c.dep].FinishedAt) {
			continue
		}
		fin := deps[c.dep].FinishedAt
		if l := fin.Sub(c.c.FirstCommitAt); before(c.c.FirstCommitAt) && l >= 0 {
			a.lead = append(a.lead, l.Seconds())
		}
		a.deploy = append(a.deploy, max(fin.Sub(c.c.MergedAt).Seconds(), 0))
	}
	for _, in := range incs {
		a := get(in.x.Service)
		if !inWin(in.x.TriggeredAt) {
			continue
		}
		a.k.incidents++
		r, res := resolved(in.x)
		if !res {
			a.k.open++
		} else if r.Sub(in.x.TriggeredAt) >= 0 {
			a.resolveS = append(a.resolveS, r.Sub(in.x.TriggeredAt).Seconds())
		}
		if !in.started.IsZero() && in.x.TriggeredAt.Sub(in.started) >= 0 {
			a.detect = append(a.detect, in.x.TriggeredAt.Sub(in.started).Seconds())
		}
	}
	out := map[string]oracleKPIs{}
	for s, a := range acc {
		k := a.k
		k.recovery, k.lead, k.deployStage = quant(a.rec), quant(a.lead), quant(a.deploy)
		k.detect, k.resolve = quant(a.detect), quant(a.resolveS)
		out[s] = k
	}
	return out
}

// oracleGroupFrequency is the all-services group's deployment frequency (the
// sum of its services') and its level read the long way: for each level from
// elite down, count the services with a frequency that reach it or better,
// and take the first that at least half of them reach. "" when no service has
// a counting deployment before at.
func oracleGroupFrequency(ev flywheel.Events, atT time.Time, w time.Duration) (string, string) {
	prodRe := regexp.MustCompile(`^prod(uction)?$`)
	seen := map[string]bool{} // one record per id: the generator's ids are unique
	inWin := map[string]int{} // service → counting deployments in the window; a key: ever counted
	total := 0
	for _, d := range ev.Deployments {
		if d.FinishedAt.IsZero() || !d.FinishedAt.Before(atT) || d.Status != "success" || !prodRe.MatchString(d.Environment) || seen[d.ID] {
			continue
		}
		seen[d.ID] = true
		inWin[d.Service] += 0
		if !d.FinishedAt.Before(atT.Add(-w)) {
			inWin[d.Service]++
			total++
		}
	}
	if len(inWin) == 0 {
		return "", ""
	}
	days := float64(w) / float64(24*time.Hour)
	bounds := map[string]float64{"elite": 1.0, "high": 1.0 / 7, "medium": 1.0 / 30, "low": 0}
	for _, lv := range []string{"elite", "high", "medium", "low"} {
		reach := 0
		for _, n := range inWin {
			if float64(n)/days >= bounds[lv] {
				reach++
			}
		}
		if 2*reach >= len(inWin) {
			return fmt.Sprint(float64(total) / days), lv
		}
	}
	panic("every service reaches low")
}
