package flywheel

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// LineError is one rejected line of a neutral-format input.
type LineError struct {
	Line   int
	Reason string
}

func (e LineError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Reason) }

// DecodeError lists the rejected lines of an input; nothing of such an input is
// stored.
type DecodeError struct {
	// Lines are the rejected lines, in line order: every one, or the first
	// DecodeOptions.KeepErrors.
	Lines []LineError
	// Total counts every rejected line, kept in Lines or not.
	Total int
}

// Count is the number of rejected lines: Total, or len(Lines) when Total is
// not set.
func (e *DecodeError) Count() int { return max(e.Total, len(e.Lines)) }

func (e *DecodeError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d invalid line(s), nothing stored", e.Count())
	for _, l := range e.Lines {
		b.WriteString("\n")
		b.WriteString(l.Error())
	}
	if n := e.Count() - len(e.Lines); n > 0 {
		fmt.Fprintf(&b, "\nand %d more", n)
	}
	return b.String()
}

// maxLine bounds one JSON line (16 MiB); a deployment listing thousands of
// commits fits.
const maxLine = 16 << 20

// WarningKind says what a LineWarning is about.
type WarningKind string

// The kinds of warnings: lines that are valid by the format but are probably
// not what their writer meant.
const (
	// WarnDuplicateID: the line replaces an earlier line of the input with the
	// same kind and id.
	WarnDuplicateID WarningKind = "duplicate_id"
	// WarnStatus: a deployment status that reads as success but is not exactly
	// "success", the only one that counts.
	WarnStatus WarningKind = "status"
	// WarnTime: a time before 2000 (a zero Unix time, a typo) or after now.
	WarnTime WarningKind = "time"
	// WarnOrder: two times of a line in an order that cannot happen, such as a
	// change merged before it was opened.
	WarnOrder WarningKind = "order"
)

// LineWarning is one suspicious line of a neutral-format input; the line is
// stored as written.
type LineWarning struct {
	Line   int
	Kind   WarningKind
	Reason string
}

func (w LineWarning) String() string { return fmt.Sprintf("line %d: %s", w.Line, w.Reason) }

// DecodeOptions configure DecodeEventsChecked.
type DecodeOptions struct {
	// Source is recorded on every event whose line names none, for example
	// "import" or "api".
	Source string
	// Now is the time after which a time is in the future; zero: no such
	// check.
	Now time.Time
	// KeepWarnings bounds Decoded.Warnings (zero keeps none); every warning is
	// counted in Decoded.WarningCounts all the same.
	KeepWarnings int
	// KeepErrors, when above zero, bounds DecodeError.Lines; every rejected
	// line is counted in DecodeError.Total all the same. Zero keeps them all.
	KeepErrors int
}

// Decoded is a decoded input: its events, what is suspicious in it and how many
// lines it had.
type Decoded struct {
	Events
	// Lines is the number of lines that held an event (blank lines are not
	// counted).
	Lines int
	// Warnings are the first DecodeOptions.KeepWarnings warnings, in line order.
	Warnings []LineWarning
	// WarningCounts counts every warning by kind.
	WarningCounts map[WarningKind]int
}

// Replaced is the number of lines that replaced an earlier line with the same
// kind and id: Lines minus the events decoded.
func (d Decoded) Replaced() int { return d.WarningCounts[WarnDuplicateID] }

// WarningTotal is the number of warnings of every kind.
func (d Decoded) WarningTotal() int {
	n := 0
	for _, c := range d.WarningCounts {
		n += c
	}
	return n
}

// DecodeEvents reads neutral-format JSON lines: one event a line, of the kinds
// deployment, change and incident. Every line is validated; if any is bad the
// result is a *DecodeError naming each bad line and no events. Within the input
// a later line with the same kind and id replaces an earlier one. source (for
// example "import" or "api") is recorded on every event whose line does not
// name its own "source"; an exported line names the source that collected the
// record, so that a restored record is judged as the original was.
func DecodeEvents(r io.Reader, source string) (Events, error) {
	d, err := DecodeEventsChecked(r, DecodeOptions{Source: source})
	return d.Events, err
}

