package ghclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/collector"
	"github.com/flywheel-metrics/flywheel/collector/github/githubtest"
	"github.com/flywheel-metrics/flywheel/internal/dnstest"
)

// fakeClock records sleeps and advances its time by them; nothing really sleeps.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	return nil
}

func (c *fakeClock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// fixture is one recorded interaction of GitHub's API (../testdata/README.md
// names their origins).
type fixture struct {
	Request struct {
		Method  string            `json:"method"`
		URL     string            `json:"url"`
		Headers map[string]string `json:"headers"`
	} `json:"request"`
	Response struct {
		Status  int             `json:"status"`
		Headers map[string]any  `json:"headers"`
		Body    json.RawMessage `json:"body"`
	} `json:"response"`
}

func loadFixture(t *testing.T, name string) []fixture {
	t.Helper()
	b, err := os.ReadFile("../testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Interactions []fixture `json:"interactions"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("fixture %s: %v", name, err)
	}
	return f.Interactions
}

// write replays a recorded response (headers case-insensitively, body as recorded).
func (f fixture) write(w http.ResponseWriter, extra map[string]string) {
	for k, v := range f.Response.Headers {
		switch strings.ToLower(k) {
		case "status", "content-length", "transfer-encoding", "content-encoding":
			continue
		}
		switch x := v.(type) {
		case string:
			w.Header().Set(k, x)
		case []any:
			for _, s := range x {
				w.Header().Add(k, fmt.Sprint(s))
			}
		}
	}
	for k, v := range extra {
		w.Header().Set(k, v)
	}
	w.WriteHeader(f.Response.Status)
	if f.Response.Status != http.StatusNotModified && len(f.Response.Body) > 0 {
		_, _ = w.Write(f.Response.Body)
	}
}

type setup struct {
	clock  *fakeClock
	client *Client
	srv    *httptest.Server
	logs   *bytes.Buffer
	hits   atomic.Int64
}

func newSetup(t *testing.T, h http.HandlerFunc, mod func(*Options)) *setup {
	t.Helper()
	s := &setup{clock: newFakeClock(), logs: &bytes.Buffer{}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		h(w, r)
	}))
	t.Cleanup(s.srv.Close)
	opts := Options{
		BaseURL: s.srv.URL + "/api/v3/",
		Token:   "ghp_secretTOKEN123",
		Clock:   s.clock,
		Rand:    func() float64 { return 0.5 },
		Logger:  slog.New(slog.NewTextHandler(s.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if mod != nil {
		mod(&opts)
	}
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	s.client = c
	return s
}

func (s *setup) getRepo(t *testing.T) (*github.Repository, *github.Response, error) {
	t.Helper()
	return s.client.REST.Repositories.Get(context.Background(), "acme", "checkout")
}

func okRepo(w http.ResponseWriter, extra map[string]string) {
	for k, v := range extra {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write([]byte(`{"id":1,"name":"checkout","full_name":"acme/checkout"}`))
}

func assertNoSecret(t *testing.T, s *setup, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), "ghp_secretTOKEN123") {
		t.Errorf("token in error: %v", err)
	}
	if strings.Contains(s.logs.String(), "ghp_secretTOKEN123") {
		t.Errorf("token in logs: %s", s.logs.String())
	}
}

func TestPrimaryLimitSpentWaitsUntilReset(t *testing.T) {
	rec := loadFixture(t, "error.rate_limit.primary_403.json")[1] // 403, remaining 0
	var reset time.Time
	var s *setup
	s = newSetup(t, func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("Authorization"); got != "Bearer ghp_secretTOKEN123" {
			t.Errorf("Authorization = %q", got)
		}
		if s.hits.Load() == 1 {
			// The recording has no reset header; GitHub sends one today.
			rec.write(w, map[string]string{"X-RateLimit-Reset": strconv.FormatInt(reset.Unix(), 10)})
			return
		}
		okRepo(w, map[string]string{"X-RateLimit-Remaining": "59", "X-RateLimit-Limit": "60"})
	}, nil)
	reset = s.clock.Now().Add(37*time.Minute + 12*time.Second)
	repo, _, err := s.getRepo(t)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if repo.GetFullName() != "acme/checkout" {
		t.Errorf("repo = %q", repo.GetFullName())
	}
	want := reset.Sub(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)) + time.Second
	if got := s.clock.Sleeps(); len(got) != 1 || got[0] != want {
		t.Errorf("sleeps = %v, want [%v] (reset − now + 1s)", got, want)
	}
	st := s.client.Stats()
	if st.Requests[403] != 1 || st.Requests[200] != 1 || st.Retries != 1 {
		t.Errorf("stats = %+v", st)
	}
	if st.RateLimits["core"].Remaining != 59 {
		t.Errorf("core remaining = %+v", st.RateLimits)
	}
	assertNoSecret(t, s, err)
}

