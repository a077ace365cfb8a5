package flywheel

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// LineError is one rejected line of a neutral-format input (SPEC §5).
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

// DecodeEvents reads neutral-format JSON lines (SPEC §5). Every line is validated;
// if any is bad the result is a *DecodeError naming each bad line and no events.
// Within the input a later line with the same kind and id replaces an earlier one.
// source is recorded on every event (for example "import" or "api").
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

type deploymentLine struct {
	Kind        string    `json:"kind"`
	ID          string    `json:"id"`
	Service     string    `json:"service"`
	Repo        string    `json:"repo"`
	Environment string    `json:"environment"`
	SHA         string    `json:"sha"`
	FinishedAt  *string   `json:"finished_at"`
	Status      string    `json:"status"`
	Commits     *[]string `json:"commits"`
}

type changeLine struct {
	Kind          string   `json:"kind"`
	ID            string   `json:"id"`
	Service       string   `json:"service"`
	Repo          string   `json:"repo"`
	Title         string   `json:"title"`
	Labels        []string `json:"labels"`
	Author        string   `json:"author"`
	FirstCommitAt *string  `json:"first_commit_at"`
	OpenedAt      *string  `json:"opened_at"`
	FirstReviewAt *string  `json:"first_review_at"`
	MergedAt      *string  `json:"merged_at"`
	MergeSHA      string   `json:"merge_sha"`
	Paths         []string `json:"paths"`
}

type incidentLine struct {
	Kind           string  `json:"kind"`
	ID             string  `json:"id"`
	Service        string  `json:"service"`
	Urgency        string  `json:"urgency"`
	Priority       string  `json:"priority"`
	Title          string  `json:"title"`
	StartedAt      *string `json:"started_at"`
	TriggeredAt    *string `json:"triggered_at"`
	AcknowledgedAt *string `json:"acknowledged_at"`
	ResolvedAt     *string `json:"resolved_at"`
	CausedBy       string  `json:"caused_by"`
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
			SHA: l.SHA, Status: l.Status, Source: source,
			FinishedAt: p.required("finished_at", l.FinishedAt)}
		if l.Commits != nil {
			d.Commits = append([]string{}, (*l.Commits)...)
		}
		if p.err != "" {
			return p.err
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
		c := Change{ID: l.ID, Service: l.Service, Repo: l.Repo, Title: l.Title, Labels: l.Labels,
			Author: l.Author, MergeSHA: l.MergeSHA, Paths: l.Paths, Source: source,
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
			Title: l.Title, CausedBy: strings.TrimSpace(l.CausedBy), Source: source,
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
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for _, d := range ev.Deployments {
		l := deploymentLine{Kind: string(KindDeployment), ID: d.ID, Service: d.Service, Repo: d.Repo,
			Environment: d.Environment, SHA: d.SHA, FinishedAt: timeString(d.FinishedAt), Status: d.Status}
		if d.Commits != nil {
			c := d.Commits
			l.Commits = &c
		}
		if err := enc.Encode(omitEmpty(l)); err != nil {
			return err
		}
	}
	for _, c := range ev.Changes {
		l := changeLine{Kind: string(KindChange), ID: c.ID, Service: c.Service, Repo: c.Repo, Title: c.Title,
			Labels: c.Labels, Author: c.Author, FirstCommitAt: timeString(c.FirstCommitAt),
			OpenedAt: timeString(c.OpenedAt), FirstReviewAt: timeString(c.FirstReviewAt),
			MergedAt: timeString(c.MergedAt), MergeSHA: c.MergeSHA, Paths: c.Paths}
		if err := enc.Encode(omitEmpty(l)); err != nil {
			return err
		}
	}
	for _, in := range ev.Incidents {
		l := incidentLine{Kind: string(KindIncident), ID: in.ID, Service: in.Service, Urgency: in.Urgency,
			Priority: in.Priority, Title: in.Title, StartedAt: timeString(in.StartedAt),
			TriggeredAt: timeString(in.TriggeredAt), AcknowledgedAt: timeString(in.AcknowledgedAt),
			ResolvedAt: timeString(in.ResolvedAt), CausedBy: in.CausedBy}
		if err := enc.Encode(omitEmpty(l)); err != nil {
			return err
		}
	}
	return bw.Flush()
}

func timeString(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339Nano)
	return &s
}

// omitEmpty drops empty strings, nil pointers and nil slices from a line struct so
// that encoded lines stay short; an empty non-nil commit list is kept.
func omitEmpty(v any) map[string]any {
	raw, _ := json.Marshal(v)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	for k, x := range m {
		switch x := x.(type) {
		case nil:
			delete(m, k)
		case string:
			if x == "" {
				delete(m, k)
			}
		}
	}
	return m
}
