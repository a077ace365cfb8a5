package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/exporter-toolkit/web"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/collector"
	"github.com/flywheel-metrics/flywheel/config"
	"github.com/flywheel-metrics/flywheel/storage"
)

// landingLinks returns the links of the landing page that point into the server.
func landingLinks(t *testing.T, h http.Handler) []string {
	t.Helper()
	rec := do(h, "GET", "/", "", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("landing page: status %d", rec.Code)
	}
	var links []string
	for _, m := range regexp.MustCompile(`href="([^"]+)"`).FindAllStringSubmatch(rec.Body.String(), -1) {
		if strings.HasPrefix(m[1], "/") {
			links = append(links, m[1])
		}
	}
	if len(links) < 5 {
		t.Fatalf("only %d links on the landing page:\n%s", len(links), rec.Body.String())
	}
	return links
}

// TestLandingPageLinksAnswer: every link of the landing page answers 200; the
// profiling links are there only with --web.enable-pprof, which serves them.
func TestLandingPageLinksAnswer(t *testing.T) {
	t.Parallel()
	for _, pprofOn := range []bool{false, true} {
		h := testHandler(t, handlerOptions{enablePprof: pprofOn})
		links := landingLinks(t, h)
		var profiling int
		for _, link := range links {
			if strings.HasPrefix(link, "/debug/pprof/") {
				profiling++
				// the page offers a 60-second CPU profile; one second is the
				// same handler
				link = strings.Replace(link, "seconds=60", "seconds=1", 1)
			}
			if rec := do(h, "GET", link, "", ""); rec.Code != http.StatusOK {
				t.Errorf("pprof %v: landing page link %s: status %d: %.200s", pprofOn, link, rec.Code, rec.Body.String())
			}
		}
		if want := map[bool]int{false: 0, true: 2}[pprofOn]; profiling != want {
			t.Errorf("pprof %v: %d profiling links, want %d: %v", pprofOn, profiling, want, links)
		}
		if rec := do(h, "GET", "/debug/pprof/heap", "", ""); (rec.Code == http.StatusOK) != pprofOn {
			t.Errorf("pprof %v: /debug/pprof/heap answers %d", pprofOn, rec.Code)
		}
	}
}

// TestBackupEndpoint: GET /api/v1/backup streams a copy of a real store that
// opens as a store and holds the same events; other methods are refused.
func TestBackupEndpoint(t *testing.T) {
	t.Parallel()
	st := testStore(t)
	at := time.Date(2026, 6, 4, 5, 6, 7, 0, time.UTC)
	var logs bytes.Buffer
	h := testHandler(t, handlerOptions{backup: st.Backup, now: func() time.Time { return at },
		log: slog.New(slog.NewTextHandler(&logs, nil))})

	rec := do(h, "GET", "/api/v1/backup", "", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
	}
	if got, want := rec.Header().Get("Content-Disposition"), `attachment; filename="flywheel-20260604T050607Z.db"`; got != want {
		t.Errorf("Content-Disposition = %q, want %q", got, want)
	}
	if got := rec.Header().Get("Content-Type"); got != "application/octet-stream" {
		t.Errorf("Content-Type = %q", got)
	}
	path := filepath.Join(t.TempDir(), "backup.db")
	if err := os.WriteFile(path, rec.Body.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := storage.OpenReadOnly(path, storage.Options{})
	if err != nil {
		t.Fatalf("the backup does not open as a store: %v", err)
	}
	defer b.Close()
	orig, _ := st.Deployments(flywheel.Query{})
	copied, err := b.Deployments(flywheel.Query{})
	if err != nil || len(copied) != 2 || copied[1].ID != orig[1].ID {
		t.Errorf("backup deployments = %+v (%v), want %+v", copied, err, orig)
	}
	if !strings.Contains(logs.String(), "store backed up") || !strings.Contains(logs.String(), "bytes="+strconv.Itoa(rec.Body.Len())) {
		t.Errorf("log:\n%s", logs.String())
	}
	if rec := do(h, "POST", "/api/v1/backup", "", ""); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: status %d, want 405", rec.Code)
	}
	if rec := do(h, "HEAD", "/api/v1/backup", "", ""); rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Errorf("HEAD: status %d, %d bytes", rec.Code, rec.Body.Len())
	}
	// A store that cannot be read answers 500 with the reason.
	failing := testHandler(t, handlerOptions{backup: func(io.Writer) (int64, error) { return 0, errors.New("disk on fire") }, now: time.Now})
	if rec := do(failing, "GET", "/api/v1/backup", "", ""); rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), "disk on fire") {
		t.Errorf("failing backup: %d %q", rec.Code, rec.Body.String())
	}
}

// scriptedSource fails or succeeds as told, writing one incident when it
// succeeds.
type scriptedSource struct{ fail *bool }

func (scriptedSource) Name() string { return "scripted" }
func (s scriptedSource) Sync(ctx context.Context, sink collector.Sink, _ collector.Progress) error {
	if *s.fail {
		return errors.New("scripted: 401 Unauthorized")
	}
	return sink.WriteBatch(ctx, flywheel.Batch{Events: flywheel.Events{Incidents: []flywheel.Incident{
		{ID: "i1", Service: "checkout", TriggeredAt: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)}}}})
}

