package protocol

import (
	"reflect"
)

// Direction says who sends a method and whether it expects a response.
type Direction int

const (
	// ClientRequest: client to server, answered with Result.
	ClientRequest Direction = iota + 1
	// ClientNotification: client to server, no answer.
	ClientNotification
	// ServerRequest: server to client, answered with Result.
	ServerRequest
	// ServerNotification: server to client, no answer.
	ServerNotification
)

// Scope says which requests must be handled in order relative to each other.
type Scope int

const (
	// ScopeConnection: ordered with the other connection-scoped requests.
	ScopeConnection Scope = iota
	// ScopeThread: ordered with the other requests naming the same threadId;
	// requests on different threads may run concurrently.
	ScopeThread
	// ScopeRequest: runs on its own, concurrently with everything else
	// (command/exec, which lasts as long as its command).
	ScopeRequest
)

// Method describes one method of the protocol. The table below is the only
// list of methods: dispatch and schema generation both read it.
type Method struct {
	Name      string
	Direction Direction
	// Params and Result are the Go types of the params and the result
	// (Result is nil for notifications).
	Params reflect.Type
	Result reflect.Type
	// Scope orders client requests (see Scope).
	Scope Scope
	// Extension marks methods that the Codex protocol does not have.
	Extension bool
}

// Method names.
const (
	MethodInitialize         = "initialize"
	MethodInitialized        = "initialized"
	MethodThreadStart        = "thread/start"
	MethodThreadResume       = "thread/resume"
	MethodThreadRead         = "thread/read"
	MethodThreadList         = "thread/list"
	MethodThreadLoadedList   = "thread/loaded/list"
	MethodThreadArchive      = "thread/archive"
	MethodThreadUnarchive    = "thread/unarchive"
	MethodThreadUnsubscribe  = "thread/unsubscribe"
	MethodTurnStart          = "turn/start"
	MethodTurnInterrupt      = "turn/interrupt"
	MethodCommandExec        = "command/exec"
	MethodGrantsList         = "network/grants/list"
	MethodGrantsRevoke       = "network/grants/revoke"
	MethodNetworkSettings    = "network/settings/read"
	MethodModelList          = "model/list"
	MethodCommandRulesList   = "command/rules/list"
	MethodCommandRulesRevoke = "command/rules/revoke"

	MethodCommandApproval    = "item/commandExecution/requestApproval"
	MethodFileChangeApproval = "item/fileChange/requestApproval"

	MethodThreadStarted        = "thread/started"
	MethodThreadStatusChanged  = "thread/status/changed"
	MethodThreadArchived       = "thread/archived"
	MethodThreadUnarchived     = "thread/unarchived"
	MethodTurnStarted          = "turn/started"
	MethodTurnCompleted        = "turn/completed"
	MethodItemStarted          = "item/started"
	MethodItemCompleted        = "item/completed"
	MethodCommandOutputDelta   = "item/commandExecution/outputDelta"
	MethodCommandExecOutput    = "command/exec/outputDelta"
	MethodServerRequestResolve = "serverRequest/resolved"
	MethodError                = "error"
	MethodWarning              = "warning"
	MethodGrantsUpdated        = "network/grants/updated"
	MethodAgentMessageDelta    = "item/agentMessage/delta"
	MethodReasoningPartAdded   = "item/reasoning/summaryPartAdded"
	MethodReasoningTextDelta   = "item/reasoning/summaryTextDelta"
	MethodReasoningRawDelta    = "item/reasoning/textDelta"
	MethodTokenUsageUpdated    = "thread/tokenUsage/updated"
)

// InitializedParams is the (empty) params of the initialized notification.
type InitializedParams struct{}

func request[P, R any](name string, scope Scope) Method {
	return Method{Name: name, Direction: ClientRequest, Params: reflect.TypeFor[P](), Result: reflect.TypeFor[R](), Scope: scope}
}

func notification[P any](name string) Method {
	return Method{Name: name, Direction: ServerNotification, Params: reflect.TypeFor[P]()}
}

func extension(m Method) Method {
	m.Extension = true
	return m
}

