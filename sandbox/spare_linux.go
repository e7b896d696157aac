package sandbox

import (
	"errors"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// spareArg is the hidden first argument of a spare helper (runSpare).
const spareArg = "__sandbox-spare"

// Spares keeps one sandbox helper started ahead of need: its namespaces
// are created and the binary has started, and it waits on a socket for a
// command. Starting a command on it skips what a cold helper spends
// before its policy work (clone, exec, the runtime's start), which does
// not depend on the policy. The zero value is not usable; see NewSpares.
type Spares struct {
	mu     sync.Mutex
	spare  *spare // nil until the first Start, and after Close
	closed bool
}

// NewSpares returns an empty set; the first Start starts a spare.
func NewSpares() *Spares { return &Spares{} }

// Process is a command started on a spare helper: the helper is its
// process group leader and PID 1, as with Wrap.
type Process struct {
	Pid int
	s   *spare
}

// Wait waits for the helper to exit and returns its state; err is set
// only if it could not be waited for (a non-zero exit is not an error).
func (p *Process) Wait() (*os.ProcessState, error) {
	<-p.s.exited
	var exitErr *exec.ExitError
	if p.s.waitErr != nil && !errors.As(p.s.waitErr, &exitErr) {
		return p.s.cmd.ProcessState, p.s.waitErr
	}
	return p.s.cmd.ProcessState, nil
}

// Start starts cmd (built by exec.Command, not started, stdin unset,
// stdout and stderr *os.File) under p on the spare helper when one is
// ready, and starts the next spare. It returns nil, nil when no spare is
// ready or cmd does not fit: the caller then uses Wrap and cmd.Start. The
// spare inherits the server's thread-independent state at its start;
// what it gets of cmd is argv, Dir, Env (nil: the server's) and stdio.
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
	err = sp.send(req, stdout, stderr)
	sp.sock.Close()
	if err != nil {
		sp.kill()
		return nil, nil
	}
	return &Process{Pid: sp.cmd.Process.Pid, s: sp}, nil
}

// take returns the spare if it is ready, and starts the next one.
func (s *Spares) take() *spare {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	sp := s.spare
	if sp != nil {
		select {
		case <-sp.ready:
		case <-sp.exited:
			sp.sock.Close()
			sp = nil // it failed; start another
		default:
			return nil // still starting: the cold path goes ahead of it
		}
	}
	s.spare = startSpare()
	return sp
}

// Ready returns a channel closed once the current spare is ready (never
// closed if it fails). For benchmarks; nil before the first Start.
func (s *Spares) Ready() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.spare == nil {
		return nil
	}
	return s.spare.ready
}

// Close kills the spare and waits for it. Start then always returns nil.
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
func startSpare() *spare {
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
	sp.cmd = exec.Command(selfExe, spareArg)
	sp.cmd.Args[0] = "app-server"
	sp.cmd.ExtraFiles = []*os.File{child} // fd 3
	// The helper's own environment is empty: the command's comes with its
	// request, and the server's own (its secrets) stays out of the
	// sandbox, as with a cold helper, whose environment is the command's.
	sp.cmd.Env = []string{}
	sp.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	setHelperAttr(sp.cmd.SysProcAttr, os.Getuid(), os.Getgid())
	go sp.run(child)
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

// send hands req and the command's stdout and stderr to the helper: the
// descriptors ride on the first byte (SCM_RIGHTS), the request follows,
// and the end of the stream ends it.
func (sp *spare) send(req *request, stdout, stderr *os.File) error {
	rights := unix.UnixRights(int(stdout.Fd()), int(stderr.Fd()))
	if err := unix.Sendmsg(int(sp.sock.Fd()), []byte{0}, rights, nil, 0); err != nil {
		return err
	}
	if _, err := sp.sock.Write([]byte(req.encode())); err != nil {
		return err
	}
	return unix.Shutdown(int(sp.sock.Fd()), unix.SHUT_WR)
}

// kill ends the helper; run reaps it.
func (sp *spare) kill() {
	<-sp.started
	if sp.cmd != nil && sp.cmd.Process != nil {
		_ = sp.cmd.Process.Kill()
	}
}
