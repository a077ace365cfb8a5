package github

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/flywheel-metrics/flywheel"
)

// This file holds the pure mapping from API shapes to flywheel events. The
// REST and GraphQL paths both convert their responses into the small structs below
// first, so one set of rules (and one set of table tests) decides what is stored.

// sourceName is the Source field of every event and the source of every cursor.
const sourceName = "github"

// repoInfo is what the mapping needs to know of a repository.
type repoInfo struct {
	Owner, Name string
	Service     string
	Team        string
	// DefaultBranch is the branch PRs must be merged into to count as changes.
	DefaultBranch string
	Settings      RepoSettings
}

// FullName is "owner/name".
func (r repoInfo) FullName() string { return r.Owner + "/" + r.Name }

// deployBranch is the branch deployments come from (workflow runs, commit graph).
func (r repoInfo) deployBranch() string {
	if r.Settings.Branch != "" {
		return r.Settings.Branch
	}
	return r.DefaultBranch
}

// status is one deployment status.
type status struct {
	State     string // lower case: success, failure, error, inactive, in_progress, queued, pending
	CreatedAt time.Time
}

// deploymentData is one GitHub deployment with its statuses (any order).
type deploymentData struct {
	ID          int64
	SHA         string
	Environment string
	CreatedAt   time.Time
	Statuses    []status
}

// mapDeployment maps a GitHub deployment (source=deployments). The latest status
// decides, with one exception: GitHub marks a successful deployment `inactive`
// when a newer one to the same environment supersedes it (auto_inactive), so an
// `inactive` latest status after a `success` keeps the deployment successful, with
// the success status's time as its finish. A deployment without statuses has not
// finished: it is stored as "pending" at its creation time and updated when its
// statuses change (its updated_at moves). Deployments to every environment are
// stored; only those matching the production regex count, which the KPI
// engine decides from Environment and Status.
func mapDeployment(r repoInfo, d deploymentData) flywheel.Deployment {
	out := flywheel.Deployment{
		ID:          fmt.Sprintf("%s/deployments/%d", r.FullName(), d.ID),
		Service:     r.Service,
		Repo:        r.FullName(),
		Environment: d.Environment,
		SHA:         d.SHA,
		Status:      "pending",
		FinishedAt:  d.CreatedAt.UTC(),
		Source:      sourceName,
	}
	sts := slices.Clone(d.Statuses)
	// Newest first; equal times keep the API's order (newest first as listed).
	sort.SliceStable(sts, func(i, j int) bool { return sts[i].CreatedAt.After(sts[j].CreatedAt) })
	if len(sts) == 0 {
		return out
	}
	latest := sts[0]
	out.Status = strings.ToLower(latest.State)
	out.FinishedAt = latest.CreatedAt.UTC()
	if out.Status == "inactive" {
		for _, s := range sts[1:] {
			if strings.EqualFold(s.State, flywheel.StatusSuccess) {
				out.Status = flywheel.StatusSuccess
				out.FinishedAt = s.CreatedAt.UTC()
				break
			}
		}
	}
	return out
}

// runData is one GitHub Actions workflow run.
type runData struct {
	ID         int64
	HeadSHA    string
	HeadBranch string
	Status     string
	Conclusion string
	UpdatedAt  time.Time
}

// productionEnvironment is the environment of deployments that come from workflow
// runs and releases: they are production by definition (the config names the
// workflow and branch that deploy to production).
const productionEnvironment = "production"

// mapRun maps a workflow run of the deploy workflow; ok is false for a run that is
// not on the deploy branch or has not completed. A completed run's status is its
// conclusion ("success", "failure", "cancelled"…); only "success" counts. The
// finish is updated_at, which is the completion time once a run has completed.
func mapRun(r repoInfo, run runData) (flywheel.Deployment, bool) {
	if run.Status != "completed" || (r.deployBranch() != "" && run.HeadBranch != r.deployBranch()) {
		return flywheel.Deployment{}, false
	}
	return flywheel.Deployment{
		ID:          fmt.Sprintf("%s/runs/%d", r.FullName(), run.ID),
		Service:     r.Service,
		Repo:        r.FullName(),
		Environment: productionEnvironment,
		SHA:         run.HeadSHA,
		FinishedAt:  run.UpdatedAt.UTC(),
		Status:      strings.ToLower(run.Conclusion),
		Source:      sourceName,
	}, true
}

