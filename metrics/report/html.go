package report

// The HTML report (`flywheel report --format html`): one self-contained file for
// leadership, readable offline. Styles are inline and every chart is an SVG drawn
// here, so the file loads nothing from the network and runs no script.

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/flywheel-metrics/flywheel/metrics/kpi"
)

// WriteHTML writes r as one self-contained HTML page: the four DORA keys and
// rework with their levels, lead-time stages, the innovation/tune-up split over
// time taken from history (reports at earlier times, oldest first, e.g. weekly),
// and every tune-up initiative's before and after with p-values. The primary
// window is 30d when r has it, else the longest window r holds.
//
// With an explainer (one made from the same events and evaluation time as r),
// every headline number and every cell of the services table links to the list
// of events behind it at the end of the page; nil omits the links and lists.
func WriteHTML(w io.Writer, r kpi.Report, history []kpi.Report, x Explainer) error {
	return WriteHTMLOptions(w, r, history, x, HTMLOptions{})
}

// HTMLOptions say how the HTML report presents a number.
type HTMLOptions struct {
	// MinSamples is the fewest values (deployments, changes, recoveries) a
	// number needs for a DORA level, a colour and a p90; below it the page
	// shows the number and its count marked "too few". 0 or 1: no minimum.
	MinSamples int
	// Previous is the report as of the start of the page's window (see
	// HTMLPrimaryWindow): each headline number shows its change against
	// that previous period of the same length. Nil: no changes shown.
	Previous *kpi.Report
	// Teams are the configured teams with their KPIs over the page's window
	// (kpi.Input.ComputeGroups), drawn as a table like the services'. Nil, or
	// one team of every service (it would repeat the all-services numbers):
	// no teams section.
	Teams []HTMLTeam
}

// HTMLTeam is one team of the HTML report: its services and their KPIs
// pooled; nil KPIs: nothing in the window.
type HTMLTeam struct {
	Name     string
	Services []string
	KPIs     *kpi.KPIs
}

