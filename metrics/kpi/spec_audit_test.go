package kpi

import (
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel"
)

// Hand-worked tests of rules of docs/kpis.md that no other test pins down: each
// would fail if the boundary or precedence it names were implemented otherwise.

// TestImportedDeploymentsUseProductionEnvironment: "the repo's
// deployments.environment; for imported deployments production_environment".
// acme/legacy's own regex is ^live$:
//
//	g1 github live → counts        g2 github production → no (the repo's regex)
//	i1 import production → counts  i2 import live → no (production_environment)
//	a1 api prod → counts (POST /api/v1/events is an import too)
//
// 3 counting, 2 non-counting.
func TestImportedDeploymentsUseProductionEnvironment(t *testing.T) {
	t.Parallel()
	mk := func(id, env, source string, h float64) flywheel.Deployment {
		d := dp(id, "legacy", id, h, nil)
		d.Environment, d.Source = env, source
		return d
	}
	ev := flywheel.Events{Deployments: []flywheel.Deployment{
		mk("g1", "live", "github", 1), mk("g2", "production", "github", 2),
		mk("i1", "production", "import", 3), mk("i2", "live", "import", 4),
		mk("a1", "prod", "api", 5),
	}}
	r := compute(ev, func(o *Options) {
		o.RepoEnvironments = map[string]*regexp.Regexp{"acme/legacy": regexp.MustCompile(`^live$`)}
	})
	eqInt(t, "deployments", w30(t, r, "legacy").Deployments, 3)
	if q := r.History.Services["legacy"].Quality; q.NonCountingDeploys != 2 {
		t.Errorf("non-counting = %d, want 2 (g2, i2)", q.NonCountingDeploys)
	}
}

// TestAttributionWindowBounds: attribution by time takes the latest counting
// deployment of the incident's service with T − attribution_window ≤ finish < T
// (T the explicit impact start, else the trigger), for the listed urgencies; an
// incident without urgency has "unknown". Window 72h, one service each:
//
//	lo:    deployed H0, triggered H72       → H0 ≥ H72 − 72h: attributed
//	out:   deployed H0, triggered H72 + 1s  → one second outside: unattributed
//	hi:    deployed H10, triggered H10      → finish < T fails: unattributed
//	start: deployed H20 and H50; impact start H50, triggered H60, resolved H62
//	       → [H-22, H50) holds H20 only (from the trigger it would be H50):
//	       recovery 62 − 20 = 42h = 151200 s, detect 10h
//	unk:   deployed H1; urgency "" triggered H2 → "unknown", listed as "UNKNOWN":
//	       attributed, and reported under by_urgency "unknown"
func TestAttributionWindowBounds(t *testing.T) {
	t.Parallel()
	outside := incident("x-out", "out", "high", U, 0, U, U, "")
	outside.TriggeredAt = H(72).Add(time.Second)
	noUrgency := incident("x-unk", "unk", "", U, 2, U, 3, "")
	ev := flywheel.Events{
		Deployments: []flywheel.Deployment{
			dp("lo1", "lo", "l", 0, nil), dp("out1", "out", "o", 0, nil), dp("hi1", "hi", "h", 10, nil),
			dp("st1", "start", "s1", 20, nil), dp("st2", "start", "s2", 50, []string{}), dp("unk1", "unk", "u", 1, nil),
		},
		Incidents: []flywheel.Incident{
			incident("x-lo", "lo", "high", U, 72, U, U, ""), outside,
			incident("x-hi", "hi", "high", U, 10, U, U, ""),
			incident("x-start", "start", "high", 50, 60, U, 62, ""),
			noUrgency,
		},
	}
	r := compute(ev, func(o *Options) { o.AttributionUrgencies = []string{"high", "UNKNOWN"} })
	for svc, want := range map[string]int{"lo": 1, "out": 0, "hi": 0, "start": 1, "unk": 1} {
		eqInt(t, svc+" failed", w30(t, r, svc).FailedDeployments, want)
		if got, wantU := r.History.Services[svc].Quality.UnattributedIncidents, 1-want; got != wantU {
			t.Errorf("%s unattributed = %d, want %d", svc, got, wantU)
		}
	}
	k := w30(t, r, "start")
	eqQ(t, "start recovery (from H20, not H50)", k.FailedDeploymentRecoverySeconds, 151200, 151200, 1)
	eqQ(t, "start detect", k.Incidents.TimeToDetect, 36000, 36000, 1)
	if u := w30(t, r, "unk").Incidents.ByUrgency; u["unknown"] == nil || u["unknown"].Count != 1 || len(u) != 1 {
		t.Errorf("unk by_urgency = %v, want one incident under \"unknown\"", u)
	}
}

