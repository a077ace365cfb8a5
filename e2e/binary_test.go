// Package e2e tests the flywheel binary end to end: it builds it once, runs its
// commands as a user would, and talks to `serve` over HTTP on 127.0.0.1.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// flywheelBin is the path of the binary that TestMain built.
var flywheelBin string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "flywheel-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: temp dir:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	flywheelBin = filepath.Join(dir, "flywheel")
	if runtime.GOOS == "windows" {
		flywheelBin += ".exe"
	}
	build := exec.Command("go", "build", "-o", flywheelBin, "../cmd/flywheel")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: build flywheel:", err)
		return 1
	}
	return m.Run()
}

// freePort returns a 127.0.0.1 address with a port that was free a moment ago.
func freePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().String()
}

// waitForURL polls url until it answers with want (any status when want is 0)
// or the timeout passes. It returns the last status.
func waitForURL(t testing.TB, client *http.Client, url string, want int, timeout time.Duration) int {
	t.Helper()
	if client == nil {
		client = &http.Client{Timeout: 2 * time.Second}
	}
	deadline := time.Now().Add(timeout)
	last := 0
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			last = resp.StatusCode
			if want == 0 || last == want {
				return last
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no status %d within %v (last status %d, err %v)", url, want, timeout, last, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// result is a finished command.
type result struct {
	Code   int
	Stdout string
	Stderr string
}

// runFlywheel runs the binary to completion (at most a minute) with args and,
// optionally, environment additions.
func runFlywheel(t testing.TB, env []string, args ...string) result {
	t.Helper()
	return runFlywheelInput(t, nil, env, args...)
}

// runFlywheelInput is runFlywheel with stdin as the standard input.
func runFlywheelInput(t testing.TB, stdin io.Reader, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, flywheelBin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{Stdout: stdout.String(), Stderr: stderr.String()}
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("run flywheel %s: %v", strings.Join(args, " "), err)
		}
		r.Code = ee.ExitCode()
	}
	return r
}

// process is a running flywheel (serve, demo) whose output is captured.
type process struct {
	Cmd    *exec.Cmd
	stdout syncBuffer
	stderr syncBuffer
	done   chan struct{}
	err    error
}

// startFlywheel starts the binary in the background; t.Cleanup kills it if the
// test did not stop it.
func startFlywheel(t testing.TB, env []string, args ...string) *process {
	t.Helper()
	p := &process{Cmd: exec.Command(flywheelBin, args...), done: make(chan struct{})}
	p.Cmd.Env = append(os.Environ(), env...)
	p.Cmd.Stdout, p.Cmd.Stderr = &p.stdout, &p.stderr
	if err := p.Cmd.Start(); err != nil {
		t.Fatalf("start flywheel %s: %v", strings.Join(args, " "), err)
	}
	go func() {
		p.err = p.Cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.Cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("flywheel %s stderr:\n%s", strings.Join(args, " "), p.Stderr())
		}
	})
	return p
}

// Wait waits up to timeout for the process to exit and returns its exit code,
// or fails the test.
func (p *process) Wait(t testing.TB, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		t.Fatalf("flywheel did not exit within %v; stderr:\n%s", timeout, p.Stderr())
	}
	return p.Cmd.ProcessState.ExitCode()
}

// Exited reports whether the process has exited.
func (p *process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *process) Stdout() string { return p.stdout.String() }
func (p *process) Stderr() string { return p.stderr.String() }

// syncBuffer is a bytes.Buffer safe for the writer goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestBinaryHelp(t *testing.T) {
	t.Parallel()
	r := runFlywheel(t, nil, "--help")
	if r.Code != 0 {
		t.Fatalf("flywheel --help exited %d: %s", r.Code, r.Stderr)
	}
	for _, flag := range []string{"--config.file", "--storage.path", "--log.level", "--log.format"} {
		if !strings.Contains(r.Stdout+r.Stderr, flag) {
			t.Errorf("--help does not mention %s", flag)
		}
	}
}
