package githubtest

import "time"

// Org is the organisation the server serves: plain data a generator fills. IDs left
// zero are assigned by the server (deterministically, in slice order).
type Org struct {
	Name  string
	Repos []*Repo
}

// Repo is one repository with its whole history.
type Repo struct {
	ID                      int64
	Owner, Name             string
	DefaultBranch           string // "main" if empty
	Archived, Fork, Private bool
	CreatedAt, UpdatedAt    time.Time
	// Commits is the commit DAG in any order; parents refer to SHAs in it.
	Commits []*Commit
	// Branches maps a branch name to its head SHA.
	Branches    map[string]string
	Pulls       []*Pull
	Deployments []*Deployment
	Runs        []*WorkflowRun
	Releases    []*Release
	// Issues share the number space with Pulls, as on GitHub.
	Issues    []*Issue
	Workflows []*Workflow
}

// FullName is "owner/name".
func (r *Repo) FullName() string { return r.Owner + "/" + r.Name }

// Commit is one node of a repo's commit DAG.
type Commit struct {
	SHA     string
	Parents []string
	Message string
	// AuthorLogin is the GitHub user of the author (also used as the git author name).
	AuthorLogin string
	// CommitterLogin "" means the author committed; "web-flow" is GitHub's merge bot.
	CommitterLogin string
	AuthoredAt     time.Time
	CommittedAt    time.Time
	Files          []string
}

// Pull is a pull request.
type Pull struct {
	ID                 int64
	Number             int
	Title, Body        string
	Author             string
	BaseRef, HeadRef   string
	HeadSHA            string // "" → last of Commits
	Labels             []string
	CreatedAt          time.Time
	UpdatedAt          time.Time
	ClosedAt, MergedAt *time.Time
	// MergeCommitSHA is served for unmerged PRs too (GitHub's test merge
	// commit); only meaningful when MergedAt is set.
	MergeCommitSHA string
	// Commits are the SHAs of the PR's own commits, oldest first (they need not be
	// in Repo.Commits; missing ones are served with the PR's author and times).
	Commits []string
	Reviews []Review
	Files   []string
	Draft   bool
}

// Review is a pull request review. SubmittedAt nil is a PENDING review.
type Review struct {
	ID          int64
	User, State string // State: APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED, PENDING
	Body        string
	SubmittedAt *time.Time
	CommitID    string
}

// Deployment is a Deployments API deployment.
type Deployment struct {
	ID                          int64
	SHA, Ref, Environment, Task string // Task "" → "deploy"
	Description                 string
	CreatedAt                   time.Time
	Creator                     string
	ProductionEnvironment       bool
	TransientEnvironment        bool
	// Statuses are oldest first in the model; the API serves them newest first.
	Statuses []DeploymentStatus
}

// DeploymentStatus is one status of a deployment.
type DeploymentStatus struct {
	ID        int64
	State     string // error, failure, inactive, in_progress, queued, pending, success
	CreatedAt time.Time
	Creator   string
}

// Workflow is an Actions workflow; runs refer to it by ID.
type Workflow struct {
	ID   int64
	Name string
	Path string // ".github/workflows/deploy.yml"; the file name is its last element
}

// WorkflowRun is an Actions workflow run.
type WorkflowRun struct {
	ID                                 int64
	WorkflowID                         int64
	Name, Path                         string // "" → the workflow's
	HeadBranch, HeadSHA, Event         string
	Status, Conclusion                 string
	CreatedAt, UpdatedAt, RunStartedAt time.Time
	RunAttempt, RunNumber              int
	Actor                              string
}

// Release is a GitHub release.
type Release struct {
	ID                             int64
	TagName, TargetCommitish, Name string
	Body                           string
	Draft, Prerelease              bool
	// CreatedAt is the date of the release's commit, not of its publication.
	CreatedAt   time.Time
	PublishedAt *time.Time
	Author      string
}

// Issue is an issue (pull requests are served through /issues too, from Pulls).
type Issue struct {
	ID                   int64
	Number               int
	Title, Body, User    string
	State                string // "open" or "closed"; "" → closed if ClosedAt set
	StateReason          string
	Labels               []string
	Assignees            []string
	CreatedAt, UpdatedAt time.Time
	ClosedAt             *time.Time
	Comments             []Comment
	// Events are the issue's timeline events (assigned, closed, reopened, labeled…).
	Events []IssueEvent
}

// Comment is an issue comment.
type Comment struct {
	ID                   int64
	User, Body           string
	CreatedAt, UpdatedAt time.Time
}

// IssueEvent is one entry of GET /issues/{n}/events.
type IssueEvent struct {
	ID        int64
	Event     string // assigned, unassigned, closed, reopened, labeled, unlabeled…
	Actor     string
	Assignee  string // for assigned/unassigned
	Label     string // for labeled/unlabeled
	CommitID  string
	CreatedAt time.Time
}
