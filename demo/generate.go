package demo

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/flywheel-metrics/flywheel/collector/github/githubtest"
	"github.com/flywheel-metrics/flywheel/collector/pagerduty/pagerdutytest"
)

// Org is a generated organisation: what the simulated GitHub and PagerDuty APIs
// serve, and what the demo's configuration must name.
type Org struct {
	Seed int64
	Now  time.Time
	// Services are the Flywheel services, in a stable order; each has one repo and
	// one PagerDuty service.
	Services []Service
	// TuneUp is the labelled initiative whose effect the numbers show.
	TuneUp TuneUp
	// GitHub is the data the simulated GitHub API serves.
	GitHub *githubtest.Org
	// PagerDuty is the data the simulated PagerDuty API serves.
	PagerDuty *pagerdutytest.Account
	// Truth is what the generator meant by each incident (which deployment
	// caused it, when users were first hurt), ordered by incident id: what
	// Flywheel should derive from the texts it collects.
	Truth []IncidentTruth
}

// Service is one generated service.
type Service struct {
	Name, Team  string
	Repo        string // "acme/checkout"
	PagerDutyID string
}

// TuneUp is the generated tune-up initiative.
type TuneUp struct {
	Name, Label string
	// Services are the services of its pull requests.
	Services []string
	// Effective is when the faster CI took effect (the last initiative PR's merge).
	Effective time.Time
}

// The generated organisation's shape. Profiles are rough medians; each service
// varies around them.
const (
	orgName     = "acme"
	historyDays = 360 // inside the default history of 365d, so a first sync sees it all
	botLogin    = "dependabot[bot]"
	deployBot   = "deploy-bot"
	tuneUpName  = "ci-speedup"
	tuneUpLabel = "tuneup:ci-speedup"
)

type profile struct {
	name, team string
	prsPerDay  float64 // per weekday
	deploys    float64 // deployment attempts per weekday
	codingH    float64 // median first commit → PR opened, hours
	pickupH    float64 // median opened → first review
	reviewH    float64 // median first review → merge
	incidents  float64 // PagerDuty incidents per 30 days
	tuned      bool    // in the ci-speedup initiative's scope
	issues     int     // GitHub incident issues
}

var profiles = []profile{
	{"checkout", "payments", 2.2, 0.7, 10, 7, 12, 2.2, true, 2},
	{"payments", "payments", 1.6, 0.5, 14, 9, 16, 1.6, true, 0},
	{"search", "discovery", 2.0, 2.2, 6, 3, 5, 1.2, false, 2},
	{"recommendations", "discovery", 1.2, 1.0, 16, 6, 8, 0.8, false, 0},
	{"gateway", "platform", 1.4, 1.4, 8, 4, 6, 1.4, false, 0},
	{"identity", "platform", 0.8, 0.35, 20, 12, 18, 0.6, false, 2},
}

// After the initiative, the tuned services deploy this much more often and spend
// this much less time coding, waiting for pickup and in review (faster CI: green
// builds sooner, smaller changes).
const (
	tunedDeployFactor = 3.5
	tunedCodingFactor = 0.75
	tunedPickupFactor = 0.5
	tunedReviewFactor = 0.4
)

var teams = map[string][]string{
	"payments":  {"ana-lima", "ben-okafor", "chen-wei", "dara-kim", "eli-novak"},
	"discovery": {"farah-haddad", "gus-moreau", "hana-sato", "ivan-petrov"},
	"platform":  {"jo-mensah", "kai-larsen", "lena-fischer", "mo-rahman"},
}

// gen carries one Generate call's state; nothing of it outlives the call.
type gen struct {
	seed   int64
	now    time.Time
	start  time.Time
	shaN   int
	notes  notes             // incident texts written once every deployment has its id (incidentnotes.go)
	pdUser map[string]string // login → PagerDuty user id
	pdN    int
}

