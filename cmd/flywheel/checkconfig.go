package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/flywheel-metrics/flywheel/config"
)

// onlineTimeout bounds the online check of one source.
const onlineTimeout = time.Minute

func (a *app) checkConfigCommand(k *kingpin.Application) command {
	c := k.Command("check-config", "Validate the configuration file (--config.file) and print every problem with its path, then check the secrets it names: token files, environment variables, the GitHub App's private key. With --online, also ask each configured source what its credentials may read.")
	noSecrets := c.Flag("no-secrets", "Check the file only, not the secrets it names: for a configuration checked away from where it runs (deploy/kubernetes' on a laptop, where /run/secrets does not exist).").Bool()
	online := c.Flag("online", "Also make a few cheap requests to each configured source and report, per thing Flywheel reads, whether the credentials may read it and which scope or permission to grant if not. Reads the secrets; never prints them.").Bool()
	return command{name: c.FullCommand(), run: func() int {
		if *online && *noSecrets {
			fmt.Fprintln(a.stderr, "flywheel check-config: --online needs the secrets; it cannot be combined with --no-secrets")
			return 2
		}
		return a.runCheckConfig(*noSecrets, *online, os.Getenv)
	}}
}

// runCheckConfig prints the problems of the configuration to stdout, one per
// line, and returns the exit code: 0 when there is none, 1 otherwise.
func (a *app) runCheckConfig(noSecrets, online bool, getenv func(string) string) int {
	if a.flags.configFile == "" {
		fmt.Fprintln(a.stderr, "check-config: no --config.file given; the defaults are always valid")
	}
	cfg, err := config.Load(a.flags.configFile)
	if err != nil {
		printProblems(a.stdout, err)
		return 1
	}
	if !noSecrets {
		if err := cfg.CheckSecrets(getenv); err != nil {
			printProblems(a.stdout, err)
			fmt.Fprintln(a.stderr, "check-config: the secrets above were looked for on this machine; to check the file alone where they do not exist (a Kubernetes Secret checked on a laptop), add --no-secrets")
			return 1
		}
	}
	switch {
	case noSecrets:
		fmt.Fprintln(a.stdout, "config OK (secrets not checked: --no-secrets)")
	default:
		fmt.Fprintln(a.stdout, "config OK")
	}
	if !online {
		return 0
	}
	if cfg.GitHub == nil && cfg.PagerDuty == nil {
		fmt.Fprintln(a.stdout, "no source configured: nothing to check online")
		return 0
	}
	var reports []accessReport
	if cfg.GitHub != nil {
		ctx, cancel := context.WithTimeout(context.Background(), onlineTimeout)
		reports = append(reports, checkGitHubAccess(ctx, cfg, getenv))
		cancel()
	}
	if cfg.PagerDuty != nil {
		ctx, cancel := context.WithTimeout(context.Background(), onlineTimeout)
		reports = append(reports, checkPagerDutyAccess(ctx, cfg, getenv))
		cancel()
	}
	missing := 0
	for _, r := range reports {
		r.write(a.stdout)
		missing += r.missing()
	}
	if missing > 0 {
		fmt.Fprintf(a.stdout, "access: %d missing\n", missing)
		return 1
	}
	fmt.Fprintln(a.stdout, "access OK")
	return 0
}

// printProblems writes a config error one problem per line.
func printProblems(w io.Writer, err error) {
	var cerr *config.Errors
	if errors.As(err, &cerr) {
		for _, p := range cerr.Problems {
			fmt.Fprintln(w, p.String())
		}
		return
	}
	fmt.Fprintln(w, err)
}

// accessReport is what the online check of one source found: a heading that
// says what was checked with what kind of credential, one line per thing the
// source reads, and the number of requests made.
type accessReport struct {
	source   string // "github"
	about    string // the API and the credential's kind
	lines    []accessLine
	requests int
}

// The states of an accessLine.
const (
	accessOK      = "ok"
	accessMissing = "missing"
	accessSkipped = "skipped" // not checked: something it depends on is missing
	accessNote    = "note"
)

type accessLine struct {
	state, what, detail string
}

func (r *accessReport) add(state, what, detail string, args ...any) {
	if len(args) > 0 {
		detail = fmt.Sprintf(detail, args...)
	}
	r.lines = append(r.lines, accessLine{state: state, what: what, detail: detail})
}

func (r accessReport) missing() int {
	n := 0
	for _, l := range r.lines {
		if l.state == accessMissing {
			n++
		}
	}
	return n
}

func (r accessReport) write(w io.Writer) {
	fmt.Fprintf(w, "%s: %s\n", r.source, r.about)
	for _, l := range r.lines {
		s := fmt.Sprintf("  %-8s %s", l.state, l.what)
		if l.detail != "" {
			s += ": " + l.detail
		}
		fmt.Fprintln(w, s)
	}
	fmt.Fprintf(w, "  %s to %s\n", plural(r.requests, "request", "requests"), r.source)
}

// plural is "1 request", "2 requests".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// joinOr joins alternatives: "a", "a or b", "a, b or c".
func joinOr(s []string) string {
	if len(s) <= 1 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}
