package rpc

import (
	"app-server/protocol"
	"app-server/session"
)

// RegisterSession routes every client request method of the protocol to
// the session manager. In-memory lookups and the interrupt (which only
// cancels) run inline; everything that touches files or processes runs on
// a lane. A test checks that no client request method is left
// without a route.
func (s *Server) RegisterSession(m *session.Manager) {
	s.Register(protocol.MethodThreadStart, TypedThen(m.StartThread))
	s.Register(protocol.MethodThreadResume, Typed(m.ResumeThread))
	s.Register(protocol.MethodThreadRead, Typed(m.ReadThread))
	s.Register(protocol.MethodThreadList, Typed(m.ListThreads))
	s.RegisterInline(protocol.MethodThreadLoadedList, Typed(m.LoadedThreads))
	s.Register(protocol.MethodThreadArchive, Typed(m.ArchiveThread))
	s.Register(protocol.MethodThreadUnarchive, Typed(m.UnarchiveThread))
	s.Register(protocol.MethodTurnStart, TypedThen(m.StartTurn))
	s.RegisterInline(protocol.MethodTurnInterrupt, Typed(m.InterruptTurn))
	s.Register(protocol.MethodCommandExec, Typed(m.ExecCommand))
	s.RegisterInline(protocol.MethodGrantsList, Typed(m.ListGrants))
	s.RegisterInline(protocol.MethodModelList, Typed(m.ListModels))
	s.Register(protocol.MethodGrantsRevoke, Typed(m.RevokeGrants))
	s.RegisterInline(protocol.MethodNetworkSettings, Typed(m.ReadNetworkSettings))
	s.RegisterInline(protocol.MethodCommandRulesList, Typed(m.ListCommandRules))
	s.Register(protocol.MethodCommandRulesRevoke, Typed(m.RevokeCommandRules))
}

// SessionClient is the Server as the session's Client.
func (s *Server) SessionClient() session.Client { return sessionClient{s} }

type sessionClient struct{ s *Server }

func (c sessionClient) Notify(method string, params any) error { return c.s.Notify(method, params) }

func (c sessionClient) Request(method string, params any) (session.ClientCall, error) {
	call, err := c.s.Request(method, params)
	if err != nil {
		return nil, err
	}
	return call, nil
}
