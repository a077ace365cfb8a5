package pagerduty

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/PagerDuty/go-pagerduty"
	"golang.org/x/sync/errgroup"
)

// pageLimit is PagerDuty's largest page.
const pageLimit = 100

// window is a half-open time range [from, to).
type window struct{ from, to time.Time }

// String names the window in errors and progress: dates when it is made of
// whole days, else RFC 3339 times.
func (w window) String() string {
	if w.from.Equal(w.from.Truncate(24*time.Hour)) && w.to.Equal(w.to.Truncate(24*time.Hour)) {
		return w.from.Format(time.DateOnly) + ".." + w.to.Add(-time.Nanosecond).Format(time.DateOnly)
	}
	return w.from.Format(time.RFC3339) + ".." + w.to.Format(time.RFC3339)
}

// split cuts [from, to) into windows of at most size.
func split(from, to time.Time, size time.Duration) []window {
	var ws []window
	for from.Before(to) {
		end := from.Add(size)
		if end.After(to) {
			end = to
		}
		ws = append(ws, window{from, end})
		from = end
	}
	return ws
}

// page is one page of a classic-paginated listing.
type page[T any] struct {
	items []T
	more  bool
	total uint // 0 when not reported
}

// fetchFunc fetches the page at offset of a listing over w; total asks the
// server to count (PagerDuty's total=true).
type fetchFunc[T any] func(ctx context.Context, w window, offset uint, total bool) (page[T], error)

// errCap says a window holds more than offset pagination can reach.
var errCap = errors.New("window over the pagination cap")

// listWindow reads every item of a listing over w. PagerDuty refuses
// offset+limit beyond the cap (10,000), so a window that holds more — seen from
// total on the first page, or from a 400 when paging reaches the cap — is
// split in halves, recursively, and nothing is dropped silently. Once the total
// is known the remaining pages are fetched concurrently (bounded by the
// in-flight cap of the HTTP layer).
func listWindow[T any](ctx context.Context, s *Source, w window, fetch fetchFunc[T]) ([]T, error) {
	items, err := listOnce(ctx, s, w, fetch)
	if !errors.Is(err, errCap) {
		return items, err
	}
	mid := w.from.Add(w.to.Sub(w.from) / 2).Truncate(time.Second)
	if !mid.After(w.from) {
		return nil, fmt.Errorf("more than %d items in %s, which cannot be split further", s.pageCap, w)
	}
	s.log.Debug("pagerduty: window over the pagination cap, splitting", "window", w.String())
	a, err := listWindow(ctx, s, window{w.from, mid}, fetch)
	if err != nil {
		return nil, err
	}
	b, err := listWindow(ctx, s, window{mid, w.to}, fetch)
	if err != nil {
		return nil, err
	}
	return append(a, b...), nil
}

func listOnce[T any](ctx context.Context, s *Source, w window, fetch fetchFunc[T]) ([]T, error) {
	first, err := fetch(ctx, w, 0, true)
	if err != nil {
		return nil, err
	}
	if first.total > uint(s.pageCap) {
		return nil, errCap
	}
	items := first.items
	more, offset := first.more, uint(len(first.items))
	if step := uint(len(first.items)); first.total > 0 && more && step > 0 {
		// Fetch the pages the total announces concurrently, in order. The step
		// is the first page's size, in case a server pages by less than asked.
		var offsets []uint
		for o := step; o < first.total; o += step {
			offsets = append(offsets, o)
		}
		pages := make([]page[T], len(offsets))
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(s.opts.MaxInFlight)
		for i, o := range offsets {
			goRecover(g, func() error {
				p, err := fetch(gctx, w, o, false)
				pages[i] = p
				return capHit(err, o)
			})
		}
		if err := g.Wait(); err != nil {
			return nil, err
		}
		for _, p := range pages {
			items = append(items, p.items...)
		}
		if len(pages) > 0 {
			more = pages[len(pages)-1].more
			offset = offsets[len(offsets)-1] + uint(len(pages[len(pages)-1].items))
		}
	}
	// Without a total (or if the listing grew meanwhile) page sequentially.
	for more {
		if offset+pageLimit > uint(s.pageCap) {
			return nil, errCap
		}
		p, err := fetch(ctx, w, offset, false)
		if err := capHit(err, offset); err != nil {
			return nil, err
		}
		if len(p.items) == 0 {
			break
		}
		items = append(items, p.items...)
		more, offset = p.more, offset+uint(len(p.items))
	}
	return items, nil
}

