package e2e

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rawProc is the server driven by raw lines, for input no well-behaved
// client would send. Unlike server, it checks nothing by itself.
type rawProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
	outFD  *os.File      // the read end of the server's stdout pipe, under stdout
	exited chan struct{} // closed when the process has exited
	err    error         // Wait's result, set before exited closes
}

func startRaw(t *testing.T, args ...string) *rawProc {
	t.Helper()
	return startRawBin(t, serverBin, args...)
}

// startRawBin is startRaw with a chosen binary (plainBin to measure memory).
func startRawBin(t *testing.T, bin string, args ...string) *rawProc {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"--home", t.TempDir()}, args...)...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	outFD, _ := out.(*os.File)
	p := &rawProc{t: t, cmd: cmd, stdin: stdin, stdout: bufio.NewReaderSize(out, 1<<20), outFD: outFD, exited: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		stdin.Close()
		select {
		case <-p.exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
		}
	})
	return p
}

func (p *rawProc) write(s string) {
	p.t.Helper()
	if _, err := io.WriteString(p.stdin, s); err != nil {
		p.t.Fatalf("write: %v", err)
	}
}

// line reads one output line, failing after 10 s.
func (p *rawProc) line() string {
	p.t.Helper()
	type res struct {
		s   string
		err error
	}
	ch := make(chan res, 1)
	go func() {
		s, err := p.stdout.ReadString('\n')
		ch <- res{s, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			p.t.Fatalf("reading output: %v", r.err)
		}
		return strings.TrimSuffix(r.s, "\n")
	case <-time.After(10 * time.Second):
		p.t.Fatal("no output line within 10s")
	}
	return ""
}

// vmKB reads a /proc/<pid>/status field (VmRSS, VmHWM) in KiB.
func vmKB(t *testing.T, pid int, field string) int {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, field+":") {
			f := strings.Fields(l)
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}
