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
// (YAML under api:); it returns the base URL and a poster of bodies.
func ingestServer(t *testing.T, apiExtra string) (string, func(body string) (int, string)) {
	t.Helper()
	dir := t.TempDir()
	const token = "ingest-limits-token"
	tokenFile := filepath.Join(dir, "ingest-token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "flywheel.yml")
	writeFile(t, cfg, fmt.Sprintf("api:\n  token_file: %s\n%sstorage:\n  path: %s\n", tokenFile, apiExtra, filepath.Join(dir, "flywheel.db")))
	addr := freePort(t)
	base := "http://" + addr
	startFlywheel(t, nil, "--config.file", cfg, "serve", "--web.listen-address", addr)
	waitForURL(t, nil, base+"/-/ready", http.StatusOK, 20*time.Second)
	return base, func(body string) (int, string) {
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
	_, post := ingestServer(t, "")
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
