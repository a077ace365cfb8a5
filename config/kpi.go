package config

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/metrics/kpi"
)

// KPIOptions turns the configuration into the KPI engine's options:
// windows, production environments (per repo for listed repos whose
// deployments come from GitHub deployments with their own environment regex),
// attribution, classification overrides, tune-up initiatives, the impact window
// and the DORA thresholds. Unset values take their defaults.
func (c *Config) KPIOptions() (kpi.Options, error) {
	var p problems
	o := c.kpiOptions(&p)
	if len(p) > 0 {
		return kpi.Options{}, &Errors{Problems: p}
	}
	return o, nil
}

// HistoryDuration is how far back a source's first sync reaches (default 365d).
func (c *Config) HistoryDuration() time.Duration {
	d, err := flywheel.ParseDuration(c.History)
	if err != nil {
		d, _ = flywheel.ParseDuration(DefaultHistory)
	}
	return d
}

// ServiceTeams maps services to teams from services[], pagerduty.services and
// github.repos; where several name a team for one service, a repo entry wins
// over a PagerDuty entry, which wins over services[].
func (c *Config) ServiceTeams() map[string]string {
	m := map[string]string{}
	set := func(service, team string) {
		if service != "" && team != "" {
			m[service] = team
		}
	}
	for _, s := range c.Services {
		set(s.Name, s.Team)
	}
	if c.PagerDuty != nil {
		for _, s := range c.PagerDuty.Services {
			set(s.Service, s.Team)
		}
	}
	if c.GitHub != nil {
		for _, r := range c.GitHub.Repos {
			set(r.Service, r.Team) // applyDefaults gave every repo its service
		}
	}
	return m
}

// kpiOptions builds the options, recording problems with their paths; Parse
// uses it to validate and KPIOptions to build.
func (c *Config) kpiOptions(p *problems) kpi.Options {
	o := kpi.DefaultOptions()
	windows := c.Windows
	if windows == nil {
		windows = DefaultWindows()
	}
	if len(windows) == 0 {
		p.add("windows", "list at least one window")
	}
	o.Windows = nil
	seen := map[string]int{}
	for i, s := range windows {
		w, err := flywheel.ParseWindow(s)
		switch {
		case err != nil:
			p.add(index("windows", i), "%v", err)
		case hasKey(seen, w.Name):
			p.add(index("windows", i), "duplicate window %q", w.Name)
		default:
			seen[w.Name] = i
			o.Windows = append(o.Windows, w)
		}
	}
	if re := checkRegexp(p, "production_environment", orDefault(c.ProductionEnvironment, DefaultProductionEnvironment)); re != nil {
		o.ProductionEnvironment = re
	}
	if g := c.GitHub; g != nil {
		for _, r := range g.Repos {
			if re := c.repoEnvironment(g.RepoDeployments(r)); re != nil {
				if o.RepoEnvironments == nil {
					o.RepoEnvironments = map[string]*regexp.Regexp{}
				}
				o.RepoEnvironments[r.Name] = re
			}
		}
		// Repos found by org discovery have the defaults only.
		d := g.Defaults.Deployments
		if d.Source == "" {
			d.Source = DefaultDeploymentSource
		}
		if re := c.repoEnvironment(d); re != nil {
			o.SourceEnvironments = map[string]*regexp.Regexp{GitHubSourceName: re}
		}
	}
	o.AttributionWindow = duration(p, "change_failure.attribution_window", c.ChangeFailure.AttributionWindow, DefaultAttributionWindow)
	for i, u := range c.ChangeFailure.Urgencies {
		if strings.TrimSpace(u) == "" {
			p.add(index("change_failure.urgencies", i), "empty urgency")
		}
	}
	o.AttributionUrgencies = c.ChangeFailure.Urgencies
	o.ImpactWindow = duration(p, "impact_window", c.ImpactWindow, DefaultImpactWindow)
	o.Classification = c.classification(p)
	o.TuneUps = c.initiatives(p)
	o.Thresholds = c.thresholds(p)
	return o
}

// GitHubSourceName is the Deployment.Source of deployments the GitHub collector
// stores, and githubEnvironment the environment it gives those from workflow runs
// and releases, which have none of their own.
const (
	GitHubSourceName  = "github"
	githubEnvironment = "production"
)

