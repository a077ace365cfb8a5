package githubtest

import (
	"encoding/base64"
	"fmt"
	"hash/fnv"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// obj is a JSON object under construction.
type obj = map[string]any

// ts formats a time as GitHub does: RFC 3339, UTC, whole seconds, "Z".
func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

func tsPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return ts(*t)
}

func strOrNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func userID(login string) int64 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(login))
	return int64(h.Sum32()%90000000) + 1000
}

func nodeID(prefix string, id int64) string {
	return base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("%02d:%s%d", len(prefix)+len(strconv.FormatInt(id, 10)), prefix, id)))
}

// api is the server's API root (no trailing slash) for the url fields of bodies.
func (s *Server) api() string { return s.URL }

// user is the simple-user object of the fixtures; nil for "".
func (s *Server) user(login string) any {
	if login == "" {
		return nil
	}
	typ := "User"
	if strings.HasSuffix(login, "[bot]") {
		typ = "Bot"
	}
	id := userID(login)
	u := s.api() + "/users/" + login
	return obj{
		"login": login, "id": id, "node_id": nodeID("User", id),
		"avatar_url":          fmt.Sprintf("https://avatars.githubusercontent.com/u/%d?v=4", id),
		"gravatar_id":         "",
		"url":                 u,
		"html_url":            "https://github.com/" + login,
		"followers_url":       u + "/followers",
		"following_url":       u + "/following{/other_user}",
		"gists_url":           u + "/gists{/gist_id}",
		"starred_url":         u + "/starred{/owner}{/repo}",
		"subscriptions_url":   u + "/subscriptions",
		"organizations_url":   u + "/orgs",
		"repos_url":           u + "/repos",
		"events_url":          u + "/events{/privacy}",
		"received_events_url": u + "/received_events",
		"type":                typ,
		"site_admin":          false,
	}
}

func (s *Server) repoURL(r *Repo) string { return s.api() + "/repos/" + r.FullName() }

func (s *Server) repoJSON(r *Repo) obj {
	u := s.repoURL(r)
	owner := s.user(r.Owner).(obj)
	owner["type"] = "Organization"
	vis := "public"
	if r.Private {
		vis = "private"
	}
	updated := r.UpdatedAt
	if updated.IsZero() {
		updated = r.CreatedAt
	}
	return obj{
		"id": r.ID, "node_id": nodeID("Repository", r.ID), "name": r.Name, "full_name": r.FullName(),
		"private": r.Private, "owner": owner, "html_url": "https://github.com/" + r.FullName(),
		"description": nil, "fork": r.Fork, "url": u,
		"deployments_url": u + "/deployments", "pulls_url": u + "/pulls{/number}",
		"issues_url": u + "/issues{/number}", "commits_url": u + "/commits{/sha}",
		"compare_url": u + "/compare/{base}...{head}", "releases_url": u + "/releases{/id}",
		"created_at": ts(r.CreatedAt), "updated_at": ts(updated), "pushed_at": ts(updated),
		"archived": r.Archived, "disabled": false, "visibility": vis,
		"default_branch": r.DefaultBranch, "open_issues_count": 0, "open_issues": 0, "size": len(r.Commits),
		"has_issues": true, "has_wiki": false, "has_pages": false, "has_downloads": false,
		"homepage": nil, "language": "Go", "mirror_url": nil,
		"forks": 0, "forks_count": 0, "watchers": 0, "watchers_count": 0, "stargazers_count": 0,
		"archive_url": u + "/{archive_format}{/ref}", "assignees_url": u + "/assignees{/user}",
		"blobs_url": u + "/git/blobs{/sha}", "branches_url": u + "/branches{/branch}",
		"clone_url": "https://github.com/" + r.FullName() + ".git", "git_url": "git://github.com/" + r.FullName() + ".git",
		"ssh_url": "git@github.com:" + r.FullName() + ".git", "svn_url": "https://github.com/" + r.FullName(),
		"collaborators_url": u + "/collaborators{/collaborator}", "comments_url": u + "/comments{/number}",
		"contents_url": u + "/contents/{+path}", "contributors_url": u + "/contributors",
		"downloads_url": u + "/downloads", "events_url": u + "/events", "forks_url": u + "/forks",
		"git_commits_url": u + "/git/commits{/sha}", "git_refs_url": u + "/git/refs{/sha}",
		"git_tags_url": u + "/git/tags{/sha}", "hooks_url": u + "/hooks",
		"issue_comment_url": u + "/issues/comments{/number}", "issue_events_url": u + "/issues/events{/number}",
		"keys_url": u + "/keys{/key_id}", "labels_url": u + "/labels{/name}", "languages_url": u + "/languages",
		"merges_url": u + "/merges", "milestones_url": u + "/milestones{/number}",
		"notifications_url": u + "/notifications{?since,all,participating}",
		"stargazers_url":    u + "/stargazers", "statuses_url": u + "/statuses/{sha}",
		"subscribers_url": u + "/subscribers", "subscription_url": u + "/subscription",
		"tags_url": u + "/tags", "teams_url": u + "/teams", "trees_url": u + "/git/trees{/sha}",
	}
}

