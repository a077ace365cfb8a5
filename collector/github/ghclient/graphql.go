package ghclient

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// GraphQLError is the "errors" list of a GraphQL response (HTTP 200). Data that came
// with it has still been decoded into the caller's out value.
type GraphQLError struct {
	Errors []GraphQLErrorItem
}

// GraphQLErrorItem is one entry of a GraphQL "errors" list as GitHub sends it.
type GraphQLErrorItem struct {
	// Type is GitHub's error type: "NOT_FOUND", "RATE_LIMITED", "FORBIDDEN"…; empty
	// for query validation errors.
	Type    string `json:"type,omitempty"`
	Message string `json:"message"`
	Path    []any  `json:"path,omitempty"`
}

func (e *GraphQLError) Error() string {
	msgs := make([]string, 0, len(e.Errors))
	for _, it := range e.Errors {
		m := it.Message
		if it.Type != "" {
			m = it.Type + ": " + m
		}
		msgs = append(msgs, m)
	}
	return "github: graphql: " + strings.Join(msgs, "; ")
}

// HasType reports whether any error has the given type (e.g. "NOT_FOUND").
func (e *GraphQLError) HasType(typ string) bool {
	for _, it := range e.Errors {
		if it.Type == typ {
			return true
		}
	}
	return false
}

// rateLimited reports a RATE_LIMITED error or secondary-limit wording.
func (e *GraphQLError) rateLimited() bool {
	for _, it := range e.Errors {
		m := strings.ToLower(it.Message)
		if it.Type == "RATE_LIMITED" || strings.Contains(m, "secondary rate limit") || strings.Contains(m, "abuse detection") {
			return true
		}
	}
	return false
}

// GraphQL POSTs {query, variables} to the GraphQL endpoint through the same transport
// as REST (auth, in-flight cap, 5xx/secondary-limit retries), decodes "data" into out
// and returns a *GraphQLError for an "errors" list (with the partial data decoded). A
// 200 whose errors have type RATE_LIMITED (GitHub's answer to a spent GraphQL budget)
// or speak of a secondary rate limit waits — Retry-After, else x-ratelimit-reset when
// the budget is spent, else a backoff from a minute — and retries, up to MaxRetries. A non-200 answer is an error naming the endpoint and status.
func (c *Client) GraphQL(ctx context.Context, query string, vars map[string]any, out any) error {
	payload, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return fmt.Errorf("github: graphql: encode request: %w", err)
	}
	t := c.t
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.graphqlURL, bytes.NewReader(payload))
		if err != nil {
			return fmt.Errorf("github: graphql: %w", err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		resp, err := c.http.Do(req)
		if err != nil {
			return fmt.Errorf("github: graphql POST %s: %w", c.graphqlURL, unwrapURLError(err))
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("github: graphql POST %s: read body: %w", c.graphqlURL, err)
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("github: graphql POST %s: %s: %s", c.graphqlURL, resp.Status, snippet(body))
		}
		var env struct {
			Data   json.RawMessage    `json:"data"`
			Errors []GraphQLErrorItem `json:"errors"`
		}
		if err := json.Unmarshal(body, &env); err != nil {
			return fmt.Errorf("github: graphql POST %s: malformed response: %v", c.graphqlURL, err)
		}
		gerr := &GraphQLError{Errors: env.Errors}
		if len(env.Errors) > 0 && gerr.rateLimited() && attempt < t.opts.MaxRetries {
			// GitHub answers a spent GraphQL budget, and sometimes a secondary limit,
			// with a 200 whose errors say so.
			var wait time.Duration
			rl, ok := t.observeRate(resp, "graphql")
			switch ra := t.retryAfter(resp); {
			case ra >= 0:
				wait = ra
			case ok && !rl.Reset.IsZero() && (rl.Remaining == 0 || gerr.HasType("RATE_LIMITED")):
				// RATE_LIMITED also comes when the query costs more than is left.
				wait = t.untilReset(rl.Reset)
			default:
				wait = t.backoff(secondaryBackoffBase, secondaryBackoffCap, attempt)
				t.hold(wait)
			}
			t.opts.Logger.Info("github graphql rate limited, waiting", "wait", wait)
			if err := t.sleep(ctx, wait, true); err != nil {
				return err
			}
			continue
		}
		t.countQuery(env.Data)
		if len(env.Data) > 0 && string(env.Data) != "null" && out != nil {
			if err := json.Unmarshal(env.Data, out); err != nil {
				return fmt.Errorf("github: graphql POST %s: decode data: %w", c.graphqlURL, err)
			}
		}
		if len(env.Errors) > 0 {
			return gerr
		}
		if len(env.Data) == 0 || string(env.Data) == "null" {
			return fmt.Errorf("github: graphql POST %s: response has neither data nor errors", c.graphqlURL)
		}
		return nil
	}
}

// countQuery adds the query's rateLimit.cost (if it selected it unaliased) to the
// points used, else 1, a query's minimum cost.
func (t *transport) countQuery(data json.RawMessage) {
	var d struct {
		RateLimit *struct {
			Cost int64 `json:"cost"`
		} `json:"rateLimit"`
	}
	cost := int64(1)
	if json.Unmarshal(data, &d) == nil && d.RateLimit != nil && d.RateLimit.Cost > 0 {
		cost = d.RateLimit.Cost
	}
	t.mu.Lock()
	t.gqlCount++
	t.gqlPoints += cost
	t.mu.Unlock()
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

func unwrapURLError(err error) error {
	type unwrapper interface{ Unwrap() error }
	if u, ok := err.(unwrapper); ok && u.Unwrap() != nil {
		return u.Unwrap()
	}
	return err
}
