package kpi

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel"
)

// TestAsOfAt: events after at are ignored and times after at inside an event
// have not happened (as of at); an explicit impact start is used as given.
//
//	d1 H10 counts; d-late H250 is after at
//	PR-a first H4 merged H8 → d1: lead 6h; PR-b merged H250: not merged yet;
//	PR-c review H245 (after at), merged H200: no pickup/review stage
//	j1 trig H200 ack H201 res H300 → acknowledged (1h), open, no time to resolve
//	j2 trig H210 ack H250 → unacknowledged, open
//	j3 trig H260 → not yet triggered
//	j4 trig H220 impact start H245 (after at, used as given) → detect −25h: left out, counted
func TestAsOfAt(t *testing.T) {
	t.Parallel()
	c := pr("PR-c", "svc", "", 190, 191, 245, 200)
	ev := flywheel.Events{
		Deployments: []flywheel.Deployment{dp("d1", "svc", "a", 10, nil), dp("d-late", "svc", "b", 250, nil)},
		Changes:     []flywheel.Change{pr("PR-a", "svc", "", 4, 5, U, 8), pr("PR-b", "svc", "", 240, 241, U, 250), c},
		Incidents: []flywheel.Incident{
			incident("j1", "svc", "high", U, 200, 201, 300, "none"),
			incident("j2", "svc", "high", U, 210, 250, U, "none"),
			incident("j3", "svc", "high", U, 260, U, U, "none"),
			incident("j4", "svc", "high", 245, 220, U, U, "none"),
		},
	}
	r := compute(ev, nil)
	k := w30(t, r, "svc")
	eqInt(t, "deployments", k.Deployments, 1)
	eqQ(t, "lead", k.LeadTimeSeconds, 21600, 21600, 1)
	absent(t, "pickup (review after at)", k.LeadTimeStageSeconds.Pickup)
	if k.ChangesByClass == nil || k.ChangesByClass.Unclassified != 2 {
		t.Errorf("classes = %+v, want 2 merged", k.ChangesByClass)
	}
	in := k.Incidents
	if in.Count != 3 || in.Open != 3 {
		t.Errorf("incidents count %d open %d, want 3 3", in.Count, in.Open)
	}
	eqQ(t, "acknowledge", in.TimeToAcknowledge, 3600, 3600, 1)
	absent(t, "resolve", in.TimeToResolve)
	absent(t, "detect", in.TimeToDetect)
	h := r.History.Services["svc"]
	if h.IncidentsByUrgency["high"] != 3 || h.OpenByUrgency["high"] != 3 || h.Quality.NegativeDurations != 1 {
		t.Errorf("history = %+v", h)
	}
	// at H310 j1 is resolved (after 100h), j2 acknowledged, and d-late counts
	later := Compute(ev, H(310), DefaultOptions())
	k = later.Report.Windows["30d"].Services["svc"]
	eqInt(t, "deployments later", k.Deployments, 2)
	eqQ(t, "resolve later", k.Incidents.TimeToResolve, 360000, 360000, 1)
	// j1 1h, j2 40h: p50 (3600+144000)/2 = 73800, p90 3600 + 0.9·140400 = 129960
	eqQ(t, "acknowledge later", k.Incidents.TimeToAcknowledge, 73800, 129960, 2)
	if k.Incidents.Count != 4 || k.Incidents.Open != 3 { // j2, j3, j4 still open
		t.Errorf("later incidents count %d open %d, want 4 3", k.Incidents.Count, k.Incidents.Open)
	}
}

