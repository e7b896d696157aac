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
// a new one starts if the command is still running: later than the run
// of a short command, which the new spare's own start would slow on a
// small machine (the spare itself is reused once the command is over).
const spareRestartDelay = 10 * time.Millisecond

// Spares keeps a sandbox helper started ahead of need: its namespaces are
// created and set up as far as they can be before a command is known, and
// its command stage (stage_linux.go) waits for the command. A command
// started on it skips what a cold helper spends before its policy work
// (two clones, two execs, two runtime starts). After the command the
// helper kills what the command left, undoes its mounts and empties its
// /dev/shm, and waits for the next one: the spare is kept if there is no
// other, ended otherwise. The zero value is not usable; see NewSpares.
type Spares struct {
	mu     sync.Mutex
	spare  *spare // the idle one, ready or starting; nil if none
	all    map[*spare]bool
	closed bool
	// running counts the goroutines of the spares; each ends when its
	// helper has been reaped.
	running sync.WaitGroup
	// restartDelay is spareRestartDelay; tests that need every command on
	// one helper, however slow the machine, make it longer.
	restartDelay time.Duration
}

// NewSpares returns an empty set; Prestart or the first Start starts a
// spare.
func NewSpares() *Spares {
	return &Spares{all: make(map[*spare]bool), restartDelay: spareRestartDelay}
}

// Process is a command started on a spare helper: the helper is its
// process group leader and PID 1, as with Wrap.
type Process struct {
	Pid int
	sp  *spare
	job *job
}

// job is one command on a spare: its request and stdio, and the exit
// status the stage reports.
type job struct {
	req            *request
	stdout, stderr *os.File
	sent           chan error    // the hand-off's outcome
	status         chan int      // buffered; the stage's report
	over           chan struct{} // closed when the helper's command is over
}

// Wait returns the command's exit status (128+N if signal N killed it)
// as soon as its stage reports it; the helper then kills what the command
// left in the sandbox. A helper that ended without a report (killed, or
// it failed) gives its own exit status (-1 if a signal killed it); err is
// set only if it could not be waited for.
func (p *Process) Wait() (int, error) {
	select {
	case code := <-p.job.status:
		return code, nil
	case <-p.sp.exited:
	}
	select {
	case code := <-p.job.status:
		return code, nil
	default:
	}
	var exitErr *exec.ExitError
	if p.sp.waitErr != nil && !errors.As(p.sp.waitErr, &exitErr) {
		return -1, p.sp.waitErr
	}
	return p.sp.cmd.ProcessState.ExitCode(), nil
}

// Prestart starts a spare if there is none, so that the next command
// finds it ready.
func (s *Spares) Prestart() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed && s.spare == nil {
		s.spare = s.startSpare()
	}
}

// Start starts cmd (built by exec.Command, not started, stdin unset,
// stdout and stderr *os.File) under p on the spare, waiting for it to be
// ready if it is still starting (it is further along than a helper
// started now would be). It returns nil, nil when cmd does not fit or
// the spare failed: the caller then uses Wrap and cmd.Start, which
// report why. What the helper gets of cmd is argv, Dir, Env (nil: the
// server's) and stdio.
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
	j := &job{req: req, stdout: stdout, stderr: stderr, sent: make(chan error, 1), status: make(chan int, 1), over: make(chan struct{})}
	select {
	case sp.jobs <- j:
	case <-sp.exited:
		return nil, nil
	}
	if err := <-j.sent; err != nil {
		sp.kill()
		return nil, nil
	}
	// A command still running after spareRestartDelay gets the next
	// spare started, so that one started meanwhile does not wait for a
	// whole spare's start.
	time.AfterFunc(s.restartDelay, func() {
		select {
		case <-j.over:
		default:
			s.Prestart()
		}
	})
	return &Process{Pid: sp.cmd.Process.Pid, sp: sp, job: j}, nil
}

// take takes the idle spare, or starts one.
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

// idle is called by a spare's goroutine when its helper's command is
// over; it reports whether the spare is kept (as the idle one).
func (s *Spares) idle(sp *spare) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.spare != nil {
		return false
	}
	s.spare = sp
	return true
}

// Ready returns a channel closed once the idle spare is ready (never
// closed if it fails). For benchmarks and tests; nil when there is none.
func (s *Spares) Ready() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.spare == nil {
		return nil
	}
	return s.spare.ready
}

