package pagerduty_test

import (
	"testing"

	"github.com/flywheel-metrics/flywheel/collector/pagerduty"
)

func TestNew(t *testing.T) {
	t.Parallel()
	s, err := pagerduty.New(pagerduty.Options{Token: "k", Services: map[string]string{"P1": "a"}})
	if err != nil || s.Name() != "pagerduty" {
		t.Fatalf("%v %v", s, err)
	}
	for _, o := range []pagerduty.Options{
		{Services: map[string]string{"P1": "a"}},
		{Token: "k"},
		{Token: "k", Services: map[string]string{"P1": ""}},
		{Token: "k", Services: map[string]string{"P1": "a"}, PaginationCap: 50},
		{Token: "k", Services: map[string]string{"P1": "a"}, BaseURL: "ftp://x"},
	} {
		if _, err := pagerduty.New(o); err == nil {
			t.Errorf("New(%+v) succeeded", o)
		}
	}
}
