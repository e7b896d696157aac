package protocol

import (
	"encoding/json"
	"fmt"
)

// ErrorCode is a JSON-RPC error code.
type ErrorCode int64

// Standard JSON-RPC 2.0 codes.
const (
	CodeParseError     ErrorCode = -32700
	CodeInvalidRequest ErrorCode = -32600
	CodeMethodNotFound ErrorCode = -32601
	CodeInvalidParams  ErrorCode = -32602
	CodeInternalError  ErrorCode = -32603
)

// Implementation-defined codes (the -32000 to -32099 range reserved by the
// JSON-RPC specification for servers), as the Codex app-server uses them.
const (
	// CodeServerOverloaded: the bounded request queue is full.
	CodeServerOverloaded ErrorCode = -32001
	// CodeRequestCancelled: the request's work was cancelled (its turn was
	// interrupted, or the server is shutting down).
	CodeRequestCancelled ErrorCode = -32800
)

// Error is a JSON-RPC error object. It is also a Go error; two Errors match
// with errors.Is when their codes are equal, so a wrapped, more specific
// error still matches the sentinel of its code.
type Error struct {
	Code    ErrorCode       `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data,omitempty"`
}

func (e *Error) Error() string { return fmt.Sprintf("%s (code %d)", e.Message, e.Code) }

// Is reports whether target is an *Error with the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Sentinel errors, one per code, for errors.Is.
var (
	ErrParse            = &Error{Code: CodeParseError, Message: "Parse error"}
	ErrInvalidRequest   = &Error{Code: CodeInvalidRequest, Message: "Invalid request"}
	ErrMethodNotFound   = &Error{Code: CodeMethodNotFound, Message: "Method not found"}
	ErrInvalidParams    = &Error{Code: CodeInvalidParams, Message: "Invalid params"}
	ErrInternal         = &Error{Code: CodeInternalError, Message: "Internal error"}
	ErrServerOverloaded = &Error{Code: CodeServerOverloaded, Message: "Server overloaded; retry later."}
	ErrRequestCancelled = &Error{Code: CodeRequestCancelled, Message: "Request cancelled"}
)

// Errorf returns an error with the code of base and a formatted message.
func Errorf(base *Error, format string, args ...any) *Error {
	return &Error{Code: base.Code, Message: fmt.Sprintf(format, args...)}
}
