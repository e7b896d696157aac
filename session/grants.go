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
	scope, ok := wireScopes.enum(p.Scope)
	if !ok {
		return nil, invalidParams("unknown grant scope %q (want session or persistent)", p.Scope)
	}
	f := netapproval.RevokeFilter{Host: p.Host, Scope: scope}
	if p.Protocol != nil {
		if f.Protocol, ok = wireProtocols.enum(*p.Protocol); !ok {
			return nil, invalidParams("unknown network protocol %q", *p.Protocol)
		}
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
