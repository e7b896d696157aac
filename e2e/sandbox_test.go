package e2e

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"app-server/protocol"
	"app-server/sandbox"
)

// udpCounter is a UDP server on 127.0.0.1 that counts the datagrams it
// receives (a DNS server, as far as a query can tell).
type udpCounter struct {
	conn *net.UDPConn
	hits atomic.Int64
	port int
}

func newUDPCounter(t *testing.T) *udpCounter {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	u := &udpCounter{conn: c, port: c.LocalAddr().(*net.UDPAddr).Port}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		for {
			if _, _, err := c.ReadFromUDP(buf); err != nil {
				return
			}
			u.hits.Add(1)
		}
	}()
	t.Cleanup(func() { c.Close(); <-done })
	return u
}

// unixCounter is a Unix socket server outside the sandbox that counts
// connections.
type unixCounter struct {
	path string
	hits atomic.Int64
}

func newUnixCounter(t *testing.T) *unixCounter {
	t.Helper()
	u := &unixCounter{path: filepath.Join(t.TempDir(), "outside.sock")}
	ln, err := net.Listen("unix", u.path)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u.hits.Add(1)
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return u
}

// unixgramCounter is a datagram Unix socket outside the sandbox that
// counts the datagrams it receives (a syslog or journald socket, say).
type unixgramCounter struct {
	path string
	hits atomic.Int64
}

func newUnixgramCounter(t *testing.T) *unixgramCounter {
	t.Helper()
	u := &unixgramCounter{path: filepath.Join(t.TempDir(), "outside.gram")}
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: u.path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		for {
			if _, err := c.Read(buf); err != nil {
				return
			}
			u.hits.Add(1)
		}
	}()
	t.Cleanup(func() { c.Close(); <-done })
	return u
}

