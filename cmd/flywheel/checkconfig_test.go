package main

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel/collector/github/githubtest"
	"github.com/flywheel-metrics/flywheel/collector/pagerduty/pagerdutytest"
)

// The tokens of these tests; none may ever appear in the output.
const (
	tokAll      = "ghp_AllScopes0000000000000000000000000"
	tokNoRepo   = "ghp_NoRepoScope000000000000000000000000"
	tokNoDeploy = "github_pat_11AAAAAAA0NoDeployments0000000000000000"
	tokUnknown  = "ghp_Revoked00000000000000000000000000"
	pdKey       = "u+PagerDutyKey0000000"
)

var secrets = []string{tokAll, tokNoRepo, tokNoDeploy, tokUnknown, pdKey}

// checkOrg is an organisation with one private repository that has data of
// every kind the GitHub source reads.
func checkOrg() *githubtest.Org {
	t0 := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	sha := strings.Repeat("a", 40)
	merged := t0.Add(2 * time.Hour)
	return &githubtest.Org{Name: "acme", Repos: []*githubtest.Repo{{
		Owner: "acme", Name: "checkout", Private: true, CreatedAt: t0.Add(-time.Hour),
		Commits:     []*githubtest.Commit{{SHA: sha, Message: "first", AuthorLogin: "dev", AuthoredAt: t0, CommittedAt: t0}},
		Branches:    map[string]string{"main": sha},
		Pulls:       []*githubtest.Pull{{Number: 1, Title: "first", Author: "dev", BaseRef: "main", HeadRef: "f", CreatedAt: t0, UpdatedAt: merged, MergedAt: &merged, ClosedAt: &merged, MergeCommitSHA: sha}},
		Deployments: []*githubtest.Deployment{{SHA: sha, Ref: "main", Environment: "production", CreatedAt: merged, Creator: "bot"}},
		Workflows:   []*githubtest.Workflow{{ID: 7, Name: "deploy", Path: ".github/workflows/deploy.yml"}},
		Releases:    []*githubtest.Release{{TagName: "v1", TargetCommitish: sha, CreatedAt: merged, PublishedAt: &merged, Author: "dev"}},
	}}}
}

func newGitHubSim(t *testing.T, appPerms map[string]string) *githubtest.Server {
	t.Helper()
	s := githubtest.NewServer(checkOrg(), githubtest.Options{
		Tokens: map[string]githubtest.Grant{
			tokAll:      {Scopes: []string{"repo", "read:org"}},
			tokNoRepo:   {Scopes: []string{"read:org"}},
			tokNoDeploy: {FineGrained: true, Permissions: map[string]string{"metadata": "read", "contents": "read", "pull_requests": "read", "issues": "read"}},
		},
		AppPermissions:   appPerms,
		AppInstallations: []int64{42},
	})
	t.Cleanup(s.Close)
	return s
}

// checkConfig runs check-config (--online if online) through its entry point
// on yml, with env as the environment, and checks that no secret reached its
// output.
func checkConfig(t *testing.T, yml string, env map[string]string, online bool) (code int, stdout string) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "flywheel.yml")
	if err := os.WriteFile(file, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	a := &app{stdin: strings.NewReader(""), flags: globalFlags{configFile: file}}
	var out, errOut bytes.Buffer
	a.stdout, a.stderr = &out, &errOut
	code = a.runCheckConfig(false, online, func(k string) string { return env[k] })
	for _, s := range secrets {
		if strings.Contains(out.String()+errOut.String(), s) {
			t.Errorf("the output holds a secret:\n%s%s", out.String(), errOut.String())
		}
	}
	return code, out.String()
}

func githubYAML(s *githubtest.Server) string {
	return fmt.Sprintf("github:\n  base_url: %s\n  token_env: GH_TOKEN\n  orgs: [{name: acme}]\n  repos:\n    - name: acme/checkout\n", s.RESTBaseURL())
}

