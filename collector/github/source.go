package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/collector"
	"github.com/flywheel-metrics/flywheel/collector/github/ghclient"
)

// Source is the GitHub source. It is safe to Sync from one goroutine at a time
// (the scheduler never runs a source twice at once).
type Source struct {
	opts Options

	mu sync.Mutex
	// restOnly is set once the server answered 404 on its GraphQL endpoint.
	restOnly bool
	// teams maps a service to its team, from the last resolved repository list.
	teams map[string]string
}

var _ collector.Source = (*Source)(nil)

// New builds a Source; it starts nothing and sends no request.
func New(opts Options) (*Source, error) {
	if opts.Client == nil {
		return nil, errors.New("github: source needs a client")
	}
	opts.setDefaults()
	for i, r := range opts.Repos {
		if r.Owner == "" || r.Name == "" {
			return nil, errorf("github: repos[%d]: owner and name required", i)
		}
	}
	for i, o := range opts.Orgs {
		if o.Name == "" {
			return nil, errorf("github: orgs[%d]: name required", i)
		}
	}
	return &Source{opts: opts, restOnly: !opts.GraphQL}, nil
}

// Name is the source's label value.
func (s *Source) Name() string { return sourceName }

// Teams maps each service of the repositories resolved by the last Sync (and of
// the listed repositories before any) to its team, for the KPI labels.
func (s *Source) Teams() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	for _, r := range s.opts.Repos {
		if r.Team != "" {
			out[serviceOf(r.Service, r.Name)] = r.Team
		}
	}
	for k, v := range s.teams {
		out[k] = v
	}
	return out
}

func serviceOf(service, name string) string {
	if service != "" {
		return service
	}
	return name
}

func (s *Source) useGraphQL() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.restOnly
}

// Sync runs one incremental sync of every repository. A failing repository does
// not stop the others; the errors are joined. Cancelling ctx stops at the next
// request, leaving every cursor where the stored data ends.
func (s *Source) Sync(ctx context.Context, sink collector.Sink, p collector.Progress) error {
	if p == nil {
		p = collector.NopProgress{}
	}
	repos, err := s.repositories(ctx, sink, p)
	if err != nil {
		return err
	}
	teams := map[string]string{}
	for _, r := range repos {
		if r.Team != "" {
			teams[r.Service] = r.Team
		}
	}
	s.mu.Lock()
	s.teams = teams
	s.mu.Unlock()

	p.Total(len(repos))
	var errs []error
	for _, r := range repos {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := s.syncRepo(ctx, sink, p, r); err != nil {
			if ctx.Err() != nil {
				return err
			}
			s.opts.Logger.Warn("github sync of a repository failed", "repo", r.FullName(), "err", err)
			errs = append(errs, err)
			continue
		}
		p.Done(1, r.FullName())
	}
	return errors.Join(errs...)
}

func (s *Source) syncRepo(ctx context.Context, sink collector.Sink, p collector.Progress, r repoInfo) error {
	if s.useGraphQL() {
		err := s.syncRepoGraphQL(ctx, sink, p, r)
		if err == nil || !graphQLMissing(err) {
			return err
		}
		s.opts.Logger.Info("github: the server has no GraphQL API; using REST only", "err", err)
		s.mu.Lock()
		s.restOnly = true
		s.mu.Unlock()
	}
	return s.syncRepoREST(ctx, sink, p, r)
}

// graphQLMissing reports a 404 from the GraphQL endpoint: a server without GraphQL
// (ghclient words a non-200 GraphQL answer as "… POST URL: 404 Not Found: …").
func graphQLMissing(err error) bool {
	var gerr *ghclient.GraphQLError
	if errors.As(err, &gerr) {
		return false
	}
	return strings.Contains(err.Error(), "graphql POST") && strings.Contains(err.Error(), ": 404 ")
}

// Cursor keys, per repository and kind: "owner/name/pulls", "…/deployments",
// "…/runs", "…/releases", "…/issues". Values are RFC3339 high-water marks of the
// updated time of the items stored. The repository and org caches below hold the
// JSON of a REST answer, so that a 304 can be served from the store.
func cursorKey(r repoInfo, kind string) string { return r.FullName() + "/" + kind }

func (s *Source) readCursor(sink collector.Sink, key string) (time.Time, bool, error) {
	v, err := sink.Cursor(sourceName, key)
	if err != nil {
		return time.Time{}, false, errorf("github: read cursor %s: %w", key, err)
	}
	if v == "" {
		return time.Time{}, false, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, false, errorf("github: cursor %s: %q is not an RFC3339 time", key, v)
	}
	return t, true, nil
}

