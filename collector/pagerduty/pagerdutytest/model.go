// Package pagerdutytest is a simulated PagerDuty REST API v2 for tests and for
// `flywheel demo`. It holds a plain-data account (services, users, incidents with
// their log) that a generator fills, and serves it on loopback in the shapes of
// the examples PagerDuty publishes (copied to collector/pagerduty/testdata): classic offset pagination with its 10,000 cap,
// the 6-month since/until limit, rate-limit headers and 429s, and fault
// injection, with counters that tests assert.
package pagerdutytest

import (
	"fmt"
	"slices"
	"time"
)

// Account is everything the simulated API knows. Fill it before NewServer or
// change it with Server.Update; the server derives every incident field it
// serves (status, acknowledgements, resolved_at…) from the incident's log, as
// of the server's clock, so events after "now" stay invisible until then.
type Account struct {
	Services  []Service
	Users     []User
	Incidents []*Incident
}

// Service is a PagerDuty service.
type Service struct {
	ID        string
	Name      string
	CreatedAt time.Time
}

// User is a PagerDuty user (an acknowledger, resolver or note author).
type User struct {
	ID   string
	Name string
}

// Priority is an incident priority (served as a priority_reference whose
// summary is the name, as in the published example).
type Priority struct {
	ID   string
	Name string
}

// Incident is one incident. CreatedAt is its trigger time; a trigger log entry
// at CreatedAt is served even if Log has none. Status is not stored: it follows
// from Log.
type Incident struct {
	ID          string
	Number      int
	Title       string
	Description string
	ServiceID   string
	Urgency     string // "high" or "low"
	Priority    *Priority
	CreatedAt   time.Time
	Log         []LogEntry
	Notes       []Note
	// Trigger is how the incident was opened (default: an Events API event);
	// it decides the agent, summary and channel of its trigger log entries.
	Trigger TriggerChannel
	// TriggeredBy is the user who opened a web or REST API trigger.
	TriggeredBy string
	// Details is the free text of a web or REST API trigger: what the
	// responder typed in the form, or the body.details of POST /incidents.
	Details string
	// CustomDetails is the payload.custom_details object of an Events API
	// event, as encoding/json decodes one (string, float64, bool, nil, []any,
	// map[string]any).
	CustomDetails map[string]any
}

// TriggerChannel is how an incident was opened. The channel of its trigger log
// entries follows PagerDuty's published shapes (the Channel schema of the REST
// API's OpenAPI description, PagerDuty/api-schema reference/REST/openapiv3.json,
// #/components/schemas/Channel) and recorded entries (testdata README).
type TriggerChannel string

const (
	// TriggerEvents (the default): a monitoring tool sent an event to the
	// Events API v2. The entry's agent is the service, its summary "Triggered
	// through the API", its channel of type "api" (APIChannel) with the
	// event's custom details as the details object.
	TriggerEvents TriggerChannel = ""
	// TriggerWeb: a responder filled in the web UI's New Incident form. The
	// agent is the user, the summary "Triggered through the website", the
	// channel of type "web_trigger" (WebTriggerChannel) with the title as
	// summary and subject and the typed text as details, a string (null when
	// nothing was typed).
	TriggerWeb TriggerChannel = "web"
	// TriggerREST: someone called POST /incidents. The agent is the user and
	// the summary "Triggered through the website." (as recorded), the channel
	// of type "api" but with body.details as a string, like a web trigger's.
	TriggerREST TriggerChannel = "rest"
)

// LogType is the kind of a log entry, without the "_log_entry" suffix.
type LogType string

// Log entry types the simulator knows. The overview listing (is_overview=true)
// serves trigger, acknowledge, unacknowledge, resolve and annotate entries.
const (
	LogTrigger       LogType = "trigger"
	LogAcknowledge   LogType = "acknowledge"
	LogUnacknowledge LogType = "unacknowledge"
	LogAssign        LogType = "assign"
	LogEscalate      LogType = "escalate"
	LogNotify        LogType = "notify"
	LogAnnotate      LogType = "annotate"
	LogResolve       LogType = "resolve"
)

