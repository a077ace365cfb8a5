package github_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel/collector"
	"github.com/flywheel-metrics/flywheel/collector/github"
	"github.com/flywheel-metrics/flywheel/collector/github/ghclient"
	"github.com/flywheel-metrics/flywheel/collector/github/githubtest"
	"github.com/flywheel-metrics/flywheel/demo"
)

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time                                   { return c.t }
func (c fixedClock) Sleep(ctx context.Context, _ time.Duration) error { return ctx.Err() }

// TestFiguresDemoOrg counts the requests of a first and a second sync of the
// organisation `flywheel demo` serves (demo.Generate, seed 1), configured as the
// demo configures it, into the real store: the request figures of docs/benchmarks.md
// for the demo's own data.
func TestFiguresDemoOrg(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	org := demo.Generate(1, now)
	for _, compareOnly := range []bool{false, true} {
		if compareOnly && testing.Short() {
			continue
		}
		srv := githubtest.NewServer(org.GitHub, githubtest.Options{Now: func() time.Time { return now }, RateLimit: 100000, GraphQLRateLimit: 100000})
		defer srv.Close()
		st := openStore(t)
		c, err := ghclient.New(ghclient.Options{BaseURL: srv.RESTBaseURL(), GraphQLURL: srv.GraphQLURL(), Validators: st, Clock: fixedClock{now}})
		if err != nil {
			t.Fatal(err)
		}
		var repos []github.RepoConfig
		for _, s := range org.Services {
			owner, name, _ := strings.Cut(s.Repo, "/")
			repos = append(repos, github.RepoConfig{Owner: owner, Name: name, Service: s.Name, Team: s.Team,
				Settings: github.RepoSettings{DeploymentSource: github.SourceDeployments,
					Environment: regexp.MustCompile(`^production$`), IncidentLabels: []string{"incident"}}})
		}
		src, err := github.New(github.Options{Client: c, Repos: repos, GraphQL: true, CompareOnly: compareOnly,
			TuneUpPaths: true, History: 365 * 24 * time.Hour, Clock: fixedClock{now}})
		if err != nil {
			t.Fatal(err)
		}
		if err := src.Sync(context.Background(), st, collector.NopProgress{}); err != nil {
			t.Fatal(err)
		}
		first := srv.Requests()
		ev, err := st.Events()
		if err != nil {
			t.Fatal(err)
		}
		merged := 0
		for _, ch := range ev.Changes {
			if ch.Merged() {
				merged++
			}
		}
		per1000 := float64(first.Total) * 1000 / float64(max(merged, 1))
		srv.Reset()
		if err := src.Sync(context.Background(), st, collector.NopProgress{}); err != nil {
			t.Fatal(err)
		}
		second := srv.Requests()
		t.Logf("demo org (compare each: %v): first sync %d requests (%d REST units, %d GraphQL queries, %d points) for %d merged PRs, %d deployments, %d incident issues: %.1f per 1,000 merged PRs; second sync %d requests, %d REST units, %d points",
			compareOnly, first.Total, first.RESTUnits, first.GraphQLQueries, first.GraphQLPoints, merged, len(ev.Deployments), len(ev.Incidents), per1000,
			second.Total, second.RESTUnits, second.GraphQLPoints)
		if merged == 0 || len(ev.Deployments) == 0 {
			t.Fatalf("demo org synced %d merged PRs, %d deployments", merged, len(ev.Deployments))
		}
		if !compareOnly && per1000 > 50 {
			t.Errorf("first sync: %.1f requests per 1,000 merged PRs, target ≤ 50", per1000)
		}
		if second.RESTUnits != 0 || second.GraphQLPoints > len(repos) {
			t.Errorf("second sync: %d REST units, %d points for %d repos", second.RESTUnits, second.GraphQLPoints, len(repos))
		}
	}
}
