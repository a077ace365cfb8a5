package pagerduty

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/PagerDuty/go-pagerduty"

	"github.com/flywheel-metrics/flywheel"
)

// Log entry types the mapping reads. Real data says acknowledge_log_entry even
// though the OpenAPI schema spells it acknowledgement_log_entry; both are
// accepted.
const (
	typeAcknowledge = "acknowledge_log_entry"
	typeAckSpec     = "acknowledgement_log_entry"
	typeResolve     = "resolve_log_entry"
	typeAnnotate    = "annotate_log_entry"
	typeTrigger     = "trigger_log_entry"
)

// timeLayouts are the shapes PagerDuty timestamps come in: "…Z", "….000Z",
// "…+00:00", "…-05:00", offsets without a colon, and no zone at all
// (analytics), which is read as UTC. Fractional seconds are accepted by every
// layout when parsing.
var timeLayouts = []string{
	time.RFC3339,
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05",
}

// parseTime parses a PagerDuty timestamp into UTC; a time outside the valid
// years (flywheel.TimeInRange) is an error like one that does not parse.
func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			if !flywheel.TimeInRange(t) {
				return time.Time{}, fmt.Errorf("time %q is outside the valid %s", s, flywheel.TimeRangeText)
			}
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("cannot parse time %q", s)
}

// record is one incident as fetched: the incident object, its log entries seen
// so far (all of them, or those of the windows read in this sync) and, when
// they had to be read separately, its notes.
type record struct {
	inc     pagerduty.Incident
	entries []pagerduty.LogEntry
	seen    map[string]bool // entry ids, to merge overlapping listings
	notes   []pagerduty.IncidentNote
	// notesRead is set once notes came from GET /incidents/{id}/notes.
	notesRead bool
}

func newRecord(inc pagerduty.Incident) *record {
	return &record{inc: inc, seen: map[string]bool{}}
}

// add merges log entries, ignoring ones already seen. Of a trigger entry's
// channel it keeps only what scanChannel reads: an event's channel can be
// large (other keys may repeat the custom details), and a sync keeps its
// records until it ends.
func (r *record) add(es ...pagerduty.LogEntry) {
	for _, e := range es {
		if e.ID != "" && r.seen[e.ID] {
			continue
		}
		r.seen[e.ID] = true
		if e.Type == typeTrigger && e.Channel.Raw != nil {
			raw := map[string]any{"type": e.Channel.Type}
			for _, k := range channelKeys {
				if v, ok := e.Channel.Raw[k]; ok {
					raw[k] = v
				}
			}
			e.Channel.Raw = raw
		}
		r.entries = append(r.entries, e)
	}
}

// needsNotes reports whether the log shows notes whose text it does not carry.
func (r *record) needsNotes() bool {
	if r.notesRead {
		return false
	}
	return slices.ContainsFunc(r.entries, func(e pagerduty.LogEntry) bool {
		return e.Type == typeAnnotate && entryNoteText(e) == ""
	})
}

// entryNoteText is the note text an annotate entry carries in its channel
// (summary, or content in some payloads), or "".
func entryNoteText(e pagerduty.LogEntry) string {
	for _, k := range []string{"summary", "content", "notes"} {
		if s, ok := e.Channel.Raw[k].(string); ok && s != "" {
			return s
		}
	}
	return ""
}

