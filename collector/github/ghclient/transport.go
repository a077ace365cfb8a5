package ghclient

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/flywheel-metrics/flywheel/collector"
)

const (
	// serverBackoffBase and serverBackoffCap bound the backoff after a 5xx or a
	// transport error: 1s, 2s, 4s … 32s, each plus up to 50% jitter.
	serverBackoffBase = time.Second
	serverBackoffCap  = 32 * time.Second
	// secondaryBackoffBase: GitHub asks to wait at least a minute after a secondary
	// limit without Retry-After, then back off exponentially
	// (GitHub's "Rate limits for the REST API").
	secondaryBackoffBase = time.Minute
	secondaryBackoffCap  = 16 * time.Minute
	// resetSlack is added to x-ratelimit-reset so the retry lands after the reset.
	resetSlack = time.Second
	// maxErrorBody bounds how much of a 403/429 body is read to classify it.
	maxErrorBody = 64 << 10
)

func defaultRand() float64 { return rand.Float64() }

// transport is the RoundTripper under go-github: see the package doc.
type transport struct {
	base http.RoundTripper
	opts Options
	sem  chan struct{}

	mu        sync.Mutex
	rates     map[string]RateLimit // by resource, from response headers
	holdUntil time.Time            // after a secondary limit, nobody sends before this
	requests  map[int]int64
	retries   int64
	gqlCount  int64
	gqlPoints int64
}

func (t *transport) stats() Stats {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := Stats{Requests: map[int]int64{}, RateLimits: map[string]RateLimit{},
		Retries: t.retries, GraphQLQueries: t.gqlCount, GraphQLPoints: t.gqlPoints}
	for k, v := range t.requests {
		s.Requests[k] = v
	}
	for k, v := range t.rates {
		s.RateLimits[k] = v
	}
	return s
}

// resourceOf guesses the rate-limit resource of a request before any response names
// it: the budget a pre-emptive wait must look at.
func resourceOf(req *http.Request) string {
	p := req.URL.Path
	switch {
	case strings.HasSuffix(p, "/graphql"):
		return "graphql"
	case strings.Contains(p, "/search/"):
		return "search"
	}
	return "core"
}

// RoundTrip's errors name neither the API nor the request: http.Client wraps
// them in a *url.Error that names the method and URL, and callers add "github:".
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if req.Body != nil {
		// A RoundTripper must close the body even when it returns before sending;
		// retries send fresh copies from GetBody.
		defer req.Body.Close()
	}
	resource := resourceOf(req)
	if req.Method == http.MethodGet && t.opts.Validators != nil && req.Header.Get("If-None-Match") == "" {
		v, ok, err := t.opts.Validators.Validator(ValidatorKey(req.URL))
		if err != nil {
			return nil, fmt.Errorf("read stored validator: %w", err)
		}
		if ok {
			req = req.Clone(ctx)
			if v.ETag != "" {
				req.Header.Set("If-None-Match", v.ETag)
			}
			if v.LastModified != "" {
				req.Header.Set("If-Modified-Since", v.LastModified)
			}
		}
	}
	for attempt := 0; ; attempt++ {
		if err := t.waitForBudget(ctx, resource); err != nil {
			return nil, err
		}
		r := req
		if attempt > 0 {
			r = req.Clone(ctx)
			if req.Body != nil && req.GetBody != nil {
				b, err := req.GetBody()
				if err != nil {
					return nil, fmt.Errorf("rewind body for retry: %w", err)
				}
				r.Body = b
			}
		}
		resp, err := t.send(r)
		if err != nil {
			t.count(0)
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if perm := collector.Unretryable(err); perm != nil {
				return nil, perm
			}
			if attempt >= t.opts.MaxRetries {
				return nil, fmt.Errorf("gave up after %d attempts: %w", attempt+1, err)
			}
			if req.Body != nil && req.GetBody == nil {
				return nil, err
			}
			d := t.backoff(serverBackoffBase, serverBackoffCap, attempt)
			t.opts.Logger.Warn("github request failed, retrying", "method", req.Method, "url", ValidatorKey(req.URL), "error", err.Error(), "wait", d)
			if err := t.sleep(ctx, d, true); err != nil {
				return nil, err
			}
			continue
		}
		t.count(resp.StatusCode)
		rl, hasRate := t.observeRate(resp, resource)
		wait, retry := t.classify(resp, rl, hasRate, attempt)
		if !retry {
			if hasRate && rl.Remaining == 0 && resp.StatusCode < 400 {
				// Keep go-github v60 from refusing the next request by wall-clock time
				// (see the package doc); waitForBudget does the waiting instead.
				resp.Header.Set("X-From-Cache", "1")
			}
			return resp, nil
		}
		if attempt >= t.opts.MaxRetries || (req.Body != nil && req.GetBody == nil) {
			t.opts.Logger.Warn("github request still failing, giving up", "method", req.Method, "url", ValidatorKey(req.URL), "status", resp.StatusCode, "attempts", attempt+1)
			return resp, nil
		}
		drain(resp)
		t.opts.Logger.Info("github rate limit or server error, waiting", "method", req.Method, "url", ValidatorKey(req.URL), "status", resp.StatusCode, "wait", wait)
		if err := t.sleep(ctx, wait, true); err != nil {
			return nil, err
		}
	}
}

