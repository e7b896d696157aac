package session

import (
	"context"
	"errors"
	"sync"

	"app-server/protocol"

	"github.com/google/uuid"
)

// errInterrupted is the cause of a turn context cancelled by turn/interrupt
// or a cancel decision.
var errInterrupted = errors.New("turn interrupted")

// turn is one running turn. Its goroutine (run) is the only writer of items;
// interrupt may be called from any goroutine.
type turn struct {
	id        uuid.UUID
	t         *thread
	input     []protocol.UserInput
	settings  settings // as of the turn's start
	agent     Agent    // as of the turn's start
	startedAt int64    // unix ms
	// streamStarted holds when the streamed items in progress started
	// (unix ms, by item id); the turn's goroutine only.
	streamStarted map[uuid.UUID]int64

	ctx    context.Context
	cancel context.CancelCauseFunc

	mu    sync.Mutex // guards items
	items []protocol.ThreadItem
}

// StartTurn starts a turn and answers with it at once; the returned function
// (called by rpc right after the response is written) starts the work, so no
// turn notification can precede the response.
func (m *Manager) StartTurn(_ context.Context, p *protocol.TurnStartParams) (*protocol.TurnStartResponse, func(), error) {
	t, err := m.loaded(p.ThreadID)
	if err != nil {
		return nil, nil, err
	}
	cwd, err := requestCwd(p.Cwd)
	if err != nil {
		return nil, nil, err
	}

	t.mu.Lock()
	if t.running != nil {
		running := t.running.id
		t.mu.Unlock()
		return nil, nil, protocol.Errorf(protocol.ErrInvalidRequest, "a turn is already running on thread %s (turn %s); interrupt it or wait for turn/completed", t.id, running)
	}
	mode, extraRoots, err := turnSandbox(p.SandboxPolicy)
	if err != nil {
		t.mu.Unlock()
		return nil, nil, err
	}
	next, err := m.turnModel(t.settings.override(cwd, p.ApprovalPolicy, mode), p)
	if mode != nil {
		next.extraRoots = extraRoots
	}
	if err != nil {
		t.mu.Unlock()
		return nil, nil, err
	}
	agent, err := m.agentFor(t.id, next)
	if err == nil {
		err = agent.Validate(p.Input)
	}
	if err != nil {
		t.mu.Unlock()
		return nil, nil, invalidParams("%v", err)
	}
	// The request is valid: its settings become the thread's.
	changed := next != t.settings
	t.settings = next
	if t.preview == "" {
		t.preview, changed = previewOf(p.Input), true
	}
	tu := &turn{id: newID(), t: t, input: p.Input, settings: t.settings, agent: agent, startedAt: m.nowMs(), streamStarted: map[uuid.UUID]int64{}}
	tu.ctx, tu.cancel = context.WithCancelCause(m.ctx)
	t.running = tu
	t.updatedAt = tu.startedAt / 1000
	t.mu.Unlock()

	if changed {
		t.persistSettings()
	}
	resp := &protocol.TurnStartResponse{Turn: protocol.Turn{
		ID: tu.id.String(), Items: []protocol.ThreadItem{}, ItemsView: protocol.ItemsNotLoaded, Status: protocol.TurnInProgress,
	}}
	start := func() {
		if !m.goWork(tu.run) {
			tu.cancel(errInterrupted)
			tu.finish(protocol.TurnInterrupted, nil)
		}
	}
	return resp, start, nil
}

// InterruptTurn stops a running turn. It answers at once; the turn ends
// with turn/completed (interrupted) when its command is gone.
func (m *Manager) InterruptTurn(_ context.Context, p *protocol.TurnInterruptParams) (*protocol.TurnInterruptResponse, error) {
	t, err := m.loaded(p.ThreadID)
	if err != nil {
		return nil, err
	}
	turnID, ok := parseID(p.TurnID)
	if !ok || !t.interrupt(turnID) {
		return nil, invalidParams("turn %s is not running on thread %s", p.TurnID, p.ThreadID)
	}
	return &protocol.TurnInterruptResponse{}, nil
}

