package netapproval

import (
	"container/list"
	"net"
	"sync"
	"time"
)

// Bounds on connections that have not shown a credential yet. Any local
// user can connect to the proxy; without these, one could hold thousands
// of idle connections and leave the server without file descriptors for
// its own work (rollouts, command pipes).
const (
	// maxUnauthenticated is how many such connections the proxy holds at
	// once, both listeners together. Past it, the oldest is closed: a
	// command's connection shows its credential within milliseconds, so a
	// flood evicts its own connections, not the commands'.
	maxUnauthenticated = 128
	// headTimeout bounds reading a request head, or the SOCKS5 negotiation,
	// on a connection that has not authenticated yet.
	headTimeout = 10 * time.Second
	// idleTimeout closes a kept-alive HTTP proxy connection that sends no
	// next request.
	idleTimeout = 60 * time.Second
)

// admission tracks the unauthenticated connections, oldest first.
type admission struct {
	mu    sync.Mutex
	order list.List // of *admitted
}

// admitted is one connection's place in the admission list.
type admitted struct {
	adm  *admission
	conn net.Conn
	elem *list.Element // nil once released
}

// admit registers a new connection, closing the oldest unauthenticated one
// when the list is full.
func (ad *admission) admit(c net.Conn) *admitted {
	a := &admitted{adm: ad, conn: c}
	var evict net.Conn
	ad.mu.Lock()
	if ad.order.Len() >= maxUnauthenticated {
		oldest := ad.order.Remove(ad.order.Front()).(*admitted)
		oldest.elem = nil
		evict = oldest.conn
	}
	a.elem = ad.order.PushBack(a)
	ad.mu.Unlock()
	if evict != nil {
		evict.Close() // its handler sees the error and ends
	}
	return a
}

// release takes the connection off the list: it authenticated, or it ended.
// Idempotent; nil-safe.
func (a *admitted) release() {
	if a == nil {
		return
	}
	a.adm.mu.Lock()
	if a.elem != nil {
		a.adm.order.Remove(a.elem)
		a.elem = nil
	}
	a.adm.mu.Unlock()
}