// repoEnvironment is the production-environment regex of a GitHub repo's
// deployments when it differs from production_environment, else nil.
func (c *Config) repoEnvironment(d Deployments) *regexp.Regexp {
	if d.Source == SourceWorkflowRuns || d.Source == SourceReleases {
		return regexp.MustCompile("^" + githubEnvironment + "$")
	}
	if d.Environment == "" || d.Environment == c.ProductionEnvironment {
		return nil
	}
	// An invalid regex is reported by validate, at the key that holds it.
	re, err := regexp.Compile(d.Environment)
	if err != nil {
		return nil
	}
	return re
}

func orDefault(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}

func duration(p *problems, path, s, def string) time.Duration {
	d, err := flywheel.ParseDuration(orDefault(s, def))
	if err != nil {
		p.add(path, "%v", err)
	}
	return d
}

// PathRules reports whether tune-up path rules apply (the third
// classification rule, after labels and the title): the
// defaults unless classification.tune_up.paths replaces them, possibly with an
// empty list. Sources fetch changed paths only when this is true.
func (c *Config) PathRules() bool {
	if t := c.Classification.TuneUp; t != nil && t.Paths != nil {
		return len(t.Paths) > 0
	}
	return len(kpi.DefaultClassification().TuneUpPaths) > 0
}

// classification applies the overrides: each list given replaces the default
// list; paths exist only for tune_up.
func (c *Config) classification(p *problems) kpi.Classification {
	cl := kpi.DefaultClassification()
	apply := func(name string, r *ClassRules, into *kpi.ClassRules) {
		if r == nil {
			return
		}
		base := join("classification", name)
		if r.Labels != nil {
			checkGlobs(p, join(base, "labels"), r.Labels)
			into.Labels = r.Labels
		}
		if r.Types != nil {
			for i, t := range r.Types {
				if strings.TrimSpace(t) == "" {
					p.add(index(join(base, "types"), i), "empty type")
				}
			}
			into.Types = r.Types
		}
		if r.Paths != nil {
			if name != "tune_up" {
				p.add(join(base, "paths"), "only tune_up has paths")
				return
			}
			checkGlobs(p, join(base, "paths"), r.Paths)
			cl.TuneUpPaths = r.Paths
		}
	}
	apply("fix", c.Classification.Fix, &cl.Fix)
	apply("tune_up", c.Classification.TuneUp, &cl.TuneUp)
	apply("innovation", c.Classification.Innovation, &cl.Innovation)
	return cl
}

func checkGlobs(p *problems, at string, globs []string) {
	for i, g := range globs {
		if strings.TrimSpace(g) == "" {
			p.add(index(at, i), "empty pattern")
		} else if _, err := path.Match(g, ""); err != nil {
			p.add(index(at, i), "invalid pattern %q: %v", g, err)
		}
	}
}

// initiatives reads tune_ups: a label, or a date range whose `to`
// day is included (To is the next midnight UTC); RFC3339 instants are taken as
// written, `to` then being the exclusive end.
func (c *Config) initiatives(p *problems) []kpi.Initiative {
	var out []kpi.Initiative
	names := newUnique("tune_ups", "initiative")
	for i, t := range c.TuneUps {
		at := index("tune_ups", i)
		in := kpi.Initiative{Name: strings.TrimSpace(t.Name), Label: strings.TrimSpace(t.Label), Services: t.Services}
		ok := in.Name != ""
		if !ok {
			p.add(join(at, "name"), "required")
		} else {
			ok = names.check(p, join(at, "name"), i, in.Name, in.Name)
		}
		hasRange := t.From != "" || t.To != ""
		switch {
		case in.Label != "" && hasRange:
			p.add(at, "set label or from and to, not both")
			ok = false
		case in.Label == "" && !hasRange:
			p.add(at, "set label or from and to")
			ok = false
		case hasRange:
			from, fromOK := parseDay(p, join(at, "from"), t.From, false)
			to, toOK := parseDay(p, join(at, "to"), t.To, true)
			switch {
			case !fromOK || !toOK:
				ok = false
			case from.After(to):
				p.add(at, "from %s is after to %s", t.From, t.To)
				ok = false
			case !to.After(from):
				p.add(at, "from %s and to %s make an empty range", t.From, t.To)
				ok = false
			}
			in.From, in.To = from, to
		}
		for j, s := range t.Services {
			if strings.TrimSpace(s) == "" {
				p.add(index(join(at, "services"), j), "empty service")
			}
		}
		if t.ImpactWindow != "" {
			d, err := flywheel.ParseDuration(t.ImpactWindow)
			if err != nil {
				p.add(join(at, "impact_window"), "%v", err)
				ok = false
			}
			in.ImpactWindow = d
		}
		if ok {
			out = append(out, in)
		}
	}
	return out
}

