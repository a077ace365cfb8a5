package kpi

import (
	"strings"
	"testing"

	"github.com/flywheel-metrics/flywheel"
)

// causedByEvents stores deployments, runs and releases under the ids the
// GitHub collector gives them, so that a caused-by can name each the ways a
// person copies it:
//
//	acme/checkout/deployments/1200001776  checkout  H1  sha 1234567c…
//	acme/checkout/runs/9100               checkout  H2
//	acme/checkout/releases/v1.0           checkout  H3
//	acme/checkout/deployments/1234567     checkout  H4  (an id that is also a prefix of the first sha)
//	acme/checkout/deployments/1200002000  checkout  H6  commits [PR 12's merge sha]
//	acme/search/releases/v1.0             search    H0.5 (the same tag, earlier, in another repo)
//	acme/search/releases/v2.0             search    H0.7
//	acme/search/deployments/1200001999    search    H8  staging: does not count
//	acme/checkout/runs/9200               checkout  H300: after at, not stored as of at
//
// PRs: acme/checkout#12 merged H5, shipped by 1200002000; acme/checkout#13
// merged H7, shipped by nothing (no later deployment); acme/search#12, so
// that a number alone names nothing.
func causedByEvents() flywheel.Events {
	gh := func(id, svc, sha string, h float64, commits []string) flywheel.Deployment {
		d := dp(id, svc, sha, h, commits)
		d.Source = "github"
		return d
	}
	staging := gh("acme/search/deployments/1200001999", "search", "5555555", 8, []string{})
	staging.Environment = "staging"
	return flywheel.Events{
		Deployments: []flywheel.Deployment{
			gh("acme/checkout/deployments/1200001776", "checkout", "1234567c"+strings.Repeat("1", 32), 1, []string{}),
			gh("acme/checkout/runs/9100", "checkout", "2222222", 2, []string{}),
			gh("acme/checkout/releases/v1.0", "checkout", "3333333", 3, []string{}),
			gh("acme/checkout/deployments/1234567", "checkout", "4444444", 4, []string{}),
			gh("acme/checkout/deployments/1200002000", "checkout", "6666666", 6, []string{"abcdef0" + strings.Repeat("2", 33)}),
			gh("acme/search/releases/v1.0", "search", "7777777", 0.5, nil),
			gh("acme/search/releases/v2.0", "search", "8888888", 0.7, []string{}),
			staging,
			gh("acme/checkout/runs/9200", "checkout", "9999999", 300, []string{}),
		},
		Changes: []flywheel.Change{
			pr("acme/checkout#12", "checkout", "abcdef0"+strings.Repeat("2", 33), 4, 4.5, U, 5),
			pr("acme/checkout#13", "checkout", "abcdef1"+strings.Repeat("3", 33), 6, 6.5, U, 7),
			pr("acme/search#12", "search", "abcdef2"+strings.Repeat("4", 33), 0, 0.1, U, 0.2),
		},
	}
}

// attributedAt computes ev up to attribution and returns the engine, whose
// incidents say how each was attributed.
func attributedAt(ev flywheel.Events, mod func(*Options)) *engine {
	o := DefaultOptions()
	if mod != nil {
		mod(&o)
	}
	in := NewInput(o)
	in.Add(ev)
	return in.attributed(at)
}

