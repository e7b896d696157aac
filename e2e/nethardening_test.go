package e2e

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"app-server/protocol"
)

// Hardening of the network approvals (issue 11): each test drives the built
// binary the way an attacker or an unlucky client would.

// A cancel on a network prompt is one path: the prompt settles as
// cancelled (a recorded denial), then the turn is interrupted. Before, the
// interrupt settled the same prompt as "interrupted before an answer" and
// the cancel outcome was dropped.
func TestNetworkCancelSettlesAsCancelledThenInterrupts(t *testing.T) {
	tg := newTarget(t, false)
	s := startServer(t, options{config: localConfig})
	s.initialize()
	th := s.startThread(t.TempDir(), protocol.ApprovalOnRequest)
	s.startTurn(th, curl(tg.url+"/")+"; sleep 20", "echo never")
	f := s.runFlow(netDecision(protocol.Cancel()))
	if f.turn.Status != protocol.TurnInterrupted || len(f.commands()) != 1 {
		t.Fatalf("turn %s with %d commands, want interrupted after 1", f.turn.Status, len(f.commands()))
	}
	s.waitForLog("Network access was denied by the user.", 10*time.Second)
	if strings.Contains(s.stderrText(), "interrupted before an answer") {
		t.Errorf("the cancelled prompt was settled by the interrupt instead")
	}
	if tg.hits.Load() != 0 {
		t.Errorf("target reached after cancel")
	}
}

// A decision the server cannot read is still a decline, but it is not
// silent: a warning notification names the request and the bad value.
func TestBadDecisionDeclinesWithAWarning(t *testing.T) {
	tg := newTarget(t, false)
	s := startServer(t, options{config: localConfig})
	s.initialize()
	th := s.startThread(t.TempDir(), protocol.ApprovalUntrusted)
	bad := func(protocol.CommandExecutionRequestApprovalParams) any {
		return map[string]any{"decision": "maybe"}
	}
	// A command prompt, then (after an accept) a network prompt, both
	// answered with a bad value.
	s.startTurn(th, curl(tg.url+"/"))
	f := s.runFlow(func(p protocol.CommandExecutionRequestApprovalParams) any {
		if p.NetworkApprovalContext == nil {
			return bad(p)
		}
		t.Fatal("network prompt for a declined command")
		return nil
	})
	if c := oneCommand(t, f); c.Status != protocol.CommandDeclined {
		t.Errorf("command %s, want declined", c.Status)
	}
	checkBadDecisionWarning(t, f)

	s.startTurn(th, curl(tg.url+"/"))
	f = s.runFlow(func(p protocol.CommandExecutionRequestApprovalParams) any {
		if p.NetworkApprovalContext == nil {
			return protocol.CommandExecutionRequestApprovalResponse{Decision: protocol.Accept()}
		}
		return bad(p)
	})
	if out := *oneCommand(t, f).AggregatedOutput; !strings.HasPrefix(out, "403") {
		t.Errorf("curl saw %q, want 403", out)
	}
	checkBadDecisionWarning(t, f)
	if tg.hits.Load() != 0 {
		t.Errorf("target reached after a bad decision")
	}
}

// checkBadDecisionWarning wants one warning naming the last resolved
// request and the value "maybe".
func checkBadDecisionWarning(t *testing.T, f *flow) {
	t.Helper()
	if len(f.warnings) != 1 || len(f.resolved) == 0 {
		t.Fatalf("warnings %+v, resolved %+v", f.warnings, f.resolved)
	}
	w := f.warnings[0].Message
	id := f.resolved[len(f.resolved)-1].RequestID.String()
	if !strings.Contains(w, "approval request "+id+" ") || !strings.Contains(w, `"maybe"`) {
		t.Errorf("warning %q does not name request %s and the value", w, id)
	}
}

