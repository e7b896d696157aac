package sandbox

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var (
	probeOnce sync.Once
	probed    Support
)

// requireSupport probes once and fails (never skips) when this machine
// cannot enforce: the tests are meant to run where it can.
func requireSupport(t *testing.T) {
	t.Helper()
	probeOnce.Do(func() { probed = Probe() })
	if miss := probed.Missing(WorkspaceWrite); len(miss) > 0 {
		t.Fatalf("this machine cannot enforce the sandbox (missing %s); these tests need user namespaces, Landlock and seccomp", strings.Join(miss, ", "))
	}
}

// workspaceWrite is the workspace-write policy of a command in cwd with
// the server's home home ("" for none): cwd its only writable root (no
// /tmp, no $TMPDIR), its .git and the home read-only, no network.
func workspaceWrite(cwd, home string) Policy {
	roots := WorkspaceRoots(cwd, nil, true, true, "")
	return Policy{Mode: WorkspaceWrite, WritableRoots: roots, ReadOnlyPaths: ProtectedPaths(roots, home), Network: NetworkNone}
}

// run runs a shell script under p and returns its combined output and
// exit code.
func run(t *testing.T, p Policy, dir string, env []string, script string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/bash", "-c", script)
	cmd.Dir = dir
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := Wrap(cmd, p); err != nil {
		t.Fatal(err)
	}
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("running %q: %v", script, err)
		}
		code = ee.ExitCode()
	}
	return out.String(), code
}

func TestProbeFindsSupport(t *testing.T) {
	requireSupport(t)
	if probed.LandlockABI < 1 || !probed.Seccomp || !probed.Namespaces {
		t.Fatalf("probe: %+v", probed)
	}
	if !strings.Contains(probed.Report(), "workspace-write: enforced") {
		t.Fatalf("report:\n%s", probed.Report())
	}
}

func TestWritesPerMode(t *testing.T) {
	requireSupport(t)
	base := t.TempDir()
	cwd := filepath.Join(base, "work")
	outside := filepath.Join(base, "outside")
	home := filepath.Join(cwd, "home")
	for _, d := range []string{filepath.Join(cwd, ".git"), outside, home} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ww := workspaceWrite(cwd, home)
	ro := Policy{Mode: ReadOnly, Network: NetworkNone}
	cases := []struct {
		name   string
		p      Policy
		target string
		want   bool
	}{
		{"ww cwd", ww, filepath.Join(cwd, "f"), true},
		{"ww outside", ww, filepath.Join(outside, "f"), false},
		{"ww .git", ww, filepath.Join(cwd, ".git", "f"), false},
		{"ww home", ww, filepath.Join(home, "f"), false},
		{"ro cwd", ro, filepath.Join(cwd, "g"), false},
		{"ro outside", ro, filepath.Join(outside, "g"), false},
		{"ro dev null", ro, "/dev/null", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, code := run(t, c.p, cwd, os.Environ(), "echo x > "+c.target)
			if got := code == 0; got != c.want {
				t.Fatalf("write to %s: exit %d, output %q; want allowed=%v", c.target, code, out, c.want)
			}
			if !c.want && !strings.Contains(out, "denied") && !strings.Contains(out, "Read-only") {
				t.Fatalf("refused write says %q, want a permission or read-only error", out)
			}
		})
	}
}

