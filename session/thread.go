package session

import (
	"encoding/json"
	"sync"

	"app-server/netapproval"
	"app-server/protocol"
	"app-server/session/rollout"

	"github.com/google/uuid"
)

// Identity of the built-in agent, as thread responses report it.
const (
	shellModel    = "shell"
	shellProvider = "builtin"
)

// settings are a thread's effective settings; turns may change cwd and
// policy for themselves and later turns.
type settings struct {
	cwd     string
	policy  protocol.AskForApproval
	sandbox protocol.SandboxMode
	// model and provider choose the agent (models.go): shellModel and
	// shellProvider for the shell agent. effort overrides the configured
	// reasoning effort when set.
	model, provider, effort string
	// extraRoots are writable roots a turn's sandboxPolicy added, joined by
	// NUL (a string keeps settings comparable).
	extraRoots string
}

// override returns s with what a request sets: a cwd ("" keeps it), an
// approval policy, a sandbox mode (nil keeps them).
func (s settings) override(cwd string, policy *protocol.AskForApproval, sandbox *protocol.SandboxMode) settings {
	if cwd != "" {
		s.cwd = cwd
	}
	if policy != nil {
		s.policy = *policy
	}
	if sandbox != nil {
		s.sandbox = *sandbox
	}
	return s
}

// thread is a loaded thread. Its turns run one at a time in a goroutine the
// Manager owns.
type thread struct {
	id        uuid.UUID
	m         *Manager
	ephemeral bool
	createdAt int64 // unix seconds
	// net is the thread's network approval service; nil without a proxy.
	net *netapproval.Thread
	// rollout persists the thread; nil when ephemeral or without a store.
	rollout *rollout.File

	// emitMu orders the status notifications of the thread: the status is
	// computed and sent under it, so two changes cannot be sent out of order.
	emitMu sync.Mutex

	mu         sync.Mutex // guards the fields below
	settings   settings
	preview    string
	updatedAt  int64
	turns      []protocol.Turn // finished turns, items included
	running    *turn           // the turn in progress, nil when idle
	approvals  int             // approval requests waiting on the client
	lastStatus string          // tag of the last status sent, to skip repeats
	// sessionCommands holds command lines accepted for the session.
	sessionCommands map[string]bool
	// sessionPatchPaths holds files whose changes were accepted for the
	// session.
	sessionPatchPaths map[string]bool
	// conversation is what the model has seen, as Responses input items.
	conversation []json.RawMessage
	// tokenTotal is the token usage of the thread's model calls.
	tokenTotal protocol.TokenUsageBreakdown
}

func newThread(m *Manager, id uuid.UUID, ephemeral bool, createdAt int64, s settings) *thread {
	return &thread{
		id: id, m: m, ephemeral: ephemeral, createdAt: createdAt,
		settings: s, updatedAt: createdAt, sessionCommands: make(map[string]bool), sessionPatchPaths: make(map[string]bool),
	}
}

// statusLocked is the thread's status now.
func (t *thread) statusLocked() protocol.ThreadStatus {
	if t.running == nil {
		return protocol.StatusIdle()
	}
	if t.approvals > 0 {
		return protocol.StatusActive(protocol.FlagWaitingOnApproval)
	}
	return protocol.StatusActive()
}

// emitStatus sends thread/status/changed if the status differs from the
// last one sent.
func (t *thread) emitStatus() {
	t.emitMu.Lock()
	defer t.emitMu.Unlock()
	t.mu.Lock()
	st := t.statusLocked()
	tag := statusTag(st)
	changed := tag != t.lastStatus
	t.lastStatus = tag
	t.mu.Unlock()
	if changed {
		t.m.notify(protocol.MethodThreadStatusChanged, protocol.ThreadStatusChangedNotification{ThreadID: t.id.String(), Status: st})
	}
}

func statusTag(st protocol.ThreadStatus) string {
	switch {
	case st.Active != nil:
		s := "active"
		for _, f := range st.Active.ActiveFlags {
			s += "," + string(f)
		}
		return s
	case st.Idle != nil:
		return "idle"
	case st.NotLoaded != nil:
		return "notLoaded"
	}
	return "systemError"
}

// approvalPending counts an approval request in or out and updates the
// waitingOnApproval flag.
func (t *thread) approvalPending(delta int) {
	t.mu.Lock()
	t.approvals += delta
	t.mu.Unlock()
	t.emitStatus()
}

// snapshot returns the thread as the protocol shows it.
func (t *thread) snapshot(withTurns bool) protocol.Thread {
	t.mu.Lock()
	defer t.mu.Unlock()
	th := t.m.threadShell(t.id, t.ephemeral, t.createdAt, t.updatedAt, t.preview, t.settings.cwd)
	th.Status = t.statusLocked()
	model := t.settings.model
	th.Model, th.ModelProvider = &model, t.settings.provider
	if t.rollout != nil {
		p := t.rollout.Path()
		th.Path = &p
	}
	if withTurns {
		th.Turns = cloneTurns(t.turns)
	}
	return th
}

// responseSettings are the thread's settings as thread/start and
// thread/resume report them.
func (t *thread) responseSettings() protocol.ThreadSettings {
	t.mu.Lock()
	s := t.settings
	t.mu.Unlock()
	return protocol.ThreadSettings{
		Model:              s.model,
		ModelProvider:      s.provider,
		DisabledPluginIDs:  []string{},
		Cwd:                s.cwd,
		InstructionSources: []string{},
		ApprovalPolicy:     s.policy,
		ApprovalsReviewer:  protocol.ReviewerUser,
		Sandbox:            t.m.reportedSandbox(s.sandbox),
		ReasoningEffort:    reasoningEffort(s, t.m.cfg.Model.ModelReasoningEffort),
	}
}

// reasoningEffort is the effort a thread's model calls send; nil for the
// shell agent or when none is configured.
func reasoningEffort(s settings, configured string) *string {
	if s.model == shellModel {
		return nil
	}
	e := s.effort
	if e == "" {
		e = configured
	}
	if e == "" {
		return nil
	}
	return &e
}

// threadShell fills the fields every Thread message has.
func (m *Manager) threadShell(threadID uuid.UUID, ephemeral bool, createdAt, updatedAt int64, preview, cwd string) protocol.Thread {
	model := shellModel
	recency := updatedAt
	id := threadID.String()
	return protocol.Thread{
		ID:            id,
		SessionID:     id,
		Preview:       preview,
		Ephemeral:     ephemeral,
		Model:         &model,
		ModelProvider: shellProvider,
		HistoryMode:   protocol.HistoryLegacy,
		CreatedAt:     createdAt,
		UpdatedAt:     updatedAt,
		RecencyAt:     &recency,
		Status:        protocol.StatusNotLoaded(),
		Cwd:           cwd,
		CLIVersion:    m.cfg.Version,
		Source:        protocol.SourceAppServer,
		Turns:         []protocol.Turn{},
	}
}

func cloneTurns(turns []protocol.Turn) []protocol.Turn {
	out := make([]protocol.Turn, len(turns))
	copy(out, turns)
	for i := range out {
		out[i].Items = append([]protocol.ThreadItem{}, turns[i].Items...)
	}
	return out
}

// unload releases the thread's resources: its network service (denying
// pending prompts) and its file.
func (t *thread) unload() {
	if t.net != nil {
		t.net.Close()
	}
	if t.rollout != nil {
		if err := t.rollout.Close(); err != nil {
			t.m.log.Warn("closing thread rollout", "thread", t.id, "err", err)
		}
	}
}
