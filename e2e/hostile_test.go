package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/storage"
)

// TestImportRejectsTimeOutOfRange: a time outside the valid years is a bad
// line, named with its line number and field, and nothing of the file is
// stored.
func TestImportRejectsTimeOutOfRange(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db, file := filepath.Join(dir, "flywheel.db"), filepath.Join(dir, "events.jsonl")
	writeFile(t, file, `{"kind":"deployment","id":"d-1","service":"checkout","environment":"production","sha":"1111111aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","finished_at":"2026-10-01T10:00:00Z","status":"success"}`+"\n"+
		`{"kind":"deployment","id":"d-2","service":"checkout","environment":"production","sha":"2222222aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","finished_at":"9999-01-01T00:00:00Z","status":"success"}`+"\n")
	r := runFlywheel(t, nil, "--storage.path", db, "import", file)
	if r.Code == 0 {
		t.Fatalf("import of a 9999 time exited 0:\n%s%s", r.Stdout, r.Stderr)
	}
	if want := file + `:2: field "finished_at": 9999-01-01T00:00:00Z is outside the valid years 1970 to 2199`; !strings.Contains(r.Stderr, want) {
		t.Errorf("import stderr lacks %q:\n%s", want, r.Stderr)
	}
	// All or nothing: the good line 1 was not stored either (here the store
	// was not even created).
	r = runFlywheel(t, nil, "--storage.path", db, "export", "-")
	if strings.Contains(r.Stdout, `"d-1"`) {
		t.Errorf("export after the rejected import: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
}

// TestReportOnStoredTimeOutOfRange: a store written before times were checked
// may hold an event dated 9999 or 1600; report and explain still answer, the
// event clamped to the valid years.
func TestReportOnStoredTimeOutOfRange(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "flywheel.db")
	st, err := storage.Open(db, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	dep := func(id, sha, fin string) flywheel.Deployment {
		return flywheel.Deployment{ID: id, Service: "checkout", Environment: "production", SHA: sha,
			Status: "success", FinishedAt: at(fin), Source: "import", Commits: []string{sha}}
	}
	b := flywheel.Batch{Events: flywheel.Events{
		Deployments: []flywheel.Deployment{
			dep("d-1", "1111111aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "2026-10-01T10:00:00Z"),
			dep("d-far", "2222222aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "9999-01-01T00:00:00Z"),
			dep("d-old", "3333333aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "1600-01-01T00:00:00Z"),
			dep("d-2", "4444444aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "2026-10-02T10:00:00Z"),
		},
		Changes: []flywheel.Change{{ID: "acme/checkout#1", Service: "checkout", OpenedAt: at("2026-09-30T10:00:00Z"),
			FirstCommitAt: at("1600-01-01T00:00:00Z"), MergedAt: at("9999-01-01T00:00:00Z"), MergeSHA: "4444444aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", Source: "import"}},
		Incidents: []flywheel.Incident{{ID: "I-1", Service: "checkout", Urgency: "high", TriggeredAt: at("2026-10-01T11:00:00Z"),
			StartedAt: at("1600-01-01T00:00:00Z"), ResolvedAt: at("9999-01-01T00:00:00Z"), Source: "import"}},
	}}
	if err := st.WriteBatch(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	r := runFlywheel(t, nil, "--storage.path", db, "report", "--at", "2026-10-10", "--format", "json")
	if r.Code != 0 || strings.Contains(r.Stderr, "panic") {
		t.Fatalf("report on a store with times out of range: exit %d\n%s", r.Code, r.Stderr)
	}
	// d-1 and d-2 are deployments of the last 7 days; d-far has not happened
	// yet, and d-old is far outside every window.
	if !strings.Contains(r.Stdout, `"deployments": 2`) {
		t.Errorf("report: want 2 deployments in the window:\n%s", r.Stdout)
	}
	r = runFlywheel(t, nil, "--storage.path", db, "explain", "deployments", "--at", "2026-10-10", "--window", "30d", "--format", "csv")
	if r.Code != 0 || strings.Contains(r.Stderr, "panic") {
		t.Fatalf("explain on a store with times out of range: exit %d\n%s", r.Code, r.Stderr)
	}
}

// TestOverLongValuesRejected: an id longer than the limit is a bad line (400
// from the ingest API, a failed import) named by its line number, and no
// reply, error or log carries the whole value.
func TestOverLongValuesRejected(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	longID := strings.Repeat("x", 40<<10)
	good := `{"kind":"incident","id":"OG-1","service":"checkout","triggered_at":"2026-10-01T11:00:00Z"}` + "\n"
	bad := `{"kind":"deployment","id":"` + longID + `","service":"checkout","environment":"production","sha":"abcdef1234567","finished_at":"2026-10-01T10:00:00Z","status":"success"}` + "\n"
	whole := strings.Repeat("x", 1000) // more than any message may quote

	file := filepath.Join(dir, "events.jsonl")
	writeFile(t, file, good+bad)
	r := runFlywheel(t, nil, "--storage.path", filepath.Join(dir, "import.db"), "import", file)
	if r.Code == 0 {
		t.Errorf("import of a 40 KiB id exited 0")
	}
	if want := file + `:2: field "id": 40960 bytes, more than the limit of 1024`; !strings.Contains(r.Stderr, want) {
		t.Errorf("import stderr lacks %q:\n%.2000s", want, r.Stderr)
	}
	if strings.Contains(r.Stderr+r.Stdout, whole) {
		t.Errorf("import output quotes the whole id (%d bytes of stderr)", len(r.Stderr))
	}

	const token = "ingest-token-for-long-values"
	tokenFile := filepath.Join(dir, "ingest-token")
	writeFile(t, tokenFile, token+"\n")
	cfg := filepath.Join(dir, "flywheel.yml")
	writeFile(t, cfg, fmt.Sprintf("api:\n  token_file: %s\n  max_body_bytes: 1048576\nstorage:\n  path: %s\n", tokenFile, filepath.Join(dir, "serve.db")))
	addr := freePort(t)
	base := "http://" + addr
	srv := startFlywheel(t, nil, "--config.file", cfg, "serve", "--web.listen-address", addr)
	waitForURL(t, nil, base+"/-/ready", http.StatusOK, 20*time.Second)
	req, err := http.NewRequest(http.MethodPost, base+"/api/v1/events", strings.NewReader(good+bad))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("POST with a 40 KiB id: status %d, want 400: %.500s", resp.StatusCode, body)
	}
	var reply struct {
		Lines []struct {
			Line   int    `json:"line"`
			Reason string `json:"reason"`
		} `json:"lines"`
	}
	if err := json.Unmarshal(body, &reply); err != nil || len(reply.Lines) != 1 || reply.Lines[0].Line != 2 ||
		!strings.Contains(reply.Lines[0].Reason, `field "id": 40960 bytes, more than the limit of 1024`) {
		t.Errorf("reply %.500s (%v), want line 2 with the id's size", body, err)
	}
	if strings.Contains(string(body), whole) {
		t.Errorf("reply quotes the whole id (%d bytes)", len(body))
	}
	// Nothing of the request was stored.
	_, metrics := get(t, nil, base+"/metrics")
	if got := sample(t, metrics, "flywheel_incidents_stored"); got != 0 {
		t.Errorf("flywheel_incidents_stored = %v after a rejected request, want 0", got)
	}
	if strings.Contains(srv.Stderr(), whole) {
		t.Errorf("serve's log quotes the whole id (%d bytes of log)", len(srv.Stderr()))
	}
}
