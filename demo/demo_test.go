package demo

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/PagerDuty/go-pagerduty"
	"github.com/google/go-github/v60/github"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/collector/github/githubtest"
)

var demoNow = time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)

// pdPullRef is a pull request named as owner/repo#N.
var pdPullRef = regexp.MustCompile(`acme/[a-z]+#[0-9]+`)

func TestGenerateIsDeterministic(t *testing.T) {
	t.Parallel()
	a, b := Generate(7, demoNow), Generate(7, demoNow)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two Generate(7, now) differ")
	}
	c := Generate(8, demoNow)
	if reflect.DeepEqual(a.GitHub, c.GitHub) {
		t.Error("seeds 7 and 8 give the same organisation")
	}
}

// shipped maps every merged PR of a repo to the finish of the first successful
// production deployment whose sha has its squash commit on main at or before it
// (main is linear: squash merges only).
func shipped(t *testing.T, r *githubtest.Repo) map[*githubtest.Pull]time.Time {
	t.Helper()
	byID := map[string]*githubtest.Commit{}
	for _, c := range r.Commits {
		byID[c.SHA] = c
	}
	pos := map[string]int{} // main sha → distance from the root
	var chain []string
	for sha := r.Branches["main"]; sha != ""; {
		chain = append(chain, sha)
		c := byID[sha]
		if c == nil {
			t.Fatalf("%s: main reaches unknown commit %s", r.Name, sha)
		}
		if len(c.Parents) == 0 {
			break
		}
		sha = c.Parents[0]
	}
	for i, sha := range chain {
		pos[sha] = len(chain) - 1 - i
	}
	type fin struct {
		at  time.Time
		pos int
	}
	var fins []fin
	for _, d := range r.Deployments {
		last := d.Statuses[len(d.Statuses)-1]
		if last.State == "success" && d.Environment == "production" {
			p, ok := pos[d.SHA]
			if !ok {
				t.Fatalf("%s: deployment of %s, not on main", r.Name, d.SHA)
			}
			fins = append(fins, fin{last.CreatedAt, p})
		}
	}
	sort.Slice(fins, func(i, j int) bool { return fins[i].at.Before(fins[j].at) })
	out := map[*githubtest.Pull]time.Time{}
	for _, pr := range r.Pulls {
		if pr.MergedAt == nil {
			continue
		}
		p, ok := pos[pr.MergeCommitSHA]
		if !ok {
			t.Fatalf("%s#%d: merge commit not on main", r.Name, pr.Number)
		}
		for _, f := range fins {
			if f.pos >= p {
				out[pr] = f.at
				break
			}
		}
	}
	return out
}

func median(xs []float64) float64 {
	slices.Sort(xs)
	if len(xs) == 0 {
		return 0
	}
	return xs[len(xs)/2]
}

