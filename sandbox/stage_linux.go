package sandbox

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// stageArg is the hidden first argument of the command stage (runStage).
const stageArg = "__sandbox-command"

// stageReportsArg follows stageArg when fd 4 is the server's socket, on
// which the stage reports the command's exit status.
const stageReportsArg = "report"

// The command stage is the command's parent: the helper, root in its own
// user namespace, starts it in a nested one that maps the server's uid and
// gid back (so the command runs as the server's user), and it starts the command from a thread that holds no
// capability. The helper's namespace owns the mount and network
// namespaces; the stage's does not, so nothing the command runs, even a
// root that regained capabilities in a namespace of its own, can undo a
// mount or touch the network set-up (the kernel checks capabilities in
// the namespace that owns them, which the command is not in).
//
// The helper starts the stage before it gets the command (a spare's is
// ready with it), so the stage's own start is not the command's wait.

// stage is the helper's view of its command stage.
type stage struct {
	pid  int
	sock *os.File // the helper's end: the hand-off goes out on it
}

// startStage starts the command stage in a nested user namespace as uid
// and gid (the server's); status, if not nil, is where the stage writes
// the command's exit status as soon as it is known (the server's socket
// of a spare). It does not wait for the stage's own start (see ready): a
// cold helper sets the rest up meanwhile and hands the command over
// whenever, the socket holds it. The helper's fresh /proc must be
// mounted: the uid map is written through it.
func startStage(uid, gid int, status *os.File) (*stage, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	mine := os.NewFile(uintptr(fds[0]), "stage")
	theirs := os.NewFile(uintptr(fds[1]), "stage-child")
	defer theirs.Close()
	files := []uintptr{0, 1, 2, theirs.Fd()}
	args := []string{"app-server", stageArg}
	if status != nil {
		files = append(files, status.Fd())
		args = append(args, stageReportsArg)
	}
	pid, err := syscall.ForkExec(selfExe, args, &syscall.ProcAttr{
		Env:   []string{}, // the command's environment comes with the hand-off
		Files: files,
		Sys: &syscall.SysProcAttr{
			Cloneflags: syscall.CLONE_NEWUSER,
			// A session of its own: the stage and its commands have no
			// controlling terminal, so a command can neither write to the
			// server's terminal nor push input into it (TIOCSTI) for the
			// shell that reads it next.
			Setsid: true,
			// Back to the server's ids, from the helper's root (0).
			UidMappings:                []syscall.SysProcIDMap{{ContainerID: uid, HostID: 0, Size: 1}},
			GidMappings:                []syscall.SysProcIDMap{{ContainerID: gid, HostID: 0, Size: 1}},
			GidMappingsEnableSetgroups: false,
			// Kept across the exec even by a uid that is not root, so
			// that the launcher can empty the command's bounding set and
			// lock its securebits, and give it an IPC namespace of its
			// own (launcher). Only over this namespace, which owns
			// nothing else.
			AmbientCaps: []uintptr{unix.CAP_SETPCAP, unix.CAP_SYS_ADMIN},
		},
	})
	if err != nil {
		mine.Close()
		return nil, fmt.Errorf("starting the command stage: %w", err)
	}
	return &stage{pid: pid, sock: mine}, nil
}

// ready waits until the stage says it is ready for the command.
func (st *stage) ready() error {
	var b [1]byte
	if n, _ := st.sock.Read(b[:]); n != 1 {
		return errors.New("the command stage exited before it was ready")
	}
	return nil
}

// runStage is the command stage: fd 3 is its socket to the helper. It
// prepares the thread the command is forked from, says it is ready,
// receives the command, starts it with the policy's Landlock rules and
// waits for it. A cold helper's stage then exits with the command's exit
// status (128+N if signal N killed it). A spare's stage (stageReportsArg)
// writes the status on the server's socket (fd 4) as soon as it is
// known, kills and reaps whatever the command left behind in the
// sandbox, prepares a new thread and tells the helper it is done, ready
// for the next command.
func runStage() {
	// Only fds 0, 1 and 2 pass to the command: its socket to the helper
	// (3), the server's socket (4, on which the command could forge its
	// exit status and read the next command's hand-off) and whatever the
	// server itself inherited without close-on-exec stay here.
	if err := unix.CloseRange(3, math.MaxUint32, unix.CLOSE_RANGE_CLOEXEC); err != nil {
		fatalf("close-on-exec: %v", err)
	}
	ctl := os.NewFile(3, "stage")
	var status *os.File
	if len(os.Args) > 2 && os.Args[2] == stageReportsArg {
		status = os.NewFile(4, "status")
		// Orphans of the command come to the stage, not to the helper,
		// so that it can reap every one before the next command.
		if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
			fatalf("subreaper: %v", err)
		}
	}
	// Termination signals are for the command: the helper forwards them
	// to every process of the sandbox, and the stage must outlive the
	// command to report its status. A handler (unlike SIG_IGN) does not
	// pass to the command across exec.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT)
	// Not dumpable: the command, same uid, cannot open the stage's /proc
	// files or ptrace it.
	_ = unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)

	for {
		l, err := newLauncher()
		if err != nil {
			fatalf("%v", err)
		}
		// A cold helper does not wait for this and may have closed its
		// end already: the hand-off is in the socket all the same.
		_, _ = ctl.Write([]byte{1})
		req, stdout, stderr, err := receiveHandoff(ctl)
		if errors.Is(err, io.EOF) {
			os.Exit(exitSetupFailed) // the helper no longer needs us
		}
		if err != nil {
			fatalf("receiving the command: %v", err)
		}
		if err := takeStdio(stdout, stderr); err != nil {
			fatalf("stdio: %v", err)
		}
		code := 0
		pid, err := l.launch(req)
		if err != nil {
			fmt.Fprintf(os.Stderr, "app-server sandbox: starting %s: %v\n", req.Path, err)
			code = exitStatusOfStartError(err)
		}
		releaseStdio()
		if err == nil {
			code = reap(pid, false)
		}
		if status == nil {
			os.Exit(code)
		}
		if _, err := status.Write([]byte{byte(code)}); err != nil {
			os.Exit(code) // the server is gone
		}
		killLeftovers()
	}
}

// killLeftovers kills every process of the sandbox but the helper (PID 1,
// which a signal from inside its namespace cannot kill) and the stage,
// and reaps them: as subreaper the stage is the parent of every orphan. A
// process that was forking when the signal came cannot finish the fork
// (the kernel fails it for a task with a signal pending), so one kill
// reaches every process; it is sent again now and then all the same. Not
// once per process reaped: each kill(-1) walks every process of the
// machine, and a command that left thousands would hold up the next one
// for seconds.
func killLeftovers() {
	for n := 0; ; n++ {
		if n%256 == 0 {
			_ = syscall.Kill(-1, syscall.SIGKILL)
		}
		var ws syscall.WaitStatus
		_, err := syscall.Wait4(-1, &ws, 0, nil)
		if errors.Is(err, syscall.ECHILD) {
			return
		}
		if err != nil && !errors.Is(err, syscall.EINTR) {
			fatalf("reaping the command's processes: %v", err)
		}
	}
}