// capHit turns a 400 on a page past the first into errCap: PagerDuty answers
// 400 when offset+limit passes its cap.
func capHit(err error, offset uint) error {
	var ae pagerduty.APIError
	if offset > 0 && errors.As(err, &ae) && ae.StatusCode == http.StatusBadRequest {
		return errCap
	}
	return err
}

// apiTime renders a window bound for since/until.
func apiTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// incidentsFetcher lists the configured services' incidents created in a window.
func (s *Source) incidentsFetcher(c *pagerduty.Client) fetchFunc[pagerduty.Incident] {
	return func(ctx context.Context, w window, offset uint, total bool) (page[pagerduty.Incident], error) {
		r, err := c.ListIncidentsWithContext(ctx, pagerduty.ListIncidentsOptions{
			Limit: pageLimit, Offset: offset, Total: total,
			Since: apiTime(w.from), Until: apiTime(w.to),
			ServiceIDs: s.serviceIDs, TimeZone: "UTC", SortBy: "created_at:asc",
		})
		if err != nil {
			return page[pagerduty.Incident]{}, err
		}
		return page[pagerduty.Incident]{items: r.Incidents, more: r.More, total: r.Total}, nil
	}
}

// openFetcher lists the configured services' open incidents of all time (w is
// ignored).
func (s *Source) openFetcher(c *pagerduty.Client) fetchFunc[pagerduty.Incident] {
	return func(ctx context.Context, _ window, offset uint, total bool) (page[pagerduty.Incident], error) {
		r, err := c.ListIncidentsWithContext(ctx, pagerduty.ListIncidentsOptions{
			Limit: pageLimit, Offset: offset, Total: total, DateRange: "all",
			Statuses: []string{"triggered", "acknowledged"}, ServiceIDs: s.serviceIDs,
			TimeZone: "UTC", SortBy: "created_at:asc",
		})
		if err != nil {
			return page[pagerduty.Incident]{}, err
		}
		return page[pagerduty.Incident]{items: r.Incidents, more: r.More, total: r.Total}, nil
	}
}

// logFetcher lists the account's overview log entries created in a window,
// each with its incident embedded as a full object (include[]=incidents), so
// the log alone yields the window's incidents, and with its channel's details
// (include[]=channels), so a trigger entry carries what the responder or the
// monitoring tool wrote when opening the incident, at no extra request.
func logFetcher(c *pagerduty.Client) fetchFunc[pagerduty.LogEntry] {
	return func(ctx context.Context, w window, offset uint, total bool) (page[pagerduty.LogEntry], error) {
		r, err := c.ListLogEntriesWithContext(ctx, pagerduty.ListLogEntriesOptions{
			Limit: pageLimit, Offset: offset, Total: total,
			Since: apiTime(w.from), Until: apiTime(w.to),
			IsOverview: true, TimeZone: "UTC", Includes: []string{"incidents", "channels"},
		})
		if err != nil {
			return page[pagerduty.LogEntry]{}, err
		}
		return page[pagerduty.LogEntry]{items: r.LogEntries, more: r.More, total: r.Total}, nil
	}
}

// incidentLogFetcher lists one incident's overview log with the channels'
// details (w is ignored).
func incidentLogFetcher(c *pagerduty.Client, id string) fetchFunc[pagerduty.LogEntry] {
	return func(ctx context.Context, _ window, offset uint, total bool) (page[pagerduty.LogEntry], error) {
		r, err := c.ListIncidentLogEntriesWithContext(ctx, id, pagerduty.ListIncidentLogEntriesOptions{
			Limit: pageLimit, Offset: offset, Total: total, IsOverview: true, TimeZone: "UTC",
			Includes: []string{"channels"},
		})
		if err != nil {
			return page[pagerduty.LogEntry]{}, err
		}
		return page[pagerduty.LogEntry]{items: r.LogEntries, more: r.More, total: r.Total}, nil
	}
}
