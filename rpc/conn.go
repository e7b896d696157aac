package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"app-server/protocol"
)

// transport carries whole messages: JSONL lines on stdio (Stream), text
// frames on a WebSocket.
type transport interface {
	// ReadMessage returns the next message, valid until the next call; a
	// message over the cap is a *tooLongError and the transport goes on.
	// It is called from one goroutine.
	ReadMessage() ([]byte, error)
	// WriteMessage writes one message; safe for concurrent use.
	WriteMessage(msg []byte) error
	Close() error
}

// conn is one client connection: its handshake, its request lanes and the
// server-to-client calls waiting on it.
type conn struct {
	s     *Server
	t     transport
	log   *slog.Logger
	lanes *lanes

	initialized atomic.Bool
	// optOut holds the notification methods this client opted out of; set
	// once by initialize, read by notify.
	optOut atomic.Pointer[map[string]bool]

	callMu sync.Mutex      // guards calls, gone
	calls  map[int64]*Call // calls waiting for this client's answer
	gone   bool            // the connection ended: no new calls
}

func newConn(s *Server, t transport) *conn {
	return &conn{s: s, t: t, log: s.log, lanes: newLanes(s.opts.QueueLimit), calls: make(map[int64]*Call)}
}

// readLoop reads and handles messages until the transport fails or ctx is
// done. It is the only reader, and handlers that run inline run on it.
func (c *conn) readLoop(ctx context.Context) error {
	for ctx.Err() == nil {
		b, err := c.t.ReadMessage()
		var tooLong *tooLongError
		switch {
		case errors.As(err, &tooLong):
			c.rejectTooLong(tooLong)
			continue
		case err == errBinaryFrame:
			c.log.Warn("rpc: skipped input message", "reason", "binary frame")
			c.writeError(nil, errBinaryFrame)
			continue
		case err != nil:
			return err
		}
		c.receive(ctx, b)
	}
	return ctx.Err()
}

func (c *conn) receive(ctx context.Context, b []byte) {
	m := decodeMessage(b)
	switch m.kind {
	case kindInvalid:
		c.log.Warn("rpc: skipped input message", "reason", m.reason, "bytes", len(b), "excerpt", excerpt(b))
		if m.reject != nil {
			c.writeError(m.id, m.reject)
		}
	case kindResponse:
		c.resolve(m)
	case kindNotification:
		// initialized needs no action: requests are accepted from the
		// initialize response on. Unknown notifications are ignored.
		if m.method != protocol.MethodInitialized {
			c.log.Debug("ignoring notification", "method", m.method)
		}
	case kindRequest:
		c.handle(ctx, &m)
	}
}

// rejectTooLong logs an over-long message and, when the id of a request can
// be found in its beginning, answers it with -32600.
func (c *conn) rejectTooLong(e *tooLongError) {
	c.log.Warn("rpc: skipped input message", "reason", "longer than the line cap", "maxBytes", e.limit, "excerpt", excerpt(e.prefix))
	if id, isResponse := prefixID(e.prefix); id != nil && !isResponse {
		c.writeError(id, &protocol.Error{Code: protocol.CodeInvalidRequest, Message: msgLineTooLong})
	}
}

// handle checks the gates of a request (initialized, method known, queue not
// full) and runs it inline or queues it on its lane.
func (c *conn) handle(ctx context.Context, req *message) {
	if req.method == protocol.MethodInitialize {
		c.initialize(req)
		return
	}
	if !c.initialized.Load() {
		c.writeError(req.id, protocol.Errorf(protocol.ErrInvalidRequest, "Not initialized"))
		return
	}
	m, known := protocol.LookupMethod(req.method)
	handler, served := c.s.handlers[req.method]
	if !known || !served {
		c.writeError(req.id, protocol.Errorf(protocol.ErrMethodNotFound, "Method not found: %s", req.method))
		return
	}
	ctx = withConn(ctx, c)
	key := laneKey(m, req.id, req.params)
	if c.s.inline[req.method] && c.lanes.idle(key) {
		c.run(ctx, req, handler)
		return
	}
	// The message's raw members alias the read buffer: copy them for the lane.
	r := &message{id: bytes.Clone(req.id), method: req.method, params: bytes.Clone(req.params)}
	if !c.lanes.add(key, func() { c.run(ctx, r, handler) }) {
		c.writeError(req.id, protocol.ErrServerOverloaded)
	}
}

// initialize answers the handshake on the read loop: it is cheap and must
// happen before anything else.
func (c *conn) initialize(req *message) {
	if c.initialized.Load() {
		c.writeError(req.id, protocol.Errorf(protocol.ErrInvalidRequest, "Already initialized"))
		return
	}
	var p protocol.InitializeParams
	if err := protocol.DecodeParams(req.params, &p); err != nil {
		c.writeError(req.id, protocol.Errorf(protocol.ErrInvalidParams, "Invalid params: %v", err))
		return
	}
	optOut := make(map[string]bool)
	if p.Capabilities != nil {
		for _, m := range p.Capabilities.OptOutNotificationMethods {
			optOut[m] = true
		}
	}
	c.optOut.Store(&optOut)
	c.initialized.Store(true)
	o := c.s.opts
	c.writeResult(req.id, protocol.InitializeResponse{
		UserAgent:      fmt.Sprintf("%s/%s (%s; %s) %s/%s", o.Name, o.Version, runtime.GOOS, runtime.GOARCH, p.ClientInfo.Name, p.ClientInfo.Version),
		CodexHome:      o.Home,
		PlatformFamily: platformFamily(),
		PlatformOs:     runtime.GOOS,
	})
}

