package flywheel_test

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
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
		`{"kind":"deployment","id":"d-3","service":"s","environment":"production","sha":"a","finished_at":"9999-01-01T00:00:00Z","status":"success"}`,
		`{"kind":"incident","id":"i","service":"s","triggered_at":"2026-06-01T12:00:00Z","started_at":"1600-01-01T00:00:00Z"}`,
		`{"kind":"change","id":"c","service":"s","opened_at":"2026-06-01T12:00:00+02:00","merged_at":"2200-01-01T00:30:00+01:00"}`,
		`{"kind":"deployment","id":"` + strings.Repeat("d", 40<<10) + `","service":"s","environment":"production","sha":"a","finished_at":"2026-06-01T12:00:00Z","status":"success"}`,
		`{"kind":"change","id":"c","service":"s","opened_at":"2026-06-01T12:00:00Z","labels":["ok","` + strings.Repeat("l", 1025) + `"]}`,
		`{"kind":"incident","id":"i","service":"s","triggered_at":"2026-06-01T12:00:00Z","title":"` + strings.Repeat("t", 4097) + `"}`,
		`{"kind":"incident","id":"i","service":"s","triggered_at":"` + strings.Repeat("9", 5000) + `"}`,
		`{"kind":"incident","` + strings.Repeat("k", 5000) + `":1}`,
	}, "\n")
	_, err := flywheel.DecodeEvents(strings.NewReader(in), "import")
	var de *flywheel.DecodeError
	if !errors.As(err, &de) {
		t.Fatalf("err = %v, want *DecodeError", err)
	}
	want := map[int]string{
		2:  `field "finished_at": "yesterday" is not an RFC3339 time`,
		3:  `missing required field "opened_at"`,
		4:  `unknown field "severity"`,
		5:  `unknown kind "widget"`,
		6:  `not a JSON object`,
		7:  `missing required field "id", "environment"`,
		8:  `field "labels": want []string, got string`,
		9:  `field "finished_at": 9999-01-01T00:00:00Z is outside the valid years 1970 to 2199 (UTC)`,
		10: `field "started_at": 1600-01-01T00:00:00Z is outside the valid years`,
		// 2200-01-01T00:30+01:00 is still 2199 in UTC: valid
		12: `field "id": 40960 bytes, more than the limit of 1024 ("dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd… (40960 bytes)")`,
		13: `field "labels": element 2: 1025 bytes, more than the limit of 1024`,
		14: `field "title": 4097 bytes, more than the limit of 4096`,
		15: `field "triggered_at": "99999999`,
		16: `unknown field "kkkkkkkk`,
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
		if len(l.Reason) > 300 {
			t.Errorf("line %d: reason of %d bytes quotes too much: %.100s", l.Line, len(l.Reason), l.Reason)
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

// TestDecodeEventsCheckedWarns: lines that are valid by the format but
// probably wrong are stored as written, each with a warning naming its line;
// the counts say how many lines replaced an earlier one.
func TestDecodeEventsCheckedWarns(t *testing.T) {
	t.Parallel()
	in := strings.Join([]string{
		`{"kind":"deployment","id":"d-1","service":"s","environment":"production","sha":"a","finished_at":"2026-06-01T12:00:00Z","status":"success"}`,
		`{"kind":"deployment","id":"d-2","service":"s","environment":"production","sha":"b","finished_at":"2026-06-02T12:00:00Z","status":"SUCCESS"}`,
		`{"kind":"deployment","id":"d-1","service":"s","environment":"production","sha":"c","finished_at":"2026-06-03T12:00:00Z","status":"success"}`,
		``,
		`{"kind":"deployment","id":"d-3","service":"s","environment":"production","sha":"d","finished_at":"1970-01-01T00:00:00Z","status":"Succeeded"}`,
		`{"kind":"change","id":"c-1","service":"s","opened_at":"2026-06-02T09:00:00Z","first_review_at":"2026-06-01T09:00:00Z","merged_at":"2026-06-01T10:00:00Z"}`,
		`{"kind":"incident","id":"i-1","service":"s","started_at":"2026-06-01T13:00:00Z","triggered_at":"2026-06-01T12:00:00Z","acknowledged_at":"2026-06-01T11:00:00Z","resolved_at":"2099-01-01T00:00:00Z"}`,
		`{"kind":"deployment","id":"d-1","service":"s","environment":"production","sha":"e","finished_at":"2026-06-10T00:30:00Z","status":"failure"}`,
		`{"kind":"incident","id":"d-1","service":"s","triggered_at":"2026-06-01T12:00:00Z"}`,
	}, "\n")
	now := time.Date(2026, 6, 10, 0, 0, 0, 0, time.UTC)
	d, err := flywheel.DecodeEventsChecked(strings.NewReader(in), flywheel.DecodeOptions{Source: "api", Now: now, KeepWarnings: 100})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`line 2: status "SUCCESS" never counts: only exactly "success" (lower case) does`,
		`line 3: replaces line 1, the same deployment id "d-1": the later line is kept`,
		`line 5: status "Succeeded" never counts: only exactly "success" (lower case) does`,
		`line 5: field "finished_at": 1970-01-01T00:00:00Z is before 2000 (a zero Unix time or a typo?)`,
		`line 6: merged_at 2026-06-01T10:00:00Z is before opened_at 2026-06-02T09:00:00Z: a change is merged after it is opened`,
		`line 6: first_review_at 2026-06-01T09:00:00Z is before opened_at 2026-06-02T09:00:00Z: a change is reviewed after it is opened`,
		`line 7: field "resolved_at": 2099-01-01T00:00:00Z is in the future`,
		`line 7: triggered_at 2026-06-01T12:00:00Z is before started_at 2026-06-01T13:00:00Z: its time to detect would be negative and is left out`,
		`line 7: acknowledged_at 2026-06-01T11:00:00Z is before triggered_at 2026-06-01T12:00:00Z: its time to acknowledge would be negative and is left out`,
		`line 8: replaces line 3, the same deployment id "d-1": the later line is kept`,
	}
	var got []string
	for _, w := range d.Warnings {
		got = append(got, w.String())
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	wantCounts := map[flywheel.WarningKind]int{flywheel.WarnStatus: 2, flywheel.WarnDuplicateID: 2, flywheel.WarnTime: 2, flywheel.WarnOrder: 4}
	if !reflect.DeepEqual(d.WarningCounts, wantCounts) || d.WarningTotal() != 10 || d.Replaced() != 2 {
		t.Errorf("counts %v (total %d, replaced %d), want %v", d.WarningCounts, d.WarningTotal(), d.Replaced(), wantCounts)
	}
	// Stored as written: the last d-1, the status as typed, the odd times.
	if d.Lines != 8 || len(d.Deployments) != 3 || len(d.Changes) != 1 || len(d.Incidents) != 2 {
		t.Fatalf("%d lines, %d/%d/%d events", d.Lines, len(d.Deployments), len(d.Changes), len(d.Incidents))
	}
	if d.Deployments[0].SHA != "e" || d.Deployments[1].Status != "SUCCESS" || d.Deployments[2].FinishedAt.Year() != 1970 {
		t.Errorf("deployments not as written: %+v", d.Deployments)
	}
	// A time up to an hour after now is a clock's difference, not a warning;
	// without Now nothing is in the future.
	d, _ = flywheel.DecodeEventsChecked(strings.NewReader(in), flywheel.DecodeOptions{KeepWarnings: 1})
	if d.WarningCounts[flywheel.WarnTime] != 1 || len(d.Warnings) != 1 || d.WarningTotal() != 9 {
		t.Errorf("without Now: %v, %d kept; want 1 time warning (1970) and 1 kept of 9", d.WarningCounts, len(d.Warnings))
	}
	// DecodeEvents decodes the same events.
	ev, err := flywheel.DecodeEvents(strings.NewReader(in), "")
	if err != nil || !reflect.DeepEqual(ev, d.Events) {
		t.Errorf("DecodeEvents differs from DecodeEventsChecked: %v", err)
	}
}

// TestDecodeEventsLineLimit: a line over 16 MiB is a bad line, named by its
// number, and the lines after it are read on.
func TestDecodeEventsLineLimit(t *testing.T) {
	t.Parallel()
	ok := `{"kind":"incident","id":"i","service":"s","triggered_at":"2026-06-01T12:00:00Z"}`
	long := `{"kind":"change","id":"c","service":"s","opened_at":"2026-06-01T12:00:00Z","title":"` + strings.Repeat("x", 16<<20) + `"}`
	_, err := flywheel.DecodeEvents(strings.NewReader(ok+"\n"+long+"\n"+ok+"\n{}\n"), "import")
	var de *flywheel.DecodeError
	if !errors.As(err, &de) || len(de.Lines) != 2 || de.Lines[0].Line != 2 || de.Lines[0].Reason != "line longer than 16777216 bytes (16 MiB)" || de.Lines[1].Line != 4 {
		t.Errorf("err = %v, want line 2 too long and line 4 bad", err)
	}
	// A line of exactly 16 MiB, with a Windows line end, fits: a change with
	// many paths, each within its limit.
	head, tail := `{"kind":"change","id":"c","service":"s","opened_at":"2026-06-01T12:00:00Z","paths":[`, `]}`
	budget := 16<<20 - len(head) - len(tail)
	elem := `"` + strings.Repeat("x", 1000) + `",`
	k := (budget - 2) / len(elem)
	fits := head + strings.Repeat(elem, k) + `"` + strings.Repeat("y", budget-k*len(elem)-2) + `"` + tail
	ev, err := flywheel.DecodeEvents(strings.NewReader(ok+"\r\n"+fits+"\r\n"+ok), "import")
	if err != nil || len(ev.Changes) != 1 || len(ev.Incidents) != 1 {
		t.Errorf("a 16 MiB line: %v", err)
	}
}

// TestEncodeDecodeRoundTrip checks that every field the engine or a report
// reads survives encoding and decoding: sources, compare status, the unparsed
// impact start, nil and empty lists kept apart, times to the nanosecond.
func TestEncodeDecodeRoundTrip(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 6, 1, 12, 0, 0, 500, time.UTC)
	ev := flywheel.Events{
		Deployments: []flywheel.Deployment{
			{ID: "acme/r/deployments/7", Service: "s", Repo: "acme/r", Environment: "live", SHA: "abc", FinishedAt: at, Status: "success",
				Commits: []string{}, CompareStatus: "behind", Source: "github"},
			{ID: "d2", Service: "s", Environment: "staging", SHA: "abd", FinishedAt: at.Add(time.Nanosecond), Status: "failure", Source: "import"},
			{ID: "d3", Service: "s", Environment: "production", SHA: "abe", FinishedAt: at, Status: "success", Commits: []string{"abe", "abd"}, Source: "api"},
		},
		Changes: []flywheel.Change{
			{ID: "acme/r#1", Service: "s", Repo: "acme/r", Title: `fix: <b> & "quotes" ü`, Labels: []string{"bug", "Tune Up"}, Author: "ann",
				FirstCommitAt: at.Add(-3 * time.Hour), OpenedAt: at.Add(-2 * time.Hour), FirstReviewAt: at.Add(-time.Hour),
				MergedAt: at.Add(-time.Minute), MergeSHA: "abc", Paths: []string{"docs/a.md"}, Source: "github"},
			{ID: "c2", Service: "s", OpenedAt: at, Labels: []string{}, Paths: []string{}, Source: "import"},
			{ID: "c3", Service: "s", OpenedAt: at, Source: "import"},
		},
		Incidents: []flywheel.Incident{
			{ID: "Q1", Service: "s", Urgency: "high", Priority: "P1", Title: "down", StartedAt: at.Add(-time.Hour), TriggeredAt: at,
				AcknowledgedAt: at.Add(time.Minute), ResolvedAt: at.Add(time.Hour), CausedBy: "https://github.com/acme/r/pull/1", Source: "pagerduty"},
			{ID: "acme/r/issues/3", Service: "s", Urgency: "sev2", TriggeredAt: at, CausedBy: flywheel.CausedByNone,
				ImpactStartUnparsed: "yesterday around noon", Source: "github"},
		},
	}
	var buf bytes.Buffer
	if err := flywheel.EncodeEvents(&buf, ev); err != nil {
		t.Fatal(err)
	}
	encoded := buf.String()
	got, err := flywheel.DecodeEvents(&buf, "import")
	if err != nil {
		t.Fatalf("decode of encoded events: %v\n%s", err, encoded)
	}
	if !reflect.DeepEqual(got, ev) {
		t.Fatalf("round trip changed the events:\n got %#v\nwant %#v\nlines:\n%s", got, ev, encoded)
	}
	if got.Changes[1].Labels == nil || got.Changes[1].Paths == nil || got.Changes[2].Labels != nil || got.Changes[2].Paths != nil {
		t.Errorf("nil and empty lists not kept apart: %#v", got.Changes[1:])
	}
	var again bytes.Buffer
	if err := flywheel.EncodeEvents(&again, got); err != nil {
		t.Fatal(err)
	}
	if again.String() != encoded {
		t.Errorf("second encoding differs:\n%s\nfirst:\n%s", again.String(), encoded)
	}
}

// TestEncodeEventsLineFormat pins the exported form of a line: keys in a fixed
// order, absent values left out, text as written.
func TestEncodeEventsLineFormat(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 6, 1, 14, 0, 0, 120000000, time.FixedZone("CEST", 2*3600))
	var buf bytes.Buffer
	enc := flywheel.NewEventEncoder(&buf)
	enc.AddDeployment(&flywheel.Deployment{ID: "d", Service: "s", Repo: "o/r", Environment: "production", SHA: "abc",
		FinishedAt: at, Status: "success", Commits: []string{}, CompareStatus: "ahead", Source: "github"})
	enc.AddChange(&flywheel.Change{ID: "c", Service: "s", Title: "feat: a < b", OpenedAt: at, Source: "import"})
	enc.AddIncident(&flywheel.Incident{ID: "i", Service: "s", Urgency: "high", TriggeredAt: at, ImpactStartUnparsed: "soon", Source: "pagerduty"})
	if err := enc.Flush(); err != nil {
		t.Fatal(err)
	}
	want := `{"kind":"deployment","id":"d","service":"s","repo":"o/r","environment":"production","sha":"abc","finished_at":"2026-06-01T12:00:00.12Z","status":"success","commits":[],"compare_status":"ahead","source":"github"}
{"kind":"change","id":"c","service":"s","title":"feat: a < b","opened_at":"2026-06-01T12:00:00.12Z","source":"import"}
{"kind":"incident","id":"i","service":"s","urgency":"high","triggered_at":"2026-06-01T12:00:00.12Z","impact_start_unparsed":"soon","source":"pagerduty"}
`
	if buf.String() != want {
		t.Errorf("encoded:\n%s\nwant:\n%s", buf.String(), want)
	}
	if d, c, i := enc.Written(); d != 1 || c != 1 || i != 1 {
		t.Errorf("Written() = %d, %d, %d", d, c, i)
	}
}

