package main

import (
	"strings"

	"github.com/alecthomas/kingpin/v2"

	"github.com/flywheel-metrics/flywheel/metrics"
)

// disabledFlag is --metrics.disable: groups of series left out of /metrics and
// of backfill output, given once as a comma-separated list or repeated. A name
// that is no group fails the command line, listing the valid ones.
type disabledFlag struct {
	names    []string
	disabled metrics.Disabled
}

func (f *disabledFlag) Set(s string) error {
	d, err := metrics.ParseDisabled(append(f.names, s))
	if err != nil {
		return err
	}
	f.names = append(f.names, s)
	f.disabled = d
	return nil
}

func (f *disabledFlag) String() string { return f.disabled.String() }

// IsCumulative lets the flag be repeated.
func (f *disabledFlag) IsCumulative() bool { return true }

// addMetricsDisableFlag registers --metrics.disable on a command.
func addMetricsDisableFlag(c *kingpin.CmdClause) *disabledFlag {
	f := &disabledFlag{}
	c.Flag("metrics.disable", "Leave out groups of series to cut the series count, comma-separated or repeated: "+
		strings.Join(metrics.DisableGroups(), ", ")+" (see docs/metrics.md).").PlaceHolder("GROUP,...").SetValue(f)
	return f
}
