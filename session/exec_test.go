package session

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// execLeakCheck fails the test if it leaves goroutines behind that were not
// running when it started (RunProcess must stop its pump and waiter).
func execLeakCheck(t *testing.T) {
	t.Helper()
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, opt) })
}

// setExecDelays shortens the kill grace and drain delay for one test.
func setExecDelays(t *testing.T, grace, drain time.Duration) {
	oldGrace, oldDrain := execKillGrace, execDrainDelay
	execKillGrace, execDrainDelay = grace, drain
	t.Cleanup(func() { execKillGrace, execDrainDelay = oldGrace, oldDrain })
}

// execChunks collects OnOutput calls. RunProcess calls OnOutput from one
// goroutine and only before it returns, so no lock is needed.
type execChunks struct {
	chunks [][]byte
}

func (c *execChunks) onOutput(chunk []byte) { c.chunks = append(c.chunks, chunk) }

func (c *execChunks) joined() string { return string(bytes.Join(c.chunks, nil)) }

func shArgv(script string) []string { return []string{"/bin/sh", "-c", script} }

func TestRunProcessMergesOutputInOrder(t *testing.T) {
	execLeakCheck(t)
	var rec execChunks
	res := RunProcess(context.Background(), ProcessSpec{
		Argv:     shArgv("echo a; echo b >&2; echo c; echo d >&2; exit 3"),
		OnOutput: rec.onOutput,
	})
	if res.Err != nil {
		t.Fatalf("Err = %v", res.Err)
	}
	if res.ExitCode != 3 {
		t.Errorf("ExitCode = %d, want 3", res.ExitCode)
	}
	if want := "a\nb\nc\nd\n"; res.Output != want || rec.joined() != want {
		t.Errorf("Output = %q, chunks joined = %q, want %q", res.Output, rec.joined(), want)
	}
	if res.Truncated || res.Interrupted {
		t.Errorf("Truncated = %v, Interrupted = %v, want false", res.Truncated, res.Interrupted)
	}
	if res.Duration <= 0 {
		t.Errorf("Duration = %v", res.Duration)
	}
}

func TestRunProcessSeparateStderr(t *testing.T) {
	execLeakCheck(t)
	var out, errs execChunks
	res := RunProcess(context.Background(), ProcessSpec{
		Argv:           shArgv("echo out; echo err >&2; echo out2; echo err2 >&2"),
		SeparateStderr: true,
		OnOutput:       out.onOutput,
		OnStderr:       errs.onOutput,
	})
	if res.Output != "out\nout2\n" || out.joined() != res.Output {
		t.Errorf("stdout: Output %q, chunks %q", res.Output, out.joined())
	}
	if res.Stderr != "err\nerr2\n" || errs.joined() != res.Stderr {
		t.Errorf("stderr: Stderr %q, chunks %q", res.Stderr, errs.joined())
	}

	// Without OnStderr, stderr is still kept; merged, Stderr stays empty.
	res = RunProcess(context.Background(), ProcessSpec{Argv: shArgv("echo e >&2"), SeparateStderr: true})
	if res.Output != "" || res.Stderr != "e\n" {
		t.Errorf("separate, no callbacks: %+v", res)
	}
	res = RunProcess(context.Background(), ProcessSpec{Argv: shArgv("echo e >&2")})
	if res.Output != "e\n" || res.Stderr != "" {
		t.Errorf("merged: %+v", res)
	}

}

func TestRunProcessDirEnvStdin(t *testing.T) {
	execLeakCheck(t)
	dir := t.TempDir()
	res := RunProcess(context.Background(), ProcessSpec{
		// cat reads stdin: it must see EOF at once (/dev/null), not hang.
		Argv: shArgv(`pwd; echo "$FOO"; cat; echo done`),
		Dir:  dir,
		Env:  []string{"FOO=bar baz", "PATH=" + os.Getenv("PATH")},
	})
	want := dir + "\nbar baz\ndone\n"
	if res.Output != want || res.ExitCode != 0 {
		t.Errorf("got (%q, %d), want (%q, 0)", res.Output, res.ExitCode, want)
	}
}

