package github

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel"
)

// dag is a test commit graph, with a compare computed from full ancestry: the
// ground truth that GitHub's compare API answers.
type dag map[string][]string

func (g dag) ancestors(sha string) map[string]bool {
	out := map[string]bool{}
	stack := []string{sha}
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if out[c] {
			continue
		}
		out[c] = true
		stack = append(stack, g[c]...)
	}
	return out
}

type dagCompare struct {
	g     dag
	calls int
}

func (d *dagCompare) resolveRange(_ context.Context, base, head string) (commitRange, error) {
	d.calls++
	if _, ok := d.g[head]; !ok {
		return commitRange{}, fmt.Errorf("compare: no commit %s", head)
	}
	a, h := d.g.ancestors(base), d.g.ancestors(head)
	commits := []string{}
	for c := range h {
		if !a[c] {
			commits = append(commits, c)
		}
	}
	slices.Sort(commits)
	st := "diverged"
	switch {
	case base == head:
		st = "identical"
	case a[head]:
		st = "behind"
	case h[base]:
		st = "ahead"
	}
	return commitRange{Commits: commits, Status: st}, nil
}

// testDAG has squash, rebase and merge commits and a hotfix off the branch.
var testDAG = dag{
	"c1": nil,
	"c2": {"c1"},
	"c3": {"c2"}, // squash merge of PR 1
	"c4": {"c3"}, // PR 2 rebase-merged as c4, c5
	"c5": {"c4"},
	"f1": {"c3"}, // feature branch off c3 …
	"f2": {"f1"},
	"m6": {"c5", "f2"}, // … merged with a merge commit
	"c7": {"m6"},
	"c8": {"c7"},
	"h1": {"c4"}, // hotfix off c4, never on main
}

// mainHistory is the deploy branch newest first, children before parents, as
// GitHub's history lists it.
var mainHistory = []string{"c8", "c7", "m6", "f2", "f1", "c5", "c4", "c3", "c2", "c1"}

func testDeployments() []flywheel.Deployment {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	d := func(n int, sha, env, st string) flywheel.Deployment {
		return flywheel.Deployment{ID: fmt.Sprintf("acme/checkout/deployments/%d", n), Service: "checkout", Repo: "acme/checkout",
			Environment: env, SHA: sha, Status: st, FinishedAt: t0.Add(time.Duration(n) * time.Hour), Source: "github"}
	}
	return []flywheel.Deployment{
		d(1, "c2", "production", "success"),
		d(2, "c3", "production", "success"),
		d(3, "c5", "staging", "success"), // another environment: never counts
		d(4, "c5", "production", "success"),
		d(5, "f1", "production", "failure"), // failed: not counting
		d(6, "m6", "production", "success"),
		d(7, "c3", "production", "success"), // rollback
		d(8, "m6", "production", "success"), // roll forward
		d(9, "h1", "production", "success"), // hotfix off the branch
		d(10, "c8", "production", "success"),
		d(11, "c8", "production", "success"), // redeploy of the same sha
	}
}

var prodEnv = regexp.MustCompile(`^prod(uction)?$`)

func graphOf(history []string, g dag) *commitGraph {
	cg := newCommitGraph()
	for _, c := range history {
		cg.add(c, g[c], true)
	}
	return cg
}

func mapAll(t *testing.T, res rangeResolver, stored, fetched []flywheel.Deployment) map[string]flywheel.Deployment {
	t.Helper()
	all, work := planMapping(stored, fetched, prodEnv)
	changed, err := applyMapping(context.Background(), all, work, res)
	if err != nil {
		t.Fatal(err)
	}
	for id, d := range changed {
		all[id] = d
	}
	return all
}

