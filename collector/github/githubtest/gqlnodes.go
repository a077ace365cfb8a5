package githubtest

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
)

type queryNode struct{}

func (queryNode) typeName() string { return "Query" }
func (queryNode) resolve(ec *execCtx, f *ast.Field, args map[string]any) (any, error) {
	s := ec.s
	switch f.Name {
	case "repository":
		owner, name := argString(args, "owner"), argString(args, "name")
		ri := s.idx.repo(owner, name)
		if ri == nil {
			return nil, &gqlError{Type: "NOT_FOUND", Message: fmt.Sprintf("Could not resolve to a Repository with the name '%s/%s'.", owner, name)}
		}
		return &repoNode{ri: ri}, nil
	case "organization":
		login := argString(args, "login")
		if !strings.EqualFold(login, s.org.Name) {
			return nil, &gqlError{Type: "NOT_FOUND", Message: fmt.Sprintf("Could not resolve to an Organization with the login of '%s'.", login)}
		}
		return &orgNode{}, nil
	case "rateLimit":
		return &rateLimitNode{}, nil
	}
	return nil, errNotSimulated("Query", f.Name)
}

type rateLimitNode struct{}

func (rateLimitNode) typeName() string { return "RateLimit" }
func (rateLimitNode) resolve(ec *execCtx, f *ast.Field, args map[string]any) (any, error) {
	s := ec.s
	s.mu.Lock()
	s.rollWindows()
	limit, used, reset := s.opts.GraphQLRateLimit, s.gqlUsed, s.gqlWindow.Add(time.Hour)
	s.mu.Unlock()
	switch f.Name {
	case "cost":
		return ec.cost, nil
	case "limit":
		return limit, nil
	case "remaining":
		return max(limit-used, 0), nil
	case "used":
		return used, nil
	case "resetAt":
		return reset, nil
	case "nodeCount":
		return ec.nodes, nil
	}
	return nil, errNotSimulated("RateLimit", f.Name)
}

type orgNode struct{}

func (orgNode) typeName() string { return "Organization" }
func (orgNode) resolve(ec *execCtx, f *ast.Field, args map[string]any) (any, error) {
	s := ec.s
	switch f.Name {
	case "login", "name":
		return s.org.Name, nil
	case "id":
		return nodeID("Organization", userID(s.org.Name)), nil
	case "databaseId":
		return userID(s.org.Name), nil
	case "url":
		return "https://github.com/" + s.org.Name, nil
	case "repositories":
		var all []node
		isFork, forkSet := args["isFork"].(bool)
		isArchived, archSet := args["isArchived"].(bool)
		for _, ri := range s.idx.byOrg {
			if (forkSet && ri.repo.Fork != isFork) || (archSet && ri.repo.Archived != isArchived) {
				continue
			}
			all = append(all, &repoNode{ri: ri})
		}
		return newConnection(f, args, all)
	}
	return nil, errNotSimulated("Organization", f.Name)
}

type ownerNode struct{ login string }

func (ownerNode) typeName() string { return "Organization" }
func (o ownerNode) resolve(ec *execCtx, f *ast.Field, args map[string]any) (any, error) {
	switch f.Name {
	case "login":
		return o.login, nil
	case "id":
		return nodeID("Organization", userID(o.login)), nil
	case "url":
		return "https://github.com/" + o.login, nil
	}
	return nil, errNotSimulated("Organization", f.Name)
}

type userNode struct{ login string }

func newUser(login string) node {
	if login == "" {
		return nil
	}
	return &userNode{login: login}
}

func (u *userNode) typeName() string {
	if strings.HasSuffix(u.login, "[bot]") {
		return "Bot"
	}
	return "User"
}
func (u *userNode) resolve(ec *execCtx, f *ast.Field, args map[string]any) (any, error) {
	switch f.Name {
	case "login":
		return strings.TrimSuffix(u.login, "[bot]"), nil
	case "id":
		return nodeID("User", userID(u.login)), nil
	case "databaseId":
		return userID(u.login), nil
	case "url":
		return "https://github.com/" + u.login, nil
	case "name":
		return u.login, nil
	}
	return nil, errNotSimulated(u.typeName(), f.Name)
}

type repoNode struct{ ri *repoIndex }

