package main

import (
	"strings"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel/collector/github"
	"github.com/flywheel-metrics/flywheel/config"
)

func TestGitHubOptions(t *testing.T) {
	f := false
	cfg := &config.GitHub{
		GraphQL: &f,
		Orgs:    []config.Org{{Name: "acme", Include: "^svc-", Exclude: "^svc-old", Team: "core"}},
		Repos: []config.Repo{
			{Name: "acme/checkout", Service: "checkout", Team: "payments"},
			{Name: "acme/web", Deployments: &config.Deployments{Source: "workflow_runs", Workflow: "deploy.yml", Branch: "release"},
				IncidentLabels: []string{"outage"}},
		},
		Defaults: config.RepoDefaults{Deployments: config.Deployments{Environment: "^live$"}},
	}
	o, err := githubOptions(cfg, nil, 90*24*time.Hour, `^prod(uction)?$`, true)
	if err != nil {
		t.Fatal(err)
	}
	if o.GraphQL || !o.TuneUpPaths || o.History != 90*24*time.Hour {
		t.Errorf("graphql %v paths %v history %v", o.GraphQL, o.TuneUpPaths, o.History)
	}
	if len(o.Repos) != 2 || o.Repos[0].Owner != "acme" || o.Repos[0].Name != "checkout" || o.Repos[0].Team != "payments" {
		t.Fatalf("repos %+v", o.Repos)
	}
	co := o.Repos[0].Settings
	if co.DeploymentSource != github.SourceDeployments || !co.Environment.MatchString("live") || co.Environment.MatchString("production") ||
		len(co.IncidentLabels) != 1 || co.IncidentLabels[0] != "incident" {
		t.Errorf("checkout settings %+v", co)
	}
	web := o.Repos[1].Settings
	if web.DeploymentSource != github.SourceWorkflowRuns || web.Workflow != "deploy.yml" || web.Branch != "release" || web.IncidentLabels[0] != "outage" {
		t.Errorf("web settings %+v", web)
	}
	if len(o.Orgs) != 1 || !o.Orgs[0].Include.MatchString("svc-a") || !o.Orgs[0].Exclude.MatchString("svc-old-1") || o.Orgs[0].Team != "core" {
		t.Errorf("orgs %+v", o.Orgs)
	}
	// Defaults: GraphQL on, the production regex for environments.
	o, err = githubOptions(&config.GitHub{}, nil, time.Hour, "", false)
	if err != nil || !o.GraphQL || !o.Defaults.Environment.MatchString("prod") || o.Defaults.DeploymentSource != github.SourceDeployments {
		t.Errorf("defaults: %+v %v", o, err)
	}
}

func TestGitHubOptionsErrors(t *testing.T) {
	cfg := &config.GitHub{
		Orgs: []config.Org{{Name: "acme", Include: "("}},
		Repos: []config.Repo{
			{Name: "checkout"},
			{Name: "acme/a", Deployments: &config.Deployments{Source: "deploy"}},
			{Name: "acme/b", Deployments: &config.Deployments{Source: "workflow_runs"}},
		},
	}
	_, err := githubOptions(cfg, nil, time.Hour, "", false)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`github.repos[0].name: "checkout" is not owner/name`,
		`github.repos[1].deployments: source: unknown value "deploy"`,
		`github.repos[2].deployments: workflow: required for source workflow_runs`,
		`github.orgs[0].include:`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if _, err := githubOptions(nil, nil, time.Hour, "", false); err == nil {
		t.Error("nil section accepted")
	}
}