// A command that ends with its network prompt unanswered takes the prompt
// with it: serverRequest/resolved comes without an answer, and answering
// later (acceptForSession) creates no grant for the next turn.
func TestOrphanedNetworkPromptIsResolvedAndALateAnswerChangesNothing(t *testing.T) {
	tg := newTarget(t, false)
	s := startServer(t, options{config: localConfig})
	s.initialize()
	dir := t.TempDir()
	th := s.startThread(dir, protocol.ApprovalOnRequest)
	// curl waits on the prompt in the background; the command ends once
	// the test has seen the prompt (it creates "stop"), unanswered.
	s.startTurn(th, curl(tg.url+"/")+" >/dev/null 2>&1 & while [ ! -e stop ]; do sleep 0.05; done")
	var prompt msg
	var resolved []protocol.ServerRequestResolvedNotification
	for done := false; !done; {
		m := s.next()
		switch m.Method {
		case "item/commandExecution/requestApproval":
			prompt = m
			if err := os.WriteFile(filepath.Join(dir, "stop"), nil, 0o600); err != nil {
				t.Fatal(err)
			}
		case "serverRequest/resolved":
			var n protocol.ServerRequestResolvedNotification
			m.decode(t, &n)
			resolved = append(resolved, n)
		case "turn/completed":
			done = true
		}
	}
	if prompt.Method == "" {
		t.Fatal("no network prompt")
	}
	if len(resolved) != 1 || string(prompt.ID) != resolved[0].RequestID.String() {
		t.Fatalf("prompt %s: resolved %+v, want it resolved when the command ended", prompt.ID, resolved)
	}
	s.answer(prompt, protocol.CommandExecutionRequestApprovalResponse{Decision: protocol.AcceptForSession()})
	s.startTurn(th, curl(tg.url+"/"))
	if f := s.runFlow(netDecision(protocol.Decline())); len(f.approvals) != 1 {
		t.Errorf("the late answer granted the next turn: %d prompts, want 1", len(f.approvals))
	}
	var g protocol.NetworkGrantsListResponse
	s.ok("network/grants/list", map[string]any{"threadId": th}, &g)
	if len(g.Grants) != 0 {
		t.Errorf("grants %+v after a late answer", g.Grants)
	}
	if tg.hits.Load() != 0 {
		t.Errorf("target reached")
	}
}

// A command cannot bury the user under prompts: past the bound, new
// destinations are denied without a prompt and the denial says why.
func TestOpenNetworkPromptsAreBounded(t *testing.T) {
	const n = 40 // destinations at once; the bound is 32
	s := startServer(t, options{config: localConfig})
	s.initialize()
	th := s.startThread(t.TempDir(), protocol.ApprovalOnRequest)
	var line strings.Builder
	for i := range n {
		fmt.Fprintf(&line, "curl -s -o /dev/null http://127.0.0.1:%d/ & ", 20000+i)
	}
	line.WriteString("wait")
	s.startTurn(th, line.String())
	var prompts []msg
	for done := false; !done; {
		m := s.next()
		switch m.Method {
		case "item/commandExecution/requestApproval":
			prompts = append(prompts, m)
			if len(prompts) == 32 {
				// Answer only once the rest have been refused (the
				// command's output will say so), so none can still open a
				// prompt afterwards.
				s.waitForLogCount("Too many network approvals are open", n-32, 20*time.Second)
				for _, p := range prompts {
					s.answer(p, protocol.CommandExecutionRequestApprovalResponse{Decision: protocol.Decline()})
				}
			}
		case "item/completed":
			var c protocol.ItemCompletedNotification
			m.decode(t, &c)
			if c.Item.CommandExecution == nil {
				continue
			}
			out := *c.Item.CommandExecution.AggregatedOutput
			if got := strings.Count(out, "Too many network approvals are open in this thread (32)"); got != n-32 {
				t.Errorf("%d destinations denied for the bound, want %d:\n%s", got, n-32, out)
			}
			for i := range n {
				if !strings.Contains(out, fmt.Sprintf("127.0.0.1:%d blocked", 20000+i)) {
					t.Errorf("output does not name port %d", 20000+i)
				}
			}
		case "turn/completed":
			done = true
		}
	}
	if len(prompts) != 32 {
		t.Errorf("%d prompts, want 32", len(prompts))
	}
}

