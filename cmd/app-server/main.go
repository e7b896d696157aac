// Command app-server serves the Codex app-server protocol (JSON-RPC 2.0 over
// JSONL) on stdin and stdout, for an IDE extension that spawns it. stdout
// carries the protocol only; logs go to stderr.
//
// Run "app-server --help" for the subcommands, flags and config keys.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"app-server/sandbox"
)

// version is set at build time: go build -ldflags "-X main.version=v1.2.3".
var version string

func main() {
	// A sandboxed command's helper is this binary re-executed; it never
	// returns from here.
	sandbox.RunHelper()

	// With SIGPIPE notified (not ignored: children would inherit SIG_IGN), a
	// write to a closed stdout returns EPIPE instead of killing the process,
	// so the server logs why it stops and exits non-zero.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)

	// The client handles its own signals (Ctrl-C interrupts a turn).
	if _, ok := clientArgs(os.Args[1:]); ok {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}

	// SIGINT and SIGTERM cancel the context: serve stops within 2 s and
	// the process exits 0. A second signal gets the default action.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	context.AfterFunc(ctx, stop)

	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// buildVersion returns the version set with -ldflags (make build: git
// describe), else the module version Go recorded: the tag for a go build or
// go install in a checkout at a tag, a pseudo-version after it (Go 1.24+,
// unless -buildvcs=false), the version of "go install module@version".
// Otherwise (go run, -buildvcs=false) "dev".
func buildVersion() string {
	if version != "" {
		return version
	}
	bi, _ := debug.ReadBuildInfo()
	return moduleVersion(bi)
}

func moduleVersion(bi *debug.BuildInfo) string {
	if bi != nil && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
