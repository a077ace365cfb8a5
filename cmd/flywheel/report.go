package main

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"golang.org/x/term"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/config"
	"github.com/flywheel-metrics/flywheel/metrics"
	"github.com/flywheel-metrics/flywheel/metrics/kpi"
	"github.com/flywheel-metrics/flywheel/metrics/report"
	"github.com/flywheel-metrics/flywheel/storage"
)

// reportStore is what a report reads: every event, and the daily snapshots.
type reportStore interface {
	Scan(flywheel.EventSink) error
	Snapshots(from, to time.Time) ([]storage.Snapshot, error)
}

// loadInput scans every stored event into a kpi.Input for opts: the engine's
// compact form, so that a report never holds the store's whole records.
func loadInput(st reportStore, opts kpi.Options) (*kpi.Input, error) {
	in := kpi.NewInput(opts)
	if err := st.Scan(in); err != nil {
		return nil, err
	}
	return in, nil
}

// buildReport answers a report query, shared by `flywheel report` and GET
// /api/v1/report so that both return the same document:
//   - as of now with a served snapshot (serve): that snapshot's report;
//   - a stored daily snapshot computed at exactly q.At: its report;
//   - else the KPI engine over every stored event as of q.At.
//
// A window that is not configured is computed on its own. A snapshot that
// lacks the window or the service (events stored after it was computed) is
// passed over for the engine. A time after now, a window that is no duration
// or a service without events as of the evaluation time is a badQueryError
// saying what is valid.
func buildReport(q reportQuery, current *metrics.Snapshot, st reportStore, opts kpi.Options, now func() time.Time) (kpi.Report, error) {
	at, err := evaluationTime(q.At, now)
	if err != nil {
		return kpi.Report{}, err
	}
	var win *flywheel.Window
	if q.Window != "" {
		w, err := flywheel.ParseWindow(q.Window)
		if err != nil {
			return kpi.Report{}, badQueryError{fmt.Sprintf("window: %v", err)}
		}
		win = &w
	}
	fits := func(r *kpi.Result) bool {
		_, ok := r.Report.Windows[q.Window]
		return (win == nil || ok) && (q.Service == "" || r.History.Services[q.Service] != nil)
	}
	var res *kpi.Result
	if q.At.IsZero() && current != nil && fits(&current.Result) {
		res = &current.Result
	}
	if res == nil && !q.At.IsZero() {
		snaps, err := st.Snapshots(at, at.Add(time.Nanosecond))
		if err != nil {
			return kpi.Report{}, err
		}
		for _, s := range snaps {
			if !s.At.Equal(at) {
				continue
			}
			snap, err := metrics.DecodeSnapshot(s.Data)
			if err == nil && fits(&snap.Result) {
				res = &snap.Result
			}
		}
	}
	if res == nil {
		if win != nil && !slices.ContainsFunc(opts.Windows, func(w flywheel.Window) bool { return w.Name == win.Name }) {
			opts.Windows = []flywheel.Window{*win}
		}
		in, err := loadInput(st, opts)
		if err != nil {
			return kpi.Report{}, err
		}
		r := in.Compute(at)
		res = &r
	}
	if err := checkService(q.Service, res.History, res.Report.At); err != nil {
		return kpi.Report{}, err
	}
	return filterReport(res.Report, q.Window, q.Service)
}

// evaluationTime is the time a query is answered as of: at, or now when at is
// zero. A time after now is refused: a KPI counts only what had happened
// before its evaluation time, so a later one would count days that have not
// happened yet as days without deployments or incidents, and every rate would
// look lower than it is.
func evaluationTime(at time.Time, now func() time.Time) (time.Time, error) {
	n := now().UTC()
	if at.IsZero() {
		return n, nil
	}
	if at.After(n) {
		return time.Time{}, badQueryError{fmt.Sprintf("at %s is in the future (it is now %s): only what has happened can be counted; leave it out for now",
			at.UTC().Format(time.RFC3339), n.Truncate(time.Second).Format(time.RFC3339))}
	}
	return at, nil
}

