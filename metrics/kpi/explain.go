package kpi

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/flywheel-metrics/flywheel"
)

// AllServices is the service name by which the Prometheus metrics label the
// all-services group; Explain takes it as that group too.
const AllServices = "all"

// ExplainQuery asks for the events behind one number of the report.
type ExplainQuery struct {
	// KPI is a key path of the report's KPIs ("change_failure_ratio",
	// "lead_time_stage_seconds.review", "incidents.by_urgency.high.open", …),
	// a {p50, p90, count} key with ".p50", ".p90" or ".count", or a
	// data-quality count ("unattributed_incidents", …).
	KPI string
	// Window is a configured window's name; "" is the first configured one.
	Window string
	// Service is a service's name; "" (or "all", unless a service has that
	// name) is all services together.
	Service string
}

// Explanation lists the events behind one number so that a person can follow
// it and a script can recompute it: Value is computed from Items alone
// (docs/explain.md says how for each key). It is the document of `flywheel
// explain --format json` and GET /api/v1/explain.
type Explanation struct {
	KPI string    `json:"kpi"`
	At  time.Time `json:"at"`
	// Window, WindowStart and WindowEnd are the window [start, end); null for
	// a data-quality count, which covers all history before At.
	Window      *string    `json:"window"`
	WindowStart *time.Time `json:"window_start"`
	WindowEnd   *time.Time `json:"window_end"`
	Service     *string    `json:"service"` // null: all services
	// Value is the report's value: an int (a count), a float64 (a ratio or a
	// frequency), a Quantiles, a Level, or nil when the report has none.
	Value any `json:"value"`
	// Thresholds are the bounds a DORA level is read from; nil for any other key.
	Thresholds *LevelThresholds `json:"thresholds"`
	// Items are ordered by their time (the one the KPI is windowed by), then id.
	Items []Item `json:"items"`
}

// LevelThresholds say how a DORA level is read from a value: elite when the
// value compares so with Elite, else high with High, else medium with Medium,
// else low.
type LevelThresholds struct {
	// Of is the key path whose value is rated, e.g. "lead_time_seconds.p50".
	Of      string  `json:"of"`
	Compare string  `json:"compare"` // ">=", "<" or "<="
	Elite   float64 `json:"elite"`
	High    float64 `json:"high"`
	Medium  float64 `json:"medium"`
	// Group is set for the deployment-frequency level of a group of services
	// (all services together), which is read from its services' levels rather
	// than from its summed frequency; nil for any other level.
	Group *GroupRule `json:"group"`
}

// GroupRuleAtLeastHalf is the rule of a group's deployment-frequency level:
// the best level that at least half of its services reach (their own or a
// better one).
const GroupRuleAtLeastHalf = "level_at_least_half_of_services_reach"

// GroupRule says how a group's level comes from its services' levels.
type GroupRule struct {
	Rule string `json:"rule"` // GroupRuleAtLeastHalf
	// Services are the group's services with a frequency in the window (those
	// with a counting deployment before at), by name: each one's frequency is
	// its counted items ÷ the window's length in days, and its level that
	// frequency's by the thresholds above.
	Services []ServiceLevel `json:"services"`
}

// ServiceLevel is one service of a group and its own value and level.
type ServiceLevel struct {
	Service string  `json:"service"`
	Value   float64 `json:"value"`
	Level   Level   `json:"level"`
}

// Item is one event of an explanation: a *DeploymentItem, *ChangeItem or
// *IncidentItem.
type Item interface {
	// Head is what every kind of item says.
	Head() ItemHead
}

// ItemHead is what items of every kind have in common.
type ItemHead struct {
	Kind, ID, Service string
	Counted           bool
	LeftOut           *string
}

// DeploymentItem is a deployment and what was decided about it as of At.
type DeploymentItem struct {
	Kind        string    `json:"kind"` // "deployment"
	ID          string    `json:"id"`
	Service     string    `json:"service"`
	Repo        *string   `json:"repo"`
	Environment string    `json:"environment"`
	SHA         string    `json:"sha"`
	Status      string    `json:"status"`
	FinishedAt  time.Time `json:"finished_at"`
	// Counted says whether it enters the value; LeftOut says why not.
	Counted bool    `json:"counted"`
	LeftOut *string `json:"left_out"`
	Failed  bool    `json:"failed"`
	// FailedBy lists the incidents attributed to it, then the rollback that
	// failed it.
	FailedBy        []FailedBy `json:"failed_by"`
	RecoverySeconds *float64   `json:"recovery_seconds"`
	// Rework holds why it is rework: "rollback", "ships_fix", "incident_open".
	Rework []string `json:"rework"`
	// RollbackOf is the deployment it rolled back from, when it is a rollback.
	RollbackOf *string `json:"rollback_of"`
	// ShippedChanges is the number of merged PRs it shipped.
	ShippedChanges int `json:"shipped_changes"`
}

// FailedBy is one reason a deployment failed: an incident attributed to it and
// the rule that attributed it ("caused_by" or "window"), or a rollback.
type FailedBy struct {
	Incident string `json:"incident,omitempty"`
	Rule     string `json:"rule,omitempty"`
	Rollback string `json:"rollback,omitempty"`
}

