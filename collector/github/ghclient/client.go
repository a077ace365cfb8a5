// Package ghclient is the HTTP client the GitHub source talks through:
// authentication (token or GitHub App), conditional requests with stored ETags, a cap
// on requests in flight, and the handling of GitHub's primary and secondary rate limits,
// 5xx answers and transport errors, all inside one http.RoundTripper under go-github v60,
// plus a small GraphQL caller that goes through the same transport.
//
// Rate limits are handled here, not by go-github: the transport waits (on the injected
// Clock, honouring ctx) and retries. go-github v60's own client-side short-circuit
// (checkRateLimitBeforeDo, which refuses to send after a response with
// X-RateLimit-Remaining: 0 and compares with the wall clock) would otherwise fail the
// request after a 200 that spent the last unit; so the transport marks such responses
// X-From-Cache: 1, which v60 honours by not recording their rate. go-github therefore
// only ever sees a 403/429 with remaining 0 when the transport's retries are exhausted;
// it then returns its *github.RateLimitError as usual.
package ghclient

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v60/github"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/collector"
)

// ValidatorStore gives the stored HTTP validator (ETag, Last-Modified) of a request
// key; storage satisfies it (collector.Sink has the same method).
type ValidatorStore interface {
	Validator(key string) (flywheel.Validator, bool, error)
}

// AppAuth authenticates as a GitHub App installation (the config's github.app).
type AppAuth struct {
	AppID          int64
	InstallationID int64
	PrivateKey     []byte // PEM
}

// Options configure New. Zero values take the documented defaults.
type Options struct {
	// BaseURL is the REST base ending in "/": https://api.github.com/ (default) or
	// https://HOST/api/v3/ for GitHub Enterprise Server.
	BaseURL string
	// GraphQLURL "" is derived from BaseURL: api.github.com → https://api.github.com/graphql,
	// https://HOST/api/v3/ → https://HOST/api/graphql, any other base → base + "graphql".
	GraphQLURL string
	// Token is a personal access token (or installation token); ignored if App is set.
	Token string
	// App authenticates through github.com/bradleyfalzon/ghinstallation/v2.
	App *AppAuth
	// MaxInFlight caps concurrent requests (default 4).
	MaxInFlight int
	// MaxRetries is the number of retries after the first attempt (0 → 5; negative
	// disables retries).
	MaxRetries int
	// Validators, if set, turns GET requests into conditional requests.
	Validators ValidatorStore
	// Progress counts every HTTP attempt by status and reports rate-limit budgets.
	Progress collector.Progress
	// Clock defaults to RealClock.
	Clock collector.Clock
	// Logger defaults to a logger that discards.
	Logger *slog.Logger
	// Rand returns a number in [0,1) for jitter; default math/rand/v2.Float64.
	Rand func() float64
	// Transport is the base round tripper (default: a clone of http.DefaultTransport).
	Transport http.RoundTripper
	// AttemptTimeout bounds one attempt, from sending the request to the end of
	// its response body (default 2 minutes): a server that accepts a request and
	// never answers, or stops sending a body half-way, must fail the attempt, not
	// hold the source's only sync forever. Rate-limit and backoff waits are not
	// part of an attempt.
	AttemptTimeout time.Duration
}

// Client is a go-github v60 client whose transport handles auth, conditional
// requests, the in-flight cap, rate limits and retries, plus a GraphQL caller.
type Client struct {
	// REST is the go-github client; use it for every REST call.
	REST *github.Client

	http       *http.Client
	graphqlURL string
	t          *transport
	app        *ghinstallation.Transport // nil with a token
}

// defaultAttemptTimeout is Options.AttemptTimeout's default; GitHub itself gives
// up on a GraphQL query after 10 seconds.
const defaultAttemptTimeout = 2 * time.Minute

