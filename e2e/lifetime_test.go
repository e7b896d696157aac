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
// later never writes it, however the server ends: stdin EOF, SIGTERM
// (every command group is killed before the server exits) or kill -9 (the
// command gets a parent-death SIGKILL).
func TestCommandsDoNotOutliveTheServer(t *testing.T) {
	for _, tc := range []struct {
		name string
		end  func(s *server)
	}{
		{"stdin EOF", func(s *server) { s.stdin.Close() }},
		{"SIGTERM", func(s *server) { s.cmd.Process.Signal(syscall.SIGTERM) }},
		{"kill -9", func(s *server) { s.cmd.Process.Signal(syscall.SIGKILL) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := startServer(t, options{})
			s.initialize()
			th := s.startThread(dir, protocol.ApprovalNever)
			s.startTurn(th, "trap '' TERM; echo $$ > shell.pid; echo started; sleep 2; touch marker")
			s.until("item/commandExecution/outputDelta") // the command runs
			tc.end(s)
			<-s.exited
			pid, err := os.ReadFile(filepath.Join(dir, "shell.pid"))
			if err != nil {
				t.Fatal(err)
			}
			// Once the shell is gone nothing can write the marker; it would
			// have, 2 s after it started, had it lived.
			waitGone(t, strings.TrimSpace(string(pid)), 10*time.Second)
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
