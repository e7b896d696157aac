package netapproval

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
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
	setAdmission(w.m, 0, w.m.adm.ceiling) // every connection has waited its grace
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

// setAdmission sets the admission grace and ceiling under its lock.
func setAdmission(m *Manager, grace time.Duration, ceiling int) {
	m.adm.mu.Lock()
	m.adm.grace, m.adm.ceiling = grace, ceiling
	m.adm.mu.Unlock()
}

// A burst of new connections within the grace period is held up to the
// ceiling, not cut at maxUnauthenticated: a command opening hundreds of
// connections at once must not lose them before their credentials are
// read. Past the ceiling the oldest is closed even within the grace.
func TestAdmissionBurstWithinGrace(t *testing.T) {
	w := newProxyWorld(t, Config{AllowLocalBinding: true, AllowedDomains: []string{"127.0.0.1"}})
	ceiling := maxUnauthenticated + 40
	setAdmission(w.m, time.Hour, ceiling)
	var conns []net.Conn
	for range ceiling {
		c, err := net.Dial("tcp", w.m.HTTPAddr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	// Every one of them still gets its request served once it sends it.
	for i, c := range []net.Conn{conns[0], conns[ceiling-1]} {
		fmt.Fprintf(c, "GET %s/ok HTTP/1.1\r\nHost: x\r\nProxy-Authorization: Basic %s\r\n\r\n", w.target.URL, base64.StdEncoding.EncodeToString([]byte(w.a.user+":"+w.a.token)))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("connection %d of the burst: %v", i, err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("connection %d of the burst: %d", i, resp.StatusCode)
		}
	}
	// Two left the list by authenticating; past the ceiling the oldest
	// still unauthenticated one is closed.
	for range 3 {
		extra, err := net.Dial("tcp", w.m.HTTPAddr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer extra.Close()
	}
	conns[1].SetReadDeadline(time.Now().Add(5 * time.Second)) // before headTimeout would close it
	if _, err := conns[1].Read(make([]byte, 1)); err == nil || os.IsTimeout(err) {
		t.Errorf("oldest unauthenticated connection past the ceiling still open: %v", err)
	}
}