// TestNetworkNone: nothing outside is reachable, and each attempt fails
// at once: TCP, a Unix socket by path, and a datagram socket by path
// through a socket pair (socketpair makes only stream and seqpacket
// pairs, which cannot be pointed elsewhere).
func TestNetworkNone(t *testing.T) {
	requireSupport(t)
	var hits atomic.Int32
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			hits.Add(1)
			c.Close()
		}
	}()
	sock := filepath.Join(t.TempDir(), "s.sock")
	uln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer uln.Close()
	go func() {
		for {
			c, err := uln.Accept()
			if err != nil {
				return
			}
			hits.Add(1)
			c.Close()
		}
	}()
	// A datagram socket outside, which a datagram socket pair could
	// reach by path (sendto or connect), whatever the network namespace.
	gram, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: filepath.Join(t.TempDir(), "g.sock"), Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer gram.Close()
	go func() {
		buf := make([]byte, 64)
		for {
			if _, err := gram.Read(buf); err != nil {
				return
			}
			hits.Add(1)
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	p := Policy{Mode: ReadOnly, Network: NetworkNone}
	start := time.Now()
	out, code := run(t, p, "/", os.Environ(), fmt.Sprintf("exec 3<>/dev/tcp/127.0.0.1/%d", port))
	if code == 0 {
		t.Fatalf("/dev/tcp connected: %q", out)
	}
	out, code = run(t, p, "/", os.Environ(), fmt.Sprintf(`python3 -c 'import socket; s=socket.socket(socket.AF_UNIX); s.connect("%s")'`, sock))
	if code == 0 || !strings.Contains(out, "Operation not permitted") {
		t.Fatalf("unix socket: exit %d %q", code, out)
	}
	for _, typ := range []string{"SOCK_DGRAM", "SOCK_RAW", "SOCK_DGRAM | socket.SOCK_CLOEXEC"} {
		out, code = run(t, p, "/", os.Environ(), fmt.Sprintf(`python3 -c 'import socket; a, b = socket.socketpair(socket.AF_UNIX, socket.%s); a.sendto(b"x", "%s")'`, typ, gram.LocalAddr()))
		if code == 0 || !strings.Contains(out, "Operation not permitted") {
			t.Fatalf("datagram socket pair (%s): exit %d %q", typ, code, out)
		}
	}
	// Stream and seqpacket pairs, connected for good, still work.
	out, code = run(t, p, "/", os.Environ(), `python3 -c '
import socket
for typ in (socket.SOCK_STREAM, socket.SOCK_SEQPACKET):
    a, b = socket.socketpair(socket.AF_UNIX, typ); a.send(b"ok"); print(b.recv(2).decode())'`)
	if code != 0 || out != "ok\nok\n" {
		t.Fatalf("stream and seqpacket socket pairs: exit %d %q", code, out)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("attempts took %v", d)
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("%d connections reached the outside", n)
	}
}

// TestProxyRelay: with NetworkProxy the proxy variables point at the
// relay inside, which reaches the Unix socket outside with the bytes
// unchanged (credential included).
func TestProxyRelay(t *testing.T) {
	requireSupport(t)
	dir := t.TempDir()
	sock := filepath.Join(dir, "http.sock")
	uln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer uln.Close()
	go func() {
		for {
			c, err := uln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				line, _ := bufio.NewReader(c).ReadString('\n')
				fmt.Fprintf(c, "got %s", line)
			}()
		}
	}()
	p := Policy{Mode: ReadOnly, Network: NetworkProxy, Proxy: &ProxySockets{HTTP: sock, SOCKS: sock}}
	env := append(os.Environ(), "HTTP_PROXY=http://u:secret@127.0.0.1:1", "ALL_PROXY=socks5h://u:secret@127.0.0.1:2")
	out, code := run(t, p, "/", env, `hp=${HTTP_PROXY#http://u:secret@127.0.0.1:}; sp=${ALL_PROXY#socks5h://u:secret@127.0.0.1:}
test "$hp" != 1 && test "$sp" != 2 || { echo "not rewritten: $HTTP_PROXY $ALL_PROXY"; exit 1; }
exec 3<>/dev/tcp/127.0.0.1/$hp; echo hello >&3; read -r reply <&3; echo "$reply"`)
	if code != 0 || !strings.Contains(out, "got hello") {
		t.Fatalf("relay: exit %d, %q", code, out)
	}
}

// TestCommandHoldsNothing: the command has no capability at all (so it
// cannot reconfigure the namespaces it runs in), no_new_privs, both
// seccomp filters, and cannot bring its network down.
func TestCommandHoldsNothing(t *testing.T) {
	requireSupport(t)
	p := Policy{Mode: ReadOnly, Network: NetworkNone}
	out, code := run(t, p, "/", os.Environ(), `grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp|Seccomp_filters):' /proc/self/status`)
	want := "CapInh:\t0000000000000000\nCapPrm:\t0000000000000000\nCapEff:\t0000000000000000\nCapBnd:\t0000000000000000\nCapAmb:\t0000000000000000\nNoNewPrivs:\t1\nSeccomp:\t2\nSeccomp_filters:\t2\n"
	if code != 0 || out != want {
		t.Fatalf("exit %d, status:\n%s\nwant:\n%s", code, out, want)
	}
	// No capability: the namespace's own network cannot be changed.
	out, code = run(t, p, "/", os.Environ(), `echo 0 > /proc/sys/net/ipv4/ip_forward || exit 3; ip link set lo down 2>&1 || exit 4; exit 0`)
	if code == 0 {
		t.Fatalf("the command reconfigured its network namespace: %q", out)
	}
}
