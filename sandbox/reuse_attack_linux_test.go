package sandbox

// Attacks on a reused spare helper (Spares runs command after command in
// one sandbox) and on the nested user namespace, each as a hostile
// command would try it: the first command tries to leave something
// behind or to tamper with its stage or helper, and the next command on
// the same helper (or the test, from outside) checks that it failed.

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// reusedHelper runs command after command on one spare helper and fails
// the test if a command ran on another (the spare was not reused) or if
// one hangs.
type reusedHelper struct {
	t      *testing.T
	s      *Spares
	helper int
	hung   atomic.Bool
}

// newReusedHelper returns a Spares whose helper serves every command of
// the test: no new spare starts while a command runs, so the one in use
// stays the idle one. A command still running a minute on ends the test.
func newReusedHelper(t *testing.T) *reusedHelper {
	t.Helper()
	requireSupport(t)
	r := &reusedHelper{t: t, s: NewSpares()}
	r.s.restartDelay = time.Hour
	watchdog := time.AfterFunc(time.Minute, func() {
		r.hung.Store(true)
		r.s.Close() // the Wait that hangs returns
	})
	t.Cleanup(func() { watchdog.Stop(); r.s.Close() })
	return r
}

// run runs script under p in dir with env on the reused helper.
func (r *reusedHelper) run(p Policy, dir string, env []string, script string) (string, int) {
	r.t.Helper()
	out, code, helper := runOnSpare(r.t, r.s, p, dir, env, script)
	r.check(helper)
	return out, code
}

// runCmd runs cmd (stdout and stderr unset) under p on the reused helper.
func (r *reusedHelper) runCmd(p Policy, cmd *exec.Cmd) (string, int) {
	r.t.Helper()
	r.s.Prestart()
	select {
	case <-r.s.Ready():
	case <-time.After(20 * time.Second):
		r.t.Fatal("the spare helper never became ready")
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		r.t.Fatal(err)
	}
	defer outR.Close()
	cmd.Stdout, cmd.Stderr = outW, outW
	proc, err := r.s.Start(cmd, p)
	outW.Close()
	if err != nil || proc == nil {
		r.t.Fatalf("Start on a ready spare = %v, %v", proc, err)
	}
	var out strings.Builder
	_, _ = bufio.NewReader(outR).WriteTo(&out)
	code, err := proc.Wait()
	if err != nil {
		r.t.Fatal(err)
	}
	r.check(proc.Pid)
	return out.String(), code
}

// nextRuns runs `echo next` under p in dir: the helper still serves
// commands after what the one before tried.
func (r *reusedHelper) nextRuns(p Policy, dir string) {
	r.t.Helper()
	if out, code := r.run(p, dir, os.Environ(), `echo next`); code != 0 || out != "next\n" {
		r.t.Fatalf("next command: exit %d, %q", code, out)
	}
}

func (r *reusedHelper) check(helper int) {
	r.t.Helper()
	if r.hung.Load() {
		r.t.Fatal("a command on the reused helper hung for a minute")
	}
	if r.helper == 0 {
		r.helper = helper
	} else if helper != r.helper {
		r.t.Fatalf("the command ran on helper %d, the earlier ones on %d: the spare was not reused", helper, r.helper)
	}
}

// stagePid is the pid (outside) of the helper's one child, its command
// stage.
func stagePid(t *testing.T, helper int) int {
	t.Helper()
	dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, d := range dirs {
		b, err := os.ReadFile(d)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, not ')'.
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(f) > 1 && f[1] == strconv.Itoa(helper) {
			pid, _ := strconv.Atoi(strings.Fields(string(b))[0])
			return pid
		}
	}
	t.Fatalf("helper %d has no child", helper)
	return 0
}

