package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sourcegraph/jsonrpc2"

	"app-server/protocol"
)

// Options configure a Server. The zero value of each field has the default
// behaviour documented on it.
type Options struct {
	// Name and Version identify the server in the initialize response's user
	// agent. If empty, "app-server" and "dev" are used.
	Name, Version string
	// Home is reported as codexHome in the initialize response.
	Home string
	// MaxLineBytes caps one input line. If 0, 16 MiB is used.
	MaxLineBytes int
	// QueueLimit bounds the requests queued and not yet handled; beyond it
	// requests are answered -32001. If 0, 1024 is used.
	QueueLimit int
	// Logger receives logs. If nil, logs are discarded.
	Logger *slog.Logger
	// Now returns the current time, for emittedAtMs. If nil, time.Now is used.
	Now func() time.Time
}

// Server serves the protocol on one connection. Register handlers with
// Handle, then call Serve once.
type Server struct {
	opts     Options
	log      *slog.Logger
	handlers map[string]Handler // written before Serve only
	inline   map[string]bool    // cheap methods run on the read loop when their lane is idle; written before Serve only
	lanes    *lanes

	// conn is set by Serve, or by the first message if that comes first:
	// jsonrpc2 starts reading inside NewConn.
	conn        atomic.Pointer[jsonrpc2.Conn]
	initialized atomic.Bool
	// optOut holds the notification methods this client opted out of; set
	// once by initialize, read by Notify.
	optOut atomic.Pointer[map[string]bool]

	callMu sync.Mutex // orders server-to-client request ids with jsonrpc2's own sequence
	nextID int64      // guarded by callMu

	onInit       func(protocol.InitializeParams) // optional hook, set before Serve
	onDisconnect func()                          // optional hook, set before Serve
	finishOnce   sync.Once                       // runs finish once: at input end or when Serve stops

	outErr writeErrRecorder // the first error writing to the client
}