func (*repoNode) typeName() string { return "Repository" }
func (n *repoNode) resolve(ec *execCtx, f *ast.Field, args map[string]any) (any, error) {
	r := n.ri.repo
	switch f.Name {
	case "name":
		return r.Name, nil
	case "nameWithOwner":
		return r.FullName(), nil
	case "id":
		return nodeID("Repository", r.ID), nil
	case "databaseId":
		return r.ID, nil
	case "url":
		return "https://github.com/" + r.FullName(), nil
	case "isArchived":
		return r.Archived, nil
	case "isFork":
		return r.Fork, nil
	case "isPrivate":
		return r.Private, nil
	case "isDisabled", "isEmpty", "isLocked", "isMirror", "isTemplate":
		return f.Name == "isEmpty" && len(r.Commits) == 0, nil
	case "createdAt":
		return r.CreatedAt, nil
	case "updatedAt", "pushedAt":
		if r.UpdatedAt.IsZero() {
			return r.CreatedAt, nil
		}
		return r.UpdatedAt, nil
	case "owner":
		return ownerNode{login: r.Owner}, nil
	case "defaultBranchRef":
		sha, ok := r.Branches[r.DefaultBranch]
		if !ok {
			return (*refNode)(nil), nil
		}
		return &refNode{ri: n.ri, name: r.DefaultBranch, prefix: "refs/heads/", sha: sha}, nil
	case "ref":
		q := argString(args, "qualifiedName")
		name, prefix := q, "refs/heads/"
		if t, ok := strings.CutPrefix(q, "refs/tags/"); ok {
			name, prefix = t, "refs/tags/"
		} else {
			name = strings.TrimPrefix(q, "refs/heads/")
		}
		var sha string
		if prefix == "refs/heads/" {
			sha = r.Branches[name]
		} else {
			sha = n.ri.resolve("refs/tags/" + name)
		}
		if sha == "" {
			return (*refNode)(nil), nil
		}
		return &refNode{ri: n.ri, name: name, prefix: prefix, sha: sha}, nil
	case "object":
		expr := argString(args, "oid")
		if expr == "" {
			expr = argString(args, "expression")
		}
		sha := n.ri.resolveExpression(expr)
		if sha == "" {
			return (*commitNode)(nil), nil
		}
		return &commitNode{ri: n.ri, c: n.ri.commits[sha]}, nil
	case "pullRequest":
		num, _ := argInt(args, "number")
		p := n.ri.pulls[num]
		if p == nil {
			return nil, &gqlError{Type: "NOT_FOUND", Message: fmt.Sprintf("Could not resolve to a PullRequest with the number of %d.", num)}
		}
		return &prNode{ri: n.ri, p: p}, nil
	case "pullRequests":
		return n.pullRequests(f, args)
	case "deployments":
		return n.deployments(f, args)
	case "releases":
		return n.releases(f, args)
	case "issues":
		return n.issues(f, args)
	case "issue":
		num, _ := argInt(args, "number")
		is := n.ri.issues[num]
		if is == nil {
			return nil, &gqlError{Type: "NOT_FOUND", Message: fmt.Sprintf("Could not resolve to an Issue with the number of %d.", num)}
		}
		return &issueNode{ri: n.ri, is: is}, nil
	}
	return nil, errNotSimulated("Repository", f.Name)
}

func (n *repoNode) pullRequests(f *ast.Field, args map[string]any) (any, error) {
	states := argStrings(args, "states")
	labels := argStrings(args, "labels")
	base, head := argString(args, "baseRefName"), argString(args, "headRefName")
	ps := filter(append([]*Pull(nil), n.ri.repo.Pulls...), func(p *Pull) bool {
		st := "OPEN"
		switch {
		case p.MergedAt != nil:
			st = "MERGED"
		case p.ClosedAt != nil:
			st = "CLOSED"
		}
		if len(states) > 0 && !containsFold(states, st) {
			return false
		}
		if (base != "" && base != p.BaseRef) || (head != "" && head != p.HeadRef) {
			return false
		}
		if len(labels) > 0 {
			hit := false
			for _, l := range labels {
				hit = hit || containsFold(p.Labels, l)
			}
			if !hit {
				return false
			}
		}
		return true
	})
	field, dir := "CREATED_AT", "ASC"
	if ob, ok := args["orderBy"].(map[string]any); ok {
		if v, ok := ob["field"].(string); ok {
			field = v
		}
		if v, ok := ob["direction"].(string); ok {
			dir = v
		}
	}
	sortByTime(ps, dir == "DESC", func(p *Pull) (time.Time, int64) {
		if field == "UPDATED_AT" {
			return p.UpdatedAt, int64(p.Number)
		}
		return p.CreatedAt, int64(p.Number)
	})
	all := make([]node, len(ps))
	for i, p := range ps {
		all[i] = &prNode{ri: n.ri, p: p}
	}
	return newConnection(f, args, all)
}

