package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/alecthomas/kingpin/v2"
)

// defaultListenAddress is serve's: every interface, as exporters listen, on
// Flywheel's port (9891 was free in the Prometheus default port allocations
// list at the time of writing).
const defaultListenAddress = ":9891"

// defaultDemoListenAddress is the demo's: this machine only, since a demo is
// tried on a laptop; a container passes --web.listen-address=:9891.
const defaultDemoListenAddress = "127.0.0.1:9891"

// globalFlags are the flags every command shares.
type globalFlags struct {
	configFile  string
	storagePath string
	logLevel    string
	logFormat   string
}

// app is one invocation of the binary: its flags, input and output streams
// and logger.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	flags          globalFlags
	log            *slog.Logger
	// dashArg records a lone "-" among the arguments (see fileArg).
	dashArg bool
	// build is what the binary knows of its build (--version).
	build buildInfo
}

// Main parses args, runs the chosen command and returns the process exit code.
// It is main without os.Exit, so that tests can run the whole program.
func Main(args []string, stdout, stderr io.Writer) int {
	return runMain(args, os.Stdin, stdout, stderr)
}

// runMain is Main reading standard input from stdin, for tests.
func runMain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, dashArg: slices.Contains(args, "-"), build: readBuildInfo()}
	k := kingpin.New("flywheel", "Flywheel measures delivery speed and stability (DORA) and the split between innovation and tune-ups, from GitHub and PagerDuty, as Prometheus metrics.")
	k.UsageWriter(stderr)
	k.ErrorWriter(stderr)
	k.HelpFlag.Short('h')
	// as kingpin's Version, but on standard output, where `flywheel --version |
	// head -1` and scripts look (kingpin writes it with the usage, to stderr);
	// it exits as --help does
	k.Flag("version", "Show the version, revision and build date, then exit.").PreAction(func(*kingpin.ParseContext) error {
		fmt.Fprintln(stdout, a.build)
		os.Exit(0)
		return nil
	}).Bool()
	k.Flag("config.file", "Flywheel configuration file (YAML). Without it, every setting has its default and no source is configured.").StringVar(&a.flags.configFile)
	k.Flag("storage.path", "Path of the bbolt event store; overrides storage.path of the config file.").StringVar(&a.flags.storagePath)
	k.Flag("log.level", "Only log messages with the given severity or above. One of: [debug, info, warn, error]").Default("info").EnumVar(&a.flags.logLevel, "debug", "info", "warn", "error")
	k.Flag("log.format", "Output format of log messages. One of: [logfmt, json]").Default("logfmt").EnumVar(&a.flags.logFormat, "logfmt", "json")

	commands := map[string]func() int{}
	for _, c := range a.commands(k) {
		commands[c.name] = c.run
	}
	cmd, err := k.Parse(args)
	if err != nil {
		fmt.Fprintf(stderr, "flywheel: %v (see flywheel --help)\n", err)
		return 2
	}
	a.log = newLogger(stderr, a.flags.logLevel, a.flags.logFormat)
	run, ok := commands[cmd]
	if !ok {
		fmt.Fprintf(stderr, "flywheel: choose a command (see flywheel --help)\n")
		return 2
	}
	return run()
}

// fileArg undoes a quirk of kingpin, which parses a lone "-" argument as an
// empty one: without it `import -` tried to open "". An empty file argument
// when the command line holds a "-" is that "-".
func (a *app) fileArg(s string) string {
	if s == "" && a.dashArg {
		return "-"
	}
	return s
}

// command is one sub-command: its name and what runs it.
type command struct {
	name string
	run  func() int
}

// newLogger builds the slog logger of --log.level and --log.format; logfmt is
// slog's TextHandler.
func newLogger(w io.Writer, level, format string) *slog.Logger {
	var l slog.Level
	switch strings.ToLower(level) {
	case "debug":
		l = slog.LevelDebug
	case "warn":
		l = slog.LevelWarn
	case "error":
		l = slog.LevelError
	default:
		l = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: l}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
