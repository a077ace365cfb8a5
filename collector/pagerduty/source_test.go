package pagerduty_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/collector/pagerduty"
	"github.com/flywheel-metrics/flywheel/collector/pagerduty/pagerdutytest"
	"github.com/flywheel-metrics/flywheel/internal/dnstest"
)

const day = 24 * time.Hour

func TestFirstSyncMatchesAccount(t *testing.T) {
	t.Parallel()
	acct := genAccount(1, 400, t0.Add(-300*day), t0.Add(-time.Hour))
	e := newEnv(t, acct, pagerdutytest.Options{})
	p := newProgress()
	if err := e.source(t).Sync(t.Context(), e.sink, p); err != nil {
		t.Fatal(err)
	}
	// The clock moved a little while the limiter spaced requests; nothing in
	// the account happens in that last hour.
	diff(t, e.sink.snapshot(), expected(acct, e.clock.Now(), t0.Add(-365*day)))
	if p.total != 5 || p.done != 5 { // 365 days = 5 windows of ≤ 90 days
		t.Errorf("progress total %d done %d, want 5 and 5 (%v)", p.total, p.done, p.whats)
	}
	st := e.srv.Stats()
	if p.requests[200] != st.Total || !p.rateLimitCalled || p.lim != 960 {
		t.Errorf("progress saw %v requests (server %d), rate limit %d/%d", p.requests, st.Total, p.remaining, p.lim)
	}
	if n := st.Count("GET /incidents/{id}/notes", 0); n != 0 {
		t.Errorf("%d notes requests, want none (annotate entries carry the text)", n)
	}
	if got := e.sink.cursorValues(); len(got) != 1 || got[0] != t0.Format(time.RFC3339Nano) {
		t.Errorf("cursors %v, want [%s]", got, t0.Format(time.RFC3339Nano))
	}
}

func TestIncrementalSync(t *testing.T) {
	t.Parallel()
	acct := genAccount(2, 200, t0.Add(-60*day), t0.Add(-time.Hour))
	// Events yet to happen: new incidents, and the acknowledgement, resolution
	// and a late note of incidents that the first sync stores.
	var open, resolved *pagerdutytest.Incident
	for _, in := range acct.Incidents {
		_, ours := services[in.ServiceID]
		if !ours {
			continue
		}
		isResolved := false
		for _, l := range in.Log {
			isResolved = isResolved || l.Type == pagerdutytest.LogResolve && l.At.Before(t0)
		}
		switch {
		case !isResolved && open == nil && in.CreatedAt.Before(t0.Add(-2*day)):
			open = in
		case isResolved && resolved == nil && in.CreatedAt.Before(t0.Add(-2*day)):
			resolved = in
		}
	}
	if open == nil || resolved == nil {
		t.Fatal("generator made no old open or resolved incident")
	}
	unacked := &pagerdutytest.Incident{ID: "UNACKED", Number: 5000, Title: "still open", ServiceID: "PPAY002",
		Urgency: "low", CreatedAt: t0.Add(-10 * day)}
	acct.Incidents = append(acct.Incidents, unacked)
	e := newEnv(t, acct, pagerdutytest.Options{})
	src := e.source(t)
	if err := src.Sync(t.Context(), e.sink, nil); err != nil {
		t.Fatal(err)
	}
	e.srv.Update(func(a *pagerdutytest.Account) {
		// An entry that shows up later than the overlap: the window's log
		// listing misses it, the open listing shows the incident acknowledged.
		unacked.Acknowledge(t0.Add(-2*time.Hour), "PU1")
		open.Acknowledge(t0.Add(20*time.Minute), "PU2")
		open.Resolve(t0.Add(40*time.Minute), "PU2")
		resolved.AddNote(t0.Add(30*time.Minute), "PU1", "caused-by: late-note")
		for i := range 5 {
			a.Incidents = append(a.Incidents, &pagerdutytest.Incident{
				ID: "NEW" + string(rune('A'+i)), Number: 9000 + i, Title: "new", ServiceID: "PCHK001",
				Urgency: "high", CreatedAt: t0.Add(time.Duration(10+i) * time.Minute),
			})
		}
	})
	e.clock.Advance(time.Hour)
	e.srv.ResetStats()
	if err := src.Sync(t.Context(), e.sink, nil); err != nil {
		t.Fatal(err)
	}
	diff(t, e.sink.snapshot(), expected(acct, e.clock.Now(), t0.Add(-365*day)))
	st := e.srv.Stats()
	// One window of about two hours and one listing of the open incidents;
	// re-read with its log: the open incident that resolved, the one
	// acknowledged late and the resolved one that got a late note — not the
	// open ones that did not change.
	if st.Count("GET /incidents", 0) != 2 || st.Count("GET /log_entries", 0) != 1 ||
		st.Count("GET /incidents/{id}", 0) != 3 || st.Count("GET /incidents/{id}/log_entries", 0) != 3 {
		t.Errorf("incremental requests: %v", st.Requests)
	}
	t.Logf("incremental sync: %d requests %v", st.Total, st.Requests)
	// Idempotent: a third sync changes nothing.
	before := e.sink.snapshot()
	if err := src.Sync(t.Context(), e.sink, nil); err != nil {
		t.Fatal(err)
	}
	diff(t, e.sink.snapshot(), before)
}

