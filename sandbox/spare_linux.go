package sandbox

import (
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// spareArg is the hidden first argument of a spare helper (runHelper).
const spareArg = "__sandbox-spare"

// spareRestartDelay is how long after a command was handed to the spare
// the next one starts if the command is still running: later than the
// start of a short command, which the next spare's own start would slow
// on a small machine.
const spareRestartDelay = 10 * time.Millisecond

// Spares keeps one sandbox helper started ahead of need: its namespaces
// are created and set up as far as they can be before the command is
// known, and its command stage (stage_linux.go) has started and waits
// for the command. Starting a command on it skips what a cold helper
// spends before its policy work (two clones, two execs, the runtime's
// start), which does not depend on the policy. The zero value is not
// usable; see NewSpares.
type Spares struct {
	mu     sync.Mutex
	spare  *spare // nil until Prestart or the first Start, and after Close
	closed bool
	// running counts the goroutines of every spare started, taken or not;
	// each ends when its helper has been reaped.
	running sync.WaitGroup
}

// NewSpares returns an empty set; Prestart or the first Start starts a
// spare.
func NewSpares() *Spares { return &Spares{} }

// Process is a command started on a spare helper: the helper is its
// process group leader and PID 1, as with Wrap.
type Process struct {
	Pid    int
	s      *spare
	spares *Spares
}

// Wait returns the command's exit status (128+N if signal N killed it)
// as soon as its stage reports it. The helper may then still be ending
// the sandbox (its exit kills what the command left behind in it); the
// caller that wants that done at once kills the process group, as
// RunProcess does. A helper that ended without a report gives its own
// exit status (-1 if a signal killed it); err is set only if it could not
// be waited for.
func (p *Process) Wait() (int, error) {
	var b [1]byte
	n, _ := p.s.sock.Read(b[:])
	p.s.sock.Close()
	// The next spare starts now rather than with the command: on a small
	// machine its start would compete with the command for the CPU.
	p.spares.Prestart()
	if n == 1 {
		return int(b[0]), nil
	}
	<-p.s.exited
	var exitErr *exec.ExitError
	if p.s.waitErr != nil && !errors.As(p.s.waitErr, &exitErr) {
		return -1, p.s.waitErr
	}
	return p.s.cmd.ProcessState.ExitCode(), nil
}

// Prestart starts a spare if there is none, so that the first command
// finds it ready.
func (s *Spares) Prestart() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed && s.spare == nil {
		s.spare = s.startSpare()
	}
}

// Start starts cmd (built by exec.Command, not started, stdin unset,
// stdout and stderr *os.File) under p on the spare helper, waiting for it
// to be ready if it is still starting, and starts the next spare. It
// returns nil, nil when cmd does not fit or the spare failed: the caller
// then uses Wrap and cmd.Start, which report why. What the helper gets
// of cmd is argv, Dir, Env (nil: the server's) and stdio.
func (s *Spares) Start(cmd *exec.Cmd, p Policy) (*Process, error) {
	if err := p.Validate(); err != nil || p.Mode == FullAccess {
		return nil, err
	}
	stdout, ok1 := cmd.Stdout.(*os.File)
	stderr, ok2 := cmd.Stderr.(*os.File)
	if !ok1 || !ok2 || cmd.Stdin != nil {
		return nil, nil
	}
	if cmd.Dir != "" {
		if st, err := os.Stat(cmd.Dir); err != nil || !st.IsDir() {
			return nil, nil // the cold path reports it as exec does
		}
	}
	req, err := newRequest(cmd)
	if err != nil {
		return nil, err
	}
	req.Policy, req.Dir, req.Env = p, cmd.Dir, cmd.Env
	if req.Env == nil {
		req.Env = os.Environ()
	}
	sp := s.take()
	if sp == nil {
		return nil, nil
	}
	select {
	case <-sp.ready:
	case <-sp.exited:
		sp.sock.Close()
		return nil, nil
	}
	if err := sendHandoff(sp.sock, req, int(stdout.Fd()), int(stderr.Fd())); err != nil {
		sp.kill()
		sp.sock.Close()
		return nil, nil
	}
	// The next spare starts when this command's status is in, or, for a
	// command still running by then, after spareRestartDelay, so that a
	// command started meanwhile does not wait for a whole spare's start.
	time.AfterFunc(spareRestartDelay, s.Prestart)
	return &Process{Pid: sp.cmd.Process.Pid, s: sp, spares: s}, nil
}

