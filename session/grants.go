package session

import (
	"context"

	"app-server/netapproval"
	"app-server/protocol"
)

// ListGrants serves network/grants/list: the thread's session grants and
// the persisted host rules.
func (m *Manager) ListGrants(_ context.Context, p *protocol.NetworkGrantsListParams) (*protocol.NetworkGrantsListResponse, error) {
	t, err := m.loaded(p.ThreadID)
	if err != nil {
		return nil, err
	}
	if t.net == nil {
		return &protocol.NetworkGrantsListResponse{Grants: []protocol.NetworkGrant{}}, nil
	}
	return &protocol.NetworkGrantsListResponse{Grants: wireGrants(t.net.Grants())}, nil
}

// RevokeGrants serves network/grants/revoke: it removes matching grants,
// closes the live connections they allowed and answers with what it removed.
func (m *Manager) RevokeGrants(_ context.Context, p *protocol.NetworkGrantsRevokeParams) (*protocol.NetworkGrantsRevokeResponse, error) {
	t, err := m.loaded(p.ThreadID)
	if err != nil {
		return nil, err
	}
	if t.net == nil {
		return &protocol.NetworkGrantsRevokeResponse{Revoked: []protocol.NetworkGrant{}}, nil
	}
	scope, err := netapproval.ParseScope(string(p.Scope))
	if err != nil {
		return nil, invalidParams("%v", err)
	}
	f := netapproval.RevokeFilter{Host: p.Host, Scope: scope}
	if p.Protocol != nil {
		proto, err := netapproval.ParseProtocol(string(*p.Protocol))
		if err != nil {
			return nil, invalidParams("%v", err)
		}
		f.Protocol = proto
	}
	if p.Port != nil {
		f.Port = *p.Port
	}
	revoked, err := t.net.Revoke(f)
	if err != nil {
		return nil, invalidParams("%v", err)
	}
	return &protocol.NetworkGrantsRevokeResponse{Revoked: wireGrants(revoked)}, nil
}