func TestWindowOverCapSplits(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		cap     int  // the collector's idea of the cap; 0 = PagerDuty's 10,000
		noTotal bool // the server never reports a total: page by "more"
	}{
		{"cap known: total on the first page", 100, false},
		{"cap found by hitting it: 400 past the cap", 0, false},
		{"no total: paging by more reaches the cap", 100, true},
		{"no total, cap found by hitting it", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// 500 incidents (400 configured) in 20 days: one window, 5× the cap.
			acct := genAccount(3, 500, t0.Add(-20*day), t0.Add(-time.Hour))
			e := newEnv(t, acct, pagerdutytest.Options{PaginationCap: 100, OmitTotal: tc.noTotal})
			src := e.source(t, func(o *pagerduty.Options) {
				o.History = 30 * day
				o.PaginationCap = tc.cap
			})
			if err := src.Sync(t.Context(), e.sink, nil); err != nil {
				t.Fatal(err)
			}
			diff(t, e.sink.snapshot(), expected(acct, e.clock.Now(), t0.Add(-30*day)))
			st := e.srv.Stats()
			bad := st.Count("GET /incidents", 400) + st.Count("GET /log_entries", 400)
			if tc.cap != 0 && bad != 0 {
				t.Errorf("%d requests past the cap although the total was known", bad)
			}
			if tc.cap == 0 && bad == 0 {
				t.Errorf("expected to discover the cap by a 400: %v", st.Requests)
			}
		})
	}
}

func TestPagingByMore(t *testing.T) {
	t.Parallel()
	acct := genAccount(15, 400, t0.Add(-100*day), t0.Add(-time.Hour))
	e := newEnv(t, acct, pagerdutytest.Options{OmitTotal: true})
	if err := e.source(t).Sync(t.Context(), e.sink, nil); err != nil {
		t.Fatal(err)
	}
	diff(t, e.sink.snapshot(), expected(acct, e.clock.Now(), t0.Add(-365*day)))
	if st := e.srv.Stats(); st.Count("GET /log_entries", 200) < 10 {
		t.Errorf("expected several log pages: %v", st.Requests)
	}
}

func TestRateLimited429(t *testing.T) {
	t.Parallel()
	acct := genAccount(4, 150, t0.Add(-100*day), t0.Add(-time.Hour))
	// The server allows 5 requests a minute: the source must wait out every
	// reset (on the fake clock) and still read everything.
	e := newEnv(t, acct, pagerdutytest.Options{RateLimitPerMinute: 5})
	if err := e.source(t).Sync(t.Context(), e.sink, nil); err != nil {
		t.Fatal(err)
	}
	diff(t, e.sink.snapshot(), expected(acct, t0, t0.Add(-365*day)))
	st := e.srv.Stats()
	n429 := 0
	for _, m := range st.Requests {
		n429 += m[429]
	}
	if n429 == 0 {
		t.Fatalf("no 429 answered: %v", st.Requests)
	}
	if ok := st.Total - n429; e.clock.slept < time.Duration(ok/5-1)*time.Minute {
		t.Errorf("%d requests admitted but only slept %v: resets not honoured", ok, e.clock.slept)
	}
}

