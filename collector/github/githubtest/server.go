package githubtest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configure the simulated server. The zero value is github.com with a
// 5,000/h REST budget, a 5,000 points/h GraphQL budget and GraphQL enabled.
type Options struct {
	// RateLimit is the REST primary budget per hour (default 5000). Requests
	// answered 304 do not consume it, nor does GET /rate_limit.
	RateLimit int
	// GraphQLRateLimit is the GraphQL point budget per hour (default 5000).
	GraphQLRateLimit int
	// DisableGraphQL answers /graphql with 404, as a server without GraphQL.
	DisableGraphQL bool
	// NoRateLimitHeaders sends no x-ratelimit-* headers and enforces no budget, as a
	// GitHub Enterprise Server with rate limiting disabled.
	NoRateLimitHeaders bool
	// PerPageMax caps per_page (default 100, GitHub's maximum).
	PerPageMax int
	// Token, if set, must be presented as "Bearer TOKEN" or "token TOKEN"; other
	// requests get 401 Bad credentials. It may do everything.
	Token string
	// Tokens are further accepted tokens, each with what it may do (see Grant).
	// With Token or Tokens set, an unknown token gets 401.
	Tokens map[string]Grant
	// AppPermissions are the permissions of the App installation tokens the
	// server issues (nil: DefaultAppPermissions).
	AppPermissions map[string]string
	// AppInstallations, if set, are the only installation ids the server
	// issues tokens for; others answer 404 Not Found, as GitHub answers an
	// installation id that is not the App's.
	AppInstallations []int64
	// Now is the server's clock (default time.Now); share a fake clock with the
	// client so that waiting for a reset refills the budget.
	Now func() time.Time
	// SecondaryLimit, if set, enforces a secondary rate limit (see SecondaryLimit).
	SecondaryLimit *SecondaryLimit
}

// SecondaryLimit is a secondary rate limit as GitHub enforces one: more than
// Requests requests (REST or GraphQL; GET /rate_limit is free) within Per on
// the server's clock trip it, and every request is then refused until Cooldown
// has passed. A request sent while refused is refused again and restarts the
// cool-down, as GitHub may hold back a client that keeps sending: only a client
// that waits longer each time gets through. The refusal is GitHub's: Status
// (403 by default, or 429), the documented secondary-limit message, the
// x-ratelimit-* headers with budget left, and Retry-After only when RetryAfter
// is positive (GitHub often sends none).
type SecondaryLimit struct {
	Requests   int
	Per        time.Duration
	Cooldown   time.Duration
	Status     int
	RetryAfter time.Duration
}

// secondaryLimitBody is GitHub's message for a secondary rate limit.
const secondaryLimitBody = `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`

// Fault is an injected response: written instead of the real answer.
type Fault struct {
	Status int
	Header http.Header
	Body   string
}

// RequestKey identifies a counted request: method, route pattern (as registered,
// e.g. "GET /repos/{owner}/{repo}/pulls", or "POST /graphql") and status code.
type RequestKey struct {
	Method string
	Route  string
	Status int
}

// RequestStats are the server's counters since NewServer or Reset.
type RequestStats struct {
	ByKey map[RequestKey]int
	Total int
	// RESTUnits is the REST primary budget consumed (304s and /rate_limit excluded).
	RESTUnits int
	// GraphQLQueries is the number of GraphQL requests; GraphQLPoints the points
	// charged (GitHub's documented cost formula).
	GraphQLQueries int
	GraphQLPoints  int
}

// Count sums the requests for a route pattern (any status if status is 0).
func (s RequestStats) Count(route string, status int) int {
	n := 0
	for k, v := range s.ByKey {
		if k.Route == route && (status == 0 || k.Status == status) {
			n += v
		}
	}
	return n
}

// Status sums the requests answered with a status code.
func (s RequestStats) Status(status int) int {
	n := 0
	for k, v := range s.ByKey {
		if k.Status == status {
			n += v
		}
	}
	return n
}

