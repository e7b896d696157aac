package session

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"app-server/model"
	"app-server/protocol"

	"github.com/google/uuid"
)

// modelAgent runs a turn as Codex does (MODEL.md): it sends the whole
// conversation to the model, streams the model's text and reasoning as
// items, runs the tool calls through the same command and approval path as
// the shell agent, sends their outputs back, and asks again until the
// model answers without a tool call.
type modelAgent struct {
	client *model.Client
	model  string
	// effort and summary are the reasoning settings ("" to send none).
	effort, summary string
	// threadID is the prompt cache key; cwd, sandbox and policy go into
	// the instructions.
	threadID string
	settings settings
	shell    []string
}

// Validate implements Agent: a model takes text and images.
func (a *modelAgent) Validate(input []protocol.UserInput) error {
	for _, in := range input {
		if in.Text != nil && strings.TrimSpace(in.Text.Text) != "" || in.Image != nil || in.LocalImage != nil {
			return nil
		}
	}
	return errors.New("input has no text or image for the model")
}

// Run implements Agent.
func (a *modelAgent) Run(ctx context.Context, input []protocol.UserInput, do Actions) error {
	if missing := unansweredCalls(do.Conversation()); len(missing) > 0 {
		do.Remember(missing...)
	}
	do.Remember(userMessage(input))
	for {
		req := &model.Request{
			Model: a.model, Instructions: a.instructions(), Input: do.Conversation(), Tools: model.Tools(),
			ReasoningEffort: a.effort, ReasoningSummary: a.summary, PromptCacheKey: a.threadID,
		}
		h := &streamHandler{items: do.Items(), do: do, ids: map[string]uuid.UUID{}}
		res, err := a.client.Stream(ctx, req, h)
		h.closeOpen()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return &turnFailure{turnErrorOf(err)}
		}
		do.TokenUsage(protocol.TokenUsageBreakdown{
			InputTokens: res.Usage.InputTokens, CachedInputTokens: res.Usage.CachedInputTokens,
			OutputTokens: res.Usage.OutputTokens, ReasoningOutputTokens: res.Usage.ReasoningOutputTokens,
			TotalTokens: res.Usage.TotalTokens,
		})
		var calls []model.Item
		for _, it := range res.Output {
			if it.Replay != nil {
				do.Remember(it.Replay)
			}
			if it.Type == "function_call" || it.Type == "custom_tool_call" {
				calls = append(calls, it)
			}
		}
		if len(calls) == 0 {
			return nil
		}
		// parallel_tool_calls is false, but a model may send several calls
		// anyway: they run one at a time, in order, and each gets its
		// output, so the conversation stays well formed.
		for _, c := range calls {
			out := "aborted: the turn was interrupted"
			if ctx.Err() == nil {
				out = a.call(ctx, do, c)
			}
			if c.Type == "custom_tool_call" {
				do.Remember(model.CustomToolCallOutput(c.CallID, out))
			} else {
				do.Remember(model.FunctionCallOutput(c.CallID, out))
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// unansweredCalls returns an output for every tool call of conv that has
// none: the server stopped while the call ran. Providers refuse a
// conversation with a call left unanswered.
func unansweredCalls(conv []json.RawMessage) []json.RawMessage {
	type entry struct {
		Type   string `json:"type"`
		CallID string `json:"call_id"`
	}
	var open []entry
	for _, raw := range conv {
		var e entry
		if json.Unmarshal(raw, &e) != nil {
			continue
		}
		switch e.Type {
		case "function_call", "custom_tool_call":
			open = append(open, e)
		case "function_call_output", "custom_tool_call_output":
			for i, o := range open {
				if o.CallID == e.CallID {
					open = append(open[:i], open[i+1:]...)
					break
				}
			}
		}
	}
	var out []json.RawMessage
	for _, o := range open {
		const msg = "aborted: the server stopped before the call finished"
		if o.Type == "custom_tool_call" {
			out = append(out, model.CustomToolCallOutput(o.CallID, msg))
		} else {
			out = append(out, model.FunctionCallOutput(o.CallID, msg))
		}
	}
	return out
}

// maxImageBytes bounds a local image sent to the model.
const maxImageBytes = 20 << 20

// userMessage is the turn's input as the model's user message: the texts,
// and the images (by URL, local files as data: URLs). A local image that
// cannot be read becomes a line of text saying so.
func userMessage(input []protocol.UserInput) json.RawMessage {
	var texts, images []string
	for _, in := range input {
		switch {
		case in.Text != nil:
			texts = append(texts, in.Text.Text)
		case in.Image != nil:
			images = append(images, in.Image.URL)
		case in.LocalImage != nil:
			u, err := imageDataURL(in.LocalImage.Path)
			if err != nil {
				texts = append(texts, fmt.Sprintf("[image %s not attached: %v]", in.LocalImage.Path, err))
				continue
			}
			images = append(images, u)
		}
	}
	return model.UserMessageWithImages(strings.Join(texts, "\n"), images)
}

// imageDataURL reads a local image as a data: URL.
func imageDataURL(path string) (string, error) {
	mime := map[string]string{".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".webp": "image/webp"}[strings.ToLower(filepath.Ext(path))]
	if mime == "" {
		return "", errors.New("not a png, jpeg, gif or webp file")
	}
	st, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if st.Size() > maxImageBytes {
		return "", fmt.Errorf("larger than %d MiB", maxImageBytes>>20)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return "data:" + mime + ";base64," + base64.StdEncoding.EncodeToString(b), nil
}

// instructions is the system prompt: the tools and the turn's setting.
func (a *modelAgent) instructions() string {
	return fmt.Sprintf(`You are a coding agent working in a user's workspace through tools.
- exec_command runs a shell command (%s) and returns its exit code and output.
- apply_patch edits files; its input is a patch in the apply_patch format.
Commands and file changes may need the user's approval; a declined call says so in its output: do not retry it, adapt.
Working directory: %s
Sandbox: %s. Approval policy: %s.
Keep answers short. When the task is done, say what you did.`,
		strings.Join(a.shell, " "), a.settings.cwd, a.settings.sandbox, a.settings.policy)
}

// call runs one tool call and returns its output for the model.
func (a *modelAgent) call(ctx context.Context, do Actions, c model.Item) string {
	switch c.Name {
	case model.ToolExecCommand:
		var args model.ExecCommandArgs
		if err := json.Unmarshal([]byte(c.Arguments), &args); err != nil {
			return fmt.Sprintf("invalid exec_command arguments: %v; want {\"cmd\": \"...\", \"workdir\"?: \"...\"}", err)
		}
		if strings.TrimSpace(args.Cmd) == "" {
			return "invalid exec_command arguments: cmd is empty"
		}
		dir := a.settings.cwd
		if args.Workdir != "" {
			dir = args.Workdir
			if !filepath.IsAbs(dir) {
				dir = filepath.Join(a.settings.cwd, dir)
			}
			if _, err := resolveCwd(dir); err != nil {
				return fmt.Sprintf("invalid workdir %q: not an existing directory", args.Workdir)
			}
		}
		out := do.RunCommandCall(ctx, CommandCall{Line: args.Cmd, Dir: dir})
		return commandOutput(out, args.MaxOutputTokens)
	case model.ToolApplyPatch:
		text := c.Input
		if c.Type == "function_call" {
			var args model.ApplyPatchArgs
			if err := json.Unmarshal([]byte(c.Arguments), &args); err != nil {
				return fmt.Sprintf("invalid apply_patch arguments: %v; want {\"input\": \"*** Begin Patch ...\"}", err)
			}
			text = args.Input
		}
		return do.ApplyPatch(ctx, text).Message
	}
	return fmt.Sprintf("unknown tool %q: the tools are %s and %s", c.Name, model.ToolExecCommand, model.ToolApplyPatch)
}

// defaultOutputBytes bounds a command's output sent to the model when the
// call names no max_output_tokens (about 10000 tokens).
const defaultOutputBytes = 40_000

// commandOutput is a command's result as the model reads it.
func commandOutput(out CommandOutcome, maxTokens *int64) string {
	switch out.Status {
	case protocol.CommandDeclined:
		return "The command did not run: " + strings.TrimSpace(out.Output) + ". Do not run it again; continue without it or ask the user."
	}
	limit := defaultOutputBytes
	if maxTokens != nil && *maxTokens > 0 {
		limit = int(min(*maxTokens*4, 1<<20))
	}
	text := out.Output
	if len(text) > limit {
		text = "[... output truncated ...]\n" + text[len(text)-limit:]
	}
	code := "none (the command did not finish)"
	if out.ExitCode != nil {
		code = fmt.Sprint(*out.ExitCode)
	}
	return fmt.Sprintf("Exit code: %s\nOutput:\n%s", code, text)
}

// streamHandler turns a response's events into items. Items are keyed by
// the provider's item ids, which are not unique across responses (or
// present at all with some local servers), so every streamed item gets an
// id of ours.
type streamHandler struct {
	items ItemStream
	do    Actions
	ids   map[string]uuid.UUID // provider item id -> our item id, open items
	// kinds of the open items, by our id, in start order.
	open []*openItem
}

type openItem struct {
	id      uuid.UUID
	kind    string
	text    strings.Builder
	summary []string
	content []string // raw reasoning text parts
}

func (h *streamHandler) find(providerID string) *openItem {
	id, ok := h.ids[providerID]
	if !ok {
		return nil
	}
	for _, o := range h.open {
		if o.id == id {
			return o
		}
	}
	return nil
}

func (h *streamHandler) ItemAdded(it model.Item) {
	if it.Type != "message" && it.Type != "reasoning" {
		return
	}
	o := &openItem{id: newID(), kind: it.Type}
	h.ids[it.ID] = o.id
	h.open = append(h.open, o)
	if it.Type == "message" {
		h.items.StartMessage(o.id)
	} else {
		h.items.StartReasoning(o.id)
	}
}

func (h *streamHandler) TextDelta(itemID, delta string) {
	if o := h.find(itemID); o != nil && o.kind == "message" {
		o.text.WriteString(delta)
		h.items.MessageDelta(o.id, delta)
	}
}

func (h *streamHandler) ReasoningSummaryPart(itemID string, index int64) {
	if o := h.find(itemID); o != nil && o.kind == "reasoning" {
		h.items.ReasoningPart(o.id, index)
	}
}

func (h *streamHandler) ReasoningSummaryDelta(itemID string, index int64, delta string) {
	if o := h.find(itemID); o != nil && o.kind == "reasoning" {
		appendAt(&o.summary, index, delta)
		h.items.ReasoningDelta(o.id, index, delta)
	}
}

func (h *streamHandler) ReasoningTextDelta(itemID string, index int64, delta string) {
	if o := h.find(itemID); o != nil && o.kind == "reasoning" {
		appendAt(&o.content, index, delta)
		h.items.ReasoningTextDelta(o.id, index, delta)
	}
}

func (h *streamHandler) ItemDone(it model.Item) {
	o := h.find(it.ID)
	switch {
	case it.Type == "message":
		if o == nil { // a server that skips output_item.added
			h.ItemAdded(it)
			o = h.find(it.ID)
		}
		h.items.CompleteMessage(o.id, it.Text)
	case it.Type == "reasoning":
		if o == nil {
			h.ItemAdded(it)
			o = h.find(it.ID)
		}
		h.items.CompleteReasoning(o.id, it.Summary, it.Content)
	default:
		return
	}
	h.forget(o)
	delete(h.ids, it.ID)
}

func (h *streamHandler) forget(o *openItem) {
	for i, x := range h.open {
		if x == o {
			h.open = append(h.open[:i], h.open[i+1:]...)
			return
		}
	}
}

// Retrying ends the broken attempt's items with what they had and
// announces the retry.
func (h *streamHandler) Retrying(err *model.Error, attempt, max int, delay time.Duration) {
	h.closeOpen()
	// Codex announces every retry with this class, whatever failed.
	h.do.Retrying(protocol.TurnError{
		Message:        fmt.Sprintf("Reconnecting... %d/%d (%s)", attempt, max, err.Message),
		CodexErrorInfo: protocol.HTTPErrorInfo(protocol.ErrorResponseStreamDisconnected, err.StatusCode),
	})
}

// closeOpen completes the items a broken or interrupted stream left open.
func (h *streamHandler) closeOpen() {
	for _, o := range h.open {
		if o.kind == "message" {
			h.items.CompleteMessage(o.id, o.text.String())
		} else {
			h.items.CompleteReasoning(o.id, o.summary, o.content)
		}
	}
	h.open = nil
	clear(h.ids)
}

// turnFailure is an agent error that carries the TurnError to report.
type turnFailure struct{ te protocol.TurnError }

func (f *turnFailure) Error() string { return f.te.Message }

// turnErrorOf shapes a model call's failure as Codex 0.169.0 does (the
// classes it sends for the same provider answers): the provider's error
// code first (context window, quota, unknown model), then the HTTP status.
func turnErrorOf(err error) protocol.TurnError {
	var merr *model.Error
	if !errors.As(err, &merr) {
		return protocol.TurnError{Message: err.Error(), CodexErrorInfo: &protocol.ErrorInfoOther}
	}
	te := protocol.TurnError{Message: merr.Error()}
	class := func(c string) *protocol.CodexErrorInfo { return &protocol.CodexErrorInfo{Class: c} }
	switch merr.Code {
	case "context_length_exceeded":
		te.CodexErrorInfo = class(protocol.ErrorContextWindowExceeded)
		return te
	case "insufficient_quota":
		te.CodexErrorInfo = class(protocol.ErrorUsageLimitExceeded)
		return te
	case "model_not_found":
		te.CodexErrorInfo = class(protocol.ErrorModelNotFound)
		return te
	}
	switch merr.Kind {
	case model.ErrStatus:
		switch s := merr.StatusCode; {
		case s == http.StatusTooManyRequests:
			te.CodexErrorInfo = protocol.HTTPErrorInfo(protocol.ErrorResponseTooManyFailedAttempt, s)
		case s >= 500:
			te.CodexErrorInfo = class(protocol.ErrorInternalServerError)
		case s == http.StatusUnauthorized || s == http.StatusForbidden:
			te.CodexErrorInfo = class(protocol.ErrorUnauthorized)
		case s == http.StatusBadRequest || s == http.StatusUnprocessableEntity:
			te.CodexErrorInfo = class(protocol.ErrorBadRequest)
		default:
			te.CodexErrorInfo = protocol.HTTPErrorInfo(protocol.ErrorResponseStreamConnectFailed, s)
		}
	case model.ErrConnection:
		te.CodexErrorInfo = protocol.HTTPErrorInfo(protocol.ErrorHTTPConnectionFailed, 0)
	case model.ErrStreamDropped:
		te.Message = "stream disconnected before completion: " + te.Message
		te.CodexErrorInfo = &protocol.ErrorInfoOther
	default: // a missing key, a malformed stream, a failed response
		te.CodexErrorInfo = &protocol.ErrorInfoOther
	}
	return te
}

// appendAt appends delta to the part at index, adding empty parts up to it
// (the provider numbers summary and content parts from 0).
func appendAt(parts *[]string, index int64, delta string) {
	for int64(len(*parts)) <= index {
		*parts = append(*parts, "")
	}
	(*parts)[index] += delta
}
