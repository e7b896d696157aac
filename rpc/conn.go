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

	"github.com/sourcegraph/jsonrpc2"

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

// readerWriter is a transport with a faster way to write a message from the
// connection's read loop (the WebSocket's, which otherwise hands every
// message to a writer goroutine).
type readerWriter interface {
	WriteFromReader(msg []byte) error
}

// conn is one client connection: its handshake, its request lanes and the
// server-to-client calls waiting on it. Its JSON-RPC engine is a
// jsonrpc2.Conn reading through engine (engine.go).
type conn struct {
	s     *Server
	t     transport
	log   *slog.Logger
	lanes *lanes

	ctx    context.Context // the handlers' context (connOf finds c in it); set by start
	rpc    *jsonrpc2.Conn  // reads, dispatches, tracks our calls; set by start
	engine *engine
	sendMu sync.Mutex // one dispatch at a time: guards engine.next

	initialized atomic.Bool
	// optOut holds the notification methods this client opted out of; set
	// once by initialize, read by notify.
	optOut atomic.Pointer[map[string]bool]

	callMu   sync.Mutex     // guards calls, gone
	calls    map[*Call]bool // calls sent to this client and not settled
	gone     bool           // the connection ended: no new calls
	awaiting sync.WaitGroup // one goroutine per call sent, until its answer or the end
}

func newConn(s *Server, t transport) *conn {
	return &conn{s: s, t: t, log: s.log, lanes: newLanes(s.opts.QueueLimit), calls: make(map[*Call]bool)}
}

// start runs the connection's JSON-RPC engine until the transport fails or
// ctx is done. Handlers that run inline run on its read goroutine. The
// returned channel is closed when reading has ended.
func (c *conn) start(ctx context.Context) <-chan struct{} {
	c.ctx = withConn(ctx, c)
	c.engine = &engine{c: c, started: make(chan struct{}), readEnd: make(chan struct{})}
	c.rpc = jsonrpc2.NewConn(ctx, c.engine, c.engine, jsonrpc2.SetLogger(libLogger{c.log}))
	close(c.engine.started)
	return c.engine.readEnd
}

// rejectTooLong logs an over-long message and, when the id of a request can
// be found in its beginning, answers it with -32600.
func (c *conn) rejectTooLong(e *tooLongError) {
	c.log.Warn("rpc: skipped input message", "reason", "longer than the line cap", "maxBytes", e.limit, "excerpt", excerpt(e.prefix))
	if id, isResponse := prefixID(e.prefix); id != nil && !isResponse {
		c.writeError(id, &protocol.Error{Code: protocol.CodeInvalidRequest, Message: msgLineTooLong}, true)
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
		c.writeError(req.id, protocol.Errorf(protocol.ErrInvalidRequest, "Not initialized"), true)
		return
	}
	m, known := protocol.LookupMethod(req.method)
	handler, served := c.s.handlers[req.method]
	if !known || !served {
		c.writeError(req.id, protocol.Errorf(protocol.ErrMethodNotFound, "Method not found: %s", req.method), true)
		return
	}
	key := laneKey(m, req.id, req.params)
	if c.s.inline[req.method] && c.lanes.idle(key) {
		c.run(ctx, req, handler, true)
		return
	}
	// The message's raw members alias the read buffer: copy them for the lane.
	r := &message{id: bytes.Clone(req.id), method: req.method, params: bytes.Clone(req.params)}
	if !c.lanes.add(key, func() { c.run(ctx, r, handler, false) }) {
		c.writeError(req.id, protocol.ErrServerOverloaded, true)
	}
}

// initialize answers the handshake on the read loop: it is cheap and must
// happen before anything else.
func (c *conn) initialize(req *message) {
	if c.initialized.Load() {
		c.writeError(req.id, protocol.Errorf(protocol.ErrInvalidRequest, "Already initialized"), true)
		return
	}
	var p protocol.InitializeParams
	if err := protocol.DecodeParams(req.params, &p); err != nil {
		c.writeError(req.id, protocol.Errorf(protocol.ErrInvalidParams, "Invalid params: %v", err), true)
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
	}, true)
}

func platformFamily() string {
	if runtime.GOOS == "windows" {
		return "windows"
	}
	return "unix"
}

// run handles one request. A panic in the handler is logged with its stack
// and answered -32603; the server goes on. onReader says that it runs on the
// connection's read loop (an inline method).
func (c *conn) run(ctx context.Context, req *message, h Handler, onReader bool) {
	defer func() {
		if v := recover(); v != nil {
			c.log.Error("handler panicked", "method", req.method, "panic", v, "stack", string(debug.Stack()))
			c.writeError(req.id, protocol.Errorf(protocol.ErrInternal, "Internal error: handler for %s failed", req.method), onReader)
		}
	}()
	result, err := h(ctx, req.params)
	if err != nil {
		var perr *protocol.Error
		if !errors.As(err, &perr) {
			c.log.Error("handler failed", "method", req.method, "err", err)
			perr = protocol.Errorf(protocol.ErrInternal, "Internal error: %v", err)
		}
		c.writeError(req.id, perr, onReader)
		return
	}
	var then func()
	if ar, ok := result.(afterReply); ok {
		result, then = ar.result, ar.then
	}
	c.writeResult(req.id, result, onReader)
	if then != nil {
		then()
	}
}

