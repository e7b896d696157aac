package session

import (
	"context"

	"app-server/protocol"
)

// Client is the connected client, as the session sees it. Package rpc
// implements it.
type Client interface {
	// Notify sends a notification. It may block while the client is not
	// reading; it never waits for an answer. An error means the client is
	// gone and can be ignored.
	Notify(method string, params any) error
	// Request sends a server-to-client request and returns at once.
	Request(method string, params any) (ClientCall, error)
}

// ContextNotifier is a Client that serves several connections and can send
// a notification to the one a request came from (ctx is the request's).
// command/exec output goes only to the client that ran the command.
type ContextNotifier interface {
	NotifyContext(ctx context.Context, method string, params any) error
}

// notifyRequester sends a notification to the client whose request ctx
// belongs to, when the Client can tell; else like notify.
func (m *Manager) notifyRequester(ctx context.Context, method string, params any) {
	cn, ok := m.client.(ContextNotifier)
	if !ok {
		m.notify(method, params)
		return
	}
	if err := cn.NotifyContext(ctx, method, params); err != nil {
		m.log.Debug("notification not sent", "method", method, "err", err)
	}
}

// ClientCall is a server-to-client request in flight.
type ClientCall interface {
	// ID is the request id on the wire (for serverRequest/resolved).
	ID() protocol.RequestID
	// Wait blocks until the client answers, ctx is done, or the client
	// disconnects. A client error reply is a *protocol.Error.
	Wait(ctx context.Context, result any) error
}