// New builds a Client. It starts nothing.
func New(opts Options) (*Client, error) {
	if opts.BaseURL == "" {
		opts.BaseURL = "https://api.github.com/"
	}
	if !strings.HasSuffix(opts.BaseURL, "/") {
		return nil, fmt.Errorf("github: base url %q: must end with \"/\"", opts.BaseURL)
	}
	base, err := url.Parse(opts.BaseURL)
	if err != nil || base.Scheme == "" || base.Host == "" {
		return nil, fmt.Errorf("github: base url %q: not an absolute URL", opts.BaseURL)
	}
	if opts.GraphQLURL == "" {
		opts.GraphQLURL = DeriveGraphQLURL(base)
	}
	if _, err := url.Parse(opts.GraphQLURL); err != nil {
		return nil, fmt.Errorf("github: graphql url %q: %v", opts.GraphQLURL, err)
	}
	if opts.MaxInFlight <= 0 {
		opts.MaxInFlight = 4
	}
	if opts.MaxRetries < 0 {
		opts.MaxRetries = 0
	} else if opts.MaxRetries == 0 {
		opts.MaxRetries = 5
	}
	if opts.Clock == nil {
		opts.Clock = collector.RealClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Rand == nil {
		opts.Rand = defaultRand
	}
	if opts.Progress == nil {
		opts.Progress = collector.NopProgress{}
	}
	inner := opts.Transport
	if inner == nil {
		inner = http.DefaultTransport.(*http.Transport).Clone()
	}
	if opts.AttemptTimeout <= 0 {
		opts.AttemptTimeout = defaultAttemptTimeout
	}
	var app *ghinstallation.Transport
	switch {
	case opts.App != nil:
		itr, err := ghinstallation.New(inner, opts.App.AppID, opts.App.InstallationID, opts.App.PrivateKey)
		if err != nil {
			// ghinstallation's error names the key problem, never the key itself.
			return nil, fmt.Errorf("github: app auth (app %d, installation %d): %w", opts.App.AppID, opts.App.InstallationID, err)
		}
		itr.BaseURL = strings.TrimSuffix(opts.BaseURL, "/")
		inner, app = itr, itr
	case opts.Token != "":
		inner = &tokenTransport{token: opts.Token, base: inner}
	}
	t := &transport{
		base:     inner,
		opts:     opts,
		sem:      make(chan struct{}, opts.MaxInFlight),
		rates:    map[string]RateLimit{},
		requests: map[int]int64{},
	}
	hc := &http.Client{Transport: t}
	rest := github.NewClient(hc)
	rest.BaseURL = base
	rest.UploadURL = base
	return &Client{REST: rest, http: hc, graphqlURL: opts.GraphQLURL, t: t, app: app}, nil
}

// DeriveGraphQLURL returns the GraphQL endpoint belonging to a REST base URL:
// https://api.github.com/ → https://api.github.com/graphql; https://HOST/api/v3/ →
// https://HOST/api/graphql; anything else → base + "graphql".
func DeriveGraphQLURL(base *url.URL) string {
	u := *base
	if strings.HasSuffix(u.Path, "/api/v3/") {
		u.Path = strings.TrimSuffix(u.Path, "v3/") + "graphql"
		return u.String()
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/graphql"
	return u.String()
}

// GraphQLURL is the endpoint GraphQL queries go to.
func (c *Client) GraphQLURL() string { return c.graphqlURL }

// IsNotModified reports whether err is go-github v60's error for a 304 Not Modified
// (v60's CheckResponse treats every non-2xx, 304 included, as an *ErrorResponse).
func IsNotModified(err error) bool {
	var er *github.ErrorResponse
	return errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusNotModified
}

// ValidatorKey is the key under which the validator of a request is stored: the
// request URL without user info (tokens never travel in the URL here, but a
// configured base URL could carry user:password).
func ValidatorKey(u *url.URL) string {
	c := *u
	c.User = nil
	c.Fragment = ""
	return c.String()
}

// ValidatorFor returns the validator (ETag, Last-Modified) of a 200 or 304 response,
// to be written in the same flywheel.Batch as the data that response carried, so that
// a failed write never leaves an ETag whose data is missing. ok is false when the
// response has no validator.
func (c *Client) ValidatorFor(resp *github.Response) (flywheel.Validator, bool) {
	if resp == nil || resp.Response == nil || resp.Request == nil {
		return flywheel.Validator{}, false
	}
	return validatorOf(resp.Response)
}

func validatorOf(resp *http.Response) (flywheel.Validator, bool) {
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNotModified {
		return flywheel.Validator{}, false
	}
	v := flywheel.Validator{
		Key:          ValidatorKey(resp.Request.URL),
		ETag:         resp.Header.Get("ETag"),
		LastModified: resp.Header.Get("Last-Modified"),
	}
	if v.ETag == "" && v.LastModified == "" {
		return flywheel.Validator{}, false
	}
	return v, true
}

// RateLimit is one rate-limit resource's budget as of the last response that carried
// x-ratelimit-* headers.
type RateLimit struct {
	Limit     int
	Remaining int
	Reset     time.Time
}

// Stats are the client's counters since New.
type Stats struct {
	// Requests counts HTTP attempts (retries included) by status code; 0 is a
	// transport error.
	Requests map[int]int64
	// RateLimits by resource ("core", "graphql", "search"…); empty when the server
	// sends no rate-limit headers (GitHub Enterprise Server with limits disabled).
	RateLimits map[string]RateLimit
	// GraphQLQueries is the number of GraphQL queries answered.
	GraphQLQueries int64
	// GraphQLPoints sums rateLimit.cost of the queries that selected it, and 1 for
	// those that did not (a query's minimum cost).
	GraphQLPoints int64
	// Retries is the number of attempts repeated after a limit, 5xx or transport error.
	Retries int64
}

// Stats returns a copy of the counters.
func (c *Client) Stats() Stats { return c.t.stats() }

type tokenTransport struct {
	token string
	base  http.RoundTripper
}

func (t *tokenTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "Bearer "+t.token)
	return t.base.RoundTrip(r)
}
