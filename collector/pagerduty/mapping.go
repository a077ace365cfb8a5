package pagerduty

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/PagerDuty/go-pagerduty"

	"github.com/flywheel-metrics/flywheel"
)

// Log entry types the mapping reads. Real data says acknowledge_log_entry even
// though the OpenAPI schema spells it acknowledgement_log_entry (API-NOTES §5.2);
// both are accepted.
const (
	typeAcknowledge = "acknowledge_log_entry"
	typeAckSpec     = "acknowledgement_log_entry"
	typeResolve     = "resolve_log_entry"
	typeAnnotate    = "annotate_log_entry"
)

// timeLayouts are the shapes PagerDuty timestamps come in (API-NOTES pitfall
// 10): "…Z", "….000Z", "…+00:00", "…-05:00", offsets without a colon, and no
// zone at all (analytics), which is read as UTC. Fractional seconds are
// accepted by every layout when parsing.
var timeLayouts = []string{
	time.RFC3339,
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05",
}

// parseTime parses a PagerDuty timestamp into UTC.
func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
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

// add merges log entries, ignoring ones already seen.
func (r *record) add(es ...pagerduty.LogEntry) {
	for _, e := range es {
		if e.ID != "" && r.seen[e.ID] {
			continue
		}
		r.seen[e.ID] = true
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

// mapIncident turns a fetched incident into a flywheel.Incident (SPEC §4.5):
// triggered = created_at; acknowledged = the first acknowledge log entry;
// resolved = the last resolve log entry — never updated_at. Entries are sorted by
// created_at, not trusted in response order. When the log read so far lacks an
// entry the incident object already shows (a resolved incident whose resolve
// falls in a later window), resolved_at (else last_status_change_at) and
// acknowledgements[] stand in; acknowledgements[] is empty once resolved
// (pitfall 9), so an acknowledge time is only ever taken from it while open.
// caused-by: and impact-start: lines are read from the description, the body
// and then the notes in time order; the last one wins.
func mapIncident(r *record, service string) (flywheel.Incident, error) {
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
	resolveLogged := false
	for _, l := range log {
		switch l.e.Type {
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
	texts = append([]string{inc.Description, inc.Body.Details}, texts...)
	for _, t := range texts {
		causedBy, impact := scanLines(t)
		if causedBy != "" {
			out.CausedBy = causedBy
		}
		if !impact.IsZero() {
			out.StartedAt = impact
		}
	}
	return out, nil
}

// scanLines finds the last `caused-by: X` and `impact-start: RFC3339` lines of
// a text (SPEC §4.4, §4.5), as the GitHub source reads issues: the key starts
// the line (after Markdown quote, list or emphasis marks), is case-insensitive,
// and the value is its first word without trailing ".,;". `caused-by: none` in
// any case becomes flywheel.CausedByNone; an impact start that does not parse
// is ignored.
func scanLines(text string) (causedBy string, impact time.Time) {
	for line := range strings.Lines(text) {
		line = strings.TrimLeft(line, " \t>*_-")
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(val)
		if len(f) == 0 {
			continue
		}
		word := strings.TrimRight(f[0], ".,;")
		switch strings.ToLower(key) {
		case "caused-by":
			causedBy = word
			if strings.EqualFold(causedBy, flywheel.CausedByNone) {
				causedBy = flywheel.CausedByNone
			}
		case "impact-start":
			if t, err := parseTime(word); err == nil {
				impact = t
			}
		}
	}
	return causedBy, impact
}
