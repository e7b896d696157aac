package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"sync"

	"app-server/protocol"
)

// ErrDisconnected is returned by calls that need the client after it is gone.
var ErrDisconnected = errors.New("rpc: client disconnected")

// Call is a server-to-client request in flight. It is sent to one
// connection, or on a WebSocket server to every connection subscribed to its
// thread; the first answer settles it and later ones are ignored.
type Call struct {
	id       int64
	done     chan struct{} // closed by settle
	onSettle func()        // set before the call is sent; run once settled

	mu      sync.Mutex
	conns   map[*conn]bool // connections it was sent to and that may still answer
	settled bool
	result  json.RawMessage
	err     error // a *protocol.Error from the client, or ErrDisconnected
}

func newCall(id int64) *Call {
	return &Call{id: id, done: make(chan struct{}), conns: make(map[*conn]bool)}
}

// ID is the request's id on the wire.
func (c *Call) ID() protocol.RequestID { return protocol.IntID(c.id) }

// Wait blocks until a client answers, ctx is done, or every connection it
// was sent to has gone. A client error reply is returned as a
// *protocol.Error; no connection left as ErrDisconnected. An answer arriving
// after Wait gave up is dropped.
func (c *Call) Wait(ctx context.Context, result any) error {
	select {
	case <-ctx.Done():
		// Nobody waits any more: the prompt is over, later answers are
		// ignored and a late subscriber does not see it.
		c.settle(nil, nil, ctx.Err())
		<-c.done
	case <-c.done:
	}
	if c.err != nil || result == nil {
		return c.err
	}
	raw := c.result
	if len(raw) == 0 {
		raw = json.RawMessage("null")
	}
	return json.Unmarshal(raw, result)
}

// join records that the call was sent on conn. It reports false once the
// call is settled.
func (c *Call) join(cn *conn) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.settled {
		return false
	}
	c.conns[cn] = true
	return true
}

// settle ends the call with an answer (result or err) once; the connections
// it was sent to forget it, so their later answers are ignored.
func (c *Call) settle(result json.RawMessage, perr *protocol.Error, err error) bool {
	c.mu.Lock()
	if c.settled {
		c.mu.Unlock()
		return false
	}
	c.settled = true
	c.result = result
	switch {
	case perr != nil:
		c.err = perr
	case err != nil:
		c.err = err
	}
	conns := c.conns
	c.conns = nil
	c.mu.Unlock()
	for cn := range conns {
		cn.forget(c)
	}
	close(c.done)
	if c.onSettle != nil {
		c.onSettle()
	}
	return true
}

// answer settles the call with cn's answer, unless cn no longer counts (it
// left) or the call is settled already; it reports whether it did.
func (c *Call) answer(cn *conn, result json.RawMessage, perr *protocol.Error) bool {
	c.mu.Lock()
	counts := c.conns[cn]
	c.mu.Unlock()
	return counts && c.settle(result, perr, nil)
}

// leave records that conn is gone; when it was the last one that could
// answer, the call fails with ErrDisconnected.
func (c *Call) leave(cn *conn) {
	c.mu.Lock()
	delete(c.conns, cn)
	last := !c.settled && len(c.conns) == 0
	c.mu.Unlock()
	if last {
		c.settle(nil, nil, ErrDisconnected)
	}
}
