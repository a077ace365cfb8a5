package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/collector"
)

// deployPass is what one sync fetched of a repository's deployments, held back
// until their commit lists are known.
type deployPass struct {
	fetched    []flywheel.Deployment
	cursors    []flywheel.Cursor
	validators []flywheel.Validator
}

// deploymentPageSize is how many deployments go into one batch after mapping.
const deploymentPageSize = 100

// finishDeployments maps the fetched deployments' commits and writes
// them, with every stored deployment whose list changed, in batches; the pass's
// cursors and validators go in the last batch, so a failure anywhere leaves the
// cursors where they were.
func (s *Source) finishDeployments(ctx context.Context, sink collector.Sink, p collector.Progress, r repoInfo, dp deployPass, graph bool, gr *graphReader) error {
	var stored []flywheel.Deployment
	if len(dp.fetched) > 0 {
		var err error
		stored, err = sink.Deployments(flywheel.Query{Repo: r.FullName()})
		if err != nil {
			return errorf("github: read stored deployments of %s: %w", r.FullName(), err)
		}
	}
	// A deployment fetched again unchanged (the cursor overlap) keeps its stored
	// list and does not make its successor's list be computed again.
	byID := map[string]flywheel.Deployment{}
	for _, d := range stored {
		byID[d.ID] = d
	}
	var fetched []flywheel.Deployment
	// A deployment with a time outside the valid years is dropped before it
	// takes a place in the sequence whose commit ranges are mapped.
	dp.fetched = inRange(s, r, "deployment", dp.fetched, func(d *flywheel.Deployment) (string, string) { return d.ID, d.OutOfRangeTime() })
	for _, d := range dp.fetched {
		if old, ok := byID[d.ID]; ok && sameDeployment(old, d) {
			continue
		}
		fetched = append(fetched, d)
	}
	all, work := planMapping(stored, fetched, r.Settings.Environment)
	var res rangeResolver = &compareResolver{s: s, r: r, cache: map[[2]string]commitRange{}}
	needsRange := slices.ContainsFunc(work, func(st mappingStep) bool { return st.Base != "" })
	if needsRange && graph && !s.opts.CompareOnly && r.deployBranch() != "" {
		g, err := s.readGraph(ctx, p, r, work, all, gr)
		if err != nil {
			return err
		}
		res = &graphResolver{graph: g, fallback: res}
	}
	changed, err := applyMapping(ctx, all, work, res)
	if err != nil {
		return err
	}
	if gr, ok := res.(*graphResolver); ok && gr.fallbacks > 0 {
		s.opts.Logger.Debug("github: commit ranges resolved by compare", "repo", r.FullName(), "count", gr.fallbacks)
	}
	var out []flywheel.Deployment
	done := map[string]bool{}
	for _, d := range fetched {
		if c, ok := changed[d.ID]; ok {
			d = c
		}
		out = append(out, d)
		done[d.ID] = true
	}
	ids := make([]string, 0, len(changed))
	for id := range changed {
		if !done[id] {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		out = append(out, changed[id])
	}
	for start := 0; start < len(out) || start == 0; start += deploymentPageSize {
		end := min(start+deploymentPageSize, len(out))
		b := flywheel.Batch{Events: flywheel.Events{Deployments: out[start:end]}}
		if end == len(out) {
			b.Cursors, b.Validators = dp.cursors, dp.validators
		}
		if err := s.write(ctx, sink, r, b); err != nil {
			return err
		}
		if end == len(out) {
			break
		}
	}
	return nil
}

func sameDeployment(a, b flywheel.Deployment) bool {
	return a.SHA == b.SHA && a.Status == b.Status && a.Environment == b.Environment &&
		a.FinishedAt.Equal(b.FinishedAt) && a.Service == b.Service
}

// compareResolver asks GitHub's compare API, one request per 100 commits.
type compareResolver struct {
	s     *Source
	r     repoInfo
	cache map[[2]string]commitRange
}

func (c *compareResolver) resolveRange(ctx context.Context, base, head string) (commitRange, error) {
	k := [2]string{base, head}
	if cr, ok := c.cache[k]; ok {
		return cr, nil
	}
	cr, err := c.s.compare(ctx, c.r, base, head)
	if notFound(err) {
		// A sha GitHub no longer has (a force-pushed or deleted branch) or histories
		// without a common ancestor: the range is unknown for good, so the time
		// fallback maps it (nil commits), as for a first deployment. Failing instead
		// would fail every later sync of the repository's deployments.
		c.s.opts.Logger.Warn("github: commit range unknown; mapping by time", "repo", c.r.FullName(),
			"base", short(base), "head", short(head), "err", err)
		cr, err = commitRange{}, nil
	}
	if err != nil {
		return commitRange{}, err
	}
	c.cache[k] = cr
	return cr, nil
}

// graphReader reads the deploy branch's history, newest first, into a commit
// graph; its pages either ride along with the repository query's rounds or are
// read by readGraph with historyQuery.
type graphReader struct {
	g       *commitGraph
	after   *string
	more    bool // pages left
	started bool
	oldest  time.Time // committedDate of the oldest commit read
	seen    map[string]bool
}

func newGraphReader() *graphReader {
	return &graphReader{g: newCommitGraph(), more: true, seen: map[string]bool{}}
}

// add records one history page.
func (gr *graphReader) add(h *historyConn) {
	gr.started = true
	if h == nil {
		gr.more = false // the branch is gone: every range goes to compare
		return
	}
	for _, n := range h.Nodes {
		ps := make([]string, 0, len(n.Parents.Nodes))
		for _, pn := range n.Parents.Nodes {
			ps = append(ps, pn.OID)
		}
		gr.g.add(n.OID, ps, n.Parents.TotalCount <= len(ps))
		gr.seen[n.OID] = true
		if gr.oldest.IsZero() || n.CommittedDate.Before(gr.oldest) {
			gr.oldest = n.CommittedDate
		}
	}
	gr.more = h.PageInfo.HasNextPage
	c := h.PageInfo.EndCursor
	gr.after = &c
}

// pastHorizon reports whether the history read reaches back beyond t.
func (gr *graphReader) pastHorizon(t time.Time) bool {
	return !gr.more || (!gr.oldest.IsZero() && gr.oldest.Before(t))
}

// readGraph reads further history until every sha the steps name has been seen
// or the history is older than the oldest of their deployments (a sha not seen
// by then is off the branch and goes to compare).
func (s *Source) readGraph(ctx context.Context, p collector.Progress, r repoInfo, work []mappingStep, all map[string]flywheel.Deployment, gr *graphReader) (*commitGraph, error) {
	if gr == nil {
		gr = newGraphReader()
	}
	want := map[string]bool{}
	for _, st := range work {
		if st.Base != "" {
			want[st.Base], want[st.Head] = true, true
		}
	}
	// A deployed commit was committed before it was deployed; a day of slack
	// covers clock skew between the CI machine and GitHub.
	horizon := oldestFinish(all, work).Add(-24 * time.Hour)
	missing := func() bool {
		for sha := range want {
			if !gr.seen[sha] {
				return true
			}
		}
		return false
	}
	for page := 1; missing() && !(gr.started && gr.pastHorizon(horizon)); page++ {
		var resp struct {
			Repository *struct {
				Ref *refNode `json:"ref"`
			} `json:"repository"`
		}
		vars := map[string]any{"owner": r.Owner, "name": r.Name, "ref": "refs/heads/" + r.deployBranch(), "after": gr.after}
		if err := s.opts.Client.GraphQL(ctx, historyQuery, vars, &resp); err != nil {
			return nil, errorf("github: read history of %s@%s: %w", r.FullName(), r.deployBranch(), err)
		}
		p.Total(1)
		p.Done(1, fmt.Sprintf("%s history page %d", r.FullName(), page))
		var h *historyConn
		if resp.Repository != nil && resp.Repository.Ref != nil {
			h = resp.Repository.Ref.Target.History
		}
		gr.add(h)
	}
	return gr.g, nil
}

// refNode is a ref whose target's history was selected.
type refNode struct {
	Target struct {
		History *historyConn `json:"history"`
	} `json:"target"`
}

type historyConn struct {
	PageInfo pageInfo `json:"pageInfo"`
	Nodes    []struct {
		OID           string    `json:"oid"`
		CommittedDate time.Time `json:"committedDate"`
		Parents       struct {
			TotalCount int `json:"totalCount"`
			Nodes      []struct {
				OID string `json:"oid"`
			} `json:"nodes"`
		} `json:"parents"`
	} `json:"nodes"`
}

type pageInfo struct {
	HasNextPage bool   `json:"hasNextPage"`
	EndCursor   string `json:"endCursor"`
}

// notFound reports a 404 answer from go-github.
func notFound(err error) bool {
	var er *gh.ErrorResponse
	return errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusNotFound
}
