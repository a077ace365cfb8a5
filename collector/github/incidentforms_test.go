package github_test

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // Europe/Berlin wherever the test runs

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/collector"
	"github.com/flywheel-metrics/flywheel/collector/github"
	"github.com/flywheel-metrics/flywheel/collector/github/ghclient"
	"github.com/flywheel-metrics/flywheel/collector/github/githubtest"
	"github.com/flywheel-metrics/flywheel/metrics/kpi"
)

// Incident issues that name the deployment that caused them, and say when
// users were first hurt, in every place and form people use on GitHub, run
// through the real source into the real store and the KPI engine.

var formsStart = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

// formsDeploys is the number of deployments of each repository, one every six
// hours, each shipping one squash-merged pull request.
const formsDeploys = 30

// formsRepo is a repository of the forms organisation and what people copy
// to name its deployments.
type formsRepo struct {
	repo   *githubtest.Repo
	fin    []time.Time // finish of deployment k
	stored []string    // its stored id
	shown  []string    // the id GitHub shows: deployment id, run id or release tag
	sha    []string
	pr     []int // the pull request it shipped
}

// newFormsRepo builds a repository deploying through source. offset shifts its
// schedule, so that no two deployments of the organisation finish together.
func newFormsRepo(name, source string, offset time.Duration) *formsRepo {
	full := "acme/" + name
	r := &githubtest.Repo{Owner: "acme", Name: name, DefaultBranch: "main",
		CreatedAt: formsStart.Add(-30 * 24 * time.Hour), UpdatedAt: formsStart}
	f := &formsRepo{repo: r}
	n := 0
	sha := func() string {
		n++
		s := sha1.Sum(fmt.Appendf(nil, "%s/%d", full, n))
		return hex.EncodeToString(s[:])
	}
	head := sha()
	r.Commits = append(r.Commits, &githubtest.Commit{SHA: head, Message: "Initial commit", AuthorLogin: "founder",
		AuthoredAt: r.CreatedAt, CommittedAt: r.CreatedAt})
	if source == github.SourceWorkflowRuns {
		r.Workflows = []*githubtest.Workflow{{ID: 77, Name: "deploy", Path: ".github/workflows/deploy.yml"}}
	}
	for k := range formsDeploys {
		at := formsStart.Add(offset + time.Duration(k)*6*time.Hour)
		fin := at.Add(10 * time.Minute)
		work := sha()
		r.Commits = append(r.Commits, &githubtest.Commit{SHA: work, Parents: []string{head}, Message: fmt.Sprintf("change %d", k),
			AuthorLogin: "dev", AuthoredAt: at.Add(-4 * time.Hour), CommittedAt: at.Add(-4 * time.Hour)})
		merged := at.Add(-time.Hour)
		squash := sha()
		r.Commits = append(r.Commits, &githubtest.Commit{SHA: squash, Parents: []string{head}, Message: fmt.Sprintf("change %d (#%d)", k, k+1),
			AuthorLogin: "dev", CommitterLogin: "web-flow", AuthoredAt: merged, CommittedAt: merged})
		head = squash
		r.Pulls = append(r.Pulls, &githubtest.Pull{Number: k + 1, Title: fmt.Sprintf("feat: change %d", k), Author: "dev",
			BaseRef: "main", HeadRef: fmt.Sprintf("change-%d", k), Commits: []string{work}, CreatedAt: at.Add(-3 * time.Hour),
			UpdatedAt: merged, ClosedAt: &merged, MergedAt: &merged, MergeCommitSHA: squash})
		f.fin, f.sha, f.pr = append(f.fin, fin), append(f.sha, squash), append(f.pr, k+1)
		switch source {
		case github.SourceDeployments:
			id := int64(1_900_000_000 + 7919*int64(len(name)) + 131*int64(k))
			r.Deployments = append(r.Deployments, &githubtest.Deployment{ID: id, SHA: squash, Ref: "main", Environment: "production",
				Task: "deploy", CreatedAt: at, Creator: "deploy-bot", ProductionEnvironment: true,
				Statuses: []githubtest.DeploymentStatus{{State: "in_progress", CreatedAt: at.Add(time.Minute), Creator: "deploy-bot"},
					{State: "success", CreatedAt: fin, Creator: "deploy-bot"}}})
			f.shown = append(f.shown, strconv.FormatInt(id, 10))
			f.stored = append(f.stored, fmt.Sprintf("%s/deployments/%d", full, id))
		case github.SourceWorkflowRuns:
			id := int64(9_100_000_000 + 977*int64(k))
			r.Runs = append(r.Runs, &githubtest.WorkflowRun{ID: id, WorkflowID: 77, HeadBranch: "main", HeadSHA: squash, Event: "push",
				Status: "completed", Conclusion: "success", CreatedAt: at, RunStartedAt: at, UpdatedAt: fin,
				RunAttempt: 1, RunNumber: k + 1, Actor: "dev"})
			f.shown = append(f.shown, strconv.FormatInt(id, 10))
			f.stored = append(f.stored, fmt.Sprintf("%s/runs/%d", full, id))
		case github.SourceReleases:
			tag := fmt.Sprintf("v1.%d.0", k)
			r.Releases = append(r.Releases, &githubtest.Release{TagName: tag, TargetCommitish: squash, Name: tag,
				CreatedAt: merged, PublishedAt: &fin, Author: "releaser"})
			f.shown = append(f.shown, tag)
			f.stored = append(f.stored, full+"/releases/"+tag)
		}
	}
	r.Branches = map[string]string{"main": head}
	r.UpdatedAt = formsStart.Add(offset + formsDeploys*6*time.Hour)
	return f
}

