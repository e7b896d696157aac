package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	appserver "app-server"
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
	home      string        // --home; "" means $APP_SERVER_HOME, else ~/.app-server
	config    string        // --config; "" means <home>/config.toml
	overrides []string      // -c key=value, in order
	logFormat string        // --log-format: text | json
	logLevel  string        // --log-level: debug | info | warn | error
	out       string        // --out (generate-json-schema, generate-ts)
	version   bool          // --version: run the version subcommand
	listen    listenOptions // --listen and the --ws-* flags (serve, app-server)
}

// A command is one subcommand.
type command struct {
	name, args, summary string
	// doc is the paragraph "app-server help NAME" adds to the summary.
	doc string
	// hasOut says the command takes --out DIR (required).
	hasOut bool
	// serves says the command takes --listen and the --ws-* flags.
	serves bool
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
	{name: "serve", summary: "serve the protocol on stdin/stdout (the default)", run: runServe, serves: true,
		doc: `Reads JSON-RPC messages (one per line) on stdin and writes the protocol
on stdout, logs on stderr. Exits 0 at the end of input or on SIGINT or
SIGTERM (within 2 s); 1 when the config is bad or output fails.
` + listenDoc},
	{name: "app-server", args: "[--listen URL]", summary: "serve, as codex app-server does (for SDKs that spawn it)", run: runServe, serves: true,
		doc: `The same as serve, so that clients which spawn "codex app-server
--listen stdio://" can spawn this binary. Flags that only Codex has are
refused by name.
` + listenDoc},
	{name: "generate-json-schema", args: "--out DIR", summary: "write the protocol's JSON Schema files", hasOut: true, run: runGenerateJSONSchema,
		doc: `Writes the JSON Schema files of the protocol (the golden files in
testdata/schema/json) into DIR, creating it, and says how many.`},
	{name: "generate-ts", args: "--out DIR", summary: "write the protocol's TypeScript files", hasOut: true, run: runGenerateTS,
		doc: `Writes the TypeScript types of the protocol (the golden files in
testdata/schema/typescript) into DIR, creating it, and says how many.`},
	{name: "version", summary: "print the version (also --version)", run: runVersion,
		doc: `Prints "app-server VERSION": the -X main.version of the build (make build:
git describe), else the module version Go recorded (go install from a
tagged checkout: the tag), else "dev".`},
	// client is dispatched by run before parseArgs (it has its own flags).
	{name: "client", args: "[flags]", summary: "interactive terminal client (see client --help)"},
	// sandbox is dispatched by run before parseArgs (it takes a command).
	{name: "sandbox", args: "check | [--mode M] [--network on|off] -- CMD...", summary: "print what the OS sandbox enforces here, or run CMD under it", doc: sandboxUsage},
	{name: "help", args: "[SUBCOMMAND]", summary: "print this help, or a subcommand's"}, // handled by parseArgs
}

// helpRequest is parseArgs's answer to -h, --help and "help [SUBCOMMAND]":
// the usage of cmd, or the overall usage when cmd is nil. byName marks
// "help SUBCOMMAND", which run answers as "SUBCOMMAND --help" so that both
// print the same (client and sandbox parse their own flags).
type helpRequest struct {
	cmd    *command
	byName bool
}

