package demo

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/collector/github/githubtest"
	"github.com/flywheel-metrics/flywheel/collector/pagerduty/pagerdutytest"
)

// This file writes what responders say about an incident in GitHub issues
// (caused-by and impact-start lines in every form people use) and records what
// the generator meant by each incident, so that tests can measure how much of
// it Flywheel recovers from the texts.

// IncidentTruth is what the generator meant by one incident.
type IncidentTruth struct {
	// Incident is the id Flywheel stores it under: "acme/checkout/issues/12"
	// for a GitHub issue, the PagerDuty id for a PagerDuty incident.
	Incident string
	// Source is "github" or "pagerduty".
	Source  string
	Service string
	// Deployment is the stored id of the deployment that caused it
	// ("acme/checkout/deployments/1850001234"), or "" when no change did.
	Deployment string
	// Named says that its texts end with a caused-by line naming Deployment
	// in a form that identifies it: Flywheel must attribute the incident to
	// it. Without one, only the time rule can find the deployment.
	Named bool
	// ImpactStart is when users were first hurt, as its impact-start line
	// says; zero when no line says it.
	ImpactStart time.Time
	// ImpactStartUnparsed says that the impact-start line is written in a
	// form no parser can read ("shortly after the 10:40 deploy"): Flywheel
	// must report it rather than drop it.
	ImpactStartUnparsed bool
}

// notes collects, while the organisation is generated, the incidents whose
// texts are written last: GitHub issues name a deployment by its id, which
// exists only once every deployment of the organisation is known.
type notes struct {
	issues []*issuePlan
	pages  []page
}

// issuePlan is an incident issue before its texts are written.
type issuePlan struct {
	repo      *githubtest.Repo
	issue     *githubtest.Issue
	responder string
	// cause is the deployment that caused it (nil: none did); before is
	// another deployment near it, a responder's plausible wrong first guess.
	cause, before *deployed
	impact        time.Time
	// Comments fall in [start, end): from the responder's first comment to
	// the close (or now); start is zero when nobody has commented yet.
	start, end time.Time
}

// page is a PagerDuty incident created for a deployment.
type page struct {
	in     *pagerdutytest.Incident
	d      deployed
	impact time.Time
}

// paged records that in was caused by d, with users hurt from impact.
func (n *notes) paged(in *pagerdutytest.Incident, d deployed, impact time.Time) {
	n.pages = append(n.pages, page{in: in, d: d, impact: impact})
}

// notesRand is the random stream of one service's extra incident issues,
// separate from the one that shapes the rest of the organisation.
func notesRand(seed int64, service string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte("notes/" + service))
	return rand.New(rand.NewPCG(uint64(seed), h.Sum64()))
}

// moreIssuesPerService is how many incident issues a service that tracks
// incidents in GitHub issues gets besides those of its profile.
const moreIssuesPerService = 6

// moreIssues opens incident issues at random working hours of the history,
// for a service whose profile has incident issues (the others keep theirs in
// PagerDuty only).
func moreIssues(rng *rand.Rand, p profile, start, now time.Time) []*githubtest.Issue {
	if p.issues == 0 {
		return nil
	}
	var out []*githubtest.Issue
	for range moreIssuesPerService {
		day := weekdayOnOrAfter(start.AddDate(0, 0, 20+rng.IntN(historyDays-30)))
		if at := workTime(rng, day); at.Before(now) {
			out = append(out, &githubtest.Issue{CreatedAt: at})
		}
	}
	return out
}

// firstDeploymentID is about where GitHub's deployment ids were when the
// history starts; ids grow across all of GitHub, so an organisation's own
// deployments get increasing ids with gaps.
const firstDeploymentID = 1_850_000_000

