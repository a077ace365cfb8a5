package config_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/config"
	"github.com/flywheel-metrics/flywheel/metrics/kpi"
)

const parseWant = "want a positive number followed by a unit such as 30d or 72h"

// Each bad file and every problem it must report, exactly and in order
// (blackbox_exporter's config_test.go style).
func TestBadConfigs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		file string
		want []string
	}{
		{"unknown-keys.yml", []string{
			"github.reops: unknown key",
			"github.token: unknown key: tokens are read only from token_file or token_env",
			"github.repos[2].deployments.enviroment: unknown key",
			"storage.size: unknown key",
			`github.repos[2].deployments.source: unknown value "deploy"`,
		}},
		{"bad-values.yml", []string{
			`api.max_body_bytes: want an integer, got "lots"`,
			`windows[1]: invalid duration "30x": ` + parseWant,
			`windows[2]: duplicate window "7d"`,
			"production_environment: invalid regular expression \"^(prod\": missing closing ): `^(prod`",
			`change_failure.attribution_window: invalid duration "72": ` + parseWant,
			`impact_window: invalid duration "-3d": ` + parseWant,
			`history: invalid duration "forever": ` + parseWant,
			`incident_time_zone: unknown time zone "Mars/Olympus_Mons" (want an IANA name such as Europe/Berlin, or UTC)`,
			"report.min_samples: must be at least 1 (1 turns the minimum off), got -2",
			`github.base_url: invalid URL "api.github.com": want an absolute http or https URL`,
			"github: set token_file or token_env, not both",
			`github.schedule: invalid schedule "every 15 minutes": expected exactly 5 fields, found 3: [every 15 minutes]`,
			"github.orgs[0].include: invalid regular expression \"[a-\": missing closing ]: `[a-`",
			`github.repos[0].name: want owner/name, got "checkout"`,
			"github.repos[1].deployments.workflow: required when source is workflow_runs (a workflow file name such as deploy.yml)",
			`github.repos[2].name: duplicate repo "acme/pay" (also github.repos[1])`,
			"github.repos[2].deployments.environment: invalid regular expression \"prod(\": missing closing ): `prod(`",
			`pagerduty.services[1].id: duplicate id "P1" (also pagerduty.services[0])`,
			"pagerduty.services[2].id: required",
		}},
		{"tune-ups.yml", []string{
			"tune_ups[0]: set label or from and to, not both",
			"tune_ups[1]: set label or from and to",
			"tune_ups[2].to: required with from",
			"tune_ups[3]: from 2026-03-31 is after to 2026-03-01",
			`tune_ups[4].from: invalid date "2026-13-01": want YYYY-MM-DD or an RFC3339 time`,
			`tune_ups[4].to: invalid date "31/03/2026": want YYYY-MM-DD or an RFC3339 time`,
			"tune_ups[5].name: required",
			`tune_ups[5].impact_window: invalid duration "soon": ` + parseWant,
			`tune_ups[6].name: duplicate initiative "both" (also tune_ups[0])`,
		}},
		{"thresholds.yml", []string{
			"dora_thresholds.mttr: unknown key",
			`classification.fix.labels[1]: invalid pattern "[oops": syntax error in pattern`,
			"classification.fix.paths: only tune_up has paths",
			"classification.tune_up.types[1]: empty type",
			"dora_thresholds.deployment_frequency_per_day: want elite ≥ high ≥ medium, got 0.03333, 0.1429, 1",
			`dora_thresholds.lead_time.high: invalid duration "7days": ` + parseWant,
			`dora_thresholds.change_failure_ratio.high: invalid ratio "1.5": want a number between 0 and 1 or a percentage such as 5%`,
			"dora_thresholds.recovery_time: want elite ≤ high ≤ medium, got 1h, 2h, 1h",
		}},
		{"credentials.yml", []string{
			"api: set token_file or token_env, not both",
			"github: set a token (token_file or token_env) or app, not both",
			"github.app.app_id: required",
			"github.app.installation_id: required",
			"github.app.private_key_file: required",
			"github: no repositories: list orgs or repos",
			"pagerduty: no token: set token_file or token_env",
		}},
		// Wrong types are reported once, without the problems their absence causes.
		{"types.yml", []string{
			`windows: want a list, got "7d"`,
			`github.graphql: want true or false, got "maybe"`,
			`github.max_in_flight: want an integer, got "many"`,
			`github.repos: want a list, got "acme/checkout"`,
			"github.token_env: want a string, got a list",
			`services[0]: want a mapping, got "checkout"`,
			`storage: want a mapping, got "flywheel.db"`,
		}},
		// Schedules the cron parser accepts but that sync every second, never,
		// or not as written.
		{"schedules.yml", []string{
			`github.schedule: invalid schedule "@every 0s": the interval must be positive (at least 1m)`,
			`pagerduty.schedule: invalid schedule "@every -5m": the interval must be positive (at least 1m)`,
		}},
		{"schedules-cron.yml", []string{
			`github.schedule: invalid schedule "*/61 * * * *": minute field "*/61": step 61 exceeds the range 0-59`,
			`pagerduty.schedule: invalid schedule "0 0 31 2 *": never runs (no such date)`,
		}},
		{"schedules-fast.yml", []string{
			`github.schedule: invalid schedule "@every 30s": runs every 30s, more often than the minimum of 1m`,
			`pagerduty.schedule: invalid schedule "0 */25 * * *": hour field "*/25": step 25 exceeds the range 0-23`,
		}},
		{"duplicate-keys.yml", []string{"storage.path: duplicate key", "windows: duplicate key"}},
		{"workflow-defaults.yml", []string{
			"github.defaults.deployments.workflow: required when source is workflow_runs (a workflow file name such as deploy.yml)",
		}},
		// yaml.v3 names the line where the enclosing block starts.
		{"syntax.yml", []string{"testdata/syntax.yml: invalid YAML: line 1: did not find expected key"}},
		{"not-a-mapping.yml", []string{"testdata/not-a-mapping.yml: the configuration must be a mapping, got a list"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join("testdata", tc.file)
			_, err := config.Load(path)
			var errs *config.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("Load(%s) = %v, want *config.Errors", tc.file, err)
			}
			if got := strings.Split(errs.Error(), "\n"); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if !strings.HasPrefix(err.Error(), "config "+path+":\n") {
				t.Errorf("Load's error does not name the file: %q", err)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	want := &config.Config{
		ImpactWindow: "30d", Windows: []string{"7d", "30d", "90d"}, History: "365d",
		ProductionEnvironment: "^prod(uction)?$",
		API:                   config.API{MaxBodyBytes: 10 << 20},
		ChangeFailure:         config.ChangeFailure{AttributionWindow: "72h"},
		IncidentTimeZone:      "UTC",
		Storage:               config.Storage{Path: "flywheel.db"},
		Report:                config.Report{MinSamples: 5},
	}
	for name, load := range map[string]func() (*config.Config, error){
		"Default":      func() (*config.Config, error) { return config.Default(), nil },
		"Load empty":   func() (*config.Config, error) { return config.Load("") },
		"Parse empty":  func() (*config.Config, error) { return config.Parse(nil) },
		"Parse blank":  func() (*config.Config, error) { return config.Parse([]byte("# nothing\n\n")) },
		"Parse {}":     func() (*config.Config, error) { return config.Parse([]byte("{}")) },
		"Parse null":   func() (*config.Config, error) { return config.Parse([]byte("~")) },
		"empty values": func() (*config.Config, error) { return config.Parse([]byte("storage:\nwindows:\nhistory: ''\n")) },
	} {
		c, err := load()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(c, want) {
			t.Errorf("%s = %+v\nwant %+v", name, c, want)
		}
	}
	o, err := config.Default().KPIOptions()
	if err != nil {
		t.Fatal(err)
	}
	assertOptions(t, o, kpi.DefaultOptions())
	if d := config.Default().HistoryDuration(); d != 365*flywheel.Day {
		t.Errorf("HistoryDuration = %v", d)
	}
}

// assertOptions compares options, regexes by their source.
func assertOptions(t *testing.T, got, want kpi.Options) {
	t.Helper()
	str := func(re *regexp.Regexp) string {
		if re == nil {
			return "<nil>"
		}
		return re.String()
	}
	if str(got.ProductionEnvironment) != str(want.ProductionEnvironment) {
		t.Errorf("ProductionEnvironment = %s, want %s", str(got.ProductionEnvironment), str(want.ProductionEnvironment))
	}
	if len(got.RepoEnvironments) != len(want.RepoEnvironments) {
		t.Errorf("RepoEnvironments = %v, want %v", got.RepoEnvironments, want.RepoEnvironments)
	}
	for k, re := range want.RepoEnvironments {
		if str(got.RepoEnvironments[k]) != str(re) {
			t.Errorf("RepoEnvironments[%s] = %s, want %s", k, str(got.RepoEnvironments[k]), str(re))
		}
	}
	if len(got.SourceEnvironments) != len(want.SourceEnvironments) {
		t.Errorf("SourceEnvironments = %v, want %v", got.SourceEnvironments, want.SourceEnvironments)
	}
	for k, re := range want.SourceEnvironments {
		if str(got.SourceEnvironments[k]) != str(re) {
			t.Errorf("SourceEnvironments[%s] = %s, want %s", k, str(got.SourceEnvironments[k]), str(re))
		}
	}
	got.ProductionEnvironment, want.ProductionEnvironment = nil, nil
	got.RepoEnvironments, want.RepoEnvironments = nil, nil
	got.SourceEnvironments, want.SourceEnvironments = nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("options:\n got %+v\nwant %+v", got, want)
	}
}

func TestAnnotatedExample(t *testing.T) {
	t.Parallel()
	c, err := config.Load("testdata/example.yml")
	if err != nil {
		t.Fatal(err)
	}
	if c.GitHub.TokenFile != "/run/secrets/github-token" || c.PagerDuty.TokenEnv != "PAGERDUTY_TOKEN" || c.API.TokenFile != "/run/secrets/flywheel-ingest" {
		t.Errorf("secrets: %+v %+v %+v", c.GitHub.Secret, c.PagerDuty.Secret, c.API.Secret)
	}
	if c.GitHub.Repos[0].Service != "checkout" || c.GitHub.Orgs[0].Exclude != "^(sandbox|archive)-" || *c.GitHub.GraphQL != true || c.GitHub.MaxInFlight != 4 {
		t.Errorf("github: %+v", c.GitHub)
	}
	o, err := c.KPIOptions()
	if err != nil {
		t.Fatal(err)
	}
	want := kpi.DefaultOptions()
	want.AttributionUrgencies = []string{"high"}
	want.TuneUps = []kpi.Initiative{
		{Name: "ci-speedup", Label: "tuneup:ci-speedup"},
		{Name: "flaky-tests", From: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC),
			Services: []string{"checkout"}, ImpactWindow: 14 * flywheel.Day},
	}
	assertOptions(t, o, want)
	if got := c.ServiceTeams(); !reflect.DeepEqual(got, map[string]string{"checkout": "payments"}) {
		t.Errorf("ServiceTeams = %v", got)
	}
}

