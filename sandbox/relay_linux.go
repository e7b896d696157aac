package sandbox

import (
	"errors"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// relays are the listeners on 127.0.0.1 inside the sandbox, one for the
// HTTP proxy and one for SOCKS5; serve relays every connection to the
// proxy's Unix socket outside. A spare listens before it knows whether
// its command will need them (listening is part of its set-up, not the
// command's wait) and closes them if not.
type relays struct {
	http, socks net.Listener
}

func listenRelays() (*relays, error) {
	httpLn, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	socksLn, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		httpLn.Close()
		return nil, err
	}
	return &relays{httpLn, socksLn}, nil
}

// serve starts relaying to p's sockets; the listeners live as long as
// the helper.
func (r *relays) serve(p ProxySockets) error {
	if p.HTTP == "" || p.SOCKS == "" {
		return errors.New("the proxy's Unix sockets are missing")
	}
	go relayLoop(r.http, p.HTTP)
	go relayLoop(r.socks, p.SOCKS)
	return nil
}

// ports are the inside ports the proxy variables are rewritten to.
func (r *relays) ports() (httpPort, socksPort int) {
	return r.http.Addr().(*net.TCPAddr).Port, r.socks.Addr().(*net.TCPAddr).Port
}

func (r *relays) close() {
	r.http.Close()
	r.socks.Close()
}

// relayLoop accepts until the helper exits.
func relayLoop(ln net.Listener, socket string) {
	for {
		c, err := ln.Accept()
		if err != nil {
			// EMFILE and the like: pause, retry; the helper's life bounds the loop.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		go relayConn(c, socket)
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
