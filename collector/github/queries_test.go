package github

import (
	"testing"

	"github.com/flywheel-metrics/flywheel/collector/github/githubtest"
)

// allQueries lists every query the source sends.
var allQueries = map[string]string{
	"repoQuery":          repoQuery,
	"pullMoreQuery":      pullMoreQuery,
	"issueCommentsQuery": issueCommentsQuery,
	"historyQuery":       historyQuery,
}

// TestQueriesValidateAgainstGitHubSchema validates every query the source sends
// against GitHub's public schema (githubtest/testdata/schema.graphql, whose README
// names its source).
func TestQueriesValidateAgainstGitHubSchema(t *testing.T) {
	for name, q := range allQueries {
		t.Run(name, func(t *testing.T) {
			if err := githubtest.ValidateQuery(q); err != nil {
				t.Fatalf("%s does not validate against GitHub's schema: %v", name, err)
			}
		})
	}
}

// TestQueriesRejectTypos proves the validation can fail.
func TestQueriesRejectTypos(t *testing.T) {
	if err := githubtest.ValidateQuery(`query { repository(owner: "a", name: "b") { pullRequest(number: 1) { mergedAtt } } }`); err == nil {
		t.Fatal("a query with an unknown field validated")
	}
}
