package demo_test

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/collector"
	"github.com/flywheel-metrics/flywheel/collector/github"
	"github.com/flywheel-metrics/flywheel/collector/github/ghclient"
	"github.com/flywheel-metrics/flywheel/collector/github/githubtest"
	"github.com/flywheel-metrics/flywheel/collector/pagerduty"
	"github.com/flywheel-metrics/flywheel/collector/pagerduty/pagerdutytest"
	"github.com/flywheel-metrics/flywheel/config"
	"github.com/flywheel-metrics/flywheel/demo"
	"github.com/flywheel-metrics/flywheel/metrics/kpi"
	"github.com/flywheel-metrics/flywheel/storage"
)

// stepClock advances only when slept on, so rate limiters never wait for real.
type stepClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *stepClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.now = c.now.Add(max(d, 0))
	c.mu.Unlock()
	return ctx.Err()
}

// collectDemo serves org through the simulated APIs, runs the real GitHub and
// PagerDuty sources against them into a bbolt store, as `flywheel demo`
// configures them, and returns the stored events and the KPI options.
func collectDemo(t *testing.T, org *demo.Org) (flywheel.Events, kpi.Options, *config.Config) {
	t.Helper()
	now := org.Now
	serverNow := func() time.Time { return now }
	gh := githubtest.NewServer(org.GitHub, githubtest.Options{Now: serverNow, RateLimit: 100000, GraphQLRateLimit: 100000})
	t.Cleanup(gh.Close)
	pd := pagerdutytest.NewServer(org.PagerDuty, pagerdutytest.Options{Token: "pd-token", Now: serverNow})
	t.Cleanup(pd.Close)
	cfg, err := config.Parse([]byte(org.ConfigYAML(gh.RESTBaseURL(), pd.URL)))
	if err != nil {
		t.Fatal(err)
	}
	opts, err := cfg.KPIOptions()
	if err != nil {
		t.Fatal(err)
	}
	st, err := storage.Open(filepath.Join(t.TempDir(), "flywheel.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })

	clock := &stepClock{now: now}
	c, err := ghclient.New(ghclient.Options{BaseURL: gh.RESTBaseURL(), GraphQLURL: gh.GraphQLURL(), Validators: st, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	var repos []github.RepoConfig
	for _, s := range org.Services {
		owner, name, _ := strings.Cut(s.Repo, "/")
		repos = append(repos, github.RepoConfig{Owner: owner, Name: name, Service: s.Name, Team: s.Team,
			Settings: github.RepoSettings{DeploymentSource: github.SourceDeployments,
				Environment: regexp.MustCompile(`^production$`), IncidentLabels: []string{"incident"}}})
	}
	ghSrc, err := github.New(github.Options{Client: c, Repos: repos, GraphQL: true, TuneUpPaths: true,
		History: cfg.HistoryDuration(), Clock: clock, IncidentTimeZone: cfg.IncidentLocation()})
	if err != nil {
		t.Fatal(err)
	}
	services := map[string]string{}
	for _, s := range org.Services {
		services[s.PagerDutyID] = s.Name
	}
	pdSrc, err := pagerduty.New(pagerduty.Options{BaseURL: pd.URL, Token: "pd-token", Services: services,
		History: cfg.HistoryDuration(), Clock: clock, IncidentTimeZone: cfg.IncidentLocation()})
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range []collector.Source{ghSrc, pdSrc} {
		if err := src.Sync(context.Background(), st, collector.NopProgress{}); err != nil {
			t.Fatal(err)
		}
	}
	ev, err := st.Events()
	if err != nil {
		t.Fatal(err)
	}
	return ev, opts, cfg
}

// incidentResult is what the KPI engine made of one incident.
type incidentResult struct {
	attributed bool
	// named: attributed by its caused-by line, to the deployment finished at
	// namedFinish.
	named       bool
	namedFinish time.Time
	// toIntended: attributed (by either rule) to the intended deployment.
	toIntended bool
	// started is the impact start the engine used; zero when unknown.
	started time.Time
}

// prober reads per-incident results from the engine's aggregate figures by
// computing with one incident at a time among every deployment and change:
//   - it is attributed iff the data-quality count of unattributed incidents
//     stays 0;
//   - its time to detect is triggered − started, the impact start the engine
//     took; with the impact-start line removed, a time to detect exists only
//     when its caused-by named a deployment, whose finish it then reveals;
//   - it is attributed to a deployment d iff the failed deployments and
//     recovery times of the window starting at d's finish change with it and
//     those of the window starting a second later do not.
type prober struct {
	ev   flywheel.Events
	opts kpi.Options
	at   time.Time
	// base holds the results without incidents, by the finish of a deployment.
	base map[time.Time]*kpi.Report
}

const allWindow = "all"

func (p *prober) compute(incidents []flywheel.Incident, finish time.Time) kpi.Result {
	o := p.opts
	o.Windows = []flywheel.Window{{Name: allWindow, Duration: 2 * 365 * flywheel.Day}}
	if !finish.IsZero() {
		o.Windows = append(o.Windows,
			flywheel.Window{Name: "from", Duration: p.at.Sub(finish)},
			flywheel.Window{Name: "after", Duration: p.at.Sub(finish) - time.Second})
	}
	ev := flywheel.Events{Deployments: p.ev.Deployments, Changes: p.ev.Changes, Incidents: incidents}
	return kpi.Compute(ev, p.at, o)
}

func failures(r *kpi.Report, w string) string {
	k := r.Windows[w].All
	if k == nil {
		return "-"
	}
	s := "-"
	if k.FailedDeployments != nil {
		s = fmt.Sprint(*k.FailedDeployments)
	}
	if q := k.FailedDeploymentRecoverySeconds; q != nil {
		s += fmt.Sprintf(" %v %v %d", q.P50, q.P90, q.Count)
	}
	return s
}

// sameMinute compares impact starts to the minute: people write minutes.
func sameMinute(a, b time.Time) bool { return a.Truncate(time.Minute).Equal(b.Truncate(time.Minute)) }

func started(r *kpi.Report, x flywheel.Incident) time.Time {
	k := r.Windows[allWindow].All
	if k == nil || k.Incidents == nil || k.Incidents.TimeToDetect == nil {
		return time.Time{}
	}
	return x.TriggeredAt.Add(-time.Duration(k.Incidents.TimeToDetect.P50 * float64(time.Second)))
}

// probe reads what the engine made of x; intended is the deployment that
// caused it, if any, whose baseline must be in p.base.
func (p *prober) probe(x flywheel.Incident, intended *flywheel.Deployment) incidentResult {
	var fin time.Time
	if intended != nil {
		fin = intended.FinishedAt
	}
	res := p.compute([]flywheel.Incident{x}, fin)
	var out incidentResult
	out.attributed = true
	for _, h := range res.History.Services {
		if h.Quality.UnattributedIncidents > 0 {
			out.attributed = false
		}
	}
	out.started = started(&res.Report, x)
	if intended != nil && out.attributed {
		base := p.base[fin]
		out.toIntended = failures(&res.Report, "from") != failures(base, "from") &&
			failures(&res.Report, "after") == failures(base, "after")
	}
	if out.attributed && x.CausedBy != "" && x.CausedBy != flywheel.CausedByNone {
		s := out.started
		if !x.StartedAt.IsZero() || x.ImpactStartUnparsed != "" {
			bare := x
			bare.StartedAt, bare.ImpactStartUnparsed = time.Time{}, ""
			r := p.compute([]flywheel.Incident{bare}, time.Time{})
			s = started(&r.Report, bare)
		}
		out.named, out.namedFinish = !s.IsZero(), s
	}
	return out
}

// probeAll probes every incident, in parallel: the engine is a pure function.
func (p *prober) probeAll(xs []flywheel.Incident, intended []*flywheel.Deployment) []incidentResult {
	p.base = map[time.Time]*kpi.Report{}
	var finishes []time.Time
	for _, d := range intended {
		if d != nil && !slices.Contains(finishes, d.FinishedAt) {
			finishes = append(finishes, d.FinishedAt)
		}
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for _, fin := range finishes {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			r := p.compute(nil, fin).Report
			mu.Lock()
			p.base[fin] = &r
			mu.Unlock()
		})
	}
	wg.Wait()
	out := make([]incidentResult, len(xs))
	for i := range xs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i] = p.probe(xs[i], intended[i])
		})
	}
	wg.Wait()
	return out
}