func TestCommitMappingCompareAndGraphAgree(t *testing.T) {
	deps := testDeployments()
	cmp := &dagCompare{g: testDAG}
	byCompare := mapAll(t, cmp, nil, deps)
	n := 0
	for _, d := range deps {
		if counting(d, prodEnv) {
			n++
		}
	}
	if cmp.calls != n-1 {
		t.Fatalf("compare way: %d compares for %d counting deployments, want one each but the first", cmp.calls, n)
	}
	want := map[string]struct {
		commits []string
		status  string
	}{
		"1":  {nil, ""}, // first of its sequence: time fallback
		"2":  {[]string{"c3"}, "ahead"},
		"3":  {nil, ""}, // staging: first and only of its sequence
		"4":  {[]string{"c4", "c5"}, "ahead"},
		"5":  {nil, ""},
		"6":  {[]string{"f1", "f2", "m6"}, "ahead"},
		"7":  {[]string{}, "behind"},
		"8":  {[]string{"c4", "c5", "f1", "f2", "m6"}, "ahead"},
		"9":  {[]string{"h1"}, "diverged"},
		"10": {[]string{"c5", "c7", "c8", "f1", "f2", "m6"}, "diverged"},
		"11": {[]string{}, "identical"},
	}
	for n, w := range want {
		d := byCompare["acme/checkout/deployments/"+n]
		if !slices.Equal(d.Commits, w.commits) || (d.Commits == nil) != (w.commits == nil) || d.CompareStatus != w.status {
			t.Errorf("deployment %s: got %v %q, want %v %q", n, d.Commits, d.CompareStatus, w.commits, w.status)
		}
	}

	for _, tc := range []struct {
		name          string
		history       []string
		wantFallbacks int
	}{
		{"whole branch read", mainHistory, 2},       // h1 is off the branch: 9 and 10 go to compare
		{"newest commits only", mainHistory[:4], 7}, // most shas were never read
	} {
		t.Run(tc.name, func(t *testing.T) {
			fb := &dagCompare{g: testDAG}
			gr := &graphResolver{graph: graphOf(tc.history, testDAG), fallback: fb}
			byGraph := mapAll(t, gr, nil, deps)
			for id, d := range byCompare {
				g := byGraph[id]
				if !slices.Equal(d.Commits, g.Commits) || (d.Commits == nil) != (g.Commits == nil) || d.CompareStatus != g.CompareStatus {
					t.Errorf("%s: compare %v %q, graph %v %q", id, d.Commits, d.CompareStatus, g.Commits, g.CompareStatus)
				}
			}
			if gr.fallbacks != tc.wantFallbacks || fb.calls != tc.wantFallbacks {
				t.Errorf("fallbacks to compare: %d (%d calls), want %d", gr.fallbacks, fb.calls, tc.wantFallbacks)
			}
		})
	}
}

// TestCommitMappingIncremental: deployments stored by an earlier sync keep their
// lists; a new one is compared with the stored previous one; one fetched again
// unchanged costs nothing.
func TestCommitMappingIncremental(t *testing.T) {
	deps := testDeployments()
	full := mapAll(t, &dagCompare{g: testDAG}, nil, deps)
	var stored []flywheel.Deployment
	for _, d := range deps[:9] {
		stored = append(stored, full[d.ID])
	}
	cmp := &dagCompare{g: testDAG}
	all, work := planMapping(stored, deps[9:], prodEnv)
	changed, err := applyMapping(context.Background(), all, work, cmp)
	if err != nil {
		t.Fatal(err)
	}
	if cmp.calls != 2 || len(changed) != 2 {
		t.Fatalf("incremental: %d compares, %d changed; want 2 and 2", cmp.calls, len(changed))
	}
	for id, d := range changed {
		if w := full[id]; !slices.Equal(w.Commits, d.Commits) || w.CompareStatus != d.CompareStatus {
			t.Errorf("%s: %v %q, want %v %q", id, d.Commits, d.CompareStatus, w.Commits, w.CompareStatus)
		}
	}
	// A deployment that turns successful later, between two stored ones, makes its
	// successor's list be computed again.
	late := deps[4] // f1, failed at first
	late.Status = "success"
	all, work = planMapping(stored, []flywheel.Deployment{late}, prodEnv)
	ids := []string{}
	for _, w := range work {
		ids = append(ids, w.ID)
	}
	slices.Sort(ids)
	if !slices.Equal(ids, []string{"acme/checkout/deployments/5", "acme/checkout/deployments/6"}) {
		t.Fatalf("work after a late success: %v", ids)
	}
	_ = all
}
