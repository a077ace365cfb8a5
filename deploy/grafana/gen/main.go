// Command gen writes Flywheel's Grafana dashboards (deploy/grafana/dashboards/*.json)
// from code, using grafana-foundation-sdk. The dashboards query only the metric names
// of docs/metrics.md; the test next to it fails when the committed JSON is stale.
//
//	go run ./deploy/grafana/gen -out deploy/grafana/dashboards
//
// Variables used in queries are limited to $job, $service_name, $team, $window,
// $__rate_interval, $__interval and $__range, which the real-Prometheus e2e test
// substitutes before evaluating every expression.
//
// Every metric selector starts with the job matcher jobMatcher, so that two
// Flywheels scraped by one Prometheus are never added together.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/piechart"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

func main() {
	out := flag.String("out", "deploy/grafana/dashboards", "directory to write the dashboard JSON files to")
	flag.Parse()
	if err := write(*out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

// write renders every dashboard into dir as <uid-without-prefix>.json.
func write(dir string) error {
	files, err := render()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return fmt.Errorf("write dashboard %s: %w", name, err)
		}
	}
	return nil
}

// render builds every dashboard and returns file name → indented JSON.
func render() (map[string][]byte, error) {
	builders := map[string]*dashboard.DashboardBuilder{
		"dora-overview.json":      doraOverview(),
		"lead-time.json":          leadTime(),
		"incident-response.json":  incidentResponse(),
		"innovation-tune-up.json": innovationTuneUp(),
		"collector-health.json":   collectorHealth(),
	}
	files := make(map[string][]byte, len(builders))
	for name, b := range builders {
		d, err := b.Build()
		if err != nil {
			return nil, fmt.Errorf("build dashboard %s: %w", name, err)
		}
		numberPanels(&d)
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false) // keep PromQL's < > & readable in the files
		if err := enc.Encode(d); err != nil {
			return nil, fmt.Errorf("encode dashboard %s: %w", name, err)
		}
		files[name] = buf.Bytes()
	}
	return files, nil
}

// numberPanels gives every panel and row a stable id in layout order; Grafana needs
// unique ids for links to a single panel ("viewPanel").
func numberPanels(d *dashboard.Dashboard) {
	var id uint32
	for _, p := range d.Panels {
		id++
		switch {
		case p.Panel != nil:
			p.Panel.Id = cog.ToPtr(id)
		case p.RowPanel != nil:
			p.RowPanel.Id = id
		}
	}
}

// ds is every panel's and query's datasource: the dashboard's datasource variable,
// so one file works against any Prometheus a Grafana has.
var ds = common.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr("${datasource}")}

func newDashboard(uid, title, description string) *dashboard.DashboardBuilder {
	return dashboard.NewDashboardBuilder(title).
		Uid(uid).
		Description(description).
		Tags([]string{"flywheel"}).
		Editable().
		Refresh("5m").
		Time("now-90d", "now").
		Timezone("utc").
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Link(dashboard.NewDashboardLinkBuilder("Flywheel").
			Type(dashboard.DashboardLinkTypeDashboards).
			Tags([]string{"flywheel"}).
			AsDropdown(true).
			IncludeVars(true).
			KeepTime(true)).
		WithVariable(dashboard.NewDatasourceVariableBuilder("datasource").
			Label("Data source").
			Type("prometheus")).
		WithVariable(queryVar("job", "Job", `label_values(flywheel_snapshot_timestamp_seconds, job)`).
			Description("The Prometheus job that scrapes the Flywheel to show. One at a time: two Flywheels' numbers are never added together."))
}

// jobMatcher selects the chosen job's series, and series without a job label:
// the history that flywheel backfill writes has none. With no Flywheel scraped
// yet (a Prometheus holding only backfilled history) $job is empty and the
// matcher selects that history alone.
const jobMatcher = `job=~"$job|"`

// defaultFlywheelURL is where the compose deployment publishes Flywheel; a
// browser follows the explain links there unless the variable is changed.
const defaultFlywheelURL = "http://localhost:9891"

// withFlywheelURL adds the textbox variable that the explain links use: the
// address of Flywheel as the viewer's browser reaches it (Grafana only builds
// the link, the browser opens it).
func withFlywheelURL(b *dashboard.DashboardBuilder) *dashboard.DashboardBuilder {
	return b.WithVariable(dashboard.NewTextBoxVariableBuilder("flywheel_url").
		Label("Flywheel URL").
		Description("Flywheel's address as your browser reaches it; the explain links of the panels open /api/v1/explain there.").
		DefaultValue(dashboard.StringOrMap{String: cog.ToPtr(defaultFlywheelURL)}).
		Current(option(defaultFlywheelURL, defaultFlywheelURL)))
}

// explainLink is a data link from a panel to the events behind its number:
// Flywheel's explain endpoint for the KPI, the selected service and window,
// evaluated now (the value a stat panel shows). The all-services aggregate is
// service_name "all", which explain takes as the whole organisation.
func explainLink(kpi string) []cog.Builder[dashboard.DashboardLink] {
	return []cog.Builder[dashboard.DashboardLink]{explainLinkFor(kpi, "${service_name}")}
}