// ChangeItem is a merged PR and what was decided about it as of At.
type ChangeItem struct {
	Kind    string  `json:"kind"` // "change"
	ID      string  `json:"id"`
	Service string  `json:"service"`
	Repo    *string `json:"repo"`
	Title   *string `json:"title"`
	Class   string  `json:"class"`
	// ClassRule is the rule that gave the class: "label", "revert",
	// "conventional", "path" or "none".
	ClassRule     string     `json:"class_rule"`
	FirstCommitAt *time.Time `json:"first_commit_at"`
	OpenedAt      *time.Time `json:"opened_at"`
	FirstReviewAt *time.Time `json:"first_review_at"`
	MergedAt      time.Time  `json:"merged_at"`
	DeployedBy    *string    `json:"deployed_by"`
	DeployedAt    *time.Time `json:"deployed_at"`
	// MappedBy says how DeployedBy was found: "commit_list" or "time_fallback".
	MappedBy        *string      `json:"mapped_by"`
	LeadTimeSeconds *float64     `json:"lead_time_seconds"`
	Stages          ChangeStages `json:"stages"`
	Counted         bool         `json:"counted"`
	LeftOut         *string      `json:"left_out"`
}

// ChangeStages are a deployed PR's lead-time stages in seconds, each clipped
// at 0; null when the PR has no such stage.
type ChangeStages struct {
	Coding *float64 `json:"coding"`
	Pickup *float64 `json:"pickup"`
	Review *float64 `json:"review"`
	Deploy *float64 `json:"deploy"`
}

// IncidentItem is an incident and what was decided about it as of At. Times
// after At are null: they had not happened yet.
type IncidentItem struct {
	Kind           string     `json:"kind"` // "incident"
	ID             string     `json:"id"`
	Service        string     `json:"service"`
	Urgency        string     `json:"urgency"`
	TriggeredAt    time.Time  `json:"triggered_at"`
	AcknowledgedAt *time.Time `json:"acknowledged_at"`
	ResolvedAt     *time.Time `json:"resolved_at"`
	StartedAt      *time.Time `json:"started_at"`
	// StartedFrom says where StartedAt came from: "impact_start" (given) or
	// "caused_by" (the finish of the deployment its caused-by names).
	StartedFrom         *string `json:"started_from"`
	ImpactStartUnparsed *string `json:"impact_start_unparsed"`
	CausedBy            *string `json:"caused_by"` // as written
	AttributedTo        *string `json:"attributed_to"`
	AttributedBy        *string `json:"attributed_by"` // "caused_by" or "window"
	// Reason says why it is attributed to no deployment.
	Reason                   *string  `json:"reason"`
	TimeToDetectSeconds      *float64 `json:"time_to_detect_seconds"`
	TimeToAcknowledgeSeconds *float64 `json:"time_to_acknowledge_seconds"`
	TimeToResolveSeconds     *float64 `json:"time_to_resolve_seconds"`
	TimeToRestoreSeconds     *float64 `json:"time_to_restore_seconds"`
	Counted                  bool     `json:"counted"`
	LeftOut                  *string  `json:"left_out"`
}

// Head implements Item.
func (d *DeploymentItem) Head() ItemHead {
	return ItemHead{Kind: d.Kind, ID: d.ID, Service: d.Service, Counted: d.Counted, LeftOut: d.LeftOut}
}

// Head implements Item.
func (c *ChangeItem) Head() ItemHead {
	return ItemHead{Kind: c.Kind, ID: c.ID, Service: c.Service, Counted: c.Counted, LeftOut: c.LeftOut}
}

// Head implements Item.
func (x *IncidentItem) Head() ItemHead {
	return ItemHead{Kind: x.Kind, ID: x.ID, Service: x.Service, Counted: x.Counted, LeftOut: x.LeftOut}
}

// ExplainError is a query naming a KPI, window, service or urgency that does
// not exist; Valid lists the ones that do.
type ExplainError struct {
	What  string // "KPI", "window", "service" or "urgency"
	Value string
	Valid []string
	Note  string // more on the valid values, or ""
}

func (e *ExplainError) Error() string {
	valid := strings.Join(e.Valid, ", ")
	if len(e.Valid) == 0 {
		valid = "none"
	}
	msg := fmt.Sprintf("unknown %s %q; valid: %s", e.What, e.Value, valid)
	if e.Value == "" && e.What == "KPI" {
		msg = "missing KPI; valid: " + valid
	}
	if e.Note != "" {
		msg += "; " + e.Note
	}
	return msg
}

// keyKind says which events a key lists.
type keyKind uint8

const (
	kDeploys   keyKind = iota // the window's counting deployments
	kRecovery                 // the window's failed deployments
	kLead                     // the PRs deployed in the window
	kStage                    // the same, for one stage (sub)
	kMerged                   // the PRs merged in the window
	kShare                    // the same, but for unclassified ones
	kIncidents                // the window's incidents (of one urgency); sub: a duration, or -1
	kQuality                  // a data-quality count (sub), all history
)

