package metrics

import (
	"math"
	"sort"
	"time"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/metrics/kpi"
	"github.com/prometheus/client_golang/prometheus"
)

// Fixed label values of the metrics (docs/metrics.md).
const (
	allServices  = "all" // service_name and team of the all-services aggregate
	allUrgencies = "all" // urgency of incident metrics over every urgency
	// unknownTeam labels a service that no repo or service entry of the config maps
	// to a team: an empty value would drop the label and break `team=~"…"` filters.
	unknownTeam = "unknown"
)

// exporter is the prometheus.Collector of Flywheel's metrics. Like client_golang's
// cluster-manager example it reads one prepared object, the last snapshot, and
// turns it into constant metrics: a scrape never computes a KPI, reads the store or
// calls an API.
type exporter struct {
	snap          func() *Snapshot
	health        func() []flywheel.SourceStatus
	teams         func() map[string]string
	teamMap       map[string]string // teams() as read at the start of one scrape
	now           func() time.Time
	includeHealth bool
	disabled      Disabled
	descs         [numFamilies]*prometheus.Desc
	hist          *histState                // shared by every scrape of this exporter
	hists         map[histKey]kpi.Histogram // the histograms to expose, as read at the start of one scrape
}

// NewExporter returns the collector that exposes the metrics of docs/metrics.md. snap
// returns the snapshot to serve (nil before the first); health the scheduler's
// in-memory status of each source (may be nil); teams returns the map of service
// names to teams (may be nil), read once per scrape because sources learn the
// teams of discovered repositories as they sync; now is the clock for the sync lag;
// disabled names the groups of series to leave out.
func NewExporter(snap func() *Snapshot, health func() []flywheel.SourceStatus, teams func() map[string]string, now func() time.Time, disabled Disabled) prometheus.Collector {
	return newExporter(snap, health, teams, now, true, disabled)
}

func newExporter(snap func() *Snapshot, health func() []flywheel.SourceStatus, teams func() map[string]string, now func() time.Time, includeHealth bool, disabled Disabled) *exporter {
	if now == nil {
		now = time.Now
	}
	e := &exporter{snap: snap, health: health, teams: teams, now: now, includeHealth: includeHealth, disabled: disabled, hist: newHistState()}
	for f, def := range families {
		e.descs[f] = prometheus.NewDesc(def.name, def.help, def.labels, nil)
	}
	return e
}

// Describe implements prometheus.Collector.
func (e *exporter) Describe(ch chan<- *prometheus.Desc) {
	for f, d := range e.descs {
		if (e.includeHealth || !families[f].health) && !e.disabled.leaves(family(f)) {
			ch <- d
		}
	}
}

// Collect implements prometheus.Collector.
func (e *exporter) Collect(ch chan<- prometheus.Metric) {
	var s *Snapshot
	if e.snap != nil {
		s = e.snap()
	}
	if s != nil {
		scrape := *e // a per-scrape copy holds this scrape's team map
		if e.teams != nil {
			scrape.teamMap = e.teams()
		}
		if !e.disabled.histograms {
			scrape.hists = e.hist.observe(s)
		}
		scrape.collectSnapshot(ch, s)
	}
	if e.includeHealth && e.health != nil {
		e.collectHealth(ch, e.health())
	}
}

// emit sends one constant sample. A label value the client library rejects (not
// UTF-8) becomes an error of this scrape for this series only, never a panic.
func (e *exporter) emit(ch chan<- prometheus.Metric, f family, v float64, labels ...string) {
	m, err := prometheus.NewConstMetric(e.descs[f], families[f].kind.valueType(), v, labels...)
	if err != nil {
		m = prometheus.NewInvalidMetric(e.descs[f], err)
	}
	ch <- m
}

func (e *exporter) team(service string) string {
	if service == allServices {
		return allServices
	}
	if t := e.teamMap[service]; t != "" {
		return t
	}
	return unknownTeam
}

func (e *exporter) collectSnapshot(ch chan<- prometheus.Metric, s *Snapshot) {
	for _, win := range sortedKeys(s.Result.Report.Windows) {
		wr := s.Result.Report.Windows[win]
		if wr.All != nil {
			e.windowKPIs(ch, allServices, win, wr.All)
		}
		for _, svc := range sortedKeys(wr.Services) {
			if k := wr.Services[svc]; k != nil {
				e.windowKPIs(ch, svc, win, k)
			}
		}
	}
	e.impacts(ch, s.Result.Report.TuneUpImpact)
	e.history(ch, s.Result.History)
	e.thresholds(ch, s.Thresholds)
	if e.includeHealth {
		e.emit(ch, famDeploymentsStored, float64(s.Counts.Deployments))
		e.emit(ch, famChangesStored, float64(s.Counts.Changes))
		e.emit(ch, famIncidentsStored, float64(s.Counts.Incidents))
		e.emit(ch, famSnapshotTimestamp, unixSeconds(s.At))
	}
}

