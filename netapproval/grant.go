package netapproval

import (
	"cmp"
	"errors"
	"slices"
	"time"
)

// Grant is one remembered decision visible to a thread: a session grant
// (the thread's allow or deny cache entry for one Key) or a persisted host
// rule (shared by every thread).
type Grant struct {
	Host string
	// Protocol is the key's protocol for session grants; zero for persisted
	// rules, which cover every protocol.
	Protocol Protocol
	// Port is the key's port for session grants; zero for persisted rules,
	// which cover every port (the wire shows null).
	Port      uint16
	Action    Action
	Scope     Scope
	GrantedAt time.Time // zero for a hand-written rule without added_at
	// Hits counts requests in this thread that the grant decided.
	Hits int64
	// OpenConnections counts live proxied connections in this thread that
	// the grant allowed.
	OpenConnections int
}

// RevokeFilter selects grants to revoke. Host is required (for persisted
// rules it is the rule's pattern as written, e.g. "*.example.com");
// Protocol and Port are optional (zero matches any) and only apply to
// session grants, since persisted rules are host-wide.
type RevokeFilter struct {
	Host     string
	Protocol Protocol
	Port     uint16
	Scope    Scope
}

var errPersistentHostWide = errors.New("netapproval: persisted rules are host-wide; revoke them without a protocol or port")

// grantStats are the per-thread counters of one grant.
type grantStats struct {
	hits int64
}

// ref is the grantRef of a grant, to find its stats and connections.
func (g Grant) ref() grantRef {
	if g.Scope == ScopeSession {
		return grantRef{scope: ScopeSession, key: Key{Host: g.Host, Protocol: g.Protocol, Port: g.Port}, action: g.Action}
	}
	return grantRef{scope: ScopePersistent, host: g.Host, action: g.Action}
}

// sortSessionGrants orders grants by grant time, then key, so listings are
// stable.
func sortSessionGrants(gs []Grant) {
	slices.SortFunc(gs, func(a, b Grant) int {
		return cmp.Or(a.GrantedAt.Compare(b.GrantedAt), cmp.Compare(a.Host, b.Host),
			cmp.Compare(a.Protocol, b.Protocol), cmp.Compare(a.Port, b.Port), cmp.Compare(a.Action, b.Action))
	})
}
