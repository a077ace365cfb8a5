package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/config"
)

// TestLabelBudgetCountsStoredServices: services and urgencies already in the
// store use up the budget, so a restart does not give ingest a fresh one;
// configured services never count.
func TestLabelBudgetCountsStoredServices(t *testing.T) {
	t.Parallel()
	st := testStore(t) // checkout's deployments
	at := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	var stored []flywheel.Incident
	for i, s := range []string{"search", "billing"} {
		stored = append(stored, flywheel.Incident{ID: s, Service: s, TriggeredAt: at, Urgency: []string{"high", "low"}[i]})
	}
	if err := st.WriteBatch(context.Background(), flywheel.Batch{Events: flywheel.Events{Incidents: stored}}); err != nil {
		t.Fatal(err)
	}
	two := 2
	cfg := &config.Config{API: config.API{MaxNewServices: &two}, Services: []config.ServiceOptions{{Name: "search", Team: "t"}}}
	b := newLabelBudget(cfg, st.Scan)
	b.maxUrgencies = 3

	incidents := func(services ...string) flywheel.Events {
		var ev flywheel.Events
		for _, s := range services {
			ev.Incidents = append(ev.Incidents, flywheel.Incident{ID: "x" + s, Service: s, TriggeredAt: at, Urgency: "high"})
		}
		return ev
	}
	// stored and not configured: checkout, billing; search is configured
	var limit labelLimitError
	if err := b.admit(incidents("newsvc")); !errors.As(err, &limit) || !strings.Contains(err.Error(), `("newsvc") would make 3 services`) {
		t.Fatalf("a third unconfigured service: %v", err)
	}
	if err := b.admit(incidents("checkout", "billing", "search")); err != nil {
		t.Fatalf("known services: %v", err)
	}
	ev := incidents("billing")
	ev.Incidents[0].Urgency = "P1"
	if err := b.admit(ev); err != nil {
		t.Fatalf("a third urgency: %v", err)
	}
	ev.Incidents[0].Urgency = "P2"
	if err := b.admit(ev); !errors.As(err, &limit) || !strings.Contains(err.Error(), `known: "P1", "high", "low"`) {
		t.Fatalf("a fourth urgency: %v", err)
	}
}
