// Command gen writes Flywheel's Grafana dashboards (deploy/grafana/dashboards/*.json)
// from code, using grafana-foundation-sdk. The dashboards query only the metric names
// of docs/metrics.md; the test next to it fails when the committed JSON is stale.
//
//	go run ./deploy/grafana/gen -out deploy/grafana/dashboards
//
// Variables used in queries are limited to $service_name, $team, $window,
// $__rate_interval, $__interval and $__range, which the real-Prometheus e2e test
// substitutes before evaluating every expression.
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
			Type("prometheus"))
}

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

// withServiceVariables adds team, service_name and window. Team may be "All"
// (regex .*), which then lists every service including the "all" aggregate.
func withServiceVariables(b *dashboard.DashboardBuilder) *dashboard.DashboardBuilder {
	return b.
		WithVariable(queryVar("team", "Team", `label_values(flywheel_deployments, team)`).
			IncludeAll(true).
			AllValue(".*").
			Current(option("All", "$__all"))).
		WithVariable(queryVar("service_name", "Service", `label_values(flywheel_deployments{team=~"$team"}, service_name)`).
			Current(option("all", "all"))).
		WithVariable(queryVar("window", "Window", `label_values(flywheel_deployment_frequency_per_day, window)`).
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
	sel         = `service_name="$service_name", window="$window"`
	perService  = `service_name!="all", team=~"$team", window="$window"`
	secondsUnit = "s"
)

// doraOverview: the four keys and rework, the level of each key, per service and team.
func doraOverview() *dashboard.DashboardBuilder {
	b := withFlywheelURL(withServiceVariables(newDashboard("flywheel-dora", "Flywheel / DORA overview",
		"The four DORA keys and rework rate for a service (or all), with the DORA performance level of each key.")))
	return b.
		WithRow(row("$service_name over the last $window")).
		WithPanel(levelPanel("DORA level per key", "Level of each key in the selected window: elite, high, medium or low. A key without data has no level.",
			`flywheel_dora_level{`+sel+`}`, 24)).
		WithPanel(statPanel("Deployment frequency", "Counting deployments per day in the window.", "suffix:/day", 5).
			WithTarget(iq(`flywheel_deployment_frequency_per_day{`+sel+`}`, "")).
			DataLinks(explainLink("deployment_frequency_per_day")).
			Thresholds(thresholds("red", 1.0/30, "orange", 1.0/7, "blue", 1.0, "green"))).
		WithPanel(statPanel("Lead time for changes (p50)", "First commit to production, median of PRs deployed in the window.", secondsUnit, 5).
			WithTarget(iq(`flywheel_lead_time_seconds{`+sel+`, quantile="0.5"}`, "")).
			DataLinks(explainLink("lead_time_seconds")).
			Thresholds(thresholds("green", 86400.0, "blue", 7*86400.0, "orange", 30*86400.0, "red"))).
		WithPanel(statPanel("Change failure rate", "Failed deployments ÷ counting deployments in the window.", "percentunit", 5).
			WithTarget(iq(`flywheel_change_failure_ratio{`+sel+`}`, "")).
			DataLinks(explainLink("change_failure_ratio")).
			Thresholds(thresholds("green", 0.0500001, "blue", 0.1000001, "orange", 0.1500001, "red"))).
		WithPanel(statPanel("Failed deployment recovery (p50)", "Deployment finish to recovery (incident resolved or rollback), median.", secondsUnit, 5).
			WithTarget(iq(`flywheel_failed_deployment_recovery_seconds{`+sel+`, quantile="0.5"}`, "")).
			DataLinks(explainLink("failed_deployment_recovery_seconds")).
			Thresholds(thresholds("green", 3600.0, "blue", 86400.0, "orange", 7*86400.0, "red"))).
		WithPanel(statPanel("Rework rate", "Rollbacks, fix deployments and deployments during an open incident ÷ counting deployments.", "percentunit", 4).
			WithTarget(iq(`flywheel_rework_ratio{`+sel+`}`, "")).
			DataLinks(explainLink("rework_ratio")).
			Thresholds(thresholds("green", 0.1, "orange", 0.2, "red"))).
		WithRow(row("Trends")).
		WithPanel(tsPanel("Deployments per day", "Counting deployments added to the stored history in the day before each point, by service: the change of the all-history count over a day, so a corrected deployment shows as one fewer.", "short", 12, 8).
			DrawStyle(common.GraphDrawStyleBars).FillOpacity(80).
			Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal)).
			WithTarget(q(`delta(flywheel_deployments{service_name!="all", team=~"$team"}[1d])`, "{{service_name}}"))).
		WithPanel(tsPanel("Lead time for changes", "p50 and p90 over the selected window, as evaluated at each point in time.", secondsUnit, 12, 8).
			WithTarget(q(`flywheel_lead_time_seconds{`+sel+`}`, "p{{quantile}}"))).
		WithPanel(tsPanel("Change failure and rework rate", "", "percentunit", 12, 8).
			WithTarget(q(`flywheel_change_failure_ratio{`+sel+`}`, "change failure rate")).
			WithTarget(q(`flywheel_rework_ratio{`+sel+`}`, "rework rate"))).
		WithPanel(tsPanel("Failed deployment recovery time", "", secondsUnit, 12, 8).
			WithTarget(q(`flywheel_failed_deployment_recovery_seconds{`+sel+`}`, "p{{quantile}}"))).
		WithRow(row("Services of team $team")).
		WithPanel(mergeTable(tablePanel("Services", "The four keys and rework per service in the window.", 24, 9).
			WithTarget(tq(`flywheel_deployment_frequency_per_day{`+perService+`}`, "A")).
			WithTarget(tq(`flywheel_lead_time_seconds{`+perService+`, quantile="0.5"}`, "B")).
			WithTarget(tq(`flywheel_change_failure_ratio{`+perService+`}`, "C")).
			WithTarget(tq(`flywheel_failed_deployment_recovery_seconds{`+perService+`, quantile="0.5"}`, "D")).
			WithTarget(tq(`flywheel_rework_ratio{`+perService+`}`, "E")).
			OverrideByName("Deploys/day", []dashboard.DynamicConfigValue{{Id: "decimals", Value: 2}, cellLink("deployment_frequency_per_day")}).
			OverrideByName("Lead time p50", []dashboard.DynamicConfigValue{{Id: "unit", Value: "s"}, cellLink("lead_time_seconds")}).
			OverrideByName("Change failure rate", []dashboard.DynamicConfigValue{{Id: "unit", Value: "percentunit"}, cellLink("change_failure_ratio")}).
			OverrideByName("Recovery p50", []dashboard.DynamicConfigValue{{Id: "unit", Value: "s"}, cellLink("failed_deployment_recovery_seconds")}).
			OverrideByName("Rework rate", []dashboard.DynamicConfigValue{{Id: "unit", Value: "percentunit"}, cellLink("rework_ratio")}),
			[]string{"window", "quantile"},
			map[string]string{
				"service_name": "Service", "team": "Team",
				"Value #A": "Deploys/day", "Value #B": "Lead time p50", "Value #C": "Change failure rate",
				"Value #D": "Recovery p50", "Value #E": "Rework rate",
			}))
}

