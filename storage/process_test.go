package storage_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/storage"
)

// helper starts the test binary in a helper role on path.
func helper(ctx context.Context, role, path string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envRole+"="+role, envPath+"="+path)
	return cmd
}

// startHelper starts cmd and returns the first line it prints (the child says
// when it has the store open) and its stderr, for the caller's messages.
func startHelper(t *testing.T, cmd *exec.Cmd) (first string, stderr *strings.Builder) {
	t.Helper()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr = &strings.Builder{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	first, _ = bufio.NewReader(stdout).ReadString('\n')
	return first, stderr
}

func TestSecondProcessFailsFast(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "flywheel.db")
	s, err := storage.Open(path, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// A generous bound that only a hang would exceed; Options.Timeout is 1s.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	out, err := helper(ctx, "open", path).Output()
	elapsed := time.Since(start)
	if ctx.Err() != nil {
		t.Fatalf("second process hung on the lock (killed after %s)", elapsed)
	}
	if err == nil {
		t.Fatalf("second process opened a locked store: %s", out)
	}
	msg := strings.TrimSpace(string(out))
	want := "open store " + path + ": another process holds it (file lock not acquired within 1s)"
	if msg != want {
		t.Errorf("second process said %q\nwant %q", msg, want)
	}
	t.Logf("second process failed after %s", elapsed.Round(time.Millisecond))

	// Once the first closes, a second process opens the file.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if out, err := helper(ctx, "open", path).Output(); err != nil || strings.TrimSpace(string(out)) != "opened" {
		t.Errorf("after close: %s, %v", out, err)
	}
}

// TestCrashLeavesWholeBatches kills a writing child process with SIGKILL at
// random moments; after each kill the file must open, pass bbolt's check, and
// hold exactly the batches 1..cursor, each complete.
func TestCrashLeavesWholeBatches(t *testing.T) {
	t.Parallel()
	kills := 50
	if testing.Short() {
		kills = 10
	}
	path := filepath.Join(t.TempDir(), "flywheel.db")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	last := 0
	for i := range kills {
		cmd := helper(context.Background(), "writer", path)
		// Wait until the child has the file open, then let it write a while.
		line, stderr := startHelper(t, cmd)
		if line != "writing\n" {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("kill %d: child did not start writing: %q %s", i, line, stderr.String())
		}
		time.Sleep(time.Duration(rng.IntN(120_000)) * time.Microsecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		err := cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("kill %d: child ended by itself (%v): %s", i, err, stderr.String())
		}
		last = verifyCrashStore(t, path, i, last)
	}
	t.Logf("%d kills, %d batches of %d records survived", kills, last, crashBatchSize)
}

// verifyCrashStore checks the file after a kill and returns its highest batch.
func verifyCrashStore(t *testing.T, path string, kill, previous int) int {
	t.Helper()
	s, err := storage.Open(path, storage.Options{})
	if err != nil {
		t.Fatalf("kill %d: %v", kill, err)
	}
	defer s.Close()
	if err := s.Check(); err != nil {
		t.Fatalf("kill %d: %v", kill, err)
	}
	cur, err := s.Cursor("crash", "batch")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	if cur != "" {
		if n, err = strconv.Atoi(cur); err != nil {
			t.Fatalf("kill %d: cursor %q", kill, cur)
		}
	}
	if n < previous {
		t.Fatalf("kill %d: cursor went back from %d to %d", kill, previous, n)
	}
	ev, err := s.Events()
	if err != nil {
		t.Fatal(err)
	}
	perBatch := map[int]int{}
	for _, d := range ev.Deployments {
		b, err := strconv.Atoi(d.Source)
		if err != nil {
			t.Fatalf("kill %d: deployment %s has batch %q", kill, d.ID, d.Source)
		}
		perBatch[b]++
	}
	for b, got := range perBatch {
		if got != crashBatchSize {
			t.Errorf("kill %d: batch %d has %d of %d records", kill, b, got, crashBatchSize)
		}
		if b < 1 || b > n {
			t.Errorf("kill %d: batch %d stored but the cursor says %d", kill, b, n)
		}
	}
	if len(perBatch) != n {
		t.Errorf("kill %d: %d batches stored, cursor says %d", kill, len(perBatch), n)
	}
	counts, err := s.Counts()
	if err != nil {
		t.Fatal(err)
	}
	wantChanges := min(n, 1)
	if counts != (storage.Counts{Deployments: n * crashBatchSize, Changes: wantChanges}) {
		t.Errorf("kill %d: counts %+v, want %d deployments and %d change", kill, counts, n*crashBatchSize, wantChanges)
	}
	if n > 0 {
		// The rewritten change carries the last batch's number and its index
		// entry moved with it.
		want := fmt.Sprintf("svc-%d", n%7)
		got, err := s.Changes(flywheel.Query{Service: want})
		if err != nil || len(got) != 1 || got[0].Source != cur {
			t.Errorf("kill %d: change of %s = %+v, %v; want the version of batch %d", kill, want, got, err, n)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	return n
}
