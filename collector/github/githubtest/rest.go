package githubtest

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

type ctxKey int

const origPathKey ctxKey = 0

// originalPath is the request path as the client sent it (with /api/v3 if any).
func originalPath(r *http.Request) string {
	if p, ok := r.Context().Value(origPathKey).(string); ok {
		return p
	}
	return r.URL.EscapedPath()
}

func withOriginalPath(r *http.Request) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), origPathKey, r.URL.EscapedPath()))
}

func (s *Server) routes() {
	m := s.mux
	m.HandleFunc("POST /graphql", func(http.ResponseWriter, *http.Request) {}) // served in serve(); registered for its route name
	m.HandleFunc(appTokenRoute, func(http.ResponseWriter, *http.Request) {})   // served in serve()
	m.HandleFunc("GET /rate_limit", s.handleRateLimit)
	m.HandleFunc("GET /orgs/{org}/repos", s.handleOrgRepos)
	m.HandleFunc("GET /repos/{owner}/{repo}", s.repoHandler(s.handleRepo))
	m.HandleFunc("GET /repos/{owner}/{repo}/deployments", s.repoHandler(s.handleDeployments))
	m.HandleFunc("GET /repos/{owner}/{repo}/deployments/{id}", s.repoHandler(s.handleDeployment))
	m.HandleFunc("GET /repos/{owner}/{repo}/deployments/{id}/statuses", s.repoHandler(s.handleDeploymentStatuses))
	m.HandleFunc("GET /repos/{owner}/{repo}/actions/runs", s.repoHandler(s.handleRuns))
	m.HandleFunc("GET /repos/{owner}/{repo}/actions/workflows/{workflow}/runs", s.repoHandler(s.handleRuns))
	m.HandleFunc("GET /repos/{owner}/{repo}/releases", s.repoHandler(s.handleReleases))
	m.HandleFunc("GET /repos/{owner}/{repo}/pulls", s.repoHandler(s.handlePulls))
	m.HandleFunc("GET /repos/{owner}/{repo}/pulls/{number}", s.repoHandler(s.handlePull))
	m.HandleFunc("GET /repos/{owner}/{repo}/pulls/{number}/commits", s.repoHandler(s.handlePullCommits))
	m.HandleFunc("GET /repos/{owner}/{repo}/pulls/{number}/reviews", s.repoHandler(s.handlePullReviews))
	m.HandleFunc("GET /repos/{owner}/{repo}/pulls/{number}/files", s.repoHandler(s.handlePullFiles))
	m.HandleFunc("GET /repos/{owner}/{repo}/issues", s.repoHandler(s.handleIssues))
	m.HandleFunc("GET /repos/{owner}/{repo}/issues/{number}", s.repoHandler(s.handleIssue))
	m.HandleFunc("GET /repos/{owner}/{repo}/issues/{number}/comments", s.repoHandler(s.handleIssueComments))
	m.HandleFunc("GET /repos/{owner}/{repo}/issues/{number}/events", s.repoHandler(s.handleIssueEvents))
	m.HandleFunc("GET /repos/{owner}/{repo}/compare/{basehead}", s.repoHandler(s.handleCompare))
	m.HandleFunc("GET /repos/{owner}/{repo}/commits", s.repoHandler(s.handleCommits))
	m.HandleFunc("GET /repos/{owner}/{repo}/commits/{ref}", s.repoHandler(s.handleCommit))
	m.HandleFunc("GET /repos/{owner}/{repo}/commits/{ref}/pulls", s.repoHandler(s.handleCommitPulls))
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { notFound(w) })
}

func notFound(w http.ResponseWriter) {
	writeJSONStatus(w, http.StatusNotFound, `{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}`)
}

