package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"app-server/protocol"
)

// A command that ignores SIGTERM and would write a marker two seconds
// later never writes it, however the server ends: on stdin EOF and SIGTERM
// every command group is killed before the server exits (a background
// child that ignores SIGTERM included); on kill -9 the sandbox's PID 1 gets
// a parent-death SIGKILL and takes every process of its pid namespace with
// it, the background child included. Turns and command/exec alike.
func TestCommandsDoNotOutliveTheServer(t *testing.T) {
	// The commands run sandboxed, where $$ is a pid of their own pid
	// namespace: the test finds their processes by the id in their argv
	// (the sleeps' durations, and the shell's command line) instead.
	const line = "trap '' TERM; (sleep 2.ID; touch marker) & echo started; sleep 2.ID; touch marker"
	for _, tc := range []struct {
		name string
		exec bool // command/exec instead of a turn
		end  func(s *server)
	}{
		{"stdin EOF", false, func(s *server) { s.stdin.Close() }},
		{"SIGTERM", false, func(s *server) { s.cmd.Process.Signal(syscall.SIGTERM) }},
		{"kill -9", false, func(s *server) { s.cmd.Process.Signal(syscall.SIGKILL) }},
		{"command/exec stdin EOF", true, func(s *server) { s.stdin.Close() }},
		{"command/exec SIGTERM", true, func(s *server) { s.cmd.Process.Signal(syscall.SIGTERM) }},
		{"command/exec kill -9", true, func(s *server) { s.cmd.Process.Signal(syscall.SIGKILL) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			id := fmt.Sprintf("%d", time.Now().UnixNano()%1000000000)
			line := strings.ReplaceAll(line, "ID", id)
			s := startServer(t, options{})
			s.initialize()
			if tc.exec {
				s.request("command/exec", map[string]any{"command": []string{"sh", "-c", line}, "cwd": dir, "streamStdoutStderr": true})
				s.until("command/exec/outputDelta") // the command runs
			} else {
				th := s.startThread(dir, protocol.ApprovalNever)
				s.startTurn(th, line)
				s.until("item/commandExecution/outputDelta") // the command runs
			}
			tc.end(s)
			<-s.exited
			// Once they are gone nothing can write the marker; they would
			// have, 2 s after they started, had they lived.
			if pids := processesWith("2." + id); len(pids) > 0 {
				t.Errorf("processes %v of the command outlive the server", pids)
			}
			if _, err := os.Stat(filepath.Join(dir, "marker")); err == nil {
				t.Errorf("the command outlived the server and wrote its marker")
			}
		})
	}
}
