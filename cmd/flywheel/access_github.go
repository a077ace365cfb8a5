package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/flywheel-metrics/flywheel/collector/github/ghclient"
	"github.com/flywheel-metrics/flywheel/config"
)

// The GitHub access check reads what each request's answer says about the
// credential. A classic personal access token's scopes come back in
// X-OAuth-Scopes on every answer. A fine-grained token or a GitHub App
// installation has no scopes; a request it may not make answers 403 with
// X-Accepted-GitHub-Permissions naming the permission ("deployments=read"), and
// a repository it may not see answers 404 — as it does for a classic token
// without the repo scope, since GitHub does not confirm a private repository
// exists.

// tokenKind is the kind of GitHub credential, which decides what to grant.
type tokenKind int

const (
	kindUnknown     tokenKind = iota
	kindClassic               // personal access token (classic) or OAuth token: scopes
	kindFineGrained           // fine-grained personal access token: permissions
	kindApp                   // GitHub App installation: permissions
)

func (k tokenKind) String() string {
	switch k {
	case kindClassic:
		return "classic personal access token"
	case kindFineGrained:
		return "fine-grained personal access token"
	case kindApp:
		return "GitHub App installation"
	}
	return "token"
}

// kindOfToken recognises GitHub's token prefixes (ghp_ classic, gho_ OAuth,
// github_pat_ fine-grained, ghs_ installation); older tokens and some GitHub
// Enterprise Server ones have none, and are told apart by the scopes header.
func kindOfToken(token string) tokenKind {
	switch {
	case strings.HasPrefix(token, "ghp_"), strings.HasPrefix(token, "gho_"):
		return kindClassic
	case strings.HasPrefix(token, "github_pat_"):
		return kindFineGrained
	case strings.HasPrefix(token, "ghs_"):
		return kindApp
	}
	return kindUnknown
}

// permissionTitles are the names GitHub's settings pages give the permissions
// that appear in X-Accepted-GitHub-Permissions.
var permissionTitles = map[string]string{
	"actions": "Actions", "contents": "Contents", "deployments": "Deployments", "issues": "Issues",
	"metadata": "Metadata", "pull_requests": "Pull requests", "members": "Members",
}

// permissionName turns "deployments=read" into "Deployments: read".
func permissionName(p string) string {
	name, access, _ := strings.Cut(strings.TrimSpace(p), "=")
	title, ok := permissionTitles[name]
	if !ok {
		title = strings.ReplaceAll(name, "_", " ")
		if title != "" {
			title = strings.ToUpper(title[:1]) + title[1:]
		}
	}
	if access == "" {
		return title
	}
	return title + ": " + access
}

// describeAccepted reads X-Accepted-GitHub-Permissions — sets of permissions
// separated by ";", each set's permissions by "," — as "Pull requests: read
// and Contents: read, or Issues: read".
func describeAccepted(h string) string {
	var alts []string
	for _, set := range strings.Split(h, ";") {
		var ps []string
		for _, p := range strings.Split(set, ",") {
			if strings.TrimSpace(p) != "" {
				ps = append(ps, permissionName(p))
			}
		}
		if len(ps) > 0 {
			alts = append(alts, strings.Join(ps, " and "))
		}
	}
	return joinOr(alts)
}

// githubCheck is one run of the GitHub access check.
type githubCheck struct {
	cfg    *config.GitHub
	client *ghclient.Client
	kind   tokenKind
	scopes []string // a classic token's, once an answer has named them
	seen   bool     // whether an answer named the scopes
	// visible records the repositories whose metadata was asked for.
	visible map[string]bool
	report  accessReport
	extra   int // requests made outside the client's counters (the App's token exchange)
}

func (c *githubCheck) hasScope(s string) bool { return slices.Contains(c.scopes, s) }