func unprocessable(w http.ResponseWriter, msg string) {
	b, _ := json.Marshal(obj{"message": msg, "documentation_url": "https://docs.github.com/rest"})
	writeJSONStatus(w, http.StatusUnprocessableEntity, string(b))
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeJSONStatus(w, http.StatusInternalServerError, `{"message":"Server Error"}`)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

func (s *Server) repoHandler(h func(http.ResponseWriter, *http.Request, *repoIndex)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ri := s.idx.repo(r.PathValue("owner"), r.PathValue("repo"))
		if ri == nil {
			notFound(w)
			return
		}
		h(w, r, ri)
	}
}

// paginate applies per_page/page to n items, writes the Link header and returns the
// slice bounds.
func (s *Server) paginate(w http.ResponseWriter, r *http.Request, n int) (lo, hi int) {
	q := r.URL.Query()
	per := 30
	if v, err := strconv.Atoi(q.Get("per_page")); err == nil && v > 0 {
		per = v
	}
	per = min(per, s.opts.PerPageMax)
	page := 1
	if v, err := strconv.Atoi(q.Get("page")); err == nil && v > 0 {
		page = v
	}
	pages := (n + per - 1) / per
	s.linkHeader(w.Header(), r, page, pages)
	lo = min((page-1)*per, n)
	hi = min(lo+per, n)
	return lo, hi
}

func pageOf[T any](s *Server, w http.ResponseWriter, r *http.Request, items []T, f func(T) any) []any {
	lo, hi := s.paginate(w, r, len(items))
	out := make([]any, 0, hi-lo)
	for _, it := range items[lo:hi] {
		out = append(out, f(it))
	}
	return out
}

// descending reports the direction parameter, with def when absent.
func descending(r *http.Request, def bool) bool {
	switch r.URL.Query().Get("direction") {
	case "asc":
		return false
	case "desc":
		return true
	}
	return def
}

func (s *Server) handleRateLimit(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.rollWindows()
	rest := obj{"limit": s.opts.RateLimit, "used": s.restUsed, "remaining": max(s.opts.RateLimit-s.restUsed, 0), "reset": s.restWindow.Add(time.Hour).Unix()}
	gql := obj{"limit": s.opts.GraphQLRateLimit, "used": s.gqlUsed, "remaining": max(s.opts.GraphQLRateLimit-s.gqlUsed, 0), "reset": s.gqlWindow.Add(time.Hour).Unix()}
	search := obj{"limit": 30, "used": 0, "remaining": 30, "reset": s.opts.Now().Add(time.Minute).Unix()}
	s.mu.Unlock()
	writeJSON(w, obj{"resources": obj{"core": rest, "search": search, "graphql": gql}, "rate": rest})
}

func (s *Server) handleOrgRepos(w http.ResponseWriter, r *http.Request) {
	org := s.org
	if !strings.EqualFold(r.PathValue("org"), org.Name) {
		notFound(w)
		return
	}
	repos := append([]*Repo(nil), org.Repos...)
	if callerOf(r).hidesPrivate() {
		repos = filter(repos, func(x *Repo) bool { return !x.Private })
	}
	q := r.URL.Query()
	switch q.Get("type") {
	case "forks":
		repos = filter(repos, func(x *Repo) bool { return x.Fork })
	case "sources":
		repos = filter(repos, func(x *Repo) bool { return !x.Fork })
	case "public":
		repos = filter(repos, func(x *Repo) bool { return !x.Private })
	case "private":
		repos = filter(repos, func(x *Repo) bool { return x.Private })
	}
	sortKey := q.Get("sort")
	desc := descending(r, sortKey != "full_name")
	less := func(a, b *Repo) bool {
		switch sortKey {
		case "full_name":
			return strings.ToLower(a.FullName()) < strings.ToLower(b.FullName())
		case "updated", "pushed":
			if !a.UpdatedAt.Equal(b.UpdatedAt) {
				return a.UpdatedAt.Before(b.UpdatedAt)
			}
		default:
			if !a.CreatedAt.Equal(b.CreatedAt) {
				return a.CreatedAt.Before(b.CreatedAt)
			}
		}
		return a.ID < b.ID
	}
	sort.SliceStable(repos, func(i, j int) bool {
		if desc {
			return less(repos[j], repos[i])
		}
		return less(repos[i], repos[j])
	})
	writeJSON(w, pageOf(s, w, r, repos, func(x *Repo) any { return s.repoJSON(x) }))
}

