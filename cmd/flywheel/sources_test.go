package main

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/collector"
	"github.com/flywheel-metrics/flywheel/collector/pagerduty/pagerdutytest"
	"github.com/flywheel-metrics/flywheel/config"
	"github.com/flywheel-metrics/flywheel/storage"
)

// countingProgress counts what reaches it.
type countingProgress struct {
	collector.NopProgress
	requests int
}

func (c *countingProgress) Request(int) { c.requests++ }

// relayedSource reports requests through a client-level Progress, as the GitHub
// source's HTTP client does.
type relayedSource struct{ client collector.Progress }

func (relayedSource) Name() string { return "github" }
func (s relayedSource) Sync(context.Context, collector.Sink, collector.Progress) error {
	s.client.Request(200)
	return nil
}

func TestProgressRelayForwardsToTheRunningSync(t *testing.T) {
	t.Parallel()
	relay := &progressRelay{}
	src := relaySource{Source: relayedSource{client: relay}, relay: relay}
	first, second := &countingProgress{}, &countingProgress{}
	if err := src.Sync(context.Background(), nil, first); err != nil {
		t.Fatal(err)
	}
	if err := src.Sync(context.Background(), nil, second); err != nil {
		t.Fatal(err)
	}
	relay.Request(500) // between syncs: dropped, not sent to a finished sync
	if first.requests != 1 || second.requests != 1 {
		t.Errorf("requests per sync = %d, %d; want 1, 1", first.requests, second.requests)
	}
}

func TestCollectProgressWithoutTerminalLogs(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	p := newCollectProgress(&buf, log) // a buffer is not a terminal
	if p.bar != nil {
		t.Fatal("progress bar on a non-terminal")
	}
	p.Total(2)
	p.Done(1, "acme/checkout")
	p.finish(true)
	p.Done(1, "after the end")
	if got := buf.String(); !strings.Contains(got, "done=1 total=2 last=acme/checkout") || strings.Contains(got, "after the end") {
		t.Errorf("log:\n%s", got)
	}
	if p.logger(log) != log {
		t.Error("without a bar the logger should be unchanged")
	}
}

func TestHumanDuration(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		50*time.Hour + 24*time.Minute: "2d 2h",
		5*time.Hour + 30*time.Minute:  "5h 30m",
		45 * time.Minute:              "45m",
	} {
		if got := humanDuration(d); got != want {
			t.Errorf("humanDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

// TestPagerDutySourceUsesIncidentTimeZone: the PagerDuty source built from the
// config reads an impact start written without a zone in incident_time_zone,
// and stores it through the real store.
func TestPagerDutySourceUsesIncidentTimeZone(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)
	acct := &pagerdutytest.Account{
		Services: []pagerdutytest.Service{{ID: "PCHK001", Name: "Checkout"}},
		Users:    []pagerdutytest.User{{ID: "PU1", Name: "Ann"}},
		Incidents: []*pagerdutytest.Incident{{ID: "QWEB1", Number: 1, Title: "Checkout down", ServiceID: "PCHK001",
			Urgency: "high", CreatedAt: now.Add(-2 * time.Hour), Trigger: pagerdutytest.TriggerWeb, TriggeredBy: "PU1",
			Details: "Payments fail.\nimpact-start: 2026-06-30 11:30\ncaused-by: `3f2a9c1`"}},
	}
	srv := pagerdutytest.NewServer(acct, pagerdutytest.Options{Token: "pd-key", Now: func() time.Time { return now }})
	t.Cleanup(srv.Close)
	cfg, err := config.Parse([]byte(`
incident_time_zone: Europe/Berlin
pagerduty:
  base_url: ` + srv.URL + `
  token_env: PD_KEY
  services:
    - {id: PCHK001, service: checkout}
`))
	if err != nil {
		t.Fatal(err)
	}
	a := &app{log: slog.New(slog.DiscardHandler)}
	srcs, err := a.sources(cfg, nil, func(k string) string { return map[string]string{"PD_KEY": "pd-key"}[k] })
	if err != nil || len(srcs) != 1 {
		t.Fatalf("%d sources, %v", len(srcs), err)
	}
	st, err := storage.Open(filepath.Join(t.TempDir(), "flywheel.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := srcs[0].Source.Sync(t.Context(), st, nil); err != nil {
		t.Fatal(err)
	}
	got, err := st.Incidents(flywheel.Query{})
	if err != nil || len(got) != 1 {
		t.Fatalf("%d incidents, %v", len(got), err)
	}
	// 11:30 in Berlin in summer is 09:30 UTC.
	if want := time.Date(2026, 6, 30, 9, 30, 0, 0, time.UTC); !got[0].StartedAt.Equal(want) || got[0].CausedBy != "3f2a9c1" {
		t.Errorf("impact start %v, caused-by %q; want %v, 3f2a9c1", got[0].StartedAt, got[0].CausedBy, want)
	}
}