// WriteHTMLOptions is WriteHTML with options.
func WriteHTMLOptions(w io.Writer, r kpi.Report, history []kpi.Report, x Explainer, o HTMLOptions) error {
	win := HTMLPrimaryWindow(r)
	page := htmlPage{
		At:         r.At.UTC().Format("2006-01-02 15:04 MST"),
		Window:     win,
		MinSamples: max(o.MinSamples, 1),
	}
	min := page.MinSamples
	wr := r.Windows[win]
	page.Cap, page.ServiceCap = HTMLListCap, htmlServiceListCap(len(wr.Services))
	lists := &htmlLists{x: x, at: r.At, window: win, capAll: page.Cap, capService: page.ServiceCap, ids: map[string]bool{}}
	var err error
	if wr.All != nil {
		if page.Cards, err = htmlKeyCards(wr.All, lists, min); err != nil {
			return err
		}
		if o.Previous != nil {
			if pw, ok := o.Previous.Windows[win]; ok && pw.All != nil {
				htmlCardChanges(page.Cards, wr.All, pw.All, win, min)
			}
		}
	}
	if page.Services, err = htmlServiceRows(wr, lists, min); err != nil {
		return err
	}
	if page.Complete, err = htmlCompleteness(wr.All, lists); err != nil {
		return err
	}
	page.Teams, page.NoTeam = htmlTeamRows(o.Teams, wr, min)
	page.IncidentRows = htmlIncidentRows(wr, min)
	page.Trend = htmlTrendRows(r, history, min)
	page.Lists = lists.groups
	page.StagesChart = htmlStagesChart(wr)
	page.SplitChart, page.SplitNote = htmlSplitChart(r, history, win)
	for _, im := range r.TuneUpImpact {
		page.Impacts = append(page.Impacts, htmlImpactView(im))
	}
	var buf bytes.Buffer
	if err := htmlTemplate.Execute(&buf, page); err != nil {
		return fmt.Errorf("report: render html: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("report: write html: %w", err)
	}
	return nil
}

// HTMLPrimaryWindow picks the window the page is about: 30d when r has it,
// else the longest.
func HTMLPrimaryWindow(r kpi.Report) string {
	if _, ok := r.Windows["30d"]; ok {
		return "30d"
	}
	best, bestDays := "", -1.0
	for name := range r.Windows {
		d := htmlWindowDays(name)
		if d > bestDays || (d == bestDays && name < best) {
			best, bestDays = name, d
		}
	}
	return best
}

// windowDays reads "30d", "12h", "2w" as days, for ordering only.
func htmlWindowDays(name string) float64 {
	var n float64
	var unit string
	if _, err := fmt.Sscanf(name, "%f%s", &n, &unit); err != nil {
		return 0
	}
	switch unit {
	case "h":
		return n / 24
	case "w":
		return n * 7
	case "y":
		return n * 365
	}
	return n
}

type htmlPage struct {
	At, Window   string
	Cards        []htmlKeyCard
	Services     []htmlServiceRow
	Teams        []htmlServiceRow
	NoTeam       string // the window's services in no team, comma-separated
	StagesChart  template.HTML
	SplitChart   template.HTML
	SplitNote    string
	Impacts      []htmlImpactBlock
	Complete     []htmlCompleteRow
	IncidentRows []htmlIncidentRow
	Trend        []htmlTrendRow
	Lists        []htmlListGroup
	MinSamples   int
	// Cap and ServiceCap are the most rows of a headline list and of a
	// services-table list.
	Cap, ServiceCap int
}

type htmlKeyCard struct {
	Title, Value, Detail string
	Change               string    // against the previous period, or ""
	Level                kpi.Level // empty: no level (rework has none, or too few values)
	TooFew               bool      // fewer values than the minimum: no level, no p90
	Link                 *htmlLink
}

type htmlServiceRow struct {
	Name   string
	Detail string // under the name: a team's services
	Cells  []htmlCell
}

// htmlCell is one number of the services table.
type htmlCell struct {
	Text   string
	Count  string    // how many values it is computed from ("1 of 6", "40")
	Level  kpi.Level // empty: no level
	TooFew bool      // fewer values than the minimum: no level
	Link   *htmlLink
}

type htmlImpactBlock struct {
	Name, Span, Scope string
	Chart             template.HTML
}

const htmlDash = "–"

// htmlBucketWindow is the window of the history reports whose values the
// charts over time draw as non-overlapping weekly columns.
const htmlBucketWindow = "7d"

func htmlKeyCards(k *kpi.KPIs, lists *htmlLists, min int) ([]htmlKeyCard, error) {
	lv := k.DORALevel
	if lv == nil {
		lv = &kpi.DORALevels{}
	}
	deploys := htmlIntOr(k.Deployments)
	cards := []htmlKeyCard{
		{Title: "Deployment frequency", Value: htmlPerWeek(k.DeploymentFrequencyPerDay), Level: lv.DeploymentFrequency,
			Detail: htmlCountDetail(k.Deployments, "counting deployment")},
		htmlQuantileCard("Lead time for changes", k.LeadTimeSeconds, lv.LeadTime, "change", "changes", min),
		htmlRatioCard("Change failure rate", k.ChangeFailureRatio, lv.ChangeFailureRate, htmlIntOr(k.FailedDeployments), deploys, "failed", min),
		htmlQuantileCard("Failed deployment recovery", k.FailedDeploymentRecoverySeconds, lv.RecoveryTime, "recovery", "recoveries", min),
		htmlRatioCard("Rework rate", k.ReworkRatio, "", htmlIntOr(k.ReworkDeployments), deploys, "rework", min),
	}
	for i := range cards {
		link, err := lists.link(htmlCardKeys[i], "", cards[i].Value)
		if err != nil {
			return nil, err
		}
		cards[i].Link = link
	}
	return cards, nil
}

// htmlCardChanges sets each card's change against the previous period: a
// relative change for frequency and durations, percentage points for ratios,
// with the word better or worse so that it reads without colour. A value of
// fewer than min events on either side gets no change: it would be noise.
func htmlCardChanges(cards []htmlKeyCard, now, prev *kpi.KPIs, win string, min int) {
	type side struct {
		v  *float64
		n  int
		ok bool
	}
	q := func(x *kpi.Quantiles) side {
		if x == nil {
			return side{}
		}
		return side{&x.P50, x.Count, true}
	}
	ratio := func(v *float64, n *int) side { return side{v, htmlIntOr(n), v != nil} }
	freq := func(k *kpi.KPIs) side {
		return side{k.DeploymentFrequencyPerDay, min, k.DeploymentFrequencyPerDay != nil} // a count over time: never too few
	}
	pairs := [][2]side{
		{freq(now), freq(prev)},
		{q(now.LeadTimeSeconds), q(prev.LeadTimeSeconds)},
		{ratio(now.ChangeFailureRatio, now.Deployments), ratio(prev.ChangeFailureRatio, prev.Deployments)},
		{q(now.FailedDeploymentRecoverySeconds), q(prev.FailedDeploymentRecoverySeconds)},
		{ratio(now.ReworkRatio, now.Deployments), ratio(prev.ReworkRatio, prev.Deployments)},
	}
	higherBetter := [...]bool{true, false, false, false, false}
	isRatio := [...]bool{false, false, true, false, true}
	for i := range cards {
		a, b := pairs[i][0], pairs[i][1]
		before := "previous " + win
		switch {
		case !a.ok || !b.ok:
			if a.ok {
				cards[i].Change = "no data in the " + before
			}
			continue
		case a.n < min || b.n < min:
			cards[i].Change = "too few events to compare with the " + before
			continue
		}
		var delta string
		var d float64
		switch {
		case isRatio[i]:
			d = (*a.v - *b.v) * 100
			delta = "+" + trim(d) + " pt"
			if d < 0 {
				delta = "-" + trim(-d) + " pt"
			}
		case *b.v == 0:
			d = *a.v
			delta = "up from 0"
		default:
			d = *a.v / *b.v - 1
			delta = fmt.Sprintf("%+.0f%%", d*100)
		}
		was := FormatRatio(*b.v)
		switch {
		case i == 0:
			was = trim(*b.v*7) + "/week"
		case !isRatio[i]:
			was = FormatDuration(*b.v)
		}
		word := ""
		if math.Abs(d) >= 0.005 {
			if (d > 0) == higherBetter[i] {
				word = ", better"
			} else {
				word = ", worse"
			}
		}
		cards[i].Change = fmt.Sprintf("%s vs the %s (%s)%s", delta, before, was, word)
	}
}

func htmlIntOr(n *int) int {
	if n == nil {
		return 0
	}
	return *n
}

// htmlQuantileCard is a duration card: the median, its count and, from at
// least min values, its level and p90.
func htmlQuantileCard(title string, q *kpi.Quantiles, lv kpi.Level, one, many string, min int) htmlKeyCard {
	c := htmlKeyCard{Title: title, Value: htmlQuantile(q, false), Level: lv}
	switch {
	case q == nil:
		c.Detail = "no data"
	case q.Count < min:
		c.Level, c.TooFew = "", true
		c.Detail = fmt.Sprintf("median of %s · too few for a level or a p90", htmlPlural(q.Count, one, many))
	default:
		c.Detail = fmt.Sprintf("median of %s · p90 %s", htmlPlural(q.Count, one, many), FormatDuration(q.P90))
	}
	return c
}

// htmlRatioCard is a ratio card: n of of deployments, with a level from at
// least min deployments.
func htmlRatioCard(title string, v *float64, lv kpi.Level, n, of int, what string, min int) htmlKeyCard {
	c := htmlKeyCard{Title: title, Value: htmlRatio(v), Level: lv}
	switch {
	case v == nil:
		c.Detail = "no data"
	case of < min:
		c.Level, c.TooFew = "", true
		c.Detail = fmt.Sprintf("%d %s of %s · too few for a level", n, what, htmlPlural(of, "deployment", "deployments"))
	default:
		c.Detail = fmt.Sprintf("%d %s of %s", n, what, htmlPlural(of, "deployment", "deployments"))
	}
	return c
}

func htmlCountDetail(n *int, what string) string {
	if n == nil {
		return "no data"
	}
	return htmlPlural(*n, what, what+"s")
}

func htmlServiceRows(wr kpi.WindowReport, lists *htmlLists, min int) ([]htmlServiceRow, error) {
	names := make([]string, 0, len(wr.Services))
	for name := range wr.Services {
		names = append(names, name)
	}
	sort.Strings(names)
	var rows []htmlServiceRow
	for _, name := range names {
		k := wr.Services[name]
		if k == nil {
			continue
		}
		lv := k.DORALevel
		if lv == nil {
			lv = &kpi.DORALevels{}
		}
		incidents := htmlDash
		if k.Incidents != nil {
			incidents = fmt.Sprintf("%d (%d open)", k.Incidents.Count, k.Incidents.Open)
		}
		row := htmlServiceRow{Name: name, Cells: append(htmlKPICells(k, min), htmlCell{Text: incidents})}
		for i, key := range htmlServiceKeys {
			link, err := lists.link(key, name, row.Cells[i].Text)
			if err != nil {
				return nil, err
			}
			row.Cells[i].Link = link
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// htmlTeamRows are the rows of the teams table, by team name, and the
// window's services that are in no team; none when a single team holds every
// service of the window, whose row would be the all-services numbers again.
func htmlTeamRows(teams []HTMLTeam, wr kpi.WindowReport, min int) ([]htmlServiceRow, string) {
	inTeam := map[string]bool{}
	for _, t := range teams {
		for _, s := range t.Services {
			inTeam[s] = true
		}
	}
	var none []string
	for _, name := range slices.Sorted(maps.Keys(wr.Services)) {
		if !inTeam[name] {
			none = append(none, name)
		}
	}
	if len(teams) == 0 || (len(teams) == 1 && len(none) == 0) {
		return nil, ""
	}
	teams = slices.Clone(teams)
	slices.SortFunc(teams, func(a, b HTMLTeam) int { return strings.Compare(a.Name, b.Name) })
	var rows []htmlServiceRow
	for _, t := range teams {
		k := t.KPIs
		if k == nil {
			k = &kpi.KPIs{}
		}
		incidents := htmlDash
		if k.Incidents != nil {
			incidents = fmt.Sprintf("%d (%d open)", k.Incidents.Count, k.Incidents.Open)
		}
		rows = append(rows, htmlServiceRow{Name: t.Name, Detail: strings.Join(t.Services, ", "),
			Cells: append(htmlKPICells(k, min), htmlCell{Text: incidents})})
	}
	return rows, strings.Join(none, ", ")
}

// htmlKPICells are the cells of a group's KPIs, in the order of
// htmlServiceKeys but for incidents: each value with its count, and its level
// only from min values on.
func htmlKPICells(k *kpi.KPIs, min int) []htmlCell {
	lv := k.DORALevel
	if lv == nil {
		lv = &kpi.DORALevels{}
	}
	deploys := htmlIntOr(k.Deployments)
	ratio := func(v *float64, n, of int, l kpi.Level) htmlCell {
		c := htmlCell{Text: htmlRatio(v), Level: l}
		if v != nil {
			c.Count = fmt.Sprintf("%d of %d", n, of)
			if of < min {
				c.Level, c.TooFew = "", true
			}
		}
		return c
	}
	freq := htmlCell{Text: htmlPerWeek(k.DeploymentFrequencyPerDay), Level: lv.DeploymentFrequency}
	if k.Deployments != nil {
		freq.Count = strconv.Itoa(deploys)
	}
	tuneUp := htmlCell{Text: htmlRatio(k.TuneUpShare)}
	if c := k.ChangesByClass; c != nil {
		tuneUp = ratio(k.TuneUpShare, c.TuneUp, c.Innovation+c.TuneUp+c.Fix, "")
	}
	return []htmlCell{
		freq,
		htmlQuantCell(k.LeadTimeSeconds, lv.LeadTime, min),
		ratio(k.ChangeFailureRatio, htmlIntOr(k.FailedDeployments), deploys, lv.ChangeFailureRate),
		htmlQuantCell(k.FailedDeploymentRecoverySeconds, lv.RecoveryTime, min),
		ratio(k.ReworkRatio, htmlIntOr(k.ReworkDeployments), deploys, ""),
		tuneUp,
	}
}

// htmlQuantCell is a median with its count; its level and, with p90, the
// p90 only from min values on.
func htmlQuantCell(q *kpi.Quantiles, l kpi.Level, min int) htmlCell {
	c := htmlCell{Text: htmlQuantile(q, false), Level: l}
	if q != nil {
		c.Count = strconv.Itoa(q.Count)
		if q.Count < min {
			c.Level, c.TooFew = "", true
		}
	}
	return c
}

// htmlIncidentRow is one line of the incident-response table.
type htmlIncidentRow struct {
	Name, Incidents string
	Cells           []htmlCell // detect, acknowledge, resolve, restore
}

// htmlIncidentRows are the incident times of all services, each urgency
// and each service; the p90 only from min incidents on.
func htmlIncidentRows(wr kpi.WindowReport, min int) []htmlIncidentRow {
	row := func(name string, x *kpi.Incidents) htmlIncidentRow {
		r := htmlIncidentRow{Name: name, Incidents: fmt.Sprintf("%d (%d open)", x.Count, x.Open)}
		for _, q := range []*kpi.Quantiles{x.TimeToDetect, x.TimeToAcknowledge, x.TimeToResolve, x.TimeToRestore} {
			c := htmlQuantCell(q, "", min)
			if q != nil {
				c.Count = "n " + c.Count
				if !c.TooFew {
					c.Count += " · p90 " + FormatDuration(q.P90)
				}
			}
			r.Cells = append(r.Cells, c)
		}
		return r
	}
	var rows []htmlIncidentRow
	if wr.All == nil || wr.All.Incidents == nil || wr.All.Incidents.Count == 0 {
		return nil
	}
	rows = append(rows, row("All services", wr.All.Incidents))
	for _, u := range slices.Sorted(maps.Keys(wr.All.Incidents.ByUrgency)) {
		if x := wr.All.Incidents.ByUrgency[u]; x != nil && x.Count > 0 {
			rows = append(rows, row("urgency "+u, x))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(wr.Services)) {
		if k := wr.Services[name]; k != nil && k.Incidents != nil && k.Incidents.Count > 0 {
			rows = append(rows, row(name, k.Incidents))
		}
	}
	return rows
}

// htmlTrendWeeks is how many weeks the DORA trend lists.
const htmlTrendWeeks = 12

// htmlTrendRow is one week of the DORA trend.
type htmlTrendRow struct {
	Week  string
	Cells []htmlCell
}

// htmlTrendRows are the four keys and rework of all services in each of the
// last htmlTrendWeeks weeks, newest first, from the weekly window of r and
// of the history before it.
func htmlTrendRows(r kpi.Report, history []kpi.Report, min int) []htmlTrendRow {
	var rows []htmlTrendRow
	// the report's own week first, unless the history ends with it
	if len(history) == 0 || !history[len(history)-1].At.Equal(r.At) {
		history = append(slices.Clone(history), r)
	}
	for i := len(history) - 1; i >= 0 && len(rows) < htmlTrendWeeks; i-- {
		wr, ok := history[i].Windows[htmlBucketWindow]
		if !ok || wr.All == nil {
			continue
		}
		cells := htmlKPICells(wr.All, min)[:5]
		start := history[i].At.Add(-7 * 24 * time.Hour)
		rows = append(rows, htmlTrendRow{Week: start.UTC().Format("Jan 2") + " – " + history[i].At.UTC().Format("Jan 2"), Cells: cells})
	}
	return rows
}

// htmlCompleteRow is one line of "How complete are these numbers".
type htmlCompleteRow struct {
	What, Value, Scope string
	Link               *htmlLink
}

// htmlCompleteness counts what the numbers of the page could not use: for
// the window, incidents without a detect or restore time and deployed pull
// requests without a review by someone other than the author; over all
// history, the data-quality counts. Each links to its list. Without an
// explainer only the window's counts, from the report, are shown.
func htmlCompleteness(all *kpi.KPIs, lists *htmlLists) ([]htmlCompleteRow, error) {
	var rows []htmlCompleteRow
	window := func(key, what string, fallbackN, fallbackOf int, ok bool) error {
		link, e, err := lists.linkE(key, "", "")
		if err != nil {
			return err
		}
		n, of := fallbackN, fallbackOf
		if e != nil {
			counted, out := htmlCounted(e.Items)
			n, of, ok = out, counted+out, true
		}
		if ok && of > 0 {
			rows = append(rows, htmlCompleteRow{What: what, Value: fmt.Sprintf("%d of %d", n, of), Scope: "window", Link: link})
		}
		return nil
	}
	var inc kpi.Incidents
	var ttd, ttr int
	var lead, pickup int
	if all != nil {
		if all.Incidents != nil {
			inc = *all.Incidents
			if inc.TimeToDetect != nil {
				ttd = inc.TimeToDetect.Count
			}
			if inc.TimeToRestore != nil {
				ttr = inc.TimeToRestore.Count
			}
		}
		if all.LeadTimeSeconds != nil {
			lead = all.LeadTimeSeconds.Count
		}
		if s := all.LeadTimeStageSeconds; s != nil && s.Pickup != nil {
			pickup = s.Pickup.Count
		}
	}
	if err := window("incidents.time_to_detect_seconds", "incidents without a detect time (no known impact start)", inc.Count-ttd, inc.Count, all != nil); err != nil {
		return nil, err
	}
	if err := window("incidents.time_to_restore_seconds", "incidents without a restore time (open, or no known impact start)", inc.Count-ttr, inc.Count, all != nil); err != nil {
		return nil, err
	}
	if err := window("lead_time_stage_seconds.pickup", "deployed pull requests without a review by someone other than the author", max(lead-pickup, 0), lead, all != nil); err != nil {
		return nil, err
	}
	for _, q := range []struct{ key, what string }{
		{"unattributed_incidents", "incidents attributed to no deployment (they count in no change failure rate)"},
		{"undeployed_changes", "merged pull requests that no counting deployment shipped (no lead time)"},
		{"time_fallback_changes", "pull requests matched to their deployment by time, not by its commits"},
		{"impact_start_unparsed", "incidents whose impact-start line did not parse (their detect time is missing)"},
	} {
		link, e, err := lists.linkE(q.key, "", "")
		if err != nil {
			return nil, err
		}
		if e == nil {
			continue
		}
		rows = append(rows, htmlCompleteRow{What: q.what, Value: strconv.Itoa(len(e.Items)), Scope: "all history", Link: link})
	}
	return rows, nil
}

// htmlCardKeys are the explain keys of the key cards.
var htmlCardKeys = [...]string{"deployment_frequency_per_day", "lead_time_seconds", "change_failure_ratio",
	"failed_deployment_recovery_seconds", "rework_ratio"}

// htmlServiceKeys are the explain keys of the services table's columns.
var htmlServiceKeys = [...]string{"deployment_frequency_per_day", "lead_time_seconds", "change_failure_ratio",
	"failed_deployment_recovery_seconds", "rework_ratio", "tune_up_share", "incidents.count"}

// htmlPerWeek renders a deployment frequency per week, the one unit of the
// page: a reader compares cards, table and charts without converting.
func htmlPerWeek(perDay *float64) string {
	if perDay == nil {
		return htmlDash
	}
	return trim(*perDay*7) + "/week"
}

// htmlRatio and htmlQuantile render optional values with the table report's
// formatters, so both reports show the same numbers.

func htmlRatio(v *float64) string {
	if v == nil {
		return htmlDash
	}
	return FormatRatio(*v)
}

func htmlQuantile(q *kpi.Quantiles, p90 bool) string {
	if q == nil {
		return htmlDash
	}
	if p90 {
		return FormatDuration(q.P90)
	}
	return FormatDuration(q.P50)
}

// Palette: colour-blind-safe hues, one per series kind, of clearly different
// lightness so that a grayscale print still tells them apart.
var (
	htmlStageColors = [4]string{"#1f4e79", "#d9531e", "#76b7b2", "#f6e8a6"}
	// htmlStageDarkText: the stages light enough to need dark labels
	htmlStageDarkText = [4]bool{false, false, true, true}
	htmlStageNames    = [4]string{"coding", "pickup", "review", "deploy"}
	htmlClassColors   = map[string]string{"innovation": "#1f4e79", "tune_up": "#8cc665", "fix": "#e15759", "unclassified": "#e5e5e5"}
	htmlClassOrder    = []string{"innovation", "tune_up", "fix", "unclassified"}
	htmlClassLabels   = map[string]string{"innovation": "Innovation", "tune_up": "Tune-up", "fix": "Fix", "unclassified": "Unclassified"}
)

// htmlSVG accumulates one chart; text is always escaped.
type htmlSVG struct{ b strings.Builder }

func (s *htmlSVG) f(format string, args ...any) { fmt.Fprintf(&s.b, format, args...) }

func (s *htmlSVG) text(x, y float64, anchor, class, text string) {
	s.f(`<text x="%.1f" y="%.1f" text-anchor="%s" class="%s">%s</text>`, x, y, anchor, class, template.HTMLEscapeString(text))
}

func (s *htmlSVG) html(w, h float64, label string) template.HTML {
	return template.HTML(fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" role="img" aria-label="%s">%s</svg>`,
		w, h, w, h, template.HTMLEscapeString(label), s.b.String()))
}

// niceMax rounds v up to 1, 2, 3, 4, 5, 6 or 8 × 10^n for a readable axis
// that wastes little room.
func htmlNiceMax(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 3, 4, 5, 6, 8, 10} {
		if m*p >= v*(1-1e-9) {
			return m * p
		}
	}
	return 10 * p
}

// htmlTicks is how many steps divide an axis of htmlNiceMax's max into round
// values: 1 → 0.2 each, 2 → 0.5, 3 → 1, 4 → 1, 5 → 1, 6 → 2, 8 → 2, 10 → 2.
func htmlTicks(max float64) int {
	lead := math.Round(max / math.Pow(10, math.Floor(math.Log10(max)+1e-9)))
	switch lead {
	case 2, 4, 8:
		return 4
	case 3, 6:
		return 3
	}
	return 5
}

// durationAxis picks a unit for a duration axis and a round maximum in it.
func htmlDurationAxis(maxSeconds float64) (unit string, div, max float64) {
	switch {
	case maxSeconds >= 2*86400:
		unit, div = "days", 86400
	case maxSeconds >= 2*3600:
		unit, div = "hours", 3600
	default:
		unit, div = "minutes", 60
	}
	return unit, div, htmlNiceMax(maxSeconds/div) * div
}

// stagesChart draws each group's p50 stage durations as one stacked horizontal bar.
func htmlStagesChart(wr kpi.WindowReport) template.HTML {
	type bar struct {
		name string
		v    [4]float64
		n    int
		lead float64 // median lead time, 0 when unknown
	}
	stagesOf := func(name string, k *kpi.KPIs) (bar, bool) {
		if k == nil || k.LeadTimeStageSeconds == nil {
			return bar{}, false
		}
		s := k.LeadTimeStageSeconds
		b := bar{name: name}
		if k.LeadTimeSeconds != nil {
			b.lead = k.LeadTimeSeconds.P50
		}
		for i, q := range []*kpi.Quantiles{s.Coding, s.Pickup, s.Review, s.Deploy} {
			if q != nil {
				b.v[i] = q.P50
				b.n = max(b.n, q.Count)
			}
		}
		return b, true
	}
	var bars []bar
	if b, ok := stagesOf("All services", wr.All); ok {
		bars = append(bars, b)
	}
	names := make([]string, 0, len(wr.Services))
	for n := range wr.Services {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if b, ok := stagesOf(n, wr.Services[n]); ok {
			bars = append(bars, b)
		}
	}
	if len(bars) == 0 {
		return ""
	}
	maxTotal := 0.0
	for _, b := range bars {
		maxTotal = max(maxTotal, b.v[0]+b.v[1]+b.v[2]+b.v[3], b.lead)
	}
	unit, div, axisMax := htmlDurationAxis(maxTotal)
	const left, right, top, barH, gap = 150.0, 330.0, 34.0, 22.0, 26.0
	width := 1040.0
	plotW := width - left - right
	height := top + float64(len(bars))*(barH+gap) + 40
	var s htmlSVG
	// legend
	x := left
	for i, name := range htmlStageNames {
		s.f(`<rect x="%.1f" y="6" width="12" height="12" rx="2" fill="%s"/>`, x, htmlStageColors[i])
		s.text(x+17, 16.5, "start", "legend", name)
		x += 90
	}
	s.f(`<line x1="%.1f" y1="4" x2="%.1f" y2="20" class="leadmark"/>`, x+4, x+4)
	s.text(x+12, 16.5, "start", "legend", "median lead time")
	// grid, at round values
	ticks := htmlTicks(axisMax / div)
	for i := 0; i <= ticks; i++ {
		gx := left + plotW*float64(i)/float64(ticks)
		s.f(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="grid"/>`, gx, top-4, gx, height-34)
		s.text(gx, height-18, "middle", "axis", htmlTrimFloat(axisMax/div*float64(i)/float64(ticks)))
	}
	s.text(left+plotW/2, height-3, "middle", "axis", "median of each stage, "+unit)
	for i, b := range bars {
		y := top + float64(i)*(barH+gap)
		s.text(left-10, y+barH/2+4, "end", "label", b.name)
		x := left
		for j, v := range b.v {
			w := plotW * v / axisMax
			if w <= 0 {
				continue
			}
			s.f(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s: %s</title></rect>`,
				x, y, w, barH, htmlStageColors[j], template.HTMLEscapeString(b.name), htmlStageNames[j], FormatDuration(v))
			// Label a segment only where its text fits (about 7 px a character).
			if label := FormatDuration(v); w > float64(len(label))*7+10 {
				cls := "inbar"
				if htmlStageDarkText[j] {
					cls += " dark"
				}
				s.text(x+w/2, y+barH/2+4, "middle", cls, label)
			}
			x += w
		}
		// every stage named under its bar, so a segment too short for its
		// label still has one
		var parts []string
		for j, v := range b.v {
			if v > 0 {
				parts = append(parts, htmlStageNames[j]+" "+FormatDuration(v))
			}
		}
		s.text(left, y+barH+12, "start", "axis", strings.Join(parts, " · "))
		label := "sum of stage medians " + FormatDuration(b.v[0]+b.v[1]+b.v[2]+b.v[3])
		if b.lead > 0 {
			lx := left + plotW*b.lead/axisMax
			s.f(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="leadmark"><title>%s median lead time: %s</title></line>`,
				lx, y-3, lx, y+barH+3, template.HTMLEscapeString(b.name), FormatDuration(b.lead))
			label = "lead time " + FormatDuration(b.lead) + " · " + label
		}
		s.text(max(x, left+plotW*b.lead/axisMax)+8, y+barH/2+4, "start", "value", label)
	}
	return s.html(width, height, "Lead-time stages by service")
}

func htmlTrimFloat(v float64) string {
	s := fmt.Sprintf("%.2f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}

// splitChart draws the class split of merged changes at each history point (and
// the report itself) as 100% stacked columns, with the tune-up share marked.
func htmlSplitChart(r kpi.Report, history []kpi.Report, win string) (template.HTML, string) {
	type point struct {
		at     time.Time
		counts map[string]int
		total  int
	}
	var pts []point
	add := func(rep kpi.Report) {
		wr, ok := rep.Windows[win]
		if !ok || wr.All == nil || wr.All.ChangesByClass == nil {
			return
		}
		c := wr.All.ChangesByClass
		p := point{at: rep.At, counts: map[string]int{
			"innovation": c.Innovation, "tune_up": c.TuneUp, "fix": c.Fix, "unclassified": c.Unclassified,
		}}
		p.total = c.Innovation + c.TuneUp + c.Fix + c.Unclassified
		if p.total > 0 {
			pts = append(pts, p)
		}
	}
	// weeks on their own when the history has them, else the page's window
	if len(history) > 0 {
		if _, ok := history[0].Windows[htmlBucketWindow]; ok {
			win = htmlBucketWindow
		}
	}
	for _, h := range history {
		add(h)
	}
	if len(history) == 0 || !history[len(history)-1].At.Equal(r.At) {
		add(r)
	}
	sort.SliceStable(pts, func(i, j int) bool { return pts[i].at.Before(pts[j].at) })
	note := fmt.Sprintf("Merged pull requests per class over the %s window ending at each date.", win)
	if win == htmlBucketWindow {
		note = "Merged pull requests per class in each week, the column ending at its date: no pull request is counted in two columns. Dashed lines mark when each tune-up initiative started and ended."
	}
	if len(pts) == 0 {
		return "", "No merged pull requests in the " + win + " window."
	}
	if len(history) == 0 {
		note += " Only the report date is shown: no earlier reports were given."
	}
	const left, right, top, bottom = 50.0, 20.0, 44.0, 40.0
	width, height := 1040.0, 314.0
	plotW, plotH := width-left-right, height-top-bottom
	var s htmlSVG
	x := left
	for _, c := range htmlClassOrder {
		s.f(`<rect x="%.1f" y="6" width="12" height="12" rx="2" fill="%s"/>`, x, htmlClassColors[c])
		s.text(x+17, 16.5, "start", "legend", htmlClassLabels[c])
		x += 110
	}
	s.f(`<line x1="%.1f" y1="10" x2="%.1f" y2="10" class="shareline"/>`, x, x+18)
	s.text(x+23, 14.5, "start", "legend", "tune-up share")
	for i := 0; i <= 4; i++ {
		gy := top + plotH*(1-float64(i)/4)
		s.f(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="grid"/>`, left, gy, left+plotW, gy)
		s.text(left-6, gy+4, "end", "axis", fmt.Sprintf("%d%%", i*25))
	}
	slot := plotW / float64(len(pts))
	colW := math.Min(slot*0.7, 48)
	labelEvery := int(math.Ceil(float64(len(pts)) / 12))
	var line [][2]float64
	for i, p := range pts {
		cx := left + slot*(float64(i)+0.5)
		y := top + plotH
		for _, c := range htmlClassOrder {
			h := plotH * float64(p.counts[c]) / float64(p.total)
			if h <= 0 {
				continue
			}
			y -= h
			s.f(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s: %d of %d</title></rect>`,
				cx-colW/2, y, colW, h, htmlClassColors[c], p.at.UTC().Format("2006-01-02"), htmlClassLabels[c], p.counts[c], p.total)
		}
		denom := p.counts["innovation"] + p.counts["tune_up"] + p.counts["fix"]
		if denom > 0 {
			share := float64(p.counts["tune_up"]) / float64(denom)
			line = append(line, [2]float64{cx, top + plotH*(1-share)})
		}
		if (len(pts)-1-i)%labelEvery == 0 { // counted from the last, so labels never crowd
			s.text(cx, height-bottom+16, "middle", "axis", p.at.UTC().Format("Jan 2"))
		}
	}
	// initiatives: a dashed line at start and end, named above the plot
	if win == htmlBucketWindow && len(pts) > 1 {
		week := pts[1].at.Sub(pts[0].at).Hours()
		xOf := func(t time.Time) float64 {
			return left + slot*(t.Sub(pts[0].at).Hours()/week+1)
		}
		for i, im := range r.TuneUpImpact {
			x0, x1 := xOf(im.Start), xOf(im.End)
			if x1 < left || x0 > left+plotW {
				continue
			}
			x0, x1 = max(x0, left), min(x1, left+plotW)
			ty := top - 4 - float64(i%2)*12 // alternate heights, so that near names do not overlap
			s.f(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="initline"/>`, x0, top, x0, top+plotH)
			s.f(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="initline"/>`, x1, top, x1, top+plotH)
			s.f(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="initspan"/>`, x0, ty, x1, ty)
			s.text(x0+3, ty-3, "start", "legend", im.Initiative)
		}
	}
	if len(line) > 1 {
		pts := make([]string, len(line))
		for i, pt := range line {
			pts[i] = fmt.Sprintf("%.1f,%.1f", pt[0], pt[1])
		}
		// a white halo keeps the line visible over the dark columns
		s.f(`<polyline points="%s" class="sharehalo"/>`, strings.Join(pts, " "))
		s.f(`<polyline points="%s" class="shareline"/>`, strings.Join(pts, " "))
	}
	for _, pt := range line {
		s.f(`<circle cx="%.1f" cy="%.1f" r="3" class="sharedot"/>`, pt[0], pt[1])
	}
	return s.html(width, height, "Innovation and tune-up split over time"), note
}

// impactKPIs orders and names the impact KPIs of the report; durations get p-values.
var htmlImpactKPIs = []struct {
	key, label  string
	duration    bool
	ratio       bool
	lowerBetter bool
}{
	{kpi.ImpactLeadTimeP50, "Lead time p50", true, false, true},
	{kpi.ImpactPickupP50, "Pickup p50", true, false, true},
	{kpi.ImpactDeploymentFrequency, "Deployment frequency", false, false, false},
	{kpi.ImpactChangeFailureRatio, "Change failure rate", false, true, true},
	{kpi.ImpactRecoveryP50, "Recovery p50", true, false, true},
	{kpi.ImpactTimeToResolveP50, "Time to resolve p50", true, false, true},
}

func htmlImpactView(im kpi.Impact) htmlImpactBlock {
	scope := slices.Clone(im.Scope)
	sort.Strings(scope)
	b := htmlImpactBlock{
		Name:  im.Initiative,
		Span:  im.Start.UTC().Format("2006-01-02") + " → " + im.End.UTC().Format("2006-01-02"),
		Scope: strings.Join(scope, ", "),
	}
	type row struct {
		label, before, after, change, p string
		vb, va                          float64
		hasB, hasA, better, worse, sig  bool
	}
	var rows []row
	for _, k := range htmlImpactKPIs {
		v, ok := im.KPIs[k.key]
		if !ok || (v.Before == nil && v.After == nil) {
			continue
		}
		format := func(x *float64) string {
			switch {
			case x == nil:
				return "no data"
			case k.duration:
				return FormatDuration(*x)
			case k.ratio:
				return htmlRatio(x)
			}
			return htmlPerWeek(x)
		}
		r := row{label: k.label, before: format(v.Before), after: format(v.After), change: htmlDash, p: ""}
		if v.Before != nil {
			r.vb, r.hasB = *v.Before, true
		}
		if v.After != nil {
			r.va, r.hasA = *v.After, true
		}
		if v.RelativeChange != nil {
			r.change = fmt.Sprintf("%+.0f%%", *v.RelativeChange*100)
			improved := (*v.RelativeChange < 0) == k.lowerBetter
			r.better, r.worse = improved && *v.RelativeChange != 0, !improved && *v.RelativeChange != 0
		}
		if v.PValue != nil {
			r.p = fmt.Sprintf("p = %.3g", *v.PValue)
			if *v.PValue < 0.001 {
				r.p = "p < 0.001"
			}
			r.sig = *v.PValue < 0.05
		} else if k.duration {
			r.p = "p n/a"
		}
		r.label = fmt.Sprintf("%s (n %d → %d)", k.label, v.NBefore, v.NAfter)
		rows = append(rows, r)
	}
	if len(rows) == 0 {
		return b
	}
	const left, barArea, right, rowH = 260.0, 520.0, 260.0, 46.0
	width := left + barArea + right
	height := 28 + float64(len(rows))*rowH
	var s htmlSVG
	s.f(`<rect x="%.1f" y="6" width="12" height="12" rx="2" class="before"/>`, left)
	s.text(left+17, 16.5, "start", "legend", "before")
	s.f(`<rect x="%.1f" y="6" width="12" height="12" rx="2" class="after"/>`, left+90)
	s.text(left+107, 16.5, "start", "legend", "after")
	for i, r := range rows {
		y := 28 + float64(i)*rowH
		s.text(left-12, y+20, "end", "label", r.label)
		scale := math.Max(r.vb, r.va)
		if scale <= 0 {
			scale = 1
		}
		for j, side := range []struct {
			v    float64
			has  bool
			text string
			cls  string
		}{{r.vb, r.hasB, r.before, "before"}, {r.va, r.hasA, r.after, "after"}} {
			by := y + 4 + float64(j)*17
			w := 0.0
			if side.has {
				w = math.Max(barArea*side.v/scale, 2)
				s.f(`<rect x="%.1f" y="%.1f" width="%.1f" height="14" rx="2" class="%s"/>`, left, by, w, side.cls)
			}
			s.text(left+w+6, by+11.5, "start", "value", side.text)
		}
		cls := "change"
		if r.better {
			cls += " better"
		} else if r.worse {
			cls += " worse"
		}
		s.text(left+barArea+110, y+20, "end", cls, r.change)
		pcls := "pvalue"
		if r.sig {
			pcls += " sig"
		}
		s.text(left+barArea+122, y+20, "start", pcls, r.p)
	}
	b.Chart = s.html(width, height, "Before and after "+im.Initiative)
	return b
}

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"levelClass": func(l kpi.Level) string { return "lvl-" + string(l) },
	"num":        htmlNumber,
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Flywheel report · {{.At}}</title>
<style>
:root { --ink:#1f2937; --muted:#6b7280; --line:#e5e7eb; --card:#ffffff; --bg:#f5f6f8;
  --elite:#1b7f3b; --high:#1f6fb5; --medium:#c46a00; --low:#c0392b; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
  font: 15px/1.45 -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1100px; margin: 0 auto; padding: 32px 28px 48px; }
header h1 { margin:0; font-size: 28px; letter-spacing:-0.01em; }
header p { margin:4px 0 0; color:var(--muted); }
h2 { font-size: 19px; margin: 36px 0 4px; }
.sub { color:var(--muted); margin: 0 0 14px; font-size: 14px; }
.cards { display:grid; grid-template-columns: repeat(5, 1fr); gap: 14px; margin-top: 22px; }
.card { background:var(--card); border:1px solid var(--line); border-radius: 10px; padding: 14px 16px; }
.card h3 { margin:0; font-size: 13px; font-weight:600; color:var(--muted); text-transform: uppercase; letter-spacing: .03em; }
.card .v { font-size: 27px; font-weight: 700; margin: 6px 0 2px; white-space: nowrap; }
.card .d { font-size: 12.5px; color:var(--muted); }
.card .chg { color:var(--ink); margin-top: 3px; }
.badge { display:inline-block; font-size: 11.5px; font-weight:700; color:#fff; border-radius: 999px; padding: 1px 9px;
  text-transform: uppercase; letter-spacing:.04em; margin-top: 8px; }
.lvl-elite { background:var(--elite); } .lvl-high { background:var(--high); }
.lvl-medium { background:var(--medium); } .lvl-low { background:var(--low); }
.lvl- { background:#9ca3af; }
.panel { background:var(--card); border:1px solid var(--line); border-radius: 10px; padding: 16px 18px; overflow-x:auto; }
table { border-collapse: collapse; width:100%; font-size: 14px; }
th { text-align:left; font-weight:600; color:var(--muted); font-size:12.5px; text-transform:uppercase; letter-spacing:.03em; }
th, td { padding: 7px 10px; border-bottom: 1px solid var(--line); }
td { white-space: nowrap; }
td.num, th.num { text-align:right; font-variant-numeric: tabular-nums; }
tr:last-child td { border-bottom: none; }
.lv { display:inline-block; min-width: 4.6em; text-align:center; font-size: 10.5px; font-weight:700; color:#fff; border-radius: 999px;
  padding: 0 6px; margin-left: 6px; text-transform: uppercase; letter-spacing:.03em; vertical-align: 1px; }
.lv.few, .badge.few { background:#fff; color:var(--muted); border:1px dashed #9ca3af; }
.cnt { display:block; font-size: 11.5px; color:var(--muted); }
td.wrap { white-space: normal; }
td.muted { color:var(--muted); font-size: 13px; }
dl.gloss { background:var(--card); border:1px solid var(--line); border-radius: 10px; padding: 12px 18px; margin: 8px 0 0;
  display:grid; grid-template-columns: 15em 1fr; gap: 6px 16px; font-size: 14px; }
dl.gloss dt { font-weight: 600; } dl.gloss dd { margin: 0; }
svg .leadmark { stroke:#111827; stroke-width:3; }
svg .initline { stroke:#111827; stroke-width:1.5; stroke-dasharray: 5 3; }
svg .initspan { stroke:#111827; stroke-width:2; }
.impact h3 { margin: 0 0 2px; font-size: 17px; }
.impact + .impact { margin-top: 14px; }
svg { display:block; max-width:100%; height:auto; font-family: inherit; }
svg .grid { stroke:#e5e7eb; stroke-width:1; }
svg .axis { fill:var(--muted); font-size: 11.5px; }
svg .legend { fill:var(--ink); font-size: 12.5px; }
svg .label { fill:var(--ink); font-size: 13px; }
svg .value { fill:var(--ink); font-size: 12.5px; font-variant-numeric: tabular-nums; }
svg .inbar { fill:#fff; font-size: 11.5px; font-weight:600; } svg .inbar.dark { fill:#1f2937; }
svg .before { fill:#b8c2cc; } svg .after { fill:#1f4e79; }
svg .change { fill:var(--muted); font-size: 15px; font-weight: 700; }
svg .change.better { fill:var(--elite); } svg .change.worse { fill:var(--low); }
svg .pvalue { fill:var(--muted); font-size: 12.5px; } svg .pvalue.sig { fill:var(--ink); font-weight:700; }
svg .shareline { fill:none; stroke:#1f2937; stroke-width:2; }
svg .sharedot { fill:#1f2937; stroke:#fff; stroke-width:1.5; }
svg .sharehalo { fill:none; stroke:#fff; stroke-width:5; }
a.n { color:inherit; text-decoration: underline dotted 1px; text-underline-offset: 3px; }
a.n:hover { color:var(--high); text-decoration-style: solid; }
a:focus-visible, summary:focus-visible { outline: 2px solid var(--high); outline-offset: 2px; border-radius: 3px; }
details.ev { background:var(--card); border:1px solid var(--line); border-radius: 10px; margin-top: 8px; }
details.ev > summary { padding: 9px 16px; cursor: pointer; font-size: 14px; }
details.ev[open] > summary { border-bottom: 1px solid var(--line); }
details.ev:has(.evb:target) { border-color: var(--high); }
.evv { font-weight: 700; font-variant-numeric: tabular-nums; margin-left: 4px; }
.evh { color:var(--muted); }
.evb { padding: 8px 16px 12px; overflow-x:auto; scroll-margin-top: 4em; outline: none; }
.evn { margin: 4px 0; font-size: 13.5px; }
.cmd { margin: 4px 0 8px; }
.evg { font-size: 15px; margin: 18px 0 6px; }
code { white-space: nowrap; font: 12.5px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background:var(--bg); padding: 1px 5px; border-radius: 4px; }
.cmd code { user-select: all; white-space: pre-wrap; word-break: break-all; }
.ev table { font-size: 13px; }
.ev th, .ev td { padding: 4px 7px; vertical-align: top; }
.ev td.w { white-space: normal; min-width: 10em; }
.ev td.id { font: 12px/1.5 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.ev tr.out td { color:var(--muted); font-style: italic; }
footer { margin-top: 36px; color: var(--muted); font-size: 12.5px; }
@media (max-width: 900px) { .cards { grid-template-columns: repeat(2, 1fr); } .lv { display:block; min-width:0; margin: 2px 0 0 auto; width: max-content; } dl.gloss { grid-template-columns: 1fr; } dl.gloss dd { margin-bottom: 6px; } }
@media print { body { background:#fff; } main { padding: 0; }
  .cards { grid-template-columns: repeat(3, 1fr); } .card, .panel:not(.tp), details.ev { break-inside: avoid; } tr { break-inside: avoid; }
  .panel { overflow: visible; padding: 8px 10px; } table { font-size: 12px; } th, td { padding: 5px 4px; } th { font-size: 10.5px; }
  .lv { display:block; min-width:0; margin: 2px 0 0 auto; width: max-content; } a.n { text-decoration: none; } }
</style>
</head>
<body>
<main>
<header>
<h1>Flywheel · delivery report</h1>
<p>As of {{.At}} · window: last {{.Window}}</p>
</header>

<section>
{{- if .Cards}}
<div class="cards">
{{- range .Cards}}
<div class="card"><h3>{{.Title}}</h3><div class="v">{{num .Value .Link}}</div><div class="d">{{.Detail}}</div>
{{- if .Change}}<div class="d chg">{{.Change}}</div>{{end}}
{{- if .Level}}<span class="badge {{levelClass .Level}}">{{.Level}}</span>{{else if .TooFew}}<span class="badge few">too few</span>{{end}}</div>
{{- end}}
</div>
{{- else}}
<p class="sub">No deployments, changes or incidents in this window.</p>
{{- end}}
</section>

{{- if .Services}}
<section>
<h2>Services</h2>
<p class="sub">The four DORA keys and rework per service over the last {{.Window}}. Under each value, in grey, the count it is computed from; beside it the key's DORA level{{if gt .MinSamples 1}}, given only from {{.MinSamples}} values on: with fewer, one event moves a value by a whole level, so it is marked <i>too few</i> instead{{end}}.</p>
<div class="panel tp"><table>
<thead><tr><th>Service</th><th class="num" title="counting deployments per week; count: deployments">Deploy frequency</th><th class="num" title="median lead time; count: deployed pull requests">Lead time p50</th><th class="num" title="failed of counting deployments">Change failure</th><th class="num" title="median failed deployment recovery; count: recoveries">Recovery p50</th><th class="num" title="rework of counting deployments">Rework</th><th class="num" title="tune-up of classified merged pull requests">Tune-up share</th><th class="num">Incidents</th></tr></thead>
<tbody>
{{- range .Services}}
<tr><td>{{.Name}}</td>
{{- range .Cells}}<td class="num">{{num .Text .Link}}{{if .Level}} <span class="lv {{levelClass .Level}}">{{.Level}}</span>{{else if .TooFew}} <span class="lv few">too few</span>{{end}}{{if .Count}}<span class="cnt">{{.Count}}</span>{{end}}</td>{{end}}</tr>
{{- end}}
</tbody></table></div>
</section>
{{- end}}

{{- if .Teams}}
<section id="teams">
<h2>Teams</h2>
<p class="sub">The same keys per team over the last {{.Window}}: each team's deployments, pull requests and incidents taken together, as for all services. Its deploy frequency is its services' summed; the level beside it is the best level at least half of its services reach on their own, so that many services deploying rarely do not make a fast team. Counts and <i>too few</i> as in the services table.{{if .NoTeam}} Services in no team: {{.NoTeam}}.{{end}}</p>
<div class="panel tp"><table>
<thead><tr><th>Team</th><th class="num" title="counting deployments per week; count: deployments">Deploy frequency</th><th class="num" title="median lead time; count: deployed pull requests">Lead time p50</th><th class="num" title="failed of counting deployments">Change failure</th><th class="num" title="median failed deployment recovery; count: recoveries">Recovery p50</th><th class="num" title="rework of counting deployments">Rework</th><th class="num" title="tune-up of classified merged pull requests">Tune-up share</th><th class="num">Incidents</th></tr></thead>
<tbody>
{{- range .Teams}}
<tr><td>{{.Name}}<span class="cnt">{{.Detail}}</span></td>
{{- range .Cells}}<td class="num">{{.Text}}{{if .Level}} <span class="lv {{levelClass .Level}}">{{.Level}}</span>{{else if .TooFew}} <span class="lv few">too few</span>{{end}}{{if .Count}}<span class="cnt">{{.Count}}</span>{{end}}</td>{{end}}</tr>
{{- end}}
</tbody></table></div>
</section>
{{- end}}

{{- if .Trend}}
<section id="trend">
<h2>DORA keys week by week</h2>
<p class="sub">All services, each week on its own (the 7 days ending on the second date), newest first. A week holds few events, so more of its values are marked <i>too few</i>.</p>
<div class="panel tp"><table>
<thead><tr><th>Week</th><th class="num">Deploy frequency</th><th class="num">Lead time p50</th><th class="num">Change failure</th><th class="num">Recovery p50</th><th class="num">Rework</th></tr></thead>
<tbody>
{{- range .Trend}}
<tr><td class="g">{{.Week}}</td>
{{- range .Cells}}<td class="num">{{.Text}}{{if .Level}} <span class="lv {{levelClass .Level}}">{{.Level}}</span>{{else if .TooFew}} <span class="lv few">too few</span>{{end}}{{if .Count}}<span class="cnt">{{.Count}}</span>{{end}}</td>{{end}}</tr>
{{- end}}
</tbody></table></div>
</section>
{{- end}}

{{- if .IncidentRows}}
<section id="incident-response">
<h2>Incident response</h2>
<p class="sub">Median times of the incidents triggered in the last {{.Window}}, by urgency and by service, each with its count{{if gt .MinSamples 1}} and, from {{.MinSamples}} incidents on, its p90{{end}}. <i>Detect</i>: impact start to triggered; <i>acknowledge</i>: triggered to acknowledged; <i>resolve</i>: triggered to resolved; <i>restore</i>: impact start to resolved.</p>
<div class="panel tp"><table>
<thead><tr><th>Group</th><th class="num">Incidents</th><th class="num">Detect p50</th><th class="num">Acknowledge p50</th><th class="num">Resolve p50</th><th class="num">Restore p50</th></tr></thead>
<tbody>
{{- range .IncidentRows}}
<tr><td class="g">{{.Name}}</td><td class="num">{{.Incidents}}</td>
{{- range .Cells}}<td class="num">{{.Text}}{{if .Count}}<span class="cnt">{{.Count}}</span>{{end}}</td>{{end}}</tr>
{{- end}}
</tbody></table></div>
</section>
{{- end}}

{{- if .StagesChart}}
<section>
<h2>Where lead time goes</h2>
<p class="sub">The median of each stage: first commit to pull request opened (<i>coding</i>), opened to first review by someone other than the author (<i>pickup</i>), first review to merge (<i>review</i>), merge to the counting deployment that shipped it (<i>deploy</i>). The medians of the stages do not add up to the median lead time, because each stage's median comes from a different pull request, and a pull request without a review has a lead time but no pickup or review stage; so the bar is the sum of the stage medians, and the black mark on it is the median lead time, the number of the card and the table.</p>
<div class="panel" id="stages">{{.StagesChart}}</div>
</section>
{{- end}}

<section>
<h2>Innovation and tune-up</h2>
<p class="sub">{{.SplitNote}}</p>
{{- if .SplitChart}}<div class="panel" id="split">{{.SplitChart}}</div>{{end}}
</section>

{{- if .Impacts}}
<section>
<h2>Did the tune-ups pay off?</h2>
<p class="sub">Each KPI over the impact window before an initiative started and after it ended, for the services in its scope. The p-value (two-sided Mann-Whitney U) says how likely a difference at least this large would be by chance; below 0.05 is shown in bold.</p>
{{- range .Impacts}}
<div class="panel impact"><h3>{{.Name}}</h3><p class="sub">{{.Span}}{{if .Scope}} · {{.Scope}}{{end}}</p>
{{- if .Chart}}{{.Chart}}{{else}}<p class="sub">No KPI has data before or after.</p>{{end}}</div>
{{- end}}
</section>
{{- end}}

{{- if .Complete}}
<section id="complete">
<h2>How complete are these numbers</h2>
<p class="sub">What the numbers above could not use. Each count opens the list of the events it counts.</p>
<div class="panel tp"><table>
<tbody>
{{- range .Complete}}
<tr><td class="num">{{num .Value .Link}}</td><td class="wrap">{{.What}}</td><td class="muted">{{if eq .Scope "window"}}last {{$.Window}}{{else}}{{.Scope}}{{end}}</td></tr>
{{- end}}
</tbody></table></div>
</section>
{{- end}}

<section id="glossary">
<h2>Words on this page</h2>
<dl class="gloss">
<dt>Counting deployment</dt><dd>A successful deployment to production. Only these count for deployment frequency, lead time and change failure rate; failed attempts and other environments are stored but not counted.</dd>
<dt>Deployment frequency</dt><dd>Counting deployments per week, everywhere on this page. For a group of services it is their sum, the group's throughput.</dd>
<dt>Lead time</dt><dd>From a pull request's first commit to the counting deployment that shipped it.</dd>
<dt>Pickup</dt><dd>How long an opened pull request waits for its first review by someone other than its author.</dd>
<dt>Change failure rate</dt><dd>The share of counting deployments that failed: an incident was attributed to them, or they were rolled back.</dd>
<dt>Failed deployment recovery</dt><dd>From a failed deployment until the last of its incidents was resolved, or, without an incident, until its rollback.</dd>
<dt>Detect, acknowledge, resolve, restore</dt><dd>Incident times. <i>Detect</i>: from the impact start to the incident being triggered (opened). <i>Acknowledge</i>: from triggered to someone taking it. <i>Resolve</i>: from triggered to resolved (closed). <i>Restore</i>: from the impact start to resolved, the whole time users were affected; it is longer than resolve by the detect time.</dd>
<dt>Rework rate</dt><dd>The share of counting deployments that were rework: a rollback, a deployment that shipped a fix, or one finished while an incident of its service was open.</dd>
<dt>Tune-up share</dt><dd>Tune-ups (work on the delivery system itself) among merged pull requests classed innovation, tune-up or fix.</dd>
<dt>Impact window</dt><dd>The stretch of time, before a tune-up initiative started and after it ended, over which its before and after are compared.</dd>
<dt>Too few</dt><dd>{{if gt .MinSamples 1}}A value from fewer than {{.MinSamples}} events (the configuration's <code>report.min_samples</code>): shown, but given no level, colour or p90.{{else}}Not used: every value gets its level (<code>report.min_samples</code> is 1).{{end}}</dd>
<dt>p50, p90</dt><dd>The median, and the value that 90% of the events stay under.</dd>
</dl>
</section>

{{- if .Lists}}
<section id="events">
<h2>The events behind the numbers</h2>
<p class="sub">Each linked number above opens its list here: the events it is computed from and the facts that decided each; rows in italics are left out of the number, with the reason. A list shows at most {{.Cap}} rows{{if lt .ServiceCap .Cap}}, or {{.ServiceCap}} for a service, to keep this page small{{end}}. The <code>flywheel explain</code> command in each list, run with the same <code>--config.file</code> and <code>--storage.path</code>, prints it whole, as a table, JSON or CSV.</p>
{{- range .Lists}}
<h3 class="evg">{{.Name}}</h3>
{{- range .Lists}}
<details class="ev"><summary><b>{{.Title}}</b> <span class="evv">{{.Value}}</span> <span class="evh">· {{.Header}}</span></summary>
<div class="evb" id="{{.ID}}">
{{- if .Note}}<p class="evn">{{.Note}}</p>{{end}}
<p class="cmd"><code>{{.Command}}</code></p>
{{- if .Rows}}
<table><thead><tr>{{range .Cols}}<th{{if .Class}} class="{{.Class}}"{{end}}>{{.Name}}</th>{{end}}</tr></thead><tbody>
{{- range .Rows}}
<tr{{if .Out}} class="out"{{end}}>{{range .Cells}}<td{{if .Class}} class="{{.Class}}"{{end}}>{{.Text}}</td>{{end}}</tr>
{{- end}}
</tbody></table>
{{- else}}
<p class="sub">{{.Empty}}</p>
{{- end}}
</div></details>
{{- end}}
{{- end}}
</section>
{{- end}}

<footer>Generated by Flywheel. Definitions: lead time, frequency, failure rate and recovery follow DORA; levels use the configured thresholds.</footer>
</main>
</body>
</html>
`))