// checkService refuses a service that has no event as of at, listing those
// that have; "" (every service) always passes. A service whose events are all
// older than a window is valid: its report is empty, not an error.
func checkService(service string, h kpi.History, at time.Time) error {
	if service == "" || h.Services[service] != nil {
		return nil
	}
	valid := slices.Sorted(maps.Keys(h.Services))
	list := strings.Join(valid, ", ")
	if len(valid) == 0 {
		list = "none"
	}
	msg := fmt.Sprintf("unknown service %q; valid: %s (the services with events before %s)", service, list, at.UTC().Format(time.RFC3339))
	if service == kpi.AllServices {
		msg += "; without a service the report holds all services together and each one"
	}
	return badQueryError{msg}
}

func (a *app) reportCommand(k *kingpin.Application) command {
	c := k.Command("report", "Print KPIs from the store.")
	var q reportQuery
	var atFlag, format string
	c.Flag("at", "Evaluation time, RFC3339 or a date (default: now). Only what had happened before it counts.").StringVar(&atFlag)
	c.Flag("window", "Only this window (e.g. 30d); default every configured window.").StringVar(&q.Window)
	c.Flag("service", "Only this service.").StringVar(&q.Service)
	c.Flag("format", "Output format: table, markdown, json (the document of GET /api/v1/report) or html (one self-contained page with charts, for leadership, every number linked to the events behind it).").Default("table").EnumVar(&format, "table", "markdown", "json", "html")
	return command{name: c.FullCommand(), run: func() int {
		if atFlag != "" {
			at, err := parseTime(atFlag)
			if err != nil {
				fmt.Fprintf(a.stderr, "flywheel report: --at: %v\n", err)
				return 2
			}
			q.At = at
		}
		err := a.runReport(q, format)
		var bad badQueryError
		if errors.As(err, &bad) {
			fmt.Fprintf(a.stderr, "flywheel report: %v\n", bad)
			return 2
		}
		return a.exitCode(err)
	}}
}

func (a *app) runReport(q reportQuery, format string) error {
	cfg, opts, st, err := a.openForReading("/api/v1/report")
	if err != nil {
		return err
	}
	if format == "html" {
		page, err := buildHTMLReport(q, st, opts, cfg.ServiceTeams(), time.Now)
		if cerr := st.Close(); cerr != nil && err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("report: %w", err)
		}
		return report.WriteHTMLOptions(a.stdout, page.report, page.history, page.explainer, htmlOptions(cfg, page))
	}
	rep, err := buildReport(q, nil, st, opts, time.Now)
	if cerr := st.Close(); cerr != nil && err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	switch format {
	case "json":
		return writeReportJSON(a.stdout, rep)
	}
	return renderReport(a.stdout, rep, format, terminalWidth(a.stdout))
}

// terminalWidth is the width tables are fitted to: the width of w when it is
// a terminal, else 0, no limit. Output that goes to a file or a pipe is read by
// a program or a pager that scrolls, and a cut name ("recommendatio~") would
// break a grep and match no service; only a terminal needs lines that fit.
func terminalWidth(w any) int {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		if width, _, err := term.GetSize(int(f.Fd())); err == nil && width > 0 {
			return width
		}
		return 100 // a terminal that does not say its size
	}
	return 0
}

// htmlOptions are the HTML report's options from the configuration.
func htmlOptions(cfg *config.Config, page htmlReport) report.HTMLOptions {
	return report.HTMLOptions{MinSamples: cfg.Report.MinSamples, Previous: page.previous, Teams: page.teams}
}

// htmlHistoryWeeks is how far back the HTML report's charts over time reach
// at least; htmlHistoryMaxWeeks at most, however old an initiative.
const (
	htmlHistoryWeeks    = 12
	htmlHistoryMaxWeeks = 104
)

// htmlBucketWindow is the window of each bar of the charts over time.
const htmlBucketWindow = "7d"

// htmlHistorySpan is how many weeks the charts over time cover: at least
// htmlHistoryWeeks, and back to an impact window before the earliest
// initiative, so that each one's before and after are on the chart.
func htmlHistorySpan(at time.Time, impacts []kpi.Impact, impactWindow time.Duration) int {
	weeks := htmlHistoryWeeks
	week := 7 * flywheel.Day
	for _, im := range impacts {
		if from := im.Start.Add(-impactWindow); from.Before(at) {
			weeks = max(weeks, int((at.Sub(from)+week-1)/week)+1)
		}
	}
	return min(weeks, htmlHistoryMaxWeeks)
}

