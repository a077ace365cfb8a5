// Package report renders a KPI report (the document `flywheel report --format
// json` prints) for people: a plain-text table for a terminal (`flywheel
// report`), Markdown for pull requests and wikis, and a self-contained HTML page. Values are shown in human units ("2h 5m",
// "3.4/day", "12.5%"); a value without data is shown as "-", never as 0.
package report

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/metrics/kpi"
)

// Absent is how a value without data is shown.
const Absent = "-"

// FormatDuration renders seconds in at most two units, rounded to the second:
// "45s", "12m 30s", "2h 5m", "3d 4h". Negative values keep their sign.
func FormatDuration(seconds float64) string {
	if math.IsNaN(seconds) || math.IsInf(seconds, 0) {
		return Absent
	}
	sign := ""
	if seconds < 0 {
		sign, seconds = "-", -seconds
	}
	s := int64(math.Round(seconds))
	units := []struct {
		n    int64
		name string
	}{{86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}}
	for i, u := range units {
		if s < u.n && u.n > 1 {
			continue
		}
		out := sign + strconv.FormatInt(s/u.n, 10) + u.name
		if i+1 < len(units) {
			if rest := (s % u.n) / units[i+1].n; rest > 0 {
				out += " " + strconv.FormatInt(rest, 10) + units[i+1].name
			}
		}
		return out
	}
	return sign + "0s"
}

// FormatRate renders a deployment frequency given per day: "3.4/day" from one
// a day up, else per week ("2.1/week"), else per 30-day month ("0.5/month");
// zero is "0/day".
func FormatRate(perDay float64) string {
	switch {
	case perDay == 0:
		return "0/day"
	case perDay >= 1:
		return trim(perDay) + "/day"
	case perDay*7 >= 1:
		return trim(perDay*7) + "/week"
	}
	return trim(perDay*30) + "/month"
}

// FormatRatio renders a ratio as a percentage with one decimal at most:
// "12.5%", "100%", "0%".
func FormatRatio(r float64) string { return trim(r*100) + "%" }

// trim formats v with one decimal and drops a trailing ".0".
func trim(v float64) string {
	return strings.TrimSuffix(strconv.FormatFloat(v, 'f', 1, 64), ".0")
}

func dur(q *kpi.Quantiles, p90 bool) string {
	if q == nil {
		return Absent
	}
	if p90 {
		return FormatDuration(q.P90)
	}
	return FormatDuration(q.P50)
}

func ratio(v *float64) string {
	if v == nil {
		return Absent
	}
	return FormatRatio(*v)
}

func count(v *int) string {
	if v == nil {
		return Absent
	}
	return strconv.Itoa(*v)
}

func level(l kpi.Level) string {
	if l == "" {
		return Absent
	}
	return string(l)
}

// table is one rendered table: a title, a header and rows of cells; the
// first column is left-aligned and the others right-aligned.
type table struct {
	title  string
	header []string
	rows   [][]string
}

// group is one row's KPIs.
type group struct {
	name string
	k    *kpi.KPIs
}