// TestZerosVersusAbsent (absent, not zero):
//   - quiet deployed once, before the 30d window: deployments 0, frequency 0,
//     days ratio 0, a "low" frequency level; no failure or rework ratio;
//   - pager never deploys: no deployment keys at all, but incidents;
//   - idle has only an open PR: no value, so it is not in the report;
//   - all: the sum over services.
func TestZerosVersusAbsent(t *testing.T) {
	t.Parallel()
	ev := flywheel.Events{
		Deployments: []flywheel.Deployment{dp("q1", "quiet", "a", -1000, nil), dp("b1", "busy", "b", 1, nil)},
		Changes:     []flywheel.Change{{ID: "idle#1", Service: "idle", OpenedAt: H(1)}},
		Incidents:   []flywheel.Incident{incident("p1", "pager", "low", U, 5, U, U, "")},
	}
	r := compute(ev, nil)
	q := w30(t, r, "quiet")
	if q == nil {
		t.Fatal("quiet absent, want zeros")
	}
	eqInt(t, "quiet deployments", q.Deployments, 0)
	eqF(t, "quiet frequency", q.DeploymentFrequencyPerDay, 0)
	eqF(t, "quiet days ratio", q.DeploymentDaysRatio, 0)
	absent(t, "quiet failed", q.FailedDeployments)
	absent(t, "quiet cfr", q.ChangeFailureRatio)
	absent(t, "quiet rework ratio", q.ReworkRatio)
	absent(t, "quiet lead", q.LeadTimeSeconds)
	absent(t, "quiet incidents", q.Incidents)
	if q.DORALevel == nil || q.DORALevel.DeploymentFrequency != Low || q.DORALevel.ChangeFailureRate != "" {
		t.Errorf("quiet levels = %+v, want only deployment_frequency low", q.DORALevel)
	}
	p := w30(t, r, "pager")
	absent(t, "pager deployments", p.Deployments)
	absent(t, "pager frequency", p.DeploymentFrequencyPerDay)
	if p.Incidents == nil || p.Incidents.Count != 1 || p.Incidents.Open != 1 {
		t.Errorf("pager incidents = %+v", p.Incidents)
	}
	if _, ok := r.Report.Windows["30d"].Services["idle"]; ok {
		t.Error("idle is in the report, want absent")
	}
	if _, ok := r.History.Services["idle"]; !ok {
		t.Error("idle missing from History")
	}
	eqInt(t, "all deployments", w30(t, r, "").Deployments, 1)
	// H-1000 is 51.7 days before at: inside the 90d window
	k90 := r.Report.Windows["90d"].Services["quiet"]
	eqInt(t, "quiet 90d deployments", k90.Deployments, 1)
	eqInt(t, "quiet 90d failed", k90.FailedDeployments, 0)
	// no event at all: every window is empty
	empty := Compute(flywheel.Events{}, at, DefaultOptions())
	if wr := empty.Report.Windows["7d"]; wr.All != nil || len(wr.Services) != 0 {
		t.Errorf("empty report = %+v", wr)
	}
}

// TestRework: rollbacks, deployments that ship a fix PR, and
// deployments finished while an incident of their own service was open
// (triggered ≤ finish < resolved).
//
//	k1 svc trig H10 res H20; k2 svc trig H30 open; k3 other trig H0 open
//	e1 H5  before k1 → not rework      e2 H10 = k1's trigger → rework
//	e3 H20 = k1's resolution → not     e5 H25 ships "fix: x" → rework
//	e4 H40 k2 open → rework            → 3 of 5 = 0.6
func TestRework(t *testing.T) {
	t.Parallel()
	fix := pr("fix#1", "svc", "fx", 21, 21, U, 22)
	fix.Title = "fix: x"
	ev := flywheel.Events{
		Deployments: []flywheel.Deployment{
			dp("e1", "svc", "1", 5, nil), dp("e2", "svc", "2", 10, []string{}), dp("e3", "svc", "3", 20, []string{}),
			dp("e5", "svc", "5", 25, []string{"fx", "5"}), dp("e4", "svc", "4", 40, []string{}),
		},
		Changes: []flywheel.Change{fix},
		Incidents: []flywheel.Incident{
			incident("k1", "svc", "high", U, 10, U, 20, "none"),
			incident("k2", "svc", "high", U, 30, U, U, "none"),
			incident("k3", "other", "high", U, 0, U, U, "none"),
		},
	}
	r := compute(ev, nil)
	k := w30(t, r, "svc")
	eqInt(t, "rework", k.ReworkDeployments, 3)
	eqF(t, "rework ratio", k.ReworkRatio, 0.6)
	eqInt(t, "failed", k.FailedDeployments, 0)
	if r.History.Services["svc"].ReworkDeployments != 3 {
		t.Errorf("history rework = %d", r.History.Services["svc"].ReworkDeployments)
	}
}

