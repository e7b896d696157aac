package netapproval

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"sync/atomic"
	"testing"
	"time"
)

// connectHead is a CONNECT request head with a's credential.
func connectHead(a *Attachment, target string) string {
	auth := base64.StdEncoding.EncodeToString([]byte(a.user + ":" + a.token))
	return fmt.Sprintf("CONNECT %s HTTP/1.1\r\nHost: %s\r\nProxy-Authorization: Basic %s\r\n\r\n", target, target, auth)
}

func dialProxy(t *testing.T, m *Manager) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", m.HTTPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}

func TestConnectEarlyDataReachesUpstream(t *testing.T) {
	w := newProxyWorld(t, Config{AllowLocalBinding: true, AllowedDomains: []string{"127.0.0.1"}})
	c := dialProxy(t, w.m)
	// The head and the first tunnel bytes in one write.
	io.WriteString(c, connectHead(w.a, w.echo.Addr().String())+"ping")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: "CONNECT"})
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("CONNECT: %v, %v", resp, err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(br, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("echo %q, %v", buf, err)
	}
}

// blockingWorld is a proxyWorld whose prompts wait for release.
func blockingWorld(t *testing.T) (*proxyWorld, chan struct{}, *atomic.Int32) {
	w := newProxyWorld(t, Config{AllowLocalBinding: true})
	w.th.Close()
	release := make(chan struct{})
	var asked atomic.Int32
	var err error
	w.th, err = w.m.OpenThread("t2", PrompterFunc(func(ctx context.Context, req PromptRequest) (Answer, error) {
		asked.Add(1)
		select {
		case <-release:
			return Answer{Kind: w.answer.Load().(AnswerKind)}, nil
		case <-ctx.Done():
			return Answer{}, ctx.Err()
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	w.a, err = w.m.Attach(ExecInfo{ThreadID: "t2", TurnID: "turn-1", CommandID: "cmd-2", PromptsAllowed: true})
	if err != nil {
		t.Fatal(err)
	}
	return w, release, &asked
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestConnectEarlyDataWhileWaitingOnPrompt(t *testing.T) {
	w, release, asked := blockingWorld(t)
	c := dialProxy(t, w.m)
	io.WriteString(c, connectHead(w.a, w.echo.Addr().String()))
	waitFor(t, "the prompt", func() bool { return asked.Load() == 1 })
	io.WriteString(c, "pong") // sent before the answer, as some clients do
	time.Sleep(20 * time.Millisecond)
	close(release)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: "CONNECT"})
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("CONNECT: %v, %v", resp, err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(br, buf); err != nil || string(buf) != "pong" {
		t.Fatalf("echo %q, %v", buf, err)
	}
}

func TestConnectClientLeavingWhileWaitingIsAbandoned(t *testing.T) {
	w, release, asked := blockingWorld(t)
	w.answer.Store(AnswerDecline)
	c := dialProxy(t, w.m)
	io.WriteString(c, connectHead(w.a, w.echo.Addr().String()))
	waitFor(t, "the prompt", func() bool { return asked.Load() == 1 })
	c.Close()
	time.Sleep(20 * time.Millisecond)
	close(release)
	// Close waits for every handler; an abandoned request leaves no block.
	if err := w.m.Close(); err != nil {
		t.Fatal(err)
	}
	if b := blocksOf(w.a); len(b) != 0 {
		t.Errorf("blocks = %+v, want none for an abandoned request", b)
	}
}

func TestConnectAfterPlainRequestOnSameConnection(t *testing.T) {
	w := newProxyWorld(t, Config{AllowLocalBinding: true, AllowedDomains: []string{"127.0.0.1"}})
	c := dialProxy(t, w.m)
	auth := base64.StdEncoding.EncodeToString([]byte(w.a.user + ":" + w.a.token))
	host := w.target.Listener.Addr().String()
	fmt.Fprintf(c, "GET http://%s/first HTTP/1.1\r\nHost: %s\r\nProxy-Authorization: Basic %s\r\n\r\n", host, host, auth)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(body) != "hello /first" {
		t.Fatalf("plain request: %d %q", resp.StatusCode, body)
	}
	io.WriteString(c, connectHead(w.a, w.echo.Addr().String())+"ping")
	resp, err = http.ReadResponse(br, &http.Request{Method: "CONNECT"})
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("CONNECT: %v, %v", resp, err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(br, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("echo %q, %v", buf, err)
	}
}

func TestConnectRefusalsOnTheFront(t *testing.T) {
	w := newProxyWorld(t, Config{AllowLocalBinding: true, AllowedDomains: []string{"127.0.0.1"}})
	target := w.echo.Addr().String()
	tests := []struct {
		name, head string
		status     int
		header     string
	}{
		{"no credential", "CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n\r\n", 407, "Proxy-Authenticate"},
		{"wrong credential", "CONNECT " + target + " HTTP/1.1\r\nProxy-Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(w.a.user+":nope")) + "\r\n\r\n", 407, "Proxy-Authenticate"},
		{"bad request line", "CONNECT " + target + "\r\n\r\n", 400, ""},
		{"path target", "CONNECT /x HTTP/1.1\r\n\r\n", 400, ""},
		{"bad port", connectHead(w.a, "127.0.0.1:99999"), 403, "X-Proxy-Error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dialProxy(t, w.m)
			io.WriteString(c, tt.head)
			resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: "CONNECT"})
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status || (tt.header != "" && resp.Header.Get(tt.header) == "") {
				t.Errorf("status %d, headers %v; want %d with %s", resp.StatusCode, resp.Header, tt.status, tt.header)
			}
		})
	}
	if w.prompts.Load() != 0 {
		t.Errorf("prompts = %d", w.prompts.Load())
	}
}

func TestSOCKS5ClientLeavingWhileWaitingIsAbandoned(t *testing.T) {
	w, release, asked := blockingWorld(t)
	w.answer.Store(AnswerDecline)
	c := w.socks(t, w.a)
	c.Write(appendSocksAddr([]byte{5, byte(cmdConnect), 0}, netip.MustParseAddrPort(w.echo.Addr().String())))
	waitFor(t, "the prompt", func() bool { return asked.Load() == 1 })
	c.Close()
	time.Sleep(20 * time.Millisecond)
	close(release)
	if err := w.m.Close(); err != nil {
		t.Fatal(err)
	}
	if b := blocksOf(w.a); len(b) != 0 {
		t.Errorf("blocks = %+v, want none for an abandoned request", b)
	}
}

func TestSOCKS5EarlyDataWhileWaitingOnPrompt(t *testing.T) {
	w, release, asked := blockingWorld(t)
	w.answer.Store(AnswerAllowOnce)
	c := w.socks(t, w.a)
	c.Write(appendSocksAddr([]byte{5, byte(cmdConnect), 0}, netip.MustParseAddrPort(w.echo.Addr().String())))
	waitFor(t, "the prompt", func() bool { return asked.Load() == 1 })
	io.WriteString(c, "early") // sent before the reply
	time.Sleep(20 * time.Millisecond)
	close(release)
	br := bufio.NewReader(c)
	hdr := make([]byte, 3)
	if _, err := io.ReadFull(br, hdr); err != nil || socksReply(hdr[1]) != repSucceeded {
		t.Fatalf("reply %v, %v", hdr, err)
	}
	if _, _, err := readSocksAddr(br); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(br, buf); err != nil || string(buf) != "early" {
		t.Fatalf("echo %q, %v", buf, err)
	}
}

// A destination that lands on one of the proxy's own listeners is refused,
// whatever address spells it: loopback, unspecified (0.0.0.0 and [::]
// reach the local machine) or IPv4-mapped.
func TestProxyRefusesToConnectToItself(t *testing.T) {
	w := newProxyWorld(t, Config{AllowLocalBinding: true})
	for _, port := range []uint16{w.m.HTTPAddr().Port(), w.m.SOCKSAddr().Port()} {
		for _, host := range []string{"127.0.0.1", "0.0.0.0", "[::]", "[::ffff:127.0.0.1]", "[::ffff:0.0.0.0]", "localhost.", "127.1.2.3"} {
			target := fmt.Sprintf("%s:%d", host, port)
			c := dialProxy(t, w.m)
			io.WriteString(c, connectHead(w.a, target))
			resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: "CONNECT"})
			if err != nil {
				t.Fatalf("%s: %v", target, err)
			}
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("CONNECT %s: %d, want 403", target, resp.StatusCode)
			}
		}
	}
}