// leadTime: the four lead-time stages over time.
func leadTime() *dashboard.DashboardBuilder {
	b := withFlywheelURL(withServiceVariables(newDashboard("flywheel-lead-time", "Flywheel / Lead time breakdown",
		"Where lead time goes: coding, pickup, review and deploy stages.")))
	return b.
		WithRow(row("$service_name, window $window")).
		WithPanel(statPanel("Lead time p50", "", secondsUnit, 6).WithTarget(iq(`flywheel_lead_time_seconds{`+sel+`, quantile="0.5"}`, "")).
			DataLinks(explainLink("lead_time_seconds"))).
		WithPanel(statPanel("Lead time p90", "", secondsUnit, 6).WithTarget(iq(`flywheel_lead_time_seconds{`+sel+`, quantile="0.9"}`, "")).
			DataLinks(explainLink("lead_time_seconds"))).
		WithPanel(bargauge.NewPanelBuilder().
			Title("Stages now (p50)").Description("Median of each stage over the window.").Datasource(ds).
			Height(5).Span(12).Unit(secondsUnit).
			Orientation(common.VizOrientationHorizontal).
			DisplayMode(common.BarGaugeDisplayModeGradient).
			ReduceOptions(lastValue()).
			WithTarget(iq(`flywheel_lead_time_stage_seconds{`+sel+`, quantile="0.5"}`, "{{stage}}"))).
		WithPanel(tsPanel("Stages over time (p50, stacked)", "The p50 of each stage, stacked: a rough split of the median lead time.", secondsUnit, 24, 10).
			FillOpacity(60).
			Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal)).
			WithTarget(q(`flywheel_lead_time_stage_seconds{`+sel+`, quantile="0.5"}`, "{{stage}}"))).
		WithPanel(tsPanel("Stages over time (p90)", "", secondsUnit, 12, 8).
			WithTarget(q(`flywheel_lead_time_stage_seconds{`+sel+`, quantile="0.9"}`, "{{stage}}"))).
		WithPanel(tsPanel("Lead time by service (p50)", "", secondsUnit, 12, 8).
			WithTarget(q(`flywheel_lead_time_seconds{`+perService+`, quantile="0.5"}`, "{{service_name}}"))).
		WithPanel(tsPanel("Lead time of changes deployed in each interval (histogram)", "From the all-history histogram: quantiles of the PRs deployed during each step.", secondsUnit, 12, 8).
			WithTarget(q(`histogram_quantile(0.5, sum by (le) (increase(flywheel_lead_time_distribution_seconds_bucket{service_name="$service_name"}[$__rate_interval])))`, "p50")).
			WithTarget(q(`histogram_quantile(0.9, sum by (le) (increase(flywheel_lead_time_distribution_seconds_bucket{service_name="$service_name"}[$__rate_interval])))`, "p90"))).
		WithPanel(mergeTable(tablePanel("Stages by service (p50)", "", 12, 8).
			WithTarget(tq(`flywheel_lead_time_stage_seconds{`+perService+`, quantile="0.5", stage="coding"}`, "A")).
			WithTarget(tq(`flywheel_lead_time_stage_seconds{`+perService+`, quantile="0.5", stage="pickup"}`, "B")).
			WithTarget(tq(`flywheel_lead_time_stage_seconds{`+perService+`, quantile="0.5", stage="review"}`, "C")).
			WithTarget(tq(`flywheel_lead_time_stage_seconds{`+perService+`, quantile="0.5", stage="deploy"}`, "D")).
			Unit(secondsUnit),
			[]string{"window", "quantile", "stage"},
			map[string]string{"service_name": "Service", "team": "Team",
				"Value #A": "Coding", "Value #B": "Pickup", "Value #C": "Review", "Value #D": "Deploy"}))
}

