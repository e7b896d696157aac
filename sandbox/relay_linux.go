package sandbox

import (
	"errors"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// relays are the listeners on 127.0.0.1 inside the sandbox, one for the
// HTTP proxy and one for SOCKS5, which relay every connection to the
// proxy's Unix socket outside. A spare listens before it knows whether
// its command will need them (listening is then part of its set-up, not
// the command's wait), keeps them for the next command that does, and
// closes them for one that does not.
type relays struct {
	http, socks net.Listener                 // nil when not listening
	target      atomic.Pointer[ProxySockets] // the current command's proxy
}

func (r *relays) listen() error {
	if r.http != nil {
		return nil
	}
	httpLn, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return err
	}
	socksLn, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		httpLn.Close()
		return err
	}
	r.http, r.socks = httpLn, socksLn
	go r.loop(httpLn, func(p *ProxySockets) string { return p.HTTP })
	go r.loop(socksLn, func(p *ProxySockets) string { return p.SOCKS })
	return nil
}

// serve relays the connections to p's sockets from now on.
func (r *relays) serve(p ProxySockets) error {
	if p.HTTP == "" || p.SOCKS == "" {
		return errors.New("the proxy's Unix sockets are missing")
	}
	r.target.Store(&p)
	return r.listen()
}

// ports are the inside ports the proxy variables are rewritten to.
func (r *relays) ports() (httpPort, socksPort int) {
	return r.http.Addr().(*net.TCPAddr).Port, r.socks.Addr().(*net.TCPAddr).Port
}

// close stops listening (the loops end); relayed connections go on.
func (r *relays) close() {
	if r.http != nil {
		r.http.Close()
		r.socks.Close()
		r.http, r.socks = nil, nil
	}
}

// loop accepts until the listener is closed.
func (r *relays) loop(ln net.Listener, socket func(*ProxySockets) string) {
	for {
		c, err := ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			// EMFILE and the like: pause, retry.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		p := r.target.Load()
		if p == nil {
			c.Close()
			continue
		}
		go relayConn(c, socket(p))
	}
}

// relayConn copies one connection both ways to a new connection to the
// Unix socket. The proxy sees the command's bytes unchanged (credential
// included) and answers refusals itself.
func relayConn(c net.Conn, socket string) {
	defer c.Close()
	u, err := net.Dial("unix", socket)
	if err != nil {
		return
	}
	defer u.Close()
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(u, c)
		_ = u.(*net.UnixConn).CloseWrite()
		close(done)
	}()
	_, _ = io.Copy(c, u)
	_ = c.(*net.TCPConn).CloseWrite()
	<-done
}

// proxyVars are the variables Attachment.Env sets: the HTTP proxy URL in
// the first four, the SOCKS5 URL in the last two.
var (
	httpProxyVars  = []string{"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"}
	socksProxyVars = []string{"ALL_PROXY", "all_proxy"}
)

// rewriteProxyEnv points the proxy variables at the relay's inside ports,
// keeping scheme and credential.
func rewriteProxyEnv(env []string, httpPort, socksPort int) []string {
	out := make([]string, len(env))
	for i, kv := range env {
		out[i] = kv
		name, val, ok := strings.Cut(kv, "=")
		if !ok || val == "" {
			continue
		}
		port := 0
		for _, v := range httpProxyVars {
			if name == v {
				port = httpPort
			}
		}
		for _, v := range socksProxyVars {
			if name == v {
				port = socksPort
			}
		}
		if port == 0 {
			continue
		}
		u, err := url.Parse(val)
		if err != nil || u.Host == "" {
			continue
		}
		u.Host = "127.0.0.1:" + strconv.Itoa(port)
		out[i] = name + "=" + u.String()
	}
	return out
}