// windowKPIs emits one group's per-window gauges; an absent value (a KPI
// without data is absent, not zero) emits no series.
func (e *exporter) windowKPIs(ch chan<- prometheus.Metric, svc, win string, k *kpi.KPIs) {
	team := e.team(svc)
	gauge := func(f family, v *float64) {
		if v != nil {
			e.emit(ch, f, *v, svc, team, win)
		}
	}
	count := func(f family, n *int) {
		if n != nil {
			e.emit(ch, f, float64(*n), svc, team, win)
		}
	}
	count(famDeploymentsInWindow, k.Deployments)
	count(famFailedDeploymentsInWindow, k.FailedDeployments)
	count(famReworkDeploymentsInWindow, k.ReworkDeployments)
	gauge(famDeploymentFrequency, k.DeploymentFrequencyPerDay)
	gauge(famDeploymentDaysRatio, k.DeploymentDaysRatio)
	gauge(famChangeFailureRatio, k.ChangeFailureRatio)
	gauge(famReworkRatio, k.ReworkRatio)
	gauge(famTuneUpShare, k.TuneUpShare)
	e.quantiles(ch, famLeadTime, k.LeadTimeSeconds, svc, team, win)
	e.quantiles(ch, famRecovery, k.FailedDeploymentRecoverySeconds, svc, team, win)
	if st := k.LeadTimeStageSeconds; st != nil && !e.disabled.stages {
		for _, stage := range []struct {
			name string
			q    *kpi.Quantiles
		}{{"coding", st.Coding}, {"pickup", st.Pickup}, {"review", st.Review}, {"deploy", st.Deploy}} {
			e.quantiles(ch, famLeadTimeStage, stage.q, svc, team, win, stage.name)
		}
	}
	if inc := k.Incidents; inc != nil {
		e.incidents(ch, svc, team, win, allUrgencies, inc)
		for _, u := range sortedKeys(inc.ByUrgency) {
			if b := inc.ByUrgency[u]; b != nil && u != allUrgencies && !e.disabled.byUrgency {
				e.incidents(ch, svc, team, win, u, b)
			}
		}
	}
	if d := k.DORALevel; d != nil {
		for _, l := range []struct {
			key   string
			level kpi.Level
		}{
			{"deployment_frequency", d.DeploymentFrequency},
			{"lead_time", d.LeadTime},
			{"change_failure_rate", d.ChangeFailureRate},
			{"recovery_time", d.RecoveryTime},
		} {
			if l.level != "" {
				e.emit(ch, famDORALevel, 1, svc, team, win, l.key, string(l.level))
			}
		}
	}
}

// thresholds emits the DORA level bounds the snapshot was computed with, so
// alert rules compare against the configured bounds rather than copies of them.
// A snapshot persisted before the bounds were recorded has none and emits none.
func (e *exporter) thresholds(ch chan<- prometheus.Metric, th kpi.Thresholds) {
	if th == (kpi.Thresholds{}) {
		return
	}
	for _, k := range []struct {
		key    string
		bounds [3]float64
	}{
		{"deployment_frequency", th.DeploymentFrequencyPerDay},
		{"lead_time", th.LeadTimeSeconds},
		{"change_failure_rate", th.ChangeFailureRatio},
		{"recovery_time", th.RecoverySeconds},
	} {
		for i, level := range []kpi.Level{kpi.Elite, kpi.High, kpi.Medium} {
			e.emit(ch, famDORAThreshold, k.bounds[i], k.key, string(level))
		}
	}
}

func (e *exporter) incidents(ch chan<- prometheus.Metric, svc, team, win, urgency string, inc *kpi.Incidents) {
	e.emit(ch, famIncidentsInWindow, float64(inc.Count), svc, team, win, urgency)
	e.quantiles(ch, famTimeToDetect, inc.TimeToDetect, svc, team, win, urgency)
	e.quantiles(ch, famTimeToAcknowledge, inc.TimeToAcknowledge, svc, team, win, urgency)
	e.quantiles(ch, famTimeToResolve, inc.TimeToResolve, svc, team, win, urgency)
	e.quantiles(ch, famTimeToRestore, inc.TimeToRestore, svc, team, win, urgency)
}

