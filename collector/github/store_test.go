package github_test

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel/collector"
	"github.com/flywheel-metrics/flywheel/collector/github"
	"github.com/flywheel-metrics/flywheel/collector/github/ghclient"
	"github.com/flywheel-metrics/flywheel/collector/github/githubtest"
	"github.com/flywheel-metrics/flywheel/storage"
)

// The source against the real bbolt store: the store is the sink and the
// validator store, as cmd/flywheel wires them.

var _ collector.Sink = (*storage.Store)(nil)

type stepClock struct{ now time.Time }

func (c *stepClock) Now() time.Time { return c.now }
func (c *stepClock) Sleep(ctx context.Context, d time.Duration) error {
	c.now = c.now.Add(d)
	return ctx.Err()
}

func syncInto(t *testing.T, srv *githubtest.Server, st *storage.Store) error {
	t.Helper()
	clock := &stepClock{now: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}
	c, err := ghclient.New(ghclient.Options{BaseURL: srv.RESTBaseURL(), GraphQLURL: srv.GraphQLURL(),
		Validators: st, Clock: clock, MaxRetries: 1})
	if err != nil {
		t.Fatal(err)
	}
	src, err := github.New(github.Options{Client: c, Orgs: []github.OrgConfig{{Name: "acme"}}, GraphQL: true, Clock: clock,
		History: 2 * 365 * 24 * time.Hour,
		Defaults: github.RepoSettings{DeploymentSource: github.SourceDeployments,
			Environment: regexp.MustCompile(`^prod(uction)?$`), IncidentLabels: []string{"incident"}}})
	if err != nil {
		t.Fatal(err)
	}
	return src.Sync(context.Background(), st, collector.NopProgress{})
}

func openStore(t *testing.T) *storage.Store {
	t.Helper()
	st, err := storage.Open(filepath.Join(t.TempDir(), "flywheel.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func dump(t *testing.T, st *storage.Store) string {
	t.Helper()
	ev, err := st.Events()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(ev)
	return string(b)
}

func TestSyncIntoStore(t *testing.T) {
	t.Parallel()
	srv := githubtest.NewServer(github.GenTestOrg(2, 30), githubtest.Options{})
	defer srv.Close()
	st := openStore(t)
	if err := syncInto(t, srv, st); err != nil {
		t.Fatal(err)
	}
	want := dump(t, st)
	ev, _ := st.Events()
	if len(ev.Changes) != 60 || len(ev.Deployments) == 0 || len(ev.Incidents) != 6 {
		t.Fatalf("stored %d changes, %d deployments, %d incidents", len(ev.Changes), len(ev.Deployments), len(ev.Incidents))
	}
	srv.Reset()
	if err := syncInto(t, srv, st); err != nil {
		t.Fatal(err)
	}
	if r := srv.Requests(); r.RESTUnits != 0 || r.GraphQLPoints > 2 {
		t.Errorf("second sync with the store's validators: %d REST units, %d points", r.RESTUnits, r.GraphQLPoints)
	}
	if got := dump(t, st); got != want {
		t.Error("second sync changed the store")
	}

	// A sync that fails part-way, then resumes, ends where an uninterrupted one does.
	srv2 := githubtest.NewServer(github.GenTestOrg(2, 30), githubtest.Options{})
	defer srv2.Close()
	st2 := openStore(t)
	srv2.FailAfter(2, githubtest.ServerErrorFault(http.StatusBadGateway))
	if err := syncInto(t, srv2, st2); err == nil {
		t.Fatal("sync against a failing server succeeded")
	}
	srv2.ClearFaults()
	if err := syncInto(t, srv2, st2); err != nil {
		t.Fatal(err)
	}
	if got := dump(t, st2); got != want {
		t.Error("resumed sync differs from an uninterrupted one")
	}
}
