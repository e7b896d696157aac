package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

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

// Server serves the protocol to its clients: one on stdio (Serve), any
// number on WebSocket (ServeWebSocket), sharing the session through the
// hub. Register handlers first, then call one Serve method once.
type Server struct {
	opts     Options
	log      *slog.Logger
	handlers map[string]Handler // written before Serve only
	inline   map[string]bool    // cheap methods run on the read loop when their lane is idle; written before Serve only

	hub *hub // the connections and what they subscribe to

	onDisconnect func()    // optional hook, set before Serve
	finishOnce   sync.Once // runs finish once: at input end or when Serve stops
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
	return &Server{opts: opts, log: log, handlers: make(map[string]Handler), inline: make(map[string]bool), hub: newHub()}
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
	stream := NewStream(r, w, StreamOptions{MaxLineBytes: s.opts.MaxLineBytes})
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c := newConn(s, stream)
	s.hub.add(c)
	readEnd := c.start(ctx)
	select {
	case <-readEnd:
		// The input ended: finish the work while the output is still open,
		// so queued requests get their answers.
		s.finish(c)
		stream.Close()
	case <-ctx.Done():
		stream.Close()
		s.finish(c)
	case <-stream.writeFailed():
		// The client can no longer hear us: stop reading too.
		s.log.Error("writing to the client failed; closing the connection", "err", stream.writeErr())
		stream.Close()
		s.finish(c)
	}
	if err := stream.writeErr(); err != nil {
		return errors.Unwrap(err)
	}
	return nil
}

// finish ends the work of the connection once: the disconnect hook stops
// long work (turns, commands), then the requests already queued are
// handled, so each gets its answer while the output is still open; last,
// calls still waiting on the client fail with ErrDisconnected.
func (s *Server) finish(c *conn) {
	s.finishOnce.Do(func() {
		if s.onDisconnect != nil {
			s.onDisconnect()
		}
		c.lanes.wait()
		s.hub.remove(c)
		c.end()
	})
}

// laneKey orders thread-scoped requests per thread and gives request-scoped
// ones a lane of their own; everything else shares the connection lane. A
// thread-scoped request whose params do not name a thread goes to the
// connection lane and fails validation there.
func laneKey(m *protocol.Method, id json.RawMessage, params json.RawMessage) string {
	if m.Scope == protocol.ScopeRequest {
		return "request:" + string(id)
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

// Notify sends a notification to the connections it concerns (see hub),
// except those that opted out of its method. It adds emittedAtMs, as the
// reference server does. It blocks while a stdio client is not reading (the
// output pipe is full).
func (s *Server) Notify(method string, params any) error {
	return s.notify(s.hub.targets(threadOf(params), broadcastMethods[method]), method, params)
}

// NotifyContext is Notify for the connection whose request ctx belongs to
// (command/exec output goes to the client that ran the command).
func (s *Server) NotifyContext(ctx context.Context, method string, params any) error {
	c := connOf(ctx)
	if c == nil {
		return s.Notify(method, params)
	}
	return s.notify([]*conn{c}, method, params)
}

func (s *Server) notify(targets []*conn, method string, params any) error {
	if len(targets) == 0 {
		return ErrDisconnected
	}
	b, err := marshal(params)
	if err != nil {
		return err
	}
	now := s.opts.Now().UnixMilli()
	for _, c := range targets {
		err = c.notify(method, b, now)
	}
	return err
}

// Request sends a server-to-client request to the subscribers of the
// thread its params name and returns at once; Wait for the answer on the
// returned Call. Ids are integers from 0, one sequence per server.
func (s *Server) Request(method string, params any) (*Call, error) {
	b, err := marshal(params)
	if err != nil {
		return nil, err
	}
	return s.hub.request(threadOf(params), method, b)
}
