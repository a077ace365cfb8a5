package github

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel/collector/github/githubtest"
)

// TestDiscovery: org repositories are filtered by include/exclude; archived and
// forked ones are skipped unless listed; a listed entry overrides discovery.
func TestDiscovery(t *testing.T) {
	t.Parallel()
	o := genOpts{org: "acme", repos: 5, prs: 3, commitsPerPR: 1, reviewsPerPR: 1}
	org := genOrg(o)
	org.Repos[1].Archived = true                 // svc-2: archived, but listed below
	org.Repos[2].Fork = true                     // svc-3: fork
	org.Repos[3].Archived = true                 // svc-4: archived
	org.Repos[4].Name = "sandbox-5"              // excluded
	org.Repos = append(org.Repos, genRepo(o, 5)) // svc-6
	org.Repos[5].Name = "tools-6"                // not included
	h := newHarness(t, org, harnessOpts{source: func(opts *Options) {
		opts.Orgs[0].Include = regexp.MustCompile(`^(svc|sandbox)-`)
		opts.Orgs[0].Exclude = regexp.MustCompile(`^sandbox-`)
		opts.Repos = []RepoConfig{{Owner: "acme", Name: "svc-2", Service: "payments-api", Team: "pay", Settings: opts.Defaults}}
	}})
	h.mustSync()
	services := map[string]bool{}
	for _, c := range h.sink.changes {
		services[c.Repo+"="+c.Service] = true
	}
	got := []string{}
	for k := range services {
		got = append(got, k)
	}
	sort.Strings(got)
	if want := []string{"acme/svc-1=svc-1", "acme/svc-2=payments-api"}; !slices.Equal(got, want) {
		t.Fatalf("synced %v, want %v", got, want)
	}
	teams := h.src.Teams()
	if teams["payments-api"] != "pay" || teams["svc-1"] != "payments" {
		t.Fatalf("teams %v", teams)
	}
}

// withRuns makes a repo deploy through an Actions workflow.
func withRuns(r *githubtest.Repo) {
	r.Workflows = []*githubtest.Workflow{{ID: 7, Name: "deploy", Path: ".github/workflows/deploy.yml"},
		{ID: 8, Name: "ci", Path: ".github/workflows/ci.yml"}}
	n := int64(0)
	for i, p := range r.Pulls {
		if p.MergedAt == nil || p.BaseRef != "main" {
			continue
		}
		n++
		at := p.MergedAt.Add(20 * time.Minute)
		concl := "success"
		if n%6 == 0 {
			concl = "failure"
		}
		r.Runs = append(r.Runs, &githubtest.WorkflowRun{ID: 500 + n, WorkflowID: 7, HeadBranch: "main", HeadSHA: p.MergeCommitSHA,
			Event: "push", Status: "completed", Conclusion: concl, CreatedAt: at, RunStartedAt: at, UpdatedAt: at.Add(8 * time.Minute),
			RunAttempt: 1, RunNumber: int(n), Actor: "deployer"})
		// CI runs and runs on other branches are not deployments.
		r.Runs = append(r.Runs, &githubtest.WorkflowRun{ID: 9000 + int64(i), WorkflowID: 8, HeadBranch: "main", HeadSHA: p.MergeCommitSHA,
			Event: "push", Status: "completed", Conclusion: "success", CreatedAt: at, RunStartedAt: at, UpdatedAt: at.Add(3 * time.Minute)})
	}
	r.Runs = append(r.Runs, &githubtest.WorkflowRun{ID: 20000, WorkflowID: 7, HeadBranch: "feature-x", HeadSHA: r.Pulls[0].Commits[0],
		Event: "workflow_dispatch", Status: "completed", Conclusion: "success", CreatedAt: genStart.Add(time.Hour), UpdatedAt: genStart.Add(2 * time.Hour)})
	r.Deployments = nil
}

// withReleases makes a repo deploy by releases: published, draft and prerelease.
func withReleases(r *githubtest.Repo) {
	n := 0
	for _, p := range r.Pulls {
		if p.MergedAt == nil || p.BaseRef != "main" {
			continue
		}
		n++
		if n%3 != 0 {
			continue
		}
		pub := p.MergedAt.Add(2 * time.Hour)
		rel := &githubtest.Release{TagName: fmt.Sprintf("v1.%d.0", n), TargetCommitish: p.MergeCommitSHA, Name: "release",
			CreatedAt: *p.MergedAt, PublishedAt: &pub, Author: "releaser"}
		switch n % 12 {
		case 6:
			rel.Prerelease = true
		case 9:
			rel.Draft, rel.PublishedAt = true, nil
		}
		r.Releases = append(r.Releases, rel)
	}
	r.Deployments = nil
}