// staticDialer builds a static Go program (no libc, so nothing of the
// system's resolver or proxy settings) that dials its argument.
func staticDialer(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src := `package main

import (
	"fmt"
	"net"
	"os"
	"time"
)

func main() {
	c, err := net.DialTimeout(os.Args[1], os.Args[2], 5*time.Second)
	if err != nil {
		fmt.Println("dial:", err)
		os.Exit(1)
	}
	c.Write([]byte("GET / HTTP/1.0\r\n\r\n"))
	c.Close()
	fmt.Println("connected")
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module dialer\n\ngo 1.22\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "dialer")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the static dialer: %v\n%s", err, out)
	}
	return bin
}

// socksUDP is a python3 SOCKS5 client asking for UDP ASSOCIATE with the
// credential of ALL_PROXY; it prints the reply code.
const socksUDP = `python3 -c '
import os, socket, urllib.parse
u = urllib.parse.urlparse(os.environ["ALL_PROXY"])
s = socket.create_connection((u.hostname, u.port), timeout=5)
s.sendall(b"\x05\x01\x02"); assert s.recv(2) == b"\x05\x02"
user, pw = u.username.encode(), u.password.encode()
s.sendall(b"\x01" + bytes([len(user)]) + user + bytes([len(pw)]) + pw); assert s.recv(2) == b"\x01\x00"
s.sendall(b"\x05\x03\x00\x01\x00\x00\x00\x00\x00\x00")
print("socks udp reply", s.recv(10)[1])
'`

// bypasses are command lines that try to reach the network around the
// proxy. Each must fail, fast, without a byte reaching the targets.
func bypasses(tcpPort, udpPort int, unixPath, gramPath, dialer string) []string {
	// A resolver's query: a connected UDP socket, as glibc uses, so a
	// refusal arrives as ICMP at once.
	dnsQuery := fmt.Sprintf(`python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3)
q = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01"
s.connect(("127.0.0.1", %d)); s.send(q); print(s.recv(512))'`, udpPort)
	return []string{
		fmt.Sprintf("curl -sS --noproxy '*' --max-time 5 http://127.0.0.1:%d/", tcpPort),
		"curl -sS --noproxy '*' --max-time 5 http://169.254.169.254/",
		fmt.Sprintf("bash -c 'exec 3<>/dev/tcp/127.0.0.1/%d'", tcpPort),
		fmt.Sprintf(`python3 -c 'import socket; socket.create_connection(("127.0.0.1", %d), timeout=5)'`, tcpPort),
		fmt.Sprintf("%s tcp 127.0.0.1:%d", dialer, tcpPort),
		fmt.Sprintf("%s tcp 1.1.1.1:443", dialer),
		fmt.Sprintf("%s udp 127.0.0.1:%d && echo sent > /dev/udp/127.0.0.1/%d; exit 1", dialer, udpPort, udpPort),
		fmt.Sprintf("bash -c 'echo datagram > /dev/udp/127.0.0.1/%d'; exit 1", udpPort),
		dnsQuery,
		"getent hosts example.com",
		fmt.Sprintf(`python3 -c 'import socket; s = socket.socket(socket.AF_UNIX); s.connect("%s")'`, unixPath),
		fmt.Sprintf("curl -sS --max-time 5 --unix-socket %s http://x/", unixPath),
		// No socket() for AF_UNIX, but a datagram socket pair could send
		// to any datagram socket by path.
		fmt.Sprintf(`python3 -c 'import socket; a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM); a.sendto(b"x", "%s")'`, gramPath),
	}
}

// runBypasses runs every bypass in one turn of a thread under sandbox and
// checks that each failed, quickly, and that no target saw anything. The
// only prompts are the offers to retry without the sandbox (declined): no
// network prompt, because nothing reached the proxy.
func runBypasses(t *testing.T, config string) {
	tg := newTarget(t, false)
	udp := newUDPCounter(t)
	ux := newUnixCounter(t)
	ug := newUnixgramCounter(t)
	lines := bypasses(tg.port, udp.port, ux.path, ug.path, staticDialer(t))
	s := startServer(t, options{config: config})
	s.initialize()
	th := s.startThread(t.TempDir(), protocol.ApprovalOnRequest)
	s.startTurn(th, lines...)
	start := time.Now()
	f := s.runFlow(decision(protocol.Decline()))
	for _, a := range f.approvals {
		if a.NetworkApprovalContext != nil || a.Reason == nil || *a.Reason != "command failed; retry without sandbox?" {
			t.Errorf("unexpected prompt %+v", a)
		}
	}
	cmds := f.commands()
	if len(cmds) != len(lines) {
		t.Fatalf("%d command items, want %d", len(cmds), len(lines))
	}
	for i, c := range cmds {
		out := ""
		if c.AggregatedOutput != nil {
			out = *c.AggregatedOutput
		}
		if c.Status != protocol.CommandFailed || c.ExitCode == nil || *c.ExitCode == 0 {
			t.Errorf("bypass %q was not refused: %s, output %q", lines[i], c.Status, out)
		}
		if c.DurationMs != nil && *c.DurationMs > 2000 {
			t.Errorf("bypass %q took %d ms to fail, want a fast failure (output %q)", lines[i], *c.DurationMs, out)
		}
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("the bypasses took %v", d)
	}
	if n := tg.hits.Load() + udp.hits.Load() + ux.hits.Load() + ug.hits.Load(); n != 0 {
		t.Errorf("%d requests reached the targets (tcp %d, udp %d, unix %d, unix datagram %d)", n, tg.hits.Load(), udp.hits.Load(), ux.hits.Load(), ug.hits.Load())
	}
}

func TestSandboxBypassesReachNothing(t *testing.T) {
	t.Run("proxy", func(t *testing.T) { runBypasses(t, localConfig) })
	t.Run("network disabled", func(t *testing.T) { runBypasses(t, "[network]\nenabled = false\n") })
}

// TestSandboxProxiedTrafficPrompts: through the in-sandbox relay, plain
// HTTP, CONNECT and SOCKS5 TCP reach the proxy, which prompts; SOCKS5 UDP
// is refused with "command not supported" (no datagram relay yet).
func TestSandboxProxiedTrafficPrompts(t *testing.T) {
	tg := newTarget(t, false)
	s := startServer(t, options{config: localConfig})
	s.initialize()
	th := s.startThread(t.TempDir(), protocol.ApprovalOnRequest)
	s.startTurn(th,
		curl(tg.url+"/"),
		curl(tg.url+"/", "-p"),
		curl(tg.url+"/", "--proxy", `"$ALL_PROXY"`),
		socksUDP,
	)
	f := s.runFlow(decision(protocol.Accept()))
	if len(f.approvals) != 3 {
		t.Errorf("%d prompts, want 3 (http, https, socks5Tcp)", len(f.approvals))
	}
	cmds := f.commands()
	if len(cmds) != 4 {
		t.Fatalf("%d commands", len(cmds))
	}
	for i, want := range []string{"200\n", "200\n", "200\n", "socks udp reply 7\n"} {
		if got := *cmds[i].AggregatedOutput; got != want {
			t.Errorf("command %d (%s): %q, want %q", i, cmds[i].Command, got, want)
		}
	}
	if tg.hits.Load() != 3 {
		t.Errorf("target hit %d times, want 3", tg.hits.Load())
	}
}

// TestSandboxWritesPerMode writes inside the cwd, outside it, in /tmp,
// in <cwd>/.git and in the server's home under each mode.
func TestSandboxWritesPerMode(t *testing.T) {
	home := t.TempDir()
	outside := outsideDir(t, "sandbox-outside-")
	s := startServer(t, options{home: home})
	s.initialize()
	type where struct{ name, dir string }
	for _, tc := range []struct {
		mode protocol.SandboxMode
		want map[string]bool
	}{
		{protocol.SandboxReadOnly, map[string]bool{"cwd": false, "outside": false, "tmp": false, "git": false, "home": false}},
		{protocol.SandboxWorkspaceWrite, map[string]bool{"cwd": true, "outside": false, "tmp": true, "git": false, "home": false}},
		{protocol.SandboxDangerFullAccess, map[string]bool{"cwd": true, "outside": true, "tmp": true, "git": true, "home": true}},
	} {
		t.Run(string(tc.mode), func(t *testing.T) {
			cwd := t.TempDir()
			tmp, err := os.MkdirTemp("/tmp", "sandbox-tmp-")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.RemoveAll(tmp) })
			if err := os.Mkdir(filepath.Join(cwd, ".git"), 0o755); err != nil {
				t.Fatal(err)
			}
			places := []where{{"cwd", cwd}, {"outside", outside}, {"tmp", tmp}, {"git", filepath.Join(cwd, ".git")}, {"home", home}}
			var r protocol.ThreadStartResponse
			s.ok("thread/start", map[string]any{"cwd": cwd, "approvalPolicy": "never", "sandbox": tc.mode}, &r)
			s.until("thread/started")
			var lines []string
			for _, p := range places {
				lines = append(lines, fmt.Sprintf("echo x > %s/written-%s", p.dir, tc.mode))
			}
			s.startTurn(r.Thread.ID, lines...)
			f := s.runFlow(nil)
			cmds := f.commands()
			for i, p := range places {
				_, err := os.Stat(filepath.Join(p.dir, "written-"+string(tc.mode)))
				wrote := err == nil
				if wrote != tc.want[p.name] {
					t.Errorf("%s: write to %s: wrote=%v, want %v (output %q)", tc.mode, p.name, wrote, tc.want[p.name], *cmds[i].AggregatedOutput)
				}
				if !wrote && cmds[i].Status != protocol.CommandFailed {
					t.Errorf("%s: refused write to %s reported %s", tc.mode, p.name, cmds[i].Status)
				}
			}
		})
	}
}

