package githubtest

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"strings"
)

// Grant is what one token may do, in either of GitHub's two models.
//
// A classic personal access token (FineGrained false) holds OAuth scopes.
// Every answer to it carries them in X-OAuth-Scopes, comma and space
// separated, and the scopes the route checks in X-Accepted-OAuth-Scopes (the
// headers of GitHub's "Scopes for OAuth apps" page:
// https://docs.github.com/apps/oauth-apps/building-oauth-apps/scopes-for-oauth-apps).
// Without the repo scope a private repository answers 404, as GitHub answers
// for a private resource it will not confirm exists ("Troubleshooting the REST
// API", 404 for an existing resource), and organisation listings leave private
// repositories out.
//
// A fine-grained personal access token (FineGrained true) holds repository
// permissions such as "deployments": "read". A request whose route needs a
// permission the token lacks answers 403 "Resource not accessible by personal
// access token" with X-Accepted-GitHub-Permissions naming what the route
// accepts, "deployments=read" (its format — comma-separated permissions,
// alternatives separated by semicolons — is GitHub's, from "Troubleshooting the
// REST API", section "Resource not accessible", and the 2023-08-10 changelog
// "X-Accepted-GitHub-Permissions header for fine-grained permission actors").
// GitHub App installation tokens follow the same model with the App's
// permissions (Options.AppPermissions) and the message "Resource not
// accessible by integration".
//
// Grants apply to the REST routes; GraphQL answers every accepted token alike.
type Grant struct {
	FineGrained bool
	// Scopes of a classic token, e.g. "repo", "read:org".
	Scopes []string
	// Permissions of a fine-grained token: permission name → "read" or "write".
	Permissions map[string]string
}

// DefaultAppPermissions are the permissions of issued App installation tokens
// when Options.AppPermissions is nil: read access to all Flywheel reads.
func DefaultAppPermissions() map[string]string {
	return map[string]string{"actions": "read", "contents": "read", "deployments": "read", "issues": "read", "metadata": "read", "pull_requests": "read"}
}

// routePermissions is the fine-grained repository permission each simulated
// REST route needs, as GitHub's "Permissions required for fine-grained
// personal access tokens" lists them (release listings are "Contents",
// workflow runs "Actions"); commits/{ref}/pulls, not looked up there, is taken
// to need Contents like the other commit routes. /rate_limit needs none.
var routePermissions = map[string]string{
	"GET /orgs/{org}/repos":                                       "metadata",
	"GET /repos/{owner}/{repo}":                                   "metadata",
	"GET /repos/{owner}/{repo}/deployments":                       "deployments",
	"GET /repos/{owner}/{repo}/deployments/{id}":                  "deployments",
	"GET /repos/{owner}/{repo}/deployments/{id}/statuses":         "deployments",
	"GET /repos/{owner}/{repo}/actions/runs":                      "actions",
	"GET /repos/{owner}/{repo}/actions/workflows/{workflow}/runs": "actions",
	"GET /repos/{owner}/{repo}/releases":                          "contents",
	"GET /repos/{owner}/{repo}/pulls":                             "pull_requests",
	"GET /repos/{owner}/{repo}/pulls/{number}":                    "pull_requests",
	"GET /repos/{owner}/{repo}/pulls/{number}/commits":            "pull_requests",
	"GET /repos/{owner}/{repo}/pulls/{number}/reviews":            "pull_requests",
	"GET /repos/{owner}/{repo}/pulls/{number}/files":              "pull_requests",
	"GET /repos/{owner}/{repo}/issues":                            "issues",
	"GET /repos/{owner}/{repo}/issues/{number}":                   "issues",
	"GET /repos/{owner}/{repo}/issues/{number}/comments":          "issues",
	"GET /repos/{owner}/{repo}/issues/{number}/events":            "issues",
	"GET /repos/{owner}/{repo}/compare/{basehead}":                "contents",
	"GET /repos/{owner}/{repo}/commits":                           "contents",
	"GET /repos/{owner}/{repo}/commits/{ref}":                     "contents",
	"GET /repos/{owner}/{repo}/commits/{ref}/pulls":               "contents",
}

// caller is who sent a request: nil grant means unrestricted (Options.Token,
// or a server that asks for no token).
type caller struct {
	grant *Grant
	app   bool // an issued App installation token
}

type callerKey struct{}

func callerOf(r *http.Request) caller {
	c, _ := r.Context().Value(callerKey{}).(caller)
	return c
}

// hidesPrivate reports whether private repositories are invisible to c.
func (c caller) hidesPrivate() bool {
	return c.grant != nil && !c.grant.FineGrained && !slices.Contains(c.grant.Scopes, "repo")
}

// identify finds the caller of r; ok is false for a request the server must
// refuse with 401.
func (s *Server) identify(r *http.Request) (caller, bool) {
	a := r.Header.Get("Authorization")
	scheme, tok, _ := strings.Cut(a, " ")
	if scheme != "Bearer" && scheme != "token" {
		tok = ""
	}
	if tok != "" {
		if s.opts.Token != "" && tok == s.opts.Token {
			return caller{}, true
		}
		if g, ok := s.opts.Tokens[tok]; ok {
			return caller{grant: &g}, true
		}
		s.mu.Lock()
		issued := s.appTokens[tok]
		s.mu.Unlock()
		if issued {
			return caller{grant: &Grant{FineGrained: true, Permissions: s.appPermissions()}, app: true}, true
		}
	}
	return caller{}, s.opts.Token == "" && len(s.opts.Tokens) == 0
}

func (s *Server) appPermissions() map[string]string {
	if s.opts.AppPermissions != nil {
		return maps.Clone(s.opts.AppPermissions)
	}
	return DefaultAppPermissions()
}

// admit applies c's grant to a REST request on route: it sets the headers
// GitHub sends to such a caller and, when the grant does not reach, answers
// as GitHub does and returns false.
func (s *Server) admit(w http.ResponseWriter, r *http.Request, route string, c caller) bool {
	if c.grant == nil {
		return true
	}
	h := w.Header()
	need := routePermissions[route]
	if !c.grant.FineGrained {
		h.Set("X-OAuth-Scopes", strings.Join(c.grant.Scopes, ", "))
		accepted := ""
		if need != "" {
			accepted = "repo"
		}
		h.Set("X-Accepted-OAuth-Scopes", accepted)
		if c.hidesPrivate() && strings.HasPrefix(route, "GET /repos/") && s.private(r) {
			s.count(r.Method, route, http.StatusNotFound)
			notFound(w)
			return false
		}
		return true
	}
	if need == "" {
		return true
	}
	h.Set("X-Accepted-GitHub-Permissions", need+"=read")
	if a := c.grant.Permissions[need]; a == "read" || a == "write" {
		return true
	}
	msg := "Resource not accessible by personal access token"
	if c.app {
		msg = "Resource not accessible by integration"
	}
	s.count(r.Method, route, http.StatusForbidden)
	writeJSONStatus(w, http.StatusForbidden, `{"message":"`+msg+`","documentation_url":"https://docs.github.com/rest","status":"403"}`)
	return false
}

// private reports whether the repository of a /repos/{owner}/{repo}/… path is
// private.
func (s *Server) private(r *http.Request) bool {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if len(parts) < 3 {
		return false
	}
	s.dataMu.RLock()
	defer s.dataMu.RUnlock()
	ri := s.idx.repo(parts[1], parts[2])
	return ri != nil && ri.repo.Private
}

func withCaller(r *http.Request, c caller) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), callerKey{}, c))
}
