package main

import (
	"runtime/debug"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestResolveBuildInfo(t *testing.T) {
	t.Parallel()
	fromGit := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v0.0.0-20261207163755-42c6efce49f7+dirty"}, Settings: []debug.BuildSetting{
		{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "42c6efce49f792755c378bf4bfb8ec14956a66d4"},
		{Key: "vcs.time", Value: "2026-12-07T16:37:55Z"}, {Key: "vcs.modified", Value: "true"},
	}}
	for _, tc := range []struct {
		name    string
		stamped buildInfo
		bi      *debug.BuildInfo
		want    buildInfo
	}{
		{"release build: the stamp wins", buildInfo{Version: "0.2.0", Revision: "abc", BuildDate: "20261201-10:00:00", GoVersion: "go1.26.8", GoOS: "linux", GoArch: "amd64"}, fromGit,
			buildInfo{Version: "0.2.0", Revision: "abc", Branch: "unknown", BuildUser: "unknown", BuildDate: "20261201-10:00:00", GoVersion: "go1.26.8", GoOS: "linux", GoArch: "amd64", Tags: "unknown"}},
		{"from a git checkout", buildInfo{GoOS: "linux", GoArch: "arm64"}, fromGit,
			buildInfo{Version: "0.0.0-20261207163755-42c6efce49f7+dirty", Revision: "42c6efce49f792755c378bf4bfb8ec14956a66d4-modified", Branch: "unknown", BuildUser: "unknown",
				BuildDate: "20261207-16:37:55", GoVersion: "go1.26.0", GoOS: "linux", GoArch: "arm64", Tags: "unknown"}},
		{"go install of a tag", buildInfo{GoVersion: "go1.26.8", GoOS: "linux", GoArch: "amd64"},
			&debug.BuildInfo{Main: debug.Module{Version: "v0.2.0"}, Settings: []debug.BuildSetting{{Key: "-tags", Value: "netgo"}}},
			buildInfo{Version: "0.2.0", Revision: "unknown", Branch: "unknown", BuildUser: "unknown", BuildDate: "unknown", GoVersion: "go1.26.8", GoOS: "linux", GoArch: "amd64", Tags: "netgo"}},
		{"a source tree without version control", buildInfo{GoVersion: "go1.26.8", GoOS: "linux", GoArch: "amd64"}, &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}},
			buildInfo{Version: "devel", Revision: "unknown", Branch: "unknown", BuildUser: "unknown", BuildDate: "unknown", GoVersion: "go1.26.8", GoOS: "linux", GoArch: "amd64", Tags: "unknown"}},
	} {
		if got := resolveBuildInfo(tc.stamped, tc.bi); got != tc.want {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.name, got, tc.want)
		}
	}
}

func TestBuildInfoOutputs(t *testing.T) {
	t.Parallel()
	b := buildInfo{Version: "0.2.0", Revision: "abc", Branch: "main", BuildUser: "ci", BuildDate: "20261201-10:00:00", GoVersion: "go1.26.8", GoOS: "linux", GoArch: "amd64", Tags: "unknown"}
	want := `flywheel, version 0.2.0 (branch: main, revision: abc)
  build user:       ci
  build date:       20261201-10:00:00
  go version:       go1.26.8
  platform:         linux/amd64
  tags:             unknown`
	if got := b.String(); got != want {
		t.Errorf("--version:\n%s\nwant:\n%s", got, want)
	}
	exposition := `# HELP flywheel_build_info A metric with a constant '1' value labeled by version, revision, branch, goversion from which flywheel was built, and the goos and goarch for the build.
# TYPE flywheel_build_info gauge
flywheel_build_info{branch="main",goarch="amd64",goos="linux",goversion="go1.26.8",revision="abc",tags="unknown",version="0.2.0"} 1
`
	if err := testutil.CollectAndCompare(b.collector(), strings.NewReader(exposition)); err != nil {
		t.Error(err)
	}
	if problems, err := testutil.CollectAndLint(b.collector()); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", problems, err)
	}
}
