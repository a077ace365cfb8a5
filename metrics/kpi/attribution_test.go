package kpi

import (
	"testing"

	"github.com/flywheel-metrics/flywheel"
)

// attributionEvents is a hand-worked example of attribution and
// incident response (docs/kpis.md):
//
//	d1 checkout aaaaaaa1111 H0 · d2 checkout bbbbbbb2222 H10 commits [ccccccc3333 bbbbbbb2222]
//	d3 checkout eeeeeee5555 H100 · s1 search fffffff6666 H5
//
//	id  svc      urg  start trig ack   res  caused-by → attributed to
//	i1  checkout high  –    12  12.5  14   d1         → d1 (rule 1, id); start = d1's finish H0
//	i2  checkout high  –    11  –     13   NONE       → never attributed
//	i3  search   low   –    20  –     30   ccccccc    → d2 (rule 1, 7-char prefix of a listed commit,
//	                                                    another service, low urgency); start H10
//	i4  checkout high  80   90  91    95   –          → d2 (rule 2 from the explicit start: [8, 80));
//	                                                    from the trigger [18, 90) would find nothing
//	i5  checkout high  –   200  –    201   –          → none: d3 H100 is outside [128, 200)
//	i6  checkout low   –   101  –     –    –          → none: only high is attributed by time; open
//	i7  checkout high  –   102  103   –    d-unknown  → names nothing countable → rule 2 → d3; open
//	i8  search   high  –     6  5.5   7    s1         → s1; acknowledged before its trigger
func attributionEvents() flywheel.Events {
	return flywheel.Events{
		Deployments: []flywheel.Deployment{
			dp("d1", "checkout", "aaaaaaa1111", 0, nil),
			dp("d2", "checkout", "bbbbbbb2222", 10, []string{"ccccccc3333", "bbbbbbb2222"}),
			dp("d3", "checkout", "eeeeeee5555", 100, []string{}),
			dp("s1", "search", "fffffff6666", 5, nil),
		},
		Incidents: []flywheel.Incident{
			incident("i1", "checkout", "high", U, 12, 12.5, 14, "d1"),
			incident("i2", "checkout", "high", U, 11, U, 13, "NONE"),
			incident("i3", "search", "low", U, 20, U, 30, "ccccccc"),
			incident("i4", "checkout", "high", 80, 90, 91, 95, ""),
			incident("i5", "checkout", "high", U, 200, U, 201, ""),
			incident("i6", "checkout", "low", U, 101, U, U, ""),
			incident("i7", "checkout", "high", U, 102, 103, U, "d-unknown"),
			incident("i8", "search", "high", U, 6, 5.5, 7, "s1"),
		},
	}
}

func TestAttributionAndRecovery(t *testing.T) {
	t.Parallel()
	r := compute(attributionEvents(), func(o *Options) { o.AttributionUrgencies = []string{"high"} })

	k := w30(t, r, "checkout")
	eqInt(t, "deployments", k.Deployments, 3)
	eqInt(t, "failed", k.FailedDeployments, 3) // d1 (i1), d2 (i3, i4), d3 (i7)
	eqF(t, "cfr", k.ChangeFailureRatio, 1)
	// d1 recovers at i1's resolution: 14h = 50400; d2 at the later of i3 (H30) and
	// i4 (H95): 85h = 306000; d3 has an open incident: unrecovered, left out.
	// p90 = 50400 + 0.9·255600 = 280440
	eqQ(t, "recovery", k.FailedDeploymentRecoverySeconds, 178200, 280440, 2)
	eqInt(t, "rework", k.ReworkDeployments, 0)

	in := k.Incidents
	if in == nil || in.Count != 6 || in.Open != 2 {
		t.Fatalf("checkout incidents = %+v, want count 6 open 2 (i6, i7)", in)
	}
	eqQ(t, "detect", in.TimeToDetect, 39600, 42480, 2)         // i1 43200, i4 36000
	eqQ(t, "acknowledge", in.TimeToAcknowledge, 3600, 3600, 3) // i1 1800, i4 3600, i7 3600 (still open)
	eqQ(t, "resolve", in.TimeToResolve, 7200, 14760, 4)        // i5 3600, i1 7200, i2 7200, i4 18000
	eqQ(t, "restore", in.TimeToRestore, 52200, 53640, 2)       // i1 50400, i4 54000
	if hi := in.ByUrgency["high"]; hi == nil || hi.Count != 5 || hi.Open != 1 || hi.ByUrgency != nil {
		t.Errorf("high = %+v, want count 5 open 1", hi)
	}
	if lo := in.ByUrgency["low"]; lo == nil || lo.Count != 1 || lo.Open != 1 || lo.TimeToResolve != nil {
		t.Errorf("low = %+v, want count 1 open 1 without time to resolve", lo)
	}

	s := w30(t, r, "search")
	eqInt(t, "search failed", s.FailedDeployments, 1)
	eqQ(t, "search recovery", s.FailedDeploymentRecoverySeconds, 7200, 7200, 1)
	eqQ(t, "search detect", s.Incidents.TimeToDetect, 19800, 32760, 2) // i8 3600, i3 36000
	absent(t, "search acknowledge (i8 acked before its trigger)", s.Incidents.TimeToAcknowledge)

	if q := r.History.Services["checkout"].Quality; q.UnattributedIncidents != 3 || q.NegativeDurations != 0 {
		t.Errorf("checkout quality = %+v, want 3 unattributed (i2 i5 i6)", q)
	}
	if q := r.History.Services["search"].Quality; q.UnattributedIncidents != 0 || q.NegativeDurations != 1 {
		t.Errorf("search quality = %+v, want 1 negative duration (i8's acknowledgement)", q)
	}
	if h := r.History.Services["checkout"]; h.OpenByUrgency["high"] != 1 || h.OpenByUrgency["low"] != 1 || h.IncidentsByUrgency["high"] != 5 {
		t.Errorf("checkout history incidents %v open %v", h.IncidentsByUrgency, h.OpenByUrgency)
	}
}