// explainLinkFor is explainLink for a service given by a field or variable
// reference (a table row's own service column).
func explainLinkFor(kpi, service string) *dashboard.DashboardLinkBuilder {
	return dashboard.NewDashboardLinkBuilder("Events behind this number (" + kpi + ")").
		Type(dashboard.DashboardLinkTypeLink).
		Url("${flywheel_url}/api/v1/explain?kpi=" + kpi + "&service=" + service + "&window=${window}").
		TargetBlank(true)
}

// teamVar lists the configured teams. The all-services aggregate carries
// team="all", which is no team: it is left out, beside Grafana's own All.
func teamVar() *dashboard.QueryVariableBuilder {
	return queryVar("team", "Team", `label_values(flywheel_deployment_frequency_per_day{`+jobMatcher+`, team!="all"}, team)`).
		IncludeAll(true).
		AllValue(".*").
		Current(option("All", "$__all"))
}

// withServiceVariables adds team, service_name and window. Team may be "All"
// (regex .*), which then lists every service including the "all" aggregate.
func withServiceVariables(b *dashboard.DashboardBuilder) *dashboard.DashboardBuilder {
	return b.
		WithVariable(teamVar()).
		WithVariable(queryVar("service_name", "Service", `label_values(flywheel_deployment_frequency_per_day{`+jobMatcher+`, team=~"$team"}, service_name)`).
			Description("A service, or all: every service together.").
			Current(option("all", "all"))).
		WithVariable(queryVar("window", "Window", `label_values(flywheel_deployment_frequency_per_day{`+jobMatcher+`}, window)`).
			Description("How far back each KPI looks from the moment it is computed: 30d is the 30 days before.").
			Sort(dashboard.VariableSortNumericalAsc).
			Current(option("30d", "30d")))
}

func queryVar(name, label, query string) *dashboard.QueryVariableBuilder {
	return dashboard.NewQueryVariableBuilder(name).
		Label(label).
		Datasource(ds).
		Query(dashboard.StringOrMap{String: cog.ToPtr(query)}).
		Definition(query).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Sort(dashboard.VariableSortAlphabeticalAsc)
}

func option(text, value string) dashboard.VariableOption {
	return dashboard.VariableOption{
		Text:  dashboard.StringOrArrayOfString{String: cog.ToPtr(text)},
		Value: dashboard.StringOrArrayOfString{String: cog.ToPtr(value)},
	}
}

// q is a range query; iq an instant query for stats and tables.
func q(expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().Datasource(ds).Expr(expr).LegendFormat(legend).Range()
}

func iq(expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().Datasource(ds).Expr(expr).LegendFormat(legend).Instant()
}

// tq is an instant query returned as a table, for merged multi-query tables.
func tq(expr, ref string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().Datasource(ds).Expr(expr).Instant().
		Format(prometheus.PromQueryFormatTable).RefId(ref)
}

func lastValue() *common.ReduceDataOptionsBuilder {
	return common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Values(false)
}

func statPanel(title, desc, unit string, w uint32) *stat.PanelBuilder {
	return stat.NewPanelBuilder().
		Title(title).Description(desc).Datasource(ds).
		Unit(unit).Height(5).Span(w).
		ReduceOptions(lastValue()).
		GraphMode(common.BigValueGraphModeArea).
		ColorMode(common.BigValueColorModeValue).
		NoValue("no data")
}

func thresholds(base string, steps ...any) *dashboard.ThresholdsConfigBuilder {
	ts := []dashboard.Threshold{{Value: nil, Color: base}}
	for i := 0; i+1 < len(steps); i += 2 {
		ts = append(ts, dashboard.Threshold{Value: cog.ToPtr(steps[i].(float64)), Color: steps[i+1].(string)})
	}
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(ts)
}

func tsPanel(title, desc, unit string, w, h uint32) *timeseries.PanelBuilder {
	return timeseries.NewPanelBuilder().
		Title(title).Description(desc).Datasource(ds).
		Unit(unit).Height(h).Span(w).
		FillOpacity(10).
		ShowPoints(common.VisibilityModeNever).
		Legend(common.NewVizLegendOptionsBuilder().
			DisplayMode(common.LegendDisplayModeTable).
			Placement(common.LegendPlacementBottom).
			ShowLegend(true).
			Calcs([]string{"lastNotNull", "mean"}))
}

func tablePanel(title, desc string, w, h uint32) *table.PanelBuilder {
	return table.NewPanelBuilder().Title(title).Description(desc).Datasource(ds).Height(h).Span(w).
		Footer(common.NewTableFooterOptionsBuilder().Show(false).Reducer([]string{"sum"}))
}

// mergeTable joins instant table queries on their labels, hides Prometheus's
// bookkeeping columns and renames each "Value #REF" column.
func mergeTable(p *table.PanelBuilder, hide []string, rename map[string]string) *table.PanelBuilder {
	excluded := map[string]bool{"Time": true, "__name__": true}
	for _, h := range hide {
		excluded[h] = true
	}
	return p.
		WithTransformation(dashboard.DataTransformerConfig{Id: "merge", Options: map[string]any{}}).
		WithTransformation(dashboard.DataTransformerConfig{Id: "organize", Options: map[string]any{
			"excludeByName": excluded,
			"renameByName":  rename,
		}})
}

