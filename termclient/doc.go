// Package termclient is "app-server client": a small interactive terminal
// client for people. It starts the same binary as a child "app-server
// serve" over pipes, so everything it does goes over the real JSONL wire,
// exactly as an IDE extension would talk to the server. Of ours it
// imports protocol only, never rpc or session; sourcegraph/jsonrpc2 tracks
// its calls and golang.org/x/term puts the terminal in raw mode.
//
// Each line typed at the prompt line starts a turn whose input is that
// line (the server's shell agent runs it as a command line). Approval
// prompts are answered with one keypress; several prompts are queued and
// shown oldest first. Lines starting with a known /command are handled by
// the client itself.
//
// Files, one concept each:
//
//	main.go      Main: flags to exit code; startup and shutdown
//	flags.go     command line flags and the --help text
//	server.go    the child server process and its captured log
//	conn.go      JSON-RPC (sourcegraph/jsonrpc2) over the child's stdin/stdout
//	session.go   the event loop: server messages, input, signals
//	turns.go     what the loop does with turn and item notifications
//	approvals.go what the loop does with approval requests
//	prompts.go   the queue of pending approval prompts
//	keys.go      prompt keys to decisions; --auto decisions
//	commands.go  /grants, /revoke, /threads, /resume, /help, /quit
//	input.go     keypresses (raw terminal) or lines (anything else)
//	lineedit.go  the prompt line editor used in raw mode
//	terminal.go  raw mode, CRLF output, colour detection
//	render.go    everything the user sees, as text
//	exitcode.go  exit codes
package termclient
