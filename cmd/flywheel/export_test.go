package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/storage"
)

// invocation is one finished in-process run of the program.
type invocation struct {
	code           int
	stdout, stderr string
}

// runCLI runs the program in-process with stdin as its standard input.
func runCLI(stdin string, args ...string) invocation {
	var out, errb bytes.Buffer
	code := runMain(args, strings.NewReader(stdin), &out, &errb)
	return invocation{code, out.String(), errb.String()}
}

// mustRun is runCLI failing the test on a non-zero exit.
func mustRun(t *testing.T, stdin string, args ...string) invocation {
	t.Helper()
	r := runCLI(stdin, args...)
	if r.code != 0 {
		t.Fatalf("flywheel %s: exit %d\n%s", strings.Join(args, " "), r.code, r.stderr)
	}
	return r
}

// roundTripConfig is a config under which what the neutral format used to lose
// changes the numbers: acme/shop deploys to "live", which only its collected
// deployments are judged by (imported ones by production_environment).
const roundTripConfig = `github:
  token_env: FLYWHEEL_TEST_UNUSED_TOKEN
  repos:
    - name: acme/shop
      service: shop
      deployments:
        environment: "^live$"
tune_ups:
  - name: speedup
    label: "tuneup:speedup"
`

// roundTripAt is the evaluation time of the round-trip reports: the generated
// events span 2026-01-01 to 2026-10-28.
var roundTripAt = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)

var (
	rtTitles  = []string{"feat: one-click checkout", "fix(api): nil map", "refactor!: split module", "chore(deps): bump", `Revert "feat: x"`, "Update handler", "docs: guide", "perf: <faster> & leaner"}
	rtLabels  = [][]string{nil, {}, {"feature"}, {"bug"}, {"tuneup:speedup"}, {"Tech-Debt", "team-x"}}
	rtPaths   = [][]string{nil, {}, {"api/x.go"}, {"docs/a.md"}, {".github/workflows/ci.yml", "Makefile"}}
	rtAuthors = []string{"ann", "bob", "cem", "dependabot[bot]"}
	rtUrgency = []string{"high", "low", "unknown", "sev1"}
)

