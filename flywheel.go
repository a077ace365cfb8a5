// Package flywheel holds the domain vocabulary of Flywheel: the deployments, changes
// and incidents that collectors gather and the KPI engine reads, and the batches in
// which they are stored. It uses the standard library only and performs no I/O.
package flywheel

import (
	"slices"
	"time"
)

// Kind names one of the three event kinds of the neutral format.
type Kind string

const (
	KindDeployment Kind = "deployment"
	KindChange     Kind = "change"
	KindIncident   Kind = "incident"
)

// Deployment is one attempt to ship a service to an environment. Only counting
// deployments (status exactly "success", to a production environment) enter
// the KPIs; the others are kept for the data-quality view.
type Deployment struct {
	ID          string    `json:"id"`
	Service     string    `json:"service"`
	Repo        string    `json:"repo,omitempty"`
	Environment string    `json:"environment"`
	SHA         string    `json:"sha"`
	FinishedAt  time.Time `json:"finished_at"`
	Status      string    `json:"status"`
	// Commits is the deployment's commit list: nil means unknown, an
	// empty non-nil slice a known empty range.
	Commits []string `json:"commits,omitempty"`
	// CompareStatus is GitHub's compare status of the previous counting deployment
	// of the sequence to this one ("ahead", "behind", "identical", "diverged"), or
	// empty when unknown; "behind" makes the deployment a rollback.
	CompareStatus string `json:"compare_status,omitempty"`
	// Source names the collector that produced the record ("github", "import", …).
	Source string `json:"source,omitempty"`
}

// StatusSuccess is the only deployment status that counts.
const StatusSuccess = "success"

// Change is a pull request (or any reviewed change). A zero time is unknown.
type Change struct {
	ID            string    `json:"id"`
	Service       string    `json:"service"`
	Repo          string    `json:"repo,omitempty"`
	Title         string    `json:"title,omitempty"`
	Labels        []string  `json:"labels,omitempty"`
	Author        string    `json:"author,omitempty"`
	FirstCommitAt time.Time `json:"first_commit_at,omitzero"`
	OpenedAt      time.Time `json:"opened_at"`
	// FirstReviewAt is the first submitted review by someone other than the author.
	FirstReviewAt time.Time `json:"first_review_at,omitzero"`
	MergedAt      time.Time `json:"merged_at,omitzero"`
	MergeSHA      string    `json:"merge_sha,omitempty"`
	// Paths is nil when the changed paths are unknown.
	Paths  []string `json:"paths,omitempty"`
	Source string   `json:"source,omitempty"`
}

// Merged reports whether the change was merged (at any time).
func (c Change) Merged() bool { return !c.MergedAt.IsZero() }

// Incident is a production incident. A zero time is unknown (or, for
// AcknowledgedAt and ResolvedAt, not yet happened).
type Incident struct {
	ID      string `json:"id"`
	Service string `json:"service"`
	// Urgency is PagerDuty's urgency ("high", "low"), a GitHub severity label
	// ("sev1", …), or UrgencyUnknown.
	Urgency        string    `json:"urgency"`
	Priority       string    `json:"priority,omitempty"`
	Title          string    `json:"title,omitempty"`
	StartedAt      time.Time `json:"started_at,omitzero"`
	TriggeredAt    time.Time `json:"triggered_at"`
	AcknowledgedAt time.Time `json:"acknowledged_at,omitzero"`
	ResolvedAt     time.Time `json:"resolved_at,omitzero"`
	// CausedBy names the deployment that caused the incident as a person wrote
	// it (see ParseCausedBy: an id, a sha or prefix, a URL, owner/repo#N),
	// CausedByNone, or empty when not named.
	CausedBy string `json:"caused_by,omitempty"`
	// ImpactStartUnparsed is the value of an impact-start line that did not
	// parse (see IncidentNotes), kept so that it is reported, not lost.
	ImpactStartUnparsed string `json:"impact_start_unparsed,omitempty"`
	Source              string `json:"source,omitempty"`
}

const (
	UrgencyUnknown = "unknown"
	CausedByNone   = "none"
)

// Events is a set of events of all three kinds.
type Events struct {
	Deployments []Deployment
	Changes     []Change
	Incidents   []Incident
}

