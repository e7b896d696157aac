package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	appserver "app-server"
	"app-server/schema"
	"app-server/termclient"
)

// Exit codes of run.
const (
	exitOK    = 0
	exitError = 1 // the command failed (bad config, output failed, ...)
	exitUsage = 2 // unknown subcommand, bad flag or argument
)

// options holds the parsed flags.
type options struct {
	home      string   // --home; "" means $APP_SERVER_HOME, else ~/.app-server
	config    string   // --config; "" means <home>/config.toml
	overrides []string // -c key=value, in order
	logFormat string   // --log-format: text | json
	logLevel  string   // --log-level: debug | info | warn | error
	out       string   // --out (generate-json-schema, generate-ts)
}

// A command is one subcommand.
type command struct {
	name, args, summary string
	// hasOut says the command takes --out DIR (required).
	hasOut bool
	run    func(ctx context.Context, inv *invocation) error
}

// invocation is what a command runs with.
type invocation struct {
	opts           *options
	stdin          io.Reader
	stdout, stderr io.Writer
	log            *slog.Logger
}

var commands = []*command{
	{name: "serve", summary: "serve the protocol on stdin/stdout (the default)", run: runServe},
	{name: "generate-json-schema", args: "--out DIR", summary: "write the protocol's JSON Schema files", hasOut: true, run: runGenerateJSONSchema},
	{name: "generate-ts", args: "--out DIR", summary: "write the protocol's TypeScript files", hasOut: true, run: runGenerateTS},
	{name: "version", summary: "print the version", run: runVersion},
	// client is dispatched by run before parseArgs (it has its own flags).
	{name: "client", args: "[flags]", summary: "interactive terminal client (see client --help)"},
	{name: "help", summary: "print this help"}, // handled by parseArgs
}

var (
	logFormats = []string{"text", "json"}
	logLevels  = map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}
)

// usageError is a command line mistake: run prints it with the usage and
// exits 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// run runs the command line args (without the program name) and returns the
// exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if cargs, ok := clientArgs(args); ok {
		return termclient.Main(ctx, cargs, stdin, stdout, stderr)
	}
	cmd, opts, err := parseArgs(args)
	if errors.Is(err, flag.ErrHelp) {
		printUsage(stdout)
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "app-server: %v\n\n", err)
		printUsage(stderr)
		return exitUsage
	}
	inv := &invocation{opts: opts, stdin: stdin, stdout: stdout, stderr: stderr, log: newLogger(stderr, opts)}
	if err := cmd.run(ctx, inv); err != nil {
		fmt.Fprintf(stderr, "app-server %s: %v\n", cmd.name, err)
		return exitError
	}
	return exitOK
}

// clientArgs reports whether args run the client subcommand and returns
// its arguments: the global flags given before "client", then the rest.
func clientArgs(args []string) ([]string, bool) {
	fs := newFlagSet(&options{}, nil)
	if fs.Parse(args) != nil || fs.NArg() == 0 || fs.Arg(0) != "client" {
		return nil, false
	}
	rest := fs.Args()
	return append(slices.Clone(args[:len(args)-len(rest)]), rest[1:]...), true
}

// parseArgs parses "[flags] [subcommand [flags]]". The global flags are
// accepted before and after the subcommand.
func parseArgs(args []string) (*command, *options, error) {
	opts := &options{logFormat: "text", logLevel: "info"}
	fs := newFlagSet(opts, nil)
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	name, rest := "serve", fs.Args()
	if len(rest) > 0 {
		name, rest = rest[0], rest[1:]
	}
	i := slices.IndexFunc(commands, func(c *command) bool { return c.name == name })
	if i < 0 {
		return nil, nil, usagef("unknown subcommand %q", name)
	}
	cmd := commands[i]
	if cmd.name == "help" {
		return nil, nil, flag.ErrHelp
	}
	fs = newFlagSet(opts, cmd)
	if err := fs.Parse(rest); err != nil {
		return nil, nil, err
	}
	if fs.NArg() > 0 {
		return nil, nil, usagef("%s: unexpected argument %q", cmd.name, fs.Arg(0))
	}
	if cmd.hasOut && opts.out == "" {
		return nil, nil, usagef("%s: --out DIR is required", cmd.name)
	}
	return cmd, opts, nil
}

