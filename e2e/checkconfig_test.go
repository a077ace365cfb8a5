package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel/collector/github/githubtest"
)

// TestCheckConfigOfTheKubernetesManifest: the configuration shipped in
// deploy/kubernetes names token files in a mounted Secret. Checked where that
// Secret is not mounted, check-config names each missing file; --no-secrets
// checks the file alone; serve refuses to start with the same lines, before it
// creates a store.
func TestCheckConfigOfTheKubernetesManifest(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/run/secrets/flywheel"); err == nil {
		t.Skip("/run/secrets/flywheel exists here: the manifest's secrets may be present")
	}
	// the file kustomize turns into the ConfigMap, as the pod sees it
	cfg := "../deploy/kubernetes/flywheel.yml"
	dir := t.TempDir()

	r := runFlywheel(t, nil, "--config.file", cfg, "check-config")
	want := "github.token_file: /run/secrets/flywheel/github-token: no such file\n" +
		"pagerduty.token_file: /run/secrets/flywheel/pagerduty-token: no such file\n"
	if r.Code != 1 || r.Stdout != want || !strings.Contains(r.Stderr, "--no-secrets") {
		t.Errorf("check-config: exit %d\nstdout:\n%s\nwant:\n%s\nstderr: %s", r.Code, r.Stdout, want, r.Stderr)
	}
	r = runFlywheel(t, nil, "--config.file", cfg, "check-config", "--no-secrets")
	if r.Code != 0 || r.Stdout != "config OK (secrets not checked: --no-secrets)\n" {
		t.Errorf("check-config --no-secrets: exit %d, %q %q", r.Code, r.Stdout, r.Stderr)
	}
	if r := runFlywheel(t, nil, "--config.file", cfg, "check-config", "--no-secrets", "--online"); r.Code != 2 {
		t.Errorf("--online with --no-secrets: exit %d, %q", r.Code, r.Stderr)
	}
	db := filepath.Join(dir, "flywheel.db")
	for _, cmd := range [][]string{{"serve", "--web.listen-address", freePort(t)}, {"collect"}} {
		r = runFlywheel(t, nil, append([]string{"--config.file", cfg, "--storage.path", db}, cmd...)...)
		if r.Code != 1 || !strings.Contains(r.Stderr, want) {
			t.Errorf("%s: exit %d, stderr:\n%s", cmd[0], r.Code, r.Stderr)
		}
	}
	if _, err := os.Stat(db); err == nil {
		t.Error("a command that refused its secrets created a store")
	}
}

// TestCheckConfigOnlineNamesThePermission: through the binary, a fine-grained
// token without the Deployments permission is told which to grant, and the
// token appears nowhere in the output.
func TestCheckConfigOnlineNamesThePermission(t *testing.T) {
	t.Parallel()
	const token = "github_pat_11E2E0000000000SecretValue000000000000"
	now := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	s := githubtest.NewServer(&githubtest.Org{Name: "acme", Repos: []*githubtest.Repo{{Owner: "acme", Name: "checkout", Private: true, CreatedAt: now}}},
		githubtest.Options{Tokens: map[string]githubtest.Grant{
			token: {FineGrained: true, Permissions: map[string]string{"metadata": "read", "contents": "read", "pull_requests": "read", "issues": "read"}},
		}})
	defer s.Close()
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "github-token")
	writeFile(t, tokenFile, token+"\n")
	cfg := filepath.Join(dir, "flywheel.yml")
	writeFile(t, cfg, "github:\n  base_url: "+s.RESTBaseURL()+"\n  token_file: "+tokenFile+"\n  repos: [{name: acme/checkout}]\n")
	r := runFlywheel(t, nil, "--config.file", cfg, "check-config", "--online")
	if r.Code != 1 || !strings.Contains(r.Stdout, "deployments of acme/checkout: 403 Resource not accessible by personal access token: grant Deployments: read") ||
		!strings.Contains(r.Stdout, "7 requests to github") {
		t.Errorf("exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	if strings.Contains(r.Stdout+r.Stderr, token) || strings.Contains(r.Stdout+r.Stderr, "SecretValue") {
		t.Errorf("the token is in the output:\n%s%s", r.Stdout, r.Stderr)
	}
}