func TestFullConfig(t *testing.T) {
	t.Parallel()
	c, err := config.Load("testdata/full.yml")
	if err != nil {
		t.Fatal(err)
	}
	g := c.GitHub
	if g.App == nil || g.App.AppID != 12345 || g.App.InstallationID != 678 || *g.GraphQL || g.MaxInFlight != 2 || g.Schedule != "*/20 * * * *" {
		t.Errorf("github: %+v", g)
	}
	if d := g.RepoDeployments(g.Repos[1]); d != (config.Deployments{Source: "workflow_runs", Workflow: "deploy.yml", Branch: "release"}) {
		t.Errorf("RepoDeployments(cart) = %+v", d)
	}
	if d := g.RepoDeployments(g.Repos[0]); d != (config.Deployments{Source: "deployments", Environment: "^live$", Branch: "main"}) {
		t.Errorf("RepoDeployments(checkout) = %+v", d)
	}
	// cart has no list of its own, so the defaults' list applies to it.
	if l := g.Defaults.IncidentLabels; !reflect.DeepEqual(l, []string{"incident", "outage"}) || g.Repos[1].IncidentLabels != nil {
		t.Errorf("incident labels: defaults %v, cart %v", l, g.Repos[1].IncidentLabels)
	}
	if l := g.Repos[0].IncidentLabels; !reflect.DeepEqual(l, []string{"sev1", "sev2"}) {
		t.Errorf("incident labels of checkout = %v", l)
	}
	if g.Repos[2].Service != "web" {
		t.Errorf("default service of acme/web = %q", g.Repos[2].Service)
	}
	if c.HistoryDuration() != 180*flywheel.Day || c.API.MaxBodyBytes != 1<<20 || c.Storage.Path != "/var/lib/flywheel/flywheel.db" {
		t.Errorf("history %v, max body %d, storage %q", c.HistoryDuration(), c.API.MaxBodyBytes, c.Storage.Path)
	}
	o, err := c.KPIOptions()
	if err != nil {
		t.Fatal(err)
	}
	def := kpi.DefaultClassification()
	want := kpi.Options{
		Windows:               []flywheel.Window{{Name: "1d", Duration: flywheel.Day}, {Name: "4w", Duration: 28 * flywheel.Day}},
		ProductionEnvironment: regexp.MustCompile("^(prod|production)$"),
		// The repo with its own deployments environment, and cart (workflow
		// runs) and web (releases), whose deployments the collector stores in
		// environment "production", which production_environment need not match.
		RepoEnvironments: map[string]*regexp.Regexp{
			"acme/checkout": regexp.MustCompile("^live$"),
			"acme/cart":     regexp.MustCompile("^production$"),
			"acme/web":      regexp.MustCompile("^production$"),
		},
		AttributionWindow:    48 * time.Hour,
		AttributionUrgencies: []string{"high", "P1"},
		Classification: kpi.Classification{
			Fix:         kpi.ClassRules{Labels: []string{"bug"}, Types: def.Fix.Types},
			TuneUp:      kpi.ClassRules{Labels: []string{"tuneup:*", "chore"}, Types: def.TuneUp.Types},
			Innovation:  kpi.ClassRules{Labels: def.Innovation.Labels, Types: []string{"feat", "feature"}},
			TuneUpPaths: []string{".github/", "*.md"},
		},
		TuneUps: []kpi.Initiative{
			{Name: "ci-speedup", Label: "tuneup:ci-speedup", Services: []string{"checkout", "cart"}},
			{Name: "migration", From: time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC), To: time.Date(2026, 2, 15, 0, 0, 0, 0, time.UTC)},
		},
		ImpactWindow: 21 * flywheel.Day,
		Thresholds: kpi.Thresholds{
			DeploymentFrequencyPerDay: [3]float64{2, 1.0 / 7, 1.0 / 30},
			LeadTimeSeconds:           [3]float64{12 * 3600, 3 * 86400, 14 * 86400},
			ChangeFailureRatio:        [3]float64{0.05, 0.2, 0.3},
			RecoverySeconds:           [3]float64{3600, 86400, 14 * 86400},
		},
	}
	assertOptions(t, o, want)
	wantTeams := map[string]string{"checkout": "payments", "cart": "shop", "billing": "payments", "search": "discovery"}
	if got := c.ServiceTeams(); !reflect.DeepEqual(got, wantTeams) {
		t.Errorf("ServiceTeams = %v, want %v (repos over pagerduty over services[])", got, wantTeams)
	}
}