func TestCausedByForms(t *testing.T) {
	t.Parallel()
	const (
		dep1776 = "acme/checkout/deployments/1200001776"
		run9100 = "acme/checkout/runs/9100"
		relCo   = "acme/checkout/releases/v1.0"
		relSe   = "acme/search/releases/v1.0"
		dep2000 = "acme/checkout/deployments/1200002000"
		staging = "acme/search/deployments/1200001999"
	)
	sha1776 := "1234567c" + strings.Repeat("1", 32)
	cases := []struct {
		name      string
		id, svc   string // the incident's id and service
		causedBy  string
		urgency   string // "low" is not attributed by time: rule 2 finds nothing
		started   float64
		wantDep   string // the attributed deployment's id, "" for none
		wantBy    attrRule
		wantWhy   unattributed
		wantFrom  startFrom
		wantNamed string // the stored deployment named, "" for none
	}{
		{name: "stored id", causedBy: dep1776,
			wantDep: dep1776, wantBy: byCausedBy, wantFrom: startCausedBy, wantNamed: dep1776},
		{name: "GitHub deployment id", causedBy: "1200001776",
			wantDep: dep1776, wantBy: byCausedBy, wantFrom: startCausedBy, wantNamed: dep1776},
		{name: "deployment id in backticks with a full stop", causedBy: "`1200001776`.",
			wantDep: dep1776, wantBy: byCausedBy, wantFrom: startCausedBy, wantNamed: dep1776},
		{name: "Actions run id", causedBy: "9100",
			wantDep: run9100, wantBy: byCausedBy, wantFrom: startCausedBy, wantNamed: run9100},
		{name: "release tag: the issue's repo first", id: "acme/checkout/issues/3", causedBy: "v1.0",
			wantDep: relCo, wantBy: byCausedBy, wantFrom: startCausedBy, wantNamed: relCo},
		{name: "release tag: an issue of the other repo", id: "acme/search/issues/4", svc: "search", causedBy: "v1.0",
			wantDep: relSe, wantBy: byCausedBy, wantFrom: startCausedBy, wantNamed: relSe},
		{name: "release tag: a PagerDuty incident's service repos first", id: "Q1ABC", causedBy: "v1.0",
			wantDep: relCo, wantBy: byCausedBy, wantFrom: startCausedBy, wantNamed: relCo},
		{name: "release tag of no own repo: the earliest anywhere", id: "acme/web/issues/1", svc: "web", causedBy: "v1.0",
			wantDep: relSe, wantBy: byCausedBy, wantFrom: startCausedBy, wantNamed: relSe},
		{name: "release tag only another repo has", causedBy: "v2.0",
			wantDep: "acme/search/releases/v2.0", wantBy: byCausedBy, wantFrom: startCausedBy, wantNamed: "acme/search/releases/v2.0"},
		{name: "an id wins over the sha it is a prefix of", causedBy: "1234567",
			wantDep: "acme/checkout/deployments/1234567", wantBy: byCausedBy, wantFrom: startCausedBy,
			wantNamed: "acme/checkout/deployments/1234567"},
		{name: "deployment API URL", causedBy: "https://api.github.com/repos/acme/checkout/deployments/1200001776",
			wantDep: dep1776, wantBy: byCausedBy, wantFrom: startCausedBy, wantNamed: dep1776},
		{name: "deployment URL of GitHub Enterprise Server", causedBy: "https://ghe.example.com/api/v3/repos/acme/checkout/deployments/1200001776",
			wantDep: dep1776, wantBy: byCausedBy, wantFrom: startCausedBy, wantNamed: dep1776},
		{name: "deployment URL as a Markdown link", causedBy: "[the deploy](https://api.github.com/repos/acme/checkout/deployments/1200001776)",
			wantDep: dep1776, wantBy: byCausedBy, wantFrom: startCausedBy, wantNamed: dep1776},
		{name: "run URL of a job, repo in another case", causedBy: "<https://github.com/Acme/Checkout/actions/runs/9100/job/77>",
			wantDep: run9100, wantBy: byCausedBy, wantFrom: startCausedBy, wantNamed: run9100},
		{name: "run URL of GitHub Enterprise Server", causedBy: "https://ghe.example.com/acme/checkout/actions/runs/9100",
			wantDep: run9100, wantBy: byCausedBy, wantFrom: startCausedBy, wantNamed: run9100},
		{name: "run URL of another repo names nothing", causedBy: "https://github.com/acme/search/actions/runs/9100", urgency: "low",
			wantWhy: whyNamesNothing},
		{name: "release URL", causedBy: "https://github.com/acme/checkout/releases/tag/v1.0",
			wantDep: relCo, wantBy: byCausedBy, wantFrom: startCausedBy, wantNamed: relCo},
		{name: "release URL names its repo, whatever the incident's", causedBy: "https://github.com/acme/search/releases/tag/v1.0",
			wantDep: relSe, wantBy: byCausedBy, wantFrom: startCausedBy, wantNamed: relSe},
		{name: "commit URL, full sha", causedBy: "https://github.com/acme/checkout/commit/" + sha1776,
			wantDep: dep1776, wantBy: byCausedBy, wantFrom: startCausedBy, wantNamed: dep1776},
		{name: "commit URL, a prefix", causedBy: "https://github.com/acme/checkout/commit/1234567c1",
			wantDep: dep1776, wantBy: byCausedBy, wantFrom: startCausedBy, wantNamed: dep1776},
		{name: "commit URL, a merge sha: the deployment that shipped it", causedBy: "https://api.github.com/repos/acme/checkout/commits/abcdef0222",
			wantDep: dep2000, wantBy: byCausedBy, wantFrom: startCausedBy, wantNamed: dep2000},
		{name: "PR URL", causedBy: "https://github.com/acme/checkout/pull/12",
			wantDep: dep2000, wantBy: byCausedBy, wantFrom: startCausedBy, wantNamed: dep2000},
		{name: "PR API URL", causedBy: "https://api.github.com/repos/acme/checkout/pulls/12",
			wantDep: dep2000, wantBy: byCausedBy, wantFrom: startCausedBy, wantNamed: dep2000},
		{name: "owner/repo#N", causedBy: "**acme/checkout#12**",
			wantDep: dep2000, wantBy: byCausedBy, wantFrom: startCausedBy, wantNamed: dep2000},
		{name: "a PR not deployed", causedBy: "acme/checkout#13", urgency: "low",
			wantWhy: whyNamesUndeployed},
		{name: "a PR not deployed falls to rule 2", causedBy: "https://github.com/acme/checkout/pull/13",
			wantDep: dep2000, wantBy: byWindow},
		{name: "a PR of no stored number", causedBy: "acme/checkout#99", urgency: "low",
			wantWhy: whyNamesNothing},
		{name: "an unknown URL", causedBy: "https://status.example.com/incidents/5", urgency: "low",
			wantWhy: whyNamesNothing},
		{name: "an unknown URL falls to rule 2", causedBy: "https://status.example.com/incidents/5",
			wantDep: dep2000, wantBy: byWindow},
		{name: "a deployment that does not count", causedBy: "1200001999", urgency: "low",
			wantWhy: whyNamesUncounted, wantNamed: staging},
		{name: "a deployment that does not count falls to rule 2", causedBy: staging,
			wantDep: dep2000, wantBy: byWindow, wantNamed: staging},
		{name: "a run finished after at names nothing yet", causedBy: "9200", urgency: "low",
			wantWhy: whyNamesNothing},
		{name: "none", causedBy: "`None`", wantWhy: whyNotCaused},
		{name: "an explicit impact start stays", causedBy: "9100", started: 9,
			wantDep: run9100, wantBy: byCausedBy, wantFrom: startExplicit, wantNamed: run9100},
		{name: "no caused-by, low urgency", urgency: "low", wantWhy: whyUrgency},
		{name: "no caused-by, nothing in the window", svc: "web", wantWhy: whyNoDeploy},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ev := causedByEvents()
			x := incident(c.id, c.svc, c.urgency, c.started, 20, U, 21, c.causedBy)
			if x.ID == "" {
				x.ID = "acme/checkout/issues/1"
			}
			if x.Service == "" {
				x.Service = "checkout"
			}
			if x.Urgency == "" {
				x.Urgency = "high"
			}
			if c.started == 0 {
				x.StartedAt = H(U)
			}
			ev.Incidents = append(ev.Incidents, x)
			e := attributedAt(ev, func(o *Options) { o.AttributionUrgencies = []string{"high"} })
			got := e.incs[0]
			gotDep, gotNamed := "", ""
			if got.dep >= 0 {
				gotDep = e.deps[got.dep].d.ID
			}
			if got.named >= 0 {
				gotNamed = e.in.deps[got.named].ID
			}
			if gotDep != c.wantDep || got.by != c.wantBy || got.why != c.wantWhy || got.from != c.wantFrom || gotNamed != c.wantNamed {
				t.Errorf("caused-by %q: dep %q by %d why %d from %d named %q; want dep %q by %d why %d from %d named %q",
					c.causedBy, gotDep, got.by, got.why, got.from, gotNamed, c.wantDep, c.wantBy, c.wantWhy, c.wantFrom, c.wantNamed)
			}
			if c.wantFrom == startCausedBy && got.started != e.deps[got.dep].fin {
				t.Errorf("impact start %d, want the deployment's finish %d", got.started, e.deps[got.dep].fin)
			}
			unattr := 0
			for _, q := range e.quality {
				unattr += q.UnattributedIncidents
			}
			if want := map[bool]int{true: 0, false: 1}[c.wantDep != ""]; unattr != want {
				t.Errorf("unattributed incidents = %d, want %d", unattr, want)
			}
		})
	}
}