// resolveExpression resolves a git revision expression: a SHA, a branch, "HEAD",
// optionally followed by ~N or ^N.
func (ri *repoIndex) resolveExpression(expr string) string {
	base, ops := expr, ""
	if i := strings.IndexAny(expr, "~^"); i >= 0 {
		base, ops = expr[:i], expr[i:]
	}
	sha := ri.resolve(base)
	for sha != "" && ops != "" {
		op := ops[0]
		ops = ops[1:]
		j := 0
		for j < len(ops) && ops[j] >= '0' && ops[j] <= '9' {
			j++
		}
		n := 1
		if j > 0 {
			n, _ = strconv.Atoi(ops[:j])
		}
		ops = ops[j:]
		c := ri.commits[sha]
		if c == nil {
			return ""
		}
		if op == '^' {
			if n == 0 {
				continue
			}
			if n > len(c.Parents) {
				return ""
			}
			sha = c.Parents[n-1]
			continue
		}
		for k := 0; k < n && sha != ""; k++ {
			c := ri.commits[sha]
			if c == nil || len(c.Parents) == 0 {
				return ""
			}
			sha = c.Parents[0]
		}
	}
	if ri.commits[sha] == nil {
		return ""
	}
	return sha
}

type refNode struct {
	ri           *repoIndex
	name, prefix string
	sha          string
}

func (*refNode) typeName() string { return "Ref" }
func (n *refNode) resolve(ec *execCtx, f *ast.Field, args map[string]any) (any, error) {
	switch f.Name {
	case "name":
		return n.name, nil
	case "prefix":
		return n.prefix, nil
	case "id":
		return nodeID("Ref", userID(n.ri.repo.FullName()+n.prefix+n.name)), nil
	case "target":
		c := n.ri.commits[n.sha]
		if c == nil {
			return (*commitNode)(nil), nil
		}
		return &commitNode{ri: n.ri, c: c}, nil
	}
	return nil, errNotSimulated("Ref", f.Name)
}

type commitNode struct {
	ri *repoIndex
	c  *Commit
}

func (*commitNode) typeName() string { return "Commit" }
func (n *commitNode) resolve(ec *execCtx, f *ast.Field, args map[string]any) (any, error) {
	c := n.c
	r := n.ri.repo
	switch f.Name {
	case "oid":
		return c.SHA, nil
	case "abbreviatedOid":
		return c.SHA[:min(7, len(c.SHA))], nil
	case "id":
		return nodeID("Commit", userID(c.SHA)), nil
	case "url":
		return "https://github.com/" + r.FullName() + "/commit/" + c.SHA, nil
	case "message":
		return c.Message, nil
	case "messageHeadline":
		h, _, _ := strings.Cut(c.Message, "\n")
		return h, nil
	case "messageBody":
		_, b, _ := strings.Cut(c.Message, "\n")
		return strings.TrimLeft(b, "\n"), nil
	case "committedDate":
		return c.CommittedAt, nil
	case "authoredDate":
		return c.AuthoredAt, nil
	case "pushedDate":
		return nil, nil
	case "author":
		return &gitActorNode{login: c.AuthorLogin, at: c.AuthoredAt}, nil
	case "committer":
		login := c.CommitterLogin
		if login == "" {
			login = c.AuthorLogin
		}
		return &gitActorNode{login: login, at: c.CommittedAt}, nil
	case "changedFilesIfAvailable":
		return len(c.Files), nil
	case "parents":
		all := make([]node, 0, len(c.Parents))
		for _, p := range c.Parents {
			pc := n.ri.commits[p]
			if pc == nil {
				pc = &Commit{SHA: p}
			}
			all = append(all, &commitNode{ri: n.ri, c: pc})
		}
		return newConnection(f, args, all)
	case "history":
		since, err := argTime(args, "since")
		if err != nil {
			return nil, err
		}
		until, err := argTime(args, "until")
		if err != nil {
			return nil, err
		}
		if _, ok := args["path"].(string); ok {
			return nil, errNotSimulated("Commit", "history(path:)")
		}
		shas := n.ri.history(c.SHA, since, until)
		all := make([]node, len(shas))
		for i, sha := range shas {
			all[i] = &commitNode{ri: n.ri, c: n.ri.commits[sha]}
		}
		return newConnection(f, args, all)
	case "associatedPullRequests":
		var all []node
		for _, p := range r.Pulls {
			hit := p.MergedAt != nil && p.MergeCommitSHA == c.SHA
			for _, s := range p.Commits {
				hit = hit || s == c.SHA
			}
			if hit {
				all = append(all, &prNode{ri: n.ri, p: p})
			}
		}
		return newConnection(f, args, all)
	}
	return nil, errNotSimulated("Commit", f.Name)
}

