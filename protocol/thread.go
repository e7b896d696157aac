package protocol

// Thread is a conversation: a sequence of turns with its settings.
type Thread struct {
	ID string `json:"id"`
	// SessionID equals ID for threads this server creates.
	SessionID string `json:"sessionId"`
	// ForkedFromID is always null: this server does not fork threads.
	ForkedFromID *string `json:"forkedFromId"`
	// ParentThreadID is always null: this server has no sub-agents.
	ParentThreadID *string `json:"parentThreadId"`
	// Preview is the text of the thread's first user message, shortened.
	Preview   string `json:"preview"`
	Ephemeral bool   `json:"ephemeral"`
	// Model is the agent: "shell" for the built-in shell agent.
	Model            *string           `json:"model"`
	ModelProvider    string            `json:"modelProvider"`
	ReasoningEffort  *string           `json:"reasoningEffort"`
	ProjectID        *string           `json:"projectId" jsonschema:"required"`
	Section          *ThreadSection    `json:"section"`
	HistoryMode      ThreadHistoryMode `json:"historyMode"`
	CreatedAt        int64             `json:"createdAt"`
	UpdatedAt        int64             `json:"updatedAt"`
	RecencyAt        *int64            `json:"recencyAt"`
	SectionEnteredAt *int64            `json:"sectionEnteredAt"`
	Status           ThreadStatus      `json:"status"`
	// Path is the thread's rollout file, null for ephemeral threads.
	Path          *string       `json:"path"`
	Cwd           string        `json:"cwd"`
	CLIVersion    string        `json:"cliVersion"`
	Originator    *string       `json:"originator"`
	Source        SessionSource `json:"source"`
	ThreadSource  *string       `json:"threadSource"`
	AgentNickname *string       `json:"agentNickname"`
	AgentRole     *string       `json:"agentRole"`
	GitInfo       *GitInfo      `json:"gitInfo"`
	Name          *string       `json:"name"`
	// Turns is filled only where a response says so (thread/resume,
	// thread/read with includeTurns); elsewhere it is [].
	Turns []Turn `json:"turns"`
}

// ThreadSection is a user-defined grouping of threads. This server never sets
// one; the type exists so that Thread matches the published shape.
type ThreadSection struct {
	ID         string                   `json:"id"`
	Name       string                   `json:"name"`
	Appearance *ThreadSectionAppearance `json:"appearance"`
}

// ThreadSectionAppearance is how a client draws a thread section.
type ThreadSectionAppearance struct {
	Color *string `json:"color"`
	Icon  *string `json:"icon"`
}

// GitInfo describes the git checkout a thread runs in.
type GitInfo struct {
	SHA       *string `json:"sha"`
	Branch    *string `json:"branch"`
	OriginURL *string `json:"originUrl"`
}

// ThreadHistoryMode says how a thread's history is paged.
type ThreadHistoryMode string

const (
	HistoryLegacy    ThreadHistoryMode = "legacy"
	HistoryPaginated ThreadHistoryMode = "paginated"
)

// EnumValues implements Enum.
func (ThreadHistoryMode) EnumValues() []string {
	return enumStrings([]ThreadHistoryMode{HistoryLegacy, HistoryPaginated})
}

// SessionSource says which kind of client created a thread.
type SessionSource string

const (
	SourceCLI       SessionSource = "cli"
	SourceVSCode    SessionSource = "vscode"
	SourceExec      SessionSource = "exec"
	SourceAppServer SessionSource = "appServer"
	SourceUnknown   SessionSource = "unknown"
)

// EnumValues implements Enum.
func (SessionSource) EnumValues() []string {
	return enumStrings([]SessionSource{SourceCLI, SourceVSCode, SourceExec, SourceAppServer, SourceUnknown})
}

// ThreadStatus is a thread's runtime state.
type ThreadStatus struct {
	NotLoaded   *NotLoadedStatus   `union:"notLoaded,NotLoadedThreadStatus"`
	Idle        *IdleStatus        `union:"idle,IdleThreadStatus"`
	SystemError *SystemErrorStatus `union:"systemError,SystemErrorThreadStatus"`
	Active      *ActiveStatus      `union:"active,ActiveThreadStatus"`
}

// NotLoadedStatus: the thread is persisted but not loaded in this server.
type NotLoadedStatus struct{}

// IdleStatus: loaded, no turn running.
type IdleStatus struct{}

// SystemErrorStatus: the thread failed in a way that needs a restart.
type SystemErrorStatus struct{}

// ActiveStatus: a turn is running.
type ActiveStatus struct {
	// ActiveFlags holds waitingOnApproval while an approval is pending.
	ActiveFlags []ThreadActiveFlag `json:"activeFlags"`
}

// Status constructors.
func StatusNotLoaded() ThreadStatus { return ThreadStatus{NotLoaded: &NotLoadedStatus{}} }
func StatusIdle() ThreadStatus      { return ThreadStatus{Idle: &IdleStatus{}} }
func StatusActive(flags ...ThreadActiveFlag) ThreadStatus {
	if flags == nil {
		flags = []ThreadActiveFlag{}
	}
	return ThreadStatus{Active: &ActiveStatus{ActiveFlags: flags}}
}

func (ThreadStatus) UnionKind() UnionKind            { return TaggedUnion }
func (ThreadStatus) Variants() []Variant             { return taggedVariants[ThreadStatus]() }
func (u ThreadStatus) MarshalJSON() ([]byte, error)  { return marshalTagged(u) }
func (u *ThreadStatus) UnmarshalJSON(b []byte) error { return unmarshalTagged(b, u) }

// ThreadActiveFlag qualifies an active thread.
type ThreadActiveFlag string

const (
	FlagWaitingOnApproval  ThreadActiveFlag = "waitingOnApproval"
	FlagWaitingOnUserInput ThreadActiveFlag = "waitingOnUserInput"
)

// EnumValues implements Enum.
func (ThreadActiveFlag) EnumValues() []string {
	return enumStrings([]ThreadActiveFlag{FlagWaitingOnApproval, FlagWaitingOnUserInput})
}
