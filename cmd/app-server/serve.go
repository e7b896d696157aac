package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"time"

	"app-server/netapproval"
	"app-server/rpc"
	"app-server/session"
	"app-server/session/rollout"
)

// serveEnv is everything serve gets from main: the validated configuration
// and the process's resources. main owns them; serve must not write to
// Stdout except through the protocol, nor log anywhere but Logger.
type serveEnv struct {
	Config  *Config      // config.toml with -c overrides applied, validated
	Home    string       // absolute home directory; exists (created 0700)
	Logger  *slog.Logger // writes to stderr
	Version string       // the binary's version, for the user agent
	Stdin   io.Reader    // protocol input; closed by rpc.Server.Serve if an io.Closer
	Stdout  io.Writer    // protocol output only

	// Listener, when set, serves WebSocket clients instead of stdio
	// (--listen ws://); serve closes it. With neither it nor Stdin
	// (--listen off), serve waits for ctx.
	Listener  net.Listener
	WebSocket rpc.WebSocketOptions
}

// shutdownGrace bounds the clean-up after the client is gone: interrupting
// turns, killing process groups, flushing files. The whole exit stays under
// the 2 s the protocol promises.
const shutdownGrace = 1500 * time.Millisecond

// serve serves the protocol on env.Stdin and env.Stdout until the input
// ends (nil) or ctx is cancelled by SIGINT/SIGTERM (nil, within 2 s). It
// returns an error when the server cannot run or output fails (EPIPE).
func serve(ctx context.Context, env *serveEnv) error {
	log := env.Logger
	cfg := env.Config
	sandboxSupport := startProbe(log)
	srv := rpc.NewServer(rpc.Options{
		Name:    "app-server",
		Version: env.Version,
		Home:    env.Home,
		Logger:  log,
	})
	client := srv.SessionClient()

	// One rules file, two sections: the network rules are netapproval's,
	// the command rules session's.
	rulesPath := filepath.Join(env.Home, "rules.toml")
	rules, err := netapproval.OpenRules(rulesPath)
	if err != nil {
		return err
	}
	commandRules, err := session.OpenCommandRules(rulesPath)
	if err != nil {
		return err
	}
	store, err := rollout.OpenStore(env.Home)
	if err != nil {
		return err
	}
	store.Logger = log

	var network *netapproval.Manager
	if cfg.Network.Enabled {
		network, err = netapproval.NewManager(netapproval.Options{
			Resolver: proxyResolver(),
			Config:   cfg.Network.Policy(),
			Rules:    rules,
			Logger:   log.With("component", "netapproval"),
			Notifier: session.NetworkNotifier(client, log),
		})
		if err != nil {
			return err
		}
		// The listeners open when the first command needs them: a client
		// that only reads threads pays for no proxy.
		network.StartOnFirstUse()
		defer network.Close()
	}

	sessions, err := session.NewManager(session.Options{
		Config: session.Config{
			Home:           env.Home,
			ApprovalPolicy: cfg.ApprovalPolicy,
			Sandbox:        cfg.Sandbox,
			Shell:          cfg.Shell,
			Version:        env.Version,
			Network:        cfg.Network.Settings(),
			Model:          cfg.Config,
			SandboxConfig: session.SandboxConfig{
				WritableRoots:       cfg.SandboxWorkspaceWrite.WritableRoots,
				ExcludeSlashTmp:     cfg.SandboxWorkspaceWrite.ExcludeSlashTmp,
				ExcludeTmpdirEnvVar: cfg.SandboxWorkspaceWrite.ExcludeTmpdirEnvVar,
				AllowUnenforced:     cfg.AllowUnenforcedSandbox,
			},
			EnvPolicy: cfg.ShellEnvironmentPolicy.EnvPolicy(),
		},
		SandboxSupport: sandboxSupport,
		Client:         client,
		Store:          store,
		Rules:          commandRules,
		Network:        network,
		Logger:         log,
	})
	if err != nil {
		return err
	}
	srv.RegisterSession(sessions)
	srv.OnDisconnect(func() {
		// The client is gone (or we were told to stop): interrupt turns,
		// deny pending prompts, kill process groups, close the rollouts.
		ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		if err := sessions.Shutdown(ctx); err != nil {
			log.Warn("shutdown did not finish in time", "err", err)
		}
	})
	switch {
	case env.Listener != nil:
		return srv.ServeWebSocket(ctx, env.Listener, env.WebSocket)
	case env.Stdin == nil:
		return srv.ServeNothing(ctx)
	}
	return srv.Serve(ctx, env.Stdin, env.Stdout)
}
