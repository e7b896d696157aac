package rollout

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"

	"app-server/protocol"
)

// RecordType tags a Record.
type RecordType string

const (
	RecordThread        RecordType = "thread"
	RecordMeta          RecordType = "meta"
	RecordTurnStarted   RecordType = "turnStarted"
	RecordItemStarted   RecordType = "itemStarted"
	RecordItemCompleted RecordType = "itemCompleted"
	RecordTurnCompleted RecordType = "turnCompleted"
	// RecordItemOutput adds output to a command item in progress, so that
	// a crash while it runs keeps what it printed.
	RecordItemOutput RecordType = "itemOutput"
	// RecordModelInput appends to the conversation a model has seen
	// (Responses input items), so that a resumed thread sends it all again.
	RecordModelInput RecordType = "modelInput"
	// recordTornLine followed a line that a crash cut short, in rollouts
	// of earlier versions; Load ignores it.
	recordTornLine RecordType = "tornLine"
)

// ThreadMeta is what a rollout's first line says about its thread.
type ThreadMeta struct {
	ID uuid.UUID `json:"id"`
	// CreatedAt is in unix seconds.
	CreatedAt int64  `json:"createdAt"`
	Cwd       string `json:"cwd"`
	// ApprovalPolicy and Sandbox are omitted when empty (unset).
	ApprovalPolicy protocol.AskForApproval `json:"approvalPolicy,omitempty"`
	Sandbox        protocol.SandboxMode    `json:"sandbox,omitempty"`
	// Model and ModelProvider choose the agent: "shell" and "builtin" for
	// the shell agent, else a model and its provider id.
	Model         string `json:"model"`
	ModelProvider string `json:"modelProvider"`
	// ReasoningEffort overrides the configured effort when set.
	ReasoningEffort string `json:"reasoningEffort,omitempty"`
	Preview         string `json:"preview"`
	CLIVersion      string `json:"cliVersion"`
}

// MetaUpdate changes the thread's settings; nil fields stay as they were.
type MetaUpdate struct {
	Cwd             *string                  `json:"cwd,omitempty"`
	ApprovalPolicy  *protocol.AskForApproval `json:"approvalPolicy,omitempty"`
	Sandbox         *protocol.SandboxMode    `json:"sandbox,omitempty"`
	Preview         *string                  `json:"preview,omitempty"`
	Model           *string                  `json:"model,omitempty"`
	ModelProvider   *string                  `json:"modelProvider,omitempty"`
	ReasoningEffort *string                  `json:"reasoningEffort,omitempty"`
}

func (u MetaUpdate) apply(m *ThreadMeta) {
	setIf(&m.Cwd, u.Cwd)
	setIf(&m.ApprovalPolicy, u.ApprovalPolicy)
	setIf(&m.Sandbox, u.Sandbox)
	setIf(&m.Preview, u.Preview)
	setIf(&m.Model, u.Model)
	setIf(&m.ModelProvider, u.ModelProvider)
	setIf(&m.ReasoningEffort, u.ReasoningEffort)
}

// setIf sets *dst to *v when the update carries v.
func setIf[T any](dst, v *T) {
	if v != nil {
		*dst = *v
	}
}

// Record is one line of a rollout. Build it with the constructors below;
// which fields are set depends on Type.
type Record struct {
	// Type comes first on purpose: List recognizes a line by its prefix.
	Type RecordType `json:"type"`
	// Version is the format version, in the thread record.
	Version int         `json:"version,omitempty"`
	Thread  *ThreadMeta `json:"thread,omitempty"`
	Meta    *MetaUpdate `json:"meta,omitempty"`
	// TurnID and Item: itemStarted, itemCompleted.
	TurnID uuid.UUID            `json:"turnId,omitzero"`
	Item   *protocol.ThreadItem `json:"item,omitempty"`
	// ItemID and Delta: itemOutput, output of the item with that id.
	// Item ids are kept as the strings they were written as, never parsed:
	// the server writes UUIDv7s, but older rollouts hold other ids (a
	// model's call id such as "call_1"), and an id read back from disk is
	// data to match, not input to reject.
	ItemID string `json:"itemId,omitempty"`
	Delta  string `json:"delta,omitempty"`
	// Turn: turnStarted, turnCompleted. Its items are not written; they
	// have records of their own.
	Turn *protocol.Turn `json:"turn,omitempty"`
	// Input: modelInput, the items appended to the model's conversation.
	Input []json.RawMessage `json:"input,omitempty"`
}