// NewServer returns a server with no handlers.
func NewServer(opts Options) *Server {
	if opts.Name == "" {
		opts.Name = "app-server"
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	if opts.QueueLimit == 0 {
		opts.QueueLimit = 1024
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{opts: opts, log: log, handlers: make(map[string]Handler), inline: make(map[string]bool), lanes: newLanes(opts.QueueLimit)}
}

// Register sets h as the handler of a client request method of the protocol
// table. It must be called before Serve; it panics on a method the table does
// not list as a client request, so a typo cannot go unnoticed.
func (s *Server) Register(method string, h Handler) {
	m, ok := protocol.LookupMethod(method)
	if !ok || m.Direction != protocol.ClientRequest || method == protocol.MethodInitialize {
		panic(fmt.Sprintf("rpc: %q is not a client request method that handlers serve", method))
	}
	s.handlers[method] = h
}

// RegisterInline is Register for a handler that is cheap: it neither blocks
// nor does I/O (an in-memory lookup). When its lane is idle it runs on the
// read loop, saving the hand-off to a lane goroutine, which is most of a
// round trip's cost; order is kept because nothing else can be queued for
// the lane while the read loop is busy with it.
func (s *Server) RegisterInline(method string, h Handler) {
	s.Register(method, h)
	s.inline[method] = true
}

// OnInitialize sets a function called once the client has initialized, with
// its params, before the response is written. It must be called before Serve.
func (s *Server) OnInitialize(f func(protocol.InitializeParams)) { s.onInit = f }

// OnDisconnect sets a function called once the connection has ended, before
// Serve waits for the requests still running. It is where work that would
// otherwise keep a request running (a command) is stopped. It must be
// called before Serve.
func (s *Server) OnDisconnect(f func()) { s.onDisconnect = f }

// Serve reads requests from r and writes responses and notifications to w
// until r ends, ctx is cancelled, or writing fails. It blocks; when it
// returns, every queued request has been handled and the connection is
// closed, so pending server-to-client calls have returned. It returns nil
// when the input ended or ctx was cancelled, and the write error when output
// failed.
func (s *Server) Serve(ctx context.Context, r io.Reader, w io.Writer) error {
	s.outErr = writeErrRecorder{w: w, failed: make(chan struct{})}
	stream := NewStream(r, &s.outErr, StreamOptions{MaxLineBytes: s.opts.MaxLineBytes, Logger: s.log})
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	conn := jsonrpc2.NewConn(ctx, drainAtEOF{stream, s.finish}, connHandler{s}, jsonrpc2.SetLogger(slogPrintf{s.log}))
	s.conn.CompareAndSwap(nil, conn)
	select {
	case <-conn.DisconnectNotify():
	case <-ctx.Done():
		conn.Close()
	case <-s.outErr.failed:
		// The client can no longer hear us: stop reading too.
		s.log.Error("writing to the client failed; closing the connection", "err", s.outErr.err())
		conn.Close()
	}
	s.finish()
	return s.outErr.err()
}

// finish ends the work of the connection once: the disconnect hook stops
// long work (turns, commands), then the requests already queued are
// handled, so each gets its answer while the output is still open.
func (s *Server) finish() {
	s.finishOnce.Do(func() {
		if s.onDisconnect != nil {
			s.onDisconnect()
		}
		s.lanes.wait()
	})
}

// drainAtEOF is the connection's stream: when input ends it finishes the
// connection's work before reporting the end, because jsonrpc2 closes the
// connection (and refuses replies) as soon as a read fails.
type drainAtEOF struct {
	*Stream
	atEnd func()
}

func (d drainAtEOF) ReadObject(v any) error {
	err := d.Stream.ReadObject(v)
	if err != nil {
		d.atEnd()
	}
	return err
}

// connHandler is the jsonrpc2.Handler of a Server. It runs on the read loop.
type connHandler struct{ s *Server }

func (h connHandler) Handle(ctx context.Context, conn *jsonrpc2.Conn, req *jsonrpc2.Request) {
	s := h.s
	s.conn.CompareAndSwap(nil, conn)
	if req.Notif {
		// initialized needs no action: requests are accepted from the
		// initialize response on. Unknown notifications are ignored.
		if req.Method != protocol.MethodInitialized {
			s.log.Debug("ignoring notification", "method", req.Method)
		}
		return
	}
	if req.Method == protocol.MethodInitialize {
		s.initialize(ctx, req)
		return
	}
	if !s.initialized.Load() {
		s.replyError(ctx, req.ID, protocol.Errorf(protocol.ErrInvalidRequest, "Not initialized"))
		return
	}
	m, known := protocol.LookupMethod(req.Method)
	handler, served := s.handlers[req.Method]
	if !known || !served {
		s.replyError(ctx, req.ID, protocol.Errorf(protocol.ErrMethodNotFound, "Method not found: %s", req.Method))
		return
	}
	params := rawParams(req)
	key := laneKey(m, req.ID, params)
	if s.inline[req.Method] && s.lanes.idle(key) {
		s.run(ctx, req, handler, params)
		return
	}
	queued := s.lanes.add(key, func() { s.run(ctx, req, handler, params) })
	if !queued {
		s.replyError(ctx, req.ID, protocol.ErrServerOverloaded)
	}
}

// initialize answers the handshake on the read loop: it is cheap and must
// happen before anything else.
func (s *Server) initialize(ctx context.Context, req *jsonrpc2.Request) {
	if s.initialized.Load() {
		s.replyError(ctx, req.ID, protocol.Errorf(protocol.ErrInvalidRequest, "Already initialized"))
		return
	}
	var p protocol.InitializeParams
	if err := protocol.DecodeParams(rawParams(req), &p); err != nil {
		s.replyError(ctx, req.ID, protocol.Errorf(protocol.ErrInvalidParams, "Invalid params: %v", err))
		return
	}
	optOut := make(map[string]bool)
	if p.Capabilities != nil {
		for _, m := range p.Capabilities.OptOutNotificationMethods {
			optOut[m] = true
		}
	}
	s.optOut.Store(&optOut)
	if s.onInit != nil {
		s.onInit(p)
	}
	s.initialized.Store(true)
	s.reply(ctx, req.ID, protocol.InitializeResponse{
		UserAgent:      fmt.Sprintf("%s/%s (%s; %s) %s/%s", s.opts.Name, s.opts.Version, runtime.GOOS, runtime.GOARCH, p.ClientInfo.Name, p.ClientInfo.Version),
		CodexHome:      s.opts.Home,
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

// run handles one queued request on its lane. A panic in the handler is
// logged with its stack and answered -32603; the server goes on.
func (s *Server) run(ctx context.Context, req *jsonrpc2.Request, h Handler, params json.RawMessage) {
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("handler panicked", "method", req.Method, "panic", v, "stack", string(debug.Stack()))
			s.replyError(ctx, req.ID, protocol.Errorf(protocol.ErrInternal, "Internal error: handler for %s failed", req.Method))
		}
	}()
	result, err := h(ctx, params)
	if err != nil {
		var perr *protocol.Error
		if !errors.As(err, &perr) {
			s.log.Error("handler failed", "method", req.Method, "err", err)
			perr = protocol.Errorf(protocol.ErrInternal, "Internal error: %v", err)
		}
		s.replyError(ctx, req.ID, perr)
		return
	}
	var then func()
	if ar, ok := result.(afterReply); ok {
		result, then = ar.result, ar.then
	}
	// Encode here, not in the connection, so that a result that cannot be
	// encoded is answered -32603 instead of leaving the client waiting.
	b, err := json.Marshal(result)
	if err != nil {
		s.log.Error("result not encodable", "method", req.Method, "err", err)
		s.replyError(ctx, req.ID, protocol.Errorf(protocol.ErrInternal, "Internal error: result of %s: %v", req.Method, err))
		return
	}
	s.reply(ctx, req.ID, json.RawMessage(b))
	if then != nil {
		then()
	}
}

func (s *Server) reply(ctx context.Context, id jsonrpc2.ID, result any) {
	if err := s.conn.Load().Reply(ctx, id, result); err != nil {
		s.log.Debug("reply not sent", "id", id.String(), "err", err)
	}
}

func (s *Server) replyError(ctx context.Context, id jsonrpc2.ID, e *protocol.Error) {
	if err := s.conn.Load().ReplyWithError(ctx, id, &jsonrpc2.Error{Code: int64(e.Code), Message: e.Message}); err != nil {
		s.log.Debug("error reply not sent", "id", id.String(), "err", err)
	}
}

func rawParams(req *jsonrpc2.Request) json.RawMessage {
	if req.Params == nil {
		return nil
	}
	return *req.Params
}

// laneKey orders thread-scoped requests per thread and gives request-scoped
// ones a lane of their own; everything else shares the connection lane. A
// thread-scoped request whose params do not name a thread goes to the
// connection lane and fails validation there.
func laneKey(m *protocol.Method, id jsonrpc2.ID, params json.RawMessage) string {
	if m.Scope == protocol.ScopeRequest {
		return "request:" + id.String()
	}
	if m.Scope != protocol.ScopeThread || len(params) == 0 {
		return ""
	}
	var p struct {
		ThreadID string `json:"threadId"`
	}
	if json.Unmarshal(params, &p) != nil || p.ThreadID == "" {
		return ""
	}
	return "thread:" + p.ThreadID
}

// Notify sends a notification unless the client opted out of its method. It
// adds emittedAtMs, as the reference server does. It blocks while the client
// is not reading (the output pipe is full).
func (s *Server) Notify(method string, params any) error {
	if opt := s.optOut.Load(); opt != nil && (*opt)[method] {
		return nil
	}
	conn := s.conn.Load()
	if conn == nil {
		return ErrDisconnected
	}
	return conn.Notify(context.Background(), method, params,
		jsonrpc2.ExtraField("emittedAtMs", s.opts.Now().UnixMilli()))
}

// ErrDisconnected is returned by calls that need the client after it is gone.
var ErrDisconnected = errors.New("rpc: client disconnected")

// Call is a server-to-client request in flight.
type Call struct {
	id     protocol.RequestID
	waiter jsonrpc2.Waiter
}

// ID is the request's id on the wire.
func (c *Call) ID() protocol.RequestID { return c.id }

// Wait blocks until the client answers, ctx is done, or the connection
// closes. A client error reply is returned as a *protocol.Error; a closed
// connection as ErrDisconnected. An answer arriving after Wait gave up is
// logged and dropped by the connection.
func (c *Call) Wait(ctx context.Context, result any) error {
	err := c.waiter.Wait(ctx, result)
	var rpcErr *jsonrpc2.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &rpcErr):
		return &protocol.Error{Code: protocol.ErrorCode(rpcErr.Code), Message: rpcErr.Message}
	case errors.Is(err, jsonrpc2.ErrClosed):
		return ErrDisconnected
	}
	return err
}

// Request sends a server-to-client request and returns at once; Wait for
// the answer on the returned Call. Ids are integers from 0 per connection.
func (s *Server) Request(method string, params any) (*Call, error) {
	conn := s.conn.Load()
	if conn == nil {
		return nil, ErrDisconnected
	}
	s.callMu.Lock()
	defer s.callMu.Unlock()
	id := s.nextID
	// jsonrpc2 replaces an id of 0 with its own sequence number, which is
	// also 0 for the first call, so ids stay ours.
	w, err := conn.DispatchCall(context.Background(), method, params, jsonrpc2.PickID(jsonrpc2.ID{Num: uint64(id)}))
	if err != nil {
		if errors.Is(err, jsonrpc2.ErrClosed) {
			return nil, ErrDisconnected
		}
		return nil, err
	}
	s.nextID++
	return &Call{id: protocol.IntID(id), waiter: w}, nil
}

// slogPrintf adapts slog to jsonrpc2's Printf logger.
type slogPrintf struct{ log *slog.Logger }

func (l slogPrintf) Printf(format string, v ...any) {
	l.log.Warn(strings.TrimSpace(fmt.Sprintf(format, v...)))
}

// writeErrRecorder remembers the first error writing to the client, so Serve
// can report a broken output pipe.
type writeErrRecorder struct {
	w      io.Writer
	failed chan struct{} // closed on the first error
	mu     sync.Mutex
	first  error // guarded by mu
}

func (r *writeErrRecorder) Write(b []byte) (int, error) {
	n, err := r.w.Write(b)
	if err != nil {
		r.mu.Lock()
		if r.first == nil {
			r.first = err
			close(r.failed)
		}
		r.mu.Unlock()
	}
	return n, err
}

func (r *writeErrRecorder) err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.first
}