// TestFrequencyAndDays: 30 deployments on 15 distinct days of the 30d window →
// 1/day and a days ratio of 0.5; days are 24h slices from the window start, not
// calendar days (at is 12:00, so a slice runs from noon to noon).
func TestFrequencyAndDays(t *testing.T) {
	t.Parallel()
	noon := H(252) // 12:00 on day 10
	start := noon.Add(-30 * flywheel.Day)
	var deps []flywheel.Deployment
	for i := range 15 {
		base := start.Add(time.Duration(2*i) * flywheel.Day)
		for j, off := range []time.Duration{time.Hour, 23 * time.Hour} { // both in slice 2i
			d := dp("", "svc", "s", 0, nil)
			d.ID = string(rune('a'+i)) + string(rune('0'+j))
			d.FinishedAt = base.Add(off)
			deps = append(deps, d)
		}
	}
	r := Compute(flywheel.Events{Deployments: deps}, noon, DefaultOptions())
	k := r.Report.Windows["30d"].Services["svc"]
	eqInt(t, "deployments", k.Deployments, 30)
	eqF(t, "frequency", k.DeploymentFrequencyPerDay, 1)
	eqF(t, "days ratio", k.DeploymentDaysRatio, 0.5)
	if k.DORALevel.DeploymentFrequency != Elite {
		t.Errorf("level = %s, want elite at exactly 1/day", k.DORALevel.DeploymentFrequency)
	}
	k7 := r.Report.Windows["7d"].Services["svc"]
	// 7d window: slices 0..6 from noon−7d; deployments on every other day of the
	// 30d grid that falls in it: days 24, 26, 28 of the grid → 6 deployments, 3 days
	eqInt(t, "7d deployments", k7.Deployments, 6)
	eqF(t, "7d days ratio", k7.DeploymentDaysRatio, 3.0/7)
}

func TestDORALevels(t *testing.T) {
	t.Parallel()
	e := &engine{opts: withDefaults(Options{})}
	cases := []struct {
		name             string
		freq, cfr        float64
		lead, recovery   float64
		want             DORALevels
		thresholdsChange func(*Thresholds)
	}{
		{"bounds are inclusive where the table says so", 1.0, 0.05, 86400 - 1, 3600 - 0.001, DORALevels{Elite, Elite, Elite, Elite}, nil},
		{"strict bounds", 1.0 / 7, 0.10, 86400, 3600, DORALevels{High, High, High, High}, nil},
		{"medium", 1.0 / 30, 0.15, 29 * 86400, 6 * 86400, DORALevels{Medium, Medium, Medium, Medium}, nil},
		{"low", 1.0/30 - 1e-9, 0.150001, 30 * 86400, 7 * 86400, DORALevels{Low, Low, Low, Low}, nil},
		{"overridden thresholds", 0.5, 0.2, 3600, 60, DORALevels{Elite, Elite, Low, Elite},
			func(t *Thresholds) { t.DeploymentFrequencyPerDay = [3]float64{0.5, 0.1, 0.01} }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := *e
			if c.thresholdsChange != nil {
				c.thresholdsChange(&e.opts.Thresholds)
			}
			k := &KPIs{DeploymentFrequencyPerDay: &c.freq, ChangeFailureRatio: &c.cfr,
				LeadTimeSeconds:                 &Quantiles{P50: c.lead, Count: 1},
				FailedDeploymentRecoverySeconds: &Quantiles{P50: c.recovery, Count: 1}}
			if got := e.levels(k); got == nil || *got != c.want {
				t.Errorf("levels = %+v, want %+v", got, c.want)
			}
		})
	}
	if l := e.levels(&KPIs{}); l != nil {
		t.Errorf("levels without values = %+v, want absent", l)
	}
}

