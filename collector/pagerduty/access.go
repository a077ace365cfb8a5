package pagerduty

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/PagerDuty/go-pagerduty"

	"github.com/flywheel-metrics/flywheel/collector"
)

// Access is what CheckAccess found out about the API key.
type Access struct {
	// Abilities are the account's abilities, as GET /abilities lists them.
	Abilities []string
	// Services are the configured services, in id order.
	Services []ServiceAccess
	// Incidents is the error of listing one incident of the visible services
	// (nil: listed), or nil with IncidentsChecked false when no service was
	// visible to list them for.
	Incidents        error
	IncidentsChecked bool
	// Requests is the number of HTTP requests made, retries included.
	Requests int
}

// ServiceAccess is whether the key sees one configured service.
type ServiceAccess struct {
	ID      string // the PagerDuty service id
	Service string // the Flywheel service it maps to
	Name    string // PagerDuty's name of the service, when visible
	// Err is nil when the key sees the service; a *CallError otherwise (its
	// StatusCode 404 for an id the key does not see: a mistyped id, or a
	// service outside the key's user's teams).
	Err error
}

// CheckAccess makes the few requests that show whether the key can do what a
// sync does: GET /abilities (accepted at all?), GET /services/{id} for each
// configured service (visible?), and GET /incidents for one incident of the
// visible ones (readable?). Its error is for a key the API does not accept
// (a *CallError, status 401 for a wrong key), or an API it cannot reach; what
// the key does not see is in the result.
func (s *Source) CheckAccess(ctx context.Context) (a Access, err error) {
	counter := &requestCounter{}
	c := s.client(counter)
	defer func() { a.Requests = int(counter.n.Load()) }()
	ab, err := c.ListAbilitiesWithContext(ctx)
	if err != nil {
		return a, callErr("list abilities", err)
	}
	a.Abilities = ab.Abilities
	var visible []string
	for _, id := range s.serviceIDs {
		sa := ServiceAccess{ID: id, Service: s.opts.Services[id]}
		sv, err := c.GetServiceWithContext(ctx, id, nil)
		switch {
		case err != nil:
			sa.Err = callErr("get service "+id, err)
			var ae pagerduty.APIError
			if !errors.As(err, &ae) {
				// Not an answer of the API: the rest would fail the same way.
				a.Services = append(a.Services, sa)
				return a, sa.Err
			}
		default:
			sa.Name = sv.Name
			visible = append(visible, id)
		}
		a.Services = append(a.Services, sa)
	}
	if len(visible) > 0 {
		a.IncidentsChecked = true
		_, err := c.ListIncidentsWithContext(ctx, pagerduty.ListIncidentsOptions{Limit: 1, ServiceIDs: visible, DateRange: "all"})
		a.Incidents = callErr("list incidents", err)
	}
	return a, nil
}

// requestCounter is the Progress of an access check: it counts requests.
type requestCounter struct {
	collector.NopProgress
	n atomic.Int64
}

func (r *requestCounter) Request(int) { r.n.Add(1) }
