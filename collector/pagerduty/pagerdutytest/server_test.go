package pagerdutytest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PagerDuty/go-pagerduty"
)

var t0 = time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)

func account() *Account {
	a := &Account{
		Services: []Service{{ID: "PSVC1", Name: "Checkout", CreatedAt: t0.Add(-1000 * time.Hour)}},
		Users:    []User{{ID: "PUSR1", Name: "Ann"}},
	}
	for i := range 30 {
		in := &Incident{ID: "PINC" + string(rune('A'+i)), Number: i + 1, Title: "fire", ServiceID: "PSVC1",
			Urgency: "high", CreatedAt: t0.Add(-time.Duration(30-i) * time.Hour)}
		if i%2 == 0 {
			in.Acknowledge(in.CreatedAt.Add(5*time.Minute), "PUSR1")
		}
		if i%3 == 0 {
			in.Resolve(in.CreatedAt.Add(20*time.Minute), "PUSR1")
		}
		a.Incidents = append(a.Incidents, in)
	}
	// One incident in the future of the server's clock: invisible.
	a.Incidents = append(a.Incidents, &Incident{ID: "PLATER", Number: 99, ServiceID: "PSVC1", CreatedAt: t0.Add(time.Hour)})
	return a
}

func start(t *testing.T, a *Account, o Options) (*Server, *pagerduty.Client) {
	t.Helper()
	o.Token = "key"
	if o.Now == nil {
		o.Now = func() time.Time { return t0 }
	}
	s := NewServer(a, o)
	t.Cleanup(s.Close)
	return s, pagerduty.NewClient("key", pagerduty.WithAPIEndpoint(s.URL))
}

func TestIncidentsDecodeAndDerive(t *testing.T) {
	t.Parallel()
	s, c := start(t, account(), Options{})
	ctx := context.Background()
	var all []pagerduty.Incident
	for off := uint(0); ; off += 7 {
		r, err := c.ListIncidentsWithContext(ctx, pagerduty.ListIncidentsOptions{
			Limit: 7, Offset: off, Since: t0.Add(-48 * time.Hour).Format(time.RFC3339), Until: t0.Format(time.RFC3339),
		})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, r.Incidents...)
		if !r.More {
			break
		}
	}
	if len(all) != 30 {
		t.Fatalf("%d incidents, want 30 (the future one hidden)", len(all))
	}
	for i, in := range all {
		want := "triggered"
		switch {
		case i%3 == 0:
			want = "resolved"
		case i%2 == 0:
			want = "acknowledged"
		}
		if in.Status != want {
			t.Errorf("%s status %q, want %q", in.ID, in.Status, want)
		}
		// Pitfall 9: acknowledgements[] is emptied once resolved.
		if hasAcks := len(in.Acknowledgements) > 0; hasAcks != (want == "acknowledged") {
			t.Errorf("%s (%s) acknowledgements %v", in.ID, want, in.Acknowledgements)
		}
		if (in.ResolvedAt != "") != (want == "resolved") {
			t.Errorf("%s (%s) resolved_at %q", in.ID, want, in.ResolvedAt)
		}
	}
	// Timestamps come in several shapes.
	shapes := map[string]bool{}
	for _, in := range all {
		switch {
		case strings.HasSuffix(in.CreatedAt, ".000Z"):
			shapes["fraction"] = true
		case strings.HasSuffix(in.CreatedAt, "Z"):
			shapes["Z"] = true
		case strings.HasSuffix(in.CreatedAt, "+00:00"):
			shapes["+00:00"] = true
		case strings.HasSuffix(in.CreatedAt, "-05:00"):
			shapes["-05:00"] = true
		}
	}
	if len(shapes) != 4 {
		t.Errorf("created_at shapes %v, want 4", shapes)
	}
	got, err := c.GetIncidentWithContext(ctx, "PINCA")
	if err != nil || got.ID != "PINCA" || got.Service.ID != "PSVC1" {
		t.Errorf("get incident: %+v, %v", got, err)
	}
	if _, err := c.GetIncidentWithContext(ctx, "PLATER"); !isStatus(err, 404) {
		t.Errorf("future incident: %v", err)
	}
	if st := s.Stats(); st.Count("GET /incidents", 200) != 5 || st.Count("GET /incidents/{id}", 404) != 1 {
		t.Errorf("stats %v", st.Requests)
	}
}

func isStatus(err error, code int) bool {
	var ae pagerduty.APIError
	return errors.As(err, &ae) && ae.StatusCode == code
}

