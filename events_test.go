package flywheel_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel"
)

func TestDecodeEventsValid(t *testing.T) {
	t.Parallel()
	in := `{"kind":"deployment","id":"d-1","service":"checkout","repo":"acme/checkout","environment":"production","sha":"abc1234","finished_at":"2026-06-01T12:00:00+02:00","status":"success","commits":["abc1234","def5678"]}
{"kind":"deployment","id":"d-2","service":"checkout","environment":"production","sha":"fff","finished_at":"2026-06-02T12:00:00Z","status":"success","commits":[]}
{"kind":"deployment","id":"d-3","service":"checkout","environment":"production","sha":"eee","finished_at":"2026-06-03T12:00:00Z","status":"failure"}

{"kind":"change","id":"acme/checkout#42","service":"checkout","repo":"acme/checkout","title":"feat: x","labels":["feature"],"author":"ann","first_commit_at":"2026-05-30T08:00:00Z","opened_at":"2026-05-30T09:00:00Z","first_review_at":"2026-05-30T10:00:00Z","merged_at":"2026-05-31T09:00:00Z","merge_sha":"def5678","paths":["api/x.go"]}
{"kind":"change","id":"acme/checkout#43","service":"checkout","opened_at":"2026-05-30T09:00:00Z"}
{"kind":"incident","id":"PD-Q1","service":"checkout","urgency":"high","started_at":"2026-06-01T12:30:00Z","triggered_at":"2026-06-01T12:40:00Z","acknowledged_at":"2026-06-01T12:45:00Z","resolved_at":"2026-06-01T13:40:00Z","caused_by":"d-1"}
{"kind":"incident","id":"PD-Q2","service":"checkout","triggered_at":"2026-06-01T12:40:00Z","caused_by":"NONE"}
`
	ev, err := flywheel.DecodeEvents(strings.NewReader(in), "import")
	if err != nil {
		t.Fatal(err)
	}
	if len(ev.Deployments) != 3 || len(ev.Changes) != 2 || len(ev.Incidents) != 2 {
		t.Fatalf("counts = %d/%d/%d", len(ev.Deployments), len(ev.Changes), len(ev.Incidents))
	}
	d := ev.Deployments[0]
	if want := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC); !d.FinishedAt.Equal(want) || d.FinishedAt.Location() != time.UTC {
		t.Errorf("finished_at = %v, want %v in UTC", d.FinishedAt, want)
	}
	if d.Source != "import" || len(d.Commits) != 2 {
		t.Errorf("deployment = %+v", d)
	}
	if ev.Deployments[1].Commits == nil || len(ev.Deployments[1].Commits) != 0 {
		t.Errorf(`"commits":[] must be a known empty list, got %#v`, ev.Deployments[1].Commits)
	}
	if ev.Deployments[2].Commits != nil {
		t.Errorf("absent commits must be unknown (nil), got %#v", ev.Deployments[2].Commits)
	}
	if c := ev.Changes[1]; c.Merged() || !c.FirstCommitAt.IsZero() {
		t.Errorf("change without merged_at must be unmerged with unknown times: %+v", c)
	}
	if in := ev.Incidents[1]; in.Urgency != flywheel.UrgencyUnknown || in.CausedBy != flywheel.CausedByNone {
		t.Errorf("incident defaults: %+v", in)
	}
}