// Generate builds the organisation for seed as of now: about a year of weekday
// work in six services of three teams. The same seed and now always give the
// same organisation.
func Generate(seed int64, now time.Time) *Org {
	now = now.UTC().Truncate(time.Second)
	g := &gen{seed: seed, now: now, start: now.AddDate(0, 0, -historyDays).Truncate(24 * time.Hour),
		pdUser: map[string]string{}}
	o := &Org{Seed: seed, Now: now, GitHub: &githubtest.Org{Name: orgName}, PagerDuty: &pagerdutytest.Account{}}

	// PagerDuty users: every engineer is on some rotation.
	var logins []string
	for _, t := range []string{"payments", "discovery", "platform"} {
		logins = append(logins, teams[t]...)
	}
	for i, l := range logins {
		id := fmt.Sprintf("PU%05d", 10000+i*37)
		g.pdUser[l] = id
		o.PagerDuty.Users = append(o.PagerDuty.Users, pagerdutytest.User{ID: id, Name: displayName(l)})
	}

	// The initiative runs for three weeks, about five months ago.
	initStart := weekdayOnOrAfter(now.AddDate(0, 0, -160).Truncate(24 * time.Hour))
	initEnd := initStart.AddDate(0, 0, 21)
	o.TuneUp = TuneUp{Name: tuneUpName, Label: tuneUpLabel}

	for i, p := range profiles {
		rng := rand.New(rand.NewPCG(uint64(seed), uint64(i)+1))
		svc := Service{Name: p.name, Team: p.team, Repo: orgName + "/" + p.name, PagerDutyID: pdServiceID(seed, i)}
		repo, deploys, effective := g.repo(rng, p, initStart, initEnd)
		o.GitHub.Repos = append(o.GitHub.Repos, repo)
		o.PagerDuty.Services = append(o.PagerDuty.Services, pagerdutytest.Service{
			ID: svc.PagerDutyID, Name: strings.ToUpper(p.name[:1]) + p.name[1:] + " (production)", CreatedAt: g.start.AddDate(-1, 0, 0)})
		g.incidents(rng, o.PagerDuty, svc, p, repo, deploys)
		o.Services = append(o.Services, svc)
		if p.tuned {
			o.TuneUp.Services = append(o.TuneUp.Services, p.name)
			if effective.After(o.TuneUp.Effective) {
				o.TuneUp.Effective = effective
			}
		}
	}
	slices.SortStableFunc(o.PagerDuty.Incidents, func(a, b *pagerdutytest.Incident) int { return a.CreatedAt.Compare(b.CreatedAt) })
	for i, in := range o.PagerDuty.Incidents {
		in.Number = i + 1
	}
	o.Truth = g.notes.write(o)
	return o
}

func displayName(login string) string {
	parts := strings.Split(login, "-")
	for i, p := range parts {
		parts[i] = strings.ToUpper(p[:1]) + p[1:]
	}
	return strings.Join(parts, " ")
}

// pdServiceID looks like a PagerDuty id: P and six upper-case letters or digits.
func pdServiceID(seed int64, i int) string {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	rng := rand.New(rand.NewPCG(uint64(seed), 1000+uint64(i)))
	b := []byte{'P'}
	for range 6 {
		b = append(b, alphabet[rng.IntN(len(alphabet))])
	}
	return string(b)
}

func weekday(t time.Time) bool { return t.Weekday() != time.Saturday && t.Weekday() != time.Sunday }

func weekdayOnOrAfter(t time.Time) time.Time {
	for !weekday(t) {
		t = t.AddDate(0, 0, 1)
	}
	return t
}

// logNormal draws a duration with the given median (hours) and spread.
func logNormal(rng *rand.Rand, medianH, sigma float64) time.Duration {
	h := math.Exp(math.Log(medianH) + sigma*rng.NormFloat64())
	return time.Duration(h * float64(time.Hour)).Round(time.Second)
}

