package githubtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel/collector"
	"github.com/flywheel-metrics/flywheel/collector/github/ghclient"
)

func newGraphQLClient(t *testing.T, s *Server, clock collector.Clock) *ghclient.Client {
	t.Helper()
	c, err := ghclient.New(ghclient.Options{BaseURL: s.RESTBaseURL(), Token: "t", Clock: clock, Rand: func() float64 { return 0 }})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const prQuery = `query Q($owner: String!, $name: String!, $after: String) {
  rateLimit { cost limit remaining resetAt used }
  repo: repository(owner: $owner, name: $name) {
    defaultBranchRef { name target { oid } }
    pullRequests(first: 2, after: $after, states: [MERGED], orderBy: {field: UPDATED_AT, direction: DESC}, baseRefName: "main") {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes { ...pr }
    }
    ref(qualifiedName: "refs/heads/main") {
      target {
        __typename
        ... on Commit {
          oid
          history(first: 3) {
            totalCount
            pageInfo { hasNextPage endCursor }
            nodes { oid committedDate authoredDate parents(first: 2) { nodes { oid } } }
          }
        }
      }
    }
    back: object(expression: "main~1") { ... on Commit { oid } }
    head: object(oid: "0000000000000000000000000000000000000000") { ... on Commit { oid } }
  }
}
fragment pr on PullRequest {
  number title url createdAt updatedAt mergedAt closedAt isDraft baseRefName headRefName
  author { login }
  labels(first: 10) { nodes { name } }
  mergeCommit { oid }
  commits(first: 10) { totalCount pageInfo { hasNextPage endCursor } nodes { commit { oid authoredDate committedDate } } }
  reviews(first: 10) { totalCount pageInfo { hasNextPage endCursor } nodes { submittedAt state author { login } } }
  files(first: 10) { totalCount pageInfo { hasNextPage endCursor } nodes { path } }
}`

type pageInfo struct {
	HasNextPage bool
	EndCursor   *string
}

type prResp struct {
	RateLimit struct {
		Cost, Limit, Remaining, Used int
		ResetAt                      time.Time
	}
	Repo struct {
		DefaultBranchRef struct {
			Name   string
			Target struct{ Oid string }
		}
		PullRequests struct {
			TotalCount int
			PageInfo   pageInfo
			Nodes      []struct {
				Number                         int
				Title, URL                     string
				CreatedAt, UpdatedAt, MergedAt time.Time
				IsDraft                        bool
				BaseRefName                    string
				Author                         struct{ Login string }
				Labels                         struct{ Nodes []struct{ Name string } }
				MergeCommit                    *struct{ Oid string }
				Commits                        struct {
					TotalCount int
					Nodes      []struct {
						Commit struct {
							Oid          string
							AuthoredDate time.Time
						}
					}
				}
				Reviews struct {
					TotalCount int
					Nodes      []struct {
						SubmittedAt time.Time
						State       string
						Author      struct{ Login string }
					}
				}
				Files struct{ Nodes []struct{ Path string } }
			}
		}
		Ref struct {
			Target struct {
				Typename string `json:"__typename"`
				Oid      string
				History  struct {
					TotalCount int
					PageInfo   pageInfo
					Nodes      []struct {
						Oid     string
						Parents struct{ Nodes []struct{ Oid string } }
					}
				}
			}
		}
		Back *struct{ Oid string }
		Head *struct{ Oid string }
	}
}

func TestGraphQLPullRequestsHistoryAndPaging(t *testing.T) {
	s := NewServer(testOrg(), Options{})
	defer s.Close()
	c := newGraphQLClient(t, s, nil)
	ctx := context.Background()
	wantCost, _, err := QueryCost(prQuery, map[string]any{"owner": "acme", "name": "checkout"})
	if err != nil {
		t.Fatal(err)
	}
	var numbers []int
	var after any
	queries := 0
	for {
		var r prResp
		if err := c.GraphQL(ctx, prQuery, map[string]any{"owner": "acme", "name": "checkout", "after": after}, &r); err != nil {
			t.Fatal(err)
		}
		queries++
		pr := r.Repo.PullRequests
		if pr.TotalCount != 5 || r.RateLimit.Cost != wantCost || r.RateLimit.Remaining != 5000-queries*wantCost {
			t.Errorf("totalCount %d, rateLimit %+v (cost want %d)", pr.TotalCount, r.RateLimit, wantCost)
		}
		for _, n := range pr.Nodes {
			numbers = append(numbers, n.Number)
			if n.Number == 2 {
				if n.MergeCommit == nil || n.MergeCommit.Oid != sha("m1") || n.Commits.TotalCount != 2 ||
					n.Commits.Nodes[0].Commit.AuthoredDate != at(2) || n.Reviews.Nodes[0].Author.Login != "dev2" ||
					n.Reviews.Nodes[0].SubmittedAt != at(3) || len(n.Labels.Nodes) != 2 || n.Files.Nodes[0].Path != "src/a.go" ||
					n.MergedAt != at(12) || n.Author.Login != "dev1" || !strings.HasSuffix(n.URL, "/acme/checkout/pull/2") {
					t.Errorf("PR 2 = %+v", n)
				}
			}
		}
		if !pr.PageInfo.HasNextPage {
			break
		}
		after = *pr.PageInfo.EndCursor
	}
	if fmt.Sprint(numbers) != "[5 4 3 2 1]" || queries != 3 {
		t.Errorf("merged PRs by updatedAt desc = %v in %d queries", numbers, queries)
	}
	var r prResp
	if err := c.GraphQL(ctx, prQuery, map[string]any{"owner": "acme", "name": "checkout"}, &r); err != nil {
		t.Fatal(err)
	}
	tg := r.Repo.Ref.Target
	var hist []string
	for _, n := range tg.History.Nodes {
		var ps []string
		for _, p := range n.Parents.Nodes {
			ps = append(ps, strings.TrimLeft(p.Oid, "0"))
		}
		hist = append(hist, strings.TrimLeft(n.Oid, "0")+"("+strings.Join(ps, ",")+")")
	}
	if tg.Typename != "Commit" || tg.History.TotalCount != 6 || !tg.History.PageInfo.HasNextPage ||
		strings.Join(hist, " ") != "m1(c3,f2) f2(f1) c3(c2)" {
		t.Errorf("history = %s total %d %+v", hist, tg.History.TotalCount, tg.History.PageInfo)
	}
	if r.Repo.DefaultBranchRef.Name != "main" || r.Repo.DefaultBranchRef.Target.Oid != sha("m1") ||
		r.Repo.Back == nil || r.Repo.Back.Oid != sha("c3") || r.Repo.Head != nil {
		t.Errorf("refs: %+v back %+v head %+v", r.Repo.DefaultBranchRef, r.Repo.Back, r.Repo.Head)
	}
	st := s.Requests()
	if st.GraphQLQueries != 4 || st.GraphQLPoints != 4*wantCost || st.Count("POST /graphql", 200) != 4 || st.RESTUnits != 0 {
		t.Errorf("stats %+v", st)
	}
}

const otherQuery = `query($org: String!, $labels: [String!], $since: DateTime, $withIssues: Boolean!) {
  organization(login: $org) {
    repositories(first: 10) { totalCount nodes { nameWithOwner name isArchived isFork defaultBranchRef { name } } }
  }
  repository(owner: $org, name: "checkout") {
    deployments(first: 10, environments: ["production"], orderBy: {field: CREATED_AT, direction: DESC}) {
      nodes { databaseId environment commitOid createdAt statuses(first: 10) { nodes { state createdAt } } }
    }
    releases(first: 10, orderBy: {field: CREATED_AT, direction: DESC}) { nodes { tagName isDraft isPrerelease publishedAt tagCommit { oid } } }
    issues(first: 10, labels: $labels, filterBy: {since: $since}, orderBy: {field: UPDATED_AT, direction: DESC}) @include(if: $withIssues) {
      nodes {
        number state closedAt author { login } labels(first: 10) { nodes { name } }
        comments(first: 10) { nodes { author { login } body createdAt } }
        timelineItems(first: 10, itemTypes: [ASSIGNED_EVENT]) { nodes { __typename ... on AssignedEvent { createdAt assignee { ... on User { login } } } } }
      }
    }
  }
}`

func TestGraphQLOrganizationDeploymentsReleasesIssues(t *testing.T) {
	s := NewServer(testOrg(), Options{})
	defer s.Close()
	c := newGraphQLClient(t, s, nil)
	var r struct {
		Organization struct {
			Repositories struct {
				TotalCount int
				Nodes      []struct {
					NameWithOwner      string
					IsArchived, IsFork bool
					DefaultBranchRef   struct{ Name string }
				}
			}
		}
		Repository struct {
			Deployments struct {
				Nodes []struct {
					DatabaseID int64
					CommitOid  string
					Statuses   struct{ Nodes []struct{ State string } }
				}
			}
			Releases struct {
				Nodes []struct {
					TagName   string
					IsDraft   bool
					TagCommit *struct{ Oid string }
				}
			}
			Issues *struct {
				Nodes []struct {
					Number        int
					State         string
					Comments      struct{ Nodes []struct{ Body string } }
					TimelineItems struct {
						Nodes []struct {
							Typename  string `json:"__typename"`
							CreatedAt time.Time
							Assignee  struct{ Login string }
						}
					}
				}
			}
		}
	}
	vars := map[string]any{"org": "acme", "labels": []string{"incident"}, "since": at(0).Format(time.RFC3339), "withIssues": true}
	if err := c.GraphQL(context.Background(), otherQuery, vars, &r); err != nil {
		t.Fatal(err)
	}
	repos := r.Organization.Repositories
	if repos.TotalCount != 3 || repos.Nodes[0].NameWithOwner != "acme/checkout" || !repos.Nodes[1].IsArchived || !repos.Nodes[2].IsFork || repos.Nodes[2].DefaultBranchRef.Name != "master" {
		t.Errorf("repositories %+v", repos)
	}
	deps := r.Repository.Deployments.Nodes
	if len(deps) != 2 || deps[0].CommitOid != sha("m1") || deps[1].Statuses.Nodes[0].State != "SUCCESS" || deps[1].Statuses.Nodes[1].State != "IN_PROGRESS" {
		t.Errorf("deployments %+v", deps)
	}
	rels := r.Repository.Releases.Nodes
	if len(rels) != 3 || rels[2].TagName != "v1.0.0" || rels[2].TagCommit.Oid != sha("c3") {
		t.Errorf("releases %+v", rels)
	}
	is := r.Repository.Issues
	if is == nil || len(is.Nodes) != 1 || is.Nodes[0].Number != 100 || is.Nodes[0].State != "CLOSED" || len(is.Nodes[0].Comments.Nodes) != 2 ||
		len(is.Nodes[0].TimelineItems.Nodes) != 1 || is.Nodes[0].TimelineItems.Nodes[0].Assignee.Login != "dev2" || is.Nodes[0].TimelineItems.Nodes[0].Typename != "AssignedEvent" {
		t.Errorf("issues %+v", is)
	}
	vars["withIssues"] = false
	r.Repository.Issues = nil
	if err := c.GraphQL(context.Background(), otherQuery, vars, &r); err != nil || r.Repository.Issues != nil {
		t.Errorf("@include(if: false) still answered: %v %+v", err, r.Repository.Issues)
	}
}

func TestGraphQLErrors(t *testing.T) {
	s := NewServer(testOrg(), Options{})
	defer s.Close()
	c := newGraphQLClient(t, s, nil)
	ctx := context.Background()
	var gerr *ghclient.GraphQLError

	err := c.GraphQL(ctx, `{ repository(owner: "acme", name: "checkout") { nonsense } }`, nil, nil)
	if !errors.As(err, &gerr) || !strings.Contains(err.Error(), `Cannot query field "nonsense" on type "Repository"`) {
		t.Errorf("unknown field: %v", err)
	}
	if err := ValidateQuery(`{ repository(owner: "acme", name: "checkout") { nonsense } }`); err == nil {
		t.Error("ValidateQuery accepted an unknown field")
	}
	if err := ValidateQuery(prQuery); err != nil {
		t.Errorf("ValidateQuery(prQuery): %v", err)
	}

	var r struct{ Repository *struct{ Name string } }
	err = c.GraphQL(ctx, `{ repository(owner: "acme", name: "nope") { name } }`, nil, &r)
	if !errors.As(err, &gerr) || !gerr.HasType("NOT_FOUND") || r.Repository != nil {
		t.Errorf("missing repo: %v %+v", err, r)
	}
	err = c.GraphQL(ctx, `{ repository(owner: "acme", name: "checkout") { pullRequests(states: [MERGED]) { totalCount } } }`, nil, nil)
	if !errors.As(err, &gerr) || !gerr.HasType("MISSING_PAGINATION_BOUNDARIES") {
		t.Errorf("no first/last: %v", err)
	}
	err = c.GraphQL(ctx, `{ repository(owner: "acme", name: "checkout") { pullRequests(first: 101) { totalCount } } }`, nil, nil)
	if !errors.As(err, &gerr) || !gerr.HasType("EXCESSIVE_PAGINATION") {
		t.Errorf("first: 101: %v", err)
	}
	err = c.GraphQL(ctx, `{ repository(owner: "acme", name: "checkout") { watchers(first: 1) { totalCount } } }`, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "not simulated") {
		t.Errorf("unsimulated field must fail loudly: %v", err)
	}
}

func TestQueryCostFormula(t *testing.T) {
	for _, tc := range []struct {
		name  string
		query string
		cost  int
		nodes int
	}{
		{"documented example first:50", `{ repository(owner:"a", name:"b") { pullRequests(first: 50, states: MERGED) { nodes { commits(first: 1) { totalCount } reviews(first: 1) { totalCount } } } } }`, 1, 150},
		{"documented example first:100", `{ repository(owner:"a", name:"b") { pullRequests(first: 100) { nodes { commits(first: 100) { totalCount } reviews(first: 100) { totalCount } } } } }`, 2, 20100},
		{"GitHub docs example", `{ viewer { login repositories(first: 100) { edges { node { id issues(first: 50) { edges { node { id labels(first: 60) { edges { node { id name } } } } } } } } } } }`, 51, 305100},
		{"no connection", `{ rateLimit { cost } }`, 1, 0},
		{"history with parents", `{ repository(owner:"a", name:"b") { ref(qualifiedName:"main") { target { ... on Commit { history(first: 100) { nodes { parents(first: 2) { nodes { oid } } } } } } } } }`, 1, 300},
	} {
		cost, nodes, err := QueryCost(tc.query, nil)
		if err != nil || cost != tc.cost || nodes != tc.nodes {
			t.Errorf("%s: cost %d nodes %d err %v, want %d, %d", tc.name, cost, nodes, err, tc.cost, tc.nodes)
		}
	}
}

func TestGraphQLBudgetSpentWaitsForReset(t *testing.T) {
	clock := &fakeClock{now: t0}
	s := NewServer(testOrg(), Options{GraphQLRateLimit: 2, Now: clock.Now})
	defer s.Close()
	c := newGraphQLClient(t, s, clock)
	q := `{ rateLimit { cost remaining } repository(owner: "acme", name: "checkout") { name } }`
	for i := 0; i < 3; i++ {
		var r struct{ RateLimit struct{ Cost, Remaining int } }
		if err := c.GraphQL(context.Background(), q, nil, &r); err != nil {
			t.Fatalf("query %d: %v", i, err)
		}
	}
	if got := clock.Now().Sub(t0); got < time.Hour || got > time.Hour+2*time.Second {
		t.Errorf("waited %v, want until the reset (1h)", got)
	}
	// The client saw remaining 0 after the second query and waited before sending
	// the third, so the server never had to refuse one.
	st := s.Requests()
	if st.GraphQLQueries != 3 || st.GraphQLPoints != 3 {
		t.Errorf("stats %+v", st)
	}
	// A client that does not wait gets GitHub's 200 with a RATE_LIMITED error.
	s2 := NewServer(testOrg(), Options{GraphQLRateLimit: 1})
	defer s2.Close()
	var bodies []string
	for i := 0; i < 2; i++ {
		resp, err := s2.Client().Post(s2.GraphQLURL(), "application/json", strings.NewReader(`{"query":"{ rateLimit { cost } }"}`))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("X-RateLimit-Resource") != "graphql" {
			t.Errorf("status %d headers %v", resp.StatusCode, resp.Header)
		}
		bodies = append(bodies, string(b))
	}
	if bodies[0] != `{"data":{"rateLimit":{"cost":1}}}` || !strings.Contains(bodies[1], `"type":"RATE_LIMITED"`) {
		t.Errorf("bodies %q", bodies)
	}
}
