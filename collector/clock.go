package collector

import (
	"context"
	"time"
)

// Clock is a source's time: Now, and a Sleep that returns early with ctx's error.
// Sources wait for rate limits and backoff only through it, so tests inject a
// fake one and no test sleeps for real.
type Clock interface {
	Now() time.Time
	// Sleep waits for d or until ctx is done, whichever is first, and returns
	// ctx.Err() in the latter case.
	Sleep(ctx context.Context, d time.Duration) error
}

// RealClock is the wall clock.
type RealClock struct{}

// Now returns time.Now().
func (RealClock) Now() time.Time { return time.Now() }

// Sleep waits for d or until ctx is done.
func (RealClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