// interrupt cancels the running turn if its id is turnID: its command's
// process group is killed and its pending approvals resolve as denied.
func (t *thread) interrupt(turnID uuid.UUID) bool {
	t.mu.Lock()
	tu := t.running
	t.mu.Unlock()
	if tu == nil || tu.id != turnID {
		return false
	}
	tu.cancel(errInterrupted)
	if t.net != nil {
		t.net.Interrupt()
	}
	return true
}

// run is the turn's goroutine.
func (tu *turn) run() {
	t, m := tu.t, tu.t.m
	started := tu.startedAt / 1000
	t.persistTurnStarted(tu.id, started)
	t.emitStatus()
	m.notify(protocol.MethodTurnStarted, protocol.TurnStartedNotification{ThreadID: t.id.String(), Turn: protocol.Turn{
		ID: tu.id.String(), Items: []protocol.ThreadItem{}, ItemsView: protocol.ItemsNotLoaded, Status: protocol.TurnInProgress, StartedAt: &started,
	}})

	now := m.nowMs()
	user := protocol.ThreadItem{UserMessage: &protocol.UserMessageItem{ID: newID().String(), Content: tu.input, StartedAtMs: &now}}
	tu.itemStarted(user, now)
	user.UserMessage.CompletedAtMs = &now
	tu.itemCompleted(user, now)

	err := tu.agent.Run(tu.ctx, tu.input, tu)
	var failure *turnFailure
	switch {
	case tu.ctx.Err() != nil:
		tu.finish(protocol.TurnInterrupted, nil)
	case errors.As(err, &failure):
		tu.finish(protocol.TurnFailed, &failure.te)
	case err != nil:
		tu.finish(protocol.TurnFailed, &protocol.TurnError{Message: err.Error()})
	default:
		tu.finish(protocol.TurnCompleted, nil)
	}
}

// finish records the turn's end, makes the thread idle and says so.
func (tu *turn) finish(status protocol.TurnStatus, turnErr *protocol.TurnError) {
	t, m := tu.t, tu.t.m
	tu.cancel(nil) // release the context; a no-op after an interrupt
	end := m.nowMs()
	started, completed, duration := tu.startedAt/1000, end/1000, end-tu.startedAt
	tu.mu.Lock()
	items := append([]protocol.ThreadItem{}, tu.items...)
	tu.mu.Unlock()
	done := protocol.Turn{
		ID: tu.id.String(), Items: items, ItemsView: protocol.ItemsFull, Status: status, Error: turnErr,
		StartedAt: &started, CompletedAt: &completed, DurationMs: &duration,
	}
	if turnErr != nil {
		m.notify(protocol.MethodError, protocol.ErrorNotification{ThreadID: t.id.String(), TurnID: tu.id.String(), Error: *turnErr})
	}
	t.persistTurnCompleted(done)
	t.mu.Lock()
	t.turns = append(t.turns, done)
	t.running = nil
	t.updatedAt = completed
	t.mu.Unlock()
	t.emitStatus()
	m.notify(protocol.MethodTurnCompleted, protocol.TurnCompletedNotification{ThreadID: t.id.String(), Turn: done})
}

func (tu *turn) itemStarted(item protocol.ThreadItem, atMs int64) {
	tu.t.m.notify(protocol.MethodItemStarted, protocol.ItemStartedNotification{
		ThreadID: tu.t.id.String(), TurnID: tu.id.String(), Item: item, StartedAtMs: atMs,
	})
}

// itemCompleted records a finished item (persisted, fsynced) and says so.
func (tu *turn) itemCompleted(item protocol.ThreadItem, atMs int64) {
	tu.mu.Lock()
	tu.items = append(tu.items, item)
	tu.mu.Unlock()
	tu.t.persistItemCompleted(tu.id, item)
	tu.t.m.notify(protocol.MethodItemCompleted, protocol.ItemCompletedNotification{
		ThreadID: tu.t.id.String(), TurnID: tu.id.String(), Item: item, CompletedAtMs: atMs,
	})
}

// previewOf is the thread preview: the first text input, shortened.
func previewOf(input []protocol.UserInput) string {
	for _, in := range input {
		if in.Text != nil {
			s := in.Text.Text
			if r := []rune(s); len(r) > 80 {
				s = string(r[:80])
			}
			return s
		}
	}
	return ""
}
