package kpi

import (
	"regexp"
	"strings"
	"testing"

	"github.com/flywheel-metrics/flywheel"
)

// TestLeadTimeAndMapping works the commit mapping and lead time through one
// service:
//
//	d1  sha a1  H(10)  no commit list (first of its sequence)
//	d2  sha a2  H(20)  commits [c2 a2]
//	df  failed  H(22)  ignored; ds staging H(23) ignored
//	PR1 first H0 opened H1 review H3 merged H5 sha c1: in no list → time fallback → d1
//	    lead 10h = 36000; coding 1h, pickup 2h, review 2h, deploy 5h
//	PR2 first H6 opened H7 no review merged H12 sha c2 → d2 by its commit list
//	    lead 14h = 50400; coding 1h; no pickup or review; deploy 8h
//	PR3 first H14 after opened H13 (coding clipped to 0), review H14.5, merged H15,
//	    sha a2 → d2; lead 6h = 21600; pickup 1.5h, review 0.5h, deploy 5h
//	PR4 merged H25 sha c9: no list holds it and no deployment without a list
//	    finished after it (df, ds do not count) → never deployed
//
// lead [21600 36000 50400]: p50 36000, p90 = 50400 − 14400·0.2 = 47520.
// A PR "reviewed only by its author" arrives with no first_review_at (the
// collectors keep only reviews by someone else), so PR2 stands for both.
func TestLeadTimeAndMapping(t *testing.T) {
	t.Parallel()
	staging := dp("ds", "checkout", "s1", 23, nil)
	staging.Environment = "staging"
	failed := dp("df", "checkout", "f1", 22, nil)
	failed.Status = "failure"
	ev := flywheel.Events{
		Deployments: []flywheel.Deployment{
			dp("d1", "checkout", "a1", 10, nil),
			dp("d2", "checkout", "a2", 20, []string{"c2", "a2"}),
			failed, staging,
		},
		Changes: []flywheel.Change{
			pr("PR1", "checkout", "c1", 0, 1, 3, 5),
			pr("PR2", "checkout", "c2", 6, 7, U, 12),
			pr("PR3", "checkout", "a2", 14, 13, 14.5, 15),
			pr("PR4", "checkout", "c9", 24, 24, U, 25),
		},
	}
	r := compute(ev, nil)
	k := w30(t, r, "checkout")
	eqInt(t, "deployments", k.Deployments, 2)
	eqF(t, "frequency", k.DeploymentFrequencyPerDay, 2.0/30)
	// window starts at H(-480); H10 and H20 are both in slice 20 → 1 day of 30
	eqF(t, "days ratio", k.DeploymentDaysRatio, 1.0/30)
	eqQ(t, "lead", k.LeadTimeSeconds, 36000, 47520, 3)
	eqQ(t, "coding", k.LeadTimeStageSeconds.Coding, 3600, 3600, 3)
	eqQ(t, "pickup", k.LeadTimeStageSeconds.Pickup, 6300, 7020, 2)
	eqQ(t, "review", k.LeadTimeStageSeconds.Review, 4500, 6660, 2)
	eqQ(t, "deploy", k.LeadTimeStageSeconds.Deploy, 18000, 26640, 3)
	eqInt(t, "failed", k.FailedDeployments, 0)
	eqF(t, "cfr", k.ChangeFailureRatio, 0)
	q := r.History.Services["checkout"].Quality
	want := DataQuality{UndeployedChanges: 1, TimeFallbackChanges: 1, NonCountingDeploys: 2}
	if q != want {
		t.Errorf("quality = %+v, want %+v", q, want)
	}
	if h := r.History.Services["checkout"]; h.Deployments != 2 || h.LeadTime.Count != 3 || h.LeadTime.Sum != 108000 {
		t.Errorf("history = %+v", h)
	}
}

