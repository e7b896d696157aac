package termclient

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The end-to-end tests run the real binary: "app-server client" starts
// "app-server serve" as its child, so every byte goes over the wire.

// bin is the app-server binary, built once by TestMain.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "app-server-client-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "app-server")
	build := exec.Command("go", "build", "-o", bin, "app-server/cmd/app-server")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building app-server:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// localConfig lets commands reach the tests' servers on 127.0.0.1.
const localConfig = "[network]\nallow_local_binding = true\n"

// target is an HTTP server on 127.0.0.1 that counts its hits.
type target struct {
	url  string
	port int
	hits atomic.Int64
}

func newTarget(t *testing.T) *target {
	t.Helper()
	tg := &target{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tg.hits.Add(1)
		fmt.Fprint(w, "hello")
	}))
	t.Cleanup(srv.Close)
	tg.url = srv.URL + "/"
	tg.port = srv.Listener.Addr().(*net.TCPAddr).Port
	return tg
}

// curl prints the HTTP status only.
func curl(url string) string { return "curl -s -o /dev/null -w '%{http_code}\\n' " + url }

// newHome returns a home directory whose config.toml allows local targets.
func newHome(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	if err := os.WriteFile(filepath.Join(home, "config.toml"), []byte(localConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	return home
}

// syncBuffer is a bytes.Buffer safe for a writer and a poller.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// clientProc is a running "app-server client".
type clientProc struct {
	t              *testing.T
	cmd            *exec.Cmd
	stdin          io.WriteCloser
	stdout, stderr *syncBuffer
	done           chan struct{}
	code           int
}

// startClient starts "app-server client --home home args..." in a temp
// directory, with stdin a pipe (so input is read as lines).
func startClient(t *testing.T, home string, args ...string) *clientProc {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"client", "--home", home}, args...)...)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "GORACE=atexit_sleep_ms=0")
	p := &clientProc{t: t, cmd: cmd, stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	var err error
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := cmd.Wait()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			p.code = ee.ExitCode()
		} else if err != nil {
			p.code = -1
		}
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stdin.Close()
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			t.Errorf("client did not exit within 10s of its stdin closing")
		}
		if t.Failed() {
			t.Logf("stdout:\n%s\nstderr:\n%s", p.stdout, p.stderr)
		}
	})
	return p
}

// send writes lines to the client's stdin.
func (p *clientProc) send(lines ...string) {
	p.t.Helper()
	for _, l := range lines {
		if _, err := io.WriteString(p.stdin, l+"\n"); err != nil {
			p.t.Fatalf("writing %q: %v", l, err)
		}
	}
}

// wait closes nothing; it waits for the client to exit and returns its code.
func (p *clientProc) wait() int {
	p.t.Helper()
	select {
	case <-p.done:
		return p.code
	case <-time.After(30 * time.Second):
		p.t.Fatalf("client still running after 30s\nstdout:\n%s\nstderr:\n%s", p.stdout, p.stderr)
	}
	return 0
}

