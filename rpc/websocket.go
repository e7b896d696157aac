package rpc

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"app-server/protocol"
)

// OutboundQueue bounds the messages waiting to be written to one WebSocket
// client (the reference server uses 128 too). A client that lets it fill is
// disconnected, so that nobody else waits on it.
const OutboundQueue = 128

// WebSocketOptions configures Server.WebSocketHandler.
type WebSocketOptions struct {
	// Authorize checks an upgrade request before it is accepted. It returns
	// "" to let it in, else the message of the 401 answer. Nil lets
	// everyone in.
	Authorize func(*http.Request) string
}

// WebSocketHandler serves the protocol over WebSocket, one JSON-RPC message
// per text frame, each connection a client of its own (see hub), with
// GET /readyz and /healthz on the same listener. A request with an Origin
// header is refused with 403 before anything else, so a web page cannot
// drive the server from a browser; a GET that is not an upgrade gets 400;
// Authorize runs before the upgrade. The handler returns when the
// connection ends; ServeWebSocket's caller stops them all by cancelling ctx.
func (s *Server) WebSocketHandler(ctx context.Context, opts WebSocketOptions) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Header.Get("Origin") != "":
			http.Error(w, "requests with an Origin header are refused", http.StatusForbidden)
			return
		case r.URL.Path == "/readyz" || r.URL.Path == "/healthz":
			w.WriteHeader(http.StatusOK)
			return
		case !headerHas(r.Header, "Connection", "upgrade") || !headerHas(r.Header, "Upgrade", "websocket"):
			http.Error(w, "this endpoint speaks WebSocket: send an upgrade request", http.StatusBadRequest)
			return
		}
		if opts.Authorize != nil {
			if msg := opts.Authorize(r); msg != "" {
				http.Error(w, msg, http.StatusUnauthorized)
				return
			}
		}
		// No Origin header is left to check: the library's own same-origin
		// check would pass every request that got here.
		ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
		if err != nil {
			s.log.Debug("websocket upgrade failed", "remote", r.RemoteAddr, "err", err)
			return
		}
		s.serveWebSocket(ctx, ws, r.RemoteAddr)
	})
}

func headerHas(h http.Header, key, token string) bool {
	for _, v := range h.Values(key) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// serveWebSocket runs one WebSocket client until it leaves or ctx is done.
// Its end unsubscribes it; the session goes on for the others.
func (s *Server) serveWebSocket(ctx context.Context, ws *websocket.Conn, remote string) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	maxLine := s.opts.MaxLineBytes
	if maxLine == 0 {
		maxLine = DefaultMaxLineBytes
	}
	t := newWSTransport(ctx, ws, maxLine)
	c := newConn(s, t)
	c.log = s.log.With("client", remote)
	s.hub.add(c)
	c.log.Info("websocket client connected")
	<-c.start(ctx)
	err := c.engine.readErr
	t.Close()
	c.lanes.wait()
	s.hub.remove(c)
	c.end()
	t.wait()
	c.log.Info("websocket client left", "reason", err)
}

// wsTransport is a transport over one WebSocket. Writes go through a
// bounded queue to a writer goroutine; a full queue closes the connection.
// The one exception is the answer the read loop writes (WriteFromReader):
// when nothing is queued or being written it goes out at once, saving the
// hand-off to the writer; blocking there only stops this client's own
// reading, and a full queue still drops the client, which unblocks it.
type wsTransport struct {
	// io is the context of every read and write: one that is never done,
	// so that the library does not register and unregister a callback on
	// it per message; the connection's end closes the socket instead
	// (closeOnEnd, stopped by wait), which ends a read or write in
	// progress.
	io         context.Context
	closeOnEnd func() bool
	ws         *websocket.Conn
	max        int          // the message cap, as the stdio line cap
	buf        bytes.Buffer // the last message read, reused
	out        chan []byte
	done       chan struct{} // closed by Close: the writer stops
	closed     sync.Once
	wg         sync.WaitGroup // the writer

	// writing is held around every write to the socket, by the writer or
	// by the read loop writing inline, so that messages leave in the order
	// they were queued or written.
	writing sync.Mutex
	// pending counts the messages queued and not yet written: it is raised
	// before a message enters out and lowered after the writer wrote it.
	pending atomic.Int64
}

var errSlowClient = errors.New("rpc: outbound queue full: the client is not reading; disconnected")

func newWSTransport(ctx context.Context, ws *websocket.Conn, max int) *wsTransport {
	// The cap is applied here rather than with the library's read limit,
	// which would close the connection: an over-long message is answered
	// as on stdio, and the connection goes on.
	ws.SetReadLimit(-1)
	t := &wsTransport{io: context.WithoutCancel(ctx), ws: ws, max: max, out: make(chan []byte, OutboundQueue), done: make(chan struct{})}
	t.closeOnEnd = context.AfterFunc(ctx, func() { t.Close() })
	t.wg.Add(1)
	go t.writeLoop()
	return t
}

