package netapproval

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// httpProxy is the HTTP forward proxy: absolute-form requests are
// forwarded, CONNECT is tunnelled, and the policy runs before any dial.
type httpProxy struct{ m *Manager }

func (h *httpProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m := h.m
	if !m.enter() {
		http.Error(w, "proxy shutting down", http.StatusServiceUnavailable)
		return
	}
	defer m.leave()
	a := m.authenticateHeader(r.Header.Get("Proxy-Authorization"))
	if a == nil {
		// The connection closes after the 407: without a credential it
		// gets no second try to hold a descriptor with.
		w.Header().Set("Proxy-Authenticate", `Basic realm="app-server"`)
		w.Header().Set("Connection", "close")
		http.Error(w, "proxy authentication required", http.StatusProxyAuthRequired)
		return
	}
	if c, ok := r.Context().Value(connKey{}).(*prefixConn); ok {
		c.adm.release()
	}
	if r.Method == http.MethodConnect {
		h.hijackConnect(w, r, a)
		return
	}
	h.serveForward(w, r, a)
}

// hijackConnect takes a CONNECT that follows a plain request on a
// kept-alive connection out of the HTTP server and serves it like one that
// starts a connection.
func (h *httpProxy) hijackConnect(w http.ResponseWriter, r *http.Request, a *Attachment) {
	c, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		http.Error(w, "tunnel unavailable", http.StatusInternalServerError)
		return
	}
	defer c.Close()
	// Close must be able to end the connection; the HTTP server no longer
	// tracks it.
	stop := context.AfterFunc(h.m.ctx, func() { c.Close() })
	defer stop()
	_ = c.SetDeadline(time.Time{})
	var early []byte
	// The client may have sent its first bytes (a TLS ClientHello) along
	// with the CONNECT; they sit in the server's buffer.
	if n := brw.Reader.Buffered(); n > 0 {
		b, _ := brw.Reader.Peek(n)
		early = append([]byte(nil), b...)
	}
	h.m.serveConnect(c, a, r.Host, early)
}

// connKey is the request context key of the connection the request
// arrived on (http.Server.ConnContext).
type connKey struct{}

// trackConn releases a connection's admission when the HTTP server is
// done with it (http.Server.ConnState).
func trackConn(c net.Conn, st http.ConnState) {
	if p, ok := c.(*prefixConn); ok && (st == http.StateClosed || st == http.StateHijacked) {
		p.adm.release()
	}
}

// authenticateHeader checks a Proxy-Authorization Basic credential.
func (m *Manager) authenticateHeader(value string) *Attachment {
	scheme, enc, ok := strings.Cut(value, " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return nil
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(enc))
	if err != nil {
		return nil
	}
	user, token, ok := strings.Cut(string(raw), ":")
	if !ok {
		return nil
	}
	return m.authenticate(user, token)
}

// requestKey builds the key for host and port text as a request named them.
// A host that does not normalize is returned as written with ok false; it
// is denied without a prompt.
func requestKey(host, port string, p Protocol) (Key, bool) {
	k := Key{Host: host, Protocol: p, Port: p.defaultPort()}
	if port != "" {
		n, err := strconv.ParseUint(port, 10, 16)
		if err != nil || n == 0 {
			return k, false
		}
		k.Port = uint16(n)
	}
	norm, err := NormalizeHost(host)
	if err != nil || k.Port == 0 {
		return k, false
	}
	k.Host = norm
	return k, true
}

