package githubtest

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-github/v60/github"

	"github.com/flywheel-metrics/flywheel/collector/github/ghclient"
)

// bigOrg is one repository with n merged PRs of 8 commits and 3 reviews each, on a
// linear main branch of squash commits (the scenario of docs/benchmarks.md's request
// figures).
func bigOrg(n int) *Org {
	r := &Repo{Owner: "acme", Name: "big", CreatedAt: at(-1000), Branches: map[string]string{}}
	parent := ""
	for i := 1; i <= n; i++ {
		p := &Pull{Number: i, Title: fmt.Sprintf("PR %d", i), Author: "dev1", BaseRef: "main", HeadRef: fmt.Sprintf("b%d", i),
			CreatedAt: at(i), UpdatedAt: at(i + 2), MergedAt: atp(i + 2), ClosedAt: atp(i + 2), Labels: []string{"feature"},
			MergeCommitSHA: sha(fmt.Sprintf("sq%d", i)), Files: []string{"a.go", "b.go"}}
		for c := 0; c < 8; c++ {
			p.Commits = append(p.Commits, sha(fmt.Sprintf("p%dc%d", i, c)))
		}
		for k := 0; k < 3; k++ {
			p.Reviews = append(p.Reviews, Review{User: fmt.Sprintf("rev%d", k), State: "APPROVED", SubmittedAt: atp(i + 1)})
		}
		var ps []string
		if parent != "" {
			ps = []string{parent}
		}
		r.Commits = append(r.Commits, &Commit{SHA: p.MergeCommitSHA, Parents: ps, Message: p.Title, AuthorLogin: "dev1", AuthoredAt: at(i + 2), CommittedAt: at(i + 2)})
		parent = p.MergeCommitSHA
		r.Pulls = append(r.Pulls, p)
	}
	r.Branches["main"] = parent
	return &Org{Name: "acme", Repos: []*Repo{r}}
}

const benchPRQuery = `query($after: String) {
  rateLimit { cost }
  repository(owner: "acme", name: "big") {
    pullRequests(first: 100, after: $after, states: [MERGED], orderBy: {field: UPDATED_AT, direction: DESC}) {
      pageInfo { hasNextPage endCursor }
      nodes { number mergedAt createdAt mergeCommit { oid } labels(first: 10) { nodes { name } }
        commits(first: 100) { nodes { commit { authoredDate } } }
        reviews(first: 100) { nodes { state submittedAt author { login } } } }
    }
  }
}`

// BenchmarkGraphQLAllMergedPRs reads 1,000 merged PRs with commits and reviews
// through ghclient, 100 a query: one op is a whole first sync of the PRs.
func BenchmarkGraphQLAllMergedPRs(b *testing.B) {
	s := NewServer(bigOrg(1000), Options{GraphQLRateLimit: 1 << 30})
	defer s.Close()
	c, err := ghclient.New(ghclient.Options{BaseURL: s.RESTBaseURL()})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		var after any
		for {
			var r struct {
				Repository struct {
					PullRequests struct {
						PageInfo struct {
							HasNextPage bool
							EndCursor   string
						}
					}
				}
			}
			if err := c.GraphQL(context.Background(), benchPRQuery, map[string]any{"after": after}, &r); err != nil {
				b.Fatal(err)
			}
			if !r.Repository.PullRequests.PageInfo.HasNextPage {
				break
			}
			after = r.Repository.PullRequests.PageInfo.EndCursor
		}
	}
	st := s.Requests()
	b.ReportMetric(float64(st.GraphQLQueries)/float64(b.N), "queries/op")
	b.ReportMetric(float64(st.GraphQLPoints)/float64(b.N), "points/op")
}

// BenchmarkRESTClosedPullsPage lists one page of 100 closed PRs.
func BenchmarkRESTClosedPullsPage(b *testing.B) {
	s := NewServer(bigOrg(1000), Options{RateLimit: 1 << 30})
	defer s.Close()
	gh := github.NewClient(s.Client())
	gh, _ = gh.WithEnterpriseURLs(s.URL, s.URL)
	opts := &github.PullRequestListOptions{State: "closed", ListOptions: github.ListOptions{PerPage: 100}}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := gh.PullRequests.List(context.Background(), "acme", "big", opts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGraphQLHistory reads main's 1,000-commit history with parents, 100 a query.
func BenchmarkGraphQLHistory(b *testing.B) {
	s := NewServer(bigOrg(1000), Options{GraphQLRateLimit: 1 << 30})
	defer s.Close()
	c, _ := ghclient.New(ghclient.Options{BaseURL: s.RESTBaseURL()})
	q := `query($after: String) { repository(owner: "acme", name: "big") { ref(qualifiedName: "refs/heads/main") { target { ... on Commit {
	  history(first: 100, after: $after) { pageInfo { hasNextPage endCursor } nodes { oid committedDate parents(first: 2) { nodes { oid } } } } } } } } }`
	b.ReportAllocs()
	for b.Loop() {
		var after any
		for {
			var r struct {
				Repository struct {
					Ref struct {
						Target struct {
							History struct {
								PageInfo struct {
									HasNextPage bool
									EndCursor   string
								}
							}
						}
					}
				}
			}
			if err := c.GraphQL(context.Background(), q, map[string]any{"after": after}, &r); err != nil {
				b.Fatal(err)
			}
			h := r.Repository.Ref.Target.History.PageInfo
			if !h.HasNextPage {
				break
			}
			after = h.EndCursor
		}
	}
}
