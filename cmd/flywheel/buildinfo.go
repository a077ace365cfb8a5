package main

import (
	"fmt"
	"runtime/debug"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/version"
)

// buildInfo is what the binary knows of its own build, for --version, the
// flywheel_build_info metric and serve's first log line.
//
// A release build stamps its version, revision and build date with -ldflags
// -X into prometheus/common/version, the variables every Prometheus exporter
// uses (the Dockerfile does, from build arguments):
//
//	go build -ldflags "-X github.com/prometheus/common/version.Version=0.2.0
//	  -X github.com/prometheus/common/version.Revision=$(git rev-parse HEAD)
//	  -X github.com/prometheus/common/version.BuildDate=$(date -u +%Y%m%d-%H:%M:%S)" ./cmd/flywheel
//
// What is not stamped comes from what the Go toolchain recorded: the module
// version (a tag, or a pseudo-version of the commit), the VCS revision (with
// "-modified" for uncommitted changes) and the commit's time as the date.
// The rest is "unknown".
type buildInfo struct {
	Version, Revision, Branch, BuildUser, BuildDate string
	GoVersion, GoOS, GoArch, Tags                   string
}

// buildDateLayout is the date format of Prometheus exporters' builds.
const buildDateLayout = "20060102-15:04:05"

// readBuildInfo returns this binary's build information.
func readBuildInfo() buildInfo {
	bi, _ := debug.ReadBuildInfo()
	return resolveBuildInfo(buildInfo{
		Version: version.Version, Revision: version.Revision, Branch: version.Branch,
		BuildUser: version.BuildUser, BuildDate: version.BuildDate,
		GoVersion: version.GoVersion, GoOS: version.GoOS, GoArch: version.GoArch,
	}, bi)
}

// resolveBuildInfo completes what -ldflags stamped with what the Go
// toolchain recorded in bi (nil: nothing).
func resolveBuildInfo(b buildInfo, bi *debug.BuildInfo) buildInfo {
	vcs := map[string]string{}
	if bi != nil {
		for _, s := range bi.Settings {
			vcs[s.Key] = s.Value
		}
		if b.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			b.Version = strings.TrimPrefix(bi.Main.Version, "v")
		}
		if b.GoVersion == "" {
			b.GoVersion = bi.GoVersion
		}
	}
	if b.Revision == "" && vcs["vcs.revision"] != "" {
		b.Revision = vcs["vcs.revision"]
		if vcs["vcs.modified"] == "true" {
			b.Revision += "-modified"
		}
	}
	if t, err := time.Parse(time.RFC3339, vcs["vcs.time"]); b.BuildDate == "" && err == nil {
		b.BuildDate = t.UTC().Format(buildDateLayout)
	}
	b.Tags = vcs["-tags"]
	if b.Version == "" {
		b.Version = "devel" // built from a source tree without version control
	}
	for _, f := range []*string{&b.Revision, &b.Branch, &b.BuildUser, &b.BuildDate, &b.GoVersion, &b.GoOS, &b.GoArch, &b.Tags} {
		if *f == "" {
			*f = "unknown"
		}
	}
	return b
}

// String is the --version text, laid out as Prometheus exporters print it.
func (b buildInfo) String() string {
	return fmt.Sprintf(`flywheel, version %s (branch: %s, revision: %s)
  build user:       %s
  build date:       %s
  go version:       %s
  platform:         %s/%s
  tags:             %s`, b.Version, b.Branch, b.Revision, b.BuildUser, b.BuildDate, b.GoVersion, b.GoOS, b.GoArch, b.Tags)
}

// collector is flywheel_build_info: a constant 1 labelled as the build info
// metrics of Prometheus exporters are, so that a dashboard can show which
// version runs and an alert can compare versions across instances.
func (b buildInfo) collector() prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "flywheel_build_info",
		Help: "A metric with a constant '1' value labeled by version, revision, branch, goversion from which flywheel was built, and the goos and goarch for the build.",
		ConstLabels: prometheus.Labels{
			"version": b.Version, "revision": b.Revision, "branch": b.Branch,
			"goversion": b.GoVersion, "goos": b.GoOS, "goarch": b.GoArch, "tags": b.Tags,
		},
	}, func() float64 { return 1 })
}

// logAttrs are the build's fields for serve's first log line.
func (b buildInfo) logAttrs() []any {
	return []any{"version", b.Version, "revision", b.Revision, "build_date", b.BuildDate, "goversion", b.GoVersion}
}