func TestSpentBudgetOnSuccessWaitsBeforeNextRequest(t *testing.T) {
	rec := loadFixture(t, "error.rate_limit.primary_403.json")[0] // 200 with remaining 0
	var reset time.Time
	var s *setup
	s = newSetup(t, func(w http.ResponseWriter, r *http.Request) {
		if s.hits.Load() == 1 {
			rec.write(w, map[string]string{"X-RateLimit-Reset": strconv.FormatInt(reset.Unix(), 10)})
			return
		}
		if now := s.clock.Now(); now.Before(reset) {
			t.Errorf("second request sent at %v, before reset %v", now, reset)
		}
		okRepo(w, map[string]string{"X-RateLimit-Remaining": "60", "X-RateLimit-Limit": "60"})
	}, nil)
	reset = s.clock.Now().Add(10 * time.Minute)
	ctx := context.Background()
	if _, _, err := s.client.REST.Users.Get(ctx, "jacquev6"); err != nil {
		t.Fatalf("first: %v", err)
	}
	// go-github v60 would refuse this call by wall-clock time without the transport's
	// X-From-Cache marking; the transport waits on the fake clock instead.
	if _, _, err := s.getRepo(t); err != nil {
		t.Fatalf("second: %v", err)
	}
	if got := s.clock.Sleeps(); len(got) != 1 || got[0] != 10*time.Minute+time.Second {
		t.Errorf("sleeps = %v, want [10m1s]", got)
	}
	if s.hits.Load() != 2 {
		t.Errorf("server saw %d requests, want 2", s.hits.Load())
	}
}

// TestPrimaryLimitWithoutResetBacksOff replays the recording as is: 403 with
// remaining 0 but no x-ratelimit-reset (2013). Without a reset time the client backs
// off like a secondary limit instead of waiting forever or not at all.
func TestPrimaryLimitWithoutResetBacksOff(t *testing.T) {
	rec := loadFixture(t, "error.rate_limit.primary_403.json")[1]
	if got := sleepsAfter(t, func(w http.ResponseWriter) { rec.write(w, nil) }); len(got) != 1 || got[0] != 75*time.Second {
		t.Errorf("sleeps = %v, want [1m15s]", got)
	}
}

func TestSecondaryLimitHonoursRetryAfter(t *testing.T) {
	rec := loadFixture(t, "error.rate_limit.secondary_403.json")[1] // 403, Retry-After: 60, abuse message
	if got := sleepsAfter(t, func(w http.ResponseWriter) { rec.write(w, nil) }); len(got) != 1 || got[0] != 60*time.Second {
		t.Errorf("sleeps = %v, want [1m0s]", got)
	}
}

// sleepsAfter answers a repository GET with first, then with the repository,
// and returns the waits the client made in between.
func sleepsAfter(t *testing.T, first func(http.ResponseWriter)) []time.Duration {
	t.Helper()
	var s *setup
	s = newSetup(t, func(w http.ResponseWriter, r *http.Request) {
		if s.hits.Load() == 1 {
			first(w)
			return
		}
		okRepo(w, nil)
	}, nil)
	if _, _, err := s.getRepo(t); err != nil {
		t.Fatal(err)
	}
	return s.clock.Sleeps()
}