// TestSnapshotGate: with a source configured, a snapshot computed before any
// successful sync is served but neither stored nor ready; after a successful
// sync the next one is both. With no source, the first computation is.
func TestSnapshotGate(t *testing.T) {
	t.Parallel()
	cfg, err := config.Parse(nil)
	if err != nil {
		t.Fatal(err)
	}
	a := &app{log: slog.New(slog.DiscardHandler)}
	ctx := context.Background()

	st, err := storage.Open(filepath.Join(t.TempDir(), "flywheel.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fail := true
	p, err := a.newPipeline(cfg, st, []collector.Scheduled{{Source: scriptedSource{&fail}, Schedule: "@every 1h"}}, pipelineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	stored := func() bool {
		_, _, ok, err := st.LatestSnapshot()
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if err := p.snap.Recompute(ctx); err != nil {
		t.Fatal(err)
	}
	if p.snap.Current() == nil || p.gate.ready.Load() || stored() {
		t.Fatalf("before any sync: served %v, ready %v, stored %v; want served only", p.snap.Current() != nil, p.gate.ready.Load(), stored())
	}
	if err := p.sched.SyncNow(ctx); err == nil {
		t.Fatal("the failing sync succeeded")
	}
	if err := p.snap.Recompute(ctx); err != nil {
		t.Fatal(err)
	}
	if p.gate.ready.Load() || stored() {
		t.Fatalf("after a failed sync: ready %v, stored %v", p.gate.ready.Load(), stored())
	}
	fail = false
	if err := p.sched.SyncNow(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p.snap.Recompute(ctx); err != nil {
		t.Fatal(err)
	}
	if !p.gate.ready.Load() || !stored() || p.snap.Current().Counts.Incidents != 1 {
		t.Fatalf("after a successful sync: ready %v, stored %v, counts %+v", p.gate.ready.Load(), stored(), p.snap.Current().Counts)
	}

	none, err := storage.Open(filepath.Join(t.TempDir(), "flywheel.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer none.Close()
	q, err := a.newPipeline(cfg, none, nil, pipelineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.snap.Recompute(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, ok, _ := none.LatestSnapshot(); !q.gate.ready.Load() || !ok {
		t.Errorf("no source: ready %v, stored %v after the first computation", q.gate.ready.Load(), ok)
	}
}

// TestProgressBarNeverGoesBack feeds the bar work whose total grows as it is
// found, as the sources report it, and reads every frame drawn: the
// percentage never decreases and ends at 100%.
func TestProgressBarNeverGoesBack(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	p := &collectProgress{log: slog.New(slog.DiscardHandler), bar: newProgressBar(&out, 0), out: &out}
	p.Total(1) // the organisation's repository list, one page
	p.Done(1, "acme repositories page 1")
	p.Total(4) // four repositories found
	for repo := range 4 {
		for page := range 3 {
			p.Total(1) // a page found, then fetched
			p.Done(1, "page "+strconv.Itoa(page))
		}
		p.Done(1, "repo "+strconv.Itoa(repo))
	}
	p.Total(20) // a late source's windows
	for range 20 {
		p.Done(1, "window")
	}
	p.finish(true)
	frames := regexp.MustCompile(`(\d+)%`).FindAllStringSubmatch(out.String(), -1)
	if len(frames) < 10 {
		t.Fatalf("only %d frames drawn:\n%q", len(frames), out.String())
	}
	last := -1
	for _, f := range frames {
		n, _ := strconv.Atoi(f[1])
		if n < last {
			t.Fatalf("the bar went back from %d%% to %d%%:\n%q", last, n, out.String())
		}
		last = n
	}
	if last != 100 {
		t.Errorf("the bar ended at %d%%, want 100%%", last)
	}
	for _, f := range frames[:len(frames)-1] {
		if f[1] == "100" {
			t.Errorf("the bar showed 100%% before the end:\n%q", out.String())
			break
		}
	}
	if !strings.HasSuffix(out.String(), "\n") {
		t.Error("the finished bar does not end its line")
	}
}

// TestListenPortTaken: a port in use fails listen with a message that says what
// to do, and nothing stays bound.
func TestListenPortTaken(t *testing.T) {
	t.Parallel()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := free.Addr().String()
	free.Close()
	addrs := []string{addr, taken.Addr().String()}
	cfgFile, systemd := "", false
	ls, err := listen(&web.FlagConfig{WebListenAddresses: &addrs, WebConfigFile: &cfgFile, WebSystemdSocket: &systemd})
	if err == nil {
		closeListeners(ls)
		t.Fatal("listen on a taken port succeeded")
	}
	if msg := err.Error(); !strings.Contains(msg, "address already in use") || !strings.Contains(msg, "--web.listen-address") {
		t.Errorf("error %q does not say the port is taken and which flag to change", msg)
	}
	// the first address, bound before the failure, was released
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Errorf("%s still bound after the failure: %v", addr, err)
	} else {
		l.Close()
	}
}
