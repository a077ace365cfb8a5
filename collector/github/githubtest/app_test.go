package githubtest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
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