// Server is the simulated GitHub API. Its methods are safe for concurrent use.
type Server struct {
	*httptest.Server

	opts Options
	mux  *http.ServeMux
	gql  *graphqlEngine

	dataMu sync.RWMutex
	org    *Org
	idx    *index

	mu         sync.Mutex
	stats      RequestStats
	restWindow time.Time
	restUsed   int
	gqlWindow  time.Time
	gqlUsed    int
	fault      func(*http.Request) *Fault
	failAfter  int // requests still passing before failAfterF applies; -1 off
	failAfterF *Fault
	failNext   int
	failNextF  *Fault
	appTokens  map[string]bool
	// Options.SecondaryLimit: the admitted requests within Per, and the end of
	// the cool-down while refusing.
	secondaryRecent []time.Time
	secondaryUntil  time.Time
}

const appTokenRoute = "POST /app/installations/{id}/access_tokens"

// issueAppToken answers GitHub App installation token requests (as
// bradleyfalzon/ghinstallation sends them): a JWT bearer is required; the token
// issued is accepted by the server from then on.
func (s *Server) issueAppToken(w http.ResponseWriter, r *http.Request) {
	a := r.Header.Get("Authorization")
	jwt, ok := strings.CutPrefix(a, "Bearer ")
	if !ok || strings.Count(jwt, ".") != 2 {
		s.count(r.Method, appTokenRoute, http.StatusUnauthorized)
		writeJSONStatus(w, http.StatusUnauthorized, `{"message":"A JSON web token could not be decoded","documentation_url":"https://docs.github.com/rest"}`)
		return
	}
	id := strings.Split(strings.TrimPrefix(r.URL.Path, "/app/installations/"), "/")[0]
	if n, err := strconv.ParseInt(id, 10, 64); s.opts.AppInstallations != nil && (err != nil || !slices.Contains(s.opts.AppInstallations, n)) {
		s.count(r.Method, appTokenRoute, http.StatusNotFound)
		notFound(w)
		return
	}
	tok := "ghs_sim" + id
	s.mu.Lock()
	if s.appTokens == nil {
		s.appTokens = map[string]bool{}
	}
	s.appTokens[tok] = true
	s.mu.Unlock()
	perms, _ := json.Marshal(s.appPermissions())
	body := fmt.Sprintf(`{"token":%q,"expires_at":%q,"permissions":%s,"repository_selection":"all"}`,
		tok, s.opts.Now().Add(time.Hour).UTC().Format(time.RFC3339), perms)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	s.count(r.Method, appTokenRoute, http.StatusCreated)
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write([]byte(body))
}

// NewServer starts a server on 127.0.0.1 serving org. The org is normalised
// (missing IDs, default branch) in place; change it later only through Update.
func NewServer(org *Org, opts Options) *Server {
	if opts.RateLimit <= 0 {
		opts.RateLimit = 5000
	}
	if opts.GraphQLRateLimit <= 0 {
		opts.GraphQLRateLimit = 5000
	}
	if opts.PerPageMax <= 0 {
		opts.PerPageMax = 100
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{opts: opts, org: org, failAfter: -1}
	s.idx = buildIndex(org)
	s.gql = newGraphQLEngine(s)
	s.mux = http.NewServeMux()
	s.routes()
	ts := httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("githubtest: listen on 127.0.0.1: %v", err))
	}
	ts.Listener.Close()
	ts.Listener = l
	ts.Start()
	s.Server = ts
	return s
}

// RESTBaseURL is the REST base for go-github, ending in "/". The same routes are
// also served under /api/v3/ (GitHub Enterprise Server layout).
func (s *Server) RESTBaseURL() string { return s.URL + "/" }

// GraphQLURL is the GraphQL endpoint (also served at /api/graphql).
func (s *Server) GraphQLURL() string { return s.URL + "/graphql" }

