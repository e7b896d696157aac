package protocol

// TurnStartParams starts a turn on a thread. The response comes at once, with
// the turn in progress; notifications follow.
type TurnStartParams struct {
	ThreadID string      `json:"threadId"`
	Input    []UserInput `json:"input"`
	// ApprovalPolicy and Cwd override the thread's for this turn and later ones.
	ApprovalPolicy *AskForApproval `json:"approvalPolicy,omitempty"`
	Cwd            *string         `json:"cwd,omitempty"`
	// Model switches the thread's model (of its provider) for this turn and
	// later ones; "shell" switches to the shell agent.
	Model *string `json:"model,omitempty"`
	// Effort overrides model_reasoning_effort for this turn and later ones.
	Effort *string `json:"effort,omitempty"`
	// SandboxPolicy overrides the thread's sandbox for this turn and later
	// ones: its type is the mode (externalSandbox runs commands without
	// ours, as dangerFullAccess does); workspaceWrite's writableRoots are
	// added to the configured ones.
	SandboxPolicy *SandboxPolicy `json:"sandboxPolicy,omitempty"`
}

// TurnStartResponse carries the started turn.
type TurnStartResponse struct {
	Turn Turn `json:"turn"`
}

// TurnInterruptParams stops a running turn: its command's process group is
// killed, pending approvals are cleared, and it completes "interrupted".
type TurnInterruptParams struct {
	ThreadID string `json:"threadId"`
	TurnID   string `json:"turnId"`
}

// TurnInterruptResponse is empty.
type TurnInterruptResponse struct{}
