package report

// The event lists of the HTML report: every linked number of the page points
// to a <details> section at its end that lists the events the number is
// computed from, with the facts that decided each. Opening a section needs no
// script: following a link to an element inside a closed <details> opens it.

import (
	"fmt"
	"html/template"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/flywheel-metrics/flywheel/metrics/kpi"
)

// Explainer lists the events behind one number of a report; *kpi.Explainer,
// made from the Input the report was computed from, is one.
type Explainer interface {
	Explain(kpi.ExplainQuery) (*kpi.Explanation, error)
}

// The HTML report shows at most HTMLListCap rows of a list, and at most about
// HTMLPageRows rows in all: a big organisation merges tens of thousands of pull
// requests in a quarter, and a page listing them all for every service would
// not open. The lists of the services table share what the headline lists
// leave of HTMLPageRows, but each shows at least htmlMinListCap rows. A longer
// list shows its most telling rows first (failed deployments, say) and names
// the `flywheel explain` command that prints it whole.
const (
	HTMLListCap    = 200
	HTMLPageRows   = 10000
	htmlMinListCap = 20
)

// htmlServiceListCap is the cap of each list of a services table of n rows.
func htmlServiceListCap(n int) int {
	if n == 0 {
		return HTMLListCap
	}
	headline := len(htmlCardKeys) * HTMLListCap
	return max(htmlMinListCap, min(HTMLListCap, (HTMLPageRows-headline)/(n*len(htmlServiceKeys))))
}

// htmlLink is where a number of the page points: its list's anchor, and a
// tooltip that says what the list holds.
type htmlLink struct {
	Href, Title string
}

// htmlListGroup holds the lists of one group: all services, or a service.
type htmlListGroup struct {
	Name  string
	Lists []htmlList
}

// htmlList is one list of events behind a number.
type htmlList struct {
	ID      string // the anchor, on the first element inside the <details>
	Title   string // "Change failure rate"
	Value   string // the number as the page shows it
	Header  string // what the value is computed from
	Note    string // how many rows are left out and in what order the rest come, or ""
	Command string
	Cols    []htmlCol
	Rows    []htmlEventRow
	Empty   string // what an empty list says
}

type htmlEventRow struct {
	Out   bool // not counted: the row is muted, its reason in the last column
	Cells []htmlEventCell
}

type htmlEventCell struct {
	Text, Class string
}

// htmlCol is one column of a list: its heading, its cells' class ("num" a
// number, "id" an event's id, "w" text that may wrap, "" a short word), and
// the cell of an item.
type htmlCol struct {
	Name, Class string
	cell        func(kpi.Item) string
}

// htmlListKPI says how the page lists one KPI's events.
type htmlListKPI struct {
	key   string // the explain key
	label string // how the page names the number
	short string // for anchors
	// first, when set, picks the rows shown before the others; firstName names them.
	first     func(kpi.Item) bool
	firstName string
	cols      []htmlCol
	header    func(e *kpi.Explanation, items []kpi.Item) string
	// allHistory: a data-quality count, over all stored history rather
	// than the window, so its command names no window.
	allHistory bool
	// value is the list's number when the page shows none of its own: a
	// count of "How complete are these numbers", whose lists are grouped
	// under that title.
	value func(items []kpi.Item) string
}

// htmlCompleteGroup names the group of the lists of "How complete are these numbers".
const htmlCompleteGroup = "How complete are these numbers"

func htmlDep(it kpi.Item) *kpi.DeploymentItem {
	d, _ := it.(*kpi.DeploymentItem)
	if d == nil {
		return &kpi.DeploymentItem{}
	}
	return d
}

func htmlChg(it kpi.Item) *kpi.ChangeItem {
	c, _ := it.(*kpi.ChangeItem)
	if c == nil {
		return &kpi.ChangeItem{}
	}
	return c
}

func htmlInc(it kpi.Item) *kpi.IncidentItem {
	x, _ := it.(*kpi.IncidentItem)
	if x == nil {
		return &kpi.IncidentItem{}
	}
	return x
}

func htmlTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04") }

func htmlTimeP(t *time.Time) string {
	if t == nil {
		return htmlDash
	}
	return htmlTime(*t)
}

