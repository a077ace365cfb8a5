package github

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/collector"
	"github.com/flywheel-metrics/flywheel/collector/github/ghclient"
)

// The GraphQL path: one repoQuery per round serves a page of every kind that still
// has pages (pull requests, deployments or releases, incident issues). The first
// round of an incremental sync asks for small pages, so a repository where nothing
// changed costs one query of one point.

// Page sizes. The probe sizes keep the first query of an incremental sync under
// 100 sub-requests by GitHub's cost formula (one point).
const (
	fullPage      = 100
	probePulls    = 15
	probeDeploys  = 15
	probeReleases = fullPage // releases select no connection: a full page costs one request
	probeIssues   = 5
)

// gqlPass is one kind's progress through its connection.
type gqlPass struct {
	on    bool // the kind is collected for this repository
	done  bool
	after *string
	first int
	since time.Time
	hw    highWater
	// shrunk keeps a page size halved after a timeout for the rest of the pass.
	shrunk bool
}

func (g *gqlPass) active() bool { return g.on && !g.done }

func (g *gqlPass) next(pi pageInfo) {
	if !pi.HasNextPage {
		g.done = true
		return
	}
	c := pi.EndCursor
	g.after = &c
	if !g.shrunk {
		g.first = fullPage
	}
}

func (s *Source) newPass(sink collector.Sink, r repoInfo, kind string, on bool, probe int) (gqlPass, error) {
	if !on {
		return gqlPass{}, nil
	}
	since, cur, incremental, err := s.since(sink, r, kind)
	if err != nil {
		return gqlPass{}, err
	}
	first := fullPage
	if incremental {
		first = probe
	}
	return gqlPass{on: true, first: first, since: since, hw: highWater{t: cur, floor: since}}, nil
}