// formCase is one incident issue. Its texts may hold placeholders for the
// deployment it names: {stored}, {shown}, {sha}, {sha7}, {sha12}, {pr},
// {repo}; {wrong} is the stored id of the deployment after it, and {impact}
// its impact-start value (appended to the body as a plain line if no text
// places it).
type formCase struct {
	name string
	// in is the repository of the issue; target and k the deployment that
	// caused it (k < 0: none did).
	in, target string
	k          int
	// byTime: its caused-by names nothing stored, so the time rule decides,
	// and picks the deployment after k.
	byTime       bool
	body         []string
	comments     []string
	wantCausedBy string
	impact       int // an impact-start form (impactForms)
}

// impactForms are the ways an impact start is written; the last does not parse.
var impactForms = []struct {
	name   string
	format func(t time.Time, tz *time.Location) string
}{
	{"RFC3339 UTC", func(t time.Time, _ *time.Location) string { return t.UTC().Format(time.RFC3339) }},
	{"RFC3339 with an offset", func(t time.Time, _ *time.Location) string {
		return t.In(time.FixedZone("", 2*3600)).Format(time.RFC3339)
	}},
	{"minutes UTC", func(t time.Time, _ *time.Location) string { return t.UTC().Format("2006-01-02 15:04") + " UTC" }},
	{"seconds with an offset", func(t time.Time, _ *time.Location) string {
		return t.In(time.FixedZone("", -5*3600)).Format("2006-01-02 15:04:05 -07:00")
	}},
	{"no zone", func(t time.Time, tz *time.Location) string { return t.In(tz).Format("2006-01-02 15:04") }},
	{"words", func(t time.Time, _ *time.Location) string {
		return "about ten minutes after the " + t.UTC().Format("15:04") + " alert"
	}},
}

const impactWords = 5

