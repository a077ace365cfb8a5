package github

import (
	"testing"

	"github.com/flywheel-metrics/flywheel/collector/github/githubtest"
)

// TestDeploymentOfUnknownSHA: a deployment whose sha GitHub no longer has (a
// force-pushed branch) makes compare answer 404. The sync still succeeds: that
// deployment and its successor get no commit list (the time fallback), every
// other one is mapped, and the next sync is not stuck on it.
func TestDeploymentOfUnknownSHA(t *testing.T) {
	t.Parallel()
	const dead = "dead00000000000000000000000000000000beef"
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			org := genOrg(smallOrg)
			repo := org.Repos[0]
			var prod []*githubtest.Deployment
			for _, d := range repo.Deployments {
				for _, st := range d.Statuses {
					if d.Environment == "production" && st.State == "success" {
						prod = append(prod, d)
						break
					}
				}
			}
			if len(prod) < 4 {
				t.Fatalf("only %d counting deployments", len(prod))
			}
			victim := prod[len(prod)/2]
			victim.SHA = dead
			h := newHarness(t, org, harnessOpts{sim: m.sim})
			h.mustSync()
			var unknown, mapped int
			for _, d := range h.sink.deps {
				if d.Repo != repo.FullName() || d.Status != "success" || d.Environment != "production" {
					continue
				}
				if d.Commits == nil {
					unknown++
				} else {
					mapped++
				}
				if d.SHA == dead && d.Commits != nil {
					t.Errorf("deployment of the unknown sha got commits %v", d.Commits)
				}
			}
			// At most the first deployment ever, the dead one and its successor
			// are unmapped.
			if unknown+mapped != len(prod) || unknown > 3 || unknown < 2 {
				t.Errorf("%d deployments without a commit list, %d with, of %d", unknown, mapped, len(prod))
			}
			h.mustSync()
		})
	}
}
