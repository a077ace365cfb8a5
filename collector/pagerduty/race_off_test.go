//go:build !race

package pagerduty_test

const raceEnabled = false