// mapIncident turns a fetched incident into a flywheel.Incident:
// triggered = created_at; acknowledged = the first acknowledge log entry;
// resolved = the last resolve log entry — never updated_at. Entries are sorted by
// created_at, not trusted in response order. When the log read so far lacks an
// entry the incident object already shows (a resolved incident whose resolve
// falls in a later window), resolved_at (else last_status_change_at) and
// acknowledgements[] stand in; acknowledgements[] is empty once resolved,
// so an acknowledge time is only ever taken from it while open.
//
// caused-by: and impact-start: lines (flywheel.IncidentNotes) are read from
// the incident's first trigger entry (what the responder typed in the web UI,
// or the custom details of an Events API event), then the description and the
// body, then the notes in time order; the last one wins. An impact start
// without a zone is read in tz; one that does not parse is kept as
// ImpactStartUnparsed.
func mapIncident(r *record, service string, tz *time.Location) (flywheel.Incident, error) {
	inc := r.inc
	out := flywheel.Incident{
		ID:      inc.ID,
		Service: service,
		Urgency: cmp.Or(inc.Urgency, flywheel.UrgencyUnknown),
		Title:   inc.Title,
		Source:  SourceName,
	}
	if p := inc.Priority; p != nil {
		out.Priority = cmp.Or(p.Name, p.Summary)
	}
	var err error
	if out.TriggeredAt, err = parseTime(inc.CreatedAt); err != nil {
		return out, fmt.Errorf("incident %s: created_at: %w", inc.ID, err)
	}
	type timed struct {
		at time.Time
		e  pagerduty.LogEntry
	}
	log := make([]timed, 0, len(r.entries))
	for _, e := range r.entries {
		t, err := parseTime(e.CreatedAt)
		if err != nil {
			return out, fmt.Errorf("incident %s: log entry %s: created_at: %w", inc.ID, e.ID, err)
		}
		log = append(log, timed{t, e})
	}
	slices.SortStableFunc(log, func(a, b timed) int { return a.at.Compare(b.at) })
	var texts []string
	var trigger map[string]any
	resolveLogged := false
	for _, l := range log {
		switch l.e.Type {
		case typeTrigger:
			if trigger == nil || (l.e.ID != "" && l.e.ID == inc.FirstTriggerLogEntry.ID) {
				trigger = l.e.Channel.Raw
			}
		case typeAcknowledge, typeAckSpec:
			if out.AcknowledgedAt.IsZero() {
				out.AcknowledgedAt = l.at
			}
		case typeResolve:
			out.ResolvedAt, resolveLogged = l.at, true
		case typeAnnotate:
			if !r.notesRead {
				texts = append(texts, entryNoteText(l.e))
			}
		}
	}
	if trigger == nil {
		// An incident listed with its first trigger entry in full carries it.
		trigger = inc.FirstTriggerLogEntry.Channel.Raw
	}
	if !resolveLogged && inc.Status == "resolved" {
		fallback := cmp.Or(inc.ResolvedAt, inc.LastStatusChangeAt)
		if fallback != "" {
			if out.ResolvedAt, err = parseTime(fallback); err != nil {
				return out, fmt.Errorf("incident %s: resolved_at: %w", inc.ID, err)
			}
		}
	}
	if out.AcknowledgedAt.IsZero() {
		for _, a := range inc.Acknowledgements {
			t, err := parseTime(a.At)
			if err != nil {
				return out, fmt.Errorf("incident %s: acknowledgements: %w", inc.ID, err)
			}
			if out.AcknowledgedAt.IsZero() || t.Before(out.AcknowledgedAt) {
				out.AcknowledgedAt = t
			}
		}
	}
	if r.notesRead {
		notes := slices.Clone(r.notes)
		slices.SortStableFunc(notes, func(a, b pagerduty.IncidentNote) int {
			ta, _ := parseTime(a.CreatedAt)
			tb, _ := parseTime(b.CreatedAt)
			return ta.Compare(tb)
		})
		for _, n := range notes {
			texts = append(texts, n.Content)
		}
	}
	var notes flywheel.IncidentNotes
	scanChannel(trigger, &notes, tz)
	for _, t := range append([]string{inc.Description, inc.Body.Details}, texts...) {
		notes.Scan(t, tz)
	}
	out.CausedBy, out.StartedAt, out.ImpactStartUnparsed = notes.CausedBy, notes.StartedAt, notes.StartUnparsed
	return out, nil
}

// scanChannel reads the caused-by and impact-start lines of a trigger entry's
// channel. Its shape depends on how the incident was opened: the web UI's
// form puts the title in summary and subject and the typed text in details, a
// string; POST /incidents does the same with type "api"; an Events API event
// puts its custom details there, an object; an e-mail integration the mail's
// subject and body. Strings are scanned line by line; an object is walked.
func scanChannel(ch map[string]any, n *flywheel.IncidentNotes, tz *time.Location) {
	for _, k := range channelKeys {
		switch v := ch[k].(type) {
		case string:
			n.Scan(v, tz)
		case map[string]any, []any:
			if k == "details" {
				walkDetails(v, n, tz, 0)
			}
		}
	}
}

// channelKeys are the keys of a trigger entry's channel that scanChannel
// reads, in order.
var channelKeys = []string{"summary", "subject", "body", "details"}

// maxDetailsDepth bounds the walk of custom details nested in one another.
const maxDetailsDepth = 16

// walkDetails reads custom details as a monitoring tool or a script sends them:
// a caused-by or impact-start key takes its value ({"caused_by": "…"}, also a
// number, as a deployment id may be sent); any other string is scanned for
// lines; objects and arrays are walked, an object's keys in sorted order so
// that the last value read does not depend on the JSON's key order.
func walkDetails(v any, n *flywheel.IncidentNotes, tz *time.Location, depth int) {
	if depth > maxDetailsDepth {
		return
	}
	read := func(key string, v any) {
		switch v := v.(type) {
		case string:
			if key == "" || !n.Field(key, v, tz) {
				n.Scan(v, tz)
			}
		case float64:
			if key != "" {
				n.Field(key, strconv.FormatFloat(v, 'f', -1, 64), tz)
			}
		case map[string]any, []any:
			walkDetails(v, n, tz, depth+1)
		}
	}
	switch v := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(v)) {
			read(k, v[k])
		}
	case []any:
		for _, x := range v {
			read("", x)
		}
	}
}
