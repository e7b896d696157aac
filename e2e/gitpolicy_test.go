package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"app-server/protocol"
)

func gitInit(t *testing.T, dir string, config ...[2]string) {
	t.Helper()
	for _, args := range append([][]string{{"init", "-q"}}, func() [][]string {
		var out [][]string
		for _, kv := range config {
			out = append(out, []string{"config", kv[0], kv[1]})
		}
		return out
	}()...) {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
}

// Under untrusted, git status is read-only only in a repository that
// cannot make git run a program: one whose core.fsmonitor runs a command
// gets a prompt, and declining it means the command never ran.
func TestGitStatusPromptsWhenTheRepositoryRunsPrograms(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("git is not installed: this test needs it (.ci/run installs it)")
	}
	s := startServer(t, options{})
	s.initialize()

	plain := t.TempDir()
	gitInit(t, plain)
	th := s.startThread(plain, protocol.ApprovalUntrusted)
	s.startTurn(th, "git status")
	if c := s.runFlow(nil).commands(); len(c) != 1 || c[0].Status != protocol.CommandCompleted {
		t.Fatalf("git status in a plain repository: %+v", c)
	}

	hostile := t.TempDir()
	marker := filepath.Join(t.TempDir(), "fsmonitor-ran")
	gitInit(t, hostile, [2]string{"core.fsmonitor", "touch " + marker})
	th = s.startThread(hostile, protocol.ApprovalUntrusted)
	s.startTurn(th, "git status")
	f := s.runFlow(decision(protocol.Decline()))
	if len(f.approvals) != 1 {
		t.Fatalf("git status in a repository with core.fsmonitor ran without a prompt: %v", f.methods)
	}
	if c := f.commands(); len(c) != 1 || c[0].Status != protocol.CommandDeclined {
		t.Errorf("declined git status: %+v", c)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Errorf("core.fsmonitor ran: %s exists", marker)
	}
}