func (s *Server) labelsJSON(r *Repo, names []string) []any {
	out := make([]any, 0, len(names))
	for _, n := range names {
		id := userID(r.FullName() + "#label#" + n)
		out = append(out, obj{"id": id, "node_id": nodeID("Label", id),
			"url": s.repoURL(r) + "/labels/" + n, "name": n, "color": "ededed", "default": false, "description": nil})
	}
	return out
}

func gitPerson(login string, at time.Time) obj {
	name, email := login, login+"@users.noreply.github.com"
	if login == "web-flow" {
		name, email = "GitHub", "noreply@github.com"
	}
	return obj{"name": name, "email": email, "date": ts(at)}
}

// commitJSON is the commit object of /commits, /pulls/{n}/commits and /compare;
// full adds stats and files as GET /commits/{sha} does.
func (s *Server) commitJSON(r *Repo, c *Commit, full bool) obj {
	u := s.repoURL(r) + "/commits/" + c.SHA
	committer := c.CommitterLogin
	if committer == "" {
		committer = c.AuthorLogin
	}
	parents := make([]any, 0, len(c.Parents))
	for _, p := range c.Parents {
		parents = append(parents, obj{"sha": p, "url": s.repoURL(r) + "/commits/" + p,
			"html_url": "https://github.com/" + r.FullName() + "/commit/" + p})
	}
	tree := treeSHA(c.SHA)
	o := obj{
		"sha": c.SHA, "node_id": nodeID("Commit", int64(userID(c.SHA))),
		"commit": obj{
			"author":        gitPerson(c.AuthorLogin, c.AuthoredAt),
			"committer":     gitPerson(committer, c.CommittedAt),
			"message":       c.Message,
			"tree":          obj{"sha": tree, "url": s.repoURL(r) + "/git/trees/" + tree},
			"url":           s.repoURL(r) + "/git/commits/" + c.SHA,
			"comment_count": 0,
			"verification":  obj{"verified": false, "reason": "unsigned", "signature": nil, "payload": nil},
		},
		"url": u, "html_url": "https://github.com/" + r.FullName() + "/commit/" + c.SHA,
		"comments_url": u + "/comments",
		"author":       s.user(c.AuthorLogin), "committer": s.user(committer),
		"parents": parents,
	}
	if full {
		files := make([]any, 0, len(c.Files))
		for _, f := range c.Files {
			files = append(files, s.fileJSON(r, c.SHA, f))
		}
		o["stats"] = obj{"total": 2 * len(c.Files), "additions": len(c.Files), "deletions": len(c.Files)}
		o["files"] = files
	}
	return o
}

func treeSHA(sha string) string {
	h := fnv.New64a()
	_, _ = h.Write([]byte("tree" + sha))
	return fmt.Sprintf("%016x%024x", h.Sum64(), 0)
}