func (s *Source) syncRepoGraphQL(ctx context.Context, sink collector.Sink, p collector.Progress, r repoInfo) error {
	src := r.Settings.DeploymentSource
	pulls, err := s.newPass(sink, r, "pulls", true, probePulls)
	if err != nil {
		return err
	}
	deps, err := s.newPass(sink, r, "deployments", src == SourceDeployments, probeDeploys)
	if err != nil {
		return err
	}
	rels, err := s.newPass(sink, r, "releases", src == SourceReleases, probeReleases)
	if err != nil {
		return err
	}
	issues, err := s.newPass(sink, r, "issues", len(r.Settings.IncidentLabels) > 0, probeIssues)
	if err != nil {
		return err
	}
	var dp deployPass
	// The deploy branch's history rides along with the rounds on a first sync of
	// the repository's deployments, or once a round has brought a deployment that
	// is new or changed; it is not read further back than the deployments.
	gr := newGraphReader()
	deployFirst := false
	var histHorizon time.Time
	switch src {
	case SourceDeployments, SourceReleases:
		pass := deps
		if src == SourceReleases {
			pass = rels
		}
		deployFirst = pass.hw.t.IsZero()
		histHorizon = pass.since.Add(-lookback - 24*time.Hour)
	case SourceWorkflowRuns:
		since, cur, _, err := s.since(sink, r, "runs")
		if err != nil {
			return err
		}
		deployFirst = cur.IsZero()
		histHorizon = since.Add(-lookback - 24*time.Hour)
	}
	var stored map[string]flywheel.Deployment
	newDeps := 0
	isNew := func(d flywheel.Deployment) (bool, error) {
		if stored == nil {
			list, err := sink.Deployments(flywheel.Query{Repo: r.FullName()})
			if err != nil {
				return false, errorf("github: read stored deployments of %s: %w", r.FullName(), err)
			}
			stored = map[string]flywheel.Deployment{}
			for _, x := range list {
				stored[x.ID] = x
			}
		}
		old, ok := stored[d.ID]
		return !ok || !sameDeployment(old, d), nil
	}
	for round := 1; pulls.active() || deps.active() || rels.active() || issues.active(); round++ {
		withHistory := !s.opts.CompareOnly && r.deployBranch() != "" && gr.more && !gr.pastHorizon(histHorizon) &&
			(deployFirst || newDeps > 0)
		vars := map[string]any{
			"withHistory": withHistory, "historyRef": "refs/heads/" + r.deployBranch(), "historyAfter": gr.after,
			"owner": r.Owner, "name": r.Name,
			"withPulls": pulls.active(), "pullsFirst": max(pulls.first, 1), "pullsAfter": pulls.after, "withFiles": s.opts.TuneUpPaths,
			"withDeployments": deps.active(), "deploymentsFirst": max(deps.first, 1), "deploymentsAfter": deps.after,
			"withReleases": rels.active(), "releasesFirst": max(rels.first, 1), "releasesAfter": rels.after,
			"withIssues": issues.active(), "issuesFirst": max(issues.first, 1), "issuesAfter": issues.after,
			"issueLabels": r.Settings.IncidentLabels, "issuesSince": issues.since.UTC().Format(time.RFC3339),
		}
		var resp repoResponse
		if err := s.opts.Client.GraphQL(ctx, repoQuery, vars, &resp); err != nil {
			// GitHub answers a query that takes longer than 10 s with a 502 or 504
			// (and ghclient has already retried it): ask again for smaller pages.
			if ctx.Err() == nil && gatewayTimeout(err) && shrink(&pulls, &deps, &issues) {
				s.opts.Logger.Info("github: query timed out; smaller pages", "repo", r.FullName(), "pulls", pulls.first)
				round--
				continue
			}
			return errorf("github: query %s: %w", r.FullName(), err)
		}
		repo := resp.Repository
		if repo == nil {
			return errorf("github: query %s: repository not found", r.FullName())
		}
		if repo.DefaultBranchRef != nil && r.DefaultBranch == "" {
			r.DefaultBranch = repo.DefaultBranchRef.Name
		}
		if withHistory {
			var h *historyConn
			if repo.DeployBranch != nil {
				h = repo.DeployBranch.Target.History
			}
			gr.add(h)
		}
		var b flywheel.Batch
		if pulls.active() {
			if repo.PullRequests == nil {
				return errorf("github: query %s: no pullRequests in the answer", r.FullName())
			}
			for _, n := range repo.PullRequests.Nodes {
				if n.UpdatedAt.Before(pulls.since) {
					pulls.done = true
					break
				}
				pulls.hw.see(n.UpdatedAt)
				d, err := s.prFromGraphQL(ctx, r, n)
				if err != nil {
					return err
				}
				if c, ok := mapChange(r, d); ok {
					b.Changes = append(b.Changes, c)
				}
			}
			if !pulls.done {
				pulls.next(repo.PullRequests.PageInfo)
			}
			if pulls.done {
				b.Cursors = append(b.Cursors, pulls.hw.cursor(r, "pulls")...)
			}
		}
		if issues.active() {
			if repo.Issues == nil {
				return errorf("github: query %s: no issues in the answer", r.FullName())
			}
			for _, n := range repo.Issues.Nodes {
				if n.UpdatedAt.Before(issues.since) {
					continue // servers that ignore filterBy.since
				}
				issues.hw.see(n.UpdatedAt)
				d, err := s.issueFromGraphQL(ctx, r, n)
				if err != nil {
					return err
				}
				if in, ok := mapIncident(r, d, s.opts.IncidentTimeZone); ok {
					b.Incidents = append(b.Incidents, in)
				}
			}
			issues.next(repo.Issues.PageInfo)
			if issues.done {
				b.Cursors = append(b.Cursors, issues.hw.cursor(r, "issues")...)
			}
		}
		if deps.active() {
			if repo.Deployments == nil {
				return errorf("github: query %s: no deployments in the answer", r.FullName())
			}
			for _, n := range repo.Deployments.Nodes {
				if n.CreatedAt.Before(deps.since.Add(-lookback)) {
					deps.done = true
					break
				}
				if n.UpdatedAt.Before(deps.since) {
					continue
				}
				deps.hw.see(n.UpdatedAt)
				d := mapDeployment(r, n.data())
				fresh, err := isNew(d)
				if err != nil {
					return err
				}
				if fresh {
					newDeps++
				}
				dp.fetched = append(dp.fetched, d)
			}
			if !deps.done {
				deps.next(repo.Deployments.PageInfo)
			}
			if deps.done {
				dp.cursors = append(dp.cursors, deps.hw.cursor(r, "deployments")...)
			}
		}
		if rels.active() {
			if repo.Releases == nil {
				return errorf("github: query %s: no releases in the answer", r.FullName())
			}
			for _, n := range repo.Releases.Nodes {
				if n.CreatedAt.Before(s.releaseHorizon(rels.since)) {
					rels.done = true
					break
				}
				if n.PublishedAt == nil || n.PublishedAt.Before(rels.since) {
					continue
				}
				rels.hw.see(*n.PublishedAt)
				rd := releaseData{TagName: n.TagName, Draft: n.IsDraft, Prerelease: n.IsPrerelease, PublishedAt: *n.PublishedAt}
				if n.TagCommit != nil {
					rd.SHA = n.TagCommit.OID
				}
				if d, ok := mapRelease(r, rd); ok {
					fresh, err := isNew(d)
					if err != nil {
						return err
					}
					if fresh {
						newDeps++
					}
					dp.fetched = append(dp.fetched, d)
				}
			}
			if !rels.done {
				rels.next(repo.Releases.PageInfo)
			}
			if rels.done {
				dp.cursors = append(dp.cursors, rels.hw.cursor(r, "releases")...)
			}
		}
		if err := s.write(ctx, sink, r, b); err != nil {
			return err
		}
		p.Total(1)
		p.Done(1, fmt.Sprintf("%s page %d", r.FullName(), round))
	}
	if src == SourceWorkflowRuns {
		var found bool
		dp, found, err = s.runsREST(ctx, sink, p, r)
		if err != nil || !found {
			return err
		}
	}
	if len(dp.fetched) == 0 && len(dp.cursors) == 0 && len(dp.validators) == 0 {
		return nil
	}
	return s.finishDeployments(ctx, sink, p, r, dp, true, gr)
}

