package pagerduty

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/PagerDuty/go-pagerduty"
	"golang.org/x/time/rate"

	"github.com/flywheel-metrics/flywheel/collector"
)

// Retry policy. PagerDuty asks clients to wait ratelimit-reset seconds after a
// 429; pdpyras (PagerDuty's Python client) backs off 1.5 s × 2ⁿ without limit. We
// stop after max429 attempts so a sync cannot hang forever, and retry 5xx and
// transport errors a few times with doubling backoff.
const (
	max429        = 10
	max5xx        = 3
	backoffBase   = 1500 * time.Millisecond
	backoffMax    = time.Minute
	rateLimitName = "rest"
)

// gate is the part of the HTTP path shared by every sync of a Source: the
// per-minute budget, the cap on requests in flight, and a pause that a 429
// imposes on every request until its reset.
type gate struct {
	clock   collector.Clock
	limiter *rate.Limiter
	sem     chan struct{}

	mu         sync.Mutex // serialises waiting for a turn, so turns are taken in order
	pauseUntil time.Time
}

func newGate(clock collector.Clock, perMinute, inFlight int) *gate {
	return &gate{
		clock: clock,
		// Burst 1: requests are spaced evenly, so no sliding minute holds more
		// than perMinute of them (a larger burst would allow burst+perMinute).
		limiter: rate.NewLimiter(rate.Limit(float64(perMinute)/60), 1),
		sem:     make(chan struct{}, inFlight),
	}
}

// turn waits for the pause of a 429 to end and for a token of the budget.
func (g *gate) turn(ctx context.Context) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.clock.Now()
	if now.Before(g.pauseUntil) {
		if err := g.clock.Sleep(ctx, g.pauseUntil.Sub(now)); err != nil {
			return err
		}
		now = g.clock.Now()
	}
	r := g.limiter.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		if err := g.clock.Sleep(ctx, d); err != nil {
			r.CancelAt(now)
			return err
		}
	}
	return nil
}

func (g *gate) pause(d time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if until := g.clock.Now().Add(d); until.After(g.pauseUntil) {
		g.pauseUntil = until
	}
}

// doer is the pagerduty.HTTPClient of one sync: it adds what go-pagerduty lacks
// (rate limiting, the in-flight cap, retries of 429 and 5xx) and reports every
// response to the sync's Progress. It never sees the token except inside the
// request it forwards, and logs no headers.
type doer struct {
	gate     *gate
	next     *http.Client
	progress collector.Progress
	log      logger
}

type logger interface {
	Warn(msg string, args ...any)
}

func (d *doer) Do(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	select {
	case d.gate.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	// The slot is held until the caller closes the body (go-pagerduty always
	// does): a response whose body is still streaming is still in flight.
	held := true
	release := func() { <-d.gate.sem }
	defer func() {
		if held {
			release()
		}
	}()
	var n429, n5xx int
	for {
		if err := d.gate.turn(ctx); err != nil {
			return nil, err
		}
		resp, err := d.next.Do(req.Clone(ctx))
		if err != nil {
			d.progress.Request(0)
			if perm := collector.Unretryable(err); perm != nil && ctx.Err() == nil {
				return nil, perm
			}
			if ctx.Err() != nil || n5xx >= max5xx {
				return nil, err
			}
			n5xx++
			d.log.Warn("pagerduty: request failed, retrying", "path", req.URL.Path, "attempt", n5xx, "err", err)
			if err := d.gate.clock.Sleep(ctx, backoff(n5xx)); err != nil {
				return nil, err
			}
			continue
		}
		d.progress.Request(resp.StatusCode)
		d.reportRate(resp.Header)
		switch {
		case resp.StatusCode == http.StatusTooManyRequests && n429 < max429:
			n429++
			wait := backoff(n429)
			if s, ok := headerSeconds(resp.Header, "ratelimit-reset"); ok {
				wait = s
			}
			drain(resp)
			d.log.Warn("pagerduty: rate limited, waiting", "path", req.URL.Path, "wait", wait)
			d.gate.pause(wait)
			continue
		case resp.StatusCode >= 500 && n5xx < max5xx:
			n5xx++
			drain(resp)
			d.log.Warn("pagerduty: server error, retrying", "path", req.URL.Path, "status", resp.StatusCode, "attempt", n5xx)
			if err := d.gate.clock.Sleep(ctx, backoff(n5xx)); err != nil {
				return nil, err
			}
			continue
		}
		held = false
		resp.Body = &releasingBody{ReadCloser: resp.Body, release: release}
		return resp, nil
	}
}

// releasingBody frees an in-flight slot when the body is closed.
type releasingBody struct {
	io.ReadCloser
	once    sync.Once
	release func()
}

func (b *releasingBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.release)
	return err
}

func (d *doer) reportRate(h http.Header) {
	remaining, ok1 := headerInt(h, "ratelimit-remaining")
	limit, ok2 := headerInt(h, "ratelimit-limit")
	if ok1 && ok2 {
		d.progress.RateLimit(rateLimitName, remaining, limit)
	}
}

func backoff(attempt int) time.Duration {
	return min(time.Duration(float64(backoffBase)*math.Pow(2, float64(attempt-1))), backoffMax)
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	_ = resp.Body.Close()
}

func headerInt(h http.Header, name string) (int, bool) {
	n, err := strconv.Atoi(strings.TrimSpace(h.Get(name)))
	return n, err == nil
}

// headerSeconds reads a (possibly fractional) number of seconds.
func headerSeconds(h http.Header, name string) (time.Duration, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(h.Get(name)), 64)
	if err != nil || f < 0 || f > 3600 {
		return 0, false
	}
	return time.Duration(f * float64(time.Second)), true
}

// CallError is a failed PagerDuty API call; Error reads
// "pagerduty: list incidents 2026-01-01..2026-03-31: 502 Bad Gateway".
type CallError struct {
	Call string // what was being done
	// StatusCode is the HTTP status of the final response, 0 if there was none.
	StatusCode int
	Err        error
}

func (e *CallError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "pagerduty: %s: ", e.Call)
	var ae pagerduty.APIError
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case e.StatusCode != 0:
		fmt.Fprintf(&b, "%d %s", e.StatusCode, http.StatusText(e.StatusCode))
		if errors.As(e.Err, &ae) && ae.APIError.Valid {
			if m := ae.APIError.ErrorObject.Message; m != "" {
				b.WriteString(": " + m)
			}
			if es := ae.APIError.ErrorObject.Errors; len(es) > 0 {
				b.WriteString(" (" + strings.Join(es, "; ") + ")")
			}
		}
	case errors.As(e.Err, &se), errors.As(e.Err, &te), errors.Is(e.Err, io.ErrUnexpectedEOF):
		fmt.Fprintf(&b, "malformed response: %v", e.Err)
	default:
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *CallError) Unwrap() error { return e.Err }

// callErr wraps err from a go-pagerduty call named call.
func callErr(call string, err error) error {
	if err == nil {
		return nil
	}
	ce := &CallError{Call: call, Err: err}
	var ae pagerduty.APIError
	if errors.As(err, &ae) {
		ce.StatusCode = ae.StatusCode
	}
	return ce
}