func TestCheckConfigOnlineGitHubTokens(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		token string
		code  int
		want  []string // regexps, each matching a line
	}{
		{"classic token with every scope", tokAll, 0, []string{
			`^github: http://127\.0\.0\.1:\d+/ as a classic personal access token \(scopes: repo, read:org\)$`,
			`^  ok +API: answers`,
			`^  ok +organisation acme: 1 repository visible, 1 kept by include/exclude$`,
			`^  ok +repository acme/checkout: visible \(private\)$`,
			`^  ok +pull requests of acme/checkout$`,
			`^  ok +issues \(incidents\) of acme/checkout$`,
			`^  ok +commits \(lead time\) of acme/checkout$`,
			`^  ok +deployments of acme/checkout$`,
			`^  ok +GraphQL \(http://127\.0\.0\.1:\d+/graphql\)$`,
			`^  8 requests to github$`,
			`^access OK$`,
		}},
		{"classic token without repo", tokNoRepo, 1, []string{
			`^github: .* classic personal access token \(scopes: read:org\)$`,
			`^  missing +scope repo: not granted: .* grant scope repo$`,
			`^  ok +organisation acme: 0 repositories visible, 0 kept by include/exclude \(public ones only: no scope repo\)$`,
			`^  missing +repository acme/checkout: 404 Not Found: not visible to this token; grant scope repo`,
			`^  skipped +deployments of acme/checkout: the repository is not visible$`,
			`^  4 requests to github$`, // rate limit, organisation, repository, GraphQL
			`^access: 2 missing$`,
		}},
		{"fine-grained token without deployments", tokNoDeploy, 1, []string{
			`^github: .* as a fine-grained personal access token$`,
			`^  ok +pull requests of acme/checkout$`,
			`^  missing +deployments of acme/checkout: 403 Resource not accessible by personal access token: grant Deployments: read$`,
			`^access: 1 missing$`,
		}},
		{"installation token given as a token", "ghs_InstallationToken000000000000000000", 1, []string{
			`^github: .* as a GitHub App installation token$`,
			`^  missing +credentials: 401 Bad credentials`,
		}},
		{"revoked token", tokUnknown, 1, []string{
			`^github: .* as a classic personal access token$`,
			`^  missing +credentials: 401 Bad credentials: the classic personal access token is wrong, expired or revoked$`,
			`^  1 request to github$`,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newGitHubSim(t, nil)
			code, out := checkConfig(t, githubYAML(s), map[string]string{"GH_TOKEN": tc.token}, true)
			if code != tc.code {
				t.Errorf("exit %d, want %d", code, tc.code)
			}
			for _, w := range tc.want {
				if !regexp.MustCompile("(?m)" + w).MatchString(out) {
					t.Errorf("no line matches %s", w)
				}
			}
			// The count said is the count made.
			if m := regexp.MustCompile(`(?m)^  (\d+) requests? to github$`).FindStringSubmatch(out); m == nil || m[1] != fmt.Sprint(s.Requests().Total) {
				t.Errorf("requests said %v, server saw %d", m, s.Requests().Total)
			}
			if t.Failed() || testing.Verbose() {
				t.Logf("output:\n%s", out)
			}
		})
	}
}