func TestLimits(t *testing.T) {
	t.Parallel()
	_, c := start(t, account(), Options{PaginationCap: 20})
	ctx := context.Background()
	// offset+limit may not pass the cap.
	_, err := c.ListIncidentsWithContext(ctx, pagerduty.ListIncidentsOptions{Limit: 10, Offset: 10})
	if err != nil {
		t.Errorf("offset+limit = cap: %v", err)
	}
	_, err = c.ListIncidentsWithContext(ctx, pagerduty.ListIncidentsOptions{Limit: 10, Offset: 11})
	if !isStatus(err, 400) {
		t.Errorf("offset+limit over the cap: %v", err)
	}
	_, err = c.ListLogEntriesWithContext(ctx, pagerduty.ListLogEntriesOptions{Limit: 25})
	if !isStatus(err, 400) {
		t.Errorf("log entries over the cap: %v", err)
	}
	_, err = c.ListIncidentsWithContext(ctx, pagerduty.ListIncidentsOptions{
		Since: "2026-01-01T00:00:00Z", Until: "2026-07-02T00:00:00Z"})
	if !isStatus(err, 400) {
		t.Errorf("range over 6 months: %v", err)
	}
	r, err := c.ListIncidentsWithContext(ctx, pagerduty.ListIncidentsOptions{DateRange: "all", Total: true, Limit: 5})
	if err != nil || r.Total != 30 || !r.More || len(r.Incidents) != 5 {
		t.Errorf("date_range=all total: %+v, %v", r, err)
	}
}