// serveForward forwards one absolute-form plain HTTP request.
func (h *httpProxy) serveForward(w http.ResponseWriter, r *http.Request, a *Attachment) {
	if !r.URL.IsAbs() || r.URL.Scheme != "http" || r.URL.Host == "" {
		http.Error(w, "this proxy forwards absolute-form http:// requests and CONNECT only", http.StatusBadRequest)
		return
	}
	v, _ := a.decide(r.Context(), destination{host: r.URL.Hostname(), port: r.URL.Port(), protocol: ProtocolHTTP, method: r.Method}, nil)
	k := v.key
	if !v.allow {
		if !v.abandoned {
			writeBlockedJSON(w, k, v.denial)
		}
		return
	}

	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	note := &dialNote{a: a}
	ctx = context.WithValue(ctx, dialNoteKey{}, note)
	tr, ok := a.t.track(v.ref, closerFunc(func() error { cancel(); return nil }))
	if !ok {
		http.Error(w, "thread closed", http.StatusServiceUnavailable)
		return
	}
	defer tr.release()

	out := r.Clone(ctx)
	out.RequestURI = ""
	out.Close = false
	if r.ContentLength == 0 {
		out.Body = nil
	}
	removeHopHeaders(out.Header)
	resp, err := h.m.transport.RoundTrip(out)
	if err != nil {
		if note.denial != nil {
			writeBlockedJSON(w, k, note.denial)
			return
		}
		h.m.log.Debug("http proxy upstream failed", "key", k.String(), "err", err)
		http.Error(w, "upstream request failed: "+err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	removeHopHeaders(resp.Header)
	for name, vals := range resp.Header {
		w.Header()[name] = vals
	}
	w.WriteHeader(resp.StatusCode)
	copyFlushing(w, resp.Body)
}

// copyFlushing copies a response body, flushing after each read so
// streamed responses reach the client as they arrive. When the upstream body
// fails (a revoked grant cancels the request), the client connection is
// aborted: ending the response normally would let the client take a cut
// download for a complete one.
func copyFlushing(w http.ResponseWriter, body io.Reader) {
	rc := http.NewResponseController(w)
	buf := make([]byte, 32<<10)
	for {
		n, err := body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
			_ = rc.Flush()
		}
		if err == io.EOF {
			return
		}
		if err != nil {
			panic(http.ErrAbortHandler)
		}
	}
}

// dialNote carries the requester into http.Transport's dial and a
// dial-time denial out of it (the Transport does not promise to return the
// dialer's error unwrapped).
type dialNote struct {
	a      *Attachment
	denial *Denial
}

type dialNoteKey struct{}

// dialForTransport is the Transport's DialContext: it vets the destination
// again (DNS rebinding) and dials the vetted address.
func (m *Manager) dialForTransport(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	k, ok := requestKey(host, port, ProtocolHTTP)
	note, _ := ctx.Value(dialNoteKey{}).(*dialNote)
	if !ok || note == nil {
		return nil, errors.New("netapproval: invalid upstream address " + addr)
	}
	c, err := note.a.dial(ctx, k)
	errors.As(err, &note.denial)
	return c, err
}

// hopHeaders are the hop-by-hop headers of RFC 7230 section 6.1 (plus the
// proxy ones), never forwarded.
var hopHeaders = []string{
	"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
}

// removeHopHeaders deletes hop-by-hop headers, including those the
// Connection header names.
func removeHopHeaders(h http.Header) {
	for _, v := range h.Values("Connection") {
		for name := range strings.SplitSeq(v, ",") {
			if name = strings.TrimSpace(name); name != "" {
				h.Del(name)
			}
		}
	}
	for _, name := range hopHeaders {
		h.Del(name)
	}
}

// blockedBody is the JSON body of a refused plain HTTP request; the field
// order is part of the wire contract.
type blockedBody struct {
	Status   string `json:"status"`
	Host     string `json:"host"`
	Reason   string `json:"reason"`
	Decision string `json:"decision"`
	Source   string `json:"source"`
	Protocol string `json:"protocol"`
	Port     uint16 `json:"port"`
	Message  string `json:"message"`
}

// writeBlockedJSON writes the 403 of a refused plain HTTP request.
func writeBlockedJSON(w http.ResponseWriter, k Key, d *Denial) {
	body, _ := json.Marshal(blockedBody{
		Status: "blocked", Host: k.Host, Reason: d.Reason.String(), Decision: "deny",
		Source: d.Source.String(), Protocol: k.Protocol.String(), Port: k.Port, Message: d.Message,
	})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Proxy-Error", d.Tag().String())
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusForbidden)
	_, _ = w.Write(body)
}
