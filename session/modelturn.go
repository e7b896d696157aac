package session

import (
	"context"
	"encoding/json"

	"app-server/protocol"
	"app-server/session/rollout"

	"github.com/google/uuid"
)

// The turn's side of the model agent's Actions: streamed items, the
// conversation, usage and retries.

// RunCommandCall implements Actions.
func (tu *turn) RunCommandCall(ctx context.Context, call CommandCall) CommandOutcome {
	return tu.runCommand(ctx, newID(), call.Line, call.Dir)
}

// Items implements Actions: the turn itself streams the items.
func (tu *turn) Items() ItemStream { return tu }

// StartMessage implements ItemStream.
func (tu *turn) StartMessage(id uuid.UUID) {
	now := tu.t.m.nowMs()
	tu.itemStarted(protocol.ThreadItem{AgentMessage: &protocol.AgentMessageItem{ID: id.String(), StartedAtMs: &now}}, now)
	tu.streamStarted[id] = now
}

// MessageDelta implements ItemStream.
func (tu *turn) MessageDelta(id uuid.UUID, delta string) {
	tu.t.m.notify(protocol.MethodAgentMessageDelta, protocol.AgentMessageDeltaNotification{
		ThreadID: tu.t.id.String(), TurnID: tu.id.String(), ItemID: id.String(), Delta: delta,
	})
}

// CompleteMessage implements ItemStream.
func (tu *turn) CompleteMessage(id uuid.UUID, text string) {
	now := tu.t.m.nowMs()
	started := tu.streamStart(id, now)
	tu.itemCompleted(protocol.ThreadItem{AgentMessage: &protocol.AgentMessageItem{ID: id.String(), Text: text, StartedAtMs: &started, CompletedAtMs: &now}}, now)
}

// StartReasoning implements ItemStream.
func (tu *turn) StartReasoning(id uuid.UUID) {
	now := tu.t.m.nowMs()
	tu.itemStarted(protocol.ThreadItem{Reasoning: &protocol.ReasoningItem{ID: id.String(), Summary: []string{}, Content: []string{}, StartedAtMs: &now}}, now)
	tu.streamStarted[id] = now
}

// ReasoningPart implements ItemStream.
func (tu *turn) ReasoningPart(id uuid.UUID, index int64) {
	tu.t.m.notify(protocol.MethodReasoningPartAdded, protocol.ReasoningSummaryPartAddedNotification{
		ThreadID: tu.t.id.String(), TurnID: tu.id.String(), ItemID: id.String(), SummaryIndex: index,
	})
}

// ReasoningDelta implements ItemStream.
func (tu *turn) ReasoningDelta(id uuid.UUID, index int64, delta string) {
	tu.t.m.notify(protocol.MethodReasoningTextDelta, protocol.ReasoningSummaryTextDeltaNotification{
		ThreadID: tu.t.id.String(), TurnID: tu.id.String(), ItemID: id.String(), Delta: delta, SummaryIndex: index,
	})
}

// ReasoningTextDelta implements ItemStream.
func (tu *turn) ReasoningTextDelta(id uuid.UUID, index int64, delta string) {
	tu.t.m.notify(protocol.MethodReasoningRawDelta, protocol.ReasoningTextDeltaNotification{
		ThreadID: tu.t.id.String(), TurnID: tu.id.String(), ItemID: id.String(), Delta: delta, ContentIndex: index,
	})
}

// CompleteReasoning implements ItemStream.
func (tu *turn) CompleteReasoning(id uuid.UUID, summary, content []string) {
	now := tu.t.m.nowMs()
	started := tu.streamStart(id, now)
	if summary == nil {
		summary = []string{}
	}
	if content == nil {
		content = []string{}
	}
	tu.itemCompleted(protocol.ThreadItem{Reasoning: &protocol.ReasoningItem{ID: id.String(), Summary: summary, Content: content, StartedAtMs: &started, CompletedAtMs: &now}}, now)
}

// streamStart returns when a streamed item started (now if it was never
// announced) and forgets it.
func (tu *turn) streamStart(id uuid.UUID, now int64) int64 {
	started, ok := tu.streamStarted[id]
	if !ok {
		return now
	}
	delete(tu.streamStarted, id)
	return started
}

// Conversation implements Actions.
func (tu *turn) Conversation() []json.RawMessage {
	tu.t.mu.Lock()
	defer tu.t.mu.Unlock()
	return append([]json.RawMessage(nil), tu.t.conversation...)
}

// Remember implements Actions. The record is not fsynced on its own: the
// item or turn record that follows it is.
func (tu *turn) Remember(items ...json.RawMessage) {
	tu.t.mu.Lock()
	tu.t.conversation = append(tu.t.conversation, items...)
	tu.t.mu.Unlock()
	tu.t.persist(rollout.ModelInputRecord(items), false)
}

// TokenUsage implements Actions.
func (tu *turn) TokenUsage(last protocol.TokenUsageBreakdown) {
	t := tu.t
	t.mu.Lock()
	t.tokenTotal = t.tokenTotal.Add(last)
	total := t.tokenTotal
	t.mu.Unlock()
	t.m.notify(protocol.MethodTokenUsageUpdated, protocol.ThreadTokenUsageUpdatedNotification{
		ThreadID: t.id.String(), TurnID: tu.id.String(),
		TokenUsage: protocol.ThreadTokenUsage{Last: last, Total: total},
	})
}

// Retrying implements Actions.
func (tu *turn) Retrying(turnErr protocol.TurnError) {
	tu.t.m.notify(protocol.MethodError, protocol.ErrorNotification{
		ThreadID: tu.t.id.String(), TurnID: tu.id.String(), Error: turnErr, WillRetry: true,
	})
}