func filter[T any](xs []T, keep func(T) bool) []T {
	out := xs[:0:0]
	for _, x := range xs {
		if keep(x) {
			out = append(out, x)
		}
	}
	return out
}

func (s *Server) handleRepo(w http.ResponseWriter, r *http.Request, ri *repoIndex) {
	writeJSON(w, s.repoJSON(ri.repo))
}

func (s *Server) handleDeployments(w http.ResponseWriter, r *http.Request, ri *repoIndex) {
	q := r.URL.Query()
	ds := filter(append([]*Deployment(nil), ri.repo.Deployments...), func(d *Deployment) bool {
		task := d.Task
		if task == "" {
			task = "deploy"
		}
		return (q.Get("environment") == "" || q.Get("environment") == d.Environment) &&
			(q.Get("sha") == "" || q.Get("sha") == d.SHA) &&
			(q.Get("ref") == "" || q.Get("ref") == d.Ref) &&
			(q.Get("task") == "" || q.Get("task") == task)
	})
	sort.SliceStable(ds, func(i, j int) bool {
		if !ds[i].CreatedAt.Equal(ds[j].CreatedAt) {
			return ds[i].CreatedAt.After(ds[j].CreatedAt)
		}
		return ds[i].ID > ds[j].ID
	})
	writeJSON(w, pageOf(s, w, r, ds, func(d *Deployment) any { return s.deploymentJSON(ri.repo, d) }))
}

func (s *Server) deploymentOf(w http.ResponseWriter, r *http.Request, ri *repoIndex) *Deployment {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	d := ri.deploys[id]
	if err != nil || d == nil {
		notFound(w)
		return nil
	}
	return d
}

func (s *Server) handleDeployment(w http.ResponseWriter, r *http.Request, ri *repoIndex) {
	if d := s.deploymentOf(w, r, ri); d != nil {
		writeJSON(w, s.deploymentJSON(ri.repo, d))
	}
}

func (s *Server) handleDeploymentStatuses(w http.ResponseWriter, r *http.Request, ri *repoIndex) {
	d := s.deploymentOf(w, r, ri)
	if d == nil {
		return
	}
	sts := make([]DeploymentStatus, len(d.Statuses))
	for i, st := range d.Statuses { // newest first
		sts[len(sts)-1-i] = st
	}
	writeJSON(w, pageOf(s, w, r, sts, func(st DeploymentStatus) any { return s.deploymentStatusJSON(ri.repo, d, st) }))
}

func (s *Server) handleRuns(w http.ResponseWriter, r *http.Request, ri *repoIndex) {
	q := r.URL.Query()
	var wf *Workflow
	if ref := r.PathValue("workflow"); ref != "" {
		if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
			wf = ri.wfByID[id]
		} else {
			wf = ri.wfByFile[ref]
		}
		if wf == nil {
			notFound(w)
			return
		}
	}
	created, err := parseDateRange(q.Get("created"))
	if err != nil {
		unprocessable(w, "Invalid created parameter: "+err.Error())
		return
	}
	runs := filter(append([]*WorkflowRun(nil), ri.repo.Runs...), func(x *WorkflowRun) bool {
		st := q.Get("status")
		return (wf == nil || x.WorkflowID == wf.ID) &&
			(q.Get("branch") == "" || q.Get("branch") == x.HeadBranch) &&
			(q.Get("event") == "" || q.Get("event") == x.Event) &&
			(q.Get("actor") == "" || q.Get("actor") == x.Actor) &&
			(q.Get("head_sha") == "" || q.Get("head_sha") == x.HeadSHA) &&
			(st == "" || st == x.Status || st == x.Conclusion) &&
			created.contains(x.CreatedAt)
	})
	sort.SliceStable(runs, func(i, j int) bool {
		if !runs[i].CreatedAt.Equal(runs[j].CreatedAt) {
			return runs[i].CreatedAt.After(runs[j].CreatedAt)
		}
		return runs[i].ID > runs[j].ID
	})
	page := pageOf(s, w, r, runs, func(x *WorkflowRun) any { return s.runJSON(ri, x) })
	writeJSON(w, obj{"total_count": len(runs), "workflow_runs": page})
}

