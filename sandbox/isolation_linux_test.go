package sandbox

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// findProcess returns the pid of a process whose argv[0] is name, or 0.
func findProcess(name string) int {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err == nil && bytes.HasPrefix(b, []byte(name+"\x00")) {
			pid, _ := strconv.Atoi(filepath.Base(d))
			return pid
		}
	}
	return 0
}

// nsInode returns the inode of the namespace of kind (user, net, mnt) of
// process pid, or of the namespace an ioctl on it returns.
func nsInode(t *testing.T, pid int, kind string, ioctl uint) uint64 {
	t.Helper()
	fd, err := unix.Open("/proc/"+strconv.Itoa(pid)+"/ns/"+kind, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if ioctl != 0 {
		nfd, err := unix.IoctlRetInt(fd, ioctl)
		if err != nil {
			t.Fatalf("ioctl on %s namespace of %d: %v", kind, pid, err)
		}
		defer unix.Close(nfd)
		fd = nfd
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// TestCommandInNestedUserNamespace: the helper is root in a user
// namespace of its own, which owns the sandbox's mount and network
// namespaces; the command runs in a user namespace nested in it, as the
// server's uid, so it holds nothing over them.
func TestCommandInNestedUserNamespace(t *testing.T) {
	requireSupport(t)
	marker := "nested-userns-" + strconv.Itoa(os.Getpid())
	cmd := exec.Command("/bin/bash", "-c", "echo started; exec -a "+marker+" sleep 60")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := Wrap(cmd, Policy{Mode: ReadOnly, Network: NetworkNone}); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	line := make([]byte, len("started\n"))
	if _, err := stdout.Read(line); err != nil {
		t.Fatal(err)
	}
	var command int
	for deadline := time.Now().Add(10 * time.Second); command == 0; {
		// bash execs sleep right after its echo: wait for the exec.
		if command = findProcess(marker); command == 0 && time.Now().After(deadline) {
			t.Fatal("the command's process never showed")
		}
	}
	helper := cmd.Process.Pid

	server, helperNS, commandNS := nsInode(t, os.Getpid(), "user", 0), nsInode(t, helper, "user", 0), nsInode(t, command, "user", 0)
	if helperNS == server || commandNS == helperNS || commandNS == server {
		t.Fatalf("user namespaces: server %d, helper %d, command %d; want three", server, helperNS, commandNS)
	}
	if parent := nsInode(t, command, "user", unix.NS_GET_PARENT); parent != helperNS {
		t.Fatalf("the command's user namespace is a child of %d, want the helper's %d", parent, helperNS)
	}
	for _, kind := range []string{"net", "mnt"} {
		if nsInode(t, command, kind, 0) != nsInode(t, helper, kind, 0) {
			t.Fatalf("the command is not in the helper's %s namespace", kind)
		}
		if owner := nsInode(t, command, kind, unix.NS_GET_USERNS); owner != helperNS {
			t.Fatalf("the %s namespace is owned by %d, want the helper's user namespace %d", kind, owner, helperNS)
		}
	}
	status, err := os.ReadFile("/proc/" + strconv.Itoa(command) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	uid := strconv.Itoa(os.Getuid())
	if want := "Uid:\t" + uid + "\t" + uid + "\t" + uid + "\t" + uid + "\n"; !strings.Contains(string(status), want) {
		t.Fatalf("the command's ids are not the server's (%s):\n%s", uid, status)
	}
	// Inside, the helper's root maps back to the server's uid.
	out, code := run(t, Policy{Mode: ReadOnly, Network: NetworkNone}, "/", os.Environ(), `id -u; id -g`)
	if want := uid + "\n" + strconv.Itoa(os.Getgid()) + "\n"; code != 0 || out != want {
		t.Fatalf("ids inside: %q exit %d, want %q", out, code, want)
	}
}

// TestSpareIsNewForEachCommand: one helper serves command after command,
// and each finds the sandbox as a new one: what the previous command left
// running is dead, its /dev/shm files and System V objects are gone, and
// its read-only mounts are undone.
func TestSpareIsNewForEachCommand(t *testing.T) {
	requireSupport(t)
	s := NewSpares()
	s.restartDelay = time.Hour // on a slow machine a command may take 10 ms: stay on one helper
	defer s.Close()
	cwd := filepath.Join(t.TempDir(), "work")
	if err := os.MkdirAll(filepath.Join(cwd, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	first := workspaceWrite(cwd, "")
	// The second command's root is the .git directory the first had
	// read-only.
	second := Policy{Mode: WorkspaceWrite, WritableRoots: []string{filepath.Join(cwd, ".git")}, Network: NetworkNone}
	marker := "leftover-" + strconv.Itoa(os.Getpid())

	out, code, helper1 := runOnSpare(t, s, first, cwd, os.Environ(),
		`(exec -a `+marker+` sleep 300) >/dev/null 2>&1 &
		echo x > /dev/shm/leftover && ipcmk -M 4096 >/dev/null && ipcs -m | grep -c '^0x'; echo x > .git/f || echo git-read-only`)
	if code != 0 || !strings.HasPrefix(out, "1\n") || !strings.Contains(out, "git-read-only") {
		t.Fatalf("first command: exit %d, output %q", code, out)
	}
	out, code, helper2 := runOnSpare(t, s, second, cwd, os.Environ(),
		`ls -A /dev/shm; ipcs -m | grep -c '^0x'; echo x > .git/f && echo wrote`)
	if helper2 != helper1 {
		t.Fatalf("the second command ran on helper %d, the first on %d: the spare was not reused", helper2, helper1)
	}
	if code != 0 || out != "0\nwrote\n" {
		t.Fatalf("second command on the same helper: exit %d, output %q; want an empty /dev/shm, no shared memory segment and .git writable", code, out)
	}
	if pid := findProcess(marker); pid != 0 {
		t.Fatalf("process %d left by the first command survived into the second", pid)
	}
}

// TestDevShmIsPrivate: under workspace-write /dev/shm is writable and the
// sandbox's own; under read-only it is not writable.
func TestDevShmIsPrivate(t *testing.T) {
	requireSupport(t)
	name := "app-server-sandbox-test-" + strconv.Itoa(os.Getpid())
	ww := workspaceWrite(t.TempDir(), "")
	if out, code := run(t, ww, "/", os.Environ(), "echo x > /dev/shm/"+name+" && cat /dev/shm/"+name); code != 0 || out != "x\n" {
		t.Fatalf("workspace-write /dev/shm: exit %d, %q", code, out)
	}
	if _, err := os.Stat("/dev/shm/" + name); err == nil {
		os.Remove("/dev/shm/" + name)
		t.Fatal("a file the sandbox wrote in /dev/shm is in the host's")
	}
	if out, code := run(t, Policy{Mode: ReadOnly, Network: NetworkNone}, "/", os.Environ(), "echo x > /dev/shm/"+name); code == 0 {
		t.Fatalf("read-only wrote /dev/shm: %q", out)
	}
}

// TestSpareServesCommandAfterCommand: commands run one after the other
// all run on the one spare helper; none waits for a new one.
func TestSpareServesCommandAfterCommand(t *testing.T) {
	requireSupport(t)
	s := NewSpares()
	s.restartDelay = time.Hour // on a slow machine a command may take 10 ms: stay on one helper
	defer s.Close()
	p := Policy{Mode: ReadOnly, Network: NetworkNone}
	var first int
	for i := 0; i < 20; i++ {
		out, code, helper := runOnSpare(t, s, p, "/", os.Environ(), "echo "+strconv.Itoa(i))
		if code != 0 || out != strconv.Itoa(i)+"\n" {
			t.Fatalf("command %d: exit %d, output %q", i, code, out)
		}
		if i == 0 {
			first = helper
		} else if helper != first {
			t.Fatalf("command %d ran on helper %d, the first on %d", i, helper, first)
		}
	}
}

// TestGitLinkProtectsOnlyItsOwnPlace: a .git link under a writable root
// is followed only into the directory that holds it. One planted under a
// shared root (as /tmp/.git could be) pointing at another project does not
// make that project read-only; a repository whose git directory was
// moved next to it keeps it read-only.
func TestGitLinkProtectsOnlyItsOwnPlace(t *testing.T) {
	requireSupport(t)
	base := t.TempDir()
	project, shared, repo := filepath.Join(base, "project"), filepath.Join(base, "shared"), filepath.Join(base, "repo")
	for _, d := range []string{project, shared, filepath.Join(repo, "realgit")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(project, filepath.Join(shared, ".git")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(repo, "realgit"), filepath.Join(repo, ".git")); err != nil {
		t.Fatal(err)
	}
	roots := []string{project, shared, repo}
	p := Policy{Mode: WorkspaceWrite, WritableRoots: roots, ReadOnlyPaths: ProtectedPaths(roots, ""), Network: NetworkNone}
	if out, code := run(t, p, project, os.Environ(), "echo x > "+filepath.Join(project, "f")); code != 0 {
		t.Fatalf("the project was made read-only by a link planted in another root: exit %d, %q", code, out)
	}
	if out, code := run(t, p, repo, os.Environ(), "echo x > "+filepath.Join(repo, "realgit", "f")); code == 0 {
		t.Fatalf("the repository's relocated git directory was writable: %q", out)
	}
}

// TestMetadataOnlyWhereWritesAre: a file's metadata (mode, times) changes
// only where its contents may: Landlock does not cover metadata, the
// read-only mounts do. A writable root of / makes everything writable.
func TestMetadataOnlyWhereWritesAre(t *testing.T) {
	requireSupport(t)
	base := t.TempDir()
	cwd, outside := filepath.Join(base, "work"), filepath.Join(base, "outside")
	for _, d := range []string{cwd, outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "f"), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ww := workspaceWrite(cwd, "")
	ro := Policy{Mode: ReadOnly, Network: NetworkNone}
	everywhere := Policy{Mode: WorkspaceWrite, WritableRoots: []string{"/"}, Network: NetworkNone}
	for _, c := range []struct {
		name string
		p    Policy
		file string
		want bool
	}{
		{"workspace-write, cwd", ww, filepath.Join(cwd, "f"), true},
		{"workspace-write, outside", ww, filepath.Join(outside, "f"), false},
		{"read-only, cwd", ro, filepath.Join(cwd, "f"), false},
		{"writable root /, outside", everywhere, filepath.Join(outside, "f"), true},
	} {
		for _, change := range []string{"chmod 600 ", "touch -d 2001-01-01 "} {
			out, code := run(t, c.p, cwd, os.Environ(), change+c.file)
			if got := code == 0; got != c.want {
				t.Errorf("%s: %s%s: exit %d, %q; want allowed=%v", c.name, change, c.file, code, out, c.want)
			}
		}
	}
	st, err := os.Stat(filepath.Join(outside, "f"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 { // only the writable-root-/ case may change it
		t.Fatalf("outside file mode %v", st.Mode().Perm())
	}
}

// TestWritableSlashIsUndone: on a reused helper, a command whose
// writable root is / leaves the next command's mounts as they were:
// read-only outside its roots, its own /proc and /dev/shm still there.
func TestWritableSlashIsUndone(t *testing.T) {
	requireSupport(t)
	s := NewSpares()
	s.restartDelay = time.Hour // stay on one helper
	defer s.Close()
	base := t.TempDir()
	cwd, outside := filepath.Join(base, "work"), filepath.Join(base, "outside")
	for _, d := range []string{cwd, outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	everywhere := Policy{Mode: WorkspaceWrite, WritableRoots: []string{"/"}, Network: NetworkNone}
	ww := workspaceWrite(cwd, "")
	if out, code, _ := runOnSpare(t, s, everywhere, cwd, os.Environ(), "touch "+filepath.Join(outside, "f")); code != 0 {
		t.Fatalf("writable /: exit %d, %q", code, out)
	}
	out, code, _ := runOnSpare(t, s, ww, cwd, os.Environ(),
		"chmod 600 "+filepath.Join(outside, "f")+" 2>/dev/null && echo chmod-outside; echo x > /dev/shm/f && cat /dev/shm/f; test -e /proc/1/status && echo proc")
	if code != 0 || out != "x\nproc\n" {
		t.Fatalf("next command: exit %d, %q; want no chmod outside, /dev/shm and /proc", code, out)
	}
}
