package session

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"time"

	"app-server/sandbox"
)

// execKillGrace is how long the main process of a cancelled command has to
// exit after SIGTERM before its whole process group gets SIGKILL. A
// variable so that tests can shorten it.
var execKillGrace = 2 * time.Second

// shutdownKillGrace bounds the grace once ProcessSpec.Hurry is closed (the
// server shuts down): the protocol gives the whole exit 2 s, and every
// command group must be dead before the server is.
const shutdownKillGrace = 500 * time.Millisecond

// execDrainDelay bounds how long RunProcess keeps reading output once the
// command has exited and its process group has been killed. Only a process
// that left the group (setsid, a daemon) can still hold the pipe then; it
// must not keep RunProcess waiting. This is the WaitDelay of the pipe that
// RunProcess owns (exec.Cmd.WaitDelay would only bound pipes that exec.Cmd
// creates itself). A variable so that tests can shorten it.
var execDrainDelay = 2 * time.Second

const (
	// outputFlushInterval and outputBatchMax shape the output deltas: output
	// is delivered at most every 20 ms, or as soon as 64 KiB are waiting.
	outputFlushInterval = 20 * time.Millisecond
	outputBatchMax      = 64 << 10
)

// ProcessSpec describes one command to run.
type ProcessSpec struct {
	// Argv is the program and its arguments, for example
	// ["/bin/sh", "-c", "npm install"]. The program is looked up in PATH
	// when it has no slash.
	Argv []string
	// Dir is the absolute working directory. If empty, the server's.
	Dir string
	// Env is the full environment (the caller adds the proxy variables).
	// If nil, the server's environment is inherited.
	Env []string
	// OnOutput, if not nil, receives the command's stdout and stderr,
	// merged in the order they were written, in batches (at most every
	// 20 ms or 64 KiB, and once at the end). Each chunk is valid UTF-8: a
	// character is never split across chunks and invalid bytes become
	// U+FFFD. The chunk is the callee's to keep. Calls come from one
	// goroutine, in order, and all happen before RunProcess returns; while
	// a call blocks, the command blocks as soon as the pipe buffer fills.
	OnOutput func(chunk []byte)
	// SeparateStderr keeps stderr apart (command/exec reports the two
	// streams separately): OnOutput and Output then get stdout only, and
	// OnStderr and Stderr get stderr. The relative order of the two
	// streams is lost.
	SeparateStderr bool
	// Sandbox, if not nil, is the policy the OS holds the command to; nil
	// runs it unsandboxed.
	Sandbox *sandbox.Policy
	// OnStderr, with SeparateStderr, receives stderr the way OnOutput
	// receives stdout. It is called from a goroutine of its own, possibly
	// while OnOutput runs. May be nil.
	OnStderr func(chunk []byte)
	// Hurry, once closed, cuts the grace of a stopping command to
	// shutdownKillGrace: the server is shutting down. It does not stop the
	// command by itself; cancel ctx for that. May be nil.
	Hurry <-chan struct{}
	// Spares, if not nil, may start a sandboxed command on a helper
	// started ahead of need (sandbox.Spares); the result is the same.
	Spares *sandbox.Spares
}

// ProcessResult is how a command ended.
type ProcessResult struct {
	// ExitCode is the exit status, or -1 if the command was killed by a
	// signal or did not start (see Err).
	ExitCode int32
	// Output is the tail of the merged stdout and stderr, the same text
	// OnOutput received, at most MaxOutputTail bytes, starting at a
	// character boundary.
	Output string
	// Stderr is the tail of stderr with SeparateStderr, like Output;
	// empty otherwise.
	Stderr string
	// Truncated reports that Output (or Stderr) lacks the beginning of
	// what the command wrote.
	Truncated bool
	// Duration is the time from start until the output was drained.
	Duration time.Duration
	// Interrupted reports that the command was stopped because ctx was
	// cancelled.
	Interrupted bool
	// Err is why the command did not start (no such program or directory)
	// or could not be waited for; nil when it ran, whatever its exit code.
	Err error
}