// writeResult answers a request. A result that cannot be encoded is
// answered -32603 instead of leaving the client waiting. onReader says that
// the caller is the connection's read loop (see readerWriter).
func (c *conn) writeResult(id json.RawMessage, result any, onReader bool) {
	b, err := marshal(result)
	if err != nil {
		c.log.Error("result not encodable", "err", err)
		c.writeError(id, protocol.Errorf(protocol.ErrInternal, "Internal error: result not encodable: %v", err), onReader)
		return
	}
	c.answer(appendResult(make([]byte, 0, len(id)+len(b)+16), id, b), onReader)
}

// writeError answers a request with an error; a nil id is written as null.
func (c *conn) writeError(id json.RawMessage, e *protocol.Error, onReader bool) {
	c.answer(appendError(nil, id, e), onReader)
}

// answer writes a response; from the read loop, through the transport's
// faster way when it has one.
func (c *conn) answer(msg []byte, onReader bool) {
	if rw, ok := c.t.(readerWriter); ok && onReader {
		if err := rw.WriteFromReader(msg); err != nil {
			c.logWriteError(err)
		}
		return
	}
	c.write(msg)
}

// notify sends a notification unless the client opted out of its method.
func (c *conn) notify(method string, params json.RawMessage, emittedAtMs int64) error {
	if opt := c.optOut.Load(); opt != nil && (*opt)[method] {
		return nil
	}
	return c.write(appendNotification(make([]byte, 0, len(method)+len(params)+48), emittedAtMs, method, params))
}

// write writes one message.
func (c *conn) write(msg []byte) error {
	if err := c.t.WriteMessage(msg); err != nil {
		c.logWriteError(err)
		return ErrDisconnected
	}
	return nil
}

func (c *conn) logWriteError(err error) {
	level := slog.LevelDebug
	if errors.Is(err, errSlowClient) {
		level = slog.LevelWarn
	}
	c.log.Log(context.Background(), level, "message not sent", "err", err)
}

// request sends call to this client and registers it to receive the
// answer.
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
	if c.calls[call] {
		c.callMu.Unlock()
		return nil // sent already: a replay raced the first send
	}
	c.calls[call] = true
	c.awaiting.Add(1)
	c.callMu.Unlock()
	w, err := c.dispatch(call.id, method, params)
	if err != nil {
		c.awaiting.Done()
		c.logWriteError(err)
		c.forget(call)
		call.leave(c)
		return ErrDisconnected
	}
	go c.await(call, w)
	return nil
}

// dispatch has the library send a call with our id; the line it writes is
// prepared here, in our envelope (see engine).
func (c *conn) dispatch(id int64, method string, params json.RawMessage) (jsonrpc2.Waiter, error) {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	c.engine.next = appendRequest(nil, id, method, params)
	defer func() { c.engine.next = nil }()
	return c.rpc.DispatchCall(c.ctx, method, nil, jsonrpc2.PickID(libID(id)))
}

// await waits for this client's answer to call and settles the call with
// it, unless another answer came first or this client no longer counts
// (it unsubscribed). When the connection ends first, end lets the call go.
func (c *conn) await(call *Call, w jsonrpc2.Waiter) {
	defer c.awaiting.Done()
	var result json.RawMessage
	err := w.Wait(context.Background(), &result)
	var perr *protocol.Error
	var lerr *jsonrpc2.Error
	switch {
	case errors.Is(err, jsonrpc2.ErrClosed):
		return
	case errors.As(err, &lerr):
		perr = fromLibError(lerr)
	case err != nil:
		c.log.Warn("ignoring a response that does not decode", "id", call.id, "err", err)
		return
	}
	if !call.answer(c, result, perr) {
		c.log.Warn("ignoring a response to an answered request", "id", call.id)
	}
}

func (c *conn) forget(call *Call) {
	c.callMu.Lock()
	delete(c.calls, call)
	c.callMu.Unlock()
}

// end marks the connection gone and stops its engine: calls waiting only
// on it fail with ErrDisconnected.
func (c *conn) end() {
	c.callMu.Lock()
	c.gone = true
	calls := c.calls
	c.calls = nil
	c.callMu.Unlock()
	c.rpc.Close() // its pending calls end: the await goroutines return
	c.awaiting.Wait()
	for call := range calls {
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