// since is where a pass over one kind starts: the cursor minus the overlap, or
// the history horizon on a first sync.
func (s *Source) since(sink collector.Sink, r repoInfo, kind string) (since time.Time, cur time.Time, incremental bool, err error) {
	cur, ok, err := s.readCursor(sink, cursorKey(r, kind))
	if err != nil {
		return time.Time{}, time.Time{}, false, err
	}
	if !ok {
		return s.opts.Clock.Now().Add(-s.opts.History).UTC(), time.Time{}, false, nil
	}
	return cur.Add(-s.opts.Overlap), cur, true, nil
}

func cursorAt(r repoInfo, kind string, t time.Time) flywheel.Cursor {
	return flywheel.Cursor{Source: sourceName, Key: cursorKey(r, kind), Value: t.UTC().Format(time.RFC3339Nano)}
}

// highWater keeps the latest time seen in a pass, starting from the old cursor.
// A pass that saw nothing still records where it started (floor), so that the
// next sync of an empty kind is incremental too (small GraphQL pages).
type highWater struct{ t, floor time.Time }

func (h *highWater) see(t time.Time) {
	if t.After(h.t) {
		h.t = t
	}
}

// cursor is the pass's final cursor.
func (h *highWater) cursor(r repoInfo, kind string) []flywheel.Cursor {
	t := h.t
	if t.IsZero() {
		t = h.floor
	}
	if t.IsZero() {
		return nil
	}
	return []flywheel.Cursor{cursorAt(r, kind, t)}
}

func (s *Source) write(ctx context.Context, sink collector.Sink, r repoInfo, b flywheel.Batch) error {
	b.Changes = inRange(s, r, "pull request", b.Changes, func(c *flywheel.Change) (string, string) { return c.ID, c.OutOfRangeTime() })
	b.Incidents = inRange(s, r, "issue", b.Incidents, func(x *flywheel.Incident) (string, string) { return x.ID, x.OutOfRangeTime() })
	b.Deployments = inRange(s, r, "deployment", b.Deployments, func(d *flywheel.Deployment) (string, string) { return d.ID, d.OutOfRangeTime() })
	if b.Len() == 0 && len(b.Cursors) == 0 && len(b.Validators) == 0 {
		return nil
	}
	if err := sink.WriteBatch(ctx, b); err != nil {
		return errorf("github: store %s: %w", r.FullName(), err)
	}
	return nil
}

// inRange drops the items with a time outside the valid years, each with a
// warning naming it: such a time is a bug of the API or of whoever wrote it,
// and one item must neither stop the sync of the repository nor reach the KPIs.
func inRange[T any](s *Source, r repoInfo, kind string, items []T, check func(*T) (id, field string)) []T {
	return slices.DeleteFunc(items, func(it T) bool {
		id, field := check(&it)
		if field == "" {
			return false
		}
		s.opts.Logger.Warn("github: skipped an item with a time outside the valid range",
			"repo", r.FullName(), "kind", kind, "id", id, "field", field, "valid", flywheel.TimeRangeText)
		return true
	})
}

// repoCache is what a repository listing tells about a repository, stored as a
// cursor value next to the listing's ETag so that a 304 can be answered.
type repoCache struct {
	Name          string `json:"name"`
	Owner         string `json:"owner"`
	DefaultBranch string `json:"default_branch"`
	Archived      bool   `json:"archived,omitempty"`
	Fork          bool   `json:"fork,omitempty"`
}

type orgPageCache struct {
	Repos    []repoCache `json:"repos"`
	NextPage int         `json:"next_page"`
}

// repositories resolves the listed repositories and discovers those of the orgs:
// a listed entry overrides discovery; archived and forked repositories
// are skipped unless listed.
func (s *Source) repositories(ctx context.Context, sink collector.Sink, p collector.Progress) ([]repoInfo, error) {
	var out []repoInfo
	seen := map[string]bool{}
	for _, rc := range s.opts.Repos {
		out = append(out, repoInfo{Owner: rc.Owner, Name: rc.Name, Service: serviceOf(rc.Service, rc.Name),
			Team: rc.Team, Settings: rc.Settings})
		seen[strings.ToLower(rc.Owner+"/"+rc.Name)] = true
	}
	for _, org := range s.opts.Orgs {
		repos, err := s.orgRepos(ctx, sink, p, org.Name)
		if err != nil {
			return nil, err
		}
		for _, rc := range repos {
			full := strings.ToLower(rc.Owner + "/" + rc.Name)
			if seen[full] || rc.Archived || rc.Fork {
				continue
			}
			if org.Include != nil && !org.Include.MatchString(rc.Name) {
				continue
			}
			if org.Exclude != nil && org.Exclude.MatchString(rc.Name) {
				continue
			}
			seen[full] = true
			out = append(out, repoInfo{Owner: rc.Owner, Name: rc.Name, Service: rc.Name, Team: org.Team,
				DefaultBranch: rc.DefaultBranch, Settings: s.opts.Defaults})
		}
	}
	return out, nil
}