func row(title string) *dashboard.RowBuilder { return dashboard.NewRowBuilder(title) }

// cellLink is a field override that links each cell of a per-service table
// column to the events behind it, for the service of the cell's row.
func cellLink(kpi string) dashboard.DynamicConfigValue {
	l, err := explainLinkFor(kpi, "${__data.fields.Service}").Build()
	if err != nil {
		panic(err) // a constant link that does not build is a bug in this file
	}
	return dashboard.DynamicConfigValue{Id: "links", Value: []dashboard.DashboardLink{l}}
}

// levelPanel shows one tile per DORA key, coloured by the level that ends its name.
func levelPanel(title, desc, expr string, w uint32) *stat.PanelBuilder {
	p := stat.NewPanelBuilder().
		Title(title).Description(desc).Datasource(ds).Height(4).Span(w).
		WithTarget(iq(expr, "{{kpi}}: {{level}}")).
		ReduceOptions(lastValue()).
		GraphMode(common.BigValueGraphModeNone).
		ColorMode(common.BigValueColorModeBackground).
		TextMode(common.BigValueTextModeName).
		NoValue("no level (no data)").
		ColorScheme(dashboard.NewFieldColorBuilder().Mode(dashboard.FieldColorModeIdFixed).FixedColor("text"))
	for _, lc := range [][2]string{{"elite", "green"}, {"high", "blue"}, {"medium", "orange"}, {"low", "red"}} {
		p = p.OverrideByRegexp(".*: "+lc[0]+"$", []dashboard.DynamicConfigValue{
			{Id: "color", Value: map[string]any{"mode": "fixed", "fixedColor": lc[1]}},
		})
	}
	return p
}

const (
	sel         = jobMatcher + `, service_name="$service_name", window="$window"`
	perService  = jobMatcher + `, service_name!="all", team=~"$team", window="$window"`
	secondsUnit = "s"
	// perDayUnit is deployment frequency's one unit on every dashboard.
	perDayUnit = "suffix:/day"
)

// Words the panels use, defined once so every description says the same.
const (
	countingDef = "A counting deployment is a successful deployment to a production environment; failed or non-production ones are not counted."
	windowDef   = "The window ($window) is the period before the moment of each value that the KPI covers."
	pickupDef   = "Pickup is the time from a pull request being opened to its first review by someone other than its author."
	stagesDef   = "Coding: first commit to pull request opened. " + pickupDef + " Review: first review to merge. Deploy: merge to the counting deployment that shipped it."
	resolveDef  = "Resolve is measured from the incident being triggered (the page) to its resolution; restore from the start of the impact (when users were first affected) to the resolution, so restore includes the time it took to notice."
	detectDef   = "Detect is the time from the start of the impact to the incident being triggered."
	stackDef    = "Each stage's own median, stacked: their sum is not the median lead time, because the pull requests in the middle of each stage are different ones."
	impactDef   = "Each KPI over the impact window (a configured length, 30 days by default) just before the initiative started and the same length just after it ended."
)

// serviceOrEach selects metric{matchers} for $service_name; for "all", one
// series per service of $team instead of the aggregate, so that a stacked
// chart shows each service's part. The second alternative is only non-empty
// when $service_name is "all" (a label cannot equal both).
func serviceOrEach(metric, matchers string) string {
	return metric + `{` + jobMatcher + `, service_name="$service_name", service_name!="all", ` + matchers + `}` +
		` or (` + metric + `{` + jobMatcher + `, service_name!="all", team=~"$team", ` + matchers + `}` +
		` and on() ` + metric + `{` + jobMatcher + `, service_name="all", service_name="$service_name", ` + matchers + `})`
}