// dateRange is GitHub's search date syntax: ">=D", "<=D", ">D", "<D", "A..B", "D".
type dateRange struct{ from, to time.Time } // inclusive; zero = open

func (d dateRange) contains(t time.Time) bool {
	return (d.from.IsZero() || !t.Before(d.from)) && (d.to.IsZero() || !t.After(d.to))
}

func parseDateRange(s string) (dateRange, error) {
	if s == "" {
		return dateRange{}, nil
	}
	parse := func(v string, end bool) (time.Time, error) {
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			return t, nil
		}
		t, err := time.Parse("2006-01-02", v)
		if err != nil {
			return t, err
		}
		if end {
			t = t.Add(24*time.Hour - time.Second)
		}
		return t, nil
	}
	var d dateRange
	var err error
	switch {
	case strings.HasPrefix(s, ">="):
		d.from, err = parse(s[2:], false)
	case strings.HasPrefix(s, "<="):
		d.to, err = parse(s[2:], true)
	case strings.HasPrefix(s, ">"):
		d.from, err = parse(s[1:], true)
		d.from = d.from.Add(time.Second)
	case strings.HasPrefix(s, "<"):
		d.to, err = parse(s[1:], false)
		d.to = d.to.Add(-time.Second)
	case strings.Contains(s, ".."):
		a, b, _ := strings.Cut(s, "..")
		if a != "*" {
			if d.from, err = parse(a, false); err != nil {
				return d, err
			}
		}
		if b != "*" {
			d.to, err = parse(b, true)
		}
	default:
		if d.from, err = parse(s, false); err == nil {
			d.to, err = parse(s, true)
		}
	}
	return d, err
}

func (s *Server) handleReleases(w http.ResponseWriter, r *http.Request, ri *repoIndex) {
	rels := append([]*Release(nil), ri.repo.Releases...)
	sort.SliceStable(rels, func(i, j int) bool {
		if !rels[i].CreatedAt.Equal(rels[j].CreatedAt) {
			return rels[i].CreatedAt.After(rels[j].CreatedAt)
		}
		return rels[i].ID > rels[j].ID
	})
	writeJSON(w, pageOf(s, w, r, rels, func(x *Release) any { return s.releaseJSON(ri.repo, x) }))
}

func (s *Server) handlePulls(w http.ResponseWriter, r *http.Request, ri *repoIndex) {
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	if state != "open" && state != "closed" && state != "all" {
		unprocessable(w, "Validation Failed: state must be one of open, closed, all")
		return
	}
	head := q.Get("head")
	if _, ref, ok := strings.Cut(head, ":"); ok {
		head = ref
	}
	ps := filter(append([]*Pull(nil), ri.repo.Pulls...), func(p *Pull) bool {
		return (state == "all" || state == pullState(p)) &&
			(q.Get("base") == "" || q.Get("base") == p.BaseRef) &&
			(head == "" || head == p.HeadRef)
	})
	sortKey := q.Get("sort")
	desc := descending(r, sortKey == "" || sortKey == "created")
	sortByTime(ps, desc, func(p *Pull) (time.Time, int64) {
		if sortKey == "updated" {
			return p.UpdatedAt, int64(p.Number)
		}
		return p.CreatedAt, int64(p.Number)
	})
	writeJSON(w, pageOf(s, w, r, ps, func(p *Pull) any { return s.pullJSON(ri, p, false) }))
}

