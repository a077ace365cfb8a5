package metrics

import (
	"fmt"
	"strings"
)

// Disabled says which groups of series the exposition leaves out. Each group is
// a dimension that multiplies the series of every service, so turning it off
// keeps a large organisation's series count down; the zero value leaves out
// nothing.
type Disabled struct {
	byUrgency, stages, histograms bool
}

// disableGroups are the groups a user may turn off, in the order the docs list
// them; what says which series go.
var disableGroups = []struct {
	name, what string
	set        func(*Disabled)
}{
	{"by_urgency", "the incident series of each urgency (`flywheel_incident_time_to_*_seconds`, `flywheel_incidents_in_window`, `flywheel_incidents`, `flywheel_open_incidents`): only `urgency=\"all\"` stays",
		func(d *Disabled) { d.byUrgency = true }},
	{"stages", "`flywheel_lead_time_stage_seconds`, the four stages of lead time",
		func(d *Disabled) { d.stages = true }},
	{"histograms", "`flywheel_lead_time_distribution_seconds` and `flywheel_incident_time_to_resolve_distribution_seconds`",
		func(d *Disabled) { d.histograms = true }},
}

// DisableGroups returns the names ParseDisabled accepts.
func DisableGroups() []string {
	names := make([]string, len(disableGroups))
	for i, g := range disableGroups {
		names[i] = g.name
	}
	return names
}

// ParseDisabled reads group names, each possibly a comma-separated list (as a
// flag given once or several times holds them). An unknown name is an error
// that lists the valid ones.
func ParseDisabled(names []string) (Disabled, error) {
	var d Disabled
	for _, arg := range names {
		for name := range strings.SplitSeq(arg, ",") {
			name = strings.TrimSpace(name)
			if name == "" {
				continue
			}
			found := false
			for _, g := range disableGroups {
				if g.name == name {
					g.set(&d)
					found = true
				}
			}
			if !found {
				return Disabled{}, fmt.Errorf("unknown metric group %q (valid: %s)", name, strings.Join(DisableGroups(), ", "))
			}
		}
	}
	return d, nil
}

// String lists the disabled groups, comma-separated ("" for none).
func (d Disabled) String() string {
	var on []string
	for _, g := range disableGroups {
		var one Disabled
		g.set(&one)
		if (one.byUrgency && d.byUrgency) || (one.stages && d.stages) || (one.histograms && d.histograms) {
			on = append(on, g.name)
		}
	}
	return strings.Join(on, ",")
}

// leaves reports whether the exposition leaves family f out entirely.
func (d Disabled) leaves(f family) bool {
	switch f {
	case famLeadTimeStage:
		return d.stages
	case famLeadTimeDistribution, famTimeToResolveDistribution:
		return d.histograms
	}
	return false
}