// stubbornCommand ignores SIGTERM, and so does a background child that
// would write a marker file after a delay longer than the 2 s between
// SIGTERM and SIGKILL. The sleeps' durations are the markers by which the
// test finds their processes: when none is left, nothing can write the
// marker any more.
func stubbornCommand(dir, id string) (line, marker string) {
	marker = filepath.Join(dir, "marker")
	return fmt.Sprintf(`sh -c 'trap "" TERM; sleep 4.%s; echo late > %s' & trap "" TERM; echo started; sleep 30.%s; true`, id, marker, id), marker
}

func checkNothingSurvives(t *testing.T, id, marker string) {
	t.Helper()
	if pids := processesWith("4." + id); len(pids) > 0 {
		t.Errorf("the delayed writer survives: %v", pids)
	}
	if pids := processesWith("30." + id); len(pids) > 0 {
		t.Errorf("the command survives: %v", pids)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Errorf("the marker was written")
	}
}

func TestSandboxKillsEveryProcess(t *testing.T) {
	for i, how := range []string{"interrupt", "stdin EOF", "SIGTERM", "kill -9"} {
		t.Run(how, func(t *testing.T) {
			s := startServer(t, options{})
			s.initialize()
			dir := t.TempDir()
			th := s.startThread(dir, protocol.ApprovalNever)
			id := fmt.Sprintf("%d%d", 1000+i, time.Now().UnixNano()%100000)
			line, marker := stubbornCommand(dir, id)
			turnID := s.startTurn(th, line)
			s.until("item/commandExecution/outputDelta")
			switch how {
			case "interrupt":
				s.ok("turn/interrupt", map[string]any{"threadId": th, "turnId": turnID}, nil)
				if f := s.runFlow(nil); f.turn.Status != protocol.TurnInterrupted {
					t.Fatalf("turn %s", f.turn.Status)
				}
			case "stdin EOF":
				s.stdin.Close()
			case "SIGTERM":
				s.cmd.Process.Signal(syscall.SIGTERM)
			case "kill -9":
				s.cmd.Process.Kill()
			}
			if how != "interrupt" {
				select {
				case <-s.exited:
				case <-time.After(5 * time.Second):
					t.Fatal("server did not exit")
				}
			}
			checkNothingSurvives(t, id, marker)
		})
	}
}