// The command's output names every destination that was blocked, even when
// it was refused once long before hundreds of other refusals.
func TestOutputNamesEveryBlockedDestination(t *testing.T) {
	s := startServer(t, options{config: localConfig})
	s.initialize()
	th := s.startThread(t.TempDir(), protocol.ApprovalNever)
	// One refusal of port 9999, then 300 of port 9 (curl globbing: one
	// process, 300 requests).
	s.startTurn(th, "curl -s -o /dev/null http://127.0.0.1:9999/; curl -s 'http://127.0.0.1:9/[1-300]' >/dev/null")
	out := *oneCommand(t, s.runFlow(nil)).AggregatedOutput
	for _, want := range []string{"[network] http 127.0.0.1:9999 blocked: not_allowed", "[network] http 127.0.0.1:9 blocked: not_allowed"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// waitForLogCount waits until the server's stderr contains text n times.
func (s *server) waitForLogCount(text string, n int, limit time.Duration) {
	s.t.Helper()
	deadline := time.Now().Add(limit)
	for strings.Count(s.stderrText(), text) < n {
		if time.Now().After(deadline) {
			s.t.Fatalf("the server did not log %q %d times within %v", text, n, limit)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// With allow_local_binding on, a command still cannot make the proxy
// connect to itself (its own credential would then carry another command's
// request through): 0.0.0.0 and [::] with the proxy's port are refused.
func TestProxyRefusesItselfAsADestination(t *testing.T) {
	s := startServer(t, options{config: localConfig})
	s.initialize()
	th := s.startThread(t.TempDir(), protocol.ApprovalOnRequest)
	// %{http_connect} is the proxy's answer to the CONNECT. The command is
	// sandboxed: its proxy variables name its relay inside, so the test
	// gives it the proxy's own port outside, once a first command has
	// started the proxy.
	s.startProxy(th)
	outside := s.outsideProxyURL("http://127.0.0.1:1")
	s.startTurn(th, `port=`+outside[strings.LastIndexByte(outside, ':')+1:]+`; for h in 0.0.0.0 '[::]'; do curl -s -p -o /dev/null -w '%{http_connect}\n' "http://$h:$port/"; done;`+
		` curl -s -o /dev/null -w 'socks %{http_code}\n' -x "$ALL_PROXY" "http://0.0.0.0:$port/"`)
	f := s.runFlow(netDecision(protocol.Accept()))
	out := *oneCommand(t, f).AggregatedOutput
	if !strings.HasPrefix(out, "403\n403\nsocks 000\n") {
		t.Errorf("self-connections not refused:\n%s", out)
	}
	if !strings.Contains(out, "The proxy cannot connect to itself.") {
		t.Errorf("the item does not say why:\n%s", out)
	}
}

var (
	e2etestBinOnce sync.Once
	e2etestBin     string
)

// e2etestBinary builds the server with the e2etest tag, whose only
// difference is a resolver the test can script (cmd/app-server
// resolver_e2etest.go), and returns its path.
func e2etestBinary(t *testing.T) string {
	t.Helper()
	e2etestBinOnce.Do(func() {
		bin := filepath.Join(filepath.Dir(plainBin), "app-server-e2etest")
		args := []string{"build", "-tags", "e2etest", "-o", bin}
		if raceEnabled {
			args = append(args, "-race")
		}
		out, err := exec.Command("go", append(args, "app-server/cmd/app-server")...).CombinedOutput()
		if err != nil {
			t.Fatalf("building the e2etest server: %v\n%s", err, out)
		}
		e2etestBin = bin
	})
	if e2etestBin == "" {
		t.Fatal("no e2etest server binary")
	}
	return e2etestBin
}

// DNS rebinding: a name that a rule allows (an exact allowed_domains entry,
// or an applyNetworkPolicyAmendment answered while the name resolved to a
// public address) and that then resolves to 127.0.0.1 is refused at dial
// time, through forward HTTP, CONNECT and SOCKS5.
func TestNameRuleDoesNotReachLoopback(t *testing.T) {
	tg := newTarget(t, false)
	t.Setenv("APP_SERVER_E2E_HOSTS", "listed.test=127.0.0.1,amended.test=203.0.114.7|127.0.0.1")
	s := startServer(t, options{bin: e2etestBinary(t), config: "[network]\nallowed_domains = [\"listed.test\"]\n"})
	s.initialize()
	th := s.startThread(t.TempDir(), protocol.ApprovalOnRequest)
	url := fmt.Sprintf("http://listed.test:%d/", tg.port)
	s.startTurn(th, curl(url)+"; curl -s -p -o /dev/null -w '%{http_connect}\\n' "+url+`; curl -s -o /dev/null -w '%{http_code}\n' -x "$ALL_PROXY" `+url)
	out := *oneCommand(t, s.runFlow(nil)).AggregatedOutput
	if !strings.HasPrefix(out, "403\n403\n000\n") || !strings.Contains(out, "listed.test:") || !strings.Contains(out, "not_allowed_local") {
		t.Errorf("listed name reached loopback:\n%s", out)
	}

	// The amendment is answered while the name resolves to a public address;
	// the dial then finds 127.0.0.1.
	url = fmt.Sprintf("http://amended.test:%d/", tg.port)
	s.startTurn(th, curl(url))
	f := s.runFlow(netDecision(protocol.ApplyNetworkPolicyAmendment(protocol.NetworkPolicyAmendment{Host: "amended.test", Action: protocol.RuleAllow})))
	if len(f.approvals) != 1 {
		t.Fatalf("%d prompts, want 1", len(f.approvals))
	}
	if out := *oneCommand(t, f).AggregatedOutput; !strings.HasPrefix(out, "403\n") {
		t.Errorf("amended name reached loopback:\n%s", out)
	}
	if tg.hits.Load() != 0 {
		t.Errorf("target on 127.0.0.1 reached %d times", tg.hits.Load())
	}
}

// socks5Dial authenticates to a SOCKS5 proxy URL (socks5h://user:pass@host:port).
func socks5Dial(t *testing.T, proxy string) net.Conn {
	t.Helper()
	u, err := url.Parse(proxy)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	user := u.User.Username()
	pass, _ := u.User.Password()
	c.Write([]byte{5, 1, 2})
	msg := append([]byte{1, byte(len(user))}, user...)
	msg = append(append(msg, byte(len(pass))), pass...)
	c.Write(msg)
	reply := make([]byte, 4)
	if _, err := io.ReadFull(c, reply); err != nil || reply[1] != 2 || reply[3] != 0 {
		t.Fatalf("socks auth: %v %v", reply, err)
	}
	return c
}

// udpDatagram is a SOCKS5 UDP request header for an IPv4 destination.
func udpDatagram(dest netip.AddrPort, payload string) []byte {
	ip := dest.Addr().As4()
	b := append([]byte{0, 0, 0, 1}, ip[:]...)
	b = binary.BigEndian.AppendUint16(b, dest.Port())
	return append(b, payload...)
}

// Another local user who sends the first datagram to a UDP association's
// relay (the client announced 0.0.0.0:0) does not get the association:
// its datagram is dropped and prompts nothing in the victim's name; the
// victim's own datagram is prompted for and answered.
func TestSOCKS5UDPAssociationCannotBeHijacked(t *testing.T) {
	echo, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := echo.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			echo.WriteToUDPAddrPort(append([]byte("echo:"), buf[:n]...), from)
		}
	}()
	dest := echo.LocalAddr().(*net.UDPAddr).AddrPort()

	s := startServer(t, options{config: localConfig})
	s.initialize()
	th := s.startThread(t.TempDir(), protocol.ApprovalOnRequest)
	turnID := s.startTurn(th, `echo "$ALL_PROXY"; sleep 30`)
	// The victim is the command; the test speaks for it with its credential.
	var proxy string
	for proxy == "" {
		if m := s.next(); m.Method == "item/commandExecution/outputDelta" {
			var n protocol.CommandExecutionOutputDeltaNotification
			m.decode(t, &n)
			proxy = s.outsideProxyURL(strings.TrimSpace(n.Delta))
		}
	}
	ctrl := socks5Dial(t, proxy)
	ctrl.Write([]byte{5, 3, 0, 1, 0, 0, 0, 0, 0, 0}) // UDP ASSOCIATE 0.0.0.0:0
	reply := make([]byte, 10)
	if _, err := io.ReadFull(ctrl, reply); err != nil || reply[1] != 0 {
		t.Fatalf("associate: %v %v", reply, err)
	}
	relay := netip.AddrPortFrom(netip.AddrFrom4([4]byte(reply[4:8])), binary.BigEndian.Uint16(reply[8:]))

	attacker, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)})
	if err != nil {
		t.Fatal(err)
	}
	defer attacker.Close()
	victim, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer victim.Close()
	attacker.WriteToUDPAddrPort(udpDatagram(dest, "hijack"), relay)
	victim.WriteToUDPAddrPort(udpDatagram(dest, "mine"), relay)

	prompts := 0
	for prompts == 0 {
		if m := s.next(); m.Method == "item/commandExecution/requestApproval" {
			prompts++
			s.answer(m, protocol.CommandExecutionRequestApprovalResponse{Decision: protocol.Accept()})
		}
	}
	victim.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 2048)
	n, err := victim.Read(buf)
	if err != nil || !strings.HasSuffix(string(buf[:n]), "echo:mine") {
		t.Errorf("victim's datagram: %q, %v", buf[:n], err)
	}
	attacker.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if n, err := attacker.Read(buf); err == nil {
		t.Errorf("the attacker got a reply: %q", buf[:n])
	}
	s.ok("turn/interrupt", map[string]any{"threadId": th, "turnId": turnID}, nil)
	f := s.runFlow(func(protocol.CommandExecutionRequestApprovalParams) any {
		t.Error("a second prompt: the attacker's datagram was prompted for")
		return protocol.CommandExecutionRequestApprovalResponse{Decision: protocol.Decline()}
	})
	if f.turn.Status != protocol.TurnInterrupted {
		t.Errorf("turn %s", f.turn.Status)
	}
}

