package e2e

import (
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

const initReq = `{"id":"init","method":"initialize","params":{"clientInfo":{"name":"raw","version":"1"}}}` + "\n"

// After every kind of bad input the connection is still up: the next
// request is answered.
func TestBadInputCorpusAgainstTheBinary(t *testing.T) {
	p := startRaw(t)
	p.write(initReq)
	if l := p.line(); !strings.Contains(l, `"id":"init","result"`) {
		t.Fatalf("initialize: %s", l)
	}
	huge := `{"id":77,"method":"thread/loaded/list","params":{"pad":"` + strings.Repeat("x", 20<<20) + `"}}`
	cases := []struct {
		name, input string
		reply       string // the error reply the bad line gets, if any
	}{
		{"malformed JSON", `{"id":1,"method":`, `{"id":null,"error":{"code":-32700,`},
		{"truncated object", `{"id":2,"method":"thread/loaded/list"`, `{"id":null,"error":{"code":-32700,`},
		{"byte-order mark", "\xef\xbb\xbf" + `{"id":2,"method":"thread/loaded/list"}`, `{"id":null,"error":{"code":-32700,`},
		{"invalid UTF-8", "{\"id\":5,\"method\":\"thread/loaded/list\",\"params\":{\"x\":\"\xff\xfe\"}}", `{"id":null,"error":{"code":-32700,"message":"Parse error: invalid UTF-8"}}`},
		{"empty object", `{}`, `{"id":null,"error":{"code":-32600,`},
		{"batch", `[{"id":3,"method":"thread/loaded/list"}]`, `{"id":null,"error":{"code":-32600,"message":"Invalid request: batch (JSON array) not supported"}}`},
		{"number", `42`, `{"id":null,"error":{"code":-32600,`},
		{"method not a string", `{"id":4,"method":5}`, `{"id":4,"error":{"code":-32600,`},
		{"id true", `{"id":true,"method":"thread/loaded/list"}`, `{"id":null,"error":{"code":-32600,`},
		{"id object", `{"id":{"a":1},"method":"thread/loaded/list"}`, `{"id":null,"error":{"code":-32600,`},
		{"id null", `{"id":null,"method":"thread/loaded/list"}`, `{"id":null,"error":{"code":-32600,`},
		{"fractional id", `{"id":1.5,"method":"thread/loaded/list"}`, `{"id":1.5,"error":{"code":-32600,`},
		{"negative id", `{"id":-1,"method":"thread/loaded/list"}`, `{"id":-1,"error":{"code":-32600,`},
		{"20 MiB line", huge, `{"id":77,"error":{"code":-32600,"message":"Invalid request: line too long"}}`},
		{"response to an unknown id", `{"id":999,"result":{}}`, ""},
		{"response with id null", `{"id":null,"error":{"code":-32700,"message":"x"}}`, ""},
		{"10,000 blank lines", strings.Repeat("\n", 10000), ""},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p.t = t
			p.write(tc.input + "\n")
			if tc.reply != "" {
				if l := p.line(); !strings.HasPrefix(l, tc.reply) {
					t.Fatalf("bad line answered %q, want prefix %q", l, tc.reply)
				}
			}
			id := fmt.Sprintf(`"after-%d"`, i)
			p.write(`{"id":` + id + `,"method":"thread/loaded/list"}` + "\n")
			if l := p.line(); !strings.HasPrefix(l, `{"id":`+id+`,"result":`) {
				t.Fatalf("next request answered %q", l)
			}
		})
	}
}

