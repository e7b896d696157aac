package protocol

// Items, notifications and requests of model-driven turns (MODEL.md): the
// shapes of the published Codex 0.169.0 schema.

// ReasoningItem is the model's reasoning: its summary parts (when the
// provider sends summaries) and its raw reasoning text (when it sends that).
type ReasoningItem struct {
	ID      string   `json:"id"`
	Summary []string `json:"summary"`
	Content []string `json:"content"`
	// StartedAtMs and CompletedAtMs are unix ms; null until known.
	StartedAtMs   *int64 `json:"startedAtMs"`
	CompletedAtMs *int64 `json:"completedAtMs"`
}

// FileChangeItem is one apply_patch call: the files it changes and whether
// the changes were applied.
type FileChangeItem struct {
	ID      string             `json:"id"`
	Changes []FileUpdateChange `json:"changes"`
	Status  PatchApplyStatus   `json:"status"`
	// StartedAtMs and CompletedAtMs are unix ms; null until known.
	StartedAtMs   *int64 `json:"startedAtMs"`
	CompletedAtMs *int64 `json:"completedAtMs"`
}

// FileUpdateChange is one file of a patch.
type FileUpdateChange struct {
	// Path is the absolute path of the file (its path before a move).
	Path string          `json:"path"`
	Kind PatchChangeKind `json:"kind"`
	// Diff is a unified diff of the change (for an added file, every line
	// added; for a deleted one, every line removed).
	Diff string `json:"diff"`
}

// PatchChangeKind says what a patch does to a file.
type PatchChangeKind struct {
	Add    *PatchAdd    `union:"add,AddPatchChangeKind"`
	Delete *PatchDelete `union:"delete,DeletePatchChangeKind"`
	Update *PatchUpdate `union:"update,UpdatePatchChangeKind"`
}

func (PatchChangeKind) UnionKind() UnionKind            { return TaggedUnion }
func (PatchChangeKind) Variants() []Variant             { return taggedVariants[PatchChangeKind]() }
func (u PatchChangeKind) MarshalJSON() ([]byte, error)  { return marshalTagged(u) }
func (u *PatchChangeKind) UnmarshalJSON(b []byte) error { return unmarshalTagged(b, u) }

// PatchAdd: the file is created.
type PatchAdd struct{}

// PatchDelete: the file is removed.
type PatchDelete struct{}

// PatchUpdate: the file's content changes, and it moves when MovePath is set.
type PatchUpdate struct {
	MovePath *string `json:"move_path"`
}

// PatchApplyStatus is where a fileChange item is in its life.
type PatchApplyStatus string

const (
	PatchInProgress PatchApplyStatus = "inProgress"
	PatchCompleted  PatchApplyStatus = "completed"
	PatchFailed     PatchApplyStatus = "failed"
	PatchDeclined   PatchApplyStatus = "declined"
)

// EnumValues implements Enum.
func (PatchApplyStatus) EnumValues() []string {
	return enumStrings([]PatchApplyStatus{PatchInProgress, PatchCompleted, PatchFailed, PatchDeclined})
}

// AgentMessageDeltaNotification streams the text of an agentMessage item
// as the model writes it; the item/completed that follows has the whole text.
type AgentMessageDeltaNotification struct {
	ThreadID string `json:"threadId"`
	TurnID   string `json:"turnId"`
	ItemID   string `json:"itemId"`
	Delta    string `json:"delta"`
}

// ReasoningSummaryPartAddedNotification: a reasoning item starts a new
// summary part (SummaryIndex counts from 0).
type ReasoningSummaryPartAddedNotification struct {
	ThreadID     string `json:"threadId"`
	TurnID       string `json:"turnId"`
	ItemID       string `json:"itemId"`
	SummaryIndex int64  `json:"summaryIndex"`
}

// ReasoningSummaryTextDeltaNotification streams a reasoning summary part.
type ReasoningSummaryTextDeltaNotification struct {
	ThreadID     string `json:"threadId"`
	TurnID       string `json:"turnId"`
	ItemID       string `json:"itemId"`
	Delta        string `json:"delta"`
	SummaryIndex int64  `json:"summaryIndex"`
}