// orgRepos lists an organisation's repositories, page by page, each page's answer
// cached in the store with its ETag.
func (s *Source) orgRepos(ctx context.Context, sink collector.Sink, p collector.Progress, org string) ([]repoCache, error) {
	var out []repoCache
	opts := &gh.RepositoryListByOrgOptions{Type: "all", Sort: "full_name", ListOptions: gh.ListOptions{PerPage: 100}}
	for page := 1; page != 0; {
		opts.Page = page
		if page == 1 {
			opts.Page = 0
		}
		key := fmt.Sprintf("orgs/%s/repos/%d", org, page)
		repos, resp, err := s.opts.Client.REST.Repositories.ListByOrg(ctx, org, opts)
		closeBody(resp)
		var pc orgPageCache
		switch {
		case ghclient.IsNotModified(err):
			v, cerr := sink.Cursor(sourceName, key)
			if cerr != nil {
				return nil, errorf("github: read cursor %s: %w", key, cerr)
			}
			if v == "" || json.Unmarshal([]byte(v), &pc) != nil {
				return nil, errorf("github: list repositories of %s: 304 Not Modified but no stored page %d", org, page)
			}
		case err != nil:
			return nil, errorf("github: list repositories of %s: %w", org, err)
		default:
			pc.NextPage = resp.NextPage
			for _, r := range repos {
				owner := org
				if r.GetOwner().GetLogin() != "" {
					owner = r.GetOwner().GetLogin()
				}
				pc.Repos = append(pc.Repos, repoCache{Name: r.GetName(), Owner: owner, DefaultBranch: r.GetDefaultBranch(),
					Archived: r.GetArchived(), Fork: r.GetFork()})
			}
			raw, _ := json.Marshal(pc)
			b := flywheel.Batch{Cursors: []flywheel.Cursor{{Source: sourceName, Key: key, Value: string(raw)}}}
			if v, ok := s.opts.Client.ValidatorFor(resp); ok {
				b.Validators = append(b.Validators, v)
			}
			if err := sink.WriteBatch(ctx, b); err != nil {
				return nil, errorf("github: store repositories of %s: %w", org, err)
			}
		}
		p.Total(1)
		p.Done(1, fmt.Sprintf("%s repositories page %d", org, page))
		out = append(out, pc.Repos...)
		page = pc.NextPage
	}
	return out, nil
}

// defaultBranchREST returns a listed repository's default branch (REST path),
// cached in the store with the answer's ETag.
func (s *Source) defaultBranchREST(ctx context.Context, sink collector.Sink, r repoInfo) (string, error) {
	if r.DefaultBranch != "" {
		return r.DefaultBranch, nil
	}
	key := r.FullName() + "/repository"
	repo, resp, err := s.opts.Client.REST.Repositories.Get(ctx, r.Owner, r.Name)
	closeBody(resp)
	if ghclient.IsNotModified(err) {
		v, cerr := sink.Cursor(sourceName, key)
		if cerr != nil {
			return "", errorf("github: read cursor %s: %w", key, cerr)
		}
		var rc repoCache
		if v == "" || json.Unmarshal([]byte(v), &rc) != nil || rc.DefaultBranch == "" {
			return "", errorf("github: get repository %s: 304 Not Modified but nothing stored", r.FullName())
		}
		return rc.DefaultBranch, nil
	}
	if err != nil {
		return "", errorf("github: get repository %s: %w", r.FullName(), err)
	}
	rc := repoCache{Name: repo.GetName(), Owner: r.Owner, DefaultBranch: repo.GetDefaultBranch()}
	if rc.DefaultBranch == "" {
		return "", errorf("github: get repository %s: no default_branch in the answer", r.FullName())
	}
	raw, _ := json.Marshal(rc)
	b := flywheel.Batch{Cursors: []flywheel.Cursor{{Source: sourceName, Key: key, Value: string(raw)}}}
	if v, ok := s.opts.Client.ValidatorFor(resp); ok {
		b.Validators = append(b.Validators, v)
	}
	if err := s.write(ctx, sink, r, b); err != nil {
		return "", err
	}
	return rc.DefaultBranch, nil
}

// githubErr is an error of this package, "github: what failed: why", without
// the "github: " that a wrapped ghclient error repeats.
type githubErr struct {
	msg string
	err error
}

func (e *githubErr) Error() string { return e.msg }
func (e *githubErr) Unwrap() error { return e.err }

// errorf is fmt.Errorf for this package's errors (see githubErr). A wrapped JSON
// decoding error (go-github's, for a cut-off or invalid body) is named as such.
func errorf(format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	msg, inner := err.Error(), errors.Unwrap(err)
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	if inner != nil && (errors.Is(inner, io.ErrUnexpectedEOF) || errors.As(inner, &se) || errors.As(inner, &te)) {
		msg = strings.TrimSuffix(msg, inner.Error()) + "malformed response: " + inner.Error()
	}
	return &githubErr{msg: strings.ReplaceAll(msg, ": github: ", ": "), err: inner}
}
