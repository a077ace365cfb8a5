package github

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel"
)

// TestInRangeSkipsWithWarning: an item with a time outside the valid years is
// dropped with a warning naming it; the rest of the page is kept.
func TestInRangeSkipsWithWarning(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	s := &Source{opts: Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))}}
	r := repoInfo{Owner: "acme", Name: "checkout", Service: "checkout"}
	ok := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	far := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	deps := []flywheel.Deployment{{ID: "acme/checkout/deployments/1", FinishedAt: ok}, {ID: "acme/checkout/deployments/2", FinishedAt: far}}
	got := inRange(s, r, "deployment", deps, func(d *flywheel.Deployment) (string, string) { return d.ID, d.OutOfRangeTime() })
	if len(got) != 1 || got[0].ID != "acme/checkout/deployments/1" {
		t.Errorf("kept %+v, want deployment 1 only", got)
	}
	for _, want := range []string{"level=WARN", "id=acme/checkout/deployments/2", "field=finished_at", "repo=acme/checkout"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
}
