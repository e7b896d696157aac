package protocol

import "encoding/json"

// The JSON-RPC envelope types. They exist for the schema (JSONRPCMessage.json);
// the rpc package maps them to its connection library. On the wire the
// "jsonrpc":"2.0" member is omitted on output and optional on input.

// JSONRPCRequest is a request expecting a response.
type JSONRPCRequest struct {
	ID     RequestID       `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params,omitempty"`
}

// JSONRPCNotification is a message without an id that expects no response.
type JSONRPCNotification struct {
	Method string          `json:"method"`
	Params json.RawMessage `json:"params,omitempty"`
}

// JSONRPCResponse is a successful response.
type JSONRPCResponse struct {
	ID     RequestID       `json:"id"`
	Result json.RawMessage `json:"result"`
}

// JSONRPCError is a failed response. ID is null when the request's id could
// not be read (a line that is not JSON, an id of the wrong type), as
// JSON-RPC 2.0 says; the published schema has no null here, so this is a
// deliberate superset (notModeled in schema/compat_test.go lists it).
type JSONRPCError struct {
	ID    *RequestID `json:"id" jsonschema:"required"`
	Error Error      `json:"error"`
}
