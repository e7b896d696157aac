package main

import (
	"context"
	"io"
	"log/slog"

	"app-server/rpc"
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
}

// serve serves the protocol on env.Stdin and env.Stdout until the input
// ends (nil) or ctx is cancelled by SIGINT/SIGTERM (nil, within 2 s). It
// returns an error when the server cannot run or output fails (EPIPE).
//
// TEMPORARY: no handlers are registered yet, so every method but initialize
// is answered -32601. The session wiring replaces this body.
func serve(ctx context.Context, env *serveEnv) error {
	srv := rpc.NewServer(rpc.Options{
		Name:    "app-server",
		Version: env.Version,
		Home:    env.Home,
		Logger:  env.Logger,
	})
	return srv.Serve(ctx, env.Stdin, env.Stdout)
}
