// Package pagerduty is the PagerDuty source of Flywheel: it reads the
// incidents of the configured PagerDuty services through the REST API v2 with
// go-pagerduty, takes their trigger, first-acknowledge and resolve times from the
// account-wide log, and writes them as flywheel.Incident batches with a cursor.
// docs/pagerduty.md explains what is read, how, and what it costs.
package pagerduty

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/PagerDuty/go-pagerduty"
	"golang.org/x/sync/errgroup"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/collector"
)

// SourceName is the source's name, its label value and Incident.Source.
const SourceName = "pagerduty"

// Defaults.
const (
	DefaultBaseURL           = "https://api.pagerduty.com"
	DefaultMaxInFlight       = 4
	DefaultRequestsPerMinute = 900
	DefaultOverlap           = time.Hour
	DefaultHistory           = 365 * 24 * time.Hour
	// DefaultPaginationCap is PagerDuty's ceiling on offset+limit.
	DefaultPaginationCap = 10000
	// maxWindow bounds one incident listing (PagerDuty allows 6 months).
	maxWindow = 90 * 24 * time.Hour
)

// Options configure a Source.
type Options struct {
	// BaseURL is the API root without trailing slash (EU: https://api.eu.pagerduty.com).
	BaseURL string
	// Token is a read-only REST API key. It is sent only in the Authorization
	// header and never logged.
	Token string
	// Services maps PagerDuty service ids to Flywheel services.
	Services map[string]string
	// History is how far back the first sync reaches (default 365 days).
	History time.Duration
	// Clock defaults to the real one.
	Clock collector.Clock
	// MaxInFlight caps concurrent requests (default 4).
	MaxInFlight int
	// RequestsPerMinute is the request budget (default and maximum 900).
	RequestsPerMinute int
	// Overlap is how far before the cursor an incremental sync starts (default 1h).
	Overlap time.Duration
	// PaginationCap is the ceiling of offset+limit (default 10,000, PagerDuty's);
	// tests lower it to exercise window splitting cheaply.
	PaginationCap int
	// HTTPClient sends the requests (default: one with a 60 s timeout).
	HTTPClient *http.Client
	Logger     *slog.Logger
	// IncidentTimeZone is the zone of impact-start times written without one
	// (default UTC).
	IncidentTimeZone *time.Location
}

// Source is the PagerDuty source. It is safe to call Sync from one goroutine
// at a time (the scheduler runs one sync per source at a time).
type Source struct {
	opts       Options
	serviceIDs []string
	// flywheelServices are the Flywheel services the mapping produces.
	flywheelServices map[string]bool
	cursorKey        string
	pageCap          int
	gate             *gate
	log              *slog.Logger
}

var _ collector.Source = (*Source)(nil)