// write gives every deployment its id, writes the incident issues' texts and
// returns the truth of every incident, ordered by id.
func (n *notes) write(o *Org) []IncidentTruth {
	rng := rand.New(rand.NewPCG(uint64(o.Seed), 0x6e6f746573))
	var all []*githubtest.Deployment
	for _, r := range o.GitHub.Repos {
		all = append(all, r.Deployments...)
	}
	slices.SortStableFunc(all, func(a, b *githubtest.Deployment) int { return a.CreatedAt.Compare(b.CreatedAt) })
	id := int64(firstDeploymentID)
	for _, d := range all {
		id += 1 + rng.Int64N(4000)
		d.ID = id
	}

	w := &issueWriter{rng: rng, tz: time.UTC, pulls: map[string]int{}, first: map[string]*githubtest.Deployment{}}
	for _, r := range o.GitHub.Repos {
		for _, pr := range r.Pulls {
			if pr.MergedAt != nil {
				w.pulls[r.FullName()+"@"+pr.MergeCommitSHA] = pr.Number
			}
		}
	}
	for _, r := range o.GitHub.Repos {
		for _, d := range r.Deployments { // in the order they were made
			if k := r.FullName() + "@" + d.SHA; d.Statuses[len(d.Statuses)-1].State == "success" && w.first[k] == nil {
				w.first[k] = d
			}
		}
	}
	var truth []IncidentTruth
	for _, pl := range n.issues {
		truth = append(truth, w.write(pl))
	}

	services := map[string]string{}
	for _, s := range o.Services {
		services[s.PagerDutyID] = s.Name
	}
	caused := map[*pagerdutytest.Incident]page{}
	for _, p := range n.pages {
		caused[p.in] = p
	}
	for _, in := range o.PagerDuty.Incidents {
		t := IncidentTruth{Incident: in.ID, Source: "pagerduty", Service: services[in.ServiceID]}
		said := pagerDutyNotes(in)
		if p, ok := caused[in]; ok {
			t.Deployment = deploymentID(p.d)
			ref := flywheel.ParseCausedBy(said.CausedBy)
			// A sha, and the pull request of a sha, name the deployment that
			// first shipped it: not a rollback, nor a redeployment.
			bySHA := ref.Kind == flywheel.RefCommit || ref.Kind == flywheel.RefPull ||
				ref.Kind == flywheel.RefWord && strings.HasPrefix(p.d.sha, strings.ToLower(ref.Value))
			t.Named = ref.Kind > flywheel.RefNotCaused && ref.Kind != flywheel.RefURL && !(bySHA && !w.shippedFirst(p.d))
			if !said.StartedAt.IsZero() || said.StartUnparsed != "" {
				t.ImpactStart, t.ImpactStartUnparsed = p.impact, said.StartUnparsed != ""
			}
		}
		truth = append(truth, t)
	}
	slices.SortFunc(truth, func(a, b IncidentTruth) int { return strings.Compare(a.Incident, b.Incident) })
	return truth
}

// pagerDutyNotes reads what an incident's texts say, wherever the generator
// wrote it: the trigger's typed text or custom details (keys at any depth),
// the description, the notes.
func pagerDutyNotes(in *pagerdutytest.Incident) flywheel.IncidentNotes {
	var said flywheel.IncidentNotes
	var fields func(map[string]any)
	fields = func(m map[string]any) {
		for k, v := range m {
			switch v := v.(type) {
			case string:
				said.Field(k, v, time.UTC)
			case map[string]any:
				fields(v)
			}
		}
	}
	said.Scan(in.Details, time.UTC)
	fields(in.CustomDetails)
	said.Scan(in.Description, time.UTC)
	for _, n := range in.Notes {
		said.Scan(n.Content, time.UTC)
	}
	return said
}

func deploymentID(d deployed) string {
	return fmt.Sprintf("%s/deployments/%d", d.repo.FullName(), d.dep.ID)
}

// issueWriter writes incident issues' texts. Forms are taken in turn, from a
// random start, so that every form appears once enough issues are written.
type issueWriter struct {
	rng *rand.Rand
	// tz is the zone of impact starts written without one (the demo's
	// incident_time_zone).
	tz    *time.Location
	pulls map[string]int // "owner/name@merge sha" → PR number
	// first is the first successful deployment of each "owner/name@sha"
	first map[string]*githubtest.Deployment
	// the next form of each kind
	causeN, wrapN, impactN int
	started                bool
}

// The ways a caused-by names a deployment of the Deployments API. Each one
// is how people copy it: the id Flywheel stores, the id GitHub's API shows
// (deploy bots post it, or its API URL: GitHub's web pages show a
// repository's or an environment's deployments, none has a page of its
// own), the commit it deployed (URL, sha, or a 7–12-character prefix), the
// pull request it shipped (URL or owner/repo#N).
const (
	formStoredID = iota
	formDeploymentID
	formDeploymentAPIURL
	formCommitURL
	formSHA
	formSHAPrefix
	formPullURL
	formPullRef
	nCauseForms
)

