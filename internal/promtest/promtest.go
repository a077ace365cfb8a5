// Package promtest runs the real Prometheus tools for tests: it finds promtool
// and prometheus (skipping with an install hint, or failing when CI=true, where
// .ci/run installs them), starts a Prometheus server on 127.0.0.1 that the test's
// cleanup stops, and evaluates PromQL through its HTTP API.
package promtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// InstallHint says how to get the tools on Debian.
const InstallHint = "apt-get install -y --no-install-recommends prometheus"

// NeedTool returns the path of a Prometheus binary ("prometheus", "promtool"),
// or skips the test with an install hint; with CI=true it fails instead.
func NeedTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	msg := name + " not found; install it with: " + InstallHint
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// Server is a real Prometheus listening on 127.0.0.1.
type Server struct {
	URL    string
	client *http.Client
}

// Start runs prometheus with the given configuration file content and its TSDB
// in dataDir, plus extra flags, and waits until it is ready (at most 60 s).
func Start(t testing.TB, config, dataDir string, extra ...string) *Server {
	t.Helper()
	bin := NeedTool(t, "prometheus")
	cfg := filepath.Join(t.TempDir(), "prometheus.yml")
	if err := os.WriteFile(cfg, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var out lockedBuffer
	args := append([]string{"--config.file=" + cfg, "--storage.tsdb.path=" + dataDir, "--web.listen-address=" + addr}, extra...)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start prometheus: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cancel()
		<-exited
		if t.Failed() {
			t.Logf("prometheus output:\n%s", out.String())
		}
	})
	s := &Server{URL: "http://" + addr, client: &http.Client{Timeout: 10 * time.Second}}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if resp, err := s.client.Get(s.URL + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		select {
		case <-exited:
			t.Fatalf("prometheus exited before it was ready:\n%s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus not ready within 60s:\n%s", out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Result is the outcome of one query: its type ("vector", "scalar", "matrix"),
// the number of series (1 for a scalar) and, for a vector or scalar, the values.
type Result struct {
	Type   string
	Series int
	Values []float64
}

// Query evaluates expr at at (now when zero).
func (s *Server) Query(expr string, at time.Time) (Result, error) {
	v := url.Values{"query": {expr}}
	if !at.IsZero() {
		v.Set("time", strconv.FormatInt(at.Unix(), 10))
	}
	return s.call("/api/v1/query", v)
}

// QueryRange evaluates expr over [start, end] at step, as a Grafana panel does.
func (s *Server) QueryRange(expr string, start, end time.Time, step time.Duration) (Result, error) {
	return s.call("/api/v1/query_range", url.Values{
		"query": {expr},
		"start": {strconv.FormatInt(start.Unix(), 10)},
		"end":   {strconv.FormatInt(end.Unix(), 10)},
		"step":  {strconv.FormatFloat(step.Seconds(), 'f', -1, 64)},
	})
}

func (s *Server) call(path string, v url.Values) (Result, error) {
	resp, err := s.client.PostForm(s.URL+path, v)
	if err != nil {
		return Result{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return Result{}, err
	}
	var r struct {
		Status    string `json:"status"`
		ErrorType string `json:"errorType"`
		Error     string `json:"error"`
		Data      struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return Result{}, fmt.Errorf("%s: %d %s", path, resp.StatusCode, body)
	}
	if r.Status != "success" {
		return Result{}, fmt.Errorf("%s: %s", r.ErrorType, r.Error)
	}
	res := Result{Type: r.Data.ResultType}
	switch res.Type {
	case "scalar":
		var sample [2]any
		if err := json.Unmarshal(r.Data.Result, &sample); err != nil {
			return res, err
		}
		f, err := sampleValue(sample[1])
		if err != nil {
			return res, err
		}
		res.Series, res.Values = 1, []float64{f}
	case "vector":
		var series []struct {
			Value [2]any `json:"value"`
		}
		if err := json.Unmarshal(r.Data.Result, &series); err != nil {
			return res, err
		}
		for _, s := range series {
			f, err := sampleValue(s.Value[1])
			if err != nil {
				return res, err
			}
			res.Values = append(res.Values, f)
		}
		res.Series = len(series)
	default:
		var series []json.RawMessage
		if err := json.Unmarshal(r.Data.Result, &series); err != nil {
			return res, err
		}
		res.Series = len(series)
	}
	return res, nil
}

func sampleValue(v any) (float64, error) {
	s, _ := v.(string)
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("sample value %v: %w", v, err)
	}
	return f, nil
}

// lockedBuffer collects the server's output from its writer goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
