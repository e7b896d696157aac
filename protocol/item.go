package protocol

// ThreadItem is one entry of a turn.
type ThreadItem struct {
	UserMessage      *UserMessageItem      `union:"userMessage,UserMessageThreadItem"`
	AgentMessage     *AgentMessageItem     `union:"agentMessage,AgentMessageThreadItem"`
	CommandExecution *CommandExecutionItem `union:"commandExecution,CommandExecutionThreadItem"`
	Reasoning        *ReasoningItem        `union:"reasoning,ReasoningThreadItem"`
	FileChange       *FileChangeItem       `union:"fileChange,FileChangeThreadItem"`
}

func (ThreadItem) UnionKind() UnionKind            { return TaggedUnion }
func (ThreadItem) Variants() []Variant             { return taggedVariants[ThreadItem]() }
func (u ThreadItem) MarshalJSON() ([]byte, error)  { return marshalTagged(u) }
func (u *ThreadItem) UnmarshalJSON(b []byte) error { return unmarshalTagged(b, u) }

// ID returns the id of the item's variant.
func (u ThreadItem) ID() string {
	switch {
	case u.UserMessage != nil:
		return u.UserMessage.ID
	case u.AgentMessage != nil:
		return u.AgentMessage.ID
	case u.CommandExecution != nil:
		return u.CommandExecution.ID
	case u.Reasoning != nil:
		return u.Reasoning.ID
	case u.FileChange != nil:
		return u.FileChange.ID
	}
	return ""
}

// UserMessageItem is the user's input to a turn.
type UserMessageItem struct {
	ID            string      `json:"id"`
	ClientID      *string     `json:"clientId"`
	Content       []UserInput `json:"content"`
	StartedAtMs   *int64      `json:"startedAtMs"`
	CompletedAtMs *int64      `json:"completedAtMs"`
}

// AgentMessageItem is text the agent says.
type AgentMessageItem struct {
	ID   string `json:"id"`
	Text string `json:"text"`
	// Phase classifies the text (commentary, partial or final answer); null
	// when unknown, which is always the case for the shell agent.
	Phase *MessagePhase `json:"phase"`
	// MemoryCitation, Delivery, Moderation and Questions are part of the
	// published item; this server never sets them and writes null.
	MemoryCitation *MemoryCitation           `json:"memoryCitation"`
	Delivery       *AgentMessageDelivery     `json:"delivery"`
	Moderation     *AgentMessageModeration   `json:"moderation"`
	Questions      *[]AsyncUserInputQuestion `json:"questions"`
	StartedAtMs    *int64                    `json:"startedAtMs"`
	CompletedAtMs  *int64                    `json:"completedAtMs"`
}

// MessagePhase classifies assistant text.
type MessagePhase string

const (
	PhaseCommentary    MessagePhase = "commentary"
	PhasePartialAnswer MessagePhase = "partial_answer"
	PhaseFinalAnswer   MessagePhase = "final_answer"
)

// EnumValues implements Enum.
func (MessagePhase) EnumValues() []string {
	return enumStrings([]MessagePhase{PhaseCommentary, PhasePartialAnswer, PhaseFinalAnswer})
}

// AgentMessageDelivery says how an agent message is delivered.
type AgentMessageDelivery string

// DeliveryAsync: the message arrives outside the turn's stream.
const DeliveryAsync AgentMessageDelivery = "async"

// EnumValues implements Enum.
func (AgentMessageDelivery) EnumValues() []string {
	return enumStrings([]AgentMessageDelivery{DeliveryAsync})
}

// MemoryCitation points at the memory entries an agent message relies on.
type MemoryCitation struct {
	Entries   []MemoryCitationEntry `json:"entries"`
	ThreadIDs []string              `json:"threadIds"`
}

// MemoryCitationEntry is one cited span of a memory file.
type MemoryCitationEntry struct {
	Path      string `json:"path"`
	LineStart uint32 `json:"lineStart"`
	LineEnd   uint32 `json:"lineEnd"`
	Note      string `json:"note"`
}

// AgentMessageModeration says whether an agent message was moderated.
type AgentMessageModeration struct {
	Moderated bool                 `json:"moderated"`
	Display   *AgentMessageDisplay `json:"display"`
}

// AgentMessageDisplay is a presentation instruction for a moderated message.
type AgentMessageDisplay struct {
	Action               string  `json:"action"`
	BlockType            *string `json:"blockType"`
	CheckTrustedContacts *bool   `json:"checkTrustedContacts"`
	CyberTrustedAccess   *bool   `json:"cyberTrustedAccess"`
}

// AsyncUserInputQuestion is a question an agent message asks the user.
type AsyncUserInputQuestion struct {
	Title   string   `json:"title"`
	Options []string `json:"options,omitempty"`
}

// CommandExecutionItem is one command a turn runs.
type CommandExecutionItem struct {
	ID string `json:"id"`
	// PluginID and ScriptPath name a plugin script the command resolves
	// to; this server has no plugins and writes null.
	PluginID   *string `json:"pluginId"`
	ScriptPath *string `json:"scriptPath"`
	// Command is the command line as the user sees it.
	Command string `json:"command"`
	// Cwd is the absolute directory the command runs in.
	Cwd            string                 `json:"cwd"`
	ProcessID      *string                `json:"processId"`
	Source         CommandExecutionSource `json:"source"`
	Status         CommandExecutionStatus `json:"status"`
	CommandActions []CommandAction        `json:"commandActions"`
	// AggregatedOutput is the tail (at most 1 MiB) of stdout and stderr
	// interleaved as they arrived; null until the command completes. When the
	// managed proxy denied a request of the command, a line saying why ends it.
	AggregatedOutput *string `json:"aggregatedOutput"`
	ExitCode         *int32  `json:"exitCode"`
	DurationMs       *int64  `json:"durationMs"`
	StartedAtMs      *int64  `json:"startedAtMs"`
	CompletedAtMs    *int64  `json:"completedAtMs"`
}

// CommandExecutionStatus is where a command item is in its life.
type CommandExecutionStatus string

const (
	CommandInProgress CommandExecutionStatus = "inProgress"
	CommandCompleted  CommandExecutionStatus = "completed"
	CommandFailed     CommandExecutionStatus = "failed"
	CommandDeclined   CommandExecutionStatus = "declined"
)

// EnumValues implements Enum.
func (CommandExecutionStatus) EnumValues() []string {
	return enumStrings([]CommandExecutionStatus{CommandInProgress, CommandCompleted, CommandFailed, CommandDeclined})
}

// CommandExecutionSource says who started a command.
type CommandExecutionSource string

const (
	SourceAgent                  CommandExecutionSource = "agent"
	SourceUserShell              CommandExecutionSource = "userShell"
	SourceUnifiedExecStartup     CommandExecutionSource = "unifiedExecStartup"
	SourceUnifiedExecInteraction CommandExecutionSource = "unifiedExecInteraction"
)

// EnumValues implements Enum.
func (CommandExecutionSource) EnumValues() []string {
	return enumStrings([]CommandExecutionSource{SourceAgent, SourceUserShell, SourceUnifiedExecStartup, SourceUnifiedExecInteraction})
}