// MetaRecord records a settings change (for example the preview, once the
// first user message is known). List sees only the meta records written
// before the thread's first item, so record the preview no later than the
// first itemStarted or itemCompleted; Load sees them all.
func MetaRecord(u MetaUpdate) Record { return Record{Type: RecordMeta, Meta: &u} }

// TurnStartedRecord records the start of a turn; startedAt is unix seconds.
func TurnStartedRecord(turnID uuid.UUID, startedAt int64) Record {
	return Record{Type: RecordTurnStarted, Turn: &protocol.Turn{
		ID: turnID.String(), Items: []protocol.ThreadItem{}, ItemsView: protocol.ItemsNotLoaded,
		Status: protocol.TurnInProgress, StartedAt: &startedAt,
	}}
}

// ItemStartedRecord records an item in progress, so that a crash while it
// runs (a long command) leaves a trace of it: Load shows a command item
// that never completed as failed.
func ItemStartedRecord(turnID uuid.UUID, item protocol.ThreadItem) Record {
	return Record{Type: RecordItemStarted, TurnID: turnID, Item: &item}
}

// ItemOutputRecord records output of a command item in progress; Load
// appends it to the item's aggregatedOutput until the item completes.
func ItemOutputRecord(turnID uuid.UUID, itemID, delta string) Record {
	return Record{Type: RecordItemOutput, TurnID: turnID, ItemID: itemID, Delta: delta}
}

// ItemCompletedRecord records a finished item of a turn.
func ItemCompletedRecord(turnID uuid.UUID, item protocol.ThreadItem) Record {
	return Record{Type: RecordItemCompleted, TurnID: turnID, Item: &item}
}

// ModelInputRecord records items appended to the model's conversation.
func ModelInputRecord(items []json.RawMessage) Record {
	return Record{Type: RecordModelInput, Input: items}
}

// TurnCompletedRecord records how a turn ended. turn.Items is not written.
func TurnCompletedRecord(turn protocol.Turn) Record {
	return Record{Type: RecordTurnCompleted, Turn: &turn}
}

// check reports a record whose fields do not fit its type.
func (r Record) check() error {
	var ok bool
	switch r.Type {
	case RecordThread:
		ok = r.Thread != nil && r.Thread.ID != uuid.Nil
	case RecordMeta:
		ok = r.Meta != nil
	case RecordTurnStarted, RecordTurnCompleted:
		ok = r.Turn != nil && isID(r.Turn.ID)
	case RecordItemStarted, RecordItemCompleted:
		ok = r.TurnID != uuid.Nil && r.Item != nil && r.Item.ID() != ""
	case RecordItemOutput:
		ok = r.TurnID != uuid.Nil && r.ItemID != ""
	case RecordModelInput:
		ok = len(r.Input) > 0
	case recordTornLine:
		ok = true
	default:
		return fmt.Errorf("unknown record type %q", r.Type)
	}
	if !ok {
		return fmt.Errorf("incomplete %s record", r.Type)
	}
	return nil
}

// encodeRecord returns rec as one line, newline included.
func encodeRecord(rec Record) ([]byte, error) {
	if err := rec.check(); err != nil {
		return nil, err
	}
	if rec.Turn != nil {
		t := *rec.Turn
		t.Items = []protocol.ThreadItem{}
		rec.Turn = &t
	}
	// No HTML escaping: a text of '<' would grow six times (\u003c) and
	// nothing reads rollouts as HTML. The encoder ends the line with a
	// newline; newlines inside strings are escaped, so it is one line.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rec); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	if len(b) > maxRolloutLine {
		return nil, fmt.Errorf("%s record of %d bytes is over the %d a rollout line may hold", rec.Type, len(b), maxRolloutLine)
	}
	// Settings are decoded strictly (an unknown approval policy is an
	// error), so a bad value written now would make the thread unloadable
	// later: check that these small records read back.
	if rec.Type == RecordThread || rec.Type == RecordMeta {
		if _, err := decodeRecord(b, 0); err != nil {
			return nil, fmt.Errorf("record would not load back: %w", err)
		}
	}
	return b, nil
}

// isID reports whether s is a turn id as the server writes them: a UUID,
// not the nil one.
func isID(s string) bool {
	u, err := uuid.Parse(s)
	return err == nil && u != uuid.Nil
}