// varietyEvents generates n events over ten months in four repos of three
// services, in time order per repo, with every field the engine or a report
// reads in its forms: collected, imported and ingested sources; GitHub's
// compare status "behind" on a new sha (a rollback only the compare shows) and
// rollbacks by sha; commit lists absent, empty and full; labels and paths nil,
// empty and set; times to the nanosecond; open, unacknowledged and explicitly
// started incidents; caused-by ids, sha prefixes, URLs and "none"; impact-start
// lines that did not parse. The same n and seed give the same events.
func varietyEvents(n int, seed uint64) flywheel.Events {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	type repo struct {
		name, svc string
		pending   []string // merge shas since the last deployment
		deployed  []flywheel.Deployment
	}
	repos := []*repo{{name: "acme/shop", svc: "shop"}, {name: "acme/shop-web", svc: "shop"}, {name: "acme/search", svc: "search"}, {name: "acme/ledger", svc: "ledger"}}
	hex := func() string { return fmt.Sprintf("%016x%016x%08x", rng.Uint64(), rng.Uint64(), rng.Uint32()) }
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	step := 300 * 24 * time.Hour / time.Duration(n)
	var ev flywheel.Events
	for i := range n {
		at := start.Add(time.Duration(i)*step + time.Duration(rng.IntN(1000))) // nanoseconds
		r := repos[rng.IntN(len(repos))]
		hours := func(max int) time.Duration { return time.Duration(1+rng.IntN(max)) * time.Hour }
		switch k := rng.IntN(20); {
		case k < 12:
			c := flywheel.Change{ID: fmt.Sprintf("%s#%d", r.name, i), Service: r.svc, Repo: r.name,
				Title: rtTitles[rng.IntN(len(rtTitles))], Labels: rtLabels[rng.IntN(len(rtLabels))],
				Author: rtAuthors[rng.IntN(len(rtAuthors))], Paths: rtPaths[rng.IntN(len(rtPaths))],
				OpenedAt: at.Add(-hours(48)), Source: "github"}
			c.FirstCommitAt = c.OpenedAt.Add(-hours(72) + time.Duration(rng.IntN(1e9)))
			if rng.IntN(10) > 0 {
				c.MergedAt, c.MergeSHA = at, hex()
				r.pending = append(r.pending, c.MergeSHA)
				if rng.IntN(4) > 0 {
					c.FirstReviewAt = c.OpenedAt.Add(time.Duration(rng.Int64N(int64(at.Sub(c.OpenedAt)))))
				}
			}
			if rng.IntN(8) == 0 {
				c.Source, c.Repo, c.FirstCommitAt = "import", "", time.Time{}
			}
			ev.Changes = append(ev.Changes, c)
		case k < 17:
			d := flywheel.Deployment{ID: fmt.Sprintf("%s/deployments/%d", r.name, i), Service: r.svc, Repo: r.name,
				Environment: "production", SHA: hex(), FinishedAt: at, Status: flywheel.StatusSuccess, Source: "github"}
			if r.name == "acme/shop" {
				d.Environment = "live"
			}
			switch k := rng.IntN(25); {
			case k == 0:
				d.Status = "failure"
			case k == 1:
				d.Environment = "staging"
			case k == 2 && len(r.deployed) > 2:
				d.SHA = r.deployed[len(r.deployed)-3].SHA
			case k == 3 && len(r.deployed) > 0:
				d.CompareStatus = "behind"
			}
			if d.CompareStatus == "" && len(r.deployed) > 0 && rng.IntN(3) > 0 {
				d.CompareStatus = "ahead"
			}
			switch k := rng.IntN(6); {
			case k == 0: // unknown range
			case k == 1:
				d.Commits = []string{}
			default:
				d.Commits = slices.Concat(r.pending, []string{d.SHA})
				r.pending = nil
			}
			switch k := rng.IntN(20); {
			case k < 2:
				d.Source = "import"
			case k < 3:
				d.Source, d.Repo = "api", ""
			}
			r.deployed = append(r.deployed, d)
			ev.Deployments = append(ev.Deployments, d)
		default:
			x := flywheel.Incident{ID: fmt.Sprintf("Q%07d", i), Service: r.svc, Urgency: rtUrgency[rng.IntN(len(rtUrgency))],
				Title: "checkout latency above SLO", TriggeredAt: at, Source: "pagerduty"}
			if rng.IntN(3) > 0 {
				x.Priority = "P2"
			}
			if rng.IntN(4) > 0 {
				x.AcknowledgedAt = at.Add(time.Duration(rng.IntN(3600)) * time.Second)
			}
			if rng.IntN(20) > 0 {
				x.ResolvedAt = at.Add(hours(30))
			}
			if rng.IntN(4) == 0 {
				x.StartedAt = at.Add(-hours(6))
			}
			switch k := rng.IntN(10); {
			case k == 0:
				x.CausedBy = flywheel.CausedByNone
			case k < 3 && len(r.deployed) > 0:
				x.CausedBy = r.deployed[rng.IntN(len(r.deployed))].ID
			case k == 3 && len(r.deployed) > 0:
				x.CausedBy = r.deployed[rng.IntN(len(r.deployed))].SHA[:7]
			case k == 4:
				x.CausedBy = fmt.Sprintf("https://github.com/%s/pull/%d", r.name, rng.IntN(i+1))
			case k == 5:
				x.ImpactStartUnparsed = "around lunch"
			}
			if rng.IntN(6) == 0 {
				x.ID, x.Source, x.Urgency, x.Priority = fmt.Sprintf("%s/issues/%d", r.name, i), "github", "sev2", ""
			}
			ev.Incidents = append(ev.Incidents, x)
		}
	}
	return ev
}