// Methods is the method table, in a stable order.
var Methods = []Method{
	request[InitializeParams, InitializeResponse](MethodInitialize, ScopeConnection),
	{Name: MethodInitialized, Direction: ClientNotification, Params: reflect.TypeFor[InitializedParams]()},
	request[ThreadStartParams, ThreadStartResponse](MethodThreadStart, ScopeConnection),
	request[ThreadResumeParams, ThreadResumeResponse](MethodThreadResume, ScopeThread),
	request[ThreadReadParams, ThreadReadResponse](MethodThreadRead, ScopeThread),
	request[ThreadListParams, ThreadListResponse](MethodThreadList, ScopeConnection),
	request[ThreadLoadedListParams, ThreadLoadedListResponse](MethodThreadLoadedList, ScopeConnection),
	request[ThreadArchiveParams, ThreadArchiveResponse](MethodThreadArchive, ScopeThread),
	request[ThreadUnarchiveParams, ThreadUnarchiveResponse](MethodThreadUnarchive, ScopeThread),
	request[ThreadUnsubscribeParams, ThreadUnsubscribeResponse](MethodThreadUnsubscribe, ScopeThread),
	request[TurnStartParams, TurnStartResponse](MethodTurnStart, ScopeThread),
	request[TurnInterruptParams, TurnInterruptResponse](MethodTurnInterrupt, ScopeThread),
	request[CommandExecParams, CommandExecResponse](MethodCommandExec, ScopeRequest),
	request[ModelListParams, ModelListResponse](MethodModelList, ScopeConnection),
	extension(request[NetworkGrantsListParams, NetworkGrantsListResponse](MethodGrantsList, ScopeThread)),
	extension(request[NetworkGrantsRevokeParams, NetworkGrantsRevokeResponse](MethodGrantsRevoke, ScopeThread)),
	extension(request[NetworkSettingsReadParams, NetworkSettingsReadResponse](MethodNetworkSettings, ScopeConnection)),
	extension(request[CommandRulesListParams, CommandRulesListResponse](MethodCommandRulesList, ScopeThread)),
	extension(request[CommandRulesRevokeParams, CommandRulesRevokeResponse](MethodCommandRulesRevoke, ScopeThread)),

	{Name: MethodCommandApproval, Direction: ServerRequest,
		Params: reflect.TypeFor[CommandExecutionRequestApprovalParams](), Result: reflect.TypeFor[CommandExecutionRequestApprovalResponse]()},
	{Name: MethodFileChangeApproval, Direction: ServerRequest,
		Params: reflect.TypeFor[FileChangeRequestApprovalParams](), Result: reflect.TypeFor[FileChangeRequestApprovalResponse]()},

	notification[ErrorNotification](MethodError),
	notification[ThreadStartedNotification](MethodThreadStarted),
	notification[ThreadStatusChangedNotification](MethodThreadStatusChanged),
	notification[ThreadArchivedNotification](MethodThreadArchived),
	notification[ThreadUnarchivedNotification](MethodThreadUnarchived),
	notification[TurnStartedNotification](MethodTurnStarted),
	notification[TurnCompletedNotification](MethodTurnCompleted),
	notification[ItemStartedNotification](MethodItemStarted),
	notification[ItemCompletedNotification](MethodItemCompleted),
	notification[CommandExecOutputDeltaNotification](MethodCommandExecOutput),
	notification[CommandExecutionOutputDeltaNotification](MethodCommandOutputDelta),
	notification[ServerRequestResolvedNotification](MethodServerRequestResolve),
	notification[WarningNotification](MethodWarning),
	notification[AgentMessageDeltaNotification](MethodAgentMessageDelta),
	notification[ReasoningSummaryPartAddedNotification](MethodReasoningPartAdded),
	notification[ReasoningSummaryTextDeltaNotification](MethodReasoningTextDelta),
	notification[ReasoningTextDeltaNotification](MethodReasoningRawDelta),
	notification[ThreadTokenUsageUpdatedNotification](MethodTokenUsageUpdated),
	extension(notification[NetworkGrantsUpdatedNotification](MethodGrantsUpdated)),
}

var methodsByName = func() map[string]*Method {
	m := make(map[string]*Method, len(Methods))
	for i := range Methods {
		if _, dup := m[Methods[i].Name]; dup {
			panic("protocol: method listed twice: " + Methods[i].Name)
		}
		m[Methods[i].Name] = &Methods[i]
	}
	return m
}()

// LookupMethod returns the method named name.
func LookupMethod(name string) (*Method, bool) {
	m, ok := methodsByName[name]
	return m, ok
}