// Update runs f on the organisation under the server's write lock, then re-indexes
// it (assigning IDs to new items), so tests can change data between syncs.
func (s *Server) Update(f func(*Org)) {
	s.dataMu.Lock()
	defer s.dataMu.Unlock()
	f(s.org)
	s.idx = buildIndex(s.org)
}

// Requests returns a copy of the request counters.
func (s *Server) Requests() RequestStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.stats
	c.ByKey = make(map[RequestKey]int, len(s.stats.ByKey))
	for k, v := range s.stats.ByKey {
		c.ByKey[k] = v
	}
	return c
}

// Reset zeroes the request counters (not the rate-limit budgets).
func (s *Server) Reset() {
	s.mu.Lock()
	s.stats = RequestStats{}
	s.mu.Unlock()
}

// SetFault installs f (nil removes it): for every request f returns non-nil for, the
// fault is written instead of the real answer.
func (s *Server) SetFault(f func(r *http.Request) *Fault) {
	s.mu.Lock()
	s.fault = f
	s.mu.Unlock()
}

// FailAfter lets the next n requests through and answers every later one with f,
// until ClearFaults.
func (s *Server) FailAfter(n int, f Fault) {
	s.mu.Lock()
	s.failAfter, s.failAfterF = n, &f
	s.mu.Unlock()
}

// FailNext answers the next n requests with f, then serves normally again.
func (s *Server) FailNext(n int, f Fault) {
	s.mu.Lock()
	s.failNext, s.failNextF = n, &f
	s.mu.Unlock()
}

// ClearFaults removes SetFault, FailAfter and FailNext faults.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.fault, s.failAfter, s.failAfterF, s.failNext, s.failNextF = nil, -1, nil, 0, nil
	s.mu.Unlock()
}

// PrimaryLimitFault is GitHub's answer when the primary budget is spent: 403 with
// x-ratelimit-remaining 0 and the reset time.
func PrimaryLimitFault(limit int, reset time.Time) Fault {
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", "0")
	h.Set("X-RateLimit-Used", strconv.Itoa(limit))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	h.Set("X-RateLimit-Resource", "core")
	return Fault{Status: http.StatusForbidden, Header: h,
		Body: `{"message":"API rate limit exceeded for user ID 1.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}`}
}

// SecondaryLimitFault is a secondary-limit answer (status 403 or 429) in GitHub's
// current wording, with Retry-After when retryAfter > 0.
func SecondaryLimitFault(status int, retryAfter time.Duration) Fault {
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=utf-8")
	if retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(int(retryAfter/time.Second)))
	}
	return Fault{Status: status, Header: h, Body: secondaryLimitBody}
}

// secondaryRefused counts a request against Options.SecondaryLimit and reports
// whether it is refused.
func (s *Server) secondaryRefused(route string) bool {
	sl := s.opts.SecondaryLimit
	if sl == nil || route == "GET /rate_limit" {
		return false
	}
	now := s.opts.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Before(s.secondaryUntil) {
		s.secondaryUntil = now.Add(sl.Cooldown)
		return true
	}
	keep := s.secondaryRecent[:0]
	for _, at := range s.secondaryRecent {
		if now.Sub(at) < sl.Per {
			keep = append(keep, at)
		}
	}
	s.secondaryRecent = keep
	if len(keep) >= sl.Requests {
		// The burst is spent; after the cool-down the count starts afresh.
		s.secondaryRecent = s.secondaryRecent[:0]
		s.secondaryUntil = now.Add(sl.Cooldown)
		return true
	}
	s.secondaryRecent = append(s.secondaryRecent, now)
	return false
}

// refuseSecondary writes the secondary-limit answer of Options.SecondaryLimit.
func (s *Server) refuseSecondary(w http.ResponseWriter, method, route string, graphql bool) {
	sl := s.opts.SecondaryLimit
	status := sl.Status
	if status == 0 {
		status = http.StatusForbidden
	}
	h := w.Header()
	s.rateHeaders(h, graphql)
	h.Set("Content-Type", "application/json; charset=utf-8")
	if sl.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(int(sl.RetryAfter/time.Second)))
	}
	s.count(method, route, status)
	w.WriteHeader(status)
	_, _ = w.Write([]byte(secondaryLimitBody))
}