// doraOverview: the four keys and rework, the level of each key, per service and team.
func doraOverview() *dashboard.DashboardBuilder {
	b := withFlywheelURL(withServiceVariables(newDashboard("flywheel-dora", "Flywheel / DORA overview",
		"The four DORA keys and rework rate for a service (or all), with the DORA performance level of each key.")))
	return b.
		WithRow(row("$service_name over the last $window")).
		WithPanel(levelPanel("DORA level per key", "Level of each key in the selected window: elite, high, medium or low, from the configured thresholds. A key without data has no level. For all services together, the deployment-frequency level is the level that at least half of the services reach.",
			`flywheel_dora_level{`+sel+`}`, 24)).
		WithPanel(statPanel("Deployment frequency", "Counting deployments per day over the window. "+countingDef+" For all services it is their sum: the organisation's throughput. It is not coloured by level: a sum of several services is no service's pace, and the level panel above rates all services by the level at least half of them reach.", perDayUnit, 5).
			Decimals(2).
			ColorMode(common.BigValueColorModeNone).
			WithTarget(iq(`flywheel_deployment_frequency_per_day{`+sel+`}`, "")).
			DataLinks(explainLink("deployment_frequency_per_day"))).
		WithPanel(statPanel("Lead time for changes (p50)", "Median time from a pull request's first commit to the counting deployment that shipped it, over the pull requests deployed in the window.", secondsUnit, 5).
			WithTarget(iq(`flywheel_lead_time_seconds{`+sel+`, quantile="0.5"}`, "")).
			DataLinks(explainLink("lead_time_seconds")).
			Thresholds(thresholds("green", 86400.0, "blue", 7*86400.0, "orange", 30*86400.0, "red"))).
		WithPanel(statPanel("Change failure rate", "Failed deployments ÷ counting deployments finished in the window. A deployment failed when an incident is attributed to it or a later deployment rolled it back. "+countingDef, "percentunit", 5).
			WithTarget(iq(`flywheel_change_failure_ratio{`+sel+`}`, "")).
			DataLinks(explainLink("change_failure_ratio")).
			Thresholds(thresholds("green", 0.0500001, "blue", 0.1000001, "orange", 0.1500001, "red"))).
		WithPanel(statPanel("Failed deployment recovery (p50)", "Median time from a failed deployment's finish to its recovery (its incident resolved, or the rollback deployed), over the failed deployments of the window.", secondsUnit, 5).
			WithTarget(iq(`flywheel_failed_deployment_recovery_seconds{`+sel+`, quantile="0.5"}`, "")).
			DataLinks(explainLink("failed_deployment_recovery_seconds")).
			Thresholds(thresholds("green", 3600.0, "blue", 86400.0, "orange", 7*86400.0, "red"))).
		WithPanel(statPanel("Rework rate", "Rework deployments ÷ counting deployments in the window. Rework is a rollback, a deployment shipping a fix, or one finished while an incident of the service was open. "+countingDef, "percentunit", 4).
			WithTarget(iq(`flywheel_rework_ratio{`+sel+`}`, "")).
			DataLinks(explainLink("rework_ratio")).
			Thresholds(thresholds("green", 0.1, "orange", 0.2, "red"))).
		WithRow(row("Trends")).
		WithPanel(tsPanel("Deployment frequency by service", "Counting deployments per day over the window before each point, one band per service (stacked: the top is the services' sum), or only the selected service. "+countingDef, perDayUnit, 12, 8).
			FillOpacity(60).Decimals(2).
			Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal)).
			WithTarget(q(serviceOrEach("flywheel_deployment_frequency_per_day", `window="$window"`), "{{service_name}}"))).
		WithPanel(tsPanel("Lead time for changes", "Median (p50) and 90th percentile (p90) of lead time over the window before each point. "+windowDef, secondsUnit, 12, 8).
			WithTarget(q(`flywheel_lead_time_seconds{`+sel+`}`, "p{{quantile}}"))).
		WithPanel(tsPanel("Change failure and rework rate", "Change failure rate (failed ÷ counting deployments) and rework rate (rework ÷ counting deployments) over the window before each point. "+countingDef, "percentunit", 12, 8).
			WithTarget(q(`flywheel_change_failure_ratio{`+sel+`}`, "change failure rate")).
			WithTarget(q(`flywheel_rework_ratio{`+sel+`}`, "rework rate"))).
		WithPanel(tsPanel("Failed deployment recovery time", "Median (p50) and 90th percentile (p90) of the time from a failed deployment to its recovery, over the window before each point.", secondsUnit, 12, 8).
			WithTarget(q(`flywheel_failed_deployment_recovery_seconds{`+sel+`}`, "p{{quantile}}"))).
		WithRow(row("Services of team $team")).
		WithPanel(mergeTable(tablePanel("Services", "The four keys and rework per service over the window. Click a value for the events behind it.", 24, 9).
			WithTarget(tq(`flywheel_deployment_frequency_per_day{`+perService+`}`, "A")).
			WithTarget(tq(`flywheel_lead_time_seconds{`+perService+`, quantile="0.5"}`, "B")).
			WithTarget(tq(`flywheel_change_failure_ratio{`+perService+`}`, "C")).
			WithTarget(tq(`flywheel_failed_deployment_recovery_seconds{`+perService+`, quantile="0.5"}`, "D")).
			WithTarget(tq(`flywheel_rework_ratio{`+perService+`}`, "E")).
			OverrideByName("Deployment frequency", []dashboard.DynamicConfigValue{{Id: "unit", Value: perDayUnit}, {Id: "decimals", Value: 2}, cellLink("deployment_frequency_per_day")}).
			OverrideByName("Lead time p50", []dashboard.DynamicConfigValue{{Id: "unit", Value: secondsUnit}, cellLink("lead_time_seconds")}).
			OverrideByName("Change failure rate", []dashboard.DynamicConfigValue{{Id: "unit", Value: "percentunit"}, cellLink("change_failure_ratio")}).
			OverrideByName("Recovery p50", []dashboard.DynamicConfigValue{{Id: "unit", Value: secondsUnit}, cellLink("failed_deployment_recovery_seconds")}).
			OverrideByName("Rework rate", []dashboard.DynamicConfigValue{{Id: "unit", Value: "percentunit"}, cellLink("rework_ratio")}),
			[]string{"window", "quantile", "job", "instance"},
			map[string]string{
				"service_name": "Service", "team": "Team",
				"Value #A": "Deployment frequency", "Value #B": "Lead time p50", "Value #C": "Change failure rate",
				"Value #D": "Recovery p50", "Value #E": "Rework rate",
			}))
}

