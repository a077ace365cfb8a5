// Package githubtest is a simulated GitHub API that serves a whole organisation from
// plain data (Org): the REST endpoints the GitHub source reads, in the response shapes
// recorded in shared/fixtures/github (field names, RFC 3339 "Z" timestamps, Link
// pagination by page number, weak ETags and 304s, x-ratelimit-* headers with a finite
// budget that 304s do not consume), and GraphQL queries validated against GitHub's
// public schema (testdata/schema.graphql) and answered by a small executor. It counts
// requests by route and status and can inject faults (rate limits, 5xx, bad JSON).
// The GitHub source's tests use it, and `flywheel demo` serves its generated
// organisation through it (issues 7 and 6). It listens on 127.0.0.1 only.
//
// REST (also under /api/v3/, the GitHub Enterprise Server layout):
//
//	GET /rate_limit                                  (free, like GitHub's)
//	GET /orgs/{org}/repos                            type, sort, direction
//	GET /repos/{o}/{r}
//	GET /repos/{o}/{r}/deployments                   newest first; environment, sha, ref, task
//	GET /repos/{o}/{r}/deployments/{id}[/statuses]   statuses newest first
//	GET /repos/{o}/{r}/actions/runs                  branch, status (or conclusion), event, actor, head_sha, created
//	GET /repos/{o}/{r}/actions/workflows/{id|file}/runs
//	GET /repos/{o}/{r}/releases                      newest first, drafts included
//	GET /repos/{o}/{r}/pulls                         state, base, head, sort, direction
//	GET /repos/{o}/{r}/pulls/{n}[/commits|/reviews|/files]   commits capped at 250
//	GET /repos/{o}/{r}/issues                        PRs included with a pull_request key; labels, state, since (updated), creator, sort, direction
//	GET /repos/{o}/{r}/issues/{n}[/comments|/events]
//	GET /repos/{o}/{r}/compare/{base}...{head}       status/ahead_by/behind_by from the DAG; 250 commits unpaged, or paged
//	GET /repos/{o}/{r}/commits                       sha (branch or SHA), since, until, path, author; newest first
//	GET /repos/{o}/{r}/commits/{ref}[/pulls]
//	POST /app/installations/{id}/access_tokens       GitHub App installation tokens (JWT required)
//
// Every list takes per_page (default 30, at most Options.PerPageMax) and page, and
// answers with a Link header whose URLs point back at this server. Every GET 200 has
// an ETag; a matching If-None-Match gets a 304 that costs no budget.
//
// GraphQL (POST /graphql and /api/graphql): any query valid against GitHub's schema
// is accepted; fields outside the simulated set answer an error naming the field,
// never a silent null. Simulated: Query.repository, organization, rateLimit;
// Organization.repositories; Repository (name, nameWithOwner, ids, flags, owner,
// defaultBranchRef, ref, object(oid|expression with ~N/^N), pullRequest(s), issue(s),
// deployments, releases); Ref.target; Commit (oid, dates, message, author/committer,
// parents, history(since, until), associatedPullRequests); PullRequest (number, title,
// url, dates, state, isDraft, refs, author, labels, mergeCommit, commits, reviews,
// files); Issue (… comments, labels, assignees, timelineItems of assigned, closed,
// reopened, (un)labeled events and comments); Deployment (+ statuses, newest first);
// Release (tagCommit, tag). Connections support first/after/last/before, totalCount,
// pageInfo, nodes and edges; fragments, inline fragments, aliases, variables, @include
// and @skip work. Each query is charged GitHub's documented point cost (QueryCost) to
// a separate budget; a spent budget answers 200 with a RATE_LIMITED error.
package githubtest
