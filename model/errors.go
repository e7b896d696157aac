package model

import (
	"fmt"
	"net/http"
)

// ErrorKind classifies a failed model call.
type ErrorKind int

const (
	// ErrMissingKey: the provider's env_key variable is not set.
	ErrMissingKey ErrorKind = iota + 1
	// ErrStatus: the provider answered with an HTTP error status.
	ErrStatus
	// ErrConnection: the request could not be sent or its answer not read.
	ErrConnection
	// ErrStreamDropped: the stream ended, broke or went idle before
	// response.completed.
	ErrStreamDropped
	// ErrMalformed: the stream sent something that is not a Responses
	// event.
	ErrMalformed
	// ErrResponseFailed: the provider reported the response failed
	// (response.failed, response.incomplete or an error event).
	ErrResponseFailed
)

// Error is why a model call failed. After retries, Attempts says how many
// requests were made.
type Error struct {
	Kind ErrorKind
	// StatusCode is the HTTP status, 0 when there was none.
	StatusCode int
	// Code is the provider's error code when it sent one (for example
	// "context_length_exceeded").
	Code string
	// Message says what happened, naming the provider.
	Message string
	// Attempts is the number of requests made (1 when not retried).
	Attempts int
	// Retryable reports that a retry could succeed (429, 5xx, a dropped
	// stream or connection).
	Retryable bool
}

func (e *Error) Error() string {
	if e.Attempts > 1 {
		return fmt.Sprintf("%s (after %d attempts)", e.Message, e.Attempts)
	}
	return e.Message
}

// statusError describes an HTTP error status with the provider's message.
func statusError(p *Provider, status int, providerMsg string) *Error {
	msg := fmt.Sprintf("model provider %s answered %d %s", p.ID, status, http.StatusText(status))
	if providerMsg != "" {
		msg += ": " + providerMsg
	}
	return &Error{Kind: ErrStatus, StatusCode: status, Message: msg, Retryable: status == http.StatusTooManyRequests || status >= 500}
}
