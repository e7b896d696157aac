package netapproval

import (
	"errors"
	"io"
	"net"
)

// tunnel answers an allowed CONNECT with established (the 200 of HTTP,
// SOCKS5's success reply), forwards the bytes the client sent early, and
// copies both ways until the tunnel ends or its grant is revoked. It closes
// both connections.
func tunnel(a *Attachment, ref grantRef, client, upstream net.Conn, established func() error, early []byte) {
	both := multiCloser{client, upstream}
	tr, ok := a.t.track(ref, both)
	if !ok {
		both.Close()
		return
	}
	defer tr.close()
	if err := established(); err != nil {
		return
	}
	if len(early) > 0 {
		if _, err := upstream.Write(early); err != nil {
			return
		}
	}
	pipe(client, upstream)
}

// pipe copies both ways until both directions end. When one direction ends
// its write side is half-closed so the peer sees EOF; closing either
// connection (revocation, Close) ends both copies. Given two *net.TCPConn,
// io.Copy splices on Linux (no copy through user space).
func pipe(a, b net.Conn) {
	done := make(chan struct{}, 1)
	go copyHalf(a, b, done)
	copyHalf(b, a, nil)
	<-done
}

// copyHalf copies src to dst, then half-closes dst (or closes it when it
// cannot half-close) and signals done (if not nil).
func copyHalf(dst, src net.Conn, done chan<- struct{}) {
	_, _ = io.Copy(dst, src)
	if cw, ok := dst.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	} else {
		_ = dst.Close()
	}
	if done != nil {
		done <- struct{}{}
	}
}

// multiCloser closes several closers, e.g. both ends of a tunnel.
type multiCloser []io.Closer

func (mc multiCloser) Close() error {
	var err error
	for _, c := range mc {
		err = errors.Join(err, c.Close())
	}
	return err
}
