// Package rpc serves the app-server protocol over a message transport: JSONL
// on stdio (Stream, one client), or WebSocket text frames (websocket.go, any
// number of clients, each subscribed to the threads it started or resumed:
// hub.go).
//
// It owns the wire: framing, the JSON-RPC envelope, the initialize
// handshake, dispatch from the protocol method table, ordering, backpressure
// and server-to-client requests. What a method does is up to the Handlers
// registered with the Server; package session supplies them.
//
// Each connection's JSON-RPC engine is a jsonrpc2.Conn from
// github.com/sourcegraph/jsonrpc2: its read loop dispatches requests to the
// connection's handler, and it tracks the calls the server sends to the
// client (DispatchCall, Waiter). The envelope is ours, as the library's
// ObjectStream (engine.go, the one place that knows the library's
// internals): each input message is decoded once into its raw members and
// checked as JSON-RPC 2.0 asks (message.go: -32700 for what is not JSON,
// -32600 for what is not a request, with id null when none can be echoed),
// and only valid messages reach the library, a request without its params.
// Output is written in a fixed member order without "jsonrpc" and without
// HTML escaping; request ids are echoed byte for byte, and a client's error
// reply keeps its data. A call sent to several clients (hub.go) is settled
// by the first answer (call.go).
//
// Concurrency: the library's read loop reads a message through engine and
// calls the handler, which checks the gates (initialized, method known,
// queue not full) and runs the request inline or queues it on a lane
// (never AsyncHandler, which loses order): requests naming the same
// threadId run one after another in arrival order; requests on other
// threads, or connection-wide ones, run concurrently with them. A handler that needs to wait on the client (an
// approval) must start that work in a goroutine it owns and return first.
package rpc