// checkGitHubAccess makes a handful of requests with the configured
// credential and reports, for each thing the GitHub source reads, whether the
// credential may read it.
func checkGitHubAccess(ctx context.Context, cfg *config.Config, getenv func(string) string) accessReport {
	g := cfg.GitHub
	c := &githubCheck{cfg: g, visible: map[string]bool{}, report: accessReport{source: "github", about: g.BaseURL}}
	// No retries: a check reports what the first answer says, at once.
	opts := ghclient.Options{BaseURL: g.BaseURL, MaxRetries: -1, MaxInFlight: 1}
	if g.App != nil {
		key, err := cfg.AppPrivateKey()
		if err != nil {
			c.report.add(accessMissing, "GitHub App private key", "%v", err)
			return c.report
		}
		c.kind = kindApp
		opts.App = &ghclient.AppAuth{AppID: g.App.AppID, InstallationID: g.App.InstallationID, PrivateKey: key}
	} else {
		token, err := cfg.ReadSecret(g.Secret, getenv)
		if err != nil {
			c.report.add(accessMissing, "token", "%v", err)
			return c.report
		}
		c.kind = kindOfToken(token)
		opts.Token = token
	}
	client, err := ghclient.New(opts)
	if err != nil {
		c.report.add(accessMissing, "client", "%v", err)
		return c.report
	}
	c.client = client
	c.run(ctx)
	for _, n := range client.Stats().Requests {
		c.report.requests += int(n)
	}
	c.report.requests += c.extra
	c.report.about = fmt.Sprintf("%s as a %s", g.BaseURL, c.about())
	return c.report
}

func (c *githubCheck) about() string {
	switch c.kind {
	case kindClassic:
		if !c.seen {
			return c.kind.String()
		}
		if len(c.scopes) == 0 {
			return c.kind.String() + " (no scopes)"
		}
		return fmt.Sprintf("%s (scopes: %s)", c.kind, strings.Join(c.scopes, ", "))
	case kindApp:
		if c.cfg.App == nil {
			return "GitHub App installation token" // a ghs_ token given as token_file or token_env
		}
		return fmt.Sprintf("%s (app %d, installation %d)", c.kind, c.cfg.App.AppID, c.cfg.App.InstallationID)
	}
	return c.kind.String()
}

// run makes the requests: the App's token exchange, the API's rate limit
// (which proves the base URL and the credential), each organisation's first
// page of repositories, one repository's metadata, pull requests, issues and
// commits, each configured deployment source once, and a GraphQL query.
func (c *githubCheck) run(ctx context.Context) {
	if c.cfg.App != nil {
		c.extra++
		perms, err := c.client.AppPermissions(ctx)
		if err != nil {
			c.report.add(accessMissing, "installation token", "%s", installationHint(err, c.cfg.App))
			return
		}
		var granted []string
		for p, a := range perms {
			granted = append(granted, permissionName(p+"="+a))
		}
		sort.Strings(granted)
		c.report.add(accessOK, "installation token", "issued; the installation may read: %s", strings.Join(granted, ", "))
	}
	if !c.checkAPI(ctx) {
		return
	}
	repo, fromConfig := c.checkOrgs(ctx)
	if repo == "" {
		c.report.add(accessSkipped, "repository access", "no repository to try: list one under github.repos, or fix the organisations above")
	} else {
		where := "github.orgs (the first repository discovered)"
		if fromConfig {
			where = "github.repos[0].name"
		}
		c.checkRepo(ctx, repo, where)
	}
	c.checkDeploymentSources(ctx, repo)
	if c.cfg.GraphQL == nil || *c.cfg.GraphQL {
		c.checkGraphQL(ctx)
	}
}

// installationHint says what a failed token exchange usually means.
func installationHint(err error, app *config.GitHubApp) string {
	var ie *ghclient.InstallationError
	if !errors.As(err, &ie) || ie.Status == 0 {
		return err.Error()
	}
	msg := fmt.Sprintf("POST /app/installations/%d/access_tokens answered %d %s", app.InstallationID, ie.Status, http.StatusText(ie.Status))
	if ie.Message != "" {
		msg += " (" + ie.Message + ")"
	}
	switch ie.Status {
	case http.StatusUnauthorized:
		return msg + ": GitHub did not accept the App's signed token; check github.app.app_id and that private_key_file is a current key of that App"
	case http.StatusNotFound:
		return msg + ": no such installation of this App; check github.app.installation_id (the number at the end of the installation's settings URL) and github.app.app_id"
	case http.StatusForbidden:
		return msg + ": the installation is suspended, or the organisation blocks it"
	}
	return msg
}