// Markdown around a caused-by line, taken in turn.
const (
	wrapPlain = iota
	wrapBackticks
	wrapAngle  // <url>
	wrapLink   // [text](url)
	wrapBold   // **caused-by:** value
	wrapList   // - caused-by: value
	wrapQuote  // > caused-by: value
	wrapPeriod // a trailing full stop
	nWraps
)

// The ways an impact start is written: RFC3339 in UTC and with an offset,
// minutes with "UTC", seconds with an offset, no zone (read in the
// configured zone), and words no parser reads.
const (
	impactRFC3339 = iota
	impactRFC3339Offset
	impactMinutesUTC
	impactSecondsOffset
	impactNoZone
	impactWords
	nImpactForms
)

func (w *issueWriter) next(n *int, of int) int {
	if !w.started {
		w.causeN, w.wrapN, w.impactN = w.rng.IntN(nCauseForms), w.rng.IntN(nWraps), w.rng.IntN(nImpactForms)
		w.started = true
	}
	k := *n % of
	*n++
	return k
}

func (w *issueWriter) write(pl *issuePlan) IncidentTruth {
	is, rng := pl.issue, w.rng
	if pl.cause != nil && pl.before != nil && rng.IntN(3) == 0 {
		// A latent fault: the deployment before the latest shipped it, and
		// users were hurt only after the latest one, which takes the blame
		// when time alone decides.
		latest := pl.cause
		impact := latest.finished.Add(time.Duration(3+rng.IntN(20)) * time.Minute).Truncate(time.Minute)
		if impact.Before(is.CreatedAt) {
			pl.cause, pl.before, pl.impact = pl.before, latest, impact
		}
	}
	full := pl.repo.FullName()
	t := IncidentTruth{Incident: fmt.Sprintf("%s/issues/%d", full, is.Number), Source: "github", Service: pl.repo.Name,
		ImpactStart: pl.impact}
	form := w.next(&w.impactN, nImpactForms)
	impact := impactLine(rng, w.impactValue(form, pl.impact))
	t.ImpactStartUnparsed = form == impactWords

	var cause string // the final caused-by line; "" writes none
	if pl.cause != nil {
		t.Deployment, t.Named = deploymentID(*pl.cause), true
		want := w.next(&w.causeN, nCauseForms)
		v, text, form := w.causeValue(*pl.cause, want)
		if form != want {
			w.causeN-- // the form it could not take goes to the next one
		}
		cause = causedByLine(rng, v, text, w.next(&w.wrapN, nWraps))
	} else if rng.IntN(2) == 0 {
		cause = causedByLine(rng, pick(rng, []string{"none", "None", "NONE", "none — the upstream provider had an outage"}), "", wrapPlain)
	}

	intro := pick(rng, []string{"Reported by support.", "Alert from the synthetic checks.", "### What happened\nSome customers cannot complete their requests."})
	body := []string{intro, ""}
	var comments []string
	canComment := !pl.start.IsZero() && pl.end.Sub(pl.start) > 10*time.Minute
	switch x := rng.Float64(); {
	case canComment && x < 0.3:
		// A first guess in the body, corrected in a comment: the later line wins.
		guess := "unknown"
		if pl.before != nil {
			guess, _, _ = w.causeValue(*pl.before, oneOf(rng, []int{formSHAPrefix, formDeploymentID, formStoredID}))
		}
		if cause == "" {
			cause = "caused-by: none"
		}
		if form != impactWords {
			// (a correction that does not parse leaves the guess standing)
			body = append(body, "impact-start: "+is.CreatedAt.UTC().Format("2006-01-02 15:04")+" UTC")
		}
		body = append(body, "caused-by: "+guess)
		comments = append(comments, "Correction after looking at the dashboards:\n"+impact+"\n"+cause)
	case canComment && x < 0.55 && cause != "":
		// The cause is found later, in a comment.
		body = append(body, impact)
		comments = append(comments, pick(rng, []string{"Found it.", "Rolled back; this was the culprit.", "Root cause:"})+"\n"+cause)
	default:
		body = append(body, impact)
		if cause != "" {
			body = append(body, cause)
		}
	}
	is.Body = strings.Join(body, "\n")
	if rng.IntN(3) == 0 {
		// Text typed in GitHub's web editor comes back with CRLF line ends.
		is.Body = strings.ReplaceAll(is.Body, "\n", "\r\n")
	}
	for i, c := range comments {
		at := pl.start.Add(time.Duration(float64(pl.end.Sub(pl.start)) * float64(i+1) / float64(len(comments)+1))).Truncate(time.Second)
		is.Comments = append(is.Comments, githubtest.Comment{User: pl.responder, Body: c, CreatedAt: at, UpdatedAt: at})
		if at.After(is.UpdatedAt) {
			is.UpdatedAt = at
		}
	}
	slices.SortStableFunc(is.Comments, func(a, b githubtest.Comment) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return t
}

// shippedFirst says that d is the first deployment of its sha.
func (w *issueWriter) shippedFirst(d deployed) bool {
	return w.first[d.repo.FullName()+"@"+d.sha] == d.dep
}

// causeValue writes d in the given form, or in another when that one cannot
// name it (the sha of a rollback or a redeployment, and the pull request of
// that sha, name the deployment that first shipped it); used is the form
// written. text is a link text for URLs.
func (w *issueWriter) causeValue(d deployed, form int) (v, text string, used int) {
	full := d.repo.FullName()
	pr := w.pulls[full+"@"+d.sha]
	switch {
	case !w.shippedFirst(d) && form >= formCommitURL:
		form = formDeploymentAPIURL
	case pr == 0 && form >= formPullURL:
		form = formCommitURL
	}
	id := strconv.FormatInt(d.dep.ID, 10)
	switch form {
	case formStoredID:
		return deploymentID(d), "", form
	case formDeploymentID:
		return id, "", form
	case formDeploymentAPIURL:
		return "https://api.github.com/repos/" + full + "/deployments/" + id, "deployment " + id, form
	case formCommitURL:
		return "https://github.com/" + full + "/commit/" + d.sha, d.sha[:7], form
	case formSHA:
		return d.sha, "", form
	case formSHAPrefix:
		return d.sha[:7+w.rng.IntN(6)], "", form
	case formPullURL:
		return "https://github.com/" + full + "/pull/" + strconv.Itoa(pr), "#" + strconv.Itoa(pr), form
	}
	return full + "#" + strconv.Itoa(pr), "", form
}

func causedByLine(rng *rand.Rand, v, text string, wrap int) string {
	key := pick(rng, []string{"caused-by", "caused-by", "Caused-by", "caused_by", "Caused-By"})
	url := strings.Contains(v, "://")
	switch {
	case wrap == wrapBackticks, wrap == wrapAngle && !url, wrap == wrapLink && !url:
		return key + ": `" + v + "`"
	case wrap == wrapAngle:
		return key + ": <" + v + ">"
	case wrap == wrapLink:
		return key + ": [" + text + "](" + v + ")"
	case wrap == wrapBold:
		return "**" + key + ":** " + v
	case wrap == wrapList:
		return "- " + key + ": " + v
	case wrap == wrapQuote:
		return "> " + key + ": " + v
	case wrap == wrapPeriod:
		return key + ": " + v + "."
	}
	return key + ": " + v
}

func (w *issueWriter) impactValue(form int, t time.Time) string {
	offset := time.FixedZone("", oneOf(w.rng, []int{2 * 3600, -5 * 3600, 5*3600 + 1800}))
	switch form {
	case impactRFC3339:
		return t.UTC().Format(time.RFC3339)
	case impactRFC3339Offset:
		return t.In(offset).Format(time.RFC3339)
	case impactMinutesUTC:
		return t.UTC().Format("2006-01-02 15:04") + " UTC"
	case impactSecondsOffset:
		return t.In(offset).Format("2006-01-02 15:04:05 -07:00")
	case impactNoZone:
		return t.In(w.tz).Format("2006-01-02 15:04")
	}
	return pick(w.rng, []string{
		"shortly after the " + t.UTC().Format("15:04") + " deploy",
		"about 20 minutes before the first alert",
		t.UTC().Format("Jan 2 at 3:04pm"),
	})
}

func oneOf[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

func impactLine(rng *rand.Rand, v string) string {
	key := pick(rng, []string{"impact-start", "Impact-start", "impact_start"})
	switch rng.IntN(4) {
	case 1:
		return "**" + key + ":** " + v
	case 2:
		return "- " + key + ": " + v
	case 3:
		return key + ": `" + v + "`"
	}
	return key + ": " + v
}