// leadTime: the four lead-time stages over time.
func leadTime() *dashboard.DashboardBuilder {
	b := withFlywheelURL(withServiceVariables(newDashboard("flywheel-lead-time", "Flywheel / Lead time breakdown",
		"Where lead time goes: coding, pickup, review and deploy stages.")))
	lt := `flywheel_lead_time_distribution_seconds_bucket{` + jobMatcher + `, service_name="$service_name"}`
	return b.
		WithRow(row("$service_name, window $window")).
		WithPanel(statPanel("Lead time p50", "Median time from first commit to the counting deployment that shipped it, over the pull requests deployed in the window.", secondsUnit, 6).
			WithTarget(iq(`flywheel_lead_time_seconds{`+sel+`, quantile="0.5"}`, "")).
			DataLinks(explainLink("lead_time_seconds"))).
		WithPanel(statPanel("Lead time p90", "90% of the pull requests deployed in the window took at most this long from first commit to production.", secondsUnit, 6).
			WithTarget(iq(`flywheel_lead_time_seconds{`+sel+`, quantile="0.9"}`, "")).
			DataLinks(explainLink("lead_time_seconds"))).
		WithPanel(bargauge.NewPanelBuilder().
			Title("Stages now (p50 of each)").Description("The median of each stage over the window. " + stagesDef + " " + stackDef).Datasource(ds).
			Height(5).Span(12).Unit(secondsUnit).
			Orientation(common.VizOrientationHorizontal).
			DisplayMode(common.BarGaugeDisplayModeGradient).
			ReduceOptions(lastValue()).
			WithTarget(iq(`flywheel_lead_time_stage_seconds{`+sel+`, quantile="0.5"}`, "{{stage}}"))).
		WithPanel(tsPanel("Stages over time: each stage's own median, stacked (the sum is not the median lead time)", stackDef+" "+stagesDef, secondsUnit, 24, 10).
			FillOpacity(60).
			Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal)).
			WithTarget(q(`flywheel_lead_time_stage_seconds{`+sel+`, quantile="0.5"}`, "{{stage}}"))).
		WithPanel(tsPanel("Stages over time (p90)", "The 90th percentile of each stage over the window before each point, one line per stage. "+stagesDef, secondsUnit, 12, 8).
			WithTarget(q(`flywheel_lead_time_stage_seconds{`+sel+`, quantile="0.9"}`, "{{stage}}"))).
		WithPanel(tsPanel("Lead time by service (p50)", "Median lead time of each service of the team, over the window before each point.", secondsUnit, 12, 8).
			WithTarget(q(`flywheel_lead_time_seconds{`+perService+`, quantile="0.5"}`, "{{service_name}}"))).
		WithPanel(tsPanel("Lead time of changes deployed in the 7 days before each point", "p50 and p90 of the lead times of the pull requests deployed in the 7 days before each point, from the lead-time histogram (so within its buckets' precision). Deployments are too few for shorter spans. Empty where nothing was deployed in those 7 days.", secondsUnit, 12, 8).
			WithTarget(q(`histogram_quantile(0.5, sum by (le) (increase(`+lt+`[7d])))`, "p50")).
			WithTarget(q(`histogram_quantile(0.9, sum by (le) (increase(`+lt+`[7d])))`, "p90"))).
		WithPanel(mergeTable(tablePanel("Stages by service (p50 of each)", "The median of each stage per service over the window. "+stagesDef+" The row does not add up to the median lead time: each column is its own median.", 12, 8).
			WithTarget(tq(`flywheel_lead_time_stage_seconds{`+perService+`, quantile="0.5", stage="coding"}`, "A")).
			WithTarget(tq(`flywheel_lead_time_stage_seconds{`+perService+`, quantile="0.5", stage="pickup"}`, "B")).
			WithTarget(tq(`flywheel_lead_time_stage_seconds{`+perService+`, quantile="0.5", stage="review"}`, "C")).
			WithTarget(tq(`flywheel_lead_time_stage_seconds{`+perService+`, quantile="0.5", stage="deploy"}`, "D")).
			Unit(secondsUnit),
			[]string{"window", "quantile", "stage", "job", "instance"},
			map[string]string{"service_name": "Service", "team": "Team",
				"Value #A": "Coding", "Value #B": "Pickup", "Value #C": "Review", "Value #D": "Deploy"}))
}