// checkAPI asks for the rate limit: free of charge, and it proves the base URL
// answers as GitHub's REST API and accepts the credential. It reports whether
// the remaining checks can run.
func (c *githubCheck) checkAPI(ctx context.Context) bool {
	p, err := c.client.Probe(ctx, http.MethodGet, "rate_limit", nil)
	if err != nil {
		c.report.add(accessMissing, "API", "github.base_url %s: %v", c.cfg.BaseURL, err)
		return false
	}
	c.readScopes(p)
	switch {
	case !p.JSON:
		c.report.add(accessMissing, "API", "github.base_url %s answered %d (%s), not as GitHub's REST API; GitHub Enterprise Server's is at https://HOST/api/v3/",
			c.cfg.BaseURL, p.Status, cmp.Or(p.Header.Get("Content-Type"), "no content type"))
		return false
	case p.Status == http.StatusUnauthorized:
		c.report.add(accessMissing, "credentials", "%d %s: the %s is wrong, expired or revoked", p.Status, cmp.Or(p.Message, "Unauthorized"), c.kind)
		return false
	case p.Status == http.StatusNotFound:
		// GitHub Enterprise Server answers so when rate limiting is off.
		c.report.add(accessOK, "API", "answers (%s: %s)", c.serverName(p), cmp.Or(p.Message, "no rate limit"))
	case p.Status/100 != 2:
		c.report.add(accessMissing, "API", "GET /rate_limit answered %d %s", p.Status, p.Message)
		return false
	default:
		var rl struct {
			Resources struct {
				Core struct{ Limit, Remaining int }
			}
		}
		_ = json.Unmarshal(p.Body, &rl)
		c.report.add(accessOK, "API", "answers (%s; %d of %d requests left this hour)", c.serverName(p), rl.Resources.Core.Remaining, rl.Resources.Core.Limit)
	}
	if c.kind == kindClassic && !c.hasScope("repo") {
		c.report.add(accessMissing, "scope repo", "not granted: a classic token reads private repositories only with it (public ones without); grant scope repo")
	}
	return true
}

// serverName names the server from its answer's headers.
func (c *githubCheck) serverName(p ghclient.Probe) string {
	if v := p.Header.Get("X-GitHub-Enterprise-Version"); v != "" {
		return "GitHub Enterprise Server " + v
	}
	return "GitHub"
}

// readScopes takes a classic token's scopes from an answer, and tells an
// unprefixed token's kind by whether the answer names scopes at all.
func (c *githubCheck) readScopes(p ghclient.Probe) {
	v, ok := p.Header["X-Oauth-Scopes"]
	if !ok || c.kind == kindApp || c.kind == kindFineGrained {
		if c.kind == kindUnknown && p.Status != http.StatusUnauthorized && p.JSON {
			c.kind = kindFineGrained
		}
		return
	}
	c.kind, c.seen = kindClassic, true
	c.scopes = nil
	for _, s := range strings.Split(strings.Join(v, ","), ",") {
		if s = strings.TrimSpace(s); s != "" {
			c.scopes = append(c.scopes, s)
		}
	}
}

// checkOrgs lists the first page of each organisation's repositories and
// returns the repository to try the per-repository reads on: the first listed
// under github.repos, else the first one discovered that include and exclude
// keep.
func (c *githubCheck) checkOrgs(ctx context.Context) (repo string, fromConfig bool) {
	if len(c.cfg.Repos) > 0 {
		repo, fromConfig = c.cfg.Repos[0].Name, true
	}
	for i, o := range c.cfg.Orgs {
		what := "organisation " + o.Name
		p, err := c.client.Probe(ctx, http.MethodGet, "orgs/"+url.PathEscape(o.Name)+"/repos?type=all&per_page=100", nil)
		if err != nil {
			c.report.add(accessMissing, what, "%v", err)
			continue
		}
		c.readScopes(p)
		if p.Status != http.StatusOK {
			c.report.add(accessMissing, what, "%s", c.refusal(p, fmt.Sprintf("github.orgs[%d].name", i), ""))
			continue
		}
		var rs []struct {
			FullName string `json:"full_name"`
			Name     string `json:"name"`
			Archived bool   `json:"archived"`
		}
		if err := json.Unmarshal(p.Body, &rs); err != nil {
			c.report.add(accessMissing, what, "the repository listing is not GitHub's JSON: %v", err)
			continue
		}
		include, _ := regexp.Compile(cmp.Or(o.Include, ".*"))
		var exclude *regexp.Regexp
		if o.Exclude != "" {
			exclude, _ = regexp.Compile(o.Exclude)
		}
		kept := 0
		for _, r := range rs {
			if include != nil && !include.MatchString(r.Name) || exclude != nil && exclude.MatchString(r.Name) {
				continue
			}
			kept++
			if repo == "" && !r.Archived {
				repo = r.FullName
			}
		}
		first := ""
		if strings.Contains(p.Header.Get("Link"), `rel="next"`) {
			first = " on the first page"
		}
		detail := fmt.Sprintf("%s visible%s, %d kept by include/exclude", plural(len(rs), "repository", "repositories"), first, kept)
		if c.kind == kindClassic && !c.hasScope("repo") {
			detail += " (public ones only: no scope repo)"
		}
		c.report.add(accessOK, what, "%s", detail)
	}
	return repo, fromConfig
}

