package e2e

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"app-server/protocol"
)

// stop closes the server's input and waits for it to exit.
func (s *server) stop() {
	s.t.Helper()
	s.stdin.Close()
	<-s.exited
}

// mountTmpfs mounts a tmpfs of the given size on a new directory; the test
// is skipped where that is not allowed (not root), and fails under CI,
// which runs as root.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("cannot mount a tmpfs (CI runs as root): %v: %s", err, out)
		}
		t.Skipf("NOT RUN: cannot mount a tmpfs (needs root; CI runs it): %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// fillDisk writes a file in dir until its file system is full.
func fillDisk(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 4096)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling the disk: %v", err)
			}
			return path
		}
	}
}

// A full disk in the middle of a turn: the client hears that history could
// not be saved, and once there is room again the thread goes on and reads
// back after a restart (a record cut short used to be glued to the next
// one, and the thread failed to load for good).
func TestFullDiskMidTurnThenRestart(t *testing.T) {
	home := mountTmpfs(t, "512k")
	dir := t.TempDir()
	s := startServer(t, options{home: home})
	s.initialize()
	th := s.startThread(dir, protocol.ApprovalNever)

	filler := fillDisk(t, home)
	// The command item (20 kB of output) is larger than what is left in
	// the rollout's last page: it is cut short by the full disk.
	s.startTurn(th, `head -c 20000 /dev/zero | tr '\0' x`)
	f := s.runFlow(nil)
	if !slices.Contains(f.methods, "warning") {
		t.Errorf("no warning notification while the disk was full: %v", f.methods)
	}
	os.Remove(filler)
	s.startTurn(th, "echo after")
	after := s.runFlow(nil)
	s.stop()

	s2 := startServer(t, options{home: home})
	s2.initialize()
	var r protocol.ThreadReadResponse
	s2.ok("thread/read", map[string]any{"threadId": th, "includeTurns": true}, &r)
	turns := r.Thread.Turns
	if len(turns) != 2 || turns[1].ID != after.turn.ID || turns[1].Status != protocol.TurnCompleted {
		t.Fatalf("turns after the restart: %+v", turns)
	}
	if c := turns[1].Items[1].CommandExecution; c == nil || *c.AggregatedOutput != "after\n" {
		t.Errorf("the turn after the full disk: %+v", turns[1].Items)
	}
	var resumed protocol.ThreadResumeResponse
	s2.ok("thread/resume", map[string]any{"threadId": th}, &resumed)
	// The record the full disk cut short was cut off the file, not left
	// for the reader to skip.
	if strings.Contains(s2.stderrText(), "skipping a line") {
		t.Errorf("the rollout holds a torn line:\n%s", s2.stderrText())
	}
}

// A turn input of 11.5 MB of '<' (under the 16 MiB request cap) is
// persisted without HTML escaping, so the thread reads back after a
// restart (it used to become a 69 MB line, over the reader's limit).
func TestHugeInputReadsBackAfterRestart(t *testing.T) {
	home := t.TempDir()
	// A plain build: under the race detector, reading 11.5 MB a few times
	// takes longer than the harness waits for a message.
	s := startServer(t, options{home: home, bin: plainBin})
	// The wire copies of the text are not what this test is about: opt out
	// of the notifications that carry it.
	s.ok("initialize", map[string]any{
		"clientInfo": map[string]any{"name": "e2e", "version": "1.0"},
		"capabilities": map[string]any{"optOutNotificationMethods": []string{
			"item/started", "item/completed", "turn/started", "turn/completed", "item/commandExecution/outputDelta",
		}},
	}, nil)
	s.send(`{"method":"initialized"}`)
	th := s.startThread(t.TempDir(), protocol.ApprovalNever)
	text := strings.Repeat("<", 11_500_000)
	s.startTurn(th, text)
	for {
		m, _ := s.until("thread/status/changed")
		var n protocol.ThreadStatusChangedNotification
		m.decode(t, &n)
		if n.Status.Idle != nil {
			break
		}
	}
	s.stop()

	matches, _ := filepath.Glob(filepath.Join(home, "threads", "*.jsonl"))
	if len(matches) != 1 {
		t.Fatalf("rollouts: %v", matches)
	}
	// No line is HTML-escaped: the longest, the command item, holds the
	// text twice (as the command and in its actions).
	b, err := os.ReadFile(matches[0])
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range bytes.Split(b, []byte("\n")) {
		if len(line) > 2*len(text)+1<<20 {
			t.Errorf("line %d of the rollout is %d bytes for a %d-byte input", i+1, len(line), len(text))
		}
	}
	s2 := startServer(t, options{home: home, bin: plainBin})
	s2.initialize()
	var r protocol.ThreadReadResponse
	s2.ok("thread/read", map[string]any{"threadId": th}, &r)
	if !strings.HasPrefix(r.Thread.Preview, "<<<<") {
		t.Errorf("preview %q", r.Thread.Preview)
	}
}