// TestSandboxTurnEndKillsLeftovers: a command that exits leaving a
// process behind (one that ignores SIGTERM and SIGHUP and would write a
// marker later) ends its turn with nothing of it left, and the next
// command (on the helper the first one left, when it was over within the
// spare's restart delay) runs as usual.
func TestSandboxTurnEndKillsLeftovers(t *testing.T) {
	s := startServer(t, options{})
	s.initialize()
	dir := t.TempDir()
	th := s.startThread(dir, protocol.ApprovalNever)
	id := fmt.Sprintf("%d", 5000+time.Now().UnixNano()%100000)
	marker := filepath.Join(dir, "marker")
	s.startTurn(th, fmt.Sprintf(`sh -c 'trap "" TERM HUP; sleep 4.%s; echo late > %s' & echo started`, id, marker))
	if f := s.runFlow(nil); f.turn.Status != protocol.TurnCompleted {
		t.Fatalf("turn %s", f.turn.Status)
	}
	if pids := processesWith("4." + id); len(pids) > 0 {
		t.Fatalf("the leftover outlived its turn: %v", pids)
	}
	s.startTurn(th, "echo second > "+filepath.Join(dir, "second"))
	if f := s.runFlow(nil); f.turn.Status != protocol.TurnCompleted {
		t.Fatalf("second turn %s", f.turn.Status)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "second")); err != nil || string(b) != "second\n" {
		t.Fatalf("second command wrote %q, %v", b, err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("the leftover wrote its marker")
	}
}

