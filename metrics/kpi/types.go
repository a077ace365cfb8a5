// Package kpi computes every KPI of docs/kpis.md as pure functions over events and an
// evaluation time. It performs no I/O: callers load events, call Compute, and
// render or expose the Result.
package kpi

import (
	"regexp"
	"time"

	"github.com/flywheel-metrics/flywheel"
)

// Result is everything one computation yields: the JSON report and the
// all-history figures behind the Prometheus counters, histograms and data-quality
// metrics. It is what a snapshot persists.
type Result struct {
	Report  Report  `json:"report"`
	History History `json:"history"`
}

// Report is the JSON report (`flywheel report --format json`). Keys with no data are omitted.
type Report struct {
	At           time.Time               `json:"at"`
	Windows      map[string]WindowReport `json:"windows"`
	TuneUpImpact []Impact                `json:"tune_up_impact,omitempty"`
}

// WindowReport holds one window's KPIs for all services and for each service.
type WindowReport struct {
	All      *KPIs            `json:"all,omitempty"`
	Services map[string]*KPIs `json:"services,omitempty"`
}

// KPIs is one group's KPIs in one window. Nil pointers are absent values: a
// KPI without data is absent, not zero.
type KPIs struct {
	Deployments                     *int            `json:"deployments,omitempty"`
	DeploymentFrequencyPerDay       *float64        `json:"deployment_frequency_per_day,omitempty"`
	DeploymentDaysRatio             *float64        `json:"deployment_days_ratio,omitempty"`
	LeadTimeSeconds                 *Quantiles      `json:"lead_time_seconds,omitempty"`
	LeadTimeStageSeconds            *Stages         `json:"lead_time_stage_seconds,omitempty"`
	FailedDeployments               *int            `json:"failed_deployments,omitempty"`
	ChangeFailureRatio              *float64        `json:"change_failure_ratio,omitempty"`
	FailedDeploymentRecoverySeconds *Quantiles      `json:"failed_deployment_recovery_seconds,omitempty"`
	ReworkDeployments               *int            `json:"rework_deployments,omitempty"`
	ReworkRatio                     *float64        `json:"rework_ratio,omitempty"`
	Incidents                       *Incidents      `json:"incidents,omitempty"`
	ChangesByClass                  *ChangesByClass `json:"changes_by_class,omitempty"`
	TuneUpShare                     *float64        `json:"tune_up_share,omitempty"`
	DORALevel                       *DORALevels     `json:"dora_level,omitempty"`
}

// Quantiles summarises a sample; it exists only with Count > 0.
type Quantiles struct {
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	Count int     `json:"count"`
}

// Stages are the four lead-time stages.
type Stages struct {
	Coding *Quantiles `json:"coding,omitempty"`
	Pickup *Quantiles `json:"pickup,omitempty"`
	Review *Quantiles `json:"review,omitempty"`
	Deploy *Quantiles `json:"deploy,omitempty"`
}

// Incidents is the incident-response block; ByUrgency entries have
// no ByUrgency of their own.
type Incidents struct {
	Count             int                   `json:"count"`
	Open              int                   `json:"open"`
	TimeToDetect      *Quantiles            `json:"time_to_detect_seconds,omitempty"`
	TimeToAcknowledge *Quantiles            `json:"time_to_acknowledge_seconds,omitempty"`
	TimeToResolve     *Quantiles            `json:"time_to_resolve_seconds,omitempty"`
	TimeToRestore     *Quantiles            `json:"time_to_restore_seconds,omitempty"`
	ByUrgency         map[string]*Incidents `json:"by_urgency,omitempty"`
}

// ChangesByClass counts merged PRs per class, zeros included.
type ChangesByClass struct {
	Innovation   int `json:"innovation"`
	TuneUp       int `json:"tune_up"`
	Fix          int `json:"fix"`
	Unclassified int `json:"unclassified"`
}

// Level is a DORA performance level.
type Level string

const (
	Elite  Level = "elite"
	High   Level = "high"
	Medium Level = "medium"
	Low    Level = "low"
)