func formCases() []formCase {
	cases := []formCase{
		// the ids Flywheel stores and GitHub shows
		{name: "stored deployment id", in: "web", target: "web", k: 1, body: []string{"caused-by: {stored}"}, wantCausedBy: "{stored}"},
		{name: "deployment id", in: "web", target: "web", k: 2, body: []string{"caused-by: {shown}"}, wantCausedBy: "{shown}"},
		{name: "deployment id of another repo", in: "api", target: "web", k: 3, body: []string{"caused-by: `{shown}`"}, wantCausedBy: "{shown}"},
		{name: "run id", in: "api", target: "api", k: 1, body: []string{"caused-by: {shown}"}, wantCausedBy: "{shown}"},
		{name: "release tag", in: "site", target: "site", k: 1, body: []string{"**caused-by:** {shown}"}, wantCausedBy: "{shown}"},
		{name: "stored run id", in: "api", target: "api", k: 2, body: []string{"- caused_by: {stored}"}, wantCausedBy: "{stored}"},
		// URLs: deployment URLs are API URLs (what bots post; GitHub's web
		// pages have none per deployment)
		{name: "deployment API URL", in: "web", target: "web", k: 4,
			body: []string{"caused-by: https://api.github.com/repos/{repo}/deployments/{shown}"}, wantCausedBy: "https://api.github.com/repos/{repo}/deployments/{shown}"},
		{name: "deployment API URL of GitHub Enterprise, in <>", in: "web", target: "web", k: 5,
			body: []string{"Caused-By: <https://ghe.example.com/api/v3/repos/{repo}/deployments/{shown}>"}, wantCausedBy: "https://ghe.example.com/api/v3/repos/{repo}/deployments/{shown}"},
		{name: "run URL in a list item", in: "api", target: "api", k: 3,
			body: []string{"- caused-by: https://github.com/{repo}/actions/runs/{shown}"}, wantCausedBy: "https://github.com/{repo}/actions/runs/{shown}"},
		{name: "run job URL as a link, quoted", in: "web", target: "api", k: 4,
			body: []string{"> caused-by: [deploy run](https://github.com/{repo}/actions/runs/{shown}/job/55501234)"}, wantCausedBy: "https://github.com/{repo}/actions/runs/{shown}/job/55501234"},
		{name: "release URL with a full stop", in: "site", target: "site", k: 2,
			body: []string{"caused_by: https://github.com/{repo}/releases/tag/{shown}."}, wantCausedBy: "https://github.com/{repo}/releases/tag/{shown}"},
		{name: "commit URL", in: "web", target: "web", k: 6,
			body: []string{"caused-by: https://github.com/{repo}/commit/{sha}"}, wantCausedBy: "https://github.com/{repo}/commit/{sha}"},
		{name: "short commit URL as a link", in: "site", target: "site", k: 3,
			body: []string{"caused-by: [{sha7}](https://github.com/{repo}/commit/{sha7})"}, wantCausedBy: "https://github.com/{repo}/commit/{sha7}"},
		{name: "pull request URL", in: "web", target: "web", k: 7,
			body: []string{"caused-by: https://github.com/{repo}/pull/{pr}"}, wantCausedBy: "https://github.com/{repo}/pull/{pr}"},
		{name: "pull request files URL in <>", in: "api", target: "api", k: 5,
			body: []string{"caused-by: <https://github.com/{repo}/pull/{pr}/files>"}, wantCausedBy: "https://github.com/{repo}/pull/{pr}/files"},
		{name: "owner/repo#N", in: "web", target: "web", k: 8, body: []string{"caused-by: {repo}#{pr}"}, wantCausedBy: "{repo}#{pr}"},
		{name: "owner/repo#N of another repo, bold", in: "web", target: "api", k: 6, body: []string{"**Caused-by:** **{repo}#{pr}**"}, wantCausedBy: "{repo}#{pr}"},
		// shas
		{name: "sha", in: "web", target: "web", k: 9, body: []string{"caused-by: {sha}"}, wantCausedBy: "{sha}"},
		{name: "7-character sha in backticks with a full stop", in: "web", target: "web", k: 10, body: []string{"caused-by: `{sha7}`."}, wantCausedBy: "{sha7}"},
		{name: "12-character sha of a release", in: "site", target: "site", k: 4, body: []string{"caused-by: {sha12}"}, wantCausedBy: "{sha12}"},
		{name: "sha of a run, other repo", in: "site", target: "api", k: 7, body: []string{"caused-by: {sha12}"}, wantCausedBy: "{sha12}"},
		// places: a comment, and a comment correcting the body
		{name: "in a comment", in: "web", target: "web", k: 11, body: []string{"Checkout fails for some users."},
			comments: []string{"Found it.\ncaused-by: {sha7}"}, wantCausedBy: "{sha7}"},
		{name: "corrected in a comment", in: "web", target: "web", k: 12, body: []string{"caused-by: {wrong}"},
			comments: []string{"Looking into it.", "Correction: it was the deploy before.\ncaused-by: {stored}"}, wantCausedBy: "{stored}"},
		{name: "impact start corrected in a comment", in: "api", target: "api", k: 8,
			body:     []string{"impact-start: 2026-03-01T00:00:00Z", "caused-by: {shown}"},
			comments: []string{"Dashboards show it started later.\n- impact-start: {impact}"}, wantCausedBy: "{shown}"},
		{name: "CRLF line ends (web editor)", in: "web", target: "web", k: 13, body: []string{"Typed in the browser.\r", "caused-by: {stored}\r", "impact-start: {impact}\r"},
			wantCausedBy: "{stored}"},
		// not caused by a change
		{name: "none", in: "web", k: -1, body: []string{"caused-by: none"}, wantCausedBy: "none"},
		{name: "NONE with a reason", in: "site", k: -1, body: []string{"Caused-By: NONE — the CDN had an outage"}, wantCausedBy: "none"},
		{name: "none after a wrong guess", in: "api", target: "api", k: 9, body: []string{"caused-by: {stored}"},
			comments: []string{"Not the deploy after all.\ncaused-by: none"}, wantCausedBy: "none"},
		// names nothing stored: the time rule decides
		{name: "environment page", in: "web", target: "web", k: 14, byTime: true,
			body: []string{"caused-by: https://github.com/{repo}/deployments/production"}, wantCausedBy: "https://github.com/{repo}/deployments/production"},
		{name: "a word", in: "web", target: "web", k: 15, byTime: true, body: []string{"caused-by: TBD"}, wantCausedBy: "TBD"},
		// an issue form: GitHub renders each field as a heading and its answer
		{name: "issue form", in: "api", target: "api", k: 11,
			body: []string{"### What is broken?", "", "Search times out.", "", "### Caused by", "", "{shown}", "",
				"### Impact start (UTC)", "", "{impact}", "", "### Runbook", "", "_No response_"}, wantCausedBy: "{shown}"},
		// an issue template whose instructions are HTML comments
		{name: "template instructions", in: "site", target: "site", k: 12,
			body: []string{"<!-- Fill in caused-by: with the deployment id, sha or URL, and", "impact-start: with when users were first hurt. -->",
				"caused-by: <!-- deployment --> {sha12}"}, wantCausedBy: "{sha12}"},
	}
	for i := range cases {
		cases[i].impact = i % len(impactForms)
		texts := strings.Join(append(cases[i].body, cases[i].comments...), "\n")
		if cases[i].impact == impactWords && (cases[i].byTime || strings.Contains(texts, "impact-start:")) {
			// The time rule needs a start to pick the deployment this test
			// expects; and a correction that does not parse leaves the
			// earlier start standing.
			cases[i].impact = 0
		}
		if cases[i].k < 0 {
			cases[i].target = cases[i].in
			cases[i].k = 20 + i%5
		}
	}
	return cases
}