func TestRateLimitGivesUp(t *testing.T) {
	t.Parallel()
	e := newEnv(t, genAccount(5, 10, t0.Add(-10*day), t0), pagerdutytest.Options{})
	e.srv.SetFault(func(*http.Request) *pagerdutytest.Fault {
		return &pagerdutytest.Fault{Status: 429, Header: http.Header{
			"Content-Type": {"application/json"}, "Ratelimit-Reset": {"7"}},
			Body: `{"error":{"message":"Rate Limit Exceeded","code":2020}}`}
	})
	err := e.source(t, func(o *pagerduty.Options) { o.History = 20 * day }).Sync(t.Context(), e.sink, nil)
	if err == nil || !strings.Contains(err.Error(), "429 Too Many Requests: Rate Limit Exceeded") {
		t.Fatalf("err = %v", err)
	}
	var ce *pagerduty.CallError
	if !errors.As(err, &ce) || ce.StatusCode != 429 {
		t.Errorf("not a CallError with status 429: %#v", err)
	}
	if e.clock.slept < 7*time.Second*10 {
		t.Errorf("slept %v, want ≥ 10 × 7 s resets", e.clock.slept)
	}
}

func TestServerErrors(t *testing.T) {
	t.Parallel()
	t.Run("retried", func(t *testing.T) {
		t.Parallel()
		acct := genAccount(6, 50, t0.Add(-30*day), t0.Add(-time.Hour))
		e := newEnv(t, acct, pagerdutytest.Options{})
		var n atomic.Int32
		e.srv.SetFault(func(r *http.Request) *pagerdutytest.Fault {
			if r.URL.Path == "/log_entries" && n.Add(1) <= 2 {
				return &pagerdutytest.Fault{Status: 502, Body: "<html>Bad Gateway</html>"}
			}
			return nil
		})
		p := newProgress()
		var logs strings.Builder
		src := e.source(t, func(o *pagerduty.Options) {
			o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		})
		if err := src.Sync(t.Context(), e.sink, p); err != nil {
			t.Fatal(err)
		}
		diff(t, e.sink.snapshot(), expected(acct, t0, t0.Add(-365*day)))
		if p.requests[502] != 2 {
			t.Errorf("progress saw %v", p.requests)
		}
		if !strings.Contains(logs.String(), "retrying") || strings.Contains(logs.String(), "read-only-key") {
			t.Errorf("log (must show the retries, never the token):\n%s", logs.String())
		}
	})
	t.Run("persistent", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, genAccount(7, 50, t0.Add(-30*day), t0.Add(-time.Hour)), pagerdutytest.Options{})
		e.srv.SetFault(func(r *http.Request) *pagerdutytest.Fault {
			if r.URL.Path == "/incidents" {
				return &pagerdutytest.Fault{Status: 502, Body: "<html>Bad Gateway</html>"}
			}
			return nil
		})
		e.clock.t = time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)
		err := e.source(t, func(o *pagerduty.Options) { o.History = 89 * day }).Sync(t.Context(), e.sink, nil)
		const want = "pagerduty: list incidents 2026-01-01..2026-03-30: 502 Bad Gateway"
		if err == nil || err.Error() != want {
			t.Fatalf("err = %v, want %s", err, want)
		}
		if len(e.sink.snapshot()) != 0 || len(e.sink.cursorValues()) != 0 {
			t.Error("something was stored")
		}
		if got := e.srv.Stats().Count("GET /incidents", 502); got != 4 {
			t.Errorf("%d attempts, want 1 + 3 retries", got)
		}
	})
}

// TestUnresolvableHostFailsAtOnce: a host name that does not exist is not
// retried; the error says what to check.
func TestUnresolvableHostFailsAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, genAccount(9, 10, t0.Add(-30*day), t0.Add(-time.Hour)), pagerdutytest.Options{})
	dialer := &net.Dialer{Resolver: dnstest.NXDomainResolver(t)}
	var dials atomic.Int32
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return dialer.DialContext(ctx, network, addr)
	}}}
	p := newProgress()
	err := e.source(t, func(o *pagerduty.Options) {
		o.BaseURL = "https://pagerduty.acme.example"
		o.HTTPClient = client
	}).Sync(t.Context(), e.sink, p)
	const want = "host pagerduty.acme.example does not resolve (check base_url)"
	if err == nil || !strings.HasPrefix(err.Error(), "pagerduty: list ") || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want it to contain %q", err, want)
	}
	t.Log(err)
	if e.clock.slept >= time.Second {
		t.Errorf("slept %v before failing: more than the request budget's spacing", e.clock.slept)
	}
	// the first window's incidents and log entries are listed concurrently:
	// one attempt each, no retry
	if n := dials.Load(); n > 2 || p.requests[0] != int(n) {
		t.Errorf("%d dials and %d transport errors, want one per listing", n, p.requests[0])
	}
}

