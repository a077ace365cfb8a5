package e2e

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeQuickStart keeps the README's promise: a quick start of exactly two
// commands, the first running the demo and the second the tests, and .ci/run
// running exactly that test command.
func TestReadmeQuickStart(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)## Quick start\n\n```sh\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README has no Quick start shell block")
	}
	var cmds []string
	for line := range strings.SplitSeq(strings.TrimSpace(string(m[1])), "\n") {
		cmd, _, _ := strings.Cut(line, "#")
		cmds = append(cmds, strings.TrimSpace(cmd))
	}
	if len(cmds) != 2 || cmds[0] != "go run ./cmd/flywheel demo" {
		t.Fatalf("quick start commands = %q, want the demo and the test command", cmds)
	}
	ci, err := os.ReadFile("../.ci/run")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(ci)), "\n")
	if last := strings.TrimSpace(lines[len(lines)-1]); last != cmds[1] {
		t.Errorf(".ci/run ends with %q, the README's test command is %q", last, cmds[1])
	}
	if !strings.Contains(string(ci), "set -euo pipefail") {
		t.Error(".ci/run does not set -euo pipefail")
	}
}

// TestReadmeLayout keeps the README's Layout complete: every top-level folder
// and every Go package of the repository is named there, in backticks, by its
// path or (for a package inside a listed folder) its name.
func TestReadmeLayout(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, layout, ok := strings.Cut(string(readme), "\n## Layout\n")
	if !ok {
		t.Fatal("README has no Layout section")
	}
	layout, _, _ = strings.Cut(layout, "\n## ")
	named := func(p string) bool {
		return strings.Contains(layout, "`"+p+"`") || strings.Contains(layout, "`"+p+"/") ||
			strings.Contains(layout, "`"+filepath.Base(p)+"`")
	}
	top, err := os.ReadDir("..")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range top {
		if d.IsDir() && d.Name() != ".git" && !named(d.Name()) {
			t.Errorf("README Layout does not name the folder %s", d.Name())
		}
	}
	err = filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		if d.Name() == ".git" || d.Name() == "testdata" {
			return filepath.SkipDir
		}
		gofiles, _ := filepath.Glob(filepath.Join(path, "*.go"))
		rel, _ := filepath.Rel("..", path)
		if len(gofiles) > 0 && rel != "." && !named(filepath.ToSlash(rel)) {
			t.Errorf("README Layout does not name the package %s", filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