// A client that writes 100,000 requests without reading gets -32001 for
// some; the server's memory stays bounded and it recovers once the client
// reads. The flood uses thread/list, which is queued; the cheap methods
// that run on the read loop (thread/loaded/list) are not shed but block the
// reading instead, which bounds memory the same way.
func TestOverloadSheds(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 100,000 requests")
	}
	p := startRawBin(t, plainBin) // memory is measured: no race detector

	p.write(initReq)
	p.line()
	const n = 100000
	writeDone := make(chan error, 1)
	go func() {
		var b strings.Builder
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, `{"id":%d,"method":"thread/list"}`+"\n", i)
			if b.Len() > 64<<10 || i == n-1 {
				if _, err := p.stdin.Write([]byte(b.String())); err != nil {
					writeDone <- err
					return
				}
				b.Reset()
			}
		}
		writeDone <- nil
	}()
	// The client is not reading: wait until the server's output pipe is
	// full, so it is blocked with its queue at the bound.
	waitPipeFull(t, p)
	rss := vmKB(t, p.cmd.Process.Pid, "VmRSS")
	answered, overloaded := 0, 0
	for answered < n {
		l := p.line()
		answered++
		if strings.Contains(l, `"code":-32001`) {
			overloaded++
		}
	}
	if err := <-writeDone; err != nil {
		t.Fatal(err)
	}
	hwm := vmKB(t, p.cmd.Process.Pid, "VmHWM")
	t.Logf("%d answered, %d overloaded; RSS while blocked %d KiB, peak %d KiB", answered, overloaded, rss, hwm)
	if overloaded == 0 {
		t.Errorf("no request was shed with -32001")
	}
	if hwm > 64<<10 {
		t.Errorf("peak RSS %d KiB, want under 64 MiB", hwm)
	}
	p.write(`{"id":"last","method":"thread/loaded/list"}` + "\n")
	if l := p.line(); !strings.HasPrefix(l, `{"id":"last","result"`) {
		t.Errorf("after the flood: %s", l)
	}
}

// waitExit waits for the process and returns its exit code and how long it
// took from now.
func waitExit(t *testing.T, p *rawProc) (int, time.Duration) {
	t.Helper()
	start := time.Now()
	select {
	case <-p.exited:
		code := 0
		if ee, ok := p.err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if p.err != nil {
			t.Fatal(p.err)
		}
		return code, time.Since(start)
	case <-time.After(10 * time.Second):
		t.Fatal("server did not exit within 10s")
	}
	return 0, 0
}

// startSleepingTurn starts a turn running a long command and waits until it runs.
func startSleepingTurn(t *testing.T, p *rawProc) {
	t.Helper()
	p.write(initReq)
	p.line()
	p.write(`{"id":"t","method":"thread/start","params":{"approvalPolicy":"never","cwd":"` + t.TempDir() + `"}}` + "\n")
	l := p.line()
	i := strings.Index(l, `"thread":{"id":"`)
	if i < 0 {
		t.Fatalf("thread/start: %s", l)
	}
	id := l[i+len(`"thread":{"id":"`):]
	id = id[:strings.IndexByte(id, '"')]
	p.write(`{"id":"u","method":"turn/start","params":{"threadId":"` + id + `","input":[{"type":"text","text":"echo running; sleep 30"}]}}` + "\n")
	for {
		if l := p.line(); strings.Contains(l, `"delta":"running\n"`) {
			return
		}
	}
}

func TestEOFDuringATurnExitsPromptly(t *testing.T) {
	p := startRaw(t)
	startSleepingTurn(t, p)
	p.stdin.Close()
	code, took := waitExit(t, p)
	if code != 0 || took > 2*time.Second {
		t.Errorf("exit code %d after %v, want 0 within 2s", code, took)
	}
}

func TestSIGTERMDuringATurnExitsPromptly(t *testing.T) {
	p := startRaw(t)
	startSleepingTurn(t, p)
	p.cmd.Process.Signal(syscall.SIGTERM)
	code, took := waitExit(t, p)
	if code != 0 || took > 2*time.Second {
		t.Errorf("exit code %d after %v, want 0 within 2s", code, took)
	}
}

// waitPipeFull waits until the server's stdout pipe is full: FIONREAD within
// a page of F_GETPIPE_SZ (the pipe fills page by page, so a small write may
// not fit the last page's rest). From then on the server's writes block.
func waitPipeFull(t *testing.T, p *rawProc) {
	t.Helper()
	rc, err := p.outFD.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	// inPipe returns the bytes waiting in the pipe and its capacity.
	inPipe := func() (n int32, size uintptr) {
		var errno syscall.Errno
		err := rc.Control(func(fd uintptr) {
			size, _, errno = syscall.Syscall(syscall.SYS_FCNTL, fd, 1032 /* F_GETPIPE_SZ */, 0)
			if errno == 0 {
				_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCINQ /* FIONREAD */, uintptr(unsafe.Pointer(&n)))
			}
		})
		if err == nil && errno != 0 {
			err = errno
		}
		if err != nil {
			t.Fatalf("reading the pipe's fill: %v", err)
		}
		return n, size
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		n, size := inPipe()
		if uintptr(n)+4096 > size {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("output pipe holds %d of %d bytes after 30s", n, size)
		}
		time.Sleep(5 * time.Millisecond) // polls the condition; the order comes from it
	}
}
