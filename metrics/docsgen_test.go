package metrics

import (
	"fmt"
	"io"
	"strings"
)

// docGroups splits the family table into the sections of docs/metrics.md.
var docGroups = []struct {
	title      string
	from, to   family // [from, to]
	standfirst string
}{
	{"Counters over all stored history", famDeployments, famIncidents,
		"Counters, so `increase()` and `rate()` work; a re-imported or corrected event can make one go down, which Prometheus treats as a reset."},
	{"Gauges per window", famDeploymentFrequency, famImpactPValue,
		"Computed over each configured window `[now − window, now)` (label `window`, e.g. `7d`, `30d`, `90d`). Durations are summaries: the series with `quantile=\"0.5\"` and `quantile=\"0.9\"` are the window's p50 and p90, `_count` is the number of samples, `_sum` is not computed and is NaN. A value without data has no series (absent, not zero)."},
	{"Gauges now", famOpenIncidents, famOpenIncidents, ""},
	{"Histograms over all stored history", famLeadTimeDistribution, famTimeToResolveDistribution,
		"For `histogram_quantile()` over any period with `increase(…_bucket[period])`."},
	{"Data quality over all stored history", famUnattributedIncidents, famNonCountingDeployments,
		"So a surprising KPI can be traced to its data. Sync lag per source is under collector health."},
	{"Collector health", famSourceLastSuccess, famSnapshotTimestamp,
		"From the scheduler's in-memory status of each source and the served snapshot; never backfilled."},
}

