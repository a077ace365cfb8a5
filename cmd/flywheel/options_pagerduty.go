package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/flywheel-metrics/flywheel/collector/pagerduty"
	"github.com/flywheel-metrics/flywheel/config"
)

// pagerdutyOptions builds Options from the pagerduty section of the config,
// the API key already read from its file or environment variable,
// and the top-level history. Problems are reported one per line with their
// config path; the token never appears in them.
func pagerdutyOptions(cfg *config.PagerDuty, token string, history time.Duration) (pagerduty.Options, error) {
	if cfg == nil {
		return pagerduty.Options{}, errors.New("pagerduty: no pagerduty section in the config")
	}
	var errs []error
	base := strings.TrimRight(strings.TrimSpace(cfg.BaseURL), "/")
	if base == "" {
		base = pagerduty.DefaultBaseURL
	}
	if token == "" {
		errs = append(errs, errors.New("pagerduty: no API key (set pagerduty.token_file or pagerduty.token_env)"))
	}
	services := map[string]string{}
	for i, s := range cfg.Services {
		path := fmt.Sprintf("pagerduty.services[%d]", i)
		switch {
		case s.ID == "":
			errs = append(errs, fmt.Errorf("%s.id: required", path))
		case s.Service == "":
			errs = append(errs, fmt.Errorf("%s.service: required", path))
		case services[s.ID] != "":
			errs = append(errs, fmt.Errorf("%s.id: service %s listed twice", path, s.ID))
		default:
			services[s.ID] = s.Service
		}
	}
	if len(cfg.Services) == 0 {
		errs = append(errs, errors.New("pagerduty.services: at least one service is required"))
	}
	opts := pagerduty.Options{BaseURL: base, Token: token, Services: services, History: history}
	if err := errors.Join(errs...); err != nil {
		return pagerduty.Options{}, err
	}
	// Let New check the URL, so both paths report it the same way.
	if _, err := pagerduty.New(opts); err != nil {
		return pagerduty.Options{}, fmt.Errorf("pagerduty.base_url: %w", err)
	}
	return opts, nil
}
