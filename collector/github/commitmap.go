package github

import (
	"context"
	"regexp"
	"slices"
	"sort"
	"time"

	"github.com/flywheel-metrics/flywheel"
)

// This file implements the commit → deployment mapping (docs/kpis.md): a counting
// deployment D(i) ships compare(D(i−1).sha...D(i).sha), the commits reachable from
// its sha and not from its predecessor's. Two resolvers give the same answer: one
// REST compare per deployment, or the deploy branch's commit graph read once with
// GraphQL and walked locally, falling back to compare where the graph cannot
// decide (a sha off the branch, a parent older than the part of history read).

// commitRange is the answer of compare(base...head).
type commitRange struct {
	// Commits are the shas reachable from head and not from base, sorted; empty
	// (non-nil) when there are none.
	Commits []string
	// Status is GitHub's compare status: ahead, behind, identical, diverged.
	Status string
}

// rangeResolver answers compare(base...head).
type rangeResolver interface {
	resolveRange(ctx context.Context, base, head string) (commitRange, error)
}

// commitGraph is part of a branch's commit graph: each known commit's parents.
// Commits whose parents were not read are absent.
type commitGraph struct {
	parents map[string][]string
}

func newCommitGraph() *commitGraph { return &commitGraph{parents: map[string][]string{}} }

// add records a commit and its parents; complete is false when the commit has more
// parents than were listed, which makes it unusable for walks.
func (g *commitGraph) add(sha string, parents []string, complete bool) {
	if !complete {
		return
	}
	g.parents[sha] = parents
}

func (g *commitGraph) has(sha string) bool {
	_, ok := g.parents[sha]
	return ok
}

// resolve computes compare(base...head) on the graph; ok is false when the graph
// cannot decide: either sha is not on it, or the walk from head reaches a commit
// whose parents were not read before it reaches base's ancestry.
//
// The ancestry of base is walked as far as the graph goes. The graph is read from
// the branch tip backwards, so a commit missing from it is older than everything
// read, and so are its ancestors (GitHub lists history children before parents);
// a commit found by the walk from head that is not in base's known ancestry is
// therefore not an ancestor of base.
func (g *commitGraph) resolve(base, head string) (commitRange, bool) {
	if !g.has(base) || !g.has(head) {
		return commitRange{}, false
	}
	if base == head {
		return commitRange{Commits: []string{}, Status: "identical"}, true
	}
	ancestors := map[string]bool{}
	stack := []string{base}
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if ancestors[c] {
			continue
		}
		ancestors[c] = true
		stack = append(stack, g.parents[c]...)
	}
	if ancestors[head] {
		return commitRange{Commits: []string{}, Status: "behind"}, true
	}
	seen := map[string]bool{}
	var commits []string
	reachedBase := false
	stack = []string{head}
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[c] {
			continue
		}
		seen[c] = true
		if ancestors[c] {
			if c == base {
				reachedBase = true
			}
			continue
		}
		ps, ok := g.parents[c]
		if !ok {
			return commitRange{}, false
		}
		commits = append(commits, c)
		stack = append(stack, ps...)
	}
	sort.Strings(commits)
	st := "diverged"
	if reachedBase {
		st = "ahead"
	}
	return commitRange{Commits: commits, Status: st}, true
}

// graphResolver resolves ranges on a commit graph, falling back to another
// resolver (compare) where the graph cannot decide.
type graphResolver struct {
	graph    *commitGraph
	fallback rangeResolver
	// fallbacks counts ranges the graph could not decide.
	fallbacks int
}

func (r *graphResolver) resolveRange(ctx context.Context, base, head string) (commitRange, error) {
	if cr, ok := r.graph.resolve(base, head); ok {
		return cr, nil
	}
	r.fallbacks++
	return r.fallback.resolveRange(ctx, base, head)
}

