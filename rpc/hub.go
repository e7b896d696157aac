package rpc

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"sync"

	"app-server/protocol"
)

// hub is what the connections of a Server share: which connection is
// subscribed to which thread, and the server-to-client calls still open, so
// that every subscriber sees a thread's events and prompts.
//
// On stdio there is one connection; it subscribes to the threads it starts
// or resumes, which are all the threads it can act on, so it sees what it
// always saw.
type hub struct {
	mu     sync.Mutex
	conns  map[*conn]bool            // every connection, initialized or not
	subs   map[string]map[*conn]bool // thread id -> subscribed connections
	open   map[string][]*openCall    // thread id -> calls not answered yet, in order
	nextID int64                     // server-wide id of the next call
}

// openCall is a call kept for a subscriber who arrives while it is open.
type openCall struct {
	call   *Call
	method string
	params json.RawMessage
}

func newHub() *hub {
	return &hub{conns: make(map[*conn]bool), subs: make(map[string]map[*conn]bool), open: make(map[string][]*openCall)}
}

func (h *hub) add(c *conn) {
	h.mu.Lock()
	h.conns[c] = true
	h.mu.Unlock()
}

// remove drops a connection that has ended, with all its subscriptions.
func (h *hub) remove(c *conn) {
	h.mu.Lock()
	delete(h.conns, c)
	var threads []string
	for id, subs := range h.subs {
		if subs[c] {
			threads = append(threads, id)
		}
	}
	h.mu.Unlock()
	for _, id := range threads {
		h.unsubscribe(c, id)
	}
}

// subscribe makes c a subscriber of thread id. It returns the calls open
// on the thread, which the caller replays to c once c has its response.
func (h *hub) subscribe(c *conn, id string) []*openCall {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.conns[c] {
		return nil // the connection has ended
	}
	if h.subs[id] == nil {
		h.subs[id] = make(map[*conn]bool)
	}
	h.subs[id][c] = true
	return slices.Clone(h.open[id])
}

// unsubscribe ends c's subscription to thread id and reports whether it had
// one. The thread's open calls stop counting on c: when c was the last
// subscriber they fail as a disconnect does.
func (h *hub) unsubscribe(c *conn, id string) bool {
	h.mu.Lock()
	had := h.subs[id][c]
	delete(h.subs[id], c)
	if len(h.subs[id]) == 0 {
		delete(h.subs, id)
	}
	open := slices.Clone(h.open[id])
	h.mu.Unlock()
	if had {
		for _, oc := range open {
			c.forget(oc.call)
			oc.call.leave(c)
		}
	}
	return had
}

// broadcastMethods go to every initialized connection, whatever its
// subscriptions: they tell about the set of threads, not about one.
var broadcastMethods = map[string]bool{
	protocol.MethodThreadStarted:       true,
	protocol.MethodThreadStatusChanged: true,
	protocol.MethodThreadArchived:      true,
	protocol.MethodThreadUnarchived:    true,
}

// targets returns the initialized connections a message about thread id
// goes to: its subscribers, or everyone when id is empty or broadcast is set.
func (h *hub) targets(id string, broadcast bool) []*conn {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []*conn
	if broadcast || id == "" {
		for c := range h.conns {
			if c.initialized.Load() {
				out = append(out, c)
			}
		}
		return out
	}
	for c := range h.subs[id] {
		if c.initialized.Load() {
			out = append(out, c)
		}
	}
	return out
}

// request sends a server-to-client request about thread id to every
// subscriber, with one server-wide id; the first answer settles it.
func (h *hub) request(id, method string, params json.RawMessage) (*Call, error) {
	h.mu.Lock()
	call := newCall(h.nextID)
	h.nextID++
	oc := &openCall{call: call, method: method, params: params}
	h.open[id] = append(h.open[id], oc)
	h.mu.Unlock()
	call.onSettle = func() { // no replay once settled
		h.mu.Lock()
		defer h.mu.Unlock()
		h.open[id] = slices.DeleteFunc(h.open[id], func(o *openCall) bool { return o == oc })
		if len(h.open[id]) == 0 {
			delete(h.open, id)
		}
	}
	targets := h.targets(id, false)
	if len(targets) == 0 {
		call.settle(nil, nil, ErrDisconnected)
		return nil, ErrDisconnected
	}
	sent := false
	for _, c := range targets {
		if c.request(call, method, params) == nil {
			sent = true
		}
	}
	if !sent {
		return nil, ErrDisconnected
	}
	return call, nil
}

// replay sends the open calls to a connection that just subscribed.
func (c *conn) replay(calls []*openCall) {
	for _, oc := range calls {
		c.request(oc.call, oc.method, oc.params)
	}
}

// threadOf returns the thread a message's params are about: their ThreadID
// field (a string or a *string), or "" when they have none.
func threadOf(params any) string {
	v := reflect.ValueOf(params)
	if v.Kind() == reflect.Pointer && !v.IsNil() {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return ""
	}
	f := v.FieldByName("ThreadID")
	if f.Kind() == reflect.Pointer && !f.IsNil() {
		f = f.Elem()
	}
	if f.Kind() != reflect.String {
		return ""
	}
	return f.String()
}

// connOf returns the connection a handler's ctx belongs to, or nil.
func connOf(ctx context.Context) *conn {
	c, _ := ctx.Value(connKey{}).(*conn)
	return c
}
