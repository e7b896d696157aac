package protocol

// ThreadStartParams starts a new thread. Every field is optional; the server's
// configuration supplies what is missing.
type ThreadStartParams struct {
	// Cwd is the absolute working directory of the thread's commands.
	Cwd            *string         `json:"cwd,omitempty"`
	ApprovalPolicy *AskForApproval `json:"approvalPolicy,omitempty"`
	Sandbox        *SandboxMode    `json:"sandbox,omitempty"`
	// Ephemeral threads are never written to disk.
	Ephemeral *bool `json:"ephemeral,omitempty"`
	// Model selects the model (one the provider serves), or "shell" for the
	// built-in shell agent. Without it, the configured model runs the
	// thread's turns when one is configured, the shell agent otherwise.
	Model *string `json:"model,omitempty"`
	// ModelProvider selects the provider (a [model_providers] id or a
	// built-in: openai, ollama, lmstudio) instead of the configured one.
	ModelProvider *string `json:"modelProvider,omitempty"`
}

// ThreadStartResponse describes the new thread and its effective settings.
type ThreadStartResponse struct {
	Thread Thread `json:"thread"`
	ThreadSettings
}

// ThreadSettings are the effective settings of a thread, reported by
// thread/start and thread/resume.
type ThreadSettings struct {
	// Model is the thread's model, or "shell" for the built-in shell agent.
	Model              string            `json:"model"`
	ModelProvider      string            `json:"modelProvider"`
	ServiceTier        *string           `json:"serviceTier"`
	DisabledPluginIDs  []string          `json:"disabledPluginIds"`
	Cwd                string            `json:"cwd"`
	InstructionSources []string          `json:"instructionSources"`
	ApprovalPolicy     AskForApproval    `json:"approvalPolicy"`
	ApprovalsReviewer  ApprovalsReviewer `json:"approvalsReviewer"`
	Sandbox            SandboxPolicy     `json:"sandbox"`
	ReasoningEffort    *string           `json:"reasoningEffort"`
}

// ThreadResumeParams loads a persisted thread (also after a server restart)
// and makes it the target of turns again. Settings given here override the
// thread's for the rest of this server's life.
type ThreadResumeParams struct {
	ThreadID       string          `json:"threadId"`
	Cwd            *string         `json:"cwd,omitempty"`
	ApprovalPolicy *AskForApproval `json:"approvalPolicy,omitempty"`
	Sandbox        *SandboxMode    `json:"sandbox,omitempty"`
	// Model and ModelProvider switch the thread's model, as on thread/start.
	Model         *string `json:"model,omitempty"`
	ModelProvider *string `json:"modelProvider,omitempty"`
}

// ThreadResumeResponse is like ThreadStartResponse; the thread carries its turns.
type ThreadResumeResponse struct {
	Thread Thread `json:"thread"`
	ThreadSettings
}

// ThreadReadParams reads a thread without loading it.
type ThreadReadParams struct {
	ThreadID     string `json:"threadId"`
	IncludeTurns bool   `json:"includeTurns,omitempty"`
}

// ThreadReadResponse carries the thread.
type ThreadReadResponse struct {
	Thread Thread `json:"thread"`
}

// ThreadListParams pages through persisted threads, newest first.
type ThreadListParams struct {
	// Cursor is an opaque value from a previous response's nextCursor.
	Cursor *string `json:"cursor,omitempty"`
	// Limit is the page size (default 25, at most 100).
	Limit *uint32 `json:"limit,omitempty"`
	// Archived lists archived threads when true; active ones otherwise.
	Archived *bool `json:"archived,omitempty"`
}

// ThreadListResponse is one page of threads.
type ThreadListResponse struct {
	Data []Thread `json:"data"`
	// NextCursor is null on the last page.
	NextCursor *string `json:"nextCursor"`
}

// ThreadLoadedListParams pages through the ids of threads loaded in memory.
type ThreadLoadedListParams struct {
	Cursor *string `json:"cursor,omitempty"`
	Limit  *uint32 `json:"limit,omitempty"`
}

// ThreadLoadedListResponse is one page of loaded thread ids.
type ThreadLoadedListResponse struct {
	Data       []string `json:"data"`
	NextCursor *string  `json:"nextCursor"`
}

// ThreadArchiveParams moves a thread to the archive.
type ThreadArchiveParams struct {
	ThreadID string `json:"threadId"`
}

// ThreadArchiveResponse is empty.
type ThreadArchiveResponse struct{}

// ThreadUnarchiveParams moves a thread back from the archive.
type ThreadUnarchiveParams struct {
	ThreadID string `json:"threadId"`
}

// ThreadUnarchiveResponse carries the restored thread.
type ThreadUnarchiveResponse struct {
	Thread Thread `json:"thread"`
}

// ThreadUnsubscribeParams ends this connection's subscription to a thread:
// it stops receiving the thread's turn and item notifications and prompts.
type ThreadUnsubscribeParams struct {
	ThreadID string `json:"threadId"`
}

// ThreadUnsubscribeResponse says what the unsubscribe found.
type ThreadUnsubscribeResponse struct {
	Status ThreadUnsubscribeStatus `json:"status"`
}

// ThreadUnsubscribeStatus is the outcome of thread/unsubscribe.
type ThreadUnsubscribeStatus string

const (
	UnsubscribeNotLoaded     ThreadUnsubscribeStatus = "notLoaded"
	UnsubscribeNotSubscribed ThreadUnsubscribeStatus = "notSubscribed"
	UnsubscribeUnsubscribed  ThreadUnsubscribeStatus = "unsubscribed"
)

var unsubscribeStatuses = []ThreadUnsubscribeStatus{UnsubscribeNotLoaded, UnsubscribeNotSubscribed, UnsubscribeUnsubscribed}

// EnumValues implements Enum.
func (ThreadUnsubscribeStatus) EnumValues() []string { return enumStrings(unsubscribeStatuses) }

// UnmarshalJSON refuses unknown statuses.
func (s *ThreadUnsubscribeStatus) UnmarshalJSON(b []byte) error {
	return unmarshalEnum(b, s, unsubscribeStatuses)
}