// WriteDocs writes docs/metrics.md: every metric family with its type,
// labels and HELP text, from the same table the exporter uses. Only TestDocs
// runs it, so it is test code.
func WriteDocs(w io.Writer) error {
	var b strings.Builder
	b.WriteString(`# Flywheel metrics

<!-- Generated from metrics/families.go by ` + "`go test ./metrics -run TestDocs -update`" + `; do not edit. -->

Flywheel serves these metrics on ` + "`/metrics`" + `. A scrape reads the last KPI
snapshot only; the snapshot is recomputed after each sync and every 5 minutes, so KPI
values are as of ` + "`flywheel_snapshot_timestamp_seconds`" + `. ` + "`flywheel backfill`" + ` writes
the same families, except collector health, with past timestamps.

Label conventions:
- ` + "`service_name`" + ` is the service, ` + "`team`" + ` its team from the config (` + "`unknown`" + ` when none is
  configured); the aggregate over all services has ` + "`service_name=\"all\", team=\"all\"`" + `.
- ` + "`urgency=\"all\"`" + ` covers every urgency; other values are PagerDuty's urgencies, GitHub
  severity labels (` + "`sev1`" + `, …) or ` + "`unknown`" + `.
- Labels come from bounded sets only: never a pull request, user, sha or incident id.
- Durations are in seconds, ratios between 0 and 1.

`)
	for _, g := range docGroups {
		fmt.Fprintf(&b, "## %s\n\n", g.title)
		if g.standfirst != "" {
			fmt.Fprintf(&b, "%s\n\n", g.standfirst)
		}
		b.WriteString("| metric | type | labels | meaning |\n| --- | --- | --- | --- |\n")
		for f := g.from; f <= g.to; f++ {
			def := families[f]
			labels := make([]string, len(def.labels))
			for i, l := range def.labels {
				labels[i] = "`" + l + "`"
			}
			if def.kind == kindSummary {
				labels = append(labels, "`quantile`")
			}
			if def.kind == kindHistogram {
				labels = append(labels, "`le`")
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", def.name, def.kind, strings.Join(labels, ", "),
				strings.ReplaceAll(def.help, "|", `\|`))
		}
		b.WriteString("\n")
	}
	b.WriteString(`## Process

| metric | type | labels | meaning |
| --- | --- | --- | --- |
| ` + "`flywheel_build_info`" + ` | gauge | ` + "`version`, `revision`, `branch`, `goversion`, `goos`, `goarch`, `tags`" + ` | Always 1; its labels say which build runs, as ` + "`flywheel --version`" + ` prints it (` + "`unknown`" + ` for what the build did not record). |

` + "`serve`" + ` and ` + "`demo`" + ` also serve the Go runtime's ` + "`go_*`" + `, the process's ` + "`process_*`" + ` and the
metrics handler's own ` + "`promhttp_metric_handler_requests_*`" + ` metrics, as every Prometheus exporter does.

`)
	b.WriteString(`## Decisions

- **Durations are summaries, not gauges.** Prometheus reserves the ` + "`quantile`" + ` label for
  summaries (` + "`promtool check metrics`" + ` rejects it elsewhere), so each duration KPI is a
  constant summary: ` + "`flywheel_lead_time_seconds{quantile=\"0.5\"}`" + ` reads exactly as a gauge
  would, and ` + "`_count`" + ` tells how many samples the quantile rests on. The engine keeps no
  sum, so ` + "`_sum`" + ` is NaN; do not use it.
- **` + "`flywheel_deployment_day_ratio`" + `** is the JSON report's and ` + "`flywheel explain`" + `'s
  ` + "`deployment_days_ratio`" + `. The metric cannot carry that name: ` + "`promtool check metrics`" + `
  reads a ` + "`days`" + ` token in a metric name as a time unit other than seconds and
  rejects it. Every other KPI has the same name in both, with ` + "`flywheel_`" + ` in front.
- **Absent, not zero** ([kpis.md](kpis.md)): a per-window value without data has no series. Counters,
  open incidents and data-quality gauges are present with 0 for every service with history.
- ` + "`urgency=\"all\"`" + ` series sit beside the per-urgency ones: sum over ` + "`urgency!=\"all\"`" + `
  (or read ` + "`urgency=\"all\"`" + `), never over every urgency. Likewise ` + "`service_name=\"all\"`" + `.
- A histogram without observations is left out (fewer series); the all-services histogram
  is omitted if services were computed with different bucket bounds.
- Collector health comes from the running process: counters such as
  ` + "`flywheel_source_sync_errors_total`" + ` restart at 0 with it, and a source that never
  succeeded has no ` + "`flywheel_source_last_success_timestamp_seconds`" + ` or lag series.

`)
	b.WriteString(`## Series per service

Each service has its own copy of every family above but the tune-up impact and the
collector's health, and so has the aggregate ` + "`service_name=\"all\"`" + `. With W configured
windows and U urgencies besides ` + "`all`" + `, a service has at most
33·W + 17·W·(1 + U) + 40 + 2·(1 + U) series (a summary is four: two quantiles,
` + "`_count`" + ` and ` + "`_sum`" + `; a histogram thirteen): 298 with the default three windows and
PagerDuty's two urgencies, ` + "`high`" + ` and ` + "`low`" + `. Values without data have no series, so
real services have fewer: the demo's six services (` + "`flywheel demo`" + `, three windows,
five urgencies from PagerDuty and GitHub severity labels) have 169 to 279 each, 1,705
` + "`flywheel_`" + ` series in all. Two hundred such services make about 45,000 to 60,000
series. The incident series of each urgency, the lead-time stages and the two
histograms are most of it; ` + "`--metrics.disable`" + ` (on ` + "`serve`" + `, ` + "`demo`" + ` and ` + "`backfill`" + `,
comma-separated or repeated) leaves them out:

| group | leaves out |
| --- | --- |
`)
	for _, g := range disableGroups {
		fmt.Fprintf(&b, "| `%s` | %s |\n", g.name, strings.ReplaceAll(g.what, "|", `\|`))
	}
	b.WriteString(`
With all three off a service has at most 34·W + 16 series (118 with three windows);
the demo's have 65 to 118, 706 in all. Measured on the demo, per service: 169–279
series with everything on, 123–192 without ` + "`by_urgency`" + `, 121–231 without ` + "`stages`" + `,
143–253 without ` + "`histograms`" + `. Fewer windows cut every window family in proportion
(` + "`windows: [30d]`" + ` is a third of them). The Grafana panels of a disabled group stay
empty: the stage panels of the lead-time breakdown, the panels by urgency of incident
response, and the two "(histogram)" panels. Give ` + "`backfill`" + ` the same ` + "`--metrics.disable`" + ` as ` + "`serve`" + `, so
that the history has the series the live data has.

`)
	b.WriteString(`## Alerts and recording rules

` + "`deploy/prometheus/rules.yml`" + ` holds recording rules (` + "`flywheel:dora_level:score`" + `, elite 4 to
low 1) and alerts: a source stale for over an hour, syncs failing, the GitHub API budget
low, a DORA level lower than a day ago, a 30-day change failure ratio above 15%, and a
high-urgency incident open for 4 hours. ` + "`promtool test rules deploy/prometheus/rules_test.yml`" + `
tests each.
`)
	_, err := io.WriteString(w, b.String())
	return err
}