// incidentResponse: on-call view of incident response by service and urgency.
func incidentResponse() *dashboard.DashboardBuilder {
	b := withFlywheelURL(withServiceVariables(newDashboard("flywheel-incidents", "Flywheel / Incident response",
		"For on-call leads: how fast incidents are detected, acknowledged and resolved, by service and urgency.")))
	inc := sel + `, urgency="all", quantile="0.5"`
	byUrgency := sel + `, urgency!="all", quantile="0.5"`
	ttr := `flywheel_incident_time_to_resolve_distribution_seconds_bucket{` + jobMatcher + `, service_name="$service_name"}`
	return b.
		WithRow(row("$service_name, window $window")).
		WithPanel(statPanel("Open incidents", "Incidents triggered and not yet resolved, all urgencies, as of the last collection.", "short", 4).
			GraphMode(common.BigValueGraphModeNone).
			WithTarget(iq(`flywheel_open_incidents{`+jobMatcher+`, service_name="$service_name", urgency="all"}`, "")).
			Thresholds(thresholds("green", 1.0, "red"))).
		WithPanel(statPanel("Incidents in window", "Incidents triggered in the window, all urgencies. "+windowDef, "short", 4).
			WithTarget(iq(`flywheel_incidents_in_window{`+sel+`, urgency="all"}`, "")).
			DataLinks(explainLink("incidents.count"))).
		WithPanel(statPanel("Time to detect (p50)", "Median over the incidents of the window. "+detectDef+" Incidents without a known impact start are left out.", secondsUnit, 4).
			WithTarget(iq(`flywheel_incident_time_to_detect_seconds{`+inc+`}`, "")).
			DataLinks(explainLink("incidents.time_to_detect_seconds"))).
		WithPanel(statPanel("Time to acknowledge (p50)", "Median over the incidents of the window of the time from the incident being triggered to its first acknowledgement by a responder.", secondsUnit, 4).
			WithTarget(iq(`flywheel_incident_time_to_acknowledge_seconds{`+inc+`}`, "")).
			DataLinks(explainLink("incidents.time_to_acknowledge_seconds"))).
		WithPanel(statPanel("Time to resolve (p50)", "Median over the incidents of the window. "+resolveDef, secondsUnit, 4).
			WithTarget(iq(`flywheel_incident_time_to_resolve_seconds{`+inc+`}`, "")).
			DataLinks(explainLink("incidents.time_to_resolve_seconds"))).
		WithPanel(statPanel("Time to restore (p50)", "Median over the incidents of the window. "+resolveDef+" Incidents without a known impact start are left out.", secondsUnit, 4).
			WithTarget(iq(`flywheel_incident_time_to_restore_seconds{`+inc+`}`, "")).
			DataLinks(explainLink("incidents.time_to_restore_seconds"))).
		WithRow(row("By urgency and service")).
		WithPanel(tsPanel("Time to acknowledge by urgency (p50)", "Median time from trigger to first acknowledgement, per urgency, over the window before each point.", secondsUnit, 12, 8).
			WithTarget(q(`flywheel_incident_time_to_acknowledge_seconds{`+byUrgency+`}`, "{{urgency}}"))).
		WithPanel(tsPanel("Time to resolve by urgency (p50)", "Median time to resolve per urgency, over the window before each point. "+resolveDef, secondsUnit, 12, 8).
			WithTarget(q(`flywheel_incident_time_to_resolve_seconds{`+byUrgency+`}`, "{{urgency}}"))).
		WithPanel(tsPanel("Time to detect by service (p50)", "Median time to detect per service of the team, over the window before each point. "+detectDef, secondsUnit, 8, 8).
			WithTarget(q(`flywheel_incident_time_to_detect_seconds{`+perService+`, urgency="all", quantile="0.5"}`, "{{service_name}}"))).
		WithPanel(tsPanel("Time to acknowledge by service (p50)", "Median time from trigger to first acknowledgement per service of the team, over the window before each point.", secondsUnit, 8, 8).
			WithTarget(q(`flywheel_incident_time_to_acknowledge_seconds{`+perService+`, urgency="all", quantile="0.5"}`, "{{service_name}}"))).
		WithPanel(tsPanel("Time to resolve by service (p50)", "Median time to resolve per service of the team, over the window before each point. "+resolveDef, secondsUnit, 8, 8).
			WithTarget(q(`flywheel_incident_time_to_resolve_seconds{`+perService+`, urgency="all", quantile="0.5"}`, "{{service_name}}"))).
		WithPanel(tsPanel("Incidents in the window, by urgency", "Incidents triggered in the window before each point, one band per urgency (stacked: the top is every urgency). "+windowDef, "short", 12, 8).
			FillOpacity(60).
			Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal)).
			WithTarget(q(`flywheel_incidents_in_window{`+sel+`, urgency!="all"}`, "{{urgency}}"))).
		WithPanel(tsPanel("Time to resolve of incidents resolved in the 30 days before each point", "p50 and p90 of the time to resolve of the incidents resolved in the 30 days before each point, from the time-to-resolve histogram (so within its buckets' precision). Incidents are too rare for shorter spans. "+resolveDef, secondsUnit, 12, 8).
			WithTarget(q(`histogram_quantile(0.5, sum by (le) (increase(`+ttr+`[30d])))`, "p50")).
			WithTarget(q(`histogram_quantile(0.9, sum by (le) (increase(`+ttr+`[30d])))`, "p90"))).
		WithPanel(mergeTable(tablePanel("Service × urgency", "Per service and urgency: incidents triggered in the window, incidents open now, and the median times to acknowledge and resolve over the window. "+resolveDef, 24, 10).
			WithTarget(tq(`flywheel_incidents_in_window{`+perService+`}`, "A")).
			WithTarget(tq(`flywheel_open_incidents{`+jobMatcher+`, service_name!="all", team=~"$team"}`, "B")).
			WithTarget(tq(`flywheel_incident_time_to_acknowledge_seconds{`+perService+`, quantile="0.5"}`, "C")).
			WithTarget(tq(`flywheel_incident_time_to_resolve_seconds{`+perService+`, quantile="0.5"}`, "D")).
			OverrideByName("Acknowledge p50", []dashboard.DynamicConfigValue{{Id: "unit", Value: secondsUnit}}).
			OverrideByName("Resolve p50", []dashboard.DynamicConfigValue{{Id: "unit", Value: secondsUnit}}),
			[]string{"window", "quantile", "job", "instance"},
			map[string]string{"service_name": "Service", "team": "Team", "urgency": "Urgency",
				"Value #A": "Incidents", "Value #B": "Open now", "Value #C": "Acknowledge p50", "Value #D": "Resolve p50"}))
}