func sortByTime[T any](xs []T, desc bool, key func(T) (time.Time, int64)) {
	sort.SliceStable(xs, func(i, j int) bool {
		ti, ii := key(xs[i])
		tj, ij := key(xs[j])
		if !ti.Equal(tj) {
			return ti.Before(tj) != desc
		}
		return (ii < ij) != desc
	})
}

func (s *Server) pullOf(w http.ResponseWriter, r *http.Request, ri *repoIndex) *Pull {
	n, err := strconv.Atoi(r.PathValue("number"))
	p := ri.pulls[n]
	if err != nil || p == nil {
		notFound(w)
		return nil
	}
	return p
}

func (s *Server) handlePull(w http.ResponseWriter, r *http.Request, ri *repoIndex) {
	if p := s.pullOf(w, r, ri); p != nil {
		writeJSON(w, s.pullJSON(ri, p, true))
	}
}

func (s *Server) handlePullCommits(w http.ResponseWriter, r *http.Request, ri *repoIndex) {
	p := s.pullOf(w, r, ri)
	if p == nil {
		return
	}
	shas := p.Commits
	if len(shas) > 250 { // GitHub lists at most 250 commits of a pull request
		shas = shas[:250]
	}
	idx := make([]int, len(shas))
	for i := range idx {
		idx[i] = i
	}
	writeJSON(w, pageOf(s, w, r, idx, func(i int) any { return s.commitJSON(ri.repo, ri.prCommit(p, i, shas[i]), false) }))
}

func (s *Server) handlePullReviews(w http.ResponseWriter, r *http.Request, ri *repoIndex) {
	p := s.pullOf(w, r, ri)
	if p == nil {
		return
	}
	writeJSON(w, pageOf(s, w, r, p.Reviews, func(rv Review) any { return s.reviewJSON(ri.repo, p, rv) }))
}

func (s *Server) handlePullFiles(w http.ResponseWriter, r *http.Request, ri *repoIndex) {
	p := s.pullOf(w, r, ri)
	if p == nil {
		return
	}
	head := p.HeadSHA
	if head == "" && len(p.Commits) > 0 {
		head = p.Commits[len(p.Commits)-1]
	}
	writeJSON(w, pageOf(s, w, r, p.Files, func(f string) any { return s.fileJSON(ri.repo, head, f) }))
}

// issueItem is an issue or a pull request as /issues lists them.
type issueItem struct {
	issue *Issue
	pull  *Pull
}

func (it issueItem) fields() (number int, state string, labels []string, user string, created, updated time.Time, comments int) {
	if it.pull != nil {
		p := it.pull
		return p.Number, pullState(p), p.Labels, p.Author, p.CreatedAt, p.UpdatedAt, 0
	}
	i := it.issue
	return i.Number, issueState(i), i.Labels, i.User, i.CreatedAt, i.UpdatedAt, len(i.Comments)
}

func (s *Server) handleIssues(w http.ResponseWriter, r *http.Request, ri *repoIndex) {
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	var since time.Time
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			unprocessable(w, "Invalid since parameter: "+v)
			return
		}
		since = t
	}
	var want []string
	if v := q.Get("labels"); v != "" {
		want = strings.Split(v, ",")
	}
	var items []issueItem
	for _, is := range ri.repo.Issues {
		items = append(items, issueItem{issue: is})
	}
	for _, p := range ri.repo.Pulls {
		items = append(items, issueItem{pull: p})
	}
	items = filter(items, func(it issueItem) bool {
		_, st, labels, user, _, updated, _ := it.fields()
		if state != "all" && st != state {
			return false
		}
		if !since.IsZero() && updated.Before(since) {
			return false
		}
		if c := q.Get("creator"); c != "" && c != user {
			return false
		}
		for _, l := range want {
			if !containsFold(labels, strings.TrimSpace(l)) {
				return false
			}
		}
		return true
	})
	sortKey := q.Get("sort")
	desc := descending(r, true)
	sort.SliceStable(items, func(i, j int) bool {
		ni, _, _, _, ci, ui, mi := items[i].fields()
		nj, _, _, _, cj, uj, mj := items[j].fields()
		var a, b int64
		switch sortKey {
		case "updated":
			a, b = ui.UnixNano(), uj.UnixNano()
		case "comments":
			a, b = int64(mi), int64(mj)
		default:
			a, b = ci.UnixNano(), cj.UnixNano()
		}
		if a != b {
			return (a < b) != desc
		}
		return (ni < nj) != desc
	})
	writeJSON(w, pageOf(s, w, r, items, func(it issueItem) any {
		if it.pull != nil {
			return s.pullAsIssueJSON(ri.repo, it.pull)
		}
		return s.issueJSON(ri.repo, it.issue)
	}))
}

