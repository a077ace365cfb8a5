//go:build race

package pagerduty_test

// raceEnabled lets request-count measurements that take seconds skip under
// -race, where they take a minute and test nothing the race detector sees.
const raceEnabled = true
