package github

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel/collector/github/githubtest"
)

var smallOrg = genOpts{org: "acme", repos: 2, prs: 40, commitsPerPR: 3, reviewsPerPR: 3, deployEvery: 2, incidents: 4}

func TestSyncGraphQLFirstSync(t *testing.T) {
	t.Parallel()
	h := newHarness(t, genOrg(smallOrg), harnessOpts{})
	h.mustSync()
	deps, changes, incidents := h.sink.counts()
	// 40 merged PRs into main per repo, of which none is unmerged or into release-1.
	if changes != 2*40 {
		t.Errorf("changes: %d, want 80", changes)
	}
	if incidents != 2*4 {
		t.Errorf("incidents: %d, want 8", incidents)
	}
	if deps == 0 {
		t.Fatal("no deployments")
	}
	c := h.sink.changes["acme/svc-1#1"]
	if c.MergeSHA == "" || c.FirstCommitAt.IsZero() || c.FirstReviewAt.IsZero() || c.Author != "dev1" || c.Service != "svc-1" {
		t.Errorf("change #1: %+v", c)
	}
	// The first review is rev1's, 40 minutes after opening: the author's own
	// comment 10 minutes earlier does not count.
	if got := c.FirstReviewAt.Sub(c.OpenedAt).Minutes(); got != 40 {
		t.Errorf("first review %v min after opening, want 40", got)
	}
	withCommits, first := 0, 0
	for _, d := range h.sink.deps {
		if d.Commits != nil {
			withCommits++
			if d.CompareStatus == "" {
				t.Errorf("%s has commits but no compare status", d.ID)
			}
		} else if d.Status == "success" && d.Environment == "production" {
			first++
		}
	}
	if first != 2 || withCommits == 0 {
		t.Errorf("production deployments without a commit list: %d (want one per repo), with: %d", first, withCommits)
	}
	in := h.sink.incidents["acme/svc-1/issues/"+itoa(incidentNumber)]
	if in.Urgency != "sev1" || in.CausedBy != "none" || in.AcknowledgedAt.Sub(in.TriggeredAt).Minutes() != 12 ||
		in.StartedAt.IsZero() || in.ResolvedAt.IsZero() {
		t.Errorf("incident: %+v", in)
	}
	// The others name a deployment: a sha in bold Markdown with CRLF line
	// ends, an API URL in a comment, a stored id corrected in a comment to
	// owner/repo#N.
	for k, want := range map[int]*regexp.Regexp{
		1: regexp.MustCompile(`^[0-9a-f]{40}$`),
		2: regexp.MustCompile(`^https://api\.github\.com/repos/acme/svc-1/deployments/\d+$`),
		3: regexp.MustCompile(`^acme/svc-1#\d+$`),
	} {
		in := h.sink.incidents["acme/svc-1/issues/"+itoa(incidentNumber+k)]
		if opened := genStart.Add(time.Duration(k)*48*time.Hour + 10*time.Hour + 30*time.Minute); !want.MatchString(in.CausedBy) ||
			!in.StartedAt.Equal(opened.Add(-20*time.Minute)) || in.ImpactStartUnparsed != "" {
			t.Errorf("incident %d: caused-by %q, impact start %v (unparsed %q)", k, in.CausedBy, in.StartedAt, in.ImpactStartUnparsed)
		}
	}
	if teams := h.src.Teams(); teams["svc-1"] != "payments" {
		t.Errorf("teams: %v", teams)
	}
}

