package ghclient

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestServerThatStopsAnsweringTimesOut: a server that accepts a request and sends
// nothing, or stops half-way through a body, fails the attempt after
// AttemptTimeout, so a sync cannot hang (the scheduler would never run the source
// again while it does).
func TestServerThatStopsAnsweringTimesOut(t *testing.T) {
	for _, tc := range []struct {
		name    string
		partial bool // headers and half a body are sent
		want    string
	}{
		{"no answer", false, "gave up after 2 attempts: no complete answer within 100ms"},
		{"half a body", true, "no complete answer within 100ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			release := make(chan struct{})
			s := newSetup(t, func(w http.ResponseWriter, r *http.Request) {
				if tc.partial {
					w.Header().Set("Content-Type", "application/json; charset=utf-8")
					_, _ = w.Write([]byte(`{"id":1,"name":`))
					w.(http.Flusher).Flush()
				}
				select {
				case <-release:
				case <-r.Context().Done():
				case <-time.After(10 * time.Second):
				}
			}, func(o *Options) {
				o.AttemptTimeout = 100 * time.Millisecond
				o.MaxRetries = 1
			})
			defer close(release)
			_, _, err := s.getRepo(t)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
			assertNoSecret(t, s, err)
		})
	}
}
