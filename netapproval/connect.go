package netapproval

import (
	"errors"
	"io"
	"net"
	"net/http"
)

// serveConnect tunnels one CONNECT request after the policy allows it.
func (h *httpProxy) serveConnect(w http.ResponseWriter, r *http.Request, a *Attachment) {
	host, port, err := net.SplitHostPort(r.Host)
	if err != nil {
		host, port = r.Host, "" // no port: the default, 443
	}
	k, ok := requestKey(host, port, ProtocolHTTPS)
	if !ok {
		writeBlockedText(w, k, refuseUnparsable(a, k))
		return
	}
	v := a.t.check(r.Context(), a, Request{Key: k, Method: r.Method})
	if !v.allow {
		if !v.abandoned {
			writeBlockedText(w, k, v.denial)
		}
		return
	}
	upstream, err := h.m.dialTCP(r.Context(), k)
	if err != nil {
		var d *Denial
		if errors.As(err, &d) {
			a.recordBlock(k, d)
			writeBlockedText(w, k, d)
			return
		}
		http.Error(w, "upstream connect failed: "+err.Error(), http.StatusBadGateway)
		return
	}
	client, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		upstream.Close()
		http.Error(w, "tunnel unavailable", http.StatusInternalServerError)
		return
	}
	both := multiCloser{client, upstream}
	tr, ok := a.t.track(v.ref, both)
	if !ok {
		both.Close()
		return
	}
	defer tr.close()
	if _, err := io.WriteString(client, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		return
	}
	// The client may have sent its first bytes (a TLS ClientHello) along
	// with the CONNECT; they sit in the server's buffer.
	if n := brw.Reader.Buffered(); n > 0 {
		buffered, _ := brw.Reader.Peek(n)
		if _, err := upstream.Write(buffered); err != nil {
			return
		}
	}
	pipe(client, upstream)
}

// pipe copies both ways until both directions end. When one direction ends
// its write side is half-closed so the peer sees EOF; closing either
// connection (revocation, Close) ends both copies.
func pipe(a, b net.Conn) {
	done := make(chan struct{}, 2)
	go copyHalf(a, b, done)
	go copyHalf(b, a, done)
	<-done
	<-done
}

// copyHalf copies src to dst, then half-closes dst (or closes it when it
// cannot half-close) and signals done.
func copyHalf(dst, src net.Conn, done chan<- struct{}) {
	_, _ = io.Copy(dst, src)
	if cw, ok := dst.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	} else {
		_ = dst.Close()
	}
	done <- struct{}{}
}
