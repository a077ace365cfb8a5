// Package collector defines what a source of events is (Source), what it writes to
// (Sink), and the Scheduler that runs sources on their cron schedules. The GitHub
// and PagerDuty sources live in sub-packages; storage satisfies Sink.
package collector

import (
	"context"

	"github.com/flywheel-metrics/flywheel"
)

// Source is one scheduled API puller. Sync brings the store up to date and returns
// at a batch boundary when ctx is cancelled; it never sleeps for rate limits
// inside a fetch without honouring ctx.
type Source interface {
	// Name is the source's label value ("github", "pagerduty").
	Name() string
	// Sync runs one incremental sync, writing each page as one batch.
	Sync(ctx context.Context, sink Sink, progress Progress) error
}

// Sink is the part of the store a source needs: write a batch atomically (events,
// cursors and HTTP validators together), read back cursors, validators and the
// events a source must revisit (the previous deployment of a sequence, open
// incidents).
type Sink interface {
	WriteBatch(ctx context.Context, b flywheel.Batch) error
	// Cursor returns the stored value of a source's cursor, or "" if none.
	Cursor(source, key string) (string, error)
	// Validator returns the stored HTTP validator for key; ok is false if none.
	Validator(key string) (v flywheel.Validator, ok bool, err error)
	Deployments(q flywheel.Query) ([]flywheel.Deployment, error)
	Changes(q flywheel.Query) ([]flywheel.Change, error)
	Incidents(q flywheel.Query) ([]flywheel.Incident, error)
}

// Progress receives a source's progress for the `collect` progress bar and log
// lines. Implementations must be safe for concurrent use.
type Progress interface {
	// Total adds n expected units of work (repos, windows, pages) once known.
	Total(n int)
	// Done marks n units finished, with a short description of the last one.
	Done(n int, what string)
	// Request counts one API request with its HTTP status code (0 for a
	// transport error).
	Request(status int)
	// RateLimit reports the API budget left after the last response that carried
	// rate-limit headers (resource: "core", "graphql", "rest"…).
	RateLimit(resource string, remaining, limit int)
}

// NopProgress discards progress.
type NopProgress struct{}

func (NopProgress) Total(int)                  {}
func (NopProgress) Done(int, string)           {}
func (NopProgress) Request(int)                {}
func (NopProgress) RateLimit(string, int, int) {}