func (s *Server) fileJSON(r *Repo, ref, path string) obj {
	return obj{
		"sha": treeSHA(path), "filename": path, "status": "modified", "additions": 1, "deletions": 1, "changes": 2,
		"blob_url":     "https://github.com/" + r.FullName() + "/blob/" + ref + "/" + path,
		"raw_url":      "https://github.com/" + r.FullName() + "/raw/" + ref + "/" + path,
		"contents_url": s.repoURL(r) + "/contents/" + path + "?ref=" + ref,
		"patch":        "@@ -1 +1 @@\n-old\n+new",
	}
}

// prCommit returns the model commit of a PR's commit SHA, or a stand-in carrying
// the PR author's identity when the SHA is not in Repo.Commits.
func (ri *repoIndex) prCommit(p *Pull, i int, sha string) *Commit {
	if c := ri.commits[sha]; c != nil {
		return c
	}
	parents := []string{}
	if i > 0 {
		parents = []string{p.Commits[i-1]}
	}
	return &Commit{SHA: sha, Parents: parents, Message: p.Title, AuthorLogin: p.Author,
		AuthoredAt: p.CreatedAt, CommittedAt: p.CreatedAt}
}

func pullState(p *Pull) string {
	if p.ClosedAt != nil || p.MergedAt != nil {
		return "closed"
	}
	return "open"
}

func (s *Server) pullJSON(ri *repoIndex, p *Pull, full bool) obj {
	r := ri.repo
	u := s.repoURL(r) + "/pulls/" + strconv.Itoa(p.Number)
	html := "https://github.com/" + r.FullName() + "/pull/" + strconv.Itoa(p.Number)
	issueURL := s.repoURL(r) + "/issues/" + strconv.Itoa(p.Number)
	head := p.HeadSHA
	if head == "" && len(p.Commits) > 0 {
		head = p.Commits[len(p.Commits)-1]
	}
	baseSHA := ri.resolve(p.BaseRef)
	closed := p.ClosedAt
	if closed == nil && p.MergedAt != nil {
		closed = p.MergedAt
	}
	ref := func(name, sha string) obj {
		return obj{"label": r.Owner + ":" + name, "ref": name, "sha": sha, "user": s.user(r.Owner), "repo": s.repoJSON(r)}
	}
	o := obj{
		"url": u, "id": p.ID, "node_id": nodeID("PullRequest", p.ID), "html_url": html,
		"diff_url": html + ".diff", "patch_url": html + ".patch", "issue_url": issueURL,
		"number": p.Number, "state": pullState(p), "locked": false, "title": p.Title,
		"user": s.user(p.Author), "body": strOrNil(p.Body),
		"created_at": ts(p.CreatedAt), "updated_at": ts(p.UpdatedAt),
		"closed_at": tsPtr(closed), "merged_at": tsPtr(p.MergedAt),
		"merge_commit_sha": strOrNil(p.MergeCommitSHA),
		"assignee":         nil, "assignees": []any{}, "requested_reviewers": []any{}, "requested_teams": []any{},
		"labels": s.labelsJSON(r, p.Labels), "milestone": nil, "draft": p.Draft,
		"commits_url": u + "/commits", "review_comments_url": u + "/comments",
		"review_comment_url": s.repoURL(r) + "/pulls/comments{/number}",
		"comments_url":       issueURL + "/comments",
		"statuses_url":       s.repoURL(r) + "/statuses/" + head,
		"head":               ref(p.HeadRef, head), "base": ref(p.BaseRef, baseSHA),
		"_links": obj{"self": obj{"href": u}, "html": obj{"href": html}, "issue": obj{"href": issueURL},
			"comments": obj{"href": issueURL + "/comments"}, "review_comments": obj{"href": u + "/comments"},
			"review_comment": obj{"href": s.repoURL(r) + "/pulls/comments{/number}"},
			"commits":        obj{"href": u + "/commits"}, "statuses": obj{"href": s.repoURL(r) + "/statuses/" + head}},
		"author_association": "MEMBER", "auto_merge": nil, "active_lock_reason": nil,
	}
	if full {
		o["merged"] = p.MergedAt != nil
		o["mergeable"] = nil
		o["rebaseable"] = nil
		o["mergeable_state"] = "unknown"
		o["merged_by"] = nil
		if p.MergedAt != nil {
			o["merged_by"] = s.user(p.Author)
		}
		o["comments"] = 0
		o["review_comments"] = 0
		o["maintainer_can_modify"] = false
		o["commits"] = len(p.Commits)
		o["additions"] = len(p.Files)
		o["deletions"] = len(p.Files)
		o["changed_files"] = len(p.Files)
	}
	return o
}

