package termclient

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// tmux drives the client in a real terminal: a detached tmux session on
// its own server (socket), keys sent with send-keys, the screen read with
// capture-pane.
type tmux struct {
	t      *testing.T
	socket string
}

func newTmux(t *testing.T, command string) *tmux {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed: the interactive (raw terminal) test needs it")
	}
	tm := &tmux{t: t, socket: fmt.Sprintf("app-server-client-test-%d-%d", os.Getpid(), time.Now().UnixNano())}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("screen:\n%s", tm.screen())
		}
		exec.Command("tmux", "-L", tm.socket, "kill-server").Run()
	})
	tm.run("-f", "/dev/null", "new-session", "-d", "-x", "200", "-y", "50", command)
	return tm
}

func (tm *tmux) run(args ...string) string {
	tm.t.Helper()
	cmd := exec.Command("tmux", append([]string{"-L", tm.socket}, args...)...)
	env := os.Environ()
	if os.Getenv("TERM") == "" {
		env = append(env, "TERM=xterm-256color")
	}
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		tm.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// screen is the pane's scrollback and screen, wrapped lines joined.
func (tm *tmux) screen() string {
	out, _ := exec.Command("tmux", "-L", tm.socket, "capture-pane", "-p", "-J", "-S", "-").Output()
	return string(out)
}

// typeLine types text literally, then Enter.
func (tm *tmux) typeLine(text string) {
	tm.run("send-keys", "-l", text)
	tm.run("send-keys", "Enter")
}

// waitFor polls the screen until it shows s n times.
func (tm *tmux) waitFor(s string, n int) string {
	tm.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		scr := tm.screen()
		if strings.Count(scr, s) >= n {
			return scr
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("the screen does not show %d× %q within 20s", n, s)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// TestInteractiveTmux: in a real terminal, a curl to a local target shows
// the network prompt with host and port; "s" allows it for the session and
// curl gets 200; the same curl again is not asked about; /grants shows the
// grant, /revoke removes it, and Ctrl-D quits with 0.
func TestInteractiveTmux(t *testing.T) {
	tg := newTarget(t)
	home, dir := newHome(t), t.TempDir()
	tm := newTmux(t, fmt.Sprintf("%q client --home %q --cwd %q; echo \"[client exited $?]\"; sleep 600", bin, home, dir))
	tm.waitFor("Ctrl-D quits.", 1)

	question := fmt.Sprintf("?? allow 127.0.0.1:%d over http?", tg.port)
	tm.typeLine(curl(tg.url))
	tm.waitFor(question, 1)
	tm.waitFor("[s] session", 1)
	tm.run("send-keys", "-l", "s")
	scr := tm.waitFor("-- turn completed", 1)
	if !strings.Contains(scr, "-> allowed for this session") || !strings.Contains(scr, "\n200\n") {
		t.Fatalf("after s: no answer or no 200")
	}

	tm.typeLine(curl(tg.url))
	scr = tm.waitFor("-- turn completed", 2)
	if n := strings.Count(scr, "?? allow"); n != 1 {
		t.Errorf("%d prompts, want 1: the session grant covers the second request", n)
	}
	if n := strings.Count(scr, "\n200\n"); n != 2 || tg.hits.Load() != 2 {
		t.Errorf("%d times 200, %d hits; want 2", n, tg.hits.Load())
	}

	tm.typeLine("/grants")
	tm.waitFor(fmt.Sprintf("127.0.0.1  http      %d  allow   session", tg.port), 1)
	tm.typeLine("/revoke 127.0.0.1")
	tm.waitFor("revoked 1 session rule:", 1)
	tm.typeLine("/grants")
	tm.waitFor("network: nothing remembered", 1)

	tm.run("send-keys", "C-d")
	tm.waitFor("[client exited 0]", 1)
}

// TestInteractiveTmuxCtrlC: in raw mode Ctrl-C interrupts a running turn,
// then at the empty prompt line quits with 0.
func TestInteractiveTmuxCtrlC(t *testing.T) {
	home, dir := newHome(t), t.TempDir()
	tm := newTmux(t, fmt.Sprintf("%q client --home %q --cwd %q; echo \"[client exited $?]\"; sleep 600", bin, home, dir))
	tm.waitFor("Ctrl-D quits.", 1)
	tm.typeLine("sleep 30")
	tm.waitFor("$ sleep 30", 1)
	start := time.Now()
	tm.run("send-keys", "C-c")
	tm.waitFor("-- turn interrupted", 1)
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("interrupt took %v", d)
	}
	tm.run("send-keys", "-l", "echo typed")
	tm.run("send-keys", "C-c") // clears the line
	tm.run("send-keys", "C-c") // quits
	scr := tm.waitFor("[client exited 0]", 1)
	if strings.Contains(scr, "$ echo typed") {
		t.Error("Ctrl-C ran the line instead of clearing it")
	}
}

// visible is the pane's screen only, without the scrollback.
func (tm *tmux) visible() string {
	out, _ := exec.Command("tmux", "-L", tm.socket, "capture-pane", "-p", "-J").Output()
	return string(out)
}

// TestInteractiveTmuxStatusLine: the client starts with one line of state
// (policy, sandbox, network, local addresses, prompt timeout and its
// default), a timed prompt says what it answers when, /status prints the
// state again, /threads shows the prefix /resume takes, and Ctrl-L clears
// the screen.
func TestInteractiveTmuxStatusLine(t *testing.T) {
	tg := newTarget(t)
	home, dir := newHome(t), t.TempDir()
	tm := newTmux(t, fmt.Sprintf("%q client --home %q --cwd %q -c network.approval_timeout_ms=60000; echo \"[client exited $?]\"; sleep 600", bin, home, dir))
	scr := tm.waitFor("Ctrl-D quits.", 1)
	for _, want := range []string{
		"approval on-request (commands run without a prompt)",
		"network proxy on, new destinations prompt",
		"local addresses prompt like any other",
		"network prompts decline after 1 min",
	} {
		if !strings.Contains(scr, want) {
			t.Errorf("the banner lacks %q", want)
		}
	}

	tm.typeLine(curl(tg.url))
	tm.waitFor("(declines in ", 1)
	tm.run("send-keys", "-l", "d")
	tm.waitFor("-- turn completed", 1)

	tm.typeLine("/status")
	tm.waitFor("network prompts decline after 1 min", 2)

	tm.typeLine("/threads")
	scr = tm.waitFor("RESUME", 1)
	var prefix string
	for _, l := range strings.Split(scr, "\n") {
		if f := strings.Fields(l); len(f) > 2 && f[0] == "*" {
			prefix = f[2]
		}
	}
	if prefix == "" || len(prefix) >= 36 {
		t.Fatalf("/threads shows no short prefix for the current thread")
	}
	tm.typeLine("/resume " + prefix)
	tm.waitFor("resumed thread ", 1)

	if !strings.Contains(tm.visible(), "app-server client - thread") {
		t.Fatalf("the banner is not on the screen before Ctrl-L:\n%s", tm.visible())
	}
	tm.run("send-keys", "C-l")
	deadline := time.Now().Add(10 * time.Second)
	for strings.Contains(tm.visible(), "app-server client - thread") {
		if time.Now().After(deadline) {
			t.Fatalf("Ctrl-L did not clear the screen:\n%s", tm.visible())
		}
		time.Sleep(25 * time.Millisecond)
	}
	tm.typeLine("echo after-clear")
	tm.waitFor("\nafter-clear\n", 1)

	tm.run("send-keys", "C-d")
	tm.waitFor("[client exited 0]", 1)
}

// TestReadmeFirstScreen follows the README's first screen: the client,
// then `curl -sI https://example.com` at its prompt, asks about
// example.com:443 over https. It runs with allow_local_binding as the
// README says to offline (without DNS a name cannot be checked to be
// public, so it would be refused without asking); the prompt comes before
// any lookup or connection either way, and "d" declines it.
func TestReadmeFirstScreen(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	tm := newTmux(t, fmt.Sprintf("%q client --home %q --cwd %q -c network.allow_local_binding=true; echo \"[client exited $?]\"; sleep 600", bin, home, dir))
	tm.waitFor("Ctrl-D quits.", 1)
	tm.typeLine("curl -sI https://example.com")
	tm.waitFor("?? allow example.com:443 over https?", 1)
	tm.waitFor("[x] always deny example.com", 1)
	tm.run("send-keys", "-l", "d")
	scr := tm.waitFor("-- turn completed", 1)
	if !strings.Contains(scr, "-> declined") || !strings.Contains(scr, "HTTP/1.1 403") {
		t.Errorf("after d: no echo of the answer or no 403")
	}
	tm.run("send-keys", "C-d")
	tm.waitFor("[client exited 0]", 1)
}