// overview is the subset served with is_overview=true. PagerDuty documents it
// only as "the most important changes"; this choice is the simulator's.
var overview = map[LogType]bool{
	LogTrigger: true, LogAcknowledge: true, LogUnacknowledge: true, LogResolve: true, LogAnnotate: true,
}

// LogEntry is one entry of an incident's log. ID may be empty (one is derived).
type LogEntry struct {
	ID     string
	Type   LogType
	At     time.Time
	UserID string // agent; empty for the service (trigger) or the system
	// Note is the note text of an annotate entry.
	Note string
}

// Note is an incident note (GET /incidents/{id}/notes).
type Note struct {
	ID      string
	UserID  string
	Content string
	At      time.Time
}

// Acknowledge appends an acknowledge entry by user at t.
func (in *Incident) Acknowledge(t time.Time, userID string) {
	in.Log = append(in.Log, LogEntry{Type: LogAcknowledge, At: t, UserID: userID})
}

// Resolve appends a resolve entry by user at t.
func (in *Incident) Resolve(t time.Time, userID string) {
	in.Log = append(in.Log, LogEntry{Type: LogResolve, At: t, UserID: userID})
}

// AddNote adds a note and its annotate log entry, as PagerDuty does.
func (in *Incident) AddNote(t time.Time, userID, content string) {
	id := fmt.Sprintf("N%s%d", in.ID, len(in.Notes)+1)
	in.Notes = append(in.Notes, Note{ID: id, UserID: userID, Content: content, At: t})
	in.Log = append(in.Log, LogEntry{Type: LogAnnotate, At: t, UserID: userID, Note: content})
}

// entries returns the incident's log as served: a synthesized trigger entry if
// the log has none, ids filled in, sorted by time (stable), up to now.
func (in *Incident) entries(now time.Time) []LogEntry {
	out := make([]LogEntry, 0, len(in.Log)+1)
	hasTrigger := false
	for _, e := range in.Log {
		if e.Type == LogTrigger {
			hasTrigger = true
		}
	}
	if !hasTrigger {
		out = append(out, LogEntry{ID: "R" + in.ID + "T", Type: LogTrigger, At: in.CreatedAt, UserID: in.triggerUser()})
	}
	for i, e := range in.Log {
		if e.ID == "" {
			e.ID = fmt.Sprintf("R%sL%d", in.ID, i+1)
		}
		out = append(out, e)
	}
	slices.SortStableFunc(out, func(a, b LogEntry) int { return a.At.Compare(b.At) })
	n := 0
	for _, e := range out {
		if !e.At.After(now) {
			out[n] = e
			n++
		}
	}
	return out[:n]
}

// triggerUser is the agent of the incident's trigger: the user of a web or
// REST API trigger, none (the service) for an Events API event.
func (in *Incident) triggerUser() string {
	if in.Trigger == TriggerEvents {
		return ""
	}
	return in.TriggeredBy
}

// state is an incident's derived state as of some time.
type state struct {
	status           string
	acks             []LogEntry // current acknowledgements (PagerDuty empties them on resolve)
	assignees        []LogEntry
	lastStatusChange *LogEntry
	resolvedAt       *time.Time
	updatedAt        time.Time
}

func derive(in *Incident, log []LogEntry) state {
	st := state{status: "triggered", updatedAt: in.CreatedAt}
	for i := range log {
		e := log[i]
		if e.At.After(st.updatedAt) {
			st.updatedAt = e.At
		}
		switch e.Type {
		case LogTrigger:
			st.status, st.lastStatusChange = "triggered", &log[i]
		case LogAcknowledge:
			if st.status != "resolved" {
				st.status, st.lastStatusChange = "acknowledged", &log[i]
				st.acks = append(st.acks, e)
			}
		case LogUnacknowledge:
			if st.status == "acknowledged" {
				st.status, st.lastStatusChange = "triggered", &log[i]
				st.acks = nil
			}
		case LogAssign:
			st.assignees = []LogEntry{e}
		case LogResolve:
			st.status, st.lastStatusChange = "resolved", &log[i]
			st.acks, st.assignees = nil, nil
			t := e.At
			st.resolvedAt = &t
		}
	}
	return st
}
