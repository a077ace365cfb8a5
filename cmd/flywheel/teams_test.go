package main

import (
	"context"
	"testing"

	"github.com/flywheel-metrics/flywheel/collector"
	"github.com/flywheel-metrics/flywheel/config"
)

type learningSource struct{ teams map[string]string }

func (learningSource) Name() string { return "learning" }
func (learningSource) Sync(context.Context, collector.Sink, collector.Progress) error {
	return nil
}
func (s *learningSource) Teams() map[string]string { return s.teams }

func TestServiceTeamsCompletesConfigWithLearnedTeams(t *testing.T) {
	cfg := config.Default()
	cfg.Services = []config.ServiceOptions{{Name: "checkout", Team: "payments"}}
	src := &learningSource{}
	teams := serviceTeams(cfg, []collector.Scheduled{{Source: relaySource{Source: src, relay: &progressRelay{}}}})
	if got := teams(); got["checkout"] != "payments" || len(got) != 1 {
		t.Fatalf("before a sync: %v", got)
	}
	// After a sync the source knows discovered repositories' teams; the config
	// still wins where it names one.
	src.teams = map[string]string{"search": "discovery", "checkout": "other"}
	got := teams()
	if got["search"] != "discovery" || got["checkout"] != "payments" {
		t.Fatalf("after a sync: %v", got)
	}
	if cfg.ServiceTeams()["search"] != "" {
		t.Fatal("the config's own map was modified")
	}
}