// TestCheckConfigOnlineDeploymentSources: each configured source is tried once,
// with its own permission, and a workflow that does not exist is named.
func TestCheckConfigOnlineDeploymentSources(t *testing.T) {
	t.Parallel()
	s := newGitHubSim(t, nil)
	yml := fmt.Sprintf("github:\n  base_url: %s\n  token_env: GH_TOKEN\n  graphql: false\n  repos:\n"+
		"    - name: acme/checkout\n      deployments: {source: workflow_runs, workflow: deploy.yml}\n"+
		"    - name: acme/checkout-releases\n      deployments: {source: releases}\n"+
		"    - name: acme/checkout-again\n      deployments: {source: workflow_runs, workflow: other.yml}\n", s.RESTBaseURL())
	code, out := checkConfig(t, yml, map[string]string{"GH_TOKEN": tokAll}, true)
	for _, w := range []string{
		`^  ok +workflow runs of acme/checkout \(deploy\.yml\)$`,
		`^  missing +releases of acme/checkout-releases: 404 Not Found: not found, or not visible to this token's user: check github\.repos\[1\]\.name, `,
		`^  7 requests to github$`, // rate limit, repository, pulls, issues, commits, runs, releases
	} {
		if !regexp.MustCompile("(?m)" + w).MatchString(out) {
			t.Errorf("no line matches %s", w)
		}
	}
	if code != 1 || strings.Contains(out, "GraphQL") || strings.Contains(out, "other.yml") || t.Failed() {
		t.Errorf("exit %d; output:\n%s", code, out)
	}

	yml = fmt.Sprintf("github:\n  base_url: %s\n  token_env: GH_TOKEN\n  graphql: false\n  repos:\n"+
		"    - name: acme/checkout\n      deployments: {source: workflow_runs, workflow: gone.yml}\n", s.RESTBaseURL())
	if code, out := checkConfig(t, yml, map[string]string{"GH_TOKEN": tokAll}, true); code != 1 ||
		!regexp.MustCompile(`(?m)^  missing +workflow runs of acme/checkout \(gone\.yml\): no workflow "gone\.yml" in acme/checkout: check github\.repos\[0\]\.deployments\.workflow`).MatchString(out) {
		t.Errorf("missing workflow: exit %d\n%s", code, out)
	}
}

func TestCheckConfigOnlineGitHubApp(t *testing.T) {
	t.Parallel()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "app.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600); err != nil {
		t.Fatal(err)
	}
	s := newGitHubSim(t, map[string]string{"metadata": "read", "contents": "read", "pull_requests": "read", "issues": "read"})
	app := func(installation int) string {
		return fmt.Sprintf("github:\n  base_url: %s\n  app:\n    app_id: 1\n    installation_id: %d\n    private_key_file: %s\n  repos:\n"+
			"    - name: acme/checkout\n      deployments: {source: workflow_runs, workflow: deploy.yml}\n", s.RESTBaseURL(), installation, keyFile)
	}
	code, out := checkConfig(t, app(42), nil, true)
	for _, w := range []string{
		`^github: .* as a GitHub App installation \(app 1, installation 42\)$`,
		`^  ok +installation token: issued; the installation may read: Contents: read, Issues: read, Metadata: read, Pull requests: read$`,
		`^  ok +repository acme/checkout: visible \(private\)$`,
		`^  missing +workflow runs of acme/checkout \(deploy\.yml\): 403 Resource not accessible by integration: grant the App Actions: read \(repository permissions\), then approve the new permissions on the installation$`,
		`^  8 requests to github$`, // token exchange, rate limit, repository, pulls, issues, commits, runs, GraphQL
	} {
		if !regexp.MustCompile("(?m)" + w).MatchString(out) {
			t.Errorf("no line matches %s", w)
		}
	}
	if code != 1 {
		t.Errorf("exit %d", code)
	}
	if t.Failed() || testing.Verbose() {
		t.Logf("output:\n%s", out)
	}
	code, out = checkConfig(t, app(43), nil, true)
	if code != 1 || !regexp.MustCompile(`(?m)^  missing +installation token: POST /app/installations/43/access_tokens answered 404 Not Found \(Not Found\): no such installation of this App; check github\.app\.installation_id`).MatchString(out) ||
		!strings.Contains(out, "1 request to github") {
		t.Errorf("unknown installation: exit %d\n%s", code, out)
	}
}