// TestRecoveryRollbackAndIncidents: recovery is the latest
// resolved_at of the attributed incidents (unrecovered while any is open); only
// without an attributed incident is it the rollback's finish. One sequence:
//
//	r1 A H0, r2 B H10, r3 A H20 (rollback, fails r2), r4 C H30, r5 A H40
//	(rollback, fails r4), r6 D H50, r7 A H60 (rollback, fails r6)
//	q1 caused-by r2 triggered H12 resolved H15 → r2 recovers in 5h (not the
//	   rollback's 10h)
//	q2 caused-by r4 triggered H31, open       → r4 unrecovered (though rolled back)
//	q3 caused-by r6 triggered H51 resolved H70; q4 caused-by r6 triggered H52
//	   resolved H54 → r6 recovers at the latest, H70: 20h (not 4h, not 10h)
//
// failed 3 of 7; recovery [18000 72000]: p50 45000, p90 18000 + 0.9·54000 = 66600.
// rework: the rollbacks r3 r5 r7, and r6 (finished H50 while q2 was open) → 4.
// detect (start = the caused-by deployment's finish): q1 2h, q2 1h, q3 1h, q4 2h
// → p50 5400, p90 7200.
func TestRecoveryRollbackAndIncidents(t *testing.T) {
	t.Parallel()
	ev := flywheel.Events{
		Deployments: []flywheel.Deployment{
			dp("r1", "pay", "A", 0, nil), dp("r2", "pay", "B", 10, []string{"B"}), dp("r3", "pay", "A", 20, []string{}),
			dp("r4", "pay", "C", 30, []string{"B", "C"}), dp("r5", "pay", "A", 40, []string{}),
			dp("r6", "pay", "D", 50, []string{"B", "C", "D"}), dp("r7", "pay", "A", 60, []string{}),
		},
		Incidents: []flywheel.Incident{
			incident("q1", "pay", "high", U, 12, U, 15, "r2"),
			incident("q2", "pay", "high", U, 31, U, U, "r4"),
			incident("q3", "pay", "high", U, 51, U, 70, "r6"),
			incident("q4", "pay", "high", U, 52, U, 54, "r6"),
		},
	}
	k := w30(t, compute(ev, nil), "pay")
	eqInt(t, "deployments", k.Deployments, 7)
	eqInt(t, "failed", k.FailedDeployments, 3)
	eqQ(t, "recovery", k.FailedDeploymentRecoverySeconds, 45000, 66600, 2)
	eqInt(t, "rework", k.ReworkDeployments, 4)
	eqF(t, "rework ratio", k.ReworkRatio, 4.0/7)
	eqQ(t, "detect", k.Incidents.TimeToDetect, 5400, 7200, 4)
}

// TestCausedByResolvesShippedSha: an explicit caused-by resolves a sha by
// the shipping rule — the deployment whose commit list first holds it, else
// the earliest whose own sha it is, else the one that shipped the PR with that
// merge sha — for any service and urgency (only "high" is attributed by time):
//
//	x: dA "prod" own sha 1111111aaaa H1 (no list); dB "production" H5 lists
//	   [1111111aaaa 2222222bbbb]. i1 (x, low) caused-by 1111111aaaa, triggered H6,
//	   resolved H8 → dB (the list wins over dA's earlier own sha): detect 1h,
//	   dB recovers in 3h; dA is not failed
//	y: dY H1 (no list) ships y#1 (merged H0.5, merge sha 4444444dddd5555) by the
//	   time fallback. i2 (z, low) caused-by 4444444 (a 7-character prefix of that
//	   merge sha), triggered H3, resolved H4 → dY: z's detect 2h, dY recovers in 3h
func TestCausedByResolvesShippedSha(t *testing.T) {
	t.Parallel()
	dA := dp("dA", "x", "1111111aaaa", 1, nil)
	dA.Environment = "prod"
	ev := flywheel.Events{
		Deployments: []flywheel.Deployment{
			dA, dp("dB", "x", "2222222bbbb", 5, []string{"1111111aaaa", "2222222bbbb"}),
			dp("dY", "y", "3333333cccc", 1, nil),
		},
		Changes: []flywheel.Change{pr("y#1", "y", "4444444dddd5555", 0, 0.2, U, 0.5)},
		Incidents: []flywheel.Incident{
			incident("i1", "x", "low", U, 6, U, 8, "1111111aaaa"),
			incident("i2", "z", "low", U, 3, U, 4, "4444444"),
		},
	}
	r := compute(ev, func(o *Options) { o.AttributionUrgencies = []string{"high"} })
	x := w30(t, r, "x")
	eqInt(t, "x failed", x.FailedDeployments, 1)
	eqQ(t, "x recovery (dB)", x.FailedDeploymentRecoverySeconds, 10800, 10800, 1)
	eqQ(t, "x detect (from dB)", x.Incidents.TimeToDetect, 3600, 3600, 1)
	y := w30(t, r, "y")
	eqInt(t, "y failed", y.FailedDeployments, 1)
	eqQ(t, "y recovery", y.FailedDeploymentRecoverySeconds, 10800, 10800, 1)
	eqQ(t, "z detect (from dY)", w30(t, r, "z").Incidents.TimeToDetect, 7200, 7200, 1)
}

