package report

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/flywheel-metrics/flywheel/metrics/kpi"
)

// explainColumn is one column of an explanation's items of one kind: its
// header, its cell for people (table; nil: CSV only) and for scripts (CSV, ""
// when null). On a narrow terminal a column with min > 0 is shortened down to
// min characters, and columns with drop > 0 are left out, the highest first.
type explainColumn[T any] struct {
	header, csv string
	min, drop   int
	table       func(T) string
	value       func(T) string
}

func ts(t time.Time) string { return t.UTC().Format("2006-01-02 15:04") }

func tsp(t *time.Time) string {
	if t == nil {
		return Absent
	}
	return ts(*t)
}

func rfc(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func secs(v *float64) string {
	if v == nil {
		return Absent
	}
	return FormatDuration(*v)
}

func num(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'f', -1, 64)
}

func opt(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func dash(s *string) string {
	if s == nil {
		return Absent
	}
	return *s
}

func counted(ok bool, leftOut *string) string {
	if ok {
		return "yes"
	}
	return "no: " + opt(leftOut)
}

func failedBy(fs []kpi.FailedBy) string {
	var parts []string
	for _, f := range fs {
		if f.Rollback != "" {
			parts = append(parts, "rollback "+f.Rollback)
		} else {
			parts = append(parts, f.Incident+" ("+f.Rule+")")
		}
	}
	return strings.Join(parts, "; ")
}

func shortSHA(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

var deploymentColumns = []explainColumn[*kpi.DeploymentItem]{
	{"DEPLOYMENT", "id", 12, 0, func(d *kpi.DeploymentItem) string { return d.ID }, func(d *kpi.DeploymentItem) string { return d.ID }},
	{"SERVICE", "service", 10, 0, func(d *kpi.DeploymentItem) string { return d.Service }, func(d *kpi.DeploymentItem) string { return d.Service }},
	{"REPO", "repo", 12, 5, func(d *kpi.DeploymentItem) string { return dash(d.Repo) }, func(d *kpi.DeploymentItem) string { return opt(d.Repo) }},
	{"ENV", "environment", 10, 4, func(d *kpi.DeploymentItem) string { return d.Environment }, func(d *kpi.DeploymentItem) string { return d.Environment }},
	{"SHA", "sha", 0, 6, func(d *kpi.DeploymentItem) string { return shortSHA(d.SHA) }, func(d *kpi.DeploymentItem) string { return d.SHA }},
	{"STATUS", "status", 0, 0, func(d *kpi.DeploymentItem) string {
		if d.Status == "success" {
			return Absent // the usual: nothing to say
		}
		return d.Status
	}, func(d *kpi.DeploymentItem) string { return d.Status }},
	{"FINISHED", "finished_at", 0, 0, func(d *kpi.DeploymentItem) string { return ts(d.FinishedAt) }, func(d *kpi.DeploymentItem) string { return rfc(&d.FinishedAt) }},
	{"FAILED", "failed", 0, 3, func(d *kpi.DeploymentItem) string { return yesNo(d.Failed) }, func(d *kpi.DeploymentItem) string { return strconv.FormatBool(d.Failed) }},
	{"FAILED BY", "failed_by", 14, 0, func(d *kpi.DeploymentItem) string { return orDash(failedBy(d.FailedBy)) }, func(d *kpi.DeploymentItem) string { return failedBy(d.FailedBy) }},
	{"RECOVERY", "recovery_seconds", 0, 0, func(d *kpi.DeploymentItem) string { return secs(d.RecoverySeconds) }, func(d *kpi.DeploymentItem) string { return num(d.RecoverySeconds) }},
	{"REWORK", "rework", 12, 0, func(d *kpi.DeploymentItem) string { return orDash(strings.Join(d.Rework, ", ")) }, func(d *kpi.DeploymentItem) string { return strings.Join(d.Rework, ";") }},
	{"ROLLBACK OF", "rollback_of", 12, 2, func(d *kpi.DeploymentItem) string { return dash(d.RollbackOf) }, func(d *kpi.DeploymentItem) string { return opt(d.RollbackOf) }},
	{"PRS", "shipped_changes", 0, 1, func(d *kpi.DeploymentItem) string { return strconv.Itoa(d.ShippedChanges) }, func(d *kpi.DeploymentItem) string { return strconv.Itoa(d.ShippedChanges) }},
	{"COUNTED", "counted", 12, 0, func(d *kpi.DeploymentItem) string { return counted(d.Counted, d.LeftOut) }, func(d *kpi.DeploymentItem) string { return strconv.FormatBool(d.Counted) }},
	{"", "left_out", 0, 0, nil, func(d *kpi.DeploymentItem) string { return opt(d.LeftOut) }},
}

var changeColumns = []explainColumn[*kpi.ChangeItem]{
	{"PR", "id", 14, 0, func(c *kpi.ChangeItem) string { return c.ID }, func(c *kpi.ChangeItem) string { return c.ID }},
	{"SERVICE", "service", 10, 0, func(c *kpi.ChangeItem) string { return c.Service }, func(c *kpi.ChangeItem) string { return c.Service }},
	{"", "repo", 0, 0, nil, func(c *kpi.ChangeItem) string { return opt(c.Repo) }},
	{"CLASS", "class", 12, 0, func(c *kpi.ChangeItem) string { return c.Class + " (" + c.ClassRule + ")" }, func(c *kpi.ChangeItem) string { return c.Class }},
	{"", "class_rule", 0, 0, nil, func(c *kpi.ChangeItem) string { return c.ClassRule }},
	{"", "first_commit_at", 0, 0, nil, func(c *kpi.ChangeItem) string { return rfc(c.FirstCommitAt) }},
	{"", "opened_at", 0, 0, nil, func(c *kpi.ChangeItem) string { return rfc(c.OpenedAt) }},
	{"", "first_review_at", 0, 0, nil, func(c *kpi.ChangeItem) string { return rfc(c.FirstReviewAt) }},
	{"MERGED", "merged_at", 0, 0, func(c *kpi.ChangeItem) string { return ts(c.MergedAt) }, func(c *kpi.ChangeItem) string { return rfc(&c.MergedAt) }},
	{"DEPLOYED BY", "deployed_by", 12, 0, func(c *kpi.ChangeItem) string { return dash(c.DeployedBy) }, func(c *kpi.ChangeItem) string { return opt(c.DeployedBy) }},
	{"DEPLOYED", "deployed_at", 0, 4, func(c *kpi.ChangeItem) string { return tsp(c.DeployedAt) }, func(c *kpi.ChangeItem) string { return rfc(c.DeployedAt) }},
	{"MAPPED BY", "mapped_by", 0, 3, func(c *kpi.ChangeItem) string { return dash(c.MappedBy) }, func(c *kpi.ChangeItem) string { return opt(c.MappedBy) }},
	{"LEAD", "lead_time_seconds", 0, 0, func(c *kpi.ChangeItem) string { return secs(c.LeadTimeSeconds) }, func(c *kpi.ChangeItem) string { return num(c.LeadTimeSeconds) }},
	{"CODING", "stages.coding", 0, 2, func(c *kpi.ChangeItem) string { return secs(c.Stages.Coding) }, func(c *kpi.ChangeItem) string { return num(c.Stages.Coding) }},
	{"PICKUP", "stages.pickup", 0, 2, func(c *kpi.ChangeItem) string { return secs(c.Stages.Pickup) }, func(c *kpi.ChangeItem) string { return num(c.Stages.Pickup) }},
	{"REVIEW", "stages.review", 0, 2, func(c *kpi.ChangeItem) string { return secs(c.Stages.Review) }, func(c *kpi.ChangeItem) string { return num(c.Stages.Review) }},
	{"DEPLOY", "stages.deploy", 0, 2, func(c *kpi.ChangeItem) string { return secs(c.Stages.Deploy) }, func(c *kpi.ChangeItem) string { return num(c.Stages.Deploy) }},
	{"COUNTED", "counted", 12, 0, func(c *kpi.ChangeItem) string { return counted(c.Counted, c.LeftOut) }, func(c *kpi.ChangeItem) string { return strconv.FormatBool(c.Counted) }},
	{"", "left_out", 0, 0, nil, func(c *kpi.ChangeItem) string { return opt(c.LeftOut) }},
	{"TITLE", "title", 10, 5, func(c *kpi.ChangeItem) string { return dash(c.Title) }, func(c *kpi.ChangeItem) string { return opt(c.Title) }},
}

var incidentColumns = []explainColumn[*kpi.IncidentItem]{
	{"INCIDENT", "id", 12, 0, func(x *kpi.IncidentItem) string { return x.ID }, func(x *kpi.IncidentItem) string { return x.ID }},
	{"SERVICE", "service", 10, 0, func(x *kpi.IncidentItem) string { return x.Service }, func(x *kpi.IncidentItem) string { return x.Service }},
	{"URGENCY", "urgency", 0, 1, func(x *kpi.IncidentItem) string { return x.Urgency }, func(x *kpi.IncidentItem) string { return x.Urgency }},
	{"TRIGGERED", "triggered_at", 0, 0, func(x *kpi.IncidentItem) string { return ts(x.TriggeredAt) }, func(x *kpi.IncidentItem) string { return rfc(&x.TriggeredAt) }},
	{"", "acknowledged_at", 0, 0, nil, func(x *kpi.IncidentItem) string { return rfc(x.AcknowledgedAt) }},
	{"RESOLVED", "resolved_at", 0, 3, func(x *kpi.IncidentItem) string {
		if x.ResolvedAt == nil {
			return "open"
		}
		return ts(*x.ResolvedAt)
	}, func(x *kpi.IncidentItem) string { return rfc(x.ResolvedAt) }},
	{"STARTED", "started_at", 16, 4, func(x *kpi.IncidentItem) string {
		if x.StartedAt == nil {
			return Absent
		}
		return ts(*x.StartedAt) + " (" + opt(x.StartedFrom) + ")"
	}, func(x *kpi.IncidentItem) string { return rfc(x.StartedAt) }},
	{"", "started_from", 0, 0, nil, func(x *kpi.IncidentItem) string { return opt(x.StartedFrom) }},
	{"UNPARSED START", "impact_start_unparsed", 14, 0, func(x *kpi.IncidentItem) string { return dash(x.ImpactStartUnparsed) }, func(x *kpi.IncidentItem) string { return opt(x.ImpactStartUnparsed) }},
	{"CAUSED BY", "caused_by", 12, 2, func(x *kpi.IncidentItem) string { return dash(x.CausedBy) }, func(x *kpi.IncidentItem) string { return opt(x.CausedBy) }},
	{"ATTRIBUTED TO", "attributed_to", 14, 0, func(x *kpi.IncidentItem) string {
		if x.AttributedTo == nil {
			return "none: " + opt(x.Reason)
		}
		return *x.AttributedTo + " (" + opt(x.AttributedBy) + ")"
	}, func(x *kpi.IncidentItem) string { return opt(x.AttributedTo) }},
	{"", "attributed_by", 0, 0, nil, func(x *kpi.IncidentItem) string { return opt(x.AttributedBy) }},
	{"", "reason", 0, 0, nil, func(x *kpi.IncidentItem) string { return opt(x.Reason) }},
	{"DETECT", "time_to_detect_seconds", 0, 1, func(x *kpi.IncidentItem) string { return secs(x.TimeToDetectSeconds) }, func(x *kpi.IncidentItem) string { return num(x.TimeToDetectSeconds) }},
	{"ACK", "time_to_acknowledge_seconds", 0, 1, func(x *kpi.IncidentItem) string { return secs(x.TimeToAcknowledgeSeconds) }, func(x *kpi.IncidentItem) string { return num(x.TimeToAcknowledgeSeconds) }},
	{"RESOLVE", "time_to_resolve_seconds", 0, 1, func(x *kpi.IncidentItem) string { return secs(x.TimeToResolveSeconds) }, func(x *kpi.IncidentItem) string { return num(x.TimeToResolveSeconds) }},
	{"RESTORE", "time_to_restore_seconds", 0, 1, func(x *kpi.IncidentItem) string { return secs(x.TimeToRestoreSeconds) }, func(x *kpi.IncidentItem) string { return num(x.TimeToRestoreSeconds) }},
	{"COUNTED", "counted", 12, 0, func(x *kpi.IncidentItem) string { return counted(x.Counted, x.LeftOut) }, func(x *kpi.IncidentItem) string { return strconv.FormatBool(x.Counted) }},
	{"", "left_out", 0, 0, nil, func(x *kpi.IncidentItem) string { return opt(x.LeftOut) }},
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func orDash(s string) string {
	if s == "" {
		return Absent
	}
	return s
}

// itemsOf returns the items of one kind.
func itemsOf[T kpi.Item](items []kpi.Item) []T {
	var out []T
	for _, it := range items {
		if t, ok := it.(T); ok {
			out = append(out, t)
		}
	}
	return out
}

// fitTable is a table whose columns give way on a narrow terminal (see
// explainColumn's min and drop).
type fitTable struct {
	table
	min, drop []int
	decisive  []bool // shortened only when nothing else is left to give way
}

// explainTable is the table of the items of one kind: a column is shown only
// when some row has something to say in it, and the columns of decisive are
// never left out.
func explainTable[T any](title string, cols []explainColumn[T], items []T, decisive map[string]bool) fitTable {
	t := fitTable{table: table{title: title}}
	var keep []explainColumn[T]
	for _, c := range cols {
		if c.table == nil {
			continue
		}
		for _, it := range items {
			if c.table(it) != Absent || c.header == "COUNTED" {
				keep = append(keep, c)
				break
			}
		}
	}
	for _, c := range keep {
		t.header = append(t.header, c.header)
		t.min = append(t.min, c.min)
		if decisive[c.header] {
			c.drop = 0
		}
		t.drop = append(t.drop, c.drop)
		t.decisive = append(t.decisive, decisive[c.header])
	}
	for _, it := range items {
		row := make([]string, len(keep))
		for i, c := range keep {
			row[i] = c.table(it)
		}
		t.rows = append(t.rows, row)
	}
	return t
}

// describeValue renders an explanation's value for people.
func describeValue(e *kpi.Explanation) string {
	key := e.KPI
	switch v := e.Value.(type) {
	case nil:
		return Absent + " (no value)"
	case kpi.Quantiles:
		return fmt.Sprintf("p50 %s, p90 %s, count %d", FormatDuration(v.P50), FormatDuration(v.P90), v.Count)
	case float64:
		switch {
		case strings.HasSuffix(key, "_seconds.p50"), strings.HasSuffix(key, "_seconds.p90"),
			strings.HasPrefix(key, "lead_time_stage_seconds.") && !strings.HasSuffix(key, ".count"):
			return FormatDuration(v)
		case strings.HasSuffix(key, "_per_day"):
			return fmt.Sprintf("%s (%s)", strconv.FormatFloat(v, 'g', 6, 64), FormatRate(v))
		}
		return fmt.Sprintf("%s (%s)", strconv.FormatFloat(v, 'g', 6, 64), FormatRatio(v))
	}
	return fmt.Sprint(e.Value)
}

// WriteExplainTable writes an explanation for a terminal: what it explains,
// its value, then one row per item with the facts that decided it, a table per
// kind of event, no wider than width when the cells can be shortened.
func WriteExplainTable(w io.Writer, e *kpi.Explanation, width int) error {
	var b strings.Builder
	group := "all services"
	if e.Service != nil {
		group = "service " + *e.Service
	}
	span := "all history"
	if e.Window != nil {
		span = fmt.Sprintf("window %s [%s, %s)", *e.Window, ts(*e.WindowStart), ts(*e.WindowEnd))
	}
	b.WriteString(wrap(fmt.Sprintf("%s, %s, %s, as of %s", e.KPI, group, span, e.At.UTC().Format(time.RFC3339)), width))
	b.WriteString(wrap("value: "+describeValue(e), width))
	if th := e.Thresholds; th != nil {
		b.WriteString(wrap(fmt.Sprintf("level of %s: elite %s %s, high %s %s, medium %s %s, else low", th.Of,
			th.Compare, strconv.FormatFloat(th.Elite, 'g', 6, 64), th.Compare, strconv.FormatFloat(th.High, 'g', 6, 64),
			th.Compare, strconv.FormatFloat(th.Medium, 'g', 6, 64)), width))
		if g := th.Group; g != nil {
			parts := make([]string, len(g.Services))
			for i, s := range g.Services {
				parts[i] = fmt.Sprintf("%s %s/day %s", s.Service, strconv.FormatFloat(s.Value, 'g', 4, 64), s.Level)
			}
			b.WriteString(wrap(fmt.Sprintf("the group's level is the best level that at least half of its %d services with a frequency reach, not the level of its summed frequency: %s",
				len(g.Services), strings.Join(parts, ", ")), width))
		}
	}
	left := 0
	for _, it := range e.Items {
		left += btoi(!it.Head().Counted)
	}
	fmt.Fprintf(&b, "%d items, %d left out\n", len(e.Items), left)
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	var tables []fitTable
	decisive := decisiveColumns(e.KPI)
	if ds := itemsOf[*kpi.DeploymentItem](e.Items); len(ds) > 0 {
		tables = append(tables, explainTable("Deployments", deploymentColumns, ds, decisive))
	}
	if cs := itemsOf[*kpi.ChangeItem](e.Items); len(cs) > 0 {
		tables = append(tables, explainTable("Merged PRs", changeColumns, cs, decisive))
	}
	if xs := itemsOf[*kpi.IncidentItem](e.Items); len(xs) > 0 {
		tables = append(tables, explainTable("Incidents", incidentColumns, xs, decisive))
	}
	for _, t := range tables {
		if _, err := io.WriteString(w, "\n"); err != nil {
			return err
		}
		if err := t.renderFitted(w, width); err != nil {
			return err
		}
	}
	return nil
}

// decisiveColumns are the table columns that decide a KPI's value, which a
// narrow terminal must not lose.
func decisiveColumns(key string) map[string]bool {
	cols := map[string]bool{}
	for part, headers := range map[string][]string{
		"coding": {"CODING"}, "pickup": {"PICKUP"}, "review": {"REVIEW"}, "stage_seconds.deploy": {"DEPLOY"},
		"time_to_detect": {"DETECT"}, "acknowledge": {"ACK"}, "time_to_resolve": {"RESOLVE"}, "time_to_restore": {"RESTORE"},
		"failed": {"FAILED", "FAILED BY"}, "failure": {"FAILED", "FAILED BY"}, "recovery": {"FAILED BY", "RECOVERY"},
		"by_urgency": {"URGENCY"}, "open": {"RESOLVED"}, "resolve": {"RESOLVED"}, "restore": {"RESOLVED", "STARTED"},
		"unattributed": {"CAUSED BY", "ATTRIBUTED TO"}, "detect": {"STARTED"}, "class": {"CLASS"}, "share": {"CLASS"}, "rework": {"REWORK", "ROLLBACK OF"}, "non_counting": {"ENV", "STATUS"},
		"undeployed": {"DEPLOYED BY"}, "fallback": {"MAPPED BY", "DEPLOYED"}, "empty": {"PRS"},
		"negative": {"DETECT", "ACK", "RESOLVE", "RESTORE"},
	} {
		if strings.Contains(key, part) {
			for _, h := range headers {
				cols[h] = true
			}
		}
	}
	return cols
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// renderFitted writes t left-aligned in at most maxWidth characters when it
// can: it leaves out droppable columns, the highest drop first, until the rest
// fits with its shortenable columns at their least, then shortens those, the
// widest first, only as much as needed.
func (t fitTable) renderFitted(w io.Writer, maxWidth int) error {
	const gap = 2
	n := len(t.header)
	widths, least := make([]int, n), make([]int, n)
	for _, row := range append([][]string{t.header}, t.rows...) {
		for i, c := range row {
			widths[i] = max(widths[i], width(c))
		}
	}
	shown := make([]bool, n)
	for i := range widths {
		least[i] = widths[i]
		if t.min[i] > 0 && !t.decisive[i] {
			least[i] = min(widths[i], max(t.min[i], width(t.header[i])))
		}
		shown[i] = true
	}
	sum := func(ws []int) int {
		total, cols := 0, 0
		for i, v := range ws {
			if shown[i] {
				total += v
				cols++
			}
		}
		return total + (cols-1)*gap
	}
	for maxWidth > 0 && sum(least) > maxWidth {
		next := -1
		for i := range t.drop {
			if shown[i] && t.drop[i] > 0 && (next < 0 || t.drop[i] > t.drop[next]) {
				next = i
			}
		}
		if next < 0 {
			break
		}
		shown[next] = false
	}
	for maxWidth > 0 && sum(widths) > maxWidth {
		widest := -1
		for i := range widths {
			if shown[i] && widths[i] > least[i] && (widest < 0 || widths[i] > widths[widest]) {
				widest = i
			}
		}
		if widest < 0 {
			break
		}
		widths[widest]--
	}
	// a terminal too narrow for the rest: shorten any column, the widest first
	for maxWidth > 0 && sum(widths) > maxWidth {
		widest := -1
		for i := range widths {
			if shown[i] && widths[i] > 4 && (widest < 0 || widths[i] > widths[widest]) {
				widest = i
			}
		}
		if widest < 0 {
			break
		}
		widths[widest]--
	}
	var b strings.Builder
	b.WriteString(wrap(t.title, maxWidth))
	for _, row := range append([][]string{t.header}, t.rows...) {
		var line strings.Builder
		for i, c := range row {
			if !shown[i] {
				continue
			}
			c = shorten(c, widths[i])
			line.WriteString(c + strings.Repeat(" ", widths[i]-width(c)+gap))
		}
		b.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteExplainCSV writes one row per item under a header of the fields of the
// kinds of items present ("kind" first); times are RFC3339, durations in
// seconds, lists joined by ";", and a null is an empty cell. Without items it
// writes the header of the fields every kind has.
func WriteExplainCSV(w io.Writer, e *kpi.Explanation) error {
	ds := itemsOf[*kpi.DeploymentItem](e.Items)
	cs := itemsOf[*kpi.ChangeItem](e.Items)
	xs := itemsOf[*kpi.IncidentItem](e.Items)
	// the header: each kind's fields in order, once
	var header []string
	seen := map[string]bool{}
	add := func(name string) {
		if !seen[name] {
			seen[name] = true
			header = append(header, name)
		}
	}
	add("kind")
	if len(ds) > 0 {
		for _, c := range deploymentColumns {
			add(c.csv)
		}
	}
	if len(cs) > 0 {
		for _, c := range changeColumns {
			add(c.csv)
		}
	}
	if len(xs) > 0 {
		for _, c := range incidentColumns {
			add(c.csv)
		}
	}
	if len(header) == 1 {
		header = append(header, "id", "service", "counted", "left_out")
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	for _, it := range e.Items {
		row := make([]string, len(header))
		switch it := it.(type) {
		case *kpi.DeploymentItem:
			row[0] = it.Kind
			for _, c := range deploymentColumns {
				row[col[c.csv]] = c.value(it)
			}
		case *kpi.ChangeItem:
			row[0] = it.Kind
			for _, c := range changeColumns {
				row[col[c.csv]] = c.value(it)
			}
		case *kpi.IncidentItem:
			row[0] = it.Kind
			for _, c := range incidentColumns {
				row[col[c.csv]] = c.value(it)
			}
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteExplainJSON writes an explanation as the JSON document a script reads:
// indented by two spaces, but each item compact on a line of its own, which
// keeps a list of many events short, greppable, and fast to write. It writes
// an item at a time, so that a long list is never held again as text.
func WriteExplainJSON(w io.Writer, e *kpi.Explanation) error {
	head := *e
	head.Items = []kpi.Item{}
	doc, err := json.MarshalIndent(&head, "", "  ")
	if err != nil {
		return err
	}
	const empty = `"items": []`
	k := bytes.LastIndex(doc, []byte(empty))
	if k < 0 || len(e.Items) == 0 {
		_, err := w.Write(append(doc, '\n'))
		return err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.Write(doc[:k])
	bw.WriteString(`"items": [`)
	for i, it := range e.Items {
		b, err := json.Marshal(it)
		if err != nil {
			return err
		}
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n    ")
		bw.Write(b)
	}
	bw.WriteString("\n  ]")
	bw.Write(doc[k+len(empty):])
	bw.WriteByte('\n')
	return bw.Flush()
}
