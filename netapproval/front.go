package netapproval

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The HTTP proxy listener is served in two tiers. The front (this file)
// accepts every connection and looks at its first bytes: a connection that
// starts with CONNECT is served here, with a small head parser and the raw
// *net.TCPConn, so the tunnel splices and a request waiting on a prompt
// holds little memory; any other connection is handed, with the bytes
// already read, to the net/http server (httpProxy), which forwards plain
// requests. A CONNECT that follows a plain request on a kept-alive
// connection is hijacked back to serveConnect: one CONNECT server.

const (
	// maxConnectHead bounds a CONNECT request head (request line and
	// headers), like http.Server's MaxHeaderBytes.
	maxConnectHead = 64 << 10
	// frontBufSize is the read buffer for a CONNECT head; longer lines are
	// assembled by textproto.
	frontBufSize = 1 << 10
)

// serveHTTPFront runs the HTTP proxy's accept loop until the listener
// closes.
func (m *Manager) serveHTTPFront(ln net.Listener, handoff *handoffListener) {
	defer m.wg.Done()
	defer handoff.Close()
	m.acceptLoop(ln, "http proxy", func(c net.Conn, ad *admitted) { m.serveHTTPConn(c, ad, handoff) })
}

// acceptLoop accepts on ln until it closes or the manager closes, and
// serves each connection on its own goroutine, admitted (in accept order)
// as unauthenticated. what names the listener in logs.
func (m *Manager) acceptLoop(ln net.Listener, what string, serve func(net.Conn, *admitted)) {
	var delay time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if m.acceptRetry(err, &delay, what) {
				continue
			}
			return
		}
		delay = 0
		if !m.enter() {
			c.Close()
			return
		}
		go serve(c, m.adm.admit(c))
	}
}

// acceptRetry reports whether to accept again after an Accept error. A
// closed listener ends the loop; any other error (EMFILE under load) is
// retried after a pause, 5 ms doubling up to 1 s as http.Server does, so
// the proxy outlives a descriptor shortage.
func (m *Manager) acceptRetry(err error, delay *time.Duration, what string) bool {
	if errors.Is(err, net.ErrClosed) {
		return false
	}
	*delay = min(max(2**delay, 5*time.Millisecond), time.Second)
	m.log.Warn(what+" accept failed; retrying", "err", err, "delay", *delay)
	t := time.NewTimer(*delay)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-m.ctx.Done():
		return false
	}
}

// serveHTTPConn reads the start of one connection and serves it as a
// CONNECT or hands it to the HTTP server, with its admission (released once
// a request authenticates, or the connection ends).
func (m *Manager) serveHTTPConn(c net.Conn, ad *admitted, handoff *handoffListener) {
	defer m.leave()
	// Close must be able to end the connection in any phase here.
	stop := context.AfterFunc(m.ctx, func() { c.Close() })
	defer stop()
	_ = c.SetReadDeadline(time.Now().Add(headTimeout))
	lr := &io.LimitedReader{R: c, N: maxConnectHead}
	br := bufio.NewReaderSize(lr, frontBufSize)
	start, err := br.Peek(len("CONNECT "))
	if err != nil {
		ad.release()
		c.Close()
		return
	}
	if string(start) != "CONNECT " {
		_ = c.SetReadDeadline(time.Time{})
		if !stop() || !handoff.deliver(&prefixConn{Conn: c, r: br, adm: ad}) {
			ad.release()
			c.Close()
		}
		return
	}
	defer ad.release()
	m.serveFrontConnect(c, br, ad)
}

// serveFrontConnect serves a connection whose first request is a CONNECT:
// 407 without a valid credential, 403 when refused, otherwise a tunnel.
// The connection is closed when it returns.
func (m *Manager) serveFrontConnect(c net.Conn, br *bufio.Reader, ad *admitted) {
	defer c.Close()
	// The head is read and authenticated in a call that returns before
	// the prompt's wait, so its frames are not under the wait's stack
	// (see pending.waitReading).
	authority, a, early := m.readConnectHead(c, br, ad)
	if a == nil {
		return
	}
	m.serveConnect(c, a, authority, early)
}

// readConnectHead reads and authenticates the head of a CONNECT that
// starts connection c, answering 400 or 407 itself (a nil attachment).
// Authenticated, it releases the admission, clears the head's read
// deadline and returns the authority and the bytes the client sent after
// the head (a TLS ClientHello), copied so the read buffer is dropped
// before any wait.
func (m *Manager) readConnectHead(c net.Conn, br *bufio.Reader, ad *admitted) (authority string, a *Attachment, early []byte) {
	tp := textproto.NewReader(br)
	line, err := tp.ReadLine()
	if err != nil {
		return "", nil, nil
	}
	hdr, err := tp.ReadMIMEHeader()
	if err != nil {
		writeRaw(c, http.StatusBadRequest, nil, "malformed request head\n")
		return "", nil, nil
	}
	authority, ok := parseConnectLine(line)
	if !ok {
		writeRaw(c, http.StatusBadRequest, nil, "malformed CONNECT request\n")
		return "", nil, nil
	}
	a = m.authenticateHeader(hdr.Get("Proxy-Authorization"))
	if a == nil {
		writeRaw(c, http.StatusProxyAuthRequired, []string{"Proxy-Authenticate", `Basic realm="app-server"`}, "proxy authentication required\n")
		return "", nil, nil
	}
	ad.release()
	if n := br.Buffered(); n > 0 {
		b, _ := br.Peek(n)
		early = append([]byte(nil), b...)
	}
	_ = c.SetReadDeadline(time.Time{})
	return authority, a, early
}