// New checks opts and builds a Source; it starts nothing.
func New(opts Options) (*Source, error) {
	opts.BaseURL = strings.TrimRight(cmp.Or(opts.BaseURL, DefaultBaseURL), "/")
	u, err := url.Parse(opts.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("pagerduty: base URL %q: want http(s)://host[/path]", opts.BaseURL)
	}
	if opts.Token == "" {
		return nil, errors.New("pagerduty: no API token")
	}
	if len(opts.Services) == 0 {
		return nil, errors.New("pagerduty: no services configured")
	}
	for id, svc := range opts.Services {
		if id == "" || svc == "" {
			return nil, fmt.Errorf("pagerduty: service mapping %q → %q: both must be set", id, svc)
		}
	}
	if opts.History <= 0 {
		opts.History = DefaultHistory
	}
	if opts.Clock == nil {
		opts.Clock = collector.RealClock{}
	}
	if opts.MaxInFlight <= 0 {
		opts.MaxInFlight = DefaultMaxInFlight
	}
	if opts.RequestsPerMinute <= 0 || opts.RequestsPerMinute > DefaultRequestsPerMinute {
		opts.RequestsPerMinute = DefaultRequestsPerMinute
	}
	if opts.Overlap <= 0 {
		opts.Overlap = DefaultOverlap
	}
	if opts.PaginationCap <= 0 {
		opts.PaginationCap = DefaultPaginationCap
	}
	if opts.PaginationCap < pageLimit {
		return nil, fmt.Errorf("pagerduty: pagination cap %d is below the page size %d", opts.PaginationCap, pageLimit)
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 60 * time.Second}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.IncidentTimeZone == nil {
		opts.IncidentTimeZone = time.UTC
	}
	ids := make([]string, 0, len(opts.Services))
	for id := range opts.Services {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	// The cursor key names the service mapping, so adding a service (or mapping
	// one to another Flywheel service) starts a full-history sync instead of
	// inheriting a high-water mark that never covered it.
	h := sha256.New()
	for _, id := range ids {
		fmt.Fprintf(h, "%s=%s\n", id, opts.Services[id])
	}
	flywheelServices := map[string]bool{}
	for _, svc := range opts.Services {
		flywheelServices[svc] = true
	}
	return &Source{
		opts:             opts,
		serviceIDs:       ids,
		flywheelServices: flywheelServices,
		cursorKey:        fmt.Sprintf("incidents:%x", h.Sum(nil)[:8]),
		pageCap:          opts.PaginationCap,
		gate:             newGate(opts.Clock, opts.RequestsPerMinute, opts.MaxInFlight),
		log:              opts.Logger,
	}, nil
}

// Name is "pagerduty".
func (s *Source) Name() string { return SourceName }

func (s *Source) client(p collector.Progress) *pagerduty.Client {
	c := pagerduty.NewClient(s.opts.Token, pagerduty.WithAPIEndpoint(s.opts.BaseURL))
	c.HTTPClient = &doer{gate: s.gate, next: s.opts.HTTPClient, progress: p, log: s.log}
	return c
}

// Sync brings the store up to date:
//
//  1. Incidents stored open whose trigger is before this sync's start are checked
//     against one listing of the open incidents; those that changed are re-read
//     one by one (GET /incidents/{id} and its log), until they resolve.
//  2. From the cursor minus the overlap (first sync: now − History) to now, in
//     windows of at most 90 days: the account's overview log entries of the
//     window with their incidents embedded (GET /log_entries?is_overview=true
//     &include[]=incidents), split further when over the pagination cap. The
//     trigger entries yield the configured services' incidents created in the
//     window; the other entries their acknowledge, resolve and notes. One page
//     of the window's incident listing (GET /incidents, total=true) checks that
//     the log missed none; if it did, the window is listed in full. An entry of
//     an incident older than this sync (a late note on a resolved incident)
//     makes that incident be re-read. Each window is one batch, written with
//     the cursor set to the window's end.
//
// Re-running is idempotent: incidents are replaced by id.
func (s *Source) Sync(ctx context.Context, sink collector.Sink, p collector.Progress) error {
	if p == nil {
		p = collector.NopProgress{}
	}
	c := s.client(p)
	now := s.opts.Clock.Now().UTC().Truncate(time.Second)
	start := now.Add(-s.opts.History)
	cur, err := sink.Cursor(SourceName, s.cursorKey)
	if err != nil {
		return fmt.Errorf("pagerduty: read cursor: %w", err)
	}
	if cur != "" {
		t, err := time.Parse(time.RFC3339Nano, cur)
		if err != nil {
			return fmt.Errorf("pagerduty: cursor %q: %w", cur, err)
		}
		start = t.Add(-s.opts.Overlap).Truncate(time.Second)
	}
	if start.After(now) {
		start = now
	}
	stored, err := sink.Incidents(flywheel.Query{To: start})
	if err != nil {
		return fmt.Errorf("pagerduty: read open incidents: %w", err)
	}
	open := map[string]flywheel.Incident{}
	for _, in := range stored {
		if in.Source == SourceName && in.ResolvedAt.IsZero() && s.flywheelServices[in.Service] {
			open[in.ID] = in
		}
	}
	windows := split(start, now, maxWindow)
	total := len(windows)
	if len(open) > 0 {
		total++
	}
	p.Total(total)

	// carried: the incidents this sync has read, each with its whole log so
	// far, to which later windows add.
	carried := map[string]*record{}
	if len(open) > 0 {
		ids, err := s.changedOpen(ctx, c, open)
		if err != nil {
			return err
		}
		recs, err := s.refetch(ctx, c, ids)
		if err != nil {
			return err
		}
		if err := s.write(ctx, sink, recs, nil); err != nil {
			return err
		}
		for _, r := range recs {
			carried[r.inc.ID] = r
		}
		p.Done(1, fmt.Sprintf("%d open incidents, %d changed", len(open), len(ids)))
	}
	for _, w := range windows {
		if err := s.syncWindow(ctx, c, sink, w, start, carried); err != nil {
			return err
		}
		p.Done(1, "incidents "+w.String())
	}
	return nil
}

// syncWindow reads one window and writes it as one batch. The account's
// overview log of the window, each entry carrying its incident as a full
// object (include[]=incidents), yields the configured services' incidents
// created in the window (by their trigger entry) and the window's entries of
// this sync's earlier incidents. since is this sync's start: an incident
// created at or after it has every log entry in this sync's windows, so
// carried holds its whole log. An entry of an older incident of a configured
// service makes that incident be re-read with its whole log.
//
// The first page of the window's incident listing (total=true) checks the
// log: when it counts incidents the log did not yield (PagerDuty documents
// is_overview only as "the most important changes"), the window is listed
// in full and the missing incidents are read one by one, so none is dropped.
func (s *Source) syncWindow(ctx context.Context, c *pagerduty.Client, sink collector.Sink, w window, since time.Time, carried map[string]*record) error {
	var (
		entries []pagerduty.LogEntry
		check   page[pagerduty.Incident]
	)
	listIncidents := s.incidentsFetcher(c)
	g, gctx := errgroup.WithContext(ctx)
	goRecover(g, func() (err error) {
		entries, err = listWindow(gctx, s, w, logFetcher(c))
		return callErr("list log entries "+w.String(), err)
	})
	goRecover(g, func() (err error) {
		check, err = listIncidents(gctx, w, 0, true)
		return callErr("list incidents "+w.String(), err)
	})
	if err := g.Wait(); err != nil {
		return ctxErr(ctx, err)
	}
	changed := map[string]*record{}
	var touched []string
	touch := func(id string) {
		if !slices.Contains(touched, id) {
			touched = append(touched, id)
		}
	}
	// unplaced: entries whose incident came as a bare reference (a server that
	// ignores include[]); the window's incident listing places them.
	unplaced := map[string][]pagerduty.LogEntry{}
	for _, e := range entries {
		id := e.Incident.ID
		if id == "" {
			continue
		}
		inc, full := e.Incident, e.Incident.CreatedAt != ""
		// Records keep entries for their times and notes only; dropping the
		// embedded copy keeps a long sync's memory proportional to its entries.
		e.Incident = pagerduty.Incident{APIObject: pagerduty.APIObject{ID: id}}
		if r := carried[id]; r != nil {
			if full {
				r.inc = inc // the embedded object is the incident as of now
			}
			r.add(e)
			changed[id] = r
			continue
		}
		if _, ok := s.opts.Services[cmp.Or(inc.Service.ID, e.Service.ID)]; !ok {
			continue
		}
		if !full {
			unplaced[id] = append(unplaced[id], e)
			continue
		}
		created, err := parseTime(inc.CreatedAt)
		if err != nil {
			return fmt.Errorf("pagerduty: incident %s: created_at: %w", id, err)
		}
		if created.Before(since) {
			touch(id) // older than this sync: its earlier log is not at hand
			continue
		}
		r := newRecord(inc)
		r.add(e)
		carried[id], changed[id] = r, r
	}
	if !s.logComplete(w, check, carried) {
		listed := check.items
		if check.more {
			var err error
			if listed, err = listWindow(ctx, s, w, listIncidents); err != nil {
				return ctxErr(ctx, callErr("list incidents "+w.String(), err))
			}
		}
		for _, inc := range listed {
			if _, ok := s.opts.Services[inc.Service.ID]; !ok || carried[inc.ID] != nil {
				continue
			}
			es := unplaced[inc.ID]
			delete(unplaced, inc.ID)
			if len(es) == 0 {
				touch(inc.ID) // no overview entry in the window: read its log
				continue
			}
			r := newRecord(inc)
			r.add(es...)
			carried[inc.ID], changed[inc.ID] = r, r
		}
	}
	for id := range unplaced {
		touch(id)
	}
	if len(touched) > 0 {
		recs, err := s.refetch(ctx, c, touched)
		if err != nil {
			return err
		}
		for _, r := range recs {
			changed[r.inc.ID] = r
		}
	}
	if err := s.readNotes(ctx, c, changed); err != nil {
		return err
	}
	recs := make([]*record, 0, len(changed))
	for _, r := range changed {
		recs = append(recs, r)
	}
	cursor := &flywheel.Cursor{Source: SourceName, Key: s.cursorKey, Value: w.to.UTC().Format(time.RFC3339Nano)}
	if err := s.write(ctx, sink, recs, cursor); err != nil {
		return err
	}
	// Every record now holds its whole log: later windows only add to it.
	for _, r := range recs {
		carried[r.inc.ID] = r
	}
	return nil
}

// logComplete reports whether the log yielded every incident that the first
// page of the window's incident listing shows: as many as its total (or as
// the page holds, when it is the only one), and each of the page's.
func (s *Source) logComplete(w window, check page[pagerduty.Incident], carried map[string]*record) bool {
	count := check.total
	if count == 0 {
		if check.more {
			return false // no total to compare with
		}
		count = uint(len(check.items))
	}
	found := uint(0)
	for _, r := range carried {
		if t, err := parseTime(r.inc.CreatedAt); err == nil && !t.Before(w.from) && t.Before(w.to) {
			found++
		}
	}
	if found != count {
		return false
	}
	for _, inc := range check.items {
		if _, ok := s.opts.Services[inc.Service.ID]; ok && carried[inc.ID] == nil {
			return false
		}
	}
	return true
}

// changedOpen returns the incidents stored open that must be re-read: those
// that are no longer open (resolved), and those whose listing shows an
// acknowledgement, urgency, priority or title the store lacks. One listing of
// the open incidents of the configured services (100 a page) replaces two
// requests per open incident; with more open incidents than the pagination
// cap reaches, every one is re-read. Notes and other log activity of an
// unchanged open incident are caught by the windows' log listing.
func (s *Source) changedOpen(ctx context.Context, c *pagerduty.Client, stored map[string]flywheel.Incident) ([]string, error) {
	all := slices.Sorted(maps.Keys(stored))
	listed, err := listOnce(ctx, s, window{}, s.openFetcher(c))
	if errors.Is(err, errCap) {
		return all, nil
	}
	if err != nil {
		return nil, ctxErr(ctx, callErr("list open incidents", err))
	}
	byID := map[string]pagerduty.Incident{}
	for _, in := range listed {
		byID[in.ID] = in
	}
	var ids []string
	for _, id := range all {
		was := stored[id]
		li, ok := byID[id]
		if !ok {
			ids = append(ids, id)
			continue
		}
		now, err := mapIncident(newRecord(li), s.opts.Services[li.Service.ID], s.opts.IncidentTimeZone)
		if err != nil || now.Service != was.Service || now.Urgency != was.Urgency || now.Priority != was.Priority ||
			now.Title != was.Title || (!now.AcknowledgedAt.IsZero() && was.AcknowledgedAt.IsZero()) {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// refetch re-reads incidents one by one with their whole overview log (and
// notes when needed). An incident that is gone (404) or whose service is no
// longer configured is skipped.
func (s *Source) refetch(ctx context.Context, c *pagerduty.Client, ids []string) ([]*record, error) {
	recs := make([]*record, len(ids))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.opts.MaxInFlight)
	for i, id := range ids {
		goRecover(g, func() error {
			inc, err := c.GetIncidentWithContext(gctx, id)
			if err != nil {
				var ae pagerduty.APIError
				if errors.As(err, &ae) && ae.NotFound() {
					s.log.Warn("pagerduty: incident not found, skipped", "incident", id)
					return nil
				}
				return callErr("get incident "+id, err)
			}
			if _, ok := s.opts.Services[inc.Service.ID]; !ok {
				return nil
			}
			es, err := listOnce(gctx, s, window{}, incidentLogFetcher(c, id))
			if err != nil {
				return callErr("list log entries of incident "+id, err)
			}
			r := newRecord(*inc)
			r.add(es...)
			recs[i] = r
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, ctxErr(ctx, err)
	}
	return slices.DeleteFunc(recs, func(r *record) bool { return r == nil }), nil
}

// readNotes reads GET /incidents/{id}/notes for the incidents whose log shows
// notes without their text; annotate entries that carry the text cost nothing.
func (s *Source) readNotes(ctx context.Context, c *pagerduty.Client, recs map[string]*record) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.opts.MaxInFlight)
	for id, r := range recs {
		if !r.needsNotes() {
			continue
		}
		goRecover(g, func() error {
			notes, err := c.ListIncidentNotesWithContext(gctx, id)
			if err != nil {
				return callErr("list notes of incident "+id, err)
			}
			r.notes, r.notesRead = notes, true
			return nil
		})
	}
	return ctxErr(ctx, g.Wait())
}

// write maps records and stores them, with cursor if given, as one batch; a
// record that does not map fails the whole batch.
func (s *Source) write(ctx context.Context, sink collector.Sink, recs []*record, cursor *flywheel.Cursor) error {
	var b flywheel.Batch
	slices.SortFunc(recs, func(a, b *record) int { return strings.Compare(a.inc.ID, b.inc.ID) })
	for _, r := range recs {
		in, err := mapIncident(r, s.opts.Services[r.inc.Service.ID], s.opts.IncidentTimeZone)
		if err != nil {
			return fmt.Errorf("pagerduty: %w", err)
		}
		b.Incidents = append(b.Incidents, in)
	}
	if cursor != nil {
		b.Cursors = []flywheel.Cursor{*cursor}
	}
	if len(b.Incidents) == 0 && len(b.Cursors) == 0 {
		return nil
	}
	if err := sink.WriteBatch(ctx, b); err != nil {
		return fmt.Errorf("pagerduty: store %d incidents: %w", len(b.Incidents), err)
	}
	return nil
}

// ctxErr prefers the context's error once it is done, so a cancelled sync says
// so instead of reporting whichever request it interrupted.
func ctxErr(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("pagerduty: sync interrupted: %w", ctx.Err())
	}
	return err
}

// goRecover runs f in g and turns a panic into an error, so that a bug met on one
// page fails this sync, which the scheduler records, instead of ending the process
// (the scheduler recovers only the sync's own goroutine).
func goRecover(g *errgroup.Group, f func() error) {
	g.Go(func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("pagerduty: panic: %v", r)
			}
		}()
		return f()
	})
}
