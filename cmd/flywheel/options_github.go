package main

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/flywheel-metrics/flywheel/collector/github"
	"github.com/flywheel-metrics/flywheel/collector/github/ghclient"
	"github.com/flywheel-metrics/flywheel/config"
)

// Mapping the configuration to each source's options lives here, in cmd, so
// that the sources know nothing of the config package (only cmd wires packages together).

// githubOptions maps the github section of the configuration (already
// validated by config.Load) to Options. productionEnv is the top-level
// production_environment regex, the default of every deployments.environment;
// pathRules says whether tune-up path rules are configured, which decides
// whether changed paths are fetched.
func githubOptions(cfg *config.GitHub, c *ghclient.Client, history time.Duration, productionEnv string, pathRules bool) (github.Options, error) {
	if cfg == nil {
		return github.Options{}, errors.New("github: no github section in the configuration")
	}
	if productionEnv == "" {
		productionEnv = `^prod(uction)?$`
	}
	var errs []error
	def, err := repoSettings(cfg.Defaults.Deployments, cfg.Defaults.IncidentLabels, github.RepoSettings{}, productionEnv)
	if err != nil {
		errs = append(errs, fmt.Errorf("github.defaults.deployments: %w", err))
	}
	if cfg.Defaults.IncidentLabels == nil {
		def.IncidentLabels = []string{"incident"}
	}
	opts := github.Options{
		Client:      c,
		Defaults:    def,
		History:     history,
		GraphQL:     cfg.GraphQL == nil || *cfg.GraphQL,
		TuneUpPaths: pathRules,
	}
	for i, r := range cfg.Repos {
		owner, name, ok := strings.Cut(r.Name, "/")
		if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
			errs = append(errs, fmt.Errorf("github.repos[%d].name: %q is not owner/name", i, r.Name))
			continue
		}
		var d config.Deployments
		if r.Deployments != nil {
			d = *r.Deployments
		}
		s, err := repoSettings(d, r.IncidentLabels, def, productionEnv)
		if err != nil {
			errs = append(errs, fmt.Errorf("github.repos[%d].deployments: %w", i, err))
		}
		opts.Repos = append(opts.Repos, github.RepoConfig{Owner: owner, Name: name, Service: r.Service, Team: r.Team, Settings: s})
	}
	for i, o := range cfg.Orgs {
		oc := github.OrgConfig{Name: o.Name, Team: o.Team}
		if o.Name == "" {
			errs = append(errs, fmt.Errorf("github.orgs[%d].name: missing", i))
		}
		if o.Include != "" {
			re, err := regexp.Compile(o.Include)
			if err != nil {
				errs = append(errs, fmt.Errorf("github.orgs[%d].include: %w", i, err))
			}
			oc.Include = re
		}
		if o.Exclude != "" {
			re, err := regexp.Compile(o.Exclude)
			if err != nil {
				errs = append(errs, fmt.Errorf("github.orgs[%d].exclude: %w", i, err))
			}
			oc.Exclude = re
		}
		opts.Orgs = append(opts.Orgs, oc)
	}
	if len(errs) > 0 {
		return github.Options{}, errors.Join(errs...)
	}
	return opts, nil
}

// repoSettings fills a repo's settings from its config, field by field over base
// (the defaults).
func repoSettings(d config.Deployments, labels []string, base github.RepoSettings, productionEnv string) (github.RepoSettings, error) {
	s := base
	if labels != nil {
		s.IncidentLabels = labels
	}
	if d.Source != "" {
		s.DeploymentSource = d.Source
	}
	if s.DeploymentSource == "" {
		s.DeploymentSource = github.SourceDeployments
	}
	switch s.DeploymentSource {
	case github.SourceDeployments, github.SourceWorkflowRuns, github.SourceReleases:
	default:
		return s, fmt.Errorf("source: unknown value %q (want deployments, workflow_runs or releases)", s.DeploymentSource)
	}
	if d.Workflow != "" {
		s.Workflow = d.Workflow
	}
	if d.Branch != "" {
		s.Branch = d.Branch
	}
	env := d.Environment
	if env == "" && s.Environment == nil {
		env = productionEnv
	}
	if env != "" {
		re, err := regexp.Compile(env)
		if err != nil {
			return s, fmt.Errorf("environment: %w", err)
		}
		s.Environment = re
	}
	if s.DeploymentSource == github.SourceWorkflowRuns && s.Workflow == "" {
		return s, errors.New("workflow: required for source workflow_runs")
	}
	return s, nil
}
