// Package demo generates an organisation and serves it through simulated GitHub
// and PagerDuty APIs on 127.0.0.1, so that `flywheel demo` runs
// the real collectors through the same code paths as production, without a
// config, a token or the network.
//
// Generate(seed, now) builds about a year of weekday work in six services of three
// teams: log-normal lead times, reviews, squash merges on main, production
// deployments (a few failed, two rolled back), PagerDuty incidents with
// acknowledgements, caused-by notes and impact-start lines, GitHub incident
// issues whose bodies and comments name the deployment that caused them in every
// form people use (ids, URLs, shas, owner/repo#N, Markdown, corrections; impact
// starts with and without a zone, some that do not parse), and the labelled
// tune-up initiative "ci-speedup" (label tuneup:ci-speedup) after which the
// payments team's lead time drops. Org.Truth records what the generator meant by
// each incident, so that tests can measure what Flywheel recovers from the texts.
// The same seed and now give the same organisation.
//
// Start(ctx, seed, now) serves it and returns an Env:
//
//	env, err := demo.Start(ctx, seed, time.Now())
//	if err != nil { … }
//	defer env.Close()
//	cfg := env.Config // parsed and validated like a user's file (config.Parse)
//	ghToken, _ := cfg.ReadSecret(cfg.GitHub.Secret, env.Getenv)
//	pdToken, _ := cfg.ReadSecret(cfg.PagerDuty.Secret, env.Getenv)
//
// The config names tokens by environment variable (token_env); Env.Getenv answers
// those names with the simulated servers' tokens and every other name from the
// process environment, so nothing is written into the real environment.
package demo

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/flywheel-metrics/flywheel/collector/github/githubtest"
	"github.com/flywheel-metrics/flywheel/collector/pagerduty/pagerdutytest"
	"github.com/flywheel-metrics/flywheel/config"
)

// Environment variable names the demo config reads its tokens from (through
// Env.Getenv, never the real environment).
const (
	GitHubTokenEnv    = "FLYWHEEL_DEMO_GITHUB_TOKEN"
	PagerDutyTokenEnv = "FLYWHEEL_DEMO_PAGERDUTY_TOKEN"
)

// The simulated servers' tokens. They guard nothing real; they exist so that the
// collectors' authentication path runs as in production.
const (
	githubToken    = "demo-github-token"
	pagerdutyToken = "demo-pagerduty-token"
)

// Env is a running demo: the simulated APIs and a configuration pointing at them.
type Env struct {
	// GitHubURL is the REST base URL (ends in "/"); the GitHub client derives the
	// GraphQL endpoint from it.
	GitHubURL string
	// PagerDutyURL is the PagerDuty REST base URL (no trailing slash).
	PagerDutyURL string
	// Config is the demo configuration: every repo with its service and team,
	// every PagerDuty service, the ci-speedup tune-up, tokens by token_env.
	// ConfigYAML is the same as YAML, for people who want to see it.
	Config     *config.Config
	ConfigYAML string
	// Org is the generated organisation the servers hold; its StoreConfigYAML
	// is the configuration for reading a store the demo filled.
	Org *Org
	// Getenv resolves the config's token_env names (see the package doc).
	Getenv func(string) string
	// GitHub and PagerDuty are the running servers (their request counters show
	// what a sync cost).
	GitHub    *githubtest.Server
	PagerDuty *pagerdutytest.Server
}

// Start generates the organisation for seed as of now and serves it on
// 127.0.0.1. The servers' clocks start at now and advance with the wall clock,
// so rate-limit windows refill as in production. Close stops them.
func Start(ctx context.Context, seed int64, now time.Time) (*Env, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("demo: start: %w", err)
	}
	org := Generate(seed, now)
	began := time.Now()
	clock := func() time.Time { return org.Now.Add(time.Since(began)) }
	gh := githubtest.NewServer(org.GitHub, githubtest.Options{
		Token: githubToken, Now: clock,
		// Generous budgets: the demo shows the data, not waiting for a reset.
		RateLimit: 100000, GraphQLRateLimit: 100000,
	})
	pd := pagerdutytest.NewServer(org.PagerDuty, pagerdutytest.Options{Token: pagerdutyToken, Now: clock})
	env := &Env{
		GitHubURL: gh.RESTBaseURL(), PagerDutyURL: pd.URL,
		GitHub: gh, PagerDuty: pd, Org: org,
		Getenv: func(name string) string {
			switch name {
			case GitHubTokenEnv:
				return githubToken
			case PagerDutyTokenEnv:
				return pagerdutyToken
			}
			return os.Getenv(name)
		},
	}
	env.ConfigYAML = org.ConfigYAML(env.GitHubURL, env.PagerDutyURL)
	cfg, err := config.Parse([]byte(env.ConfigYAML))
	if err != nil {
		env.Close()
		return nil, fmt.Errorf("demo: generated config: %w", err)
	}
	env.Config = cfg
	return env, nil
}

