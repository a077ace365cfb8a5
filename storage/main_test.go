package storage_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/storage"
)

// The lock and crash tests re-execute the test binary as a child process (the
// standard helper-process pattern); the child's role comes from the environment.
const (
	envRole = "FLYWHEEL_STORAGE_HELPER"
	envPath = "FLYWHEEL_STORAGE_PATH"
	envCut  = "FLYWHEEL_STORAGE_CUT"
)

func TestMain(m *testing.M) {
	switch os.Getenv(envRole) {
	case "":
		code := m.Run()
		removeBenchStore()
		os.Exit(code)
	case "open":
		os.Exit(helperOpen(os.Getenv(envPath)))
	case "writer":
		os.Exit(helperWriter(os.Getenv(envPath)))
	case "pruner":
		os.Exit(helperPruner(os.Getenv(envPath), os.Getenv(envCut)))
	default:
		fmt.Fprintf(os.Stderr, "unknown helper role %q\n", os.Getenv(envRole))
		os.Exit(2)
	}
}

// helperOpen tries to open the store and prints the error.
func helperOpen(path string) int {
	s, err := storage.Open(path, storage.Options{})
	if err != nil {
		fmt.Println(err)
		return 1
	}
	_ = s.Close()
	fmt.Println("opened")
	return 0
}

// crashBatchSize is the number of records each crash-test batch writes.
const crashBatchSize = 40

// helperWriter writes numbered batches forever, continuing after the batch its
// cursor names, until it is killed.
func helperWriter(path string) int {
	s, err := storage.Open(path, storage.Options{Timeout: 10 * time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	cur, err := s.Cursor("crash", "batch")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	n, _ := strconv.Atoi(cur)
	fmt.Println("writing") // tells the parent the file is open
	for {
		n++
		if err := s.WriteBatch(context.Background(), crashBatch(n)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
}

// crashBatch is batch n: crashBatchSize deployments spread over services, a
// change that every batch rewrites (an upsert moving through time and
// services), and the cursor naming the batch.
func crashBatch(n int) flywheel.Batch {
	var b flywheel.Batch
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range crashBatchSize {
		b.Deployments = append(b.Deployments, flywheel.Deployment{
			ID:          fmt.Sprintf("b%d-r%d", n, i),
			Service:     fmt.Sprintf("svc-%d", (n+i)%7),
			Repo:        "acme/crash",
			Environment: "production",
			SHA:         fmt.Sprintf("%040d", n*1000+i),
			FinishedAt:  base.Add(time.Duration(n*crashBatchSize+i) * time.Second),
			Status:      "success",
			Commits:     []string{fmt.Sprintf("%040d", n), fmt.Sprintf("%040d", i)},
			Source:      strconv.Itoa(n), // the batch number, checked by the parent
		})
	}
	b.Changes = []flywheel.Change{{
		ID: "rewritten", Service: fmt.Sprintf("svc-%d", n%7), Source: strconv.Itoa(n),
		OpenedAt: base.Add(time.Duration(n) * time.Minute),
	}}
	b.Cursors = []flywheel.Cursor{{Source: "crash", Key: "batch", Value: strconv.Itoa(n)}}
	return b
}
