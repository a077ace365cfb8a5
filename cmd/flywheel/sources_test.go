package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel/collector"
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
	p.finish()
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