// incidentResponse: on-call view of incident response by service and urgency.
func incidentResponse() *dashboard.DashboardBuilder {
	b := withFlywheelURL(withServiceVariables(newDashboard("flywheel-incidents", "Flywheel / Incident response",
		"For on-call leads: how fast incidents are detected, acknowledged and resolved, by service and urgency.")))
	inc := `service_name="$service_name", window="$window", urgency="all", quantile="0.5"`
	return b.
		WithRow(row("$service_name, window $window")).
		WithPanel(statPanel("Open incidents", "Every incident open now, all urgencies.", "short", 4).
			GraphMode(common.BigValueGraphModeNone).
			WithTarget(iq(`flywheel_open_incidents{service_name="$service_name", urgency="all"}`, "")).
			Thresholds(thresholds("green", 1.0, "red"))).
		WithPanel(statPanel("Incidents in window", "", "short", 4).
			WithTarget(iq(`flywheel_incidents_in_window{service_name="$service_name", window="$window", urgency="all"}`, "")).
			DataLinks(explainLink("incidents.count"))).
		WithPanel(statPanel("Time to detect (p50)", "Impact start to trigger.", secondsUnit, 4).
			WithTarget(iq(`flywheel_incident_time_to_detect_seconds{`+inc+`}`, "")).
			DataLinks(explainLink("incidents.time_to_detect_seconds"))).
		WithPanel(statPanel("Time to acknowledge (p50)", "Trigger to first acknowledgement.", secondsUnit, 4).
			WithTarget(iq(`flywheel_incident_time_to_acknowledge_seconds{`+inc+`}`, "")).
			DataLinks(explainLink("incidents.time_to_acknowledge_seconds"))).
		WithPanel(statPanel("Time to resolve (p50)", "Trigger to resolution.", secondsUnit, 4).
			WithTarget(iq(`flywheel_incident_time_to_resolve_seconds{`+inc+`}`, "")).
			DataLinks(explainLink("incidents.time_to_resolve_seconds"))).
		WithPanel(statPanel("Time to restore (p50)", "Impact start to resolution.", secondsUnit, 4).
			WithTarget(iq(`flywheel_incident_time_to_restore_seconds{`+inc+`}`, "")).
			DataLinks(explainLink("incidents.time_to_restore_seconds"))).
		WithRow(row("By urgency and service")).
		WithPanel(tsPanel("Time to acknowledge by urgency (p50)", "", secondsUnit, 12, 8).
			WithTarget(q(`flywheel_incident_time_to_acknowledge_seconds{service_name="$service_name", window="$window", urgency!="all", quantile="0.5"}`, "{{urgency}}"))).
		WithPanel(tsPanel("Time to resolve by urgency (p50)", "", secondsUnit, 12, 8).
			WithTarget(q(`flywheel_incident_time_to_resolve_seconds{service_name="$service_name", window="$window", urgency!="all", quantile="0.5"}`, "{{urgency}}"))).
		WithPanel(tsPanel("Time to detect by service (p50)", "", secondsUnit, 8, 8).
			WithTarget(q(`flywheel_incident_time_to_detect_seconds{`+perService+`, urgency="all", quantile="0.5"}`, "{{service_name}}"))).
		WithPanel(tsPanel("Time to acknowledge by service (p50)", "", secondsUnit, 8, 8).
			WithTarget(q(`flywheel_incident_time_to_acknowledge_seconds{`+perService+`, urgency="all", quantile="0.5"}`, "{{service_name}}"))).
		WithPanel(tsPanel("Time to resolve by service (p50)", "", secondsUnit, 8, 8).
			WithTarget(q(`flywheel_incident_time_to_resolve_seconds{`+perService+`, urgency="all", quantile="0.5"}`, "{{service_name}}"))).
		WithPanel(tsPanel("Incidents triggered per day", "Incidents added to the stored history in the day before each point, by urgency: the change of the all-history count over a day.", "short", 12, 8).
			DrawStyle(common.GraphDrawStyleBars).FillOpacity(80).
			Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal)).
			WithTarget(q(`delta(flywheel_incidents{service_name="$service_name", urgency!="all"}[1d])`, "{{urgency}}"))).
		WithPanel(tsPanel("Time to resolve of incidents in each interval (histogram)", "", secondsUnit, 12, 8).
			WithTarget(q(`histogram_quantile(0.5, sum by (le) (increase(flywheel_incident_time_to_resolve_distribution_seconds_bucket{service_name="$service_name"}[$__rate_interval])))`, "p50")).
			WithTarget(q(`histogram_quantile(0.9, sum by (le) (increase(flywheel_incident_time_to_resolve_distribution_seconds_bucket{service_name="$service_name"}[$__rate_interval])))`, "p90"))).
		WithPanel(mergeTable(tablePanel("Service × urgency", "Window $window; p50 durations.", 24, 10).
			WithTarget(tq(`flywheel_incidents_in_window{`+perService+`}`, "A")).
			WithTarget(tq(`flywheel_open_incidents{service_name!="all", team=~"$team"}`, "B")).
			WithTarget(tq(`flywheel_incident_time_to_acknowledge_seconds{`+perService+`, quantile="0.5"}`, "C")).
			WithTarget(tq(`flywheel_incident_time_to_resolve_seconds{`+perService+`, quantile="0.5"}`, "D")).
			OverrideByName("Acknowledge p50", []dashboard.DynamicConfigValue{{Id: "unit", Value: "s"}}).
			OverrideByName("Resolve p50", []dashboard.DynamicConfigValue{{Id: "unit", Value: "s"}}),
			[]string{"window", "quantile"},
			map[string]string{"service_name": "Service", "team": "Team", "urgency": "Urgency",
				"Value #A": "Incidents", "Value #B": "Open now", "Value #C": "Acknowledge p50", "Value #D": "Resolve p50"}))
}