func TestMalformedBody(t *testing.T) {
	t.Parallel()
	acct := genAccount(8, 300, t0.Add(-200*day), t0.Add(-time.Hour))
	e := newEnv(t, acct, pagerdutytest.Options{})
	src := e.source(t)
	// A first sync stores the older windows; then the log listing of the last
	// window answers garbage.
	if err := src.Sync(t.Context(), e.sink, nil); err != nil {
		t.Fatal(err)
	}
	before, cursor := e.sink.snapshot(), e.sink.cursorValues()
	e.clock.Advance(2 * time.Hour)
	e.srv.Update(func(a *pagerdutytest.Account) {
		a.Incidents = append(a.Incidents, &pagerdutytest.Incident{ID: "NEWX", Number: 9999, Title: "new",
			ServiceID: "PCHK001", Urgency: "high", CreatedAt: t0.Add(time.Hour)})
	})
	e.srv.SetFault(func(r *http.Request) *pagerdutytest.Fault {
		if r.URL.Path == "/log_entries" {
			return &pagerdutytest.Fault{Status: 200, Header: http.Header{"Content-Type": {"application/json"}},
				Body: `{"log_entries":[{"id":"X","type":"trigger_log_entry",`}
		}
		return nil
	})
	err := src.Sync(t.Context(), e.sink, nil)
	if err == nil || !strings.HasPrefix(err.Error(), "pagerduty: list log entries ") ||
		!strings.Contains(err.Error(), ": malformed response: ") {
		t.Fatalf("err = %v", err)
	}
	t.Log(err)
	diff(t, e.sink.snapshot(), before)
	if got := e.sink.cursorValues(); len(got) != 1 || got[0] != cursor[0] {
		t.Errorf("cursor moved: %v → %v", cursor, got)
	}
}

func TestKilledSyncResumes(t *testing.T) {
	t.Parallel()
	acct := genAccount(9, 300, t0.Add(-360*day), t0.Add(-time.Hour))
	ref := newEnv(t, acct, pagerdutytest.Options{})
	if err := ref.source(t).Sync(t.Context(), ref.sink, nil); err != nil {
		t.Fatal(err)
	}
	for _, killAt := range []int{1, 3} {
		e := newEnv(t, acct, pagerdutytest.Options{})
		src := e.source(t)
		ctx, cancel := context.WithCancel(t.Context())
		n := 0
		e.sink.before = func(flywheel.Batch) error {
			if n++; n == killAt+1 {
				cancel() // killed while writing the batch after killAt stored ones
				return context.Canceled
			}
			return nil
		}
		if err := src.Sync(ctx, e.sink, nil); err == nil {
			t.Fatal("killed sync reported success")
		}
		cancel()
		if got := len(e.sink.snapshot()); got == 0 || got >= len(ref.sink.snapshot()) {
			t.Fatalf("after the kill %d incidents stored, want some but not all %d", got, len(ref.sink.snapshot()))
		}
		e.sink.before = nil
		e.clock.Advance(10 * time.Minute)
		if err := src.Sync(t.Context(), e.sink, nil); err != nil {
			t.Fatal(err)
		}
		diff(t, e.sink.snapshot(), ref.sink.snapshot())
		t.Logf("kill after batch %d: %d requests in all (uninterrupted: %d)", killAt, e.srv.Stats().Total, ref.srv.Stats().Total)
	}
}

func TestNotesReadOnlyWhenTheLogLacksTheirText(t *testing.T) {
	t.Parallel()
	acct := genAccount(10, 300, t0.Add(-100*day), t0.Add(-time.Hour))
	e := newEnv(t, acct, pagerdutytest.Options{OmitNoteText: true})
	if err := e.source(t).Sync(t.Context(), e.sink, nil); err != nil {
		t.Fatal(err)
	}
	diff(t, e.sink.snapshot(), expected(acct, t0, t0.Add(-365*day)))
	annotated := 0
	for _, in := range acct.Incidents {
		if _, ok := services[in.ServiceID]; ok && len(in.Notes) > 0 {
			annotated++
		}
	}
	if got := e.srv.Stats().Count("GET /incidents/{id}/notes", 200); got != annotated {
		t.Errorf("%d notes requests, want one per annotated incident (%d)", got, annotated)
	}
}

