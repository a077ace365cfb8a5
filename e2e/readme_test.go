package e2e

import (
	"os"
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
