package pagerduty_test

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel/collector/pagerduty"
	"github.com/flywheel-metrics/flywheel/collector/pagerduty/pagerdutytest"
)

// triggerCase is one incident opened with a cause or an impact start written
// in its trigger, and what the store must hold for it.
type triggerCase struct {
	name     string
	in       pagerdutytest.Incident // ID, trigger and details; the rest is filled in
	notes    []string               // notes added after the trigger, in order
	causedBy string
	started  time.Time
	unparsed string
}

// berlinSummer is the zone the tests configure for impact starts written
// without one (a fixed offset, so that no time zone database is needed).
var berlinSummer = time.FixedZone("CEST", 2*3600)

func web(text string) pagerdutytest.Incident {
	return pagerdutytest.Incident{Trigger: pagerdutytest.TriggerWeb, TriggeredBy: "PU1", Details: text}
}

func events(details map[string]any) pagerdutytest.Incident {
	return pagerdutytest.Incident{CustomDetails: details}
}

var impact = time.Date(2026, 6, 29, 10, 0, 0, 0, time.UTC)

func triggerCases() []triggerCase {
	return []triggerCase{
		// Web UI: the text a responder typed in the New Incident form.
		{name: "web: sha prefix", in: web("Checkout fails since the 14:00 deploy.\ncaused-by: 3f2a9c1"), causedBy: "3f2a9c1"},
		{name: "web: deployment URL", in: web("caused-by: https://github.com/acme/checkout/deployments/1893"),
			causedBy: "https://github.com/acme/checkout/deployments/1893"},
		{name: "web: Actions run URL", in: web("caused-by: https://github.com/acme/checkout/actions/runs/9912345678/job/1"),
			causedBy: "https://github.com/acme/checkout/actions/runs/9912345678/job/1"},
		{name: "web: commit URL", in: web("caused-by: https://github.com/acme/checkout/commit/3f2a9c1e0b"),
			causedBy: "https://github.com/acme/checkout/commit/3f2a9c1e0b"},
		{name: "web: pull request URL", in: web("caused-by: https://github.com/acme/checkout/pull/42."),
			causedBy: "https://github.com/acme/checkout/pull/42"},
		{name: "web: owner/repo#N", in: web("caused-by: acme/checkout#42"), causedBy: "acme/checkout#42"},
		{name: "web: Markdown bold key and backticks", in: web("**Caused-by:** `3f2a9c1`"), causedBy: "3f2a9c1"},
		{name: "web: Markdown list item and link", in: web("Findings:\n- caused_by: [the deploy](https://github.com/acme/checkout/deployments/1893)\n- more later"),
			causedBy: "https://github.com/acme/checkout/deployments/1893"},
		{name: "web: impact start RFC 3339", in: web("impact-start: 2026-06-29T10:00:00Z"), started: impact},
		{name: "web: impact start with UTC", in: web("impact-start: 2026-06-29 10:00 UTC"), started: impact},
		{name: "web: impact start with an offset", in: web("Impact-Start: 2026-06-29 05:00 -05:00"), started: impact},
		{name: "web: impact start without a zone", in: web("* impact-start: 2026-06-29 12:00"), started: impact},
		{name: "web: impact start that does not parse", in: web("impact-start: yesterday afternoon"), unparsed: "yesterday afternoon"},
		// POST /incidents: body.details, a string too.
		{name: "REST: details string",
			in:       pagerdutytest.Incident{Trigger: pagerdutytest.TriggerREST, TriggeredBy: "PU1", Details: "impact-start: 2026-06-29 12:00:00\r\ncaused-by: d-77"},
			causedBy: "d-77", started: impact},
		// Events API: the custom details object.
		{name: "events: keys", in: events(map[string]any{"caused-by": "3f2a9c1", "impact-start": "2026-06-29T12:00:00+02:00", "host": "web-3"}),
			causedBy: "3f2a9c1", started: impact},
		{name: "events: keys in other spellings, a number", in: events(map[string]any{"Caused_By": 1893.0, "impact start": "2026-06-29 12:00"}),
			causedBy: "1893", started: impact},
		{name: "events: nested", in: events(map[string]any{"deploy": map[string]any{"change": map[string]any{"caused_by": "acme/checkout#42"}},
			"timeline": []any{"alert fired", map[string]any{"impact-start": "2026-06-29 10:00 Z"}}}),
			causedBy: "acme/checkout#42", started: impact},
		{name: "events: lines in a string value", in: events(map[string]any{"firing": "Labels:\n - alertname = HighErrorRate\nAnnotations:\ncaused-by: https://github.com/acme/checkout/deployments/1893\n"}),
			causedBy: "https://github.com/acme/checkout/deployments/1893"},
		{name: "events: impact start that does not parse", in: events(map[string]any{"impact-start": "2026-13-40 25:00"}), unparsed: "2026-13-40 25:00"},
		// Notes come after the trigger: a later line wins.
		{name: "notes override the trigger", in: web("caused-by: 3f2a9c1\nimpact-start: soon"),
			notes:    []string{"Not that one.\ncaused-by: 9d8e7f6", "impact-start: 2026-06-29T10:00:00Z"},
			causedBy: "9d8e7f6", started: impact},
		{name: "a note says none", in: events(map[string]any{"caused-by": "3f2a9c1"}), notes: []string{"caused-by: None"}, causedBy: "none"},
		{name: "nothing said", in: events(map[string]any{"host": "web-3"})},
	}
}