const secondaryBody = `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`

func TestSecondaryLimitWithoutRetryAfterBacksOff(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    float64
	}{{"no jitter", 0}, {"max jitter", 0.999}} {
		t.Run(tc.name, func(t *testing.T) {
			var s *setup
			s = newSetup(t, func(w http.ResponseWriter, r *http.Request) {
				if s.hits.Load() <= 3 {
					w.Header().Set("X-RateLimit-Remaining", "4000")
					w.Header().Set("X-RateLimit-Limit", "5000")
					w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(s.clock.Now().Add(time.Hour).Unix(), 10))
					w.WriteHeader(http.StatusForbidden)
					_, _ = w.Write([]byte(secondaryBody))
					return
				}
				okRepo(w, nil)
			}, func(o *Options) { o.Rand = func() float64 { return tc.r } })
			if _, _, err := s.getRepo(t); err != nil {
				t.Fatal(err)
			}
			got := s.clock.Sleeps()
			if len(got) != 3 {
				t.Fatalf("sleeps = %v, want 3", got)
			}
			for i, d := range got {
				lo := time.Minute << i
				hi := lo + lo/2
				if d < lo || d >= hi {
					t.Errorf("sleep %d = %v, want in [%v, %v)", i, d, lo, hi)
				}
			}
		})
	}
}

// TestSecondaryLimitWithoutRetryAfterAgainstServer: the simulated API refuses
// past its burst with GitHub's secondary-limit answer and no Retry-After, and
// every request during its three-minute cool-down restarts it. The client
// waits a minute, then twice as long each time (1m, 2m, 4m on the injected
// clock, jitter off), so its third retry lands after a quiet cool-down; a
// client retrying every minute would never get through.
func TestSecondaryLimitWithoutRetryAfterAgainstServer(t *testing.T) {
	for _, status := range []int{http.StatusForbidden, http.StatusTooManyRequests} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			clock := newFakeClock()
			srv := githubtest.NewServer(&githubtest.Org{Name: "acme", Repos: []*githubtest.Repo{{Owner: "acme", Name: "checkout", CreatedAt: clock.Now()}}},
				githubtest.Options{Now: clock.Now, SecondaryLimit: &githubtest.SecondaryLimit{
					Requests: 1, Per: time.Minute, Cooldown: 3 * time.Minute, Status: status}})
			t.Cleanup(srv.Close)
			c, err := New(Options{BaseURL: srv.RESTBaseURL(), Clock: clock, Rand: func() float64 { return 0 },
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			for i := 0; i < 2; i++ {
				if _, _, err := c.REST.Repositories.Get(ctx, "acme", "checkout"); err != nil {
					t.Fatalf("request %d: %v", i+1, err)
				}
			}
			want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute}
			if got := clock.Sleeps(); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("waits = %v, want %v", got, want)
			}
			if n := srv.Requests().Count("GET /repos/{owner}/{repo}", status); n != 3 {
				t.Errorf("server refused %d requests, want 3", n)
			}
			if st := c.Stats(); st.Retries != 3 {
				t.Errorf("retries = %d, want 3", st.Retries)
			}
		})
	}
}

func Test429Variants(t *testing.T) {
	now := newFakeClock().Now()
	for _, tc := range []struct {
		name    string
		headers map[string]string
		body    string
		want    time.Duration
	}{
		{"retry-after", map[string]string{"Retry-After": "5"}, `{"message":"Too Many Requests"}`, 5 * time.Second},
		// an HTTP-date is read against the injected clock, not the wall clock
		{"retry-after date", map[string]string{"Retry-After": now.Add(2 * time.Minute).Format(http.TimeFormat)},
			`{"message":"Too Many Requests"}`, 2 * time.Minute},
		{"retry-after date past", map[string]string{"Retry-After": now.Add(-time.Minute).Format(http.TimeFormat)},
			`{"message":"Too Many Requests"}`, 0},
		{"primary spent", map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Limit": "5000",
			"X-RateLimit-Reset": strconv.FormatInt(now.Add(90*time.Second).Unix(), 10)}, `{"message":"API rate limit exceeded"}`, 91 * time.Second},
		{"bare", nil, ``, 75 * time.Second}, // 60s backoff + 0.5 × 50% jitter
		{"secondary wording", nil, secondaryBody, 75 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := sleepsAfter(t, func(w http.ResponseWriter) {
				for k, v := range tc.headers {
					w.Header().Set(k, v)
				}
				w.WriteHeader(http.StatusTooManyRequests)
				_, _ = w.Write([]byte(tc.body))
			})
			if len(got) != 1 || got[0] != tc.want {
				t.Errorf("sleeps = %v, want [%v]", got, tc.want)
			}
		})
	}
}