func TestAttributionRules(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		mod        func(*flywheel.Events)
		urgencies  []string
		wantFailed map[string]int // service → failed deployments in 30d
		wantUnattr map[string]int // service → unattributed incidents
	}{
		{
			name:       "default urgencies attribute every urgency by time",
			wantFailed: map[string]int{"checkout": 3, "search": 1},
		},
		{
			name: "an id wins over a sha prefix that looks the same",
			mod: func(ev *flywheel.Events) {
				// i3 says "ccccccc": now a deployment of search has exactly that id
				ev.Deployments = append(ev.Deployments, dp("ccccccc", "search", "0000000", 1, nil))
			},
			urgencies: []string{"high"},
			// d2 keeps i4 only; the new deployment "ccccccc" fails by i3
			wantFailed: map[string]int{"checkout": 3, "search": 2},
		},
		{
			name: "an ambiguous prefix names nothing and falls to rule 2",
			mod: func(ev *flywheel.Events) {
				ev.Deployments = append(ev.Deployments, dp("s0", "search", "ccccccc9999", 2, nil))
			},
			urgencies: []string{"high"},
			// i3 (low) is not attributed by time; d2 keeps i4; s0 is not failed
			wantFailed: map[string]int{"checkout": 3, "search": 1},
		},
		{
			name: "a full merge sha resolves through the PR it shipped",
			mod: func(ev *flywheel.Events) {
				ev.Changes = append(ev.Changes, pr("search#1", "search", "1234567abcdef", 1, 1, U, 2))
				ev.Incidents = append(ev.Incidents, incident("i9", "checkout", "low", U, 150, U, 151, "1234567abcdef"))
			},
			urgencies: []string{"high"},
			// the PR is shipped by s1 (time fallback), already failed by i8; i9 (low)
			// is attributed by rule 1, so checkout keeps 3 unattributed (i2 i5 i6)
			wantFailed: map[string]int{"checkout": 3, "search": 1},
			wantUnattr: map[string]int{"checkout": 3},
		},
		{
			name: "caused-by naming a non-counting deployment falls to rule 2",
			mod: func(ev *flywheel.Events) {
				st := dp("stg", "checkout", "9999999", 9, nil)
				st.Environment = "staging"
				ev.Deployments = append(ev.Deployments, st)
				ev.Incidents[1].CausedBy = "stg" // i2, high, triggered H11 → d2
			},
			urgencies:  []string{"high"},
			wantFailed: map[string]int{"checkout": 3, "search": 1},
			wantUnattr: map[string]int{"checkout": 2}, // i5, i6
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ev := attributionEvents()
			if c.mod != nil {
				c.mod(&ev)
			}
			r := compute(ev, func(o *Options) { o.AttributionUrgencies = c.urgencies })
			for svc, want := range c.wantFailed {
				eqInt(t, svc+" failed", w30(t, r, svc).FailedDeployments, want)
			}
			for svc, want := range c.wantUnattr {
				if got := r.History.Services[svc].Quality.UnattributedIncidents; got != want {
					t.Errorf("%s unattributed = %d, want %d", svc, got, want)
				}
			}
		})
	}
	// Checked one by one: which incidents end up unattributed.
	unattributed := func(ev flywheel.Events, urg []string) map[string]int {
		r := compute(ev, func(o *Options) { o.AttributionUrgencies = urg })
		out := map[string]int{}
		for s, h := range r.History.Services {
			out[s] = h.Quality.UnattributedIncidents
		}
		return out
	}
	ev := attributionEvents()
	if u := unattributed(ev, nil); u["checkout"] != 2 { // i2 (none), i5 (outside the window); i6 now by time → d3
		t.Errorf("unattributed with every urgency = %v, want checkout 2", u)
	}
	ev.Deployments = append(ev.Deployments, dp("s0", "search", "ccccccc9999", 2, nil))
	if u := unattributed(ev, []string{"high"}); u["search"] != 1 { // i3's prefix is ambiguous
		t.Errorf("unattributed with an ambiguous prefix = %v, want search 1", u)
	}
}

// TestIncidentStartFromCausedBy: with no impact-start, the start is the finish
// of the caused-by deployment — rule 1 only, never rule 2.
func TestIncidentStartFromCausedBy(t *testing.T) {
	t.Parallel()
	ev := flywheel.Events{
		Deployments: []flywheel.Deployment{dp("d1", "svc", "a", 1, nil)},
		Incidents: []flywheel.Incident{
			incident("x1", "svc", "high", U, 3, U, 4, "d1"), // detect 2h, restore 3h
			incident("x2", "svc", "high", U, 5, U, 6, ""),   // rule 2 → d1, but no start
		},
	}
	in := w30(t, compute(ev, nil), "svc").Incidents
	eqQ(t, "detect", in.TimeToDetect, 7200, 7200, 1)
	eqQ(t, "restore", in.TimeToRestore, 10800, 10800, 1)
}
