package rpc

import (
	"context"
	"slices"

	"app-server/protocol"
	"app-server/session"
)

// RegisterSession routes every client request method of the protocol to
// the session manager. thread/start, thread/resume and turn/start subscribe
// the connection to the thread (see hub); thread/unsubscribe is served here. In-memory lookups and the interrupt (which only
// cancels) run inline; everything that touches files or processes runs on
// a lane. A test checks that no client request method is left
// without a route.
func (s *Server) RegisterSession(m *session.Manager) {
	s.Register(protocol.MethodThreadStart, TypedThen(func(ctx context.Context, p *protocol.ThreadStartParams) (*protocol.ThreadStartResponse, func(), error) {
		r, announce, err := m.StartThread(ctx, p)
		if err != nil {
			return nil, nil, err
		}
		s.subscribe(ctx, r.Thread.ID)
		return r, announce, nil
	}))
	s.Register(protocol.MethodThreadResume, TypedThen(func(ctx context.Context, p *protocol.ThreadResumeParams) (*protocol.ThreadResumeResponse, func(), error) {
		r, err := m.ResumeThread(ctx, p)
		if err != nil {
			return nil, nil, err
		}
		return r, s.subscribe(ctx, r.Thread.ID), nil
	}))
	s.RegisterInline(protocol.MethodThreadUnsubscribe, Typed(func(ctx context.Context, p *protocol.ThreadUnsubscribeParams) (*protocol.ThreadUnsubscribeResponse, error) {
		loaded, err := m.LoadedThreads(ctx, &protocol.ThreadLoadedListParams{})
		if err != nil {
			return nil, err
		}
		return &protocol.ThreadUnsubscribeResponse{Status: s.unsubscribe(ctx, p.ThreadID, slices.Contains(loaded.Data, p.ThreadID))}, nil
	}))
	s.Register(protocol.MethodThreadRead, Typed(m.ReadThread))
	s.Register(protocol.MethodThreadList, Typed(m.ListThreads))
	s.RegisterInline(protocol.MethodThreadLoadedList, Typed(m.LoadedThreads))
	s.Register(protocol.MethodThreadArchive, Typed(m.ArchiveThread))
	s.Register(protocol.MethodThreadUnarchive, Typed(m.UnarchiveThread))
	s.Register(protocol.MethodTurnStart, TypedThen(func(ctx context.Context, p *protocol.TurnStartParams) (*protocol.TurnStartResponse, func(), error) {
		// Whoever starts a turn hears it, subscribed or not before.
		r, start, err := m.StartTurn(ctx, p)
		if err != nil {
			return nil, nil, err
		}
		replay := s.subscribe(ctx, p.ThreadID)
		return r, func() {
			if replay != nil {
				replay()
			}
			if start != nil {
				start()
			}
		}, nil
	}))
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

func (c sessionClient) NotifyContext(ctx context.Context, method string, params any) error {
	return c.s.NotifyContext(ctx, method, params)
}

// subscribe makes the connection of a handler's ctx a subscriber of thread
// id. It returns the function that replays the thread's open prompts to it,
// to run once the response is written.
func (s *Server) subscribe(ctx context.Context, id string) func() {
	c := connOf(ctx)
	if c == nil {
		return nil
	}
	open := s.hub.subscribe(c, id)
	return func() { c.replay(open) }
}

func (s *Server) unsubscribe(ctx context.Context, id string, loaded bool) protocol.ThreadUnsubscribeStatus {
	c := connOf(ctx)
	switch {
	case c != nil && s.hub.unsubscribe(c, id):
		return protocol.UnsubscribeUnsubscribed
	case !loaded:
		return protocol.UnsubscribeNotLoaded
	}
	return protocol.UnsubscribeNotSubscribed
}
