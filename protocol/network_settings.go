package protocol

// Network settings (extension): how the server brokers the network access
// of the commands it runs, so that a client can say it before anything
// prompts. Codex has no equivalent over the protocol.

// NetworkMode says which requests the proxy lets reach the policy.
type NetworkMode string

const (
	// NetworkModeFull: every method and protocol.
	NetworkModeFull NetworkMode = "full"
	// NetworkModeLimited: only GET, HEAD and OPTIONS over plain HTTP.
	NetworkModeLimited NetworkMode = "limited"
)

var networkModes = []NetworkMode{NetworkModeFull, NetworkModeLimited}

// EnumValues implements Enum.
func (NetworkMode) EnumValues() []string { return enumStrings(networkModes) }

// UnmarshalJSON refuses unknown modes.
func (m *NetworkMode) UnmarshalJSON(b []byte) error { return unmarshalEnum(b, m, networkModes) }

// NetworkTimeoutDecision is what the server answers for the user when a
// network prompt times out.
type NetworkTimeoutDecision string

const (
	NetworkTimeoutDecline NetworkTimeoutDecision = "decline"
	NetworkTimeoutAccept  NetworkTimeoutDecision = "accept"
)

var networkTimeoutDecisions = []NetworkTimeoutDecision{NetworkTimeoutDecline, NetworkTimeoutAccept}

// EnumValues implements Enum.
func (NetworkTimeoutDecision) EnumValues() []string { return enumStrings(networkTimeoutDecisions) }

// UnmarshalJSON refuses unknown decisions.
func (d *NetworkTimeoutDecision) UnmarshalJSON(b []byte) error {
	return unmarshalEnum(b, d, networkTimeoutDecisions)
}

// NetworkSettingsReadParams asks for the server's network settings
// (network/settings/read).
type NetworkSettingsReadParams struct{}

// NetworkSettingsReadResponse is the server's [network] configuration, as
// it applies to every thread whose sandbox is not danger-full-access (that
// sandbox has no proxy).
type NetworkSettingsReadResponse struct {
	// Enabled says the managed proxy is on: commands reach the network
	// through it, and destinations not allowed yet are prompted for.
	Enabled bool        `json:"enabled"`
	Mode    NetworkMode `json:"mode"`
	// AllowedDomains and DeniedDomains are the configured host patterns.
	AllowedDomains []string `json:"allowedDomains"`
	DeniedDomains  []string `json:"deniedDomains"`
	// AllowLocalBinding: local and private addresses are prompted for (and
	// allowed by the allow lists) instead of refused.
	AllowLocalBinding bool `json:"allowLocalBinding"`
	// ApprovalTimeoutMs bounds each network prompt; 0 waits for the client.
	ApprovalTimeoutMs int64 `json:"approvalTimeoutMs"`
	// ApprovalTimeoutDecision is applied when a network prompt times out.
	ApprovalTimeoutDecision NetworkTimeoutDecision `json:"approvalTimeoutDecision"`
}
