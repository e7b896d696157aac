package session

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"app-server/protocol"
	"app-server/session/rollout"
)

// A thread id from the client is a UUID in canonical form or names no
// thread: it never reaches the store as a path, and no other spelling of a
// real id finds it.
func TestThreadIDsFromTheWireAreCanonicalUUIDs(t *testing.T) {
	home := t.TempDir()
	store, err := rollout.OpenStore(home)
	if err != nil {
		t.Fatal(err)
	}
	m := newTestManagerWith(t, Options{Client: newFakeClient(nil), Store: store})
	defer m.Shutdown(context.Background())
	valid := startTestThread(t, m, protocol.ApprovalNever)
	ctx := context.Background()
	for _, id := range []string{
		"", "..", "../x", "../../etc/passwd", "/etc/passwd", "a/b",
		strings.ToUpper(valid), "{" + valid + "}", "urn:uuid:" + valid, strings.ReplaceAll(valid, "-", ""),
		valid + "/../" + valid, valid + ".jsonl",
	} {
		calls := map[string]error{}
		_, calls["thread/read"] = m.ReadThread(ctx, &protocol.ThreadReadParams{ThreadID: id})
		_, calls["thread/resume"] = m.ResumeThread(ctx, &protocol.ThreadResumeParams{ThreadID: id})
		_, calls["thread/archive"] = m.ArchiveThread(ctx, &protocol.ThreadArchiveParams{ThreadID: id})
		_, calls["thread/unarchive"] = m.UnarchiveThread(ctx, &protocol.ThreadUnarchiveParams{ThreadID: id})
		_, _, calls["turn/start"] = m.StartTurn(ctx, &protocol.TurnStartParams{ThreadID: id, Input: []protocol.UserInput{protocol.TextUserInput("true")}})
		for method, err := range calls {
			if !errors.Is(err, protocol.ErrInvalidParams) || !strings.Contains(err.Error(), "not found") {
				t.Errorf("%s(%q) = %v, want invalid params: not found", method, id, err)
			}
		}
	}
	// Nothing was created or moved: the home holds the one thread.
	for dir, want := range map[string][]string{
		home:                            {"archived", "threads"},
		filepath.Join(home, "threads"):  {valid + ".jsonl"},
		filepath.Join(home, "archived"): nil,
	} {
		entries, _ := os.ReadDir(dir)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		if !slices.Equal(names, want) {
			t.Errorf("%s holds %v, want %v", dir, names, want)
		}
	}
}
