package metrics

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/metrics/kpi"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// demoEvents generates a demo-like organisation: services with a year of
// deployments, pull requests (a tenth of them tune-ups) and incidents, n events in
// all, deterministic.
func demoEvents(n, services int, end time.Time) flywheel.Events {
	rng := rand.New(rand.NewPCG(1, 2))
	var ev flywheel.Events
	start := end.Add(-365 * flywheel.Day)
	perService := n / services
	deploysPerService := perService / 10 // 10% deployments, 80% changes, 10% incidents
	span := end.Sub(start)
	urgencies := []string{"high", "low"}
	for s := range services {
		svc := fmt.Sprintf("service-%d", s)
		repo := "acme/" + svc
		step := span / time.Duration(deploysPerService+1)
		for d := range deploysPerService {
			at := start.Add(time.Duration(d+1) * step)
			sha := fmt.Sprintf("%040x", uint64(s)<<40|uint64(d))
			var commits []string
			for c := range 8 {
				id := len(ev.Changes)
				merged := at.Add(-time.Duration(1+rng.IntN(48)) * time.Hour)
				opened := merged.Add(-time.Duration(1+rng.IntN(72)) * time.Hour)
				ms := fmt.Sprintf("%040x", uint64(id)|1<<60)
				title := "feat: thing"
				var labels []string
				switch c {
				case 0:
					title = "fix: bug"
				case 1:
					title, labels = "ci: faster", []string{"tuneup:ci-speedup"}
				}
				ev.Changes = append(ev.Changes, flywheel.Change{
					ID: fmt.Sprintf("%s#%d", repo, id), Service: svc, Repo: repo, Title: title, Labels: labels,
					Author: fmt.Sprintf("dev%d", rng.IntN(50)), FirstCommitAt: opened.Add(-time.Duration(rng.IntN(96)) * time.Hour),
					OpenedAt: opened, FirstReviewAt: opened.Add(time.Duration(1+rng.IntN(8)) * time.Hour), MergedAt: merged, MergeSHA: ms,
				})
				commits = append(commits, ms)
			}
			ev.Deployments = append(ev.Deployments, flywheel.Deployment{
				ID: fmt.Sprintf("%s-%d", svc, d), Service: svc, Repo: repo, Environment: "production",
				SHA: sha, FinishedAt: at, Status: flywheel.StatusSuccess, Commits: append(commits, sha),
			})
			trig := at.Add(time.Duration(1+rng.IntN(20)) * time.Hour)
			inc := flywheel.Incident{
				ID: fmt.Sprintf("PD-%d-%d", s, d), Service: svc, Urgency: urgencies[rng.IntN(2)],
				StartedAt: trig.Add(-30 * time.Minute), TriggeredAt: trig,
				AcknowledgedAt: trig.Add(time.Duration(1+rng.IntN(30)) * time.Minute),
				ResolvedAt:     trig.Add(time.Duration(1+rng.IntN(300)) * time.Minute),
			}
			ev.Incidents = append(ev.Incidents, inc)
		}
	}
	return ev
}

func demoTeams(services int) map[string]string {
	teams := map[string]string{}
	for s := range services {
		teams[fmt.Sprintf("service-%d", s)] = fmt.Sprintf("team-%d", s%3)
	}
	return teams
}

func demoOptions() kpi.Options {
	o := kpi.DefaultOptions()
	o.TuneUps = []kpi.Initiative{{Name: "ci-speedup", Label: "tuneup:ci-speedup"}}
	return o
}

// TestSeriesCountDemoLike logs the series count for a demo-like organisation (8
// services, 3 windows); the figure goes into the report. It fails only on an
// absurd count, which would mean a label from an unbounded set.
func TestSeriesCountDemoLike(t *testing.T) {
	if testing.Short() {
		t.Skip("computes KPIs over a year of events")
	}
	t.Parallel()
	at := fixtureAt
	ev := demoEvents(20000, 8, at)
	snap := &Snapshot{At: at, Result: kpi.Compute(ev, at, demoOptions())}
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewExporter(func() *Snapshot { return snap }, fixtureHealth, constTeams(demoTeams(8)), func() time.Time { return at }, Disabled{}))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	series := 0
	byFamily := map[string]int{}
	for _, mf := range mfs {
		n := 0
		for _, m := range mf.Metric {
			switch {
			case m.Histogram != nil:
				n += len(m.Histogram.Bucket) + 3 // buckets, +Inf, _sum, _count
			case m.Summary != nil:
				n += len(m.Summary.Quantile) + 2
			default:
				n++
			}
		}
		byFamily[mf.GetName()] = n
		series += n
	}
	names := sortedKeys(byFamily)
	slices.SortFunc(names, func(a, b string) int { return byFamily[b] - byFamily[a] })
	for _, n := range names[:8] {
		t.Logf("%6d %s", byFamily[n], n)
	}
	t.Logf("demo-like organisation (8 services, 3 windows, %d events): %d series", ev.Len(), series)
	if series > 10000 {
		t.Errorf("%d series", series)
	}
}

// BenchmarkScrape measures /metrics (exporter + promhttp, over loopback HTTP)
// under 10 concurrent scrapers, serving a snapshot computed once from a store of
// 1,000,000 events (FLYWHEEL_BENCH_EVENTS overrides). A scrape never touches the
// events, so their number matters only through the snapshot's size.
func BenchmarkScrape(b *testing.B) {
	n := 1_000_000
	if s := testingEnvInt("FLYWHEEL_BENCH_EVENTS"); s > 0 {
		n = s
	}
	at := fixtureAt
	ev := demoEvents(n, 8, at)
	start := time.Now()
	snap := &Snapshot{At: at, Result: kpi.Compute(ev, at, demoOptions())}
	b.Logf("%d events, kpi.Compute took %v", ev.Len(), time.Since(start))
	ev = flywheel.Events{}

	reg := prometheus.NewRegistry()
	reg.MustRegister(NewExporter(func() *Snapshot { return snap }, fixtureHealth, constTeams(demoTeams(8)), time.Now, Disabled{}))
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{MaxRequestsInFlight: 20}))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 20}}

	// Exactly 10 scrapers share b.N requests.
	const scrapers = 10
	var next atomic.Int64
	lat := make([][]time.Duration, scrapers)
	var wg sync.WaitGroup
	b.ResetTimer()
	for i := range scrapers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				t0 := time.Now()
				resp, err := client.Get(srv.URL)
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				lat[i] = append(lat[i], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	lat2 := slices.Concat(lat...)
	slices.Sort(lat2)
	if len(lat2) > 0 {
		b.ReportMetric(float64(lat2[len(lat2)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat2[min(len(lat2)-1, len(lat2)*99/100)].Microseconds())/1000, "p99-ms")
	}
}

func testingEnvInt(name string) int {
	n, _ := strconv.Atoi(os.Getenv(name))
	return n
}
