package ghclient

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestServerThatNeverAnswersTimesOut: a server that accepts a request and sends
// nothing fails the attempt after ResponseHeaderTimeout, so a sync cannot hang
// (the source would otherwise never be scheduled again).
func TestServerThatNeverAnswersTimesOut(t *testing.T) {
	release := make(chan struct{})
	s := newSetup(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}, func(o *Options) {
		o.ResponseHeaderTimeout = 100 * time.Millisecond
		o.MaxRetries = 1
	})
	defer close(release)
	_, _, err := s.getRepo(t)
	if err == nil || !strings.Contains(err.Error(), "gave up after 2 attempts") || !strings.Contains(err.Error(), "timeout") {
		t.Fatalf("err = %v, want a timeout after 2 attempts", err)
	}
	assertNoSecret(t, s, err)
}