func (*helpRequest) Error() string { return "help requested" }

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
		return termclient.Main(ctx, buildVersion(), cargs, stdin, stdout, stderr)
	}
	if global, sargs, ok := sandboxArgs(args); ok {
		return runSandbox(ctx, global, sargs, stdin, stdout, stderr)
	}
	cmd, opts, err := parseArgs(args)
	if help := (*helpRequest)(nil); errors.As(err, &help) {
		switch {
		case help.cmd == nil:
			printUsage(stdout)
		case help.byName:
			return run(ctx, []string{help.cmd.name, "--help"}, stdin, stdout, stderr)
		default:
			printCommandUsage(stdout, help.cmd)
		}
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
		if errors.Is(err, flag.ErrHelp) {
			return nil, nil, &helpRequest{}
		}
		return nil, nil, err
	}
	name, rest := "serve", fs.Args()
	if len(rest) > 0 {
		name, rest = rest[0], rest[1:]
	}
	cmd, err := lookupCommand(name)
	if err != nil {
		return nil, nil, err
	}
	if cmd.name == "help" {
		if len(rest) == 0 {
			return nil, nil, &helpRequest{}
		}
		if len(rest) > 1 {
			return nil, nil, usagef("help: want one subcommand, got %q", rest)
		}
		sub, err := lookupCommand(rest[0])
		if err != nil {
			return nil, nil, err
		}
		if sub.name == "help" {
			sub = nil
		}
		return nil, nil, &helpRequest{cmd: sub, byName: sub != nil}
	}
	fs = newFlagSet(opts, cmd)
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, nil, &helpRequest{cmd: cmd}
		}
		return nil, nil, err
	}
	if opts.version {
		cmd, _ = lookupCommand("version")
	}
	if !cmd.serves && opts.listen != (listenOptions{}) {
		return nil, nil, usagef("%s: --listen and the --ws-* flags are for serve and app-server", cmd.name)
	}
	if fs.NArg() > 0 {
		return nil, nil, usagef("%s: unexpected argument %q", cmd.name, fs.Arg(0))
	}
	if cmd.hasOut && opts.out == "" {
		return nil, nil, usagef("%s: --out DIR is required", cmd.name)
	}
	return cmd, opts, nil
}

// lookupCommand returns the subcommand called name.
func lookupCommand(name string) (*command, error) {
	i := slices.IndexFunc(commands, func(c *command) bool { return c.name == name })
	if i < 0 {
		return nil, usagef("unknown subcommand %q", name)
	}
	return commands[i], nil
}

