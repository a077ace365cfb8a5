package github

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel/collector/github/githubtest"
)

// baseline is what an uninterrupted first sync of an org stores.
func baseline(t *testing.T, o genOpts, sim githubtest.Options) string {
	t.Helper()
	h := newHarness(t, genOrg(o), harnessOpts{sim: sim})
	h.mustSync()
	return h.sink.events()
}

var modes = []struct {
	name string
	sim  githubtest.Options
}{{"graphql", githubtest.Options{}}, {"rest", githubtest.Options{DisableGraphQL: true}}}

// TestSyncIncremental: new PRs, deployments (which make older ones inactive) and
// an incident closed later are picked up by a second sync, which ends where a
// first sync of the changed organisation ends.
func TestSyncIncremental(t *testing.T) {
	t.Parallel()
	grown := smallOrg
	grown.prs = 52
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			h := newHarness(t, genOrg(smallOrg), harnessOpts{sim: m.sim})
			h.mustSync()
			_, changesBefore, _ := h.sink.counts()
			closeAt := genStart.Add(300 * 24 * time.Hour)
			change := func(o *githubtest.Org) {
				*o = *genOrg(grown)
				for _, r := range o.Repos {
					for _, is := range r.Issues {
						if is.State == "open" {
							is.State, is.ClosedAt, is.UpdatedAt = "closed", &closeAt, closeAt
						}
					}
				}
			}
			h.srv.Update(change)
			h.srv.Reset()
			h.mustSync()
			st := h.srv.Requests()
			t.Logf("incremental sync: %d requests, %d REST units, %d GraphQL points", st.Total, st.RESTUnits, st.GraphQLPoints)
			_, changesAfter, _ := h.sink.counts()
			if changesAfter != changesBefore+2*(grown.prs-smallOrg.prs) {
				t.Errorf("changes: %d after, %d before", changesAfter, changesBefore)
			}
			want := newHarness(t, genOrg(smallOrg), harnessOpts{sim: m.sim})
			want.srv.Update(change)
			want.mustSync()
			if a, b := want.sink.events(), h.sink.events(); a != b {
				t.Fatalf("incremental sync differs from a first sync:\n%s", firstDiff(a, b))
			}
		})
	}
}

// TestSyncResumeAfterKill: a sync stopped after any number of batches, then run
// again, ends equal to an uninterrupted one.
func TestSyncResumeAfterKill(t *testing.T) {
	t.Parallel()
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			base := newHarness(t, genOrg(smallOrg), harnessOpts{sim: m.sim})
			base.mustSync()
			want, total := base.sink.events(), base.sink.batches
			for _, killAfter := range []int{1, 2, total / 2, total - 1} {
				h := newHarness(t, genOrg(smallOrg), harnessOpts{sim: m.sim})
				ctx, cancel := context.WithCancel(context.Background())
				h.sink.afterWrite = func(n int) {
					if n == killAfter {
						cancel()
					}
				}
				err := h.sync(ctx)
				cancel()
				if err == nil {
					t.Fatalf("kill after %d batches: sync did not report the cancellation", killAfter)
				}
				h.sink.afterWrite = nil
				h.mustSync()
				if got := h.sink.events(); got != want {
					t.Fatalf("kill after %d batches, then resumed:\n%s", killAfter, firstDiff(want, got))
				}
			}
		})
	}
}

// TestSyncResumeAfterServerFailure: the server fails every request after the
// first N (after retries the sync gives up); the next sync completes the data.
func TestSyncResumeAfterServerFailure(t *testing.T) {
	t.Parallel()
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			base := newHarness(t, genOrg(smallOrg), harnessOpts{sim: m.sim})
			base.mustSync()
			want, total := base.sink.events(), base.srv.Requests().Total
			for _, n := range []int{1, total / 3, total - 1} {
				h := newHarness(t, genOrg(smallOrg), harnessOpts{sim: m.sim})
				h.srv.FailAfter(n, githubtest.ServerErrorFault(http.StatusBadGateway))
				if err := h.sync(context.Background()); err == nil {
					t.Fatalf("fail after %d requests: sync succeeded", n)
				}
				h.srv.ClearFaults()
				h.mustSync()
				if got := h.sink.events(); got != want {
					t.Fatalf("failure after %d requests, then resumed:\n%s", n, firstDiff(want, got))
				}
			}
		})
	}
}

