package main

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-metrics/flywheel"
	"github.com/flywheel-metrics/flywheel/metrics/kpi"
)

func TestDemoConfigPath(t *testing.T) {
	t.Parallel()
	for store, want := range map[string]string{
		"kept.db":             "kept.demo.yml",
		"kept":                "kept.demo.yml",
		"/var/lib/fw/demo.db": "/var/lib/fw/demo.demo.yml",
		"dir.v2/kept":         "dir.v2/kept.demo.yml",
		"flywheel.db":         "flywheel.demo.yml", // never a user's flywheel.yml
	} {
		if got := demoConfigPath(store); got != want {
			t.Errorf("demoConfigPath(%q) = %q, want %q", store, got, want)
		}
	}
}

// TestShellQuote: what the demo prints as a command reads back, through a
// real shell, as the path it quoted.
func TestShellQuote(t *testing.T) {
	t.Parallel()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	for _, s := range []string{"kept.demo.yml", "/tmp/a b/kept.demo.yml", "it's.yml", `a"$HOME;*.yml`, "ü.yml", ""} {
		out, err := exec.Command(sh, "-c", "printf %s "+shellQuote(s)).Output()
		if err != nil || string(out) != s {
			t.Errorf("shellQuote(%q) = %s, reads back as %q (%v)", s, shellQuote(s), out, err)
		}
	}
	if shellQuote("kept.demo.yml") != "kept.demo.yml" {
		t.Errorf("a plain path is quoted: %s", shellQuote("kept.demo.yml"))
	}
}

// TestDemoHeadline: six services deploying twice a week each ship 1.8 a day
// together; the summary calls the group high, by its services, and gives the
// sum as throughput, never elite.
func TestDemoHeadline(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
	build := func(perService []int, before int) kpi.WindowReport {
		var ev flywheel.Events
		for i, n := range perService {
			for j := range n {
				ev.Deployments = append(ev.Deployments, flywheel.Deployment{ID: fmt.Sprintf("s%d-%d", i, j), Service: fmt.Sprintf("svc-%d", i),
					Repo: fmt.Sprintf("acme/svc-%d", i), Environment: "production", SHA: fmt.Sprintf("sha%d-%d", i, j), Status: flywheel.StatusSuccess,
					FinishedAt: at.Add(-time.Duration(j*(29*24/n)+1) * time.Hour)})
			}
		}
		for i := range before { // deployed only before the window: frequency 0
			ev.Deployments = append(ev.Deployments, flywheel.Deployment{ID: fmt.Sprintf("old-%d", i), Service: fmt.Sprintf("old-%d", i),
				Environment: "production", SHA: "old", Status: flywheel.StatusSuccess, FinishedAt: at.Add(-40 * flywheel.Day)})
		}
		return kpi.Compute(ev, at, kpi.DefaultOptions()).Report.Windows["30d"]
	}
	for _, c := range []struct {
		name        string
		perService  []int
		before      int
		want, never string
	}{
		{"six services twice a week", []int{9, 9, 9, 9, 9, 9}, 0,
			"deployment frequency: high (6 of 6 services deploy at least weekly); throughput 1.80 deployments/day across all services", "frequency: elite"},
		{"four of six weekly", []int{40, 40, 6, 6, 2, 1}, 0,
			"deployment frequency: high (4 of 6 services deploy at least weekly); throughput 3.17 deployments/day across all services", "frequency: elite"},
		{"most services idle", []int{60}, 2,
			"deployment frequency: low (1 of 3 services deploy at least monthly); throughput 2.00 deployments/day across all services", "frequency: elite"},
	} {
		got := demoHeadline(build(c.perService, c.before), kpi.DefaultOptions().Thresholds)
		if !strings.Contains(got, c.want) || strings.Contains(got, c.never) {
			t.Errorf("%s: headline\n%s\nwant it to hold %q and never %q", c.name, got, c.want, c.never)
		}
	}
}