// quantiles emits q as a constant summary with the quantiles 0.5 and 0.9 (absent
// without samples). The engine keeps no sum of the samples, so _sum is NaN.
func (e *exporter) quantiles(ch chan<- prometheus.Metric, f family, q *kpi.Quantiles, labels ...string) {
	if q == nil || q.Count <= 0 {
		return
	}
	m, err := prometheus.NewConstSummary(e.descs[f], uint64(q.Count), math.NaN(), map[float64]float64{0.5: q.P50, 0.9: q.P90}, labels...)
	if err != nil {
		m = prometheus.NewInvalidMetric(e.descs[f], err)
	}
	ch <- m
}

// impactKPIKeys lists the report's impact keys in a fixed order.
var impactKPIKeys = []string{
	kpi.ImpactLeadTimeP50, kpi.ImpactPickupP50, kpi.ImpactDeploymentFrequency,
	kpi.ImpactChangeFailureRatio, kpi.ImpactRecoveryP50, kpi.ImpactTimeToResolveP50,
}

func (e *exporter) impacts(ch chan<- prometheus.Metric, impacts []kpi.Impact) {
	seen := map[string]bool{}
	for _, im := range impacts {
		// Config validation keeps initiative names unique; a duplicate would
		// otherwise break the whole scrape.
		if seen[im.Initiative] {
			continue
		}
		seen[im.Initiative] = true
		for _, key := range impactKPIKeys {
			v, ok := im.KPIs[key]
			if !ok {
				continue
			}
			for _, g := range []struct {
				f family
				v *float64
			}{{famImpactBefore, v.Before}, {famImpactAfter, v.After}, {famImpactRelativeChange, v.RelativeChange}, {famImpactPValue, v.PValue}} {
				if g.v != nil {
					e.emit(ch, g.f, *g.v, im.Initiative, key)
				}
			}
		}
	}
}

// history emits the all-history counts, open incidents, histograms and
// data-quality gauges per service and for all services together.
func (e *exporter) history(ch chan<- prometheus.Metric, h kpi.History) {
	if len(h.Services) == 0 {
		return
	}
	names := sortedKeys(h.Services)
	all := &kpi.ServiceHistory{IncidentsByUrgency: map[string]int{}, OpenByUrgency: map[string]int{}}
	for _, name := range names {
		sh := h.Services[name]
		if sh == nil {
			continue
		}
		all.Deployments += sh.Deployments
		all.FailedDeployments += sh.FailedDeployments
		all.ReworkDeployments += sh.ReworkDeployments
		all.ChangesByClass.Innovation += sh.ChangesByClass.Innovation
		all.ChangesByClass.TuneUp += sh.ChangesByClass.TuneUp
		all.ChangesByClass.Fix += sh.ChangesByClass.Fix
		all.ChangesByClass.Unclassified += sh.ChangesByClass.Unclassified
		for u, n := range sh.IncidentsByUrgency {
			all.IncidentsByUrgency[u] += n
		}
		for u, n := range sh.OpenByUrgency {
			all.OpenByUrgency[u] += n
		}
		q := &all.Quality
		q.UnattributedIncidents += sh.Quality.UnattributedIncidents
		q.ImpactStartUnparsed += sh.Quality.ImpactStartUnparsed
		q.UndeployedChanges += sh.Quality.UndeployedChanges
		q.EmptyDeployments += sh.Quality.EmptyDeployments
		q.TimeFallbackChanges += sh.Quality.TimeFallbackChanges
		q.NegativeDurations += sh.Quality.NegativeDurations
		q.NonCountingDeploys += sh.Quality.NonCountingDeploys
		e.serviceHistory(ch, name, sh)
	}
	e.serviceHistory(ch, allServices, all)
}

