package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// ingestServer starts serve with the ingest API on and the given extra config
// (apiExtra: YAML under api:, more: top-level YAML); it returns a poster of
// bodies.
func ingestServer(t *testing.T, apiExtra, more string) func(body string) (int, string) {
	t.Helper()
	dir := t.TempDir()
	const token = "ingest-limits-token"
	tokenFile := filepath.Join(dir, "ingest-token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "flywheel.yml")
	writeFile(t, cfg, fmt.Sprintf("api:\n  token_file: %s\n%sstorage:\n  path: %s\n%s", tokenFile, apiExtra, filepath.Join(dir, "flywheel.db"), more))
	addr := freePort(t)
	base := "http://" + addr
	startFlywheel(t, nil, "--config.file", cfg, "serve", "--web.listen-address", addr)
	waitForURL(t, nil, base+"/-/ready", http.StatusOK, 20*time.Second)
	return func(body string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, base+"/api/v1/events", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("POST /api/v1/events: %v", err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
}

// TestIngestManyBadLines: a body as large as the default cap, all of it bad
// one-character lines, is refused with a reply that lists the first 100 and
// counts the rest, not one entry per line.
func TestIngestManyBadLines(t *testing.T) {
	t.Parallel()
	post := ingestServer(t, "", "")
	const lines = 5 << 20 // "x\n" each: 10 MiB, the default max_body_bytes
	code, body := post(strings.Repeat("x\n", lines))
	if code != http.StatusBadRequest {
		t.Fatalf("status %d, want 400: %.300s", code, body)
	}
	if len(body) > 64<<10 {
		t.Fatalf("reply of %d bytes for %d bad lines, want at most 64 KiB", len(body), lines)
	}
	var reply struct {
		Error string `json:"error"`
		Lines []struct {
			Line int `json:"line"`
		} `json:"lines"`
		LinesTotal int `json:"lines_total"`
	}
	if err := json.Unmarshal([]byte(body), &reply); err != nil {
		t.Fatalf("reply %.300s: %v", body, err)
	}
	if len(reply.Lines) != 100 || reply.Lines[0].Line != 1 || reply.Lines[99].Line != 100 || reply.LinesTotal != lines {
		t.Errorf("%d lines listed (first %v), lines_total %d; want the first 100 and %d", len(reply.Lines), reply.Lines[:min(1, len(reply.Lines))], reply.LinesTotal, lines)
	}
	if want := fmt.Sprintf("%d invalid line(s), nothing stored; the first 100 are listed", lines); reply.Error != want {
		t.Errorf("error %q, want %q", reply.Error, want)
	}
}

// TestIngestLabelLimits: ingest may add services not in the config up to
// api.max_new_services and at most 10 distinct urgencies; a request beyond
// either is refused whole, naming the limit, and stores nothing.
func TestIngestLabelLimits(t *testing.T) {
	t.Parallel()
	post := ingestServer(t, "  max_new_services: 3\n", "services:\n  - name: checkout\n    team: payments\n")
	incident := func(id, service, urgency string) string {
		return fmt.Sprintf(`{"kind":"incident","id":%q,"service":%q,"triggered_at":"2026-10-01T11:00:00Z","urgency":%q}`+"\n", id, service, urgency)
	}
	var b strings.Builder
	for i, s := range []string{"checkout", "a", "b", "c"} {
		b.WriteString(incident(fmt.Sprint("i", i), s, "high"))
	}
	if code, body := post(b.String()); code != http.StatusOK {
		t.Fatalf("three new services and a configured one: status %d: %s", code, body)
	}
	code, body := post(incident("i9", "d", "high") + incident("i10", "a", "high"))
	if code != http.StatusBadRequest || !strings.Contains(body, `1 new service(s) ("d") would make 4 services that are not in the config, above api.max_new_services (3); nothing stored`) {
		t.Fatalf("a fourth new service: status %d: %s", code, body)
	}
	// known services and the configured one still go in
	if code, body := post(incident("i11", "a", "high") + incident("i12", "checkout", "low")); code != http.StatusOK {
		t.Fatalf("known services: status %d: %s", code, body)
	}
	b.Reset()
	for i := range 8 { // with high and low: 10 urgencies
		b.WriteString(incident(fmt.Sprint("u", i), "a", fmt.Sprint("P", i)))
	}
	if code, body := post(b.String()); code != http.StatusOK {
		t.Fatalf("10 urgencies: status %d: %s", code, body)
	}
	code, body = post(incident("u9", "a", "SEV-1"))
	if code != http.StatusBadRequest || !strings.Contains(body, `1 new urgency value(s) ("SEV-1") would make 11 distinct urgencies, above the limit of 10`) {
		t.Fatalf("an 11th urgency: status %d: %s", code, body)
	}
}