// TestCausedByFailsTheDeployment: a caused-by in a form other than the stored
// id fails its deployment in the report and sets its recovery, exactly as the
// stored id does.
func TestCausedByFailsTheDeployment(t *testing.T) {
	t.Parallel()
	var want string
	for i, cb := range []string{"acme/checkout/deployments/1200001776", "1200001776",
		"https://github.com/acme/checkout/commit/1234567c11", "https://ghe.example.com/api/v3/repos/acme/checkout/deployments/1200001776"} {
		ev := causedByEvents()
		ev.Incidents = append(ev.Incidents, incident("Q1", "checkout", "low", U, 20, U, 30, cb))
		k := w30(t, compute(ev, func(o *Options) { o.AttributionUrgencies = []string{"high"} }), "checkout")
		eqInt(t, cb+": failed", k.FailedDeployments, 1)
		eqQ(t, cb+": recovery", k.FailedDeploymentRecoverySeconds, 29*3600, 29*3600, 1)
		eqQ(t, cb+": detect", k.Incidents.TimeToDetect, 19*3600, 19*3600, 1)
		got := string(mustJSON(t, k))
		if i == 0 {
			want = got
		} else if got != want {
			t.Errorf("%s: %s\nwant, as the stored id gives: %s", cb, got, want)
		}
	}
}

