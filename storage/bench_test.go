package storage_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/storage"
)

// The benchmark stores take a while to build, so each size is built once per
// test binary, in one temporary directory removed by TestMain.
var benchStores struct {
	mu    sync.Mutex
	dir   string
	paths map[[2]int]string
}

func removeBenchStore() {
	benchStores.mu.Lock()
	defer benchStores.mu.Unlock()
	if benchStores.dir != "" {
		os.RemoveAll(benchStores.dir)
		benchStores.dir, benchStores.paths = "", nil
	}
}

// The large organisation docs/benchmarks.md measures: 1M changes, 200k
// deployments, 50k incidents.
const (
	benchChanges     = 1_000_000
	benchDeployments = benchChanges / 5
	benchIncidents   = benchChanges / 20
)

// bigStore is the store of that size.
func bigStore(b *testing.B) string { return benchStore(b, benchChanges, 0) }

// benchStore returns a store of realisticEvents(changes, branchCommits), built
// on first use.
func benchStore(b *testing.B, changes, branchCommits int) string {
	benchStores.mu.Lock()
	defer benchStores.mu.Unlock()
	key := [2]int{changes, branchCommits}
	if p, ok := benchStores.paths[key]; ok {
		return p
	}
	if benchStores.dir == "" {
		dir, err := os.MkdirTemp("", "flywheel-bench-")
		if err != nil {
			b.Fatal(err)
		}
		benchStores.dir, benchStores.paths = dir, map[[2]int]string{}
	}
	p := filepath.Join(benchStores.dir, fmt.Sprintf("flywheel-%d-%d.db", changes, branchCommits))
	if err := fillStore(p, changes, branchCommits); err != nil {
		b.Fatal(err)
	}
	benchStores.paths[key] = p
	return p
}