// TestSandboxFailsClosed: when the machine cannot enforce (forced through
// the fenced test hook), a sandboxed command fails naming what is missing
// and the opt-out; with the opt-out, thread/start reports no sandbox and a
// warning says so.
func TestSandboxFailsClosed(t *testing.T) {
	t.Setenv(sandbox.ForceUnsupportedEnv, "namespaces")
	outside := outsideDir(t, "sandbox-failclosed-")
	target := filepath.Join(outside, "f")

	s := startServer(t, options{})
	s.initialize()
	var r protocol.ThreadStartResponse
	s.ok("thread/start", map[string]any{"cwd": t.TempDir(), "approvalPolicy": "never"}, &r)
	if _, skipped := s.until("thread/started"); len(skipped) > 0 {
		t.Errorf("before thread/started: %v", skipped)
	}
	if r.Sandbox.DangerFullAccess == nil {
		t.Errorf("an unenforceable sandbox is reported as %+v", r.Sandbox)
	}
	// The warning says the commands fail, not that they run unrestricted
	// (the opt-out is not set).
	w0, _ := s.until("warning")
	var wn0 protocol.WarningNotification
	w0.decode(t, &wn0)
	if !strings.Contains(wn0.Message, "its commands fail") || !strings.Contains(wn0.Message, "allow_unenforced_sandbox = true in config.toml") || strings.Contains(wn0.Message, "commands run without OS restrictions because") {
		t.Errorf("warning without the opt-out: %q", wn0.Message)
	}
	s.startTurn(r.Thread.ID, "touch "+target)
	c := oneCommand(t, s.runFlow(nil))
	if c.Status != protocol.CommandFailed || !strings.Contains(*c.AggregatedOutput, "user namespaces") || !strings.Contains(*c.AggregatedOutput, "allow_unenforced_sandbox") {
		t.Errorf("fail-closed command: %s %q", c.Status, *c.AggregatedOutput)
	}
	if _, err := os.Stat(target); err == nil {
		t.Fatal("the command ran")
	}

	s2 := startServer(t, options{config: "allow_unenforced_sandbox = true\n"})
	s2.initialize()
	var r2 protocol.ThreadStartResponse
	s2.ok("thread/start", map[string]any{"cwd": t.TempDir(), "approvalPolicy": "never"}, &r2)
	s2.until("thread/started")
	w, _ := s2.until("warning")
	var wn protocol.WarningNotification
	w.decode(t, &wn)
	if !strings.Contains(wn.Message, "not enforced") || !strings.Contains(wn.Message, "user namespaces") {
		t.Errorf("warning %q", wn.Message)
	}
	if r2.Sandbox.DangerFullAccess == nil {
		t.Errorf("unenforced sandbox reported as %+v", r2.Sandbox)
	}
	s2.startTurn(r2.Thread.ID, "touch "+target)
	if c := oneCommand(t, s2.runFlow(nil)); c.Status != protocol.CommandCompleted {
		t.Errorf("opted-out command: %s %q", c.Status, *c.AggregatedOutput)
	}
}

