package github

import "github.com/flywheel-metrics/flywheel/collector/github/githubtest"

// GenTestOrg exposes the test organisation generator to the external tests
// (package github_test), which use the real store.
func GenTestOrg(repos, prs int) *githubtest.Org {
	return genOrg(genOpts{org: "acme", repos: repos, prs: prs, commitsPerPR: 3, reviewsPerPR: 2, deployEvery: 2, incidents: 3})
}
