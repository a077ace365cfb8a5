package github

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/flywheel-metrics/flywheel"
)

// fixtureDir holds GitHub's recorded answers (testdata/README.md names their
// origins).
const fixtureDir = "testdata"

// fixtureBody decodes the response body of the interaction in file whose request
// URL contains urlPart.
func fixtureBody(t *testing.T, file, urlPart string, out any) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(fixtureDir, file))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Interactions []struct {
			Request struct {
				URL string `json:"url"`
			} `json:"request"`
			Response struct {
				Body json.RawMessage `json:"body"`
			} `json:"response"`
		} `json:"interactions"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	for _, it := range f.Interactions {
		if strings.Contains(it.Request.URL, urlPart) {
			if err := json.Unmarshal(it.Response.Body, out); err != nil {
				t.Fatalf("%s %s: %v", file, urlPart, err)
			}
			return
		}
	}
	t.Fatalf("%s: no interaction with %q", file, urlPart)
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

var testRepo = repoInfo{Owner: "acme", Name: "checkout", Service: "checkout", DefaultBranch: "main",
	Settings: RepoSettings{DeploymentSource: SourceDeployments, Environment: regexp.MustCompile(`^prod(uction)?$`)}}

func TestMapDeploymentFromFixture(t *testing.T) {
	var deps []*gh.Deployment
	fixtureBody(t, "deployment_statuses.list.json", "/deployments?", &deps)
	var sts []*gh.DeploymentStatus
	fixtureBody(t, "deployment_statuses.list.json", "/deployments/801/statuses", &sts)
	if len(deps) != 2 || deps[0].GetID() != 801 || len(sts) != 5 {
		t.Fatalf("fixture shape changed: %d deployments, %d statuses", len(deps), len(sts))
	}
	got := mapDeployment(testRepo, deploymentFromREST(deps[0], sts))
	want := flywheel.Deployment{ID: "acme/checkout/deployments/801", Service: "checkout", Repo: "acme/checkout",
		Environment: "production", SHA: "aa0b457c3c7692a0da05b6771ce44c980febd4a1", Status: "success",
		FinishedAt: ts("2018-01-01T19:50:40Z"), Source: "github"}
	if !equalDeployment(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	// Without statuses the deployment has not finished.
	got = mapDeployment(testRepo, deploymentFromREST(deps[1], nil))
	if got.Status != "pending" || !got.FinishedAt.Equal(ts("2014-02-23T20:06:10Z")) || got.ID != "acme/checkout/deployments/797" {
		t.Fatalf("deployment without statuses: %+v", got)
	}
}

func equalDeployment(a, b flywheel.Deployment) bool {
	return a.ID == b.ID && a.Service == b.Service && a.Repo == b.Repo && a.Environment == b.Environment &&
		a.SHA == b.SHA && a.Status == b.Status && a.FinishedAt.Equal(b.FinishedAt) && a.Source == b.Source &&
		slices.Equal(a.Commits, b.Commits) && (a.Commits == nil) == (b.Commits == nil) && a.CompareStatus == b.CompareStatus
}

func TestMapDeploymentStatuses(t *testing.T) {
	t0 := ts("2026-03-01T10:00:00Z")
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	cases := []struct {
		name       string
		statuses   []status
		wantStatus string
		wantFinish time.Time
	}{
		{"latest decides", []status{{"pending", at(1)}, {"in_progress", at(2)}, {"failure", at(5)}}, "failure", at(5)},
		{"success", []status{{"in_progress", at(1)}, {"success", at(4)}}, "success", at(4)},
		{"inactive after success stays successful", []status{{"success", at(4)}, {"inactive", at(60)}}, "success", at(4)},
		{"inactive without success", []status{{"failure", at(4)}, {"inactive", at(60)}}, "inactive", at(60)},
		{"error", []status{{"queued", at(1)}, {"error", at(2)}}, "error", at(2)},
		{"order of the API does not matter", []status{{"success", at(9)}, {"pending", at(1)}}, "success", at(9)},
		{"none", nil, "pending", t0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := mapDeployment(testRepo, deploymentData{ID: 1, SHA: "abc", Environment: "production", CreatedAt: t0, Statuses: c.statuses})
			if d.Status != c.wantStatus || !d.FinishedAt.Equal(c.wantFinish) {
				t.Fatalf("got %s at %s, want %s at %s", d.Status, d.FinishedAt, c.wantStatus, c.wantFinish)
			}
		})
	}
}

func TestMapChangeFromFixtures(t *testing.T) {
	var prs []*gh.PullRequest
	fixtureBody(t, "pulls.list.closed.json", "/pulls?state=closed", &prs)
	repo := testRepo
	repo.DefaultBranch = "master"
	var merged, unmerged int
	for _, pr := range prs {
		d := prFromREST(pr, nil, nil, nil, false)
		c, ok := mapChange(repo, d)
		switch {
		case pr.MergedAt == nil:
			unmerged++
			if pr.GetMergeCommitSHA() == "" {
				t.Fatalf("fixture: unmerged #%d has no merge_commit_sha (GitHub fills it for unmerged PRs, and this test needs one)", pr.GetNumber())
			}
			if ok || d.MergeSHA != "" {
				t.Fatalf("unmerged #%d mapped (ok=%v, merge sha %q)", pr.GetNumber(), ok, d.MergeSHA)
			}
		case pr.GetBase().GetRef() != "master":
			if ok {
				t.Fatalf("#%d merged into %s mapped as a change", pr.GetNumber(), pr.GetBase().GetRef())
			}
		default:
			merged++
			if !ok || c.MergeSHA != pr.GetMergeCommitSHA() || !c.MergedAt.Equal(pr.GetMergedAt().Time) ||
				c.ID != "acme/checkout#"+itoa(pr.GetNumber()) || c.Author != pr.GetUser().GetLogin() || !c.OpenedAt.Equal(pr.GetCreatedAt().Time) {
				t.Fatalf("#%d: got %+v", pr.GetNumber(), c)
			}
		}
	}
	if unmerged != 3 || merged == 0 {
		t.Fatalf("fixture: %d unmerged, %d merged into master", unmerged, merged)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestMapChangeCommitsAndReviewsFromFixtures(t *testing.T) {
	var pr gh.PullRequest
	fixtureBody(t, "pulls.commits.json", "/pulls/235", &pr)
	var commits []*gh.RepositoryCommit
	fixtureBody(t, "pulls.commits.json", "/pulls/235/commits", &commits)
	repo := testRepo
	repo.DefaultBranch = pr.GetBase().GetRef()
	c, ok := mapChange(repo, prFromREST(&pr, commits, nil, nil, false))
	if !ok {
		t.Fatal("merged PR 235 not mapped")
	}
	if !c.FirstCommitAt.Equal(ts("2014-05-02T06:08:14Z")) || !c.FirstReviewAt.IsZero() || c.Paths != nil {
		t.Fatalf("PR 235: first commit %s, first review %s, paths %v", c.FirstCommitAt, c.FirstReviewAt, c.Paths)
	}

	var pr671 gh.PullRequest
	fixtureBody(t, "pulls.reviews.json", "/pulls/671", &pr671)
	var reviews []*gh.PullRequestReview
	fixtureBody(t, "pulls.reviews.json", "/pulls/671/reviews", &reviews)
	d := prFromREST(&pr671, nil, reviews, nil, true)
	d.MergedAt, d.BaseRef = ts("2017-02-01T00:00:00Z"), "main" // the recorded PR's merge state does not matter here
	c, ok = mapChange(testRepo, d)
	if !ok {
		t.Fatal("PR 671 not mapped")
	}
	// The author omgjlk's own review (19:47) and pending reviews do not count; the
	// first by someone else is sigmavirus24's at 16:35.
	if !c.FirstReviewAt.Equal(ts("2017-01-26T16:35:28Z")) {
		t.Fatalf("first review %s", c.FirstReviewAt)
	}
	if c.Paths == nil || len(c.Paths) != 0 {
		t.Fatalf("fetched but empty paths must be an empty list, got %#v", c.Paths)
	}
	// Only the author's review and a pending one: no first review.
	d.Reviews = []review{{Author: "omgjlk", State: "COMMENTED", SubmittedAt: ts("2017-01-26T19:47:48Z")}, {Author: "x", State: "PENDING"}}
	if c, _ := mapChange(testRepo, d); !c.FirstReviewAt.IsZero() {
		t.Fatalf("author's own review counted: %s", c.FirstReviewAt)
	}
}

func TestMapReleaseFromFixture(t *testing.T) {
	var rels []*gh.RepositoryRelease
	fixtureBody(t, "releases.list.json", "/releases", &rels)
	if len(rels) != 2 {
		t.Fatalf("fixture has %d releases", len(rels))
	}
	r := rels[0]
	d, ok := mapRelease(testRepo, releaseData{TagName: r.GetTagName(), Draft: r.GetDraft(), Prerelease: r.GetPrerelease(),
		PublishedAt: r.GetPublishedAt().Time, SHA: r.GetTargetCommitish()})
	if !ok || d.ID != "acme/checkout/releases/0.9.3" || !d.FinishedAt.Equal(ts("2014-11-29T02:40:20Z")) ||
		d.Status != "success" || d.Environment != "production" || d.SHA != "52a3f30e05cf434285e775979f01f1a8355049a7" {
		t.Fatalf("release 0.9.3 (finish must be published_at, not created_at 2014-11-05): %+v", d)
	}
	cases := []struct {
		name   string
		rel    releaseData
		ok     bool
		status string
	}{
		{"draft", releaseData{TagName: "v2", Draft: true, PublishedAt: ts("2026-01-01T00:00:00Z"), SHA: "a"}, false, ""},
		{"unpublished", releaseData{TagName: "v2", SHA: "a"}, false, ""},
		{"tag not resolved", releaseData{TagName: "v2", PublishedAt: ts("2026-01-01T00:00:00Z")}, false, ""},
		{"prerelease is stored, never counted", releaseData{TagName: "v2-rc1", Prerelease: true, PublishedAt: ts("2026-01-01T00:00:00Z"), SHA: "a"}, true, "prerelease"},
	}
	for _, c := range cases {
		d, ok := mapRelease(testRepo, c.rel)
		if ok != c.ok || d.Status != c.status {
			t.Errorf("%s: ok %v status %q", c.name, ok, d.Status)
		}
	}
}

func TestMapRun(t *testing.T) {
	var runs gh.WorkflowRuns
	fixtureBody(t, "actions.runs.paginated.json", "runs?per_page=1", &runs)
	if len(runs.WorkflowRuns) != 1 {
		t.Fatalf("fixture has %d runs", len(runs.WorkflowRuns))
	}
	run := runFromREST(runs.WorkflowRuns[0])
	repo := testRepo
	repo.DefaultBranch = run.HeadBranch
	d, ok := mapRun(repo, run)
	if run.Status == "completed" {
		if !ok || d.Status != run.Conclusion || d.SHA != run.HeadSHA || !d.FinishedAt.Equal(run.UpdatedAt) || d.Environment != "production" {
			t.Fatalf("run: %+v", d)
		}
	}
	other := run
	other.HeadBranch = "feature/x"
	other.Status = "completed"
	if _, ok := mapRun(repo, other); ok {
		t.Fatal("run on another branch mapped")
	}
	inProgress := run
	inProgress.Status = "in_progress"
	if _, ok := mapRun(repo, inProgress); ok {
		t.Fatal("unfinished run mapped")
	}
}

func TestMapIncidentFromFixture(t *testing.T) {
	var issues []*gh.Issue
	fixtureBody(t, "issues.paginated.json", "issues?per_page=3&page=2", &issues)
	if len(issues) == 0 {
		t.Fatal("fixture page is empty")
	}
	is := issues[0]
	in, ok := mapIncident(testRepo, issueFromREST(is, nil, nil), time.UTC)
	if !ok || in.ID != "acme/checkout/issues/"+itoa(is.GetNumber()) || !in.TriggeredAt.Equal(is.GetCreatedAt().Time) ||
		!in.ResolvedAt.IsZero() || in.Urgency != "unknown" || in.Service != "checkout" {
		t.Fatalf("open issue: %+v", in)
	}
	// The issues API lists pull requests too: they are skipped.
	pr := *is
	pr.PullRequestLinks = &gh.PullRequestLinks{URL: gh.String("https://api.github.com/repos/o/r/pulls/1")}
	if _, ok := mapIncident(testRepo, issueFromREST(&pr, nil, nil), time.UTC); ok {
		t.Fatal("pull request mapped as an incident")
	}
}

func TestMapIncident(t *testing.T) {
	t0 := ts("2026-03-01T10:00:00Z")
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	base := issueData{Number: 7, Title: "checkout down", Author: "ann", CreatedAt: t0, Labels: []string{"incident"}}
	cases := []struct {
		name string
		edit func(*issueData)
		want flywheel.Incident
	}{
		{"open, nothing else", func(*issueData) {}, flywheel.Incident{Urgency: "unknown"}},
		{"closed (final close)", func(d *issueData) { d.Open, d.ClosedAt = false, at(90) }, flywheel.Incident{Urgency: "unknown", ResolvedAt: at(90)}},
		{"reopened and open now", func(d *issueData) { d.Open, d.ClosedAt = true, at(30) }, flywheel.Incident{Urgency: "unknown"}},
		{"severity: most severe label", func(d *issueData) { d.Labels = []string{"incident", "SEV2", "sev-1"} }, flywheel.Incident{Urgency: "sev1"}},
		{"ack by assignment", func(d *issueData) { d.AssignedAt = []time.Time{at(7), at(3)} }, flywheel.Incident{Urgency: "unknown", AcknowledgedAt: at(3)}},
		{"ack by another's comment, not the opener's", func(d *issueData) {
			d.Comments = []comment{{Author: "bob", CreatedAt: at(9)}, {Author: "ann", CreatedAt: at(2)}}
		}, flywheel.Incident{Urgency: "unknown", AcknowledgedAt: at(9)}},
		{"earlier of assignment and comment", func(d *issueData) {
			d.Comments = []comment{{Author: "bob", CreatedAt: at(4)}}
			d.AssignedAt = []time.Time{at(6)}
		}, flywheel.Incident{Urgency: "unknown", AcknowledgedAt: at(4)}},
		{"caused-by and impact-start: last one wins, key case-insensitive", func(d *issueData) {
			d.Body = "Checkout 500s.\nCaused-By: abc1234\nimpact-start: 2026-03-01T09:40:00Z\n"
			d.Comments = []comment{{Author: "ann", CreatedAt: at(20), Body: "correction:\ncaused-by: acme/checkout/deployments/42\nIMPACT-START: 2026-03-01T09:30:00+00:00"}}
		}, flywheel.Incident{Urgency: "unknown", CausedBy: "acme/checkout/deployments/42", StartedAt: ts("2026-03-01T09:30:00Z"), AcknowledgedAt: time.Time{}}},
		{"caused-by none, bad impact start ignored", func(d *issueData) {
			d.Body = "caused-by: NONE\nimpact-start: yesterday"
		}, flywheel.Incident{Urgency: "unknown", CausedBy: "none"}},
		{"caused-by only at the start of a line", func(d *issueData) {
			d.Body = "we think it was not caused-by: abc1234"
		}, flywheel.Incident{Urgency: "unknown"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := base
			d.Open = true
			c.edit(&d)
			got, ok := mapIncident(testRepo, d, time.UTC)
			if !ok {
				t.Fatal("not mapped")
			}
			w := c.want
			w.ID, w.Service, w.Title, w.TriggeredAt, w.Source = "acme/checkout/issues/7", "checkout", "checkout down", t0, "github"
			if !(got.ID == w.ID && got.Urgency == w.Urgency && got.CausedBy == w.CausedBy &&
				got.StartedAt.Equal(w.StartedAt) && got.TriggeredAt.Equal(w.TriggeredAt) &&
				got.AcknowledgedAt.Equal(w.AcknowledgedAt) && got.ResolvedAt.Equal(w.ResolvedAt)) {
				t.Fatalf("got  %+v\nwant %+v", got, w)
			}
		})
	}
}