// workspace returns a directory and a workspace-write policy (network
// none) whose writable roots are it and its parent, both the test's own.
func workspace(t *testing.T) (base, cwd string, p Policy) {
	t.Helper()
	base = t.TempDir()
	cwd = filepath.Join(base, "work")
	if err := os.MkdirAll(cwd, 0o755); err != nil {
		t.Fatal(err)
	}
	roots := []string{cwd, base}
	return base, cwd, Policy{Mode: WorkspaceWrite, WritableRoots: roots, ReadOnlyPaths: ProtectedPaths(roots, ""), Network: NetworkNone}
}

// TestReuseLeftoversDie: whatever the first command leaves running, and
// however it hides, is dead before the next command starts: a
// double-forked setsid process, one that ignores SIGTERM and SIGHUP, a
// stopped one, one in a pid namespace of its own (unshare -Upf, which the
// command may create) and a loop that keeps forking.
func TestReuseLeftoversDie(t *testing.T) {
	r := newReusedHelper(t)
	_, cwd, p := workspace(t)
	mark := "rt" + strconv.Itoa(os.Getpid())
	env := append(os.Environ(), "MARK="+mark)
	kinds := []string{"setsid", "noterm", "stopped", "nestedpid", "forked"}
	// The forking loop starts last, once the others run, and the command
	// ends as soon as it has forked once: how many it forks before the
	// stage kills them is up to the scheduler.
	out, code := r.run(p, cwd, env, `exec 3>&1 >/dev/null 2>&1
		running() { test "$(ps -eo args= | grep -oE "^$MARK-[a-z]+" | sort -u | wc -l)" = $1; }
		waitfor() { until running $1; do test $SECONDS -lt 20 || exit 1; done; }
		(setsid bash -c '(exec -a $MARK-setsid sleep 300) &' &)
		(trap '' TERM HUP INT; exec -a $MARK-noterm sleep 300) &
		unshare -Upf bash -c 'exec -a $MARK-nestedpid sleep 300' &
		(exec -a $MARK-stopped sleep 300) & stopped=$!
		waitfor 4; kill -STOP $stopped
		(while :; do (exec -a $MARK-forked sleep 300) & done) &
		waitfor 5; echo all-running >&3`)
	if code != 0 || out != "all-running\n" {
		t.Fatalf("the first command could not start its leftovers: exit %d, %q", code, out)
	}
	out, code = r.run(p, cwd, env, `ps -eo args= | grep -c "^$MARK-"`)
	if code != 1 || out != "0\n" {
		t.Fatalf("the next command sees the first one's processes: exit %d, %q", code, out)
	}
	for _, k := range kinds {
		if pid := findProcess(mark + "-" + k); pid != 0 {
			t.Fatalf("the first command's %s process (%d) is alive", k, pid)
		}
	}
}

