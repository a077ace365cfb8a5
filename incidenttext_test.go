package flywheel_test

import (
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel"
)

func TestIncidentNotesScan(t *testing.T) {
	t.Parallel()
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v.UTC()
	}
	for _, tc := range []struct {
		name     string
		texts    []string
		tz       *time.Location
		causedBy string
		started  time.Time
		unparsed string
	}{
		{name: "plain", texts: []string{"caused-by: abc1234\nimpact-start: 2026-03-01T10:00:00Z"},
			causedBy: "abc1234", started: utc("2026-03-01T10:00:00Z")},
		{name: "markdown around keys and values",
			texts:    []string{"> **Caused-by:** `acme/checkout#42`.\n- _impact-start_: `2026-03-01 10:00 UTC`"},
			causedBy: "acme/checkout#42", started: utc("2026-03-01T10:00:00Z")},
		{name: "markdown link and angle brackets",
			texts:    []string{"caused-by: [the deploy](https://github.com/acme/checkout/actions/runs/77)", "caused_by: <https://github.com/acme/checkout/pull/9>."},
			causedBy: "https://github.com/acme/checkout/pull/9"},
		{name: "none in any case", texts: []string{"caused-by: abc1234", "Caused-By: NONE"}, causedBy: flywheel.CausedByNone},
		{name: "space date with offset", texts: []string{"impact-start: 2026-03-01 12:30:15 +02:00"},
			started: utc("2026-03-01T10:30:15Z")},
		{name: "compact offset", texts: []string{"impact start: 2026-03-01 12:30+0200"}, started: utc("2026-03-01T10:30:00Z")},
		{name: "no zone reads the configured zone", tz: berlin, texts: []string{"impact-start: 2026-07-01 12:00"},
			started: utc("2026-07-01T10:00:00Z")},
		{name: "no zone defaults to UTC", texts: []string{"impact-start: 2026-07-01T12:00:00"}, started: utc("2026-07-01T12:00:00Z")},
		{name: "unparsed kept, earlier good time stays", texts: []string{"impact-start: 2026-07-01T12:00:00Z", "impact-start: about noon"},
			started: utc("2026-07-01T12:00:00Z"), unparsed: "about noon"},
		{name: "a later good line clears an unparsed one", texts: []string{"impact-start: yesterday", "impact-start: 2026-07-01 09:00 Z"},
			started: utc("2026-07-01T09:00:00Z")},
		{name: "a time outside the valid years is unparsed", texts: []string{"impact-start: 9999-01-01T00:00:00Z"},
			unparsed: "9999-01-01T00:00:00Z"},
		{name: "a year before 1970 is unparsed", texts: []string{"impact-start: 1600-01-01 10:00 UTC"},
			unparsed: "1600-01-01 10:00 UTC"},
		{name: "key inside a sentence is not a line", texts: []string{"we think the caused-by: line is wrong"}},
		{name: "issue form fields",
			texts:    []string{"### What happened\n\nCheckout failed.\n\n### Caused by\n\n`acme/checkout#42`\n\n### Impact start (UTC)\n\n2026-03-01 10:00\n\n### Notes\n\n_No response_\n"},
			causedBy: "acme/checkout#42", started: utc("2026-03-01T10:00:00Z")},
		{name: "issue form field left empty", texts: []string{"### Caused-by\n\n_No response_\n\n### Impact start\n\n### Summary\n\nx\n"}},
		{name: "template instructions in HTML comments are not answers",
			texts:    []string{"<!-- caused-by: the deployment id or sha\nimpact-start: when users were first hurt -->\ncaused-by: <!-- fill in --> d-7\n"},
			causedBy: "d-7"},
		{name: "CRLF", texts: []string{"caused-by: d-1\r\nimpact-start: 2026-07-01T12:00:00Z\r\n"}, causedBy: "d-1", started: utc("2026-07-01T12:00:00Z")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var n flywheel.IncidentNotes
			for _, x := range tc.texts {
				n.Scan(x, tc.tz)
			}
			if n.CausedBy != tc.causedBy || !n.StartedAt.Equal(tc.started) || n.StartUnparsed != tc.unparsed {
				t.Errorf("got caused-by %q, start %v, unparsed %q; want %q, %v, %q",
					n.CausedBy, n.StartedAt, n.StartUnparsed, tc.causedBy, tc.started, tc.unparsed)
			}
		})
	}
}

func TestIncidentNotesField(t *testing.T) {
	t.Parallel()
	var n flywheel.IncidentNotes
	if n.Field("severity", "high", nil) {
		t.Error("Field took an unrelated key")
	}
	if !n.Field("Caused_By", " `1200001776` ", nil) || !n.Field("impact-start", "2026-07-01 09:00:00", nil) {
		t.Fatal("Field ignored a caused-by or impact-start key")
	}
	if n.CausedBy != "1200001776" || !n.StartedAt.Equal(time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("got %+v", n)
	}
}

func TestParseCausedBy(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want flywheel.CausedByRef
	}{
		{"", flywheel.CausedByRef{}},
		{"None", flywheel.CausedByRef{Kind: flywheel.RefNotCaused, Value: "none"}},
		{"acme/checkout/deployments/12", flywheel.CausedByRef{Kind: flywheel.RefWord, Value: "acme/checkout/deployments/12"}},
		{"1200001776", flywheel.CausedByRef{Kind: flywheel.RefWord, Value: "1200001776"}},
		{"`abc1234`.", flywheel.CausedByRef{Kind: flywheel.RefWord, Value: "abc1234"}},
		{"acme/checkout#42", flywheel.CausedByRef{Kind: flywheel.RefPull, Repo: "acme/checkout", Value: "42"}},
		{"https://github.com/acme/checkout/pull/42/files", flywheel.CausedByRef{Kind: flywheel.RefPull, Repo: "acme/checkout", Value: "42"}},
		{"https://api.github.com/repos/acme/checkout/deployments/1200001776", flywheel.CausedByRef{Kind: flywheel.RefDeployment, Repo: "acme/checkout", Value: "1200001776"}},
		{"https://github.com/acme/checkout/actions/runs/987/job/5", flywheel.CausedByRef{Kind: flywheel.RefRun, Repo: "acme/checkout", Value: "987"}},
		{"https://ghe.example.com/api/v3/repos/acme/checkout/actions/runs/987", flywheel.CausedByRef{Kind: flywheel.RefRun, Repo: "acme/checkout", Value: "987"}},
		{"https://github.com/acme/checkout/releases/tag/v1.2.3", flywheel.CausedByRef{Kind: flywheel.RefRelease, Repo: "acme/checkout", Value: "v1.2.3"}},
		{"<https://github.com/acme/checkout/commit/0123456789abcdef0123456789abcdef01234567>", flywheel.CausedByRef{Kind: flywheel.RefCommit, Repo: "acme/checkout", Value: "0123456789abcdef0123456789abcdef01234567"}},
		{"https://example.com/wiki", flywheel.CausedByRef{Kind: flywheel.RefURL, Value: "https://example.com/wiki"}},
	} {
		if got := flywheel.ParseCausedBy(tc.in); got != tc.want {
			t.Errorf("ParseCausedBy(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}
