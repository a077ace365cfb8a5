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
	{"Counts over all stored history", famDeployments, famIncidents,
		"Gauges, not counters: a correction (a pull request relabelled after merge, a deployment re-imported with another status, a `caused-by:` fixed) lowers them, and Prometheus would read a counter that goes down as a reset. Take their change over a period with `delta()` or `x - x offset 1d`, never `increase()` or `rate()`; for a window's count read the `*_in_window` gauges."},
	{"Gauges per window", famDeploymentsInWindow, famImpactPValue,
		"Computed over each configured window `[now − window, now)` (label `window`, e.g. `7d`, `30d`, `90d`). Durations are summaries: the series with `quantile=\"0.5\"` and `quantile=\"0.9\"` are the window's p50 and p90, `_count` is the number of samples, `_sum` is not computed and is NaN. A value without data has no series (absent, not zero)."},
	{"Gauges now", famOpenIncidents, famDORAThreshold,
		"`flywheel_dora_threshold` serves the DORA level bounds in force (`dora_thresholds` of the configuration, or the defaults of [kpis.md](kpis.md)), so alert rules compare against the configured bounds."},
	{"Histograms over all stored history", famLeadTimeDistribution, famTimeToResolveDistribution,
		"For `histogram_quantile()` over any period with `increase(…_bucket[period])`. They cover the stored history, which corrections change: a change mapped to another deployment, an incident's resolve time fixed, an event re-imported. So that no correction reads as a counter reset, a running Flywheel never lowers an exposed bucket, `_count` or `_sum`: each rises by what the stored history gained since the previous snapshot, and a drop adds nothing. A correction therefore counts as no new observation, and `increase()` over a range holding it stays the period's new observations; an observation moved to a lower bucket, though, also counts in the buckets it enters, and may add one to the buckets above and to `_count` where the buckets would otherwise stop being cumulative. `flywheel backfill` writes its points the same way, in time order. After a restart the series start again from the stored history, which Prometheus reads as the reset of a new process. The values can therefore differ from the stored history's (`flywheel report`) by the corrections since the process started; the per-window summaries are computed afresh and have no such offset."},
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
- **Absent, not zero** ([kpis.md](kpis.md)): a per-window value without data has no series. The
  all-history counts, open incidents and data-quality gauges are present with 0 for
  every service with history.
- **Counters only for what cannot un-happen.** The only counters are the collector's
  ` + "`flywheel_source_sync_errors_total`" + ` and ` + "`flywheel_api_requests_total`" + `: a failed sync
  or a request made stays made. Counts of stored history are gauges, because history
  is corrected; ` + "`flywheel:deployments:delta1d`" + ` in the shipped rules takes their
  change over a day with ` + "`delta()`" + `, so a correction counts as one fewer.
- ` + "`urgency=\"all\"`" + ` series sit beside the per-urgency ones: sum over ` + "`urgency!=\"all\"`" + `
  (or read ` + "`urgency=\"all\"`" + `), never over every urgency. Likewise ` + "`service_name=\"all\"`" + `.
- A histogram without observations is left out (fewer series), unless this process
  already exposed observations for it: corrections that empty a service's history keep its
  histograms at their last values. The all-services histogram is omitted if services were
  computed with different bucket bounds.
- Collector health comes from the running process: counters such as
  ` + "`flywheel_source_sync_errors_total`" + ` restart at 0 with it, and a source that never
  succeeded has no ` + "`flywheel_source_last_success_timestamp_seconds`" + ` or lag series.

`)
	b.WriteString(`## Series per service

Each service has its own copy of every family above but the tune-up impact and the
collector's health, and so has the aggregate ` + "`service_name=\"all\"`" + `. With W configured
windows and U urgencies besides ` + "`all`" + `, a service has at most
36·W + 17·W·(1 + U) + 40 + 2·(1 + U) series (a summary is four: two quantiles,
` + "`_count`" + ` and ` + "`_sum`" + `; a histogram thirteen): 307 with the default three windows and
PagerDuty's two urgencies, ` + "`high`" + ` and ` + "`low`" + `. Values without data have no series, so
real services have fewer: the demo's six services (` + "`flywheel demo`" + `, three windows,
five urgencies from PagerDuty and GitHub severity labels) have 178 to 288 each, 1,781
` + "`flywheel_`" + ` series in all. Two hundred such services make about 36,000 to 58,000
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
With all three off a service has at most 37·W + 16 series (127 with three windows);
the demo's have 72 to 127, 782 in all. Measured on the demo, per service: 178–288
series with everything on, 130–201 without ` + "`by_urgency`" + `, 130–240 without ` + "`stages`" + `,
152–262 without ` + "`histograms`" + `. Fewer windows cut every window family in proportion
(` + "`windows: [30d]`" + ` is a third of them). The Grafana panels of a disabled group stay
empty: the stage panels of the lead-time breakdown, the panels by urgency of incident
response, and the two "(histogram)" panels. Give ` + "`backfill`" + ` the same ` + "`--metrics.disable`" + ` as ` + "`serve`" + `, so
that the history has the series the live data has.

`)
	b.WriteString(`## Alerts and recording rules

` + "`deploy/prometheus/rules.yml`" + ` holds recording rules and alerts;
[runbook.md](runbook.md) says, for each alert, what it means, what to check and how to
fix it, and each alert's ` + "`runbook_url`" + ` links to its section.

| rule | what |
| --- | --- |
| ` + "`flywheel:dora_level:score`" + ` | the DORA level as a number, elite 4 to low 1 |
| ` + "`flywheel:deployments:delta1d`" + ` | counting deployments added to the stored history in the last day, per service (` + "`delta()`" + ` of ` + "`flywheel_deployments`" + `; a correction counts as one fewer) |
| ` + "`flywheel:source_sync_errors:increase1h`" + ` | failed syncs per source in the last hour |
| ` + "`FlywheelDown`" + ` (critical) | Prometheus cannot scrape Flywheel: ` + "`up{job=~\".*flywheel.*\"} == 0`" + `; change the selector if your scrape job is named otherwise |
| ` + "`FlywheelAbsent`" + ` (critical) | no ` + "`flywheel_snapshot_timestamp_seconds`" + ` anywhere for 15 minutes |
| ` + "`FlywheelSnapshotStalled`" + ` (warning) | the served snapshot is over 30 minutes old |
| ` + "`FlywheelSourceStale`" + ` (warning) | a source's sync lag exceeds twice ` + "`flywheel_source_sync_interval_seconds`" + ` (its schedule's longest gap) plus 10 minutes |
| ` + "`FlywheelSourceSyncFailing`" + ` (warning) | 3 failed syncs of a source in an hour |
| ` + "`FlywheelGitHubBudgetLow`" + ` (warning) | fewer than 500 GitHub API requests left |
| ` + "`FlywheelDORALevelDropped`" + ` (info) | a 30-day DORA level lower than a day ago |
| ` + "`FlywheelChangeFailureRatioHigh`" + ` (info) | a 30-day change failure rate above the configured medium bound (` + "`flywheel_dora_threshold`" + `), on at least 10 counting deployments |
| ` + "`FlywheelHighUrgencyIncidentOpen`" + ` (info) | a high-urgency incident open for 4 hours |

Only Flywheel's own health pages (critical); KPI alerts are informational (info), a
ticket rather than a page. ` + "`promtool test rules deploy/prometheus/rules_test.yml`" + `
tests every rule, the cases that must not fire included (few deployments, an hourly
schedule that keeps up, a correction of a count).
`)
	_, err := io.WriteString(w, b.String())
	return err
}