// TestReuseCommandHoldsOnlyStdio: a command has fds 0, 1 and 2 only, not
// its stage's socket to the helper (3) or the server's socket on which
// the stage reports (4: with it a command could report any status for
// itself while it runs, and read the next command's hand-off, its
// environment and output), nor what the server inherited without
// close-on-exec.
func TestReuseCommandHoldsOnlyStdio(t *testing.T) {
	// Inherited without close-on-exec by the spare about to start.
	fd, err := unix.Open(os.DevNull, unix.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	r := newReusedHelper(t)
	_, cwd, p := workspace(t)
	out, code := r.run(p, cwd, os.Environ(), `ls /proc/$$/fd # no pipe: bash holds none of its own fds meanwhile
		for fd in 3 4 `+strconv.Itoa(fd)+`; do { printf '\052' >&$fd; } 2>/dev/null && echo wrote-$fd; done; exit 3`)
	if code != 3 || out != "0\n1\n2\n" {
		t.Fatalf("fds: exit %d, %q; want only 0 1 2, exit 3", code, out)
	}
	r.nextRuns(p, cwd)
}

// TestReuseMountsUndoneByWhatWasMounted: the helper undoes a command's
// read-only mounts by their descriptors. By path, a command could make
// the path (a symlink under a writable root) name /proc at the end, and
// the helper would unmount the sandbox's /proc: the next command would
// see the host's processes.
func TestReuseMountsUndoneByWhatWasMounted(t *testing.T) {
	r := newReusedHelper(t)
	base, cwd, p := workspace(t)
	if err := os.Mkdir(filepath.Join(base, "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "BASE="+base)
	// A protected path that is a symlink: the helper binds its target.
	if out, code := r.run(p, cwd, env, `ln -s $BASE/dir $BASE/.git`); code != 0 {
		t.Fatalf("first command: exit %d, %q", code, out)
	}
	out, code := r.run(p, cwd, env, `echo x 2>/dev/null > $BASE/dir/f || echo read-only; ln -s /proc $BASE/.new && mv -T $BASE/.new $BASE/.git && echo swapped`)
	if code != 0 || out != "read-only\nswapped\n" {
		t.Fatalf("second command: exit %d, %q; want the symlink's target read-only and the symlink swapped", code, out)
	}
	out, code = r.run(p, cwd, env, `tr '\0' ' ' </proc/1/cmdline; echo; echo x > $BASE/dir/f && echo writable`)
	if code != 0 || !strings.HasPrefix(out, "app-server "+spareArg) || !strings.HasSuffix(out, "writable\n") {
		t.Fatalf("third command: exit %d, %q; want the sandbox's own /proc (PID 1 the helper) and the earlier read-only mount undone", code, out)
	}
}

// TestReuseProcessAttributes: what a command changes of itself (umask,
// limits, environment, directory, nice) or tries to change of its stage
// and helper, which run as the same user (prlimit, renice, taskset,
// ionice, chrt), does not reach the next command, which would inherit
// the stage's.
func TestReuseProcessAttributes(t *testing.T) {
	r := newReusedHelper(t)
	_, cwd, p := workspace(t)
	show := `umask; ulimit -n -s -f -u -v; nice; taskset -p $$ | sed 's/.*: //'; ionice -p $$; chrt -p $$ | sed 's/.*: //'; echo "${RT_VAR-unset}"; pwd`
	before, code := r.run(p, cwd, os.Environ(), show)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, before)
	}
	out, _ := r.run(p, cwd, os.Environ(), `umask 077; ulimit -n 64; ulimit -f 1; renice -n 5 -p $$ >/dev/null; export RT_VAR=set; cd /
		for pid in $PPID 1; do
			prlimit --pid $pid --nofile=20:20 2>/dev/null && echo prlimit-$pid
			prlimit --pid $pid --fsize=1:1 2>/dev/null && echo fsize-$pid
			renice -n 7 -p $pid >/dev/null 2>&1 && echo renice-$pid
			taskset -p 1 $pid >/dev/null 2>&1 && echo taskset-$pid
			ionice -c 3 -p $pid 2>/dev/null && echo ionice-$pid
			chrt -i -p 0 $pid 2>/dev/null && echo chrt-$pid
		done; true`)
	if out != "" {
		t.Fatalf("the command changed its stage or helper:\n%s", out)
	}
	after, code := r.run(p, cwd, os.Environ(), show)
	if code != 0 || after != before {
		t.Fatalf("the next command differs: exit %d\n%s\nwant\n%s", code, after, before)
	}
}

// keyringScript adds (add) or looks for (find) a key in the user, user
// session and session keyrings, through the raw system calls (keyctl(1)
// need not be installed).
const keyringScript = `python3 - "$1" <<'EOF'
import ctypes, platform, sys
add_key, keyctl = {"x86_64": (248, 250), "aarch64": (217, 219), "riscv64": (217, 219)}[platform.machine()]
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
L = ctypes.c_long
for ring in (-4, -5, -3):
    if sys.argv[1] == "add":
        r = libc.syscall(L(add_key), b"user", b"redteam-key", b"secret", L(6), L(ring))
    else:
        r = libc.syscall(L(keyctl), L(10), L(ring), b"user", b"redteam-key", L(0))  # KEYCTL_SEARCH
    print(sys.argv[1], ring, "ok" if r >= 0 else "errno %d" % ctypes.get_errno())
EOF`

// TestReuseNoKeyrings: the kernel's keyrings are not namespaced with the
// sandbox: every command of a helper shares the user keyring of the
// stage's user namespace, and the session keyring is the server's. The
// command may not use them.
func TestReuseNoKeyrings(t *testing.T) {
	r := newReusedHelper(t)
	_, cwd, p := workspace(t)
	out, _ := r.run(p, cwd, os.Environ(), `set -- add; `+keyringScript)
	if strings.Contains(out, "ok") || !strings.Contains(out, fmt.Sprintf("errno %d", unix.EPERM)) {
		t.Fatalf("adding keys: %q; want each refused with EPERM", out)
	}
	out, _ = r.run(p, cwd, os.Environ(), `set -- find; `+keyringScript)
	if strings.Contains(out, "ok") || !strings.Contains(out, "find") {
		t.Fatalf("the next command found a key: %q", out)
	}
}

// TestReuseIPCAndShmAreNew: System V queues, semaphores and segments,
// POSIX message queues and /dev/shm files of one command are not the
// next one's.
func TestReuseIPCAndShmAreNew(t *testing.T) {
	r := newReusedHelper(t)
	_, cwd, p := workspace(t)
	mq := `python3 -c 'import ctypes,sys; rt=ctypes.CDLL("librt.so.1",use_errno=True); fd=rt.mq_open(b"/redteam-mq",int(sys.argv[1]),0o600,None); print("mq", "ok" if fd>=0 else "errno %d" % ctypes.get_errno())' `
	out, code := r.run(p, cwd, os.Environ(), `ipcmk -Q >/dev/null && ipcmk -S 2 >/dev/null && ipcmk -M 4096 >/dev/null && echo x > /dev/shm/rt && ipcs -q -s -m | grep -c '^0x'; `+mq+` 66`)
	if code != 0 || !strings.HasPrefix(out, "3\n") {
		t.Fatalf("first command: exit %d, %q", code, out)
	}
	out, _ = r.run(p, cwd, os.Environ(), `ipcs -q -s -m | grep -c '^0x'; ls -A /dev/shm; `+mq+` 0`)
	if !strings.HasPrefix(out, "0\nmq errno") {
		t.Fatalf("the next command sees the first one's IPC objects or files: %q", out)
	}
}

// TestReuseCommandCannotSignalStageOrHelper: the command runs as the same
// user as its stage and helper; Landlock (ABI 6 and later) keeps its
// signals to its own processes, so it can neither stop nor kill them
// (kill -STOP of the stage after it reported would hold up the next
// command; signals the helper's runtime dies of would end the sandbox).
// Where Landlock cannot, the helper resumes a stopped stage, and a killed
// stage or helper is a helper gone: the next command gets a new one,
// sandboxed.
func TestReuseCommandCannotSignalStageOrHelper(t *testing.T) {
	r := newReusedHelper(t)
	_, cwd, p := workspace(t)
	script := `for s in STOP TSTP ABRT SEGV KILL; do kill -$s $PPID 2>/dev/null && echo sent-$s-stage; done
		for s in TERM USR1 ABRT SYS KILL; do kill -$s 1 2>/dev/null && echo sent-$s-helper; done; exit 4`
	if landlockABI() < 6 {
		out, code, _ := runOnSpare(t, r.s, p, cwd, os.Environ(), script)
		t.Logf("Landlock ABI %d cannot scope signals: first command exit %d, %q", landlockABI(), code, out)
		out, code, _ = runOnSpare(t, r.s, p, cwd, os.Environ(), `grep -c '^Seccomp:.2' /proc/self/status`)
		if code != 0 || out != "1\n" {
			t.Fatalf("the next command: exit %d, %q; want it sandboxed", code, out)
		}
		return
	}
	out, code := r.run(p, cwd, os.Environ(), script)
	if code != 4 || out != "" {
		t.Fatalf("signals from the command: exit %d, %q; want every one refused, exit 4", code, out)
	}
	r.nextRuns(p, cwd)
}

// TestReuseStoppedStageIsResumed: a stage stopped between commands (here
// from outside, as a command could where Landlock cannot scope signals)
// is resumed by the helper, and the next command runs.
func TestReuseStoppedStageIsResumed(t *testing.T) {
	r := newReusedHelper(t)
	_, cwd, p := workspace(t)
	if out, code := r.run(p, cwd, os.Environ(), `echo one`); code != 0 || out != "one\n" {
		t.Fatalf("first command: exit %d, %q", code, out)
	}
	if err := syscall.Kill(stagePid(t, r.helper), syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	if out, code := r.run(p, cwd, os.Environ(), `echo two`); code != 0 || out != "two\n" {
		t.Fatalf("command after the stage was stopped: exit %d, %q", code, out)
	}
}

// listenerScript listens on 127.0.0.1, prints the port and leaves a
// process behind that holds the socket.
const listenerScript = `python3 -c '
import os, socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
print(s.getsockname()[1], flush=True)
if os.fork(): os._exit(0)
os.setsid(); n = os.open("/dev/null", os.O_WRONLY); os.dup2(n, 1); os.dup2(n, 2)
time.sleep(300)'`

// TestReuseNetworkIsNew: the command cannot change the sandbox's network
// (no capability over its namespace), and a socket a leftover process
// listened on is gone with it.
func TestReuseNetworkIsNew(t *testing.T) {
	r := newReusedHelper(t)
	_, cwd, p := workspace(t)
	out, code := r.run(p, cwd, os.Environ(), ifFlags+`
		{
		echo 1 > /proc/sys/net/ipv4/ip_forward && echo sysctl-written
		echo 0 > /proc/sys/net/ipv4/ip_unprivileged_port_start && echo sysctl-set
		loflags down && echo lo-down
		} 2>/dev/null; `+listenerScript)
	port, err := strconv.Atoi(strings.TrimSpace(out))
	if code != 0 || err != nil {
		t.Fatalf("first command: exit %d, %q", code, out)
	}
	out, code = r.run(p, cwd, os.Environ(), ifFlags+`
		loflags; exec 2>/dev/null 3<>/dev/tcp/127.0.0.1/`+strconv.Itoa(port)+` && echo connected`)
	if out != "lo up\n" || code == 0 {
		t.Fatalf("the next command: exit %d, %q; want lo up and the leftover's port closed", code, out)
	}
}

// ifFlags defines loflags, which prints whether lo is up, or with the
// argument down brings it down, by ioctl on an AF_INET socket (the
// command may open no netlink socket).
const ifFlags = `loflags() { python3 - "$@" <<'EOF'
import fcntl, socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
flags = struct.unpack("16sH", fcntl.ioctl(s, 0x8913, struct.pack("16sH", b"lo", 0)))[1]  # SIOCGIFFLAGS
if len(sys.argv) > 1:
    fcntl.ioctl(s, 0x8914, struct.pack("16sH", b"lo", flags & ~1))  # SIOCSIFFLAGS
else:
    print("lo", "up" if flags & 1 else "down")
EOF
}`

// TestReuseRelayFollowsPolicy: the relay listens only while the policy
// routes through the proxy (a command with network none finds the
// earlier relay's ports refused at once), and relays to the current
// command's proxy, not an earlier one's.
func TestReuseRelayFollowsPolicy(t *testing.T) {
	r := newReusedHelper(t)
	_, cwd, none := workspace(t)
	dir := t.TempDir()
	proxy := func(name string) Policy {
		sock := filepath.Join(dir, name+".sock")
		ln, err := net.Listen("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go func() {
					defer c.Close()
					line, _ := bufio.NewReader(c).ReadString('\n')
					fmt.Fprintf(c, "%s got %s", name, line)
				}()
			}
		}()
		p := none
		p.Network, p.Proxy = NetworkProxy, &ProxySockets{HTTP: sock, SOCKS: sock}
		return p
	}
	a, b := proxy("A"), proxy("B")
	env := append(os.Environ(), "HTTP_PROXY=http://u:secret@127.0.0.1:1", "ALL_PROXY=socks5h://u:secret@127.0.0.1:2")
	through := `hp=${HTTP_PROXY#http://u:secret@127.0.0.1:}; sp=${ALL_PROXY#socks5h://u:secret@127.0.0.1:}
		exec 3<>/dev/tcp/127.0.0.1/$sp; echo hello >&3; read -r reply <&3; echo "$hp $sp $reply"`
	relayed := func(p Policy, want string) (ports []string) {
		t.Helper()
		out, code := r.run(p, cwd, env, through)
		f := strings.Fields(out)
		if code != 0 || len(f) != 5 || strings.Join(f[2:], " ") != want+" got hello" {
			t.Fatalf("through the relay: exit %d, %q; want %q", code, out, want+" got hello")
		}
		return f[:2]
	}
	refused := func(ports []string) {
		t.Helper()
		start := time.Now()
		for _, port := range ports {
			out, code := r.run(none, cwd, env, `exec 3<>/dev/tcp/127.0.0.1/`+port+` && echo connected`)
			if code == 0 || strings.Contains(out, "connected") {
				t.Fatalf("network none reached the relay's port %s: %q", port, out)
			}
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Fatalf("refusals took %v", d)
		}
	}
	ports := relayed(a, "A")
	refused(ports)
	relayed(b, "B")
	relayed(a, "A")
	refused(relayed(b, "B"))
}