// waitFor polls buf until it holds n occurrences of s.
func (p *clientProc) waitFor(buf *syncBuffer, s string, n int) {
	p.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for strings.Count(buf.String(), s) < n {
		if time.Now().After(deadline) {
			p.t.Fatalf("no %d× %q within 20s\nstdout:\n%s\nstderr:\n%s", n, s, p.stdout, p.stderr)
		}
		select {
		case <-p.done:
			if strings.Count(buf.String(), s) < n {
				p.t.Fatalf("client exited (%d) before %d× %q\nstdout:\n%s\nstderr:\n%s", p.code, n, s, p.stdout, p.stderr)
			}
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// waitForAny polls buf until it holds one of subs.
func (p *clientProc) waitForAny(buf *syncBuffer, subs ...string) {
	p.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		for _, s := range subs {
			if strings.Contains(buf.String(), s) {
				return
			}
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("none of %q within 20s\nstdout:\n%s\nstderr:\n%s", subs, p.stdout, p.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func contains(t *testing.T, what, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, s)
		}
	}
}

// TestExecAuto runs --exec with each --auto decision against a local
// target: the command's output is on stdout, the prompt and its answer on
// stderr, and the exit code is curl's.
func TestExecAuto(t *testing.T) {
	for _, tc := range []struct {
		auto     string
		twice    bool   // run curl twice in the one command line
		stdout   string // curl's status codes
		answer   string
		hits     int64
		denial   bool
		nPrompts int
	}{
		{auto: "accept", stdout: "200\n", answer: "auto: allowed once", hits: 1, nPrompts: 1},
		{auto: "decline", stdout: "403\n", answer: "auto: declined", hits: 0, denial: true, nPrompts: 1},
		// For the session: the second request is not asked about.
		{auto: "acceptForSession", twice: true, stdout: "200\n200\n", answer: "auto: allowed for this session", hits: 2, nPrompts: 1},
	} {
		t.Run(tc.auto, func(t *testing.T) {
			tg := newTarget(t)
			line := curl(tg.url)
			if tc.twice {
				line += "; " + line
			}
			p := startClient(t, newHome(t), "--exec", line, "--auto", tc.auto)
			if code := p.wait(); code != 0 {
				t.Errorf("exit code %d, want 0", code)
			}
			if got := p.stdout.String(); got != tc.stdout {
				t.Errorf("stdout %q, want %q", got, tc.stdout)
			}
			stderr := p.stderr.String()
			question := fmt.Sprintf("?? allow 127.0.0.1:%d over http?", tg.port)
			contains(t, "stderr", stderr, question, tc.answer, "$ "+line, "-> exit 0", "-- turn completed")
			if n := strings.Count(stderr, "?? "); n != tc.nPrompts {
				t.Errorf("%d prompts, want %d", n, tc.nPrompts)
			}
			if tc.denial {
				contains(t, "stderr", stderr, fmt.Sprintf("!! network: 127.0.0.1:%d over http denied (not_allowed: Domain not in allowlist; declined at the prompt)", tg.port))
			}
			if tg.hits.Load() != tc.hits {
				t.Errorf("target hit %d times, want %d", tg.hits.Load(), tc.hits)
			}
		})
	}
}

func TestExecExitCodes(t *testing.T) {
	t.Run("command's code", func(t *testing.T) {
		p := startClient(t, newHome(t), "--exec", "echo out; exit 7")
		if code := p.wait(); code != 7 {
			t.Errorf("exit code %d, want 7", code)
		}
		if p.stdout.String() != "out\n" {
			t.Errorf("stdout %q", p.stdout)
		}
	})
	t.Run("declined", func(t *testing.T) {
		p := startClient(t, newHome(t), "--approval-policy", "untrusted", "--auto", "decline", "--exec", "touch made")
		if code := p.wait(); code != ExitDeclined {
			t.Errorf("exit code %d, want %d", code, ExitDeclined)
		}
		contains(t, "stderr", p.stderr.String(), "?? run `touch made` in ", "-> not run, declined")
		if _, err := os.Stat(filepath.Join(p.cmd.Dir, "made")); err == nil {
			t.Error("the declined command ran")
		}
	})
	t.Run("declined at end of input", func(t *testing.T) {
		// No --auto and stdin ends: nobody can answer, so the prompt is
		// declined.
		p := startClient(t, newHome(t), "--approval-policy", "untrusted", "--exec", "touch made")
		p.stdin.Close()
		if code := p.wait(); code != ExitDeclined {
			t.Errorf("exit code %d, want %d", code, ExitDeclined)
		}
		contains(t, "stderr", p.stderr.String(), "declined (end of input)")
	})
	t.Run("usage", func(t *testing.T) {
		p := startClient(t, newHome(t), "--auto", "maybe")
		if code := p.wait(); code != ExitUsage {
			t.Errorf("exit code %d, want %d", code, ExitUsage)
		}
		contains(t, "stderr", p.stderr.String(), "-auto", "maybe", "app-server client --help")
	})
	t.Run("bad config", func(t *testing.T) {
		p := startClient(t, newHome(t), "-c", "approval_policy=sometimes", "--exec", "true")
		if code := p.wait(); code != ExitFailure {
			t.Errorf("exit code %d, want %d", code, ExitFailure)
		}
		contains(t, "stderr", p.stderr.String(), "approval_policy")
	})
}

// TestExecInterruptedBySignal: SIGINT (Ctrl-C when stdin is not a
// terminal) interrupts the turn; --exec exits 130.
func TestExecInterruptedBySignal(t *testing.T) {
	p := startClient(t, newHome(t), "--exec", "sleep 30")
	p.waitFor(p.stderr, "$ sleep 30", 1)
	start := time.Now()
	p.cmd.Process.Signal(os.Interrupt)
	if code := p.wait(); code != ExitInterrupted {
		t.Errorf("exit code %d, want %d", code, ExitInterrupted)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("interrupt took %v", time.Since(start))
	}
	contains(t, "stderr", p.stderr.String(), "-- turn interrupted")
}

// TestLinesAnswerPromptsAndCommands drives the interactive client with
// lines on a pipe: "s" answers the prompt, the grant is listed, revoked,
// and the end of input quits with 0.
func TestLinesAnswerPromptsAndCommands(t *testing.T) {
	tg := newTarget(t)
	p := startClient(t, newHome(t))
	p.send(curl(tg.url), "s")
	p.waitFor(p.stdout, "-- turn completed", 1)
	p.send(curl(tg.url))
	p.waitFor(p.stdout, "-- turn completed", 2)
	p.send("/grants", "/revoke 127.0.0.1", "/grants", "/threads")
	p.stdin.Close()
	if code := p.wait(); code != 0 {
		t.Errorf("exit code %d", code)
	}
	out := p.stdout.String()
	grant := fmt.Sprintf("127.0.0.1  http      %d  allow   session", tg.port)
	contains(t, "stdout", out,
		fmt.Sprintf("?? allow 127.0.0.1:%d over http?", tg.port),
		"[a] once  [s] session  [p] always allow 127.0.0.1  [x] always deny 127.0.0.1  [d] decline  [c] cancel turn",
		"-> allowed for this session", grant, "revoked 1 session rule:", "network: nothing remembered", "* ")
	if n := strings.Count(out, "?? "); n != 1 {
		t.Errorf("%d prompts, want 1 (the second request is covered by the session grant)", n)
	}
	if n := strings.Count(out, "\n200\n"); n != 2 || tg.hits.Load() != 2 {
		t.Errorf("%d times 200, %d hits; want 2", n, tg.hits.Load())
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("colour on a pipe")
	}
}

// TestQueuedPrompts: two prompts at once are shown one at a time, oldest
// first, each answered on its own.
func TestQueuedPrompts(t *testing.T) {
	a, b := newTarget(t), newTarget(t)
	p := startClient(t, newHome(t))
	p.send(fmt.Sprintf("(%s) & (%s) & wait", curl(a.url), curl(b.url)))
	// The second prompt is announced below the first ("another prompt is
	// waiting"), or on the first's line when both arrived together.
	p.waitForAny(p.stdout, "(another prompt is waiting: allow 127.0.0.1:", "(1 more waiting)")
	if n := strings.Count(p.stdout.String(), "?? allow"); n != 1 {
		t.Fatalf("%d prompts shown at once, want 1", n)
	}
	p.send("a")
	p.waitFor(p.stdout, "?? allow", 2)
	p.send("d")
	p.waitFor(p.stdout, "-- turn completed", 1)
	out := p.stdout.String()
	contains(t, "stdout", out, "-> allowed once", "-> declined", "200\n", "403\n")
	if a.hits.Load()+b.hits.Load() != 1 {
		t.Errorf("hits a=%d b=%d, want one in all", a.hits.Load(), b.hits.Load())
	}
	// One prompt at a time: the second is shown after the first's answer.
	first := strings.Index(out, "?? allow")
	answer := strings.Index(out, "-> allowed once")
	second := strings.LastIndex(out, "?? allow")
	if !(first < answer && answer < second) {
		t.Errorf("order: first prompt %d, its answer %d, second prompt %d", first, answer, second)
	}
}

// TestPromptResolvedByServer: a prompt the server resolves (here, its
// timeout) is dropped from the screen and the turn goes on.
func TestPromptResolvedByServer(t *testing.T) {
	tg := newTarget(t)
	p := startClient(t, newHome(t), "-c", "network.approval_timeout_ms=300")
	p.send(curl(tg.url))
	p.waitFor(p.stdout, "-- turn completed", 1)
	contains(t, "stdout", p.stdout.String(), "?? allow", "-> closed by the server before an answer", "403\n", "denied (timeout: Network approval timed out)")
	p.send("/quit")
	if code := p.wait(); code != 0 {
		t.Errorf("exit code %d", code)
	}
}

func TestHelpFlag(t *testing.T) {
	out, err := exec.Command(bin, "client", "--help").Output()
	if err != nil {
		t.Fatal(err)
	}
	contains(t, "help", string(out), "Prompt keys", "/revoke [--persistent] HOST[:PORT]", "Exit codes")
}

// --exec runs in a scratch thread (ephemeral: no rollout, not listed)
// unless --save keeps it; an interactive start is saved.
func TestExecThreadIsScratchUnlessSave(t *testing.T) {
	home := newHome(t)
	rollouts := func() int {
		entries, _ := os.ReadDir(filepath.Join(home, "threads"))
		return len(entries)
	}
	p := startClient(t, home, "--exec", "echo scratch")
	if code := p.wait(); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	contains(t, "stderr", p.stderr.String(), "(scratch: not saved)")
	if n := rollouts(); n != 0 {
		t.Errorf("--exec saved %d threads, want 0", n)
	}

	p = startClient(t, home, "--exec", "echo kept", "--save")
	if code := p.wait(); code != 0 {
		t.Fatalf("--save: exit code %d", code)
	}
	if strings.Contains(p.stderr.String(), "scratch") {
		t.Error("--save: the thread is called scratch")
	}
	if n := rollouts(); n != 1 {
		t.Errorf("--exec --save saved %d threads, want 1", n)
	}

	// The interactive client lists what was saved: the --save thread and
	// its own, not the scratch one.
	p = startClient(t, home)
	io.WriteString(p.stdin, "/threads\n")
	p.stdin.Close()
	if code := p.wait(); code != 0 {
		t.Fatalf("interactive: exit code %d", code)
	}
	out := p.stdout.String()
	if strings.Contains(out, "echo scratch") || !strings.Contains(out, "echo kept") {
		t.Errorf("/threads lists the scratch thread or misses the saved one:\n%s", out)
	}
	if n := rollouts(); n != 2 {
		t.Errorf("after an interactive start: %d threads saved, want 2", n)
	}

	p = startClient(t, home, "--save")
	if code := p.wait(); code != ExitUsage {
		t.Errorf("--save without --exec: exit code %d, want %d", code, ExitUsage)
	}
}

// TestCommandRulesListedAndRevoked: under untrusted, "s" on a command and
// "p" (a persistent prefix rule) are both listed by /grants and removed by
// /revoke --command; the next run of each prompts again. "x" then "/revoke
// --persistent" on a network prompt leaves nothing behind: the next
// request prompts instead of being refused.
func TestCommandRulesListedAndRevoked(t *testing.T) {
	tg := newTarget(t)
	p := startClient(t, newHome(t), "--approval-policy", "untrusted")
	p.send("touch made", "s")
	p.waitFor(p.stdout, "-- turn completed", 1)
	p.send("touch made") // no prompt: accepted for the session
	p.waitFor(p.stdout, "-- turn completed", 2)
	p.send("mkdir -p d/e", "p")
	p.waitFor(p.stdout, "-- turn completed", 3)
	p.send("/grants")
	p.waitFor(p.stdout, "mkdir -p d/e ...", 1)
	p.send("/revoke --command touch made", "/revoke -p --command mkdir -p d/e", "/grants")
	p.waitFor(p.stdout, "commands: nothing remembered", 1)
	p.send("touch made", "d")
	p.waitFor(p.stdout, "-- turn completed", 4)
	p.send("mkdir -p d/e", "d")
	p.waitFor(p.stdout, "-- turn completed", 5)

	// curl is asked about as a command first (untrusted), then its
	// destination.
	p.send(curl(tg.url), "a", "x")
	p.waitFor(p.stdout, "-- turn completed", 6)
	p.send("/revoke -p 127.0.0.1", "/grants", curl(tg.url), "a", "a")
	p.waitFor(p.stdout, "-- turn completed", 7)
	p.stdin.Close()
	if code := p.wait(); code != 0 {
		t.Errorf("exit code %d", code)
	}
	out := p.stdout.String()
	rows := 0
	for _, l := range strings.Split(out, "\n") {
		row := strings.Join(strings.Fields(l), " ")
		if strings.HasPrefix(row, "touch made allow session ") || strings.HasPrefix(row, "mkdir -p d/e ... allow persistent ") {
			rows++
		}
	}
	if rows != 4 { // listed, then echoed by the revoke
		t.Errorf("%d command rule rows, want 4 (each rule listed and revoked)", rows)
	}
	contains(t, "stdout", out,
		"revoked 1 session rule:", "revoked 1 persistent rule:",
		"denied; rule saved: always deny 127.0.0.1", "network: nothing remembered")
	if n := strings.Count(out, "?? run `touch made`"); n != 2 {
		t.Errorf("touch made asked %d times, want 2 (before the session approval and after its revoke)", n)
	}
	if n := strings.Count(out, "?? run `mkdir -p d/e`"); n != 2 {
		t.Errorf("mkdir asked %d times, want 2 (before the rule and after its revoke)", n)
	}
	if n := strings.Count(out, fmt.Sprintf("?? allow 127.0.0.1:%d", tg.port)); n != 2 || tg.hits.Load() != 1 {
		t.Errorf("network asked %d times and %d hits, want 2 and 1 (the revoke of the deny leaves no session deny)", n, tg.hits.Load())
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "grant") {
			t.Errorf("a message calls a rule a grant: %q", l)
		}
	}
}

// Without allow_local_binding a local target is refused without a prompt,
// and the denial line says what the address is and how to have it asked
// about instead.
func TestLocalDenialLineExplains(t *testing.T) {
	tg := newTarget(t)
	p := startClient(t, t.TempDir(), "--exec", curl(tg.url))
	if code := p.wait(); code != 0 {
		t.Errorf("exit code %d, want curl's 0", code)
	}
	stderr := p.stderr.String()
	contains(t, "stderr", stderr,
		"local addresses refused (network.allow_local_binding = true makes them prompt)",
		fmt.Sprintf("!! network: 127.0.0.1:%d over http denied (not_allowed_local: 127.0.0.1 is a loopback address; local and private addresses are refused without a prompt; network.allow_local_binding = true makes them prompt)", tg.port))
	if strings.Contains(stderr, "?? ") || tg.hits.Load() != 0 {
		t.Errorf("a local target was asked about or reached (%d hits)", tg.hits.Load())
	}
}
