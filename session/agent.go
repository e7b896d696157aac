package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"app-server/protocol"

	"github.com/google/uuid"
)

// An Agent decides what a turn does. Given the turn's input it runs
// commands and streams its messages through Actions, in order, and returns when the
// turn's work is done. Execution, approvals and persistence live behind
// Actions, so a model agent can plug in without touching them.
type Agent interface {
	// Validate checks a turn's input before the turn starts; its error is
	// returned to the client as invalid params.
	Validate(input []protocol.UserInput) error
	// Run drives one turn. It must return promptly once ctx is done.
	Run(ctx context.Context, input []protocol.UserInput, do Actions) error
}

// Actions are what an agent can do in a turn. Each blocks until done and is
// called from the turn's goroutine only.
type Actions interface {
	// RunCommand runs a command line (through the configured shell), after
	// the approval policy allows it, streaming its output as the item's
	// deltas.
	RunCommand(ctx context.Context, commandLine string) CommandOutcome

	// The model agent's actions (modelagent.go): a tool call's command or
	// patch, streamed items, the conversation the model sees.

	// RunCommandCall runs a command a model asked for: the same path as
	// RunCommand, in the call's directory. The item gets an id of ours;
	// the provider's call id stays in the conversation, where the
	// provider needs it to pair the call with its output.
	RunCommandCall(ctx context.Context, call CommandCall) CommandOutcome
	// ApplyPatch applies an apply_patch call as a fileChange item (with
	// an id of ours, as for commands), after the approval policy allows it.
	ApplyPatch(ctx context.Context, patchText string) PatchOutcome
	// Items streams agentMessage and reasoning items.
	Items() ItemStream
	// Conversation is what the model has seen in this thread, as Responses
	// input items; Remember appends to it (and persists it).
	Conversation() []json.RawMessage
	Remember(items ...json.RawMessage)
	// TokenUsage reports the usage of one model response.
	TokenUsage(last protocol.TokenUsageBreakdown)
	// Retrying announces that the model call failed and is retried.
	Retrying(turnErr protocol.TurnError)
}

// CommandCall is a command a model asked for.
type CommandCall struct {
	Line string
	// Dir is the absolute working directory.
	Dir string
}

// PatchOutcome is what an agent learns about a patch.
type PatchOutcome struct {
	Status protocol.PatchApplyStatus
	// Message says what changed, or why nothing did.
	Message string
}

// ItemStream shows the model's text and reasoning as it arrives. Every
// started item is completed.
type ItemStream interface {
	StartMessage(id uuid.UUID)
	MessageDelta(id uuid.UUID, delta string)
	CompleteMessage(id uuid.UUID, text string)
	StartReasoning(id uuid.UUID)
	ReasoningPart(id uuid.UUID, index int64)
	ReasoningDelta(id uuid.UUID, index int64, delta string)
	ReasoningTextDelta(id uuid.UUID, index int64, delta string)
	CompleteReasoning(id uuid.UUID, summary, content []string)
}

// CommandOutcome is what an agent learns about a command.
type CommandOutcome struct {
	Status   protocol.CommandExecutionStatus
	ExitCode *int32
	Output   string
}

// shellAgent runs each text input as one command line, in order. It is what
// makes the server useful without a model: an IDE runs tasks with every
// approval going to the user.
type shellAgent struct{}

func (shellAgent) Validate(input []protocol.UserInput) error {
	if len(input) == 0 {
		return errors.New("input is empty: the shell agent needs at least one text item")
	}
	for i, in := range input {
		if in.Text == nil {
			return fmt.Errorf("input[%d] is not text: the shell agent runs text inputs only", i)
		}
		if strings.TrimSpace(in.Text.Text) == "" {
			return fmt.Errorf("input[%d] is an empty command line", i)
		}
	}
	return nil
}

func (shellAgent) Run(ctx context.Context, input []protocol.UserInput, do Actions) error {
	for _, in := range input {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		do.RunCommand(ctx, in.Text.Text)
	}
	return ctx.Err()
}