// writeLoop writes queued messages in order until Close.
func (t *wsTransport) writeLoop() {
	defer t.wg.Done()
	for {
		select {
		case <-t.done:
			return
		case b := <-t.out:
			t.writing.Lock()
			err := t.ws.Write(t.io, websocket.MessageText, b)
			t.writing.Unlock()
			t.pending.Add(-1)
			if err != nil {
				t.Close()
				return
			}
		}
	}
}

// ReadMessage returns the next text frame. A binary frame is reported as
// errBinaryFrame and one over the cap as a *tooLongError (with its start,
// to find an id); either is read to its end and thrown away, so the
// connection goes on.
func (t *wsTransport) ReadMessage() ([]byte, error) {
	typ, r, err := t.ws.Reader(t.io)
	if err != nil {
		return nil, err
	}
	if t.buf.Cap() > keepLineBytes {
		t.buf = bytes.Buffer{} // one big message does not pin its buffer
	}
	t.buf.Reset()
	if _, err := t.buf.ReadFrom(io.LimitReader(r, int64(t.max)+1)); err != nil {
		return nil, err
	}
	switch {
	case t.buf.Len() > t.max:
		if _, err := io.Copy(io.Discard, r); err != nil {
			return nil, err
		}
		return nil, &tooLongError{prefix: bytes.Clone(t.buf.Bytes()[:min(t.buf.Len(), idScanBytes)]), limit: t.max}
	case typ == websocket.MessageBinary:
		return nil, errBinaryFrame
	}
	return t.buf.Bytes(), nil
}

var errBinaryFrame = &protocol.Error{Code: protocol.CodeInvalidRequest, Message: "Invalid request: binary frames are not supported; send each message as a text frame"}

// WriteMessage queues msg; when the queue is full the client is too slow
// and is disconnected.
func (t *wsTransport) WriteMessage(msg []byte) error {
	select {
	case <-t.done:
		return ErrDisconnected
	default:
	}
	t.pending.Add(1)
	select {
	case t.out <- msg:
		return nil
	default:
		// A close handshake would wait on the very client that is not
		// reading: drop the connection.
		t.Close()
		return errSlowClient
	}
}

// WriteFromReader writes msg, a response written by the connection's read
// loop. When no message is queued or being written, it is written here and
// now, in order with the writer (see writing); otherwise it is queued like
// any other.
func (t *wsTransport) WriteFromReader(msg []byte) error {
	if t.pending.Load() == 0 && t.writing.TryLock() {
		// Checked again under the lock: a message queued before it was
		// taken goes first; one queued after waits for this write.
		if t.pending.Load() == 0 {
			defer t.writing.Unlock()
			select {
			case <-t.done:
				return ErrDisconnected
			default:
			}
			if err := t.ws.Write(t.io, websocket.MessageText, msg); err != nil {
				t.Close()
				return err
			}
			return nil
		}
		t.writing.Unlock()
	}
	return t.WriteMessage(msg)
}

// Close stops the writer and closes the connection at once.
func (t *wsTransport) Close() error {
	t.closed.Do(func() {
		close(t.done)
		t.ws.CloseNow()
	})
	return nil
}

// wait waits for the writer to stop (after Close).
func (t *wsTransport) wait() {
	t.closeOnEnd()
	t.wg.Wait()
}

// ServeWebSocket serves WebSocket clients on ln until ctx is cancelled.
// Then it closes the listener and every connection, waits for their
// requests, and runs the OnDisconnect hook once: a client leaving only ends
// its subscriptions, the session lives as long as the server. It returns
// nil after a cancel, else the error that stopped the listener.
func (s *Server) ServeWebSocket(ctx context.Context, ln net.Listener, opts WebSocketOptions) error {
	connCtx, cancelConns := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelConns()
	var handlers sync.WaitGroup
	h := s.WebSocketHandler(connCtx, opts)
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			handlers.Add(1)
			defer handlers.Done()
			h.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	srv.Close() // the listener and idle connections; upgraded ones are ours:
	cancelConns()
	handlers.Wait()
	if s.onDisconnect != nil {
		s.onDisconnect()
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// ServeNothing serves no client (--listen off) until ctx is cancelled, then
// runs the OnDisconnect hook.
func (s *Server) ServeNothing(ctx context.Context) error {
	<-ctx.Done()
	if s.onDisconnect != nil {
		s.onDisconnect()
	}
	return nil
}