// TestSyncRESTEqualsGraphQL: the REST-only path (a server without GraphQL) and
// the commit-graph mapping store exactly what GraphQL with one compare per
// deployment stores.
func TestSyncRESTEqualsGraphQL(t *testing.T) {
	t.Parallel()
	gql := newHarness(t, genOrg(smallOrg), harnessOpts{})
	gql.mustSync()
	rest := newHarness(t, genOrg(smallOrg), harnessOpts{sim: githubtest.Options{DisableGraphQL: true}})
	rest.mustSync()
	if a, b := gql.sink.events(), rest.sink.events(); a != b {
		t.Fatalf("REST and GraphQL differ:\n%s", firstDiff(a, b))
	}
	cmp := newHarness(t, genOrg(smallOrg), harnessOpts{source: func(o *Options) { o.CompareOnly = true }})
	cmp.mustSync()
	if a, b := gql.sink.events(), cmp.sink.events(); a != b {
		t.Fatalf("commit graph and compare differ:\n%s", firstDiff(a, b))
	}
	if n := cmp.srv.Requests().Count("GET /repos/{owner}/{repo}/compare/{basehead}", 200); n == 0 {
		t.Fatal("compare way sent no compare")
	}
	if n := gql.srv.Requests().Count("GET /repos/{owner}/{repo}/compare/{basehead}", 0); n != 0 {
		t.Errorf("graph way sent %d compares; every sha is on the branch", n)
	}
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) && i < len(bl); i++ {
		if al[i] != bl[i] {
			lo := max(0, i-8)
			return "line " + itoa(i) + ":\n" + strings.Join(al[lo:min(len(al), i+3)], "\n") + "\n----\n" + strings.Join(bl[lo:min(len(bl), i+3)], "\n")
		}
	}
	return "lengths " + itoa(len(al)) + " vs " + itoa(len(bl))
}

func TestSyncSecondSyncNothingChanged(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		sim  githubtest.Options
	}{{"graphql", githubtest.Options{}}, {"rest", githubtest.Options{DisableGraphQL: true}}} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, genOrg(smallOrg), harnessOpts{sim: tc.sim})
			h.mustSync()
			before := h.sink.events()
			h.srv.Reset()
			h.mustSync()
			st := h.srv.Requests()
			t.Logf("second sync: %d requests, %d REST units, %d GraphQL queries, %d points", st.Total, st.RESTUnits, st.GraphQLQueries, st.GraphQLPoints)
			if st.RESTUnits != 0 {
				t.Errorf("second sync spent %d REST units, want 0 (all 304): %v", st.RESTUnits, st.ByKey)
			}
			if st.GraphQLPoints > smallOrg.repos {
				t.Errorf("second sync spent %d GraphQL points for %d repos", st.GraphQLPoints, smallOrg.repos)
			}
			if after := h.sink.events(); after != before {
				t.Errorf("second sync changed the store:\n%s", firstDiff(before, after))
			}
		})
	}
}

func TestSyncContextCancelled(t *testing.T) {
	t.Parallel()
	h := newHarness(t, genOrg(smallOrg), harnessOpts{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.sync(ctx); err == nil {
		t.Fatal("sync with a cancelled context succeeded")
	}
}

type countingProgress struct {
	mu          sync.Mutex
	total, done int
	what        []string
}

func (p *countingProgress) Total(n int) { p.mu.Lock(); p.total += n; p.mu.Unlock() }
func (p *countingProgress) Done(n int, what string) {
	p.mu.Lock()
	p.done += n
	p.what = append(p.what, what)
	p.mu.Unlock()
}
func (p *countingProgress) Request(int)                {}
func (p *countingProgress) RateLimit(string, int, int) {}

// TestSyncProgress: every repository and every page is announced and finished,
// so `flywheel collect` can draw a bar that ends full.
func TestSyncProgress(t *testing.T) {
	t.Parallel()
	h := newHarness(t, genOrg(smallOrg), harnessOpts{})
	p := &countingProgress{}
	if err := h.src.Sync(context.Background(), h.sink, p); err != nil {
		t.Fatal(err)
	}
	if p.total == 0 || p.total != p.done {
		t.Fatalf("progress total %d, done %d", p.total, p.done)
	}
	if !slices.Contains(p.what, "acme/svc-1") || !slices.Contains(p.what, "acme/svc-2") {
		t.Fatalf("repositories not reported done: %v", p.what)
	}
}
