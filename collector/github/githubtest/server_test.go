package githubtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"
)

var t0 = time.Date(2026, 2, 2, 9, 0, 0, 0, time.UTC)

func at(h int) time.Time   { return t0.Add(time.Duration(h) * time.Hour) }
func atp(h int) *time.Time { t := at(h); return &t }
func sha(name string) string {
	return fmt.Sprintf("%-40s", name)[:0] + strings.Repeat("0", 40-len(name)) + name
}

// testOrg: acme/checkout with the DAG
//
//	c1 ← c2 ← c3 ← m1 (main)
//	       ↖ f1 ← f2 ↗      (feature, merged by m1)
//	           ↖ h1         (hotfix)
func testOrg() *Org {
	c := func(name string, h int, parents ...string) *Commit {
		ps := make([]string, len(parents))
		for i, p := range parents {
			ps[i] = sha(p)
		}
		return &Commit{SHA: sha(name), Parents: ps, Message: "commit " + name, AuthorLogin: "dev1",
			AuthoredAt: at(h), CommittedAt: at(h), Files: []string{"src/" + name + ".go"}}
	}
	checkout := &Repo{
		Owner: "acme", Name: "checkout", CreatedAt: at(-1000), UpdatedAt: at(50),
		Commits: []*Commit{c("c1", 1), c("c2", 2, "c1"), c("f1", 3, "c2"), c("c3", 4, "c2"),
			c("f2", 5, "f1"), c("m1", 6, "c3", "f2"), c("h1", 7, "f1")},
		Branches:  map[string]string{"main": sha("m1"), "feature": sha("f2"), "hotfix": sha("h1")},
		Workflows: []*Workflow{{ID: 77, Name: "deploy", Path: ".github/workflows/deploy.yml"}},
		Deployments: []*Deployment{
			{SHA: sha("c3"), Ref: "main", Environment: "production", CreatedAt: at(4), Creator: "bot",
				Statuses: []DeploymentStatus{{State: "in_progress", CreatedAt: at(4)}, {State: "success", CreatedAt: at(5)}}},
			{SHA: sha("m1"), Ref: "main", Environment: "staging", CreatedAt: at(6), Creator: "bot",
				Statuses: []DeploymentStatus{{State: "failure", CreatedAt: at(7)}}},
			{SHA: sha("m1"), Ref: "main", Environment: "production", CreatedAt: at(8), Creator: "bot",
				Statuses: []DeploymentStatus{{State: "success", CreatedAt: at(9)}}},
		},
		Runs: []*WorkflowRun{
			{WorkflowID: 77, HeadBranch: "main", HeadSHA: sha("c3"), Event: "push", Status: "completed", Conclusion: "success", CreatedAt: at(4), UpdatedAt: at(5), RunNumber: 1, Actor: "dev1"},
			{WorkflowID: 77, HeadBranch: "main", HeadSHA: sha("m1"), Event: "push", Status: "completed", Conclusion: "failure", CreatedAt: at(6), UpdatedAt: at(7), RunNumber: 2, Actor: "dev1"},
			{WorkflowID: 77, HeadBranch: "feature", HeadSHA: sha("f2"), Event: "push", Status: "completed", Conclusion: "success", CreatedAt: at(30), UpdatedAt: at(31), RunNumber: 3, Actor: "dev2"},
		},
		Releases: []*Release{
			{TagName: "v1.0.0", TargetCommitish: sha("c3"), CreatedAt: at(4), PublishedAt: atp(10), Author: "dev1"},
			{TagName: "v1.1.0-rc1", TargetCommitish: "main", Prerelease: true, CreatedAt: at(6), PublishedAt: atp(11), Author: "dev1"},
			{TagName: "v2.0.0", TargetCommitish: "main", Draft: true, CreatedAt: at(6)},
		},
	}
	for i := 1; i <= 7; i++ {
		p := &Pull{Number: i, Title: fmt.Sprintf("PR %d", i), Author: "dev1", BaseRef: "main", HeadRef: fmt.Sprintf("b%d", i),
			CreatedAt: at(i), UpdatedAt: at(20 + i), Commits: []string{sha(fmt.Sprintf("p%da", i)), sha(fmt.Sprintf("p%db", i))},
			Files: []string{"src/a.go"}, MergeCommitSHA: sha(fmt.Sprintf("mc%d", i))}
		if i <= 5 {
			p.MergedAt, p.ClosedAt = atp(i+10), atp(i+10)
			p.Labels = []string{"feature"}
			p.Reviews = []Review{{User: "dev2", State: "COMMENTED", SubmittedAt: atp(i + 1)}, {User: "dev3", State: "APPROVED", SubmittedAt: atp(i + 2)}}
		} else if i == 6 {
			p.ClosedAt = atp(12) // closed unmerged: merge_commit_sha still served
		}
		checkout.Pulls = append(checkout.Pulls, p)
	}
	checkout.Pulls[1].MergeCommitSHA = sha("m1")
	checkout.Pulls[1].Labels = []string{"feature", "incident"} // a PR with an incident label
	checkout.Issues = []*Issue{
		{Number: 100, Title: "Checkout down", Body: "impact-start: 2026-02-02T08:55:00Z", User: "oncall", Labels: []string{"incident", "sev1"},
			CreatedAt: at(9), UpdatedAt: at(12), ClosedAt: atp(12), Assignees: []string{"dev2"},
			Comments: []Comment{{User: "dev2", Body: "looking", CreatedAt: at(10)}, {User: "oncall", Body: "caused-by: " + sha("m1")[:7], CreatedAt: at(11)}},
			Events:   []IssueEvent{{Event: "assigned", Actor: "oncall", Assignee: "dev2", CreatedAt: at(9)}, {Event: "closed", Actor: "dev2", CreatedAt: at(12)}}},
		{Number: 101, Title: "Not an incident", User: "dev1", Labels: []string{"bug"}, CreatedAt: at(13), UpdatedAt: at(13)},
	}
	return &Org{Name: "acme", Repos: []*Repo{checkout,
		{Owner: "acme", Name: "legacy", Archived: true, CreatedAt: at(-2000), Commits: []*Commit{c("l1", 0)}, Branches: map[string]string{"main": sha("l1")}},
		{Owner: "acme", Name: "fork", Fork: true, DefaultBranch: "master", CreatedAt: at(-500), Commits: []*Commit{c("k1", 0)}, Branches: map[string]string{"master": sha("k1")}},
	}}
}

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
	return ctx.Err()
}

