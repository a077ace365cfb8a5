package metrics

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

const docsPath = "../docs/metrics.md"

// TestDocs fails when docs/metrics.md is not what WriteDocs generates from the
// family table; `go test ./metrics -run TestDocs -update` refreshes it.
func TestDocs(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := WriteDocs(&buf); err != nil {
		t.Fatal(err)
	}
	for _, def := range families {
		if n := strings.Count(buf.String(), "| `"+def.name+"` |"); n != 1 {
			t.Errorf("%s is listed %d times", def.name, n)
		}
	}
	if *update {
		if err := os.WriteFile(docsPath, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatalf("%v (run go test ./metrics -run TestDocs -update)", err)
	}
	if !bytes.Equal(got, buf.Bytes()) {
		t.Errorf("docs/metrics.md is stale; run go test ./metrics -run TestDocs -update:\n%s", lineDiff(string(got), buf.String()))
	}
}

// citation matches what a reader of /metrics cannot follow: sections of a
// specification, process notes or tracker issues that live outside this
// repository. A HELP text says what the metric is in its own words.
// The pattern is written so that it does not match its own text.
var citation = regexp.MustCompile(`\bS[P]EC\b|\x{A7}|API-NOTE[S]|STYLE\.md|[Pp]itfall [0-9]|shared/fixture[s]|\b[Ii]ssues? #?[0-9]`)

// TestHelpStandsAlone reads the HELP text of every family the exporter serves,
// from a registry as /metrics gathers it, and of every family in the table, and
// fails on a citation.
func TestHelpStandsAlone(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	reg.MustRegister(fixtureExporter(t))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	help := map[string]string{}
	for _, mf := range mfs {
		help[mf.GetName()] = mf.GetHelp()
	}
	for _, def := range families {
		help[def.name] = def.help
	}
	if len(help) < len(families) {
		t.Fatalf("only %d families", len(help))
	}
	for name, h := range help {
		if m := citation.FindString(h); m != "" {
			t.Errorf("%s: HELP cites %q: %s", name, m, h)
		}
	}
}
