package config

import (
	"bytes"
	"fmt"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"go.yaml.in/yaml/v3"

	"github.com/flywheel-metrics/flywheel"
)

// The defaults docs/configuration.md lists.
const (
	DefaultGitHubBaseURL     = "https://api.github.com/"
	DefaultPagerDutyBaseURL  = "https://api.pagerduty.com"
	DefaultGitHubSchedule    = "@every 15m"
	DefaultPagerDutySchedule = "@every 10m"
	DefaultImpactWindow      = "30d"
	DefaultHistory           = "365d"
	DefaultIncidentTimeZone  = "UTC"
	// DefaultMinSamples is report.min_samples when unset: a rate or a median
	// of fewer values moves by a whole level with one event.
	DefaultMinSamples            = 5
	DefaultProductionEnvironment = "^prod(uction)?$"
	DefaultAttributionWindow     = "72h"
	DefaultStoragePath           = "flywheel.db"
	DefaultMaxBodyBytes          = 10 << 20
	DefaultMaxNewServices        = 50
	DefaultMaxInFlight           = 4
	DefaultDeploymentSource      = SourceDeployments
)

// The values of deployments.source.
const (
	SourceDeployments  = "deployments"
	SourceWorkflowRuns = "workflow_runs"
	SourceReleases     = "releases"
)

// DefaultWindows are the KPI windows when none are configured.
func DefaultWindows() []string { return []string{"7d", "30d", "90d"} }

// DefaultIncidentLabels label GitHub issues that are incidents.
func DefaultIncidentLabels() []string { return []string{"incident"} }

// Default is the configuration without a file: every default and no sources.
func Default() *Config {
	c := &Config{}
	c.applyDefaults()
	return c
}