// gatewayTimeout reports a 502 or 504 answer to a GraphQL query, GitHub's answer
// to a query that ran longer than its 10-second limit.
func gatewayTimeout(err error) bool {
	var gerr *ghclient.GraphQLError
	if errors.As(err, &gerr) {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, ": 502 ") || strings.Contains(msg, ": 504 ")
}

// minPage is the smallest page shrink goes down to.
const minPage = 5

// shrink halves the page sizes of the active passes that carry nested
// connections; false when they are all at minPage already.
func shrink(ps ...*gqlPass) bool {
	shrunk := false
	for _, p := range ps {
		if p.active() && p.first > minPage {
			p.first = max(p.first/2, minPage)
			p.shrunk, shrunk = true, true
		}
	}
	return shrunk
}

// prFromGraphQL converts a pull request node, reading further pages of its
// commits, reviews and files when it has more than 100 of them.
func (s *Source) prFromGraphQL(ctx context.Context, r repoInfo, n prNode) (prData, error) {
	d := prData{
		Number:    n.Number,
		Title:     n.Title,
		BaseRef:   n.BaseRefName,
		CreatedAt: n.CreatedAt,
	}
	if n.Author != nil {
		d.Author = n.Author.Login
	}
	if n.MergedAt != nil {
		d.MergedAt = *n.MergedAt
		if n.MergeCommit != nil {
			d.MergeSHA = n.MergeCommit.OID
		}
	}
	for _, l := range n.Labels.Nodes {
		d.Labels = append(d.Labels, l.Name)
	}
	d.CommitAuthorDates = []time.Time{}
	commits, reviews, files := n.Commits, n.Reviews, n.Files
	withFiles := s.opts.TuneUpPaths && files != nil
	if withFiles {
		d.Paths = []string{}
	}
	for {
		for _, c := range commits.Nodes {
			if c.Commit.AuthoredDate != nil {
				d.CommitAuthorDates = append(d.CommitAuthorDates, *c.Commit.AuthoredDate)
			}
		}
		for _, rv := range reviews.Nodes {
			x := review{State: rv.State}
			if rv.Author != nil {
				x.Author = rv.Author.Login
			}
			if rv.SubmittedAt != nil {
				x.SubmittedAt = *rv.SubmittedAt
			}
			d.Reviews = append(d.Reviews, x)
		}
		if withFiles {
			for _, f := range files.Nodes {
				d.Paths = append(d.Paths, f.Path)
			}
		}
		moreFiles := withFiles && files.PageInfo.HasNextPage
		if !commits.PageInfo.HasNextPage && !reviews.PageInfo.HasNextPage && !moreFiles {
			return d, nil
		}
		vars := map[string]any{"owner": r.Owner, "name": r.Name, "number": n.Number,
			"withCommits": commits.PageInfo.HasNextPage, "commitsAfter": commits.PageInfo.EndCursor,
			"withReviews": reviews.PageInfo.HasNextPage, "reviewsAfter": reviews.PageInfo.EndCursor,
			"withFiles": moreFiles, "filesAfter": nil}
		if moreFiles {
			vars["filesAfter"] = files.PageInfo.EndCursor
		}
		var resp pullMoreResponse
		if err := s.opts.Client.GraphQL(ctx, pullMoreQuery, vars, &resp); err != nil {
			return prData{}, errorf("github: query %s#%d: %w", r.FullName(), n.Number, err)
		}
		if resp.Repository == nil || resp.Repository.PullRequest == nil {
			return prData{}, errorf("github: query %s#%d: pull request not found", r.FullName(), n.Number)
		}
		pr := resp.Repository.PullRequest
		commits, reviews = connection[commitNode]{}, connection[reviewNode]{}
		if pr.Commits != nil {
			commits = *pr.Commits
		}
		if pr.Reviews != nil {
			reviews = *pr.Reviews
		}
		if moreFiles {
			if pr.Files == nil {
				return prData{}, errorf("github: query %s#%d: no files in the answer", r.FullName(), n.Number)
			}
			files = pr.Files
		} else {
			withFiles = false
		}
	}
}

