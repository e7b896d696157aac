package termclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"sync"

	"github.com/sourcegraph/jsonrpc2"

	"app-server/protocol"
)

// message is a notification or a server-to-client request, as the session
// loop handles it.
type message struct {
	ID     json.RawMessage // the request id; nil for a notification
	Method string
	Params json.RawMessage
}

// isRequest reports whether m is a server-to-client request (it must be
// answered with reply).
func (m *message) isRequest() bool { return len(m.ID) > 0 }

// errServerGone is returned by call when the server's output ended.
var errServerGone = errors.New("the server exited")

// conn is the client end of the JSON-RPC connection to the child server:
// a jsonrpc2.Conn, which tracks our calls, over the child's stdin and
// stdout.
//
// The library's read loop hands notifications and server requests to
// Handle, which appends them to an unbounded inbox and returns, so that a
// caller blocked in call never stops the reader. call, notify and reply may
// be used from any goroutine.
type conn struct {
	rpc *jsonrpc2.Conn

	mu    sync.Mutex // guards inbox
	inbox []*message

	// ready gets a token (1-buffered) when inbox may be non-empty.
	ready chan struct{}
	// done is closed when the server's output ends.
	done <-chan struct{}
}

// pipes is the child's stdout and stdin as one stream. Closing it closes
// stdin (the server stops at the end of its input).
type pipes struct {
	io.Reader
	io.WriteCloser
}

func newConn(w io.WriteCloser, r io.Reader) *conn {
	c := &conn{ready: make(chan struct{}, 1)}
	// The library writes one JSON object per line (json.Encoder), as the
	// server reads; it adds "jsonrpc":"2.0", which the server accepts.
	// Its log (unanswered responses) would land on the user's terminal.
	c.rpc = jsonrpc2.NewConn(context.Background(), jsonrpc2.NewPlainObjectStream(pipes{r, w}),
		c,
		jsonrpc2.SetLogger(log.New(io.Discard, "", 0)))
	c.done = c.rpc.DisconnectNotify()
	return c
}

// Handle implements jsonrpc2.Handler. It runs on the library's read loop:
// it queues the message for the session loop and returns at once (the loop
// replies to requests later).
func (c *conn) Handle(_ context.Context, _ *jsonrpc2.Conn, req *jsonrpc2.Request) {
	m := &message{Method: req.Method}
	if req.Params != nil {
		m.Params = *req.Params
	}
	if !req.Notif {
		id, err := json.Marshal(req.ID)
		if err != nil {
			return // an ID always marshals
		}
		m.ID = id
	}
	c.mu.Lock()
	c.inbox = append(c.inbox, m)
	c.mu.Unlock()
	select {
	case c.ready <- struct{}{}:
	default:
	}
}

// take returns and clears the inbox, oldest first.
func (c *conn) take() []*message {
	c.mu.Lock()
	defer c.mu.Unlock()
	in := c.inbox
	c.inbox = nil
	return in
}

// call sends a request and waits for its response, decoding the result
// into result (unless nil). A JSON-RPC error reply is returned as a
// *protocol.Error.
func (c *conn) call(ctx context.Context, method string, params, result any) error {
	if result == nil {
		result = &json.RawMessage{}
	}
	err := c.rpc.Call(ctx, method, params, result)
	var rpcErr *jsonrpc2.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &rpcErr):
		e := &protocol.Error{Code: protocol.ErrorCode(rpcErr.Code), Message: rpcErr.Message}
		if rpcErr.Data != nil {
			e.Data = *rpcErr.Data
		}
		return e
	case errors.Is(err, jsonrpc2.ErrClosed):
		return errServerGone
	case ctx.Err() != nil:
		return ctx.Err()
	}
	return fmt.Errorf("%s: %w", method, err)
}

// notify sends a notification.
func (c *conn) notify(method string, params any) error {
	return c.rpc.Notify(context.Background(), method, params)
}

// reply answers a server request.
func (c *conn) reply(id json.RawMessage, result any) error {
	var rid jsonrpc2.ID
	if err := json.Unmarshal(id, &rid); err != nil {
		return err
	}
	return c.rpc.Reply(context.Background(), rid, result)
}

// replyError answers a server request with a JSON-RPC error.
func (c *conn) replyError(id json.RawMessage, e *protocol.Error) error {
	var rid jsonrpc2.ID
	if err := json.Unmarshal(id, &rid); err != nil {
		return err
	}
	re := &jsonrpc2.Error{Code: int64(e.Code), Message: e.Message}
	if len(e.Data) > 0 {
		re.Data = &e.Data
	}
	return c.rpc.ReplyWithError(context.Background(), rid, re)
}