// TestImpact: a label initiative with a 10-day impact window.
//
//	deployments b1 H-100, b2 H0, b3 H50 | t1 H102 | a1 H120, a2 H150, a3 H200
//	PRs (time fallback): P1 lead 20h pickup 2h → b1; P2 10h, 1h → b2; P3 30h, 3h → b3;
//	T1 [tuneup:ci] merged H100 → t1; T2 [TuneUp:CI] merged H110, lead 15h, pickup 1h → a1;
//	A1 lead 10h, pickup 30m → a2
//	I1 trig H1 res H3 → b2 (rule 2), recovery 3h, time to resolve 2h
//	I2 trig H160 res H161, caused-by none, time to resolve 1h
//
// start = first merge H100, end = latest deploy of its PRs H120; before =
// [H-140, H100) (10 days), after = [H120, min(H360, at = H240)) (5 days).
// p-values from scipy 1.10.1: mannwhitneyu([54000,36000], [72000,36000,108000],
// method="asymptotic") = 0.5536169919657805; pickup ([3600,1800], [7200,3600,10800])
// = 0.23613697022165292; time to resolve ([3600], [7200]) = 1.0.
func TestImpact(t *testing.T) {
	t.Parallel()
	label := func(c flywheel.Change, l string) flywheel.Change { c.Labels = []string{l}; return c }
	ev := flywheel.Events{
		Deployments: []flywheel.Deployment{
			dp("b1", "svc", "1", -100, nil), dp("b2", "svc", "2", 0, nil), dp("b3", "svc", "3", 50, nil),
			dp("t1", "svc", "4", 102, nil), dp("a1", "svc", "5", 120, nil), dp("a2", "svc", "6", 150, nil), dp("a3", "svc", "7", 200, nil),
			dp("o1", "other", "8", 130, nil),
		},
		Changes: []flywheel.Change{
			pr("P1", "svc", "", -120, -115, -113, -110), pr("P2", "svc", "", -10, -9, -8, -5), pr("P3", "svc", "", 20, 21, 24, 40),
			label(pr("T1", "svc", "", 95, 96, U, 100), "tuneup:ci"), label(pr("T2", "svc", "", 105, 106, 107, 110), "TuneUp:CI"),
			pr("A1", "svc", "", 140, 141, 141.5, 145),
		},
		Incidents: []flywheel.Incident{incident("I1", "svc", "high", U, 1, U, 3, ""), incident("I2", "svc", "high", U, 160, U, 161, "none")},
	}
	r := compute(ev, func(o *Options) {
		o.ImpactWindow = 10 * flywheel.Day
		o.TuneUps = []Initiative{
			{Name: "ci", Label: "TUNEUP:ci"},
			{Name: "nothing", Label: "tuneup:none"},
			{Name: "range", From: H(100), To: H(120), Services: []string{"svc"}},
		}
	})
	if len(r.Report.TuneUpImpact) != 2 {
		t.Fatalf("impacts = %+v, want ci and range (nothing has no PRs)", r.Report.TuneUpImpact)
	}
	for _, im := range r.Report.TuneUpImpact {
		if !im.Start.Equal(H(100)) || !im.End.Equal(H(120)) || len(im.Scope) != 1 || im.Scope[0] != "svc" {
			t.Errorf("%s: start %v end %v scope %v", im.Initiative, im.Start, im.End, im.Scope)
		}
		k := im.KPIs
		check := func(key string, before, after *float64, nb, na int, p *float64) {
			t.Helper()
			got, ok := k[key]
			if !ok {
				t.Errorf("%s: %s missing", im.Initiative, key)
				return
			}
			same := func(a, b *float64) bool {
				return (a == nil) == (b == nil) && (a == nil || math.Abs(*a-*b) < 1e-9)
			}
			if !same(got.Before, before) || !same(got.After, after) || got.NBefore != nb || got.NAfter != na || !same(got.PValue, p) {
				t.Errorf("%s: %s = %s", im.Initiative, key, fmtImpact(got))
			}
			if before != nil && after != nil && *before != 0 {
				if !same(got.RelativeChange, ptr((*after-*before) / *before)) {
					t.Errorf("%s: %s relative change = %v", im.Initiative, key, got.RelativeChange)
				}
			} else if got.RelativeChange != nil {
				t.Errorf("%s: %s relative change present", im.Initiative, key)
			}
		}
		check(ImpactLeadTimeP50, ptr(72000.0), ptr(45000.0), 3, 2, ptr(0.5536169919657805))
		check(ImpactPickupP50, ptr(7200.0), ptr(2700.0), 3, 2, ptr(0.23613697022165292))
		check(ImpactDeploymentFrequency, ptr(0.3), ptr(0.6), 3, 3, nil)
		check(ImpactChangeFailureRatio, ptr(1.0/3), ptr(0.0), 3, 3, nil)
		check(ImpactRecoveryP50, ptr(10800.0), nil, 1, 0, nil)
		check(ImpactTimeToResolveP50, ptr(7200.0), ptr(3600.0), 1, 1, ptr(1.0))
	}
}

func fmtImpact(k ImpactKPI) string {
	f := func(p *float64) any {
		if p == nil {
			return "–"
		}
		return *p
	}
	return fmt.Sprintf("before %v after %v rel %v n %d/%d p %v", f(k.Before), f(k.After), f(k.RelativeChange), k.NBefore, k.NAfter, f(k.PValue))
}