// send performs one attempt under the in-flight cap; the slot is released when the
// response body is read to its end or closed, so the cap covers reading. (Both are
// needed: for a non-2xx answer go-github v60's CheckResponse reads the body and
// replaces it with a NopCloser before closing, so Close never reaches ours.)
func (t *transport) send(req *http.Request) (*http.Response, error) {
	select {
	case t.sem <- struct{}{}:
	case <-req.Context().Done():
		return nil, req.Context().Err()
	}
	cause := fmt.Errorf("no complete answer within %s", t.opts.AttemptTimeout)
	actx, cancel := context.WithTimeoutCause(req.Context(), t.opts.AttemptTimeout, cause)
	resp, err := t.base.RoundTrip(req.WithContext(actx))
	if err != nil {
		if context.Cause(actx) == cause && req.Context().Err() == nil {
			err = cause
		}
		cancel()
		<-t.sem
		return nil, err
	}
	resp.Body = &releaseBody{ReadCloser: resp.Body, release: func() { <-t.sem; cancel() }}
	return resp, nil
}

type releaseBody struct {
	io.ReadCloser
	once    sync.Once
	release func()
}

func (b *releaseBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.once.Do(b.release)
	}
	return n, err
}

func (b *releaseBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.release)
	return err
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
	_ = resp.Body.Close()
}

func (t *transport) count(status int) {
	t.mu.Lock()
	t.requests[status]++
	t.mu.Unlock()
	t.opts.Progress.Request(status)
}

// observeRate reads the x-ratelimit-* headers. Without x-ratelimit-remaining the
// budget is unknown (GitHub Enterprise Server with rate limiting off), never zero.
func (t *transport) observeRate(resp *http.Response, guess string) (RateLimit, bool) {
	h := resp.Header
	rem, err := strconv.Atoi(strings.TrimSpace(h.Get("X-RateLimit-Remaining")))
	if err != nil {
		return RateLimit{}, false
	}
	rl := RateLimit{Remaining: rem}
	rl.Limit, _ = strconv.Atoi(strings.TrimSpace(h.Get("X-RateLimit-Limit")))
	if s, err := strconv.ParseInt(strings.TrimSpace(h.Get("X-RateLimit-Reset")), 10, 64); err == nil {
		rl.Reset = time.Unix(s, 0)
	}
	resource := strings.TrimSpace(h.Get("X-RateLimit-Resource"))
	if resource == "" {
		resource = guess
	}
	t.mu.Lock()
	t.rates[resource] = rl
	t.mu.Unlock()
	t.opts.Progress.RateLimit(resource, rl.Remaining, rl.Limit)
	return rl, true
}