// writeStore writes ev into a new store at path, as collectors would.
func writeStore(t testing.TB, path string, ev flywheel.Events) {
	t.Helper()
	st, err := storage.Open(path, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.WriteBatch(context.Background(), flywheel.Batch{Events: ev}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}

// storedEvents reads every record of the store at path.
func storedEvents(t testing.TB, path string) flywheel.Events {
	t.Helper()
	st, err := storage.OpenReadOnly(path, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ev, err := st.Events()
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// checkRoundTrip exports the store at orig, imports the file into an empty
// store and checks that the two stores hold the same records and report the
// same JSON, byte for byte, and, with reexport, that the restored store exports
// the same file. It returns the config file and the export.
func checkRoundTrip(t *testing.T, orig string, reexport bool) (cfg, export string) {
	t.Helper()
	dir := t.TempDir()
	cfg = filepath.Join(dir, "flywheel.yml")
	if err := os.WriteFile(cfg, []byte(roundTripConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	export = filepath.Join(dir, "events.jsonl")
	mustRun(t, "", "--storage.path", orig, "export", export)
	restored := filepath.Join(dir, "restored.db")
	mustRun(t, "", "--storage.path", restored, "import", export)

	if a, b := storedEvents(t, orig), storedEvents(t, restored); !reflect.DeepEqual(a, b) {
		t.Errorf("the restored store's records differ from the original's (%d and %d events)", a.Len(), b.Len())
	}
	report := func(path string) string {
		return mustRun(t, "", "--config.file", cfg, "--storage.path", path, "report", "--format", "json", "--at", roundTripAt.Format(time.RFC3339)).stdout
	}
	want, got := report(orig), report(restored)
	if got != want {
		t.Errorf("the restored store's report differs from the original's:\n%s", firstDifference(got, want))
	}
	if reexport {
		again := filepath.Join(dir, "again.jsonl")
		mustRun(t, "", "--storage.path", restored, "export", again)
		if a, b := readFile(t, export), readFile(t, again); a != b {
			t.Errorf("exporting the restored store gives another file:\n%s", firstDifference(b, a))
		}
	}
	return cfg, export
}

// TestExportImportRoundTrip: export, then import into an empty store, gives a
// store with the same records and the same report. It also shows that the
// fields the neutral format carries for it matter: without the sources and
// compare statuses, the same events report other numbers.
func TestExportImportRoundTrip(t *testing.T) {
	t.Parallel()
	orig := filepath.Join(t.TempDir(), "flywheel.db")
	writeStore(t, orig, varietyEvents(3000, 1))
	cfg, export := checkRoundTrip(t, orig, true)

	stripped := regexp.MustCompile(`,"(source|compare_status)":"[^"]*"`).ReplaceAllString(readFile(t, export), "")
	lossy := filepath.Join(t.TempDir(), "lossy.db")
	mustRun(t, stripped, "--storage.path", lossy, "import", "-")
	at := roundTripAt.Format(time.RFC3339)
	want := mustRun(t, "", "--config.file", cfg, "--storage.path", orig, "report", "--format", "json", "--at", at).stdout
	if got := mustRun(t, "", "--config.file", cfg, "--storage.path", lossy, "report", "--format", "json", "--at", at).stdout; got == want {
		t.Error("without sources and compare statuses the report is the same: the generated events do not exercise them")
	}
}

// TestExportImportRoundTripLarge is the round trip of a 100,000-event store. Its
// cost is mostly the store's two writes of 100,000 records (about 5 s, 25 s
// with -race, on 2 cores), so -short skips it.
func TestExportImportRoundTripLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("a 100,000-event round trip; skipped with -short")
	}
	t.Parallel()
	orig := filepath.Join(t.TempDir(), "flywheel.db")
	ev := varietyEvents(100_000, 2)
	writeStore(t, orig, ev)
	// The same records (checked) give the same export; not written twice here.
	_, export := checkRoundTrip(t, orig, false)
	if lines := strings.Count(readFile(t, export), "\n"); lines != ev.Len() {
		t.Errorf("the export has %d lines, want one for each of the %d events", lines, ev.Len())
	}
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// firstDifference shows the first line where got and want differ.
func firstDifference(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range min(len(g), len(w)) {
		if g[i] != w[i] {
			return fmt.Sprintf("line %d:\n got %s\nwant %s", i+1, g[i], w[i])
		}
	}
	return fmt.Sprintf("%d lines, want %d", len(g), len(w))
}

// The export is in a stable order: deployments, changes, incidents, each by
// its own time, then id; --since keeps the events at or after it.
func TestExportOrderAndSince(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "flywheel.db")
	day := func(d int) time.Time { return time.Date(2026, 6, d, 12, 0, 0, 0, time.UTC) }
	writeStore(t, path, flywheel.Events{
		Deployments: []flywheel.Deployment{
			{ID: "d-b", Service: "s", Environment: "production", SHA: "b", Status: "success", FinishedAt: day(3)},
			{ID: "d-a", Service: "s", Environment: "production", SHA: "a", Status: "success", FinishedAt: day(3)},
			{ID: "d-early", Service: "s", Environment: "production", SHA: "c", Status: "success", FinishedAt: day(1)},
		},
		Changes: []flywheel.Change{
			{ID: "c-merged", Service: "s", OpenedAt: day(1), MergedAt: day(2).Add(12 * time.Hour)},
			{ID: "c-open", Service: "s", OpenedAt: day(2)},
		},
		Incidents: []flywheel.Incident{{ID: "i", Service: "s", Urgency: "high", TriggeredAt: day(2).Add(-time.Nanosecond)}},
	})
	ids := func(out string) []string {
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			m := regexp.MustCompile(`"id":"([^"]*)"`).FindStringSubmatch(l)
			if m == nil {
				t.Fatalf("line without an id: %s", l)
			}
			got = append(got, m[1])
		}
		return got
	}
	r := mustRun(t, "", "--storage.path", path, "export")
	if got, want := ids(r.stdout), []string{"d-early", "d-a", "d-b", "c-open", "c-merged", "i"}; !reflect.DeepEqual(got, want) {
		t.Errorf("export order = %q, want %q", got, want)
	}
	if again := mustRun(t, "", "--storage.path", path, "export", "-"); again.stdout != r.stdout {
		t.Error("two exports of one store differ")
	}
	for since, want := range map[string][]string{
		"2026-06-02":                     {"d-a", "d-b", "c-open", "c-merged", "i"}, // a date is its UTC midnight
		"2026-06-02T12:00:00Z":           {"d-a", "d-b", "c-open", "c-merged"},      // at the time itself: kept; i is 1ns before
		"2026-06-02T14:00:00+02:00":      {"d-a", "d-b", "c-open", "c-merged"},
		"2026-06-02T12:00:00.000000001Z": {"d-a", "d-b", "c-merged"},
	} {
		if got := ids(mustRun(t, "", "--storage.path", path, "export", "--since", since).stdout); !reflect.DeepEqual(got, want) {
			t.Errorf("--since %s: %q, want %q", since, got, want)
		}
	}
	r = runCLI("", "--storage.path", path, "export", "--since", "last week")
	if r.code != 2 || !strings.Contains(r.stderr, `--since: "last week" is neither an RFC3339 time`) || r.stdout != "" {
		t.Errorf("bad --since: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// `import -` reads standard input (kingpin hands a lone "-" over as "").
func TestImportFromStandardInput(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "flywheel.db")
	in := `{"kind":"deployment","id":"d1","service":"s","environment":"production","sha":"a","finished_at":"2026-06-01T12:00:00Z","status":"success"}
{"kind":"incident","id":"i1","service":"s","triggered_at":"2026-06-01T13:00:00Z","source":"pagerduty"}
`
	r := mustRun(t, in, "--storage.path", path, "import", "-")
	if !strings.Contains(r.stdout, "imported 1 deployments, 0 changes, 1 incidents from <stdin> into "+path) {
		t.Errorf("import - said %q", r.stdout)
	}
	ev := storedEvents(t, path)
	if len(ev.Deployments) != 1 || ev.Deployments[0].Source != "import" || len(ev.Incidents) != 1 || ev.Incidents[0].Source != "pagerduty" {
		t.Errorf("stored %+v", ev)
	}
	r = runCLI(`{"kind":"change","id":"c","service":"s"}`+"\n", "--storage.path", path, "import", "-")
	if r.code == 0 || !strings.Contains(r.stderr, `<stdin>:1: missing required field "opened_at"`) {
		t.Errorf("bad line from stdin: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := runCLI("", "--storage.path", path, "import", ""); r.code != 2 || !strings.Contains(r.stderr, "the file name is empty") {
		t.Errorf(`import "": exit %d, stderr %q`, r.code, r.stderr)
	}
}

// Commands that only read fail on a missing store, naming it, and create no
// file.
func TestReadOnlyCommandsNeverCreateAStore(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.db")
	for _, args := range [][]string{
		{"report", "--format", "json"},
		{"export"},
		{"export", filepath.Join(dir, "out.jsonl")},
		{"backfill", "--from", "2026-06-01", "--to", "2026-06-03"},
	} {
		r := runCLI("", append([]string{"--storage.path", missing}, args...)...)
		if r.code != 1 || !strings.Contains(r.stderr, "store "+missing+" does not exist") || r.stdout != "" {
			t.Errorf("%s on a missing store: exit %d, stdout %q, stderr %q", args[0], r.code, r.stdout, r.stderr)
		}
	}
	if entries, err := os.ReadDir(dir); err != nil || len(entries) != 0 {
		t.Errorf("read-only commands left files: %v %v", entries, err)
	}
}

// While a writer holds the store (here a second open in this process, as a
// running serve would), report and export fail after the lock timeout with an
// error that names the store and, for report, where serve answers the same.
func TestReadOnlyCommandsWhileAWriterHoldsTheStore(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "flywheel.db")
	writeStore(t, path, varietyEvents(50, 3))
	st, err := storage.Open(path, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	before := readFile(t, path)

	r := runCLI("", "--storage.path", path, "report", "--format", "json")
	if want := path + " is in use by another flywheel process (serve?); the same answer is served at /api/v1/report"; r.code != 1 || !strings.Contains(r.stderr, want) {
		t.Errorf("report: exit %d, stderr %q\nwant %q", r.code, r.stderr, want)
	}
	out := filepath.Join(dir, "out.jsonl")
	r = runCLI("", "--storage.path", path, "export", out)
	if r.code != 1 || !strings.Contains(r.stderr, path+" is in use by another flywheel process") {
		t.Errorf("export: exit %d, stderr %q", r.code, r.stderr)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed export left %s", out)
	}
	if readFile(t, path) != before {
		t.Error("the store's file changed")
	}
}

// An export that cannot be written fails and leaves nothing behind: no file, no
// temporary file, and an existing file as it was.
func TestExportFailureLeavesNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "flywheel.db")
	writeStore(t, path, varietyEvents(50, 4))

	r := runCLI("", "--storage.path", path, "export", filepath.Join(dir, "no-such-dir", "out.jsonl"))
	if r.code != 1 || !strings.Contains(r.stderr, "export: create "+filepath.Join(dir, "no-such-dir", "out.jsonl")+": no such file or directory") {
		t.Errorf("export into a missing directory: exit %d, stderr %q", r.code, r.stderr)
	}
	r = runCLI("", "--storage.path", path, "export", path)
	if r.code != 1 || !strings.Contains(r.stderr, path+" is the store itself") {
		t.Errorf("export over the store: exit %d, stderr %q", r.code, r.stderr)
	}

	// A write that fails half way: the existing file keeps its content.
	out := filepath.Join(dir, "out.jsonl")
	if err := os.WriteFile(out, []byte("yesterday's export\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := writeFileAtomic(out, func(w io.Writer) error {
		if _, err := io.WriteString(w, `{"kind":"deployment"`); err != nil {
			return err
		}
		return errors.New("disk full")
	})
	if err == nil || !strings.Contains(err.Error(), "write "+out+": disk full") {
		t.Errorf("err = %v", err)
	}
	if got := readFile(t, out); got != "yesterday's export\n" {
		t.Errorf("the existing file now holds %q", got)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"flywheel.db", "out.jsonl"}; !reflect.DeepEqual(names, want) {
		t.Errorf("directory holds %q, want %q", names, want)
	}
}

// TestExportToAPipeKeepsThePipe: exporting to a path that is not a regular
// file (a named pipe here; /dev/null or /dev/stdout in real use) writes into
// it. Renaming a temporary file over it, as an export to a regular file does,
// would replace the pipe or device with a file — as root, /dev/null itself.
func TestExportToAPipeKeepsThePipe(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "flywheel.db")
	writeStore(t, path, varietyEvents(20, 4))
	fifo := filepath.Join(dir, "out.pipe")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	got := make(chan string, 1)
	go func() {
		f, err := os.Open(fifo) // blocks until the export opens it for writing
		if err != nil {
			got <- "open: " + err.Error()
			return
		}
		defer f.Close()
		b, _ := io.ReadAll(f)
		got <- string(b)
	}()
	r := runCLI("", "--storage.path", path, "export", fifo)
	if r.code != 0 {
		t.Fatalf("export to a pipe: exit %d, stderr %q", r.code, r.stderr)
	}
	fi, err := os.Lstat(fifo)
	if err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		// the reader stays blocked on the replaced pipe: do not wait for it
		t.Fatalf("%s is no longer a named pipe: %v, %v", fifo, fi.Mode(), err)
	}
	if out := <-got; !strings.Contains(out, `"kind":"deployment"`) || !strings.Contains(out, `"kind":"incident"`) {
		t.Errorf("the pipe's reader got %.200q", out)
	}
}