// innovationTuneUp: work split and tune-up impact.
func innovationTuneUp() *dashboard.DashboardBuilder {
	b := withFlywheelURL(withServiceVariables(newDashboard("flywheel-innovation", "Flywheel / Innovation vs tune-up",
		"How merged work splits between innovation, tune-ups and fixes, and whether each tune-up initiative made delivery faster or safer.")))
	return b.
		WithRow(row("Work split for $service_name")).
		WithPanel(statPanel("Tune-up share", "tune_up ÷ (fix + tune_up + innovation) merged in the window.", "percentunit", 6).
			WithTarget(iq(`flywheel_tune_up_share{`+sel+`}`, "")).
			DataLinks(explainLink("tune_up_share"))).
		WithPanel(piechart.NewPanelBuilder().
			Title("Merged changes by class (time range)").Datasource(ds).Height(8).Span(6).
			ReduceOptions(lastValue()).
			PieType(piechart.PieChartTypeDonut).
			WithTarget(iq(`sum by (class) (delta(flywheel_changes_merged{service_name="$service_name"}[$__range]))`, "{{class}}"))).
		WithPanel(tsPanel("Tune-up share over time", "", "percentunit", 12, 8).
			WithTarget(q(`flywheel_tune_up_share{`+sel+`}`, "$service_name")).
			WithTarget(q(`flywheel_tune_up_share{`+perService+`}`, "{{service_name}}"))).
		WithPanel(tsPanel("Merged changes per week by class", "", "short", 24, 8).
			DrawStyle(common.GraphDrawStyleBars).FillOpacity(80).
			Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal)).
			WithTarget(q(`sum by (class) (delta(flywheel_changes_merged{service_name="$service_name"}[1w]))`, "{{class}}"))).
		WithRow(row("Tune-up impact")).
		WithPanel(mergeTable(tablePanel("Tune-up initiatives: before and after", "Each KPI over the impact window before the initiative started and after it ended; p-value of a two-sided Mann-Whitney U test for duration KPIs.", 24, 10).
			WithTarget(tq(`flywheel_tune_up_impact_before`, "A")).
			WithTarget(tq(`flywheel_tune_up_impact_after`, "B")).
			WithTarget(tq(`flywheel_tune_up_impact_relative_change`, "C")).
			WithTarget(tq(`flywheel_tune_up_impact_p_value`, "D")).
			OverrideByName("Relative change", []dashboard.DynamicConfigValue{{Id: "unit", Value: "percentunit"}}).
			OverrideByName("p-value", []dashboard.DynamicConfigValue{{Id: "decimals", Value: 4}}),
			nil,
			map[string]string{"initiative": "Initiative", "kpi": "KPI",
				"Value #A": "Before", "Value #B": "After", "Value #C": "Relative change", "Value #D": "p-value"}))
}

