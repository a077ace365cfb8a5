package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/prometheus/exporter-toolkit/web"
)

// startWebServer serves h the way serve does (newWebServer, then
// exporter-toolkit's web.Serve) with lim, on a free local port.
func startWebServer(t *testing.T, h http.Handler, lim serverLimits) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, bounded := newWebServer(l, h, lim)
	cfg, systemd := "", false
	addrs := []string{l.Addr().String()}
	flags := &web.FlagConfig{WebListenAddresses: &addrs, WebConfigFile: &cfg, WebSystemdSocket: &systemd}
	done := make(chan error, 1)
	go func() { done <- web.Serve(bounded, srv, flags, slog.New(slog.DiscardHandler)) }()
	t.Cleanup(func() {
		_ = srv.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	})
	return l.Addr().String()
}

// getOn sends GET /-/healthy on an open connection, keeping it alive, and
// reads the answer.
func getOn(t *testing.T, c net.Conn, r *bufio.Reader) {
	t.Helper()
	if _, err := io.WriteString(c, "GET /-/healthy HTTP/1.1\r\nHost: flywheel\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
}

// TestWebServerClosesIdleConnections: a keep-alive connection that sends
// nothing after its request is closed by the server after the idle timeout.
func TestWebServerClosesIdleConnections(t *testing.T) {
	t.Parallel()
	lim := defaultServerLimits()
	lim.idle = 100 * time.Millisecond
	addr := startWebServer(t, testHandler(t, handlerOptions{}), lim)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	getOn(t, c, r)
	// The server closes the connection; the deadline only keeps a broken
	// server from hanging the test.
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := r.ReadByte(); err != io.EOF {
		t.Fatalf("idle connection: read %v, want EOF (closed by the server)", err)
	}
}

// TestWebServerBoundsConnections: beyond maxConns a new connection is not
// served until an open one closes.
func TestWebServerBoundsConnections(t *testing.T) {
	t.Parallel()
	lim := defaultServerLimits()
	lim.maxConns = 1
	addr := startWebServer(t, testHandler(t, handlerOptions{}), lim)
	first, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	getOn(t, first, bufio.NewReader(first)) // first now holds the one slot, idle

	second, err := net.Dial("tcp", addr) // the kernel accepts; the server does not yet
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if _, err := io.WriteString(second, "GET /-/healthy HTTP/1.1\r\nHost: flywheel\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(second)
	_ = second.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if _, err := r.Peek(1); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("second connection answered while the first holds the only slot: %v", err)
	}
	first.Close()
	_ = second.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatalf("second connection after the first closed: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status %d", resp.StatusCode)
	}
}

// TestBackupOutlivesWriteTimeout: GET /api/v1/backup lifts the server's
// write timeout, so a copy that takes longer to send arrives whole, while
// another endpoint's answer is still cut at the timeout.
func TestBackupOutlivesWriteTimeout(t *testing.T) {
	t.Parallel()
	lim := defaultServerLimits()
	lim.write = 50 * time.Millisecond
	slowly := func(w io.Writer) (int64, error) {
		var n int64
		for range 3 {
			time.Sleep(4 * lim.write)
			k, err := w.Write(make([]byte, 64<<10))
			if n += int64(k); err != nil {
				return n, err
			}
		}
		return n, nil
	}
	h := testHandler(t, handlerOptions{backup: slowly, now: time.Now, htmlReport: func(_ context.Context, _ reportQuery, w io.Writer) error {
		time.Sleep(4 * lim.write)
		_, err := io.WriteString(w, "<p>report</p>")
		return err
	}})
	base := "http://" + startWebServer(t, h, lim)
	resp, err := http.Get(base + "/api/v1/backup")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || len(b) != 3*64<<10 {
		t.Fatalf("backup: %d bytes (%v), want %d", len(b), err, 3*64<<10)
	}
	// The report is written after the timeout has passed: the server drops
	// the connection rather than answer.
	if resp, err := http.Get(base + "/report"); err == nil {
		resp.Body.Close()
		t.Fatalf("report after the write timeout: status %d, want a dropped connection", resp.StatusCode)
	}
}