// TestFallbackAtMergeInstant: the time fallback takes a deployment
// that finished "at or after the merge": d1 (no list) finishes H10.
//
//	PR1 first H9, merged H10 exactly → d1: lead 1h, deploy stage 0
//	PR2 merged H10 + 1s              → nothing at or after it: not deployed
func TestFallbackAtMergeInstant(t *testing.T) {
	t.Parallel()
	late := pr("PR2", "svc", "m2", 9, 9, U, 10)
	late.MergedAt = H(10).Add(time.Second)
	r := compute(flywheel.Events{
		Deployments: []flywheel.Deployment{dp("d1", "svc", "a", 10, nil)},
		Changes:     []flywheel.Change{pr("PR1", "svc", "m1", 9, 9.5, U, 10), late},
	}, nil)
	k := w30(t, r, "svc")
	eqQ(t, "lead", k.LeadTimeSeconds, 3600, 3600, 1)
	eqQ(t, "deploy stage", k.LeadTimeStageSeconds.Deploy, 0, 0, 1)
	q := r.History.Services["svc"].Quality
	if q.UndeployedChanges != 1 || q.TimeFallbackChanges != 1 {
		t.Errorf("quality = %+v, want 1 undeployed (PR2), 1 by time fallback (PR1)", q)
	}
}

// TestImpactWindowBounds: tune-up impact windows are [start − W, start) and
// [end, min(end + W, at)); scope is the union of the PRs' services, or for a
// date range without services every service with an event as of at. W = 10d.
//
//	T1 (svc a) and T2 (svc b), label tuneup:x, both merged H100, never deployed
//	→ start = end = H100 (the last merge); before [H-140, H100), after [H100, H240)
//	a deploys at H-140 − 1s (outside), H-140 (inside before), H100 (after, not
//	before), H239 (after), H240 (= at: not yet)
//	frequency before 1 ÷ 10 days = 0.1; after 2 ÷ (140h = 35/6 days) = 12/35;
//	relative change (12/35 − 0.1) ÷ 0.1 = 85/35 = 17/7
//	change failure rate 0 → 0: no relative change (before = 0)
//	b's incident triggered H-10, resolved H-9: time to resolve before 1h, none
//	after → n 1/0, no p-value (a side is empty)
//	range H-300 … H-200 without services: scope a, b (c only deploys after at)
func TestImpactWindowBounds(t *testing.T) {
	t.Parallel()
	tagged := func(id, svc string) flywheel.Change {
		c := pr(id, svc, "t-"+id, 99, 99, U, 100)
		c.Labels = []string{"tuneup:x"}
		return c
	}
	outside := dp("e1", "a", "1", -140, []string{})
	outside.FinishedAt = outside.FinishedAt.Add(-time.Second)
	ev := flywheel.Events{
		Deployments: []flywheel.Deployment{
			outside, dp("e0", "a", "0", -140, []string{}), dp("e2", "a", "2", 100, []string{}),
			dp("e3", "a", "3", 239, []string{}), dp("e4", "a", "4", 240, []string{}),
			dp("c1", "c", "c", 300, nil),
		},
		Changes:   []flywheel.Change{tagged("T1", "a"), tagged("T2", "b")},
		Incidents: []flywheel.Incident{incident("b1", "b", "high", U, -10, U, -9, "none")},
	}
	r := compute(ev, func(o *Options) {
		o.ImpactWindow = 10 * flywheel.Day
		o.TuneUps = []Initiative{{Name: "x", Label: "tuneup:x"}, {Name: "range", From: H(-300), To: H(-200)}}
	})
	if len(r.Report.TuneUpImpact) != 2 {
		t.Fatalf("impacts = %+v", r.Report.TuneUpImpact)
	}
	im := r.Report.TuneUpImpact[0]
	if !im.Start.Equal(H(100)) || !im.End.Equal(H(100)) || !slices.Equal(im.Scope, []string{"a", "b"}) {
		t.Errorf("x: start %v end %v scope %v", im.Start, im.End, im.Scope)
	}
	f := im.KPIs[ImpactDeploymentFrequency]
	if f.NBefore != 1 || f.NAfter != 2 {
		t.Errorf("frequency n = %d/%d, want 1/2", f.NBefore, f.NAfter)
	}
	eqF(t, "frequency before", f.Before, 0.1)
	eqF(t, "frequency after", f.After, 12.0/35)
	eqF(t, "frequency relative change", f.RelativeChange, 17.0/7)
	c := im.KPIs[ImpactChangeFailureRatio]
	eqF(t, "cfr before", c.Before, 0)
	eqF(t, "cfr after", c.After, 0)
	absent(t, "cfr relative change (before = 0)", c.RelativeChange)
	ttr, ok := im.KPIs[ImpactTimeToResolveP50]
	if !ok || ttr.NBefore != 1 || ttr.NAfter != 0 {
		t.Fatalf("time to resolve = %+v", ttr)
	}
	eqF(t, "ttr before", ttr.Before, 3600)
	absent(t, "ttr after", ttr.After)
	absent(t, "ttr p-value (after is empty)", ttr.PValue)
	if _, ok := im.KPIs[ImpactLeadTimeP50]; ok {
		t.Error("lead time present without a deployed PR on either side")
	}
	if rg := r.Report.TuneUpImpact[1]; !slices.Equal(rg.Scope, []string{"a", "b"}) {
		t.Errorf("range scope = %v, want [a b]", rg.Scope)
	}
}

