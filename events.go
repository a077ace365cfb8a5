package flywheel

import (
	"bufio"
	"bytes"
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

// DecodeError lists every rejected line of an input; nothing of such an input is
// stored.
type DecodeError struct {
	Lines []LineError
}

func (e *DecodeError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d invalid line(s), nothing stored", len(e.Lines))
	for _, l := range e.Lines {
		b.WriteString("\n")
		b.WriteString(l.Error())
	}
	return b.String()
}

// maxLine bounds one JSON line; a deployment listing thousands of commits fits.
const maxLine = 16 << 20

// DecodeEvents reads neutral-format JSON lines: one event a line, of the kinds
// deployment, change and incident. Every line is validated; if any is bad the
// result is a *DecodeError naming each bad line and no events. Within the input
// a later line with the same kind and id replaces an earlier one. source (for
// example "import" or "api") is recorded on every event whose line does not
// name its own "source"; an exported line names the source that collected the
// record, so that a restored record is judged as the original was.
func DecodeEvents(r io.Reader, source string) (Events, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var (
		ev   Events
		bad  []LineError
		line int
		seen = map[Kind]map[string]int{KindDeployment: {}, KindChange: {}, KindIncident: {}}
	)
	for {
		raw, err := readLine(br)
		if len(raw) > 0 || err == nil {
			line++
		}
		if len(bytes.TrimSpace(raw)) > 0 {
			if len(raw) > maxLine {
				bad = append(bad, LineError{line, fmt.Sprintf("line longer than %d bytes", maxLine)})
			} else if e := decodeLine(raw, source, &ev, seen); e != "" {
				bad = append(bad, LineError{line, e})
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return Events{}, fmt.Errorf("read events: %w", err)
		}
	}
	if len(bad) > 0 {
		return Events{}, &DecodeError{Lines: bad}
	}
	return ev, nil
}

func readLine(br *bufio.Reader) ([]byte, error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(buf)+len(chunk) <= maxLine+1 {
			buf = append(buf, chunk...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		return bytes.TrimRight(buf, "\r\n"), err
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
func decodeLine(raw []byte, source string, ev *Events, seen map[Kind]map[string]int) string {
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
				return fmt.Sprintf(`field "compare_status": %q is not one of %s`, l.CompareStatus, strings.Join(compareStatuses, ", "))
			}
			d.CompareStatus = compareStatuses[i]
		}
		upsert(&ev.Deployments, seen[KindDeployment], d.ID, d)
	case KindChange:
		var l changeLine
		if err := strict(raw, &l); err != nil {
			return err.Error()
		}
		if r := required(map[string]string{"id": l.ID, "service": l.Service}); r != "" {
			return r
		}
		c := Change{ID: l.ID, Service: l.Service, Repo: l.Repo, Title: l.Title, Labels: strList(l.Labels),
			Author: l.Author, MergeSHA: l.MergeSHA, Paths: strList(l.Paths), Source: lineSource(l.Source, source),
			OpenedAt:      p.required("opened_at", l.OpenedAt),
			FirstCommitAt: p.optional("first_commit_at", l.FirstCommitAt),
			FirstReviewAt: p.optional("first_review_at", l.FirstReviewAt),
			MergedAt:      p.optional("merged_at", l.MergedAt)}
		if p.err != "" {
			return p.err
		}
		upsert(&ev.Changes, seen[KindChange], c.ID, c)
	case KindIncident:
		var l incidentLine
		if err := strict(raw, &l); err != nil {
			return err.Error()
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
		upsert(&ev.Incidents, seen[KindIncident], in.ID, in)
	default:
		return fmt.Sprintf(`unknown kind %q (want deployment, change or incident)`, kind)
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
		return "unknown field " + f
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
		p.fail(fmt.Sprintf("field %q: %q is not an RFC3339 time", name, *s))
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
	for i := range ev.Deployments {
		enc.AddDeployment(&ev.Deployments[i])
	}
	for i := range ev.Changes {
		enc.AddChange(&ev.Changes[i])
	}
	for i := range ev.Incidents {
		enc.AddIncident(&ev.Incidents[i])
	}
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
