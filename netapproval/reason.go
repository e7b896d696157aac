package netapproval

import "fmt"

// Reason says why a request was blocked. Its String is the wire value of the
// "reason" field in a 403 body and in block records.
type Reason uint8

const (
	ReasonNotAllowed       Reason = iota + 1 // allowlist miss, declined prompt, prompts unavailable
	ReasonNotAllowedLocal                    // local/private destination (or unresolvable name)
	ReasonDenied                             // deny rule or deny amendment
	ReasonMethodNotAllowed                   // limited mode refused the method or protocol
	ReasonUserDenied                         // prompt cancelled, or interrupted before an answer
	ReasonTimeout                            // prompt timed out and the default denied
)

var reasonNames = names[Reason]{
	ReasonNotAllowed:       "not_allowed",
	ReasonNotAllowedLocal:  "not_allowed_local",
	ReasonDenied:           "denied",
	ReasonMethodNotAllowed: "method_not_allowed",
	ReasonUserDenied:       "user_denied",
	ReasonTimeout:          "timeout",
}

// String returns the 403 body's spelling, e.g. "not_allowed_local".
func (r Reason) String() string { return reasonNames.name(r) }

// defaultMessage is the human sentence a 403 body carries for r.
func (r Reason) defaultMessage() string {
	switch r {
	case ReasonNotAllowed:
		return "Domain not in allowlist."
	case ReasonNotAllowedLocal:
		return "Sandbox policy blocks local/private network addresses."
	case ReasonDenied:
		return "Domain denied by the sandbox policy."
	case ReasonMethodNotAllowed:
		return "Method not allowed in limited network mode."
	case ReasonUserDenied:
		return "Network access was denied by the user."
	case ReasonTimeout:
		return "Network approval timed out."
	}
	return "Blocked by network policy."
}

// Source says which layer made a decision.
type Source uint8

const (
	SourceBaselinePolicy Source = iota + 1 // config lists, persisted rules, local protection
	SourceSession                          // the thread's session allow/deny caches
	SourceDecider                          // a prompt (its answer, timeout or interruption)
	SourceModeGuard                        // limited mode
)

var sourceNames = names[Source]{
	SourceBaselinePolicy: "baseline_policy",
	SourceSession:        "session",
	SourceDecider:        "decider",
	SourceModeGuard:      "mode_guard",
}

// String returns the 403 body's spelling, e.g. "baseline_policy".
func (s Source) String() string { return sourceNames.name(s) }

// ErrorTag is the value of the x-proxy-error header on a refused request.
type ErrorTag uint8

const (
	TagBlockedByAllowlist    ErrorTag = iota + 1 // allowlist miss, declined prompt, local/private
	TagBlockedByDenylist                         // deny rules
	TagBlockedByMethodPolicy                     // limited mode
	TagBlockedByPolicy                           // anything else
)

var tagNames = names[ErrorTag]{
	TagBlockedByAllowlist:    "blocked-by-allowlist",
	TagBlockedByDenylist:     "blocked-by-denylist",
	TagBlockedByMethodPolicy: "blocked-by-method-policy",
	TagBlockedByPolicy:       "blocked-by-policy",
}

// String returns the header value, e.g. "blocked-by-denylist".
func (t ErrorTag) String() string { return tagNames.name(t) }

// TagFor derives the x-proxy-error tag from a denial's reason and source, so
// the header can never disagree with the body.
func TagFor(r Reason, s Source) ErrorTag {
	if s == SourceModeGuard {
		return TagBlockedByMethodPolicy
	}
	switch r {
	case ReasonNotAllowed, ReasonNotAllowedLocal:
		return TagBlockedByAllowlist
	case ReasonDenied:
		return TagBlockedByDenylist
	case ReasonMethodNotAllowed:
		return TagBlockedByMethodPolicy
	}
	return TagBlockedByPolicy
}

// Denial is why one request was refused. It is also an error, so dial-time
// refusals (DNS rebinding) travel through error returns.
type Denial struct {
	Reason  Reason
	Source  Source
	Message string // human sentence; Reason's default when built by deny
	// Detail says what this request hit, when the reason alone does not:
	// "registry.example resolved to 10.0.0.5, a private address", so a
	// user on a VPN or behind corporate DNS can tell why. The 403 body
	// keeps Message (the published wording).
	Detail string
}

func deny(r Reason, s Source) *Denial {
	return &Denial{Reason: r, Source: s, Message: r.defaultMessage()}
}

// Tag is the x-proxy-error header value for d.
func (d *Denial) Tag() ErrorTag { return TagFor(d.Reason, d.Source) }

func (d *Denial) Error() string {
	return fmt.Sprintf("network access blocked (%s, %s): %s", d.Reason, d.Source, d.Message)
}
