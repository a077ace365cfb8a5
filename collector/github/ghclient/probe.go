package ghclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/bradleyfalzon/ghinstallation/v2"
)

// The two methods below serve an access check (flywheel check-config
// --online): a few requests whose answers are read for what they say about the
// credentials, whatever their status.

// maxProbeBody bounds how much of an answer Probe keeps.
const maxProbeBody = 64 << 10

// Probe is the answer to one request of an access check.
type Probe struct {
	Status int
	Header http.Header
	// JSON reports whether the answer was JSON, as every answer of GitHub's
	// API is; a base URL that is not an API usually answers HTML.
	JSON bool
	// Message is the "message" of a JSON answer ("Bad credentials",
	// "Resource not accessible by personal access token"), if any.
	Message string
	// Body is the start of the answer, at most 64 KiB.
	Body []byte
}

// Probe sends one request through the client — its authentication, in-flight
// cap and rate-limit handling, and as many retries as Options.MaxRetries allows
// (an access check disables them) — and returns the answer whatever its
// status. url is relative to the base URL ("repos/acme/checkout") or absolute
// (the GraphQL endpoint); body, when not nil, is sent as JSON. The error is a
// transport failure only.
func (c *Client) Probe(ctx context.Context, method, url string, body any) (Probe, error) {
	req, err := c.REST.NewRequest(method, url, body)
	if err != nil {
		return Probe{}, fmt.Errorf("github: %s %s: %w", method, url, err)
	}
	resp, err := c.http.Do(req.WithContext(ctx))
	if err != nil {
		return Probe{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxProbeBody))
	if err != nil {
		return Probe{}, fmt.Errorf("github: %s %s: read answer: %w", method, ValidatorKey(req.URL), err)
	}
	p := Probe{Status: resp.StatusCode, Header: resp.Header, Body: b}
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json")) {
		p.JSON = true
		var m struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(b, &m) == nil {
			p.Message = m.Message
		}
	}
	return p, nil
}

// ErrNotApp is AppPermissions' error for a client that authenticates with a
// token.
var ErrNotApp = errors.New("github: the client does not authenticate as a GitHub App")

// InstallationError is a failed exchange of the App's signed JWT for an
// installation token: the answer's status and GitHub's message.
type InstallationError struct {
	InstallationID int64
	Status         int // 0: no answer
	Message        string
	Err            error
}

func (e *InstallationError) Error() string {
	if e.Status == 0 {
		return fmt.Sprintf("github: installation %d: token exchange failed: %v", e.InstallationID, e.Err)
	}
	s := fmt.Sprintf("github: installation %d: token exchange answered %d %s", e.InstallationID, e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

func (e *InstallationError) Unwrap() error { return e.Err }

// AppPermissions exchanges the App's JWT for an installation token now (POST
// /app/installations/{id}/access_tokens, one request unless a token is
// already held) and returns the permissions GitHub granted the installation,
// such as "deployments": "read". The token itself stays inside the client.
func (c *Client) AppPermissions(ctx context.Context) (map[string]string, error) {
	if c.app == nil {
		return nil, ErrNotApp
	}
	if _, err := c.app.Token(ctx); err != nil {
		ie := &InstallationError{InstallationID: c.app.InstallationID(), Err: err}
		var he *ghinstallation.HTTPError
		if errors.As(err, &he) && he.Response != nil {
			ie.Status = he.Response.StatusCode
			// ghinstallation leaves the body of a failed answer open for us.
			b, _ := io.ReadAll(io.LimitReader(he.Response.Body, maxProbeBody))
			_ = he.Response.Body.Close()
			var m struct {
				Message string `json:"message"`
			}
			if json.Unmarshal(b, &m) == nil {
				ie.Message = m.Message
			}
		}
		return nil, ie
	}
	perms, err := c.app.Permissions()
	if err != nil {
		return nil, err
	}
	// The permissions come as a struct of optional fields; its JSON form is
	// GitHub's own map of permission name to access.
	b, err := json.Marshal(perms)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	return out, nil
}
