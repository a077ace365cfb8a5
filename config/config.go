// Package config reads and validates Flywheel's YAML configuration:
// strict (unknown keys are errors), with explicit defaults, reporting every problem
// as "path: message". Secrets are read from files or environment variables only
// (ReadSecret), are never kept in a Config, and never appear in errors. A Config
// returned by Parse or Load has every default filled in; docs/configuration.md
// documents each key.
package config

// Config is the whole configuration file.
type Config struct {
	GitHub                *GitHub          `yaml:"github"`
	PagerDuty             *PagerDuty       `yaml:"pagerduty"`
	Classification        Classification   `yaml:"classification"`
	TuneUps               []TuneUp         `yaml:"tune_ups"`
	ImpactWindow          string           `yaml:"impact_window"`          // default 30d
	Windows               []string         `yaml:"windows"`                // default [7d, 30d, 90d]
	History               string           `yaml:"history"`                // default 365d
	ProductionEnvironment string           `yaml:"production_environment"` // default ^prod(uction)?$
	API                   API              `yaml:"api"`
	ChangeFailure         ChangeFailure    `yaml:"change_failure"`
	DORAThresholds        *DORAThresholds  `yaml:"dora_thresholds"`
	Storage               Storage          `yaml:"storage"`
	Services              []ServiceOptions `yaml:"services"` // optional service → team mapping for services without a repo entry
	Report                Report           `yaml:"report"`
	// IncidentTimeZone is the IANA zone ("Europe/Berlin") in which an
	// impact-start line written without a zone is read; default UTC.
	IncidentTimeZone string `yaml:"incident_time_zone"`
}

// Report is the report section: how the reports present a number.
type Report struct {
	// MinSamples is the fewest values (deployments, changes, recoveries,
	// incidents) a number needs before the HTML report gives it a DORA level
	// and colour or a p90: below it the number is shown, marked "too few".
	// Default DefaultMinSamples; 1 turns the minimum off.
	MinSamples int `yaml:"min_samples"`
}

// Secret names where a token is read from: a file or an environment variable.
type Secret struct {
	TokenFile string `yaml:"token_file"`
	TokenEnv  string `yaml:"token_env"`
}

// GitHub is the github section.
type GitHub struct {
	BaseURL  string `yaml:"base_url"` // default https://api.github.com/
	Secret   `yaml:",inline"`
	App      *GitHubApp   `yaml:"app"`      // GitHub App auth instead of a token
	Schedule string       `yaml:"schedule"` // default "@every 15m"
	Orgs     []Org        `yaml:"orgs"`
	Repos    []Repo       `yaml:"repos"`
	Defaults RepoDefaults `yaml:"defaults"`
	// GraphQL: true (default) uses GitHub's GraphQL API for pull requests and the
	// deploy-branch commit graph; false uses REST only (servers without GraphQL).
	GraphQL *bool `yaml:"graphql"`
	// MaxInFlight caps concurrent requests (default 4).
	MaxInFlight int `yaml:"max_in_flight"`
}

// GitHubApp authenticates as a GitHub App installation.
type GitHubApp struct {
	AppID          int64  `yaml:"app_id"`
	InstallationID int64  `yaml:"installation_id"`
	PrivateKeyFile string `yaml:"private_key_file"`
}

// Org discovers repositories of a GitHub organisation.
type Org struct {
	Name    string `yaml:"name"`
	Include string `yaml:"include"` // regex on repo name, default ".*"
	Exclude string `yaml:"exclude"` // regex on repo name, default matches nothing
	Team    string `yaml:"team"`
}

// Repo is one listed repository; its settings override discovery and defaults.
type Repo struct {
	Name           string       `yaml:"name"`    // owner/name
	Service        string       `yaml:"service"` // default: the repo name
	Team           string       `yaml:"team"`
	Deployments    *Deployments `yaml:"deployments"`
	IncidentLabels []string     `yaml:"incident_labels"`
}

