package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"app-server/netapproval"
	"app-server/protocol"
	"app-server/sandbox"
)

// startProbe probes the sandbox support in the background, so the server
// answers initialize without waiting for it, and returns the function
// that waits for the answer (the first command or thread/start does).
func startProbe(log *slog.Logger) func() sandbox.Support {
	done := make(chan sandbox.Support, 1)
	go func() {
		s := sandbox.Probe()
		log.Info("sandbox probe", "namespaces", s.Namespaces, "namespacesErr", s.NamespacesErr,
			"landlockABI", s.LandlockABI, "seccomp", s.Seccomp, "forced", s.Forced)
		done <- s
	}()
	var s *sandbox.Support
	return func() sandbox.Support {
		if s == nil {
			v := <-done
			done <- v
			s = &v
		}
		return *s
	}
}

// sandboxArgs reports whether args run the sandbox subcommand and returns
// the global flags given before "sandbox" and the rest.
func sandboxArgs(args []string) (global, rest []string, ok bool) {
	fs := newFlagSet(&options{}, nil)
	if fs.Parse(args) != nil || fs.NArg() == 0 || fs.Arg(0) != "sandbox" {
		return nil, nil, false
	}
	rest = fs.Args()
	return slices.Clone(args[:len(args)-len(rest)]), rest[1:], true
}

const sandboxUsage = `Usage:
  app-server [global flags] sandbox check
  app-server [global flags] sandbox [--mode M] [--network on|off] -- CMD [ARGS...]

check prints what this machine enforces. Otherwise CMD runs under the
sandbox of mode M (default: the config's sandbox) in the current
directory, with the [sandbox_workspace_write] settings of the config.
--network on (default: the config's network.enabled) gives it the managed
proxy, which allows what network.allowed_domains allows and refuses the
rest (there is nobody to ask); off gives it no network at all. The exit
status is CMD's (128+N when signal N killed it; 125 when the sandbox could
not be set up).
`

// runSandbox runs the sandbox subcommand and returns the exit code.
func runSandbox(ctx context.Context, global, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	opts := &options{logFormat: "text", logLevel: "warn"}
	if err := newFlagSet(opts, nil).Parse(global); err != nil {
		fmt.Fprintf(stderr, "app-server sandbox: %v\n", err)
		return exitUsage
	}
	if len(args) == 1 && args[0] == "check" {
		fmt.Fprint(stdout, sandbox.Probe().Report())
		return exitOK
	}
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	mode := fs.String("mode", "", "")
	network := fs.String("network", "", "")
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, sandboxUsage)
		return exitOK
	}
	if err == nil && fs.NArg() == 0 {
		err = errors.New("no command given")
	}
	if err == nil && *network != "" && *network != "on" && *network != "off" {
		err = fmt.Errorf("--network %q: want on or off", *network)
	}
	if err != nil {
		fmt.Fprintf(stderr, "app-server sandbox: %v\n\n%s", err, sandboxUsage)
		return exitUsage
	}
	home, cfg, err := loadForSandbox(opts)
	if err != nil {
		fmt.Fprintf(stderr, "app-server sandbox: %v\n", err)
		return exitError
	}
	m := cfg.Sandbox
	if *mode != "" {
		m = protocol.SandboxMode(*mode)
		if err := checkEnum("--mode", m); err != nil {
			fmt.Fprintf(stderr, "app-server sandbox: %v\n", err)
			return exitUsage
		}
	}
	netOn := cfg.Network.Enabled
	if *network != "" {
		netOn = *network == "on"
	}
	code, err := sandboxRun(ctx, home, cfg, m, netOn, fs.Args(), stdin, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "app-server sandbox: %v\n", err)
		return exitError
	}
	return code
}

// loadForSandbox resolves the home and loads the configuration the way
// serve does.
func loadForSandbox(opts *options) (string, *Config, error) {
	home, err := resolveHome(opts.home)
	if err != nil {
		return "", nil, err
	}
	path, explicit := opts.config, opts.config != ""
	if !explicit {
		path = filepath.Join(home, "config.toml")
	}
	cfg, _, err := loadConfig(path, explicit, opts.overrides) // serve names the ignored Codex keys
	return home, cfg, err
}

// exitSandboxSetup is the sandbox subcommand's status when the sandbox
// could not be set up (the helper's own, sandbox's exitSetupFailed).
const exitSandboxSetup = 125

// sandboxRun runs argv under mode and returns its exit code.
func sandboxRun(ctx context.Context, home string, cfg *Config, mode protocol.SandboxMode, netOn bool, argv []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	cwd, err := os.Getwd()
	if err != nil {
		return 0, err
	}
	env := os.Environ()
	p := sandbox.Policy{Mode: sandbox.FullAccess}
	if mode != protocol.SandboxDangerFullAccess {
		if miss := sandbox.Probe().Missing(sandbox.ReadOnly); len(miss) > 0 {
			// The sandbox could not be set up: 125, as when the helper fails.
			fmt.Fprintf(stderr, "app-server sandbox: sandbox %s cannot be enforced on this machine: missing %s\n", mode, strings.Join(miss, ", "))
			return exitSandboxSetup, nil
		}
		p = sandbox.Policy{Mode: sandbox.ReadOnly, Network: sandbox.NetworkNone}
		if mode == protocol.SandboxWorkspaceWrite {
			ww := cfg.SandboxWorkspaceWrite
			tmpdir := os.Getenv("TMPDIR")
			p.Mode = sandbox.WorkspaceWrite
			p.WritableRoots = sandbox.WorkspaceRoots(cwd, ww.WritableRoots, ww.ExcludeSlashTmp, ww.ExcludeTmpdirEnvVar, tmpdir)
			p.ReadOnlyPaths = sandbox.ProtectedPaths(p.WritableRoots, home)
		}
		if netOn {
			proxyEnv, sockets, stop, err := sandboxProxy(cfg)
			if err != nil {
				return 0, err
			}
			defer stop()
			env = append(env, proxyEnv...)
			p.Network, p.Proxy = sandbox.NetworkProxy, sockets
		}
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	if err := sandbox.Wrap(cmd, p); err != nil {
		return 0, err
	}
	err = cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return ee.ExitCode(), nil
	}
	return 0, err
}

// sandboxProxy starts a managed proxy for one command with nobody to ask:
// the configured allow and deny lists decide, misses are refused.
func sandboxProxy(cfg *Config) ([]string, *sandbox.ProxySockets, func(), error) {
	m, err := netapproval.NewManager(netapproval.Options{Config: cfg.Network.Policy()})
	if err != nil {
		return nil, nil, nil, err
	}
	fail := func(err error) ([]string, *sandbox.ProxySockets, func(), error) {
		m.Close()
		return nil, nil, nil, err
	}
	if err := m.Start(); err != nil {
		return fail(err)
	}
	socks, err := m.ListenUnix(os.TempDir())
	if err != nil {
		return fail(err)
	}
	const threadID = "sandbox-cli"
	if _, err := m.OpenThread(threadID, nil); err != nil {
		return fail(err)
	}
	att, err := m.Attach(netapproval.ExecInfo{ThreadID: threadID, CommandID: "command", Command: "sandbox"})
	if err != nil {
		return fail(err)
	}
	return att.Env(), &sandbox.ProxySockets{HTTP: socks.HTTP, SOCKS: socks.SOCKS}, func() { att.Close(); m.Close() }, nil
}
