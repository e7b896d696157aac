package protocol

// Grants (extension): the network permissions a thread holds, which a client
// can list and revoke. Codex has no equivalent over the protocol.

// GrantScope says how long a grant lasts.
type GrantScope string

const (
	// ScopeSession: held by one thread until the server exits
	// (acceptForSession, or a deny remembered for the session).
	ScopeSession GrantScope = "session"
	// ScopePersistent: a rule in rules.toml, applied to every thread.
	ScopePersistent GrantScope = "persistent"
)

var grantScopes = []GrantScope{ScopeSession, ScopePersistent}

// EnumValues implements Enum.
func (GrantScope) EnumValues() []string { return enumStrings(grantScopes) }

// UnmarshalJSON refuses unknown scopes.
func (s *GrantScope) UnmarshalJSON(b []byte) error { return unmarshalEnum(b, s, grantScopes) }

// NetworkGrant is one remembered network decision.
type NetworkGrant struct {
	// Host is the normalized host, or the host pattern of a persisted rule.
	Host string `json:"host"`
	// Protocol is null for persisted rules, which cover every protocol.
	Protocol *NetworkApprovalProtocol `json:"protocol"`
	// Port is null for persisted rules, which cover every port.
	Port   *uint16                 `json:"port"`
	Action NetworkPolicyRuleAction `json:"action"`
	Scope  GrantScope              `json:"scope"`
	// GrantedAtMs is when the grant was made (unix ms).
	GrantedAtMs int64 `json:"grantedAtMs"`
	// Hits counts the requests this grant decided in this server's life.
	Hits uint64 `json:"hits"`
	// OpenConnections counts the live proxied connections it allowed.
	OpenConnections uint64 `json:"openConnections"`
}

// NetworkGrantsListParams asks for a thread's grants (network/grants/list).
type NetworkGrantsListParams struct {
	ThreadID string `json:"threadId"`
}

// NetworkGrantsListResponse lists the thread's session grants, then the
// persisted rules.
type NetworkGrantsListResponse struct {
	Grants []NetworkGrant `json:"grants"`
}

// NetworkGrantsRevokeParams removes grants (network/grants/revoke). Every
// grant of the scope whose host matches (after normalization) and whose
// protocol and port match when given is removed, and the live connections it
// allowed are closed; the next request to that destination prompts again.
type NetworkGrantsRevokeParams struct {
	ThreadID string                   `json:"threadId"`
	Host     string                   `json:"host"`
	Protocol *NetworkApprovalProtocol `json:"protocol,omitempty"`
	Port     *uint16                  `json:"port,omitempty"`
	Scope    GrantScope               `json:"scope"`
}

// NetworkGrantsRevokeResponse lists the grants removed (empty when none matched).
type NetworkGrantsRevokeResponse struct {
	Revoked []NetworkGrant `json:"revoked"`
}

// NetworkGrantsUpdatedNotification carries a thread's grants after any change
// (network/grants/updated).
type NetworkGrantsUpdatedNotification struct {
	ThreadID string         `json:"threadId"`
	Grants   []NetworkGrant `json:"grants"`
}
