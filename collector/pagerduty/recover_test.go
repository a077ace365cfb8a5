package pagerduty

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/sync/errgroup"
)

func TestGoRecoverTurnsPanicIntoError(t *testing.T) {
	var g errgroup.Group
	goRecover(&g, func() error { panic("bad page") })
	goRecover(&g, func() error { return nil })
	err := g.Wait()
	if err == nil || !strings.Contains(err.Error(), "pagerduty: panic: bad page") {
		t.Fatalf("err = %v, want the panic as an error", err)
	}
	var g2 errgroup.Group
	want := errors.New("plain")
	goRecover(&g2, func() error { return want })
	if err := g2.Wait(); !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
}