type gitActorNode struct {
	login string
	at    time.Time
}

func (*gitActorNode) typeName() string { return "GitActor" }
func (n *gitActorNode) resolve(ec *execCtx, f *ast.Field, args map[string]any) (any, error) {
	p := gitPerson(n.login, n.at)
	switch f.Name {
	case "name", "email":
		return p[f.Name], nil
	case "date":
		return n.at, nil
	case "user":
		if n.login == "web-flow" {
			return newUser(n.login), nil
		}
		return newUser(n.login), nil
	}
	return nil, errNotSimulated("GitActor", f.Name)
}

type prNode struct {
	ri *repoIndex
	p  *Pull
}

func (*prNode) typeName() string { return "PullRequest" }
func (n *prNode) resolve(ec *execCtx, f *ast.Field, args map[string]any) (any, error) {
	p, r := n.p, n.ri.repo
	closed := p.ClosedAt
	if closed == nil && p.MergedAt != nil {
		closed = p.MergedAt
	}
	switch f.Name {
	case "id":
		return nodeID("PullRequest", p.ID), nil
	case "databaseId", "fullDatabaseId":
		return p.ID, nil
	case "number":
		return p.Number, nil
	case "title":
		return p.Title, nil
	case "body":
		return p.Body, nil
	case "url", "permalink":
		return "https://github.com/" + r.FullName() + "/pull/" + strconv.Itoa(p.Number), nil
	case "createdAt", "publishedAt":
		return p.CreatedAt, nil
	case "updatedAt", "lastEditedAt":
		return p.UpdatedAt, nil
	case "mergedAt":
		return p.MergedAt, nil
	case "closedAt":
		return closed, nil
	case "closed":
		return closed != nil, nil
	case "merged":
		return p.MergedAt != nil, nil
	case "isDraft":
		return p.Draft, nil
	case "state":
		switch {
		case p.MergedAt != nil:
			return "MERGED", nil
		case closed != nil:
			return "CLOSED", nil
		}
		return "OPEN", nil
	case "baseRefName":
		return p.BaseRef, nil
	case "headRefName":
		return p.HeadRef, nil
	case "baseRefOid":
		return n.ri.resolve(p.BaseRef), nil
	case "headRefOid":
		if p.HeadSHA != "" {
			return p.HeadSHA, nil
		}
		if len(p.Commits) > 0 {
			return p.Commits[len(p.Commits)-1], nil
		}
		return nil, nil
	case "author":
		return newUser(p.Author), nil
	case "mergedBy":
		if p.MergedAt == nil {
			return nil, nil
		}
		return newUser(p.Author), nil
	case "additions", "deletions", "changedFiles":
		return len(p.Files), nil
	case "mergeCommit":
		if p.MergedAt == nil || p.MergeCommitSHA == "" {
			return (*commitNode)(nil), nil
		}
		c := n.ri.commits[p.MergeCommitSHA]
		if c == nil {
			c = &Commit{SHA: p.MergeCommitSHA, Message: p.Title, AuthorLogin: p.Author, AuthoredAt: *p.MergedAt, CommittedAt: *p.MergedAt}
		}
		return &commitNode{ri: n.ri, c: c}, nil
	case "labels":
		all := make([]node, len(p.Labels))
		for i, l := range p.Labels {
			all[i] = &labelNode{repo: r, name: l}
		}
		return newConnection(f, args, all)
	case "commits":
		shas := p.Commits
		if len(shas) > 250 {
			shas = shas[:250]
		}
		all := make([]node, len(shas))
		for i, sha := range shas {
			all[i] = &prCommitNode{pr: n, c: &commitNode{ri: n.ri, c: n.ri.prCommit(p, i, sha)}}
		}
		return newConnection(f, args, all)
	case "reviews":
		states := argStrings(args, "states")
		author := argString(args, "author")
		var all []node
		for _, rv := range p.Reviews {
			if len(states) > 0 && !containsFold(states, rv.State) {
				continue
			}
			if author != "" && author != rv.User {
				continue
			}
			all = append(all, &reviewNode{pr: n, rv: rv})
		}
		return newConnection(f, args, all)
	case "files":
		all := make([]node, len(p.Files))
		for i, path := range p.Files {
			all[i] = &fileNode{path: path}
		}
		return newConnection(f, args, all)
	}
	return nil, errNotSimulated("PullRequest", f.Name)
}

