package kpi

import (
	"bytes"
	"slices"
	"testing"

	"github.com/flywheel-metrics/flywheel"
)

// only keeps the events of services.
func only(ev flywheel.Events, services []string) flywheel.Events {
	var out flywheel.Events
	for _, d := range ev.Deployments {
		if slices.Contains(services, d.Service) {
			out.Deployments = append(out.Deployments, d)
		}
	}
	for _, c := range ev.Changes {
		if slices.Contains(services, c.Service) {
			out.Changes = append(out.Changes, c)
		}
	}
	for _, x := range ev.Incidents {
		if slices.Contains(services, x.Service) {
			out.Incidents = append(out.Incidents, x)
		}
	}
	return out
}

// TestComputeGroupsPoolsOnlyTheGroup: a group's KPIs are those of all
// services computed over only the group's events, but for the deployment
// frequency's level, which is GroupLevel of its services' levels.
func TestComputeGroupsPoolsOnlyTheGroup(t *testing.T) {
	t.Parallel()
	ev := genEvents(genSize{services: 5, changes: 1500, deployments: 400, incidents: 100}, 7, at)
	o := DefaultOptions()
	in := NewInput(o)
	in.Add(ev)
	full := in.Compute(at)
	cases := []struct {
		name   string
		groups map[string][]string
	}{
		{"two teams", map[string][]string{"pay": {"svc-001", "svc-002"}, "web": {"svc-003"}}},
		{"overlapping", map[string][]string{"a": {"svc-001", "svc-004"}, "b": {"svc-004", "svc-005"}, "c": {"svc-001"}}},
		{"every service", map[string][]string{"all": {"svc-001", "svc-002", "svc-003", "svc-004", "svc-005"}}},
		{"unknown service", map[string][]string{"ghost": {"svc-404"}, "half": {"svc-404", "svc-002"}}},
	}
	for _, c := range cases {
		for _, w := range o.Windows {
			got := in.ComputeGroups(at, w, c.groups)
			for name, svcs := range c.groups {
				want := Compute(only(ev, svcs), at, o).Report.Windows[w.Name].All
				g := got[name]
				if want == nil {
					if g != nil {
						t.Errorf("%s %s %s: %s, want none", c.name, w.Name, name, mustJSON(t, g))
					}
					continue
				}
				if g == nil {
					t.Fatalf("%s %s %s: no KPIs", c.name, w.Name, name)
				}
				var levels []Level
				for _, s := range svcs {
					if k := full.Report.Windows[w.Name].Services[s]; k != nil && k.DORALevel != nil && k.DORALevel.DeploymentFrequency != "" {
						levels = append(levels, k.DORALevel.DeploymentFrequency)
					}
				}
				if g.DORALevel == nil || g.DORALevel.DeploymentFrequency != GroupLevel(levels) {
					t.Errorf("%s %s %s: frequency level %+v, want %q", c.name, w.Name, name, g.DORALevel, GroupLevel(levels))
				}
				if g.DORALevel != nil && want.DORALevel != nil {
					gl, wl := *g.DORALevel, *want.DORALevel
					gl.DeploymentFrequency, wl.DeploymentFrequency = "", ""
					gc, wc := *g, *want
					gc.DORALevel, wc.DORALevel = &gl, &wl
					g, want = &gc, &wc
				}
				if a, b := mustJSON(t, g), mustJSON(t, want); !bytes.Equal(a, b) {
					t.Errorf("%s %s %s:\n got %s\nwant %s", c.name, w.Name, name, a, b)
				}
			}
			for name := range got {
				if _, ok := c.groups[name]; !ok {
					t.Errorf("%s: unexpected group %q", c.name, name)
				}
			}
		}
	}
	// the Input is unchanged: Compute again gives the same report
	if a, b := mustJSON(t, in.Compute(at).Report), mustJSON(t, full.Report); !bytes.Equal(a, b) {
		t.Error("ComputeGroups changed the Input")
	}
}
