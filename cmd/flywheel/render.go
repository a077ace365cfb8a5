package main

import (
	"io"

	"github.com/flywheel-metrics/flywheel/metrics/kpi"
	"github.com/flywheel-metrics/flywheel/metrics/report"
)

// renderReport writes a report as a table or as Markdown.
func renderReport(w io.Writer, rep kpi.Report, format string, width int) error {
	if format == "markdown" {
		return report.WriteMarkdown(w, rep)
	}
	return report.WriteTable(w, rep, width)
}