func htmlSecs(v *float64) string {
	if v == nil {
		return htmlDash
	}
	return FormatDuration(*v)
}

// htmlTitleMax keeps a PR's title to a line.
const htmlTitleMax = 60

func htmlChangeTitle(c *kpi.ChangeItem) string {
	if c.Title == nil {
		return ""
	}
	t := *c.Title
	if utf8.RuneCountInString(t) > htmlTitleMax {
		r := []rune(t)
		t = strings.TrimSpace(string(r[:htmlTitleMax-1])) + "…"
	}
	return t
}

func htmlFailedBy(d *kpi.DeploymentItem) string {
	var parts []string
	for _, f := range d.FailedBy {
		if f.Rollback != "" {
			parts = append(parts, "rolled back by "+f.Rollback)
			continue
		}
		parts = append(parts, "incident "+f.Incident+" by "+strings.ReplaceAll(f.Rule, "_", "-"))
	}
	return strings.Join(parts, "; ")
}

// htmlRework says why a deployment is rework.
func htmlRework(d *kpi.DeploymentItem) string {
	var parts []string
	for _, r := range d.Rework {
		switch r {
		case "rollback":
			if d.RollbackOf != nil {
				parts = append(parts, "rolls back "+*d.RollbackOf)
			} else {
				parts = append(parts, "a rollback")
			}
		case "ships_fix":
			parts = append(parts, "ships a fix")
		case "incident_open":
			parts = append(parts, "during an open incident")
		default:
			parts = append(parts, r)
		}
	}
	return strings.Join(parts, "; ")
}

