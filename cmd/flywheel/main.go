// Command flywheel collects deployments, pull requests and incidents from GitHub
// and PagerDuty, computes DORA and speed-of-innovation KPIs, keeps every event in
// an embedded bbolt file and serves the KPIs as Prometheus metrics.
//
// This package is the only one that knows every other: it parses flags, loads the
// config, opens the store, builds the sources and runs them.
package main

import (
	"os"
)

func main() {
	os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr))
}
