package metrics

import "github.com/prometheus/client_golang/prometheus"

// The metric families Flywheel serves, one table that drives the exporter's
// descriptors, the backfill writer and docs/metrics.md alike, so the three
// cannot drift apart.

// family indexes families.
type family int

const (
	// Counts over all stored history: gauges, because a correction lowers them.
	famDeployments family = iota
	famFailedDeployments
	famReworkDeployments
	famChangesMerged
	famIncidents

	// Gauges per window.
	famDeploymentsInWindow
	famFailedDeploymentsInWindow
	famReworkDeploymentsInWindow
	famDeploymentFrequency
	famDeploymentDaysRatio
	famLeadTime
	famLeadTimeStage
	famChangeFailureRatio
	famRecovery
	famReworkRatio
	famTimeToDetect
	famTimeToAcknowledge
	famTimeToResolve
	famTimeToRestore
	famIncidentsInWindow
	famTuneUpShare
	famDORALevel
	famImpactBefore
	famImpactAfter
	famImpactRelativeChange
	famImpactPValue

	// Gauges now.
	famOpenIncidents
	famDORAThreshold

	// Histograms over all history.
	famLeadTimeDistribution
	famTimeToResolveDistribution

	// Data quality over all history.
	famUnattributedIncidents
	famImpactStartUnparsed
	famUndeployedChanges
	famDeploymentsWithoutChanges
	famTimeFallbackChanges
	famInconsistentDurations
	famNonCountingDeployments

	// Collector health; never backfilled.
	famSourceLastSuccess
	famSourceSyncDuration
	famSourceSyncErrors
	famSourceSyncLag
	famSourceSyncInterval
	famAPIRequests
	famAPIRateLimitRemaining
	famDeploymentsStored
	famChangesStored
	famIncidentsStored
	famSnapshotTimestamp

	numFamilies
)

// kind is a family's Prometheus type.
type kind int

const (
	kindCounter kind = iota
	kindGauge
	kindHistogram
	kindSummary
)

func (k kind) String() string {
	switch k {
	case kindCounter:
		return "counter"
	case kindGauge:
		return "gauge"
	case kindSummary:
		return "summary"
	default:
		return "histogram"
	}
}

func (k kind) valueType() prometheus.ValueType {
	if k == kindCounter {
		return prometheus.CounterValue
	}
	return prometheus.GaugeValue
}

// familyDef describes one metric family.
type familyDef struct {
	name   string
	kind   kind
	labels []string
	help   string
	// health marks the collector's own health: served live, never backfilled.
	health bool
}

// asOf ends every KPI HELP text: the exporter serves cached values (the
// exporter-writing guide's rule for data not computed at scrape time).
const asOf = " As of the last collection."

var (
	svc       = []string{"service_name", "team"}
	svcWin    = []string{"service_name", "team", "window"}
	svcWinUrg = []string{"service_name", "team", "window", "urgency"}
	impact    = []string{"initiative", "kpi"}
	src       = []string{"source"}
)

// quantilesNote explains the summaries: they carry precomputed window quantiles
// (linear interpolation between closest ranks, as docs/kpis.md defines), a summary being the type
// Prometheus reserves the quantile label for.
const quantilesNote = " Quantile 0.5 and 0.9 of the window's samples; _count is the number of samples; _sum is not computed (NaN)."