func TestCheckConfigOnlinePagerDuty(t *testing.T) {
	t.Parallel()
	now := time.Now()
	srv := pagerdutytest.NewServer(&pagerdutytest.Account{Services: []pagerdutytest.Service{{ID: "PSVC1", Name: "Checkout API", CreatedAt: now.Add(-time.Hour)}}},
		pagerdutytest.Options{Token: pdKey})
	t.Cleanup(srv.Close)
	yml := fmt.Sprintf("pagerduty:\n  base_url: %s\n  token_env: PD_TOKEN\n  services:\n    - {id: PSVC1, service: checkout}\n    - {id: PGONE, service: payments}\n", srv.URL)
	code, out := checkConfig(t, yml, map[string]string{"PD_TOKEN": pdKey}, true)
	for _, w := range []string{
		`^pagerduty: http://127\.0\.0\.1:\d+, REST API key accepted \(account abilities: teams, read_only_users, service_support_hours, urgencies\)$`,
		`^  ok +service PSVC1 \(checkout\): visible as "Checkout API"$`,
		`^  missing +service PGONE \(payments\): pagerduty: get service PGONE: 404 Not Found: Not Found: not visible to this key; check pagerduty\.services\[1\]\.id`,
		`^  ok +incidents: listed$`,
		`^  4 requests to pagerduty$`,
		`^access: 1 missing$`,
	} {
		if !regexp.MustCompile("(?m)" + w).MatchString(out) {
			t.Errorf("no line matches %s", w)
		}
	}
	if code != 1 || srv.Stats().Total != 4 {
		t.Errorf("exit %d, server saw %d requests\n%s", code, srv.Stats().Total, out)
	}
	code, out = checkConfig(t, yml, map[string]string{"PD_TOKEN": "u+NotTheKey"}, true)
	if code != 1 || !regexp.MustCompile(`(?m)^  missing +API key: pagerduty: list abilities: 401 Unauthorized: Unauthorized: not accepted; `).MatchString(out) ||
		strings.Contains(out, "u+NotTheKey") {
		t.Errorf("wrong key: exit %d\n%s", code, out)
	}
}

// TestCheckConfigSecrets: without --no-secrets, each unusable secret is one
// line naming its key; with it, the file alone is checked.
func TestCheckConfigSecrets(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	missing := filepath.Join(dir, "github-token")
	notKey := filepath.Join(dir, "app.pem")
	if err := os.WriteFile(notKey, []byte(pdKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	yml := "github:\n  token_file: " + missing + "\n  repos: [{name: acme/checkout}]\npagerduty:\n  token_env: PD_TOKEN\n  services: [{id: P1, service: checkout}]\n"
	code, out := checkConfig(t, yml, nil, false)
	want := "github.token_file: " + missing + ": no such file\npagerduty.token_env: PD_TOKEN: not set, or empty, in the environment\n"
	if code != 1 || out != want {
		t.Errorf("exit %d, output:\n%s\nwant:\n%s", code, out, want)
	}
	yml = "github:\n  app: {app_id: 1, installation_id: 2, private_key_file: " + notKey + "}\n  repos: [{name: acme/checkout}]\n"
	if code, out := checkConfig(t, yml, nil, false); code != 1 || !strings.HasPrefix(out, "github.app.private_key_file: "+notKey+": not a PEM file") {
		t.Errorf("app key: exit %d\n%s", code, out)
	}
	a := &app{flags: globalFlags{configFile: filepath.Join(dir, "f.yml")}}
	if err := os.WriteFile(a.flags.configFile, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	var o, e bytes.Buffer
	a.stdout, a.stderr = &o, &e
	if code := a.runCheckConfig(true, false, nil); code != 0 || o.String() != "config OK (secrets not checked: --no-secrets)\n" {
		t.Errorf("--no-secrets: exit %d, %q", code, o.String())
	}
}

// TestCheckConfigOnlineWrongBaseURL: a base URL that is a web site, not the
// API (GitHub Enterprise Server's API lives under /api/v3/), is named.
func TestCheckConfigOnlineWrongBaseURL(t *testing.T) {
	t.Parallel()
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte("<html><body>Not Found</body></html>"))
	}))
	t.Cleanup(site.Close)
	yml := "github:\n  base_url: " + site.URL + "/\n  token_env: GH_TOKEN\n  repos: [{name: acme/checkout}]\n"
	code, out := checkConfig(t, yml, map[string]string{"GH_TOKEN": tokAll}, true)
	if code != 1 || !regexp.MustCompile(`(?m)^  missing +API: github\.base_url http://127\.0\.0\.1:\d+/ answered 404 \(text/html; charset=utf-8\), not as GitHub's REST API; GitHub Enterprise Server's is at https://HOST/api/v3/$`).MatchString(out) ||
		!strings.Contains(out, "1 request to github") {
		t.Errorf("exit %d\n%s", code, out)
	}
}
