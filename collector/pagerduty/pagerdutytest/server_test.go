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
		// PagerDuty empties acknowledgements[] once an incident resolves.
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

// TestTriggerChannels: trigger entries carry their channel's details only with
// include[]=channels, in the shapes of the recorded entries (web UI: a string;
// POST /incidents: a string; Events API: the custom details object), and the
// agent and summary of each kind of trigger.
func TestTriggerChannels(t *testing.T) {
	t.Parallel()
	custom := map[string]any{"caused-by": "abc1234", "checks": map[string]any{"failing": 3.0}}
	a := &Account{Services: []Service{{ID: "PSVC1", Name: "Checkout"}}, Users: []User{{ID: "PUSR1", Name: "Ann"}}}
	a.Incidents = []*Incident{
		{ID: "PWEB", Number: 1, Title: "Checkout down", ServiceID: "PSVC1", Urgency: "high", CreatedAt: t0.Add(-3 * time.Hour),
			Trigger: TriggerWeb, TriggeredBy: "PUSR1", Details: "Customers cannot pay.\ncaused-by: abc1234"},
		{ID: "PWEBEMPTY", Number: 2, Title: "Checkout slow", ServiceID: "PSVC1", Urgency: "high", CreatedAt: t0.Add(-2 * time.Hour),
			Trigger: TriggerWeb, TriggeredBy: "PUSR1"},
		{ID: "PREST", Number: 3, Title: "Paged by a script", ServiceID: "PSVC1", Urgency: "low", CreatedAt: t0.Add(-90 * time.Minute),
			Trigger: TriggerREST, TriggeredBy: "PUSR1", Details: "impact-start: 2026-06-30 09:00 UTC"},
		{ID: "PEVT", Number: 4, Title: "5xx above 2%", ServiceID: "PSVC1", Urgency: "high", CreatedAt: t0.Add(-time.Hour),
			CustomDetails: custom},
	}
	_, c := start(t, a, Options{})
	ctx := context.Background()
	triggers := func(channels bool) map[string]pagerduty.LogEntry {
		o := pagerduty.ListLogEntriesOptions{Since: t0.Add(-4 * time.Hour).Format(time.RFC3339), Until: t0.Format(time.RFC3339),
			IsOverview: true, Limit: 100}
		if channels {
			o.Includes = []string{"channels"}
		}
		r, err := c.ListLogEntriesWithContext(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]pagerduty.LogEntry{}
		for _, e := range r.LogEntries {
			if e.Type == "trigger_log_entry" {
				out[e.Incident.ID] = e
			}
		}
		if len(out) != len(a.Incidents) {
			t.Fatalf("%d trigger entries", len(out))
		}
		return out
	}
	bare, full := triggers(false), triggers(true)
	for id, e := range bare {
		if len(e.Channel.Raw) != 1 {
			t.Errorf("%s without include[]=channels: channel %v, want its type alone", id, e.Channel.Raw)
		}
	}
	want := map[string]struct {
		typ, agent, summary string
		details             any
	}{
		"PWEB":      {"web_trigger", "user_reference", "Triggered through the website", "Customers cannot pay.\ncaused-by: abc1234"},
		"PWEBEMPTY": {"web_trigger", "user_reference", "Triggered through the website", nil},
		"PREST":     {"api", "user_reference", "Triggered through the website.", "impact-start: 2026-06-30 09:00 UTC"},
		"PEVT":      {"api", "service_reference", "Triggered through the API", custom},
	}
	for id, w := range want {
		e := full[id]
		if e.Channel.Type != w.typ || bare[id].Channel.Type != w.typ || e.Agent.Type != w.agent || e.Summary != w.summary {
			t.Errorf("%s: channel %q (bare %q), agent %q, summary %q; want %+v", id, e.Channel.Type, bare[id].Channel.Type, e.Agent.Type, e.Summary, w)
		}
		if got, ok := e.Channel.Raw["details"]; !ok || !reflect.DeepEqual(got, w.details) {
			t.Errorf("%s: details %#v (present %v), want %#v", id, got, ok, w.details)
		}
	}
	// The incident's first_trigger_log_entry reference says the same.
	inc, err := c.GetIncidentWithContext(ctx, "PWEB")
	if err != nil || inc.FirstTriggerLogEntry.Summary != "Triggered through the website" || inc.FirstTriggerLogEntry.ID != full["PWEB"].ID {
		t.Errorf("first_trigger_log_entry %+v, %v", inc.FirstTriggerLogEntry, err)
	}
	// The same through GET /incidents/{id}/log_entries.
	r, err := c.ListIncidentLogEntriesWithContext(ctx, "PEVT", pagerduty.ListIncidentLogEntriesOptions{Includes: []string{"channels"}})
	if err != nil || len(r.LogEntries) != 1 || !reflect.DeepEqual(r.LogEntries[0].Channel.Raw["details"], custom) {
		t.Errorf("incident log: %+v, %v", r, err)
	}
}

