package termclient

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"

	"app-server/protocol"
)

// message is one JSON-RPC message in either direction, as on the wire
// (without the "jsonrpc" member, which the server does not need).
type message struct {
	ID     json.RawMessage `json:"id,omitempty"`
	Method string          `json:"method,omitempty"`
	Params json.RawMessage `json:"params,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  *protocol.Error `json:"error,omitempty"`
}

// isRequest reports whether m is a server-to-client request (it must be
// answered with reply).
func (m *message) isRequest() bool { return m.Method != "" && len(m.ID) > 0 }

// errServerGone is returned by call when the server's output ended.
var errServerGone = errors.New("the server exited")

// conn is the client end of the JSON-RPC connection to the child server.
//
// One goroutine (readLoop) reads the server's output: responses go to the
// caller waiting in call; notifications and server requests are appended to
// an unbounded inbox, so that a caller blocked in call never stops the
// reader. call, notify and reply may be used from any goroutine.
type conn struct {
	wmu sync.Mutex // serializes writes to w
	w   io.Writer  // the server's stdin

	mu      sync.Mutex // guards nextID, pending, inbox
	nextID  int64
	pending map[int64]chan *message
	inbox   []*message

	// ready gets a token (1-buffered) when inbox may be non-empty.
	ready chan struct{}
	// done is closed when the server's output ends; readErr says why.
	done    chan struct{}
	readErr error
}

func newConn(w io.Writer, r io.Reader) *conn {
	c := &conn{
		w:       w,
		pending: make(map[int64]chan *message),
		ready:   make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
	go c.readLoop(r)
	return c
}

// readLoop reads JSONL messages until r ends. Lines that are not JSON
// objects are skipped (the server writes protocol only; this is defence).
func (c *conn) readLoop(r io.Reader) {
	br := bufio.NewReaderSize(r, 1<<16)
	var err error
	for {
		var line []byte
		line, err = br.ReadBytes('\n')
		if line = bytes.TrimSpace(line); len(line) > 0 {
			c.dispatch(line)
		}
		if err != nil {
			break
		}
	}
	if err == io.EOF {
		err = nil
	}
	c.mu.Lock()
	c.readErr = err
	c.mu.Unlock()
	close(c.done)
}

func (c *conn) dispatch(line []byte) {
	m := new(message)
	if json.Unmarshal(line, m) != nil {
		return
	}
	if m.Method != "" {
		c.mu.Lock()
		c.inbox = append(c.inbox, m)
		c.mu.Unlock()
		select {
		case c.ready <- struct{}{}:
		default:
		}
		return
	}
	id, err := strconv.ParseInt(string(m.ID), 10, 64)
	if err != nil {
		return // not one of ours: we only send integer ids
	}
	c.mu.Lock()
	ch := c.pending[id]
	delete(c.pending, id)
	c.mu.Unlock()
	if ch != nil {
		ch <- m
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
	ch := make(chan *message, 1)
	c.mu.Lock()
	c.nextID++
	id := c.nextID
	c.pending[id] = ch
	c.mu.Unlock()
	forget := func() {
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
	}
	if err := c.write(map[string]any{"id": id, "method": method, "params": params}); err != nil {
		forget()
		return err
	}
	select {
	case m := <-ch:
		if m.Error != nil {
			return m.Error
		}
		if result != nil {
			if err := json.Unmarshal(m.Result, result); err != nil {
				return fmt.Errorf("%s: decoding the result: %w", method, err)
			}
		}
		return nil
	case <-c.done:
		forget()
		return errServerGone
	case <-ctx.Done():
		forget()
		return ctx.Err()
	}
}

// notify sends a notification.
func (c *conn) notify(method string, params any) error {
	m := map[string]any{"method": method}
	if params != nil {
		m["params"] = params
	}
	return c.write(m)
}

// reply answers a server request.
func (c *conn) reply(id json.RawMessage, result any) error {
	return c.write(map[string]any{"id": id, "result": result})
}

func (c *conn) write(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_, err = c.w.Write(b)
	return err
}

// replyError answers a server request with a JSON-RPC error.
func (c *conn) replyError(id json.RawMessage, e *protocol.Error) error {
	return c.write(map[string]any{"id": id, "error": e})
}