// impactKinds splits the tune-up impact KPIs by unit, one table each, so that
// every value shows its unit: a column holds one kind of number only.
var impactKinds = []struct {
	title, kpis, unit string
	decimals          float64
}{
	{"durations", `.*_seconds`, secondsUnit, 0},
	{"deployment frequency", `deployment_frequency_per_day`, perDayUnit, 2},
	{"rates", `.*_ratio|.*_share`, "percentunit", 1},
}

// innovationTuneUp: work split and tune-up impact.
func innovationTuneUp() *dashboard.DashboardBuilder {
	b := withFlywheelURL(withServiceVariables(newDashboard("flywheel-innovation", "Flywheel / Innovation vs tune-up",
		"How merged work splits between innovation, tune-ups and fixes, and whether each tune-up initiative made delivery faster or safer.")))
	merged := `flywheel_changes_merged{` + jobMatcher + `, service_name="$service_name"}`
	b = b.
		WithRow(row("Work split for $service_name")).
		WithPanel(statPanel("Tune-up share", "Share of the pull requests merged in the window that are tune-ups (work that improves how the team delivers: refactoring, tooling, tests, dependencies): tune-up ÷ (fix + tune-up + innovation). Unclassified pull requests are left out.", "percentunit", 6).
			WithTarget(iq(`flywheel_tune_up_share{`+sel+`}`, "")).
			DataLinks(explainLink("tune_up_share"))).
		WithPanel(piechart.NewPanelBuilder().
			Title("Merged changes by class (time range)").
			Description("Pull requests merged during the dashboard's time range, by class: innovation (new features), tune-up, fix, or unclassified.").
			Datasource(ds).Height(8).Span(6).
			ReduceOptions(lastValue()).
			PieType(piechart.PieChartTypeDonut).
			WithTarget(iq(`sum by (class) (delta(`+merged+`[$__range]))`, "{{class}}"))).
		WithPanel(tsPanel("Tune-up share over time", "Tune-up share over the window before each point, for the selected service and for each service of the team.", "percentunit", 12, 8).
			WithTarget(q(`flywheel_tune_up_share{`+sel+`}`, "$service_name")).
			WithTarget(q(`flywheel_tune_up_share{`+perService+`}`, "{{service_name}}"))).
		WithPanel(tsPanel("Merged changes per week by class", "Pull requests merged in each period of 7 days (longer on a long time range), by class: the periods follow each other without overlap, so every merge is in one bar.", "short", 24, 8).
			DrawStyle(common.GraphDrawStyleBars).FillOpacity(80).
			Interval("1w").
			Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal)).
			WithTarget(q(`sum by (class) (delta(`+merged+`[$__interval]))`, "{{class}}"))).
		WithRow(row("Tune-up impact"))
	for _, k := range impactKinds {
		m := `{` + jobMatcher + `, kpi=~"` + k.kpis + `"}`
		p := tablePanel("Tune-up initiatives: before and after ("+k.title+")",
			impactDef+" Relative change is (after − before) ÷ before. For durations, the p-value of a two-sided Mann-Whitney U test: below 0.05, the after-values are unlikely to come from the same distribution as the before-values; higher, the difference may be chance.", 8, 10).
			WithTarget(tq(`flywheel_tune_up_impact_before`+m, "A")).
			WithTarget(tq(`flywheel_tune_up_impact_after`+m, "B")).
			WithTarget(tq(`flywheel_tune_up_impact_relative_change`+m, "C")).
			OverrideByName("Before", []dashboard.DynamicConfigValue{{Id: "unit", Value: k.unit}, {Id: "decimals", Value: k.decimals}}).
			OverrideByName("After", []dashboard.DynamicConfigValue{{Id: "unit", Value: k.unit}, {Id: "decimals", Value: k.decimals}}).
			OverrideByName("Relative change", []dashboard.DynamicConfigValue{{Id: "unit", Value: "percentunit"}, {Id: "decimals", Value: 1}})
		rename := map[string]string{"initiative": "Initiative", "kpi": "KPI",
			"Value #A": "Before", "Value #B": "After", "Value #C": "Relative change"}
		if k.unit == secondsUnit {
			p = p.WithTarget(tq(`flywheel_tune_up_impact_p_value`+m, "D")).
				OverrideByName("p-value", []dashboard.DynamicConfigValue{{Id: "decimals", Value: 4}})
			rename["Value #D"] = "p-value"
		}
		b = b.WithPanel(mergeTable(p, []string{"job", "instance"}, rename))
	}
	return b
}