func (s *Server) reviewJSON(r *Repo, p *Pull, rv Review) obj {
	u := s.repoURL(r) + "/pulls/" + strconv.Itoa(p.Number)
	html := "https://github.com/" + r.FullName() + "/pull/" + strconv.Itoa(p.Number) + "#pullrequestreview-" + strconv.FormatInt(rv.ID, 10)
	o := obj{
		"id": rv.ID, "node_id": nodeID("PullRequestReview", rv.ID), "user": s.user(rv.User),
		"body": rv.Body, "state": rv.State, "html_url": html, "pull_request_url": u,
		"author_association": "MEMBER",
		"_links":             obj{"html": obj{"href": html}, "pull_request": obj{"href": u}},
		"commit_id":          strOrNil(rv.CommitID),
	}
	if rv.SubmittedAt != nil {
		o["submitted_at"] = ts(*rv.SubmittedAt)
	}
	return o
}

func (s *Server) deploymentJSON(r *Repo, d *Deployment) obj {
	u := s.repoURL(r) + "/deployments/" + strconv.FormatInt(d.ID, 10)
	task := d.Task
	if task == "" {
		task = "deploy"
	}
	updated := d.CreatedAt
	if n := len(d.Statuses); n > 0 {
		updated = d.Statuses[n-1].CreatedAt
	}
	return obj{
		"url": u, "id": d.ID, "node_id": nodeID("Deployment", d.ID), "sha": d.SHA, "ref": d.Ref,
		"task": task, "payload": obj{}, "original_environment": d.Environment, "environment": d.Environment,
		"description": d.Description, "creator": s.user(d.Creator),
		"created_at": ts(d.CreatedAt), "updated_at": ts(updated),
		"statuses_url": u + "/statuses", "repository_url": s.repoURL(r),
		"transient_environment": d.TransientEnvironment, "production_environment": d.ProductionEnvironment,
	}
}

func (s *Server) deploymentStatusJSON(r *Repo, d *Deployment, st DeploymentStatus) obj {
	du := s.repoURL(r) + "/deployments/" + strconv.FormatInt(d.ID, 10)
	creator := st.Creator
	if creator == "" {
		creator = d.Creator
	}
	return obj{
		"url": du + "/statuses/" + strconv.FormatInt(st.ID, 10), "id": st.ID,
		"node_id": nodeID("DeploymentStatus", st.ID), "state": st.State, "creator": s.user(creator),
		"description": "", "environment": d.Environment, "target_url": "", "log_url": "",
		"environment_url": "", "created_at": ts(st.CreatedAt), "updated_at": ts(st.CreatedAt),
		"deployment_url": du, "repository_url": s.repoURL(r),
	}
}