type prCommitNode struct {
	pr *prNode
	c  *commitNode
}

func (*prCommitNode) typeName() string { return "PullRequestCommit" }
func (n *prCommitNode) resolve(ec *execCtx, f *ast.Field, args map[string]any) (any, error) {
	switch f.Name {
	case "commit":
		return n.c, nil
	case "id":
		return nodeID("PullRequestCommit", userID(n.c.c.SHA)), nil
	case "url":
		return "https://github.com/" + n.pr.ri.repo.FullName() + "/pull/" + strconv.Itoa(n.pr.p.Number) + "/commits/" + n.c.c.SHA, nil
	case "pullRequest":
		return n.pr, nil
	}
	return nil, errNotSimulated("PullRequestCommit", f.Name)
}

type reviewNode struct {
	pr *prNode
	rv Review
}

func (*reviewNode) typeName() string { return "PullRequestReview" }
func (n *reviewNode) resolve(ec *execCtx, f *ast.Field, args map[string]any) (any, error) {
	rv := n.rv
	switch f.Name {
	case "id":
		return nodeID("PullRequestReview", rv.ID), nil
	case "databaseId", "fullDatabaseId":
		return rv.ID, nil
	case "state":
		return rv.State, nil
	case "body":
		return rv.Body, nil
	case "submittedAt", "publishedAt":
		return rv.SubmittedAt, nil
	case "createdAt":
		if rv.SubmittedAt != nil {
			return *rv.SubmittedAt, nil
		}
		return n.pr.p.CreatedAt, nil
	case "author":
		return newUser(rv.User), nil
	case "url":
		return "https://github.com/" + n.pr.ri.repo.FullName() + "/pull/" + strconv.Itoa(n.pr.p.Number) + "#pullrequestreview-" + strconv.FormatInt(rv.ID, 10), nil
	case "pullRequest":
		return n.pr, nil
	}
	return nil, errNotSimulated("PullRequestReview", f.Name)
}

type labelNode struct {
	repo *Repo
	name string
}

func (*labelNode) typeName() string { return "Label" }
func (n *labelNode) resolve(ec *execCtx, f *ast.Field, args map[string]any) (any, error) {
	switch f.Name {
	case "name":
		return n.name, nil
	case "color":
		return "ededed", nil
	case "id":
		return nodeID("Label", userID(n.repo.FullName()+"#label#"+n.name)), nil
	case "description":
		return nil, nil
	}
	return nil, errNotSimulated("Label", f.Name)
}

type fileNode struct{ path string }

func (*fileNode) typeName() string { return "PullRequestChangedFile" }
func (n *fileNode) resolve(ec *execCtx, f *ast.Field, args map[string]any) (any, error) {
	switch f.Name {
	case "path":
		return n.path, nil
	case "additions", "deletions":
		return 1, nil
	case "changeType":
		return "MODIFIED", nil
	}
	return nil, errNotSimulated("PullRequestChangedFile", f.Name)
}

func (n *repoNode) deployments(f *ast.Field, args map[string]any) (any, error) {
	envs := argStrings(args, "environments")
	ds := filter(append([]*Deployment(nil), n.ri.repo.Deployments...), func(d *Deployment) bool {
		return len(envs) == 0 || containsFold(envs, d.Environment)
	})
	sortByTime(ds, orderDesc(args), func(d *Deployment) (time.Time, int64) { return d.CreatedAt, d.ID })
	all := make([]node, len(ds))
	for i, d := range ds {
		all[i] = &deploymentNode{ri: n.ri, d: d}
	}
	return newConnection(f, args, all)
}

