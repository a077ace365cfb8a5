package metrics

import (
	"bytes"
	"os"
	"strings"
	"testing"
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