func newTestServer(t *testing.T, opts Options) (*Server, *github.Client) {
	t.Helper()
	s := NewServer(testOrg(), opts)
	t.Cleanup(s.Close)
	gh := github.NewClient(s.Client())
	var err error
	if gh, err = gh.WithEnterpriseURLs(s.URL, s.URL); err != nil { // paths arrive under /api/v3/
		t.Fatal(err)
	}
	return s, gh
}

func TestRESTRoutesDecodeWithGoGitHub(t *testing.T) {
	s, gh := newTestServer(t, Options{})
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	repos, _, err := gh.Repositories.ListByOrg(ctx, "acme", &github.RepositoryListByOrgOptions{Sort: "full_name"})
	must(err)
	var names []string
	for _, r := range repos {
		names = append(names, fmt.Sprintf("%s archived=%v fork=%v default=%s", r.GetFullName(), r.GetArchived(), r.GetFork(), r.GetDefaultBranch()))
	}
	if got := strings.Join(names, "; "); got != "acme/checkout archived=false fork=false default=main; acme/fork archived=false fork=true default=master; acme/legacy archived=true fork=false default=main" {
		t.Errorf("repos: %s", got)
	}
	repo, _, err := gh.Repositories.Get(ctx, "acme", "checkout")
	must(err)
	if repo.GetID() == 0 || repo.GetOwner().GetLogin() != "acme" || repo.GetCreatedAt().Time != at(-1000) {
		t.Errorf("repo = %+v", repo)
	}

	deps, _, err := gh.Repositories.ListDeployments(ctx, "acme", "checkout", &github.DeploymentsListOptions{Environment: "production"})
	must(err)
	if len(deps) != 2 || deps[0].GetSHA() != sha("m1") || deps[1].GetSHA() != sha("c3") || deps[0].GetCreatedAt().Time != at(8) || deps[0].GetTask() != "deploy" {
		t.Fatalf("deployments (newest first, production only): %+v", deps)
	}
	sts, _, err := gh.Repositories.ListDeploymentStatuses(ctx, "acme", "checkout", deps[1].GetID(), nil)
	must(err)
	if len(sts) != 2 || sts[0].GetState() != "success" || sts[1].GetState() != "in_progress" || sts[0].GetCreatedAt().Time != at(5) {
		t.Errorf("statuses (newest first): %v", sts)
	}

	runs, _, err := gh.Actions.ListWorkflowRunsByFileName(ctx, "acme", "checkout", "deploy.yml",
		&github.ListWorkflowRunsOptions{Branch: "main", Status: "success"})
	must(err)
	if runs.GetTotalCount() != 1 || len(runs.WorkflowRuns) != 1 || runs.WorkflowRuns[0].GetHeadSHA() != sha("c3") ||
		runs.WorkflowRuns[0].GetUpdatedAt().Time != at(5) || runs.WorkflowRuns[0].GetName() != "deploy" || runs.WorkflowRuns[0].GetRunAttempt() != 1 {
		t.Errorf("runs: %+v", runs)
	}
	runs, _, err = gh.Actions.ListRepositoryWorkflowRuns(ctx, "acme", "checkout", &github.ListWorkflowRunsOptions{Created: ">=2026-02-03"})
	must(err)
	if runs.GetTotalCount() != 1 || runs.WorkflowRuns[0].GetHeadBranch() != "feature" {
		t.Errorf("runs created>=: %+v", runs)
	}

	rels, _, err := gh.Repositories.ListReleases(ctx, "acme", "checkout", nil)
	must(err)
	if len(rels) != 3 || rels[2].GetTagName() != "v1.0.0" || rels[2].GetPublishedAt().Time != at(10) || rels[2].GetCreatedAt().Time != at(4) ||
		!rels[0].GetDraft() && !rels[1].GetDraft() {
		t.Errorf("releases: %+v", rels)
	}

	prs, _, err := gh.PullRequests.List(ctx, "acme", "checkout", &github.PullRequestListOptions{State: "closed", Sort: "updated", Direction: "desc"})
	must(err)
	if len(prs) != 6 || prs[0].GetNumber() != 6 || prs[0].MergedAt != nil || prs[0].GetMergeCommitSHA() == "" {
		t.Fatalf("closed PRs (updated desc; #6 unmerged keeps merge_commit_sha): %v", prs)
	}
	pr, _, err := gh.PullRequests.Get(ctx, "acme", "checkout", 2)
	must(err)
	if !pr.GetMerged() || pr.GetMergedAt().Time != at(12) || pr.GetMergeCommitSHA() != sha("m1") || pr.GetBase().GetRef() != "main" ||
		len(pr.Labels) != 2 || pr.GetUser().GetLogin() != "dev1" || pr.GetCommits() != 2 {
		t.Errorf("PR 2: %+v", pr)
	}
	commits, _, err := gh.PullRequests.ListCommits(ctx, "acme", "checkout", 2, nil)
	must(err)
	if len(commits) != 2 || commits[0].GetSHA() != sha("p2a") || commits[0].GetCommit().GetAuthor().GetDate().Time != at(2) {
		t.Errorf("PR commits: %+v", commits)
	}
	reviews, _, err := gh.PullRequests.ListReviews(ctx, "acme", "checkout", 2, nil)
	must(err)
	if len(reviews) != 2 || reviews[0].GetState() != "COMMENTED" || reviews[0].GetSubmittedAt().Time != at(3) || reviews[0].GetUser().GetLogin() != "dev2" {
		t.Errorf("reviews: %+v", reviews)
	}
	files, _, err := gh.PullRequests.ListFiles(ctx, "acme", "checkout", 2, nil)
	must(err)
	if len(files) != 1 || files[0].GetFilename() != "src/a.go" {
		t.Errorf("files: %+v", files)
	}

	issues, _, err := gh.Issues.ListByRepo(ctx, "acme", "checkout", &github.IssueListByRepoOptions{Labels: []string{"incident"}, State: "all"})
	must(err)
	if len(issues) != 2 || issues[0].GetNumber() != 100 || issues[0].IsPullRequest() || !issues[1].IsPullRequest() ||
		issues[0].GetClosedAt().Time != at(12) || issues[0].GetComments() != 2 {
		t.Errorf("incident issues (PR #2 included with pull_request key): %+v", issues)
	}
	since := at(12)
	issues, _, err = gh.Issues.ListByRepo(ctx, "acme", "checkout", &github.IssueListByRepoOptions{State: "all", Since: since})
	must(err)
	for _, is := range issues {
		if is.GetUpdatedAt().Time.Before(since) {
			t.Errorf("since filters on updated_at: got #%d updated %v", is.GetNumber(), is.GetUpdatedAt())
		}
	}
	comments, _, err := gh.Issues.ListComments(ctx, "acme", "checkout", 100, nil)
	must(err)
	if len(comments) != 2 || comments[1].GetUser().GetLogin() != "oncall" || comments[0].GetCreatedAt().Time != at(10) {
		t.Errorf("comments: %+v", comments)
	}
	events, _, err := gh.Issues.ListIssueEvents(ctx, "acme", "checkout", 100, nil)
	must(err)
	if len(events) != 2 || events[0].GetEvent() != "assigned" || events[0].GetAssignee().GetLogin() != "dev2" || events[1].GetEvent() != "closed" {
		t.Errorf("events: %+v", events)
	}

	hist, _, err := gh.Repositories.ListCommits(ctx, "acme", "checkout", &github.CommitsListOptions{SHA: "main"})
	must(err)
	var order []string
	for _, c := range hist {
		order = append(order, strings.TrimLeft(c.GetSHA(), "0"))
	}
	if got := strings.Join(order, " "); got != "m1 f2 c3 f1 c2 c1" {
		t.Errorf("commits of main, newest first: %s", got)
	}
	one, _, err := gh.Repositories.GetCommit(ctx, "acme", "checkout", sha("m1"), nil)
	must(err)
	if len(one.Parents) != 2 || len(one.Files) != 1 || one.GetCommit().GetCommitter().GetDate().Time != at(6) || one.GetStats().GetTotal() != 2 {
		t.Errorf("commit: %+v", one)
	}

	rl, _, err := gh.RateLimit.Get(ctx)
	must(err)
	if rl.GetCore().Limit != 5000 || rl.GetGraphQL().Limit != 5000 {
		t.Errorf("rate limit: %+v", rl)
	}
	st := s.Requests()
	if st.Count("GET /repos/{owner}/{repo}/pulls", 200) != 1 || st.RESTUnits != st.Total-1 {
		t.Errorf("request stats: %+v", st)
	}
}

