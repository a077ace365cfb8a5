package github

import (
	"fmt"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel/collector/github/githubtest"
)

// TestLatePublishedDraft: the releases list is ordered by created_at (the commit's
// date), so a draft published long after its commit sits below everything near the
// cursor. An incremental sync still finds it, on GraphQL and on REST, also when it
// is on a later page than the first (whose ETag then still matches).
func TestLatePublishedDraft(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		sim  githubtest.Options
		pad  int // releases newer than the draft, pushing it to page 2
	}{{modes[0].name, modes[0].sim, 0}, {modes[1].name, modes[1].sim, 0}, {"rest-page-2", modes[1].sim, 120}}
	for _, m := range cases {
		t.Run(m.name, func(t *testing.T) {
			org := genOrg(smallOrg)
			for _, r := range org.Repos {
				withReleases(r)
			}
			if m.pad > 0 {
				r := org.Repos[0]
				sha := r.Releases[0].TargetCommitish
				for i := 0; i < m.pad; i++ {
					at := genStart.Add(30*24*time.Hour + time.Duration(i)*time.Hour)
					r.Releases = append(r.Releases, &githubtest.Release{ID: int64(90000 + i), TagName: fmt.Sprintf("v0.0.%d", i),
						TargetCommitish: sha, Name: "pad", CreatedAt: at, PublishedAt: &at, Author: "releaser"})
				}
			}
			h := newHarness(t, org, harnessOpts{sim: m.sim, source: func(o *Options) { o.Defaults.DeploymentSource = SourceReleases }})
			h.mustSync()
			repo := org.Repos[0]
			var draft *githubtest.Release
			for _, rel := range repo.Releases {
				if rel.Draft {
					draft = rel
				}
			}
			if draft == nil {
				t.Fatal("no draft release in the generated repo")
			}
			id := repo.FullName() + "/releases/" + draft.TagName
			if _, ok := h.sink.deps[id]; ok {
				t.Fatalf("draft %s stored before it was published", id)
			}
			// A fresh release moves the cursor far past the draft's commit date.
			now := h.clock.Now()
			last := repo.Releases[len(repo.Releases)-1]
			fresh := now.Add(-24 * time.Hour)
			h.srv.Update(func(*githubtest.Org) {
				repo.Releases = append(repo.Releases, &githubtest.Release{ID: 99001, TagName: "v9.0.0", TargetCommitish: last.TargetCommitish,
					Name: "release", CreatedAt: fresh, PublishedAt: &fresh, Author: "releaser"})
			})
			h.mustSync()
			if _, ok := h.sink.deps[repo.FullName()+"/releases/v9.0.0"]; !ok {
				t.Fatal("fresh release not stored")
			}
			if now.Sub(draft.CreatedAt) < 60*24*time.Hour {
				t.Fatalf("draft's commit date %s is too recent for this test", draft.CreatedAt)
			}
			h.srv.Update(func(*githubtest.Org) {
				draft.Draft, draft.PublishedAt = false, &now
			})
			h.mustSync()
			d, ok := h.sink.deps[id]
			if !ok {
				t.Fatalf("draft published %s after its commit not found by an incremental sync", now.Sub(draft.CreatedAt))
			}
			if !d.FinishedAt.Equal(now) || d.SHA != draft.TargetCommitish {
				t.Fatalf("late release stored as %+v", d)
			}
			// Nothing changed: the re-read costs no REST budget.
			h.srv.Reset()
			h.mustSync()
			if st := h.srv.Requests(); st.RESTUnits != 0 || st.GraphQLPoints > smallOrg.repos {
				t.Errorf("unchanged sync: %d REST units, %d points", st.RESTUnits, st.GraphQLPoints)
			}
		})
	}
}
