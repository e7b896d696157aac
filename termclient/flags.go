package termclient

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"app-server/protocol"
)

// options are the parsed flags of "app-server client".
type options struct {
	// Passed through to the child server.
	home, config        string
	overrides           []string // -c key=value, in order
	logLevel, logFormat string

	cwd            string // --cwd; "" means the current directory
	approvalPolicy string // --approval-policy; "" means the server's default
	auto           string // --auto: "" (ask), accept, acceptForSession, decline
	exec           string // --exec
	execSet        bool   // --exec was given
	serverLog      string // --server-log FILE
	save           bool   // --save: keep the --exec thread (it is ephemeral otherwise)
	version        string // the binary's, sent in initialize (not a flag)
}

// autoModes are the values of --auto.
var autoModes = []string{"accept", "acceptForSession", "decline"}

// parseFlags parses the client's arguments: the global flags of app-server
// (given before or after "client") and the client's own.
func parseFlags(args []string) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("app-server client", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.StringVar(&o.home, "home", "", "")
	fs.StringVar(&o.config, "config", "", "")
	fs.Func("c", "", func(s string) error {
		if !strings.Contains(s, "=") {
			return errors.New("want key=value")
		}
		o.overrides = append(o.overrides, s)
		return nil
	})
	fs.StringVar(&o.logLevel, "log-level", "", "")
	fs.StringVar(&o.logFormat, "log-format", "", "")
	fs.StringVar(&o.cwd, "cwd", "", "")
	fs.Func("approval-policy", "", func(s string) error {
		var p protocol.AskForApproval
		if err := p.UnmarshalJSON([]byte(fmt.Sprintf("%q", s))); err != nil {
			return errors.New("want untrusted, on-request or never")
		}
		o.approvalPolicy = string(p)
		return nil
	})
	fs.Func("auto", "", func(s string) error {
		if !slices.Contains(autoModes, s) {
			return fmt.Errorf("want %s", strings.Join(autoModes, ", "))
		}
		o.auto = s
		return nil
	})
	fs.Func("exec", "", func(s string) error {
		if strings.TrimSpace(s) == "" {
			return errors.New("empty command line")
		}
		o.exec, o.execSet = s, true
		return nil
	})
	fs.StringVar(&o.serverLog, "server-log", "", "")
	fs.BoolVar(&o.save, "save", false, "")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if o.save && !o.execSet {
		return nil, errors.New("--save is for --exec (interactive threads are always saved)")
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (to run a command, use --exec %q)", fs.Arg(0), strings.Join(fs.Args(), " "))
	}
	return o, nil
}

// printUsage writes --help: every flag, key, command and exit code.
func printUsage(w io.Writer) {
	var b strings.Builder
	b.WriteString(`app-server client: a terminal client for the app-server.

It starts "app-server serve" as a child process and talks to it over stdio
JSON-RPC, like an IDE would. It starts a thread in --cwd; each line you type
runs as a turn (the server's shell agent runs the line as a command line).
Command output streams as it runs; network and command approvals are asked
with one keypress.

Usage:
  app-server client [flags]
  app-server client --exec "curl -sI https://example.com" --auto accept

Flags:
`)
	table(&b, [][2]string{
		{"--cwd DIR", "the thread's working directory (default: the current directory)"},
		{"--approval-policy P", "untrusted | on-request | never (default: the server's approval_policy)"},
		{"--auto DECISION", "answer every prompt without asking: accept | acceptForSession | decline"},
		{"--exec CMD", "run CMD as one turn, then exit with its exit code (see Exit codes);"},
		{"", "its output goes to stdout, everything else to stderr. Its thread is"},
		{"", "a scratch one (ephemeral: not saved, not in /threads) unless --save"},
		{"--save", "with --exec: save the thread like an interactive one"},
		{"--home DIR", "passed to the server (default $APP_SERVER_HOME, else ~/.app-server)"},
		{"--config FILE", "passed to the server (default <home>/config.toml)"},
		{"-c key=value", "passed to the server, repeatable (see app-server --help for the keys)"},
		{"--log-level L, --log-format F", "passed to the server"},
		{"--server-log FILE", "append the server's log to FILE (otherwise the last 64 KiB are"},
		{"", "kept in memory and printed if the server fails)"},
		{"-h, --help", "print this help"},
	})
	b.WriteString("\n")
	b.WriteString(whatPromptsWhen)
	b.WriteString("\n")
	writeKeysAndCommands(&b)
	fmt.Fprintf(&b, `
Exit codes:
  %-5d interactive: quit with /quit, Ctrl-D or Ctrl-C at the prompt line.
        --exec: the command exited 0. Otherwise the command's own exit code.
        A network request the proxy denied does not change it: curl still
        exits 0 on a 403 unless given -f; the denial is printed on stderr.
  %-5d bad flags or arguments
  %-5d the client or the server failed (cannot start, died, protocol error),
        or --exec's command failed without an exit code
  %-5d --exec: the command was declined (by a prompt answer, --auto decline
        or a rule) and did not run
  %-5d --exec: the turn was interrupted (Ctrl-C, "c" at a prompt, a signal)

Colour is used when the output is a terminal and NO_COLOR is not set.
`, ExitOK, ExitUsage, ExitFailure, ExitDeclined, ExitInterrupted)
	io.WriteString(w, b.String())
}

