package session

import (
	"app-server/protocol"
	"app-server/session/rollout"

	"github.com/google/uuid"
)

func (m *Manager) createRollout(t *thread) (*rollout.File, error) {
	t.mu.Lock()
	meta := rollout.ThreadMeta{
		ID: t.id, CreatedAt: t.createdAt, Cwd: t.settings.cwd,
		ApprovalPolicy: t.settings.policy, Sandbox: t.settings.sandbox,
		Model: t.settings.model, ModelProvider: t.settings.provider, Preview: t.preview, CLIVersion: m.cfg.Version,
	}
	t.mu.Unlock()
	return m.store.Create(meta)
}

// persist appends rec to the thread's rollout when it is persisted. Items
// and turn ends are fsynced, so a completed item survives a server crash.
// A write error is logged and reported to the client as a warning, and
// persist reports false; the turn goes on, since the work itself has
// happened.
func (t *thread) persist(rec rollout.Record, sync bool) bool {
	if t.rollout == nil {
		return true
	}
	if err := t.rollout.Append(rec, sync); err != nil {
		t.m.log.Error("persisting thread", "thread", t.id, "record", rec.Type, "err", err)
		t.m.warn(t.id, "could not save thread history: "+err.Error())
		return false
	}
	return true
}

func (t *thread) persistTurnStarted(turnID uuid.UUID, startedAt int64) {
	t.persist(rollout.TurnStartedRecord(turnID, startedAt), false)
}

// persistItemStarted records a command item before it runs, fsynced, so
// that a crash while it runs leaves it in the history.
func (t *thread) persistItemStarted(turnID uuid.UUID, item protocol.ThreadItem) {
	t.persist(rollout.ItemStartedRecord(turnID, item), true)
}

func (t *thread) persistItemCompleted(turnID uuid.UUID, item protocol.ThreadItem) {
	t.persist(rollout.ItemCompletedRecord(turnID, item), true)
}

func (t *thread) persistTurnCompleted(turn protocol.Turn) {
	t.persist(rollout.TurnCompletedRecord(turn), true)
}

// persistSettings records the thread's current settings and preview.
func (t *thread) persistSettings() {
	t.mu.Lock()
	s, preview := t.settings, t.preview
	t.mu.Unlock()
	t.persist(rollout.MetaRecord(rollout.MetaUpdate{
		Cwd: &s.cwd, ApprovalPolicy: &s.policy, Sandbox: &s.sandbox, Preview: &preview,
		Model: &s.model, ModelProvider: &s.provider, ReasoningEffort: &s.effort,
	}), true)
}

// threadFromLoaded rebuilds a thread from its rollout. Settings missing
// from the file fall back to the server's defaults.
func threadFromLoaded(m *Manager, lt *rollout.LoadedThread) *thread {
	s := settings{cwd: lt.Meta.Cwd, policy: lt.Meta.ApprovalPolicy, sandbox: lt.Meta.Sandbox,
		model: lt.Meta.Model, provider: lt.Meta.ModelProvider, effort: lt.Meta.ReasoningEffort}
	if s.model == "" || s.provider == "" {
		s.model, s.provider = shellModel, shellProvider
	}
	if s.policy == "" {
		s.policy = m.cfg.ApprovalPolicy
	}
	if s.sandbox == "" {
		s.sandbox = m.cfg.Sandbox
	}
	t := newThread(m, lt.Meta.ID, false, lt.Meta.CreatedAt, s)
	t.preview = lt.Meta.Preview
	t.updatedAt = lt.UpdatedAt
	t.turns = lt.Turns
	t.conversation = lt.ModelInput
	return t
}

// summaryThread is the protocol view of a thread that is listed, not loaded.
func (m *Manager) summaryThread(s rollout.ThreadSummary) protocol.Thread {
	th := m.threadShell(s.Meta.ID, false, s.Meta.CreatedAt, s.UpdatedAt, s.Meta.Preview, s.Meta.Cwd)
	if s.Meta.Model != "" {
		model := s.Meta.Model
		th.Model, th.ModelProvider = &model, s.Meta.ModelProvider
	}
	path := s.Path
	th.Path = &path
	return th
}