// TestTriggerChannelShapes: every key of the recorded trigger entries and of
// their channels is served (the webhook-only details_omitted aside), and
// without include[]=channels the channel is what the published examples show.
func TestTriggerChannelShapes(t *testing.T) {
	t.Parallel()
	a := &Account{Services: []Service{{ID: "PSVC1", Name: "Checkout"}}, Users: []User{{ID: "PUSR1", Name: "Ann"}}}
	a.Incidents = []*Incident{
		{ID: "PWEB", Number: 1, Title: "t", ServiceID: "PSVC1", CreatedAt: t0.Add(-3 * time.Hour), Trigger: TriggerWeb, TriggeredBy: "PUSR1", Details: "d"},
		{ID: "PREST", Number: 2, Title: "t", ServiceID: "PSVC1", CreatedAt: t0.Add(-2 * time.Hour), Trigger: TriggerREST, TriggeredBy: "PUSR1", Details: "d"},
		{ID: "PEVT", Number: 3, Title: "t", ServiceID: "PSVC1", CreatedAt: t0.Add(-1 * time.Hour)},
	}
	s, _ := start(t, a, Options{})
	entry := func(id, include string) map[string]any {
		req, _ := http.NewRequest("GET", s.URL+"/incidents/"+id+"/log_entries"+include, nil)
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
		return m.get("log_entries", 0)
	}
	recorded := func(name string, path ...any) map[string]any {
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
	const channels = "?include[]=channels"
	checks := []struct {
		name             string
		recorded, served map[string]any
	}{
		{"web trigger (go-pagerduty webhook payload)", recorded("webhook_v2.incident_trigger.go-pagerduty.json", "payload", "messages", 0, "log_entries", 0),
			entry("PWEB", channels)},
		{"web trigger (Port)", recorded("incidents.first_trigger_log_entries.trigger_web.port-ocean.json", "payload", 0, "first_trigger_log_entry"),
			entry("PWEB", channels)},
		{"REST trigger (Port)", recorded("incidents.first_trigger_log_entries.trigger_rest_api.port-ocean.json", "payload", 0, "first_trigger_log_entry"),
			entry("PREST", channels)},
	}
	for _, c := range checks {
		for k := range c.recorded {
			if _, ok := c.served[k]; !ok {
				t.Errorf("%s: entry key %q is not served", c.name, k)
			}
		}
		rc, sc := c.recorded["channel"].(map[string]any), c.served["channel"].(map[string]any)
		for k := range rc {
			if _, ok := sc[k]; !ok && k != "details_omitted" {
				t.Errorf("%s: channel key %q is not served", c.name, k)
			}
		}
		if rc["type"] != sc["type"] {
			t.Errorf("%s: channel type %v, recorded %v", c.name, sc["type"], rc["type"])
		}
	}
	// Events API: the properties of the APIChannel schema.
	ev := entry("PEVT", channels)["channel"].(map[string]any)
	for _, k := range []string{"type", "summary", "service_key", "description", "incident_key", "details"} {
		if _, ok := ev[k]; !ok {
			t.Errorf("Events API channel lacks %q: %v", k, ev)
		}
	}
	if _, ok := ev["details"].(map[string]any); !ok {
		t.Errorf("Events API details %T, want an object", ev["details"])
	}
	published := recorded("incidents.log_entries.json", "interactions", 0, "response", "body", "log_entries", 0)["channel"]
	if got := entry("PEVT", "")["channel"]; !reflect.DeepEqual(got, published) {
		t.Errorf("without include[]=channels: %v, published example %v", got, published)
	}
}

// TestAbilitiesAndService: GET /abilities and GET /services/{id} in
// go-pagerduty's decoding; an id the account lacks is PagerDuty's 404.
func TestAbilitiesAndService(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, c := start(t, account(), Options{})
	ab, err := c.ListAbilitiesWithContext(ctx)
	if err != nil || !slices.Equal(ab.Abilities, []string{"teams", "read_only_users", "service_support_hours", "urgencies"}) {
		t.Errorf("abilities: %v %v", ab, err)
	}
	_, c = start(t, account(), Options{Abilities: []string{"sso"}})
	if ab, err := c.ListAbilitiesWithContext(ctx); err != nil || !slices.Equal(ab.Abilities, []string{"sso"}) {
		t.Errorf("configured abilities: %v %v", ab, err)
	}
	sv, err := c.GetServiceWithContext(ctx, "PSVC1", nil)
	if err != nil || sv.ID != "PSVC1" || sv.Name != "Checkout" || sv.Status != "active" {
		t.Errorf("service: %+v %v", sv, err)
	}
	_, err = c.GetServiceWithContext(ctx, "PNOPE", nil)
	var ae pagerduty.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 404 || !ae.APIError.Valid || ae.APIError.ErrorObject.Code != 2100 {
		t.Errorf("unknown service: %v", err)
	}
}