// Close stops both servers.
func (e *Env) Close() {
	if e.GitHub != nil {
		e.GitHub.Close()
	}
	if e.PagerDuty != nil {
		e.PagerDuty.Close()
	}
}

// ConfigYAML is a Flywheel configuration for the organisation served at
// the given base URLs, with tokens read from GitHubTokenEnv and PagerDutyTokenEnv.
func (o *Org) ConfigYAML(githubURL, pagerdutyURL string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Generated by flywheel demo (seed %d).\n", o.Seed)
	fmt.Fprintf(&b, "github:\n  base_url: %q\n  token_env: %s\n  schedule: \"@every 5m\"\n  repos:\n", githubURL, GitHubTokenEnv)
	for _, s := range o.Services {
		fmt.Fprintf(&b, "    - name: %s\n      service: %s\n      team: %s\n", s.Repo, s.Name, s.Team)
	}
	b.WriteString("  defaults:\n    deployments:\n      source: deployments\n    incident_labels: [incident]\n")
	fmt.Fprintf(&b, "pagerduty:\n  base_url: %q\n  token_env: %s\n  schedule: \"@every 5m\"\n  services:\n", pagerdutyURL, PagerDutyTokenEnv)
	for _, s := range o.Services {
		fmt.Fprintf(&b, "    - id: %s\n      service: %s\n      team: %s\n", s.PagerDutyID, s.Name, s.Team)
	}
	o.writeKPIConfig(&b)
	return b.String()
}

// StoreConfigHeader begins every file StoreConfigYAML writes: flywheel demo
// rewrites a configuration file that begins with it, and no other.
const StoreConfigHeader = "# Written by flywheel demo"

// StoreConfigYAML is the configuration with which Flywheel reads a store that
// the demo filled, at storePath: the same teams, tune-up initiative, windows
// and production environment as ConfigYAML, with storage.path set to storePath
// (left out when it is empty) and no sources. The simulated APIs stop with the demo, so a github or
// pagerduty section would only send serve and collect to ports nobody listens
// on; the file's opening comment says so, for the person who opens it.
func (o *Org) StoreConfigYAML(storePath string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (seed %d): the configuration for reading the store it filled.\n", StoreConfigHeader, o.Seed)
	b.WriteString(`#
# Read that store with it once the demo has stopped (its storage.path, or
# --storage.path):
#   flywheel --config.file <this file> report
#   flywheel --config.file <this file> explain change_failure_ratio
#   flywheel --config.file <this file> serve
# It holds the demo's teams, its tune-up initiative, windows and production
# environment, so the report shows the tune-up's impact and the metrics carry
# the teams. It has no github or pagerduty section: the demo's GitHub and
# PagerDuty were simulated on 127.0.0.1 and stopped with it, so serve serves
# what the store holds and collects nothing. To collect your own organisation,
# use a new store and a configuration of your own (docs/configuration.md).
#
# flywheel demo rewrites this file when it runs again with the same
# --storage.path; remove this comment's first line to keep your edits.
`)
	if storePath != "" {
		fmt.Fprintf(&b, "storage:\n  path: %q\n", storePath)
	}
	b.WriteString("services:\n")
	for _, s := range o.Services {
		fmt.Fprintf(&b, "  - name: %s\n    team: %s\n", s.Name, s.Team)
	}
	o.writeKPIConfig(&b)
	return b.String()
}

// writeKPIConfig writes the keys that decide the demo's KPIs, shared by
// ConfigYAML and StoreConfigYAML so that both compute the same numbers. Its
// deployments are in the environment "production"; impact starts written
// without a zone are in UTC.
func (o *Org) writeKPIConfig(b *strings.Builder) {
	b.WriteString("production_environment: \"^production$\"\n")
	fmt.Fprintf(b, "tune_ups:\n  - name: %s\n    label: %q\n", o.TuneUp.Name, o.TuneUp.Label)
	b.WriteString("impact_window: 30d\nwindows: [7d, 30d, 90d]\nhistory: 365d\nincident_time_zone: UTC\n")
}