// agreement counts, over the generator's truth, how often what Flywheel
// derived agrees with what the generator meant.
type agreement struct {
	caused, toIntended       int // caused by a deployment; attributed to it (either rule)
	named, namedOK           int // caused-by names it; attributed by that line to it
	notCaused, notAttributed int // no change caused it; left unattributed
	saidNone, saidNoneOK     int // its caused-by says none; left unattributed
	starts, startsOK         int // an impact start that parses; the engine took it
	unparsed, unparsedStored int // an impact start that does not parse; stored as such
}

func (a agreement) String() string {
	return fmt.Sprintf("attributed to the intended deployment %d of %d (named by caused-by %d of %d); "+
		"not caused and left unattributed %d of %d (caused-by: none %d of %d); impact starts equal (to the minute) %d of %d; "+
		"impact starts that do not parse stored as such %d of %d",
		a.toIntended, a.caused, a.namedOK, a.named, a.notAttributed, a.notCaused, a.saidNoneOK, a.saidNone,
		a.startsOK, a.starts, a.unparsedStored, a.unparsed)
}

// TestDemoAttribution runs the demo organisation (seed 1) through the real
// collectors into a store and compares, incident by incident, what the KPI
// engine derives with what the generator meant (demo.Org.Truth). Where the
// rules leave no choice the agreement must be exact: an incident whose
// caused-by names its deployment is attributed to it by that line, one whose
// caused-by says none is attributed to nothing, an impact start that parses
// is the one used, and one that does not is stored and counted. Attribution
// by time alone is a heuristic: its agreement is logged (go test ./demo -run
// TestDemoAttribution -v).
func TestDemoAttribution(t *testing.T) {
	t.Parallel()
	org := demo.Generate(1, time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC))
	ev, opts, _ := collectDemo(t, org)
	deps := map[string]*flywheel.Deployment{}
	for i := range ev.Deployments {
		deps[ev.Deployments[i].ID] = &ev.Deployments[i]
	}
	stored := map[string]flywheel.Incident{}
	for _, x := range ev.Incidents {
		stored[x.ID] = x
	}
	full := kpi.Compute(ev, org.Now, opts)

	var xs []flywheel.Incident
	var intended []*flywheel.Deployment
	for _, tr := range org.Truth {
		x, ok := stored[tr.Incident]
		if !ok {
			t.Fatalf("%s: not stored", tr.Incident)
		}
		var d *flywheel.Deployment
		if tr.Deployment != "" {
			if d = deps[tr.Deployment]; d == nil {
				t.Fatalf("%s: intended deployment %s not stored", tr.Incident, tr.Deployment)
			}
		}
		xs, intended = append(xs, x), append(intended, d)
	}
	p := &prober{ev: ev, opts: opts, at: org.Now}
	results := p.probeAll(xs, intended)

	bySource := map[string]*agreement{"github": {}, "pagerduty": {}}
	var a agreement
	for i, tr := range org.Truth {
		x, r := xs[i], results[i]
		for _, c := range []*agreement{&a, bySource[tr.Source]} {
			c.add(tr, x, r, intended[i])
		}
		switch {
		case tr.Named && !(r.named && r.namedFinish.Equal(intended[i].FinishedAt) && r.toIntended):
			t.Errorf("%s: caused-by %q names %s, but the engine attributed it by caused-by: %v (finish %v), to it: %v",
				tr.Incident, x.CausedBy, tr.Deployment, r.named, r.namedFinish, r.toIntended)
		case x.CausedBy == flywheel.CausedByNone && r.attributed:
			t.Errorf("%s: caused-by none, but attributed", tr.Incident)
		case tr.Deployment != "" && !r.toIntended:
			t.Logf("%s: caused by %s (caused-by %q), attributed elsewhere or not at all (attributed: %v)", tr.Incident, tr.Deployment, x.CausedBy, r.attributed)
		}
		switch {
		case tr.ImpactStartUnparsed && x.ImpactStartUnparsed == "":
			t.Errorf("%s: the impact start that does not parse is not stored as such", tr.Incident)
		case !tr.ImpactStart.IsZero() && !tr.ImpactStartUnparsed && !sameMinute(r.started, tr.ImpactStart):
			t.Errorf("%s: impact start %v, the engine used %v (stored %v)", tr.Incident, tr.ImpactStart, r.started, x.StartedAt)
		}
	}
	counted := 0
	for _, h := range full.History.Services {
		counted += h.Quality.ImpactStartUnparsed
	}
	t.Logf("demo seed 1, all %d incidents: %v; data quality counts %d impact starts that do not parse", len(org.Truth), a, counted)
	t.Logf("GitHub issues: %v", bySource["github"])
	t.Logf("PagerDuty incidents: %v", bySource["pagerduty"])
	if counted != a.unparsed {
		t.Errorf("data quality counts %d impact starts that do not parse, the generator wrote %d", counted, a.unparsed)
	}
	if g := bySource["github"]; g.named < 8 || g.unparsed == 0 || g.saidNone == 0 {
		t.Errorf("GitHub issues of seed 1 cover too few forms: %v", g)
	}
}

func (a *agreement) add(tr demo.IncidentTruth, x flywheel.Incident, r incidentResult, intended *flywheel.Deployment) {
	if tr.Deployment != "" {
		a.caused++
		if r.toIntended {
			a.toIntended++
		}
	} else {
		a.notCaused++
		if !r.attributed {
			a.notAttributed++
		}
	}
	if tr.Named {
		a.named++
		if r.named && r.namedFinish.Equal(intended.FinishedAt) && r.toIntended {
			a.namedOK++
		}
	}
	if x.CausedBy == flywheel.CausedByNone {
		a.saidNone++
		if !r.attributed {
			a.saidNoneOK++
		}
	}
	switch {
	case tr.ImpactStartUnparsed:
		a.unparsed++
		if x.ImpactStartUnparsed != "" {
			a.unparsedStored++
		}
	case !tr.ImpactStart.IsZero():
		a.starts++
		if sameMinute(r.started, tr.ImpactStart) {
			a.startsOK++
		}
	}
}
