package e2e

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// citation matches what a reader of this repository cannot follow: sections of
// a product specification, process notes and style guides that live elsewhere,
// tracker issue numbers, and paths of the machine the project was built on.
// Documents, help texts and comments define things in their own words, or point
// to a document of this repository.
var citation = regexp.MustCompile(`\bSPEC\b|§|API-NOTES|STYLE\.md|[Pp]itfall [0-9]|shared/fixtures|/work/|\b[Ii]ssues? #?[0-9]|\b[Bb]rief\b`)

// TestDocsStandAlone reads every text file of the repository — docs, README files,
// Go code and its comments, YAML, dashboards, scripts — and fails on a citation
// of something outside it. Data copied from elsewhere (the recorded API answers
// in testdata, which carry a "_source" key, and GitHub's GraphQL schema) is not
// this project's writing and is skipped.
func TestDocsStandAlone(t *testing.T) {
	t.Parallel()
	self, err := filepath.Abs("standalone_test.go")
	if err != nil {
		t.Fatal(err)
	}
	files := 0
	err = filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Name() == ".git" { // a directory, or a file in a git worktree
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		if abs, _ := filepath.Abs(path); abs == self || !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		inTestdata := strings.Contains(filepath.ToSlash(path), "/testdata/")
		switch {
		case bytes.IndexByte(b, 0) >= 0: // binary
			return nil
		case inTestdata && strings.HasSuffix(path, ".graphql"):
			return nil
		case inTestdata && bytes.HasPrefix(bytes.TrimLeft(b, " \n"), []byte(`{`)) && bytes.Contains(b[:min(len(b), 200)], []byte(`"_source"`)):
			return nil
		}
		files++
		for i, line := range strings.Split(string(b), "\n") {
			if m := citation.FindString(line); m != "" {
				t.Errorf("%s:%d cites %q, which a reader of this repository cannot follow: %s",
					filepath.ToSlash(path), i+1, m, strings.TrimSpace(line))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 100 {
		t.Fatalf("read %d files; the walk did not see the repository", files)
	}
}