// collectorHealth: the collector's own health and data quality.
func collectorHealth() *dashboard.DashboardBuilder {
	b := newDashboard("flywheel-collector", "Flywheel / Collector health",
		"Is Flywheel collecting? Sync success, lag, errors, API usage and rate limits per source, and data-quality counts that explain a wrong number.").
		WithVariable(queryVar("team", "Team", `label_values(flywheel_deployments, team)`).
			IncludeAll(true).AllValue(".*").Current(option("All", "$__all")))
	return b.
		WithRow(row("Sources")).
		WithPanel(statPanel("Sync lag", "Now minus the last successful sync, per source.", secondsUnit, 8).
			GraphMode(common.BigValueGraphModeNone).
			WithTarget(iq(`flywheel_source_sync_lag_seconds`, "{{source}}")).
			Thresholds(thresholds("green", 3600.0, "orange", 4*3600.0, "red"))).
		WithPanel(statPanel("Snapshot age", "Time since the served KPI snapshot was computed.", secondsUnit, 4).
			GraphMode(common.BigValueGraphModeNone).
			WithTarget(iq(`time() - flywheel_snapshot_timestamp_seconds`, ""))).
		WithPanel(statPanel("Events stored", "", "short", 12).
			GraphMode(common.BigValueGraphModeNone).
			WithTarget(iq(`flywheel_deployments_stored`, "deployments")).
			WithTarget(iq(`flywheel_changes_stored`, "changes")).
			WithTarget(iq(`flywheel_incidents_stored`, "incidents"))).
		WithPanel(tsPanel("Last successful sync", "", "dateTimeAsIso", 12, 8).
			WithTarget(q(`flywheel_source_last_success_timestamp_seconds * 1000`, "{{source}}"))).
		WithPanel(tsPanel("Sync duration", "Duration of the last sync per source.", secondsUnit, 12, 8).
			WithTarget(q(`flywheel_source_sync_duration_seconds`, "{{source}}"))).
		WithPanel(tsPanel("Sync errors", "Failed syncs per interval.", "short", 8, 8).
			WithTarget(q(`increase(flywheel_source_sync_errors_total[$__rate_interval])`, "{{source}}"))).
		WithPanel(tsPanel("API requests by status code", "", "reqps", 8, 8).
			WithTarget(q(`sum by (source, code) (rate(flywheel_api_requests_total[$__rate_interval]))`, "{{source}} {{code}}"))).
		WithPanel(tsPanel("API rate limit remaining", "Smallest budget left across the source's API resources.", "short", 8, 8).
			WithTarget(q(`flywheel_api_rate_limit_remaining`, "{{source}}"))).
		WithRow(row("Data quality")).
		WithPanel(mergeTable(tablePanel("Data quality by service", "All history. Nonzero values explain numbers that look wrong.", 24, 9).
			WithTarget(tq(`flywheel_unattributed_incidents{team=~"$team"}`, "A")).
			WithTarget(tq(`flywheel_undeployed_changes{team=~"$team"}`, "B")).
			WithTarget(tq(`flywheel_deployments_without_changes{team=~"$team"}`, "C")).
			WithTarget(tq(`flywheel_changes_mapped_by_time_fallback{team=~"$team"}`, "D")).
			WithTarget(tq(`flywheel_inconsistent_durations{team=~"$team"}`, "E")).
			WithTarget(tq(`flywheel_non_counting_deployments{team=~"$team"}`, "F")).
			WithTarget(tq(`flywheel_impact_start_unparsed_incidents{team=~"$team"}`, "G")),
			nil,
			map[string]string{"service_name": "Service", "team": "Team",
				"Value #A": "Unattributed incidents", "Value #B": "Undeployed changes", "Value #C": "Deployments without changes",
				"Value #D": "Mapped by time fallback", "Value #E": "Inconsistent durations", "Value #F": "Non-counting deployments",
				"Value #G": "Unparsed impact starts"}))
}