func TestServerErrorRetriedThenSuccess(t *testing.T) {
	var s *setup
	s = newSetup(t, func(w http.ResponseWriter, r *http.Request) {
		switch s.hits.Load() {
		case 1:
			http.Error(w, `{"message":"Bad Gateway"}`, http.StatusBadGateway)
		case 2:
			http.Error(w, `{"message":"Service Unavailable"}`, http.StatusServiceUnavailable)
		default:
			okRepo(w, nil)
		}
	}, nil)
	if _, _, err := s.getRepo(t); err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{1250 * time.Millisecond, 2500 * time.Millisecond} // 1s, 2s plus 0.5 × 50% jitter
	if got := s.clock.Sleeps(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("sleeps = %v, want %v", got, want)
	}
}

func TestServerErrorExhausted(t *testing.T) {
	s := newSetup(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte(`{"message":"Bad Gateway"}`))
	}, func(o *Options) { o.MaxRetries = 2 })
	_, _, err := s.getRepo(t)
	if err == nil {
		t.Fatal("want error")
	}
	if !strings.Contains(err.Error(), "/repos/acme/checkout") || !strings.Contains(err.Error(), "502") {
		t.Errorf("error %q does not name the URL and status", err)
	}
	if s.hits.Load() != 3 {
		t.Errorf("attempts = %d, want 3 (1 + MaxRetries)", s.hits.Load())
	}
	if n := len(s.clock.Sleeps()); n != 2 {
		t.Errorf("sleeps = %d, want 2", n)
	}
	assertNoSecret(t, s, err)
}

// TestUnresolvableHostNotRetried: a host name that does not exist fails the
// request at once, with an error that says so, REST and GraphQL alike.
func TestUnresolvableHostNotRetried(t *testing.T) {
	clock := newFakeClock()
	dialer := &net.Dialer{Resolver: dnstest.NXDomainResolver(t)}
	var dials atomic.Int64
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return dialer.DialContext(ctx, network, addr)
	}}
	c, err := New(Options{BaseURL: "https://github.acme.example/api/v3/", Token: "ghp_secretTOKEN123", Clock: clock, Transport: tr})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = c.REST.Repositories.Get(context.Background(), "acme", "checkout")
	want := "host github.acme.example does not resolve (check base_url)"
	if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "gave up") {
		t.Fatalf("REST err = %v, want it to contain %q", err, want)
	}
	var out struct{}
	err = c.GraphQL(context.Background(), "query { viewer { login } }", nil, &out)
	if err == nil || !strings.Contains(err.Error(), want) || strings.Count(err.Error(), "github:") != 1 || strings.Count(err.Error(), "/api/graphql") != 1 {
		t.Fatalf("GraphQL err = %v, want one prefix, the URL once, and %q", err, want)
	}
	t.Logf("REST and GraphQL fail with: %v", err)
	if n := dials.Load(); n != 2 {
		t.Errorf("dials = %d, want 2 (one per request, no retry)", n)
	}
	if got := clock.Sleeps(); len(got) != 0 {
		t.Errorf("slept %v before failing", got)
	}
}