func platformFamily() string {
	if runtime.GOOS == "windows" {
		return "windows"
	}
	return "unix"
}

// run handles one request. A panic in the handler is logged with its stack
// and answered -32603; the server goes on.
func (c *conn) run(ctx context.Context, req *message, h Handler) {
	defer func() {
		if v := recover(); v != nil {
			c.log.Error("handler panicked", "method", req.method, "panic", v, "stack", string(debug.Stack()))
			c.writeError(req.id, protocol.Errorf(protocol.ErrInternal, "Internal error: handler for %s failed", req.method))
		}
	}()
	result, err := h(ctx, req.params)
	if err != nil {
		var perr *protocol.Error
		if !errors.As(err, &perr) {
			c.log.Error("handler failed", "method", req.method, "err", err)
			perr = protocol.Errorf(protocol.ErrInternal, "Internal error: %v", err)
		}
		c.writeError(req.id, perr)
		return
	}
	var then func()
	if ar, ok := result.(afterReply); ok {
		result, then = ar.result, ar.then
	}
	c.writeResult(req.id, result)
	if then != nil {
		then()
	}
}

// writeResult answers a request. A result that cannot be encoded is
// answered -32603 instead of leaving the client waiting.
func (c *conn) writeResult(id json.RawMessage, result any) {
	b, err := json.Marshal(result)
	if err != nil {
		c.log.Error("result not encodable", "err", err)
		c.writeError(id, protocol.Errorf(protocol.ErrInternal, "Internal error: result not encodable: %v", err))
		return
	}
	c.write(func(buf []byte) []byte { return appendResult(buf, id, b) })
}

// writeError answers a request with an error; a nil id is written as null.
func (c *conn) writeError(id json.RawMessage, e *protocol.Error) {
	c.write(func(buf []byte) []byte { return appendError(buf, id, e) })
}

// notify sends a notification unless the client opted out of its method.
func (c *conn) notify(method string, params json.RawMessage, emittedAtMs int64) error {
	if opt := c.optOut.Load(); opt != nil && (*opt)[method] {
		return nil
	}
	return c.write(func(buf []byte) []byte { return appendNotification(buf, emittedAtMs, method, params) })
}

// write encodes one message and writes it.
func (c *conn) write(encode func([]byte) []byte) error {
	if err := c.t.WriteMessage(encode(nil)); err != nil {
		level := slog.LevelDebug
		if errors.Is(err, errSlowClient) {
			level = slog.LevelWarn
		}
		c.log.Log(context.Background(), level, "message not sent", "err", err)
		return ErrDisconnected
	}
	return nil
}

// request sends a server-to-client request with the given id and registers
// call to receive the answer.
func (c *conn) request(call *Call, method string, params json.RawMessage) error {
	if !call.join(c) {
		return nil // answered already (by another connection)
	}
	c.callMu.Lock()
	if c.gone {
		c.callMu.Unlock()
		call.leave(c)
		return ErrDisconnected
	}
	if c.calls[call.id] == call {
		c.callMu.Unlock()
		return nil // sent already: a replay raced the first send
	}
	c.calls[call.id] = call
	c.callMu.Unlock()
	err := c.write(func(buf []byte) []byte { return appendRequest(buf, call.id, method, params) })
	if err != nil {
		c.forget(call.id)
		call.leave(c)
	}
	return err
}

func (c *conn) forget(id int64) {
	c.callMu.Lock()
	delete(c.calls, id)
	c.callMu.Unlock()
}

// resolve hands a client's response to the call waiting for it.
func (c *conn) resolve(m message) {
	c.callMu.Lock()
	call := c.calls[m.callID]
	delete(c.calls, m.callID)
	c.callMu.Unlock()
	if call == nil {
		c.log.Warn("ignoring a response to an unknown or answered request", "id", m.callID)
		return
	}
	call.settle(m.result, m.err, nil)
}

// end marks the connection gone: calls waiting only on it fail with
// ErrDisconnected.
func (c *conn) end() {
	c.callMu.Lock()
	c.gone = true
	calls := c.calls
	c.calls = nil
	c.callMu.Unlock()
	for _, call := range calls {
		call.leave(c)
	}
}

// excerpt returns the start of a message for a log record, cut on a rune
// boundary when the message is valid UTF-8.
func excerpt(b []byte) string {
	const n = 80
	if len(b) <= n {
		return string(b)
	}
	i := n
	for i > n-utf8.UTFMax && !utf8.RuneStart(b[i]) {
		i--
	}
	return string(b[:i]) + "…"
}

// connKey is the context key of the connection a handler serves.
type connKey struct{}

func withConn(ctx context.Context, c *conn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}
