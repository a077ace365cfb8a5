package github

import (
	"testing"

	"github.com/flywheel-metrics/flywheel/collector/github/githubtest"
)

// The request figures of docs/benchmarks.md, counted at the
// simulated server. Request counts are deterministic, so they are asserted, not
// only logged. Regenerate docs/benchmarks.md's GitHub section from
//
//	go test ./collector/github -run TestFigures -v

// prsOnly is the first figure's organisation: 1,000 merged PRs with 8 commits
// and 3 reviews each (plus the generator's closed-unmerged PRs and backports).
var prsOnly = genOpts{org: "acme", repos: 1, prs: 1000, commitsPerPR: 8, reviewsPerPR: 3}

// demoLike is an organisation like the demo's: several services, PRs merged by
// squash, merge commit and rebase, a production deployment every second PR (some
// failed, some rollbacks, staging deployments besides), incident issues.
var demoLike = genOpts{org: "acme", repos: 5, prs: 200, commitsPerPR: 4, reviewsPerPR: 2, deployEvery: 2, incidents: 12}

func figure(t *testing.T, name string, o genOpts, ho harnessOpts) (first, second githubtest.RequestStats, h *harness) {
	t.Helper()
	h = newHarness(t, genOrg(o), ho)
	h.mustSync()
	first = h.srv.Requests()
	h.srv.Reset()
	h.mustSync()
	second = h.srv.Requests()
	d, c, i := h.sink.counts()
	t.Logf("%-44s first sync: %5d requests (%4d REST units, %3d GraphQL queries, %4d points); second sync: %3d requests, %d REST units, %d GraphQL points; stored %d deployments, %d changes, %d incidents",
		name, first.Total, first.RESTUnits, first.GraphQLQueries, first.GraphQLPoints,
		second.Total, second.RESTUnits, second.GraphQLPoints, d, c, i)
	return first, second, h
}

func TestFiguresPullRequests(t *testing.T) {
	t.Parallel()
	first, second, _ := figure(t, "1,000 merged PRs (GraphQL)", prsOnly, harnessOpts{})
	if first.Total > 30 {
		t.Errorf("first sync of 1,000 merged PRs: %d requests, target ≤ 30", first.Total)
	}
	if second.RESTUnits != 0 || second.GraphQLPoints > prsOnly.repos {
		t.Errorf("second sync: %d REST units, %d GraphQL points", second.RESTUnits, second.GraphQLPoints)
	}
}

func TestFiguresDemoLikeOrg(t *testing.T) {
	t.Parallel()
	first, second, h := figure(t, "demo-like org (GraphQL + commit graph)", demoLike, harnessOpts{})
	_, merged, _ := h.sink.counts()
	per1000 := float64(first.Total) * 1000 / float64(merged)
	t.Logf("demo-like org: %d merged PRs, %.1f requests per 1,000 merged PRs (first sync)", merged, per1000)
	if per1000 > 50 {
		t.Errorf("first sync: %.1f requests per 1,000 merged PRs, target ≤ 50", per1000)
	}
	if second.RESTUnits != 0 {
		t.Errorf("second sync spent %d REST units, want 0 (all 304)", second.RESTUnits)
	}
	if second.GraphQLPoints > demoLike.repos {
		t.Errorf("second sync spent %d GraphQL points for %d repos, want ≤ 1 each", second.GraphQLPoints, demoLike.repos)
	}
}

// BenchmarkFirstSyncRequests reports, for the comparison in docs/benchmarks.md,
// the requests of the ways the figures above improve on (thousands of requests
// each, hence a benchmark rather than a test):
//
//	go test ./collector/github -run '^$' -bench FirstSyncRequests -benchtime 1x
func BenchmarkFirstSyncRequests(b *testing.B) {
	for _, c := range []struct {
		name string
		o    genOpts
		ho   harnessOpts
	}{
		{"prs=1000/graphql", prsOnly, harnessOpts{}},
		{"prs=1000/rest", prsOnly, harnessOpts{sim: githubtest.Options{DisableGraphQL: true}}},
		{"demo-like/graphql+graph", demoLike, harnessOpts{}},
		{"demo-like/graphql+compare", demoLike, harnessOpts{source: func(o *Options) { o.CompareOnly = true }}},
		{"demo-like/rest+compare", demoLike, harnessOpts{sim: githubtest.Options{DisableGraphQL: true}}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				h := newHarness(b, genOrg(c.o), c.ho)
				if err := h.sync(b.Context()); err != nil {
					b.Fatal(err)
				}
				st := h.srv.Requests()
				_, merged, _ := h.sink.counts()
				b.ReportMetric(float64(st.Total), "requests")
				b.ReportMetric(float64(st.Total)*1000/float64(merged), "requests/1000PRs")
				b.ReportMetric(float64(st.GraphQLPoints), "points")
			}
		})
	}
}