func TestTransportErrorRetried(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close() // connection refused from now on
	clock := newFakeClock()
	c, err := New(Options{BaseURL: base + "/", Token: "ghp_secretTOKEN123", Clock: clock, MaxRetries: 3, Rand: func() float64 { return 0 }})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = c.REST.Repositories.Get(context.Background(), "acme", "checkout")
	if err == nil || !strings.Contains(err.Error(), "gave up after 4 attempts") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "ghp_") {
		t.Errorf("token in error: %v", err)
	}
	if got := clock.Sleeps(); fmt.Sprint(got) != "[1s 2s 4s]" {
		t.Errorf("sleeps = %v", got)
	}
	if c.Stats().Requests[0] != 4 {
		t.Errorf("transport errors counted = %v", c.Stats().Requests)
	}
}

func TestEnterpriseWithoutRateLimitHeadersNeverWaits(t *testing.T) {
	var s *setup
	s = newSetup(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v3/repos/acme/private" {
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"message":"Must have admin rights to Repository."}`))
			return
		}
		okRepo(w, nil)
	}, nil)
	for i := 0; i < 5; i++ {
		if _, _, err := s.getRepo(t); err != nil {
			t.Fatal(err)
		}
	}
	_, _, err := s.client.REST.Repositories.Get(context.Background(), "acme", "private")
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response.StatusCode != 403 {
		t.Fatalf("err = %v, want the 403 passed through", err)
	}
	if got := s.clock.Sleeps(); len(got) != 0 {
		t.Errorf("slept %v without any rate-limit header", got)
	}
	st := s.client.Stats()
	if len(st.RateLimits) != 0 {
		t.Errorf("rate limits = %+v, want unknown", st.RateLimits)
	}
	if s.hits.Load() != 6 {
		t.Errorf("hits = %d", s.hits.Load())
	}
}

type mapStore map[string]flywheel.Validator

func (m mapStore) Validator(key string) (flywheel.Validator, bool, error) {
	v, ok := m[key]
	return v, ok, nil
}

func TestConditionalRequest304(t *testing.T) {
	rec := loadFixture(t, "conditional.not_modified_304.json")[0]
	etag := rec.Request.Headers["If-None-Match"]
	lastMod := rec.Request.Headers["If-Modified-Since"]
	store := mapStore{}
	var s *setup
	s = newSetup(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") == etag {
			if r.Header.Get("If-Modified-Since") != lastMod {
				t.Errorf("If-Modified-Since = %q", r.Header.Get("If-Modified-Since"))
			}
			rec.write(w, nil) // 304, empty body, ETag echoed
			return
		}
		okRepo(w, map[string]string{"ETag": etag, "Last-Modified": lastMod})
	}, func(o *Options) { o.Validators = store })
	_, resp, err := s.getRepo(t)
	if err != nil {
		t.Fatal(err)
	}
	v, ok := s.client.ValidatorFor(resp)
	if !ok || v.ETag != etag || v.LastModified != lastMod || v.Key != s.srv.URL+"/api/v3/repos/acme/checkout" {
		t.Fatalf("validator = %+v, %v", v, ok)
	}
	store[v.Key] = v
	_, resp, err = s.getRepo(t)
	if !IsNotModified(err) {
		t.Fatalf("err = %v, want a 304", err)
	}
	if v2, ok := s.client.ValidatorFor(resp); !ok || v2.ETag != etag {
		t.Errorf("validator of the 304 = %+v", v2)
	}
	if IsNotModified(errors.New("x")) || IsNotModified(nil) {
		t.Error("IsNotModified true for a non-304")
	}
	if st := s.client.Stats(); st.Requests[304] != 1 || st.Requests[200] != 1 {
		t.Errorf("requests = %v", st.Requests)
	}
}

func TestInFlightCap(t *testing.T) {
	var cur, peak atomic.Int64
	s := newSetup(t, func(w http.ResponseWriter, r *http.Request) {
		n := cur.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
		cur.Add(-1)
		okRepo(w, nil)
	}, func(o *Options) { o.MaxInFlight = 3 })
	var wg sync.WaitGroup
	errs := make(chan error, 24)
	for i := 0; i < 24; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := s.client.REST.Repositories.Get(context.Background(), "acme", "checkout")
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if p := peak.Load(); p > 3 {
		t.Errorf("peak concurrent requests = %d, cap 3", p)
	}
	if s.hits.Load() != 24 {
		t.Errorf("hits = %d", s.hits.Load())
	}
}

func TestSleepHonoursContext(t *testing.T) {
	var s *setup
	s = newSetup(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(http.StatusTooManyRequests)
	}, func(o *Options) { o.Clock = collector.RealClock{} })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err := s.client.REST.Repositories.Get(ctx, "acme", "checkout")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want deadline exceeded", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Error("sleep ignored the context")
	}
}

func TestGraphQL(t *testing.T) {
	var s *setup
	s = newSetup(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/graphql" {
			t.Errorf("graphql request %s %s", r.Method, r.URL.Path)
		}
		var req struct {
			Query     string         `json:"query"`
			Variables map[string]any `json:"variables"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		w.Header().Set("X-RateLimit-Resource", "graphql")
		w.Header().Set("X-RateLimit-Limit", "5000")
		switch req.Variables["name"] {
		case "limited":
			if s.hits.Load() == 1 {
				w.Header().Set("X-RateLimit-Remaining", "0")
				w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(s.clock.Now().Add(20*time.Minute).Unix(), 10))
				_, _ = w.Write([]byte(`{"errors":[{"type":"RATE_LIMITED","message":"API rate limit exceeded for user ID 1."}]}`))
				return
			}
			w.Header().Set("X-RateLimit-Remaining", "4999")
			_, _ = w.Write([]byte(`{"data":{"rateLimit":{"cost":2},"repository":{"name":"limited"}}}`))
		case "missing":
			w.Header().Set("X-RateLimit-Remaining", "4998")
			_, _ = w.Write([]byte(`{"data":{"rateLimit":{"cost":1},"repository":null},"errors":[{"type":"NOT_FOUND","path":["repository"],"locations":[{"line":1,"column":3}],"message":"Could not resolve to a Repository with the name 'acme/missing'."}]}`))
		default:
			_, _ = w.Write([]byte(`{"data":{`)) // malformed
		}
	}, nil)
	if got := s.client.GraphQLURL(); got != s.srv.URL+"/api/graphql" {
		t.Fatalf("graphql url = %s", got)
	}
	ctx := context.Background()
	var out struct {
		RateLimit  struct{ Cost int }
		Repository *struct{ Name string }
	}
	if err := s.client.GraphQL(ctx, `query{...}`, map[string]any{"name": "limited"}, &out); err != nil {
		t.Fatal(err)
	}
	if out.Repository == nil || out.Repository.Name != "limited" {
		t.Errorf("data = %+v", out)
	}
	if got := s.clock.Sleeps(); len(got) != 1 || got[0] != 20*time.Minute+time.Second {
		t.Errorf("sleeps = %v, want [20m1s]", got)
	}
	out.Repository = nil
	err := s.client.GraphQL(ctx, `query{...}`, map[string]any{"name": "missing"}, &out)
	var gerr *GraphQLError
	if !errors.As(err, &gerr) || !gerr.HasType("NOT_FOUND") || !strings.Contains(err.Error(), "acme/missing") {
		t.Fatalf("err = %v", err)
	}
	if out.RateLimit.Cost != 1 {
		t.Errorf("partial data not decoded: %+v", out)
	}
	err = s.client.GraphQL(ctx, `query{...}`, map[string]any{"name": "bad"}, &out)
	if err == nil || !strings.Contains(err.Error(), "malformed response") {
		t.Errorf("malformed: err = %v", err)
	}
	st := s.client.Stats()
	if st.GraphQLPoints != 3 || st.GraphQLQueries != 2 {
		t.Errorf("graphql stats = %+v", st)
	}
	if st.RateLimits["graphql"].Remaining != 4998 {
		t.Errorf("graphql budget = %+v", st.RateLimits)
	}
	assertNoSecret(t, s, err)
}

func TestDeriveGraphQLURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://api.github.com/":           "https://api.github.com/graphql",
		"https://ghe.example.com/api/v3/":   "https://ghe.example.com/api/graphql",
		"http://127.0.0.1:8080/":            "http://127.0.0.1:8080/graphql",
		"http://127.0.0.1:8080/prefix/api/": "http://127.0.0.1:8080/prefix/api/graphql",
	} {
		u, _ := url.Parse(in)
		if got := DeriveGraphQLURL(u); got != want {
			t.Errorf("DeriveGraphQLURL(%s) = %s, want %s", in, got, want)
		}
	}
	if _, err := New(Options{BaseURL: "https://api.github.com"}); err == nil {
		t.Error("base url without trailing slash accepted")
	}
	if _, err := New(Options{App: &AppAuth{AppID: 1, InstallationID: 2, PrivateKey: []byte("not a key")}}); err == nil ||
		strings.Contains(err.Error(), "not a key") {
		t.Errorf("bad app key: %v", err)
	}
}

// TestInFlightSlotsFreedOnErrors: go-github v60 swaps the body of a non-2xx answer
// for a NopCloser before closing it; the slot must still come back.
func TestInFlightSlotsFreedOnErrors(t *testing.T) {
	s := newSetup(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") != "" {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"message":"Not Found"}`))
	}, func(o *Options) { o.MaxInFlight = 1; o.Validators = mapStore{} })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for i := 0; i < 5; i++ {
		if _, _, err := s.client.REST.Repositories.Get(ctx, "acme", "checkout"); err == nil || errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("request %d: %v (slot leaked?)", i, err)
		}
		req, _ := s.client.REST.NewRequest("GET", "repos/acme/checkout", nil)
		req.Header.Set("If-None-Match", `"x"`)
		if _, err := s.client.REST.Do(ctx, req, nil); !IsNotModified(err) {
			t.Fatalf("304 %d: %v (slot leaked?)", i, err)
		}
	}
}

