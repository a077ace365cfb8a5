package metrics

import (
	"bytes"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel"
)

func TestParseDisabled(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   []string
		want Disabled
	}{
		{nil, Disabled{}},
		{[]string{""}, Disabled{}},
		{[]string{"stages"}, Disabled{stages: true}},
		{[]string{"by_urgency,histograms"}, Disabled{byUrgency: true, histograms: true}},
		{[]string{"stages", " histograms ", "stages"}, Disabled{stages: true, histograms: true}},
	} {
		got, err := ParseDisabled(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseDisabled(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	_, err := ParseDisabled([]string{"stages,urgency"})
	if err == nil || !strings.Contains(err.Error(), `"urgency"`) || !strings.Contains(err.Error(), "by_urgency, stages, histograms") {
		t.Errorf("an unknown group: %v, want an error naming it and the valid ones", err)
	}
	all, _ := ParseDisabled(DisableGroups())
	if all.String() != "by_urgency,stages,histograms" || (Disabled{}).String() != "" {
		t.Errorf("String: %q", all.String())
	}
}

// inGroup reports whether an exposition line (a sample, HELP or TYPE) belongs
// to a group of series.
var inGroup = map[string]func(line string) bool{
	"by_urgency": func(l string) bool {
		return strings.Contains(l, `urgency="`) && !strings.Contains(l, `urgency="all"`)
	},
	"stages": regexp.MustCompile(`^(# (HELP|TYPE) )?flywheel_lead_time_stage_seconds(_sum|_count)?[{ ]`).MatchString,
	"histograms": regexp.MustCompile(
		`^(# (HELP|TYPE) )?flywheel_(lead_time|incident_time_to_resolve)_distribution_seconds`).MatchString,
}

// checkDisabled compares the text of a full exposition with one that disables
// groups: the lines that go are exactly those of the groups, every other line
// stays as it was.
func checkDisabled(t *testing.T, groups []string, full, part string) {
	t.Helper()
	removed := func(l string) bool {
		for _, g := range groups {
			if inGroup[g](l) {
				return true
			}
		}
		return false
	}
	kept := map[string]bool{}
	for l := range strings.SplitSeq(part, "\n") {
		kept[l] = true
		if removed(l) {
			t.Errorf("%v disabled, still there: %s", groups, l)
		}
	}
	gone := 0
	for l := range strings.SplitSeq(full, "\n") {
		switch {
		case removed(l):
			gone++
		case !kept[l]:
			t.Errorf("%v disabled, a line of another group is missing: %s", groups, l)
		}
	}
	if gone == 0 {
		t.Errorf("the full exposition has no line of %v: the test checks nothing", groups)
	}
}

func TestDisabledGroupsLeaveOnlyTheirSeries(t *testing.T) {
	t.Parallel()
	snap := fixtureSnapshot(t)
	expose := func(d Disabled) string {
		return string(exposition(t, NewExporter(func() *Snapshot { return snap }, fixtureHealth, constTeams(fixtureTeams),
			func() time.Time { return fixtureAt.Add(time.Minute) }, d)))
	}
	full := expose(Disabled{})
	cases := [][]string{{"by_urgency"}, {"stages"}, {"histograms"}, DisableGroups()}
	for _, groups := range cases {
		d, err := ParseDisabled(groups)
		if err != nil {
			t.Fatal(err)
		}
		checkDisabled(t, groups, full, expose(d))
	}
	// What is left still passes promtool's checks.
	if promtool, err := exec.LookPath("promtool"); err == nil {
		cmd := exec.Command(promtool, "check", "metrics")
		all, _ := ParseDisabled(DisableGroups())
		cmd.Stdin = strings.NewReader(expose(all))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool check metrics with every group disabled: %v\n%s", err, out)
		}
	}
}

func TestDisabledGroupsInBackfill(t *testing.T) {
	t.Parallel()
	in := fixtureInput(t, fixtureOptions())
	points, err := ComputeSnapshots(in, fixtureAt.Add(-48*time.Hour), fixtureAt, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	write := func(d Disabled) string {
		var buf bytes.Buffer
		if err := WriteOpenMetrics(&buf, points, fixtureTeams, d); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	full := write(Disabled{})
	for _, groups := range [][]string{{"by_urgency"}, {"stages"}, {"histograms"}} {
		d, _ := ParseDisabled(groups)
		checkDisabled(t, groups, full, write(d))
	}
}

// TestSyncDurationAbsentUntilASyncFinished: before a source's first sync has
// finished its duration is unknown, so the series is absent rather than 0.
func TestSyncDurationAbsentUntilASyncFinished(t *testing.T) {
	t.Parallel()
	t0 := fixtureAt.Add(-time.Hour)
	statuses := []flywheel.SourceStatus{
		{Source: "never", RateLimitRemaining: -1},
		{Source: "first", LastAttempt: t0, Running: true, RateLimitRemaining: -1},
		{Source: "failed", LastAttempt: t0, LastDuration: 3 * time.Second, Failures: 1, RateLimitRemaining: -1},
		{Source: "again", LastAttempt: t0, LastSuccess: t0.Add(-time.Hour), LastDuration: 2 * time.Second, Running: true, RateLimitRemaining: -1},
		{Source: "instant", LastAttempt: t0, LastSuccess: t0, RateLimitRemaining: -1}, // finished within the clock's resolution
	}
	got := string(exposition(t, NewExporter(nil, func() []flywheel.SourceStatus { return statuses }, nil,
		func() time.Time { return fixtureAt }, Disabled{})))
	for _, absent := range []string{`flywheel_source_sync_duration_seconds{source="never"}`, `flywheel_source_sync_duration_seconds{source="first"}`} {
		if strings.Contains(got, absent) {
			t.Errorf("%s present before a sync finished:\n%s", absent, got)
		}
	}
	for _, want := range []string{
		`flywheel_source_sync_duration_seconds{source="failed"} 3`,
		`flywheel_source_sync_duration_seconds{source="again"} 2`,
		`flywheel_source_sync_duration_seconds{source="instant"} 0`,
		`flywheel_source_sync_errors_total{source="never"} 0`,
	} {
		if !strings.Contains(got, want+"\n") {
			t.Errorf("missing %s in\n%s", want, got)
		}
	}
}
