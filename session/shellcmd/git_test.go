package shellcmd

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// gitEnv is an environment whose global and system git configuration are
// empty, so that the machine's own does not matter.
func gitEnv(t *testing.T) []string {
	t.Helper()
	home := t.TempDir()
	return append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+home, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+filepath.Join(home, "gitconfig"))
}

func gitIn(t *testing.T, dir string, env []string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir, cmd.Env = dir, env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

func TestInertRepository(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("git is not installed: this test needs it (.ci/run installs it)")
	}
	env := gitEnv(t)
	newRepo := func(t *testing.T) string {
		dir := t.TempDir()
		gitIn(t, dir, env, "init", "-q")
		gitIn(t, dir, env, "config", "user.name", "x")
		gitIn(t, dir, env, "remote", "add", "origin", "https://example.com/x.git")
		return dir
	}
	ctx := context.Background()

	t.Run("fresh repository", func(t *testing.T) {
		dir := newRepo(t)
		sub := filepath.Join(dir, "sub")
		os.Mkdir(sub, 0o755)
		for _, d := range []string{dir, sub} {
			if err := InertRepository(ctx, d, env); err != nil {
				t.Errorf("%s: %v", d, err)
			}
		}
	})
	for _, tc := range []struct {
		name, want string
		setup      func(t *testing.T, dir string)
	}{
		{"fsmonitor", "core.fsmonitor", func(t *testing.T, dir string) {
			gitIn(t, dir, env, "config", "core.fsmonitor", "touch marker")
		}},
		{"pager", "pager.status", func(t *testing.T, dir string) {
			gitIn(t, dir, env, "config", "pager.status", "evil")
		}},
		{"external diff", "diff.external", func(t *testing.T, dir string) {
			gitIn(t, dir, env, "config", "diff.external", "evil")
		}},
		{"textconv driver", "diff.x.textconv", func(t *testing.T, dir string) {
			gitIn(t, dir, env, "config", "diff.x.textconv", "evil")
		}},
		{"alias", "alias.st", func(t *testing.T, dir string) {
			gitIn(t, dir, env, "config", "alias.st", "!evil")
		}},
		{"included file", "include.path", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "inc"), []byte("[core]\n\tpager = evil\n"), 0o644)
			gitIn(t, dir, env, "config", "include.path", "../inc")
		}},
		{"hook", "post-index-change", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, ".git", "hooks", "post-index-change"), []byte("#!/bin/sh\ntouch marker\n"), 0o755)
		}},
		{"submodules", "submodules", func(t *testing.T, dir string) {
			os.MkdirAll(filepath.Join(dir, ".git", "modules", "m"), 0o755)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := newRepo(t)
			tc.setup(t, dir)
			err := InertRepository(ctx, dir, env)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("InertRepository = %v, want an error naming %s", err, tc.want)
			}
		})
	}
	t.Run("not a repository", func(t *testing.T) {
		if err := InertRepository(ctx, t.TempDir(), env); err == nil {
			t.Error("InertRepository outside a repository = nil, want an error")
		}
	})
}
