package rpc

import (
	"context"
	"encoding/json"

	"app-server/protocol"
)

// A Handler serves one client request method. It runs on the request's lane
// (see the package doc), so it must not wait on the client: reply first and
// run long work in goroutines owned by the thread. ctx is cancelled when the
// connection closes. A returned *protocol.Error is sent as is; any other
// error is sent as -32603.
type Handler func(ctx context.Context, params json.RawMessage) (result any, err error)

// Typed adapts a function on decoded params to a Handler. Params are decoded
// with protocol.DecodeParams, so a bad member is answered -32602 naming it.
func Typed[P, R any](f func(context.Context, *P) (*R, error)) Handler {
	return func(ctx context.Context, raw json.RawMessage) (any, error) {
		p := new(P)
		if err := protocol.DecodeParams(raw, p); err != nil {
			return nil, protocol.Errorf(protocol.ErrInvalidParams, "Invalid params: %v", err)
		}
		r, err := f(ctx, p)
		if err != nil {
			return nil, err
		}
		return r, nil
	}
}

// afterReply is a result with work to start once the response is written.
type afterReply struct {
	result any
	then   func()
}

// TypedThen is like Typed for methods whose work goes on after the
// response: f returns the result and a function that the server calls right
// after writing the response (nil for none). This is how turn/start answers
// with the turn before any turn notification can be written.
func TypedThen[P, R any](f func(context.Context, *P) (*R, func(), error)) Handler {
	return func(ctx context.Context, raw json.RawMessage) (any, error) {
		p := new(P)
		if err := protocol.DecodeParams(raw, p); err != nil {
			return nil, protocol.Errorf(protocol.ErrInvalidParams, "Invalid params: %v", err)
		}
		r, then, err := f(ctx, p)
		if err != nil {
			return nil, err
		}
		return afterReply{result: r, then: then}, nil
	}
}
