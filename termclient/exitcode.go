package termclient

import "app-server/protocol"

// Exit codes of Main. --exec otherwise exits with the command's own code.
const (
	ExitOK          = 0
	ExitUsage       = 2   // bad flags or arguments, as app-server itself
	ExitFailure     = 125 // the client or server failed (as env, git bisect, docker use it)
	ExitDeclined    = 126 // --exec: the command was declined and did not run ("cannot execute")
	ExitInterrupted = 130 // --exec: the turn was interrupted (128 + SIGINT)
)

// execExitCode is the exit code of --exec after its turn ended with turn,
// last being the turn's last command item (nil if it had none).
func execExitCode(turn protocol.Turn, last *protocol.CommandExecutionItem) int {
	if turn.Status == protocol.TurnInterrupted {
		return ExitInterrupted
	}
	if last == nil {
		return ExitFailure
	}
	if last.Status == protocol.CommandDeclined {
		return ExitDeclined
	}
	if last.ExitCode == nil || *last.ExitCode < 0 || *last.ExitCode > 255 {
		return ExitFailure
	}
	return int(*last.ExitCode)
}