// checkRepo makes one request for each kind of data read from every
// repository.
func (c *githubCheck) checkRepo(ctx context.Context, repo, where string) {
	base := "repos/" + repo
	p, ok := c.probe(ctx, "repository "+repo, base, where)
	c.visible[repo] = ok
	if !ok {
		c.report.add(accessSkipped, "pull requests, issues, commits of "+repo, "the repository is not visible")
		return
	}
	var meta struct {
		Private bool `json:"private"`
	}
	_ = json.Unmarshal(p.Body, &meta)
	vis := "public"
	if meta.Private {
		vis = "private"
	}
	c.report.add(accessOK, "repository "+repo, "visible (%s)", vis)
	for _, r := range []struct{ what, path string }{
		{"pull requests", base + "/pulls?state=all&per_page=1"},
		{"issues (incidents)", base + "/issues?state=all&per_page=1"},
		{"commits (lead time)", base + "/commits?per_page=1"},
	} {
		if _, ok := c.probe(ctx, r.what+" of "+repo, r.path, where); ok {
			c.report.add(accessOK, r.what+" of "+repo, "")
		}
	}
}

// checkDeploymentSources tries each deployments.source the configuration
// uses once, on the first repository that uses it (repo, the one tried above,
// for the default).
func (c *githubCheck) checkDeploymentSources(ctx context.Context, repo string) {
	type use struct {
		repo, where string // where: the key naming the repository
		at          string // the key of its deployments block
		d           config.Deployments
	}
	var order []string
	uses := map[string]use{}
	note := func(u use) {
		if _, seen := uses[u.d.Source]; !seen && u.repo != "" {
			uses[u.d.Source] = u
			order = append(order, u.d.Source)
		}
	}
	for i, r := range c.cfg.Repos {
		at := fmt.Sprintf("github.repos[%d]", i)
		note(use{r.Name, at + ".name", at + ".deployments", c.cfg.RepoDeployments(r)})
	}
	if len(c.cfg.Orgs) > 0 || len(c.cfg.Repos) == 0 {
		where := "github.orgs (the first repository discovered)"
		if len(c.cfg.Repos) > 0 {
			where = "github.repos[0].name"
		}
		note(use{repo, where, "github.defaults.deployments", c.cfg.Defaults.Deployments})
	}
	for _, src := range order {
		u := uses[src]
		if visible, asked := c.visible[u.repo]; asked && !visible {
			c.report.add(accessSkipped, strings.ReplaceAll(src, "_", " ")+" of "+u.repo, "the repository is not visible")
			continue
		}
		switch src {
		case config.SourceWorkflowRuns:
			what := fmt.Sprintf("workflow runs of %s (%s)", u.repo, u.d.Workflow)
			p, err := c.client.Probe(ctx, http.MethodGet, "repos/"+u.repo+"/actions/workflows/"+url.PathEscape(u.d.Workflow)+"/runs?per_page=1", nil)
			switch {
			case err != nil:
				c.report.add(accessMissing, what, "%v", err)
			case p.Status == http.StatusOK:
				c.report.add(accessOK, what, "")
			case p.Status == http.StatusNotFound && c.visible[u.repo]:
				c.report.add(accessMissing, what, "no workflow %q in %s: check %s.workflow (a file name under .github/workflows)", u.d.Workflow, u.repo, u.at)
			default:
				c.report.add(accessMissing, what, "%s", c.refusal(p, u.where, u.repo))
			}
		case config.SourceReleases:
			if _, ok := c.probe(ctx, "releases of "+u.repo, "repos/"+u.repo+"/releases?per_page=1", u.where); ok {
				c.report.add(accessOK, "releases of "+u.repo, "")
			}
		default:
			if _, ok := c.probe(ctx, "deployments of "+u.repo, "repos/"+u.repo+"/deployments?per_page=1", u.where); ok {
				c.report.add(accessOK, "deployments of "+u.repo, "")
			}
		}
	}
}

