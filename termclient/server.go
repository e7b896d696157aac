package termclient

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"sync"
	"time"
)

// serverProcess is the child "app-server serve" the client talks to.
type serverProcess struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout io.Reader
	log    *tailBuffer // the server's stderr (its log), last 64 KiB

	exited  chan struct{} // closed when the process has exited
	waitErr error         // set before exited closes
}

// serverArgs returns the child's command line (without the program): the
// pass-through flags, then "serve".
func serverArgs(o *options) []string {
	var args []string
	if o.home != "" {
		args = append(args, "--home", o.home)
	}
	if o.config != "" {
		args = append(args, "--config", o.config)
	}
	for _, kv := range o.overrides {
		args = append(args, "-c", kv)
	}
	if o.logLevel != "" {
		args = append(args, "--log-level", o.logLevel)
	}
	if o.logFormat != "" {
		args = append(args, "--log-format", o.logFormat)
	}
	return append(args, "serve")
}

// startServer starts exe with args. The child gets its own process group,
// so a Ctrl-C in the terminal (SIGINT to the foreground group) reaches the
// client only, which turns it into turn/interrupt. Its stderr is kept in
// memory and also copied to logFile when not nil.
func startServer(exe string, args []string, logFile io.Writer) (*serverProcess, error) {
	cmd := exec.Command(exe, args...)
	cmd.SysProcAttr = ownProcessGroup()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	s := &serverProcess{cmd: cmd, stdin: stdin, stdout: stdout, log: &tailBuffer{max: 64 << 10}, exited: make(chan struct{})}
	cmd.Stderr = s.log
	if logFile != nil {
		cmd.Stderr = io.MultiWriter(s.log, logFile)
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go s.wait()
	return s, nil
}

// wait is the goroutine that reaps the child.
func (s *serverProcess) wait() {
	s.waitErr = s.cmd.Wait()
	close(s.exited)
}

// shutdown closes the server's stdin, which the protocol defines as "stop":
// the server interrupts turns, kills their commands and exits within 2 s.
// After grace it is killed. It returns the process's exit error, if any.
func (s *serverProcess) shutdown(grace time.Duration) error {
	s.stdin.Close()
	select {
	case <-s.exited:
	case <-time.After(grace):
		s.cmd.Process.Kill()
		<-s.exited
		return errors.New("the server did not stop in time and was killed")
	}
	return s.waitErr
}

// tailBuffer is an io.Writer that keeps the last max bytes written.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

// openLog opens the --server-log file for appending (nil when not asked).
func openLog(path string) (*os.File, error) {
	if path == "" {
		return nil, nil
	}
	return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
}
