package deploy_test

import (
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/flywheel-metrics/flywheel"
)

// mountOf returns the container path at which a compose service mounts the
// named volume, or "".
func mountOf(svc any, volume string) string {
	vols, _ := get(svc, "volumes").([]any)
	for _, v := range vols {
		parts := strings.Split(v.(string), ":")
		if len(parts) >= 2 && parts[0] == volume {
			return parts[1]
		}
	}
	return ""
}

// volumeAt returns the named volume a compose service mounts at dir or above it.
func volumeAt(svc any, dir string) (volume, mount string) {
	vols, _ := get(svc, "volumes").([]any)
	for _, v := range vols {
		parts := strings.Split(v.(string), ":")
		if len(parts) >= 2 && (dir == parts[1] || strings.HasPrefix(dir, parts[1]+"/")) {
			return parts[0], parts[1]
		}
	}
	return "", ""
}

// flagValue returns the value of --name=V or --name V in args.
func flagValue(args []string, name string) (string, bool) {
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v, true
		}
		if a == "--"+name && i+1 < len(args) {
			return args[i+1], true
		}
	}
	return "", false
}

func strs(v any) []string {
	l, _ := v.([]any)
	out := make([]string, len(l))
	for i, x := range l {
		out[i], _ = x.(string)
	}
	return out
}

// TestComposeBackfillsBeforePrometheus: the compose file gives Prometheus the
// demo's history before it starts: flywheel backfill of the same organisation
// writes OpenMetrics into a volume, promtool turns it into blocks in the volume
// Prometheus keeps its data in, and Prometheus keeps them long enough.
func TestComposeBackfillsBeforePrometheus(t *testing.T) {
	t.Parallel()
	doc := decodeAll(t, "compose/docker-compose.yml")[0]
	services := []string{"flywheel", "backfill", "backfill-blocks", "prometheus"}
	for _, s := range services {
		if get(doc, "services", s) == nil {
			t.Fatalf("compose has no %s service", s)
		}
	}
	fw, bf, blocks, prom := get(doc, "services", "flywheel"), get(doc, "services", "backfill"), get(doc, "services", "backfill-blocks"), get(doc, "services", "prometheus")

	// backfill runs the same image on the demo's organisation, the same seed.
	args := strs(get(bf, "command"))
	if len(args) == 0 || args[0] != "backfill" || !slices.Contains(args, "--demo") {
		t.Fatalf("backfill service runs %v, want flywheel backfill --demo", args)
	}
	if get(bf, "image") != get(fw, "image") {
		t.Errorf("backfill image %v, the demo's %v", get(bf, "image"), get(fw, "image"))
	}
	seedOf := func(args []string) string {
		if v, ok := flagValue(args, "seed"); ok {
			return v
		}
		return "1"
	}
	if a, b := seedOf(strs(get(fw, "command"))), seedOf(args); a != b {
		t.Errorf("the demo runs seed %s, backfill seed %s: not the same organisation", a, b)
	}
	out, ok := flagValue(args, "output")
	if !ok {
		t.Fatalf("backfill service %v writes to standard output, not into a volume", args)
	}
	outVol, outMount := volumeAt(bf, path.Dir(out))
	if outVol == "" || strings.HasPrefix(outVol, ".") || strings.HasPrefix(outVol, "/") {
		t.Fatalf("backfill writes %s outside a named volume", out)
	}

	// backfill-blocks reads that file through the same volume and writes the
	// blocks where Prometheus keeps its data, in blocks larger than 2 hours.
	script := strings.Join(strs(get(blocks, "command")), " ")
	if ep := strs(get(blocks, "entrypoint")); len(ep) > 0 {
		script = strings.Join(append(ep, script), " ")
	}
	fields := strings.Fields(script)
	i := slices.Index(fields, "create-blocks-from")
	if i < 2 || fields[i-2] != "promtool" || fields[i-1] != "tsdb" || i+1 >= len(fields) || fields[i+1] != "openmetrics" {
		t.Fatalf("backfill-blocks runs %q, want promtool tsdb create-blocks-from openmetrics", script)
	}
	var pos []string
	for _, f := range fields[i+2:] {
		if f == "&&" || f == ";" {
			break
		}
		if !strings.HasPrefix(f, "-") {
			pos = append(pos, f)
		}
	}
	if len(pos) != 2 {
		t.Fatalf("promtool arguments %v: want the input file and the output directory", pos)
	}
	inMount := mountOf(blocks, outVol)
	if inMount == "" || pos[0] != path.Join(inMount, strings.TrimPrefix(out, outMount)) {
		t.Errorf("promtool reads %s; backfill writes %s into volume %s, which backfill-blocks mounts at %q", pos[0], out, outVol, inMount)
	}
	mbd, ok := flagValue(fields[i:], "max-block-duration")
	if d, err := flywheel.ParseDuration(mbd); !ok || err != nil || d < 7*flywheel.Day {
		t.Errorf("promtool --max-block-duration %q: want at least 7 days: promtool rounds it down to 2h times a power of 3, so 24h still makes a block per daily point", mbd)
	}
	promArgs := strs(get(prom, "command"))
	data, _ := flagValue(promArgs, "storage.tsdb.path")
	dataVol, _ := volumeAt(prom, data)
	if dataVol == "" || mountOf(blocks, dataVol) != pos[1] {
		t.Errorf("promtool writes to %s, Prometheus keeps its data in %s (volume %q, which backfill-blocks mounts at %q)", pos[1], data, dataVol, mountOf(blocks, dataVol))
	}

	// Order: backfill, then the blocks, then Prometheus.
	for _, dep := range []struct{ svc, on string }{{"backfill-blocks", "backfill"}, {"prometheus", "backfill-blocks"}} {
		if c := get(doc, "services", dep.svc, "depends_on", dep.on, "condition"); c != "service_completed_successfully" {
			t.Errorf("%s depends on %s with condition %v, want service_completed_successfully", dep.svc, dep.on, c)
		}
	}
	// The default retention of 15 days would delete most of the history.
	ret, _ := flagValue(promArgs, "storage.tsdb.retention.time")
	if d, err := flywheel.ParseDuration(ret); err != nil || d < 365*flywheel.Day {
		t.Errorf("Prometheus --storage.tsdb.retention.time %q: want at least a year, the backfilled history", ret)
	}
}