func TestAddedServiceGetsItsHistory(t *testing.T) {
	t.Parallel()
	acct := genAccount(16, 200, t0.Add(-200*day), t0.Add(-time.Hour))
	e := newEnv(t, acct, pagerdutytest.Options{})
	if err := e.source(t).Sync(t.Context(), e.sink, nil); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Hour)
	more := map[string]string{unconfigured: "other"}
	for k, v := range services {
		more[k] = v
	}
	if err := e.source(t, func(o *pagerduty.Options) { o.Services = more }).Sync(t.Context(), e.sink, nil); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, in := range e.sink.snapshot() {
		if in.Service == "other" {
			n++
		}
	}
	if n != 40 { // every fifth incident
		t.Errorf("%d incidents of the added service, want its whole history (40)", n)
	}
}

func TestManyOpenIncidentsAreReadOneByOne(t *testing.T) {
	t.Parallel()
	acct := &pagerdutytest.Account{Services: []pagerdutytest.Service{{ID: "PCHK001", Name: "checkout"}}}
	for i := range 150 {
		acct.Incidents = append(acct.Incidents, &pagerdutytest.Incident{ID: fmt.Sprintf("O%03d", i), Number: i + 1,
			Title: "open", ServiceID: "PCHK001", Urgency: "high", CreatedAt: t0.Add(-50 * day).Add(time.Duration(i) * time.Hour)})
	}
	e := newEnv(t, acct, pagerdutytest.Options{PaginationCap: 100})
	src := e.source(t, func(o *pagerduty.Options) { o.PaginationCap = 100 })
	if err := src.Sync(t.Context(), e.sink, nil); err != nil {
		t.Fatal(err)
	}
	e.srv.Update(func(*pagerdutytest.Account) { acct.Incidents[7].Resolve(t0.Add(10*time.Minute), "PU1") })
	e.clock.Advance(time.Hour)
	e.srv.ResetStats()
	if err := src.Sync(t.Context(), e.sink, nil); err != nil {
		t.Fatal(err)
	}
	diff(t, e.sink.snapshot(), expected(acct, e.clock.Now(), t0.Add(-365*day)))
	// 150 open incidents do not fit under the cap of 100: each is re-read.
	if n := e.srv.Stats().Count("GET /incidents/{id}", 200); n != 150 {
		t.Errorf("%d incidents re-read, want 150", n)
	}
}

// TestIncompleteLogIsCaught: when the overview log does not yield every
// incident of a window — trigger entries left out of the overview, or
// include[] not honoured — the window's incident listing shows the gap and
// fills it, so nothing is dropped. Without trigger entries in the overview,
// what the triggers said is out of reach (reading each one would cost a
// request per incident); the notes and descriptions still are read.
func TestIncompleteLogIsCaught(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		opts        pagerdutytest.Options
		triggerSeen bool
	}{
		{"overview without trigger entries", pagerdutytest.Options{OverviewWithoutTrigger: true}, false},
		{"include[] ignored", pagerdutytest.Options{IgnoreInclude: true}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// 320 incidents of configured services in the last 3 of 5 windows.
			acct := genAccount(17, 400, t0.Add(-200*day), t0.Add(-time.Hour))
			e := newEnv(t, acct, tc.opts)
			if err := e.source(t).Sync(t.Context(), e.sink, nil); err != nil {
				t.Fatal(err)
			}
			seen := acct
			if !tc.triggerSeen {
				seen = &pagerdutytest.Account{}
				for _, in := range acct.Incidents {
					c := *in
					c.Details, c.CustomDetails = "", nil
					seen.Incidents = append(seen.Incidents, &c)
				}
			}
			diff(t, e.sink.snapshot(), expected(seen, e.clock.Now(), t0.Add(-365*day)))
			// One check page per window, and the windows with incidents listed in full.
			st := e.srv.Stats()
			if n := st.Count("GET /incidents", 200); n < 5+3 {
				t.Errorf("%d incident pages: the windows were not listed in full (%v)", n, st.Requests)
			}
			t.Logf("%d requests %v", st.Total, st.Requests)
		})
	}
}
