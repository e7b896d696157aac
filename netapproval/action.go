package netapproval

import "fmt"

// Action is what a host rule or grant does with matching requests.
type Action uint8

const (
	ActionAllow Action = iota + 1
	ActionDeny
)

var actionNames = [...]string{ActionAllow: "allow", ActionDeny: "deny"}

// String returns the wire and file spelling ("allow", "deny").
func (a Action) String() string {
	if a == 0 || int(a) >= len(actionNames) {
		return fmt.Sprintf("Action(%d)", uint8(a))
	}
	return actionNames[a]
}

// ParseAction parses "allow" or "deny".
func ParseAction(s string) (Action, error) {
	switch s {
	case "allow":
		return ActionAllow, nil
	case "deny":
		return ActionDeny, nil
	}
	return 0, fmt.Errorf("unknown action %q (want allow or deny)", s)
}

// MarshalText implements encoding.TextMarshaler.
func (a Action) MarshalText() ([]byte, error) {
	if a == 0 || int(a) >= len(actionNames) {
		return nil, fmt.Errorf("netapproval: cannot marshal invalid action %d", uint8(a))
	}
	return []byte(a.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler via ParseAction.
func (a *Action) UnmarshalText(b []byte) error {
	v, err := ParseAction(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// CommandDecision is what a persisted command prefix rule decides. The
// netapproval package only stores these rules; package session applies them.
type CommandDecision uint8

const (
	CommandAllow     CommandDecision = iota + 1 // run without a command prompt
	CommandForbidden                            // decline without prompting
)

var commandDecisionNames = [...]string{CommandAllow: "allow", CommandForbidden: "forbidden"}

// String returns the file spelling ("allow", "forbidden").
func (d CommandDecision) String() string {
	if d == 0 || int(d) >= len(commandDecisionNames) {
		return fmt.Sprintf("CommandDecision(%d)", uint8(d))
	}
	return commandDecisionNames[d]
}

// ParseCommandDecision parses "allow" or "forbidden".
func ParseCommandDecision(s string) (CommandDecision, error) {
	switch s {
	case "allow":
		return CommandAllow, nil
	case "forbidden":
		return CommandForbidden, nil
	}
	return 0, fmt.Errorf("unknown command decision %q (want allow or forbidden)", s)
}

// MarshalText implements encoding.TextMarshaler.
func (d CommandDecision) MarshalText() ([]byte, error) {
	if d == 0 || int(d) >= len(commandDecisionNames) {
		return nil, fmt.Errorf("netapproval: cannot marshal invalid command decision %d", uint8(d))
	}
	return []byte(d.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *CommandDecision) UnmarshalText(b []byte) error {
	v, err := ParseCommandDecision(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// Scope says where a grant lives.
type Scope uint8

const (
	ScopeSession    Scope = iota + 1 // one thread, until revoked or the thread closes
	ScopePersistent                  // rules.toml, every thread, across restarts
)

var scopeNames = [...]string{ScopeSession: "session", ScopePersistent: "persistent"}

// String returns the wire spelling ("session", "persistent").
func (s Scope) String() string {
	if s == 0 || int(s) >= len(scopeNames) {
		return fmt.Sprintf("Scope(%d)", uint8(s))
	}
	return scopeNames[s]
}

// ParseScope parses "session" or "persistent".
func ParseScope(s string) (Scope, error) {
	switch s {
	case "session":
		return ScopeSession, nil
	case "persistent":
		return ScopePersistent, nil
	}
	return 0, fmt.Errorf("netapproval: unknown grant scope %q (want session or persistent)", s)
}

// MarshalText implements encoding.TextMarshaler.
func (s Scope) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
