package netapproval

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
)

// The proxy's Unix socket entry points serve sandboxed commands: their
// network namespace has no route to the proxy's TCP listeners, so the
// sandbox helper relays each connection from 127.0.0.1 inside to these
// sockets outside. Requests are the same (credential required, same
// policy); only SOCKS5 UDP ASSOCIATE is refused with "command not
// supported", because datagrams cannot cross the relay yet.

// UnixSockets are the paths of the proxy's Unix socket entry points.
type UnixSockets struct {
	HTTP  string
	SOCKS string
}

// maxUnixPath is the longest socket path that fits sockaddr_un on every
// platform we build for (104 bytes on macOS, 108 on Linux, NUL included).
const maxUnixPath = 100

// ListenUnix opens the HTTP and SOCKS5 entry points as Unix sockets in a
// new 0700 directory under dir (or under the system's temporary directory
// when dir would make the paths too long) and serves them until Close,
// which removes them. Call it after Start (or StartOnFirstUse, and it
// starts the Manager), at most once.
func (m *Manager) ListenUnix(dir string) (UnixSockets, error) {
	m.mu.Lock()
	if err := m.startIfDeferredLocked(); err != nil {
		m.mu.Unlock()
		return UnixSockets{}, err
	}
	ok := m.started && !m.closed
	m.mu.Unlock()
	if !ok {
		return UnixSockets{}, errors.New("netapproval: ListenUnix before Start or after Close")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return UnixSockets{}, fmt.Errorf("netapproval: unix socket directory: %w", err)
	}
	sockDir, err := os.MkdirTemp(dir, "proxy-")
	if err == nil && len(filepath.Join(sockDir, "socks.sock")) > maxUnixPath {
		os.Remove(sockDir)
		sockDir, err = os.MkdirTemp("", "app-server-proxy-")
	}
	if err != nil {
		return UnixSockets{}, fmt.Errorf("netapproval: unix socket directory: %w", err)
	}
	paths := UnixSockets{HTTP: filepath.Join(sockDir, "http.sock"), SOCKS: filepath.Join(sockDir, "socks.sock")}
	httpLn, err := net.Listen("unix", paths.HTTP)
	if err != nil {
		os.RemoveAll(sockDir)
		return UnixSockets{}, fmt.Errorf("netapproval: http unix listener: %w", err)
	}
	socksLn, err := net.Listen("unix", paths.SOCKS)
	if err != nil {
		httpLn.Close()
		os.RemoveAll(sockDir)
		return UnixSockets{}, fmt.Errorf("netapproval: socks5 unix listener: %w", err)
	}
	if !m.enter() {
		httpLn.Close()
		socksLn.Close()
		os.RemoveAll(sockDir)
		return UnixSockets{}, ErrClosed
	}
	// Close cancels m.ctx before it waits: the listeners close then, and
	// the accept loops end.
	context.AfterFunc(m.ctx, func() {
		httpLn.Close()
		socksLn.Close()
		os.RemoveAll(sockDir)
	})
	go m.serveUnix(httpLn, socksLn)
	m.log.Info("network proxy listening on unix sockets", "http", paths.HTTP, "socks5", paths.SOCKS)
	return paths, nil
}

// serveUnix runs both accept loops; it holds one wg count (taken by
// ListenUnix) for both.
func (m *Manager) serveUnix(httpLn, socksLn net.Listener) {
	defer m.leave()
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.acceptLoop(socksLn, "socks5 unix", m.serveSOCKSConn)
	}()
	m.acceptLoop(httpLn, "http unix", func(c net.Conn, ad *admitted) { m.serveHTTPConn(c, ad, m.handoff) })
	<-done
}

// udpUnsupported reports whether a SOCKS5 UDP ASSOCIATE on c must be
// refused: a connection on the Unix entry point comes from inside a
// sandbox, where the relay address this proxy would hand out is
// unreachable.
func udpUnsupported(c net.Conn) bool {
	return c.LocalAddr().Network() == "unix"
}
