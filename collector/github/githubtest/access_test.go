package githubtest

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// TestGrants: each kind of token gets GitHub's headers and answers for what it
// may and may not do.
func TestGrants(t *testing.T) {
	org := testOrg()
	org.Repos[0].Private = true // acme/checkout
	s := NewServer(org, Options{Tokens: map[string]Grant{
		"ghp_full":         {Scopes: []string{"repo", "read:org"}},
		"ghp_public":       {Scopes: []string{"read:org"}},
		"github_pat_nodep": {FineGrained: true, Permissions: map[string]string{"metadata": "read", "pull_requests": "read"}},
	}})
	defer s.Close()
	get := func(tok, path string) (int, http.Header, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, s.URL+path, nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b)
	}
	repoNames := func(body string) []string {
		var rs []struct {
			FullName string `json:"full_name"`
		}
		if err := json.Unmarshal([]byte(body), &rs); err != nil {
			t.Fatalf("org repos: %v", err)
		}
		var out []string
		for _, r := range rs {
			out = append(out, r.FullName)
		}
		return out
	}

	if code, _, _ := get("", "/rate_limit"); code != http.StatusUnauthorized {
		t.Errorf("no token: %d, want 401", code)
	}
	if code, _, _ := get("ghp_unknown", "/rate_limit"); code != http.StatusUnauthorized {
		t.Errorf("unknown token: %d, want 401", code)
	}

	code, h, _ := get("ghp_full", "/repos/acme/checkout/deployments")
	if code != 200 || h.Get("X-OAuth-Scopes") != "repo, read:org" || h.Get("X-Accepted-OAuth-Scopes") != "repo" {
		t.Errorf("classic with repo: %d, scopes %q accepted %q", code, h.Get("X-OAuth-Scopes"), h.Get("X-Accepted-OAuth-Scopes"))
	}
	if _, h, _ := get("ghp_full", "/rate_limit"); h.Get("X-OAuth-Scopes") != "repo, read:org" {
		t.Errorf("/rate_limit scopes %q", h.Get("X-OAuth-Scopes"))
	}
	_, _, body := get("ghp_full", "/orgs/acme/repos?per_page=100")
	if n := repoNames(body); len(n) != 3 {
		t.Errorf("classic with repo lists %v, want 3 repositories", n)
	}

	// Without repo: the private repository does not exist, for every route.
	for _, p := range []string{"/repos/acme/checkout", "/repos/acme/checkout/pulls", "/api/v3/repos/acme/checkout/deployments"} {
		if code, h, _ := get("ghp_public", p); code != http.StatusNotFound || h.Get("X-OAuth-Scopes") != "read:org" {
			t.Errorf("classic without repo, %s: %d, scopes %q", p, code, h.Get("X-OAuth-Scopes"))
		}
	}
	if code, _, _ := get("ghp_public", "/repos/acme/legacy"); code != 200 {
		t.Errorf("classic without repo, public repository: %d", code)
	}
	_, _, body = get("ghp_public", "/orgs/acme/repos?per_page=100")
	for _, n := range repoNames(body) {
		if n == "acme/checkout" {
			t.Errorf("classic without repo lists the private repository: %v", repoNames(body))
		}
	}

	// Fine-grained: what the token holds works; what it lacks is named.
	if code, h, _ := get("github_pat_nodep", "/repos/acme/checkout/pulls"); code != 200 || h.Get("X-Accepted-GitHub-Permissions") != "pull_requests=read" || h.Get("X-OAuth-Scopes") != "" {
		t.Errorf("fine-grained pulls: %d, accepted %q", code, h.Get("X-Accepted-GitHub-Permissions"))
	}
	code, h, body = get("github_pat_nodep", "/repos/acme/checkout/deployments")
	if code != http.StatusForbidden || h.Get("X-Accepted-GitHub-Permissions") != "deployments=read" ||
		body != `{"message":"Resource not accessible by personal access token","documentation_url":"https://docs.github.com/rest","status":"403"}` {
		t.Errorf("fine-grained without deployments: %d %q %s", code, h.Get("X-Accepted-GitHub-Permissions"), body)
	}
	if n := s.Requests().Count("GET /repos/{owner}/{repo}/deployments", http.StatusForbidden); n != 1 {
		t.Errorf("403s counted: %d", n)
	}
}