// Connections without a credential cannot pile up: past
// maxUnauthenticated the oldest is closed, a 407 closes its connection,
// and a command's own request still goes through.
func TestUnauthenticatedConnectionsAreBounded(t *testing.T) {
	w := newProxyWorld(t, Config{AllowLocalBinding: true, AllowedDomains: []string{"127.0.0.1"}})
	var idle []net.Conn
	for range maxUnauthenticated + 10 {
		for _, addr := range []netip.AddrPort{w.m.HTTPAddr(), w.m.SOCKSAddr()} {
			c, err := net.Dial("tcp", addr.String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			idle = append(idle, c)
		}
	}
	// The first ones were evicted: their reads end instead of timing out.
	idle[0].SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := idle[0].Read(make([]byte, 1)); err == nil || os.IsTimeout(err) {
		t.Errorf("oldest unauthenticated connection still open: %v", err)
	}
	// A 407 closes the connection.
	c := dialProxy(t, w.m)
	fmt.Fprintf(c, "GET %s/ HTTP/1.1\r\nHost: x\r\n\r\n", w.target.URL)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusProxyAuthRequired {
		t.Fatalf("no credential: %v, %v", resp, err)
	}
	io.Copy(io.Discard, resp.Body)
	if _, err := br.ReadByte(); err != io.EOF {
		t.Errorf("connection open after a 407: %v", err)
	}
	// A command's request still works.
	r, err := proxyClient(t, w.a.HTTPProxyURL()).Get(w.target.URL + "/ok")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != 200 {
		t.Errorf("authenticated request: %d", r.StatusCode)
	}
}
