package rollout

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"app-server/protocol"
)

// mountTmpfs mounts a tmpfs of size bytes on a new directory and returns
// it; the test is skipped where mounting is not allowed (not root).
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// fillDisk writes a file in dir until the file system is full and returns
// its path.
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

// A record that a full disk cuts short is cut off the file, so that once
// there is room again the next record starts on its own line and the
// thread loads with no line skipped.
func TestRolloutFullDiskCutsBackThePartialRecord(t *testing.T) {
	home := mountTmpfs(t, "256k")
	s, logs := roStore(t)
	s.threadsDir, s.archivedDir = filepath.Join(home, "threads"), filepath.Join(home, "archived")
	os.Mkdir(s.threadsDir, 0o700)
	id := roNewID(t)
	r, err := s.Create(roMeta(id))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	roAppend(t, r, TurnStartedRecord(turn1ID, 1))
	filler := fillDisk(t, home)
	before, _ := os.ReadFile(r.Path())

	// Bigger than any room left in the file's last page: part of it is
	// written, then the disk is full.
	out := strings.Repeat("x", 20000)
	if err := r.Append(ItemCompletedRecord(turn1ID, roCommandItem("c1", protocol.CommandCompleted, &out)), true); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Append on a full disk = %v, want ENOSPC", err)
	}
	if after, _ := os.ReadFile(r.Path()); !bytes.Equal(before, after) {
		t.Fatalf("the failed append left %d bytes: %.80q", len(after)-len(before), after[len(before):])
	}

	os.Remove(filler)
	roAppend(t, r, ItemCompletedRecord(turn1ID, roUserItem("u1", "after")), TurnCompletedRecord(protocol.Turn{ID: turn1ID.String(), Status: protocol.TurnCompleted}))
	got, err := s.Load(id)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Turns) != 1 || got.Turns[0].Status != protocol.TurnCompleted || len(got.Turns[0].Items) != 1 || got.Turns[0].Items[0].UserMessage == nil {
		t.Errorf("turns: %+v", got.Turns)
	}
	if logs.Len() != 0 {
		t.Errorf("Load skipped something: %s", logs)
	}
}

// When the fragment of a failed append cannot be cut off, the next record
// starts on a fresh line and Load skips the fragment alone.
func TestRolloutUncutFragmentIsNotGluedToTheNextRecord(t *testing.T) {
	s, logs := roStore(t)
	id := roNewID(t)
	r, err := s.Create(roMeta(id))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	roAppend(t, r, TurnStartedRecord(turn1ID, 1))
	roAppendRaw(t, r.Path(), `{"type":"itemCompleted","turnId":"`) // what the failed write left
	r.torn = true                                                  // and could not cut
	roAppend(t, r, ItemCompletedRecord(turn1ID, roUserItem("u1", "after")))
	got, err := s.Load(id)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Turns) != 1 || len(got.Turns[0].Items) != 1 {
		t.Errorf("turns: %+v", got.Turns)
	}
	if !strings.Contains(logs.String(), "line 3") {
		t.Errorf("log %q does not name the fragment's line", logs)
	}
}

// A record is written without HTML escaping, and whatever Append accepts,
// Load reads back: a text of 11.5 MB of '<' once became 69 MB of \u003c,
// over the reader's limit (e2e has that case; 2 MB shows the escaping).
func TestRolloutHugeRecordReadsBack(t *testing.T) {
	s, _ := roStore(t)
	id := roNewID(t)
	r, err := s.Create(roMeta(id))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	text := strings.Repeat("<", 2_000_000)
	user := roUserItem("u1", text)
	roAppend(t, r, TurnStartedRecord(turn1ID, 1), ItemCompletedRecord(turn1ID, user))
	fi, _ := os.Stat(r.Path())
	if fi.Size() > 2_100_000 {
		t.Errorf("rollout is %d bytes for a text of %d", fi.Size(), len(text))
	}
	got, err := s.Load(id)
	if err != nil {
		t.Fatal(err)
	}
	if it := got.Turns[0].Items[0].UserMessage; it == nil || it.Content[0].Text.Text != text {
		t.Errorf("the text did not read back")
	}

	// Past the line limit, Append refuses rather than write what Load
	// would refuse.
	maxRolloutLine = 1 << 20
	t.Cleanup(func() { maxRolloutLine = defaultMaxRolloutLine })
	big := strings.Repeat("\u2028", maxRolloutLine/6+1) // escaped: 6 bytes each
	err = r.Append(ItemCompletedRecord(turn1ID, roUserItem("u2", big)), false)
	if err == nil || !strings.Contains(err.Error(), "over the") {
		t.Errorf("Append of a record over the limit = %v", err)
	}
	if _, err := s.Load(id); err != nil {
		t.Errorf("Load after a refused record: %v", err)
	}
}
