package github

// The GraphQL documents the source sends. Every one is validated against GitHub's
// public schema in queries_test.go; keep each in a const so the test sees them all.

// repoQuery reads one page of each selected connection of a repository: merged
// pull requests (newest update first) with their commits' author dates, reviews,
// labels and, when path rules need them, files; deployments with their statuses;
// releases with their tag's commit; and incident issues (labels, updated since)
// with comments and assignment events; and, riding along while those page, the
// deploy branch's commit graph. A connection is included only while it has
// pages left, so one request serves every kind, and an unchanged repository costs
// one small request (page sizes of the first request of an incremental sync are
// kept small enough to cost a single point).
const repoQuery = `query FlywheelRepo($owner: String!, $name: String!,
  $withPulls: Boolean!, $pullsFirst: Int!, $pullsAfter: String, $withFiles: Boolean!,
  $withDeployments: Boolean!, $deploymentsFirst: Int!, $deploymentsAfter: String,
  $withReleases: Boolean!, $releasesFirst: Int!, $releasesAfter: String,
  $withIssues: Boolean!, $issuesFirst: Int!, $issuesAfter: String, $issueLabels: [String!], $issuesSince: DateTime,
  $withHistory: Boolean!, $historyRef: String!, $historyAfter: String) {
  rateLimit { cost remaining limit resetAt }
  repository(owner: $owner, name: $name) {
    nameWithOwner
    defaultBranchRef { name }
    deployBranch: ref(qualifiedName: $historyRef) @include(if: $withHistory) {
      target {
        ... on Commit {
          history(first: 100, after: $historyAfter) {
            pageInfo { hasNextPage endCursor }
            nodes { oid committedDate parents(first: 10) { totalCount nodes { oid } } }
          }
        }
      }
    }
    pullRequests(first: $pullsFirst, after: $pullsAfter, states: [MERGED], orderBy: {field: UPDATED_AT, direction: DESC}) @include(if: $withPulls) {
      pageInfo { hasNextPage endCursor }
      nodes {
        number
        title
        createdAt
        updatedAt
        mergedAt
        baseRefName
        author { login }
        mergeCommit { oid }
        labels(first: 100) { nodes { name } }
        commits(first: 100) { pageInfo { hasNextPage endCursor } nodes { commit { authoredDate } } }
        reviews(first: 100) { pageInfo { hasNextPage endCursor } nodes { state submittedAt author { login } } }
        files(first: 100) @include(if: $withFiles) { pageInfo { hasNextPage endCursor } nodes { path } }
      }
    }
    deployments(first: $deploymentsFirst, after: $deploymentsAfter, orderBy: {field: CREATED_AT, direction: DESC}) @include(if: $withDeployments) {
      pageInfo { hasNextPage endCursor }
      nodes {
        databaseId
        environment
        commitOid
        createdAt
        updatedAt
        statuses(first: 100) { nodes { state createdAt } }
      }
    }
    releases(first: $releasesFirst, after: $releasesAfter, orderBy: {field: CREATED_AT, direction: DESC}) @include(if: $withReleases) {
      pageInfo { hasNextPage endCursor }
      nodes {
        tagName
        isDraft
        isPrerelease
        createdAt
        publishedAt
        updatedAt
        tagCommit { oid }
      }
    }
    issues(first: $issuesFirst, after: $issuesAfter, labels: $issueLabels, filterBy: {since: $issuesSince}, orderBy: {field: UPDATED_AT, direction: DESC}) @include(if: $withIssues) {
      pageInfo { hasNextPage endCursor }
      nodes {
        number
        title
        body
        createdAt
        updatedAt
        closedAt
        state
        author { login }
        labels(first: 100) { nodes { name } }
        comments(first: 100) { pageInfo { hasNextPage endCursor } nodes { author { login } body createdAt } }
        timelineItems(first: 100, itemTypes: [ASSIGNED_EVENT]) { nodes { ... on AssignedEvent { createdAt } } }
      }
    }
  }
}`

// pullMoreQuery reads further pages of one pull request's commits, reviews or
// files, for the rare PR with more than 100 of them.
const pullMoreQuery = `query FlywheelPullMore($owner: String!, $name: String!, $number: Int!,
  $withCommits: Boolean!, $commitsAfter: String,
  $withReviews: Boolean!, $reviewsAfter: String,
  $withFiles: Boolean!, $filesAfter: String) {
  rateLimit { cost remaining limit resetAt }
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      commits(first: 100, after: $commitsAfter) @include(if: $withCommits) { pageInfo { hasNextPage endCursor } nodes { commit { authoredDate } } }
      reviews(first: 100, after: $reviewsAfter) @include(if: $withReviews) { pageInfo { hasNextPage endCursor } nodes { state submittedAt author { login } } }
      files(first: 100, after: $filesAfter) @include(if: $withFiles) { pageInfo { hasNextPage endCursor } nodes { path } }
    }
  }
}`

// issueCommentsQuery reads further pages of one issue's comments.
const issueCommentsQuery = `query FlywheelIssueComments($owner: String!, $name: String!, $number: Int!, $after: String) {
  rateLimit { cost remaining limit resetAt }
  repository(owner: $owner, name: $name) {
    issue(number: $number) {
      comments(first: 100, after: $after) { pageInfo { hasNextPage endCursor } nodes { author { login } body createdAt } }
    }
  }
}`

// historyQuery reads a branch's commit graph, newest first, 100 commits with their
// parents per request: the cheap way to find each deployment's commits.
const historyQuery = `query FlywheelHistory($owner: String!, $name: String!, $ref: String!, $after: String) {
  rateLimit { cost remaining limit resetAt }
  repository(owner: $owner, name: $name) {
    ref(qualifiedName: $ref) {
      target {
        ... on Commit {
          history(first: 100, after: $after) {
            pageInfo { hasNextPage endCursor }
            nodes { oid committedDate parents(first: 10) { totalCount nodes { oid } } }
          }
        }
      }
    }
  }
}`