// triggerAccount holds one incident per case on a configured service, each
// acknowledged and resolved, the notes in between.
func triggerAccount(cases []triggerCase) *pagerdutytest.Account {
	acct := &pagerdutytest.Account{
		Services: []pagerdutytest.Service{{ID: "PCHK001", Name: "checkout"}},
		Users:    []pagerdutytest.User{{ID: "PU1", Name: "Ann"}},
	}
	for i, c := range cases {
		in := c.in
		in.ID, in.Number, in.ServiceID, in.Urgency = fmt.Sprintf("QTRG%03d", i), i+1, "PCHK001", "high"
		in.Title = c.name
		in.CreatedAt = t0.Add(-30 * day).Add(time.Duration(i) * time.Hour)
		in.Acknowledge(in.CreatedAt.Add(time.Minute), "PU1")
		for j, n := range c.notes {
			in.AddNote(in.CreatedAt.Add(time.Duration(10+j)*time.Minute), "PU1", n)
		}
		in.Resolve(in.CreatedAt.Add(40*time.Minute), "PU1")
		acct.Incidents = append(acct.Incidents, &in)
	}
	return acct
}

func checkTriggerCases(t *testing.T, e *env, cases []triggerCase) {
	t.Helper()
	got := e.sink.snapshot()
	for i, c := range cases {
		in, ok := got[fmt.Sprintf("QTRG%03d", i)]
		switch {
		case !ok:
			t.Errorf("%s: not stored", c.name)
		case in.CausedBy != c.causedBy || !in.StartedAt.Equal(c.started) || in.ImpactStartUnparsed != c.unparsed:
			t.Errorf("%s: caused-by %q, impact start %v, unparsed %q; want %q, %v, %q",
				c.name, in.CausedBy, in.StartedAt, in.ImpactStartUnparsed, c.causedBy, c.started, c.unparsed)
		}
	}
}

// TestTriggerDetails: what a responder typed when opening an incident in the
// web UI, a script's POST /incidents details and an Events API event's custom
// details reach the stored incident through go-pagerduty, in every form the
// people write them, with the notes read after them.
func TestTriggerDetails(t *testing.T) {
	t.Parallel()
	cases := triggerCases()
	e := newEnv(t, triggerAccount(cases), pagerdutytest.Options{})
	src := e.source(t, func(o *pagerduty.Options) { o.IncidentTimeZone = berlinSummer })
	if err := src.Sync(t.Context(), e.sink, nil); err != nil {
		t.Fatal(err)
	}
	checkTriggerCases(t, e, cases)
}

// TestTriggerDetailsOnReRead: an incident read again on its own (a late note
// on an incident older than the sync) keeps what its trigger said: the
// incident's log is read with the channels' details too.
func TestTriggerDetailsOnReRead(t *testing.T) {
	t.Parallel()
	cases := triggerCases()
	acct := triggerAccount(cases)
	e := newEnv(t, acct, pagerdutytest.Options{})
	src := e.source(t, func(o *pagerduty.Options) { o.IncidentTimeZone = berlinSummer })
	if err := src.Sync(t.Context(), e.sink, nil); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(3 * 24 * time.Hour)
	e.srv.Update(func(a *pagerdutytest.Account) {
		for _, in := range a.Incidents {
			in.AddNote(e.clock.Now().Add(-time.Hour), "PU1", "Postmortem written.")
		}
	})
	e.srv.ResetStats()
	if err := src.Sync(t.Context(), e.sink, nil); err != nil {
		t.Fatal(err)
	}
	if n := e.srv.Stats().Count("GET /incidents/{id}/log_entries", 200); n != len(cases) {
		t.Fatalf("%d incident logs read again, want %d", n, len(cases))
	}
	checkTriggerCases(t, e, cases)
}

// TestTriggerDetailsCostNothing: reading the triggers' details adds no
// request: a first sync of the same incidents makes the same requests, route
// by route, whether their triggers say anything or not.
func TestTriggerDetailsCostNothing(t *testing.T) {
	t.Parallel()
	cases := triggerCases()
	requests := func(acct *pagerdutytest.Account) map[string]map[int]int {
		e := newEnv(t, acct, pagerdutytest.Options{RateLimitPerMinute: -1})
		if err := e.source(t).Sync(t.Context(), e.sink, nil); err != nil {
			t.Fatal(err)
		}
		if n := len(e.sink.snapshot()); n != len(cases) {
			t.Fatalf("%d incidents stored, want %d", n, len(cases))
		}
		return e.srv.Stats().Requests
	}
	with := triggerAccount(cases)
	silent := triggerAccount(cases)
	for _, in := range silent.Incidents {
		in.Trigger, in.Details, in.CustomDetails = pagerdutytest.TriggerEvents, "", nil
	}
	a, b := requests(with), requests(silent)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("with trigger details %v, without %v", a, b)
	}
	// The notes carry their text in the log: only the log and the listing.
	if routes := slices.Sorted(maps.Keys(a)); !reflect.DeepEqual(routes, []string{"GET /incidents", "GET /log_entries"}) {
		t.Errorf("routes %v", routes)
	}
}
