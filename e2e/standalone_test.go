package e2e

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// citation matches what a reader of this repository cannot follow: sections of
// a product specification, process notes and style guides that live elsewhere,
// tracker issue numbers, and paths of the machine the project was built on.
// Documents, help texts and comments define things in their own words, or point
// to a document of this repository.
// The pattern is written so that it does not match its own text.
var citation = regexp.MustCompile(`\bS[P]EC\b|\x{A7}|API-NOTE[S]|STYLE\.md|[Pp]itfall [0-9]|shared/fixture[s]|/wor[k]/|\b[Ii]ssues? #?[0-9]|\b[Bb]rief\b`)

// TestDocsStandAlone reads every text file of the repository — docs, README files,
// Go code and its comments, YAML, dashboards, scripts — and fails on a citation
// of something outside it. Data copied from elsewhere (the recorded API answers
// in testdata, which carry a "_source" key, and GitHub's GraphQL schema) is not
// this project's writing and is skipped.
func TestDocsStandAlone(t *testing.T) {
	t.Parallel()
	files := 0
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
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
		if !d.Type().IsRegular() {
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

// TestDocLinks follows every relative link of every Markdown file of the
// repository: the file it names must exist and, for a link with a #fragment into
// a Markdown file, that file must have a heading with that anchor (as GitHub
// derives anchors from headings).
func TestDocLinks(t *testing.T) {
	t.Parallel()
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	anchors := map[string]map[string]bool{}
	anchorsOf := func(path string) map[string]bool {
		if a, ok := anchors[path]; ok {
			return a
		}
		a := map[string]bool{}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(proseOf(string(b)), "\n") {
			if !strings.HasPrefix(line, "#") {
				continue
			}
			base := githubAnchor(strings.TrimLeft(line, "#"))
			id := base
			for n := 1; a[id]; n++ {
				id = fmt.Sprintf("%s-%d", base, n)
			}
			a[id] = true
		}
		anchors[path] = a
		return a
	}
	checked := 0
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".md") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range link.FindAllStringSubmatch(proseOf(string(b)), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			file, frag, _ := strings.Cut(target, "#")
			dest := path
			if file != "" {
				dest = filepath.Join(filepath.Dir(path), file)
				if _, err := os.Stat(dest); err != nil {
					t.Errorf("%s: link %q: %v", filepath.ToSlash(path), target, err)
					continue
				}
			}
			if frag != "" && strings.HasSuffix(dest, ".md") && !anchorsOf(dest)[frag] {
				t.Errorf("%s: link %q: %s has no heading with anchor #%s", filepath.ToSlash(path), target, filepath.ToSlash(dest), frag)
			}
			checked++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 20 {
		t.Fatalf("checked only %d links", checked)
	}
}

// githubAnchor is the anchor GitHub gives a heading: lower case, punctuation
// dropped (but - and _), spaces as hyphens.
func githubAnchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// inlineCode matches a code span.
var inlineCode = regexp.MustCompile("`[^`\n]*`")

// proseOf is Markdown without its fenced code blocks and with its code spans
// emptied, where brackets and # are text, not links or headings; headings keep
// their words, so a code span in a heading keeps its text.
func proseOf(md string) string {
	var b strings.Builder
	inCode := false
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "```") {
			inCode = !inCode
			b.WriteString("\n")
			continue
		}
		if inCode {
			b.WriteString("\n")
			continue
		}
		if strings.HasPrefix(line, "#") {
			b.WriteString(strings.ReplaceAll(line, "`", "") + "\n")
			continue
		}
		b.WriteString(inlineCode.ReplaceAllString(line, "``") + "\n")
	}
	return b.String()
}
