package termclient

import (
	"testing"

	"app-server/protocol"
)

func TestExecExitCode(t *testing.T) {
	done := protocol.Turn{Status: protocol.TurnCompleted}
	for _, tc := range []struct {
		name string
		turn protocol.Turn
		last *protocol.CommandExecutionItem
		want int
	}{
		{"ok", done, &protocol.CommandExecutionItem{Status: protocol.CommandCompleted, ExitCode: ptr[int32](0)}, 0},
		{"command's code", done, &protocol.CommandExecutionItem{Status: protocol.CommandFailed, ExitCode: ptr[int32](7)}, 7},
		{"declined", done, &protocol.CommandExecutionItem{Status: protocol.CommandDeclined}, ExitDeclined},
		{"interrupted", protocol.Turn{Status: protocol.TurnInterrupted}, &protocol.CommandExecutionItem{Status: protocol.CommandFailed, ExitCode: ptr[int32](-1)}, ExitInterrupted},
		{"killed without interrupt", done, &protocol.CommandExecutionItem{Status: protocol.CommandFailed, ExitCode: ptr[int32](-1)}, ExitFailure},
		{"failed to start", done, &protocol.CommandExecutionItem{Status: protocol.CommandFailed}, ExitFailure},
		{"no command", protocol.Turn{Status: protocol.TurnFailed}, nil, ExitFailure},
	} {
		if got := execExitCode(tc.turn, tc.last); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}