// A write error stops the encoder and Flush reports it.
func TestEventEncoderWriteError(t *testing.T) {
	t.Parallel()
	enc := flywheel.NewEventEncoder(failingWriter{})
	for i := range 2000 { // more than the buffer holds
		enc.AddChange(&flywheel.Change{ID: fmt.Sprint(i), Service: "s", Title: strings.Repeat("x", 100), OpenedAt: time.Unix(1, 0)})
	}
	if err := enc.Flush(); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Flush() = %v, want the write error", err)
	}
	if _, c, _ := enc.Written(); c >= 2000 {
		t.Errorf("the encoder went on after a write error: %d written", c)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// A line's own "source" is kept: an exported GitHub record stays a GitHub
// record when it is imported again. Without one, the decoder's source applies.
func TestDecodeEventsSourceAndCompareStatus(t *testing.T) {
	t.Parallel()
	in := `{"kind":"deployment","id":"d1","service":"s","environment":"live","sha":"a","finished_at":"2026-06-01T12:00:00Z","status":"success","compare_status":"Behind","source":"github"}
{"kind":"deployment","id":"d2","service":"s","environment":"live","sha":"b","finished_at":"2026-06-01T12:00:00Z","status":"success"}
{"kind":"change","id":"c1","service":"s","opened_at":"2026-06-01T12:00:00Z","source":"github"}
{"kind":"incident","id":"i1","service":"s","triggered_at":"2026-06-01T12:00:00Z","source":"pagerduty","impact_start_unparsed":"last tuesday"}
`
	ev, err := flywheel.DecodeEvents(strings.NewReader(in), "api")
	if err != nil {
		t.Fatal(err)
	}
	if d := ev.Deployments[0]; d.Source != "github" || d.CompareStatus != "behind" {
		t.Errorf("d1 = %+v, want source github and compare status behind", d)
	}
	if d := ev.Deployments[1]; d.Source != "api" || d.CompareStatus != "" {
		t.Errorf("d2 = %+v, want the decoder's source", d)
	}
	if ev.Changes[0].Source != "github" || ev.Incidents[0].Source != "pagerduty" || ev.Incidents[0].ImpactStartUnparsed != "last tuesday" {
		t.Errorf("change %+v, incident %+v", ev.Changes[0], ev.Incidents[0])
	}
	bad := `{"kind":"deployment","id":"d1","service":"s","environment":"live","sha":"a","finished_at":"2026-06-01T12:00:00Z","status":"success","compare_status":"behnd"}
{"kind":"change","id":"c1","service":"s","opened_at":"2026-06-01T12:00:00Z","sources":"github"}
`
	_, err = flywheel.DecodeEvents(strings.NewReader(bad), "import")
	var de *flywheel.DecodeError
	if !errors.As(err, &de) || len(de.Lines) != 2 ||
		de.Lines[0].Reason != `field "compare_status": "behnd" is not one of ahead, behind, identical, diverged` ||
		de.Lines[1].Reason != `unknown field "sources"` {
		t.Errorf("err = %v", err)
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
