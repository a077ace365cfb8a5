package pagerduty_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel/collector/pagerduty"
	"github.com/flywheel-metrics/flywheel/collector/pagerduty/pagerdutytest"
)

// TestCheckAccess: one request for the abilities, one per configured service,
// one incident listing; a service the key does not see is named with its
// status; a key the API refuses is an error.
func TestCheckAccess(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)
	acct := &pagerdutytest.Account{Services: []pagerdutytest.Service{{ID: "PSVC1", Name: "Checkout API", CreatedAt: now.Add(-time.Hour)}}}
	srv := pagerdutytest.NewServer(acct, pagerdutytest.Options{Token: "pd-key", Now: func() time.Time { return now }})
	defer srv.Close()
	clock := &fakeClock{t: now}
	src, err := pagerduty.New(pagerduty.Options{BaseURL: srv.URL, Token: "pd-key", Clock: clock,
		Services: map[string]string{"PSVC1": "checkout", "PGONE": "payments"}})
	if err != nil {
		t.Fatal(err)
	}
	a, err := src.CheckAccess(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Abilities, []string{"teams", "read_only_users", "service_support_hours", "urgencies"}) {
		t.Errorf("abilities %v", a.Abilities)
	}
	if len(a.Services) != 2 || a.Services[0].ID != "PGONE" || a.Services[1].ID != "PSVC1" {
		t.Fatalf("services %+v", a.Services)
	}
	var ce *pagerduty.CallError
	if gone := a.Services[0]; gone.Service != "payments" || !errors.As(gone.Err, &ce) || ce.StatusCode != 404 {
		t.Errorf("unknown service: %+v", gone)
	} else if got := gone.Err.Error(); got != "pagerduty: get service PGONE: 404 Not Found: Not Found" {
		t.Errorf("unknown service error %q", got)
	}
	if ok := a.Services[1]; ok.Err != nil || ok.Name != "Checkout API" || ok.Service != "checkout" {
		t.Errorf("visible service: %+v", ok)
	}
	if !a.IncidentsChecked || a.Incidents != nil {
		t.Errorf("incidents: %v %v", a.IncidentsChecked, a.Incidents)
	}
	if a.Requests != 4 || srv.Stats().Total != 4 {
		t.Errorf("requests: counted %d, server saw %d, want 4", a.Requests, srv.Stats().Total)
	}

	wrong, _ := pagerduty.New(pagerduty.Options{BaseURL: srv.URL, Token: "not-the-key", Clock: clock, Services: map[string]string{"PSVC1": "checkout"}})
	a, err = wrong.CheckAccess(context.Background())
	if !errors.As(err, &ce) || ce.StatusCode != 401 || a.Requests != 1 {
		t.Errorf("wrong key: %v (requests %d)", err, a.Requests)
	}
}
