package github

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/collector"
	"github.com/flywheel-metrics/flywheel/collector/github/ghclient"
	"github.com/flywheel-metrics/flywheel/collector/github/githubtest"
)

// This file holds the test harness: a generated organisation served by githubtest,
// an in-memory sink that applies batches atomically, and a fake clock shared by
// the client and the server.

// fakeClock advances only when slept on; sleeping never blocks.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	if d > 0 {
		c.now = c.now.Add(d)
	}
	c.slept = append(c.slept, d)
	c.mu.Unlock()
	return ctx.Err()
}

func (c *fakeClock) sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.slept...)
}

// memSink is an in-memory collector.Sink: every batch is applied whole or not at
// all, as the bbolt store does.
type memSink struct {
	mu         sync.Mutex
	deps       map[string]flywheel.Deployment
	changes    map[string]flywheel.Change
	incidents  map[string]flywheel.Incident
	cursors    map[string]string
	validators map[string]flywheel.Validator
	batches    int
	// afterWrite, if set, runs after each stored batch with the batch count.
	afterWrite func(n int)
}

func newMemSink() *memSink {
	return &memSink{deps: map[string]flywheel.Deployment{}, changes: map[string]flywheel.Change{},
		incidents: map[string]flywheel.Incident{}, cursors: map[string]string{}, validators: map[string]flywheel.Validator{}}
}

var _ collector.Sink = (*memSink)(nil)
var _ ghclient.ValidatorStore = (*memSink)(nil)

func (s *memSink) WriteBatch(ctx context.Context, b flywheel.Batch) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	for _, d := range b.Deployments {
		s.deps[d.ID] = d
	}
	for _, c := range b.Changes {
		s.changes[c.ID] = c
	}
	for _, in := range b.Incidents {
		s.incidents[in.ID] = in
	}
	for _, c := range b.Cursors {
		s.cursors[c.Source+"|"+c.Key] = c.Value
	}
	for _, v := range b.Validators {
		s.validators[v.Key] = v
	}
	s.batches++
	n := s.batches
	f := s.afterWrite
	s.mu.Unlock()
	if f != nil {
		f(n)
	}
	return nil
}

func (s *memSink) Cursor(source, key string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cursors[source+"|"+key], nil
}

func (s *memSink) Validator(key string) (flywheel.Validator, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.validators[key]
	return v, ok, nil
}

func (s *memSink) Deployments(q flywheel.Query) ([]flywheel.Deployment, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []flywheel.Deployment
	for _, d := range s.deps {
		if (q.Repo == "" || d.Repo == q.Repo) && (q.Service == "" || d.Service == q.Service) {
			out = append(out, d)
		}
	}
	return out, nil
}

func (s *memSink) Changes(q flywheel.Query) ([]flywheel.Change, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []flywheel.Change
	for _, c := range s.changes {
		if q.Repo == "" || c.Repo == q.Repo {
			out = append(out, c)
		}
	}
	return out, nil
}

func (s *memSink) Incidents(q flywheel.Query) ([]flywheel.Incident, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []flywheel.Incident
	for _, in := range s.incidents {
		out = append(out, in)
	}
	return out, nil
}

// events is the sink's content as sorted JSON, for equality checks.
func (s *memSink) events() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ev flywheel.Events
	for _, d := range s.deps {
		ev.Deployments = append(ev.Deployments, d)
	}
	for _, c := range s.changes {
		ev.Changes = append(ev.Changes, c)
	}
	for _, in := range s.incidents {
		ev.Incidents = append(ev.Incidents, in)
	}
	sort.Slice(ev.Deployments, func(i, j int) bool { return ev.Deployments[i].ID < ev.Deployments[j].ID })
	sort.Slice(ev.Changes, func(i, j int) bool { return ev.Changes[i].ID < ev.Changes[j].ID })
	sort.Slice(ev.Incidents, func(i, j int) bool { return ev.Incidents[i].ID < ev.Incidents[j].ID })
	b, _ := json.MarshalIndent(ev, "", " ")
	return string(b)
}

func (s *memSink) counts() (deps, changes, incidents int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.deps), len(s.changes), len(s.incidents)
}

func (s *memSink) cursorMap() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	for k, v := range s.cursors {
		out[k] = v
	}
	return out
}