func TestRunProcessStartFailure(t *testing.T) {
	execLeakCheck(t)
	for _, spec := range []ProcessSpec{
		{Argv: []string{"/nonexistent/program"}},
		{Argv: []string{"definitely-not-a-program-xyz"}},
		{Argv: []string{"/bin/sh", "-c", "true"}, Dir: "/nonexistent/dir"},
		{Argv: nil},
	} {
		res := RunProcess(context.Background(), spec)
		if res.Err == nil || res.ExitCode != -1 {
			t.Errorf("%v: got (err %v, exit %d), want an error and -1", spec.Argv, res.Err, res.ExitCode)
		}
	}
}

func TestRunProcessCancelled(t *testing.T) {
	execLeakCheck(t)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	res := RunProcess(ctx, ProcessSpec{Argv: shArgv("echo started; sleep 30")})
	if !res.Interrupted || res.ExitCode != -1 {
		t.Errorf("got (interrupted %v, exit %d), want (true, -1)", res.Interrupted, res.ExitCode)
	}
	if res.Duration > 5*time.Second {
		t.Errorf("Duration = %v: SIGTERM did not end the command", res.Duration)
	}
	if res.Output != "started\n" {
		t.Errorf("Output = %q", res.Output)
	}

	// A context cancelled before the start runs nothing.
	res = RunProcess(ctx, ProcessSpec{Argv: shArgv("echo never")})
	if !res.Interrupted || res.Output != "" || res.ExitCode != -1 {
		t.Errorf("pre-cancelled: %+v", res)
	}
}