// formsOrg is the organisation of formCases: acme/web deploys through the
// Deployments API, acme/api through an Actions workflow, acme/site by
// releases. Issue i of the cases is hurt 10 minutes after the deployment
// after the one that caused it, so that time alone would blame that one.
type formsOrg struct {
	org   *githubtest.Org
	repos map[string]*formsRepo
	tz    *time.Location
	// per case: the issue's stored id, its impact start, its text values
	ids     []string
	impacts []time.Time
	cases   []formCase
}

func newFormsOrg(t *testing.T) *formsOrg {
	t.Helper()
	tz, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	f := &formsOrg{org: &githubtest.Org{Name: "acme"}, tz: tz, cases: formCases(), repos: map[string]*formsRepo{
		"web":  newFormsRepo("web", github.SourceDeployments, 0),
		"api":  newFormsRepo("api", github.SourceWorkflowRuns, 2*time.Hour+7*time.Minute),
		"site": newFormsRepo("site", github.SourceReleases, 4*time.Hour+13*time.Minute),
	}}
	for _, n := range []string{"web", "api", "site"} {
		f.org.Repos = append(f.org.Repos, f.repos[n].repo)
	}
	for i, c := range f.cases {
		tr := f.repos[c.target]
		impact := tr.fin[c.k+1].Add(10 * time.Minute)
		f.impacts = append(f.impacts, impact)
		repl := strings.NewReplacer("{stored}", tr.stored[c.k], "{shown}", tr.shown[c.k], "{sha}", tr.sha[c.k],
			"{sha7}", tr.sha[c.k][:7], "{sha12}", tr.sha[c.k][:12], "{pr}", strconv.Itoa(tr.pr[c.k]), "{repo}", "acme/"+c.target,
			"{wrong}", tr.stored[c.k+1], "{impact}", impactForms[c.impact].format(impact, tz))
		texts := strings.Join(append(append([]string(nil), c.body...), c.comments...), "\n")
		body := repl.Replace(strings.Join(c.body, "\n"))
		if !strings.Contains(texts, "{impact}") {
			body += "\nimpact-start: " + repl.Replace("{impact}")
		}
		f.cases[i].wantCausedBy = repl.Replace(c.wantCausedBy)
		opened := impact.Add(20 * time.Minute)
		is := &githubtest.Issue{Number: 1000 + i, Title: c.name, Body: body, User: "oncall", Labels: []string{"incident", "sev2"},
			State: "closed", StateReason: "completed", CreatedAt: opened, UpdatedAt: opened.Add(3 * time.Hour), ClosedAt: ptr(opened.Add(3 * time.Hour))}
		for j, cm := range c.comments {
			at := opened.Add(time.Duration(10+10*j) * time.Minute)
			is.Comments = append(is.Comments, githubtest.Comment{User: "sre", Body: repl.Replace(cm), CreatedAt: at, UpdatedAt: at})
		}
		r := f.repos[c.in].repo
		r.Issues = append(r.Issues, is)
		f.ids = append(f.ids, fmt.Sprintf("acme/%s/issues/%d", c.in, is.Number))
	}
	return f
}

