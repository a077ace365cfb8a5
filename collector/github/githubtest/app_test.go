package githubtest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"testing"

	"github.com/flywheel-metrics/flywheel/collector/github/ghclient"
)

// TestAppAuthThroughGhinstallation: ghclient's GitHub App auth fetches an
// installation token from the simulated server and uses it; a static token the
// server does not know is refused.
func TestAppAuthThroughGhinstallation(t *testing.T) {
	s := NewServer(testOrg(), Options{Token: "expected-pat"})
	defer s.Close()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	c, err := ghclient.New(ghclient.Options{BaseURL: s.RESTBaseURL(), App: &ghclient.AppAuth{AppID: 1, InstallationID: 42, PrivateKey: pemKey}})
	if err != nil {
		t.Fatal(err)
	}
	repo, _, err := c.REST.Repositories.Get(context.Background(), "acme", "checkout")
	if err != nil || repo.GetName() != "checkout" {
		t.Fatalf("app auth: %v", err)
	}
	var r struct{ Repository struct{ Name string } }
	if err := c.GraphQL(context.Background(), `{ repository(owner: "acme", name: "checkout") { name } }`, nil, &r); err != nil || r.Repository.Name != "checkout" {
		t.Fatalf("app auth graphql: %v %+v", err, r)
	}
	if n := s.Requests().Count(appTokenRoute, 201); n != 1 {
		t.Errorf("installation token requests = %d, want 1 (cached)", n)
	}
	bad, _ := ghclient.New(ghclient.Options{BaseURL: s.RESTBaseURL(), Token: "wrong"})
	_, resp, err := bad.REST.Repositories.Get(context.Background(), "acme", "checkout")
	if err == nil || resp.StatusCode != 401 {
		t.Errorf("wrong token: %v", err)
	}
}

// TestAppPermissions: an installation's permissions come back from the token
// exchange, and a route outside them answers 403 "by integration" with the
// permission it needs.
func TestAppPermissions(t *testing.T) {
	s := NewServer(testOrg(), Options{Token: "expected-pat", AppPermissions: map[string]string{"metadata": "read", "contents": "read"}, AppInstallations: []int64{42}})
	defer s.Close()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	c, err := ghclient.New(ghclient.Options{BaseURL: s.RESTBaseURL(), MaxRetries: -1, App: &ghclient.AppAuth{AppID: 1, InstallationID: 42, PrivateKey: pemKey}})
	if err != nil {
		t.Fatal(err)
	}
	perms, err := c.AppPermissions(context.Background())
	if err != nil || len(perms) != 2 || perms["contents"] != "read" || perms["metadata"] != "read" {
		t.Fatalf("AppPermissions = %v, %v", perms, err)
	}
	p, err := c.Probe(context.Background(), "GET", "repos/acme/checkout/actions/runs?per_page=1", nil)
	if err != nil || p.Status != 403 || p.Message != "Resource not accessible by integration" || p.Header.Get("X-Accepted-GitHub-Permissions") != "actions=read" {
		t.Errorf("runs without actions: %+v, %v", p, err)
	}
	if p, err := c.Probe(context.Background(), "GET", "repos/acme/checkout/releases?per_page=1", nil); err != nil || p.Status != 200 || !p.JSON {
		t.Errorf("releases with contents: %d %v", p.Status, err)
	}
	// A token client has no installation.
	tc, _ := ghclient.New(ghclient.Options{BaseURL: s.RESTBaseURL(), Token: "expected-pat"})
	if _, err := tc.AppPermissions(context.Background()); !errors.Is(err, ghclient.ErrNotApp) {
		t.Errorf("token client AppPermissions: %v", err)
	}
	// An installation the server does not know: the status and GitHub's message.
	bad, _ := ghclient.New(ghclient.Options{BaseURL: s.RESTBaseURL(), MaxRetries: -1, App: &ghclient.AppAuth{AppID: 1, InstallationID: 43, PrivateKey: pemKey}})
	_, err = bad.AppPermissions(context.Background())
	var ie *ghclient.InstallationError
	if !errors.As(err, &ie) || ie.Status != 404 || ie.Message != "Not Found" || ie.InstallationID != 43 {
		t.Errorf("unknown installation: %#v", err)
	}
}