func TestGeneratedOrganisation(t *testing.T) {
	t.Parallel()
	o := Generate(1, demoNow)
	if len(o.Services) != 6 {
		t.Fatalf("%d services", len(o.Services))
	}
	teamsSeen := map[string]bool{}
	for _, s := range o.Services {
		teamsSeen[s.Team] = true
	}
	if len(teamsSeen) != 3 {
		t.Errorf("%d teams", len(teamsSeen))
	}
	var prs, merged, reviewed, rollbacks, deploys, failedDeploys, issues, initiative int
	firstPR := demoNow
	for _, r := range o.GitHub.Repos {
		numbers := map[int]bool{}
		for _, pr := range r.Pulls {
			prs++
			numbers[pr.Number] = true
			if pr.CreatedAt.Before(firstPR) {
				firstPR = pr.CreatedAt
			}
			if pr.MergedAt != nil {
				merged++
				if pr.MergedAt.After(demoNow) {
					t.Errorf("%s#%d merged in the future", r.Name, pr.Number)
				}
			}
			if len(pr.Reviews) > 0 {
				reviewed++
			}
			if slices.Contains(pr.Labels, o.TuneUp.Label) {
				initiative++
			}
		}
		for _, is := range r.Issues {
			issues++
			if numbers[is.Number] {
				t.Errorf("%s: issue #%d shares a PR number", r.Name, is.Number)
			}
			if !slices.Contains(is.Labels, "incident") {
				t.Errorf("%s#%d: incident issue without the incident label", r.Name, is.Number)
			}
		}
		for _, d := range r.Deployments {
			deploys++
			switch d.Statuses[len(d.Statuses)-1].State {
			case "failure":
				failedDeploys++
			}
			if d.Description == "rollback" {
				rollbacks++
			}
		}
	}
	t.Logf("PRs %d (merged %d, reviewed %d), deployments %d (failed %d, rollbacks %d), PD incidents %d, issues %d, initiative PRs %d",
		prs, merged, reviewed, deploys, failedDeploys, rollbacks, len(o.PagerDuty.Incidents), issues, initiative)
	if prs < 1500 || merged < prs*8/10 || reviewed < merged*8/10 {
		t.Errorf("PRs %d, merged %d, reviewed %d: want a busy year", prs, merged, reviewed)
	}
	if demoNow.Sub(firstPR) < 350*24*time.Hour {
		t.Errorf("history starts %s, want about a year", firstPR)
	}
	if rollbacks < 2 || failedDeploys == 0 || deploys < 800 {
		t.Errorf("deployments %d, failed %d, rollbacks %d", deploys, failedDeploys, rollbacks)
	}
	if issues < 3 || initiative < 4 {
		t.Errorf("incident issues %d, initiative PRs %d", issues, initiative)
	}

	// Incidents: acknowledged, resolved, some open, some naming their cause
	// in a note, in what was typed in the web UI, or in an Events API event's
	// custom details (flat or nested), some by pull request.
	var acked, resolved, open, caused, high int
	var causedIn [3]int // note, web UI, custom details
	byPull := 0
	for _, in := range o.PagerDuty.Incidents {
		var a, r bool
		for _, e := range in.Log {
			a = a || e.Type == "acknowledge"
			r = r || e.Type == "resolve"
			if strings.Contains(e.Note, "caused-by: ") {
				caused++
				causedIn[0]++
			}
		}
		if strings.Contains(strings.ToLower(in.Details), "caused-by:") {
			caused++
			causedIn[1]++
		}
		if d, ok := in.CustomDetails["deploy"].(map[string]any); ok && d["caused_by"] != nil || in.CustomDetails["caused-by"] != nil {
			caused++
			causedIn[2]++
		}
		if pdPullRef.MatchString(fmt.Sprint(in.Details, in.CustomDetails)) {
			byPull++
		}
		if a {
			acked++
		}
		if r {
			resolved++
		} else {
			open++
		}
		if in.Urgency == "high" {
			high++
		}
	}
	n := len(o.PagerDuty.Incidents)
	if n < 60 || acked < n*9/10 || resolved < n*9/10 || open < 2 || caused < 10 || high < n/4 {
		t.Errorf("incidents %d: acknowledged %d, resolved %d, open %d, caused-by %d, high %d", n, acked, resolved, open, caused, high)
	}
	t.Logf("caused-by in notes %d, web UI %d, custom details %d; by pull request %d", causedIn[0], causedIn[1], causedIn[2], byPull)
	if causedIn[0] < 3 || causedIn[1] < 3 || causedIn[2] < 3 || byPull < 2 {
		t.Errorf("caused-by in notes %d, web UI %d, custom details %d; by pull request %d", causedIn[0], causedIn[1], causedIn[2], byPull)
	}

	// Weekday rhythm: PRs open on weekdays only.
	for _, r := range o.GitHub.Repos {
		for _, pr := range r.Pulls {
			if !weekday(pr.CreatedAt) {
				t.Fatalf("%s#%d opened on a %s", r.Name, pr.Number, pr.CreatedAt.Weekday())
			}
		}
	}
}

// TestTuneUpEffect checks the initiative's effect the way tune-up impact
// (docs/kpis.md) looks at it:
// the median lead time of the scope's PRs deployed in the 30 days before the
// initiative's first merge against the 30 days after its effect.
func TestTuneUpEffect(t *testing.T) {
	t.Parallel()
	for _, seed := range []int64{1, 2, 3} {
		o := Generate(seed, demoNow)
		var start time.Time
		for _, r := range o.GitHub.Repos {
			for _, pr := range r.Pulls {
				if slices.Contains(pr.Labels, o.TuneUp.Label) && pr.MergedAt != nil && (start.IsZero() || pr.MergedAt.Before(start)) {
					start = *pr.MergedAt
				}
			}
		}
		var before, after []float64
		for _, r := range o.GitHub.Repos {
			if !slices.Contains(o.TuneUp.Services, r.Name) {
				continue
			}
			for pr, at := range shipped(t, r) {
				first := pr.CreatedAt
				for _, sha := range pr.Commits {
					for _, c := range r.Commits {
						if c.SHA == sha && c.AuthoredAt.Before(first) {
							first = c.AuthoredAt
						}
					}
				}
				lt := at.Sub(first).Hours()
				switch {
				case !at.Before(start.AddDate(0, 0, -30)) && at.Before(start):
					before = append(before, lt)
				case !at.Before(o.TuneUp.Effective) && at.Before(o.TuneUp.Effective.AddDate(0, 0, 30)):
					after = append(after, lt)
				}
			}
		}
		mb, ma := median(before), median(after)
		t.Logf("seed %d: lead time p50 before %.1fh (n %d), after %.1fh (n %d)", seed, mb, len(before), ma, len(after))
		if len(before) < 20 || len(after) < 20 || ma > 0.7*mb {
			t.Errorf("seed %d: lead time p50 %.1fh → %.1fh (n %d → %d): the tune-up shows no clear effect", seed, mb, ma, len(before), len(after))
		}
	}
}

