package netapproval

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// proxyWorld is a started Manager with real loopback targets. Every field
// is torn down by t.Cleanup.
type proxyWorld struct {
	m         *Manager
	th        *Thread
	a         *Attachment      // the command under test
	prompts   atomic.Int32     // prompts asked
	answer    atomic.Value     // AnswerKind given to every prompt
	target    *httptest.Server // plain HTTP, answers "hello <path>" and echoes select headers
	tlsTarget *httptest.Server // HTTPS, answers "secure"
	echo      net.Listener     // TCP echo
	udpEcho   *net.UDPConn     // UDP echo
	targetHdr chan http.Header // headers the plain target received
	wg        sync.WaitGroup   // echo goroutines
}

func newProxyWorld(t *testing.T, cfg Config) *proxyWorld {
	t.Helper()
	w := &proxyWorld{targetHdr: make(chan http.Header, 10)}
	w.answer.Store(AnswerAllowOnce)
	w.target = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		select {
		case w.targetHdr <- r.Header.Clone():
		default:
		}
		fmt.Fprintf(rw, "hello %s", r.URL.Path)
	}))
	t.Cleanup(w.target.Close)
	w.tlsTarget = httptest.NewTLSServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		io.WriteString(rw, "secure")
	}))
	t.Cleanup(w.tlsTarget.Close)

	var err error
	if w.echo, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	w.wg.Add(1)
	go w.serveEcho()
	if w.udpEcho, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}); err != nil {
		t.Fatal(err)
	}
	w.wg.Add(1)
	go w.serveUDPEcho()
	t.Cleanup(func() { w.echo.Close(); w.udpEcho.Close(); w.wg.Wait() })

	w.m, err = NewManager(Options{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.m.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := w.m.Close(); err != nil {
			t.Error(err)
		}
	})
	w.th, err = w.m.OpenThread("t1", PrompterFunc(func(ctx context.Context, req PromptRequest) (Answer, error) {
		w.prompts.Add(1)
		// Amendments name the prompt's own host.
		return Answer{Kind: w.answer.Load().(AnswerKind), AmendHost: req.Key.Host}, nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	w.a = w.attach(t, "cmd-1")
	return w
}

func (w *proxyWorld) attach(t *testing.T, cmd string) *Attachment {
	t.Helper()
	a, err := w.m.Attach(ExecInfo{ThreadID: "t1", TurnID: "turn-1", CommandID: cmd, PromptsAllowed: true})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// serveEcho echoes every TCP connection until the listener closes.
func (w *proxyWorld) serveEcho() {
	defer w.wg.Done()
	for {
		c, err := w.echo.Accept()
		if err != nil {
			return
		}
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			defer c.Close()
			io.Copy(c, c)
		}()
	}
}

// serveUDPEcho echoes datagrams until the socket closes.
func (w *proxyWorld) serveUDPEcho() {
	defer w.wg.Done()
	buf := make([]byte, 2048)
	for {
		n, from, err := w.udpEcho.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		w.udpEcho.WriteToUDPAddrPort(append([]byte("echo:"), buf[:n]...), from)
	}
}

// client returns an HTTP client using proxyURL; idle connections are closed
// at cleanup.
func proxyClient(t *testing.T, proxyURL string) *http.Client {
	t.Helper()
	u, err := url.Parse(proxyURL)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{Proxy: http.ProxyURL(u), DisableKeepAlives: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

func targetPort(t *testing.T, s *httptest.Server) uint16 {
	t.Helper()
	return netip.MustParseAddrPort(s.Listener.Addr().String()).Port()
}

func TestHTTPDeniedBodyAndHeaders(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		answer  AnswerKind
		tag     string
		bodyFmt string
	}{
		{
			name: "denylist", cfg: Config{DeniedDomains: []string{"127.0.0.1"}, AllowLocalBinding: true},
			tag:     "blocked-by-denylist",
			bodyFmt: `{"status":"blocked","host":"127.0.0.1","reason":"denied","decision":"deny","source":"baseline_policy","protocol":"http","port":%d,"message":"Domain denied by the sandbox policy."}`,
		},
		{
			name: "local", cfg: Config{},
			tag:     "blocked-by-allowlist",
			bodyFmt: `{"status":"blocked","host":"127.0.0.1","reason":"not_allowed_local","decision":"deny","source":"baseline_policy","protocol":"http","port":%d,"message":"Sandbox policy blocks local/private network addresses."}`,
		},
		{
			name: "declined", cfg: Config{AllowLocalBinding: true}, answer: AnswerDecline,
			tag:     "blocked-by-allowlist",
			bodyFmt: `{"status":"blocked","host":"127.0.0.1","reason":"not_allowed","decision":"deny","source":"decider","protocol":"http","port":%d,"message":"Domain not in allowlist."}`,
		},
		{
			name: "cancelled", cfg: Config{AllowLocalBinding: true}, answer: AnswerCancel,
			tag:     "blocked-by-policy",
			bodyFmt: `{"status":"blocked","host":"127.0.0.1","reason":"user_denied","decision":"deny","source":"decider","protocol":"http","port":%d,"message":"Network access was denied by the user."}`,
		},
		{
			name: "limited mode", cfg: Config{Mode: ModeLimited, AllowLocalBinding: true, AllowedDomains: []string{"127.0.0.1"}},
			tag:     "blocked-by-method-policy",
			bodyFmt: `{"status":"blocked","host":"127.0.0.1","reason":"method_not_allowed","decision":"deny","source":"mode_guard","protocol":"http","port":%d,"message":"Method not allowed in limited network mode."}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newProxyWorld(t, tt.cfg)
			if tt.answer != 0 {
				w.answer.Store(tt.answer)
			}
			c := proxyClient(t, w.a.HTTPProxyURL())
			resp, err := c.Post(w.target.URL+"/x", "text/plain", strings.NewReader("body"))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Fatalf("status = %d, want 403", resp.StatusCode)
			}
			if got := resp.Header.Get("Content-Type"); got != "application/json" {
				t.Errorf("content-type = %q", got)
			}
			if got := resp.Header.Get("X-Proxy-Error"); got != tt.tag {
				t.Errorf("x-proxy-error = %q, want %q", got, tt.tag)
			}
			if want := fmt.Sprintf(tt.bodyFmt, targetPort(t, w.target)); string(body) != want {
				t.Errorf("body\n got %s\nwant %s", body, want)
			}
			if b := blocksOf(w.a); len(b) != 1 || b[0].CommandID != "cmd-1" || b[0].Key.Port != targetPort(t, w.target) {
				t.Errorf("blocks = %+v", b)
			}
		})
	}
}

func TestProxyAuthRequired(t *testing.T) {
	w := newProxyWorld(t, Config{AllowLocalBinding: true, AllowedDomains: []string{"127.0.0.1"}})
	closed := w.attach(t, "cmd-closed")
	closedURL := closed.HTTPProxyURL()
	closed.Close()
	good, _ := url.Parse(w.a.HTTPProxyURL())
	wrong := *good
	wrong.User = url.UserPassword(good.User.Username(), "not-the-token")
	noCred := *good
	noCred.User = nil
	for name, proxy := range map[string]string{"none": noCred.String(), "wrong token": wrong.String(), "closed attachment": closedURL} {
		t.Run(name, func(t *testing.T) {
			resp, err := proxyClient(t, proxy).Get(w.target.URL)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusProxyAuthRequired || resp.Header.Get("Proxy-Authenticate") == "" {
				t.Errorf("status = %d, Proxy-Authenticate = %q; want 407 with a challenge", resp.StatusCode, resp.Header.Get("Proxy-Authenticate"))
			}
		})
	}
	// The SOCKS5 side refuses the same credentials.
	for name, pass := range map[string]string{"wrong token": "nope", "empty": ""} {
		t.Run("socks "+name, func(t *testing.T) {
			c, status := socksHandshake(t, w.m.SOCKSAddr(), good.User.Username(), pass)
			c.Close()
			if status != userPassFailed {
				t.Errorf("auth status = %d, want failure", status)
			}
		})
	}
	if w.prompts.Load() != 0 {
		t.Error("unauthenticated request prompted")
	}
}

func TestHTTPForwardAllowedStripsHopHeaders(t *testing.T) {
	w := newProxyWorld(t, Config{AllowLocalBinding: true})
	req, _ := http.NewRequest("GET", w.target.URL+"/path", nil)
	req.Header.Set("Connection", "X-Hop")
	req.Header.Set("X-Hop", "1")
	req.Header.Set("X-End", "2")
	resp, err := proxyClient(t, w.a.HTTPProxyURL()).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "hello /path" {
		t.Fatalf("response %d %q", resp.StatusCode, body)
	}
	h := <-w.targetHdr
	if h.Get("X-Hop") != "" || h.Get("Proxy-Authorization") != "" || h.Get("X-End") != "2" {
		t.Errorf("target saw headers %v", h)
	}
	if w.prompts.Load() != 1 {
		t.Errorf("prompts = %d, want 1", w.prompts.Load())
	}
}

func TestConnectTunnel(t *testing.T) {
	w := newProxyWorld(t, Config{AllowLocalBinding: true})
	c := proxyClient(t, w.a.HTTPProxyURL())
	c.Transport.(*http.Transport).TLSClientConfig = w.tlsTarget.Client().Transport.(*http.Transport).TLSClientConfig
	resp, err := c.Get(w.tlsTarget.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "secure" {
		t.Fatalf("body %q", body)
	}
}

// rawConnect sends a CONNECT with the attachment's credential and returns
// the response and the connection (for the tunnel).
func rawConnect(t *testing.T, a *Attachment, target string) (*http.Response, net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", a.m.HTTPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	auth := base64.StdEncoding.EncodeToString([]byte(a.user + ":" + a.token))
	fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\nProxy-Authorization: Basic %s\r\n\r\n", target, target, auth)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: "CONNECT"})
	if err != nil {
		t.Fatal(err)
	}
	return resp, c, br
}

func TestConnectDenied(t *testing.T) {
	w := newProxyWorld(t, Config{DeniedDomains: []string{"127.0.0.1"}})
	target := w.echo.Addr().String()
	resp, _, _ := rawConnect(t, w.a, target)
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 403 || resp.Header.Get("X-Proxy-Error") != "blocked-by-denylist" {
		t.Fatalf("status %d, x-proxy-error %q", resp.StatusCode, resp.Header.Get("X-Proxy-Error"))
	}
	want := "blocked: blocked-by-denylist " + target + ": Domain denied by the sandbox policy.\n"
	if string(body) != want {
		t.Errorf("body %q, want %q", body, want)
	}
	if strings.Count(string(body), "\n") != 1 {
		t.Error("body is not one line")
	}
}

func TestRevokeClosesLiveTunnelAndPromptsAgain(t *testing.T) {
	w := newProxyWorld(t, Config{AllowLocalBinding: true})
	w.answer.Store(AnswerAllowForSession)
	resp, c, br := rawConnect(t, w.a, w.echo.Addr().String())
	if resp.StatusCode != 200 {
		t.Fatalf("CONNECT status %d", resp.StatusCode)
	}
	io.WriteString(c, "ping")
	buf := make([]byte, 4)
	if _, err := io.ReadFull(br, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("tunnel echo %q, %v", buf, err)
	}
	g := w.th.Grants()
	if len(g) != 1 || g[0].OpenConnections != 1 {
		t.Fatalf("grants = %+v, want one with an open connection", g)
	}
	removed, err := w.th.Revoke(RevokeFilter{Host: "127.0.0.1", Protocol: ProtocolHTTPS, Scope: ScopeSession})
	if err != nil || len(removed) != 1 || removed[0].OpenConnections != 1 {
		t.Fatalf("Revoke = %+v, %v", removed, err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := br.ReadByte(); err == nil {
		t.Fatal("tunnel still open after revoke")
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("tunnel not closed by revoke (read timed out)")
	}
	w.answer.Store(AnswerDecline)
	resp, _, _ = rawConnect(t, w.a, w.echo.Addr().String())
	if resp.StatusCode != 403 || w.prompts.Load() != 2 {
		t.Errorf("after revoke: status %d, prompts %d; want 403 after a second prompt", resp.StatusCode, w.prompts.Load())
	}
}

func TestTwoAttachmentsKeepSeparateBlocks(t *testing.T) {
	w := newProxyWorld(t, Config{DeniedDomains: []string{"127.0.0.1"}})
	a2 := w.attach(t, "cmd-2")
	for _, a := range []*Attachment{w.a, a2, a2} {
		resp, err := proxyClient(t, a.HTTPProxyURL()).Get(w.target.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	b1, b2 := blocksOf(w.a), blocksOf(a2)
	if len(b1) != 1 || b1[0].CommandID != "cmd-1" || len(b2) != 1 || b2[0].CommandID != "cmd-2" {
		t.Errorf("blocks cmd-1 %+v, cmd-2 %+v", b1, b2)
	}
}

func TestEnv(t *testing.T) {
	w := newProxyWorld(t, Config{})
	env := strings.Join(w.a.Env(), "\n")
	httpURL := "http://" + w.a.user + ":" + w.a.token + "@" + w.m.HTTPAddr().String()
	socksURL := "socks5h://" + w.a.user + ":" + w.a.token + "@" + w.m.SOCKSAddr().String()
	for _, want := range []string{
		"HTTP_PROXY=" + httpURL, "HTTPS_PROXY=" + httpURL, "http_proxy=" + httpURL, "https_proxy=" + httpURL,
		"ALL_PROXY=" + socksURL, "all_proxy=" + socksURL, "NO_PROXY=", "no_proxy=",
	} {
		if !strings.Contains("\n"+env+"\n", "\n"+want+"\n") {
			t.Errorf("env lacks %q:\n%s", want, env)
		}
	}
}

// socksHandshake connects and authenticates; it returns the RFC 1929 status.
func socksHandshake(t *testing.T, proxy netip.AddrPort, user, pass string) (net.Conn, byte) {
	t.Helper()
	c, err := net.Dial("tcp", proxy.String())
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	c.Write([]byte{5, 1, byte(methodUserPass)})
	var sel [2]byte
	if _, err := io.ReadFull(c, sel[:]); err != nil || sel[1] != byte(methodUserPass) {
		t.Fatalf("method selection %v, %v", sel, err)
	}
	msg := append([]byte{1, byte(len(user))}, user...)
	msg = append(append(msg, byte(len(pass))), pass...)
	c.Write(msg)
	var st [2]byte
	if _, err := io.ReadFull(c, st[:]); err != nil {
		t.Fatalf("auth reply: %v", err)
	}
	return c, st[1]
}

// socksCommand sends a request and returns the reply code and bound address.
func socksCommand(t *testing.T, c net.Conn, cmd socksCmd, dst netip.AddrPort) (socksReply, netip.AddrPort) {
	t.Helper()
	c.Write(appendSocksAddr([]byte{5, byte(cmd), 0}, dst))
	hdr := make([]byte, 3)
	if _, err := io.ReadFull(c, hdr); err != nil {
		t.Fatalf("reply: %v", err)
	}
	host, port, err := readSocksAddr(bufio.NewReader(c))
	if err != nil {
		t.Fatal(err)
	}
	return socksReply(hdr[1]), netip.AddrPortFrom(netip.MustParseAddr(host), port)
}

func (w *proxyWorld) socks(t *testing.T, a *Attachment) net.Conn {
	t.Helper()
	c, st := socksHandshake(t, w.m.SOCKSAddr(), a.user, a.token)
	if st != userPassOK {
		t.Fatalf("auth status %d", st)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestSOCKS5Connect(t *testing.T) {
	w := newProxyWorld(t, Config{AllowLocalBinding: true, AllowedDomains: []string{"127.0.0.1"}})
	c := w.socks(t, w.a)
	rep, _ := socksCommand(t, c, cmdConnect, netip.MustParseAddrPort(w.echo.Addr().String()))
	if rep != repSucceeded {
		t.Fatalf("reply %d", rep)
	}
	io.WriteString(c, "over socks")
	buf := make([]byte, 10)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "over socks" {
		t.Fatalf("echo %q, %v", buf, err)
	}
}

func TestSOCKS5ConnectDenied(t *testing.T) {
	w := newProxyWorld(t, Config{AllowLocalBinding: true})
	w.answer.Store(AnswerDecline)
	c := w.socks(t, w.a)
	rep, _ := socksCommand(t, c, cmdConnect, netip.MustParseAddrPort(w.echo.Addr().String()))
	if rep != repNotAllowed {
		t.Fatalf("reply %d, want 0x02", rep)
	}
	if b := blocksOf(w.a); len(b) != 1 || b[0].Key.Protocol != ProtocolSOCKS5TCP || b[0].Source != SourceDecider {
		t.Errorf("blocks %+v", b)
	}
}

func TestSOCKS5UDP(t *testing.T) {
	w := newProxyWorld(t, Config{AllowLocalBinding: true, DeniedDomains: []string{"127.0.0.2"}})
	c := w.socks(t, w.a)
	rep, relay := socksCommand(t, c, cmdUDPAssociate, netip.MustParseAddrPort("0.0.0.0:0"))
	if rep != repSucceeded || !relay.Addr().IsLoopback() {
		t.Fatalf("associate reply %d, relay %v", rep, relay)
	}
	u, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	echo := w.udpEcho.LocalAddr().(*net.UDPAddr).AddrPort()

	// A denied destination first: dropped, and recorded.
	denied := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.2"), echo.Port())
	u.WriteToUDPAddrPort(append(appendSocksAddr([]byte{0, 0, 0}, denied), "nope"...), relay)
	// Then the echo server: prompted once, allowed, answered.
	for i := range 2 {
		u.WriteToUDPAddrPort(append(appendSocksAddr([]byte{0, 0, 0}, echo), fmt.Sprintf("dgram%d", i)...), relay)
		u.SetReadDeadline(time.Now().Add(10 * time.Second))
		buf := make([]byte, 2048)
		n, err := u.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		host, port, payload, ok := parseUDPDatagram(buf[:n])
		if !ok || host != "127.0.0.1" || port != echo.Port() || string(payload) != fmt.Sprintf("echo:dgram%d", i) {
			t.Fatalf("reply %q from %s:%d", payload, host, port)
		}
	}
	if w.prompts.Load() != 1 {
		t.Errorf("prompts = %d, want 1 per destination", w.prompts.Load())
	}
	b := blocksOf(w.a)
	if len(b) != 1 || b[0].Key != (Key{Host: "127.0.0.2", Protocol: ProtocolSOCKS5UDP, Port: echo.Port()}) || b[0].Reason != ReasonDenied {
		t.Errorf("blocks %+v", b)
	}
}

// With the 0.0.0.0:0 hint, a datagram from another address reaching the
// relay first (another local user) does not take the association: it is
// dropped, nothing is prompted in its name, and the client's own
// datagrams still go through.
func TestSOCKS5UDPAcceptsOnlyTheControlConnectionsIP(t *testing.T) {
	w := newProxyWorld(t, Config{AllowLocalBinding: true})
	c := w.socks(t, w.a)
	_, relay := socksCommand(t, c, cmdUDPAssociate, netip.MustParseAddrPort("0.0.0.0:0"))
	echo := w.udpEcho.LocalAddr().(*net.UDPAddr).AddrPort()
	dgram := func(payload string) []byte { return append(appendSocksAddr([]byte{0, 0, 0}, echo), payload...) }
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
	attacker.WriteToUDPAddrPort(dgram("hijack"), relay)
	victim.WriteToUDPAddrPort(dgram("mine"), relay)
	victim.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 2048)
	n, err := victim.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, payload, _ := parseUDPDatagram(buf[:n]); string(payload) != "echo:mine" {
		t.Fatalf("victim got %q", payload)
	}
	if w.prompts.Load() != 1 {
		t.Errorf("prompts = %d, want 1 (the victim's)", w.prompts.Load())
	}
	attacker.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if n, err := attacker.Read(buf); err == nil {
		t.Errorf("attacker got %q", buf[:n])
	}
}

// A datagram to one of the proxy's own UDP sockets is refused, like a TCP
// connection to its listeners: to the association's own relay, and to
// another association's (which it would otherwise take over, its client
// not having sent yet), whatever loopback or unspecified address spells
// it. The ports stop being the proxy's when the associations end.
func TestSOCKS5UDPRefusesTheProxysOwnSockets(t *testing.T) {
	w := newProxyWorld(t, Config{AllowLocalBinding: true})
	c := w.socks(t, w.a)
	_, relay := socksCommand(t, c, cmdUDPAssociate, netip.MustParseAddrPort("0.0.0.0:0"))
	other := w.socks(t, w.a)
	_, otherRelay := socksCommand(t, other, cmdUDPAssociate, netip.MustParseAddrPort("0.0.0.0:0"))
	u, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	echo := w.udpEcho.LocalAddr().(*net.UDPAddr).AddrPort()
	var selfKeys []Key
	for _, port := range []uint16{relay.Port(), otherRelay.Port()} {
		for _, host := range []string{"127.0.0.1", "0.0.0.0", "::", "::ffff:127.0.0.1", "127.1.2.3"} {
			dst := netip.AddrPortFrom(netip.MustParseAddr(host), port)
			u.WriteToUDPAddrPort(append(appendSocksAddr([]byte{0, 0, 0}, dst), "loop"...), relay)
			k, _ := requestKey(netip.MustParseAddr(host).Unmap().String(), strconv.Itoa(int(port)), ProtocolSOCKS5UDP)
			selfKeys = append(selfKeys, k)
		}
	}
	// The relay handles datagrams in order: once the echo answers, every
	// datagram before it has been decided.
	u.WriteToUDPAddrPort(append(appendSocksAddr([]byte{0, 0, 0}, echo), "ping"...), relay)
	u.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 2048)
	n, err := u.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, payload, _ := parseUDPDatagram(buf[:n]); string(payload) != "echo:ping" {
		t.Fatalf("reply %q, want the echo's", payload)
	}
	blocked := map[Key]bool{}
	for _, b := range blocksOf(w.a) {
		if b.Reason == ReasonNotAllowedLocal && b.Source == SourceBaselinePolicy {
			blocked[b.Key] = true
		}
	}
	for _, k := range selfKeys {
		if !blocked[k] {
			t.Errorf("datagram to %v was not refused as the proxy itself; blocks %+v", k, blocksOf(w.a))
		}
	}

	// A port is the proxy's while a socket holds it.
	release := w.m.holdUDPPorts(u)
	mine := u.LocalAddr().(*net.UDPAddr).AddrPort()
	if !w.m.isSelfUDP(mine) {
		t.Errorf("%v held, not the proxy's", mine)
	}
	release()
	if w.m.isSelfUDP(mine) {
		t.Errorf("%v released, still the proxy's", mine)
	}
}