// DORALevels has a level for each key whose value is present.
type DORALevels struct {
	DeploymentFrequency Level `json:"deployment_frequency,omitempty"`
	LeadTime            Level `json:"lead_time,omitempty"`
	ChangeFailureRate   Level `json:"change_failure_rate,omitempty"`
	RecoveryTime        Level `json:"recovery_time,omitempty"`
}

// Impact is one tune-up initiative's before/after comparison.
type Impact struct {
	Initiative string               `json:"initiative"`
	Start      time.Time            `json:"start"`
	End        time.Time            `json:"end"`
	Scope      []string             `json:"scope"`
	KPIs       map[string]ImpactKPI `json:"kpis"`
}

// The impact KPI keys of the report.
const (
	ImpactLeadTimeP50         = "lead_time_p50_seconds"
	ImpactPickupP50           = "pickup_p50_seconds"
	ImpactDeploymentFrequency = "deployment_frequency_per_day"
	ImpactChangeFailureRatio  = "change_failure_ratio"
	ImpactRecoveryP50         = "failed_deployment_recovery_p50_seconds"
	ImpactTimeToResolveP50    = "time_to_resolve_p50_seconds"
)

// ImpactKPI compares one KPI before and after an initiative.
type ImpactKPI struct {
	Before         *float64 `json:"before,omitempty"`
	After          *float64 `json:"after,omitempty"`
	RelativeChange *float64 `json:"relative_change,omitempty"`
	NBefore        int      `json:"n_before"`
	NAfter         int      `json:"n_after"`
	PValue         *float64 `json:"p_value,omitempty"`
}

// History holds the all-history figures (as of the evaluation time) behind the
// Prometheus counters, histograms and data-quality metrics, per service.
type History struct {
	Services map[string]*ServiceHistory `json:"services"`
}

// ServiceHistory is one service's all-history figures.
type ServiceHistory struct {
	Deployments       int            `json:"deployments"`        // counting deployments
	FailedDeployments int            `json:"failed_deployments"` // failed: an incident or a rollback
	ReworkDeployments int            `json:"rework_deployments"`
	ChangesByClass    ChangesByClass `json:"changes_by_class"` // merged PRs
	// IncidentsByUrgency counts incidents triggered before at; OpenByUrgency those
	// still open at at.
	IncidentsByUrgency map[string]int `json:"incidents_by_urgency"`
	OpenByUrgency      map[string]int `json:"open_by_urgency"`
	LeadTime           Histogram      `json:"lead_time"`
	TimeToResolve      Histogram      `json:"time_to_resolve"`
	Quality            DataQuality    `json:"quality"`
}

// Histogram is a cumulative histogram: Buckets[i] counts observations ≤ Bounds[i].
type Histogram struct {
	Bounds  []float64 `json:"bounds"`
	Buckets []uint64  `json:"buckets"`
	Count   uint64    `json:"count"`
	Sum     float64   `json:"sum"`
}

// DataQuality counts what lets a user trace a wrong number.
type DataQuality struct {
	UnattributedIncidents int `json:"unattributed_incidents"`
	UndeployedChanges     int `json:"undeployed_changes"`       // merged PRs no deployment shipped
	EmptyDeployments      int `json:"empty_deployments"`        // counting deployments that shipped no known change
	TimeFallbackChanges   int `json:"time_fallback_changes"`    // PRs mapped by the time fallback
	NegativeDurations     int `json:"negative_durations"`       // inconsistent data left out of a KPI
	NonCountingDeploys    int `json:"non_counting_deployments"` // failed or non-production deployments stored
	ImpactStartUnparsed   int `json:"impact_start_unparsed"`    // incidents with an impact-start line that did not parse
}

