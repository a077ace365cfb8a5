package kpi

import (
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestDocumentedClassification keeps the table "Default classification rules" of
// docs/kpis.md equal to DefaultClassification: every label, type and path the
// code applies is listed there, and nothing else.
func TestDocumentedClassification(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../docs/kpis.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "\n### Default classification rules\n")
	if !ok {
		t.Fatal("docs/kpis.md has no section \"Default classification rules\"")
	}
	code := regexp.MustCompile("`([^`]+)`")
	cells := func(cell string) []string {
		out := []string{}
		for _, m := range code.FindAllStringSubmatch(cell, -1) {
			out = append(out, m[1])
		}
		return out
	}
	type row struct{ labels, types, paths []string }
	rows := map[string]row{}
	for line := range strings.SplitSeq(section, "\n") {
		if !strings.HasPrefix(line, "| `") {
			if len(rows) > 0 {
				break // the table has ended
			}
			continue
		}
		c := strings.Split(strings.Trim(line, "|"), "|")
		if len(c) != 4 {
			t.Fatalf("row %q: want 4 cells (class, labels, types, paths)", line)
		}
		rows[cells(c[0])[0]] = row{cells(c[1]), cells(c[2]), cells(c[3])}
	}
	def := DefaultClassification()
	want := map[string]row{
		ClassFix.String():        {def.Fix.Labels, def.Fix.Types, []string{}},
		ClassTuneUp.String():     {def.TuneUp.Labels, def.TuneUp.Types, def.TuneUpPaths},
		ClassInnovation.String(): {def.Innovation.Labels, def.Innovation.Types, []string{}},
	}
	if len(rows) != len(want) {
		t.Errorf("the table has classes %v, want %d rows", slices.Sorted(maps.Keys(rows)), len(want))
	}
	for class, w := range want {
		g, ok := rows[class]
		if !ok {
			t.Errorf("class %s is not in the table", class)
			continue
		}
		for _, f := range []struct {
			what      string
			got, want []string
		}{{"labels", g.labels, w.labels}, {"types", g.types, w.types}, {"paths", g.paths, w.paths}} {
			if !slices.Equal(f.got, f.want) {
				t.Errorf("%s %s: docs/kpis.md lists %q, the code applies %q", class, f.what, f.got, f.want)
			}
		}
	}
}