func (s *Server) runJSON(ri *repoIndex, x *WorkflowRun) obj {
	r := ri.repo
	u := s.repoURL(r) + "/actions/runs/" + strconv.FormatInt(x.ID, 10)
	name, path := x.Name, x.Path
	if w := ri.wfByID[x.WorkflowID]; w != nil {
		if name == "" {
			name = w.Name
		}
		if path == "" {
			path = w.Path
		}
	}
	attempt := x.RunAttempt
	if attempt == 0 {
		attempt = 1
	}
	started := x.RunStartedAt
	if started.IsZero() {
		started = x.CreatedAt
	}
	msg, author := "", x.Actor
	if c := ri.commits[x.HeadSHA]; c != nil {
		msg, author = c.Message, c.AuthorLogin
	}
	repoMini := s.repoJSON(r)
	return obj{
		"id": x.ID, "name": name, "node_id": nodeID("WorkflowRun", x.ID), "head_branch": x.HeadBranch,
		"head_sha": x.HeadSHA, "path": path, "display_title": name, "run_number": x.RunNumber,
		"event": x.Event, "status": x.Status, "conclusion": strOrNil(x.Conclusion),
		"workflow_id": x.WorkflowID, "check_suite_id": x.ID + 1, "check_suite_node_id": nodeID("CheckSuite", x.ID+1),
		"url": u, "html_url": "https://github.com/" + r.FullName() + "/actions/runs/" + strconv.FormatInt(x.ID, 10),
		"pull_requests": []any{}, "created_at": ts(x.CreatedAt), "updated_at": ts(x.UpdatedAt),
		"actor": s.user(x.Actor), "run_attempt": attempt, "referenced_workflows": []any{},
		"run_started_at": ts(started), "triggering_actor": s.user(x.Actor),
		"jobs_url": u + "/jobs", "logs_url": u + "/logs", "check_suite_url": s.repoURL(r) + "/check-suites/" + strconv.FormatInt(x.ID+1, 10),
		"artifacts_url": u + "/artifacts", "cancel_url": u + "/cancel", "rerun_url": u + "/rerun",
		"previous_attempt_url": nil,
		"workflow_url":         s.repoURL(r) + "/actions/workflows/" + strconv.FormatInt(x.WorkflowID, 10),
		"head_commit": obj{"id": x.HeadSHA, "tree_id": treeSHA(x.HeadSHA), "message": msg,
			"timestamp": ts(x.CreatedAt), "author": obj{"name": author, "email": author + "@users.noreply.github.com"},
			"committer": obj{"name": author, "email": author + "@users.noreply.github.com"}},
		"repository": repoMini, "head_repository": repoMini,
	}
}

func (s *Server) releaseJSON(r *Repo, rel *Release) obj {
	u := s.repoURL(r) + "/releases/" + strconv.FormatInt(rel.ID, 10)
	return obj{
		"url": u, "assets_url": u + "/assets",
		"upload_url": s.api() + "/repos/" + r.FullName() + "/releases/" + strconv.FormatInt(rel.ID, 10) + "/assets{?name,label}",
		"html_url":   "https://github.com/" + r.FullName() + "/releases/tag/" + rel.TagName,
		"id":         rel.ID, "node_id": nodeID("Release", rel.ID), "tag_name": rel.TagName,
		"target_commitish": rel.TargetCommitish, "name": strOrNil(rel.Name), "draft": rel.Draft,
		"author": s.user(rel.Author), "prerelease": rel.Prerelease,
		"created_at": ts(rel.CreatedAt), "published_at": tsPtr(rel.PublishedAt), "assets": []any{},
		"tarball_url": s.repoURL(r) + "/tarball/" + rel.TagName,
		"zipball_url": s.repoURL(r) + "/zipball/" + rel.TagName, "body": strOrNil(rel.Body),
	}
}

func reactions(u string) obj {
	return obj{"url": u + "/reactions", "total_count": 0, "+1": 0, "-1": 0, "laugh": 0,
		"hooray": 0, "confused": 0, "heart": 0, "rocket": 0, "eyes": 0}
}

func issueState(is *Issue) string {
	if is.State != "" {
		return is.State
	}
	if is.ClosedAt != nil {
		return "closed"
	}
	return "open"
}

func (s *Server) issueJSON(r *Repo, is *Issue) obj {
	u := s.repoURL(r) + "/issues/" + strconv.Itoa(is.Number)
	assignees := make([]any, 0, len(is.Assignees))
	for _, a := range is.Assignees {
		assignees = append(assignees, s.user(a))
	}
	var assignee any
	if len(assignees) > 0 {
		assignee = assignees[0]
	}
	return obj{
		"url": u, "repository_url": s.repoURL(r), "labels_url": u + "/labels{/name}",
		"comments_url": u + "/comments", "events_url": u + "/events",
		"html_url": "https://github.com/" + r.FullName() + "/issues/" + strconv.Itoa(is.Number),
		"id":       is.ID, "node_id": nodeID("Issue", is.ID), "number": is.Number, "title": is.Title,
		"user": s.user(is.User), "labels": s.labelsJSON(r, is.Labels), "state": issueState(is),
		"locked": false, "assignee": assignee, "assignees": assignees, "milestone": nil,
		"comments": len(is.Comments), "created_at": ts(is.CreatedAt), "updated_at": ts(is.UpdatedAt),
		"closed_at": tsPtr(is.ClosedAt), "author_association": "MEMBER", "active_lock_reason": nil,
		"body": strOrNil(is.Body), "reactions": reactions(u), "timeline_url": u + "/timeline",
		"performed_via_github_app": nil, "state_reason": strOrNil(is.StateReason),
	}
}

