package session

import (
	"testing"

	"app-server/netapproval"
	"app-server/protocol"
)

// Every wire value has exactly one netapproval partner and back, so a value
// added on one side without the other fails here, not on the wire.
func TestNetworkWireTablesAreComplete(t *testing.T) {
	checkTable(t, "protocol", wireProtocols, protocol.NetworkApprovalProtocol("").EnumValues(),
		[]netapproval.Protocol{netapproval.ProtocolHTTP, netapproval.ProtocolHTTPS, netapproval.ProtocolSOCKS5TCP, netapproval.ProtocolSOCKS5UDP})
	checkTable(t, "action", wireActions, protocol.NetworkPolicyRuleAction("").EnumValues(),
		[]netapproval.Action{netapproval.ActionAllow, netapproval.ActionDeny})
	checkTable(t, "scope", wireScopes, protocol.GrantScope("").EnumValues(),
		[]netapproval.Scope{netapproval.ScopeSession, netapproval.ScopePersistent})
}

func checkTable[I interface {
	comparable
	String() string
}, W ~string](t *testing.T, name string, tab enumTable[I, W], wire []string, internal []I) {
	t.Helper()
	if len(tab.toWire) != len(wire) || len(tab.toWire) != len(internal) {
		t.Errorf("%s: %d pairs for %d wire values and %d internal values", name, len(tab.toWire), len(wire), len(internal))
	}
	for _, w := range wire {
		v, ok := tab.enum(W(w))
		if !ok {
			t.Errorf("%s: wire value %q has no partner", name, w)
			continue
		}
		if back, _ := tab.wire(v); string(back) != w {
			t.Errorf("%s: %q -> %v -> %q", name, w, v, back)
		}
		// The spellings agree too (the proxy's 403 body and logs use them).
		if v.String() != w {
			t.Errorf("%s: %v spelled %q, wire %q", name, v, v.String(), w)
		}
	}
	for _, v := range internal {
		if _, ok := tab.wire(v); !ok {
			t.Errorf("%s: %v has no wire value", name, v)
		}
	}
}