func TestDecodeEventsRejectsEveryBadLine(t *testing.T) {
	t.Parallel()
	in := strings.Join([]string{
		`{"kind":"deployment","id":"d-1","service":"s","environment":"production","sha":"a","finished_at":"2026-06-01T12:00:00Z","status":"success"}`,
		`{"kind":"deployment","id":"d-2","service":"s","environment":"production","sha":"a","finished_at":"yesterday","status":"success"}`,
		`{"kind":"change","id":"c","service":"s"}`,
		`{"kind":"incident","id":"i","service":"s","triggered_at":"2026-06-01T12:00:00Z","severity":"high"}`,
		`{"kind":"widget","id":"w"}`,
		`not json`,
		`{"kind":"deployment","id":"","service":"s","environment":"","sha":"a","finished_at":"2026-06-01T12:00:00Z","status":"success"}`,
		`{"kind":"change","id":"c","service":"s","opened_at":"2026-06-01T12:00:00Z","labels":"bug"}`,
	}, "\n")
	_, err := flywheel.DecodeEvents(strings.NewReader(in), "import")
	var de *flywheel.DecodeError
	if !errors.As(err, &de) {
		t.Fatalf("err = %v, want *DecodeError", err)
	}
	want := map[int]string{
		2: `field "finished_at": "yesterday" is not an RFC3339 time`,
		3: `missing required field "opened_at"`,
		4: `unknown field "severity"`,
		5: `unknown kind "widget"`,
		6: `not a JSON object`,
		7: `missing required field "id", "environment"`,
		8: `field "labels": want []string, got string`,
	}
	if len(de.Lines) != len(want) {
		t.Fatalf("got %d bad lines, want %d: %v", len(de.Lines), len(want), err)
	}
	for _, l := range de.Lines {
		w, ok := want[l.Line]
		if !ok {
			t.Errorf("unexpected bad line %d: %s", l.Line, l.Reason)
			continue
		}
		if !strings.Contains(l.Reason, w) {
			t.Errorf("line %d: reason %q does not contain %q", l.Line, l.Reason, w)
		}
	}
}

func TestDecodeEventsDuplicateIDsKeepLast(t *testing.T) {
	t.Parallel()
	in := `{"kind":"incident","id":"i1","service":"s","triggered_at":"2026-06-01T12:00:00Z"}
{"kind":"change","id":"i1","service":"s","opened_at":"2026-06-01T12:00:00Z"}
{"kind":"incident","id":"i1","service":"s","triggered_at":"2026-06-01T12:00:00Z","resolved_at":"2026-06-01T13:00:00Z"}
`
	ev, err := flywheel.DecodeEvents(strings.NewReader(in), "import")
	if err != nil {
		t.Fatal(err)
	}
	if len(ev.Incidents) != 1 || ev.Incidents[0].ResolvedAt.IsZero() {
		t.Fatalf("incidents = %+v, want the later line only", ev.Incidents)
	}
	if len(ev.Changes) != 1 {
		t.Fatalf("ids are unique per kind: a change may share an incident's id")
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 6, 1, 12, 0, 0, 500, time.UTC)
	ev := flywheel.Events{
		Deployments: []flywheel.Deployment{
			{ID: "d1", Service: "s", Repo: "o/r", Environment: "production", SHA: "abc", FinishedAt: at, Status: "success", Commits: []string{}},
			{ID: "d2", Service: "s", Environment: "staging", SHA: "abd", FinishedAt: at, Status: "failure"},
		},
		Changes:   []flywheel.Change{{ID: "c1", Service: "s", Title: "fix: y", Labels: []string{"bug"}, OpenedAt: at, MergedAt: at.Add(time.Hour), MergeSHA: "abc"}},
		Incidents: []flywheel.Incident{{ID: "i1", Service: "s", Urgency: "high", TriggeredAt: at, CausedBy: "d1"}},
	}
	var buf bytes.Buffer
	if err := flywheel.EncodeEvents(&buf, ev); err != nil {
		t.Fatal(err)
	}
	got, err := flywheel.DecodeEvents(&buf, "")
	if err != nil {
		t.Fatalf("decode of encoded events: %v\n%s", err, buf.String())
	}
	if got.Deployments[0].Commits == nil || got.Deployments[1].Commits != nil {
		t.Errorf("commit-list knowledge lost: %#v / %#v", got.Deployments[0].Commits, got.Deployments[1].Commits)
	}
	if !got.Changes[0].MergedAt.Equal(at.Add(time.Hour)) || got.Incidents[0].CausedBy != "d1" || !got.Deployments[0].FinishedAt.Equal(at) {
		t.Errorf("round trip changed values: %+v", got)
	}
}

func TestParseDuration(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{"30d": 30 * flywheel.Day, "72h": 72 * time.Hour, "1w": 7 * flywheel.Day, "1.5d": 36 * time.Hour, "90m": 90 * time.Minute} {
		if got, err := flywheel.ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "d", "-3d", "0d", "thirty days", "5x"} {
		if _, err := flywheel.ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) accepted", bad)
		}
	}
}
