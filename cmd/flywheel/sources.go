package main

import (
	"context"
	"maps"
	"sync"

	"github.com/flywheel-metrics/flywheel/collector"
	"github.com/flywheel-metrics/flywheel/collector/github"
	"github.com/flywheel-metrics/flywheel/collector/github/ghclient"
	"github.com/flywheel-metrics/flywheel/collector/pagerduty"
	"github.com/flywheel-metrics/flywheel/config"
)

// sources builds the configured sources, each with its schedule. Sources are
// listed here explicitly (no registration in init(), so
// nothing happens on import). validators is the
// store, for GitHub's conditional requests. Tokens are read here, from files or
// the environment (getenv), and go nowhere but the clients.
func (a *app) sources(cfg *config.Config, validators ghclient.ValidatorStore, getenv func(string) string) ([]collector.Scheduled, error) {
	var out []collector.Scheduled
	if cfg.GitHub != nil {
		src, err := a.githubSource(cfg, validators, getenv)
		if err != nil {
			return nil, err
		}
		out = append(out, collector.Scheduled{Source: src, Schedule: cfg.GitHub.Schedule})
	}
	if cfg.PagerDuty != nil {
		token, err := cfg.ReadSecret(cfg.PagerDuty.Secret, getenv)
		if err != nil {
			return nil, err // names the key: "pagerduty.token_file: …"
		}
		opts, err := pagerdutyOptions(cfg.PagerDuty, token, cfg.HistoryDuration())
		if err != nil {
			return nil, err
		}
		opts.Logger = a.log.With("source", pagerduty.SourceName)
		opts.IncidentTimeZone = cfg.IncidentLocation()
		src, err := pagerduty.New(opts)
		if err != nil {
			return nil, err
		}
		out = append(out, collector.Scheduled{Source: src, Schedule: cfg.PagerDuty.Schedule})
	}
	return out, nil
}

func (a *app) githubSource(cfg *config.Config, validators ghclient.ValidatorStore, getenv func(string) string) (collector.Source, error) {
	g := cfg.GitHub
	relay := &progressRelay{}
	copts := ghclient.Options{
		BaseURL:     g.BaseURL,
		MaxInFlight: g.MaxInFlight,
		Validators:  validators,
		Progress:    relay,
		Logger:      a.log.With("source", "github"),
	}
	if g.App != nil {
		key, err := cfg.AppPrivateKey()
		if err != nil {
			return nil, err // names the key and the file, never its contents
		}
		copts.App = &ghclient.AppAuth{AppID: g.App.AppID, InstallationID: g.App.InstallationID, PrivateKey: key}
	} else {
		token, err := cfg.ReadSecret(g.Secret, getenv)
		if err != nil {
			return nil, err
		}
		copts.Token = token
	}
	client, err := ghclient.New(copts)
	if err != nil {
		return nil, err
	}
	opts, err := githubOptions(g, client, cfg.HistoryDuration(), cfg.ProductionEnvironment, cfg.PathRules())
	if err != nil {
		return nil, err
	}
	opts.Logger = a.log.With("source", "github")
	opts.IncidentTimeZone = cfg.IncidentLocation()
	src, err := github.New(opts)
	if err != nil {
		return nil, err
	}
	return relaySource{Source: src, relay: relay}, nil
}

// progressRelay is the GitHub client's Progress: the client is built once, but
// each sync has its own Progress (the scheduler's per-run counters and the
// collect progress bar), so the relay forwards to the running sync's.
type progressRelay struct {
	mu sync.Mutex
	to collector.Progress
}

func (r *progressRelay) set(p collector.Progress) {
	r.mu.Lock()
	r.to = p
	r.mu.Unlock()
}

func (r *progressRelay) target() collector.Progress {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.to == nil {
		return collector.NopProgress{}
	}
	return r.to
}

func (r *progressRelay) Total(n int)             { r.target().Total(n) }
func (r *progressRelay) Done(n int, what string) { r.target().Done(n, what) }
func (r *progressRelay) Request(status int)      { r.target().Request(status) }
func (r *progressRelay) RateLimit(resource string, remaining, limit int) {
	r.target().RateLimit(resource, remaining, limit)
}

// relaySource points its relay at each sync's Progress; the scheduler never runs
// one source twice at once, so one relay suffices.
type relaySource struct {
	collector.Source
	relay *progressRelay
}

func (s relaySource) Sync(ctx context.Context, sink collector.Sink, p collector.Progress) error {
	s.relay.set(p)
	defer s.relay.set(nil)
	return s.Source.Sync(ctx, sink, p)
}

// teamer is a source that learns teams as it syncs: the GitHub source knows the
// team of a repository found through org discovery only once it has listed it.
type teamer interface{ Teams() map[string]string }

func (s relaySource) Teams() map[string]string {
	if t, ok := s.Source.(teamer); ok {
		return t.Teams()
	}
	return nil
}

// serviceTeams returns the service → team map for the metrics' team label: the
// config's explicit mapping, completed by what the sources learned (config wins).
func serviceTeams(cfg *config.Config, sources []collector.Scheduled) func() map[string]string {
	static := cfg.ServiceTeams()
	var learners []teamer
	for _, s := range sources {
		if t, ok := s.Source.(teamer); ok {
			learners = append(learners, t)
		}
	}
	if len(learners) == 0 {
		return func() map[string]string { return static }
	}
	return func() map[string]string {
		m := maps.Clone(static)
		for _, l := range learners {
			for svc, team := range l.Teams() {
				if _, set := m[svc]; !set && team != "" {
					m[svc] = team
				}
			}
		}
		return m
	}
}