// TestReuseOversizedRequests: a command whose environment the kernel
// refuses (a variable over its 128 KiB limit) fails with 126 and leaves
// the helper serving; one whose request exceeds the hand-off's bound ends
// its helper at the hand-off (Start returns nil, the caller's cold path
// reports it), with no hang, and the next command gets a new helper.
func TestReuseOversizedRequests(t *testing.T) {
	r := newReusedHelper(t)
	_, cwd, p := workspace(t)
	big := append(os.Environ(), "RT_BIG="+strings.Repeat("x", 200<<10))
	out, code := r.run(p, cwd, big, `echo ran`)
	if code != 126 || !strings.Contains(out, "argument list too long") {
		t.Fatalf("a 200 KiB variable: exit %d, %q; want 126, argument list too long", code, out)
	}
	r.nextRuns(p, cwd)
	cmd := exec.Command("/bin/true")
	cmd.Env = []string{"RT_HUGE=" + strings.Repeat("x", maxRequest)}
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if proc, err := r.s.Start(cmd, p); proc != nil || err != nil {
		t.Fatalf("Start with a request over %d bytes = %v, %v; want nil, nil", maxRequest, proc, err)
	}
	out, code, helper := runOnSpare(t, r.s, p, cwd, os.Environ(), `echo after`)
	if code != 0 || out != "after\n" || helper == r.helper {
		t.Fatalf("after the oversized request: exit %d, %q on helper %d (was %d)", code, out, helper, r.helper)
	}
}