// counting reports whether d counts for the repo: status exactly success
// to an environment matching the repo's production regex.
func counting(d flywheel.Deployment, env *regexp.Regexp) bool {
	return d.Status == flywheel.StatusSuccess && (env == nil || env.MatchString(d.Environment))
}

// seqKey is a deployment sequence: repo and environment name.
type seqKey struct{ repo, env string }

// planMapping orders the counting deployments of every sequence that a fetched
// deployment belongs to (stored ∪ fetched, fetched winning) and returns, for each
// deployment whose commit list must be (re)computed, its predecessor's sha. A
// deployment needs it when it or its predecessor was fetched in this sync, or when
// it is stored without a list although it has a predecessor. The first counting
// deployment of a sequence gets no list (nil: the time fallback).
func planMapping(stored, fetched []flywheel.Deployment, env *regexp.Regexp) (all map[string]flywheel.Deployment, work []mappingStep) {
	all = map[string]flywheel.Deployment{}
	isNew := map[string]bool{}
	touched := map[seqKey]bool{}
	for _, d := range stored {
		all[d.ID] = d
	}
	for _, d := range fetched {
		all[d.ID] = d
		isNew[d.ID] = true
		touched[seqKey{d.Repo, d.Environment}] = true
	}
	seqs := map[seqKey][]flywheel.Deployment{}
	for _, d := range all {
		k := seqKey{d.Repo, d.Environment}
		if touched[k] && counting(d, env) {
			seqs[k] = append(seqs[k], d)
		}
	}
	keys := make([]seqKey, 0, len(seqs))
	for k := range seqs {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].repo != keys[j].repo {
			return keys[i].repo < keys[j].repo
		}
		return keys[i].env < keys[j].env
	})
	for _, k := range keys {
		seq := seqs[k]
		sortSequence(seq)
		for i, d := range seq {
			if i == 0 {
				if d.Commits != nil || d.CompareStatus != "" {
					work = append(work, mappingStep{ID: d.ID})
				}
				continue
			}
			prev := seq[i-1]
			if isNew[d.ID] || isNew[prev.ID] || d.Commits == nil {
				work = append(work, mappingStep{ID: d.ID, Base: prev.SHA, Head: d.SHA})
			}
		}
	}
	return all, work
}

// mappingStep is one deployment whose commit list is computed as
// compare(Base...Head); an empty Base means the first of its sequence (no list).
type mappingStep struct {
	ID         string
	Base, Head string
}

// sortSequence orders a sequence by finish, ties broken by id.
func sortSequence(seq []flywheel.Deployment) {
	slices.SortFunc(seq, func(a, b flywheel.Deployment) int {
		if c := a.FinishedAt.Compare(b.FinishedAt); c != 0 {
			return c
		}
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
}

// applyMapping resolves every step and returns the deployments that changed,
// keyed by id.
func applyMapping(ctx context.Context, all map[string]flywheel.Deployment, work []mappingStep, res rangeResolver) (map[string]flywheel.Deployment, error) {
	changed := map[string]flywheel.Deployment{}
	for _, st := range work {
		d := all[st.ID]
		if st.Base == "" {
			d.Commits, d.CompareStatus = nil, ""
		} else {
			cr, err := res.resolveRange(ctx, st.Base, st.Head)
			if err != nil {
				return nil, err
			}
			d.Commits, d.CompareStatus = cr.Commits, cr.Status
		}
		changed[d.ID] = d
	}
	return changed, nil
}

// oldestFinish is the earliest finish among the deployments named by the steps'
// bases and heads, the point back to which the commit graph must be read.
func oldestFinish(all map[string]flywheel.Deployment, work []mappingStep) time.Time {
	shas := map[string]bool{}
	for _, st := range work {
		if st.Base != "" {
			shas[st.Base], shas[st.Head] = true, true
		}
	}
	var oldest time.Time
	for _, d := range all {
		if shas[d.SHA] && (oldest.IsZero() || d.FinishedAt.Before(oldest)) {
			oldest = d.FinishedAt
		}
	}
	return oldest
}
