package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// CodexErrorInfo is the class of a turn error, as Codex sends it: a bare
// string for most classes; a single-key object carrying the HTTP status
// for the failures of a model provider call:
//
//	"badRequest" | "sandboxError" | ...
//	{"responseTooManyFailedAttempts":{"httpStatusCode":500}}
type CodexErrorInfo struct {
	// Class is the wire tag, one of the Error* class names below.
	Class string
	// HTTPStatusCode is the provider's status for the object classes
	// (HTTPClasses); nil when there was none (a dropped connection).
	HTTPStatusCode *uint16
}

// Classes of CodexErrorInfo. The string classes:
const (
	ErrorContextWindowExceeded        = "contextWindowExceeded"
	ErrorSessionBudgetExceeded        = "sessionBudgetExceeded"
	ErrorUsageLimitExceeded           = "usageLimitExceeded"
	ErrorRateLimitExceeded            = "rateLimitExceeded"
	ErrorFlexUnavailable              = "flexUnavailable"
	ErrorServerOverloaded             = "serverOverloaded"
	ErrorModelNotFound                = "modelNotFound"
	ErrorPolicyCapacityUnavailable    = "policyCapacityUnavailable"
	ErrorCyberPolicy                  = "cyberPolicy"
	ErrorMisalignmentPolicyViolation  = "misalignmentPolicyViolation"
	ErrorTooManyDenials               = "tooManyDenials"
	ErrorInternalServerError          = "internalServerError"
	ErrorUnauthorized                 = "unauthorized"
	ErrorBadRequest                   = "badRequest"
	ErrorThreadRollbackFailed         = "threadRollbackFailed"
	ErrorSandboxError                 = "sandboxError"
	ErrorOther                        = "other"
	ErrorInferenceHookDenied          = "inferenceHookDenied"
	ErrorHTTPConnectionFailed         = "httpConnectionFailed"
	ErrorResponseStreamConnectFailed  = "responseStreamConnectionFailed"
	ErrorResponseStreamDisconnected   = "responseStreamDisconnected"
	ErrorResponseTooManyFailedAttempt = "responseTooManyFailedAttempts"
)

// Compatibility names of the two classes the shell agent used before the
// object forms existed.
var (
	ErrorInfoSandboxError = CodexErrorInfo{Class: ErrorSandboxError}
	ErrorInfoOther        = CodexErrorInfo{Class: ErrorOther}
)

var stringErrorClasses = []string{
	ErrorContextWindowExceeded, ErrorSessionBudgetExceeded, ErrorUsageLimitExceeded,
	ErrorRateLimitExceeded, ErrorFlexUnavailable, ErrorServerOverloaded, ErrorModelNotFound,
	ErrorPolicyCapacityUnavailable, ErrorCyberPolicy, ErrorMisalignmentPolicyViolation,
	ErrorTooManyDenials, ErrorInternalServerError, ErrorUnauthorized, ErrorBadRequest,
	ErrorThreadRollbackFailed, ErrorSandboxError, ErrorOther, ErrorInferenceHookDenied,
}

// HTTPClasses are the classes written as objects with an httpStatusCode.
var HTTPClasses = []string{
	ErrorHTTPConnectionFailed, ErrorResponseStreamConnectFailed,
	ErrorResponseStreamDisconnected, ErrorResponseTooManyFailedAttempt,
}

// HTTPErrorInfo returns an object class with status (0: none).
func HTTPErrorInfo(class string, status int) *CodexErrorInfo {
	info := &CodexErrorInfo{Class: class}
	if status > 0 && status <= 0xffff {
		s := uint16(status)
		info.HTTPStatusCode = &s
	}
	return info
}

// httpStatusPayload is the value inside an object class.
type httpStatusPayload struct {
	HTTPStatusCode *uint16 `json:"httpStatusCode"`
}

// MarshalJSON writes a string class as a string and an HTTP class as an
// object.
func (e CodexErrorInfo) MarshalJSON() ([]byte, error) {
	switch {
	case slices.Contains(HTTPClasses, e.Class):
		return json.Marshal(map[string]httpStatusPayload{e.Class: {e.HTTPStatusCode}})
	case slices.Contains(stringErrorClasses, e.Class):
		return json.Marshal(e.Class)
	}
	return nil, fmt.Errorf("unknown codexErrorInfo class %q", e.Class)
}

// UnmarshalJSON reads either form of a known class.
func (e *CodexErrorInfo) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if !slices.Contains(stringErrorClasses, s) {
			return fmt.Errorf("codexErrorInfo: unknown class `%s`", s)
		}
		*e = CodexErrorInfo{Class: s}
		return nil
	}
	var obj map[string]httpStatusPayload
	if err := json.Unmarshal(b, &obj); err != nil || len(obj) != 1 {
		return errors.New("codexErrorInfo: expected a string or an object with one key")
	}
	for class, p := range obj {
		if !slices.Contains(HTTPClasses, class) {
			return fmt.Errorf("codexErrorInfo: unknown class `%s`", class)
		}
		*e = CodexErrorInfo{Class: class, HTTPStatusCode: p.HTTPStatusCode}
	}
	return nil
}

// UnionKind implements Union.
func (CodexErrorInfo) UnionKind() UnionKind { return ExternallyTaggedUnion }

// Variants implements Union.
func (CodexErrorInfo) Variants() []Variant {
	var out []Variant
	for _, c := range stringErrorClasses {
		out = append(out, Variant{Tag: c})
	}
	titles := map[string]string{
		ErrorHTTPConnectionFailed:         "HttpConnectionFailedCodexErrorInfo",
		ErrorResponseStreamConnectFailed:  "ResponseStreamConnectionFailedCodexErrorInfo",
		ErrorResponseStreamDisconnected:   "ResponseStreamDisconnectedCodexErrorInfo",
		ErrorResponseTooManyFailedAttempt: "ResponseTooManyFailedAttemptsCodexErrorInfo",
	}
	for _, c := range HTTPClasses {
		out = append(out, Variant{Tag: c, Title: titles[c], Payload: httpStatusPayload{}})
	}
	return out
}