// releaseData is one GitHub release with its tag resolved to a commit.
type releaseData struct {
	TagName     string
	Draft       bool
	Prerelease  bool
	PublishedAt time.Time
	SHA         string // the tag's commit
}

// mapRelease maps a release; ok is false for drafts and unpublished releases, which
// are not deployments of any kind. A prerelease is stored as status "prerelease"
// (never counting), so the data-quality view can show it. The finish is
// published_at, not created_at, which is the date of the tagged commit
// (GitHub's "List releases" reference). A release whose tag could not be resolved to a commit is skipped.
func mapRelease(r repoInfo, rel releaseData) (flywheel.Deployment, bool) {
	if rel.Draft || rel.PublishedAt.IsZero() || rel.SHA == "" {
		return flywheel.Deployment{}, false
	}
	st := flywheel.StatusSuccess
	if rel.Prerelease {
		st = "prerelease"
	}
	return flywheel.Deployment{
		ID:          fmt.Sprintf("%s/releases/%s", r.FullName(), rel.TagName),
		Service:     r.Service,
		Repo:        r.FullName(),
		Environment: productionEnvironment,
		SHA:         rel.SHA,
		FinishedAt:  rel.PublishedAt.UTC(),
		Status:      st,
		Source:      sourceName,
	}, true
}

// review is one pull-request review.
type review struct {
	Author      string
	State       string // APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED, PENDING
	SubmittedAt time.Time
}

// prData is one pull request with what the mapping needs of its commits, reviews
// and files.
type prData struct {
	Number    int
	Title     string
	Author    string
	Labels    []string
	BaseRef   string
	CreatedAt time.Time
	MergedAt  time.Time // zero: not merged
	// MergeSHA is the merge commit; GitHub fills it for unmerged PRs too (a test
	// merge commit), so it is used only when MergedAt is set.
	MergeSHA string
	// CommitAuthorDates are the author dates of the PR's commits (any order); nil
	// when unknown.
	CommitAuthorDates []time.Time
	Reviews           []review
	// Paths are the changed files; nil when not fetched.
	Paths []string
}

// mapChange maps a pull request merged into the repo's default branch;
// ok is false for a PR that is not merged or was merged into another branch.
// FirstCommitAt is the earliest author date among the PR's commits: author dates
// survive rebases and squashes (committer dates do not), at the price of trusting a
// date the author's machine wrote. FirstReviewAt is the first submitted review (any
// state but PENDING) by someone other than the author.
func mapChange(r repoInfo, pr prData) (flywheel.Change, bool) {
	if pr.MergedAt.IsZero() || (r.DefaultBranch != "" && pr.BaseRef != r.DefaultBranch) {
		return flywheel.Change{}, false
	}
	c := flywheel.Change{
		ID:       fmt.Sprintf("%s#%d", r.FullName(), pr.Number),
		Service:  r.Service,
		Repo:     r.FullName(),
		Title:    pr.Title,
		Labels:   pr.Labels,
		Author:   pr.Author,
		OpenedAt: pr.CreatedAt.UTC(),
		MergedAt: pr.MergedAt.UTC(),
		MergeSHA: pr.MergeSHA,
		Paths:    pr.Paths,
		Source:   sourceName,
	}
	for _, d := range pr.CommitAuthorDates {
		if !d.IsZero() && (c.FirstCommitAt.IsZero() || d.Before(c.FirstCommitAt)) {
			c.FirstCommitAt = d.UTC()
		}
	}
	for _, rv := range pr.Reviews {
		if strings.EqualFold(rv.State, "PENDING") || rv.SubmittedAt.IsZero() {
			continue
		}
		if rv.Author != "" && strings.EqualFold(rv.Author, pr.Author) {
			continue
		}
		if c.FirstReviewAt.IsZero() || rv.SubmittedAt.Before(c.FirstReviewAt) {
			c.FirstReviewAt = rv.SubmittedAt.UTC()
		}
	}
	return c, true
}

