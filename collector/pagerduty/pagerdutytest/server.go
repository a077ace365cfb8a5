package pagerdutytest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options tune the simulated API. The zero value behaves like PagerDuty.
type Options struct {
	// Token is the API key the server expects as "Authorization: Token
	// token=<Token>"; empty accepts any non-empty key.
	Token string
	// Now is the server's clock (default time.Now). Incidents and log entries
	// after Now are not served; rate-limit windows follow it too.
	Now func() time.Time
	// RateLimitPerMinute is the request budget per one-minute window: 0 means
	// 960 (PagerDuty's documented REST limit), a negative value no limit.
	RateLimitPerMinute int
	// PaginationCap is the ceiling of offset+limit (default 10,000, as PagerDuty).
	PaginationCap int
	// MaxRangeMonths caps until−since on GET /incidents (default 6).
	MaxRangeMonths int
	// Latency is a real delay added to every request (to make concurrency visible).
	Latency time.Duration
	// OmitNoteText serves annotate log entries without the note text in
	// channel.summary, so a client must read GET /incidents/{id}/notes.
	OmitNoteText bool
	// OmitTotal answers "total": null even to total=true, so a client must
	// page by "more" alone.
	OmitTotal bool
	// OverviewWithoutTrigger leaves trigger entries out of is_overview=true
	// listings. PagerDuty documents the overview only as "the most important
	// changes"; this lets tests check that a client finding incidents by
	// their trigger entry notices what it missed.
	OverviewWithoutTrigger bool
	// IgnoreInclude serves log entries' incidents as bare references even
	// when include[]=incidents asks for the full objects.
	IgnoreInclude bool
	// Abilities are the account's abilities served by GET /abilities (nil:
	// the example of PagerDuty's OpenAPI description, "teams",
	// "read_only_users", "service_support_hours", "urgencies").
	Abilities []string
}

// Fault is an injected response: status, extra headers and a raw body.
type Fault struct {
	Status int
	Header http.Header
	Body   string
}

// Stats are the server's request counters.
type Stats struct {
	// Requests counts requests by route pattern ("GET /incidents") and status.
	Requests map[string]map[int]int
	Total    int
	// MaxInFlight is the most requests the server was handling at once.
	MaxInFlight int
	// MaxPerMinute is the most requests received in any 60 s (sliding, on the
	// server's clock).
	MaxPerMinute int
}

// Count is the number of requests to route with status (0: any status).
func (s Stats) Count(route string, status int) int {
	n := 0
	for st, c := range s.Requests[route] {
		if status == 0 || st == status {
			n += c
		}
	}
	return n
}

// Server is a running simulated PagerDuty API on 127.0.0.1.
type Server struct {
	// URL is the base URL to give go-pagerduty's WithAPIEndpoint (no trailing slash).
	URL string

	srv  *httptest.Server
	mux  *http.ServeMux
	opts Options

	mu   sync.RWMutex
	acct *Account

	smu      sync.Mutex
	requests map[string]map[int]int
	times    []time.Time
	inFlight int
	maxIn    int
	fault    func(*http.Request) *Fault
	rlStart  time.Time
	rlCount  int
}