// TestSyncRateLimitsAndRetries: spent primary limit, secondary limits with and
// without Retry-After, and 5xx answers are waited out on the fake clock and the
// sync stores the same as without them.
func TestSyncRateLimitsAndRetries(t *testing.T) {
	t.Parallel()
	want := baseline(t, smallOrg, githubtest.Options{})
	cases := []struct {
		name     string
		fault    func(now time.Time) githubtest.Fault
		times    int
		minSleep time.Duration
	}{
		{"primary limit spent: wait for the reset", func(now time.Time) githubtest.Fault {
			return githubtest.PrimaryLimitFault(5000, now.Add(30*time.Minute))
		}, 1, 29 * time.Minute},
		{"secondary limit 403 with Retry-After", func(time.Time) githubtest.Fault {
			return githubtest.SecondaryLimitFault(http.StatusForbidden, 90*time.Second)
		}, 1, 90 * time.Second},
		{"secondary limit 429 without Retry-After", func(time.Time) githubtest.Fault {
			return githubtest.SecondaryLimitFault(http.StatusTooManyRequests, 0)
		}, 1, time.Minute},
		{"5xx retried", func(time.Time) githubtest.Fault { return githubtest.ServerErrorFault(http.StatusServiceUnavailable) }, 2, time.Second},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, genOrg(smallOrg), harnessOpts{})
			start := h.clock.Now()
			h.srv.FailNext(c.times, c.fault(start))
			h.mustSync()
			var slept time.Duration
			for _, d := range h.clock.sleeps() {
				slept += d
			}
			if slept < c.minSleep {
				t.Errorf("waited %v on the fake clock, want at least %v", slept, c.minSleep)
			}
			if got := h.sink.events(); got != want {
				t.Fatalf("with %s:\n%s", c.name, firstDiff(want, got))
			}
		})
	}
}

// TestSyncSecondaryLimitWithoutRetryAfter: against a server that enforces a
// secondary limit, answering 403 without Retry-After past a burst of requests
// (REST and GraphQL) and refusing again while sent to during its cool-down, a
// whole sync backs off on the fake clock, gets through, and stores the same as
// without the limit.
func TestSyncSecondaryLimitWithoutRetryAfter(t *testing.T) {
	t.Parallel()
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			want := baseline(t, smallOrg, m.sim)
			sim := m.sim
			sim.SecondaryLimit = &githubtest.SecondaryLimit{Requests: 3, Per: time.Minute, Cooldown: 2 * time.Minute}
			h := newHarness(t, genOrg(smallOrg), harnessOpts{sim: sim})
			h.mustSync()
			if got := h.sink.events(); got != want {
				t.Fatalf("with a secondary limit:\n%s", firstDiff(want, got))
			}
			if h.srv.Requests().Status(http.StatusForbidden) == 0 {
				t.Fatalf("the server never refused: the sync did not meet the limit (%d requests)", h.srv.Requests().Total)
			}
			var slept time.Duration
			for _, d := range h.clock.sleeps() {
				slept += d
			}
			if slept < time.Minute {
				t.Errorf("waited %v on the fake clock, want at least a minute", slept)
			}
		})
	}
}

// TestSyncMalformedBody: a cut-off body fails the sync with a clear error and
// stores nothing: no event, no cursor, no validator.
func TestSyncMalformedBody(t *testing.T) {
	t.Parallel()
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			h := newHarness(t, genOrg(smallOrg), harnessOpts{sim: m.sim})
			target := "/graphql"
			if m.sim.DisableGraphQL {
				target = "/pulls"
			}
			h.srv.SetFault(func(r *http.Request) *githubtest.Fault {
				if strings.HasSuffix(r.URL.Path, target) {
					f := githubtest.MalformedJSONFault()
					return &f
				}
				return nil
			})
			err := h.sync(context.Background())
			if err == nil {
				t.Fatal("sync of a malformed body succeeded")
			}
			if !strings.Contains(err.Error(), "acme/svc-1") || !strings.Contains(err.Error(), "malformed response") {
				t.Errorf("error does not name the repository and the problem: %v", err)
			}
			t.Logf("error: %v", err)
			d, c, i := h.sink.counts()
			if d+c+i != 0 {
				t.Errorf("stored %d deployments, %d changes, %d incidents", d, c, i)
			}
			for k := range h.sink.cursorMap() {
				if !strings.HasPrefix(k, "github|orgs/") {
					t.Errorf("cursor %s written", k)
				}
			}
		})
	}
}