// TestGroupDeploymentFrequencyLevel: the all-services group's
// deployment-frequency level is the best level that at least half of its
// services with a frequency reach, while its frequency stays their sum.
func TestGroupDeploymentFrequencyLevel(t *testing.T) {
	t.Parallel()
	type svc struct {
		inWindow int  // counting deployments in the 30d window
		before   bool // one counting deployment before the window only
		noDeploy bool // only a PR and an incident: no frequency
	}
	cases := []struct {
		name     string
		services []svc
		want     Level
	}{
		{"six services twice a week are high, though together they ship 1.8 a day",
			[]svc{{inWindow: 9}, {inWindow: 9}, {inWindow: 9}, {inWindow: 9}, {inWindow: 9}, {inWindow: 9}}, High},
		{"a 3/3 split takes the better half", []svc{{inWindow: 30}, {inWindow: 30}, {inWindow: 30}, {inWindow: 5}, {inWindow: 5}, {inWindow: 5}}, Elite},
		{"a 3/3 split between elite and slower", []svc{{inWindow: 40}, {inWindow: 40}, {inWindow: 40}, {inWindow: 0, before: true}, {before: true}, {inWindow: 1}}, Elite},
		{"two of six elite, one high: high", []svc{{inWindow: 60}, {inWindow: 60}, {inWindow: 5}, {inWindow: 1}, {inWindow: 1}, {inWindow: 1}}, High},
		{"four of six high", []svc{{inWindow: 45}, {inWindow: 45}, {inWindow: 6}, {inWindow: 6}, {inWindow: 6}, {inWindow: 6}}, High},
		{"one service is its own level", []svc{{inWindow: 2}}, Medium},
		{"services without a frequency do not count", []svc{{inWindow: 30}, {noDeploy: true}, {noDeploy: true}}, Elite},
		{"a service with frequency 0 counts: one elite of two", []svc{{inWindow: 30}, {before: true}}, Elite},
		{"two services at 0 outvote one elite", []svc{{inWindow: 30}, {before: true}, {before: true}}, Low},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var ev flywheel.Events
			total := 0
			for i, s := range c.services {
				name := fmt.Sprintf("svc-%d", i)
				for j := range s.inWindow {
					// spread over [H(-470), H(230)), inside the window
					ev.Deployments = append(ev.Deployments, dp(fmt.Sprintf("%s-%d", name, j), name, fmt.Sprintf("%s%d", name, j),
						-470+700*float64(j)/float64(s.inWindow), nil))
				}
				total += s.inWindow
				if s.before {
					ev.Deployments = append(ev.Deployments, dp(name+"-old", name, "old", -600, nil))
				}
				if s.noDeploy {
					ev.Changes = append(ev.Changes, pr(name+"#1", name, "m", -10, -9, -8, -7))
					ev.Incidents = append(ev.Incidents, incident(name+"-i", name, "high", -5, -4, -3, -2, ""))
				}
			}
			r := compute(ev, nil)
			all := w30(t, r, "")
			eqF(t, "summed frequency", all.DeploymentFrequencyPerDay, float64(total)/30)
			if all.DORALevel == nil || all.DORALevel.DeploymentFrequency != c.want {
				t.Fatalf("group level = %+v, want %s", all.DORALevel, c.want)
			}
			var levels []Level
			for _, k := range r.Report.Windows["30d"].Services {
				if k.DORALevel != nil && k.DORALevel.DeploymentFrequency != "" {
					levels = append(levels, k.DORALevel.DeploymentFrequency)
				}
			}
			if g := GroupLevel(levels); g != c.want {
				t.Errorf("GroupLevel(%v) = %s, want %s", levels, g, c.want)
			}
		})
	}
}

func TestGroupLevel(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   []Level
		want Level
	}{
		{nil, ""},
		{[]Level{Low}, Low},
		{[]Level{Elite}, Elite},
		{[]Level{Elite, Low}, Elite},
		{[]Level{Low, Elite}, Elite},
		{[]Level{Elite, Low, Low}, Low},
		{[]Level{Elite, Medium, Low}, Medium},
		{[]Level{High, High, High, High, High, High}, High},
		{[]Level{Elite, Elite, Elite, High, High, High}, Elite},
		{[]Level{Elite, Elite, Medium, Medium, Low, Low}, Medium},
		{[]Level{Medium, Elite, Low, Elite, Low, Elite, Low}, Medium},
	} {
		if got := GroupLevel(c.in); got != c.want {
			t.Errorf("GroupLevel(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}
