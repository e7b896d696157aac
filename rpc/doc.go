// Package rpc serves the app-server protocol over one JSONL stream (stdio).
//
// It owns the wire: the line framing (Stream), the JSON-RPC connection
// (github.com/sourcegraph/jsonrpc2), the initialize handshake, dispatch from
// the protocol method table, ordering, backpressure and server-to-client
// requests. What a method does is up to the Handlers registered with the
// Server; package session supplies them.
//
// Concurrency: jsonrpc2 calls Server.Handle on its read loop, so Handle never
// waits on the client. It checks the gates (initialized, method known, params
// valid, queue not full) and queues the request on a lane: requests naming the
// same threadId run one after another in arrival order; requests on other
// threads, or connection-wide ones, run concurrently with them. A handler that
// needs to wait on the client (an approval) must start that work in a
// goroutine it owns and return first.
package rpc