func orderDesc(args map[string]any) bool {
	if ob, ok := args["orderBy"].(map[string]any); ok {
		return ob["direction"] == "DESC"
	}
	return false
}

func orderField(args map[string]any, def string) string {
	if ob, ok := args["orderBy"].(map[string]any); ok {
		if f, ok := ob["field"].(string); ok {
			return f
		}
	}
	return def
}

func (n *repoNode) releases(f *ast.Field, args map[string]any) (any, error) {
	rels := append([]*Release(nil), n.ri.repo.Releases...)
	byName := orderField(args, "CREATED_AT") == "NAME"
	desc := orderDesc(args)
	sort.SliceStable(rels, func(i, j int) bool {
		a, b := rels[i], rels[j]
		if byName {
			return (a.TagName < b.TagName) != desc
		}
		if !a.CreatedAt.Equal(b.CreatedAt) {
			return a.CreatedAt.Before(b.CreatedAt) != desc
		}
		return (a.ID < b.ID) != desc
	})
	all := make([]node, len(rels))
	for i, r := range rels {
		all[i] = &releaseNode{ri: n.ri, r: r}
	}
	return newConnection(f, args, all)
}

func (n *repoNode) issues(f *ast.Field, args map[string]any) (any, error) {
	labels := argStrings(args, "labels")
	states := argStrings(args, "states")
	var since time.Time
	var createdBy, assignee string
	if fb, ok := args["filterBy"].(map[string]any); ok {
		if v, ok := fb["since"].(string); ok && v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return nil, &gqlError{Message: fmt.Sprintf("Argument 'since' on InputObject 'IssueFilters' has an invalid value (%s). Expected type 'DateTime'.", v)}
			}
			since = t
		}
		labels = append(labels, argStrings(fb, "labels")...)
		states = append(states, argStrings(fb, "states")...)
		createdBy, _ = fb["createdBy"].(string)
		assignee, _ = fb["assignee"].(string)
	}
	is := filter(append([]*Issue(nil), n.ri.repo.Issues...), func(i *Issue) bool {
		if len(states) > 0 && !containsFold(states, issueState(i)) {
			return false
		}
		if !since.IsZero() && i.UpdatedAt.Before(since) {
			return false
		}
		if createdBy != "" && createdBy != i.User {
			return false
		}
		if assignee != "" && !containsFold(i.Assignees, assignee) {
			return false
		}
		if len(labels) > 0 { // any of the labels, as GitHub's GraphQL does
			hit := false
			for _, l := range labels {
				hit = hit || containsFold(i.Labels, l)
			}
			if !hit {
				return false
			}
		}
		return true
	})
	field := orderField(args, "CREATED_AT")
	sortByTime(is, orderDesc(args), func(i *Issue) (time.Time, int64) {
		switch field {
		case "UPDATED_AT":
			return i.UpdatedAt, int64(i.Number)
		case "COMMENTS":
			return time.Unix(int64(len(i.Comments)), 0), int64(i.Number)
		}
		return i.CreatedAt, int64(i.Number)
	})
	all := make([]node, len(is))
	for k, i := range is {
		all[k] = &issueNode{ri: n.ri, is: i}
	}
	return newConnection(f, args, all)
}

type deploymentNode struct {
	ri *repoIndex
	d  *Deployment
}