// RepoDefaults apply to every repo unless overridden.
type RepoDefaults struct {
	Deployments    Deployments `yaml:"deployments"`
	IncidentLabels []string    `yaml:"incident_labels"` // default [incident]
}

// Deployments says where a repo's deployments come from.
type Deployments struct {
	Source      string `yaml:"source"`      // deployments (default) | workflow_runs | releases
	Environment string `yaml:"environment"` // regex, source=deployments; default production_environment
	Workflow    string `yaml:"workflow"`    // source=workflow_runs, e.g. deploy.yml
	Branch      string `yaml:"branch"`      // default: the repo's default branch
}

// PagerDuty is the pagerduty section.
type PagerDuty struct {
	BaseURL  string `yaml:"base_url"` // default https://api.pagerduty.com
	Secret   `yaml:",inline"`
	Schedule string             `yaml:"schedule"` // default "@every 10m"
	Services []PagerDutyService `yaml:"services"`
}

// PagerDutyService maps a PagerDuty service to a Flywheel service.
type PagerDutyService struct {
	ID      string `yaml:"id"`      // required, unique
	Service string `yaml:"service"` // required
	Team    string `yaml:"team"`
}

// Classification overrides the default class rules (docs/kpis.md); a list
// given replaces the default.
type Classification struct {
	Fix        *ClassRules `yaml:"fix"`
	TuneUp     *ClassRules `yaml:"tune_up"`
	Innovation *ClassRules `yaml:"innovation"`
}

// ClassRules are one class's rules; Paths only for tune_up.
type ClassRules struct {
	Labels []string `yaml:"labels"`
	Types  []string `yaml:"types"`
	Paths  []string `yaml:"paths"`
}

// TuneUp is one tune-up initiative: a label, or a date range.
type TuneUp struct {
	Name         string   `yaml:"name"`
	Label        string   `yaml:"label"`
	From         string   `yaml:"from"` // date (UTC) or RFC3339
	To           string   `yaml:"to"`   // date (UTC, included) or RFC3339
	Services     []string `yaml:"services"`
	ImpactWindow string   `yaml:"impact_window"`
}

// API configures the ingest endpoint.
type API struct {
	Secret `yaml:",inline"`
	// MaxBodyBytes caps a POST /api/v1/events body (default 10 MiB).
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// MaxNewServices bounds the services, not named in the config, that the
	// store and the ingested events may hold together before an ingest
	// naming one more is refused (default 50; 0: none).
	MaxNewServices *int `yaml:"max_new_services"`
}

// NewServicesLimit is api.max_new_services, or its default when unset.
func (a API) NewServicesLimit() int {
	if a.MaxNewServices == nil {
		return DefaultMaxNewServices
	}
	return *a.MaxNewServices
}

// ChangeFailure configures incident attribution.
type ChangeFailure struct {
	AttributionWindow string   `yaml:"attribution_window"` // default 72h
	Urgencies         []string `yaml:"urgencies"`          // default: all
}

// DORAThresholds overrides the DORA level bounds, each {elite, high, medium}.
type DORAThresholds struct {
	DeploymentFrequencyPerDay *LevelBounds `yaml:"deployment_frequency_per_day"`
	LeadTime                  *LevelBounds `yaml:"lead_time"` // durations such as 1d
	ChangeFailureRatio        *LevelBounds `yaml:"change_failure_ratio"`
	RecoveryTime              *LevelBounds `yaml:"recovery_time"` // durations
}

// LevelBounds are the elite, high and medium bounds of one key, as written.
type LevelBounds struct {
	Elite  string `yaml:"elite"`
	High   string `yaml:"high"`
	Medium string `yaml:"medium"`
}

// Storage is the storage section.
type Storage struct {
	Path string `yaml:"path"` // default flywheel.db
}

// ServiceOptions names a service's team when no repo entry does.
type ServiceOptions struct {
	Name string `yaml:"name"`
	Team string `yaml:"team"`
}