// classify decides whether a response is retried and after how long.
func (t *transport) classify(resp *http.Response, rl RateLimit, hasRate bool, attempt int) (time.Duration, bool) {
	code := resp.StatusCode
	switch {
	case code >= 500:
		return t.backoff(serverBackoffBase, serverBackoffCap, attempt), true
	case code != http.StatusForbidden && code != http.StatusTooManyRequests:
		return 0, false
	}
	spent := hasRate && rl.Remaining == 0
	secondary := isSecondary(resp)
	if !spent && !secondary && code == http.StatusForbidden {
		return 0, false // a permission error: retrying cannot help
	}
	if ra := t.retryAfter(resp); ra >= 0 {
		if secondary {
			t.hold(ra)
		}
		return ra, true
	}
	if spent && !rl.Reset.IsZero() {
		return t.untilReset(rl.Reset), true
	}
	// Secondary limit (or a 429, or a spent budget without a reset time): wait at
	// least a minute, growing exponentially.
	d := t.backoff(secondaryBackoffBase, secondaryBackoffCap, attempt)
	t.hold(d)
	return d, true
}

// isSecondary reads (and restores) the body of a 403/429 to find GitHub's secondary
// rate limit wording, old ("abuse detection") or new ("secondary rate limit").
func isSecondary(resp *http.Response) bool {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	rest := resp.Body
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(body), rest), rest}
	var e struct {
		Message          string `json:"message"`
		DocumentationURL string `json:"documentation_url"`
	}
	_ = json.Unmarshal(body, &e)
	s := strings.ToLower(e.Message + " " + e.DocumentationURL)
	if e.Message == "" && e.DocumentationURL == "" {
		s = strings.ToLower(string(body))
	}
	return strings.Contains(s, "secondary rate limit") || strings.Contains(s, "secondary-rate-limits") ||
		strings.Contains(s, "abuse")
}

// retryAfter returns the Retry-After delay (seconds or HTTP date), or -1 if absent.
func (t *transport) retryAfter(resp *http.Response) time.Duration {
	v := strings.TrimSpace(resp.Header.Get("Retry-After"))
	if v == "" {
		return -1
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if at, err := http.ParseTime(v); err == nil {
		// on the injected clock, like every other wait
		if d := at.Sub(t.opts.Clock.Now()); d > 0 {
			return d
		}
		return 0
	}
	return -1
}

func (t *transport) untilReset(reset time.Time) time.Duration {
	d := reset.Sub(t.opts.Clock.Now()) + resetSlack
	if d < resetSlack {
		d = resetSlack
	}
	return d
}

// backoff is base·2^attempt capped, plus up to 50% jitter.
func (t *transport) backoff(base, limit time.Duration, attempt int) time.Duration {
	d := base
	for i := 0; i < attempt && d < limit; i++ {
		d *= 2
	}
	if d > limit {
		d = limit
	}
	return d + time.Duration(float64(d)*0.5*t.opts.Rand())
}

func (t *transport) hold(d time.Duration) {
	until := t.opts.Clock.Now().Add(d)
	t.mu.Lock()
	if until.After(t.holdUntil) {
		t.holdUntil = until
	}
	t.mu.Unlock()
}

// waitForBudget sleeps before sending while the resource's budget is known to be
// spent (remaining 0 with a future reset) or a secondary-limit hold is active. An
// unknown budget (no headers seen) never waits.
func (t *transport) waitForBudget(ctx context.Context, resource string) error {
	for {
		now := t.opts.Clock.Now()
		t.mu.Lock()
		var d time.Duration
		if rl, ok := t.rates[resource]; ok && rl.Remaining == 0 && !rl.Reset.IsZero() && rl.Reset.After(now.Add(-resetSlack)) {
			d = rl.Reset.Sub(now) + resetSlack
		}
		if h := t.holdUntil.Sub(now); h > d {
			d = h
		}
		t.mu.Unlock()
		if d <= 0 {
			return ctx.Err()
		}
		t.opts.Logger.Info("github rate limit spent, waiting for reset", "resource", resource, "wait", d)
		if err := t.sleep(ctx, d, false); err != nil {
			return err
		}
		// After the reset the budget is unknown until the next response says.
		t.mu.Lock()
		if rl, ok := t.rates[resource]; ok && rl.Remaining == 0 && !t.opts.Clock.Now().Before(rl.Reset) {
			delete(t.rates, resource)
		}
		t.mu.Unlock()
	}
}

func (t *transport) sleep(ctx context.Context, d time.Duration, retry bool) error {
	if retry {
		t.mu.Lock()
		t.retries++
		t.mu.Unlock()
	}
	return t.opts.Clock.Sleep(ctx, d)
}