// RunProcess runs spec and blocks until the command has exited and its
// output has been delivered. stdin is /dev/null.
//
// The command runs in a process group of its own. When ctx is cancelled,
// the group gets SIGTERM and, if the main process has not exited after
// execKillGrace (2 s; shutdownKillGrace once spec.Hurry is closed),
// SIGKILL. If the server dies first, the main process gets SIGKILL (Linux).
// Whenever the main process exits, by itself
// or not, the rest of its group is killed: a background job it leaves
// behind (`server &`) would otherwise keep running unobserved, outside any
// turn, and hold the output pipe open. A process that escaped the group
// can delay the return by at most execDrainDelay.
//
// RunProcess starts the waiter goroutine and an output pump per pipe (one,
// or two with SeparateStderr), and all have ended when it returns. It is
// safe to call concurrently.
func RunProcess(ctx context.Context, spec ProcessSpec) ProcessResult {
	start := time.Now()
	failed := func(err error) ProcessResult {
		return ProcessResult{ExitCode: -1, Err: err, Duration: time.Since(start)}
	}
	if len(spec.Argv) == 0 {
		return failed(errors.New("session: RunProcess: empty argv"))
	}
	if ctx.Err() != nil {
		res := failed(nil)
		res.Interrupted = true
		return res
	}

	// One pipe for stdout and stderr keeps their relative order exactly as
	// the command wrote it; two pipes read by two goroutines would not.
	outR, outW, err := os.Pipe()
	if err != nil {
		return failed(fmt.Errorf("session: output pipe: %w", err))
	}
	errR, errW := outR, outW
	if spec.SeparateStderr {
		if errR, errW, err = os.Pipe(); err != nil {
			outR.Close()
			outW.Close()
			return failed(fmt.Errorf("session: stderr pipe: %w", err))
		}
	}
	cmd := exec.Command(spec.Argv[0], spec.Argv[1:]...)
	cmd.Dir = spec.Dir
	cmd.Env = spec.Env
	cmd.Stdout = outW // an *os.File: the child gets it directly, exec starts no copier
	cmd.Stderr = errW
	cmd.SysProcAttr = processAttr()
	// The parent-death signal of processAttr fires when the thread that
	// started the child exits, not the process (golang/go#27505). Keep
	// this goroutine on its thread until the child is gone, so that no
	// goroutine that locks and ends a thread can take this one.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	proc, err := startCommand(cmd, spec.Sandbox, spec.Spares)
	// The child has its own copies of the write ends; ours would keep the
	// read ends from ever reaching EOF.
	outW.Close()
	pumps := []*outputPump{newOutputPump(outR, spec.OnOutput)}
	if spec.SeparateStderr {
		errW.Close()
		pumps = append(pumps, newOutputPump(errR, spec.OnStderr))
	}
	if err != nil {
		for _, p := range pumps {
			p.r.Close()
		}
		return failed(err)
	}
	// Setpgid with Pgid 0 makes the child (or the spare sandbox helper it
	// was handed to) the leader of a new group whose id is its pid, and
	// startCommand returns only after that process has exec'd.
	pgid := proc.pid

	for _, p := range pumps {
		go p.run()
	}
	waitDone := make(chan error, 1)
	// The waiter goroutine waits for the main process's exit status;
	// waitDone is buffered, so it never blocks, and exitCode is read only
	// after waitDone.
	exitCode := -1
	go func() {
		var err error
		exitCode, err = proc.wait()
		waitDone <- err
	}()

	var waitErr error
	interrupted := false
	select {
	case waitErr = <-waitDone:
	case <-ctx.Done():
		interrupted = true
		waitErr = stopGroup(pgid, waitDone, spec.Hurry)
	}
	// The main process is gone; kill what it left in its group. ESRCH (the
	// group is empty) is the common case and is ignored. The group id cannot
	// have been reused while the group still has members. A command on a
	// spare sandbox helper is the exception: the group is the helper's,
	// which outlives the command to serve the next one, and the helper
	// itself kills everything the command left in the sandbox.
	if !proc.keepsGroup {
		killGroup(pgid, syscall.SIGKILL)
	}

	drainPumps(pumps)

	res := ProcessResult{
		ExitCode:    -1,
		Output:      pumps[0].tail.String(),
		Truncated:   pumps[0].tail.truncated(),
		Interrupted: interrupted,
		Duration:    time.Since(start),
	}
	if spec.SeparateStderr {
		res.Stderr = pumps[1].tail.String()
		res.Truncated = res.Truncated || pumps[1].tail.truncated()
	}
	res.ExitCode = int32(exitCode) // -1 when a signal ended the process
	res.Err = waitErr
	return res
}

