package netapproval

import (
	"bufio"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// On loopback another user sends from 127.0.0.1 too: the association still
// accepts only a socket of the control connection's user (root is needed to
// act as the other user).
func TestSOCKS5UDPOtherUserOnLoopbackIsDropped(t *testing.T) {
	if os.Getuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("needs root to send as another user, and CI runs as root")
		}
		t.Skip("NOT RUN: needs root to send as another user (CI runs it as root)")
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal("needs bash (/dev/udp)")
	}
	w := newProxyWorld(t, Config{AllowLocalBinding: true})
	c := w.socks(t, w.a)
	_, relay := socksCommand(t, c, cmdUDPAssociate, netip.MustParseAddrPort("0.0.0.0:0"))
	echo := w.udpEcho.LocalAddr().(*net.UDPAddr).AddrPort()
	dgram := func(payload string) []byte { return append(appendSocksAddr([]byte{0, 0, 0}, echo), payload...) }

	var esc strings.Builder
	for _, b := range dgram("hijack") {
		fmt.Fprintf(&esc, `\x%02x`, b)
	}
	// The other user keeps its socket open while the test goes on.
	script := fmt.Sprintf(`exec 3>/dev/udp/127.0.0.1/%d; printf '%s' >&3; echo sent; read _`, relay.Port(), esc.String())
	other := exec.Command(bash, "-c", script)
	other.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	stdin, _ := other.StdinPipe()
	stdout, _ := other.StdoutPipe()
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); other.Wait() }()
	if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || line != "sent\n" {
		t.Fatalf("other user: %q, %v", line, err)
	}

	victim, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer victim.Close()
	victim.WriteToUDPAddrPort(dgram("mine"), relay)
	victim.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 2048)
	n, err := victim.Read(buf)
	if err != nil {
		t.Fatalf("the client's datagram was dropped: %v", err)
	}
	if _, _, payload, _ := parseUDPDatagram(buf[:n]); string(payload) != "echo:mine" {
		t.Fatalf("client got %q", payload)
	}
	if w.prompts.Load() != 1 {
		t.Errorf("prompts = %d, want 1 (the client's)", w.prompts.Load())
	}
}

func TestParseProcAddr(t *testing.T) {
	for in, want := range map[string]string{
		"0100007F:1F90":                         "127.0.0.1:8080",
		"00000000:0035":                         "0.0.0.0:53",
		"00000000000000000000000001000000:01BB": "[::1]:443",
		"0000000000000000FFFF00000100007F:0050": "[::ffff:127.0.0.1]:80",
	} {
		got, ok := parseProcAddr(in)
		if !ok || got.String() != want {
			t.Errorf("parseProcAddr(%q) = %v, %v; want %s", in, got, ok, want)
		}
	}
}
