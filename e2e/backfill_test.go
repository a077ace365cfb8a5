package e2e

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/flywheel-metrics/flywheel/internal/promtest"
)

// sampleTimes returns the smallest and largest sample timestamp of an
// OpenMetrics text, in seconds.
func sampleTimes(t *testing.T, text string) (first, last float64) {
	t.Helper()
	first = -1
	for line := range strings.SplitSeq(text, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line[strings.LastIndexByte(line, '}')+1:])
		if len(f) != 2 {
			continue
		}
		ts, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			t.Fatalf("sample timestamp in %q: %v", line, err)
		}
		if first < 0 || ts < first {
			first = ts
		}
		last = max(last, ts)
	}
	return first, last
}

// TestBackfillRange: backfill starts at the step of the first stored event,
// clamps an earlier --from there and says so, refuses an output estimated
// above its limit without --force, and leaves out the groups of
// --metrics.disable.
func TestBackfillRange(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "flywheel.db")
	if r := runFlywheel(t, nil, "--storage.path", db, "import", "testdata/events.jsonl"); r.Code != 0 {
		t.Fatalf("import: %s", r.Stderr)
	}
	// The first event: a pull request opened on 2026-09-30 at 10:00 UTC; the
	// first point that sees it is the next midnight.
	firstDay := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)

	plain := filepath.Join(dir, "plain.om")
	r := runFlywheel(t, nil, "--storage.path", db, "backfill", "--to", "2026-10-11", "--output", plain)
	if r.Code != 0 {
		t.Fatalf("backfill without --from: exit %d: %s", r.Code, r.Stderr)
	}
	if !strings.Contains(r.Stderr, "10 points every 1d from 2026-10-01T00:00:00Z to 2026-10-11T00:00:00Z, up to about") {
		t.Errorf("backfill does not say what it writes:\n%s", r.Stderr)
	}
	if !strings.Contains(r.Stderr, "promtool tsdb create-blocks-from openmetrics --max-block-duration=744h "+plain) {
		t.Errorf("backfill does not give the promtool command:\n%s", r.Stderr)
	}
	text := readFile(t, plain)
	if first, last := sampleTimes(t, text); first != float64(firstDay.Unix()) || last != float64(firstDay.AddDate(0, 0, 9).Unix()) {
		t.Errorf("samples from %v to %v, want %d (the first event's day) to %d", first, last, firstDay.Unix(), firstDay.AddDate(0, 0, 9).Unix())
	}

	// An earlier --from starts at the first event too, and says so.
	clamped := filepath.Join(dir, "clamped.om")
	r = runFlywheel(t, nil, "--storage.path", db, "backfill", "--from", "2020-01-01", "--to", "2026-10-11", "--output", clamped)
	if r.Code != 0 {
		t.Fatalf("backfill --from 2020-01-01: exit %d: %s", r.Code, r.Stderr)
	}
	if !strings.Contains(r.Stderr, "the first stored event is at 2026-09-30T10:00:00Z; starting at 2026-10-01T00:00:00Z rather than at --from 2020-01-01T00:00:00Z") {
		t.Errorf("backfill does not say it clamped --from:\n%s", r.Stderr)
	}
	if readFile(t, clamped) != text {
		t.Error("backfill --from 2020-01-01 differs from backfill without --from")
	}

	// Every minute for years: refused without --force, nothing written.
	huge := filepath.Join(dir, "huge.om")
	r = runFlywheel(t, nil, "--storage.path", db, "backfill", "--from", "2020-01-01", "--to", "2030-01-01", "--step", "1m", "--output", huge)
	if r.Code != 1 || !strings.Contains(r.Stderr, "above the 1.0 GiB that backfill writes without --force") || !strings.Contains(r.Stderr, "1m from 2026-09-30T10:01:00Z") {
		t.Errorf("a huge backfill: exit %d, stderr %q", r.Code, r.Stderr)
	}
	if _, err := os.Stat(huge); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a refused backfill created its output: %v", err)
	}

	// --metrics.disable leaves its groups out, as on /metrics.
	lean := filepath.Join(dir, "lean.om")
	if r := runFlywheel(t, nil, "--storage.path", db, "backfill", "--to", "2026-10-11", "--metrics.disable", "stages,histograms", "--output", lean); r.Code != 0 {
		t.Fatalf("backfill --metrics.disable: exit %d: %s", r.Code, r.Stderr)
	}
	leanText := readFile(t, lean)
	for _, family := range []string{"flywheel_lead_time_stage_seconds", "flywheel_lead_time_distribution_seconds"} {
		if !strings.Contains(text, family) || strings.Contains(leanText, family) {
			t.Errorf("%s: in the full backfill %v, in the one without it %v", family, strings.Contains(text, family), strings.Contains(leanText, family))
		}
	}
	if !strings.Contains(leanText, "flywheel_lead_time_seconds") {
		t.Error("--metrics.disable stages,histograms left out lead time too")
	}
	if r := runFlywheel(t, nil, "--storage.path", db, "backfill", "--metrics.disable", "stage"); r.Code != 2 || !strings.Contains(r.Stderr, `unknown metric group "stage" (valid: by_urgency, stages, histograms)`) {
		t.Errorf("an unknown group: exit %d, stderr %q", r.Code, r.Stderr)
	}
}