// Close kills every spare, idle or running a command (whose Wait then
// returns), and waits until every helper has been reaped. Start then
// always returns nil.
func (s *Spares) Close() {
	s.mu.Lock()
	s.closed, s.spare = true, nil
	all := make([]*spare, 0, len(s.all))
	for sp := range s.all {
		all = append(all, sp)
	}
	s.mu.Unlock()
	for _, sp := range all {
		sp.kill()
	}
	s.running.Wait()
}

// spare is one helper and the goroutine that owns it (run).
type spare struct {
	cmd     *exec.Cmd
	sock    *os.File      // the server's end of the socket pair; run owns it
	jobs    chan *job     // commands for the helper, one at a time
	quit    chan struct{} // closed by kill
	once    sync.Once
	started chan struct{} // closed after cmd.Start returned
	ready   chan struct{} // closed when the helper first said it is ready
	exited  chan struct{} // closed after cmd.Wait returned waitErr
	// waitErr is written before exited is closed.
	waitErr error
}

// startSpare starts a spare helper from a goroutine that keeps its
// thread locked for the helper's life: the parent-death signal fires when
// the thread that started the child exits (golang/go#27505).
func (s *Spares) startSpare() *spare {
	sp := &spare{jobs: make(chan *job), quit: make(chan struct{}), started: make(chan struct{}), ready: make(chan struct{}), exited: make(chan struct{})}
	uid, gid := os.Getuid(), os.Getgid()
	sp.cmd = exec.Command(selfExe, spareArg, strconv.Itoa(uid), strconv.Itoa(gid))
	sp.cmd.Args[0] = "app-server"
	// The helper's own environment is empty: the command's comes with its
	// request, and the server's own (its secrets) stays out of the
	// sandbox, as with a cold helper, whose environment is the command's.
	sp.cmd.Env = []string{}
	sp.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	setHelperAttr(sp.cmd.SysProcAttr, uid, gid)
	s.all[sp] = true
	s.running.Add(1)
	go func() {
		defer s.running.Done()
		sp.run(s)
		s.mu.Lock()
		delete(s.all, sp)
		if s.spare == sp {
			s.spare = nil
		}
		s.mu.Unlock()
	}()
	return sp
}

// run is the spare's goroutine: it starts the helper, hands it each
// command it is given and passes the stage's report on, and returns once
// the helper has exited. After each report it offers the helper as the
// idle spare, or ends it if there is one already (Spares.idle); the
// helper says when it is ready again, before it gets the next command.
func (sp *spare) run(s *Spares) {
	defer close(sp.exited)
	runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
	err := sp.start()
	close(sp.started)
	if err != nil {
		sp.waitErr = err
		return
	}
	defer func() { sp.waitErr = sp.cmd.Wait() }()
	defer sp.sock.Close()
	if _, ok := readByte(sp.sock); !ok {
		return
	}
	close(sp.ready)
	for {
		var j *job
		select {
		case j = <-sp.jobs:
		case <-sp.quit:
			return
		}
		err := sendHandoff(sp.sock, j.req, int(j.stdout.Fd()), int(j.stderr.Fd()))
		j.sent <- err
		if err != nil {
			close(j.over)
			return
		}
		code, ok := readByte(sp.sock)
		close(j.over)
		if !ok {
			return
		}
		// Idle again from now, before Wait returns: the next Start waits
		// the little the helper needs to clean up rather than start
		// another.
		kept := s.idle(sp)
		j.status <- int(code)
		if !kept {
			return // closing the socket ends the helper
		}
		if _, ok := readByte(sp.sock); !ok {
			return
		}
	}
}

// start starts the helper with its end of a new socket pair as fd 3.
func (sp *spare) start() error {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	sp.sock = os.NewFile(uintptr(fds[0]), "sandbox-spare")
	child := os.NewFile(uintptr(fds[1]), "sandbox-spare-child")
	defer child.Close()
	sp.cmd.ExtraFiles = []*os.File{child} // fd 3
	if err := sp.cmd.Start(); err != nil {
		sp.sock.Close()
		return err
	}
	return nil
}

// kill ends the helper; run reaps it.
func (sp *spare) kill() {
	sp.once.Do(func() { close(sp.quit) })
	<-sp.started
	if sp.cmd.Process != nil {
		_ = sp.cmd.Process.Kill()
	}
}