func TestCompareStatusesOnDAG(t *testing.T) {
	_, gh := newTestServer(t, Options{})
	ctx := context.Background()
	for _, tc := range []struct {
		base, head, status string
		ahead, behind      int
		commits            string
	}{
		{"c1", "c3", "ahead", 2, 0, "c2 c3"},
		{"c3", "m1", "ahead", 3, 0, "f1 f2 m1"},
		{"m1", "c3", "behind", 0, 3, ""},
		{"c3", "c3", "identical", 0, 0, ""},
		{"c3", "h1", "diverged", 2, 1, "f1 h1"},
	} {
		base, head := sha(tc.base), sha(tc.head)
		cmp, _, err := gh.Repositories.CompareCommits(ctx, "acme", "checkout", base, head, nil)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range cmp.Commits {
			got = append(got, strings.TrimLeft(c.GetSHA(), "0"))
		}
		if cmp.GetStatus() != tc.status || cmp.GetAheadBy() != tc.ahead || cmp.GetBehindBy() != tc.behind ||
			cmp.GetTotalCommits() != tc.ahead || strings.Join(got, " ") != tc.commits {
			t.Errorf("%s...%s = %s ahead %d behind %d commits %v, want %s %d %d %s", tc.base, tc.head,
				cmp.GetStatus(), cmp.GetAheadBy(), cmp.GetBehindBy(), got, tc.status, tc.ahead, tc.behind, tc.commits)
		}
	}
	// Branch names resolve, and paging splits commits oldest → newest.
	var all []string
	opts := &github.ListOptions{PerPage: 2}
	for {
		cmp, resp, err := gh.Repositories.CompareCommits(ctx, "acme", "checkout", "c1"[:0]+sha("c1"), "main", opts)
		if err != nil {
			t.Fatal(err)
		}
		if opts.Page <= 1 && cmp.GetMergeBaseCommit().GetSHA() != sha("c1") {
			t.Errorf("merge base = %s", cmp.GetMergeBaseCommit().GetSHA())
		}
		for _, c := range cmp.Commits {
			all = append(all, strings.TrimLeft(c.GetSHA(), "0"))
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	if got := strings.Join(all, " "); got != "c2 f1 c3 f2 m1" {
		t.Errorf("paged compare = %s", got)
	}
}

func TestPaginationWithNextPage(t *testing.T) {
	_, gh := newTestServer(t, Options{PerPageMax: 3})
	ctx := context.Background()
	opts := &github.PullRequestListOptions{State: "all", ListOptions: github.ListOptions{PerPage: 100}}
	var got []int
	pages := 0
	for {
		prs, resp, err := gh.PullRequests.List(ctx, "acme", "checkout", opts)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, p := range prs {
			got = append(got, p.GetNumber())
		}
		if pages == 1 && (resp.LastPage != 3 || !strings.Contains(resp.Header.Get("Link"), `rel="next"`)) {
			t.Errorf("first page Link = %q", resp.Header.Get("Link"))
		}
		if resp.NextPage == 0 {
			if !strings.Contains(resp.Header.Get("Link"), `rel="prev"`) {
				t.Errorf("last page Link = %q", resp.Header.Get("Link"))
			}
			break
		}
		opts.Page = resp.NextPage
	}
	if fmt.Sprint(got) != "[7 6 5 4 3 2 1]" || pages != 3 {
		t.Errorf("pages %d, PRs %v (per_page capped at 3, created desc)", pages, got)
	}
}

func TestConditionalRequestsAndBudget(t *testing.T) {
	clock := &fakeClock{now: t0}
	s, gh := newTestServer(t, Options{RateLimit: 3, Now: clock.Now})
	ctx := context.Background()
	_, resp, err := gh.Repositories.Get(ctx, "acme", "checkout")
	if err != nil {
		t.Fatal(err)
	}
	etag := resp.Header.Get("ETag")
	if !strings.HasPrefix(etag, `W/"`) || resp.Header.Get("X-RateLimit-Remaining") != "2" || resp.Header.Get("X-RateLimit-Resource") != "core" {
		t.Fatalf("headers: %v", resp.Header)
	}
	req, _ := gh.NewRequest("GET", "repos/acme/checkout", nil)
	req.Header.Set("If-None-Match", etag)
	resp, err = gh.Do(ctx, req, nil)
	if resp == nil || resp.StatusCode != http.StatusNotModified || resp.Header.Get("ETag") != etag {
		t.Fatalf("conditional: %v %v", resp, err)
	}
	if st := s.Requests(); st.RESTUnits != 1 || st.Status(304) != 1 {
		t.Errorf("a 304 consumed budget: %+v", st)
	}
	s.Update(func(o *Org) { o.Repos[0].UpdatedAt = at(99) })
	req, _ = gh.NewRequest("GET", "repos/acme/checkout", nil)
	req.Header.Set("If-None-Match", etag)
	if resp, _ = gh.Do(ctx, req, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("changed data still 304")
	}
	// Budget 3: third unit spent now, the fourth request is refused like GitHub does.
	if _, _, err := gh.Repositories.Get(ctx, "acme", "legacy"); err != nil {
		t.Fatal(err)
	}
	_, resp, err = gh.Repositories.Get(ctx, "acme", "fork")
	if resp == nil || resp.StatusCode != http.StatusForbidden || resp.Header.Get("X-RateLimit-Remaining") != "0" {
		t.Fatalf("spent budget: %v %v", resp, err)
	}
	// After the reset (on the server's clock) the budget is refilled. go-github v60
	// would itself refuse the call by wall-clock time, so ask with the raw client.
	_ = clock.Sleep(ctx, time.Hour)
	r2, err := s.Client().Get(s.URL + "/repos/acme/fork")
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode != 200 || r2.Header.Get("X-RateLimit-Remaining") != "2" {
		t.Fatalf("after the reset: %d remaining %s", r2.StatusCode, r2.Header.Get("X-RateLimit-Remaining"))
	}
}

func TestFaults(t *testing.T) {
	s, gh := newTestServer(t, Options{})
	ctx := context.Background()
	s.SetFault(func(r *http.Request) *Fault {
		if strings.HasSuffix(r.URL.Path, "/releases") {
			f := ServerErrorFault(http.StatusBadGateway)
			return &f
		}
		return nil
	})
	_, resp, err := gh.Repositories.ListReleases(ctx, "acme", "checkout", nil)
	if err == nil || resp.StatusCode != 502 {
		t.Fatalf("fault: %v", err)
	}
	if _, _, err := gh.Repositories.Get(ctx, "acme", "checkout"); err != nil {
		t.Fatalf("unmatched request faulted: %v", err)
	}
	s.ClearFaults()
	s.FailNext(1, MalformedJSONFault())
	if _, _, err := gh.PullRequests.List(ctx, "acme", "checkout", nil); err == nil || !strings.Contains(err.Error(), "unexpected EOF") {
		t.Errorf("malformed JSON: %v", err)
	}
	if _, _, err := gh.PullRequests.List(ctx, "acme", "checkout", nil); err != nil {
		t.Errorf("FailNext(1) lasted: %v", err)
	}
	s.FailAfter(1, SecondaryLimitFault(http.StatusForbidden, 30*time.Second))
	if _, _, err := gh.Repositories.Get(ctx, "acme", "checkout"); err != nil {
		t.Fatal(err)
	}
	_, _, err = gh.Repositories.Get(ctx, "acme", "checkout")
	var abuse *github.AbuseRateLimitError
	if !errorsAs(err, &abuse) || abuse.GetRetryAfter() != 30*time.Second {
		t.Errorf("secondary fault: %v", err)
	}
	st := s.Requests()
	if st.Count("GET /repos/{owner}/{repo}/releases", 502) != 1 || st.Count("GET /repos/{owner}/{repo}", 403) != 1 {
		t.Errorf("fault counts: %+v", st.ByKey)
	}
	s.Reset()
	if s.Requests().Total != 0 {
		t.Error("Reset kept counts")
	}
}

func TestGHESWithoutHeadersAndWithoutGraphQL(t *testing.T) {
	s, gh := newTestServer(t, Options{NoRateLimitHeaders: true, DisableGraphQL: true})
	_, resp, err := gh.Repositories.Get(context.Background(), "acme", "checkout")
	if err != nil {
		t.Fatal(err)
	}
	for k := range resp.Header {
		if strings.HasPrefix(strings.ToLower(k), "x-ratelimit") {
			t.Errorf("header %s sent", k)
		}
	}
	r, err := s.Client().Post(s.URL+"/api/graphql", "application/json", strings.NewReader(`{"query":"{rateLimit{cost}}"}`))
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusNotFound {
		t.Errorf("graphql disabled: %d", r.StatusCode)
	}
}

// TestShapesMatchFixtures checks that every top-level key of the recorded
// responses of GitHub in ../testdata is present in the simulated answer.
func TestShapesMatchFixtures(t *testing.T) {
	s, _ := newTestServer(t, Options{})
	pr := strings.Repeat("0", 38) + "m1"
	for _, tc := range []struct {
		fixture string
		n       int
		path    string
		inner   string // key of a wrapper's list, or a nested object ("base.repo")
		skip    string // keys of another media type (…full+json) or account-specific
	}{
		{"pulls.get.json", 0, "/repos/acme/checkout/pulls/2", "", "body_html body_text"},
		{"pulls.list.closed.json", 0, "/repos/acme/checkout/pulls?state=closed", "", ""},
		{"pulls.list.closed.json", 0, "/repos/acme/checkout/pulls?state=closed", "base.repo", "master_branch"},
		{"pulls.list.closed.json", 0, "/repos/acme/checkout/pulls?state=closed", "user", ""},
		{"pulls.commits.json", 1, "/repos/acme/checkout/pulls/2/commits", "", ""},
		{"pulls.reviews.json", 1, "/repos/acme/checkout/pulls/2/reviews", "", "body_html body_text"},
		{"commits.get.json", 0, "/repos/acme/checkout/commits/" + pr, "", ""},
		{"compare.json", 0, "/repos/acme/checkout/compare/" + sha("c1") + "..." + pr, "", ""},
		{"deployments.list.openapi-example.json", 0, "/repos/acme/checkout/deployments", "", ""},
		{"deployment_statuses.list.json", 1, "/repos/acme/checkout/deployments/%d/statuses", "", ""},
		{"releases.list.json", 0, "/repos/acme/checkout/releases", "", ""},
		{"issues.paginated.json", 0, "/repos/acme/checkout/issues?state=all", "", ""},
		{"actions.runs.paginated.json", 0, "/repos/acme/checkout/actions/runs", "workflow_runs", ""},
		{"actions.runs.paginated.json", 0, "/repos/acme/checkout/actions/runs", "workflow_runs.repository", ""},
		{"actions.runs.paginated.json", 0, "/repos/acme/checkout/actions/runs", "workflow_runs.head_commit", ""},
		{"commits.get.json", 0, "/repos/acme/checkout/commits/" + pr, "commit", ""},
		{"compare.json", 0, "/repos/acme/checkout/compare/" + sha("c1") + "..." + pr, "commits", ""},
		{"compare.json", 0, "/repos/acme/checkout/compare/" + sha("c1") + "..." + pr, "files", ""},
		{"rate_limit.get.json", 0, "/rate_limit", "", ""},
	} {
		t.Run(tc.fixture+"/"+tc.inner, func(t *testing.T) {
			want := fixtureBody(t, tc.fixture, tc.n)
			path := tc.path
			if strings.Contains(path, "%d") {
				path = fmt.Sprintf(path, s.org.Repos[0].Deployments[0].ID)
			}
			resp, err := s.Client().Get(s.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var got any
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			first := func(v any) map[string]any {
				if l, ok := v.([]any); ok {
					if len(l) == 0 {
						return nil
					}
					v = l[0]
				}
				m, _ := v.(map[string]any)
				return m
			}
			w, g := first(want), first(got)
			if strings.HasPrefix(tc.inner, "workflow_runs") {
				for _, k := range keys(w) {
					if _, ok := g[k]; !ok {
						t.Errorf("wrapper key %q missing", k)
					}
				}
			}
			for _, part := range strings.Split(tc.inner, ".") {
				if part != "" {
					w, g = first(w[part]), first(g[part])
				}
			}
			if g == nil {
				t.Fatalf("%s: empty answer %s", path, b)
			}
			var missing []string
			for _, k := range keys(w) {
				if _, ok := g[k]; !ok && !strings.Contains(" "+tc.skip+" ", " "+k+" ") {
					missing = append(missing, k)
				}
			}
			if len(missing) > 0 {
				t.Errorf("%s lacks recorded keys %v", path, missing)
			}
		})
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func fixtureBody(t *testing.T, name string, n int) any {
	t.Helper()
	b, err := os.ReadFile("../testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Interactions []struct {
			Response struct {
				Body any `json:"body"`
			} `json:"response"`
		} `json:"interactions"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f.Interactions[n].Response.Body
}

// TestUpdateDuringRequests runs REST and GraphQL readers while Update appends PRs;
// under -race it proves the server's locking.
func TestUpdateDuringRequests(t *testing.T) {
	s, gh := newTestServer(t, Options{RateLimit: 1 << 20})
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 6; i++ {
				if _, _, err := gh.PullRequests.List(ctx, "acme", "checkout", &github.PullRequestListOptions{State: "all"}); err != nil {
					t.Error(err)
					return
				}
				req, _ := http.NewRequest("POST", s.GraphQLURL(), strings.NewReader(`{"query":"{ repository(owner: \"acme\", name: \"checkout\") { pullRequests(first: 100) { totalCount nodes { number commits(first: 5) { totalCount } } } } }"}`))
				resp, err := s.Client().Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
			}
		}()
	}
	for i := 0; i < 10; i++ {
		n := 1000 + i
		s.Update(func(o *Org) {
			o.Repos[0].Pulls = append(o.Repos[0].Pulls, &Pull{Number: n, Title: "late", Author: "dev9", BaseRef: "main", CreatedAt: at(n), UpdatedAt: at(n)})
		})
	}
	wg.Wait()
	prs, _, err := gh.PullRequests.List(ctx, "acme", "checkout", &github.PullRequestListOptions{State: "open", ListOptions: github.ListOptions{PerPage: 100}})
	if err != nil || len(prs) != 11 || prs[0].GetID() == 0 {
		t.Errorf("after updates: %d open PRs, err %v", len(prs), err)
	}
}

// TestSecondaryLimit: past the burst the server refuses with GitHub's
// secondary-limit answer (no Retry-After unless asked), a request during the
// cool-down restarts it, and after a quiet cool-down requests pass again.
func TestSecondaryLimit(t *testing.T) {
	clock := &fakeClock{now: t0}
	s, _ := newTestServer(t, Options{Now: clock.Now,
		SecondaryLimit: &SecondaryLimit{Requests: 2, Per: time.Minute, Cooldown: 3 * time.Minute}})
	ctx := context.Background()
	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := s.Client().Get(s.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, string(b)
	}
	for i := 0; i < 2; i++ {
		if resp, _ := get("/repos/acme/checkout"); resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d within the burst: %d", i+1, resp.StatusCode)
		}
	}
	resp, body := get("/repos/acme/checkout")
	if resp.StatusCode != http.StatusForbidden || body != secondaryLimitBody || resp.Header.Get("Retry-After") != "" ||
		resp.Header.Get("X-RateLimit-Remaining") != "4998" {
		t.Fatalf("past the burst: %d Retry-After %q remaining %q %s", resp.StatusCode, resp.Header.Get("Retry-After"),
			resp.Header.Get("X-RateLimit-Remaining"), body)
	}
	if resp, _ := get("/rate_limit"); resp.StatusCode != http.StatusOK {
		t.Errorf("GET /rate_limit while limited: %d", resp.StatusCode)
	}
	_ = clock.Sleep(ctx, 2*time.Minute) // inside the cool-down: refused, and it starts again
	if resp, _ := get("/repos/acme/checkout"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("during the cool-down: %d", resp.StatusCode)
	}
	_ = clock.Sleep(ctx, 2*time.Minute) // 4m after tripping, 2m after the last refusal
	if resp, _ := get("/repos/acme/checkout"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a refusal did not restart the cool-down: %d", resp.StatusCode)
	}
	_ = clock.Sleep(ctx, 3*time.Minute)
	if resp, _ := get("/repos/acme/checkout"); resp.StatusCode != http.StatusOK {
		t.Fatalf("after a quiet cool-down: %d", resp.StatusCode)
	}
	if st := s.Requests(); st.Count("GET /repos/{owner}/{repo}", http.StatusForbidden) != 3 || st.RESTUnits != 3 {
		t.Errorf("counts: %+v, %d units (refusals cost none)", st.ByKey, st.RESTUnits)
	}

	s2, _ := newTestServer(t, Options{Now: clock.Now,
		SecondaryLimit: &SecondaryLimit{Requests: 1, Per: time.Minute, Cooldown: time.Minute, Status: http.StatusTooManyRequests, RetryAfter: 30 * time.Second}})
	s = s2
	get("/repos/acme/checkout")
	if resp, body := get("/repos/acme/checkout"); resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "30" || body != secondaryLimitBody {
		t.Errorf("429 with Retry-After: %d %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
}
