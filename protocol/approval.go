package protocol

// CommandExecutionRequestApprovalParams asks the client to approve a command
// or, when NetworkApprovalContext is set, a network destination
// (method item/commandExecution/requestApproval).
//
// A command approval carries Command, Cwd and CommandActions. A network
// approval carries none of those keys: its ItemID is synthetic
// (network#<protocol>#<host>#<port>#<uuid>) and it can arrive while the
// owning command's item is in progress.
type CommandExecutionRequestApprovalParams struct {
	ThreadID string `json:"threadId"`
	TurnID   string `json:"turnId"`
	ItemID   string `json:"itemId"`
	// ApprovalID is unused by this server (null in the published protocol for
	// ordinary command approvals); it is never sent.
	ApprovalID *string `json:"approvalId,omitempty"`
	// Kind is always "command" when sent. It is optional but never null in
	// the published schema, so it is a value omitted when empty.
	Kind CommandExecutionApprovalKind `json:"kind,omitempty"`
	// StartedAtMs is when the approval request started (unix ms).
	StartedAtMs int64 `json:"startedAtMs"`
	// EnvironmentID is where the command runs; always "local" when sent.
	EnvironmentID *string `json:"environmentId,omitempty"`
	// Reason explains the request, for example
	// "Network access to example.com requires approval".
	Reason *string `json:"reason,omitempty"`
	// Command is the command line to be executed.
	Command *string `json:"command,omitempty"`
	// Cwd is the command's working directory.
	Cwd *string `json:"cwd,omitempty"`
	// CommandActions is a best-effort parse of the command for display.
	CommandActions []CommandAction `json:"commandActions,omitempty"`
	// ProposedExecpolicyAmendment is the argv prefix that an
	// acceptWithExecpolicyAmendment decision would allow from now on.
	ProposedExecpolicyAmendment []string `json:"proposedExecpolicyAmendment,omitempty"`
	// NetworkApprovalContext is set for a managed-network approval.
	NetworkApprovalContext *NetworkApprovalContext `json:"networkApprovalContext,omitempty"`
	// ProposedNetworkPolicyAmendments are the host rules (allow, deny) that an
	// applyNetworkPolicyAmendment decision can persist.
	ProposedNetworkPolicyAmendments []NetworkPolicyAmendment `json:"proposedNetworkPolicyAmendments,omitempty"`
	// AvailableDecisions lists the decisions the client should offer.
	// Decisions outside it are still honoured where they make sense.
	AvailableDecisions []CommandExecutionApprovalDecision `json:"availableDecisions,omitempty"`
	// ExpiresAtMs (extension) is when the server applies its default decision
	// if the client has not answered; absent when prompts do not time out.
	ExpiresAtMs *int64 `json:"expiresAtMs,omitempty"`
}

// CommandExecutionRequestApprovalResponse is the client's answer.
type CommandExecutionRequestApprovalResponse struct {
	Decision CommandExecutionApprovalDecision `json:"decision"`
}

// CommandExecutionApprovalKind distinguishes kinds of approval.
type CommandExecutionApprovalKind string

const (
	ApprovalKindCommand      CommandExecutionApprovalKind = "command"
	ApprovalKindWriteStdin   CommandExecutionApprovalKind = "writeStdin"
	ApprovalKindHumanCommand CommandExecutionApprovalKind = "humanCommand"
)

// EnumValues implements Enum.
func (CommandExecutionApprovalKind) EnumValues() []string {
	return enumStrings([]CommandExecutionApprovalKind{ApprovalKindCommand, ApprovalKindWriteStdin, ApprovalKindHumanCommand})
}

// NetworkApprovalContext names the destination of a network approval.
type NetworkApprovalContext struct {
	Host     string                  `json:"host"`
	Protocol NetworkApprovalProtocol `json:"protocol"`
	// Port (extension) is the destination port; approvals are keyed by host,
	// protocol and port, so a:443 and a:80 are asked about separately.
	Port *uint16 `json:"port,omitempty"`
}

// NetworkApprovalProtocol is how the command tried to reach the destination.
type NetworkApprovalProtocol string

const (
	// NetworkHTTP: a plain HTTP request through the proxy.
	NetworkHTTP NetworkApprovalProtocol = "http"
	// NetworkHTTPS: an HTTP CONNECT tunnel.
	NetworkHTTPS NetworkApprovalProtocol = "https"
	// NetworkSOCKS5TCP: a SOCKS5 CONNECT.
	NetworkSOCKS5TCP NetworkApprovalProtocol = "socks5Tcp"
	// NetworkSOCKS5UDP: a SOCKS5 UDP ASSOCIATE datagram.
	NetworkSOCKS5UDP NetworkApprovalProtocol = "socks5Udp"
)

var networkProtocols = []NetworkApprovalProtocol{NetworkHTTP, NetworkHTTPS, NetworkSOCKS5TCP, NetworkSOCKS5UDP}

// EnumValues implements Enum.
func (NetworkApprovalProtocol) EnumValues() []string { return enumStrings(networkProtocols) }

// UnmarshalJSON refuses unknown protocols.
func (p *NetworkApprovalProtocol) UnmarshalJSON(b []byte) error {
	return unmarshalEnum(b, p, networkProtocols)
}

// NetworkPolicyAmendment is a persisted host rule.
type NetworkPolicyAmendment struct {
	Host   string                  `json:"host"`
	Action NetworkPolicyRuleAction `json:"action"`
}

// NetworkPolicyRuleAction is what a host rule does.
type NetworkPolicyRuleAction string

const (
	RuleAllow NetworkPolicyRuleAction = "allow"
	RuleDeny  NetworkPolicyRuleAction = "deny"
)

var ruleActions = []NetworkPolicyRuleAction{RuleAllow, RuleDeny}

// EnumValues implements Enum.
func (NetworkPolicyRuleAction) EnumValues() []string { return enumStrings(ruleActions) }

// UnmarshalJSON refuses unknown actions.
func (a *NetworkPolicyRuleAction) UnmarshalJSON(b []byte) error {
	return unmarshalEnum(b, a, ruleActions)
}