func (e *exporter) serviceHistory(ch chan<- prometheus.Metric, svc string, sh *kpi.ServiceHistory) {
	team := e.team(svc)
	e.emit(ch, famDeployments, float64(sh.Deployments), svc, team)
	e.emit(ch, famFailedDeployments, float64(sh.FailedDeployments), svc, team)
	e.emit(ch, famReworkDeployments, float64(sh.ReworkDeployments), svc, team)
	c := sh.ChangesByClass
	for _, cl := range []struct {
		name string
		n    int
	}{{"innovation", c.Innovation}, {"tune_up", c.TuneUp}, {"fix", c.Fix}, {"unclassified", c.Unclassified}} {
		e.emit(ch, famChangesMerged, float64(cl.n), svc, team, cl.name)
	}
	total, open := 0, 0
	for _, u := range sortedKeys(sh.IncidentsByUrgency) {
		if u == allUrgencies {
			continue
		}
		total += sh.IncidentsByUrgency[u]
		open += sh.OpenByUrgency[u]
		if !e.disabled.byUrgency {
			e.emit(ch, famIncidents, float64(sh.IncidentsByUrgency[u]), svc, team, u)
			e.emit(ch, famOpenIncidents, float64(sh.OpenByUrgency[u]), svc, team, u)
		}
	}
	e.emit(ch, famIncidents, float64(total), svc, team, allUrgencies)
	e.emit(ch, famOpenIncidents, float64(open), svc, team, allUrgencies)

	if !e.disabled.histograms {
		e.histogram(ch, famLeadTimeDistribution, e.hists[histKey{famLeadTimeDistribution, svc}], svc, team)
		e.histogram(ch, famTimeToResolveDistribution, e.hists[histKey{famTimeToResolveDistribution, svc}], svc, team)
	}

	q := sh.Quality
	e.emit(ch, famUnattributedIncidents, float64(q.UnattributedIncidents), svc, team)
	e.emit(ch, famImpactStartUnparsed, float64(q.ImpactStartUnparsed), svc, team)
	e.emit(ch, famUndeployedChanges, float64(q.UndeployedChanges), svc, team)
	e.emit(ch, famDeploymentsWithoutChanges, float64(q.EmptyDeployments), svc, team)
	e.emit(ch, famTimeFallbackChanges, float64(q.TimeFallbackChanges), svc, team)
	e.emit(ch, famInconsistentDurations, float64(q.NegativeDurations), svc, team)
	e.emit(ch, famNonCountingDeployments, float64(q.NonCountingDeploys), svc, team)
}

// histogram emits a constant histogram (client_golang's ExampleNewConstHistogram)
// from cumulative buckets (histState's exposed values, not the store's); a
// histogram without observations is left out to keep the series count down.
func (e *exporter) histogram(ch chan<- prometheus.Metric, f family, h kpi.Histogram, labels ...string) {
	if h.Count == 0 || len(h.Bounds) != len(h.Buckets) {
		return
	}
	buckets := make(map[float64]uint64, len(h.Bounds))
	for i, b := range h.Bounds {
		buckets[b] = h.Buckets[i]
	}
	m, err := prometheus.NewConstHistogram(e.descs[f], h.Count, h.Sum, buckets, labels...)
	if err != nil {
		m = prometheus.NewInvalidMetric(e.descs[f], err)
	}
	ch <- m
}

func (e *exporter) collectHealth(ch chan<- prometheus.Metric, statuses []flywheel.SourceStatus) {
	now := e.now()
	seen := map[string]bool{}
	for _, st := range statuses {
		if st.Source == "" || seen[st.Source] {
			continue
		}
		seen[st.Source] = true
		if !st.LastSuccess.IsZero() {
			e.emit(ch, famSourceLastSuccess, unixSeconds(st.LastSuccess), st.Source)
			e.emit(ch, famSourceSyncLag, max(0, now.Sub(st.LastSuccess).Seconds()), st.Source)
		}
		if st.SyncInterval > 0 {
			e.emit(ch, famSourceSyncInterval, st.SyncInterval.Seconds(), st.Source)
		}
		// Absent until a sync has finished: while the first one runs, its
		// duration is not known yet, and 0 would read as a sync that took none.
		if finished := (!st.LastAttempt.IsZero() && !st.Running) || !st.LastSuccess.IsZero() || st.Failures > 0 || st.LastDuration > 0; finished {
			e.emit(ch, famSourceSyncDuration, st.LastDuration.Seconds(), st.Source)
		}
		e.emit(ch, famSourceSyncErrors, float64(st.Failures), st.Source)
		for _, code := range sortedKeys(st.Requests) {
			e.emit(ch, famAPIRequests, float64(st.Requests[code]), st.Source, code)
		}
		if st.RateLimitRemaining >= 0 {
			e.emit(ch, famAPIRateLimitRemaining, float64(st.RateLimitRemaining), st.Source)
		}
	}
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
