package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/flywheel-metrics/flywheel/collector/pagerduty"
	"github.com/flywheel-metrics/flywheel/config"
)

// checkPagerDutyAccess asks PagerDuty whether the configured API key is
// accepted, sees each configured service and may list their incidents.
func checkPagerDutyAccess(ctx context.Context, cfg *config.Config, getenv func(string) string) accessReport {
	pd := cfg.PagerDuty
	r := accessReport{source: "pagerduty", about: pd.BaseURL}
	token, err := cfg.ReadSecret(pd.Secret, getenv)
	if err != nil {
		r.add(accessMissing, "API key", "%v", err)
		return r
	}
	opts, err := pagerdutyOptions(pd, token, cfg.HistoryDuration())
	if err != nil {
		r.add(accessMissing, "configuration", "%v", err)
		return r
	}
	opts.Logger = slog.New(slog.DiscardHandler)
	src, err := pagerduty.New(opts)
	if err != nil {
		r.add(accessMissing, "configuration", "%v", err)
		return r
	}
	a, err := src.CheckAccess(ctx)
	r.requests = a.Requests
	var ce *pagerduty.CallError
	switch {
	case errors.As(err, &ce) && ce.StatusCode == http.StatusUnauthorized:
		r.add(accessMissing, "API key", "%v: not accepted; pagerduty.token_file or token_env must hold a REST API key (Integrations → API Access Keys, or a user's API key), not an Events API integration key", err)
		return r
	case errors.As(err, &ce) && ce.StatusCode == http.StatusForbidden:
		r.add(accessMissing, "API key", "%v: the key may not read the account", err)
		return r
	case err != nil && len(a.Abilities) == 0:
		r.add(accessMissing, "API", "pagerduty.base_url %s: %v", pd.BaseURL, err)
		return r
	}
	r.about = fmt.Sprintf("%s, REST API key accepted (account abilities: %s)", pd.BaseURL, strings.Join(a.Abilities, ", "))
	index := map[string]int{}
	for i, s := range pd.Services {
		index[s.ID] = i
	}
	for _, s := range a.Services {
		what := fmt.Sprintf("service %s (%s)", s.ID, s.Service)
		if s.Err == nil {
			r.add(accessOK, what, "visible as %q", s.Name)
			continue
		}
		if errors.As(s.Err, &ce) && (ce.StatusCode == http.StatusNotFound || ce.StatusCode == http.StatusForbidden) {
			r.add(accessMissing, what, "%v: not visible to this key; check pagerduty.services[%d].id, and that the key's user is on the service's team (an account-level read-only key sees every service)", s.Err, index[s.ID])
			continue
		}
		r.add(accessMissing, what, "%v", s.Err)
	}
	switch {
	case err != nil:
		r.add(accessMissing, "API", "%v", err)
	case !a.IncidentsChecked:
		r.add(accessSkipped, "incidents", "no configured service is visible")
	case a.Incidents != nil:
		r.add(accessMissing, "incidents", "%v", a.Incidents)
	default:
		r.add(accessOK, "incidents", "listed")
	}
	return r
}