// TestInconsistentDataLeftOut: "a lead time, recovery time or incident
// duration that comes out negative is left out of its KPI and counted in the
// data-quality metrics; only the four lead-time stages are clipped at 0".
//
//	d1 H10 (no list) ships PR1 (first commit H12 — after the deployment —,
//	opened H5, merged H8) and PR2 (first H7, opened H7.5, merged H9)
//	→ lead: PR1 −2h left out, PR2 3h; coding: PR1 5 − 12 < 0 clipped to 0, PR2
//	30m → p50 900, p90 1620; deploy 2h and 1h → p50 5400, p90 6840
//	n1 caused-by d2 (finished H30), triggered H20, resolved H25 → d2 failed;
//	start H30: detect −10h and restore −5h left out; resolve 5h; d2's recovery
//	−5h left out (no recovery value, so no recovery_time level)
//
// negative durations counted: PR1's lead, d2's recovery, n1's detect and restore = 4.
func TestInconsistentDataLeftOut(t *testing.T) {
	t.Parallel()
	r := compute(flywheel.Events{
		Deployments: []flywheel.Deployment{dp("d1", "s", "a", 10, nil), dp("d2", "s", "b", 30, []string{})},
		Changes:     []flywheel.Change{pr("PR1", "s", "m1", 12, 5, U, 8), pr("PR2", "s", "m2", 7, 7.5, U, 9)},
		Incidents:   []flywheel.Incident{incident("n1", "s", "high", U, 20, U, 25, "d2")},
	}, nil)
	k := w30(t, r, "s")
	eqQ(t, "lead", k.LeadTimeSeconds, 10800, 10800, 1)
	eqQ(t, "coding (clipped)", k.LeadTimeStageSeconds.Coding, 900, 1620, 2)
	eqQ(t, "deploy", k.LeadTimeStageSeconds.Deploy, 5400, 6840, 2)
	eqInt(t, "failed", k.FailedDeployments, 1)
	absent(t, "recovery", k.FailedDeploymentRecoverySeconds)
	absent(t, "detect", k.Incidents.TimeToDetect)
	absent(t, "restore", k.Incidents.TimeToRestore)
	eqQ(t, "resolve", k.Incidents.TimeToResolve, 18000, 18000, 1)
	if k.DORALevel == nil || k.DORALevel.RecoveryTime != "" || k.DORALevel.LeadTime != Elite {
		t.Errorf("levels = %+v, want lead time elite and no recovery level", k.DORALevel)
	}
	if got := r.History.Services["s"].Quality.NegativeDurations; got != 4 {
		t.Errorf("negative durations = %d, want 4", got)
	}
}