// A hand-built Config that was never parsed still reports its problems.
func TestKPIOptionsOfUnparsedConfig(t *testing.T) {
	t.Parallel()
	c := &config.Config{Windows: []string{"7d", "bad"}, TuneUps: []config.TuneUp{{Name: "x", From: "2026-01-01"}}}
	_, err := c.KPIOptions()
	want := `windows[1]: invalid duration "bad": ` + parseWant + "\ntune_ups[0].to: required with from"
	if err == nil || err.Error() != want {
		t.Errorf("KPIOptions error = %v\nwant %s", err, want)
	}
}

func TestReadSecret(t *testing.T) {
	t.Parallel()
	const secret = "s3cr3t-T0KEN-value"
	dir := t.TempDir()
	file := filepath.Join(dir, "token")
	if err := os.WriteFile(file, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(k string) string {
		if k == "FLYWHEEL_TEST_TOKEN" {
			return secret
		}
		return ""
	}
	yml := fmt.Sprintf("github:\n  token_file: %s\n  repos: [{name: acme/x}]\npagerduty:\n  token_env: FLYWHEEL_TEST_TOKEN\n  services: [{id: P1, service: x}]\napi:\n  token_file: %s\n", file, empty)
	c, err := config.Parse([]byte(yml))
	if err != nil {
		t.Fatal(err)
	}
	if v, err := c.ReadSecret(c.GitHub.Secret, env); err != nil || v != secret {
		t.Errorf("token_file: %q, %v", v, err)
	}
	if v, err := c.ReadSecret(c.PagerDuty.Secret, env); err != nil || v != secret {
		t.Errorf("token_env: %q, %v", v, err)
	}
	var errs []string
	for _, tc := range []struct {
		s    config.Secret
		want string
	}{
		// A parsed secret's errors name its key with the section.
		{c.API.Secret, "api.token_file: " + empty + ": empty file"},
		{config.Secret{TokenFile: filepath.Join(dir, "missing")}, "token_file: " + filepath.Join(dir, "missing") + ": no such file"},
		{config.Secret{TokenFile: dir}, "token_file: " + dir + ": a directory, want a file"},
		{config.Secret{TokenEnv: "FLYWHEEL_UNSET"}, "token_env: FLYWHEEL_UNSET: not set, or empty, in the environment"},
		{config.Secret{TokenFile: file, TokenEnv: "FLYWHEEL_TEST_TOKEN"}, "set token_file or token_env, not both"},
		{config.Secret{}, "no token: set token_file or token_env"},
	} {
		_, err := c.ReadSecret(tc.s, env)
		if err == nil || err.Error() != tc.want {
			t.Errorf("ReadSecret(%+v) = %v, want %s", tc.s, err, tc.want)
		}
		if err != nil {
			errs = append(errs, err.Error())
		}
	}
	// The value is never kept in the Config, nor in any error.
	for _, s := range append(errs, fmt.Sprintf("%+v %+v %+v %#v", c, c.GitHub, c.PagerDuty, c)) {
		if strings.Contains(s, secret) {
			t.Errorf("secret value in %q", s)
		}
	}
	// A literal token in the file is refused without echoing it.
	_, err = config.Parse([]byte("github:\n  token: " + secret + "\n  repos: [{name: acme/x}]\n"))
	if err == nil || strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "github.token: unknown key: tokens are read only from token_file or token_env") {
		t.Errorf("literal token: %v", err)
	}
	_, err = config.Load("testdata/unknown-keys.yml")
	if err == nil || strings.Contains(err.Error(), "ghp_SECRETVALUE123") {
		t.Errorf("unknown-keys.yml error shows the token: %v", err)
	}
}

