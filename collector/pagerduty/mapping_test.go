package pagerduty

import (
	"cmp"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/PagerDuty/go-pagerduty"

	"github.com/flywheel-metrics/flywheel"
)

// fixture decodes part of a testdata file (examples PagerDuty
// publishes, see testdata/README.md)
// selected by pick.
func fixture[T any](t *testing.T, name string, pick func(map[string]json.RawMessage) json.RawMessage) T {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		t.Fatal(err)
	}
	var v T
	if err := json.Unmarshal(pick(top), &v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

func field(raw json.RawMessage, path ...string) json.RawMessage {
	for _, p := range path {
		if strings.HasPrefix(p, "[") { // array index [0]
			var a []json.RawMessage
			if json.Unmarshal(raw, &a) != nil || len(a) == 0 {
				return nil
			}
			raw = a[0]
			continue
		}
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil {
			return nil
		}
		raw = m[p]
	}
	return raw
}

type fixtures struct {
	listed      pagerduty.Incident // incidents.list.json: resolved, acknowledgements: []
	trigger     pagerduty.LogEntry // incidents.log_entries.json
	ackIncident pagerduty.Incident // real v2 webhook: acknowledged incident PRORDTY
	ack         pagerduty.LogEntry // its real acknowledge_log_entry
	resolve     pagerduty.LogEntry // spec example, created_at with +00:00
}

func loadFixtures(t *testing.T) fixtures {
	t.Helper()
	body := func(top map[string]json.RawMessage) json.RawMessage {
		return field(top["interactions"], "[0]", "response", "body")
	}
	return fixtures{
		listed: fixture[pagerduty.Incident](t, "incidents.list.json", func(m map[string]json.RawMessage) json.RawMessage {
			return field(body(m), "incidents", "[0]")
		}),
		trigger: fixture[pagerduty.LogEntry](t, "incidents.log_entries.json", func(m map[string]json.RawMessage) json.RawMessage {
			return field(body(m), "log_entries", "[0]")
		}),
		ackIncident: fixture[pagerduty.Incident](t, "webhook_v2.incident_acknowledge.json", func(m map[string]json.RawMessage) json.RawMessage {
			return field(m["payload"], "messages", "[0]", "incident")
		}),
		ack: fixture[pagerduty.LogEntry](t, "webhook_v2.incident_acknowledge.json", func(m map[string]json.RawMessage) json.RawMessage {
			return field(m["payload"], "messages", "[0]", "log_entries", "[0]")
		}),
		resolve: fixture[pagerduty.LogEntry](t, "webhook_v2.incident_resolve.spec_example.json", func(m map[string]json.RawMessage) json.RawMessage {
			return field(m["payload"], "log_entries", "[0]")
		}),
	}
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func entry(typ, at string) pagerduty.LogEntry {
	var e pagerduty.LogEntry
	e.ID, e.Type, e.CreatedAt = typ+at, typ, at
	return e
}

func note(at, text string) pagerduty.LogEntry {
	e := entry(typeAnnotate, at)
	e.Channel = pagerduty.Channel{Type: "note", Raw: map[string]any{"type": "note", "summary": text}}
	return e
}

func TestMapIncident(t *testing.T) {
	t.Parallel()
	fx := loadFixtures(t)
	withDesc := fx.ackIncident
	withDesc.Description = "Checkout down\ncaused-by: d-41\nimpact-start: 2017-09-26T15:00:00+00:00"
	tests := []struct {
		name    string
		inc     pagerduty.Incident
		entries []pagerduty.LogEntry
		notes   []pagerduty.IncidentNote
		want    flywheel.Incident
	}{
		{
			// Resolved, acknowledgements[] already emptied: no
			// acknowledge time can come from the object; resolved_at stands in
			// while the resolve entry has not been read.
			name: "listed resolved incident without log",
			inc:  fx.listed,
			want: flywheel.Incident{ID: "PT4KHLK", Service: "mail", Urgency: "high", Priority: "P2",
				Title: "The server is on fire.", TriggeredAt: ts("2015-10-06T21:30:42Z"),
				ResolvedAt: ts("2015-10-06T21:38:23Z"), Source: "pagerduty"},
		},
		{
			// The log wins over resolved_at; +00:00 parses.
			name:    "resolve log entry with +00:00 offset",
			inc:     fx.listed,
			entries: []pagerduty.LogEntry{fx.trigger, fx.resolve},
			want: flywheel.Incident{ID: "PT4KHLK", Service: "mail", Urgency: "high", Priority: "P2",
				Title: "The server is on fire.", TriggeredAt: ts("2015-10-06T21:30:42Z"),
				ResolvedAt: ts("2017-09-22T18:37:29Z"), Source: "pagerduty"},
		},
		{
			name:    "real acknowledge log entry, still open",
			inc:     fx.ackIncident,
			entries: []pagerduty.LogEntry{fx.ack},
			want: flywheel.Incident{ID: "PRORDTY", Service: "xdb", Urgency: "high",
				Title: "My new incident", TriggeredAt: ts("2017-09-26T15:14:36Z"),
				AcknowledgedAt: ts("2017-09-26T15:15:17Z"), Source: "pagerduty"},
		},
		{
			name: "acknowledgements[] of an open incident stand in for a missing log",
			inc:  fx.ackIncident,
			want: flywheel.Incident{ID: "PRORDTY", Service: "xdb", Urgency: "high",
				Title: "My new incident", TriggeredAt: ts("2017-09-26T15:14:36Z"),
				AcknowledgedAt: ts("2017-09-26T15:15:17Z"), Source: "pagerduty"},
		},
		{
			// Response order is not trusted: first acknowledge, last resolve.
			name: "several acknowledges and resolves out of order",
			inc:  fx.listed,
			entries: []pagerduty.LogEntry{
				entry(typeResolve, "2015-10-06T23:00:00-01:00"), // 2015-10-07T00:00Z
				entry(typeAcknowledge, "2015-10-06T21:40:00.500Z"),
				entry(typeAcknowledge, "2015-10-06T21:35:00Z"),
				entry("unacknowledge_log_entry", "2015-10-06T21:36:00Z"),
				entry(typeResolve, "2015-10-06T22:00:00Z"),
			},
			want: flywheel.Incident{ID: "PT4KHLK", Service: "mail", Urgency: "high", Priority: "P2",
				Title: "The server is on fire.", TriggeredAt: ts("2015-10-06T21:30:42Z"),
				AcknowledgedAt: ts("2015-10-06T21:35:00Z"), ResolvedAt: ts("2015-10-07T00:00:00Z"),
				Source: "pagerduty"},
		},
		{
			name:    "caused-by and impact-start from the description",
			inc:     withDesc,
			entries: []pagerduty.LogEntry{fx.ack},
			want: flywheel.Incident{ID: "PRORDTY", Service: "xdb", Urgency: "high",
				Title: "My new incident", TriggeredAt: ts("2017-09-26T15:14:36Z"),
				AcknowledgedAt: ts("2017-09-26T15:15:17Z"), StartedAt: ts("2017-09-26T15:00:00Z"),
				CausedBy: "d-41", Source: "pagerduty"},
		},
		{
			// Notes come after the description; the later note wins.
			name: "caused-by from annotate entries overrides the description",
			inc:  withDesc,
			entries: []pagerduty.LogEntry{
				note("2017-09-26T16:00:00Z", "Caused-By: NONE"),
				note("2017-09-26T15:20:00Z", "rolled back\ncaused-by: abc1234 (the config push)"),
			},
			want: flywheel.Incident{ID: "PRORDTY", Service: "xdb", Urgency: "high",
				Title: "My new incident", TriggeredAt: ts("2017-09-26T15:14:36Z"),
				AcknowledgedAt: ts("2017-09-26T15:15:17Z"), StartedAt: ts("2017-09-26T15:00:00Z"),
				CausedBy: "none", Source: "pagerduty"},
		},
		{
			name:    "notes read from the notes endpoint",
			inc:     fx.ackIncident,
			entries: []pagerduty.LogEntry{entry(typeAnnotate, "2017-09-26T15:20:00Z")},
			notes: []pagerduty.IncidentNote{
				{Content: "impact-start: 2017-09-26T15:10:00Z", CreatedAt: "2017-09-26T15:30:00Z"},
				{Content: "caused-by: 0123456789abcdef", CreatedAt: "2017-09-26T15:20:00-05:00"},
			},
			want: flywheel.Incident{ID: "PRORDTY", Service: "xdb", Urgency: "high",
				Title: "My new incident", TriggeredAt: ts("2017-09-26T15:14:36Z"),
				AcknowledgedAt: ts("2017-09-26T15:15:17Z"), StartedAt: ts("2017-09-26T15:10:00Z"),
				CausedBy: "0123456789abcdef", Source: "pagerduty"},
		},
	}
	services := map[string]string{"PIJ90N7": "mail", "PN49J75": "xdb"}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRecord(tc.inc)
			r.add(tc.entries...)
			if tc.notes != nil {
				r.notes, r.notesRead = tc.notes, true
			}
			got, err := mapIncident(r, services[tc.inc.Service.ID], time.UTC)
			if err != nil {
				t.Fatal(err)
			}
			if !equalIncident(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func equalIncident(a, b flywheel.Incident) bool {
	return a.ID == b.ID && a.Service == b.Service && a.Urgency == b.Urgency && a.Priority == b.Priority &&
		a.Title == b.Title && a.StartedAt.Equal(b.StartedAt) && a.TriggeredAt.Equal(b.TriggeredAt) &&
		a.AcknowledgedAt.Equal(b.AcknowledgedAt) && a.ResolvedAt.Equal(b.ResolvedAt) &&
		a.CausedBy == b.CausedBy && a.Source == b.Source && a.ImpactStartUnparsed == b.ImpactStartUnparsed
}

func TestMapIncidentErrors(t *testing.T) {
	t.Parallel()
	fx := loadFixtures(t)
	bad := fx.listed
	bad.CreatedAt = "yesterday"
	if _, err := mapIncident(newRecord(bad), "mail", time.UTC); err == nil || !strings.Contains(err.Error(), `incident PT4KHLK: created_at: cannot parse time "yesterday"`) {
		t.Errorf("bad created_at: %v", err)
	}
	r := newRecord(fx.listed)
	r.add(entry(typeAcknowledge, "2015-13-45T00:00:00Z"))
	if _, err := mapIncident(r, "mail", time.UTC); err == nil || !strings.Contains(err.Error(), "log entry") {
		t.Errorf("bad log time: %v", err)
	}
}

func TestParseTime(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"2015-10-06T21:30:42Z":      "2015-10-06T21:30:42Z",
		"2015-10-06T21:30:42.000Z":  "2015-10-06T21:30:42Z",
		"2015-10-06T21:30:42.250Z":  "2015-10-06T21:30:42.25Z",
		"2017-09-22T18:37:29+00:00": "2017-09-22T18:37:29Z",
		"2015-11-06T11:12:51-05:00": "2015-11-06T16:12:51Z",
		"2015-11-06T11:12:51+0530":  "2015-11-06T05:42:51Z",
		"2023-05-31T10:05:00":       "2023-05-31T10:05:00Z", // analytics: no zone = UTC
		"2023-05-31 10:05:00":       "2023-05-31T10:05:00Z",
	} {
		got, err := parseTime(in)
		if err != nil || !got.Equal(ts(want)) || got.Location() != time.UTC {
			t.Errorf("parseTime(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	// A time outside the valid years is refused like one that does not parse.
	for _, in := range []string{"", "null", "2015-10-06", "10/06/2015 21:30", "9999-01-01T00:00:00Z", "1600-01-01T00:00:00Z"} {
		if _, err := parseTime(in); err == nil {
			t.Errorf("parseTime(%q) succeeded", in)
		}
	}
}

func trigger(id, at string, channel map[string]any) pagerduty.LogEntry {
	e := entry(typeTrigger, at)
	e.ID = id
	e.Channel = pagerduty.Channel{Type: channel["type"].(string), Raw: channel}
	return e
}

// TestMapIncidentTrigger: the first trigger entry's channel is read before the
// description and the notes, in each shape a channel comes in.
func TestMapIncidentTrigger(t *testing.T) {
	t.Parallel()
	fx := loadFixtures(t)
	// A real incident listed with its first trigger entry in full (Port's
	// recording of GET /incidents?include[]=first_trigger_log_entries).
	listedWithTrigger := fixture[[]pagerduty.Incident](t, "incidents.first_trigger_log_entries.trigger_web.port-ocean.json",
		func(m map[string]json.RawMessage) json.RawMessage { return m["payload"] })[0]
	if listedWithTrigger.FirstTriggerLogEntry.Channel.Raw["details"] != "Testing webhook" {
		t.Fatalf("fixture's first trigger channel: %v", listedWithTrigger.FirstTriggerLogEntry.Channel.Raw)
	}
	listedWithTrigger.FirstTriggerLogEntry.Channel.Raw["details"] = "Testing webhook\n- caused-by: `abc1234`"

	inc := fx.ackIncident // description "My new incident", first_trigger_log_entry R2XGXEI3W0FHMSDXHDIBQGBQ5E
	tests := []struct {
		name                        string
		inc                         pagerduty.Incident
		entries                     []pagerduty.LogEntry
		tz                          *time.Location
		causedBy, started, unparsed string
	}{
		{
			name:     "incident object's own first trigger entry",
			inc:      listedWithTrigger,
			causedBy: "abc1234",
		},
		{
			name: "e-mail trigger: subject and body",
			inc:  inc,
			entries: []pagerduty.LogEntry{trigger("R2XGXEI3W0FHMSDXHDIBQGBQ5E", "2017-09-26T15:14:36Z", map[string]any{
				"type": "email", "summary": "checkout down", "subject": "checkout down", "to": "svc@example.pagerduty.com",
				"from": "ann@example.com", "body": "Since the deploy.\r\ncaused-by: https://github.com/acme/checkout/deployments/17\r\n",
				"body_content_type": "text/plain"})},
			causedBy: "https://github.com/acme/checkout/deployments/17",
		},
		{
			name: "the entry named first_trigger_log_entry wins over an earlier one",
			inc:  inc,
			entries: []pagerduty.LogEntry{
				trigger("REARLIER", "2017-09-26T15:14:30Z", map[string]any{"type": "web_trigger", "details": "caused-by: aaaaaaa"}),
				trigger("R2XGXEI3W0FHMSDXHDIBQGBQ5E", "2017-09-26T15:14:36Z", map[string]any{"type": "web_trigger", "details": "caused-by: bbbbbbb"}),
				trigger("RLATER", "2017-09-26T15:20:00Z", map[string]any{"type": "web_trigger", "details": "caused-by: ccccccc"}),
			},
			causedBy: "bbbbbbb",
		},
		{
			name: "without that entry, the earliest trigger",
			inc:  fx.listed, // its first_trigger_log_entry is Q02JTSNZWHSEKV, not in this log
			entries: []pagerduty.LogEntry{
				trigger("RLATER", "2015-10-06T21:40:00Z", map[string]any{"type": "api", "details": map[string]any{"caused_by": "ccccccc"}}),
				trigger("REARLIER", "2015-10-06T21:30:42Z", map[string]any{"type": "api", "details": map[string]any{"caused_by": "aaaaaaa"}}),
			},
			causedBy: "aaaaaaa",
		},
		{
			name: "description, then notes, after the trigger",
			inc: func() pagerduty.Incident {
				i := inc
				i.Description = "impact-start: 2017-09-26 15:00"
				return i
			}(),
			entries: []pagerduty.LogEntry{
				trigger("R2XGXEI3W0FHMSDXHDIBQGBQ5E", "2017-09-26T15:14:36Z", map[string]any{"type": "web_trigger",
					"details": "impact-start: 2017-09-26 14:00\ncaused-by: abc1234"}),
				note("2017-09-26T15:30:00Z", "caused-by: def5678"),
			},
			tz:       time.FixedZone("UTC+2", 2*3600),
			causedBy: "def5678", started: "2017-09-26T13:00:00Z",
		},
		{
			name: "custom details: keys in any spelling, numbers, nested objects and arrays, in key order",
			inc:  inc,
			entries: []pagerduty.LogEntry{trigger("R2XGXEI3W0FHMSDXHDIBQGBQ5E", "2017-09-26T15:14:36Z", map[string]any{"type": "api",
				"summary": "5xx above 2%",
				"details": map[string]any{
					"z-flywheel": map[string]any{"Impact Start": "2017-09-26T14:55:00+02:00"},
					"a-links":    []any{"see runbook", map[string]any{"caused-by": 123456789.0}},
					"caused_by":  "`abc1234`", // after "a-links" and before "z-flywheel"
					"firing":     "Labels:\n - alertname = HighErrorRate\n",
				}})},
			causedBy: "abc1234", started: "2017-09-26T12:55:00Z",
		},
		{
			name: "a deployment id sent as a number",
			inc:  inc,
			entries: []pagerduty.LogEntry{trigger("R2XGXEI3W0FHMSDXHDIBQGBQ5E", "2017-09-26T15:14:36Z", map[string]any{"type": "api",
				"details": map[string]any{"deploy": map[string]any{"caused-by": 1234567890.0}}})},
			causedBy: "1234567890",
		},
		{
			name: "an impact start that does not parse is kept",
			inc:  inc,
			entries: []pagerduty.LogEntry{trigger("R2XGXEI3W0FHMSDXHDIBQGBQ5E", "2017-09-26T15:14:36Z", map[string]any{"type": "api",
				"details": map[string]any{"impact-start": "about 3pm"}})},
			unparsed: "about 3pm",
		},
		{
			name: "null details and a channel without details (no include[]=channels)",
			inc:  inc,
			entries: []pagerduty.LogEntry{
				trigger("R2XGXEI3W0FHMSDXHDIBQGBQ5E", "2017-09-26T15:14:36Z", map[string]any{"type": "web_trigger", "details": nil}),
				trigger("RBARE", "2017-09-26T15:14:37Z", map[string]any{"type": "api"}),
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRecord(tc.inc)
			r.add(tc.entries...)
			got, err := mapIncident(r, "svc", cmp.Or(tc.tz, time.UTC))
			if err != nil {
				t.Fatal(err)
			}
			var started time.Time
			if tc.started != "" {
				started = ts(tc.started)
			}
			if got.CausedBy != tc.causedBy || !got.StartedAt.Equal(started) || got.ImpactStartUnparsed != tc.unparsed {
				t.Errorf("caused-by %q, started %v, unparsed %q; want %q, %v, %q",
					got.CausedBy, got.StartedAt, got.ImpactStartUnparsed, tc.causedBy, started, tc.unparsed)
			}
		})
	}
}

// TestWalkDetailsDepth: custom details nested deeper than the walk goes are
// not read (and do not exhaust the stack).
func TestWalkDetailsDepth(t *testing.T) {
	t.Parallel()
	deep := map[string]any{"caused-by": "deep1"}
	for range maxDetailsDepth + 1 {
		deep = map[string]any{"x": deep}
	}
	shallow := map[string]any{"caused-by": "shallow"}
	for range maxDetailsDepth {
		shallow = map[string]any{"x": shallow}
	}
	var n flywheel.IncidentNotes
	walkDetails(deep, &n, time.UTC, 0)
	if n.CausedBy != "" {
		t.Errorf("read %q beyond depth %d", n.CausedBy, maxDetailsDepth)
	}
	walkDetails(shallow, &n, time.UTC, 0)
	if n.CausedBy != "shallow" {
		t.Errorf("depth %d: %q", maxDetailsDepth, n.CausedBy)
	}
}

// TestRecordTrimsTriggerChannel: a record keeps of a trigger entry's channel
// only what the mapping reads.
func TestRecordTrimsTriggerChannel(t *testing.T) {
	t.Parallel()
	details := map[string]any{"caused-by": "abc1234"}
	r := newRecord(pagerduty.Incident{})
	r.add(trigger("R1", "2026-06-30T10:00:00Z", map[string]any{"type": "api", "summary": "s", "service_key": "k",
		"incident_key": "i", "details": details, "cef_details": map[string]any{"details": details}}))
	want := map[string]any{"type": "api", "summary": "s", "details": details}
	if got := r.entries[0].Channel.Raw; !reflect.DeepEqual(got, want) {
		t.Errorf("kept %v, want %v", got, want)
	}
}
