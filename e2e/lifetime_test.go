package e2e

import (
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
// child that ignores SIGTERM included), on kill -9 the command gets a
// parent-death SIGKILL (what it left in the background outlives it unless
// the sandbox's pid namespace holds it, so that case has none). Turns and
// command/exec alike.
func TestCommandsDoNotOutliveTheServer(t *testing.T) {
	const (
		withChild = "trap '' TERM; echo $$ > shell.pid; (sleep 2; touch marker) & echo $! > child.pid; echo started; sleep 2; touch marker"
		alone     = "trap '' TERM; echo $$ > shell.pid; echo started; sleep 2; touch marker"
	)
	for _, tc := range []struct {
		name, line string
		exec       bool // command/exec instead of a turn
		end        func(s *server)
	}{
		{"stdin EOF", withChild, false, func(s *server) { s.stdin.Close() }},
		{"SIGTERM", withChild, false, func(s *server) { s.cmd.Process.Signal(syscall.SIGTERM) }},
		{"kill -9", alone, false, func(s *server) { s.cmd.Process.Signal(syscall.SIGKILL) }},
		{"command/exec stdin EOF", withChild, true, func(s *server) { s.stdin.Close() }},
		{"command/exec SIGTERM", withChild, true, func(s *server) { s.cmd.Process.Signal(syscall.SIGTERM) }},
		{"command/exec kill -9", alone, true, func(s *server) { s.cmd.Process.Signal(syscall.SIGKILL) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := startServer(t, options{})
			s.initialize()
			if tc.exec {
				s.request("command/exec", map[string]any{"command": []string{"sh", "-c", tc.line}, "cwd": dir, "streamStdoutStderr": true})
				s.until("command/exec/outputDelta") // the command runs
			} else {
				th := s.startThread(dir, protocol.ApprovalNever)
				s.startTurn(th, tc.line)
				s.until("item/commandExecution/outputDelta") // the command runs
			}
			tc.end(s)
			<-s.exited
			// Once they are gone nothing can write the marker; they would
			// have, 2 s after they started, had they lived.
			for _, name := range []string{"shell.pid", "child.pid"} {
				pid, err := os.ReadFile(filepath.Join(dir, name))
				if err == nil {
					waitGone(t, strings.TrimSpace(string(pid)), 10*time.Second)
				} else if name == "shell.pid" || tc.line == withChild {
					t.Fatal(err)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "marker")); err == nil {
				t.Errorf("the command outlived the server and wrote its marker")
			}
		})
	}
}

// waitGone waits until a process has exited (or is a zombie nobody reaps).
func waitGone(t *testing.T, pid string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		stat, err := os.ReadFile("/proc/" + pid + "/stat")
		if err != nil {
			return
		}
		if i := strings.LastIndexByte(string(stat), ')'); i > 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %s still runs %v after the server ended", pid, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