func TestParseFileProblemsHaveNoPath(t *testing.T) {
	t.Parallel()
	_, err := config.Parse([]byte("- a\n"))
	var errs *config.Errors
	if !errors.As(err, &errs) || len(errs.Problems) != 1 || errs.Problems[0] != (config.Problem{Message: "the configuration must be a mapping, got a list"}) {
		t.Errorf("Parse(list) = %#v", err)
	}
}

func TestLoadMissingFile(t *testing.T) {
	t.Parallel()
	_, err := config.Load("testdata/nope.yml")
	if err == nil || err.Error() != "read config: open testdata/nope.yml: no such file or directory" {
		t.Errorf("err = %v", err)
	}
}

// Repos found by org discovery take github.defaults.deployments: its environment
// (or "production" for workflow runs and releases) becomes the GitHub source's
// rule, while imported deployments keep production_environment.
func TestKPIOptionsDiscoveredRepoEnvironments(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, defaults, want string
	}{
		{"environment", "source: deployments\n      environment: ^live-.*$", "^live-.*$"},
		{"workflow runs", "source: workflow_runs\n      workflow: deploy.yml", "^production$"},
		{"releases", "source: releases", "^production$"},
		{"production_environment", "source: deployments", ""},
	} {
		c, err := config.Parse([]byte("github:\n  token_env: T\n  orgs: [{name: acme}]\n  defaults:\n    deployments:\n      " + tc.defaults + "\n"))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		o, err := c.KPIOptions()
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got := ""
		if re := o.SourceEnvironments[config.GitHubSourceName]; re != nil {
			got = re.String()
		}
		if got != tc.want {
			t.Errorf("%s: SourceEnvironments[github] = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestBaseURLCredentials: a base URL carrying user info or a query (a token
// pasted into it) is refused, and the problem does not repeat the secret.
func TestBaseURLCredentials(t *testing.T) {
	t.Parallel()
	const secret = "ghp_s3cretTokenValue"
	dir := t.TempDir()
	path := filepath.Join(dir, "flywheel.yml")
	yml := `github:
  base_url: https://x-access-token:` + secret + `@ghe.example.com/api/v3/
  token_env: GITHUB_TOKEN
  repos: [{name: acme/checkout}]
pagerduty:
  base_url: https://api.pagerduty.com/?token=` + secret + `
  token_env: PAGERDUTY_TOKEN
  services: [{id: P1, service: checkout}]
`
	if err := os.WriteFile(path, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := config.Load(path)
	var errs *config.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Load = %v, want *config.Errors", err)
	}
	want := []string{
		`pagerduty.base_url: URL "https://api.pagerduty.com/" must not carry credentials or a query (user info and query removed here): set token_file or token_env`,
		`github.base_url: URL "https://ghe.example.com/api/v3/" must not carry credentials or a query (user info and query removed here): set token_file or token_env`,
	}
	got := strings.Split(errs.Error(), "\n")
	slices.Sort(got)
	slices.Sort(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("the error repeats the secret: %v", err)
	}
}

// PathRules agrees with the tune-up paths KPIOptions builds: the defaults, a
// replacement list, or an explicit empty list that turns rule 3 off.
func TestPathRules(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, yaml string
		want       bool
	}{
		{"defaults", "{}", true},
		{"replaced", "classification:\n  tune_up:\n    paths: [docs/]\n", true},
		{"turned off", "classification:\n  tune_up:\n    paths: []\n", false},
		{"labels only", "classification:\n  tune_up:\n    labels: [x]\n", true},
	} {
		c, err := config.Parse([]byte(tc.yaml))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		o, err := c.KPIOptions()
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := c.PathRules(); got != tc.want || got != (len(o.Classification.TuneUpPaths) > 0) {
			t.Errorf("%s: PathRules = %v, want %v (KPIOptions paths %v)", tc.name, got, tc.want, o.Classification.TuneUpPaths)
		}
	}
}

// TestThresholdOrderErrorsShowDurations: a misordered duration bound is shown
// as a user writes one (7d, 36h, 90m), never as raw seconds (6.048e+05).
func TestThresholdOrderErrorsShowDurations(t *testing.T) {
	t.Parallel()
	_, err := config.Parse([]byte("dora_thresholds:\n  lead_time: {elite: 7d, high: 36h}\n  recovery_time: {elite: 90m, high: 1h, medium: 1.5s}\n"))
	var cerr *config.Errors
	if !errors.As(err, &cerr) {
		t.Fatalf("err = %v, want *config.Errors", err)
	}
	var got []string
	for _, p := range cerr.Problems {
		got = append(got, p.Path+": "+p.Message)
	}
	want := []string{
		"dora_thresholds.lead_time: want elite ≤ high ≤ medium, got 7d, 36h, 30d",
		"dora_thresholds.recovery_time: want elite ≤ high ≤ medium, got 90m, 1h, 1.5s",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Schedules at or above the minimum, rare dates and time zones still pass.
func TestSchedulesAccepted(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"@every 1m", "@every 15m", "@hourly", "*/59 * * * *", "0 0 29 2 *", "0 9 * * 1-5", "CRON_TZ=Europe/Berlin 0 9 * * 1-5", "0 0 1 */12 *", "*/60 * * * *"} {
		data := "github:\n  token_env: T\n  schedule: \"" + s + "\"\n  repos: [{name: acme/checkout}]\n"
		if _, err := config.Parse([]byte(data)); err != nil {
			t.Errorf("schedule %q: %v", s, err)
		}
	}
}
