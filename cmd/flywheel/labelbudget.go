package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/config"
)

// maxIngestUrgencies bounds the distinct incident urgencies (stored and
// ingested together) beyond which an ingest naming a new one is refused:
// every urgency is a label value of several metric families, and real
// urgency scales have a handful of values (high/low, P1 to P5).
const maxIngestUrgencies = 10

// labelBudget bounds the label values that POST /api/v1/events may add to
// the metrics. Each service and each urgency becomes a label value of many
// series, so a client naming a new service on every line would otherwise
// grow the series, and the memory of serve and of Prometheus, without end.
// Services named in the config are always accepted; the others (already
// stored, or new) may number at most maxServices, the urgencies at most
// maxUrgencies. A request that would go beyond either is refused whole.
type labelBudget struct {
	maxServices, maxUrgencies int
	configured                map[string]bool
	// scan reads the stored events once, at the first ingest, so that
	// services and urgencies already stored count without costing serve's
	// start.
	scan func(flywheel.EventSink) error

	mu        sync.Mutex
	scanned   bool
	services  map[string]bool // known services not in the config
	urgencies map[string]bool
}

// newLabelBudget bounds the labels ingest may add beyond cfg's services.
func newLabelBudget(cfg *config.Config, scan func(flywheel.EventSink) error) *labelBudget {
	b := &labelBudget{
		maxServices: cfg.API.NewServicesLimit(), maxUrgencies: maxIngestUrgencies,
		configured: map[string]bool{}, scan: scan,
		services: map[string]bool{}, urgencies: map[string]bool{},
	}
	for _, s := range cfg.Services {
		b.configured[s.Name] = true
	}
	if cfg.PagerDuty != nil {
		for _, s := range cfg.PagerDuty.Services {
			b.configured[s.Service] = true
		}
	}
	if cfg.GitHub != nil {
		for _, r := range cfg.GitHub.Repos {
			b.configured[r.Service] = true
		}
	}
	return b
}

// labelLimitError is an ingest refused for the label values it would add.
type labelLimitError struct{ msg string }

func (e labelLimitError) Error() string { return e.msg }

// admit accepts ev's services and urgencies if they stay within the budget,
// and counts them from then on; otherwise it returns a labelLimitError and
// counts nothing. Values of a request whose write then fails stay counted:
// the budget errs on the side of fewer series.
func (b *labelBudget) admit(ev flywheel.Events) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.scanned {
		if err := b.scan(labelCollector{b}); err != nil {
			return fmt.Errorf("read the stored services: %w", err)
		}
		b.scanned = true
	}
	newServices, newUrgencies := map[string]bool{}, map[string]bool{}
	service := func(s string) {
		if !b.configured[s] && !b.services[s] {
			newServices[s] = true
		}
	}
	for _, d := range ev.Deployments {
		service(d.Service)
	}
	for _, c := range ev.Changes {
		service(c.Service)
	}
	for _, i := range ev.Incidents {
		service(i.Service)
		if i.Urgency != "" && !b.urgencies[i.Urgency] {
			newUrgencies[i.Urgency] = true
		}
	}
	if n := len(b.services) + len(newServices); len(newServices) > 0 && n > b.maxServices {
		return labelLimitError{fmt.Sprintf("%d new service(s) (%s) would make %d services that are not in the config, above api.max_new_services (%d); nothing stored. Name the services under services: in the config, or raise api.max_new_services",
			len(newServices), someNames(newServices), n, b.maxServices)}
	}
	if n := len(b.urgencies) + len(newUrgencies); len(newUrgencies) > 0 && n > b.maxUrgencies {
		return labelLimitError{fmt.Sprintf("%d new urgency value(s) (%s) would make %d distinct urgencies, above the limit of %d (known: %s); nothing stored",
			len(newUrgencies), someNames(newUrgencies), n, b.maxUrgencies, someNames(b.urgencies))}
	}
	maps.Copy(b.services, newServices)
	maps.Copy(b.urgencies, newUrgencies)
	return nil
}

// someNames lists the first ten of set, sorted and quoted, and how many more.
func someNames(set map[string]bool) string {
	names := slices.Sorted(maps.Keys(set))
	const shown = 10
	var b strings.Builder
	for i, n := range names[:min(shown, len(names))] {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", n)
	}
	if len(names) > shown {
		fmt.Fprintf(&b, " and %d more", len(names)-shown)
	}
	return b.String()
}

// labelCollector records the services and urgencies of the stored events.
type labelCollector struct{ b *labelBudget }

func (labelCollector) Grow(int, int, int) {}
func (c labelCollector) service(s string) {
	if !c.b.configured[s] {
		c.b.services[s] = true
	}
}
func (c labelCollector) AddDeployment(d *flywheel.Deployment) { c.service(d.Service) }
func (c labelCollector) AddChange(ch *flywheel.Change)        { c.service(ch.Service) }
func (c labelCollector) AddIncident(i *flywheel.Incident) {
	c.service(i.Service)
	if i.Urgency != "" {
		c.b.urgencies[i.Urgency] = true
	}
}