// issueFromGraphQL converts an issue node, reading further pages of its comments.
func (s *Source) issueFromGraphQL(ctx context.Context, r repoInfo, n issueNode) (issueData, error) {
	d := issueData{
		Number:    n.Number,
		Title:     n.Title,
		Body:      n.Body,
		CreatedAt: n.CreatedAt,
		Open:      strings.EqualFold(n.State, "OPEN"),
	}
	if n.Author != nil {
		d.Author = n.Author.Login
	}
	if n.ClosedAt != nil {
		d.ClosedAt = *n.ClosedAt
	}
	for _, l := range n.Labels.Nodes {
		d.Labels = append(d.Labels, l.Name)
	}
	for _, t := range n.TimelineItems.Nodes {
		if t.CreatedAt != nil {
			d.AssignedAt = append(d.AssignedAt, *t.CreatedAt)
		}
	}
	comments := n.Comments
	for {
		for _, c := range comments.Nodes {
			x := comment{Body: c.Body, CreatedAt: c.CreatedAt}
			if c.Author != nil {
				x.Author = c.Author.Login
			}
			d.Comments = append(d.Comments, x)
		}
		if !comments.PageInfo.HasNextPage {
			return d, nil
		}
		var resp issueCommentsResponse
		vars := map[string]any{"owner": r.Owner, "name": r.Name, "number": n.Number, "after": comments.PageInfo.EndCursor}
		if err := s.opts.Client.GraphQL(ctx, issueCommentsQuery, vars, &resp); err != nil {
			return issueData{}, errorf("github: query comments of %s#%d: %w", r.FullName(), n.Number, err)
		}
		if resp.Repository == nil || resp.Repository.Issue == nil {
			return issueData{}, errorf("github: query comments of %s#%d: issue not found", r.FullName(), n.Number)
		}
		comments = resp.Repository.Issue.Comments
	}
}

// GraphQL answer shapes (only the fields the queries select).

type login struct {
	Login string `json:"login"`
}

type connection[T any] struct {
	PageInfo pageInfo `json:"pageInfo"`
	Nodes    []T      `json:"nodes"`
}

type labelNode struct {
	Name string `json:"name"`
}

