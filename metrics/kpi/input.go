package kpi

import (
	"slices"
	"strings"
	"time"

	"github.com/flywheel-metrics/flywheel"
)

// Input is the engine's own copy of a set of events, built one event at a time
// (it is a flywheel.EventSink, so a store can scan into it) and computed as of
// any number of evaluation times. A PR is reduced at once to what the KPIs read:
// its class (SPEC §4.6), its four times, service, repo and merge sha; its title,
// labels and paths are dropped, the labels kept only when they name a tune-up
// initiative (§4.7). A full recompute over a million stored PRs therefore never
// holds a million whole records (issue 3's 512 MiB budget, docs/benchmarks.md).
//
// An Input is not safe for concurrent use while events are added; Compute only
// reads it, so several computations may share one.
type Input struct {
	opts Options // with defaults
	cls  *Classifier
	// initiativeLabels are the labels of opts.TuneUps, for labelled below.
	initiativeLabels []string
	// cloneSHAs: a merge sha is copied rather than kept, because a store's
	// strings share memory with the titles and ids the Input drops.
	cloneSHAs bool

	deps []flywheel.Deployment
	chgs []change
	incs []flywheel.Incident
	// labelled holds, by index into chgs, the labels of the PRs that carry an
	// initiative's label: the only labels §4.7 reads after classification.
	labelled map[int32][]string
}

// change is one PR as the engine needs it (88 bytes, not the 256 of a
// flywheel.Change and its strings). Times are Unix nanoseconds, none when unknown.
type change struct {
	first, opened, review, merged int64
	svc, repo, mergeSHA           string
	cls                           Class
}

// NewInput returns an empty Input for opts; zero fields of opts take SPEC §3's
// defaults.
func NewInput(opts Options) *Input { return newInput(opts, true) }

func newInput(opts Options, cloneSHAs bool) *Input {
	o := withDefaults(opts)
	in := &Input{opts: o, cls: NewClassifier(o.Classification), cloneSHAs: cloneSHAs}
	for _, t := range o.TuneUps {
		if t.Label != "" {
			in.initiativeLabels = append(in.initiativeLabels, t.Label)
		}
	}
	return in
}

// Add adds every event of ev.
func (in *Input) Add(ev flywheel.Events) {
	in.Grow(len(ev.Deployments), len(ev.Changes), len(ev.Incidents))
	for i := range ev.Deployments {
		in.AddDeployment(&ev.Deployments[i])
	}
	for i := range ev.Changes {
		in.AddChange(&ev.Changes[i])
	}
	for i := range ev.Incidents {
		in.AddIncident(&ev.Incidents[i])
	}
}

// Grow makes room for that many more events of each kind.
func (in *Input) Grow(deployments, changes, incidents int) {
	in.deps = slices.Grow(in.deps, deployments)
	in.chgs = slices.Grow(in.chgs, changes)
	in.incs = slices.Grow(in.incs, incidents)
}

// AddDeployment adds a copy of d.
func (in *Input) AddDeployment(d *flywheel.Deployment) { in.deps = append(in.deps, *d) }

// AddIncident adds a copy of x.
func (in *Input) AddIncident(x *flywheel.Incident) { in.incs = append(in.incs, *x) }

// AddChange classifies c and keeps what the KPIs read of it.
func (in *Input) AddChange(c *flywheel.Change) {
	sha := c.MergeSHA
	if in.cloneSHAs {
		sha = strings.Clone(sha)
	}
	in.chgs = append(in.chgs, change{
		first: ns(c.FirstCommitAt), opened: ns(c.OpenedAt), review: ns(c.FirstReviewAt), merged: ns(c.MergedAt),
		svc: c.Service, repo: c.Repo, mergeSHA: sha, cls: in.cls.Classify(c),
	})
	for _, l := range c.Labels {
		if slices.ContainsFunc(in.initiativeLabels, func(t string) bool { return strings.EqualFold(t, l) }) {
			if in.labelled == nil {
				in.labelled = map[int32][]string{}
			}
			in.labelled[int32(len(in.chgs)-1)] = slices.Clone(c.Labels)
			break
		}
	}
}

// Counts returns the number of events of each kind that had happened before at,
// each by its own clock (a deployment's finish, a PR's opening, an incident's
// trigger); an event without that time counts as having happened.
func (in *Input) Counts(at time.Time) (deployments, changes, incidents int) {
	for i := range in.deps {
		if in.deps[i].FinishedAt.Before(at) {
			deployments++
		}
	}
	t := at.UnixNano()
	for i := range in.chgs {
		if in.chgs[i].opened < t {
			changes++
		}
	}
	for i := range in.incs {
		if in.incs[i].TriggeredAt.Before(at) {
			incidents++
		}
	}
	return deployments, changes, incidents
}

// Len returns the number of events of each kind added.
func (in *Input) Len() (deployments, changes, incidents int) {
	return len(in.deps), len(in.chgs), len(in.incs)
}