// TestSyncMalformedBodyKeepsCursor: after a good sync, a malformed answer leaves
// every cursor where it was; the next sync catches up.
func TestSyncMalformedBodyKeepsCursor(t *testing.T) {
	t.Parallel()
	grown := smallOrg
	grown.prs = 46
	h := newHarness(t, genOrg(smallOrg), harnessOpts{})
	h.mustSync()
	cursors := h.sink.cursorMap()
	h.srv.Update(func(o *githubtest.Org) { *o = *genOrg(grown) })
	h.srv.SetFault(func(r *http.Request) *githubtest.Fault {
		if strings.HasSuffix(r.URL.Path, "/graphql") {
			f := githubtest.MalformedJSONFault()
			return &f
		}
		return nil
	})
	if err := h.sync(context.Background()); err == nil {
		t.Fatal("sync succeeded")
	}
	if got := h.sink.cursorMap(); !maps.Equal(got, cursors) {
		t.Fatalf("cursors moved:\nbefore %v\nafter  %v", cursors, got)
	}
	h.srv.ClearFaults()
	h.mustSync()
	if want := baseline(t, grown, githubtest.Options{}); h.sink.events() != want {
		t.Fatalf("after recovery:\n%s", firstDiff(want, h.sink.events()))
	}
}

// TestSyncGraphQLErrors: a GraphQL answer with `errors` fails the repository's
// sync with GitHub's message and stores nothing for it.
func TestSyncGraphQLErrors(t *testing.T) {
	t.Parallel()
	h := newHarness(t, genOrg(smallOrg), harnessOpts{})
	h.srv.SetFault(func(r *http.Request) *githubtest.Fault {
		if !strings.HasSuffix(r.URL.Path, "/graphql") {
			return nil
		}
		return &githubtest.Fault{Status: 200, Header: http.Header{"Content-Type": {"application/json"}},
			Body: `{"data":{"repository":null},"errors":[{"type":"NOT_FOUND","path":["repository"],"message":"Could not resolve to a Repository with the name 'acme/svc-1'."}]}`}
	})
	err := h.sync(context.Background())
	if err == nil || !strings.Contains(err.Error(), "Could not resolve to a Repository") {
		t.Fatalf("error: %v", err)
	}
	if d, c, i := h.sink.counts(); d+c+i != 0 {
		t.Fatalf("stored %d events", d+c+i)
	}
}

// TestSyncLinkPagination: small pages (many Link-paginated requests) store the
// same as full pages.
func TestSyncLinkPagination(t *testing.T) {
	t.Parallel()
	want := baseline(t, smallOrg, githubtest.Options{})
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			sim := m.sim
			sim.PerPageMax = 7
			h := newHarness(t, genOrg(smallOrg), harnessOpts{sim: sim})
			h.mustSync()
			st := h.srv.Requests()
			if m.name == "rest" && st.Count("GET /repos/{owner}/{repo}/pulls", 200) < 2*6 {
				t.Errorf("only %d pull list pages with 7 per page", st.Count("GET /repos/{owner}/{repo}/pulls", 200))
			}
			if got := h.sink.events(); got != want {
				t.Fatalf("with 7 per page:\n%s", firstDiff(want, got))
			}
		})
	}
}

// TestSyncGraphQLTimeoutShrinksPages: GitHub answers a query that runs longer
// than 10 s with 502/504; the source asks again with smaller pages and stores
// the same.
func TestSyncGraphQLTimeoutShrinksPages(t *testing.T) {
	t.Parallel()
	want := baseline(t, smallOrg, githubtest.Options{})
	h := newHarness(t, genOrg(smallOrg), harnessOpts{})
	var big atomic.Int32
	h.srv.SetFault(func(r *http.Request) *githubtest.Fault {
		if !strings.HasSuffix(r.URL.Path, "/graphql") {
			return nil
		}
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		var req struct {
			Variables map[string]any `json:"variables"`
		}
		_ = json.Unmarshal(body, &req)
		if n, ok := req.Variables["pullsFirst"].(float64); ok && req.Variables["withPulls"] == true && n > 25 {
			big.Add(1)
			f := githubtest.ServerErrorFault(http.StatusBadGateway)
			return &f
		}
		return nil
	})
	h.mustSync()
	if big.Load() == 0 {
		t.Fatal("no query with large pages was sent")
	}
	if got := h.sink.events(); got != want {
		t.Fatalf("with smaller pages:\n%s", firstDiff(want, got))
	}
}
