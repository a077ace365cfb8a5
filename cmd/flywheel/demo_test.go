package main

import (
	"os/exec"
	"testing"
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
