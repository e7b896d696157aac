package sandbox

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runWarm runs script under p on a spare helper, waiting for the spare
// to be ready first, and returns its combined output and exit status.
func runWarm(t *testing.T, s *Spares, p Policy, dir string, env []string, script string) (string, int) {
	t.Helper()
	out, code, _ := runOnSpare(t, s, p, dir, env, script)
	return out, code
}

// runOnSpare is runWarm that also returns the helper's pid.
func runOnSpare(t *testing.T, s *Spares, p Policy, dir string, env []string, script string) (string, int, int) {
	t.Helper()
	s.Prestart()
	select {
	case <-s.Ready():
	case <-time.After(20 * time.Second):
		t.Fatal("the spare helper never became ready")
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer outR.Close()
	cmd := exec.Command("/bin/bash", "-c", script)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, env, outW, outW
	proc, err := s.Start(cmd, p)
	outW.Close()
	if err != nil || proc == nil {
		t.Fatalf("Start on a ready spare = %v, %v", proc, err)
	}
	var out strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := outR.Read(buf)
		out.Write(buf[:n])
		if err != nil {
			break
		}
	}
	code, err := proc.Wait()
	if err != nil {
		t.Fatal(err)
	}
	return out.String(), code, proc.Pid
}

// TestSpareRunsCommandAsWrapDoes: a command started on a spare gets its
// argv, directory, environment and output, the policy's write rules and
// network, and its exit status, as under Wrap.
func TestSpareRunsCommandAsWrapDoes(t *testing.T) {
	requireSupport(t)
	s := NewSpares()
	defer s.Close()
	base := t.TempDir()
	cwd, outside := filepath.Join(base, "work"), filepath.Join(base, "outside")
	for _, d := range []string{filepath.Join(cwd, ".git"), outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ww := workspaceWrite(cwd, "")
	env := append(os.Environ(), "SPARE_TEST=from-request")

	out, code := runWarm(t, s, ww, cwd, env, `echo "$SPARE_TEST $(pwd)"; exit 7`)
	if want := "from-request " + cwd + "\n"; out != want || code != 7 {
		t.Fatalf("output %q exit %d; want %q exit 7", out, code, want)
	}
	for target, want := range map[string]bool{
		filepath.Join(cwd, "f"):         true,
		filepath.Join(outside, "f"):     false,
		filepath.Join(cwd, ".git", "f"): false,
	} {
		out, code := runWarm(t, s, ww, cwd, env, "echo x > "+target)
		if got := code == 0; got != want {
			t.Fatalf("write to %s: exit %d, output %q; want allowed=%v", target, code, out, want)
		}
	}
	out, code = runWarm(t, s, ww, cwd, env, "exec 3<>/dev/tcp/1.1.1.1/80")
	if code == 0 {
		t.Fatalf("network reached with network none: %q", out)
	}
}

// TestSparesCloseKillsSpare: Close kills and reaps the waiting spare, and
// a Start after Close starts none.
func TestSparesCloseKillsSpare(t *testing.T) {
	requireSupport(t)
	s := NewSpares()
	p := Policy{Mode: ReadOnly, Network: NetworkNone}
	s.Prestart()
	sp := s.spare
	select {
	case <-sp.ready:
	case <-time.After(20 * time.Second):
		t.Fatal("the spare helper never became ready")
	}
	pid := sp.cmd.Process.Pid
	s.Close()
	if err := syscall.Kill(pid, 0); err != syscall.ESRCH {
		t.Fatalf("spare %d after Close: kill(0) = %v, want ESRCH", pid, err)
	}
	cmd := exec.Command("/bin/true")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if proc, err := s.Start(cmd, p); proc != nil || err != nil || s.Ready() != nil {
		t.Fatalf("Start after Close = %v, %v (spare %v); want nothing", proc, err, s.Ready())
	}
}
