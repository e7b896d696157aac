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
	// once, both listeners together, once they have waited admissionGrace.
	// Past it, the oldest is closed: a command's connection shows its
	// credential within milliseconds, so a flood evicts its own
	// connections, not the commands'.
	maxUnauthenticated = 128
	// admissionGrace is how long a new connection may wait for its head to
	// be read before it counts against maxUnauthenticated: a command that
	// opens hundreds of connections at once (a parallel download, a load
	// test) must not see its own burst evicted before the proxy has read
	// the credentials. Within the grace the bound is the ceiling.
	admissionGrace = time.Second
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
	// grace is admissionGrace (tests shorten it).
	grace time.Duration
	// ceiling bounds the connections held within the grace: a quarter of
	// the descriptors the process may open (never below
	// maxUnauthenticated), so a flood inside one grace period still leaves
	// the server three quarters of them for its own work.
	ceiling int
}

// newAdmission sizes the admission bounds for a process that may open
// nofile descriptors.
func newAdmission(nofile uint64) *admission {
	return &admission{grace: admissionGrace, ceiling: max(maxUnauthenticated, int(min(nofile/4, 1<<20)))}
}

// admitted is one connection's place in the admission list.
type admitted struct {
	adm  *admission
	conn net.Conn
	at   time.Time
	elem *list.Element // nil once released
}

// admit registers a new connection. Past maxUnauthenticated it closes the
// oldest unauthenticated one if that one has waited the grace period, and
// past the ceiling in any case.
func (ad *admission) admit(c net.Conn) *admitted {
	now := time.Now()
	a := &admitted{adm: ad, conn: c, at: now}
	var evict net.Conn
	ad.mu.Lock()
	if n := ad.order.Len(); n >= maxUnauthenticated {
		oldest := ad.order.Front().Value.(*admitted)
		if n >= ad.ceiling || now.Sub(oldest.at) >= ad.grace {
			ad.order.Remove(oldest.elem)
			oldest.elem = nil
			evict = oldest.conn
		}
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
