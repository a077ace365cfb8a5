package github

import (
	"context"
	"fmt"
	"path"
	"slices"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/collector"
	"github.com/flywheel-metrics/flywheel/collector/github/ghclient"
)

// The REST path: for servers without GraphQL (github.graphql: false, or a 404 on
// the GraphQL endpoint), and for workflow runs and compares on every server.
//
// Lists are read newest first and stop at the kind's cursor. Only the first page's
// validator is stored, and only with the pass's cursor in its last batch: a 304 on
// the first page then means the previous pass, complete and stored, saw the same
// newest items, so nothing changed; storing it earlier could make a 304 hide
// later pages that were never stored.

const perPage = 100

// lookback is how much further back than the cursor lists ordered by creation
// are read, for items created before the cursor and updated after it (a
// deployment that takes long to finish, a run that is re-run).
const lookback = 24 * time.Hour

func (s *Source) validator(resp *gh.Response) []flywheel.Validator {
	if v, ok := s.opts.Client.ValidatorFor(resp); ok {
		return []flywheel.Validator{v}
	}
	return nil
}

func pageDone(p collector.Progress, r repoInfo, kind string, page int) {
	p.Total(1)
	p.Done(1, fmt.Sprintf("%s %s page %d", r.FullName(), kind, page))
}

func (s *Source) syncRepoREST(ctx context.Context, sink collector.Sink, p collector.Progress, r repoInfo) error {
	branch, err := s.defaultBranchREST(ctx, sink, r)
	if err != nil {
		return err
	}
	r.DefaultBranch = branch
	if err := s.pullsREST(ctx, sink, p, r); err != nil {
		return err
	}
	if err := s.issuesREST(ctx, sink, p, r); err != nil {
		return err
	}
	var dp deployPass
	var found bool
	switch r.Settings.DeploymentSource {
	case SourceWorkflowRuns:
		dp, found, err = s.runsREST(ctx, sink, p, r)
	case SourceReleases:
		dp, found, err = s.releasesREST(ctx, sink, p, r)
	default:
		dp, found, err = s.deploymentsREST(ctx, sink, p, r)
	}
	if err != nil || !found {
		return err
	}
	return s.finishDeployments(ctx, sink, p, r, dp, false, nil)
}

// pullsREST reads closed PRs by update, newest first, and for each merged one its
// commits, reviews and (when path rules need them) files.
func (s *Source) pullsREST(ctx context.Context, sink collector.Sink, p collector.Progress, r repoInfo) error {
	since, cur, _, err := s.since(sink, r, "pulls")
	if err != nil {
		return err
	}
	hw := highWater{t: cur, floor: since}
	var vals []flywheel.Validator
	opts := &gh.PullRequestListOptions{State: "closed", Sort: "updated", Direction: "desc", ListOptions: gh.ListOptions{PerPage: perPage}}
	for page := 1; ; page++ {
		prs, resp, err := s.opts.Client.REST.PullRequests.List(ctx, r.Owner, r.Name, opts)
		closeBody(resp)
		if page == 1 && ghclient.IsNotModified(err) {
			return nil
		}
		if err != nil {
			return errorf("github: list pull requests of %s: %w", r.FullName(), err)
		}
		if page == 1 {
			vals = s.validator(resp)
		}
		var b flywheel.Batch
		done := resp.NextPage == 0
		for _, pr := range prs {
			if pr.GetUpdatedAt().Time.Before(since) {
				done = true
				break
			}
			hw.see(pr.GetUpdatedAt().Time)
			if pr.MergedAt == nil || pr.GetBase().GetRef() != r.DefaultBranch {
				continue
			}
			d, err := s.pullDetailsREST(ctx, r, pr)
			if err != nil {
				return err
			}
			if c, ok := mapChange(r, d); ok {
				b.Changes = append(b.Changes, c)
			}
		}
		if done {
			b.Cursors, b.Validators = hw.cursor(r, "pulls"), vals
		}
		if err := s.write(ctx, sink, r, b); err != nil {
			return err
		}
		pageDone(p, r, "pulls", page)
		if done {
			return nil
		}
		opts.Page = resp.NextPage
	}
}