// stopGroup ends a cancelled command: SIGTERM to the group, then SIGKILL to
// the group if the main process has not exited within execKillGrace, or
// within shutdownKillGrace of hurry closing. It returns Wait's result.
func stopGroup(pgid int, waitDone <-chan error, hurry <-chan struct{}) error {
	killGroup(pgid, syscall.SIGTERM)
	grace := time.NewTimer(execKillGrace)
	defer grace.Stop()
	for {
		select {
		case err := <-waitDone:
			return err
		case <-hurry:
			hurry = nil // fires once
			grace.Reset(shutdownKillGrace)
		case <-grace.C:
			killGroup(pgid, syscall.SIGKILL)
			return <-waitDone
		}
	}
}

// drainPumps waits for the pumps to reach EOF, for at most execDrainDelay
// in all, then closes the read ends (which stops a pump still reading:
// something outside the group holds its write end) and waits for them.
func drainPumps(pumps []*outputPump) {
	drain := time.NewTimer(execDrainDelay)
	defer drain.Stop()
wait:
	for _, p := range pumps {
		select {
		case <-p.done:
		case <-drain.C:
			break wait
		}
	}
	for _, p := range pumps {
		p.r.Close()
		<-p.done
	}
}

// outputPump reads one output pipe, batches it and keeps its tail. Only
// its goroutine touches it until done is closed.
type outputPump struct {
	r        *os.File
	onOutput func([]byte)
	tail     outputTail
	// pending holds bytes read and not delivered yet: at most
	// outputBatchMax, which with the tail bounds the memory of a command
	// whatever it prints.
	pending []byte
	done    chan struct{} // closed when run returns
}

func newOutputPump(r *os.File, onOutput func([]byte)) *outputPump {
	return &outputPump{r: r, onOutput: onOutput, tail: outputTail{max: MaxOutputTail}, done: make(chan struct{})}
}

// run is the pump goroutine. A batch starts with the first byte read into
// an empty batch and ends when it is full or outputFlushInterval later,
// whichever comes first; the interval is a read deadline on the pipe, so a
// single goroutine both reads and flushes, and OnOutput is called from it
// alone. run returns at EOF or when RunProcess closes the read end, after
// delivering what is left.
func (p *outputPump) run() {
	defer close(p.done)
	p.pending = make([]byte, 0, outputBatchMax)
	armed := false // a flush deadline is set on the pipe
	for {
		n, err := p.r.Read(p.pending[len(p.pending):cap(p.pending)])
		p.pending = p.pending[:len(p.pending)+n]
		if n > 0 && !armed {
			p.r.SetReadDeadline(time.Now().Add(outputFlushInterval))
			armed = true
		}
		switch {
		case err == nil && len(p.pending) < cap(p.pending):
			continue
		case err == nil || errors.Is(err, os.ErrDeadlineExceeded):
			p.flush(false)
			p.r.SetReadDeadline(time.Time{})
			armed = false
		default: // io.EOF, or os.ErrClosed from RunProcess giving up
			p.flush(true)
			return
		}
	}
}

// flush delivers the pending bytes, except, unless final, an incomplete
// UTF-8 sequence at the end, which stays pending for the next batch.
func (p *outputPump) flush(final bool) {
	n := len(p.pending)
	if !final {
		n = splitIncomplete(p.pending)
	}
	if n > 0 {
		chunk := validUTF8(p.pending[:n])
		p.tail.write(chunk)
		if p.onOutput != nil {
			p.onOutput(chunk)
		}
	}
	p.pending = p.pending[:copy(p.pending, p.pending[n:])]
}