// TestReuseStartFailureKeepsHelper: a command that cannot start (its
// interpreter is missing) gets 127 and the helper serves the next one.
func TestReuseStartFailureKeepsHelper(t *testing.T) {
	r := newReusedHelper(t)
	base, cwd, p := workspace(t)
	script := filepath.Join(base, "script")
	if err := os.WriteFile(script, []byte("#!/nonexistent/interpreter\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(script)
	cmd.Dir = cwd
	out, code := r.runCmd(p, cmd)
	if code != 127 {
		t.Fatalf("missing interpreter: exit %d, %q; want 127", code, out)
	}
	r.nextRuns(p, cwd)
}

// TestReuseNoControllingTerminal: a command cannot reach the server's
// controlling terminal (/dev/tty): not to write to it, not to push input
// into it with TIOCSTI for the shell that reads it after the server
// (bubblewrap's --new-session, CVE-2017-5226). The test runs itself
// again as a process whose controlling terminal is a new pty, which
// then runs commands on a spare, twice, and on a cold helper.
func TestReuseNoControllingTerminal(t *testing.T) {
	const childEnv = "SANDBOX_TEST_TTY_CHILD"
	if os.Getenv(childEnv) != "" {
		fd, err := unix.Open("/dev/tty", unix.O_RDWR, 0)
		if err != nil {
			t.Fatalf("the test's child has no controlling terminal: %v", err)
		}
		unix.Close(fd)
		r := newReusedHelper(t)
		_, cwd, p := workspace(t)
		script := `{ echo x > /dev/tty && echo wrote-tty
			python3 -c 'import fcntl, os, termios; fcntl.ioctl(os.open("/dev/tty", os.O_RDWR), termios.TIOCSTI, b"x")' && echo pushed; } 2>/dev/null; true`
		for _, where := range []string{"a spare", "the spare again"} {
			if out, _ := r.run(p, cwd, os.Environ(), script); out != "" {
				t.Fatalf("a command on %s reached the terminal: %q", where, out)
			}
		}
		if out, _ := run(t, p, cwd, os.Environ(), script); out != "" {
			t.Fatalf("a command on a cold helper reached the terminal: %q", out)
		}
		return
	}
	requireSupport(t)
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer master.Close()
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	tty, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^TestReuseNoControllingTerminal$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.Stdin = tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestReuseNoControllingTerminal") {
		t.Fatalf("with a controlling terminal: %v\n%s", err, out)
	}
}

// TestReusePtysAreTheSandboxs: the sandbox has a devpts instance of its
// own. The host's holds the terminals of the server's user, which the
// command (the same user, with /dev/pts writable for ptys of its own)
// could write to or read from; it can still open ptys of its own.
func TestReusePtysAreTheSandboxs(t *testing.T) {
	r := newReusedHelper(t)
	_, cwd, p := workspace(t)
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer master.Close()
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	hostPts := "/dev/pts/" + strconv.Itoa(n)
	for i := 0; i < 2; i++ {
		out, code := r.run(p, cwd, os.Environ(), `echo spoofed 2>/dev/null >`+hostPts+` && echo wrote
			python3 -c 'import os, pty; m, s = pty.openpty(); os.write(m, b"x\n"); print("own pty", os.read(s, 10))'`)
		if code != 0 || out != "own pty b'x\\n'\n" {
			t.Fatalf("command %d: exit %d, %q; want the host's %s out of reach and a pty of its own", i+1, code, out, hostPts)
		}
	}
	// What the host's terminal got: anything before the test's own line
	// came from the sandbox.
	tty, err := os.OpenFile(hostPts, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	if _, err := tty.WriteString("end\n"); err != nil {
		t.Fatal(err)
	}
	got, err := bufio.NewReader(master).ReadString('\n')
	if err != nil || got != "end\r\n" {
		t.Fatalf("the host's terminal read %q, %v; want only the test's own line", got, err)
	}
}

// TestReuseDirRemovedBetweenCommands: a command that removes its own
// directory leaves the helper serving; a command whose directory is gone
// is not handed to the spare (Start returns nil: the caller's cold path
// reports the missing directory as exec does), and the next one runs on
// the same helper.
func TestReuseDirRemovedBetweenCommands(t *testing.T) {
	r := newReusedHelper(t)
	base, cwd, p := workspace(t)
	gone := filepath.Join(base, "gone")
	if err := os.Mkdir(gone, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, code := r.run(p, gone, os.Environ(), `cd / && rmdir `+gone+` && echo removed`); code != 0 || out != "removed\n" {
		t.Fatalf("first command: exit %d, %q", code, out)
	}
	cmd := exec.Command("/bin/true")
	cmd.Dir = gone
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if proc, err := r.s.Start(cmd, p); proc != nil || err != nil {
		t.Fatalf("Start in a removed directory = %v, %v; want nil, nil", proc, err)
	}
	if out, code := r.run(p, cwd, os.Environ(), `pwd`); code != 0 || out != cwd+"\n" {
		t.Fatalf("next command: exit %d, %q", code, out)
	}
}