// collectorHealth: the collector's own health and data quality.
func collectorHealth() *dashboard.DashboardBuilder {
	b := newDashboard("flywheel-collector", "Flywheel / Collector health",
		"Is Flywheel collecting? Sync success, lag, errors, API usage and rate limits per source, and data-quality counts that explain a wrong number.").
		WithVariable(teamVar())
	j := `{` + jobMatcher + `}`
	dq := `{` + jobMatcher + `, team=~"$team"}`
	return b.
		WithRow(row("Sources")).
		WithPanel(statPanel("Sync lag", "Time since each source's last successful sync. It grows when syncs fail or stop; all numbers are as of that sync.", secondsUnit, 8).
			GraphMode(common.BigValueGraphModeNone).
			WithTarget(iq(`flywheel_source_sync_lag_seconds`+j, "{{source}}")).
			Thresholds(thresholds("green", 3600.0, "orange", 4*3600.0, "red"))).
		WithPanel(statPanel("Snapshot age", "Time since the KPIs Flywheel serves were computed; they are recomputed after each sync.", secondsUnit, 4).
			GraphMode(common.BigValueGraphModeNone).
			WithTarget(iq(`time() - flywheel_snapshot_timestamp_seconds`+j, ""))).
		WithPanel(statPanel("Events stored", "Deployments, merged pull requests and incidents in Flywheel's store, all history.", "short", 12).
			GraphMode(common.BigValueGraphModeNone).
			WithTarget(iq(`flywheel_deployments_stored`+j, "deployments")).
			WithTarget(iq(`flywheel_changes_stored`+j, "changes")).
			WithTarget(iq(`flywheel_incidents_stored`+j, "incidents"))).
		WithPanel(tsPanel("Time since last successful sync", "Age of each source's last successful sync at each point: a sawtooth that drops to zero at every successful sync, and climbs while syncs fail.", secondsUnit, 12, 8).
			WithTarget(q(`time() - flywheel_source_last_success_timestamp_seconds`+j, "{{source}}"))).
		WithPanel(tsPanel("Sync duration", "How long the last sync of each source took.", secondsUnit, 12, 8).
			WithTarget(q(`flywheel_source_sync_duration_seconds`+j, "{{source}}"))).
		WithPanel(tsPanel("Sync errors", "Failed syncs per source in each interval of the chart.", "short", 8, 8).
			WithTarget(q(`increase(flywheel_source_sync_errors_total`+j+`[$__rate_interval])`, "{{source}}"))).
		WithPanel(tsPanel("API requests by status code", "Requests per second Flywheel made to each source's API, by HTTP status code; 429 and 403 mean rate limiting.", "reqps", 8, 8).
			WithTarget(q(`sum by (source, code) (rate(flywheel_api_requests_total`+j+`[$__rate_interval]))`, "{{source}} {{code}}"))).
		WithPanel(tsPanel("API rate limit remaining", "Smallest budget left across the source's API resources.", "short", 8, 8).
			WithTarget(q(`flywheel_api_rate_limit_remaining`+j, "{{source}}"))).
		WithRow(row("Data quality")).
		WithPanel(mergeTable(tablePanel("Data quality by service", "Counts over all history; a nonzero value explains numbers that look wrong. Unattributed incidents: attributed to no deployment. Undeployed changes: merged pull requests no counting deployment shipped. Mapped by time fallback: matched to a deployment by time, not by commits. Inconsistent durations: negative durations left out. Non-counting deployments: failed or not to production. Unparsed impact starts: an impact-start line that is not a time. "+countingDef, 24, 9).
			WithTarget(tq(`flywheel_unattributed_incidents`+dq, "A")).
			WithTarget(tq(`flywheel_undeployed_changes`+dq, "B")).
			WithTarget(tq(`flywheel_deployments_without_changes`+dq, "C")).
			WithTarget(tq(`flywheel_changes_mapped_by_time_fallback`+dq, "D")).
			WithTarget(tq(`flywheel_inconsistent_durations`+dq, "E")).
			WithTarget(tq(`flywheel_non_counting_deployments`+dq, "F")).
			WithTarget(tq(`flywheel_impact_start_unparsed_incidents`+dq, "G")),
			[]string{"job", "instance"},
			map[string]string{"service_name": "Service", "team": "Team",
				"Value #A": "Unattributed incidents", "Value #B": "Undeployed changes", "Value #C": "Deployments without changes",
				"Value #D": "Mapped by time fallback", "Value #E": "Inconsistent durations", "Value #F": "Non-counting deployments",
				"Value #G": "Unparsed impact starts"}))
}