type commitNode struct {
	Commit struct {
		AuthoredDate *time.Time `json:"authoredDate"`
	} `json:"commit"`
}

type reviewNode struct {
	State       string     `json:"state"`
	SubmittedAt *time.Time `json:"submittedAt"`
	Author      *login     `json:"author"`
}

type fileNode struct {
	Path string `json:"path"`
}

type prNode struct {
	Number      int                    `json:"number"`
	Title       string                 `json:"title"`
	CreatedAt   time.Time              `json:"createdAt"`
	UpdatedAt   time.Time              `json:"updatedAt"`
	MergedAt    *time.Time             `json:"mergedAt"`
	BaseRefName string                 `json:"baseRefName"`
	Author      *login                 `json:"author"`
	MergeCommit *struct{ OID string }  `json:"mergeCommit"`
	Labels      connection[labelNode]  `json:"labels"`
	Commits     connection[commitNode] `json:"commits"`
	Reviews     connection[reviewNode] `json:"reviews"`
	Files       *connection[fileNode]  `json:"files"`
}

type deploymentNode struct {
	DatabaseID  int64     `json:"databaseId"`
	Environment string    `json:"environment"`
	CommitOID   string    `json:"commitOid"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
	Statuses    struct {
		Nodes []struct {
			State     string    `json:"state"`
			CreatedAt time.Time `json:"createdAt"`
		} `json:"nodes"`
	} `json:"statuses"`
}

func (n deploymentNode) data() deploymentData {
	d := deploymentData{ID: n.DatabaseID, SHA: n.CommitOID, Environment: n.Environment, CreatedAt: n.CreatedAt}
	for _, st := range n.Statuses.Nodes {
		d.Statuses = append(d.Statuses, status{State: strings.ToLower(st.State), CreatedAt: st.CreatedAt})
	}
	return d
}

type releaseNode struct {
	TagName      string     `json:"tagName"`
	IsDraft      bool       `json:"isDraft"`
	IsPrerelease bool       `json:"isPrerelease"`
	CreatedAt    time.Time  `json:"createdAt"`
	PublishedAt  *time.Time `json:"publishedAt"`
	TagCommit    *struct {
		OID string `json:"oid"`
	} `json:"tagCommit"`
}

type commentNode struct {
	Author    *login    `json:"author"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"createdAt"`
}

type issueNode struct {
	Number        int                     `json:"number"`
	Title         string                  `json:"title"`
	Body          string                  `json:"body"`
	CreatedAt     time.Time               `json:"createdAt"`
	UpdatedAt     time.Time               `json:"updatedAt"`
	ClosedAt      *time.Time              `json:"closedAt"`
	State         string                  `json:"state"`
	Author        *login                  `json:"author"`
	Labels        connection[labelNode]   `json:"labels"`
	Comments      connection[commentNode] `json:"comments"`
	TimelineItems struct {
		Nodes []struct {
			CreatedAt *time.Time `json:"createdAt"`
		} `json:"nodes"`
	} `json:"timelineItems"`
}

type repoResponse struct {
	Repository *struct {
		NameWithOwner    string `json:"nameWithOwner"`
		DefaultBranchRef *struct {
			Name string `json:"name"`
		} `json:"defaultBranchRef"`
		DeployBranch *refNode                    `json:"deployBranch"`
		PullRequests *connection[prNode]         `json:"pullRequests"`
		Deployments  *connection[deploymentNode] `json:"deployments"`
		Releases     *connection[releaseNode]    `json:"releases"`
		Issues       *connection[issueNode]      `json:"issues"`
	} `json:"repository"`
}

type pullMoreResponse struct {
	Repository *struct {
		PullRequest *struct {
			Commits *connection[commitNode] `json:"commits"`
			Reviews *connection[reviewNode] `json:"reviews"`
			Files   *connection[fileNode]   `json:"files"`
		} `json:"pullRequest"`
	} `json:"repository"`
}

type issueCommentsResponse struct {
	Repository *struct {
		Issue *struct {
			Comments connection[commentNode] `json:"comments"`
		} `json:"issue"`
	} `json:"repository"`
}