// windowNames orders windows by length ("7d" before "30d"), then by name.
func windowNames(r kpi.Report) []string {
	names := make([]string, 0, len(r.Windows))
	for n := range r.Windows {
		names = append(names, n)
	}
	slices.SortFunc(names, func(a, b string) int {
		da, ea := flywheel.ParseDuration(a)
		db, eb := flywheel.ParseDuration(b)
		if ea == nil && eb == nil && da != db {
			if da < db {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	return names
}

func groups(wr kpi.WindowReport) []group {
	var gs []group
	if wr.All != nil {
		gs = append(gs, group{"all", wr.All})
	}
	names := make([]string, 0, len(wr.Services))
	for n := range wr.Services {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		gs = append(gs, group{n, wr.Services[n]})
	}
	return gs
}

// windowTables builds the four tables of one window: delivery (DORA keys and
// rework), lead-time stages with DORA levels, incidents, and the kind of work.
func windowTables(wr kpi.WindowReport) []table {
	gs := groups(wr)
	delivery := table{title: "Delivery", header: []string{"SERVICE", "DEPLOYS", "FREQUENCY", "DAYS", "LEAD p50", "LEAD p90", "FAIL RATE", "RECOVERY p50", "REWORK"}}
	stages := table{title: "Lead time stages (p50) and DORA levels", header: []string{"SERVICE", "CODING", "PICKUP", "REVIEW", "DEPLOY", "FREQ LEVEL", "LEAD LEVEL", "CFR LEVEL", "RECOVERY LEVEL"}}
	incidents := table{title: "Incidents (p50)", header: []string{"SERVICE", "INCIDENTS", "OPEN", "DETECT", "ACKNOWLEDGE", "RESOLVE", "RESTORE", "RESOLVE p90"}}
	work := table{title: "Merged changes by class", header: []string{"SERVICE", "INNOVATION", "TUNE-UP", "FIX", "UNCLASSIFIED", "TUNE-UP SHARE"}}
	for _, g := range gs {
		k := g.k
		freq := Absent
		if k.DeploymentFrequencyPerDay != nil {
			freq = FormatRate(*k.DeploymentFrequencyPerDay)
		}
		if k.Deployments != nil || k.LeadTimeSeconds != nil || k.ChangeFailureRatio != nil {
			delivery.rows = append(delivery.rows, []string{g.name, count(k.Deployments), freq, ratio(k.DeploymentDaysRatio),
				dur(k.LeadTimeSeconds, false), dur(k.LeadTimeSeconds, true), ratio(k.ChangeFailureRatio),
				dur(k.FailedDeploymentRecoverySeconds, false), ratio(k.ReworkRatio)})
		}
		if k.LeadTimeStageSeconds != nil || k.DORALevel != nil {
			st := kpi.Stages{}
			if k.LeadTimeStageSeconds != nil {
				st = *k.LeadTimeStageSeconds
			}
			lv := kpi.DORALevels{}
			if k.DORALevel != nil {
				lv = *k.DORALevel
			}
			stages.rows = append(stages.rows, []string{g.name, dur(st.Coding, false), dur(st.Pickup, false), dur(st.Review, false),
				dur(st.Deploy, false), level(lv.DeploymentFrequency), level(lv.LeadTime), level(lv.ChangeFailureRate), level(lv.RecoveryTime)})
		}
		if in := k.Incidents; in != nil {
			incidents.rows = append(incidents.rows, incidentRow(g.name, in))
			us := make([]string, 0, len(in.ByUrgency))
			for u := range in.ByUrgency {
				us = append(us, u)
			}
			slices.Sort(us)
			for _, u := range us {
				incidents.rows = append(incidents.rows, incidentRow("  "+u, in.ByUrgency[u]))
			}
		}
		if c := k.ChangesByClass; c != nil {
			share := ratio(k.TuneUpShare)
			work.rows = append(work.rows, []string{g.name, strconv.Itoa(c.Innovation), strconv.Itoa(c.TuneUp),
				strconv.Itoa(c.Fix), strconv.Itoa(c.Unclassified), share})
		}
	}
	var out []table
	for _, t := range []table{delivery, stages, incidents, work} {
		if len(t.rows) > 0 {
			out = append(out, t)
		}
	}
	return out
}

func incidentRow(name string, in *kpi.Incidents) []string {
	return []string{name, strconv.Itoa(in.Count), strconv.Itoa(in.Open), dur(in.TimeToDetect, false),
		dur(in.TimeToAcknowledge, false), dur(in.TimeToResolve, false), dur(in.TimeToRestore, false), dur(in.TimeToResolve, true)}
}

// impactKeys are the impact KPIs in reading order, with their labels and units.
var impactKeys = []struct {
	key, label string
	format     func(float64) string
}{
	{kpi.ImpactLeadTimeP50, "lead time p50", FormatDuration},
	{kpi.ImpactPickupP50, "pickup p50", FormatDuration},
	{kpi.ImpactDeploymentFrequency, "deployment frequency", FormatRate},
	{kpi.ImpactChangeFailureRatio, "change failure rate", FormatRatio},
	{kpi.ImpactRecoveryP50, "recovery p50", FormatDuration},
	{kpi.ImpactTimeToResolveP50, "time to resolve p50", FormatDuration},
}

func impactTable(im kpi.Impact) table {
	t := table{
		title: fmt.Sprintf("Tune-up %s: %s to %s, scope %s", im.Initiative, im.Start.UTC().Format("2006-01-02 15:04"),
			im.End.UTC().Format("2006-01-02 15:04"), strings.Join(im.Scope, ", ")),
		header: []string{"KPI", "BEFORE", "AFTER", "CHANGE", "N BEFORE", "N AFTER", "P-VALUE"},
	}
	for _, ik := range impactKeys {
		k, ok := im.KPIs[ik.key]
		if !ok {
			continue
		}
		f := func(v *float64) string {
			if v == nil {
				return Absent
			}
			return ik.format(*v)
		}
		change := Absent
		if k.RelativeChange != nil {
			change = fmt.Sprintf("%+.1f%%", *k.RelativeChange*100)
		}
		p := Absent
		if k.PValue != nil {
			p = strconv.FormatFloat(*k.PValue, 'f', 3, 64)
		}
		t.rows = append(t.rows, []string{ik.label, f(k.Before), f(k.After), change, strconv.Itoa(k.NBefore), strconv.Itoa(k.NAfter), p})
	}
	return t
}

func width(s string) int { return utf8.RuneCountInString(s) }

// shorten cuts s to n runes, marking the cut with "~".
func shorten(s string, n int) string {
	if width(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "~"
}

// wrap breaks s at spaces into lines of at most n runes (n ≤ 0: no limit),
// indenting continuation lines by two spaces.
func wrap(s string, n int) string {
	if n <= 0 || width(s) <= n {
		return s + "\n"
	}
	var b strings.Builder
	line := ""
	for _, word := range strings.Fields(s) {
		switch {
		case line == "":
			line = word
		case width(line)+1+width(word) <= n:
			line += " " + word
		default:
			b.WriteString(line + "\n")
			line = "  " + word
		}
	}
	b.WriteString(line + "\n")
	return b.String()
}

// render writes t as aligned text no wider than maxWidth when possible: the
// first column is shortened down to 8 characters to make room.
func (t table) render(w io.Writer, maxWidth int) error {
	widths := make([]int, len(t.header))
	for _, row := range append([][]string{t.header}, t.rows...) {
		for i, c := range row {
			widths[i] = max(widths[i], width(c))
		}
	}
	const gap = 2
	total := (len(widths) - 1) * gap
	for _, v := range widths {
		total += v
	}
	if maxWidth > 0 && total > maxWidth {
		widths[0] = max(8, widths[0]-(total-maxWidth))
	}
	var b strings.Builder
	b.WriteString(wrap(t.title, maxWidth))
	for _, row := range append([][]string{t.header}, t.rows...) {
		var line strings.Builder
		for i, c := range row {
			if i == 0 {
				c = shorten(c, widths[0])
				line.WriteString(c + strings.Repeat(" ", widths[0]-width(c)))
				continue
			}
			line.WriteString(strings.Repeat(" ", gap+widths[i]-width(c)) + c)
		}
		b.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteTable writes r as plain-text tables for a terminal of the given width
// (100 columns read well; 0 means no limit): per window, delivery, lead-time
// stages with DORA levels, incidents and the kind of work, for all services and
// each; then each tune-up initiative's before and after.
func WriteTable(w io.Writer, r kpi.Report, width int) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Flywheel report as of %s\n", r.At.UTC().Format("2006-01-02 15:04:05 MST"))
	names := windowNames(r)
	if len(names) == 0 {
		b.WriteString("\nNo window in the report.\n")
	}
	for _, n := range names {
		fmt.Fprintf(&b, "\n== Window %s ==\n", n)
		ts := windowTables(r.Windows[n])
		if len(ts) == 0 {
			b.WriteString("No data in this window.\n")
		}
		for i, t := range ts {
			if i > 0 {
				b.WriteString("\n")
			}
			if err := t.render(&b, width); err != nil {
				return err
			}
		}
	}
	for _, im := range r.TuneUpImpact {
		b.WriteString("\n")
		if err := impactTable(im).render(&b, width); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mdCell escapes a Markdown table cell.
func mdCell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func (t table) markdown(b *strings.Builder, heading string) {
	fmt.Fprintf(b, "%s %s\n\n", heading, t.title)
	b.WriteString("| " + strings.Join(t.header, " | ") + " |\n|")
	for i := range t.header {
		if i == 0 {
			b.WriteString(" --- |")
		} else {
			b.WriteString(" ---: |")
		}
	}
	b.WriteString("\n")
	for _, row := range t.rows {
		cells := make([]string, len(row))
		for i, c := range row {
			cells[i] = mdCell(strings.TrimSpace(c))
			if i == 0 && strings.HasPrefix(c, "  ") {
				cells[i] = "↳ " + cells[i] // an urgency under its service
			}
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	b.WriteString("\n")
}

// WriteMarkdown writes r as GitHub-flavoured Markdown: a section per window
// with the same tables as WriteTable, then the tune-up initiatives.
func WriteMarkdown(w io.Writer, r kpi.Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Flywheel report as of %s\n\n", r.At.UTC().Format("2006-01-02 15:04:05 MST"))
	for _, n := range windowNames(r) {
		fmt.Fprintf(&b, "## Window %s\n\n", n)
		ts := windowTables(r.Windows[n])
		if len(ts) == 0 {
			b.WriteString("No data in this window.\n\n")
		}
		for _, t := range ts {
			t.markdown(&b, "###")
		}
	}
	if len(r.TuneUpImpact) > 0 {
		b.WriteString("## Tune-up impact\n\n")
		for _, im := range r.TuneUpImpact {
			impactTable(im).markdown(&b, "###")
		}
	}
	_, err := io.WriteString(w, strings.TrimRight(b.String(), "\n")+"\n")
	return err
}