func TestStartServesTheOrganisation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env, err := Start(ctx, 5, demoNow)
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()

	for _, u := range []string{env.GitHubURL, env.PagerDutyURL} {
		if !strings.HasPrefix(u, "http://127.0.0.1:") {
			t.Errorf("%s is not on loopback", u)
		}
	}
	cfg := env.Config
	if cfg.GitHub == nil || len(cfg.GitHub.Repos) != 6 || cfg.PagerDuty == nil || len(cfg.PagerDuty.Services) != 6 || len(cfg.TuneUps) != 1 {
		t.Fatalf("config: %s", env.ConfigYAML)
	}
	if opts, err := cfg.KPIOptions(); err != nil || len(opts.TuneUps) != 1 || opts.TuneUps[0].Label != "tuneup:ci-speedup" {
		t.Errorf("KPI options: %v %+v", err, opts.TuneUps)
	}
	ghToken, err := cfg.ReadSecret(cfg.GitHub.Secret, env.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	pdToken, err := cfg.ReadSecret(cfg.PagerDuty.Secret, env.Getenv)
	if err != nil {
		t.Fatal(err)
	}

	// GitHub through go-github: the repo, its PRs, deployments; no token → 401.
	gh, err := github.NewClient(nil).WithAuthToken(ghToken).WithEnterpriseURLs(env.GitHubURL, env.GitHubURL)
	if err != nil {
		t.Fatal(err)
	}
	gh.BaseURL.Path = "/"
	repo, _, err := gh.Repositories.Get(ctx, "acme", "checkout")
	if err != nil || repo.GetFullName() != "acme/checkout" {
		t.Fatalf("get repo: %v %v", err, repo.GetFullName())
	}
	pulls, _, err := gh.PullRequests.List(ctx, "acme", "checkout", &github.PullRequestListOptions{State: "closed", ListOptions: github.ListOptions{PerPage: 50}})
	if err != nil || len(pulls) != 50 {
		t.Fatalf("list pulls: %v, %d", err, len(pulls))
	}
	deps, _, err := gh.Repositories.ListDeployments(ctx, "acme", "checkout", &github.DeploymentsListOptions{Environment: "production"})
	if err != nil || len(deps) == 0 {
		t.Fatalf("list deployments: %v, %d", err, len(deps))
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, env.GitHubURL+"repos/acme/checkout", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("request without token: %v %v", err, resp)
	} else {
		resp.Body.Close()
	}

	// PagerDuty through go-pagerduty: the services and incidents of the last month.
	pd := pagerduty.NewClient(pdToken, pagerduty.WithAPIEndpoint(env.PagerDutyURL))
	svcs, err := pd.ListServicesWithContext(ctx, pagerduty.ListServiceOptions{})
	if err != nil || len(svcs.Services) != 6 {
		t.Fatalf("list services: %v, %+v", err, svcs)
	}
	incs, err := pd.ListIncidentsWithContext(ctx, pagerduty.ListIncidentsOptions{
		Since: demoNow.AddDate(0, -1, 0).Format(time.RFC3339), Until: demoNow.Format(time.RFC3339), Limit: 100,
	})
	if err != nil || len(incs.Incidents) == 0 {
		t.Fatalf("list incidents: %v, %+v", err, incs)
	}
}

func TestStartHonoursCancelledContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Start(ctx, 1, demoNow); err == nil {
		t.Fatal("Start with a cancelled context succeeded")
	}
}

func BenchmarkGenerate(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Generate(1, demoNow)
	}
}