// NewServer starts serving acct. Close it when done.
func NewServer(acct *Account, opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.RateLimitPerMinute == 0 {
		opts.RateLimitPerMinute = 960
	}
	if opts.PaginationCap == 0 {
		opts.PaginationCap = 10000
	}
	if opts.MaxRangeMonths == 0 {
		opts.MaxRangeMonths = 6
	}
	if acct == nil {
		acct = &Account{}
	}
	s := &Server{acct: acct, opts: opts, requests: map[string]map[int]int{}, mux: http.NewServeMux()}
	s.mux.HandleFunc("GET /incidents", s.listIncidents)
	s.mux.HandleFunc("GET /incidents/{id}", s.getIncident)
	s.mux.HandleFunc("GET /incidents/{id}/log_entries", s.incidentLogEntries)
	s.mux.HandleFunc("GET /incidents/{id}/notes", s.notes)
	s.mux.HandleFunc("GET /log_entries", s.logEntries)
	s.mux.HandleFunc("GET /services", s.services)
	s.mux.HandleFunc("GET /services/{id}", s.service)
	s.mux.HandleFunc("GET /abilities", s.abilities)
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Update changes the account under the server's lock.
func (s *Server) Update(fn func(*Account)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn(s.acct)
}

// SetFault installs a fault injector: for each request it may return a Fault
// to answer with instead of the real response (nil: answer normally).
func (s *Server) SetFault(fn func(*http.Request) *Fault) {
	s.smu.Lock()
	defer s.smu.Unlock()
	s.fault = fn
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.smu.Lock()
	defer s.smu.Unlock()
	st := Stats{Requests: map[string]map[int]int{}, Total: len(s.times), MaxInFlight: s.maxIn}
	for r, m := range s.requests {
		st.Requests[r] = map[int]int{}
		for c, n := range m {
			st.Requests[r][c] = n
		}
	}
	ts := slices.Clone(s.times)
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	j := 0
	for i := range ts {
		for ts[i].Sub(ts[j]) >= time.Minute {
			j++
		}
		st.MaxPerMinute = max(st.MaxPerMinute, i-j+1)
	}
	return st
}

// ResetStats clears the counters.
func (s *Server) ResetStats() {
	s.smu.Lock()
	defer s.smu.Unlock()
	s.requests, s.times, s.maxIn = map[string]map[int]int{}, nil, 0
}

// statusWriter calls started once, with the status, when the response begins:
// before any byte reaches the client, so a client that has read an answer always
// finds it counted (a JSON decoder may stop reading before the handler returns).
type statusWriter struct {
	http.ResponseWriter
	status  int
	started func(status int)
}

func (w *statusWriter) start(c int) {
	if w.status == 0 {
		w.status = c
		w.started(c)
	}
}

func (w *statusWriter) WriteHeader(c int) {
	w.start(c)
	w.ResponseWriter.WriteHeader(c)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.start(http.StatusOK)
	return w.ResponseWriter.Write(b)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	_, route := s.mux.Handler(r)
	if route == "" {
		route = r.Method + " " + r.URL.Path
	}
	now := s.opts.Now()
	s.smu.Lock()
	s.inFlight++
	s.maxIn = max(s.maxIn, s.inFlight)
	s.times = append(s.times, now)
	fault := s.fault
	s.smu.Unlock()
	// A request stops being in flight, and is counted, when its answer starts.
	sw := &statusWriter{ResponseWriter: w, started: func(status int) {
		s.smu.Lock()
		s.inFlight--
		if s.requests[route] == nil {
			s.requests[route] = map[int]int{}
		}
		s.requests[route][status]++
		s.smu.Unlock()
	}}
	defer sw.start(http.StatusOK) // a handler that wrote nothing answered 200
	if s.opts.Latency > 0 {
		time.Sleep(s.opts.Latency)
	}
	if fault != nil {
		if f := fault(r); f != nil {
			for k, vs := range f.Header {
				for _, v := range vs {
					sw.Header().Add(k, v)
				}
			}
			sw.WriteHeader(f.Status)
			_, _ = sw.Write([]byte(f.Body))
			return
		}
	}
	auth := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(auth, "Token token=")
	if !ok || tok == "" || (s.opts.Token != "" && tok != s.opts.Token) {
		apiError(sw, http.StatusUnauthorized, 2006, "Unauthorized")
		return
	}
	if a := r.Header.Get("Accept"); a != "application/vnd.pagerduty+json;version=2" {
		apiError(sw, http.StatusBadRequest, 2001, "Invalid Input Provided", "Accept must be application/vnd.pagerduty+json;version=2, got "+strconv.Quote(a))
		return
	}
	if !s.admit(sw, now) {
		return
	}
	s.mux.ServeHTTP(sw, r)
}

// admit applies the per-minute budget in fixed windows that start with the
// first request after the previous window ended, and sets PagerDuty's
// ratelimit-* headers (reset in seconds).
func (s *Server) admit(w http.ResponseWriter, now time.Time) bool {
	limit := s.opts.RateLimitPerMinute
	if limit < 0 {
		return true
	}
	s.smu.Lock()
	if s.rlStart.IsZero() || now.Sub(s.rlStart) >= time.Minute {
		s.rlStart, s.rlCount = now, 0
	}
	reset := int(math.Ceil(s.rlStart.Add(time.Minute).Sub(now).Seconds()))
	allowed := s.rlCount < limit
	if allowed {
		s.rlCount++
	}
	remaining := limit - s.rlCount
	s.smu.Unlock()
	h := w.Header()
	h.Set("ratelimit-limit", strconv.Itoa(limit))
	h.Set("ratelimit-remaining", strconv.Itoa(remaining))
	h.Set("ratelimit-reset", strconv.Itoa(max(reset, 1)))
	if !allowed {
		apiError(w, http.StatusTooManyRequests, 2020, "Rate Limit Exceeded")
	}
	return allowed
}

func apiError(w http.ResponseWriter, status, code int, msg string, errs ...string) {
	body := map[string]any{"message": msg, "code": code}
	if len(errs) > 0 {
		body["errors"] = errs
	}
	writeJSON(w, status, map[string]any{"error": body})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// page holds the classic pagination parameters of a request.
type page struct {
	limit, offset int
	total         bool
}

func (s *Server) paging(w http.ResponseWriter, r *http.Request) (page, bool) {
	q := r.URL.Query()
	p := page{limit: 25, total: q.Get("total") == "true"}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			apiError(w, http.StatusBadRequest, 2001, "Invalid Input Provided", "limit must be a positive integer")
			return p, false
		}
		p.limit = min(n, 100)
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			apiError(w, http.StatusBadRequest, 2001, "Invalid Input Provided", "offset must be a non-negative integer")
			return p, false
		}
		p.offset = n
	}
	if p.offset+p.limit > s.opts.PaginationCap {
		apiError(w, http.StatusBadRequest, 2001, "Invalid Input Provided",
			fmt.Sprintf("Offset must be less than %d.", s.opts.PaginationCap))
		return p, false
	}
	return p, true
}

