package netapproval

import (
	"fmt"
	"net/http"
)

// Mode restricts what the proxy forwards at all, before any allow rule.
type Mode uint8

const (
	// ModeFull forwards every protocol (the default; the zero Mode means full).
	ModeFull Mode = iota
	// ModeLimited forwards only read-only methods (GET, HEAD, OPTIONS) over
	// plain HTTP. CONNECT and SOCKS cannot be inspected, so they are refused.
	ModeLimited
)

var modeNames = names[Mode]{ModeFull: "full", ModeLimited: "limited"}

// String returns the config spelling ("full", "limited").
func (m Mode) String() string { return modeNames.name(m) }

// ParseMode parses the config spelling.
func ParseMode(s string) (Mode, error) {
	if m, ok := modeNames.parse(s); ok {
		return m, nil
	}
	return 0, fmt.Errorf("netapproval: unknown network mode %q (want full or limited)", s)
}

// permits reports whether the mode lets a request through to the rest of the
// policy. method is the HTTP method for ProtocolHTTP and ignored otherwise.
func (m Mode) permits(p Protocol, method string) bool {
	if m != ModeLimited {
		return true
	}
	if p != ProtocolHTTP {
		return false
	}
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	}
	return false
}