// TestIncidentIssueTexts reads the incident issues' texts as the GitHub source
// does (body, then comments in time order) and checks that they say what the
// generator meant (Org.Truth): the impact start, or one that does not parse,
// and a caused-by naming the deployment that caused the incident, in every
// form people use.
func TestIncidentIssueTexts(t *testing.T) {
	t.Parallel()
	for _, seed := range []int64{1, 2, 3} {
		o := Generate(seed, demoNow)
		truth := map[string]IncidentTruth{}
		for _, tr := range o.Truth {
			truth[tr.Incident] = tr
		}
		forms := map[string]int{}
		for _, r := range o.GitHub.Repos {
			for _, is := range r.Issues {
				id := fmt.Sprintf("%s/issues/%d", r.FullName(), is.Number)
				tr, ok := truth[id]
				if !ok || tr.Source != "github" || tr.Service != r.Name {
					t.Fatalf("seed %d: %s: truth %+v", seed, id, tr)
				}
				var first, said flywheel.IncidentNotes
				first.Scan(is.Body, time.UTC)
				said.Scan(is.Body, time.UTC)
				for _, c := range is.Comments {
					said.Scan(c.Body, time.UTC)
				}
				if first.CausedBy != "" && first.CausedBy != said.CausedBy {
					forms["corrected in a comment"]++
				}
				if first.CausedBy == "" && said.CausedBy != "" {
					forms["in a comment"]++
				}
				if strings.Contains(is.Body, "\r\n") {
					forms["CRLF"]++
				}
				switch {
				case tr.ImpactStartUnparsed:
					forms["impact start that does not parse"]++
					if said.StartUnparsed == "" {
						t.Errorf("seed %d: %s: impact start meant not to parse, read %v", seed, id, said.StartedAt)
					}
				case said.StartUnparsed != "" || !said.StartedAt.Equal(tr.ImpactStart):
					t.Errorf("seed %d: %s: impact start %v (unparsed %q), meant %v", seed, id, said.StartedAt, said.StartUnparsed, tr.ImpactStart)
				}
				if tr.Deployment == "" {
					if said.CausedBy != "" && said.CausedBy != flywheel.CausedByNone {
						t.Errorf("seed %d: %s: not caused by a change, but caused-by %q", seed, id, said.CausedBy)
					}
					continue
				}
				form := namedForm(r, tr.Deployment, said.CausedBy)
				if !tr.Named || form == "" {
					t.Errorf("seed %d: %s: caused-by %q does not name %s", seed, id, said.CausedBy, tr.Deployment)
				}
				forms[form]++
			}
		}
		t.Logf("seed %d: %v", seed, forms)
		if seed != 1 {
			continue
		}
		for _, f := range []string{"stored id", "deployment id", "deployment API URL", "commit URL", "sha", "sha prefix",
			"pull request URL", "owner/repo#N", "corrected in a comment", "in a comment", "CRLF", "impact start that does not parse"} {
			if forms[f] == 0 {
				t.Errorf("seed 1: no incident issue with %s", f)
			}
		}
	}
}

// namedForm says how v names the deployment stored as id in r, or "" when it
// does not name it.
func namedForm(r *githubtest.Repo, id, v string) string {
	var d *githubtest.Deployment
	for _, x := range r.Deployments {
		if fmt.Sprintf("%s/deployments/%d", r.FullName(), x.ID) == id {
			d = x
		}
	}
	if d == nil {
		return ""
	}
	ref := flywheel.ParseCausedBy(v)
	num := fmt.Sprint(d.ID)
	prefix := len(ref.Value) >= 7 && len(ref.Value) <= 40 && strings.HasPrefix(d.SHA, ref.Value)
	switch {
	case ref.Kind == flywheel.RefWord && v == id:
		return "stored id"
	case ref.Kind == flywheel.RefWord && v == num:
		return "deployment id"
	case ref.Kind == flywheel.RefDeployment && ref.Repo == r.FullName() && ref.Value == num:
		return "deployment API URL"
	case ref.Kind == flywheel.RefCommit && ref.Repo == r.FullName() && prefix:
		return "commit URL"
	case ref.Kind == flywheel.RefWord && v == d.SHA:
		return "sha"
	case ref.Kind == flywheel.RefWord && prefix:
		return "sha prefix"
	case ref.Kind == flywheel.RefPull && ref.Repo == r.FullName():
		for _, pr := range r.Pulls {
			if fmt.Sprint(pr.Number) == ref.Value && pr.MergedAt != nil && pr.MergeCommitSHA == d.SHA {
				if strings.Contains(v, "://") {
					return "pull request URL"
				}
				return "owner/repo#N"
			}
		}
	}
	return ""
}