func containsFold(xs []string, x string) bool {
	for _, v := range xs {
		if strings.EqualFold(v, x) {
			return true
		}
	}
	return false
}

func (s *Server) issueOf(w http.ResponseWriter, r *http.Request, ri *repoIndex) *Issue {
	n, err := strconv.Atoi(r.PathValue("number"))
	if err == nil {
		if is := ri.issues[n]; is != nil {
			return is
		}
		if p := ri.pulls[n]; p != nil { // a PR is an issue without comments/events here
			return &Issue{ID: p.ID, Number: p.Number, Title: p.Title, User: p.Author, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
		}
	}
	notFound(w)
	return nil
}

func (s *Server) handleIssue(w http.ResponseWriter, r *http.Request, ri *repoIndex) {
	n, _ := strconv.Atoi(r.PathValue("number"))
	if p := ri.pulls[n]; p != nil {
		writeJSON(w, s.pullAsIssueJSON(ri.repo, p))
		return
	}
	if is := s.issueOf(w, r, ri); is != nil {
		writeJSON(w, s.issueJSON(ri.repo, is))
	}
}

func (s *Server) handleIssueComments(w http.ResponseWriter, r *http.Request, ri *repoIndex) {
	is := s.issueOf(w, r, ri)
	if is == nil {
		return
	}
	cs := is.Comments
	if v := r.URL.Query().Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			unprocessable(w, "Invalid since parameter: "+v)
			return
		}
		cs = filter(cs, func(c Comment) bool {
			u := c.UpdatedAt
			if u.IsZero() {
				u = c.CreatedAt
			}
			return !u.Before(t)
		})
	}
	writeJSON(w, pageOf(s, w, r, cs, func(c Comment) any { return s.commentJSON(ri.repo, is, c) }))
}

func (s *Server) handleIssueEvents(w http.ResponseWriter, r *http.Request, ri *repoIndex) {
	is := s.issueOf(w, r, ri)
	if is == nil {
		return
	}
	writeJSON(w, pageOf(s, w, r, is.Events, func(e IssueEvent) any { return s.issueEventJSON(ri.repo, e) }))
}