func htmlYes(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// htmlDeployedBy names the deployment that shipped a PR, marked when it was
// found by time (the first deployment after the merge) rather than in a
// deployment's commit list.
func htmlDeployedBy(c *kpi.ChangeItem) string {
	if c.DeployedBy == nil {
		return htmlDash
	}
	if c.MappedBy != nil && *c.MappedBy != "commit_list" {
		return *c.DeployedBy + " (" + strings.ReplaceAll(*c.MappedBy, "_", " ") + ")"
	}
	return *c.DeployedBy
}

func htmlAttribution(x *kpi.IncidentItem) string {
	if x.AttributedTo != nil {
		by := ""
		if x.AttributedBy != nil {
			by = " by " + strings.ReplaceAll(*x.AttributedBy, "_", "-")
		}
		return *x.AttributedTo + by
	}
	if x.Reason != nil {
		return "none (" + *x.Reason + ")"
	}
	return "none"
}

func htmlPlural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// htmlCounted counts the items that enter the value and those left out.
func htmlCounted(items []kpi.Item) (counted, out int) {
	for _, it := range items {
		if htmlCountedItem(it) {
			counted++
		} else {
			out++
		}
	}
	return counted, out
}

func htmlCountedItem(it kpi.Item) bool { return it.Head().Counted }

func htmlLeftOut(it kpi.Item) string {
	p := it.Head().LeftOut
	if p == nil {
		return "left out"
	}
	return "left out: " + *p
}

func htmlLeftOutSuffix(out int, what string) string {
	if out == 0 {
		return ""
	}
	return fmt.Sprintf("; %s left out", htmlPlural(out, what, what+"s"))
}

var (
	htmlColFinished = htmlCol{Name: "Finished", cell: func(it kpi.Item) string { return htmlTime(htmlDep(it).FinishedAt) }}
	htmlColDeploy   = htmlCol{Name: "Deployment", Class: "id", cell: func(it kpi.Item) string { return htmlDep(it).ID }}
	htmlColChange   = htmlCol{Name: "Pull request", Class: "id", cell: func(it kpi.Item) string { return htmlChg(it).ID }}
	htmlColTitle    = htmlCol{Name: "Title", Class: "w", cell: func(it kpi.Item) string { return htmlChangeTitle(htmlChg(it)) }}
	htmlColIncident = htmlCol{Name: "Incident", Class: "id", cell: func(it kpi.Item) string { return htmlInc(it).ID }}
)

// htmlIncidentCols are the columns of an incident list.
var htmlIncidentCols = []htmlCol{
	{Name: "Triggered", cell: func(it kpi.Item) string { return htmlTime(htmlInc(it).TriggeredAt) }},
	htmlColIncident,
	{Name: "Urgency", cell: func(it kpi.Item) string { return htmlInc(it).Urgency }},
	{Name: "Attributed to", Class: "w", cell: func(it kpi.Item) string { return htmlAttribution(htmlInc(it)) }},
	{Name: "Detect", Class: "num", cell: func(it kpi.Item) string { return htmlSecs(htmlInc(it).TimeToDetectSeconds) }},
	{Name: "Acknowledge", Class: "num", cell: func(it kpi.Item) string { return htmlSecs(htmlInc(it).TimeToAcknowledgeSeconds) }},
	{Name: "Resolve", Class: "num", cell: func(it kpi.Item) string {
		x := htmlInc(it)
		if x.ResolvedAt == nil {
			return "open"
		}
		return htmlSecs(x.TimeToResolveSeconds)
	}},
	{Name: "Restore", Class: "num", cell: func(it kpi.Item) string { return htmlSecs(htmlInc(it).TimeToRestoreSeconds) }}}

// htmlChangeCols are the columns of a list of merged pull requests.
var htmlChangeCols = []htmlCol{
	{Name: "Merged", cell: func(it kpi.Item) string { return htmlTime(htmlChg(it).MergedAt) }},
	htmlColChange, htmlColTitle,
	{Name: "Deployed by", Class: "id w", cell: func(it kpi.Item) string { return htmlDeployedBy(htmlChg(it)) }}}

// htmlLeftOutOf is "n of m": the items left out of m.
func htmlLeftOutOf(items []kpi.Item) string {
	n, out := htmlCounted(items)
	return fmt.Sprintf("%d of %d", out, n+out)
}

// htmlLeftOutFirst puts the items left out of a number first.
func htmlLeftOutFirst(it kpi.Item) bool { return !htmlCountedItem(it) }

// htmlQualityList is the list of a data-quality count: every event it counts.
func htmlQualityList(key, label, short, what, whats string, cols []htmlCol) htmlListKPI {
	return htmlListKPI{key: key, label: label, short: short, cols: cols, allHistory: true,
		value: func(items []kpi.Item) string { return strconv.Itoa(len(items)) },
		header: func(_ *kpi.Explanation, items []kpi.Item) string {
			return htmlPlural(len(items), what, whats) + " in all stored history"
		}}
}

// htmlListKPIs are the KPIs the page links, by key.
var htmlListKPIs = map[string]htmlListKPI{
	"incidents.time_to_detect_seconds": {
		key: "incidents.time_to_detect_seconds", label: "Incidents without a detect time", short: "ttd",
		first: htmlLeftOutFirst, firstName: "those without one", value: htmlLeftOutOf,
		cols: htmlIncidentCols,
		header: func(_ *kpi.Explanation, items []kpi.Item) string {
			n, out := htmlCounted(items)
			return fmt.Sprintf("%d of %s have a detect time (the impact start is known)", n, htmlPlural(n+out, "incident", "incidents"))
		},
	},
	"incidents.time_to_restore_seconds": {
		key: "incidents.time_to_restore_seconds", label: "Incidents without a restore time", short: "ttrestore",
		first: htmlLeftOutFirst, firstName: "those without one", value: htmlLeftOutOf,
		cols: htmlIncidentCols,
		header: func(_ *kpi.Explanation, items []kpi.Item) string {
			n, out := htmlCounted(items)
			return fmt.Sprintf("%d of %s have a restore time", n, htmlPlural(n+out, "incident", "incidents"))
		},
	},
	"lead_time_stage_seconds.pickup": {
		key: "lead_time_stage_seconds.pickup", label: "Deployed pull requests without a review by someone else", short: "pickup",
		first: htmlLeftOutFirst, firstName: "those without one", value: htmlLeftOutOf,
		cols: []htmlCol{
			{Name: "Deployed", cell: func(it kpi.Item) string { return htmlTimeP(htmlChg(it).DeployedAt) }},
			htmlColChange, htmlColTitle,
			{Name: "First review", cell: func(it kpi.Item) string { return htmlTimeP(htmlChg(it).FirstReviewAt) }}},
		header: func(_ *kpi.Explanation, items []kpi.Item) string {
			n, out := htmlCounted(items)
			return fmt.Sprintf("%d of %s were reviewed by someone other than the author", n, htmlPlural(n+out, "deployed pull request", "deployed pull requests"))
		},
	},
	"unattributed_incidents": htmlQualityList("unattributed_incidents", "Incidents attributed to no deployment", "unattributed",
		"incident", "incidents", htmlIncidentCols),
	"impact_start_unparsed": htmlQualityList("impact_start_unparsed", "Incidents whose impact start did not parse", "unparsed",
		"incident", "incidents", htmlIncidentCols),
	"undeployed_changes": htmlQualityList("undeployed_changes", "Merged pull requests no deployment shipped", "undeployed",
		"pull request", "pull requests", htmlChangeCols),
	"time_fallback_changes": htmlQualityList("time_fallback_changes", "Pull requests matched to a deployment by time", "fallback",
		"pull request", "pull requests", htmlChangeCols),
	"deployment_frequency_per_day": {
		key: "deployment_frequency_per_day", label: "Deployment frequency", short: "freq",
		cols: []htmlCol{htmlColFinished, htmlColDeploy,
			{Name: "Environment", cell: func(it kpi.Item) string { return htmlDep(it).Environment }},
			{Name: "PRs shipped", Class: "num", cell: func(it kpi.Item) string { return strconv.Itoa(htmlDep(it).ShippedChanges) }}},
		header: func(e *kpi.Explanation, items []kpi.Item) string {
			days := 0.0
			if e.WindowStart != nil && e.WindowEnd != nil {
				days = e.WindowEnd.Sub(*e.WindowStart).Hours() / 24
			}
			return fmt.Sprintf("%s in %s days", htmlPlural(len(items), "deployment", "deployments"), htmlTrimFloat(days))
		},
	},
	"change_failure_ratio": {
		key: "change_failure_ratio", label: "Change failure rate", short: "cfr",
		first: func(it kpi.Item) bool { return htmlDep(it).Failed }, firstName: "failed deployments",
		cols: []htmlCol{htmlColFinished, htmlColDeploy,
			{Name: "Failed", cell: func(it kpi.Item) string { return htmlYes(htmlDep(it).Failed) }},
			{Name: "Failed by", Class: "w", cell: func(it kpi.Item) string { return htmlFailedBy(htmlDep(it)) }}},
		header: func(_ *kpi.Explanation, items []kpi.Item) string {
			failed := 0
			for _, it := range items {
				if htmlDep(it).Failed {
					failed++
				}
			}
			return fmt.Sprintf("%d failed of %s", failed, htmlPlural(len(items), "deployment", "deployments"))
		},
	},
	"failed_deployment_recovery_seconds": {
		key: "failed_deployment_recovery_seconds", label: "Failed deployment recovery", short: "recovery",
		first: func(it kpi.Item) bool { return !htmlDep(it).Counted }, firstName: "those left out",
		cols: []htmlCol{htmlColFinished, htmlColDeploy,
			{Name: "Failed by", Class: "w", cell: func(it kpi.Item) string { return htmlFailedBy(htmlDep(it)) }},
			{Name: "Recovery", Class: "num", cell: func(it kpi.Item) string { return htmlSecs(htmlDep(it).RecoverySeconds) }}},
		header: func(_ *kpi.Explanation, items []kpi.Item) string {
			n, out := htmlCounted(items)
			return fmt.Sprintf("the median recovery time of %s%s",
				htmlPlural(n, "failed deployment", "failed deployments"), htmlLeftOutSuffix(out, "failed deployment"))
		},
	},
	"rework_ratio": {
		key: "rework_ratio", label: "Rework rate", short: "rework",
		first: func(it kpi.Item) bool { return len(htmlDep(it).Rework) > 0 }, firstName: "rework deployments",
		cols: []htmlCol{htmlColFinished, htmlColDeploy,
			{Name: "Rework", cell: func(it kpi.Item) string { return htmlYes(len(htmlDep(it).Rework) > 0) }},
			{Name: "Why", Class: "w", cell: func(it kpi.Item) string { return htmlRework(htmlDep(it)) }}},
		header: func(_ *kpi.Explanation, items []kpi.Item) string {
			rework := 0
			for _, it := range items {
				if len(htmlDep(it).Rework) > 0 {
					rework++
				}
			}
			return fmt.Sprintf("%d rework of %s", rework, htmlPlural(len(items), "deployment", "deployments"))
		},
	},
	"lead_time_seconds": {
		key: "lead_time_seconds", label: "Lead time for changes", short: "lead",
		first: func(it kpi.Item) bool { return !htmlChg(it).Counted }, firstName: "those left out",
		cols: []htmlCol{
			{Name: "Deployed", cell: func(it kpi.Item) string { return htmlTimeP(htmlChg(it).DeployedAt) }},
			htmlColChange, htmlColTitle,
			{Name: "Lead time", Class: "num", cell: func(it kpi.Item) string { return htmlSecs(htmlChg(it).LeadTimeSeconds) }},
			{Name: "Deployed by", Class: "id w", cell: func(it kpi.Item) string { return htmlDeployedBy(htmlChg(it)) }}},
		header: func(_ *kpi.Explanation, items []kpi.Item) string {
			n, out := htmlCounted(items)
			return fmt.Sprintf("the median lead time of %s%s",
				htmlPlural(n, "deployed pull request", "deployed pull requests"), htmlLeftOutSuffix(out, "pull request"))
		},
	},
	"tune_up_share": {
		key: "tune_up_share", label: "Tune-up share", short: "tuneup",
		first: func(it kpi.Item) bool { return htmlChg(it).Class == "tune_up" }, firstName: "tune-ups",
		cols: []htmlCol{
			{Name: "Merged", cell: func(it kpi.Item) string { return htmlTime(htmlChg(it).MergedAt) }},
			htmlColChange, htmlColTitle,
			{Name: "Class", cell: func(it kpi.Item) string { return strings.ReplaceAll(htmlChg(it).Class, "_", "-") }},
			{Name: "By rule", cell: func(it kpi.Item) string { return htmlChg(it).ClassRule }}},
		header: func(_ *kpi.Explanation, items []kpi.Item) string {
			tune := 0
			for _, it := range items {
				if htmlChg(it).Class == "tune_up" {
					tune++
				}
			}
			return fmt.Sprintf("%d tune-up of %s merged (innovation, tune-up or fix)", tune, htmlPlural(len(items), "classified pull request", "classified pull requests"))
		},
	},
	"incidents.count": {
		key: "incidents.count", label: "Incidents", short: "incidents",
		first: func(it kpi.Item) bool { return htmlInc(it).ResolvedAt == nil }, firstName: "open incidents",
		cols: htmlIncidentCols,
		header: func(_ *kpi.Explanation, items []kpi.Item) string {
			open := 0
			for _, it := range items {
				if htmlInc(it).ResolvedAt == nil {
					open++
				}
			}
			return fmt.Sprintf("%s triggered, %d still open", htmlPlural(len(items), "incident", "incidents"), open)
		},
	},
}

// htmlLists collects the lists of one page and hands out their links.
type htmlLists struct {
	x      Explainer
	at     time.Time
	window string
	// capAll and capService are the most rows of a list of all services and
	// of one service.
	capAll, capService int
	ids                map[string]bool
	groups             []htmlListGroup
}

var htmlSlugRe = regexp.MustCompile(`[^a-z0-9]+`)

// anchor returns a unique anchor for a KPI of a group.
func (l *htmlLists) anchor(short, service string) string {
	base := "x-all-" + short
	if service != "" {
		slug := strings.Trim(htmlSlugRe.ReplaceAllString(strings.ToLower(service), "-"), "-")
		base = "x-svc-" + slug + "-" + short
	}
	id := base
	for n := 2; l.ids[id]; n++ {
		id = fmt.Sprintf("%s-%d", base, n)
	}
	l.ids[id] = true
	return id
}

// link lists the events behind key for service ("" all services) and returns
// the number's link; nil when the page has no explainer, or when the number is
// absent and no event lies behind it.
func (l *htmlLists) link(key, service, value string) (*htmlLink, error) {
	link, _, err := l.linkE(key, service, value)
	return link, err
}

// linkE is link that also returns the explanation; nil without an explainer.
func (l *htmlLists) linkE(key, service, value string) (*htmlLink, *kpi.Explanation, error) {
	if l == nil || l.x == nil {
		return nil, nil, nil
	}
	spec := htmlListKPIs[key]
	e, err := l.x.Explain(kpi.ExplainQuery{KPI: key, Window: l.window, Service: service})
	if err != nil {
		group := "all services"
		if service != "" {
			group = "service " + service
		}
		return nil, nil, fmt.Errorf("report: list the events behind %s of %s in %s: %w", key, group, l.window, err)
	}
	if value == htmlDash && len(e.Items) == 0 {
		return nil, e, nil
	}
	group := "All services"
	if service != "" {
		group = service
	}
	if spec.value != nil {
		group = htmlCompleteGroup
		if value == "" {
			value = spec.value(e.Items)
		}
	}
	empty := "No events in the window."
	if spec.allHistory {
		empty = "None in all stored history."
	}
	list := htmlList{
		ID:      l.anchor(spec.short, service),
		Title:   spec.label,
		Value:   value,
		Header:  spec.header(e, e.Items),
		Command: htmlExplainCommand(key, l.window, service, l.at, spec.allHistory),
		Cols:    spec.cols,
		Empty:   empty,
	}
	items := e.Items
	if spec.first != nil {
		// the telling rows first, each part in the explanation's order
		items = make([]kpi.Item, 0, len(e.Items))
		for _, it := range e.Items {
			if spec.first(it) {
				items = append(items, it)
			}
		}
		for _, it := range e.Items {
			if !spec.first(it) {
				items = append(items, it)
			}
		}
	}
	limit := l.capAll
	if service != "" {
		limit = l.capService
	}
	if len(items) > limit {
		order := "in time order"
		if spec.first != nil {
			order = spec.firstName + " first, then in time order"
		}
		list.Note = fmt.Sprintf("Showing %d of %d (%s); the command below lists all.", limit, len(items), order)
		items = items[:limit]
	}
	outs := slices.ContainsFunc(items, func(it kpi.Item) bool { return !htmlCountedItem(it) })
	if service == "" {
		list.Cols = slices.Insert(slices.Clone(list.Cols), 2, htmlCol{Name: "Service", cell: htmlItemService})
	}
	if outs {
		list.Cols = append(slices.Clone(list.Cols), htmlCol{Name: "Counted", Class: "w", cell: func(it kpi.Item) string {
			if htmlCountedItem(it) {
				return "yes"
			}
			return htmlLeftOut(it)
		}})
	}
	list.Rows = make([]htmlEventRow, len(items))
	for i, it := range items {
		row := htmlEventRow{Out: !htmlCountedItem(it), Cells: make([]htmlEventCell, len(list.Cols))}
		for j, c := range list.Cols {
			row.Cells[j] = htmlEventCell{Text: c.cell(it), Class: c.Class}
		}
		list.Rows[i] = row
	}
	if n := len(l.groups); n == 0 || l.groups[n-1].Name != group {
		l.groups = append(l.groups, htmlListGroup{Name: group})
	}
	g := &l.groups[len(l.groups)-1]
	g.Lists = append(g.Lists, list)
	title := fmt.Sprintf("%s of %s: the events behind it", spec.label, group)
	return &htmlLink{Href: "#" + list.ID, Title: title}, e, nil
}

func htmlItemService(it kpi.Item) string { return it.Head().Service }

var htmlShellSafe = regexp.MustCompile(`^[A-Za-z0-9._/:@%+=,-]+$`)

// htmlShellWord quotes s for a POSIX shell when it needs it.
func htmlShellWord(s string) string {
	if htmlShellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// htmlExplainCommand is the command that prints a list whole.
func htmlExplainCommand(key, window, service string, at time.Time, allHistory bool) string {
	cmd := "flywheel explain " + key
	if !allHistory {
		cmd += " --window " + htmlShellWord(window)
	}
	if service != "" {
		cmd += " --service " + htmlShellWord(service)
	}
	return cmd + " --at " + at.UTC().Format(time.RFC3339Nano)
}

// htmlNumber renders a number of the page, as a link to its list when it has one.
func htmlNumber(text string, l *htmlLink) template.HTML {
	esc := template.HTMLEscapeString
	if l == nil {
		return template.HTML(esc(text))
	}
	return template.HTML(`<a class="n" href="` + esc(l.Href) + `" title="` + esc(l.Title) + `">` + esc(text) + `</a>`)
}