// checkGraphQL sends the cheapest query there is: the GitHub source reads pull
// requests and the commit graph through GraphQL unless github.graphql is false.
func (c *githubCheck) checkGraphQL(ctx context.Context) {
	what := "GraphQL (" + c.client.GraphQLURL() + ")"
	p, err := c.client.Probe(ctx, http.MethodPost, c.client.GraphQLURL(), map[string]string{"query": "query { rateLimit { remaining } }"})
	if err != nil {
		c.report.add(accessMissing, what, "%v", err)
		return
	}
	var r struct {
		Errors []struct{ Message string }
	}
	_ = json.Unmarshal(p.Body, &r)
	switch {
	case p.Status == http.StatusOK && len(r.Errors) == 0:
		c.report.add(accessOK, what, "")
	case p.Status == http.StatusOK:
		c.report.add(accessMissing, what, "%s", r.Errors[0].Message)
	case p.Status == http.StatusNotFound:
		c.report.add(accessMissing, what, "not found: a server without GraphQL needs github.graphql: false")
	default:
		c.report.add(accessMissing, what, "%d %s", p.Status, p.Message)
	}
}

// probe GETs path and adds a missing line when the answer is not a 200; it
// returns the answer and whether it was one. where is the configuration key
// the request stems from, for the hint.
func (c *githubCheck) probe(ctx context.Context, what, path, where string) (ghclient.Probe, bool) {
	p, err := c.client.Probe(ctx, http.MethodGet, path, nil)
	if err != nil {
		c.report.add(accessMissing, what, "%v", err)
		return p, false
	}
	if p.Status == http.StatusOK {
		return p, true
	}
	repo, _, _ := strings.Cut(strings.TrimPrefix(path, "repos/"), "?")
	if parts := strings.SplitN(repo, "/", 3); len(parts) >= 2 {
		repo = parts[0] + "/" + parts[1]
	}
	c.report.add(accessMissing, what, "%s", c.refusal(p, where, repo))
	return p, false
}

// refusal says why GitHub refused a request and what to grant.
func (c *githubCheck) refusal(p ghclient.Probe, where, repo string) string {
	status := fmt.Sprintf("%d %s", p.Status, cmp.Or(p.Message, http.StatusText(p.Status)))
	accepted := p.Header.Get("X-Accepted-GitHub-Permissions")
	switch {
	case p.Status == http.StatusUnauthorized:
		return status + ": the credential is wrong, expired or revoked"
	case (p.Status == http.StatusForbidden || p.Status == http.StatusTooManyRequests) && p.Header.Get("X-RateLimit-Remaining") == "0":
		return status + ": rate limited; try again after the reset"
	case p.Status == http.StatusForbidden && accepted != "":
		if c.kind == kindApp {
			return status + ": grant the App " + describeAccepted(accepted) + " (repository permissions), then approve the new permissions on the installation"
		}
		return status + ": grant " + describeAccepted(accepted)
	case p.Status == http.StatusForbidden && p.Header.Get("X-Accepted-OAuth-Scopes") != "":
		return status + ": grant scope " + p.Header.Get("X-Accepted-OAuth-Scopes")
	case p.Status == http.StatusNotFound:
		subject := "the repository " + repo
		if repo == "" {
			subject = "it"
		}
		switch {
		case c.kind == kindClassic && !c.hasScope("repo"):
			return status + ": not visible to this token; grant scope repo (without it a classic token sees public repositories only)"
		case c.kind == kindClassic:
			return fmt.Sprintf("%s: not found, or not visible to this token's user: check %s, and that the user may read %s (with SAML single sign-on, that the token is authorized for the organisation)", status, where, subject)
		case c.kind == kindApp:
			return fmt.Sprintf("%s: not found, or not visible to this installation: check %s, and that the installation's repository access includes %s", status, where, subject)
		default:
			return fmt.Sprintf("%s: not found, or not visible to this token: check %s, and that the token's resource owner and repository access include %s", status, where, subject)
		}
	}
	return status
}