func poisson(rng *rand.Rand, mean float64) int {
	l, k, p := math.Exp(-mean), 0, 1.0
	for {
		p *= rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// sha is a deterministic 40-hex commit id.
func (g *gen) sha(repo string) string {
	g.shaN++
	sum := sha1.Sum(fmt.Appendf(nil, "%d/%s/%d", g.seed, repo, g.shaN))
	return hex.EncodeToString(sum[:])
}

// workTime is a moment in a working day (09:00–18:00 UTC).
func workTime(rng *rand.Rand, day time.Time) time.Time {
	return day.Add(9*time.Hour + time.Duration(rng.Float64()*9*float64(time.Hour))).Truncate(time.Second)
}

// prPlan is a pull request before the commit graph exists.
type prPlan struct {
	pull        *githubtest.Pull
	firstCommit time.Time
	nCommits    int
	files       []string
}

// Deployment as the incident generator sees it.
type deployed struct {
	sha      string
	finished time.Time
	rollback bool
	repo     *githubtest.Repo
	dep      *githubtest.Deployment // its id is assigned when the whole organisation exists
}

// repo generates one service's repository: pull requests with commits and
// reviews, the main branch as squash merges, and production deployments.
func (g *gen) repo(rng *rand.Rand, p profile, initStart, initEnd time.Time) (*githubtest.Repo, []deployed, time.Time) {
	full := orgName + "/" + p.name
	repo := &githubtest.Repo{Owner: orgName, Name: p.name, DefaultBranch: "main",
		CreatedAt: g.start.AddDate(-2, 0, 0), UpdatedAt: g.now.Add(-time.Hour)}
	members := teams[p.team]

	// The tuned services improve once the last initiative PR merges.
	var effective time.Time
	var plans []*prPlan
	newPlan := func(opened time.Time, title string, labels []string, author string, files []string, tuned bool) {
		codingH, pickup, review := p.codingH, p.pickupH, p.reviewH
		if tuned {
			codingH *= tunedCodingFactor
			pickup *= tunedPickupFactor
			review *= tunedReviewFactor
		}
		coding := logNormal(rng, codingH, 0.9)
		pl := &prPlan{firstCommit: opened.Add(-coding), nCommits: 1 + poisson(rng, 1.6), files: files}
		pr := &githubtest.Pull{Title: title, Author: author, BaseRef: "main",
			HeadRef: branchName(title, len(plans)), Labels: labels, CreatedAt: opened, Files: files}
		pr.Body = "Part of the " + p.name + " roadmap."
		firstReview := opened.Add(logNormal(rng, pickup, 0.8))
		merged := firstReview.Add(logNormal(rng, review, 0.9))
		reviewers := others(members, author)
		if rng.Float64() < 0.06 { // merged without review
			merged = opened.Add(logNormal(rng, 2, 0.7))
		} else if firstReview.Before(g.now) {
			r1 := reviewers[rng.IntN(len(reviewers))]
			state := "APPROVED"
			if rng.Float64() < 0.35 {
				state = []string{"COMMENTED", "CHANGES_REQUESTED"}[rng.IntN(2)]
			}
			pr.Reviews = append(pr.Reviews, githubtest.Review{User: r1, State: state, SubmittedAt: ptr(firstReview)})
			if state != "APPROVED" {
				at := firstReview.Add(time.Duration(rng.Float64() * float64(merged.Sub(firstReview))))
				if at.Before(g.now) {
					pr.Reviews = append(pr.Reviews, githubtest.Review{User: r1, State: "APPROVED", SubmittedAt: ptr(at)})
				}
			}
		}
		pr.UpdatedAt = opened
		switch {
		case rng.Float64() < 0.04: // abandoned
			if c := merged.Add(24 * time.Hour); c.Before(g.now) {
				pr.ClosedAt, pr.UpdatedAt = ptr(c), c
			}
		case merged.Before(g.now):
			pr.MergedAt, pr.ClosedAt, pr.UpdatedAt = ptr(merged), ptr(merged), merged
		}
		pl.pull = pr
		plans = append(plans, pl)
	}

	initiative := initiativeTitles(p.name)
	for day := g.start; day.Before(g.now); day = day.AddDate(0, 0, 1) {
		if !weekday(day) {
			continue
		}
		// After the initiative (its last PR merged), the tuned services move faster.
		tuned := p.tuned && !day.Before(initEnd) && !day.Before(effective)
		for range poisson(rng, p.prsPerDay) {
			opened := workTime(rng, day)
			if !opened.Before(g.now) {
				continue
			}
			title, labels, author, files := prContent(rng, p.name, members)
			newPlan(opened, title, labels, author, files, tuned)
		}
		// The initiative's own PRs: one every few days during its three weeks.
		if p.tuned && !day.Before(initStart) && day.Before(initEnd) && len(initiative) > 0 && rng.Float64() < 0.45 {
			title := initiative[0]
			initiative = initiative[1:]
			newPlan(workTime(rng, day), title, []string{tuneUpLabel, "ci"}, members[rng.IntN(len(members))],
				[]string{".github/workflows/ci.yml", "Makefile"}, false)
			if m := plans[len(plans)-1].pull.MergedAt; m != nil && m.After(effective) {
				effective = *m
			}
		}
		if p.tuned && effective.IsZero() && !day.Before(initEnd) {
			// No initiative PR merged: the effect starts at the initiative's end.
			effective = initEnd
		}
	}

	// A few incident issues (GitHub incidents), numbered with the PRs.
	var issues []*githubtest.Issue
	if p.issues > 0 {
		for i := range p.issues {
			day := weekdayOnOrAfter(g.start.AddDate(0, 0, 30+(i+1)*(historyDays-40)/(p.issues+1)+rng.IntN(10)))
			issues = append(issues, &githubtest.Issue{CreatedAt: workTime(rng, day)})
		}
	}

	// More incident issues, drawn from a stream of their own so that they and
	// their wording never move the rest of the organisation.
	nrng := notesRand(g.seed, p.name)
	more := moreIssues(nrng, p, g.start, g.now)

	// Numbers in opening order, shared by pulls and issues, as GitHub assigns them.
	slices.SortStableFunc(plans, func(a, b *prPlan) int { return a.pull.CreatedAt.Compare(b.pull.CreatedAt) })
	{
		type numbered struct {
			at  time.Time
			num *int
		}
		var all []numbered
		for _, pl := range plans {
			all = append(all, numbered{pl.pull.CreatedAt, &pl.pull.Number})
		}
		for _, is := range slices.Concat(issues, more) {
			all = append(all, numbered{is.CreatedAt, &is.Number})
		}
		slices.SortStableFunc(all, func(a, b numbered) int { return a.at.Compare(b.at) })
		for i, n := range all {
			*n.num = i + 1
		}
	}

	// The main branch: an initial commit, then one squash commit per merge.
	type mainCommit struct {
		at  time.Time
		sha string
	}
	root := &githubtest.Commit{SHA: g.sha(full), Message: "Initial commit", AuthorLogin: members[0],
		AuthoredAt: repo.CreatedAt, CommittedAt: repo.CreatedAt, Files: []string{"README.md"}}
	repo.Commits = append(repo.Commits, root)
	main := []mainCommit{{repo.CreatedAt, root.SHA}}
	headAt := func(t time.Time) string {
		i, _ := slices.BinarySearchFunc(main, t, func(c mainCommit, t time.Time) int {
			if c.at.After(t) {
				return 1
			}
			return -1
		})
		return main[max(i-1, 0)].sha
	}
	merged := slices.Clone(plans)
	merged = slices.DeleteFunc(merged, func(pl *prPlan) bool { return pl.pull.MergedAt == nil })
	slices.SortStableFunc(merged, func(a, b *prPlan) int { return a.pull.MergedAt.Compare(*b.pull.MergedAt) })
	for _, pl := range plans {
		pr := pl.pull
		// Branch commits: from the main head when work started, spread over coding.
		parent := headAt(pl.firstCommit)
		span := pr.CreatedAt.Sub(pl.firstCommit)
		for c := range pl.nCommits {
			at := pl.firstCommit
			if c > 0 {
				at = pl.firstCommit.Add(time.Duration(float64(span) * float64(c) / float64(pl.nCommits)))
			}
			cm := &githubtest.Commit{SHA: g.sha(full), Parents: []string{parent}, Message: commitMessage(pr.Title, c),
				AuthorLogin: pr.Author, AuthoredAt: at, CommittedAt: at, Files: pl.files}
			repo.Commits = append(repo.Commits, cm)
			pr.Commits = append(pr.Commits, cm.SHA)
			parent = cm.SHA
		}
		pr.HeadSHA = parent
		pr.MergeCommitSHA = g.sha(full) // a test merge commit until merged
	}
	for _, pl := range merged {
		pr := pl.pull
		at := *pr.MergedAt
		sq := &githubtest.Commit{SHA: pr.MergeCommitSHA, Parents: []string{main[len(main)-1].sha},
			Message: fmt.Sprintf("%s (#%d)", pr.Title, pr.Number), AuthorLogin: pr.Author, CommitterLogin: "web-flow",
			AuthoredAt: at, CommittedAt: at, Files: pl.files}
		repo.Commits = append(repo.Commits, sq)
		if !at.After(main[len(main)-1].at) {
			at = main[len(main)-1].at.Add(time.Second)
		}
		main = append(main, mainCommit{at, sq.SHA})
	}
	for _, pl := range plans {
		repo.Pulls = append(repo.Pulls, pl.pull)
	}
	repo.Branches = map[string]string{"main": main[len(main)-1].sha}

	// Production deployments of the main head, on weekdays. Two services each
	// roll back once; a few deployments fail outright.
	var deploys []deployed
	var lastSHA string
	rollbackAt := map[string]float64{"checkout": 0.42, "gateway": 0.71, "search": 0.23}[p.name]
	rolledBack := false
	addDeploy := func(sha string, at time.Time, ok bool, desc string) {
		fin := at.Add(time.Duration(6+rng.IntN(18)) * time.Minute)
		d := &githubtest.Deployment{SHA: sha, Ref: "main", Environment: "production", Task: "deploy",
			Description: desc, CreatedAt: at, Creator: deployBot, ProductionEnvironment: true,
			Statuses: []githubtest.DeploymentStatus{{State: "in_progress", CreatedAt: at.Add(30 * time.Second), Creator: deployBot}}}
		if !fin.Before(g.now) {
			repo.Deployments = append(repo.Deployments, d)
			return
		}
		state := "success"
		if !ok {
			state = "failure"
		}
		d.Statuses = append(d.Statuses, githubtest.DeploymentStatus{State: state, CreatedAt: fin, Creator: deployBot})
		repo.Deployments = append(repo.Deployments, d)
		if ok {
			deploys = append(deploys, deployed{sha: sha, finished: fin, rollback: desc == "rollback", repo: repo, dep: d})
		}
	}
	for day := g.start; day.Before(g.now); day = day.AddDate(0, 0, 1) {
		if !weekday(day) {
			continue
		}
		rate := p.deploys
		if p.tuned && !effective.IsZero() && !day.Before(effective) {
			rate *= tunedDeployFactor
		}
		n := poisson(rng, rate)
		times := make([]time.Time, 0, n)
		for range n {
			times = append(times, day.Add(10*time.Hour+time.Duration(rng.Float64()*7*float64(time.Hour))).Truncate(time.Second))
		}
		slices.SortFunc(times, time.Time.Compare)
		for _, at := range times {
			if !at.Before(g.now) {
				break
			}
			sha := headAt(at)
			if sha == lastSHA {
				continue
			}
			if rng.Float64() < 0.03 {
				addDeploy(sha, at, false, "deploy "+sha[:7])
				continue
			}
			addDeploy(sha, at, true, "deploy "+sha[:7])
			prev := lastSHA
			lastSHA = sha
			if rollbackAt > 0 && !rolledBack && prev != "" && at.After(g.start.Add(time.Duration(rollbackAt*historyDays)*24*time.Hour)) {
				// The deployment broke something: roll back to the previous sha
				// within the hour, and deploy nothing else that day.
				rolledBack = true
				addDeploy(prev, at.Add(time.Duration(35+rng.IntN(20))*time.Minute), true, "rollback")
				lastSHA = prev
				break
			}
		}
	}
	slices.SortStableFunc(deploys, func(a, b deployed) int { return a.finished.Compare(b.finished) })
	g.incidentIssues(rng, repo, issues, members, deploys)
	g.incidentIssues(nrng, repo, more, members, deploys)
	return repo, deploys, effective
}

// incidentIssues fills in the incident issues: opened by someone on the team,
// assigned (acknowledged) soon after, closed when resolved; most that follow a
// deployment closely were caused by it. What their body and comments say is
// written last (notes.write), once every deployment has its id.
func (g *gen) incidentIssues(rng *rand.Rand, repo *githubtest.Repo, issues []*githubtest.Issue, members []string, deploys []deployed) {
	for _, is := range issues {
		opener := members[rng.IntN(len(members))]
		assignee := others(members, opener)[0]
		sev := []string{"sev1", "sev2", "sev3"}[rng.IntN(3)]
		is.Title = pick(rng, []string{"Customers see stale data in " + repo.Name, repo.Name + " returns 502 for some requests", "Spike of timeouts in " + repo.Name})
		is.User, is.Labels = opener, []string{"incident", sev}
		plan := &issuePlan{repo: repo, issue: is, responder: assignee, end: g.now}
		i, _ := slices.BinarySearchFunc(deploys, is.CreatedAt, func(d deployed, t time.Time) int { return d.finished.Compare(t) })
		if i > 0 && is.CreatedAt.Sub(deploys[i-1].finished) < 3*24*time.Hour && rng.Float64() < 0.7 {
			plan.cause = &deploys[i-1]
			if i > 1 {
				plan.before = &deploys[i-2]
			}
			plan.impact = deploys[i-1].finished.Add(5 * time.Minute).Truncate(time.Minute)
		} else {
			plan.impact = is.CreatedAt.Add(-logNormal(rng, 1, 0.8)).Truncate(time.Minute)
		}
		ack := is.CreatedAt.Add(logNormal(rng, 0.3, 0.7))
		closed := ack.Add(logNormal(rng, 4, 0.8))
		is.UpdatedAt = is.CreatedAt
		if ack.Before(g.now) {
			is.Assignees = []string{assignee}
			is.Events = append(is.Events, githubtest.IssueEvent{Event: "assigned", Actor: assignee, Assignee: assignee, CreatedAt: ack})
			is.Comments = append(is.Comments, githubtest.Comment{User: assignee, Body: "Looking into it.", CreatedAt: ack.Add(time.Minute), UpdatedAt: ack.Add(time.Minute)})
			is.UpdatedAt = ack.Add(time.Minute)
			plan.start = ack.Add(time.Minute)
		}
		is.State = "open"
		if closed.Before(g.now) {
			is.State, is.StateReason, is.ClosedAt, is.UpdatedAt = "closed", "completed", ptr(closed), closed
			is.Events = append(is.Events, githubtest.IssueEvent{Event: "closed", Actor: assignee, CreatedAt: closed})
			plan.end = closed
		}
		repo.Issues = append(repo.Issues, is)
		g.notes.issues = append(g.notes.issues, plan)
	}
}

func ptr[T any](v T) *T { return &v }

func others(members []string, not string) []string {
	var out []string
	for _, m := range members {
		if m != not {
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		return members
	}
	return out
}

func branchName(title string, n int) string {
	s := strings.ToLower(title)
	if i := strings.Index(s, ": "); i >= 0 {
		s = s[i+2:]
	}
	s = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, s)
	if len(s) > 32 {
		s = s[:32]
	}
	return fmt.Sprintf("%s-%d", strings.Trim(s, "-"), n)
}

func commitMessage(title string, i int) string {
	if i == 0 {
		return title
	}
	return []string{"address review comments", "add tests", "fix lint", "handle the empty case", "rename for clarity"}[i%5]
}

func initiativeTitles(svc string) []string {
	return []string{
		"ci: cache Go modules and build outputs between " + svc + " pipeline runs",
		"ci: run " + svc + " integration tests in parallel shards",
		"build: slim the " + svc + " builder image",
		"ci: deploy " + svc + " on every green merge to main",
		"test: remove sleeps from " + svc + " end-to-end tests",
		"ci: skip unchanged packages in " + svc + " test runs",
	}
}

// prContent picks a title, labels, author and changed files: mostly features,
// some fixes, a steady share of tune-ups, and a few titles nobody classified.
func prContent(rng *rand.Rand, svc string, members []string) (title string, labels []string, author string, files []string) {
	author = members[rng.IntN(len(members))]
	area := []string{"api", "handlers", "store", "client", "worker", "ui"}[rng.IntN(6)]
	files = []string{fmt.Sprintf("internal/%s/%s.go", area, svc), fmt.Sprintf("internal/%s/%s_test.go", area, svc)}
	pick := func(xs []string) string { return xs[rng.IntN(len(xs))] }
	switch x := rng.Float64(); {
	case x < 0.60:
		title = fmt.Sprintf("feat(%s): %s", area, pick([]string{
			"add " + svc + " export to CSV", "support idempotency keys", "show delivery estimates", "add audit trail",
			"paginate the " + svc + " listing", "add per-tenant limits", "localise error messages", "add webhooks for " + svc + " events",
		}))
		if rng.Float64() < 0.4 {
			labels = []string{"feature"}
		}
	case x < 0.70:
		title = fmt.Sprintf("fix(%s): %s", area, pick([]string{
			"handle timeouts from upstream", "stop double-counting retries", "close leaked connections",
			"return 404 for unknown ids", "fix rounding of totals", "avoid nil pointer on empty cart",
		}))
		if rng.Float64() < 0.5 {
			labels = []string{"bug"}
		}
	case x < 0.80:
		author = botLogin
		title = "chore(deps): bump " + pick([]string{"golang.org/x/net", "google.golang.org/grpc", "github.com/prometheus/client_golang", "go.opentelemetry.io/otel"}) + " to the latest patch"
		labels = []string{"dependencies"}
		files = []string{"go.mod", "go.sum"}
	case x < 0.93:
		title = pick([]string{"refactor", "perf", "test", "chore"}) + "(" + area + "): " + pick([]string{
			"split the " + svc + " handler", "remove dead code", "speed up hot path", "table-driven tests", "tidy logging",
		})
	case x < 0.96:
		title = "docs: explain " + svc + " configuration"
		files = []string{"docs/" + svc + ".md"}
	default:
		title = pick([]string{"Improve " + svc + " flow", "WIP cleanup", "Update " + area, "Tweak settings"})
	}
	return title, labels, author, files
}

// incidents generates the service's PagerDuty incidents: about half follow a
// deployment (some say so with a caused-by note), the rest do not; high-urgency
// ones are acknowledged within minutes, low-urgency ones within the hour. Two
// services have an incident open at now.
func (g *gen) incidents(rng *rand.Rand, acct *pagerdutytest.Account, svc Service, p profile, repo *githubtest.Repo, deploys []deployed) {
	oncall := teams[p.team]
	// pulls: the pull request whose squash commit a deployment shipped, by sha.
	pulls := map[string]int{}
	for _, pr := range repo.Pulls {
		if pr.MergedAt != nil {
			pulls[pr.MergeCommitSHA] = pr.Number
		}
	}
	for day := g.start; day.Before(g.now); day = day.AddDate(0, 0, 1) {
		rate := p.incidents / 30
		if !weekday(day) {
			rate /= 2
		}
		for range poisson(rng, rate) {
			g.incident(rng, acct, svc, oncall, deploys, pulls, day.Add(time.Duration(rng.Float64()*24*float64(time.Hour))).Truncate(time.Second))
		}
	}
	// On-call is busy right now: a couple of services have an incident open.
	if open, ok := map[string]struct {
		ago     time.Duration
		urgency string
		title   string
	}{
		"search":  {3*time.Hour + 10*time.Minute, "low", "Search index lagging behind the catalogue"},
		"gateway": {42 * time.Minute, "high", "Elevated 5xx at the edge for gateway"},
	}[p.name]; ok {
		at := g.now.Add(-open.ago)
		in := g.newIncident(rng, svc, open.urgency, at, open.title)
		in.Acknowledge(at.Add(4*time.Minute), g.pdUser[oncall[0]])
		in.AddNote(at.Add(15*time.Minute), g.pdUser[oncall[0]], "Investigating; no recent deploy involved.\ncaused-by: none")
		acct.Incidents = append(acct.Incidents, in)
	}
	// Every rollback followed a broken deployment that paged someone.
	for i, d := range deploys {
		if d.rollback && i > 0 {
			g.pageFor(rng, acct, svc, oncall, deploys[i-1], pulls, "high", true)
		}
	}
}

func (g *gen) incident(rng *rand.Rand, acct *pagerdutytest.Account, svc Service, oncall []string, deploys []deployed, pulls map[string]int, at time.Time) {
	urgency := "low"
	if rng.Float64() < 0.45 {
		urgency = "high"
	}
	if rng.Float64() < 0.5 {
		// Find the deployment it follows.
		i, _ := slices.BinarySearchFunc(deploys, at, func(d deployed, t time.Time) int { return d.finished.Compare(t) })
		if i > 0 {
			g.pageFor(rng, acct, svc, oncall, deploys[i-1], pulls, urgency, rng.Float64() < 0.6)
			return
		}
	}
	in := g.newIncident(rng, svc, urgency, at, pick(rng, []string{
		"Elevated 5xx from " + svc.Name, "Latency SLO burn on " + svc.Name, svc.Name + " queue backlog growing",
		"Database CPU high for " + svc.Name, "Certificate expiry warning for " + svc.Name,
	}))
	if rng.Float64() < 0.5 {
		in.Description += "\n\ncaused-by: none"
	}
	g.respond(rng, in, oncall, urgency, at)
	acct.Incidents = append(acct.Incidents, in)
}

// pageFor creates an incident caused by deployment d. Where the impact start
// and the cause are written varies as in real accounts (chosen by the
// incident's number): in the description and a later note; in the text a responder typed when opening it
// in the web UI (Markdown); in an Events API event's custom details, as keys
// or nested under the deploy tool's own. The cause is named by a sha prefix,
// a commit URL or the pull request the deployment shipped (owner/repo#N).
func (g *gen) pageFor(rng *rand.Rand, acct *pagerdutytest.Account, svc Service, oncall []string, d deployed, pulls map[string]int, urgency string, sayCause bool) {
	impact := d.finished.Add(time.Duration(1+rng.IntN(20)) * time.Minute)
	at := impact.Add(logNormal(rng, 0.3, 0.8))
	if !at.Before(g.now) {
		return
	}
	in := g.newIncident(rng, svc, urgency, at, pick(rng, []string{
		"Error rate up after deploy of " + svc.Name, svc.Name + " health checks failing", "Checkout conversions dropped (" + svc.Name + ")",
	}))
	pull := d.sha[:12]
	if n, ok := pulls[d.sha]; ok {
		pull = fmt.Sprintf("%s#%d", svc.Repo, n)
	}
	const minute = "2006-01-02 15:04"
	note := false
	switch g.pdN % 5 {
	case 1: // opened by hand in the web UI
		in.Trigger, in.TriggeredBy = pagerdutytest.TriggerWeb, g.pdUser[oncall[0]]
		in.Details = "Error rate doubled right after the deploy.\n\n- impact-start: " + impact.Format(minute) + " UTC"
		if sayCause {
			in.Details += "\n- **Caused-by:** `" + d.sha[:7] + "`"
		}
	case 2: // a synthetic check's event, the cause as keys
		in.CustomDetails = map[string]any{"check": "synthetic " + svc.Name, "error_rate": 0.07, "impact-start": impact.Format(time.RFC3339)}
		if sayCause {
			in.CustomDetails["caused-by"] = "https://github.com/" + svc.Repo + "/commit/" + d.sha
		}
	case 3: // the deploy tool's event, the cause nested under its own key
		deploy := map[string]any{"environment": "production", "impact_start": impact.Format(minute)}
		if sayCause {
			deploy["caused_by"] = pull
		}
		in.CustomDetails = map[string]any{"check": "canary " + svc.Name, "deploy": deploy}
	case 4: // opened by hand, naming the pull request
		in.Trigger, in.TriggeredBy = pagerdutytest.TriggerWeb, g.pdUser[oncall[0]]
		in.Details = "Impact-Start: " + impact.Format(time.RFC3339)
		if sayCause {
			in.Details += "\ncaused-by: " + pull
		}
	default:
		in.Description += "\n\nimpact-start: " + impact.Format(time.RFC3339)
		note = sayCause
	}
	g.respond(rng, in, oncall, urgency, at)
	if note {
		if t := at.Add(20 * time.Minute); t.Before(g.now) {
			in.AddNote(t, g.pdUser[oncall[rng.IntN(len(oncall))]], "Rolled back.\ncaused-by: "+d.sha[:12])
		}
	}
	acct.Incidents = append(acct.Incidents, in)
	g.notes.paged(in, d, impact)
}

func pick(rng *rand.Rand, xs []string) string { return xs[rng.IntN(len(xs))] }

func (g *gen) newIncident(rng *rand.Rand, svc Service, urgency string, at time.Time, title string) *pagerdutytest.Incident {
	g.pdN++
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
	b := []byte{'Q'}
	for range 6 {
		b = append(b, alphabet[rng.IntN(len(alphabet))])
	}
	return &pagerdutytest.Incident{
		ID: fmt.Sprintf("%s%04d", b, g.pdN), Title: title, Description: title + ".",
		ServiceID: svc.PagerDutyID, Urgency: urgency, CreatedAt: at,
	}
}

// respond acknowledges and resolves an incident on the on-call rhythm; anything
// that would happen after now has not happened yet.
func (g *gen) respond(rng *rand.Rand, in *pagerdutytest.Incident, oncall []string, urgency string, at time.Time) {
	ackH, resH := 0.5, 7.0
	if urgency == "high" {
		ackH, resH = 0.07, 1.3
	}
	who := g.pdUser[oncall[rng.IntN(len(oncall))]]
	ack := at.Add(logNormal(rng, ackH, 0.9))
	if ack.Before(g.now) && rng.Float64() < 0.97 {
		in.Acknowledge(ack, who)
	} else {
		ack = at
	}
	if res := ack.Add(logNormal(rng, resH, 1.0)); res.Before(g.now) {
		in.Resolve(res, who)
	}
}