// parseDay reads a date (UTC midnight; for an end, the next midnight, as the
// day is included) or an RFC3339 instant.
func parseDay(p *problems, at, s string, end bool) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		other := "to"
		if end {
			other = "from"
		}
		p.add(at, "required with %s", other)
		return time.Time{}, false
	}
	if d, err := time.Parse(time.DateOnly, s); err == nil {
		if end {
			d = d.AddDate(0, 0, 1)
		}
		return d, true
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), true
	}
	p.add(at, "invalid date %q: want YYYY-MM-DD or an RFC3339 time", s)
	return time.Time{}, false
}

// thresholds applies dora_thresholds over the default DORA
// level table (docs/kpis.md); each bound given
// replaces the default one, and the three must stay ordered.
func (c *Config) thresholds(p *problems) kpi.Thresholds {
	th := kpi.DefaultThresholds
	t := c.DORAThresholds
	if t == nil {
		return th
	}
	bounds(p, "dora_thresholds.deployment_frequency_per_day", t.DeploymentFrequencyPerDay, &th.DeploymentFrequencyPerDay, parseRate, formatNumber, true)
	bounds(p, "dora_thresholds.lead_time", t.LeadTime, &th.LeadTimeSeconds, parseSeconds, formatSeconds, false)
	bounds(p, "dora_thresholds.change_failure_ratio", t.ChangeFailureRatio, &th.ChangeFailureRatio, parseRatio, formatNumber, false)
	bounds(p, "dora_thresholds.recovery_time", t.RecoveryTime, &th.RecoverySeconds, parseSeconds, formatSeconds, false)
	return th
}

// bounds reads one KPI's three level bounds; show prints a bound in an error
// the way a user writes it.
func bounds(p *problems, at string, lb *LevelBounds, into *[3]float64, parse func(string) (float64, error), show func(float64) string, descending bool) {
	if lb == nil {
		return
	}
	ok := true
	for i, s := range []string{lb.Elite, lb.High, lb.Medium} {
		if strings.TrimSpace(s) == "" {
			continue
		}
		v, err := parse(s)
		if err != nil {
			p.add(join(at, []string{"elite", "high", "medium"}[i]), "%v", err)
			ok = false
			continue
		}
		into[i] = v
	}
	if !ok {
		return
	}
	if descending && !(into[0] >= into[1] && into[1] >= into[2]) {
		p.add(at, "want elite ≥ high ≥ medium, got %s, %s, %s", show(into[0]), show(into[1]), show(into[2]))
	}
	if !descending && !(into[0] <= into[1] && into[1] <= into[2]) {
		p.add(at, "want elite ≤ high ≤ medium, got %s, %s, %s", show(into[0]), show(into[1]), show(into[2]))
	}
}

func formatNumber(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }

// formatSeconds prints a duration in the largest whole unit a config accepts:
// 604800 → "7d", 5400 → "90m"; anything else as Go prints durations.
func formatSeconds(v float64) string {
	d := time.Duration(v * float64(time.Second))
	for _, u := range []struct {
		unit time.Duration
		name string
	}{{flywheel.Day, "d"}, {time.Hour, "h"}, {time.Minute, "m"}} {
		if d != 0 && d%u.unit == 0 {
			return strconv.FormatInt(int64(d/u.unit), 10) + u.name
		}
	}
	return d.String()
}

// parseRate reads deployments per day: a number or a fraction such as 1/7.
func parseRate(s string) (float64, error) {
	s = strings.TrimSpace(s)
	num, den, frac := strings.Cut(s, "/")
	n, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	d := 1.0
	if err == nil && frac {
		d, err = strconv.ParseFloat(strings.TrimSpace(den), 64)
	}
	if err != nil || n <= 0 || d <= 0 {
		return 0, fmt.Errorf("invalid rate %q: want deployments per day such as 1 or 1/7", s)
	}
	return n / d, nil
}

func parseSeconds(s string) (float64, error) {
	d, err := flywheel.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	return d.Seconds(), nil
}

// parseRatio reads a ratio in [0, 1] or a percentage such as 5%.
func parseRatio(s string) (float64, error) {
	s = strings.TrimSpace(s)
	pct, isPct := strings.CutSuffix(s, "%")
	v, err := strconv.ParseFloat(strings.TrimSpace(pct), 64)
	if isPct {
		v /= 100
	}
	if err != nil || v < 0 || v > 1 {
		return 0, fmt.Errorf("invalid ratio %q: want a number between 0 and 1 or a percentage such as 5%%", s)
	}
	return v, nil
}