func ptr[T any](v T) *T { return &v }

// syncForms runs the real source over the forms organisation into a new
// store, as a user would configure these three repositories.
func (f *formsOrg) sync(t *testing.T, graphQL bool) flywheel.Events {
	t.Helper()
	srv := githubtest.NewServer(f.org, githubtest.Options{Now: func() time.Time { return formsAt }})
	t.Cleanup(srv.Close)
	st := openStore(t)
	clock := &stepClock{now: formsAt}
	c, err := ghclient.New(ghclient.Options{BaseURL: srv.RESTBaseURL(), GraphQLURL: srv.GraphQLURL(), Validators: st, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	prod := regexp.MustCompile(`^production$`)
	labels := []string{"incident"}
	src, err := github.New(github.Options{Client: c, GraphQL: graphQL, Clock: clock, IncidentTimeZone: f.tz, Repos: []github.RepoConfig{
		{Owner: "acme", Name: "web", Settings: github.RepoSettings{DeploymentSource: github.SourceDeployments, Environment: prod, IncidentLabels: labels}},
		{Owner: "acme", Name: "api", Settings: github.RepoSettings{DeploymentSource: github.SourceWorkflowRuns, Workflow: "deploy.yml", IncidentLabels: labels}},
		{Owner: "acme", Name: "site", Settings: github.RepoSettings{DeploymentSource: github.SourceReleases, IncidentLabels: labels}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Sync(context.Background(), st, collector.NopProgress{}); err != nil {
		t.Fatal(err)
	}
	ev, err := st.Events()
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

var formsAt = formsStart.Add(20 * 24 * time.Hour)

// TestIncidentFormsEndToEnd: every form of caused-by and impact-start reaches
// the store as written (without its Markdown) through GraphQL and REST, and
// the KPI engine attributes each incident to the deployment it names, takes
// its impact start, and counts the one that does not parse.
func TestIncidentFormsEndToEnd(t *testing.T) {
	t.Parallel()
	f := newFormsOrg(t)
	var ev flywheel.Events
	for _, graphQL := range []bool{true, false} {
		got := f.sync(t, graphQL)
		if len(got.Incidents) != len(f.cases) {
			t.Fatalf("GraphQL %v: %d incidents stored, want %d", graphQL, len(got.Incidents), len(f.cases))
		}
		if ev.Incidents != nil && fmt.Sprint(got.Incidents) != fmt.Sprint(ev.Incidents) {
			t.Errorf("REST stores other incidents than GraphQL:\n%v\n%v", got.Incidents, ev.Incidents)
		}
		ev = got
	}
	stored := map[string]flywheel.Incident{}
	for _, x := range ev.Incidents {
		stored[x.ID] = x
	}
	if n := len(ev.Deployments); n != 3*formsDeploys {
		t.Fatalf("%d deployments stored, want %d", n, 3*formsDeploys)
	}

	opts := kpi.DefaultOptions()
	unparsed, none, named, namedOK := 0, 0, 0, 0
	for i, c := range f.cases {
		x, ok := stored[f.ids[i]]
		if !ok {
			t.Errorf("%s: %s not stored", c.name, f.ids[i])
			continue
		}
		// What reaches the store.
		wantStart, wantUnparsed := f.impacts[i], ""
		if c.impact == impactWords {
			wantStart, wantUnparsed = time.Time{}, impactForms[impactWords].format(f.impacts[i], f.tz)
			unparsed++
		}
		if x.CausedBy != c.wantCausedBy || !x.StartedAt.Equal(wantStart) || x.ImpactStartUnparsed != wantUnparsed {
			t.Errorf("%s (impact start %s): stored caused-by %q, started %v, unparsed %q; want %q, %v, %q", c.name, impactForms[c.impact].name,
				x.CausedBy, x.StartedAt, x.ImpactStartUnparsed, c.wantCausedBy, wantStart, wantUnparsed)
			continue
		}
		// What the engine makes of it, alone among every deployment.
		if c.wantCausedBy == flywheel.CausedByNone {
			none++
		}
		tr := f.repos[c.target]
		blamed := tr.fin[c.k]
		if c.byTime {
			blamed = tr.fin[c.k+1]
		}
		if c.impact == impactWords && !c.byTime {
			wantStart = tr.fin[c.k] // the finish of the deployment it names
		}
		got := attribution(ev, x, blamed, opts)
		if c.wantCausedBy != flywheel.CausedByNone && !c.byTime {
			named++
			if got.toBlamed {
				namedOK++
			}
		}
		switch {
		case c.wantCausedBy == flywheel.CausedByNone && got.attributed:
			t.Errorf("%s: caused-by none, but attributed", c.name)
		case c.wantCausedBy != flywheel.CausedByNone && !got.toBlamed:
			t.Errorf("%s: caused-by %q: not attributed to %s (finished %v): attributed %v, failed in [finish, at) %d, after it %d",
				c.name, x.CausedBy, tr.stored[c.k], blamed, got.attributed, got.failedFrom, got.failedAfter)
		case !got.started.Equal(wantStart):
			t.Errorf("%s: the engine's impact start %v, want %v", c.name, got.started, wantStart)
		}
	}

	t.Logf("%d of %d incidents whose caused-by names a deployment attributed to it", namedOK, named)

	// The data-quality counts of the whole set.
	res := kpi.Compute(ev, formsAt, opts)
	var counted, unattributed int
	for _, h := range res.History.Services {
		counted += h.Quality.ImpactStartUnparsed
		unattributed += h.Quality.UnattributedIncidents
	}
	if counted != unparsed || unparsed == 0 {
		t.Errorf("data quality counts %d impact starts that do not parse, want %d", counted, unparsed)
	}
	if unattributed != none {
		t.Errorf("%d incidents unattributed, want the %d whose caused-by says none", unattributed, none)
	}
}

// engineView is what the engine made of one incident computed alone among
// every deployment and change.
type engineView struct {
	attributed bool
	// failed deployments in [blamed, at) and [blamed+1s, at): 1 and 0 when
	// the incident is attributed to the deployment that finished at blamed
	// (no two deployments finish in the same second here, and none fails
	// otherwise)
	failedFrom, failedAfter int
	toBlamed                bool
	// started is the impact start it used (from the time to detect); zero:
	// none
	started time.Time
}

func attribution(ev flywheel.Events, x flywheel.Incident, blamed time.Time, opts kpi.Options) engineView {
	opts.Windows = []flywheel.Window{{Name: "all", Duration: 365 * flywheel.Day},
		{Name: "from", Duration: formsAt.Sub(blamed)}, {Name: "after", Duration: formsAt.Sub(blamed) - time.Second}}
	res := kpi.Compute(flywheel.Events{Deployments: ev.Deployments, Changes: ev.Changes, Incidents: []flywheel.Incident{x}}, formsAt, opts)
	var v engineView
	v.attributed = true
	for _, h := range res.History.Services {
		if h.Quality.UnattributedIncidents > 0 {
			v.attributed = false
		}
	}
	failed := func(w string) int {
		if k := res.Report.Windows[w].All; k != nil && k.FailedDeployments != nil {
			return *k.FailedDeployments
		}
		return 0
	}
	v.failedFrom, v.failedAfter = failed("from"), failed("after")
	v.toBlamed = v.failedFrom == 1 && v.failedAfter == 0
	if k := res.Report.Windows["all"].All; k != nil && k.Incidents != nil && k.Incidents.TimeToDetect != nil {
		v.started = x.TriggeredAt.Add(-time.Duration(k.Incidents.TimeToDetect.P50 * float64(time.Second)))
	}
	return v
}
