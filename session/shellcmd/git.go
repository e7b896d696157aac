package shellcmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// gitCheckTimeout bounds the git commands InertRepository runs.
const gitCheckTimeout = 5 * time.Second

// InertRepository returns nil when git, reading the repository that dir is
// in (status, diff, log, show), cannot run a program the repository chose,
// and otherwise says why it might. A repository chooses programs through
// its own configuration (core.fsmonitor, core.pager and pager.*,
// diff.external, diff and textconv drivers, filters, gpg.program,
// core.hooksPath...), through hooks (git status writes the index, which
// runs post-index-change), and through submodules, whose configuration git
// status reads in turn. The user's global and system configuration are
// the user's own and trusted.
//
// The check accepts only configuration keys known to run nothing, so a key
// that a later git version adds is a prompt, not a hole. It runs git twice
// (rev-parse and config, neither of which runs a configured program) with
// env (nil: the server's) in dir; any failure is a reason to prompt.
func InertRepository(ctx context.Context, dir string, env []string) error {
	ctx, cancel := context.WithTimeout(ctx, gitCheckTimeout)
	defer cancel()
	out, err := runGit(ctx, dir, env, "rev-parse", "--git-path", "hooks", "--git-common-dir")
	if err != nil {
		return err
	}
	paths := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(paths) != 2 {
		return fmt.Errorf("git rev-parse printed %q", out)
	}
	hooks, common := absIn(dir, paths[0]), absIn(dir, paths[1])
	entries, err := os.ReadDir(hooks)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".sample") {
			return fmt.Errorf("the repository has a hook: %s", filepath.Join(hooks, e.Name()))
		}
	}
	if _, err := os.Stat(filepath.Join(common, "modules")); err == nil {
		return errors.New("the repository has submodules, whose configuration git reads too")
	}

	out, err = runGit(ctx, dir, env, "config", "--list", "--show-scope", "--includes", "-z")
	if err != nil {
		return err
	}
	// Entries are scope NUL key [LF value] NUL.
	fields := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	for i := 0; i+1 < len(fields); i += 2 {
		scope := fields[i]
		key, _, _ := strings.Cut(fields[i+1], "\n")
		if (scope == "local" || scope == "worktree") && !inertGitKey(key) {
			return fmt.Errorf("the repository's configuration sets %s, which may run a program", key)
		}
	}
	return nil
}

func runGit(ctx context.Context, dir string, env []string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir, cmd.Env = dir, env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git %s: %v: %s", args[0], err, bytes.TrimSpace(stderr.Bytes()))
	}
	return out, nil
}

func absIn(dir, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

// inertGitKeys are the repository configuration keys (as git config
// --list spells them: section and name lowercased) that make git run
// nothing: what git init and git clone write, and identity.
var inertGitKeys = map[string]bool{
	"core.repositoryformatversion": true, "core.filemode": true, "core.bare": true,
	"core.logallrefupdates": true, "core.ignorecase": true, "core.precomposeunicode": true,
	"core.symlinks": true, "core.autocrlf": true, "core.safecrlf": true, "core.eol": true,
	"core.quotepath": true, "core.sparsecheckout": true, "core.sparsecheckoutcone": true,
	"core.untrackedcache": true, "core.checkstat": true, "core.trustctime": true, "core.abbrev": true,
	"extensions.objectformat": true, "extensions.worktreeconfig": true, "extensions.refstorage": true,
	"user.name": true, "user.email": true, "init.defaultbranch": true,
	"pull.rebase": true, "pull.ff": true, "push.default": true, "fetch.prune": true,
}

// inertGitSubsectionKeys are the names that are inert under any
// subsection of their section (remote.origin.url, branch.main.merge).
var inertGitSubsectionKeys = map[string]map[string]bool{
	"remote": {"url": true, "pushurl": true, "fetch": true, "push": true, "tagopt": true, "prune": true, "mirror": true},
	"branch": {"remote": true, "merge": true, "rebase": true, "pushremote": true, "description": true},
}

func inertGitKey(key string) bool {
	if inertGitKeys[key] {
		return true
	}
	section, rest, ok := strings.Cut(key, ".")
	if i := strings.LastIndexByte(rest, '.'); ok && i >= 0 {
		return inertGitSubsectionKeys[section][rest[i+1:]]
	}
	return false
}