// newFlagSet returns a flag set of the global flags and, if cmd is not nil,
// cmd's own flags, writing into opts. It reports errors instead of printing.
func newFlagSet(opts *options, cmd *command) *flag.FlagSet {
	fs := flag.NewFlagSet("app-server", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.StringVar(&opts.home, "home", opts.home, "")
	fs.StringVar(&opts.config, "config", opts.config, "")
	fs.BoolVar(&opts.version, "version", opts.version, "")
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
	if cmd == nil || cmd.serves { // before the subcommand: serve is the default
		opts.listen.addFlags(fs)
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
	writeFlags(&b, globalFlags, outFlag, [2]string{"--version", "print the version"}, [2]string{"-h, --help", "print this help; help SUBCOMMAND or SUBCOMMAND --help: its help"})
	b.WriteString(`
Config keys (config.toml; dotted for -c, e.g. -c network.mode=limited or
-c 'network.allowed_domains=["example.com"]'):
`)
	tw = tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
	for _, k := range configKeys {
		def := k.def
		if def == "" {
			def = "(unset)"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", k.key, def, k.doc)
	}
	tw.Flush()
	b.WriteString(exitStatusHelp)
	io.WriteString(w, b.String())
}

// exitStatusHelp ends the overall usage; README.md says the same.
const exitStatusHelp = `
Exit status: 0 done; 1 the subcommand failed (bad config file or -c value,
output failed); 2 bad subcommand, flag or argument. app-server client has
its own (125 when the client or its server fails, a bad config included):
see app-server client --help.
`

// The flags every subcommand takes, and --out.
var (
	globalFlags = [][2]string{
		{"--home DIR", "home directory (default $APP_SERVER_HOME, else ~/.app-server; created 0700)"},
		{"--config FILE", "config file (default <home>/config.toml; may be missing)"},
		{"-c key=value", "override a config key, repeatable (value parsed as TOML, else a string):"},
		{"", `-c network.mode=limited -c 'network.allowed_domains=["example.com"]'`},
		{"--log-format FORMAT", "text | json (default text)"},
		{"--log-level LEVEL", "debug | info | warn | error (default info)"},
	}
	outFlag = [2]string{"--out DIR", "output directory of generate-json-schema and generate-ts"}
)

func writeFlags(b *strings.Builder, rows [][2]string, more ...[2]string) {
	tw := tabwriter.NewWriter(b, 0, 8, 2, ' ', 0)
	for _, f := range append(slices.Clone(rows), more...) {
		fmt.Fprintf(tw, "  %s\t%s\n", f[0], f[1])
	}
	tw.Flush()
}

// printCommandUsage is "app-server help NAME": the subcommand's usage, what
// it does and its flags.
func printCommandUsage(w io.Writer, c *command) {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage:\n  app-server [flags] %s\n\n%s%s.\n", strings.TrimSpace(c.name+" "+c.args), strings.ToUpper(c.summary[:1]), c.summary[1:])
	if c.doc != "" {
		b.WriteString("\n" + c.doc + "\n")
	}
	b.WriteString("\nFlags:\n")
	var more [][2]string
	if c.hasOut {
		more = append(more, [2]string{"--out DIR", "the output directory (required)"})
	}
	writeFlags(&b, globalFlags, append(more, [2]string{"-h, --help", "print this help"})...)
	b.WriteString("\nConfig keys and the other subcommands: app-server --help.\n")
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
	tr, err := inv.opts.listen.resolve()
	if err != nil {
		return err
	}
	home, err := resolveHome(inv.opts.home)
	if err != nil {
		return err
	}
	path, explicit := inv.opts.config, inv.opts.config != ""
	if !explicit {
		path = filepath.Join(home, "config.toml")
	}
	cfg, ignored, err := loadConfig(path, explicit, inv.opts.overrides)
	if err != nil {
		return err
	}
	if len(ignored) > 0 {
		inv.log.Info("config: ignoring Codex keys this server does not use", "config", path, "keys", strings.Join(ignored, ", "))
	}
	ver := buildVersion()
	env := &serveEnv{
		Config:  cfg,
		Home:    home,
		Logger:  inv.log,
		Version: ver,
		Stdin:   inv.stdin,
		Stdout:  inv.stdout,
	}
	switch {
	case tr.off:
		env.Stdin, env.Stdout = nil, nil
		inv.log.Info("serving nothing (--listen off)", "version", ver, "home", home, "pid", os.Getpid())
	case !tr.stdio:
		if env.Listener, err = tr.listen(inv.stderr); err != nil {
			return err
		}
		env.WebSocket = tr.webSocketOptions()
		inv.log.Info("serving on websocket", "addr", env.Listener.Addr().String(), "auth", inv.opts.listen.auth, "version", ver, "home", home, "pid", os.Getpid())
	default:
		inv.log.Info("serving on stdio", "version", ver, "home", home, "pid", os.Getpid())
	}
	if err := serve(ctx, env); err != nil {
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
	return writeFiles(inv, appserver.JSONFiles())
}

func runGenerateTS(_ context.Context, inv *invocation) error {
	return writeFiles(inv, appserver.TypeScriptFiles())
}

// writeFiles writes files into --out and says how many it wrote, where.
func writeFiles(inv *invocation, files fs.FS) error {
	if err := appserver.WriteDir(files, inv.opts.out); err != nil {
		return err
	}
	n := 0
	err := fs.WalkDir(files, ".", func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return err
	})
	if err != nil {
		return err
	}
	dir, err := filepath.Abs(inv.opts.out)
	if err != nil {
		dir = inv.opts.out
	}
	_, err = fmt.Fprintf(inv.stdout, "wrote %d files to %s\n", n, dir)
	return err
}

func runVersion(_ context.Context, inv *invocation) error {
	_, err := fmt.Fprintf(inv.stdout, "app-server %s\n", buildVersion())
	return err
}