// TestCausedByPullOfAnotherRepo: an imported PR whose id names a repo other
// than its own (here none) is still found by that id.
func TestCausedByPullOfAnotherRepo(t *testing.T) {
	t.Parallel()
	ev := causedByEvents()
	ev.Changes[0].Repo = "" // acme/checkout#12, shipped by its commit list all the same
	ev.Incidents = append(ev.Incidents, incident("Q1", "checkout", "low", U, 20, U, 21, "acme/checkout#12"))
	e := attributedAt(ev, func(o *Options) { o.AttributionUrgencies = []string{"high"} })
	if x := e.incs[0]; x.dep < 0 || e.deps[x.dep].d.ID != "acme/checkout/deployments/1200002000" || x.by != byCausedBy {
		t.Errorf("incident %+v, want attributed by caused-by to acme/checkout/deployments/1200002000", x)
	}
}

func TestSourceID(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		id, repo, v string
		kind        flywheel.RefKind
	}{
		{"acme/checkout/deployments/1200001776", "acme/checkout", "1200001776", flywheel.RefDeployment},
		{"acme/checkout/runs/9100", "acme/checkout", "9100", flywheel.RefRun},
		{"acme/checkout/releases/v1.0", "acme/checkout", "v1.0", flywheel.RefRelease},
		{"acme/checkout/releases/team/v1.0", "acme/checkout", "team/v1.0", flywheel.RefRelease},
		{"acme/checkout/issues/3", "", "", 0},
		{"acme/checkout/runs/", "", "", 0},
		{"acme/runs/9100", "", "", 0},
		{"1200001776", "", "", 0},
		{"/x/runs/1", "", "", 0},
	} {
		repo, kind, v, ok := sourceID(c.id)
		if repo != c.repo || kind != c.kind || v != c.v || ok != (c.repo != "") {
			t.Errorf("sourceID(%q) = %q %d %q %v, want %q %d %q", c.id, repo, kind, v, ok, c.repo, c.kind, c.v)
		}
	}
	for id, want := range map[string]string{"acme/checkout/issues/3": "acme/checkout", "Q1ABC": "",
		"acme/checkout/issues/": "", "a/b/c/issues/4": "", "/issues/4": ""} {
		if got, ok := issueRepo(id); got != want || ok != (want != "") {
			t.Errorf("issueRepo(%q) = %q %v, want %q", id, got, ok, want)
		}
	}
}