func (*deploymentNode) typeName() string { return "Deployment" }
func (n *deploymentNode) resolve(ec *execCtx, f *ast.Field, args map[string]any) (any, error) {
	d := n.d
	switch f.Name {
	case "id":
		return nodeID("Deployment", d.ID), nil
	case "databaseId":
		return d.ID, nil
	case "environment", "originalEnvironment":
		return d.Environment, nil
	case "commitOid":
		return d.SHA, nil
	case "commit":
		c := n.ri.commits[d.SHA]
		if c == nil {
			c = &Commit{SHA: d.SHA}
		}
		return &commitNode{ri: n.ri, c: c}, nil
	case "createdAt":
		return d.CreatedAt, nil
	case "updatedAt":
		if k := len(d.Statuses); k > 0 {
			return d.Statuses[k-1].CreatedAt, nil
		}
		return d.CreatedAt, nil
	case "task":
		if d.Task == "" {
			return "deploy", nil
		}
		return d.Task, nil
	case "description":
		return d.Description, nil
	case "creator":
		return newUser(d.Creator), nil
	case "state":
		if k := len(d.Statuses); k > 0 {
			return strings.ToUpper(d.Statuses[k-1].State), nil
		}
		return "PENDING", nil
	case "latestStatus":
		if k := len(d.Statuses); k > 0 {
			return &deploymentStatusNode{d: n, st: d.Statuses[k-1]}, nil
		}
		return nil, nil
	case "statuses": // newest first, as REST serves them
		all := make([]node, len(d.Statuses))
		for i, st := range d.Statuses {
			all[len(all)-1-i] = &deploymentStatusNode{d: n, st: st}
		}
		return newConnection(f, args, all)
	}
	return nil, errNotSimulated("Deployment", f.Name)
}

type deploymentStatusNode struct {
	d  *deploymentNode
	st DeploymentStatus
}

func (*deploymentStatusNode) typeName() string { return "DeploymentStatus" }
func (n *deploymentStatusNode) resolve(ec *execCtx, f *ast.Field, args map[string]any) (any, error) {
	switch f.Name {
	case "id":
		return nodeID("DeploymentStatus", n.st.ID), nil
	case "state":
		return strings.ToUpper(n.st.State), nil
	case "createdAt", "updatedAt":
		return n.st.CreatedAt, nil
	case "description":
		return "", nil
	case "environment":
		return n.d.d.Environment, nil
	case "creator":
		c := n.st.Creator
		if c == "" {
			c = n.d.d.Creator
		}
		return newUser(c), nil
	case "deployment":
		return n.d, nil
	}
	return nil, errNotSimulated("DeploymentStatus", f.Name)
}

type releaseNode struct {
	ri *repoIndex
	r  *Release
}

func (*releaseNode) typeName() string { return "Release" }
func (n *releaseNode) resolve(ec *execCtx, f *ast.Field, args map[string]any) (any, error) {
	r := n.r
	switch f.Name {
	case "id":
		return nodeID("Release", r.ID), nil
	case "databaseId":
		return r.ID, nil
	case "tagName":
		return r.TagName, nil
	case "name":
		return strOrNil(r.Name), nil
	case "isDraft":
		return r.Draft, nil
	case "isPrerelease":
		return r.Prerelease, nil
	case "isLatest":
		return false, nil
	case "createdAt":
		return r.CreatedAt, nil
	case "publishedAt":
		return r.PublishedAt, nil
	case "updatedAt":
		if r.PublishedAt != nil {
			return *r.PublishedAt, nil
		}
		return r.CreatedAt, nil
	case "url":
		return "https://github.com/" + n.ri.repo.FullName() + "/releases/tag/" + r.TagName, nil
	case "author":
		return newUser(r.Author), nil
	case "tagCommit":
		sha := n.ri.resolve(r.TargetCommitish)
		if sha == "" {
			return (*commitNode)(nil), nil
		}
		return &commitNode{ri: n.ri, c: n.ri.commits[sha]}, nil
	case "tag":
		sha := n.ri.resolve(r.TargetCommitish)
		if sha == "" {
			return (*refNode)(nil), nil
		}
		return &refNode{ri: n.ri, name: r.TagName, prefix: "refs/tags/", sha: sha}, nil
	}
	return nil, errNotSimulated("Release", f.Name)
}

type issueNode struct {
	ri *repoIndex
	is *Issue
}

