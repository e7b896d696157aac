//go:build linux

package session

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"app-server/sandbox"
)

// TestRunProcessOnSpareStopsEveryProcess: a sandboxed command started on
// a ready spare helper gives its output and exit status, and a cancel
// ends it and what it left in the background, as on a cold helper.
func TestRunProcessOnSpareStopsEveryProcess(t *testing.T) {
	if miss := sandbox.Probe().Missing(sandbox.ReadOnly); len(miss) > 0 {
		t.Fatalf("this machine cannot enforce the sandbox (missing %v)", miss)
	}
	execLeakCheck(t)
	spares := sandbox.NewSpares()
	defer spares.Close()
	box := &sandbox.Policy{Mode: sandbox.ReadOnly, Network: sandbox.NetworkNone}
	waitSpare := func() {
		t.Helper()
		if spares.Ready() == nil {
			RunProcess(context.Background(), ProcessSpec{Argv: shArgv("true"), Sandbox: box, Spares: spares})
		}
		select {
		case <-spares.Ready():
		case <-time.After(20 * time.Second):
			t.Fatal("the spare helper never became ready")
		}
	}

	waitSpare()
	res := RunProcess(context.Background(), ProcessSpec{Argv: shArgv("echo out; echo err >&2; exit 5"), Sandbox: box, Spares: spares, SeparateStderr: true})
	if res.Output != "out\n" || res.Stderr != "err\n" || res.ExitCode != 5 || res.Err != nil {
		t.Fatalf("on a spare: %+v", res)
	}

	waitSpare()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res = RunProcess(ctx, ProcessSpec{
		Argv:    shArgv("sleep 307 & echo started; sleep 308"),
		Sandbox: box, Spares: spares,
		OnOutput: func(chunk []byte) {
			if strings.Contains(string(chunk), "started") {
				cancel()
			}
		},
	})
	if !res.Interrupted || res.Duration > 5*time.Second {
		t.Fatalf("cancelled on a spare: %+v", res)
	}
	for _, marker := range []string{"sleep\x00307", "sleep\x00308"} {
		if pid := findProcess(marker); pid != "" {
			t.Errorf("process %s (%q) outlived its cancelled command", pid, marker)
		}
	}
}

// findProcess returns the pid of a process whose command line contains
// marker (arguments separated by NUL), or "".
func findProcess(marker string) string {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err == nil && strings.Contains(string(b), marker) {
			return filepath.Base(d)
		}
	}
	return ""
}