// fillStore writes realisticEvents in batches of 5000, like an import.
func fillStore(path string, changes, branchCommits int) error {
	s, err := storage.Open(path, storage.Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	w := &batchWriter{s: s}
	realisticEvents(changes, branchCommits, w)
	w.flush()
	return w.err
}

// batchWriter is an EventSink that writes to a store every 5000 events; the
// first error stops it and stays in err.
type batchWriter struct {
	s   *storage.Store
	b   flywheel.Batch
	err error
}

func (w *batchWriter) flush() {
	if w.err == nil {
		w.err = w.s.WriteBatch(context.Background(), w.b)
	}
	w.b = flywheel.Batch{}
}

func (w *batchWriter) added() {
	if w.b.Len() >= 5000 {
		w.flush()
	}
}

func (w *batchWriter) Grow(int, int, int) {}
func (w *batchWriter) AddDeployment(d *flywheel.Deployment) {
	w.b.AddDeployment(d)
	w.added()
}
func (w *batchWriter) AddChange(c *flywheel.Change) {
	w.b.AddChange(c)
	w.added()
}
func (w *batchWriter) AddIncident(x *flywheel.Incident) {
	w.b.AddIncident(x)
	w.added()
}

// Varied records, so that classification, the time fallback, attribution and
// the data-quality counts all have work: conventional and plain titles, a long
// tail of labels and paths, unmerged PRs, deployments without commit lists or
// not counting, open incidents and explicit caused-by values (deployment ids
// and PRs).
var (
	benchTitles = []string{"feat: add wallet %d", "fix(api): nil map in %d", "refactor!: split module %d",
		"chore(deps): bump lib to v%d", "docs: guide %d", `Revert "feat: add wallet %d"`, "Update handler %d"}
	benchLabels = [][]string{nil, {"feature"}, {"bug"}, {"tech-debt"}, {"tuneup:ci-speedup", "team-x"}, nil, {"feature", "bug"}}
	benchPaths  = [][]string{{"api/handler.go", "api/handler_test.go"}, {"docs/guide.md"}, {".github/workflows/ci.yml"},
		nil, {"README.md", "Makefile"}}
)

// realisticEvents generates a year of events — changes PRs, a fifth as many
// deployments and a twentieth as many incidents over 40 services — and adds
// each to sink.
// A deployment's commit list holds the merge shas of the five PRs it ships
// (squash merges) and, with branchCommits > 0, as many branch commits per PR
// besides (merge commits: the range holds every commit of every branch).
func realisticEvents(changes, branchCommits int, sink flywheel.EventSink) {
	deploys, incs := changes/5, changes/20
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	year := 365 * 24 * time.Hour
	at := func(i, n int) time.Time { return start.Add(time.Duration(int64(year) / int64(n) * int64(i))) }
	svc := func(i int) string { return fmt.Sprintf("service-%02d", i%40) }
	for i := range changes {
		c := flywheel.Change{
			ID: fmt.Sprintf("acme/%s#%d", svc(i), i), Service: svc(i), Repo: "acme/" + svc(i),
			Title: fmt.Sprintf(benchTitles[i%len(benchTitles)], i), Labels: benchLabels[i%len(benchLabels)],
			Author: fmt.Sprintf("dev-%d", i%300), FirstCommitAt: at(i, changes).Add(-30 * time.Hour),
			OpenedAt: at(i, changes).Add(-20 * time.Hour), FirstReviewAt: at(i, changes).Add(-10 * time.Hour),
			MergedAt: at(i, changes), MergeSHA: fmt.Sprintf("%040x", i), Paths: benchPaths[i%len(benchPaths)],
			Source: "github",
		}
		switch {
		case i%20 == 7: // never merged
			c.MergedAt, c.MergeSHA = time.Time{}, ""
		case i%11 == 3: // a long tail of labels and paths
			c.Labels = []string{fmt.Sprintf("area/%d", i%500)}
			c.Paths = []string{fmt.Sprintf("pkg/%d/file.go", i%5000)}
		}
		sink.AddChange(&c)
	}
	for i := range deploys {
		d := flywheel.Deployment{
			ID: fmt.Sprintf("%d", 1_000_000_000+i), Service: svc(i), Repo: "acme/" + svc(i), Environment: "production",
			// just before the next deployment: it ships the PRs merged since its own slot began
			SHA: fmt.Sprintf("%040x", 5*i+4), FinishedAt: at(i+1, deploys).Add(-time.Minute), Status: "success",
			Commits: []string{fmt.Sprintf("%040x", 5*i), fmt.Sprintf("%040x", 5*i+1), fmt.Sprintf("%040x", 5*i+2),
				fmt.Sprintf("%040x", 5*i+3), fmt.Sprintf("%040x", 5*i+4)},
			Source: "github", CompareStatus: "ahead",
		}
		for k := range 5 * branchCommits {
			d.Commits = append(d.Commits, fmt.Sprintf("f%039x", 5*branchCommits*i+k))
		}
		switch {
		case i%10 == 1: // no commit list: the time fallback
			d.Commits, d.CompareStatus = nil, ""
		case i%25 == 2:
			d.Environment = "staging"
		case i%30 == 4:
			d.Status = "failure"
		}
		sink.AddDeployment(&d)
	}
	for i := range incs {
		t := at(i, incs)
		x := flywheel.Incident{
			ID: fmt.Sprintf("Q%010d", i), Service: svc(i), Urgency: []string{"high", "low"}[i%2], Priority: "P2",
			Title: "checkout latency above SLO", StartedAt: t.Add(-5 * time.Minute), TriggeredAt: t,
			AcknowledgedAt: t.Add(3 * time.Minute), ResolvedAt: t.Add(time.Hour), Source: "pagerduty",
		}
		switch {
		case i%10 == 5:
			x.ResolvedAt = time.Time{}
		case i%14 == 0:
			x.CausedBy = fmt.Sprintf("%d", 1_000_000_000+4*i)
		case i%7 == 0: // a PR, which costs the engine one pass over the PRs
			x.CausedBy = fmt.Sprintf("acme/%s#%d", svc(20*i+1), 20*i+1)
		case i%13 == 0:
			x.CausedBy = flywheel.CausedByNone
		}
		sink.AddIncident(&x)
	}
}

// BenchmarkEvents reads every event of the big store, as each KPI computation does.
func BenchmarkEvents(b *testing.B) {
	s, err := storage.Open(bigStore(b), storage.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		ev, err := s.Events()
		if err != nil {
			b.Fatal(err)
		}
		if ev.Len() != benchChanges+benchDeployments+benchIncidents {
			b.Fatalf("read %d events", ev.Len())
		}
	}
}

// BenchmarkDeploymentsByService reads one service's deployments of 30 days.
func BenchmarkDeploymentsByService(b *testing.B) {
	s, err := storage.Open(bigStore(b), storage.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	from := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	b.ResetTimer()
	for b.Loop() {
		ds, err := s.Deployments(flywheel.Query{Service: "service-07", From: from, To: from.Add(30 * 24 * time.Hour)})
		if err != nil || len(ds) == 0 {
			b.Fatal(len(ds), err)
		}
	}
}

// BenchmarkWriteBatch writes API-page-sized batches (100 changes) of new records.
func BenchmarkWriteBatch(b *testing.B) {
	s, err := storage.Open(filepath.Join(b.TempDir(), "w.db"), storage.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	n := 0
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for b.Loop() {
		var batch flywheel.Batch
		for range 100 {
			n++
			batch.Changes = append(batch.Changes, flywheel.Change{ID: fmt.Sprintf("pr-%d", n), Service: "svc", OpenedAt: base.Add(time.Duration(n) * time.Second), Title: "a title"})
		}
		batch.Cursors = []flywheel.Cursor{{Source: "bench", Key: "k", Value: fmt.Sprint(n)}}
		if err := s.WriteBatch(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkImportBatch writes one import-sized batch — 100,000 changes over 40
// services, 20,000 deployments and 5,000 incidents, all of it or nothing — into
// a new store, and then again over itself (every record replaced).
func BenchmarkImportBatch(b *testing.B) {
	var batch flywheel.Batch
	realisticEvents(100_000, 0, &batch)
	for _, replace := range []bool{false, true} {
		name := "new"
		if replace {
			name = "replace"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				s, err := storage.Open(filepath.Join(b.TempDir(), "import.db"), storage.Options{})
				if err != nil {
					b.Fatal(err)
				}
				if replace {
					if err := s.WriteBatch(context.Background(), batch); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				if err := s.WriteBatch(context.Background(), batch); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				s.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(batch.Len())/b.Elapsed().Seconds()*float64(b.N), "events/s")
		})
	}
}