// ServerErrorFault is a 5xx with GitHub's short JSON body.
func ServerErrorFault(status int) Fault {
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=utf-8")
	return Fault{Status: status, Header: h, Body: fmt.Sprintf(`{"message":%q}`, http.StatusText(status))}
}

// MalformedJSONFault is a 200 whose body is cut off mid-document.
func MalformedJSONFault() Fault {
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=utf-8")
	return Fault{Status: http.StatusOK, Header: h, Body: `[{"id": 1, "number": 1, "title": "trunc`}
}

func (s *Server) nextFault(r *http.Request) *Fault {
	s.mu.Lock()
	if s.failNext > 0 {
		s.failNext--
		f := s.failNextF
		s.mu.Unlock()
		return f
	}
	if s.failAfter == 0 {
		f := s.failAfterF
		s.mu.Unlock()
		return f
	}
	if s.failAfter > 0 {
		s.failAfter--
	}
	fn := s.fault
	s.mu.Unlock()
	if fn != nil {
		// Called without the lock, so f may call Requests or Update.
		return fn(r)
	}
	return nil
}

func (s *Server) count(method, route string, status int) {
	s.mu.Lock()
	if s.stats.ByKey == nil {
		s.stats.ByKey = map[RequestKey]int{}
	}
	s.stats.ByKey[RequestKey{method, route, status}]++
	s.stats.Total++
	s.mu.Unlock()
}

// recorder buffers a handler's answer so ETags and budgets can be applied after.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}
func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	r = withOriginalPath(r)
	// GitHub Enterprise Server layout: /api/v3/... and /api/graphql.
	if p, ok := strings.CutPrefix(r.URL.Path, "/api/v3/"); ok {
		r.URL.Path = "/" + p
		r.URL.RawPath = ""
		if rp, ok := strings.CutPrefix(r.URL.EscapedPath(), "/api/v3/"); ok {
			r.URL.RawPath = "/" + rp
		}
	} else if r.URL.Path == "/api/graphql" {
		r.URL.Path = "/graphql"
	}
	_, route := s.mux.Handler(r)
	if route == "" {
		route = "unknown"
	}
	graphql := route == "POST /graphql"
	if route == appTokenRoute {
		s.issueAppToken(w, r)
		return
	}
	if v := r.Header.Get("X-GitHub-Api-Version"); v != "" && v != "2022-11-28" && v != "2026-03-10" {
		s.count(r.Method, route, http.StatusBadRequest)
		writeJSONStatus(w, http.StatusBadRequest, `{"message":"Unsupported 'X-GitHub-Api-Version' header: `+strings.ReplaceAll(v, `"`, "")+`","documentation_url":"https://docs.github.com/rest/overview/api-versions"}`)
		return
	}
	c, ok := s.identify(r)
	if !ok {
		s.count(r.Method, route, http.StatusUnauthorized)
		writeJSONStatus(w, http.StatusUnauthorized, `{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest"}`)
		return
	}
	if !graphql && !s.admit(w, r, route, c) {
		return
	}
	r = withCaller(r, c)
	if s.secondaryRefused(route) {
		s.refuseSecondary(w, r.Method, route, graphql)
		return
	}
	if f := s.nextFault(r); f != nil {
		for k, vs := range f.Header {
			for _, v := range vs {
				w.Header().Add(k, v)
			}
		}
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
		}
		s.count(r.Method, route, f.Status)
		w.WriteHeader(f.Status)
		_, _ = w.Write([]byte(f.Body))
		return
	}
	if graphql {
		if s.opts.DisableGraphQL {
			s.count(r.Method, route, http.StatusNotFound)
			writeJSONStatus(w, http.StatusNotFound, `{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}`)
			return
		}
		s.count(r.Method, route, http.StatusOK)
		s.gql.serveHTTP(w, r)
		return
	}
	rec := &recorder{header: http.Header{}}
	s.dataMu.RLock()
	s.mux.ServeHTTP(rec, r)
	s.dataMu.RUnlock()
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	status := rec.status
	h := w.Header()
	for k, v := range rec.header {
		h[k] = v
	}
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json; charset=utf-8")
	}
	h.Set("X-GitHub-Media-Type", "github.v3; format=json")
	h.Set("X-GitHub-Api-Version-Selected", "2022-11-28")
	if status == http.StatusOK && r.Method == http.MethodGet {
		sum := sha256.Sum256(rec.body.Bytes())
		etag := `W/"` + hex.EncodeToString(sum[:]) + `"`
		h.Set("ETag", etag)
		h.Set("Cache-Control", "private, max-age=60, s-maxage=60")
		if etagMatch(r.Header.Get("If-None-Match"), etag) {
			s.rateHeaders(h, false)
			h.Del("Content-Type")
			s.count(r.Method, route, http.StatusNotModified)
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	if !s.opts.NoRateLimitHeaders && route != "GET /rate_limit" && !s.chargeREST() {
		s.rateHeaders(h, false)
		h.Del("ETag")
		h.Del("Link")
		s.count(r.Method, route, http.StatusForbidden)
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"message":"API rate limit exceeded for user ID 1.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}`))
		return
	}
	s.rateHeaders(h, false)
	s.count(r.Method, route, status)
	w.WriteHeader(status)
	_, _ = w.Write(rec.body.Bytes())
}

func etagMatch(header, etag string) bool {
	if header == "" {
		return false
	}
	weak := func(s string) string { return strings.TrimPrefix(strings.TrimSpace(s), "W/") }
	for _, t := range strings.Split(header, ",") {
		if strings.TrimSpace(t) == "*" || weak(t) == weak(etag) {
			return true
		}
	}
	return false
}

// chargeREST takes one unit of the REST budget, or reports it spent.
func (s *Server) chargeREST() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rollWindows()
	if s.restUsed >= s.opts.RateLimit {
		return false
	}
	s.restUsed++
	s.stats.RESTUnits++
	return true
}