func TestGraphQLSecondaryLimitIn200(t *testing.T) {
	var s *setup
	s = newSetup(t, func(w http.ResponseWriter, r *http.Request) {
		if s.hits.Load() == 1 {
			w.Header().Set("X-RateLimit-Remaining", "4000")
			_, _ = w.Write([]byte(`{"errors":[{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}]}`))
			return
		}
		_, _ = w.Write([]byte(`{"data":{"viewer":{"login":"x"}}}`))
	}, nil)
	var out struct{ Viewer struct{ Login string } }
	if err := s.client.GraphQL(context.Background(), `{viewer{login}}`, nil, &out); err != nil || out.Viewer.Login != "x" {
		t.Fatalf("err %v out %+v", err, out)
	}
	if got := s.clock.Sleeps(); len(got) != 1 || got[0] != 75*time.Second {
		t.Errorf("sleeps = %v, want [1m15s] (60s backoff + jitter)", got)
	}
}

// A query costing more than is left gets RATE_LIMITED while remaining > 0: the
// client still waits for the reset rather than backing off blindly.
func TestGraphQLRateLimitedWithBudgetLeft(t *testing.T) {
	var s *setup
	s = newSetup(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-RateLimit-Resource", "graphql")
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(s.clock.Now().Add(5*time.Minute).Unix(), 10))
		if s.hits.Load() == 1 {
			w.Header().Set("X-RateLimit-Remaining", "2")
			_, _ = w.Write([]byte(`{"errors":[{"type":"RATE_LIMITED","message":"API rate limit exceeded for user ID 1."}]}`))
			return
		}
		w.Header().Set("X-RateLimit-Remaining", "4990")
		_, _ = w.Write([]byte(`{"data":{"viewer":{"login":"x"}}}`))
	}, nil)
	if err := s.client.GraphQL(context.Background(), `{viewer{login}}`, nil, nil); err != nil {
		t.Fatal(err)
	}
	if got := s.clock.Sleeps(); len(got) != 1 || got[0] != 5*time.Minute+time.Second {
		t.Errorf("sleeps = %v, want [5m1s]", got)
	}
}