// Load reads and parses the file at path; an empty path gives Default().
func Load(path string) (*Config, error) {
	if path == "" {
		return Default(), nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	c, err := Parse(data)
	if err != nil {
		// A problem of the file as a whole is reported at the file's name, so
		// that every problem reads "path: message".
		if errs, ok := err.(*Errors); ok {
			for i := range errs.Problems {
				if errs.Problems[i].Path == "" {
					errs.Problems[i].Path = path
				}
			}
		}
		return nil, fmt.Errorf("config %s:\n%w", path, err)
	}
	return c, nil
}

// Parse decodes and validates a configuration strictly. Its error is an
// *Errors listing every problem found, each with its path.
func Parse(data []byte) (*Config, error) {
	var p, v problems
	c := &Config{}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &Errors{Problems: []Problem{{Message: "invalid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}}}
	}
	if len(bytes.TrimSpace(data)) > 0 && doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		root := doc.Content[0]
		if root.Kind != yaml.MappingNode && root.Tag != "!!null" {
			p.add("", "the configuration must be a mapping, got %s", describe(root))
		} else {
			decodeNode(&p, "", root, reflect.ValueOf(c).Elem())
		}
	}
	c.applyDefaults()
	c.validate(&v)
	// A value that could not be decoded was left unset; the problems that its
	// absence causes in the same part of the file would only repeat it.
	decoded := p
	for _, vp := range v {
		if !decoded.typeProblemNear(vp.Path) {
			p = append(p, vp)
		}
	}
	if len(p) > 0 {
		return nil, &Errors{Problems: p}
	}
	return c, nil
}

// applyDefaults fills every unset value with its default, so that the parsed
// Config says explicitly what will be used.
func (c *Config) applyDefaults() {
	setDefault(&c.ImpactWindow, DefaultImpactWindow)
	setDefault(&c.History, DefaultHistory)
	setDefault(&c.ProductionEnvironment, DefaultProductionEnvironment)
	setDefault(&c.ChangeFailure.AttributionWindow, DefaultAttributionWindow)
	setDefault(&c.Storage.Path, DefaultStoragePath)
	setDefault(&c.IncidentTimeZone, DefaultIncidentTimeZone)
	if c.Windows == nil {
		c.Windows = DefaultWindows()
	}
	if c.API.MaxBodyBytes == 0 {
		c.API.MaxBodyBytes = DefaultMaxBodyBytes
	}

	if c.Report.MinSamples == 0 {
		c.Report.MinSamples = DefaultMinSamples
	}
	if g := c.GitHub; g != nil {
		setDefault(&g.BaseURL, DefaultGitHubBaseURL)
		setDefault(&g.Schedule, DefaultGitHubSchedule)
		setDefault(&g.Defaults.Deployments.Source, DefaultDeploymentSource)
		if g.Defaults.IncidentLabels == nil {
			g.Defaults.IncidentLabels = DefaultIncidentLabels()
		}
		if g.GraphQL == nil {
			t := true
			g.GraphQL = &t
		}
		if g.MaxInFlight == 0 {
			g.MaxInFlight = DefaultMaxInFlight
		}
		for i := range g.Repos {
			r := &g.Repos[i]
			if r.Service == "" {
				_, name, _ := strings.Cut(r.Name, "/")
				r.Service = name
			}
		}
	}
	if pd := c.PagerDuty; pd != nil {
		setDefault(&pd.BaseURL, DefaultPagerDutyBaseURL)
		setDefault(&pd.Schedule, DefaultPagerDutySchedule)
	}
}

func setDefault(s *string, def string) {
	if strings.TrimSpace(*s) == "" {
		*s = def
	}
}

// RepoDeployments is a listed repo's effective deployments settings: each unset
// field of its own block comes from github.defaults.deployments.
func (g *GitHub) RepoDeployments(r Repo) Deployments {
	d := g.Defaults.Deployments
	if r.Deployments != nil {
		if r.Deployments.Source != "" {
			d.Source = r.Deployments.Source
		}
		if r.Deployments.Environment != "" {
			d.Environment = r.Deployments.Environment
		}
		if r.Deployments.Workflow != "" {
			d.Workflow = r.Deployments.Workflow
		}
		if r.Deployments.Branch != "" {
			d.Branch = r.Deployments.Branch
		}
	}
	if d.Source == "" {
		d.Source = DefaultDeploymentSource
	}
	return d
}

var repoName = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$`)

// validate records every problem of a decoded, defaulted configuration.
func (c *Config) validate(p *problems) {
	c.kpiOptions(p) // windows, durations, regexes, classification, tune-ups, thresholds
	checkDuration(p, "history", c.History)
	if _, err := time.LoadLocation(c.IncidentTimeZone); err != nil {
		p.add("incident_time_zone", "unknown time zone %q (want an IANA name such as Europe/Berlin, or UTC)", c.IncidentTimeZone)
	}
	if c.Report.MinSamples < 0 {
		p.add("report.min_samples", "must be at least 1 (1 turns the minimum off), got %d", c.Report.MinSamples)
	}
	if c.API.MaxBodyBytes < 0 {
		p.add("api.max_body_bytes", "must be positive, got %d", c.API.MaxBodyBytes)
	}
	if n := c.API.MaxNewServices; n != nil && *n < 0 {
		p.add("api.max_new_services", "must be 0 or more, got %d", *n)
	}
	checkSecret(p, "api", c.API.Secret, false)
	if g := c.GitHub; g != nil {
		c.validateGitHub(p, g)
	}
	if pd := c.PagerDuty; pd != nil {
		checkURL(p, "pagerduty.base_url", pd.BaseURL)
		checkSecret(p, "pagerduty", pd.Secret, true)
		checkSchedule(p, "pagerduty.schedule", pd.Schedule)
		if len(pd.Services) == 0 {
			p.add("pagerduty.services", "list at least one service (id and service)")
		}
		ids := newUnique("pagerduty.services", "id")
		for i, s := range pd.Services {
			path := index("pagerduty.services", i)
			if id := strings.TrimSpace(s.ID); id == "" {
				p.add(join(path, "id"), "required")
			} else {
				ids.check(p, join(path, "id"), i, id, id)
			}
			if strings.TrimSpace(s.Service) == "" {
				p.add(join(path, "service"), "required")
			}
		}
	}
	names := newUnique("services", "service")
	for i, s := range c.Services {
		path := index("services", i)
		if n := strings.TrimSpace(s.Name); n == "" {
			p.add(join(path, "name"), "required")
		} else {
			names.check(p, join(path, "name"), i, n, n)
		}
		if strings.TrimSpace(s.Team) == "" {
			p.add(join(path, "team"), "required")
		}
	}
}

func (c *Config) validateGitHub(p *problems, g *GitHub) {
	checkURL(p, "github.base_url", g.BaseURL)
	hasToken := g.TokenFile != "" || g.TokenEnv != ""
	if g.App != nil && hasToken {
		p.add("github", "set a token (token_file or token_env) or app, not both")
	}
	if g.App == nil {
		checkSecret(p, "github", g.Secret, true)
	} else {
		if g.App.AppID <= 0 {
			p.add("github.app.app_id", "required")
		}
		if g.App.InstallationID <= 0 {
			p.add("github.app.installation_id", "required")
		}
		if strings.TrimSpace(g.App.PrivateKeyFile) == "" {
			p.add("github.app.private_key_file", "required")
		}
	}
	checkSchedule(p, "github.schedule", g.Schedule)
	if g.MaxInFlight < 0 {
		p.add("github.max_in_flight", "must be positive, got %d", g.MaxInFlight)
	}
	if len(g.Orgs) == 0 && len(g.Repos) == 0 {
		p.add("github", "no repositories: list orgs or repos")
	}
	for i, o := range g.Orgs {
		path := index("github.orgs", i)
		if strings.TrimSpace(o.Name) == "" || strings.Contains(o.Name, "/") {
			p.add(join(path, "name"), "want an organisation name, got %q", o.Name)
		}
		checkRegexp(p, join(path, "include"), o.Include)
		checkRegexp(p, join(path, "exclude"), o.Exclude)
	}
	checkDeployments(p, "github.defaults.deployments", g.Defaults.Deployments, g.Defaults.Deployments)
	checkLabels(p, "github.defaults.incident_labels", g.Defaults.IncidentLabels)
	repos := newUnique("github.repos", "repo")
	for i, r := range g.Repos {
		path := index("github.repos", i)
		if !repoName.MatchString(r.Name) {
			p.add(join(path, "name"), "want owner/name, got %q", r.Name)
		} else {
			repos.check(p, join(path, "name"), i, strings.ToLower(r.Name), r.Name) // GitHub's names ignore case
		}
		if r.Deployments != nil {
			checkDeployments(p, join(path, "deployments"), *r.Deployments, g.RepoDeployments(r))
		}
		checkLabels(p, join(path, "incident_labels"), r.IncidentLabels)
	}
}

// checkDeployments checks a deployments block as written (own) and as it
// applies after defaults (eff).
func checkDeployments(p *problems, path string, own, eff Deployments) {
	switch own.Source {
	case "", SourceDeployments, SourceWorkflowRuns, SourceReleases:
	default:
		p.add(join(path, "source"), "unknown value %q", own.Source)
		return
	}
	checkRegexp(p, join(path, "environment"), own.Environment)
	if eff.Source == SourceWorkflowRuns && strings.TrimSpace(eff.Workflow) == "" {
		p.add(join(path, "workflow"), "required when source is workflow_runs (a workflow file name such as deploy.yml)")
	}
}

func checkLabels(p *problems, path string, labels []string) {
	for i, l := range labels {
		if strings.TrimSpace(l) == "" {
			p.add(index(path, i), "empty label")
		}
	}
}

func checkSecret(p *problems, path string, s Secret, required bool) {
	switch {
	case s.TokenFile != "" && s.TokenEnv != "":
		p.add(path, "set token_file or token_env, not both")
	case required && s.TokenFile == "" && s.TokenEnv == "":
		p.add(path, "no token: set token_file or token_env")
	}
}

func checkURL(p *problems, path, s string) {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		// url.Parse's error quotes the whole value, which may hold a secret.
		p.add(path, "invalid URL: want an absolute http or https URL")
	case u.User != nil || u.RawQuery != "":
		// Credentials in a URL would be echoed by every error and log line that
		// names a request (go-github prints request URLs with their user info).
		c := *u
		c.User, c.RawQuery = nil, ""
		p.add(path, "URL %q must not carry credentials or a query (user info and query removed here): set token_file or token_env", c.String())
	case (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		p.add(path, "invalid URL %q: want an absolute http or https URL", s)
	}
}

// MinScheduleInterval is the shortest gap between two syncs a schedule may
// ask for: more often only spends the API rate limit on the same data.
const MinScheduleInterval = time.Minute

// cronFields are the five fields of a cron expression with their ranges, in
// order, for the step check the cron parser does not make.
var cronFields = [...]struct {
	name     string
	min, max int
}{{"minute", 0, 59}, {"hour", 0, 23}, {"day of month", 1, 31}, {"month", 1, 12}, {"day of week", 0, 6}}

func checkSchedule(p *problems, path, s string) {
	spec := strings.TrimSpace(s)
	// The parser rounds @every below a second up to one second, so a zero or
	// negative interval must be caught in the text.
	if rest, ok := strings.CutPrefix(spec, "@every "); ok {
		if d, err := time.ParseDuration(strings.TrimSpace(rest)); err == nil && d <= 0 {
			p.add(path, "invalid schedule %q: the interval must be positive (at least %v)", s, shortDuration(MinScheduleInterval))
			return
		}
	}
	sched, err := cron.ParseStandard(spec)
	if err != nil {
		p.add(path, "invalid schedule %q: %v", s, err)
		return
	}
	if !strings.HasPrefix(spec, "@") {
		fields := strings.Fields(spec)
		if len(fields) > 0 && (strings.HasPrefix(fields[0], "CRON_TZ=") || strings.HasPrefix(fields[0], "TZ=")) {
			fields = fields[1:]
		}
		for i, f := range fields {
			if i >= len(cronFields) {
				break
			}
			if msg := checkStep(f, cronFields[i].min, cronFields[i].max); msg != "" {
				p.add(path, "invalid schedule %q: %s field %q: %s", s, cronFields[i].name, f, msg)
				return
			}
		}
	}
	// A five-field cron expression cannot ask for less than a minute, so
	// the gap check matters for @every; Next's zero time means the parser
	// found no run in the next five years (a date such as February 31).
	first := sched.Next(time.Now())
	if first.IsZero() {
		p.add(path, "invalid schedule %q: never runs (no such date)", s)
		return
	}
	if gap := sched.Next(first).Sub(first); gap < MinScheduleInterval {
		p.add(path, "invalid schedule %q: runs every %v, more often than the minimum of %v", s, gap, shortDuration(MinScheduleInterval))
	}
}

// checkStep reports a step in one cron field longer than the field's range:
// the parser accepts */61 in minutes and runs it at minute 0 only, which is
// not what anyone writing it meant.
func checkStep(field string, min, max int) string {
	for _, part := range strings.Split(field, ",") {
		_, step, ok := strings.Cut(part, "/")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(step)
		if err == nil && n > max-min+1 {
			return fmt.Sprintf("step %d exceeds the range %d-%d", n, min, max)
		}
	}
	return ""
}

// shortDuration writes 1m rather than time.Duration's 1m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func checkRegexp(p *problems, path, s string) *regexp.Regexp {
	re, err := regexp.Compile(s)
	if err != nil {
		p.add(path, "invalid regular expression %q: %s", s, strings.TrimPrefix(err.Error(), "error parsing regexp: "))
		return nil
	}
	return re
}

func checkDuration(p *problems, path, s string) {
	if _, err := flywheel.ParseDuration(s); err != nil {
		p.add(path, "%v", err)
	}
}

func hasKey[K comparable, V any](m map[K]V, k K) bool {
	_, ok := m[k]
	return ok
}

// unique finds repeated keys among the entries of one list of the config.
type unique struct {
	list, what string
	seen       map[string]int
}

func newUnique(list, what string) *unique {
	return &unique{list: list, what: what, seen: map[string]int{}}
}

// check records entry i's key, or, when an earlier entry has it, a problem at
// path naming that entry; shown is the key as written. It reports whether the
// key was new.
func (u *unique) check(p *problems, path string, i int, key, shown string) bool {
	if j, ok := u.seen[key]; ok {
		p.add(path, "duplicate %s %q (also %s[%d])", u.what, shown, u.list, j)
		return false
	}
	u.seen[key] = i
	return true
}

// IncidentLocation is the zone of incident_time_zone (UTC when it does not
// load, which validation has already reported).
func (c *Config) IncidentLocation() *time.Location {
	loc, err := time.LoadLocation(c.IncidentTimeZone)
	if err != nil || c.IncidentTimeZone == "" {
		return time.UTC
	}
	return loc
}