// chargeGraphQL takes cost points of the GraphQL budget, or reports it short.
func (s *Server) chargeGraphQL(cost int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rollWindows()
	s.stats.GraphQLQueries++
	if s.opts.NoRateLimitHeaders {
		s.stats.GraphQLPoints += cost
		return true
	}
	if s.gqlUsed+cost > s.opts.GraphQLRateLimit {
		return false
	}
	s.gqlUsed += cost
	s.stats.GraphQLPoints += cost
	return true
}

// rollWindows starts a new hour of budget when the previous one has passed.
func (s *Server) rollWindows() {
	now := s.opts.Now()
	if s.restWindow.IsZero() || !now.Before(s.restWindow.Add(time.Hour)) {
		s.restWindow, s.restUsed = now.Truncate(time.Second), 0
	}
	if s.gqlWindow.IsZero() || !now.Before(s.gqlWindow.Add(time.Hour)) {
		s.gqlWindow, s.gqlUsed = now.Truncate(time.Second), 0
	}
}

// rateHeaders writes x-ratelimit-* for the core (or graphql) resource.
func (s *Server) rateHeaders(h http.Header, graphql bool) {
	if s.opts.NoRateLimitHeaders {
		return
	}
	s.mu.Lock()
	s.rollWindows()
	limit, used, window, res := s.opts.RateLimit, s.restUsed, s.restWindow, "core"
	if graphql {
		limit, used, window, res = s.opts.GraphQLRateLimit, s.gqlUsed, s.gqlWindow, "graphql"
	}
	s.mu.Unlock()
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(max(limit-used, 0)))
	h.Set("X-RateLimit-Used", strconv.Itoa(used))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(window.Add(time.Hour).Unix(), 10))
	h.Set("X-RateLimit-Resource", res)
}

func writeJSONStatus(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}
