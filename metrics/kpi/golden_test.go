package kpi

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestComputeGolden pins Compute's whole result on a synthetic organisation,
// byte for byte, to the one recorded before the engine's memory work (compact
// records, hashed indexes, shared sample buffers), so that a change of
// internals cannot move a figure unnoticed. After an intended change of
// results, rewrite the files with go test -run ComputeGolden -update and review
// the diff.
func TestComputeGolden(t *testing.T) {
	t.Parallel()
	if runtime.GOARCH != "amd64" {
		// other architectures may fuse a*b+c, which changes the last bit of quantiles
		t.Skip("the golden files are amd64's floating point")
	}
	ev := genEvents(genSize{services: 8, changes: 3000, deployments: 600, incidents: 150}, 7, at)
	for _, c := range []struct {
		file string
		at   time.Time
	}{
		{"compute-at.golden.json", at},
		{"compute-at-minus-100d.golden.json", at.Add(-100 * 24 * time.Hour)},
	} {
		got, err := json.MarshalIndent(Compute(ev, c.at, propertyOptions()), "", "\t")
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("testdata", c.file)
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -run ComputeGolden -update to create it)", err)
		}
		if !bytes.Equal(got, want) {
			i := 0
			for i < len(got) && i < len(want) && got[i] == want[i] {
				i++
			}
			lo := max(i-200, 0)
			t.Errorf("%s: result differs from byte %d:\ngot  …%s…\nwant …%s…", path, i,
				got[lo:min(i+200, len(got))], want[lo:min(i+200, len(want))])
		}
	}
}