// ReasoningTextDeltaNotification streams a reasoning item's raw reasoning
// text (content part ContentIndex), which some models (gpt-oss on local
// servers) send instead of summaries.
type ReasoningTextDeltaNotification struct {
	ThreadID     string `json:"threadId"`
	TurnID       string `json:"turnId"`
	ItemID       string `json:"itemId"`
	Delta        string `json:"delta"`
	ContentIndex int64  `json:"contentIndex"`
}

// ThreadTokenUsageUpdatedNotification reports the tokens of the last model
// response and of the thread so far.
type ThreadTokenUsageUpdatedNotification struct {
	ThreadID   string           `json:"threadId"`
	TurnID     string           `json:"turnId"`
	TokenUsage ThreadTokenUsage `json:"tokenUsage"`
}

// ThreadTokenUsage is the usage of the last response and the running total.
type ThreadTokenUsage struct {
	Last  TokenUsageBreakdown `json:"last"`
	Total TokenUsageBreakdown `json:"total"`
	// ModelContextWindow is the model's context size when known; null here.
	ModelContextWindow *int64 `json:"modelContextWindow"`
}

// TokenUsageBreakdown counts tokens as the Responses API reports them.
type TokenUsageBreakdown struct {
	TotalTokens           int64 `json:"totalTokens"`
	InputTokens           int64 `json:"inputTokens"`
	CachedInputTokens     int64 `json:"cachedInputTokens"`
	CacheWriteInputTokens int64 `json:"cacheWriteInputTokens"`
	OutputTokens          int64 `json:"outputTokens"`
	ReasoningOutputTokens int64 `json:"reasoningOutputTokens"`
}

// Add returns the sum of two breakdowns.
func (u TokenUsageBreakdown) Add(o TokenUsageBreakdown) TokenUsageBreakdown {
	return TokenUsageBreakdown{
		TotalTokens: u.TotalTokens + o.TotalTokens, InputTokens: u.InputTokens + o.InputTokens,
		CachedInputTokens: u.CachedInputTokens + o.CachedInputTokens, CacheWriteInputTokens: u.CacheWriteInputTokens + o.CacheWriteInputTokens,
		OutputTokens: u.OutputTokens + o.OutputTokens, ReasoningOutputTokens: u.ReasoningOutputTokens + o.ReasoningOutputTokens,
	}
}

// FileChangeRequestApprovalParams asks the client whether an apply_patch
// call may change the files of its fileChange item (the item/started before
// it lists them).
type FileChangeRequestApprovalParams struct {
	ThreadID string `json:"threadId"`
	TurnID   string `json:"turnId"`
	ItemID   string `json:"itemId"`
	// StartedAtMs is when the request was made (unix ms).
	StartedAtMs int64 `json:"startedAtMs"`
	// Reason says why approval is needed.
	Reason *string `json:"reason,omitempty"`
	// GrantRoot is a root the agent asks to write under for the session;
	// this server never asks for one.
	GrantRoot *string `json:"grantRoot,omitempty"`
}

// FileChangeRequestApprovalResponse is the client's answer.
type FileChangeRequestApprovalResponse struct {
	Decision FileChangeApprovalDecision `json:"decision"`
}

// FileChangeApprovalDecision is the answer to a file change approval.
type FileChangeApprovalDecision string

const (
	// FileChangeAccept applies the changes.
	FileChangeAccept FileChangeApprovalDecision = "accept"
	// FileChangeAcceptForSession applies them, and later changes to the same
	// files in this thread are applied without asking.
	FileChangeAcceptForSession FileChangeApprovalDecision = "acceptForSession"
	// FileChangeDecline refuses; the model is told and the turn goes on.
	FileChangeDecline FileChangeApprovalDecision = "decline"
	// FileChangeCancel refuses and interrupts the turn.
	FileChangeCancel FileChangeApprovalDecision = "cancel"
)

var fileChangeDecisions = []FileChangeApprovalDecision{FileChangeAccept, FileChangeAcceptForSession, FileChangeDecline, FileChangeCancel}

// EnumValues implements Enum.
func (FileChangeApprovalDecision) EnumValues() []string { return enumStrings(fileChangeDecisions) }

// UnmarshalJSON refuses a decision outside the four.
func (d *FileChangeApprovalDecision) UnmarshalJSON(b []byte) error {
	return unmarshalEnum(b, d, fileChangeDecisions)
}