func (s *Server) handleCompare(w http.ResponseWriter, r *http.Request, ri *repoIndex) {
	base, head, ok := strings.Cut(r.PathValue("basehead"), "...")
	if !ok {
		notFound(w)
		return
	}
	bs, hs := ri.resolve(base), ri.resolve(head)
	if bs == "" || hs == "" {
		notFound(w)
		return
	}
	c := ri.compare(bs, hs)
	repo := ri.repo
	shas := c.commits
	q := r.URL.Query()
	paged := q.Get("page") != "" || q.Get("per_page") != ""
	var page []any
	if paged {
		page = pageOf(s, w, r, shas, func(sha string) any { return s.commitJSON(repo, ri.commits[sha], false) })
	} else {
		if len(shas) > 250 { // without paging: at most 250, the newest last, as GitHub does
			shas = shas[len(shas)-250:]
		}
		for _, sha := range shas {
			page = append(page, s.commitJSON(repo, ri.commits[sha], false))
		}
	}
	var files []any
	if !paged || q.Get("page") == "" || q.Get("page") == "1" {
		seen := map[string]bool{}
		for _, sha := range c.commits {
			for _, f := range ri.commits[sha].Files {
				if !seen[f] && len(files) < 300 {
					seen[f] = true
					files = append(files, s.fileJSON(repo, hs, f))
				}
			}
		}
	}
	u := s.repoURL(repo) + "/compare/" + bs + "..." + hs
	html := "https://github.com/" + repo.FullName() + "/compare/" + bs + "..." + hs
	var mb any
	if c.mergeBase != "" {
		mb = s.commitJSON(repo, ri.commits[c.mergeBase], false)
	}
	body := obj{
		"url": u, "html_url": html,
		"permalink_url": "https://github.com/" + repo.FullName() + "/compare/" + repo.Owner + ":" + bs[:min(7, len(bs))] + "..." + repo.Owner + ":" + hs[:min(7, len(hs))],
		"diff_url":      html + ".diff", "patch_url": html + ".patch",
		"base_commit": s.commitJSON(repo, ri.commits[bs], false), "merge_base_commit": mb,
		"status": c.status, "ahead_by": c.aheadBy, "behind_by": c.behindBy,
		"total_commits": len(c.commits), "commits": page,
	}
	if files != nil || !paged {
		if files == nil {
			files = []any{}
		}
		body["files"] = files
	}
	writeJSON(w, body)
}

func (s *Server) handleCommits(w http.ResponseWriter, r *http.Request, ri *repoIndex) {
	q := r.URL.Query()
	start := ri.resolve(q.Get("sha"))
	if start == "" {
		if len(ri.repo.Commits) == 0 {
			writeJSONStatus(w, http.StatusConflict, `{"message":"Git Repository is empty.","documentation_url":"https://docs.github.com/rest"}`)
			return
		}
		notFound(w)
		return
	}
	var since, until time.Time
	for k, p := range map[string]*time.Time{"since": &since, "until": &until} {
		if v := q.Get(k); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				unprocessable(w, "Invalid "+k+" parameter: "+v)
				return
			}
			*p = t
		}
	}
	shas := ri.history(start, since, until)
	if path := q.Get("path"); path != "" {
		shas = filter(shas, func(sha string) bool {
			for _, f := range ri.commits[sha].Files {
				if f == path || strings.HasPrefix(f, strings.TrimSuffix(path, "/")+"/") {
					return true
				}
			}
			return false
		})
	}
	if a := q.Get("author"); a != "" {
		shas = filter(shas, func(sha string) bool { return ri.commits[sha].AuthorLogin == a })
	}
	writeJSON(w, pageOf(s, w, r, shas, func(sha string) any { return s.commitJSON(ri.repo, ri.commits[sha], false) }))
}

func (s *Server) handleCommit(w http.ResponseWriter, r *http.Request, ri *repoIndex) {
	sha := ri.resolve(r.PathValue("ref"))
	if sha == "" {
		unprocessable(w, "No commit found for SHA: "+r.PathValue("ref"))
		return
	}
	writeJSON(w, s.commitJSON(ri.repo, ri.commits[sha], true))
}

// handleCommitPulls lists the PRs whose merge commit or own commits include sha.
func (s *Server) handleCommitPulls(w http.ResponseWriter, r *http.Request, ri *repoIndex) {
	sha := ri.resolve(r.PathValue("ref"))
	if sha == "" {
		unprocessable(w, "No commit found for SHA: "+r.PathValue("ref"))
		return
	}
	var ps []*Pull
	for _, p := range ri.repo.Pulls {
		hit := p.MergedAt != nil && p.MergeCommitSHA == sha
		for _, c := range p.Commits {
			hit = hit || c == sha
		}
		if hit {
			ps = append(ps, p)
		}
	}
	writeJSON(w, pageOf(s, w, r, ps, func(p *Pull) any { return s.pullJSON(ri, p, false) }))
}