func TestRunProcessCancelEscalatesToSIGKILL(t *testing.T) {
	execLeakCheck(t)
	setExecDelays(t, 300*time.Millisecond, 2*time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	var rec execChunks
	ready := make(chan struct{})
	res := func() ProcessResult {
		// Cancel only once the trap is in place (it precedes the output), so
		// SIGTERM is ignored for sure.
		go func() { <-ready; cancel() }()
		return RunProcess(ctx, ProcessSpec{
			Argv: shArgv(`trap '' TERM; echo armed; sleep 30; echo survived`),
			OnOutput: func(c []byte) {
				if len(rec.chunks) == 0 {
					close(ready)
				}
				rec.onOutput(c)
			},
		})
	}()
	if !res.Interrupted || res.ExitCode != -1 {
		t.Errorf("got (interrupted %v, exit %d), want (true, -1)", res.Interrupted, res.ExitCode)
	}
	if res.Duration < 300*time.Millisecond || res.Duration > 5*time.Second {
		t.Errorf("Duration = %v, want about the 300ms grace plus the wait for cancel", res.Duration)
	}
	if strings.Contains(res.Output, "survived") {
		t.Errorf("Output = %q", res.Output)
	}
}

// When the server shuts down (Hurry), a command that ignores SIGTERM gets
// SIGKILL after shutdownKillGrace, not the usual grace: the server must
// outlive it.
func TestRunProcessShutdownKillsSooner(t *testing.T) {
	execLeakCheck(t)
	setExecDelays(t, time.Minute, 2*time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	hurry := make(chan struct{})
	var once sync.Once
	res := RunProcess(ctx, ProcessSpec{
		Argv: shArgv(`trap '' TERM; echo armed; sleep 30`), Hurry: hurry,
		// The trap precedes the output: SIGTERM is ignored for sure. The
		// command is stopped first, then the server hurries.
		OnOutput: func([]byte) { once.Do(func() { cancel(); close(hurry) }) },
	})
	if !res.Interrupted || res.Duration > 10*time.Second {
		t.Errorf("got (interrupted %v, after %v), want interrupted about %v after the output", res.Interrupted, res.Duration, shutdownKillGrace)
	}
}

// execProcessGone reports whether pid has exited (absent or a zombie).
func execProcessGone(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return syscall.Kill(pid, 0) == syscall.ESRCH
	}
	// Field 3, after the parenthesized command name, is the state.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && (s[i+2] == 'Z' || s[i+2] == 'X')
}

func execWaitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !execProcessGone(pid) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("process %d is still running", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRunProcessKillsLeftoverChildren(t *testing.T) {
	execLeakCheck(t)
	start := time.Now()
	// The background sleep holds the output pipe: without the group kill,
	// RunProcess would wait for it (or the drain delay) and it would run on.
	res := RunProcess(context.Background(), ProcessSpec{Argv: shArgv("sleep 30 & echo $!")})
	if res.ExitCode != 0 || res.Interrupted {
		t.Fatalf("got %+v", res)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %v: the leftover child kept the pipe open", d)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(res.Output))
	if err != nil {
		t.Fatalf("Output = %q", res.Output)
	}
	execWaitGone(t, pid)
}

func TestRunProcessEscapedHolderIsBounded(t *testing.T) {
	if _, err := exec.LookPath("setsid"); err != nil {
		t.Skip("no setsid")
	}
	execLeakCheck(t)
	setExecDelays(t, 2*time.Second, 300*time.Millisecond)
	for _, separate := range []bool{false, true} {
		// setsid takes the sleep out of the group, so the group kill misses
		// it and it keeps the pipe open (with SeparateStderr, only the stderr
		// pipe): only the drain delay ends the wait. The main process waits
		// until the escape has happened (the pid file).
		pidFile := t.TempDir() + "/pid"
		res := RunProcess(context.Background(), ProcessSpec{
			Argv: shArgv(`setsid sh -c 'echo $$ >"$0.tmp" && mv "$0.tmp" "$0"; exec sleep 30' "` + pidFile + `" >/dev/null &
while [ ! -f "` + pidFile + `" ]; do sleep 0.01; done
cat "` + pidFile + `"`),
			SeparateStderr: separate,
		})
		pid, err := strconv.Atoi(strings.TrimSpace(res.Output))
		if err != nil {
			t.Fatalf("separate %v: Output = %q (%+v)", separate, res.Output, res)
		}
		syscall.Kill(pid, syscall.SIGKILL)
		if res.Duration < 300*time.Millisecond || res.Duration > 3*time.Second {
			t.Errorf("separate %v: Duration = %v, want about the 300ms drain delay", separate, res.Duration)
		}
	}
}

func TestRunProcessBatches(t *testing.T) {
	execLeakCheck(t)

	// Output separated by pauses longer than the flush interval arrives
	// in separate chunks, each soon after it was written.
	var rec execChunks
	res := RunProcess(context.Background(), ProcessSpec{
		Argv:     shArgv("for i in 1 2 3; do echo $i; sleep 0.15; done"),
		OnOutput: rec.onOutput,
	})
	if rec.joined() != "1\n2\n3\n" || res.Output != "1\n2\n3\n" {
		t.Fatalf("joined %q, Output %q", rec.joined(), res.Output)
	}
	if len(rec.chunks) != 3 {
		t.Errorf("got %d chunks %q, want 3", len(rec.chunks), rec.chunks)
	}

	// A fast stream is cut in batches of at most 64 KiB.
	rec = execChunks{}
	const n = 1_000_000
	res = RunProcess(context.Background(), ProcessSpec{
		Argv:     shArgv("head -c " + strconv.Itoa(n) + " /dev/zero | tr '\\0' a"),
		OnOutput: rec.onOutput,
	})
	if got := len(rec.joined()); got != n || len(res.Output) != n {
		t.Fatalf("delivered %d bytes, Output %d, want %d", got, len(res.Output), n)
	}
	for i, c := range rec.chunks {
		if len(c) > outputBatchMax {
			t.Errorf("chunk %d has %d bytes", i, len(c))
		}
	}
	if len(rec.chunks) < n/outputBatchMax || len(rec.chunks) > 1000 {
		t.Errorf("%d chunks for %d bytes", len(rec.chunks), n)
	}
}

func TestRunProcessHugeOutputIsBounded(t *testing.T) {
	execLeakCheck(t)
	// 64 MB is enough to tell a bounded heap (a few MiB) from one that
	// grows with the output, and quick enough under -race.
	const n = 64 << 20
	var total, chunks int
	var peak uint64
	var ms runtime.MemStats
	res := RunProcess(context.Background(), ProcessSpec{
		Argv: shArgv("yes | head -c " + strconv.Itoa(n)),
		OnOutput: func(c []byte) {
			total += len(c)
			if chunks++; chunks%256 == 0 {
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapAlloc)
			}
		},
	})
	if total != n {
		t.Fatalf("delivered %d bytes, want %d", total, n)
	}
	if len(res.Output) != MaxOutputTail || !res.Truncated {
		t.Errorf("Output has %d bytes, Truncated %v; want %d, true", len(res.Output), res.Truncated, MaxOutputTail)
	}
	if !strings.HasSuffix(res.Output, "y\ny\n") || !strings.HasPrefix(res.Output, "y\n") {
		t.Errorf("Output is not the tail: starts %q, ends %q", res.Output[:4], res.Output[len(res.Output)-4:])
	}
	// Garbage between collections counts too; what matters is that the
	// heap does not grow with the output.
	if peak > 24<<20 {
		t.Errorf("heap reached %d MiB while streaming", peak>>20)
	}
	t.Logf("%d bytes in %v, %d chunks, peak heap %d MiB", n, res.Duration, chunks, peak>>20)
}

// TestOutputPumpNeverSplitsCharacters feeds a pump a piece at a time,
// waiting for each batch before writing the next, so that every batch
// ends where a piece does: a lone incomplete character is held back, not
// sent as an empty or broken chunk.
func TestOutputPumpNeverSplitsCharacters(t *testing.T) {
	execLeakCheck(t)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	delivered := make(chan string, 8)
	p := newOutputPump(pr, func(c []byte) { delivered <- string(c) })
	go p.run()
	var chunks []string
	for _, step := range []struct{ write, want string }{
		{"a\xc3", "a"},          // é split after its first byte
		{"\xa9b\xf0\x9f", "éb"}, // 😀 split in the middle
		{"\x98\x80", "😀"},
		{"\xffz", "\uFFFDz"},         // invalid
		{"\xe2\x82", "\uFFFD\uFFFD"}, // truncated at EOF
	} {
		pw.Write([]byte(step.write))
		if step.want == "\uFFFD\uFFFD" {
			pw.Close()
		}
		select {
		case c := <-delivered:
			chunks = append(chunks, c)
			if c != step.want {
				t.Errorf("after writing %q the pump delivered %q, want %q", step.write, c, step.want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no chunk after writing %q", step.write)
		}
	}
	<-p.done
	pr.Close()
	want := "aéb😀\uFFFDz\uFFFD\uFFFD"
	if got := strings.Join(chunks, ""); got != want || p.tail.String() != want {
		t.Errorf("joined %q, tail %q, want %q", got, p.tail.String(), want)
	}
	if len(delivered) != 0 {
		t.Errorf("extra chunk %q", <-delivered)
	}
}

func TestOutputTail(t *testing.T) {
	tests := []struct {
		name      string
		max       int
		writes    []string
		want      string
		truncated bool
	}{
		{"empty", 8, nil, "", false},
		{"fits", 8, []string{"abc", "defgh"}, "abcdefgh", false},
		{"wraps", 8, []string{"abcdef", "ghij"}, "cdefghij", true},
		{"wraps twice", 8, []string{"abcdef", "ghij", "klmnop"}, "ijklmnop", true},
		{"big write", 8, []string{"ab", "0123456789xyz"}, "56789xyz", true},
		{"many small", 4, []string{"a", "b", "c", "d", "e", "f"}, "cdef", true},
		{"cut inside a character", 5, []string{"aé", "ééé"}, "éé", true}, // kept "\xa9éé": the orphan byte goes
		{"exact", 4, []string{"abcd"}, "abcd", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tail := outputTail{max: tt.max}
			for _, w := range tt.writes {
				tail.write([]byte(w))
			}
			if got := tail.String(); got != tt.want || tail.truncated() != tt.truncated {
				t.Errorf("got (%q, %v), want (%q, %v)", got, tail.truncated(), tt.want, tt.truncated)
			}
			if len(tail.buf) > tt.max || cap(tail.buf) > tt.max {
				t.Errorf("buffer len %d cap %d exceeds %d", len(tail.buf), cap(tail.buf), tt.max)
			}
		})
	}
}

func TestSplitIncomplete(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"", 0},
		{"abc", 3},
		{"ab\xc3", 2},
		{"ab\xc3\xa9", 4},
		{"a\xf0\x9f\x98", 1},
		{"a\xf0\x9f\x98\x80", 5},
		{"a\xe2\x82", 1},
		{"a\xff", 2},         // invalid, not a prefix: sent (as U+FFFD)
		{"a\x80\x80\x80", 4}, // stray continuation bytes: sent
		{"a\xc3\x28", 3},     // broken sequence: sent
	}
	for _, tt := range tests {
		if got := splitIncomplete([]byte(tt.in)); got != tt.want {
			t.Errorf("splitIncomplete(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}
