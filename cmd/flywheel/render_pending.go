//go:build !flywheel_render

package main

import (
	"fmt"
	"io"

	"github.com/flywheel-metrics/flywheel/metrics/kpi"
)

func renderReport(w io.Writer, rep kpi.Report, format string, width int) error {
	return fmt.Errorf("report: format %s is not available yet; use --format json", format)
}
