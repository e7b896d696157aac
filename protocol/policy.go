package protocol

import (
	"encoding/json"
)

// AskForApproval is the command approval policy of a thread or turn.
type AskForApproval string

const (
	// ApprovalUntrusted prompts before any command that is not known to be
	// read-only or allowed by a rule.
	ApprovalUntrusted AskForApproval = "untrusted"
	// ApprovalOnRequest runs commands without a command prompt; network
	// destinations that are not allowed yet are still prompted for.
	ApprovalOnRequest AskForApproval = "on-request"
	// ApprovalNever never prompts: commands run, network misses are denied.
	ApprovalNever AskForApproval = "never"
)

var approvalPolicies = []AskForApproval{ApprovalUntrusted, ApprovalOnRequest, ApprovalNever}

// EnumValues implements Enum.
func (AskForApproval) EnumValues() []string { return enumStrings(approvalPolicies) }

// UnmarshalJSON accepts the three policies and the legacy alias "on-failure",
// which means "on-request".
func (p *AskForApproval) UnmarshalJSON(b []byte) error {
	if string(b) == `"on-failure"` {
		*p = ApprovalOnRequest
		return nil
	}
	return unmarshalEnum(b, p, approvalPolicies)
}

// SandboxMode is the sandbox a thread asks for at start.
type SandboxMode string

const (
	SandboxReadOnly         SandboxMode = "read-only"
	SandboxWorkspaceWrite   SandboxMode = "workspace-write"
	SandboxDangerFullAccess SandboxMode = "danger-full-access"
)

var sandboxModes = []SandboxMode{SandboxReadOnly, SandboxWorkspaceWrite, SandboxDangerFullAccess}

// EnumValues implements Enum.
func (SandboxMode) EnumValues() []string { return enumStrings(sandboxModes) }

// UnmarshalJSON refuses unknown modes.
func (m *SandboxMode) UnmarshalJSON(b []byte) error { return unmarshalEnum(b, m, sandboxModes) }

// ApprovalsReviewer says who reviews approval requests. This server always
// routes them to the user.
type ApprovalsReviewer string

const (
	ReviewerUser             ApprovalsReviewer = "user"
	ReviewerAutoReview       ApprovalsReviewer = "auto_review"
	ReviewerGuardianSubagent ApprovalsReviewer = "guardian_subagent"
)

// EnumValues implements Enum.
func (ApprovalsReviewer) EnumValues() []string {
	return enumStrings([]ApprovalsReviewer{ReviewerUser, ReviewerAutoReview, ReviewerGuardianSubagent})
}

// NetworkAccess is the network setting of an external sandbox.
type NetworkAccess string

const (
	NetworkRestricted NetworkAccess = "restricted"
	NetworkEnabled    NetworkAccess = "enabled"
)

// EnumValues implements Enum.
func (NetworkAccess) EnumValues() []string {
	return enumStrings([]NetworkAccess{NetworkRestricted, NetworkEnabled})
}

// SandboxPolicy is the effective sandbox of a thread, as responses report it.
type SandboxPolicy struct {
	DangerFullAccess *DangerFullAccessSandbox `union:"dangerFullAccess,DangerFullAccessSandboxPolicy"`
	ReadOnly         *ReadOnlySandbox         `union:"readOnly,ReadOnlySandboxPolicy"`
	ExternalSandbox  *ExternalSandbox         `union:"externalSandbox,ExternalSandboxSandboxPolicy"`
	WorkspaceWrite   *WorkspaceWriteSandbox   `union:"workspaceWrite,WorkspaceWriteSandboxPolicy"`
}

// DangerFullAccessSandbox: no sandbox, direct network.
type DangerFullAccessSandbox struct{}

// ReadOnlySandbox: commands may read anywhere and write nowhere.
type ReadOnlySandbox struct {
	NetworkAccess bool `json:"networkAccess"`
}

// ExternalSandbox: the process already runs inside a sandbox of its own.
type ExternalSandbox struct {
	NetworkAccess NetworkAccess `json:"networkAccess"`
}

// WorkspaceWriteSandbox: commands may write inside the workspace.
type WorkspaceWriteSandbox struct {
	WritableRoots       []string `json:"writableRoots"`
	NetworkAccess       bool     `json:"networkAccess"`
	ExcludeTmpdirEnvVar bool     `json:"excludeTmpdirEnvVar"`
	ExcludeSlashTmp     bool     `json:"excludeSlashTmp"`
}

// SandboxPolicyFor returns the policy reported for a sandbox mode. Network
// access is reported as false for the sandboxed modes because commands reach
// the network only through the managed proxy.
func SandboxPolicyFor(m SandboxMode) SandboxPolicy {
	switch m {
	case SandboxReadOnly:
		return SandboxPolicy{ReadOnly: &ReadOnlySandbox{}}
	case SandboxDangerFullAccess:
		return SandboxPolicy{DangerFullAccess: &DangerFullAccessSandbox{}}
	default:
		return SandboxPolicy{WorkspaceWrite: &WorkspaceWriteSandbox{WritableRoots: []string{}}}
	}
}

func (SandboxPolicy) UnionKind() UnionKind            { return TaggedUnion }
func (SandboxPolicy) Variants() []Variant             { return taggedVariants[SandboxPolicy]() }
func (u SandboxPolicy) MarshalJSON() ([]byte, error)  { return marshalTagged(u) }
func (u *SandboxPolicy) UnmarshalJSON(b []byte) error { return unmarshalTagged(b, u) }

var _ json.Marshaler = SandboxPolicy{}