// take returns the spare, ready or not (a starting spare is further
// along than a helper started now would be), or a new one. The next is
// started when the command's status is in (Process.Wait).
func (s *Spares) take() *spare {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	sp := s.spare
	if sp == nil {
		sp = s.startSpare()
	}
	s.spare = nil
	return sp
}

// Ready returns a channel closed once the current spare is ready (never
// closed if it fails). For benchmarks and tests; nil when there is none.
func (s *Spares) Ready() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.spare == nil {
		return nil
	}
	return s.spare.ready
}

// Close kills the spare not yet taken and waits until every helper this
// set started has been reaped; the callers of Start end theirs (killing
// the process group). Start then always returns nil.
func (s *Spares) Close() {
	s.mu.Lock()
	sp := s.spare
	s.spare, s.closed = nil, true
	s.mu.Unlock()
	if sp != nil {
		sp.kill()
		<-sp.exited
		if sp.sock != nil {
			sp.sock.Close()
		}
	}
	s.running.Wait()
}

// spare is one pre-started helper and the goroutine that owns it.
type spare struct {
	cmd     *exec.Cmd
	sock    *os.File      // the server's end of the socket pair; its taker closes it
	started chan struct{} // closed after cmd.Start returned
	ready   chan struct{} // closed when the helper said it waits for a command
	exited  chan struct{} // closed after cmd.Wait returned waitErr
	// waitErr is written before exited is closed.
	waitErr error
}

// startSpare starts a spare helper from a goroutine that keeps its
// thread locked for the helper's life: the parent-death signal fires when
// the thread that started the child exits (golang/go#27505).
func (s *Spares) startSpare() *spare {
	sp := &spare{started: make(chan struct{}), ready: make(chan struct{}), exited: make(chan struct{})}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		sp.waitErr = err
		close(sp.started)
		close(sp.exited)
		return sp
	}
	sp.sock = os.NewFile(uintptr(fds[0]), "sandbox-spare")
	child := os.NewFile(uintptr(fds[1]), "sandbox-spare-child")
	uid, gid := os.Getuid(), os.Getgid()
	sp.cmd = exec.Command(selfExe, spareArg, strconv.Itoa(uid), strconv.Itoa(gid))
	sp.cmd.Args[0] = "app-server"
	sp.cmd.ExtraFiles = []*os.File{child} // fd 3
	// The helper's own environment is empty: the command's comes with its
	// request, and the server's own (its secrets) stays out of the
	// sandbox, as with a cold helper, whose environment is the command's.
	sp.cmd.Env = []string{}
	sp.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	setHelperAttr(sp.cmd.SysProcAttr, uid, gid)
	s.running.Add(1)
	go func() {
		defer s.running.Done()
		sp.run(child)
	}()
	return sp
}

// run is the spare's goroutine: it starts the helper, waits for its
// ready byte and then for its exit.
func (sp *spare) run(child *os.File) {
	defer close(sp.exited)
	runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
	err := sp.cmd.Start()
	close(sp.started)
	child.Close()
	if err != nil {
		sp.waitErr = err
		return
	}
	var b [1]byte
	if n, _ := sp.sock.Read(b[:]); n == 1 {
		close(sp.ready)
	}
	sp.waitErr = sp.cmd.Wait()
}

// kill ends the helper; run reaps it.
func (sp *spare) kill() {
	<-sp.started
	if sp.cmd != nil && sp.cmd.Process != nil {
		_ = sp.cmd.Process.Kill()
	}
}