func (*issueNode) typeName() string { return "Issue" }
func (n *issueNode) resolve(ec *execCtx, f *ast.Field, args map[string]any) (any, error) {
	is, r := n.is, n.ri.repo
	switch f.Name {
	case "id":
		return nodeID("Issue", is.ID), nil
	case "databaseId", "fullDatabaseId":
		return is.ID, nil
	case "number":
		return is.Number, nil
	case "title":
		return is.Title, nil
	case "body":
		return is.Body, nil
	case "url":
		return "https://github.com/" + r.FullName() + "/issues/" + strconv.Itoa(is.Number), nil
	case "createdAt", "publishedAt":
		return is.CreatedAt, nil
	case "updatedAt":
		return is.UpdatedAt, nil
	case "closedAt":
		return is.ClosedAt, nil
	case "closed":
		return issueState(is) == "closed", nil
	case "state":
		return strings.ToUpper(issueState(is)), nil
	case "stateReason":
		if is.StateReason == "" {
			return nil, nil
		}
		return strings.ToUpper(is.StateReason), nil
	case "author":
		return newUser(is.User), nil
	case "labels":
		all := make([]node, len(is.Labels))
		for i, l := range is.Labels {
			all[i] = &labelNode{repo: r, name: l}
		}
		return newConnection(f, args, all)
	case "assignees":
		all := make([]node, 0, len(is.Assignees))
		for _, a := range is.Assignees {
			all = append(all, newUser(a))
		}
		return newConnection(f, args, all)
	case "comments":
		all := make([]node, len(is.Comments))
		for i, c := range is.Comments {
			all[i] = &commentNode{issue: n, c: c}
		}
		return newConnection(f, args, all)
	case "timelineItems":
		return n.timeline(f, args)
	}
	return nil, errNotSimulated("Issue", f.Name)
}

// timelineTypes maps REST issue event names to GraphQL timeline item types.
var timelineTypes = map[string]string{
	"assigned": "AssignedEvent", "unassigned": "UnassignedEvent", "closed": "ClosedEvent",
	"reopened": "ReopenedEvent", "labeled": "LabeledEvent", "unlabeled": "UnlabeledEvent",
}

func (n *issueNode) timeline(f *ast.Field, args map[string]any) (any, error) {
	want := map[string]bool{}
	for _, t := range argStrings(args, "itemTypes") {
		want[t] = true
	}
	since, err := argTime(args, "since")
	if err != nil {
		return nil, err
	}
	type item struct {
		at time.Time
		n  node
	}
	var items []item
	for _, e := range n.is.Events {
		typ, ok := timelineTypes[e.Event]
		if !ok {
			continue
		}
		enum := strings.ToUpper(strings.TrimSuffix(typ, "Event")) + "_EVENT"
		if len(want) > 0 && !want[enum] {
			continue
		}
		items = append(items, item{e.CreatedAt, &timelineEventNode{typ: typ, e: e}})
	}
	if len(want) == 0 || want["ISSUE_COMMENT"] {
		for _, c := range n.is.Comments {
			items = append(items, item{c.CreatedAt, &commentNode{issue: n, c: c}})
		}
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].at.Before(items[j].at) })
	all := make([]node, 0, len(items))
	for _, it := range items {
		if since.IsZero() || !it.at.Before(since) {
			all = append(all, it.n)
		}
	}
	return newConnection(f, args, all)
}

type commentNode struct {
	issue *issueNode
	c     Comment
}

func (*commentNode) typeName() string { return "IssueComment" }
func (n *commentNode) resolve(ec *execCtx, f *ast.Field, args map[string]any) (any, error) {
	c := n.c
	switch f.Name {
	case "id":
		return nodeID("IssueComment", c.ID), nil
	case "databaseId", "fullDatabaseId":
		return c.ID, nil
	case "author":
		return newUser(c.User), nil
	case "body":
		return c.Body, nil
	case "createdAt", "publishedAt":
		return c.CreatedAt, nil
	case "updatedAt":
		if c.UpdatedAt.IsZero() {
			return c.CreatedAt, nil
		}
		return c.UpdatedAt, nil
	case "url":
		return "https://github.com/" + n.issue.ri.repo.FullName() + "/issues/" + strconv.Itoa(n.issue.is.Number) + "#issuecomment-" + strconv.FormatInt(c.ID, 10), nil
	}
	return nil, errNotSimulated("IssueComment", f.Name)
}

type timelineEventNode struct {
	typ string
	e   IssueEvent
}

func (n *timelineEventNode) typeName() string { return n.typ }
func (n *timelineEventNode) resolve(ec *execCtx, f *ast.Field, args map[string]any) (any, error) {
	switch f.Name {
	case "id":
		return nodeID(n.typ, n.e.ID), nil
	case "createdAt":
		return n.e.CreatedAt, nil
	case "actor":
		return newUser(n.e.Actor), nil
	case "assignee":
		return newUser(n.e.Assignee), nil
	case "label":
		return &labelNode{repo: &Repo{}, name: n.e.Label}, nil
	case "stateReason":
		return nil, nil
	}
	return nil, errNotSimulated(n.typ, f.Name)
}