// htmlReport is what the HTML report draws: the report, weekly reports before
// it for the charts over time, and the explainer that lists the events behind
// each number.
type htmlReport struct {
	report    kpi.Report
	history   []kpi.Report
	explainer *kpi.Explainer
	// previous is the report as of the start of the page's window, for the
	// headline numbers' changes; nil when that window is not a duration.
	previous *kpi.Report
	// teams are the configured teams with their KPIs over the page's window.
	teams []report.HTMLTeam
}

// buildHTMLReport computes the HTML report's report, history and lists from
// one scan of the store. Unlike buildReport it never reads a stored daily
// snapshot: events collected after the snapshot was taken could then make its
// numbers disagree with the lists the page links them to. teams maps a
// service to its team (config's ServiceTeams); a page of one service has no
// teams.
func buildHTMLReport(q reportQuery, st reportStore, opts kpi.Options, teams map[string]string, now func() time.Time) (htmlReport, error) {
	if q.Window != "" {
		w, err := flywheel.ParseWindow(q.Window)
		if err != nil {
			return htmlReport{}, badQueryError{fmt.Sprintf("window: %v", err)}
		}
		if !slices.ContainsFunc(opts.Windows, func(c flywheel.Window) bool { return c.Name == w.Name }) {
			opts.Windows = append(slices.Clone(opts.Windows), w)
		}
	}
	at, err := evaluationTime(q.At, now)
	if err != nil {
		return htmlReport{}, err
	}
	// The charts over time count each week on its own: with a 7d window
	// sampled weekly no change is counted in two bars.
	if !slices.ContainsFunc(opts.Windows, func(c flywheel.Window) bool { return c.Name == htmlBucketWindow }) {
		w, err := flywheel.ParseWindow(htmlBucketWindow)
		if err != nil {
			return htmlReport{}, err
		}
		opts.Windows = append(slices.Clone(opts.Windows), w)
	}
	in := kpi.NewExplainInput(opts)
	if err := st.Scan(in); err != nil {
		return htmlReport{}, err
	}
	res := in.Compute(at)
	if err := checkService(q.Service, res.History, at); err != nil {
		return htmlReport{}, err
	}
	rep, err := filterReport(res.Report, q.Window, q.Service)
	if err != nil {
		return htmlReport{}, err
	}
	history, err := reportHistory(in, at, q, htmlHistorySpan(at, res.Report.TuneUpImpact, opts.ImpactWindow))
	if err != nil {
		return htmlReport{}, err
	}
	x, err := in.Explainer(at)
	if err != nil {
		return htmlReport{}, err
	}
	page := htmlReport{report: rep, history: history, explainer: x}
	if len(teams) > 0 && q.Service == "" {
		page.teams = htmlTeams(in, at, opts.Windows, report.HTMLPrimaryWindow(rep), teams)
	}
	if w, err := flywheel.ParseWindow(report.HTMLPrimaryWindow(rep)); err == nil {
		prev, err := filterReport(in.Compute(at.Add(-w.Duration)).Report, w.Name, q.Service)
		if err == nil {
			page.previous = &prev
		}
	}
	return page, nil
}

// htmlTeams computes the KPIs of every team over the window named win.
func htmlTeams(in *kpi.Input, at time.Time, windows []flywheel.Window, win string, teams map[string]string) []report.HTMLTeam {
	i := slices.IndexFunc(windows, func(w flywheel.Window) bool { return w.Name == win })
	if i < 0 {
		return nil
	}
	groups := map[string][]string{}
	for svc, team := range teams {
		groups[team] = append(groups[team], svc)
	}
	ks := in.ComputeGroups(at, windows[i], groups)
	out := make([]report.HTMLTeam, 0, len(groups))
	for _, team := range slices.Sorted(maps.Keys(groups)) {
		slices.Sort(groups[team])
		out = append(out, report.HTMLTeam{Name: team, Services: groups[team], KPIs: ks[team]})
	}
	return out
}

// reportHistory computes weekly reports for the weeks before at, oldest
// first, for the HTML report's charts over time.
func reportHistory(in *kpi.Input, at time.Time, q reportQuery, weeks int) ([]kpi.Report, error) {
	week := 7 * flywheel.Day
	snaps, err := metrics.ComputeSnapshots(in, at.Add(-time.Duration(weeks)*week), at, week)
	if err != nil {
		return nil, err
	}
	out := make([]kpi.Report, 0, len(snaps))
	for _, s := range snaps {
		r, err := filterReport(s.Result.Report, "", q.Service)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}
