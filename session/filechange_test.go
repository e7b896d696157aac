package session

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/google/uuid"

	"app-server/patch"
	"app-server/protocol"
)

// A patch may write without asking exactly where a command's sandbox may
// write: the configured roots, cwd and $TMPDIR, /tmp unless excluded, and
// never a root's .git or the server's home. Under approval policy never,
// anything else is refused without a prompt (the client here would fail
// the test if asked).
func TestPatchGateUsesTheSandboxRoots(t *testing.T) {
	cwd, extra, tmpdir, other := t.TempDir(), t.TempDir(), t.TempDir(), t.TempDir()
	home := filepath.Join(extra, "server-home") // inside a root: protected all the same
	t.Setenv("TMPDIR", tmpdir)
	m, err := NewManager(Options{Client: failingClient{t}, Config: Config{
		Home: home, Cwd: cwd, Shell: []string{"/bin/sh", "-c"},
		ApprovalPolicy: protocol.ApprovalNever, Sandbox: protocol.SandboxWorkspaceWrite,
		Network:       protocol.NetworkSettingsReadResponse{Mode: protocol.NetworkModeFull, ApprovalTimeoutDecision: protocol.NetworkTimeoutDecline},
		SandboxConfig: SandboxConfig{WritableRoots: []string{extra}, ExcludeSlashTmp: true},
	}})
	if err != nil {
		t.Fatal(err)
	}
	s := settings{cwd: cwd, policy: protocol.ApprovalNever, sandbox: protocol.SandboxWorkspaceWrite}
	tu := &turn{id: uuid.New(), t: newThread(m, uuid.New(), true, 0, s), settings: s}
	for _, tc := range []struct {
		path string
		want protocol.FileChangeApprovalDecision
	}{
		{filepath.Join(cwd, "a.txt"), protocol.FileChangeAccept},
		{filepath.Join(extra, "a.txt"), protocol.FileChangeAccept},
		{filepath.Join(tmpdir, "a.txt"), protocol.FileChangeAccept},
		{filepath.Join(other, "a.txt"), protocol.FileChangeDecline}, // /tmp excluded (or elsewhere)
		{filepath.Join(cwd, ".git", "hooks", "pre-commit"), protocol.FileChangeDecline},
		{filepath.Join(home, "config.toml"), protocol.FileChangeDecline},
	} {
		item := &protocol.FileChangeItem{ID: "call_" + tc.path}
		got, note := tu.fileChangeGate(context.Background(), item, []patch.Change{{Kind: patch.Add, Path: tc.path}})
		if got != tc.want {
			t.Errorf("patch to %s: %s (%s), want %s", tc.path, got, note, tc.want)
		}
	}
}

// failingClient fails the test on any request: nothing here may prompt.
type failingClient struct{ t *testing.T }

func (failingClient) Notify(string, any) error { return nil }

func (c failingClient) Request(method string, _ any) (ClientCall, error) {
	c.t.Errorf("unexpected request %s", method)
	return nil, context.Canceled
}