// TestComposeBackfill runs what deploy/compose does before its Prometheus
// starts, with the commands as the compose file writes them and its volumes as
// directories: the backfill service's flywheel command, the promtool command of
// backfill-blocks, then Prometheus with the compose's retention on the blocks.
// The trend panels' first months then have data, in a handful of blocks.
func TestComposeBackfill(t *testing.T) {
	if testing.Short() {
		t.Skip("collects the demo and starts Prometheus")
	}
	t.Parallel()
	promtool := promtest.NeedTool(t, "promtool")
	promtest.NeedTool(t, "prometheus")
	var compose struct {
		Services map[string]struct {
			Command    []string `yaml:"command"`
			Entrypoint []string `yaml:"entrypoint"`
			Volumes    []string `yaml:"volumes"`
		} `yaml:"services"`
	}
	b, err := os.ReadFile("../deploy/compose/docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &compose); err != nil {
		t.Fatal(err)
	}
	// Each named volume is a directory; a path inside a container maps into it.
	volumes := map[string]string{}
	hostPath := func(service, p string) string {
		for _, v := range compose.Services[service].Volumes {
			parts := strings.Split(v, ":")
			if rest, ok := strings.CutPrefix(p, parts[1]); ok && (rest == "" || rest[0] == '/') {
				if volumes[parts[0]] == "" {
					volumes[parts[0]] = t.TempDir()
				}
				return filepath.Join(volumes[parts[0]], rest)
			}
		}
		t.Fatalf("compose service %s mounts no volume at %s", service, p)
		return ""
	}

	args := compose.Services["backfill"].Command
	for i, a := range args {
		if path.IsAbs(a) {
			args[i] = hostPath("backfill", a)
		}
	}
	if r := runFlywheel(t, nil, args...); r.Code != 0 {
		t.Fatalf("flywheel %s: exit %d\n%s", strings.Join(args, " "), r.Code, r.Stderr)
	}

	script := strings.Join(compose.Services["backfill-blocks"].Command, " ")
	_, cmdline, ok := strings.Cut(script, "promtool ")
	if !ok {
		t.Fatalf("backfill-blocks runs no promtool: %q", script)
	}
	cmdline, _, _ = strings.Cut(cmdline, "&&")
	pargs := strings.Fields(cmdline)
	for i, a := range pargs {
		if path.IsAbs(a) {
			pargs[i] = hostPath("backfill-blocks", a)
		}
	}
	data := pargs[len(pargs)-1]
	if out, err := exec.Command(promtool, pargs...).CombinedOutput(); err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(pargs, " "), err, out)
	}
	blocks, err := os.ReadDir(data)
	if err != nil {
		t.Fatal(err)
	}
	// About a year of daily points, in blocks of up to 486 hours (promtool's
	// largest range within 744h): under 25 blocks, where the 2-hour default
	// makes one per point.
	if len(blocks) == 0 || len(blocks) > 25 {
		t.Errorf("promtool made %d blocks of the demo's year", len(blocks))
	}

	var extra []string
	for _, a := range compose.Services["prometheus"].Command {
		if strings.HasPrefix(a, "--storage.tsdb.retention") {
			extra = append(extra, a)
		}
	}
	prom := promtest.Start(t, "global: {}\n", data, extra...)
	// Half a year ago, the demo organisation had deployed: a value the compose's
	// Prometheus shows at once, before any scrape.
	at := time.Now().Add(-180 * 24 * time.Hour).UTC().Truncate(24 * time.Hour)
	res, err := prom.Query(`flywheel_deployments{service_name="all"}`, at)
	if err != nil || len(res.Values) != 1 || res.Values[0] <= 0 {
		t.Errorf("flywheel_deployments of all services at %s: %v %v", at.Format(time.DateOnly), res, err)
	}
}
