package netapproval

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
)

// connectRefusal is why a CONNECT gets no tunnel: a policy denial (403
// with the blocked text), an upstream failure (502), or nothing to answer
// (the requester went away).
type connectRefusal struct {
	k         Key
	denial    *Denial // set for a 403
	upstream  error   // set for a 502
	abandoned bool
}

// openConnect decides a CONNECT to authority (host[:port], default port 443)
// for attachment a and dials the vetted upstream. When the request has to
// wait for a prompt, wait waits for its verdict (nil: until the verdict or
// ctx is done). On success it returns the upstream connection and the grant
// that allowed it.
func (m *Manager) openConnect(ctx context.Context, a *Attachment, authority string, wait func(*pending) verdict) (net.Conn, grantRef, *connectRefusal) {
	host, port, err := net.SplitHostPort(authority)
	if err != nil {
		host, port = authority, "" // no port: the default, 443
	}
	k, ok := requestKey(host, port, ProtocolHTTPS)
	if !ok {
		return nil, grantRef{}, &connectRefusal{k: k, denial: refuseUnparsable(a, k)}
	}
	req := Request{Key: k, Method: http.MethodConnect}
	var v verdict
	if wait == nil {
		v = a.t.decide(ctx, a, req)
	} else {
		var pd *pending
		if v, pd = a.t.begin(ctx, a, req); pd != nil {
			v = wait(pd)
		}
	}
	a.t.account(a, req, v)
	if !v.allow {
		return nil, grantRef{}, &connectRefusal{k: k, denial: v.denial, abandoned: v.abandoned}
	}
	upstream, err := m.dialTCP(ctx, k)
	if err != nil {
		var d *Denial
		if errors.As(err, &d) {
			a.recordBlock(k, d)
			return nil, grantRef{}, &connectRefusal{k: k, denial: d}
		}
		if ctx.Err() != nil {
			return nil, grantRef{}, &connectRefusal{k: k, abandoned: true}
		}
		return nil, grantRef{}, &connectRefusal{k: k, upstream: err}
	}
	return upstream, v.ref, nil
}

// serveConnect tunnels a CONNECT that arrived on a connection the HTTP
// server already serves (after an earlier plain request on it); a
// connection that starts with CONNECT is served by serveFrontConnect.
func (h *httpProxy) serveConnect(w http.ResponseWriter, r *http.Request, a *Attachment) {
	upstream, ref, refused := h.m.openConnect(r.Context(), a, r.Host, nil)
	if refused != nil {
		switch {
		case refused.abandoned:
		case refused.denial != nil:
			writeBlockedText(w, refused.k, refused.denial)
		default:
			http.Error(w, "upstream connect failed: "+refused.upstream.Error(), http.StatusBadGateway)
		}
		return
	}
	client, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		upstream.Close()
		http.Error(w, "tunnel unavailable", http.StatusInternalServerError)
		return
	}
	var early []byte
	// The client may have sent its first bytes (a TLS ClientHello) along
	// with the CONNECT; they sit in the server's buffer.
	if n := brw.Reader.Buffered(); n > 0 {
		early, _ = brw.Reader.Peek(n)
	}
	tunnel(a, ref, client, upstream, early)
}

// tunnelEstablished is the reply to an allowed CONNECT.
const tunnelEstablished = "HTTP/1.1 200 Connection established\r\n\r\n"

// tunnel answers 200 to an allowed CONNECT, forwards the bytes the client
// sent early, and copies both ways until the tunnel ends or its grant is
// revoked. It closes both connections.
func tunnel(a *Attachment, ref grantRef, client, upstream net.Conn, early []byte) {
	both := multiCloser{client, upstream}
	tr, ok := a.t.track(ref, both)
	if !ok {
		both.Close()
		return
	}
	defer tr.close()
	if _, err := io.WriteString(client, tunnelEstablished); err != nil {
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