// serveConnect is the one CONNECT server: it decides a CONNECT to
// authority (host[:port], default port 443) for attachment a on the
// client connection c, whose request head has been read (early holds the
// bytes the client sent after it), and answers 403 or 502 or tunnels. A
// CONNECT that starts a connection comes from serveFrontConnect; one that
// follows a plain request on a kept-alive connection comes from the HTTP
// server, hijacked. The caller closes c.
func (m *Manager) serveConnect(c net.Conn, a *Attachment, authority string, early []byte) {
	host, port, err := net.SplitHostPort(authority)
	if err != nil {
		host, port = authority, "" // no port: the default, 443
	}
	v, b := a.decide(m.ctx, destination{host: host, port: port, protocol: ProtocolHTTPS, method: http.MethodConnect}, c)
	early = append(early, b...)
	if !v.allow {
		if !v.abandoned {
			writeBlocked(c, v.key, v.denial)
		}
		return
	}
	// What follows an allow is its own call: this frame stays under the
	// prompt's wait and is kept small (see pending.waitReading).
	m.openTunnel(c, a, v, early)
}

// openTunnel dials the key allowed by v for a's CONNECT on c (vetting its
// addresses again) and tunnels, or answers 403 or 502.
func (m *Manager) openTunnel(c net.Conn, a *Attachment, v verdict, early []byte) {
	upstream, err := a.dial(m.ctx, v.key)
	if err != nil {
		var d *Denial
		switch {
		case errors.As(err, &d):
			writeBlocked(c, v.key, d)
		case m.ctx.Err() == nil:
			writeRaw(c, http.StatusBadGateway, nil, "upstream connect failed: "+err.Error()+"\n")
		}
		return
	}
	tunnel(a, v.ref, c, upstream, func() error {
		_, err := io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
		return err
	}, early)
}

// writeBlocked writes the 403 of a refused CONNECT: the x-proxy-error
// header and a one-line text body.
func writeBlocked(c net.Conn, k Key, d *Denial) {
	tag := d.Tag().String()
	writeRaw(c, http.StatusForbidden, []string{"X-Proxy-Error", tag}, "blocked: "+tag+" "+k.hostPort()+": "+d.Message+"\n")
}

// parseConnectLine parses "CONNECT authority HTTP/1.x" and returns the
// authority (host:port) the way net/http reads it.
func parseConnectLine(line string) (string, bool) {
	method, rest, ok1 := strings.Cut(line, " ")
	target, proto, ok2 := strings.Cut(rest, " ")
	if !ok1 || !ok2 || method != http.MethodConnect || strings.HasPrefix(target, "/") {
		return "", false
	}
	if _, _, ok := http.ParseHTTPVersion(proto); !ok {
		return "", false
	}
	u, err := url.ParseRequestURI("http://" + target)
	if err != nil || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.User != nil {
		return "", false
	}
	return u.Host, true
}

// writeRaw writes a complete HTTP/1.1 response with a text body on a
// connection that then closes: half-close, then drain what the client
// still sends (bounded) so the close does not reset the response away.
func writeRaw(c net.Conn, status int, hdr []string, body string) {
	var b strings.Builder
	b.WriteString("HTTP/1.1 " + strconv.Itoa(status) + " " + http.StatusText(status) + "\r\n")
	for i := 0; i+1 < len(hdr); i += 2 {
		b.WriteString(hdr[i] + ": " + hdr[i+1] + "\r\n")
	}
	b.WriteString("Content-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\n")
	b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\nConnection: close\r\n\r\n")
	b.WriteString(body)
	_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, b.String()); err != nil {
		return
	}
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
		_ = c.SetReadDeadline(time.Now().Add(time.Second))
		_, _ = io.Copy(io.Discard, io.LimitReader(c, 256<<10))
	}
}

// prefixConn is a connection handed to the HTTP server with the bytes the
// front already read still in r.
// Reads are not concurrent (the HTTP server reads from one goroutine at a
// time).
type prefixConn struct {
	net.Conn
	r   *bufio.Reader // nil once drained
	adm *admitted     // released by the HTTP server (httpProxy)
}

func (p *prefixConn) Read(b []byte) (int, error) {
	if p.r != nil {
		if n := p.r.Buffered(); n > 0 {
			return p.r.Read(b[:min(len(b), n)])
		}
		p.r = nil
	}
	return p.Conn.Read(b)
}

// CloseWrite half-closes the underlying TCP connection (tunnels need it).
func (p *prefixConn) CloseWrite() error {
	if cw, ok := p.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return p.Conn.Close()
}

// handoffListener feeds the HTTP server the connections the front hands
// over. Closing it (http.Server.Close does) also closes the real listener,
// which ends the front's accept loop.
type handoffListener struct {
	ln    net.Listener
	conns chan net.Conn
	once  sync.Once
	done  chan struct{}
}

func newHandoffListener(ln net.Listener) *handoffListener {
	return &handoffListener{ln: ln, conns: make(chan net.Conn), done: make(chan struct{})}
}

// deliver gives c to the HTTP server; false once the listener is closed.
func (h *handoffListener) deliver(c net.Conn) bool {
	select {
	case h.conns <- c:
		return true
	case <-h.done:
		return false
	}
}

func (h *handoffListener) Accept() (net.Conn, error) {
	select {
	case c := <-h.conns:
		return c, nil
	case <-h.done:
		return nil, net.ErrClosed
	}
}

func (h *handoffListener) Close() error {
	var err error
	h.once.Do(func() {
		close(h.done)
		err = ignoreClosed(h.ln.Close())
	})
	return err
}

func (h *handoffListener) Addr() net.Addr { return h.ln.Addr() }