// pullAsIssueJSON is a pull request as GET /issues lists it: an issue with a
// pull_request key, as GitHub lists pull requests among issues.
func (s *Server) pullAsIssueJSON(r *Repo, p *Pull) obj {
	closed := p.ClosedAt
	if closed == nil && p.MergedAt != nil {
		closed = p.MergedAt
	}
	is := &Issue{ID: p.ID, Number: p.Number, Title: p.Title, Body: p.Body, User: p.Author,
		State: pullState(p), Labels: p.Labels, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt, ClosedAt: closed}
	o := s.issueJSON(r, is)
	html := "https://github.com/" + r.FullName() + "/pull/" + strconv.Itoa(p.Number)
	o["html_url"] = html
	o["node_id"] = nodeID("PullRequest", p.ID)
	o["draft"] = p.Draft
	o["pull_request"] = obj{"url": s.repoURL(r) + "/pulls/" + strconv.Itoa(p.Number), "html_url": html,
		"diff_url": html + ".diff", "patch_url": html + ".patch", "merged_at": tsPtr(p.MergedAt)}
	return o
}

func (s *Server) commentJSON(r *Repo, is *Issue, c Comment) obj {
	iu := s.repoURL(r) + "/issues/" + strconv.Itoa(is.Number)
	u := s.repoURL(r) + "/issues/comments/" + strconv.FormatInt(c.ID, 10)
	updated := c.UpdatedAt
	if updated.IsZero() {
		updated = c.CreatedAt
	}
	return obj{
		"url": u, "html_url": "https://github.com/" + r.FullName() + "/issues/" + strconv.Itoa(is.Number) + "#issuecomment-" + strconv.FormatInt(c.ID, 10),
		"issue_url": iu, "id": c.ID, "node_id": nodeID("IssueComment", c.ID), "user": s.user(c.User),
		"created_at": ts(c.CreatedAt), "updated_at": ts(updated), "author_association": "MEMBER",
		"body": c.Body, "reactions": reactions(u), "performed_via_github_app": nil,
	}
}

func (s *Server) issueEventJSON(r *Repo, e IssueEvent) obj {
	o := obj{
		"id": e.ID, "node_id": nodeID("IssueEvent", e.ID),
		"url":   s.repoURL(r) + "/issues/events/" + strconv.FormatInt(e.ID, 10),
		"actor": s.user(e.Actor), "event": e.Event, "commit_id": strOrNil(e.CommitID), "commit_url": nil,
		"created_at": ts(e.CreatedAt), "performed_via_github_app": nil,
	}
	if e.CommitID != "" {
		o["commit_url"] = s.repoURL(r) + "/commits/" + e.CommitID
	}
	if e.Assignee != "" {
		o["assignee"] = s.user(e.Assignee)
		o["assigner"] = s.user(e.Actor)
	}
	if e.Label != "" {
		o["label"] = obj{"name": e.Label, "color": "ededed"}
	}
	return o
}

// linkHeader writes GitHub's Link header for page of pages, pointing at the
// request's own path (go-github only reads the page number from it).
func (s *Server) linkHeader(h http.Header, r *http.Request, page, pages int) {
	if pages <= 1 {
		return
	}
	mk := func(p int, rel string) string {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(p))
		return "<" + s.URL + originalPath(r) + "?" + q.Encode() + ">; rel=\"" + rel + "\""
	}
	var parts []string
	if page > 1 {
		parts = append(parts, mk(min(page-1, pages), "prev"))
	}
	if page < pages {
		parts = append(parts, mk(page+1, "next"), mk(pages, "last"))
	}
	if page > 1 {
		parts = append(parts, mk(1, "first"))
	}
	h.Set("Link", strings.Join(parts, ", "))
}
