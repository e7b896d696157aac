package netapproval

// Action is what a host rule or grant does with matching requests.
type Action uint8

const (
	ActionAllow Action = iota + 1
	ActionDeny
)

// actionNames are the rules file's spellings.
var actionNames = names[Action]{ActionAllow: "allow", ActionDeny: "deny"}

func (a Action) String() string { return actionNames.name(a) }

// Scope says where a grant lives.
type Scope uint8

const (
	ScopeSession    Scope = iota + 1 // one thread, until revoked or the thread closes
	ScopePersistent                  // rules.toml, every thread, across restarts
)

var scopeNames = names[Scope]{ScopeSession: "session", ScopePersistent: "persistent"}

func (s Scope) String() string { return scopeNames.name(s) }