// TestRollbacks: rollbacks and the failures they cause, one production
// sequence plus a "prod" sequence of the same repo (a separate environment):
//
//	d1 A H1, d2 B H2, d3 C H3,
//	d4 A H4  rollback two back (A first deployed before C) → fails d3, recovery 1h
//	d5 C H5  roll forward: C was first deployed after A → not a rollback
//	d6 C H6  redeploys the previous sha → not a rollback
//	d7 B H7  B first deployed before C → rollback, fails d6 (1h)
//	d8 D H8  compare status "behind" → rollback, fails d7 (1h)
//	p1 Z H0.5, p2 A H3.5 in "prod": alone in their sequence, not rollbacks
//
// counting 10, failed 3 (d3 d6 d7), rework 3 (the rollbacks d4 d7 d8).
func TestRollbacks(t *testing.T) {
	t.Parallel()
	seq := []flywheel.Deployment{
		dp("d1", "web", "A", 1, nil), dp("d2", "web", "B", 2, []string{"B"}), dp("d3", "web", "C", 3, []string{"C"}),
		dp("d4", "web", "A", 4, []string{}), dp("d5", "web", "C", 5, []string{"B", "C"}), dp("d6", "web", "C", 6, []string{}),
		dp("d7", "web", "B", 7, []string{}), dp("d8", "web", "D", 8, []string{}),
	}
	seq[7].CompareStatus = "behind"
	p1, p2 := dp("p1", "web", "Z", 0.5, nil), dp("p2", "web", "A", 3.5, []string{})
	p1.Environment, p2.Environment = "prod", "prod"
	r := compute(flywheel.Events{Deployments: append(seq, p1, p2)}, nil)
	k := w30(t, r, "web")
	eqInt(t, "deployments", k.Deployments, 10)
	eqInt(t, "failed", k.FailedDeployments, 3)
	eqF(t, "cfr", k.ChangeFailureRatio, 0.3)
	eqInt(t, "rework", k.ReworkDeployments, 3)
	eqQ(t, "recovery", k.FailedDeploymentRecoverySeconds, 3600, 3600, 3)

	// without the "prod" sequence being separate, p2 (A after C) would be a rollback
	h := r.History.Services["web"]
	if h.FailedDeployments != 3 || h.ReworkDeployments != 3 {
		t.Errorf("history failed %d rework %d, want 3 3", h.FailedDeployments, h.ReworkDeployments)
	}
}

// TestMultiRepoService: a service built from two repos whose deployments
// interleave. Sequences are per repo, so web's W1 after W2 is a rollback of
// w2 (not of api's a2, the service's previous deployment), and a PR of
// acme/api falls back to api's deployment, not web's earlier one.
//
//	w1 W1 H1 (web), a1 P1 H2 (api), w2 W2 H3 (web), a2 P2 H4 (api), w3 W1 H5 (web)
//	api PR first H2 merged H2.5 → a2 H4: lead 2h
func TestMultiRepoService(t *testing.T) {
	t.Parallel()
	web := func(id, sha string, h float64) flywheel.Deployment {
		d := dp(id, "shop", sha, h, nil)
		d.Repo = "acme/web"
		return d
	}
	api := func(id, sha string, h float64) flywheel.Deployment {
		d := dp(id, "shop", sha, h, nil)
		d.Repo = "acme/api"
		return d
	}
	c := pr("api#1", "shop", "x", 2, 2, U, 2.5)
	c.Repo = "acme/api"
	ev := flywheel.Events{
		Deployments: []flywheel.Deployment{web("w1", "W1", 1), api("a1", "P1", 2), web("w2", "W2", 3), api("a2", "P2", 4), web("w3", "W1", 5)},
		Changes:     []flywheel.Change{c},
	}
	r := compute(ev, nil)
	k := w30(t, r, "shop")
	eqInt(t, "deployments", k.Deployments, 5)
	eqInt(t, "failed", k.FailedDeployments, 1)
	eqQ(t, "recovery (w3 − w2)", k.FailedDeploymentRecoverySeconds, 7200, 7200, 1)
	eqQ(t, "lead", k.LeadTimeSeconds, 7200, 7200, 1)
	eqQ(t, "deploy stage", k.LeadTimeStageSeconds.Deploy, 5400, 5400, 1)
}

// TestRepolessCandidates: an imported deployment without repo is a candidate for
// every PR of its service, and a PR without repo for every deployment of its
// service.
func TestRepolessCandidates(t *testing.T) {
	t.Parallel()
	bare := dp("argo-1", "pay", "s1", 10, nil)
	bare.Repo = ""
	withRepo := dp("gh-1", "pay", "s2", 12, nil)
	prRepo := pr("pay#1", "pay", "m1", 0, 0, U, 5)     // → argo-1 at H10 (earlier than gh-1)
	prBare := pr("jira-1", "pay", "m2", 10, 10, U, 11) // no repo → gh-1 at H12
	prBare.Repo = ""
	r := compute(flywheel.Events{Deployments: []flywheel.Deployment{bare, withRepo}, Changes: []flywheel.Change{prRepo, prBare}}, nil)
	// leads 10h and 2h: p50 21600, p90 7200 + 0.9·28800 = 33120
	eqQ(t, "lead", w30(t, r, "pay").LeadTimeSeconds, 21600, 33120, 2)
}