// TestSandboxRetryWithoutSandbox: a write the sandbox refuses is put to
// the client; accept reruns it once unsandboxed, acceptForSession also
// runs it unsandboxed later without asking, decline keeps the failure.
func TestSandboxRetryWithoutSandbox(t *testing.T) {
	outside := outsideDir(t, "sandbox-retry-")
	s := startServer(t, options{})
	s.initialize()
	th := s.startThread(t.TempDir(), protocol.ApprovalOnRequest)
	write := func(name string) string { return "echo x > " + filepath.Join(outside, name) }
	exists := func(name string) bool { _, err := os.Stat(filepath.Join(outside, name)); return err == nil }

	s.startTurn(th, write("declined"))
	f := s.runFlow(decision(protocol.Decline()))
	if len(f.approvals) != 1 || f.approvals[0].Reason == nil || *f.approvals[0].Reason != "command failed; retry without sandbox?" {
		t.Fatalf("approvals %+v", f.approvals)
	}
	if c := oneCommand(t, f); c.Status != protocol.CommandFailed || exists("declined") {
		t.Errorf("declined retry: %s", c.Status)
	}

	s.startTurn(th, write("accepted"))
	f = s.runFlow(decision(protocol.Accept()))
	if c := oneCommand(t, f); len(f.approvals) != 1 || c.Status != protocol.CommandCompleted || !exists("accepted") {
		t.Errorf("accepted retry: %d approvals, %s", len(f.approvals), c.Status)
	}
	// Accept was for once: the same command asks again.
	os.Remove(filepath.Join(outside, "accepted"))
	s.startTurn(th, write("accepted"))
	if f = s.runFlow(decision(protocol.Decline())); len(f.approvals) != 1 || exists("accepted") {
		t.Errorf("after accept: %d approvals", len(f.approvals))
	}

	s.startTurn(th, write("session"))
	f = s.runFlow(decision(protocol.AcceptForSession()))
	if c := oneCommand(t, f); len(f.approvals) != 1 || c.Status != protocol.CommandCompleted || !exists("session") {
		t.Errorf("acceptForSession retry: %d approvals, %s", len(f.approvals), c.Status)
	}
	os.Remove(filepath.Join(outside, "session"))
	s.startTurn(th, write("session"))
	if f = s.runFlow(nil); !exists("session") {
		t.Errorf("the command accepted for the session did not run unsandboxed: %q", *oneCommand(t, f).AggregatedOutput)
	}

	// A connection the sandbox refuses, in curl's words, is offered too.
	s.startTurn(th, "curl -sS --noproxy '*' --max-time 5 http://127.0.0.1:9/")
	if f := s.runFlow(decision(protocol.Decline())); len(f.approvals) != 1 || f.approvals[0].Reason == nil || *f.approvals[0].Reason != "command failed; retry without sandbox?" {
		t.Errorf("curl's refused connection: approvals %+v, output %q", f.approvals, *oneCommand(t, f).AggregatedOutput)
	}

	// Under never the failure stands without a prompt.
	th2 := s.startThread(t.TempDir(), protocol.ApprovalNever)
	s.startTurn(th2, write("never"))
	if c := oneCommand(t, s.runFlow(nil)); c.Status != protocol.CommandFailed || exists("never") {
		t.Errorf("never: %s", c.Status)
	}
}

// TestTurnSandboxPolicyOverrides: turn/start's sandboxPolicy changes the
// sandbox for that turn and later ones; workspaceWrite's writableRoots
// add roots.
func TestTurnSandboxPolicyOverrides(t *testing.T) {
	outside := outsideDir(t, "sandbox-turn-")
	s := startServer(t, options{})
	s.initialize()
	cwd := t.TempDir()
	th := s.startThread(cwd, protocol.ApprovalNever)
	turn := func(policy any, name string) bool {
		t.Helper()
		target := filepath.Join(outside, name)
		if strings.HasPrefix(name, "cwd-") {
			target = filepath.Join(cwd, name)
		}
		params := map[string]any{"threadId": th, "input": []any{map[string]any{"type": "text", "text": "echo x > " + target}}}
		if policy != nil {
			params["sandboxPolicy"] = policy
		}
		s.ok("turn/start", params, nil)
		s.runFlow(nil)
		_, err := os.Stat(target)
		return err == nil
	}
	if turn(nil, "default") {
		t.Error("workspace-write wrote outside its roots")
	}
	if turn(map[string]any{"type": "readOnly", "networkAccess": false}, "cwd-readonly") {
		t.Error("readOnly wrote in the cwd")
	}
	if turn(nil, "cwd-later") {
		t.Error("the readOnly override did not stick for the next turn")
	}
	if !turn(map[string]any{"type": "workspaceWrite", "writableRoots": []string{outside}, "networkAccess": false, "excludeSlashTmp": false, "excludeTmpdirEnvVar": false}, "root") {
		t.Error("workspaceWrite's writableRoots were not writable")
	}
	if !turn(map[string]any{"type": "dangerFullAccess"}, "danger") {
		t.Error("dangerFullAccess could not write")
	}
	m := s.call("turn/start", map[string]any{"threadId": th, "input": []any{map[string]any{"type": "text", "text": "true"}},
		"sandboxPolicy": map[string]any{"type": "workspaceWrite", "writableRoots": []string{"rel"}, "networkAccess": false, "excludeSlashTmp": false, "excludeTmpdirEnvVar": false}})
	if m.Error == nil || !strings.Contains(m.Error.Message, "not an absolute path") {
		t.Errorf("a relative writable root: %s", m.Raw)
	}
}

