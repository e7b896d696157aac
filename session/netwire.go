package session

import (
	"app-server/netapproval"
	"app-server/protocol"
)

// The network values that cross the wire are defined twice on purpose:
// package protocol owns the wire tags, netapproval (a leaf that imports no
// package of ours) its typed enums. They meet here, at session's edge,
// through one checked table each; never by casting one's spelling into the
// other. TestNetworkWireTablesAreComplete checks every value of both sides
// has exactly one partner.

// enumTable pairs the values of an internal enum I with wire values W.
type enumTable[I, W comparable] struct {
	toWire map[I]W
	toEnum map[W]I
}

func newEnumTable[I, W comparable](pairs map[I]W) enumTable[I, W] {
	t := enumTable[I, W]{toWire: pairs, toEnum: make(map[W]I, len(pairs))}
	for i, w := range pairs {
		if _, dup := t.toEnum[w]; dup {
			panic("session: wire value paired twice")
		}
		t.toEnum[w] = i
	}
	return t
}

// wire returns the wire value of v.
func (t enumTable[I, W]) wire(v I) (W, bool) {
	w, ok := t.toWire[v]
	return w, ok
}

// enum returns the internal value of w.
func (t enumTable[I, W]) enum(w W) (I, bool) {
	v, ok := t.toEnum[w]
	return v, ok
}

var (
	wireProtocols = newEnumTable(map[netapproval.Protocol]protocol.NetworkApprovalProtocol{
		netapproval.ProtocolHTTP:      protocol.NetworkHTTP,
		netapproval.ProtocolHTTPS:     protocol.NetworkHTTPS,
		netapproval.ProtocolSOCKS5TCP: protocol.NetworkSOCKS5TCP,
		netapproval.ProtocolSOCKS5UDP: protocol.NetworkSOCKS5UDP,
	})
	wireActions = newEnumTable(map[netapproval.Action]protocol.NetworkPolicyRuleAction{
		netapproval.ActionAllow: protocol.RuleAllow,
		netapproval.ActionDeny:  protocol.RuleDeny,
	})
	wireScopes = newEnumTable(map[netapproval.Scope]protocol.GrantScope{
		netapproval.ScopeSession:    protocol.ScopeSession,
		netapproval.ScopePersistent: protocol.ScopePersistent,
	})
)
