package pagerduty_test

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel/collector/pagerduty"
	"github.com/flywheel-metrics/flywheel/collector/pagerduty/pagerdutytest"
)

func TestNeverOverBudget(t *testing.T) {
	t.Parallel()
	acct := genAccount(11, 600, t0.Add(-300*day), t0.Add(-time.Hour))
	// One request in flight, so the server's clock reads each request at the
	// moment the limiter let it go; the server itself does not limit.
	e := newEnv(t, acct, pagerdutytest.Options{RateLimitPerMinute: -1})
	src := e.source(t, func(o *pagerduty.Options) {
		o.RequestsPerMinute = 10
		o.MaxInFlight = 1
	})
	if err := src.Sync(t.Context(), e.sink, nil); err != nil {
		t.Fatal(err)
	}
	st := e.srv.Stats()
	if st.Total <= 20 {
		t.Fatalf("only %d requests: the budget was never tested", st.Total)
	}
	if st.MaxPerMinute > 10 || st.MaxInFlight > 1 {
		t.Errorf("%d requests in a minute (budget 10), %d in flight (cap 1)", st.MaxPerMinute, st.MaxInFlight)
	}
}

func TestInFlightCap(t *testing.T) {
	t.Parallel()
	acct := genAccount(12, 600, t0.Add(-300*day), t0.Add(-time.Hour))
	e := newEnv(t, acct, pagerdutytest.Options{Latency: 3 * time.Millisecond, RateLimitPerMinute: -1})
	src := e.source(t, func(o *pagerduty.Options) { o.MaxInFlight = 3 })
	if err := src.Sync(t.Context(), e.sink, nil); err != nil {
		t.Fatal(err)
	}
	diff(t, e.sink.snapshot(), expected(acct, e.clock.Now(), t0.Add(-365*day)))
	if st := e.srv.Stats(); st.MaxInFlight > 3 || st.MaxInFlight < 2 {
		t.Errorf("%d requests in flight at most, want 2..3 (cap 3, pages fetched concurrently)", st.MaxInFlight)
	}
}

func TestBudgetIsAtMost900(t *testing.T) {
	t.Parallel()
	acct := genAccount(13, 300, t0.Add(-300*day), t0.Add(-time.Hour))
	e := newEnv(t, acct, pagerdutytest.Options{RateLimitPerMinute: -1})
	src := e.source(t, func(o *pagerduty.Options) {
		o.RequestsPerMinute = 5000
		o.MaxInFlight = 1
	})
	if err := src.Sync(t.Context(), e.sink, nil); err != nil {
		t.Fatal(err)
	}
	// 900 a minute is one request per 1/15 s: the clock must have moved by
	// at least that much per request.
	st := e.srv.Stats()
	if min := time.Duration(st.Total-1) * time.Minute / 900; e.clock.slept < min {
		t.Errorf("%d requests in %v, faster than 900 a minute", st.Total, e.clock.slept)
	}
}

// TestRequestCost measures the requests of a first sync per 100 incidents of
// the configured services (docs/pagerduty.md quotes it):
//
//	go test ./collector/pagerduty -run TestRequestCost -v
func TestRequestCost(t *testing.T) {
	t.Parallel()
	acct := genAccount(14, 1000, t0.Add(-360*day), t0.Add(-time.Hour))
	e := newEnv(t, acct, pagerdutytest.Options{RateLimitPerMinute: -1})
	if err := e.source(t).Sync(t.Context(), e.sink, nil); err != nil {
		t.Fatal(err)
	}
	st := e.srv.Stats()
	ours := len(e.sink.snapshot())
	entries := 0
	for _, in := range acct.Incidents {
		entries += len(in.Log) + 1
	}
	per100 := float64(st.Total) * 100 / float64(ours)
	t.Logf("first sync, 360 days: %d incidents of configured services (%d in the account, %d log entries), %d requests = %.2f per 100 incidents; by route %v",
		ours, len(acct.Incidents), entries, st.Total, per100, st.Requests)
	if per100 > 5 { // 5.50 before the log carried the incidents
		t.Errorf("%.2f requests per 100 incidents", per100)
	}
}

// TestRequestCostFloor measures the cheapest case: every incident on a
// configured service, with exactly a trigger, an acknowledge and a resolve.
func TestRequestCostFloor(t *testing.T) {
	t.Parallel()
	n, requests, per100 := firstSyncCost(t, plainAccount("F", 1000, 8*time.Hour))
	t.Logf("floor: %d incidents, %s = %.2f per 100 incidents", n, requests, per100)
	if per100 > 4 { // 4.70 before the log carried the incidents
		t.Errorf("%.2f requests per 100 incidents", per100)
	}
}

// TestRequestCostLarge is TestRequestCostFloor for 10,000 incidents a year:
// the per-window costs (the check page, the last partial log page) spread
// over more incidents. Skipped with -short and -race:
//
//	go test ./collector/pagerduty -run TestRequestCost -v
func TestRequestCostLarge(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("10,000 incidents: a measurement, run without -short and -race")
	}
	t.Parallel()
	n, requests, per100 := firstSyncCost(t, plainAccount("L", 10000, 50*time.Minute))
	t.Logf("10,000 a year: %d incidents, %s = %.2f per 100 incidents", n, requests, per100)
	if n != 10000 || per100 > 3.3 {
		t.Errorf("%d incidents, %.2f requests per 100 incidents", n, per100)
	}
}

// plainAccount has n incidents of one configured service, every spacing from
// 360 days ago, each with exactly a trigger, an acknowledge and a resolve.
func plainAccount(idPrefix string, n int, spacing time.Duration) *pagerdutytest.Account {
	acct := &pagerdutytest.Account{Services: []pagerdutytest.Service{{ID: "PCHK001", Name: "checkout"}}}
	for i := range n {
		in := &pagerdutytest.Incident{ID: idPrefix + strconv.Itoa(i), Number: i + 1, ServiceID: "PCHK001", Urgency: "high",
			CreatedAt: t0.Add(-360 * day).Add(time.Duration(i) * spacing)}
		in.Acknowledge(in.CreatedAt.Add(time.Minute), "PU1")
		in.Resolve(in.CreatedAt.Add(time.Hour), "PU1")
		acct.Incidents = append(acct.Incidents, in)
	}
	return acct
}

// firstSyncCost runs a first sync of acct and returns the incidents stored,
// the requests made (total and by route, as text) and requests per 100 incidents.
func firstSyncCost(t *testing.T, acct *pagerdutytest.Account) (n int, requests string, per100 float64) {
	t.Helper()
	e := newEnv(t, acct, pagerdutytest.Options{RateLimitPerMinute: -1})
	if err := e.source(t).Sync(t.Context(), e.sink, nil); err != nil {
		t.Fatal(err)
	}
	st := e.srv.Stats()
	n = len(e.sink.snapshot())
	return n, fmt.Sprintf("%d requests (by route %v)", st.Total, st.Requests), float64(st.Total) * 100 / float64(n)
}