// newFlagSet returns a flag set of the global flags and, if cmd is not nil,
// cmd's own flags, writing into opts. It reports errors instead of printing.
func newFlagSet(opts *options, cmd *command) *flag.FlagSet {
	fs := flag.NewFlagSet("app-server", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.StringVar(&opts.home, "home", opts.home, "")
	fs.StringVar(&opts.config, "config", opts.config, "")
	fs.Func("c", "", func(s string) error {
		if !strings.Contains(s, "=") {
			return errors.New("want key=value")
		}
		opts.overrides = append(opts.overrides, s)
		return nil
	})
	fs.Func("log-format", "", func(s string) error {
		if !slices.Contains(logFormats, s) {
			return fmt.Errorf("want %s", strings.Join(logFormats, " or "))
		}
		opts.logFormat = s
		return nil
	})
	fs.Func("log-level", "", func(s string) error {
		if _, ok := logLevels[s]; !ok {
			return errors.New("want debug, info, warn or error")
		}
		opts.logLevel = s
		return nil
	})
	if cmd != nil && cmd.hasOut {
		fs.StringVar(&opts.out, "out", opts.out, "")
	}
	return fs
}

func printUsage(w io.Writer) {
	var b strings.Builder
	b.WriteString(`app-server serves the Codex app-server protocol (JSON-RPC over JSONL) on
stdin/stdout for IDE extensions. Logs go to stderr.

Usage:
  app-server [flags] [subcommand [flags]]

Subcommands:
`)
	tw := tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
	for _, c := range commands {
		fmt.Fprintf(tw, "  %s %s\t%s\n", c.name, c.args, c.summary)
	}
	tw.Flush()
	b.WriteString(`
Flags:
`)
	tw = tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
	for _, f := range [][2]string{
		{"--home DIR", "home directory (default $APP_SERVER_HOME, else ~/.app-server; created 0700)"},
		{"--config FILE", "config file (default <home>/config.toml; may be missing)"},
		{"-c key=value", "override a config key, repeatable (value parsed as TOML, else a string)"},
		{"--log-format FORMAT", "text | json (default text)"},
		{"--log-level LEVEL", "debug | info | warn | error (default info)"},
		{"--out DIR", "output directory of generate-json-schema and generate-ts"},
		{"-h, --help", "print this help"},
	} {
		fmt.Fprintf(tw, "  %s\t%s\n", f[0], f[1])
	}
	tw.Flush()
	b.WriteString(`
Config keys (config.toml; dotted for -c, e.g. -c network.mode=limited):
`)
	tw = tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
	for _, k := range configKeys {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", k.key, k.def, k.doc)
	}
	tw.Flush()
	io.WriteString(w, b.String())
}

// newLogger returns the slog logger the flags ask for, writing to w (stderr).
func newLogger(w io.Writer, opts *options) *slog.Logger {
	ho := &slog.HandlerOptions{Level: logLevels[opts.logLevel]}
	if opts.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, ho))
	}
	return slog.New(slog.NewTextHandler(w, ho))
}

// resolveHome returns the absolute home directory, creating it (0700) if
// it does not exist.
func resolveHome(flagValue string) (string, error) {
	home := flagValue
	if home == "" {
		home = os.Getenv("APP_SERVER_HOME")
	}
	if home == "" {
		userHome, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("home directory: %w (set --home or APP_SERVER_HOME)", err)
		}
		home = filepath.Join(userHome, ".app-server")
	}
	home, err := filepath.Abs(home)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(home, 0o700); err != nil {
		return "", fmt.Errorf("home directory: %w", err)
	}
	return home, nil
}

func runServe(ctx context.Context, inv *invocation) error {
	home, err := resolveHome(inv.opts.home)
	if err != nil {
		return err
	}
	path, explicit := inv.opts.config, inv.opts.config != ""
	if !explicit {
		path = filepath.Join(home, "config.toml")
	}
	cfg, err := loadConfig(path, explicit, inv.opts.overrides)
	if err != nil {
		return err
	}
	ver := buildVersion()
	inv.log.Info("serving on stdio", "version", ver, "home", home, "pid", os.Getpid())
	err = serve(ctx, &serveEnv{
		Config:  cfg,
		Home:    home,
		Logger:  inv.log,
		Version: ver,
		Stdin:   inv.stdin,
		Stdout:  inv.stdout,
	})
	if err != nil {
		inv.log.Error("serve failed", "err", err)
		return err
	}
	inv.log.Info("stopped", "reason", stopReason(ctx))
	return nil
}

func stopReason(ctx context.Context) string {
	if ctx.Err() != nil {
		return "signal"
	}
	return "end of input"
}

func runGenerateJSONSchema(_ context.Context, inv *invocation) error {
	return schema.WriteDir(appserver.JSONFiles(), inv.opts.out)
}

func runGenerateTS(_ context.Context, inv *invocation) error {
	return schema.WriteDir(appserver.TypeScriptFiles(), inv.opts.out)
}

func runVersion(_ context.Context, inv *invocation) error {
	_, err := fmt.Fprintf(inv.stdout, "app-server %s\n", buildVersion())
	return err
}