// whatPromptsWhen is the --help section (and the README's table) on which
// commands and destinations are asked about.
const whatPromptsWhen = `What prompts when (approval_policy, or --approval-policy):
  policy               commands                            new network destinations
  untrusted            prompt, unless known read-only      prompt
                       (ls, cat, git status, ...) or
                       allowed by a rule or for the session
  on-request (default) run without a prompt                prompt
  never                run without a prompt                refused, no prompt
  A forbidden command rule declines without a prompt under every policy.

Network, by destination (when the proxy is on, the default):
  denied_domains, a persisted deny, or     refused, no prompt
  denied for the session
  a local or private address (127.0.0.1,   refused, no prompt; with
  10.x, 192.168.x, link-local, a name      network.allow_local_binding = true
  resolving to one, a name that does not   it is treated like any other
  resolve)
  allowed_domains, a persisted allow, or   allowed, no prompt
  allowed for the session
  anything else (https://example.com)      prompt (refused under never)
  With network.mode = "limited" only GET, HEAD and OPTIONS over plain http
  get that far; the rest is refused.
`

func table(b *strings.Builder, rows [][2]string) {
	tw := tabwriter.NewWriter(b, 0, 8, 2, ' ', 0)
	for _, r := range rows {
		fmt.Fprintf(tw, "  %s\t%s\n", r[0], r[1])
	}
	tw.Flush()
}

// writeKeysAndCommands writes the keys and /commands sections (--help and
// /help).
func writeKeysAndCommands(b *strings.Builder) {
	b.WriteString(`Prompt keys (one keypress; when stdin is not a terminal, a line holding
just the key):
`)
	var rows [][2]string
	for _, k := range promptKeys {
		rows = append(rows, [2]string{string(k.key), k.doc})
	}
	rows = append(rows, [2]string{"?", "show the prompt again"}, [2]string{"Ctrl-C", "interrupt the turn (turn/interrupt)"})
	table(b, rows)
	b.WriteString(`  Several prompts are queued and shown one at a time, oldest first; a
  prompt the server resolves first (timeout, interrupt) is dropped.

Prompt line:
`)
	table(b, [][2]string{
		{"Enter", "run the line as a turn (or a /command below)"},
		{"Ctrl-C", "while a turn runs: interrupt it; press again to quit."},
		{"", "At the prompt line: clear the line, or quit when it is empty"},
		{"Ctrl-D", "quit when the line is empty (end of input quits too)"},
		{"Up, Down", "history"},
		{"Ctrl-U, Ctrl-W", "clear the line, delete the last word"},
		{"Ctrl-L", "clear the screen (also while a turn runs or a prompt waits)"},
	})
	b.WriteString(`  In a terminal, keys typed while a turn runs (other than Ctrl-C and the
  prompt keys) are ignored. Without a terminal, lines typed ahead wait:
  they answer the next prompt, or run after the turn.
`)
	b.WriteString(`  Quitting closes the server's stdin and waits for it to stop (it
  interrupts running turns and kills their commands).

Commands (a line whose first word is one of these; any other line, even
/usr/bin/env, is run as a command line; an unknown /word that is not a
file is an error, not a turn):
`)
	rows = rows[:0]
	for _, c := range slashCommands {
		rows = append(rows, [2]string{strings.TrimSpace(c.name + " " + c.args), c.summary})
	}
	table(b, rows)
}