// paged writes one page of items under key with limit/offset/more/total.
func paged[T any](w http.ResponseWriter, key string, items []T, p page) {
	end := min(p.offset+p.limit, len(items))
	start := min(p.offset, end)
	body := map[string]any{
		key:      items[start:end],
		"limit":  p.limit,
		"offset": p.offset,
		"more":   end < len(items),
		"total":  nil,
	}
	if p.total {
		body["total"] = len(items)
	}
	writeJSON(w, http.StatusOK, body)
}

// parseTime accepts the shapes PagerDuty accepts for since/until.
func parseTime(v string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("cannot parse %q as a date-time", v)
}

// timeRange reads since/until; zero values mean absent.
func timeRange(w http.ResponseWriter, r *http.Request) (since, until time.Time, ok bool) {
	q := r.URL.Query()
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"since", &since}, {"until", &until}} {
		if v := q.Get(p.name); v != "" {
			t, err := parseTime(v)
			if err != nil {
				apiError(w, http.StatusBadRequest, 2001, "Invalid Input Provided", p.name+": "+err.Error())
				return since, until, false
			}
			*p.dst = t
		}
	}
	return since, until, true
}

func in(t, since, until time.Time) bool {
	return (since.IsZero() || !t.Before(since)) && (until.IsZero() || t.Before(until))
}

func (s *Server) listIncidents(w http.ResponseWriter, r *http.Request) {
	p, ok := s.paging(w, r)
	if !ok {
		return
	}
	since, until, ok := timeRange(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	now := s.opts.Now()
	if q.Get("date_range") != "all" {
		if until.IsZero() {
			until = now
		}
		if since.IsZero() {
			since = until.AddDate(0, -1, 0)
		}
		if until.Sub(since) > until.Sub(until.AddDate(0, -s.opts.MaxRangeMonths, 0)) {
			apiError(w, http.StatusBadRequest, 2001, "Invalid Input Provided",
				fmt.Sprintf("Date range cannot exceed %d months.", s.opts.MaxRangeMonths))
			return
		}
	} else {
		since, until = time.Time{}, time.Time{}
	}
	services, statuses, urgencies := set(q["service_ids[]"]), set(q["statuses[]"]), set(q["urgencies[]"])
	s.mu.RLock()
	defer s.mu.RUnlock()
	var sel []*Incident
	for _, inc := range s.acct.Incidents {
		if inc.CreatedAt.After(now) || !in(inc.CreatedAt, since, until) {
			continue
		}
		if (services != nil && !services[inc.ServiceID]) || (urgencies != nil && !urgencies[inc.Urgency]) {
			continue
		}
		if statuses != nil && !statuses[derive(inc, inc.entries(now)).status] {
			continue
		}
		sel = append(sel, inc)
	}
	field, dir, _ := strings.Cut(q.Get("sort_by"), ":")
	slices.SortStableFunc(sel, func(a, b *Incident) int {
		c := a.CreatedAt.Compare(b.CreatedAt)
		if field == "incident_number" || c == 0 {
			c = a.Number - b.Number
		}
		if dir == "desc" {
			c = -c
		}
		return c
	})
	out := make([]map[string]any, 0, len(sel))
	end := min(p.offset+p.limit, len(sel))
	for i, inc := range sel {
		if i >= p.offset && i < end { // render only the page
			out = append(out, s.incidentJSON(inc, now))
		} else {
			out = append(out, nil)
		}
	}
	p.total = p.total && !s.opts.OmitTotal
	paged(w, "incidents", out, p)
}

func set(vs []string) map[string]bool {
	if len(vs) == 0 {
		return nil
	}
	m := map[string]bool{}
	for _, v := range vs {
		m[v] = true
	}
	return m
}

func (s *Server) find(id string) *Incident {
	for _, inc := range s.acct.Incidents {
		if inc.ID == id {
			return inc
		}
	}
	return nil
}

func (s *Server) getIncident(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	now := s.opts.Now()
	inc := s.find(r.PathValue("id"))
	if inc == nil || inc.CreatedAt.After(now) {
		apiError(w, http.StatusNotFound, 2100, "Not Found")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"incident": s.incidentJSON(inc, now)})
}

