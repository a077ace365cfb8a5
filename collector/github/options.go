// Package github is Flywheel's GitHub source (docs/github.md): it reads
// deployments (the Deployments API, Actions workflow runs or releases), pull
// requests merged into the default branch and incident issues from GitHub's
// GraphQL API (or REST only, for servers without GraphQL), maps each deployment
// to the commits it shipped, and writes every API page as one flywheel.Batch with
// the cursors and HTTP validators it covers. Fetching lives in sync*.go and
// graphql.go/rest.go; the pure mapping from API shapes to events in mapping.go
// and commitmap.go.
package github

import (
	"log/slog"
	"regexp"
	"time"

	"github.com/flywheel-metrics/flywheel/collector"
	"github.com/flywheel-metrics/flywheel/collector/github/ghclient"
)

// Deployment sources of RepoSettings.DeploymentSource.
const (
	SourceDeployments  = "deployments"
	SourceWorkflowRuns = "workflow_runs"
	SourceReleases     = "releases"
)

// RepoSettings are the per-repository settings of the configuration (github.defaults and a
// repos entry's overrides).
type RepoSettings struct {
	// DeploymentSource is SourceDeployments (default), SourceWorkflowRuns or
	// SourceReleases.
	DeploymentSource string
	// Environment matches production environments (source deployments).
	Environment *regexp.Regexp
	// Workflow is the deploy workflow's file name (source workflow_runs).
	Workflow string
	// Branch is the deploy branch; empty means the repository's default branch.
	Branch string
	// IncidentLabels mark incident issues; empty collects no incidents.
	IncidentLabels []string
}

// RepoConfig is one listed repository.
type RepoConfig struct {
	Owner, Name string
	// Service defaults to Name.
	Service  string
	Team     string
	Settings RepoSettings
}

// OrgConfig discovers the repositories of an organisation. Archived and forked
// repositories are skipped unless listed in Options.Repos.
type OrgConfig struct {
	Name    string
	Include *regexp.Regexp // nil: all
	Exclude *regexp.Regexp // nil: none
	Team    string
}

// Options configure a Source. Client is required.
type Options struct {
	Client   *ghclient.Client
	Repos    []RepoConfig
	Orgs     []OrgConfig
	Defaults RepoSettings
	// History is how far back the first sync of a repository reaches (default 365d).
	History time.Duration
	// GraphQL (OptionsFromConfig's default: true) uses GitHub's GraphQL API for pull requests, deployments, releases,
	// incident issues and the commit graph; false is REST only. The source also
	// falls back to REST when the server answers 404 on its GraphQL endpoint.
	GraphQL bool
	// CompareOnly maps commits to deployments with one REST compare per deployment
	// instead of reading the deploy branch's commit graph (for tests and servers
	// without GraphQL, where it is implied).
	CompareOnly bool
	// TuneUpPaths fetches each PR's changed paths; only needed when tune-up path
	// rules are configured.
	TuneUpPaths bool
	// Overlap is subtracted from every high-water-mark cursor, so that updates that
	// land while a sync runs are read again (default 10m).
	Overlap time.Duration
	// IncidentTimeZone reads impact-start lines written without a zone
	// (default UTC).
	IncidentTimeZone *time.Location
	// Clock is the time source (default the wall clock); the history horizon of a
	// first sync is measured on it.
	Clock  collector.Clock
	Logger *slog.Logger
}

func (o *Options) setDefaults() {
	if o.IncidentTimeZone == nil {
		o.IncidentTimeZone = time.UTC
	}
	if o.History <= 0 {
		o.History = 365 * 24 * time.Hour
	}
	if o.Overlap <= 0 {
		o.Overlap = 10 * time.Minute
	}
	if o.Clock == nil {
		o.Clock = collector.RealClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Defaults.DeploymentSource == "" {
		o.Defaults.DeploymentSource = SourceDeployments
	}
}
