package termclient

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"app-server/protocol"
)

// shutdownGrace is how long the client waits for the server to stop after
// closing its stdin (the server promises 2 s) before killing it.
const shutdownGrace = 5 * time.Second

// Main runs "app-server client" with args (everything but the program and
// the word "client") and returns the exit code. It handles SIGINT, SIGTERM
// and SIGHUP itself; ctx being cancelled quits like SIGTERM.
//
// version is the binary's version, sent as the client's in initialize.
func Main(ctx context.Context, version string, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	o, err := parseFlags(args)
	if errors.Is(err, flag.ErrHelp) {
		printUsage(stdout)
		return ExitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "app-server client: %v\nRun \"app-server client --help\" for usage.\n", err)
		return ExitUsage
	}
	o.version = version
	return run(ctx, o, stdin, stdout, stderr)
}

func run(ctx context.Context, o *options, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	fail := func(format string, args ...any) int {
		fmt.Fprintf(stderr, "app-server client: "+format+"\n", args...)
		return ExitFailure
	}
	// Signals first: a Ctrl-C during startup is handled (as quit) once the
	// loop runs, instead of killing the client with the server half up.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, signals...)
	defer signal.Stop(sigs)

	cwd := o.cwd
	if cwd == "" {
		cwd = "."
	}
	cwd, err := filepath.Abs(cwd)
	if err != nil {
		return fail("--cwd: %v", err)
	}
	exe, err := os.Executable()
	if err != nil {
		return fail("finding the app-server binary: %v", err)
	}
	logFile, err := openLog(o.serverLog)
	if err != nil {
		return fail("--server-log: %v", err)
	}
	var logTo io.Writer // not a nil *os.File in an interface
	if logFile != nil {
		defer logFile.Close()
		logTo = logFile
	}
	srv, err := startServer(exe, serverArgs(o), logTo)
	if err != nil {
		return fail("starting the server: %v", err)
	}
	serverFailed := false
	defer func() {
		err := srv.shutdown(shutdownGrace)
		if serverFailed || (err != nil && code == ExitOK) {
			if err != nil {
				fmt.Fprintf(stderr, "app-server client: server: %v\n", err)
			}
			if log := strings.TrimSpace(srv.log.String()); log != "" {
				fmt.Fprintf(stderr, "app-server client: the server's log ends with:\n%s\n", lastLines(log, 20))
			}
			if code == ExitOK {
				code = ExitFailure
			}
		}
	}()
	c := newConn(srv.stdin, srv.stdout)

	start, err := handshake(ctx, c, o, cwd)
	if err != nil {
		serverFailed = true
		return fail("%v", err)
	}

	execMode := o.execSet
	wantInput := !(execMode && o.auto != "")
	raw := wantInput && isTerminal(stdin)
	ui := stdout
	if execMode {
		ui = stderr // stdout carries the command's output only
	}
	st := style{color: colorEnabled(ui)}
	out, uiOut := stdout, ui
	if raw {
		restore, err := makeRaw(stdin)
		if err != nil {
			raw = false // read lines instead
		} else {
			defer restore()
			if isTerminal(stdout) {
				out = crlfWriter{stdout}
			}
			if isTerminal(ui) {
				uiOut = crlfWriter{ui}
			}
		}
	}

	s := &session{
		ctx: ctx, opts: o, conn: c,
		r:        newRenderer(out, uiOut, st, !execMode),
		execMode: execMode, raw: raw,
		threadID: start.Thread.ID, ephemeral: start.Thread.Ephemeral,
		settings:    start.ThreadSettings,
		network:     start.network,
		async:       make(chan func(), 16),
		fileChanges: make(map[string]*protocol.FileChangeItem),
		stopped:     make(chan struct{}),
	}
	if wantInput {
		in := make(chan inputEvent, 64)
		if raw {
			go readKeys(stdin, in)
		} else {
			go readLines(stdin, in)
		}
		s.input = in
	}
	s.r.banner(start.Thread.ID, s.state(), !execMode)
	if execMode {
		s.startTurn(o.exec)
	}
	code = s.run(sigs)
	serverFailed = s.serverFailed
	return code
}

// started is what the handshake learnt: the thread and the server's
// network settings.
type started struct {
	protocol.ThreadStartResponse
	network protocol.NetworkSettingsReadResponse
}

// handshake initializes the connection, reads the network settings and
// starts the thread.
func handshake(ctx context.Context, c *conn, o *options, cwd string) (*started, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	title := "app-server client"
	err := c.call(ctx, protocol.MethodInitialize, protocol.InitializeParams{
		ClientInfo: protocol.ClientInfo{Name: "app-server-client", Title: &title, Version: o.version},
	}, nil)
	if err != nil {
		return nil, fmt.Errorf("initialize: %w", err)
	}
	if err := c.notify(protocol.MethodInitialized, nil); err != nil {
		return nil, fmt.Errorf("initialized: %w", err)
	}
	p := protocol.ThreadStartParams{Cwd: &cwd}
	if o.execSet && !o.save {
		scratch := true
		p.Ephemeral = &scratch // not persisted, not listed
	}
	if o.approvalPolicy != "" {
		pol := protocol.AskForApproval(o.approvalPolicy)
		p.ApprovalPolicy = &pol
	}
	var resp started
	if err := c.call(ctx, protocol.MethodNetworkSettings, protocol.NetworkSettingsReadParams{}, &resp.network); err != nil {
		return nil, fmt.Errorf("network/settings/read: %w", err)
	}
	if err := c.call(ctx, protocol.MethodThreadStart, p, &resp.ThreadStartResponse); err != nil {
		return nil, fmt.Errorf("thread/start: %w", err)
	}
	return &resp, nil
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
