package main

import (
	"strings"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel/collector/pagerduty"
	"github.com/flywheel-metrics/flywheel/config"
)

func TestPagerDutyOptions(t *testing.T) {
	t.Parallel()
	cfg := &config.PagerDuty{
		BaseURL: "https://api.eu.pagerduty.com/",
		Services: []config.PagerDutyService{
			{ID: "PCHK001", Service: "checkout", Team: "payments"},
			{ID: "PSRC003", Service: "search"},
		},
	}
	o, err := pagerdutyOptions(cfg, "s3cret-key", 90*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if o.BaseURL != "https://api.eu.pagerduty.com" || o.Token != "s3cret-key" || o.History != 90*24*time.Hour ||
		len(o.Services) != 2 || o.Services["PSRC003"] != "search" {
		t.Errorf("options %+v", o)
	}
	o, err = pagerdutyOptions(&config.PagerDuty{Services: cfg.Services}, "k", 0)
	if err != nil || o.BaseURL != pagerduty.DefaultBaseURL {
		t.Errorf("default base URL: %q, %v", o.BaseURL, err)
	}

	tests := []struct {
		name  string
		cfg   *config.PagerDuty
		token string
		want  []string
	}{
		{"no section", nil, "k", []string{"pagerduty: no pagerduty section in the config"}},
		{"everything wrong", &config.PagerDuty{Services: []config.PagerDutyService{
			{Service: "x"}, {ID: "P1"}, {ID: "P2", Service: "a"}, {ID: "P2", Service: "b"}}}, "",
			[]string{
				"pagerduty: no API key (set pagerduty.token_file or pagerduty.token_env)",
				"pagerduty.services[0].id: required",
				"pagerduty.services[1].service: required",
				"pagerduty.services[3].id: service P2 listed twice",
			}},
		{"no services", &config.PagerDuty{}, "k", []string{"pagerduty.services: at least one service is required"}},
		{"bad URL", &config.PagerDuty{BaseURL: "api.pagerduty.com", Services: cfg.Services}, "s3cret-key",
			[]string{`pagerduty.base_url: pagerduty: base URL "api.pagerduty.com": want http(s)://host[/path]`}},
	}
	for _, tc := range tests {
		_, err := pagerdutyOptions(tc.cfg, tc.token, time.Hour)
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		if got := strings.Split(err.Error(), "\n"); strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("%s:\n got  %q\n want %q", tc.name, got, tc.want)
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: token in error", tc.name)
		}
	}
}