// keyDef is one explainable key.
type keyDef struct {
	kind keyKind
	sub  int
	kpis func(*KPIs) any      // the value in a group's KPIs
	inc  func(*Incidents) any // for incident keys, the value in an incident block
	// level is, for a DORA level, the key whose value it rates.
	level string
}

// The data-quality counts, in the order of DataQuality's fields.
const (
	qUnattributed = iota
	qUndeployed
	qEmpty
	qFallback
	qNegative
	qNonCounting
	qUnparsed
)

var qualityKeys = [...]string{"unattributed_incidents", "undeployed_changes", "empty_deployments",
	"time_fallback_changes", "negative_durations", "non_counting_deployments", "impact_start_unparsed"}

func (q *DataQuality) count(k int) int {
	return [...]int{q.UnattributedIncidents, q.UndeployedChanges, q.EmptyDeployments, q.TimeFallbackChanges,
		q.NegativeDurations, q.NonCountingDeploys, q.ImpactStartUnparsed}[k]
}

func intVal(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

func floatVal(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// quantKeys adds a {p50, p90, count} key and its three fields.
func quantKeys(keys map[string]keyDef, name string, d keyDef, get func(*KPIs) *Quantiles) {
	field := func(f func(*Quantiles) any) func(*KPIs) any {
		return func(k *KPIs) any {
			if q := get(k); q != nil {
				return f(q)
			}
			return nil
		}
	}
	d.kpis = field(func(q *Quantiles) any { return *q })
	keys[name] = d
	d.kpis = field(func(q *Quantiles) any { return q.P50 })
	keys[name+".p50"] = d
	d.kpis = field(func(q *Quantiles) any { return q.P90 })
	keys[name+".p90"] = d
	d.kpis = field(func(q *Quantiles) any { return q.Count })
	keys[name+".count"] = d
}

// incidentKeys are the keys of an incident block, relative to it.
func incidentKeys() map[string]keyDef {
	keys := map[string]keyDef{
		"count": {kind: kIncidents, sub: -1, inc: func(x *Incidents) any { return x.Count }},
		"open":  {kind: kIncidents, sub: -1, inc: func(x *Incidents) any { return x.Open }},
	}
	for j, name := range durationKeys {
		get := func(x *Incidents) *Quantiles {
			return [...]*Quantiles{x.TimeToDetect, x.TimeToAcknowledge, x.TimeToResolve, x.TimeToRestore}[j]
		}
		for suffix, f := range map[string]func(*Quantiles) any{
			"": func(q *Quantiles) any { return *q }, ".p50": func(q *Quantiles) any { return q.P50 },
			".p90": func(q *Quantiles) any { return q.P90 }, ".count": func(q *Quantiles) any { return q.Count },
		} {
			keys[name+suffix] = keyDef{kind: kIncidents, sub: j, inc: func(x *Incidents) any {
				if q := get(x); q != nil {
					return f(q)
				}
				return nil
			}}
		}
	}
	return keys
}

// durationKeys are the incident durations, in the order of inc.durations.
var durationKeys = [...]string{"time_to_detect_seconds", "time_to_acknowledge_seconds", "time_to_resolve_seconds", "time_to_restore_seconds"}

// stageKeys are the lead-time stages, in the order of engine.stages.
var stageKeys = [...]string{"coding", "pickup", "review", "deploy"}

// windowKeys returns every key of a group's KPIs but those of incidents.
func windowKeys() map[string]keyDef {
	keys := map[string]keyDef{
		"deployments":                  {kind: kDeploys, kpis: func(k *KPIs) any { return intVal(k.Deployments) }},
		"deployment_frequency_per_day": {kind: kDeploys, kpis: func(k *KPIs) any { return floatVal(k.DeploymentFrequencyPerDay) }},
		"deployment_days_ratio":        {kind: kDeploys, kpis: func(k *KPIs) any { return floatVal(k.DeploymentDaysRatio) }},
		"failed_deployments":           {kind: kDeploys, kpis: func(k *KPIs) any { return intVal(k.FailedDeployments) }},
		"change_failure_ratio":         {kind: kDeploys, kpis: func(k *KPIs) any { return floatVal(k.ChangeFailureRatio) }},
		"rework_deployments":           {kind: kDeploys, kpis: func(k *KPIs) any { return intVal(k.ReworkDeployments) }},
		"rework_ratio":                 {kind: kDeploys, kpis: func(k *KPIs) any { return floatVal(k.ReworkRatio) }},
		"tune_up_share":                {kind: kShare, kpis: func(k *KPIs) any { return floatVal(k.TuneUpShare) }},
	}
	quantKeys(keys, "lead_time_seconds", keyDef{kind: kLead}, func(k *KPIs) *Quantiles { return k.LeadTimeSeconds })
	quantKeys(keys, "failed_deployment_recovery_seconds", keyDef{kind: kRecovery}, func(k *KPIs) *Quantiles { return k.FailedDeploymentRecoverySeconds })
	for j, name := range stageKeys {
		quantKeys(keys, "lead_time_stage_seconds."+name, keyDef{kind: kStage, sub: j}, func(k *KPIs) *Quantiles {
			if k.LeadTimeStageSeconds == nil {
				return nil
			}
			s := k.LeadTimeStageSeconds
			return [...]*Quantiles{s.Coding, s.Pickup, s.Review, s.Deploy}[j]
		})
	}
	for _, c := range []Class{ClassInnovation, ClassTuneUp, ClassFix, ClassUnclassified} {
		keys["changes_by_class."+c.String()] = keyDef{kind: kMerged, sub: int(c), kpis: func(k *KPIs) any {
			if k.ChangesByClass == nil {
				return nil
			}
			b := k.ChangesByClass
			return [...]int{ClassUnclassified: b.Unclassified, ClassFix: b.Fix, ClassTuneUp: b.TuneUp, ClassInnovation: b.Innovation}[c]
		}}
	}
	for _, lv := range []struct {
		name, of string
		kind     keyKind
		get      func(*DORALevels) Level
	}{
		{"deployment_frequency", "deployment_frequency_per_day", kDeploys, func(l *DORALevels) Level { return l.DeploymentFrequency }},
		{"lead_time", "lead_time_seconds.p50", kLead, func(l *DORALevels) Level { return l.LeadTime }},
		{"change_failure_rate", "change_failure_ratio", kDeploys, func(l *DORALevels) Level { return l.ChangeFailureRate }},
		{"recovery_time", "failed_deployment_recovery_seconds.p50", kRecovery, func(l *DORALevels) Level { return l.RecoveryTime }},
	} {
		keys["dora_level."+lv.name] = keyDef{kind: lv.kind, level: lv.of, kpis: func(k *KPIs) any {
			if k.DORALevel == nil || lv.get(k.DORALevel) == "" {
				return nil
			}
			return lv.get(k.DORALevel)
		}}
	}
	for name, d := range incidentKeys() {
		inc := d.inc
		d.kpis = func(k *KPIs) any {
			if k.Incidents == nil {
				return nil
			}
			return inc(k.Incidents)
		}
		keys["incidents."+name] = d
	}
	for q, name := range qualityKeys {
		keys[name] = keyDef{kind: kQuality, sub: q}
	}
	return keys
}

// thresholds returns how a level key is rated.
func (o *Options) thresholds(of string) *LevelThresholds {
	t := o.Thresholds
	switch of {
	case "deployment_frequency_per_day":
		return &LevelThresholds{Of: of, Compare: ">=", Elite: t.DeploymentFrequencyPerDay[0], High: t.DeploymentFrequencyPerDay[1], Medium: t.DeploymentFrequencyPerDay[2]}
	case "lead_time_seconds.p50":
		return &LevelThresholds{Of: of, Compare: "<", Elite: t.LeadTimeSeconds[0], High: t.LeadTimeSeconds[1], Medium: t.LeadTimeSeconds[2]}
	case "change_failure_ratio":
		return &LevelThresholds{Of: of, Compare: "<=", Elite: t.ChangeFailureRatio[0], High: t.ChangeFailureRatio[1], Medium: t.ChangeFailureRatio[2]}
	}
	return &LevelThresholds{Of: of, Compare: "<", Elite: t.RecoverySeconds[0], High: t.RecoverySeconds[1], Medium: t.RecoverySeconds[2]}
}

// Explainer answers explanations as of one evaluation time: it decides
// everything once, as Compute does, and then lists the events of each query.
// It is not safe for concurrent use.
type Explainer struct {
	in   *Input
	e    *engine
	at   time.Time
	keys map[string]keyDef

	reports map[string]WindowReport
	hist    *History
	smp     samples

	// built on first use
	services, urgs []string
	incKeys        map[string]keyDef
	incsOf         map[int32][]int32 // deployment → incidents attributed to it, in order
	rollOf         []int32           // deployment → the deployment it rolled back from, or -1
	shipped        []int32           // deployment → number of PRs it shipped
}

// Explain lists the events behind one value of the report as of at.
func (in *Input) Explain(at time.Time, q ExplainQuery) (*Explanation, error) {
	x, err := in.Explainer(at)
	if err != nil {
		return nil, err
	}
	return x.Explain(q)
}

// Explain is Input.Explain over events in memory.
func Explain(ev flywheel.Events, at time.Time, opts Options, q ExplainQuery) (*Explanation, error) {
	in := newInput(opts, false)
	in.detail = &details{}
	in.Add(ev)
	return in.Explain(at, q)
}

// Explainer decides everything as of at, as Compute does, for explanations.
// The Input must come from NewExplainInput, which keeps what they list of PRs.
func (in *Input) Explainer(at time.Time) (*Explainer, error) {
	if in.detail == nil {
		return nil, fmt.Errorf("kpi: explaining needs an Input made by NewExplainInput, which keeps PR ids and titles")
	}
	e := in.run(at, true)
	e.own, e.ids, e.countIdx = nil, nil, nil
	return &Explainer{in: in, e: e, at: at.UTC(), keys: windowKeys(), reports: map[string]WindowReport{}}, nil
}

// Services returns the name of every service of the Input's events, sorted.
func (x *Explainer) Services() []string {
	if x.services != nil {
		return x.services
	}
	seen := map[string]bool{}
	for i := range x.in.deps {
		seen[x.in.deps[i].Service] = true
	}
	idx := map[int32]bool{}
	for i := range x.in.chgs {
		idx[x.in.chgs[i].svc] = true
	}
	for k := range idx {
		seen[x.in.names[k]] = true
	}
	for i := range x.in.incs {
		seen[x.in.incs[i].Service] = true
	}
	x.services = slices.Sorted(maps.Keys(seen))
	return x.services
}

// urgencies returns every urgency of the Input's incidents, sorted.
func (x *Explainer) urgencies() []string {
	if x.urgs != nil {
		return x.urgs
	}
	seen := map[string]bool{}
	for i := range x.in.incs {
		u := x.in.incs[i].Urgency
		if u == "" {
			u = flywheel.UrgencyUnknown
		}
		seen[u] = true
	}
	x.urgs = slices.Sorted(maps.Keys(seen))
	return x.urgs
}

// KPIs returns every key Explain takes in the report's order, then the
// data-quality counts, with URGENCY standing for an urgency and without the
// ".p50", ".p90" and ".count" of {p50, p90, count} keys.
func (x *Explainer) KPIs() []string {
	out := []string{"deployments", "deployment_frequency_per_day", "deployment_days_ratio", "lead_time_seconds"}
	for _, s := range stageKeys {
		out = append(out, "lead_time_stage_seconds."+s)
	}
	out = append(out, "failed_deployments", "change_failure_ratio", "failed_deployment_recovery_seconds",
		"rework_deployments", "rework_ratio")
	for _, prefix := range []string{"incidents.", "incidents.by_urgency.URGENCY."} {
		out = append(out, prefix+"count", prefix+"open")
		for _, d := range durationKeys {
			out = append(out, prefix+d)
		}
	}
	for _, c := range []Class{ClassInnovation, ClassTuneUp, ClassFix, ClassUnclassified} {
		out = append(out, "changes_by_class."+c.String())
	}
	out = append(out, "tune_up_share", "dora_level.deployment_frequency", "dora_level.lead_time",
		"dora_level.change_failure_rate", "dora_level.recovery_time")
	return append(out, qualityKeys[:]...)
}

// key finds the definition of a key path, and its urgency for a by_urgency key.
func (x *Explainer) key(path string) (keyDef, string, error) {
	if d, ok := x.keys[path]; ok {
		return d, "", nil
	}
	const byUrg = "incidents.by_urgency."
	if rest, ok := strings.CutPrefix(path, byUrg); ok {
		// the longest key that leaves a known urgency ("….count" is also the
		// end of "….time_to_resolve_seconds.count")
		if x.incKeys == nil {
			x.incKeys = incidentKeys()
		}
		keys := x.incKeys
		names := slices.SortedFunc(maps.Keys(keys), func(a, b string) int { return cmp.Compare(len(b), len(a)) })
		unknown := ""
		for _, name := range names {
			u, ok := strings.CutSuffix(rest, "."+name)
			if !ok || u == "" {
				continue
			}
			if !slices.Contains(x.urgencies(), u) {
				if unknown == "" {
					unknown = u
				}
				continue
			}
			d, inc := keys[name], keys[name].inc
			d.kpis = func(k *KPIs) any {
				if k.Incidents == nil || k.Incidents.ByUrgency[u] == nil {
					return nil
				}
				return inc(k.Incidents.ByUrgency[u])
			}
			return d, u, nil
		}
		if unknown != "" {
			return keyDef{}, "", &ExplainError{What: "urgency", Value: unknown, Valid: x.urgencies()}
		}
	}
	urgencies := "URGENCY is one of: " + strings.Join(x.urgencies(), ", ")
	if len(x.urgencies()) == 0 {
		urgencies = "no incident is stored, so there is no URGENCY yet"
	}
	return keyDef{}, "", &ExplainError{What: "KPI", Value: path, Valid: x.KPIs(),
		Note: urgencies + "; a {p50, p90, count} KPI also takes .p50, .p90 or .count"}
}

// window returns the configured window of name ("" the first); of a name
// configured twice, the last, as the report does.
func (x *Explainer) window(name string) (flywheel.Window, error) {
	ws := x.e.opts.Windows
	var names []string
	for i := len(ws) - 1; i >= 0; i-- {
		if ws[i].Name == name || name == "" && i == 0 {
			return ws[i], nil
		}
	}
	for _, w := range ws {
		names = append(names, w.Name)
	}
	return flywheel.Window{}, &ExplainError{What: "window", Value: name, Valid: names}
}

// Explain lists the events behind one value of the report (see Explanation).
func (x *Explainer) Explain(q ExplainQuery) (*Explanation, error) {
	d, urg, err := x.key(q.KPI)
	if err != nil {
		return nil, err
	}
	var w flywheel.Window
	if d.kind != kQuality || q.Window != "" {
		if w, err = x.window(q.Window); err != nil {
			return nil, err
		}
	}
	out := &Explanation{KPI: q.KPI, At: x.at, Items: []Item{}}
	e := x.e
	svc := int32(-1) // all services
	services := x.Services()
	// "all" is how the metrics (and so the dashboards' links) name the
	// all-services group; a service that is really called so keeps its name
	if q.Service == AllServices && !slices.Contains(services, q.Service) {
		q.Service = ""
	}
	if q.Service != "" {
		if !slices.Contains(services, q.Service) {
			return nil, &ExplainError{What: "service", Value: q.Service, Valid: services}
		}
		out.Service = &q.Service
		s, ok := e.svcIdx[q.Service]
		if !ok {
			s = int32(len(e.svcNames)) // no event before at: nothing to list
		}
		svc = s
	}
	mine := func(s int32) bool { return svc < 0 || s == svc }
	ls := &lister{x: x, mine: mine}
	if d.kind == kQuality {
		x.quality(out, d.sub, svc, ls)
		return x.finish(out, ls), nil
	}
	from, to := e.at-int64(w.Duration), e.at
	out.Window = &w.Name
	out.WindowStart, out.WindowEnd = ptr(time.Unix(0, from).UTC()), ptr(x.at)
	if k := x.kpis(w, q.Service); k != nil {
		out.Value = d.kpis(k)
	}
	if d.level != "" {
		out.Thresholds = e.opts.thresholds(d.level)
		if d.level == "deployment_frequency_per_day" && q.Service == "" {
			out.Thresholds.Group = x.groupRule(w)
		}
	}
	switch d.kind {
	case kDeploys, kRecovery:
		first, _ := slices.BinarySearchFunc(e.deps, from, func(d dep, t int64) int { return cmp.Compare(d.fin, t) })
		for i := first; i < len(e.deps) && e.deps[i].fin < to; i++ {
			dp := &e.deps[i]
			if !mine(dp.svc) {
				continue
			}
			if d.kind == kDeploys {
				ls.deployment(int32(i), "")
				continue
			}
			if !dp.failed {
				continue
			}
			why := ""
			if rec, ok := dp.recovery(); !ok {
				why = "not recovered: an incident attributed to it is open"
			} else if rec < 0 {
				why = "negative recovery time"
			}
			ls.deployment(int32(i), why)
		}
	case kLead, kStage:
		for i := range e.chgs {
			r := &e.chgs[i]
			if t := e.deployed(r); !mine(r.svc) || t == none || t < from || t >= to {
				continue
			}
			why := ""
			if d.kind == kLead {
				if l, ok := e.lead(r); !ok {
					why = "first commit time unknown"
				} else if l < 0 {
					why = "negative lead time"
				}
			} else if _, has := e.stages(r); !has[d.sub] {
				why = e.noStage(r, d.sub)
			}
			ls.change(r, e.deployed(r), why)
		}
	case kMerged, kShare:
		for i := range e.chgs {
			r := &e.chgs[i]
			if !mine(r.svc) || r.merged < from || r.merged >= to || d.kind == kShare && r.cls == ClassUnclassified {
				continue
			}
			ls.change(r, r.merged, "")
		}
	case kIncidents:
		k, _ := slices.BinarySearchFunc(e.incs, from, func(x inc, t int64) int { return cmp.Compare(x.trig, t) })
		for ; k < len(e.incs) && e.incs[k].trig < to; k++ {
			xi := &e.incs[k]
			if !mine(xi.svc) || urg != "" && e.urgNames[xi.urg] != urg {
				continue
			}
			why := ""
			if d.sub >= 0 {
				why = xi.notTimed(d.sub)
			}
			ls.incident(int32(k), why)
		}
	}
	return x.finish(out, ls), nil
}

// kpis returns the report's KPIs of a group in w, nil when it has none.
func (x *Explainer) kpis(w flywheel.Window, service string) *KPIs {
	wr, ok := x.reports[w.Name]
	if !ok {
		wr = x.e.window(w, &x.smp)
		x.reports[w.Name] = wr
	}
	if service == "" {
		return wr.All
	}
	return wr.Services[service]
}

// groupRule lists the services whose levels make the all-services group's
// deployment-frequency level in window w.
func (x *Explainer) groupRule(w flywheel.Window) *GroupRule {
	x.kpis(w, "")
	g := &GroupRule{Rule: GroupRuleAtLeastHalf, Services: []ServiceLevel{}}
	svcs := x.reports[w.Name].Services
	for _, name := range slices.Sorted(maps.Keys(svcs)) {
		k := svcs[name]
		if k.DeploymentFrequencyPerDay == nil || k.DORALevel == nil {
			continue
		}
		g.Services = append(g.Services, ServiceLevel{Service: name, Value: *k.DeploymentFrequencyPerDay, Level: k.DORALevel.DeploymentFrequency})
	}
	return g
}

// quality explains a data-quality count: all history before at.
func (x *Explainer) quality(out *Explanation, q int, svc int32, ls *lister) {
	e := x.e
	if x.hist == nil {
		h := e.history()
		x.hist = &h
	}
	total := 0
	for s, name := range e.svcNames {
		if svc < 0 || int32(s) == svc {
			total += x.hist.Services[name].Quality.count(q)
		}
	}
	out.Value = total
	switch q {
	case qUnattributed, qUnparsed, qNegative:
		for k := range e.incs {
			xi := &e.incs[k]
			if !ls.mine(xi.svc) {
				continue
			}
			durs, has := xi.durations()
			negative := false
			for j := range durs {
				negative = negative || has[j] && durs[j] < 0
			}
			if q == qUnattributed && xi.dep < 0 || q == qUnparsed && xi.i.ImpactStartUnparsed != "" || q == qNegative && negative {
				ls.incident(int32(k), "")
			}
		}
	}
	switch q {
	case qUndeployed, qFallback, qNegative:
		for i := range e.chgs {
			r := &e.chgs[i]
			if !ls.mine(r.svc) {
				continue
			}
			switch {
			case q == qUndeployed && r.dep < 0, q == qFallback && r.flags&fallbackMapped != 0:
				ls.change(r, r.merged, "")
			case q == qNegative && r.dep >= 0:
				if l, ok := e.lead(r); ok && l < 0 {
					ls.change(r, e.deployed(r), "")
				}
			}
		}
	}
	switch q {
	case qEmpty, qNegative:
		for i := range e.deps {
			d := &e.deps[i]
			if !ls.mine(d.svc) {
				continue
			}
			rec, ok := d.recovery()
			if q == qEmpty && d.flags&shippedAny == 0 || q == qNegative && ok && rec < 0 {
				ls.deployment(int32(i), "")
			}
		}
	case qNonCounting:
		for _, j := range e.tr.nonCounting {
			d := &x.in.deps[j]
			if ls.mine(e.svcIdx[d.Service]) {
				ls.items = append(ls.items, sortItem{t: ns(d.FinishedAt), id: d.ID, it: &DeploymentItem{
					Kind: "deployment", ID: d.ID, Service: d.Service, Repo: str(d.Repo), Environment: d.Environment,
					SHA: d.SHA, Status: d.Status, FinishedAt: d.FinishedAt.UTC(), Counted: true,
					FailedBy: []FailedBy{}, Rework: []string{},
				}})
			}
		}
	}
}

// finish orders the items by time, then id (then kind), and stores them.
func (x *Explainer) finish(out *Explanation, ls *lister) *Explanation {
	slices.SortStableFunc(ls.items, func(a, b sortItem) int {
		if c := cmp.Compare(a.t, b.t); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	out.Items = make([]Item, len(ls.items))
	for i, it := range ls.items {
		out.Items[i] = it.it
	}
	return out
}

// noStage says why a deployed PR has no stage j.
func (e *engine) noStage(r *chg, j int) string {
	c := e.change(r)
	switch {
	case j == 0 && e.before(c.first) == none:
		return "first commit time unknown"
	case j > 0 && e.before(c.review) == none:
		return "no first review"
	}
	return "opening time unknown"
}

// notTimed says why an incident's duration j is not in its quantiles, or "".
func (x *inc) notTimed(j int) string {
	d, has := x.durations()
	switch {
	case has[j] && d[j] < 0:
		return "negative " + strings.ReplaceAll(strings.TrimSuffix(durationKeys[j], "_seconds"), "_", " ")
	case has[j]:
		return ""
	case j == 1:
		return "not acknowledged"
	case j == 0 || j == 3 && x.res != none:
		return "impact start unknown"
	}
	return "not resolved"
}

// text is how a reason an incident is unattributed reads.
func (w unattributed) text() string {
	switch w {
	case whyNotCaused:
		return "caused-by: none"
	case whyNoDeploy:
		return "no deployment in the attribution window"
	case whyUrgency:
		return "urgency not in change_failure.urgencies"
	case whyNamesNothing:
		return "caused-by names nothing stored"
	case whyNamesUncounted:
		return "caused-by names a deployment that does not count"
	case whyNamesUndeployed:
		return "caused-by names a PR that no deployment shipped"
	}
	return ""
}

// sortItem is an item with what orders it.
type sortItem struct {
	t  int64
	id string
	it Item
}

// lister builds the items of one explanation.
type lister struct {
	x     *Explainer
	mine  func(svc int32) bool
	items []sortItem
}

func str(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func timeOf(v int64) *time.Time {
	if v == none {
		return nil
	}
	return ptr(time.Unix(0, v).UTC())
}

// deployment lists counting deployment i; leftOut says why it does not enter
// the value ("" when it does).
func (ls *lister) deployment(i int32, leftOut string) {
	x, e := ls.x, ls.x.e
	d := &e.deps[i]
	if x.incsOf == nil {
		x.incsOf = map[int32][]int32{}
		for k := range e.incs {
			if j := e.incs[k].dep; j >= 0 {
				x.incsOf[j] = append(x.incsOf[j], int32(k))
			}
		}
		x.rollOf = make([]int32, len(e.deps))
		for k := range x.rollOf {
			x.rollOf[k] = -1
		}
		for p, r := range e.tr.rolledBackBy {
			if r >= 0 {
				x.rollOf[r] = int32(p)
			}
		}
		x.shipped = make([]int32, len(e.deps))
		for k := range e.chgs {
			if j := e.chgs[k].dep; j >= 0 {
				x.shipped[j]++
			}
		}
	}
	it := &DeploymentItem{Kind: "deployment", ID: d.d.ID, Service: d.d.Service, Repo: str(d.d.Repo),
		Environment: d.d.Environment, SHA: d.d.SHA, Status: d.d.Status, FinishedAt: d.d.FinishedAt.UTC(),
		Counted: leftOut == "", LeftOut: str(leftOut), Failed: d.failed, FailedBy: []FailedBy{}, Rework: []string{},
		ShippedChanges: int(x.shipped[i])}
	for _, k := range x.incsOf[i] {
		it.FailedBy = append(it.FailedBy, FailedBy{Incident: e.incs[k].i.ID, Rule: e.incs[k].by.String()})
	}
	if r := e.tr.rolledBackBy[i]; r >= 0 {
		it.FailedBy = append(it.FailedBy, FailedBy{Rollback: e.deps[r].d.ID})
	}
	if rec, ok := d.recovery(); ok {
		it.RecoverySeconds = &rec
	}
	why := e.tr.rework[i]
	for _, r := range []struct {
		bit  uint8
		name string
	}{{reworkRollback, "rollback"}, {reworkFix, "ships_fix"}, {reworkIncident, "incident_open"}} {
		if why&r.bit != 0 {
			it.Rework = append(it.Rework, r.name)
		}
	}
	if p := x.rollOf[i]; p >= 0 {
		it.RollbackOf = &e.deps[p].d.ID
	}
	ls.items = append(ls.items, sortItem{t: d.fin, id: d.d.ID, it: it})
}

// change lists a merged PR ordered at t.
func (ls *lister) change(r *chg, t int64, leftOut string) {
	e := ls.x.e
	c := e.change(r)
	det := e.in.detail
	it := &ChangeItem{Kind: "change", ID: det.ids[r.idx], Service: e.svcNames[r.svc], Repo: str(e.in.names[c.repo]),
		Title: str(det.titles[r.idx]), Class: r.cls.String(), ClassRule: c.by.String(),
		FirstCommitAt: timeOf(e.before(c.first)), OpenedAt: timeOf(e.before(c.opened)), FirstReviewAt: timeOf(e.before(c.review)),
		MergedAt: time.Unix(0, r.merged).UTC(), Counted: leftOut == "", LeftOut: str(leftOut)}
	if r.dep >= 0 {
		d := &e.deps[r.dep]
		it.DeployedBy, it.DeployedAt = &d.d.ID, timeOf(d.fin)
		it.MappedBy = ptr("commit_list")
		if r.flags&fallbackMapped != 0 {
			it.MappedBy = ptr("time_fallback")
		}
		if l, ok := e.lead(r); ok {
			it.LeadTimeSeconds = ptr(seconds(l))
		}
		st, has := e.stages(r)
		for j, p := range []**float64{&it.Stages.Coding, &it.Stages.Pickup, &it.Stages.Review, &it.Stages.Deploy} {
			if has[j] {
				*p = ptr(st[j])
			}
		}
	}
	ls.items = append(ls.items, sortItem{t: t, id: it.ID, it: it})
}

// incident lists incident k.
func (ls *lister) incident(k int32, leftOut string) {
	e := ls.x.e
	x := &e.incs[k]
	it := &IncidentItem{Kind: "incident", ID: x.i.ID, Service: e.svcNames[x.svc], Urgency: e.urgNames[x.urg],
		TriggeredAt: time.Unix(0, x.trig).UTC(), AcknowledgedAt: timeOf(x.ack), ResolvedAt: timeOf(x.res),
		StartedAt: timeOf(x.started), ImpactStartUnparsed: str(x.i.ImpactStartUnparsed), CausedBy: str(x.i.CausedBy),
		Counted: leftOut == "", LeftOut: str(leftOut)}
	switch x.from {
	case startExplicit:
		it.StartedFrom = ptr("impact_start")
	case startCausedBy:
		it.StartedFrom = ptr("caused_by")
	}
	if x.dep >= 0 {
		it.AttributedTo, it.AttributedBy = &e.deps[x.dep].d.ID, ptr(x.by.String())
	} else {
		it.Reason = str(x.why.text())
	}
	durs, has := x.durations()
	for j, p := range []**float64{&it.TimeToDetectSeconds, &it.TimeToAcknowledgeSeconds, &it.TimeToResolveSeconds, &it.TimeToRestoreSeconds} {
		if has[j] {
			*p = ptr(durs[j])
		}
	}
	ls.items = append(ls.items, sortItem{t: x.trig, id: x.i.ID, it: it})
}

func (r attrRule) String() string {
	switch r {
	case byCausedBy:
		return "caused_by"
	case byWindow:
		return "window"
	}
	return ""
}