// Options configure a computation; DefaultOptions gives the defaults.
type Options struct {
	Windows []flywheel.Window
	// ProductionEnvironment decides which imported deployments (and repos without
	// an override) are production (the config's production_environment).
	ProductionEnvironment *regexp.Regexp
	// RepoEnvironments overrides ProductionEnvironment per repo ("owner/name")
	// for collected deployments; imported ones (Source "import" or "api") keep
	// ProductionEnvironment.
	RepoEnvironments map[string]*regexp.Regexp
	// SourceEnvironments overrides ProductionEnvironment for deployments that a
	// source collected (keyed by Deployment.Source, e.g. "github": the
	// github.defaults.deployments rule) from a repo without its own entry.
	SourceEnvironments   map[string]*regexp.Regexp
	AttributionWindow    time.Duration // default 72h
	AttributionUrgencies []string      // nil: every urgency
	Classification       Classification
	TuneUps              []Initiative
	ImpactWindow         time.Duration // default 30d
	Thresholds           Thresholds
}

// Classification holds the class rules (docs/kpis.md).
type Classification struct {
	Fix        ClassRules
	TuneUp     ClassRules
	Innovation ClassRules
	// TuneUpPaths: a PR whose changed paths all match is tune_up (rule 3).
	TuneUpPaths []string
}

// ClassRules are one class's labels (globs allowed) and conventional-commit types.
type ClassRules struct {
	Labels []string
	Types  []string
}

// Initiative is a tune-up initiative: a label or a date range.
type Initiative struct {
	Name  string
	Label string
	// From is the first instant and To the end (exclusive) of a date range; a date
	// `to: 2026-03-31` ends at 2026-04-01T00:00:00Z.
	From, To     time.Time
	Services     []string
	ImpactWindow time.Duration // 0: Options.ImpactWindow
}

// Thresholds are the DORA level bounds, overridable in config.
// Each array is {elite, high, medium}.
type Thresholds struct {
	DeploymentFrequencyPerDay [3]float64 // value ≥ bound
	LeadTimeSeconds           [3]float64 // value < bound
	ChangeFailureRatio        [3]float64 // value ≤ bound
	RecoverySeconds           [3]float64 // value < bound
}

// DefaultThresholds is the DORA level table of docs/kpis.md.
var DefaultThresholds = Thresholds{
	DeploymentFrequencyPerDay: [3]float64{1.0, 1.0 / 7, 1.0 / 30},
	LeadTimeSeconds:           [3]float64{86400, 7 * 86400, 30 * 86400},
	ChangeFailureRatio:        [3]float64{0.05, 0.10, 0.15},
	RecoverySeconds:           [3]float64{3600, 86400, 7 * 86400},
}

// DefaultClassification is the default class rules; docs/kpis.md lists them
// (TestDocumentedClassification keeps the two in step).
func DefaultClassification() Classification {
	return Classification{
		Fix: ClassRules{Labels: []string{"bug", "hotfix", "incident", "revert"}, Types: []string{"fix", "hotfix", "revert"}},
		TuneUp: ClassRules{
			Labels: []string{"tune-up", "tech-debt", "refactor", "performance", "ci", "infra", "dependencies", "reliability", "tuneup:*"},
			Types:  []string{"refactor", "perf", "ci", "build", "chore", "test"},
		},
		Innovation:  ClassRules{Labels: []string{"feature", "enhancement"}, Types: []string{"feat"}},
		TuneUpPaths: []string{".github/", "ci/", "build/", "deploy/", "docs/", "Makefile", "Dockerfile", "*.md"},
	}
}

// DefaultOptions returns the defaults of docs/configuration.md.
func DefaultOptions() Options {
	return Options{
		Windows: []flywheel.Window{
			{Name: "7d", Duration: 7 * flywheel.Day},
			{Name: "30d", Duration: 30 * flywheel.Day},
			{Name: "90d", Duration: 90 * flywheel.Day},
		},
		ProductionEnvironment: regexp.MustCompile(`^prod(uction)?$`),
		AttributionWindow:     72 * time.Hour,
		Classification:        DefaultClassification(),
		ImpactWindow:          30 * flywheel.Day,
		Thresholds:            DefaultThresholds,
	}
}
