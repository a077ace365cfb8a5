package main

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/metrics/kpi"
	"github.com/flywheel-metrics/flywheel/metrics/report"
)

// explainQuery is a parsed `flywheel explain` or GET /api/v1/explain.
type explainQuery struct {
	KPI     string
	At      time.Time // zero: now
	Window  string    // "": the first configured window
	Service string    // "": all services
}

// eventScanner is what an explanation reads: every stored event.
type eventScanner interface {
	Scan(flywheel.EventSink) error
}

// buildExplanation answers an explain query from every stored event, shared by
// `flywheel explain` and GET /api/v1/explain so that both return the same
// document. It always computes as of q.At: a snapshot keeps numbers, not the
// events behind them. A KPI, window or service that does not exist, or a time
// after now, is a badQueryError saying what is valid.
func buildExplanation(q explainQuery, st eventScanner, opts kpi.Options, now func() time.Time) (*kpi.Explanation, error) {
	at, err := evaluationTime(q.At, now)
	if err != nil {
		return nil, err
	}
	// a window that is not configured is explained as report computes it, so
	// that every number report prints can be explained; a name that is no
	// duration stays unknown and the error lists the configured ones
	if w, err := flywheel.ParseWindow(q.Window); q.Window != "" && err == nil &&
		!slices.ContainsFunc(opts.Windows, func(c flywheel.Window) bool { return c.Name == w.Name }) {
		opts.Windows = append(slices.Clone(opts.Windows), w)
	}
	in := kpi.NewExplainInput(opts)
	if err := st.Scan(in); err != nil {
		return nil, err
	}
	e, err := in.Explain(at, kpi.ExplainQuery{KPI: q.KPI, Window: q.Window, Service: q.Service})
	var bad *kpi.ExplainError
	if errors.As(err, &bad) {
		return nil, badQueryError{bad.Error()}
	}
	return e, err
}

func (a *app) explainCommand(k *kingpin.Application) command {
	c := k.Command("explain", "List the events behind one KPI of the report, or a data-quality count, with the facts that decided each; the JSON form lets a script recompute the value.")
	var q explainQuery
	var atFlag, format string
	c.Arg("kpi", "A key of the JSON report's KPIs (change_failure_ratio, lead_time_stage_seconds.review, incidents.by_urgency.high.open, …) or a data-quality count (unattributed_incidents, …); a wrong one lists them all.").Required().StringVar(&q.KPI)
	c.Flag("at", "Evaluation time, RFC3339 or a date (default: now). Only what had happened before it counts.").StringVar(&atFlag)
	c.Flag("window", "A configured window (default: the first one).").StringVar(&q.Window)
	c.Flag("service", "Only this service (default: all services together).").StringVar(&q.Service)
	c.Flag("format", "Output format: table, json (the document of GET /api/v1/explain) or csv (one row per event).").Default("table").EnumVar(&format, "table", "json", "csv")
	return command{name: c.FullCommand(), run: func() int {
		if atFlag != "" {
			at, err := parseTime(atFlag)
			if err != nil {
				fmt.Fprintf(a.stderr, "flywheel explain: --at: %v\n", err)
				return 2
			}
			q.At = at
		}
		err := a.runExplain(q, format)
		var bad badQueryError
		if errors.As(err, &bad) {
			fmt.Fprintf(a.stderr, "flywheel explain: %v\n", bad)
			return 2
		}
		return a.exitCode(err)
	}}
}

func (a *app) runExplain(q explainQuery, format string) error {
	_, opts, st, err := a.openForReading("/api/v1/explain")
	if err != nil {
		return err
	}
	e, err := buildExplanation(q, st, opts, time.Now)
	if cerr := st.Close(); cerr != nil && err == nil {
		err = cerr
	}
	var bad badQueryError
	if errors.As(err, &bad) {
		return err
	}
	if err != nil {
		return fmt.Errorf("explain: %w", err)
	}
	switch format {
	case "json":
		return report.WriteExplainJSON(a.stdout, e)
	case "csv":
		return report.WriteExplainCSV(a.stdout, e)
	}
	return report.WriteExplainTable(a.stdout, e, terminalWidth(a.stdout))
}