func TestDeploymentSources(t *testing.T) {
	t.Parallel()
	o := smallOrg
	for _, tc := range []struct {
		name     string
		edit     func(*githubtest.Repo)
		settings func(*RepoSettings)
		idPart   string
	}{
		{"workflow_runs", withRuns, func(s *RepoSettings) { s.DeploymentSource, s.Workflow = SourceWorkflowRuns, "deploy.yml" }, "/runs/"},
		{"releases", withReleases, func(s *RepoSettings) { s.DeploymentSource = SourceReleases }, "/releases/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mk := func() *githubtest.Org {
				org := genOrg(o)
				for _, r := range org.Repos {
					tc.edit(r)
				}
				return org
			}
			src := func(opts *Options) { tc.settings(&opts.Defaults) }
			var results []string
			for _, m := range []harnessOpts{
				{source: src},
				{source: func(opts *Options) { src(opts); opts.CompareOnly = true }},
				{source: src, sim: githubtest.Options{DisableGraphQL: true}},
			} {
				h := newHarness(t, mk(), m)
				h.mustSync()
				results = append(results, h.sink.events())
				counting, withList := 0, 0
				for id, d := range h.sink.deps {
					if !strings.Contains(id, tc.idPart) {
						t.Fatalf("deployment id %s", id)
					}
					if d.Status == "success" && d.Environment == "production" {
						counting++
						if d.Commits != nil {
							withList++
						}
					}
					if strings.Contains(id, "/runs/9") || strings.Contains(id, "/runs/20000") {
						t.Fatalf("CI run or run off the deploy branch stored: %s", id)
					}
				}
				if counting == 0 || withList != counting-o.repos {
					t.Fatalf("%d counting deployments, %d with commit lists", counting, withList)
				}
				h.srv.Reset()
				h.mustSync()
				if st := h.srv.Requests(); st.RESTUnits != 0 || st.GraphQLPoints > o.repos {
					t.Errorf("second sync: %d REST units, %d points", st.RESTUnits, st.GraphQLPoints)
				}
			}
			if results[0] != results[1] || results[0] != results[2] {
				t.Fatalf("graph, compare and REST differ:\n%s\n====\n%s", firstDiff(results[0], results[1]), firstDiff(results[0], results[2]))
			}
		})
	}
}

// TestLargePullRequest: a PR with more than 100 commits, reviews and files is read
// whole, and the changed paths are fetched only when asked for.
func TestLargePullRequest(t *testing.T) {
	t.Parallel()
	mk := func() *githubtest.Org {
		org := genOrg(genOpts{org: "acme", repos: 1, prs: 3, commitsPerPR: 2, reviewsPerPR: 1})
		r := org.Repos[0]
		p := r.Pulls[0]
		base := r.Commits[0].SHA
		p.Commits = nil
		for k := 0; k < 130; k++ {
			at := p.CreatedAt.Add(-time.Duration(k) * time.Minute)
			sha := fmt.Sprintf("ff%038x", k+1)
			r.Commits = append(r.Commits, &githubtest.Commit{SHA: sha, Parents: []string{base}, AuthorLogin: p.Author, AuthoredAt: at, CommittedAt: at})
			base = sha
			p.Commits = append(p.Commits, sha)
		}
		p.Reviews = nil
		for k := 0; k < 120; k++ {
			p.Reviews = append(p.Reviews, githubtest.Review{User: p.Author, State: "COMMENTED", SubmittedAt: ptr(p.CreatedAt.Add(time.Minute))})
		}
		p.Reviews = append(p.Reviews, githubtest.Review{User: "late", State: "APPROVED", SubmittedAt: ptr(p.CreatedAt.Add(time.Hour))})
		p.Files = nil
		for k := 0; k < 150; k++ {
			p.Files = append(p.Files, fmt.Sprintf("docs/page%03d.md", k))
		}
		return org
	}
	var results []string
	for _, m := range modes {
		for _, paths := range []bool{false, true} {
			h := newHarness(t, mk(), harnessOpts{sim: m.sim, source: func(o *Options) { o.TuneUpPaths = paths }})
			h.mustSync()
			c := h.sink.changes["acme/svc-1#1"]
			if want := mk().Repos[0].Pulls[0].CreatedAt.Add(-129 * time.Minute); !c.FirstCommitAt.Equal(want) {
				t.Errorf("%s: first commit %s, want %s (the 130th commit)", m.name, c.FirstCommitAt, want)
			}
			if c.FirstReviewAt.Sub(c.OpenedAt) != time.Hour {
				t.Errorf("%s: first review %s after opening, want the 121st review's hour", m.name, c.FirstReviewAt.Sub(c.OpenedAt))
			}
			if paths && len(c.Paths) != 150 || !paths && c.Paths != nil {
				t.Errorf("%s paths=%v: %d paths", m.name, paths, len(c.Paths))
			}
			if paths {
				results = append(results, h.sink.events())
			}
		}
	}
	if results[0] != results[1] {
		t.Fatalf("GraphQL and REST differ:\n%s", firstDiff(results[0], results[1]))
	}
}