// families is read-only after package initialisation.
var families = [numFamilies]familyDef{
	famDeployments: {"flywheel_deployments", kindGauge, svc,
		"Counting deployments (status success, to a production environment) in all stored history; a correction can lower it." + asOf, false},
	famFailedDeployments: {"flywheel_failed_deployments", kindGauge, svc,
		"Counting deployments that failed (an incident attributed to them, or a later rollback) in all stored history; a correction can lower it." + asOf, false},
	famReworkDeployments: {"flywheel_rework_deployments", kindGauge, svc,
		"Rework deployments (rollbacks, deployments shipping a fix-class change, or finished while an incident of the service was open) in all stored history; a correction can lower it." + asOf, false},
	famChangesMerged: {"flywheel_changes_merged", kindGauge, []string{"service_name", "team", "class"},
		"Merged pull requests by class (innovation, tune_up, fix, unclassified) in all stored history; a relabelled pull request moves between classes." + asOf, false},
	famIncidents: {"flywheel_incidents", kindGauge, []string{"service_name", "team", "urgency"},
		"Incidents triggered, by urgency (urgency=\"all\" counts every urgency), in all stored history; a correction can lower it." + asOf, false},

	famDeploymentsInWindow: {"flywheel_deployments_in_window", kindGauge, svcWin,
		"Counting deployments finished in the window: the count that deployment frequency, change failure ratio and rework ratio rest on." + asOf, false},
	famFailedDeploymentsInWindow: {"flywheel_failed_deployments_in_window", kindGauge, svcWin,
		"Failed counting deployments finished in the window." + asOf, false},
	famReworkDeploymentsInWindow: {"flywheel_rework_deployments_in_window", kindGauge, svcWin,
		"Rework deployments finished in the window." + asOf, false},
	famDeploymentFrequency: {"flywheel_deployment_frequency_per_day", kindGauge, svcWin,
		"Counting deployments in the window divided by the window's length in days; for service_name=\"all\" the sum over all services, a throughput (its level in flywheel_dora_level is its services', not this sum's)." + asOf, false},
	famDeploymentDaysRatio: {"flywheel_deployment_day_ratio", kindGauge, svcWin,
		"Share (0-1) of the window's days with at least one counting deployment." + asOf, false},
	famLeadTime: {"flywheel_lead_time_seconds", kindSummary, svcWin,
		"Lead time for changes in seconds, first commit to deployment of merged PRs deployed in the window." + quantilesNote + asOf, false},
	famLeadTimeStage: {"flywheel_lead_time_stage_seconds", kindSummary, []string{"service_name", "team", "window", "stage"},
		"Lead-time stage in seconds (coding: first commit to opened, pickup: opened to first review, review: first review to merge, deploy: merge to deployment)." + quantilesNote + asOf, false},
	famChangeFailureRatio: {"flywheel_change_failure_ratio", kindGauge, svcWin,
		"Failed divided by counting deployments finished in the window, a ratio 0-1." + asOf, false},
	famRecovery: {"flywheel_failed_deployment_recovery_seconds", kindSummary, svcWin,
		"Failed deployment recovery time in seconds, from the failed deployment's finish to its recovery, for failed deployments in the window." + quantilesNote + asOf, false},
	famReworkRatio: {"flywheel_rework_ratio", kindGauge, svcWin,
		"Rework divided by counting deployments finished in the window, a ratio 0-1." + asOf, false},
	famTimeToDetect: {"flywheel_incident_time_to_detect_seconds", kindSummary, svcWinUrg,
		"Incident time to detect in seconds (impact start to trigger) of incidents triggered in the window, by urgency." + quantilesNote + asOf, false},
	famTimeToAcknowledge: {"flywheel_incident_time_to_acknowledge_seconds", kindSummary, svcWinUrg,
		"Incident time to acknowledge in seconds (trigger to first acknowledgement) of incidents triggered in the window, by urgency." + quantilesNote + asOf, false},
	famTimeToResolve: {"flywheel_incident_time_to_resolve_seconds", kindSummary, svcWinUrg,
		"Incident time to resolve in seconds (trigger to resolution) of incidents triggered in the window, by urgency." + quantilesNote + asOf, false},
	famTimeToRestore: {"flywheel_incident_time_to_restore_seconds", kindSummary, svcWinUrg,
		"Incident time to restore in seconds (impact start to resolution) of incidents triggered in the window, by urgency." + quantilesNote + asOf, false},
	famIncidentsInWindow: {"flywheel_incidents_in_window", kindGauge, []string{"service_name", "team", "window", "urgency"},
		"Incidents triggered in the window, by urgency." + asOf, false},
	famTuneUpShare: {"flywheel_tune_up_share", kindGauge, svcWin,
		"Tune-up share, a ratio 0-1: tune_up divided by fix + tune_up + innovation PRs merged in the window." + asOf, false},
	famDORALevel: {"flywheel_dora_level", kindGauge, []string{"service_name", "team", "window", "kpi", "level"},
		"DORA performance level (elite, high, medium, low) of each key in the window; the value is always 1 and the level is the label. For service_name=\"all\" the deployment_frequency level is the best level that at least half of the services with a frequency reach, not the level of the summed frequency." + asOf, false},
	famImpactBefore: {"flywheel_tune_up_impact_before", kindGauge, impact,
		"A KPI over the impact window before a tune-up initiative, in the KPI's unit (seconds, deployments per day, ratio 0-1)." + asOf, false},
	famImpactAfter: {"flywheel_tune_up_impact_after", kindGauge, impact,
		"A KPI over the impact window after a tune-up initiative, in the KPI's unit (seconds, deployments per day, ratio 0-1)." + asOf, false},
	famImpactRelativeChange: {"flywheel_tune_up_impact_relative_change", kindGauge, impact,
		"Relative change (after - before) / before of a KPI across a tune-up initiative, as a ratio." + asOf, false},
	famImpactPValue: {"flywheel_tune_up_impact_p_value", kindGauge, impact,
		"Two-sided Mann-Whitney U p-value (0-1) of a duration KPI after versus before a tune-up initiative." + asOf, false},

	famOpenIncidents: {"flywheel_open_incidents", kindGauge, []string{"service_name", "team", "urgency"},
		"Incidents open (triggered and not resolved) at the evaluation time, by urgency." + asOf, false},
	famDORAThreshold: {"flywheel_dora_threshold", kindGauge, []string{"kpi", "level"},
		"Configured DORA level bound of a key (dora_thresholds or the default), in the key's unit: deployments per day (level reached at or above), seconds (below), change failure ratio 0-1 (at or below). Level low has no bound." + asOf, false},

	famLeadTimeDistribution: {"flywheel_lead_time_distribution_seconds", kindHistogram, svc,
		"Distribution of lead time for changes in seconds over all stored history." + asOf, false},
	famTimeToResolveDistribution: {"flywheel_incident_time_to_resolve_distribution_seconds", kindHistogram, svc,
		"Distribution of incident time to resolve in seconds over all stored history." + asOf, false},

	famUnattributedIncidents: {"flywheel_unattributed_incidents", kindGauge, svc,
		"Data quality: incidents attributed to no deployment, neither by their caused-by nor by time, over all stored history." + asOf, false},
	famImpactStartUnparsed: {"flywheel_impact_start_unparsed_incidents", kindGauge, svc,
		"Data quality: incidents whose impact-start line did not parse as a time (so their time to detect and restore come from a caused-by deployment or are unknown), over all stored history." + asOf, false},
	famUndeployedChanges: {"flywheel_undeployed_changes", kindGauge, svc,
		"Data quality: merged pull requests that no counting deployment shipped, over all stored history." + asOf, false},
	famDeploymentsWithoutChanges: {"flywheel_deployments_without_changes", kindGauge, svc,
		"Data quality: counting deployments that shipped no known change, over all stored history." + asOf, false},
	famTimeFallbackChanges: {"flywheel_changes_mapped_by_time_fallback", kindGauge, svc,
		"Data quality: merged pull requests mapped to a deployment by the time fallback rather than by commits, over all stored history." + asOf, false},
	famInconsistentDurations: {"flywheel_inconsistent_durations", kindGauge, svc,
		"Data quality: durations that came out negative (clock skew, mistyped times) and were left out of their KPI, over all stored history." + asOf, false},
	famNonCountingDeployments: {"flywheel_non_counting_deployments", kindGauge, svc,
		"Data quality: stored deployments that do not count (status not success, or not to a production environment), over all stored history." + asOf, false},

	famSourceLastSuccess: {"flywheel_source_last_success_timestamp_seconds", kindGauge, src,
		"Unix time in seconds of the source's last successful sync; absent before the first.", true},
	famSourceSyncDuration: {"flywheel_source_sync_duration_seconds", kindGauge, src,
		"Duration in seconds of the source's last sync, successful or not.", true},
	famSourceSyncErrors: {"flywheel_source_sync_errors_total", kindCounter, src,
		"Failed syncs of the source since the process started.", true},
	famSourceSyncLag: {"flywheel_source_sync_lag_seconds", kindGauge, src,
		"Seconds since the source's last successful sync (data quality: how stale its data is); absent before the first.", true},
	famSourceSyncInterval: {"flywheel_source_sync_interval_seconds", kindGauge, src,
		"Expected seconds between the source's syncs: the longest gap between consecutive runs of its schedule over the next eight days; absent until the scheduler runs.", true},
	famAPIRequests: {"flywheel_api_requests_total", kindCounter, []string{"source", "code"},
		"API requests made by the source since the process started, by HTTP status code (\"0\" for a transport error).", true},
	famAPIRateLimitRemaining: {"flywheel_api_rate_limit_remaining", kindGauge, src,
		"Smallest API rate-limit budget left among the source's rate-limit resources after its last response that reported one; absent when unknown.", true},
	famDeploymentsStored: {"flywheel_deployments_stored", kindGauge, nil,
		"Deployments held in the store (of any status and environment)." + asOf, true},
	famChangesStored: {"flywheel_changes_stored", kindGauge, nil,
		"Changes (pull requests) held in the store, merged or not." + asOf, true},
	famIncidentsStored: {"flywheel_incidents_stored", kindGauge, nil,
		"Incidents held in the store." + asOf, true},
	famSnapshotTimestamp: {"flywheel_snapshot_timestamp_seconds", kindGauge, nil,
		"Unix time in seconds at which the served KPI snapshot was evaluated, i.e. the time of the last collection.", true},
}