func TestAuthAndHeaders(t *testing.T) {
	t.Parallel()
	s, _ := start(t, account(), Options{RateLimitPerMinute: 2})
	get := func(auth, accept string) *http.Response {
		req, _ := http.NewRequest("GET", s.URL+"/services", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		req.Header.Set("Accept", accept)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	const v2 = "application/vnd.pagerduty+json;version=2"
	if r := get("", v2); r.StatusCode != 401 {
		t.Errorf("no token: %d", r.StatusCode)
	}
	if r := get("Token token=nope", v2); r.StatusCode != 401 {
		t.Errorf("wrong token: %d", r.StatusCode)
	}
	if r := get("Token token=key", "application/json"); r.StatusCode != 400 {
		t.Errorf("wrong Accept: %d", r.StatusCode)
	}
	for i, want := range []int{200, 200, 429} {
		r := get("Token token=key", v2)
		if r.StatusCode != want || r.Header.Get("Content-Type") != "application/json" ||
			r.Header.Get("ratelimit-limit") != "2" || r.Header.Get("ratelimit-reset") != "60" {
			t.Errorf("request %d: %d %v", i, r.StatusCode, r.Header)
		}
	}
}

func TestLogEntriesAndNotes(t *testing.T) {
	t.Parallel()
	a := account()
	in := a.Incidents[0] // acknowledged and resolved
	in.Log = append(in.Log, LogEntry{Type: LogNotify, At: in.CreatedAt.Add(time.Minute), UserID: "PUSR1"})
	in.AddNote(in.CreatedAt.Add(10*time.Minute), "PUSR1", "caused-by: abc1234")
	_, c := start(t, a, Options{OmitNoteText: true})
	ctx := context.Background()
	full, err := c.ListIncidentLogEntriesWithContext(ctx, in.ID, pagerduty.ListIncidentLogEntriesOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ov, err := c.ListIncidentLogEntriesWithContext(ctx, in.ID, pagerduty.ListIncidentLogEntriesOptions{IsOverview: true})
	if err != nil {
		t.Fatal(err)
	}
	types := func(es []pagerduty.LogEntry) []string {
		var out []string
		for _, e := range es {
			out = append(out, e.Type)
		}
		return out
	}
	// Newest first.
	if got, want := types(full.LogEntries), []string{"resolve_log_entry", "annotate_log_entry", "acknowledge_log_entry", "notify_log_entry", "trigger_log_entry"}; !slices.Equal(got, want) {
		t.Errorf("log %v, want %v", got, want)
	}
	if got := types(ov.LogEntries); slices.Contains(got, "notify_log_entry") || len(got) != 4 {
		t.Errorf("overview %v", got)
	}
	for _, e := range ov.LogEntries {
		if e.Type == "annotate_log_entry" && e.Channel.Raw["summary"] != nil {
			t.Errorf("note text served although OmitNoteText: %v", e.Channel.Raw)
		}
	}
	notes, err := c.ListIncidentNotesWithContext(ctx, in.ID)
	if err != nil || len(notes) != 1 || notes[0].Content != "caused-by: abc1234" {
		t.Errorf("notes %+v, %v", notes, err)
	}
	acct, err := c.ListLogEntriesWithContext(ctx, pagerduty.ListLogEntriesOptions{
		Since: in.CreatedAt.Format(time.RFC3339), Until: in.CreatedAt.Add(time.Hour).Format(time.RFC3339),
		IsOverview: true, Includes: []string{"incidents"}, Limit: 100,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range acct.LogEntries {
		if e.Incident.ID == in.ID && e.Incident.Status != "resolved" {
			t.Errorf("include[]=incidents: incident %+v", e.Incident)
		}
	}
}

func TestFault(t *testing.T) {
	t.Parallel()
	s, c := start(t, account(), Options{})
	s.SetFault(func(r *http.Request) *Fault {
		if r.URL.Path == "/services" {
			return &Fault{Status: 502, Body: "<html>bad gateway</html>"}
		}
		return nil
	})
	if _, err := c.ListServicesWithContext(context.Background(), pagerduty.ListServiceOptions{}); !isStatus(err, 502) {
		t.Errorf("fault: %v", err)
	}
	if st := s.Stats(); st.Count("GET /services", 502) != 1 || st.Total != 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestShapesMatchFixtures checks that every key of the published examples is
// served (values may differ).
func TestShapesMatchFixtures(t *testing.T) {
	t.Parallel()
	a := account()
	a.Incidents[0].Priority = &Priority{ID: "PPRIO", Name: "P2"}
	s, _ := start(t, a, Options{})
	get := func(path string) obj {
		req, _ := http.NewRequest("GET", s.URL+path, nil)
		req.Header.Set("Authorization", "Token token=key")
		req.Header.Set("Accept", "application/vnd.pagerduty+json;version=2")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m obj
		if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	fixture := func(name string, path ...any) map[string]any {
		raw, err := os.ReadFile(filepath.Join("..", "testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatal(err)
		}
		for _, p := range path {
			switch p := p.(type) {
			case string:
				v = v.(map[string]any)[p]
			case int:
				v = v.([]any)[p]
			}
		}
		return v.(map[string]any)
	}
	body := []any{"interactions", 0, "response", "body"}
	checks := []struct {
		name      string
		fixture   map[string]any
		served    obj
		unchecked []string
	}{
		{"incident", fixture("incidents.list.json", append(body, "incidents", 0)...),
			get("/incidents?limit=1").get("incidents", 0), nil},
		{"incident list", fixture("incidents.list.json", body...), get("/incidents?limit=1"), nil},
		{"trigger entry", fixture("incidents.log_entries.json", append(body, "log_entries", 0)...),
			get("/incidents/PINCA/log_entries").get("log_entries", 2), nil},
		{"acknowledge entry", fixture("webhook_v2.incident_acknowledge.json", "payload", "messages", 0, "log_entries", 0),
			get("/incidents/PINCA/log_entries").get("log_entries", 1), nil},
		{"resolve entry", fixture("webhook_v2.incident_resolve.spec_example.json", "payload", "log_entries", 0),
			get("/incidents/PINCA/log_entries").get("log_entries", 0), nil},
		{"service", fixture("services.list.json", append(body, "services", 0)...),
			get("/services").get("services", 0), nil},
	}
	for _, c := range checks {
		for k := range c.fixture {
			if _, ok := c.served[k]; !ok && !slices.Contains(c.unchecked, k) {
				t.Errorf("%s: key %q of the fixture is not served", c.name, k)
			}
		}
	}
}

type obj map[string]any

func (m obj) get(key string, i int) obj { return m[key].([]any)[i].(map[string]any) }

// TestLogEntriesIncludeIncidents: include[]=incidents embeds each entry's
// incident as GET /incidents/{id} serves it (as of now, not as of the entry);
// OverviewWithoutTrigger and IgnoreInclude deviate as documented.
func TestLogEntriesIncludeIncidents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	opts := pagerduty.ListLogEntriesOptions{Since: t0.Add(-48 * time.Hour).Format(time.RFC3339),
		Until: t0.Format(time.RFC3339), IsOverview: true, Includes: []string{"incidents"}, Limit: 100}
	_, c := start(t, account(), Options{})
	r, err := c.ListLogEntriesWithContext(ctx, opts)
	if err != nil || len(r.LogEntries) == 0 {
		t.Fatalf("%v, %d entries", err, len(r.LogEntries))
	}
	for _, e := range r.LogEntries {
		inc, err := c.GetIncidentWithContext(ctx, e.Incident.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(e.Incident, *inc) {
			t.Fatalf("entry %s embeds\n%+v\nGET /incidents/{id} serves\n%+v", e.ID, e.Incident, *inc)
		}
	}
	types := func(o Options) (triggers, full int) {
		_, c := start(t, account(), o)
		r, err := c.ListLogEntriesWithContext(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range r.LogEntries {
			if e.Type == "trigger_log_entry" {
				triggers++
			}
			if e.Incident.CreatedAt != "" {
				full++
			}
		}
		return triggers, full
	}
	if tr, full := types(Options{}); tr != 30 || full != len(r.LogEntries) {
		t.Errorf("%d trigger entries, %d of %d full incidents", tr, full, len(r.LogEntries))
	}
	if tr, _ := types(Options{OverviewWithoutTrigger: true}); tr != 0 {
		t.Errorf("OverviewWithoutTrigger: %d trigger entries", tr)
	}
	if _, full := types(Options{IgnoreInclude: true}); full != 0 {
		t.Errorf("IgnoreInclude: %d full incidents", full)
	}
}