// prFromREST converts a REST pull request (with its commits, reviews and files
// when fetched) into prData.
func prFromREST(pr *gh.PullRequest, commits []*gh.RepositoryCommit, reviews []*gh.PullRequestReview, files []*gh.CommitFile, withFiles bool) prData {
	d := prData{
		Number:    pr.GetNumber(),
		Title:     pr.GetTitle(),
		Author:    pr.GetUser().GetLogin(),
		BaseRef:   pr.GetBase().GetRef(),
		CreatedAt: pr.GetCreatedAt().Time,
		MergeSHA:  pr.GetMergeCommitSHA(),
	}
	if pr.MergedAt != nil {
		d.MergedAt = pr.MergedAt.Time
	} else {
		d.MergeSHA = ""
	}
	for _, l := range pr.Labels {
		d.Labels = append(d.Labels, l.GetName())
	}
	for _, c := range commits {
		if t := c.GetCommit().GetAuthor().GetDate(); !t.IsZero() {
			d.CommitAuthorDates = append(d.CommitAuthorDates, t.Time)
		}
	}
	for _, rv := range reviews {
		d.Reviews = append(d.Reviews, review{Author: rv.GetUser().GetLogin(), State: rv.GetState(), SubmittedAt: rv.GetSubmittedAt().Time})
	}
	if withFiles {
		d.Paths = []string{}
		for _, f := range files {
			d.Paths = append(d.Paths, f.GetFilename())
		}
	}
	return d
}

func (s *Source) pullDetailsREST(ctx context.Context, r repoInfo, pr *gh.PullRequest) (prData, error) {
	rest := s.opts.Client.REST
	n := pr.GetNumber()
	commits, err := listAll(ctx, func(o *gh.ListOptions) ([]*gh.RepositoryCommit, *gh.Response, error) {
		return rest.PullRequests.ListCommits(ctx, r.Owner, r.Name, n, o)
	})
	if err != nil {
		return prData{}, errorf("github: list commits of %s#%d: %w", r.FullName(), n, err)
	}
	reviews, err := listAll(ctx, func(o *gh.ListOptions) ([]*gh.PullRequestReview, *gh.Response, error) {
		return rest.PullRequests.ListReviews(ctx, r.Owner, r.Name, n, o)
	})
	if err != nil {
		return prData{}, errorf("github: list reviews of %s#%d: %w", r.FullName(), n, err)
	}
	var files []*gh.CommitFile
	if s.opts.TuneUpPaths {
		files, err = listAll(ctx, func(o *gh.ListOptions) ([]*gh.CommitFile, *gh.Response, error) {
			return rest.PullRequests.ListFiles(ctx, r.Owner, r.Name, n, o)
		})
		if err != nil {
			return prData{}, errorf("github: list files of %s#%d: %w", r.FullName(), n, err)
		}
	}
	return prFromREST(pr, commits, reviews, files, s.opts.TuneUpPaths), nil
}