// earliestPlausible is the start of 2000: an event time before it is far more
// likely a zero Unix time (1970) or a typo than a real event.
var earliestPlausible = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// futureSlack is how far after DecodeOptions.Now a time may be without a
// warning: clocks of the machines that write events differ a little.
const futureSlack = time.Hour

// DecodeEventsChecked is DecodeEvents that also reports the lines that are
// valid by the format but probably wrong, and stores them as written all the
// same: a line that replaces an earlier one with the same id, a deployment
// status that reads as success but is not exactly "success" (it never
// counts), a time before 2000 or more than an hour after o.Now, and times in
// an order that cannot happen (a change merged or reviewed before it was
// opened, an incident acknowledged or resolved before it was triggered, or
// one whose impact started after it was triggered). It does no I/O but
// reading r.
func DecodeEventsChecked(r io.Reader, o DecodeOptions) (Decoded, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var (
		d    = Decoded{WarningCounts: map[WarningKind]int{}}
		bad  []LineError
		nbad int
		line int
		seen = map[Kind]map[string]int{KindDeployment: {}, KindChange: {}, KindIncident: {}}
		at   = map[Kind]map[string]int{KindDeployment: {}, KindChange: {}, KindIncident: {}}
	)
	warn := func(kind WarningKind, reason string) {
		d.WarningCounts[kind]++
		if len(d.Warnings) < o.KeepWarnings {
			d.Warnings = append(d.Warnings, LineWarning{Line: line, Kind: kind, Reason: reason})
		}
	}
	c := checker{now: o.Now, warn: warn, lineOf: at, line: &line}
	for {
		raw, tooLong, err := readLine(br)
		if len(raw) > 0 || err == nil {
			line++
		}
		if tooLong || len(bytes.TrimSpace(raw)) > 0 {
			d.Lines++
			reason := ""
			if tooLong {
				reason = fmt.Sprintf("line longer than %d bytes (16 MiB)", maxLine)
			} else {
				reason = decodeLine(raw, o.Source, &d.Events, seen, &c)
			}
			if reason != "" {
				nbad++
				if o.KeepErrors <= 0 || len(bad) < o.KeepErrors {
					bad = append(bad, LineError{line, reason})
				}
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return Decoded{}, fmt.Errorf("read events: %w", err)
		}
	}
	if nbad > 0 {
		return Decoded{}, &DecodeError{Lines: bad, Total: nbad}
	}
	return d, nil
}

// checker finds what is suspicious in a valid line.
type checker struct {
	now    time.Time
	warn   func(WarningKind, string)
	lineOf map[Kind]map[string]int // the last line of each kind and id
	line   *int
}

// id warns when an earlier line had the same kind and id, and remembers this
// one.
func (c *checker) id(kind Kind, id string) {
	if prev, ok := c.lineOf[kind][id]; ok {
		c.warn(WarnDuplicateID, fmt.Sprintf("replaces line %d, the same %s id %q: the later line is kept", prev, kind, id))
	}
	c.lineOf[kind][id] = *c.line
}

// namedTime is one time field of a line.
type namedTime struct {
	name string
	t    time.Time
}

// times warns of each known time before 2000 or in the future.
func (c *checker) times(ts ...namedTime) {
	for _, f := range ts {
		switch {
		case f.t.IsZero():
		case f.t.Before(earliestPlausible):
			c.warn(WarnTime, fmt.Sprintf("field %q: %s is before 2000 (a zero Unix time or a typo?)", f.name, f.t.Format(time.RFC3339)))
		case !c.now.IsZero() && f.t.After(c.now.Add(futureSlack)):
			c.warn(WarnTime, fmt.Sprintf("field %q: %s is in the future", f.name, f.t.Format(time.RFC3339)))
		}
	}
}

// order warns when the later of two known times comes first.
func (c *checker) order(first, then namedTime, why string) {
	if !first.t.IsZero() && !then.t.IsZero() && then.t.Before(first.t) {
		c.warn(WarnOrder, fmt.Sprintf("%s %s is before %s %s: %s", then.name, then.t.Format(time.RFC3339),
			first.name, first.t.Format(time.RFC3339), why))
	}
}

// status warns of a status that reads as success but does not count.
func (c *checker) status(s string) {
	if s == StatusSuccess {
		return
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case StatusSuccess, "succeeded", "successful":
		c.warn(WarnStatus, fmt.Sprintf(`status %q never counts: only exactly "success" (lower case) does`, s))
	}
}

// readLine reads one line without its end; of a line longer than maxLine it
// keeps only the start, and says so.
func readLine(br *bufio.Reader) (line []byte, tooLong bool, err error) {
	var buf []byte
	n := 0
	for {
		chunk, err := br.ReadSlice('\n')
		n += len(chunk)
		if len(buf)+len(chunk) <= maxLine+2 {
			buf = append(buf, chunk...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		// a line is at most maxLine bytes and its end ("\r\n" at the most); of
		// a longer one buf holds only part
		buf = bytes.TrimRight(buf, "\r\n")
		return buf, n > maxLine+2 || len(buf) > maxLine, err
	}
}

// The line types are both the decoding and the encoding form of the neutral
// format, so that what export writes is exactly what import reads. Their field
// order is the order of the keys in an exported line. Pointers keep an absent
// key apart from an empty value where the difference matters: an absent time is
// unknown, an absent "commits" an unknown range while [] is a known empty one,
// and absent "labels" or "paths" stay nil.
type deploymentLine struct {
	Kind          string    `json:"kind"`
	ID            string    `json:"id"`
	Service       string    `json:"service"`
	Repo          string    `json:"repo,omitempty"`
	Environment   string    `json:"environment,omitempty"`
	SHA           string    `json:"sha,omitempty"`
	FinishedAt    *string   `json:"finished_at,omitempty"`
	Status        string    `json:"status,omitempty"`
	Commits       *[]string `json:"commits,omitempty"`
	CompareStatus string    `json:"compare_status,omitempty"`
	Source        string    `json:"source,omitempty"`
}

type changeLine struct {
	Kind          string    `json:"kind"`
	ID            string    `json:"id"`
	Service       string    `json:"service"`
	Repo          string    `json:"repo,omitempty"`
	Title         string    `json:"title,omitempty"`
	Labels        *[]string `json:"labels,omitempty"`
	Author        string    `json:"author,omitempty"`
	FirstCommitAt *string   `json:"first_commit_at,omitempty"`
	OpenedAt      *string   `json:"opened_at,omitempty"`
	FirstReviewAt *string   `json:"first_review_at,omitempty"`
	MergedAt      *string   `json:"merged_at,omitempty"`
	MergeSHA      string    `json:"merge_sha,omitempty"`
	Paths         *[]string `json:"paths,omitempty"`
	Source        string    `json:"source,omitempty"`
}

type incidentLine struct {
	Kind                string  `json:"kind"`
	ID                  string  `json:"id"`
	Service             string  `json:"service"`
	Urgency             string  `json:"urgency,omitempty"`
	Priority            string  `json:"priority,omitempty"`
	Title               string  `json:"title,omitempty"`
	StartedAt           *string `json:"started_at,omitempty"`
	TriggeredAt         *string `json:"triggered_at,omitempty"`
	AcknowledgedAt      *string `json:"acknowledged_at,omitempty"`
	ResolvedAt          *string `json:"resolved_at,omitempty"`
	CausedBy            string  `json:"caused_by,omitempty"`
	ImpactStartUnparsed string  `json:"impact_start_unparsed,omitempty"`
	Source              string  `json:"source,omitempty"`
}

// compareStatuses are the values of GitHub's compare status.
var compareStatuses = []string{"ahead", "behind", "identical", "diverged"}

// lineSource is the source recorded for a line: its own "source" when it names
// one (an exported record keeps the source that collected it), else the
// decoder's.
func lineSource(line, decoder string) string {
	if s := strings.TrimSpace(line); s != "" {
		return s
	}
	return decoder
}

// strList copies an optional list, keeping nil (absent) and empty apart.
func strList(l *[]string) []string {
	if l == nil || *l == nil {
		return nil
	}
	return append([]string{}, (*l)...)
}

// decodeLine validates one line and adds it to ev; it returns the reason a bad
// line is rejected, or "".
func decodeLine(raw []byte, source string, ev *Events, seen map[Kind]map[string]int, c *checker) string {
	var head struct {
		Kind json.RawMessage `json:"kind"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return "not a JSON object: " + jsonReason(err)
	}
	var kind string
	if len(head.Kind) == 0 || json.Unmarshal(head.Kind, &kind) != nil {
		return `missing or non-string "kind"`
	}
	var p timeParser
	switch Kind(kind) {
	case KindDeployment:
		var l deploymentLine
		if err := strict(raw, &l); err != nil {
			return err.Error()
		}
		if r := cmp.Or(tooLong(sized{"id", l.ID, MaxNameBytes}, sized{"service", l.Service, MaxNameBytes},
			sized{"repo", l.Repo, MaxNameBytes}, sized{"environment", l.Environment, MaxNameBytes},
			sized{"sha", l.SHA, MaxNameBytes}, sized{"status", l.Status, MaxNameBytes},
			sized{"compare_status", l.CompareStatus, MaxNameBytes}, sized{"source", l.Source, MaxNameBytes}),
			listTooLong("commits", l.Commits, MaxNameBytes)); r != "" {
			return r
		}
		if r := required(map[string]string{"id": l.ID, "service": l.Service, "environment": l.Environment, "sha": l.SHA, "status": l.Status}); r != "" {
			return r
		}
		d := Deployment{ID: l.ID, Service: l.Service, Repo: l.Repo, Environment: l.Environment,
			SHA: l.SHA, Status: l.Status, Commits: strList(l.Commits), Source: lineSource(l.Source, source),
			FinishedAt: p.required("finished_at", l.FinishedAt)}
		if p.err != "" {
			return p.err
		}
		if l.CompareStatus != "" {
			i := slices.IndexFunc(compareStatuses, func(s string) bool { return strings.EqualFold(s, l.CompareStatus) })
			if i < 0 {
				return fmt.Sprintf(`field "compare_status": %q is not one of %s`, Clip(l.CompareStatus), strings.Join(compareStatuses, ", "))
			}
			d.CompareStatus = compareStatuses[i]
		}
		c.id(KindDeployment, d.ID)
		c.status(d.Status)
		c.times(namedTime{"finished_at", d.FinishedAt})
		upsert(&ev.Deployments, seen[KindDeployment], d.ID, d)
	case KindChange:
		var l changeLine
		if err := strict(raw, &l); err != nil {
			return err.Error()
		}
		if r := cmp.Or(tooLong(sized{"id", l.ID, MaxNameBytes}, sized{"service", l.Service, MaxNameBytes},
			sized{"repo", l.Repo, MaxNameBytes}, sized{"title", l.Title, MaxTextBytes},
			sized{"author", l.Author, MaxNameBytes}, sized{"merge_sha", l.MergeSHA, MaxNameBytes},
			sized{"source", l.Source, MaxNameBytes}),
			listTooLong("labels", l.Labels, MaxNameBytes), listTooLong("paths", l.Paths, MaxTextBytes)); r != "" {
			return r
		}
		if r := required(map[string]string{"id": l.ID, "service": l.Service}); r != "" {
			return r
		}
		ch := Change{ID: l.ID, Service: l.Service, Repo: l.Repo, Title: l.Title, Labels: strList(l.Labels),
			Author: l.Author, MergeSHA: l.MergeSHA, Paths: strList(l.Paths), Source: lineSource(l.Source, source),
			OpenedAt:      p.required("opened_at", l.OpenedAt),
			FirstCommitAt: p.optional("first_commit_at", l.FirstCommitAt),
			FirstReviewAt: p.optional("first_review_at", l.FirstReviewAt),
			MergedAt:      p.optional("merged_at", l.MergedAt)}
		if p.err != "" {
			return p.err
		}
		opened := namedTime{"opened_at", ch.OpenedAt}
		merged, review := namedTime{"merged_at", ch.MergedAt}, namedTime{"first_review_at", ch.FirstReviewAt}
		c.id(KindChange, ch.ID)
		c.times(namedTime{"first_commit_at", ch.FirstCommitAt}, opened, review, merged)
		c.order(opened, merged, "a change is merged after it is opened")
		c.order(opened, review, "a change is reviewed after it is opened")
		upsert(&ev.Changes, seen[KindChange], ch.ID, ch)
	case KindIncident:
		var l incidentLine
		if err := strict(raw, &l); err != nil {
			return err.Error()
		}
		if r := tooLong(sized{"id", l.ID, MaxNameBytes}, sized{"service", l.Service, MaxNameBytes},
			sized{"urgency", l.Urgency, MaxNameBytes}, sized{"priority", l.Priority, MaxNameBytes},
			sized{"title", l.Title, MaxTextBytes}, sized{"caused_by", l.CausedBy, MaxTextBytes},
			sized{"impact_start_unparsed", l.ImpactStartUnparsed, MaxTextBytes},
			sized{"source", l.Source, MaxNameBytes}); r != "" {
			return r
		}
		if r := required(map[string]string{"id": l.ID, "service": l.Service}); r != "" {
			return r
		}
		in := Incident{ID: l.ID, Service: l.Service, Urgency: l.Urgency, Priority: l.Priority,
			Title: l.Title, CausedBy: strings.TrimSpace(l.CausedBy), ImpactStartUnparsed: l.ImpactStartUnparsed,
			Source:         lineSource(l.Source, source),
			TriggeredAt:    p.required("triggered_at", l.TriggeredAt),
			StartedAt:      p.optional("started_at", l.StartedAt),
			AcknowledgedAt: p.optional("acknowledged_at", l.AcknowledgedAt),
			ResolvedAt:     p.optional("resolved_at", l.ResolvedAt)}
		if p.err != "" {
			return p.err
		}
		if in.Urgency == "" {
			in.Urgency = UrgencyUnknown
		}
		if strings.EqualFold(in.CausedBy, CausedByNone) {
			in.CausedBy = CausedByNone
		}
		trig := namedTime{"triggered_at", in.TriggeredAt}
		started, ack, res := namedTime{"started_at", in.StartedAt}, namedTime{"acknowledged_at", in.AcknowledgedAt}, namedTime{"resolved_at", in.ResolvedAt}
		c.id(KindIncident, in.ID)
		c.times(started, trig, ack, res)
		c.order(started, trig, "its time to detect would be negative and is left out")
		c.order(trig, ack, "its time to acknowledge would be negative and is left out")
		c.order(trig, res, "its time to resolve would be negative and is left out")
		upsert(&ev.Incidents, seen[KindIncident], in.ID, in)
	default:
		return fmt.Sprintf(`unknown kind %q (want deployment, change or incident)`, Clip(kind))
	}
	return ""
}

func upsert[T any](list *[]T, index map[string]int, id string, v T) {
	if i, ok := index[id]; ok {
		(*list)[i] = v
		return
	}
	index[id] = len(*list)
	*list = append(*list, v)
}

func strict(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errors.New(jsonReason(err))
	}
	if dec.More() {
		return errors.New("more than one JSON value on the line")
	}
	return nil
}

// jsonReason words a decoding error for a user: which field, what was wrong.
func jsonReason(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("field %q: want %s, got %s", te.Field, te.Type, te.Value)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("invalid JSON at byte %d: %v", se.Offset, err)
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		// the field's name is quoted in f, and may be as long as the line
		return "unknown field " + Clip(f)
	}
	return strings.TrimPrefix(msg, "json: ")
}

func required(fields map[string]string) string {
	var missing []string
	for _, k := range []string{"id", "service", "environment", "sha", "status"} {
		if v, ok := fields[k]; ok && strings.TrimSpace(v) == "" {
			missing = append(missing, fmt.Sprintf("%q", k))
		}
	}
	if len(missing) > 0 {
		return "missing required field " + strings.Join(missing, ", ")
	}
	return ""
}

// timeParser keeps the first error of several time fields.
type timeParser struct{ err string }

func (p *timeParser) required(name string, s *string) time.Time {
	if s == nil || *s == "" {
		p.fail(fmt.Sprintf("missing required field %q", name))
		return time.Time{}
	}
	return p.optional(name, s)
}

func (p *timeParser) optional(name string, s *string) time.Time {
	if s == nil || *s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, *s)
	if err != nil {
		p.fail(fmt.Sprintf("field %q: %q is not an RFC3339 time", name, Clip(*s)))
		return time.Time{}
	}
	if !TimeInRange(t) {
		p.fail(fmt.Sprintf("field %q: %s is outside the valid %s", name, t.UTC().Format(time.RFC3339), TimeRangeText))
		return time.Time{}
	}
	return t.UTC()
}

func (p *timeParser) fail(msg string) {
	if p.err == "" {
		p.err = msg
	}
}

// EncodeEvents writes events in the neutral format, one line each, in the order
// deployments, changes, incidents. It is the inverse of DecodeEvents.
func EncodeEvents(w io.Writer, ev Events) error {
	enc := NewEventEncoder(w)
	ev.SendTo(enc)
	return enc.Flush()
}

// EventEncoder writes events in the neutral format, one line each, as they are
// added: it is the EventSink through which a store's scan streams an export,
// holding one record at a time. Every field that DecodeEvents reads is written,
// times in UTC to the nanosecond, so that decoding a line gives back the same
// record (the source included). The first write error stops the encoder;
// Flush returns it.
type EventEncoder struct {
	bw                              *bufio.Writer
	enc                             *json.Encoder
	err                             error
	deployments, changes, incidents int
}

var _ EventSink = (*EventEncoder)(nil)

// NewEventEncoder returns an encoder writing to w through a buffer; call Flush
// at the end.
func NewEventEncoder(w io.Writer) *EventEncoder {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	// Titles are written as people typed them, "<" and "&" included.
	enc.SetEscapeHTML(false)
	return &EventEncoder{bw: bw, enc: enc}
}

// Grow is part of EventSink; the encoder keeps nothing, so it has nothing to grow.
func (e *EventEncoder) Grow(int, int, int) {}

// AddDeployment writes d as one line.
func (e *EventEncoder) AddDeployment(d *Deployment) {
	l := deploymentLine{Kind: string(KindDeployment), ID: d.ID, Service: d.Service, Repo: d.Repo,
		Environment: d.Environment, SHA: d.SHA, FinishedAt: timeString(d.FinishedAt), Status: d.Status,
		Commits: listPtr(d.Commits), CompareStatus: d.CompareStatus, Source: d.Source}
	if e.encode(&l) {
		e.deployments++
	}
}

// AddChange writes c as one line.
func (e *EventEncoder) AddChange(c *Change) {
	l := changeLine{Kind: string(KindChange), ID: c.ID, Service: c.Service, Repo: c.Repo, Title: c.Title,
		Labels: listPtr(c.Labels), Author: c.Author, FirstCommitAt: timeString(c.FirstCommitAt),
		OpenedAt: timeString(c.OpenedAt), FirstReviewAt: timeString(c.FirstReviewAt),
		MergedAt: timeString(c.MergedAt), MergeSHA: c.MergeSHA, Paths: listPtr(c.Paths), Source: c.Source}
	if e.encode(&l) {
		e.changes++
	}
}

// AddIncident writes x as one line.
func (e *EventEncoder) AddIncident(x *Incident) {
	l := incidentLine{Kind: string(KindIncident), ID: x.ID, Service: x.Service, Urgency: x.Urgency,
		Priority: x.Priority, Title: x.Title, StartedAt: timeString(x.StartedAt),
		TriggeredAt: timeString(x.TriggeredAt), AcknowledgedAt: timeString(x.AcknowledgedAt),
		ResolvedAt: timeString(x.ResolvedAt), CausedBy: x.CausedBy,
		ImpactStartUnparsed: x.ImpactStartUnparsed, Source: x.Source}
	if e.encode(&l) {
		e.incidents++
	}
}

func (e *EventEncoder) encode(v any) bool {
	if e.err != nil {
		return false
	}
	if err := e.enc.Encode(v); err != nil {
		e.err = fmt.Errorf("write events: %w", err)
		return false
	}
	return true
}

// Flush writes what is buffered and returns the first error of any write.
func (e *EventEncoder) Flush() error {
	if e.err != nil {
		return e.err
	}
	if err := e.bw.Flush(); err != nil {
		e.err = fmt.Errorf("write events: %w", err)
	}
	return e.err
}

// Written is the number of events of each kind encoded so far (some may still
// be in the buffer until Flush).
func (e *EventEncoder) Written() (deployments, changes, incidents int) {
	return e.deployments, e.changes, e.incidents
}

func timeString(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339Nano)
	return &s
}

// listPtr is the encoding form of an optional list: nil stays absent, an empty
// list is written as [].
func listPtr(l []string) *[]string {
	if l == nil {
		return nil
	}
	return &l
}