// TestDuplicateIDsInOneImport: a later line with the same id replaces the
// earlier one, so the deployment counts once, as "staging" → not at all.
func TestDuplicateIDsInOneImport(t *testing.T) {
	t.Parallel()
	lines := strings.Join([]string{
		`{"kind":"deployment","id":"d-1","service":"svc","repo":"acme/svc","environment":"production","sha":"aaaaaaa","finished_at":"2026-06-01T10:00:00Z","status":"success"}`,
		`{"kind":"deployment","id":"d-2","service":"svc","repo":"acme/svc","environment":"production","sha":"bbbbbbb","finished_at":"2026-06-01T11:00:00Z","status":"success"}`,
		`{"kind":"deployment","id":"d-1","service":"svc","repo":"acme/svc","environment":"production","sha":"aaaaaaa","finished_at":"2026-06-01T10:00:00Z","status":"success"}`,
		`{"kind":"incident","id":"PD-1","service":"svc","urgency":"high","triggered_at":"2026-06-01T12:00:00Z"}`,
		`{"kind":"incident","id":"PD-1","service":"svc","urgency":"high","triggered_at":"2026-06-01T12:00:00Z","resolved_at":"2026-06-01T13:00:00Z"}`,
	}, "\n")
	ev, err := flywheel.DecodeEvents(strings.NewReader(lines), "import")
	if err != nil {
		t.Fatal(err)
	}
	r := compute(ev, nil)
	k := w30(t, r, "svc")
	eqInt(t, "deployments", k.Deployments, 2)
	if k.Incidents == nil || k.Incidents.Count != 1 || k.Incidents.Open != 0 {
		t.Fatalf("incidents = %+v, want one resolved", k.Incidents)
	}
	// the same input passed twice without the decoder still counts each deployment once
	ev.Deployments = append(ev.Deployments, ev.Deployments...)
	eqInt(t, "deployments (duplicated input)", w30(t, compute(ev, nil), "svc").Deployments, 2)
}

// TestProductionEnvironments: a repo's own regex overrides production_environment,
// status must be exactly "success", and environment names are whole
// matches of the regex as written (the default is anchored).
func TestProductionEnvironments(t *testing.T) {
	t.Parallel()
	mk := func(id, repo, env, status string) flywheel.Deployment {
		d := dp(id, "svc", id, 1, nil)
		d.Repo, d.Environment, d.Status = repo, env, status
		return d
	}
	ev := flywheel.Events{Deployments: []flywheel.Deployment{
		mk("1", "acme/legacy", "live", "success"),        // counts: the repo's regex
		mk("2", "acme/legacy", "production", "success"),  // not for this repo
		mk("3", "acme/svc", "prod", "success"),           // default regex
		mk("4", "acme/svc", "production-eu", "success"),  // anchored: no
		mk("5", "acme/svc", "production", "Success"),     // status exactly "success"
		mk("6", "", "production", "success"),             // imported without repo: default regex
		mk("7", "acme/svc", "production", "in_progress"), // not finished successfully
	}}
	r := compute(ev, func(o *Options) {
		o.RepoEnvironments = map[string]*regexp.Regexp{"acme/legacy": regexp.MustCompile(`^live$`)}
	})
	eqInt(t, "deployments", w30(t, r, "svc").Deployments, 3)
	if q := r.History.Services["svc"].Quality; q.NonCountingDeploys != 4 {
		t.Errorf("non-counting = %d, want 4", q.NonCountingDeploys)
	}
}

// TestSourceEnvironments: a repo's own regex wins; a deployment a source
// collected from a repo without one (org discovery) takes that source's default;
// imported deployments keep production_environment even from the same repo.
func TestSourceEnvironments(t *testing.T) {
	t.Parallel()
	mk := func(id, repo, env, source string) flywheel.Deployment {
		d := dp(id, "svc", id, 1, nil)
		d.Repo, d.Environment, d.Source = repo, env, source
		return d
	}
	ev := flywheel.Events{Deployments: []flywheel.Deployment{
		mk("1", "acme/found", "live-eu", "github"),    // counts: the GitHub default
		mk("2", "acme/found", "production", "github"), // not under that default
		mk("3", "acme/found", "production", "import"), // imported: production_environment
		mk("4", "acme/found", "live-eu", "import"),    // imported: no
		mk("5", "acme/listed", "blue", "github"),      // the repo's own regex wins
		mk("6", "acme/listed", "live-eu", "github"),   // not the repo's
	}}
	r := compute(ev, func(o *Options) {
		o.RepoEnvironments = map[string]*regexp.Regexp{"acme/listed": regexp.MustCompile(`^blue$`)}
		o.SourceEnvironments = map[string]*regexp.Regexp{"github": regexp.MustCompile(`^live-`)}
	})
	eqInt(t, "deployments", w30(t, r, "svc").Deployments, 3)
	if q := r.History.Services["svc"].Quality; q.NonCountingDeploys != 3 {
		t.Errorf("non-counting = %d, want 3", q.NonCountingDeploys)
	}
}

// TestRedeploySameShaBehind: a redeploy of the previous sha is never a rollback,
// even with a (stale) "behind" compare status.
func TestRedeploySameShaBehind(t *testing.T) {
	t.Parallel()
	d2 := dp("d2", "web", "A", 2, []string{})
	d2.CompareStatus = "behind"
	r := compute(flywheel.Events{Deployments: []flywheel.Deployment{dp("d1", "web", "A", 1, nil), d2}}, nil)
	eqInt(t, "failed", w30(t, r, "web").FailedDeployments, 0)
	eqInt(t, "rework", w30(t, r, "web").ReworkDeployments, 0)
}