// TestCommandExecSandboxPolicy: command/exec's sandboxPolicy replaces the
// configured sandbox for that command.
func TestCommandExecSandboxPolicy(t *testing.T) {
	outside := outsideDir(t, "sandbox-exec-")
	s := startServer(t, options{})
	s.initialize()
	cwd := t.TempDir()
	exec := func(policy any, target string) protocol.CommandExecResponse {
		t.Helper()
		params := map[string]any{"command": []string{"sh", "-c", "echo x > " + target}, "cwd": cwd}
		if policy != nil {
			params["sandboxPolicy"] = policy
		}
		var r protocol.CommandExecResponse
		s.ok("command/exec", params, &r)
		return r
	}
	if r := exec(nil, filepath.Join(outside, "default")); r.ExitCode == 0 {
		t.Errorf("the configured workspace-write wrote outside its roots")
	}
	if r := exec(map[string]any{"type": "readOnly", "networkAccess": false}, filepath.Join(cwd, "ro")); r.ExitCode == 0 || !strings.Contains(r.Stderr, "Permission denied") && !strings.Contains(r.Stderr, "Read-only file system") {
		t.Errorf("readOnly wrote in the cwd: %+v", r)
	}
	if r := exec(map[string]any{"type": "dangerFullAccess"}, filepath.Join(outside, "danger")); r.ExitCode != 0 {
		t.Errorf("dangerFullAccess could not write: %+v", r)
	}
}

// TestSandboxCommandReachesNothingOfItsHelper: through the server, command
// after command (the first on a cold helper, the next on the spare left
// ready): a command holds fds 0, 1 and 2 only (not its stage's sockets,
// one of which is the server's, nor what the server inherited), has no
// controlling terminal, cannot lower its stage's limits for the next
// command nor use the kernel keyrings, and cannot signal its stage
// (sandbox/reuse_attack_linux_test.go has the attacks one by one).
func TestSandboxCommandReachesNothingOfItsHelper(t *testing.T) {
	s := startServer(t, options{})
	s.initialize()
	cwd := t.TempDir()
	script := `ls /proc/$$/fd; {
		echo x > /dev/tty && echo tty
		prlimit --pid $PPID --nofile=20:20 && echo prlimit
		kill -STOP $PPID && echo stopped-stage
		python3 -c 'import ctypes, platform; add_key = {"x86_64": 248}.get(platform.machine(), 217); libc = ctypes.CDLL(None, use_errno=True); libc.syscall.restype = ctypes.c_long; exit(libc.syscall(ctypes.c_long(add_key), b"user", b"k", b"v", ctypes.c_long(1), ctypes.c_long(-4)) < 0)' && echo keyring
		} 2>/dev/null; ulimit -n`
	var first string
	for i := 0; i < 3; i++ {
		var r protocol.CommandExecResponse
		s.ok("command/exec", map[string]any{"command": []string{"bash", "-c", script}, "cwd": cwd}, &r)
		if !strings.HasPrefix(r.Stdout, "0\n1\n2\n") || strings.Count(r.Stdout, "\n") != 4 || r.ExitCode != 0 {
			t.Fatalf("command %d: exit %d, stdout %q, stderr %q; want fds 0 1 2, nothing reached, and its open-files limit", i+1, r.ExitCode, r.Stdout, r.Stderr)
		}
		if i == 0 {
			first = r.Stdout
		} else if r.Stdout != first {
			t.Fatalf("command %d: %q, the first %q", i+1, r.Stdout, first)
		}
	}
}
