// Package githubtest is a simulated GitHub API that serves a whole organisation from
// plain data (Org): the REST endpoints the GitHub source reads, in the response shapes
// of GitHub's recorded answers in ../testdata (field names, RFC 3339 "Z" timestamps, Link
// pagination by page number, weak ETags and 304s, x-ratelimit-* headers with a finite
// budget that 304s do not consume), and GraphQL queries validated against GitHub's
// public schema (testdata/schema.graphql) and answered by a small executor. It counts
// requests by route and status, can inject faults (rate limits, 5xx, bad JSON) and
// can enforce a secondary rate limit (Options.SecondaryLimit).
// The GitHub source's tests use it, and `flywheel demo` serves its generated
// organisation through it. It listens on 127.0.0.1 only.
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
// Tokens (Options.Tokens) follow GitHub's two permission models, with its
// headers: a classic token's scopes in X-OAuth-Scopes on every answer and its
// private repositories hidden without the repo scope; a fine-grained token or
// an App installation's permissions enforced per route, a missing one answered
// 403 with X-Accepted-GitHub-Permissions naming it (see Grant).
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
//
// Incident texts. Issue bodies and comments are served exactly as the Org holds
// them, in the JSON shapes of recorded GitHub issue and comment responses (CRLF
// line ends included: GitHub's web editor stores text that way). The
// organisations built on this server write `caused-by:` and `impact-start:`
// lines in the places and forms people use: demo.Generate (demo/incidentnotes.go)
// for `flywheel demo`, and the GitHub source's TestIncidentFormsEndToEnd
// (collector/github/incidentforms_test.go), which holds every form:
//
//   - places: the issue body; a comment; a later comment correcting the body
//     (the last line wins), also from a deployment to "none".
//   - caused-by: the stored id (owner/repo/deployments/N, owner/repo/runs/N,
//     owner/repo/releases/TAG); the id GitHub shows (a deployment's numeric id,
//     an Actions run id, a release tag); a deployment's API URL
//     (https://api.github.com/repos/OWNER/REPO/deployments/ID, the deployment's
//     "url" field, which deploy bots post; also a GitHub Enterprise Server's
//     /api/v3/ form) — GitHub's web pages list a repository's or an
//     environment's deployments but have no page per deployment, so
//     https://github.com/OWNER/REPO/deployments/production names an
//     environment, and is kept as a caused-by that names nothing;
//     …/actions/runs/ID and …/actions/runs/ID/job/N; …/releases/tag/TAG;
//     …/commit/SHA (full or short); …/pull/N and …/pull/N/files; OWNER/REPO#N;
//     a full sha or a 7–12-character prefix; "none" in any case, with or
//     without a reason; a word that names nothing.
//   - Markdown around it: backticks, <…>, [text](url), a bold key or value, a
//     list item, a quote, a trailing full stop; keys caused-by, Caused-By,
//     caused_by.
//   - impact-start: RFC3339 with Z and with an offset, "YYYY-MM-DD HH:MM UTC",
//     "YYYY-MM-DD HH:MM:SS -05:00", no zone (read in incident_time_zone), and
//     words that do not parse ("about ten minutes after the 10:40 alert").
//
// The URL forms follow GitHub's web and REST URL conventions. That these are the
// forms people write is our judgement: the forms, like the PagerDuty ones of
// pagerdutytest, are verified only against these simulators and Flywheel's own
// parser, never against real incident issues or incidents.
package githubtest