type flatEntry struct {
	inc *Incident
	e   LogEntry
	idx int
}

// serveEntries serves a log entry listing over the entries of incs: it filters
// (time range, overview), orders (newest first, as PagerDuty lists) and pages.
func (s *Server) serveEntries(w http.ResponseWriter, r *http.Request, incs []*Incident) {
	p, ok := s.paging(w, r)
	if !ok {
		return
	}
	since, until, ok := timeRange(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	ov := q.Get("is_overview") == "true"
	withIncidents := slices.Contains(q["include[]"], "incidents") && !s.opts.IgnoreInclude
	withChannels := slices.Contains(q["include[]"], "channels")
	now := s.opts.Now()
	var sel []flatEntry
	for _, inc := range incs {
		if !until.IsZero() && !inc.CreatedAt.Before(until) && !slices.ContainsFunc(inc.Log, func(e LogEntry) bool { return e.At.Before(until) }) {
			continue // cheap skip: nothing of this incident before until
		}
		if !since.IsZero() && inc.CreatedAt.Before(since) && !slices.ContainsFunc(inc.Log, func(e LogEntry) bool { return !e.At.Before(since) }) {
			continue // nothing at or after since
		}
		for i, e := range inc.entries(now) {
			if (ov && (!overview[e.Type] || e.Type == LogTrigger && s.opts.OverviewWithoutTrigger)) || !in(e.At, since, until) {
				continue
			}
			sel = append(sel, flatEntry{inc, e, i})
		}
	}
	slices.SortStableFunc(sel, func(a, b flatEntry) int {
		if c := b.e.At.Compare(a.e.At); c != 0 {
			return c
		}
		return strings.Compare(b.e.ID, a.e.ID)
	})
	end := min(p.offset+p.limit, len(sel))
	out := make([]map[string]any, len(sel))
	for i := p.offset; i < end; i++ {
		out[i] = s.entryJSON(sel[i].inc, sel[i].e, sel[i].idx, withIncidents, withChannels, now)
	}
	p.total = p.total && !s.opts.OmitTotal
	paged(w, "log_entries", out, p)
}

func (s *Server) logEntries(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	s.serveEntries(w, r, s.acct.Incidents)
}

func (s *Server) incidentLogEntries(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	inc := s.find(r.PathValue("id"))
	if inc == nil || inc.CreatedAt.After(s.opts.Now()) {
		apiError(w, http.StatusNotFound, 2100, "Not Found")
		return
	}
	s.serveEntries(w, r, []*Incident{inc})
}

func (s *Server) notes(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	now := s.opts.Now()
	inc := s.find(r.PathValue("id"))
	if inc == nil || inc.CreatedAt.After(now) {
		apiError(w, http.StatusNotFound, 2100, "Not Found")
		return
	}
	out := []map[string]any{}
	for i, n := range inc.Notes {
		if n.At.After(now) {
			continue
		}
		out = append(out, map[string]any{
			"id":         n.ID,
			"user":       s.userRef(n.UserID),
			"channel":    map[string]any{"summary": "The PagerDuty website or APIs"},
			"content":    n.Content,
			"created_at": stamp(n.At, inc.Number+i),
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"notes": out})
}

func (s *Server) services(w http.ResponseWriter, r *http.Request) {
	p, ok := s.paging(w, r)
	if !ok {
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := []map[string]any{}
	for i, sv := range s.acct.Services {
		out = append(out, s.serviceJSON(i, sv))
	}
	paged(w, "services", out, p)
}

// service answers GET /services/{id}: {"service": {...}}, or 404 with
// PagerDuty's error object (code 2100) for an id the account does not have.
func (s *Server) service(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for i, sv := range s.acct.Services {
		if sv.ID == r.PathValue("id") {
			writeJSON(w, http.StatusOK, map[string]any{"service": s.serviceJSON(i, sv)})
			return
		}
	}
	apiError(w, http.StatusNotFound, 2100, "Not Found")
}

// abilities answers GET /abilities: {"abilities": [names]}, the shape of
// PagerDuty's OpenAPI description (operation listAbilities).
func (s *Server) abilities(w http.ResponseWriter, r *http.Request) {
	a := s.opts.Abilities
	if a == nil {
		a = []string{"teams", "read_only_users", "service_support_hours", "urgencies"}
	}
	writeJSON(w, http.StatusOK, map[string]any{"abilities": a})
}

// serviceJSON renders the i-th service as GET /services lists it.
func (s *Server) serviceJSON(i int, sv Service) map[string]any {
	return map[string]any{
		"id": sv.ID, "type": "service", "summary": sv.Name, "name": sv.Name,
		"self":                                s.URL + "/services/" + sv.ID,
		"html_url":                            "https://flywheel-demo.pagerduty.com/service-directory/" + sv.ID,
		"auto_resolve_timeout":                14400,
		"acknowledgement_timeout":             600,
		"created_at":                          stamp(sv.CreatedAt, i),
		"status":                              "active",
		"alert_creation":                      "create_alerts_and_incidents",
		"escalation_policy":                   map[string]any{"id": "PESC" + sv.ID, "type": "escalation_policy_reference", "summary": "Default"},
		"teams":                               []any{},
		"integrations":                        []any{},
		"alert_grouping_parameters":           map[string]any{"type": "intelligent"},
		"incident_urgency_rule":               map[string]any{"type": "constant", "urgency": "high"},
		"support_hours":                       nil,
		"scheduled_actions":                   []any{},
		"auto_pause_notifications_parameters": map[string]any{"enabled": false, "timeout": 0},
	}
}

// est renders some timestamps with a −05:00 offset, as PagerDuty does for
// accounts in other zones.
var est = time.FixedZone("EST", -5*3600)

// stamp renders t in one of four shapes PagerDuty uses, chosen by variant, so
// clients must parse them all: "…Z", "…+00:00", "…-05:00" and "….000Z".
func stamp(t time.Time, variant int) string {
	switch ((variant % 4) + 4) % 4 {
	case 0:
		return t.UTC().Format("2006-01-02T15:04:05Z")
	case 1:
		return t.UTC().Format("2006-01-02T15:04:05") + "+00:00"
	case 2:
		return t.In(est).Format("2006-01-02T15:04:05-07:00")
	default:
		return t.UTC().Format("2006-01-02T15:04:05.000Z")
	}
}

func (s *Server) serviceRef(id string) map[string]any {
	name := id
	for _, sv := range s.acct.Services {
		if sv.ID == id {
			name = sv.Name
		}
	}
	return s.reference("service", "services", "service-directory", id, name)
}

func (s *Server) userRef(id string) map[string]any {
	name := id
	for _, u := range s.acct.Users {
		if u.ID == id {
			name = u.Name
		}
	}
	return s.reference("user", "users", "users", id, name)
}

// reference is PagerDuty's reference object to a resource of the API path
// apiPath (its self) and the web path webPath (its html_url).
func (s *Server) reference(kind, apiPath, webPath, id, name string) map[string]any {
	return map[string]any{
		"id": id, "type": kind + "_reference", "summary": name,
		"self":     s.URL + "/" + apiPath + "/" + id,
		"html_url": "https://flywheel-demo.pagerduty.com/" + webPath + "/" + id,
	}
}

func (s *Server) incidentRef(inc *Incident) map[string]any {
	return map[string]any{
		"id": inc.ID, "type": "incident_reference", "summary": fmt.Sprintf("[#%d] %s", inc.Number, inc.Title),
		"self":     s.URL + "/incidents/" + inc.ID,
		"html_url": "https://flywheel-demo.pagerduty.com/incidents/" + inc.ID,
	}
}

func (s *Server) agent(inc *Incident, e LogEntry) map[string]any {
	if e.UserID == "" {
		return s.serviceRef(inc.ServiceID)
	}
	return s.userRef(e.UserID)
}

// incidentJSON renders an incident as GET /incidents does, derived from its log.
func (s *Server) incidentJSON(inc *Incident, now time.Time) map[string]any {
	log := inc.entries(now)
	st := derive(inc, log)
	v := inc.Number
	desc := inc.Description
	if desc == "" {
		desc = inc.Title
	}
	acks := []any{}
	for _, a := range st.acks {
		acks = append(acks, map[string]any{"at": stamp(a.At, v+1), "acknowledger": s.agent(inc, a)})
	}
	assigns := []any{}
	for _, a := range st.assignees {
		assigns = append(assigns, map[string]any{"at": stamp(a.At, v+2), "assignee": s.agent(inc, a)})
	}
	m := map[string]any{
		"id": inc.ID, "type": "incident",
		"summary":         fmt.Sprintf("[#%d] %s", inc.Number, inc.Title),
		"self":            s.URL + "/incidents/" + inc.ID,
		"html_url":        "https://flywheel-demo.pagerduty.com/incidents/" + inc.ID,
		"incident_number": inc.Number,
		"title":           inc.Title,
		"description":     desc,
		"created_at":      stamp(inc.CreatedAt, v),
		"updated_at":      stamp(st.updatedAt, v+3),
		"status":          st.status,
		"incident_key":    incidentKey(inc),
		"service":         s.serviceRef(inc.ServiceID),
		"assignments":     assigns,
		"assigned_via":    "escalation_policy",
		"resolved_at":     nil,
		"alert_counts":    map[string]any{"all": 1, "triggered": 0, "resolved": 0},
		"is_mergeable":    true,
		"incident_type":   map[string]any{"name": "incident_default"},
		"escalation_policy": map[string]any{
			"id": "PESC" + inc.ServiceID, "type": "escalation_policy_reference", "summary": "Default",
		},
		"teams":                []any{},
		"pending_actions":      []any{},
		"acknowledgements":     acks,
		"priority":             nil,
		"resolve_reason":       nil,
		"alert_grouping":       nil,
		"conference_bridge":    nil,
		"incidents_responders": []any{},
		"responder_requests":   []any{},
		"urgency":              inc.Urgency,
	}
	if len(log) > 0 {
		m["first_trigger_log_entry"] = map[string]any{
			"id": log[0].ID, "type": "trigger_log_entry_reference", "summary": triggerSummaries[inc.Trigger],
			"self": s.URL + "/log_entries/" + log[0].ID + "?incident_id=" + inc.ID,
		}
	}
	if st.lastStatusChange != nil {
		m["last_status_change_at"] = stamp(st.lastStatusChange.At, v+2)
		m["last_status_change_by"] = s.agent(inc, *st.lastStatusChange)
	} else {
		m["last_status_change_at"] = stamp(inc.CreatedAt, v+2)
	}
	if st.resolvedAt != nil {
		m["resolved_at"] = stamp(*st.resolvedAt, v+1)
	}
	if inc.Priority != nil {
		m["priority"] = map[string]any{
			"id": inc.Priority.ID, "type": "priority_reference", "summary": inc.Priority.Name,
			"self": s.URL + "/priorities/" + inc.Priority.ID,
		}
	}
	return m
}

var summaries = map[LogType]string{
	LogAcknowledge:   "Acknowledged by %s",
	LogUnacknowledge: "Unacknowledged due to timeout", LogAssign: "Assigned to %s",
	LogEscalate: "Escalated to %s", LogNotify: "Notified %s", LogAnnotate: "Note added",
	LogResolve: "Resolved by %s",
}

// triggerSummaries are the summaries of trigger log entries: the published
// example's for the Events API, the recorded ones for the web UI (go-pagerduty's
// webhook test payload) and for POST /incidents (Port's recorded incidents).
var triggerSummaries = map[TriggerChannel]string{
	TriggerEvents: "Triggered through the API",
	TriggerWeb:    "Triggered through the website",
	TriggerREST:   "Triggered through the website.",
}

// incidentKey is the incident's deduplication key (an Events API event's
// dedup_key; PagerDuty makes one up for other triggers).
func incidentKey(inc *Incident) string {
	h := sha256.Sum256([]byte("incident_key/" + inc.ID))
	return hex.EncodeToString(h[:16])
}

// triggerChannel is the channel of a trigger log entry. Without
// include[]=channels PagerDuty serves only its type (the published examples of
// GET /log_entries, /incidents/{id}/log_entries and /log_entries/{id} in
// PagerDuty/api-schema reference/REST/openapiv3.json: "channel": {"type":
// "api"}); the details need include[]=channels, as PagerDuty's guide
// "Retrieve Incident Details" says. With it:
//   - web UI (WebTriggerChannel; recorded in go-pagerduty's webhook test
//     payload and Port's incidents): type web_trigger, summary and subject
//     the title, details the typed text as a string, null when empty (as in
//     the relay-pagerduty recording);
//   - POST /incidents (recorded in Port's incidents): type api, summary and
//     subject the title, details the body.details string ("" when none);
//   - Events API (APIChannel): type api, summary and description the event's
//     summary, service_key the integration key, incident_key the dedup key,
//     details the custom details object.
func (s *Server) triggerChannel(inc *Incident, withChannels bool) map[string]any {
	typ := "api"
	if inc.Trigger == TriggerWeb {
		typ = "web_trigger"
	}
	if !withChannels {
		return map[string]any{"type": typ}
	}
	switch inc.Trigger {
	case TriggerWeb:
		var details any
		if inc.Details != "" {
			details = inc.Details
		}
		return map[string]any{"type": typ, "summary": inc.Title, "subject": inc.Title, "details": details}
	case TriggerREST:
		return map[string]any{"type": typ, "summary": inc.Title, "subject": inc.Title, "details": inc.Details}
	}
	details := inc.CustomDetails
	if details == nil {
		details = map[string]any{}
	}
	key := sha256.Sum256([]byte("integration/" + inc.ServiceID))
	return map[string]any{
		"type": typ, "summary": inc.Title, "description": inc.Title,
		"service_key": hex.EncodeToString(key[:16]), "incident_key": incidentKey(inc),
		"details": details,
	}
}

// entryJSON renders a log entry in the REST v2 shape (fixtures: trigger from
// incidents.log_entries.json and the recorded trigger entries, acknowledge
// from the real v2 webhook, resolve from the spec example). Only trigger
// entries change with include[]=channels.
func (s *Server) entryJSON(inc *Incident, e LogEntry, idx int, withIncident, withChannels bool, now time.Time) map[string]any {
	agent := s.agent(inc, e)
	summary := summaries[e.Type]
	if strings.Contains(summary, "%s") {
		summary = fmt.Sprintf(summary, agent["summary"])
	}
	channel := map[string]any{"type": "website"}
	switch e.Type {
	case LogTrigger:
		summary = triggerSummaries[inc.Trigger]
		channel = s.triggerChannel(inc, withChannels)
	case LogUnacknowledge, LogEscalate:
		channel = map[string]any{"type": "timeout"}
	case LogNotify:
		channel = map[string]any{"type": "notification", "notification": map[string]any{"type": "push_notification", "status": "success"}}
	case LogAnnotate:
		channel = map[string]any{"type": "note"}
		if !s.opts.OmitNoteText {
			channel["summary"] = e.Note
		}
	}
	var incident any = s.incidentRef(inc)
	if withIncident {
		incident = s.incidentJSON(inc, now)
	}
	m := map[string]any{
		"id": e.ID, "type": string(e.Type) + "_log_entry", "summary": summary,
		"self":          s.URL + "/log_entries/" + e.ID + "?incident_id=" + inc.ID,
		"html_url":      "https://flywheel-demo.pagerduty.com/incidents/" + inc.ID + "/log_entries/" + e.ID,
		"created_at":    stamp(e.At, inc.Number+idx),
		"agent":         agent,
		"channel":       channel,
		"service":       s.serviceRef(inc.ServiceID),
		"incident":      incident,
		"teams":         []any{},
		"contexts":      []any{},
		"event_details": map[string]any{},
	}
	switch e.Type {
	case LogTrigger:
		m["event_details"] = map[string]any{"description": inc.Title}
	case LogAcknowledge:
		m["acknowledgement_timeout"] = 1800
	case LogAssign:
		m["assignees"] = []any{agent}
	}
	return m
}
