package session

import (
	"context"
	"slices"

	"app-server/protocol"
)

// ReadNetworkSettings serves network/settings/read: the server's network
// configuration, so a client can say what will prompt before anything does.
func (m *Manager) ReadNetworkSettings(context.Context, *protocol.NetworkSettingsReadParams) (*protocol.NetworkSettingsReadResponse, error) {
	s := m.cfg.Network
	s.Enabled = m.net != nil
	s.AllowedDomains = nonNil(slices.Clone(s.AllowedDomains))
	s.DeniedDomains = nonNil(slices.Clone(s.DeniedDomains))
	return &s, nil
}

// nonNil makes a nil list an empty one: the wire has [] for "none".
func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}
