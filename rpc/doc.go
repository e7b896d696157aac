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
// The envelope is ours (message.go): each input message is decoded once
// into its raw members and checked as JSON-RPC 2.0 asks (-32700 for what is
// not JSON, -32600 for what is not a request, with id null when none can be
// echoed); output is written in a fixed member order without "jsonrpc".
// Request ids are echoed byte for byte, and server-to-client calls are
// tracked by their integer id (call.go). A JSON-RPC library would add a
// second decode of every message and ids it cannot hold; the whole of what
// we need from one is the pending-call map in call.go.
//
// Concurrency: the read loop decodes a message and checks the gates
// (initialized, method known, queue not full), then queues the request on a
// lane: requests naming the same threadId run one after another in arrival
// order; requests on other threads, or connection-wide ones, run
// concurrently with them. A handler that needs to wait on the client (an
// approval) must start that work in a goroutine it owns and return first.
package rpc