// genOpts shape a generated organisation.
type genOpts struct {
	org          string
	repos        int
	prs          int // merged PRs per repo
	commitsPerPR int
	reviewsPerPR int
	deployEvery  int // a production deployment every N merged PRs
	incidents    int // per repo
	start        time.Time
}

// incidentNumber is the number of a repo's first incident issue.
const incidentNumber = 10000

var genStart = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

// genOrg builds an organisation whose PRs are merged by squash, merge commit and
// rebase in turn, with closed-unmerged PRs, a PR into another branch, production
// and staging deployments (some failed, some rollbacks) and incident issues.
func genOrg(o genOpts) *githubtest.Org {
	if o.start.IsZero() {
		o.start = genStart
	}
	org := &githubtest.Org{Name: o.org}
	for ri := 0; ri < o.repos; ri++ {
		org.Repos = append(org.Repos, genRepo(o, ri))
	}
	return org
}

func genRepo(o genOpts, ri int) *githubtest.Repo {
	seq := 0
	sha := func() string { seq++; return fmt.Sprintf("%02x%038x", ri+1, seq) }
	r := &githubtest.Repo{Owner: o.org, Name: fmt.Sprintf("svc-%d", ri+1), DefaultBranch: "main",
		CreatedAt: o.start.Add(-24 * time.Hour), UpdatedAt: o.start}
	add := func(parents []string, author string, authored, committed time.Time) string {
		s := sha()
		r.Commits = append(r.Commits, &githubtest.Commit{SHA: s, Parents: parents, Message: "change " + s[:8],
			AuthorLogin: author, AuthoredAt: authored, CommittedAt: committed, Files: []string{fmt.Sprintf("pkg/f%d.go", seq%7)}})
		return s
	}
	head := add(nil, "founder", o.start.Add(-time.Hour), o.start.Add(-time.Hour))
	var deployed []string // shas deployed to production, in order
	number := 0
	var lastDeployFinish time.Time
	deployments := 0
	addDeployment := func(sha, env string, at time.Time, final string) {
		deployments++
		// Explicit ids keep a deployment's id when a test grows the organisation.
		d := &githubtest.Deployment{ID: int64((ri+1)*1_000_000 + deployments), SHA: sha, Ref: "main", Environment: env, CreatedAt: at, Creator: "deployer",
			Statuses: []githubtest.DeploymentStatus{{State: "in_progress", CreatedAt: at.Add(time.Minute), Creator: "deployer"},
				{State: final, CreatedAt: at.Add(10 * time.Minute), Creator: "deployer"}}}
		r.Deployments = append(r.Deployments, d)
	}
	for i := 1; i <= o.prs; i++ {
		number++
		opened := o.start.Add(time.Duration(i) * 6 * time.Hour)
		merged := opened.Add(3 * time.Hour)
		author := fmt.Sprintf("dev%d", i%4)
		var feature []string
		base := head
		for k := 0; k < o.commitsPerPR; k++ {
			at := opened.Add(-time.Duration(o.commitsPerPR-k) * 20 * time.Minute)
			base = add([]string{base}, author, at, at)
			feature = append(feature, base)
		}
		var mergeSHA string
		switch i % 3 {
		case 0: // squash
			mergeSHA = add([]string{head}, author, opened, merged)
		case 1: // merge commit
			mergeSHA = add([]string{head, base}, "web-flow", merged, merged)
		default: // rebase: the feature commits replayed on main
			p := head
			for range feature {
				p = add([]string{p}, author, opened, merged)
			}
			mergeSHA = p
		}
		head = mergeSHA
		pr := &githubtest.Pull{Number: number, Title: fmt.Sprintf("feat: change %d", i), Author: author, BaseRef: "main",
			HeadRef: fmt.Sprintf("feature-%d", i), Commits: feature, CreatedAt: opened, UpdatedAt: merged.Add(time.Minute),
			ClosedAt: ptr(merged), MergedAt: ptr(merged), MergeCommitSHA: mergeSHA}
		if i%5 == 0 {
			pr.Labels = []string{"feature"}
		}
		if i%4 == 0 {
			pr.Title = fmt.Sprintf("refactor: tidy %d", i)
		}
		// The author comments first (not a review that counts), then reviewers.
		for k := 0; k < o.reviewsPerPR; k++ {
			user := fmt.Sprintf("rev%d", k)
			if k == 0 {
				user = author
			}
			pr.Reviews = append(pr.Reviews, githubtest.Review{User: user, State: "COMMENTED",
				SubmittedAt: ptr(opened.Add(time.Duration(30+10*k) * time.Minute))})
		}
		if o.reviewsPerPR > 0 {
			pr.Reviews[len(pr.Reviews)-1].State = "APPROVED"
		}
		r.Pulls = append(r.Pulls, pr)
		if i%10 == 0 { // closed without merging: GitHub still fills merge_commit_sha
			number++
			r.Pulls = append(r.Pulls, &githubtest.Pull{Number: number, Title: "abandoned", Author: author, BaseRef: "main",
				Commits: []string{feature[len(feature)-1]}, CreatedAt: opened, UpdatedAt: merged, ClosedAt: ptr(merged),
				MergeCommitSHA: sha()})
		}
		if i%25 == 0 { // merged into another branch: not a change
			number++
			r.Pulls = append(r.Pulls, &githubtest.Pull{Number: number, Title: "backport", Author: author, BaseRef: "release-1",
				Commits: []string{feature[0]}, CreatedAt: opened, UpdatedAt: merged, ClosedAt: ptr(merged), MergedAt: ptr(merged),
				MergeCommitSHA: sha()})
		}
		if o.deployEvery > 0 && i%o.deployEvery == 0 {
			at := merged.Add(30 * time.Minute)
			final := "success"
			if deployments%7 == 6 {
				final = "failure"
			}
			addDeployment(head, "production", at, final)
			if final == "success" {
				deployed = append(deployed, head)
				lastDeployFinish = at.Add(10 * time.Minute)
			}
			if deployments%5 == 0 {
				addDeployment(head, "staging", at.Add(-20*time.Minute), "success")
			}
			if len(deployed) > 2 && deployments%11 == 0 { // a rollback to the deployment before
				addDeployment(deployed[len(deployed)-2], "production", at.Add(time.Hour), "success")
				deployed = append(deployed, deployed[len(deployed)-2])
			}
			// GitHub marks the previous successful production deployment inactive.
			for j := len(r.Deployments) - 2; j >= 0; j-- {
				d := r.Deployments[j]
				if d.Environment == "production" && d.Statuses[len(d.Statuses)-1].State == "success" {
					d.Statuses = append(d.Statuses, githubtest.DeploymentStatus{State: "inactive", CreatedAt: at.Add(10 * time.Minute), Creator: "github"})
					break
				}
			}
		}
	}
	// Incident issues are numbered and timed independently of the PRs, so that an
	// organisation generated with more PRs extends one with fewer.
	for k := 0; k < o.incidents; k++ {
		number := incidentNumber + k
		opened := o.start.Add(time.Duration(k)*48*time.Hour + 10*time.Hour + 30*time.Minute)
		is := &githubtest.Issue{Number: number, Title: fmt.Sprintf("checkout errors %d", k), User: "oncall",
			Body:   fmt.Sprintf("Errors after the deploy.\nimpact-start: %s\n", opened.Add(-20*time.Minute).Format(time.RFC3339)),
			Labels: []string{"incident", fmt.Sprintf("sev%d", 1+k%3)}, CreatedAt: opened, UpdatedAt: opened.Add(3 * time.Hour),
			Comments: []githubtest.Comment{
				{User: "oncall", Body: "looking", CreatedAt: opened.Add(5 * time.Minute), UpdatedAt: opened.Add(5 * time.Minute)},
				{User: "sre", Body: "caused-by: none", CreatedAt: opened.Add(25 * time.Minute), UpdatedAt: opened.Add(25 * time.Minute)},
			},
			Events: []githubtest.IssueEvent{{Event: "assigned", Actor: "lead", Assignee: "sre", CreatedAt: opened.Add(12 * time.Minute)}},
		}
		if d := latestProduction(r, opened); k > 0 && d != nil {
			// The others name the deployment before them, as people write it
			// (incidentforms_test.go has every form).
			looking := is.Comments[:1]
			switch k % 3 {
			case 1:
				is.Body = fmt.Sprintf("Errors after the deploy.\r\n**Impact-start:** %s UTC\r\n**Caused-by:** `%s`\r\n",
					opened.Add(-20*time.Minute).Format("2006-01-02 15:04"), d.SHA)
				is.Comments = looking
			case 2:
				is.Body = fmt.Sprintf("Errors after the deploy.\n- impact-start: %s\n", opened.Add(-20*time.Minute).In(time.FixedZone("", 2*3600)).Format(time.RFC3339))
				is.Comments = append(looking, githubtest.Comment{User: "sre", CreatedAt: opened.Add(25 * time.Minute), UpdatedAt: opened.Add(25 * time.Minute),
					Body: fmt.Sprintf("Found it.\ncaused-by: <https://api.github.com/repos/%s/deployments/%d>", r.FullName(), d.ID)})
			default:
				is.Body = fmt.Sprintf("Errors after the deploy.\nimpact-start: %s\ncaused-by: %s/deployments/%d\n",
					opened.Add(-20*time.Minute).Format("2006-01-02 15:04:05"), r.FullName(), d.ID)
				for _, pr := range r.Pulls {
					if pr.MergedAt != nil && pr.MergeCommitSHA == d.SHA {
						// a later comment corrects the body
						is.Comments = append(looking, githubtest.Comment{User: "sre", CreatedAt: opened.Add(25 * time.Minute), UpdatedAt: opened.Add(25 * time.Minute),
							Body: fmt.Sprintf("It was the PR, not the deploy:\n> caused-by: %s#%d.", r.FullName(), pr.Number)})
					}
				}
			}
		}
		if k%4 != 3 {
			is.State, is.ClosedAt = "closed", ptr(opened.Add(3*time.Hour))
		} else {
			is.State = "open"
		}
		r.Issues = append(r.Issues, is)
	}
	_ = lastDeployFinish
	r.Branches = map[string]string{"main": head}
	r.UpdatedAt = o.start.Add(time.Duration(o.prs+2) * 6 * time.Hour)
	return r
}