// comment is one issue comment.
type comment struct {
	Author    string
	Body      string
	CreatedAt time.Time
}

// issueData is one issue with its comments and assignment times.
type issueData struct {
	Number        int
	Title         string
	Body          string
	Author        string
	Labels        []string
	CreatedAt     time.Time
	Open          bool
	ClosedAt      time.Time // the last close; GitHub's closed_at is that of the final close
	IsPullRequest bool
	Comments      []comment
	AssignedAt    []time.Time
}

var sevLabel = regexp.MustCompile(`(?i)^sev[-_ ]?(\d+)$`)

// mapIncident maps an incident issue; ok is false for pull requests,
// which the issues API lists too (with a pull_request key).
//   - triggered: the issue's creation; resolved: its final close (closed_at of the
//     last close if it was reopened); an open issue is unresolved.
//   - acknowledged: the earlier of the first assignment and the first comment by
//     someone other than the opener.
//   - urgency: a label sevN (also "sev-1", case-insensitive); with several, the most
//     severe (lowest N); else "unknown".
//   - `caused-by:` and `impact-start:` lines (flywheel.IncidentNotes), from the
//     body and then the comments in time order: the last one wins, because a later
//     comment is how responders correct an earlier guess. An impact start without a
//     zone is read in tz; one that does not parse is kept as ImpactStartUnparsed.
func mapIncident(r repoInfo, is issueData, tz *time.Location) (flywheel.Incident, bool) {
	if is.IsPullRequest {
		return flywheel.Incident{}, false
	}
	in := flywheel.Incident{
		ID:          fmt.Sprintf("%s/issues/%d", r.FullName(), is.Number),
		Service:     r.Service,
		Urgency:     flywheel.UrgencyUnknown,
		Title:       is.Title,
		TriggeredAt: is.CreatedAt.UTC(),
		Source:      sourceName,
	}
	if !is.Open && !is.ClosedAt.IsZero() {
		in.ResolvedAt = is.ClosedAt.UTC()
	}
	best := -1
	for _, l := range is.Labels {
		if m := sevLabel.FindStringSubmatch(strings.TrimSpace(l)); m != nil {
			n, err := strconv.Atoi(m[1])
			if err == nil && (best < 0 || n < best) {
				best = n
			}
		}
	}
	if best >= 0 {
		in.Urgency = fmt.Sprintf("sev%d", best)
	}
	for _, a := range is.AssignedAt {
		if !a.IsZero() && (in.AcknowledgedAt.IsZero() || a.Before(in.AcknowledgedAt)) {
			in.AcknowledgedAt = a.UTC()
		}
	}
	comments := slices.Clone(is.Comments)
	sort.SliceStable(comments, func(i, j int) bool { return comments[i].CreatedAt.Before(comments[j].CreatedAt) })
	for _, c := range comments {
		if c.Author != "" && !strings.EqualFold(c.Author, is.Author) {
			if in.AcknowledgedAt.IsZero() || c.CreatedAt.Before(in.AcknowledgedAt) {
				in.AcknowledgedAt = c.CreatedAt.UTC()
			}
			break
		}
	}
	texts := make([]string, 0, 1+len(comments))
	texts = append(texts, is.Body)
	for _, c := range comments {
		texts = append(texts, c.Body)
	}
	var notes flywheel.IncidentNotes
	for _, t := range texts {
		notes.Scan(t, tz)
	}
	in.CausedBy, in.StartedAt, in.ImpactStartUnparsed = notes.CausedBy, notes.StartedAt, notes.StartUnparsed
	return in, true
}