// Len is the number of events of all kinds.
func (e Events) Len() int { return len(e.Deployments) + len(e.Changes) + len(e.Incidents) }

// EventSink takes events one at a time, as a store's scan reads them, so that a
// reader can keep less than whole records (the KPI engine keeps a PR's class,
// not its title, labels and paths). The record passed is the caller's again
// once the call returns and may be reused for the next: a sink copies what it
// keeps. The strings and slices inside a record are never changed afterwards
// and may be kept.
type EventSink interface {
	// Grow is told, before any record, about how many of each kind will come
	// (a hint), so that the sink can allocate once.
	Grow(deployments, changes, incidents int)
	AddDeployment(*Deployment)
	AddChange(*Change)
	AddIncident(*Incident)
}

// SendTo passes every event to sink, deployments first, then changes, then
// incidents, as a store's scan does, announcing the counts first.
func (e Events) SendTo(sink EventSink) {
	sink.Grow(len(e.Deployments), len(e.Changes), len(e.Incidents))
	for i := range e.Deployments {
		sink.AddDeployment(&e.Deployments[i])
	}
	for i := range e.Changes {
		sink.AddChange(&e.Changes[i])
	}
	for i := range e.Incidents {
		sink.AddIncident(&e.Incidents[i])
	}
}

// Grow makes room for that many more events of each kind.
func (e *Events) Grow(deployments, changes, incidents int) {
	e.Deployments = slices.Grow(e.Deployments, deployments)
	e.Changes = slices.Grow(e.Changes, changes)
	e.Incidents = slices.Grow(e.Incidents, incidents)
}

// AddDeployment appends a copy of d: *Events is the sink that keeps everything.
func (e *Events) AddDeployment(d *Deployment) { e.Deployments = append(e.Deployments, *d) }

// AddChange appends a copy of c.
func (e *Events) AddChange(c *Change) { e.Changes = append(e.Changes, *c) }

// AddIncident appends a copy of x.
func (e *Events) AddIncident(x *Incident) { e.Incidents = append(e.Incidents, *x) }

// Cursor is a source's sync position for one key (a repo, a PagerDuty window…). It
// is written in the same transaction as the events it covers, so a cursor never
// moves past data that was not stored.
type Cursor struct {
	Source string `json:"source"`
	Key    string `json:"key"`
	Value  string `json:"value"`
}

// Validator is the HTTP cache validator of one request, for conditional requests.
type Validator struct {
	Key          string `json:"key"` // usually the request URL without auth
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
}

// Batch is one unit of storage: everything one API page or one import produced.
// A store writes a batch in one transaction, all of it or nothing.
type Batch struct {
	Events
	Cursors    []Cursor
	Validators []Validator
}

// Query selects events of one kind by time range and, optionally, service or repo.
// The time is the kind's own clock: FinishedAt for deployments, MergedAt (else
// OpenedAt) for changes, TriggeredAt for incidents. Zero bounds are unbounded; the
// range is [From, To).
type Query struct {
	Service string
	Repo    string
	From    time.Time
	To      time.Time
}

// ChangeTime is the time by which a change is ordered and queried.
func ChangeTime(c Change) time.Time {
	if c.Merged() {
		return c.MergedAt
	}
	return c.OpenedAt
}

// SourceStatus is the health of one source's last sync, for the collector-health
// metrics.
type SourceStatus struct {
	Source        string        `json:"source"`
	LastAttempt   time.Time     `json:"last_attempt,omitzero"`
	LastSuccess   time.Time     `json:"last_success,omitzero"`
	LastDuration  time.Duration `json:"last_duration"`
	LastError     string        `json:"last_error,omitempty"`
	Failures      int64         `json:"failures"`
	Running       bool          `json:"running"`
	EventsWritten int64         `json:"events_written"`
	// Requests counts API requests by HTTP status code ("200", "304", "0" for a
	// transport error) over the process's life.
	Requests map[string]int64 `json:"requests,omitempty"`
	// RateLimitRemaining is the smallest API budget left among the source's rate
	// limit resources after its last response with rate-limit headers; -1 unknown.
	RateLimitRemaining int `json:"rate_limit_remaining"`
	// SyncInterval is the longest gap between consecutive runs of the source's
	// schedule, the time after which a sync is overdue; 0 until known.
	SyncInterval time.Duration `json:"sync_interval,omitempty"`
}