func ptr[T any](v T) *T { return &v }

// latestProduction is r's latest successful production deployment created
// before t, or nil.
func latestProduction(r *githubtest.Repo, t time.Time) *githubtest.Deployment {
	var out *githubtest.Deployment
	for _, d := range r.Deployments {
		if d.Environment == "production" && d.CreatedAt.Before(t) && slices.ContainsFunc(d.Statuses, func(s githubtest.DeploymentStatus) bool { return s.State == "success" }) &&
			(out == nil || d.CreatedAt.After(out.CreatedAt)) {
			out = d
		}
	}
	return out
}

// harness is a simulated server, a client and a source sharing a fake clock.
type harness struct {
	t      testing.TB
	srv    *githubtest.Server
	clock  *fakeClock
	sink   *memSink
	client *ghclient.Client
	src    *Source
}

type harnessOpts struct {
	sim    githubtest.Options
	source func(*Options)
	sink   *memSink
}

func newHarness(t testing.TB, org *githubtest.Org, ho harnessOpts) *harness {
	t.Helper()
	clock := &fakeClock{now: genStart.Add(400 * 24 * time.Hour)}
	if ho.sim.Now == nil {
		ho.sim.Now = clock.Now
	}
	srv := githubtest.NewServer(org, ho.sim)
	t.Cleanup(srv.Close)
	sink := ho.sink
	if sink == nil {
		sink = newMemSink()
	}
	c, err := ghclient.New(ghclient.Options{BaseURL: srv.RESTBaseURL(), GraphQLURL: srv.GraphQLURL(),
		Validators: sink, Clock: clock, Rand: func() float64 { return 0.5 }})
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{
		Client: c,
		Orgs:   []OrgConfig{{Name: org.Name, Team: "payments"}},
		Defaults: RepoSettings{DeploymentSource: SourceDeployments, Environment: regexp.MustCompile(`^prod(uction)?$`),
			IncidentLabels: []string{"incident"}},
		History: 2 * 365 * 24 * time.Hour,
		GraphQL: true,
		Clock:   clock,
	}
	if ho.source != nil {
		ho.source(&opts)
	}
	src, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, srv: srv, clock: clock, sink: sink, client: c, src: src}
}

func (h *harness) sync(ctx context.Context) error {
	return h.src.Sync(ctx, h.sink, collector.NopProgress{})
}

func (h *harness) mustSync() {
	h.t.Helper()
	if err := h.sync(context.Background()); err != nil {
		h.t.Fatalf("sync: %v", err)
	}
}