// 2,000 connections without a credential (silent, or answered 407) do not
// take the server's file descriptors: with a 1024 descriptor limit, a new
// thread, a command and a proxied request still work.
func TestUnauthenticatedConnectionsDoNotStarveTheServer(t *testing.T) {
	tg := newTarget(t, false)
	wrapper := filepath.Join(t.TempDir(), "app-server-limited")
	script := "#!/bin/sh\nulimit -n 1024\nexec " + serverBin + " \"$@\"\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, options{bin: wrapper, config: "[network]\nallowed_domains = [\"127.0.0.1\"]\n"})
	s.initialize()
	th := s.startThread(t.TempDir(), protocol.ApprovalOnRequest)
	s.startTurn(th, `echo "$HTTP_PROXY $ALL_PROXY"`)
	proxies := strings.Fields(*oneCommand(t, s.runFlow(nil)).AggregatedOutput)
	if len(proxies) != 2 {
		t.Fatalf("proxy variables %q", proxies)
	}
	var addrs []string
	for _, p := range proxies {
		u, err := url.Parse(s.outsideProxyURL(p))
		if err != nil {
			t.Fatal(err)
		}
		addrs = append(addrs, u.Host)
	}

	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range 2000 {
		c, err := net.Dial("tcp", addrs[i%2])
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		conns = append(conns, c)
		if i%4 == 0 { // a full request without a credential: 407
			fmt.Fprintf(c, "GET %s/ HTTP/1.1\r\nHost: x\r\n\r\n", tg.url)
		}
	}

	dir := t.TempDir()
	th2 := s.startThread(dir, protocol.ApprovalOnRequest)
	s.startTurn(th2, "echo still-here > f && cat f", curl(tg.url+"/"))
	f := s.runFlow(nil)
	c := f.commands()
	if len(c) != 2 || *c[0].AggregatedOutput != "still-here\n" || *c[1].AggregatedOutput != "200\n" {
		for _, it := range c {
			t.Logf("%s: %s %q", it.Command, it.Status, *it.AggregatedOutput)
		}
		t.Fatalf("turn %s after the flood", f.turn.Status)
	}
}
