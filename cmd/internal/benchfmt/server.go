package benchfmt

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"sync"
	"time"
)

// Server is a server process spoken to over its stdin and stdout.
type Server struct {
	Cmd    *exec.Cmd
	Stdin  io.WriteCloser
	Stdout io.ReadCloser
	Stderr *Tail

	once sync.Once
	err  error
}

// Start starts cmd with pipes to its stdin and stdout; its stderr's last
// tailMax bytes (8 KiB when 0) are kept for error messages, and still go
// to cmd.Stderr if that is set.
func Start(cmd *exec.Cmd, tailMax int) (*Server, error) {
	s := &Server{Cmd: cmd, Stderr: &Tail{Max: tailMax}}
	if cmd.Stderr != nil {
		cmd.Stderr = io.MultiWriter(cmd.Stderr, s.Stderr)
	} else {
		cmd.Stderr = s.Stderr
	}
	cmd.WaitDelay = time.Second
	var err error
	if s.Stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	if s.Stdout, err = cmd.StdoutPipe(); err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return s, nil
}

// Stop closes stdin (the server's cue to exit), waits up to 5 s for the
// process to exit, then kills it. It reports a failed exit with the tail
// of stderr; later calls return the first call's answer.
func (s *Server) Stop() error {
	s.once.Do(func() {
		s.Stdin.Close()
		done := make(chan error, 1)
		go func() { done <- s.Cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				s.err = fmt.Errorf("exit: %v; stderr tail:\n%s", err, s.Stderr)
			}
		case <-time.After(5 * time.Second):
			s.Cmd.Process.Kill()
			<-done
			s.err = errors.New("did not exit within 5 s of stdin EOF; killed")
		}
	})
	return s.err
}

// Splice copies between two TCP connections both ways until both
// directions end, closing each side's write when its copy ends, as a relay
// does; io.Copy between two *net.TCPConn splices on Linux.
func Splice(a, b net.Conn) {
	done := make(chan struct{})
	go func() {
		io.Copy(a, b)
		a.(*net.TCPConn).CloseWrite()
		close(done)
	}()
	io.Copy(b, a)
	b.(*net.TCPConn).CloseWrite()
	<-done
}

// Message is the part of a server's JSON-RPC message a benchmark looks at.
type Message struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}