// listAll reads every page of a list.
func listAll[T any](ctx context.Context, list func(*gh.ListOptions) ([]T, *gh.Response, error)) ([]T, error) {
	var out []T
	o := &gh.ListOptions{PerPage: perPage}
	for {
		items, resp, err := list(o)
		closeBody(resp)
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
		if resp.NextPage == 0 {
			return out, nil
		}
		o.Page = resp.NextPage
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
}

// issuesREST reads the incident issues of each label updated since the cursor,
// with their comments and assignment events.
func (s *Source) issuesREST(ctx context.Context, sink collector.Sink, p collector.Progress, r repoInfo) error {
	for _, label := range r.Settings.IncidentLabels {
		kind := "issues"
		if len(r.Settings.IncidentLabels) > 1 {
			kind = "issues:" + label
		}
		if err := s.issuesLabelREST(ctx, sink, p, r, label, kind); err != nil {
			return err
		}
	}
	return nil
}

func (s *Source) issuesLabelREST(ctx context.Context, sink collector.Sink, p collector.Progress, r repoInfo, label, kind string) error {
	since, cur, _, err := s.since(sink, r, kind)
	if err != nil {
		return err
	}
	hw := highWater{t: cur, floor: since}
	var vals []flywheel.Validator
	rest := s.opts.Client.REST
	// No `since` parameter: the URL stays the same from sync to sync, so an
	// unchanged list answers 304; the pass stops at the cursor instead.
	opts := &gh.IssueListByRepoOptions{Labels: []string{label}, State: "all",
		Sort: "updated", Direction: "desc", ListOptions: gh.ListOptions{PerPage: perPage}}
	for page := 1; ; page++ {
		issues, resp, err := rest.Issues.ListByRepo(ctx, r.Owner, r.Name, opts)
		closeBody(resp)
		if page == 1 && ghclient.IsNotModified(err) {
			return nil
		}
		if err != nil {
			return errorf("github: list issues labelled %q of %s: %w", label, r.FullName(), err)
		}
		if page == 1 {
			vals = s.validator(resp)
		}
		var b flywheel.Batch
		done := resp.NextPage == 0
		for _, is := range issues {
			if is.GetUpdatedAt().Time.Before(since) {
				done = true
				break
			}
			hw.see(is.GetUpdatedAt().Time)
			if is.IsPullRequest() {
				continue
			}
			n := is.GetNumber()
			comments, err := listAll(ctx, func(o *gh.ListOptions) ([]*gh.IssueComment, *gh.Response, error) {
				return rest.Issues.ListComments(ctx, r.Owner, r.Name, n, &gh.IssueListCommentsOptions{
					Sort: gh.String("created"), Direction: gh.String("asc"), ListOptions: *o})
			})
			if err != nil {
				return errorf("github: list comments of %s#%d: %w", r.FullName(), n, err)
			}
			events, err := listAll(ctx, func(o *gh.ListOptions) ([]*gh.IssueEvent, *gh.Response, error) {
				return rest.Issues.ListIssueEvents(ctx, r.Owner, r.Name, n, o)
			})
			if err != nil {
				return errorf("github: list events of %s#%d: %w", r.FullName(), n, err)
			}
			if in, ok := mapIncident(r, issueFromREST(is, comments, events), s.opts.IncidentTimeZone); ok {
				b.Incidents = append(b.Incidents, in)
			}
		}
		if done {
			b.Cursors, b.Validators = hw.cursor(r, kind), vals
		}
		if err := s.write(ctx, sink, r, b); err != nil {
			return err
		}
		pageDone(p, r, "issues", page)
		if done {
			return nil
		}
		opts.Page = resp.NextPage
	}
}

// issueFromREST converts a REST issue with its comments and events into issueData.
func issueFromREST(is *gh.Issue, comments []*gh.IssueComment, events []*gh.IssueEvent) issueData {
	d := issueData{
		Number:        is.GetNumber(),
		Title:         is.GetTitle(),
		Body:          is.GetBody(),
		Author:        is.GetUser().GetLogin(),
		CreatedAt:     is.GetCreatedAt().Time,
		Open:          is.GetState() == "open",
		ClosedAt:      is.GetClosedAt().Time,
		IsPullRequest: is.IsPullRequest(),
	}
	for _, l := range is.Labels {
		d.Labels = append(d.Labels, l.GetName())
	}
	for _, c := range comments {
		d.Comments = append(d.Comments, comment{Author: c.GetUser().GetLogin(), Body: c.GetBody(), CreatedAt: c.GetCreatedAt().Time})
	}
	for _, e := range events {
		if e.GetEvent() == "assigned" {
			d.AssignedAt = append(d.AssignedAt, e.GetCreatedAt().Time)
		}
	}
	return d
}

// deploymentsREST reads deployments newest first with the statuses of those
// updated since the cursor.
func (s *Source) deploymentsREST(ctx context.Context, sink collector.Sink, p collector.Progress, r repoInfo) (deployPass, bool, error) {
	since, cur, _, err := s.since(sink, r, "deployments")
	if err != nil {
		return deployPass{}, false, err
	}
	hw := highWater{t: cur, floor: since}
	var dp deployPass
	rest := s.opts.Client.REST
	opts := &gh.DeploymentsListOptions{ListOptions: gh.ListOptions{PerPage: perPage}}
	for page := 1; ; page++ {
		deps, resp, err := rest.Repositories.ListDeployments(ctx, r.Owner, r.Name, opts)
		closeBody(resp)
		if page == 1 && ghclient.IsNotModified(err) {
			return deployPass{}, false, nil
		}
		if err != nil {
			return deployPass{}, false, errorf("github: list deployments of %s: %w", r.FullName(), err)
		}
		if page == 1 {
			dp.validators = s.validator(resp)
		}
		done := resp.NextPage == 0
		for _, d := range deps {
			if d.GetCreatedAt().Time.Before(since.Add(-lookback)) {
				done = true
				break
			}
			if d.GetUpdatedAt().Time.Before(since) {
				continue
			}
			hw.see(d.GetUpdatedAt().Time)
			sts, err := listAll(ctx, func(o *gh.ListOptions) ([]*gh.DeploymentStatus, *gh.Response, error) {
				return rest.Repositories.ListDeploymentStatuses(ctx, r.Owner, r.Name, d.GetID(), o)
			})
			if err != nil {
				return deployPass{}, false, errorf("github: list statuses of deployment %d of %s: %w", d.GetID(), r.FullName(), err)
			}
			dp.fetched = append(dp.fetched, mapDeployment(r, deploymentFromREST(d, sts)))
		}
		pageDone(p, r, "deployments", page)
		if done {
			dp.cursors = hw.cursor(r, "deployments")
			return dp, true, nil
		}
		opts.Page = resp.NextPage
	}
}

// deploymentFromREST converts a REST deployment and its statuses.
func deploymentFromREST(d *gh.Deployment, sts []*gh.DeploymentStatus) deploymentData {
	out := deploymentData{ID: d.GetID(), SHA: d.GetSHA(), Environment: d.GetEnvironment(),
		CreatedAt: d.GetCreatedAt().Time}
	for _, st := range sts {
		out.Statuses = append(out.Statuses, status{State: st.GetState(), CreatedAt: st.GetCreatedAt().Time})
	}
	return out
}

// runsREST reads the deploy workflow's completed runs on the deploy branch, newest
// first. Actions has no GraphQL API, so this is REST on every server.
func (s *Source) runsREST(ctx context.Context, sink collector.Sink, p collector.Progress, r repoInfo) (deployPass, bool, error) {
	since, cur, _, err := s.since(sink, r, "runs")
	if err != nil {
		return deployPass{}, false, err
	}
	hw := highWater{t: cur, floor: since}
	var dp deployPass
	opts := &gh.ListWorkflowRunsOptions{Branch: r.deployBranch(), Status: "completed", ListOptions: gh.ListOptions{PerPage: perPage}}
	file := path.Base(r.Settings.Workflow)
	for page := 1; ; page++ {
		runs, resp, err := s.opts.Client.REST.Actions.ListWorkflowRunsByFileName(ctx, r.Owner, r.Name, file, opts)
		closeBody(resp)
		if page == 1 && ghclient.IsNotModified(err) {
			return deployPass{}, false, nil
		}
		if err != nil {
			return deployPass{}, false, errorf("github: list runs of workflow %s of %s: %w", file, r.FullName(), err)
		}
		if page == 1 {
			dp.validators = s.validator(resp)
		}
		done := resp.NextPage == 0
		for _, run := range runs.WorkflowRuns {
			if run.GetCreatedAt().Time.Before(since.Add(-lookback)) {
				done = true
				break
			}
			if run.GetUpdatedAt().Time.Before(since) {
				continue
			}
			hw.see(run.GetUpdatedAt().Time)
			if d, ok := mapRun(r, runFromREST(run)); ok {
				dp.fetched = append(dp.fetched, d)
			}
		}
		pageDone(p, r, "runs", page)
		if done {
			dp.cursors = hw.cursor(r, "runs")
			return dp, true, nil
		}
		opts.Page = resp.NextPage
	}
}

func runFromREST(run *gh.WorkflowRun) runData {
	return runData{ID: run.GetID(), HeadSHA: run.GetHeadSHA(), HeadBranch: run.GetHeadBranch(),
		Status: run.GetStatus(), Conclusion: run.GetConclusion(), UpdatedAt: run.GetUpdatedAt().Time}
}

// releaseCreatedLookback bounds how much older than the history horizon a release's
// created_at (the date of its commit, not of its publication) may be for the release to
// be found: lists are ordered by it, not by publication.
const releaseCreatedLookback = 30 * 24 * time.Hour

// releaseHorizon is the created_at at which a releases pass stops reading. Since the
// list is ordered by the commit's date, a draft published long after its commit sits
// deep in the list, below anything near the cursor: every pass, incremental ones
// included, reads back as far as a first sync does. That is cheap: on REST every
// page is conditional (an unchanged page is a 304 that costs no budget), on GraphQL
// a page of 100 releases costs one point.
func (s *Source) releaseHorizon(since time.Time) time.Time {
	h := s.opts.Clock.Now().Add(-s.opts.History)
	if since.Before(h) {
		h = since
	}
	return h.Add(-releaseCreatedLookback)
}

// releasesREST reads releases newest first; each published since the cursor has
// its tag resolved to a commit (one request). Every page's validator is stored
// with the pass's cursor, so a 304 on a page proves it is as the last complete
// pass saw it.
func (s *Source) releasesREST(ctx context.Context, sink collector.Sink, p collector.Progress, r repoInfo) (deployPass, bool, error) {
	since, cur, _, err := s.since(sink, r, "releases")
	if err != nil {
		return deployPass{}, false, err
	}
	horizon := s.releaseHorizon(since)
	hw := highWater{t: cur, floor: since}
	var dp deployPass
	changed := false
	rest := s.opts.Client.REST
	opts := &gh.ListOptions{PerPage: perPage}
	for page := 1; ; page++ {
		rels, resp, err := rest.Repositories.ListReleases(ctx, r.Owner, r.Name, opts)
		closeBody(resp)
		if ghclient.IsNotModified(err) {
			pageDone(p, r, "releases", page)
			if resp.NextPage != 0 {
				opts.Page = resp.NextPage
				continue
			}
			if !changed {
				return deployPass{}, false, nil
			}
			dp.cursors = hw.cursor(r, "releases")
			return dp, true, nil
		}
		if err != nil {
			return deployPass{}, false, errorf("github: list releases of %s page %d: %w", r.FullName(), page, err)
		}
		changed = true
		dp.validators = append(dp.validators, s.validator(resp)...)
		done := resp.NextPage == 0
		for _, rel := range rels {
			if rel.GetCreatedAt().Time.Before(horizon) {
				done = true
				break
			}
			pub := rel.GetPublishedAt().Time
			if rel.GetDraft() || pub.IsZero() || pub.Before(since) {
				continue
			}
			hw.see(pub)
			commit, resp, err := rest.Repositories.GetCommit(ctx, r.Owner, r.Name, rel.GetTagName(), nil)
			closeBody(resp)
			sha := commit.GetSHA()
			if err != nil {
				return deployPass{}, false, errorf("github: resolve tag %s of %s: %w", rel.GetTagName(), r.FullName(), err)
			}
			if d, ok := mapRelease(r, releaseData{TagName: rel.GetTagName(), Draft: rel.GetDraft(),
				Prerelease: rel.GetPrerelease(), PublishedAt: pub, SHA: sha}); ok {
				dp.fetched = append(dp.fetched, d)
			}
		}
		pageDone(p, r, "releases", page)
		if done {
			dp.cursors = hw.cursor(r, "releases")
			return dp, true, nil
		}
		opts.Page = resp.NextPage
	}
}

// compare is GitHub's compare(base...head), every page of it.
func (s *Source) compare(ctx context.Context, r repoInfo, base, head string) (commitRange, error) {
	var shas []string
	o := &gh.ListOptions{PerPage: perPage}
	st := ""
	for {
		cmp, resp, err := s.opts.Client.REST.Repositories.CompareCommits(ctx, r.Owner, r.Name, base, head, o)
		closeBody(resp)
		if err != nil {
			return commitRange{}, errorf("github: compare %s...%s of %s: %w", short(base), short(head), r.FullName(), err)
		}
		st = cmp.GetStatus()
		for _, c := range cmp.Commits {
			shas = append(shas, c.GetSHA())
		}
		if resp.NextPage == 0 || len(shas) >= cmp.GetTotalCommits() {
			break
		}
		o.Page = resp.NextPage
	}
	slices.Sort(shas)
	shas = slices.Compact(shas)
	if shas == nil {
		shas = []string{}
	}
	return commitRange{Commits: shas, Status: st}, nil
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

// closeBody closes a response's body. go-github v60 leaves it open when it returns
// an error (a 304 included), and ghclient releases its in-flight slot only on
// Close, so every answer is closed here; closing twice is harmless.
func closeBody(resp *gh.Response) {
	if resp != nil && resp.Response != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
}
