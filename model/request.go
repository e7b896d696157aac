package model

import (
	"encoding/json"
)

// Request is one call to the model: the whole conversation, since the
// server keeps no state at the provider (store is false, and no
// previous_response_id is sent).
type Request struct {
	Model        string
	Instructions string
	// Input is the conversation as Responses input items: user messages,
	// the model's own output items, function_call_output items.
	Input []json.RawMessage
	// Tools are the tool definitions, as Responses "tools" entries.
	Tools []json.RawMessage
	// ReasoningEffort and ReasoningSummary are sent as "reasoning" when
	// either is set.
	ReasoningEffort  string
	ReasoningSummary string
	// PromptCacheKey lets the provider reuse its cache across calls of one
	// conversation (the thread id).
	PromptCacheKey string
}

// requestBody is the JSON body of POST /responses, without its input
// and tools, which body appends as they are.
type requestBody struct {
	Model             string     `json:"model"`
	Instructions      string     `json:"instructions,omitempty"`
	ToolChoice        string     `json:"tool_choice"`
	ParallelToolCalls bool       `json:"parallel_tool_calls"`
	Store             bool       `json:"store"`
	Stream            bool       `json:"stream"`
	PromptCacheKey    string     `json:"prompt_cache_key,omitempty"`
	Reasoning         *reasoning `json:"reasoning,omitempty"`
	Include           []string   `json:"include,omitempty"`
}

type reasoning struct {
	Effort  string `json:"effort,omitempty"`
	Summary string `json:"summary,omitempty"`
}

// body encodes the request. The input and tool items are appended as they
// are rather than through json.Marshal, which would scan and compact the
// whole conversation again on every call: they must be valid JSON, which
// the constructors of this package and the provider's own items are.
func (r *Request) body() ([]byte, error) {
	b := requestBody{
		Model: r.Model, Instructions: r.Instructions,
		ToolChoice: "auto", ParallelToolCalls: false, Store: false, Stream: true,
		PromptCacheKey: r.PromptCacheKey,
	}
	if r.ReasoningEffort != "" || (r.ReasoningSummary != "" && r.ReasoningSummary != "none") {
		b.Reasoning = &reasoning{Effort: r.ReasoningEffort}
		if r.ReasoningSummary != "none" {
			b.Reasoning.Summary = r.ReasoningSummary
		}
		// With store false, reasoning comes back encrypted so that it can
		// be sent again as input on the next call.
		b.Include = []string{"reasoning.encrypted_content"}
	}
	head, err := json.Marshal(b)
	if err != nil {
		return nil, err
	}
	size := len(head) + 32
	for _, it := range r.Input {
		size += len(it) + 1
	}
	for _, t := range r.Tools {
		size += len(t) + 1
	}
	out := make([]byte, 0, size)
	out = append(out, head[:len(head)-1]...) // without its closing brace
	out = appendArray(append(out, `,"input":`...), r.Input)
	out = appendArray(append(out, `,"tools":`...), r.Tools)
	return append(out, '}'), nil
}

func appendArray(out []byte, items []json.RawMessage) []byte {
	out = append(out, '[')
	for i, it := range items {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, it...)
	}
	return append(out, ']')
}

// UserMessage is a Responses input item for the user's text.
func UserMessage(text string) json.RawMessage { return UserMessageWithImages(text, nil) }

// UserMessageWithImages is a user message with images, each an http(s)
// URL or a data: URL.
func UserMessageWithImages(text string, imageURLs []string) json.RawMessage {
	content := []map[string]string{}
	if text != "" {
		content = append(content, map[string]string{"type": "input_text", "text": text})
	}
	for _, u := range imageURLs {
		content = append(content, map[string]string{"type": "input_image", "image_url": u})
	}
	return mustJSON(map[string]any{"type": "message", "role": "user", "content": content})
}

// FunctionCallOutput is the input item that answers a function call.
func FunctionCallOutput(callID, output string) json.RawMessage {
	return mustJSON(map[string]string{"type": "function_call_output", "call_id": callID, "output": output})
}

// CustomToolCallOutput is the input item that answers a custom tool call.
func CustomToolCallOutput(callID, output string) json.RawMessage {
	return mustJSON(map[string]string{"type": "custom_tool_call_output", "call_id": callID, "output": output})
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic("model: " + err.Error())
	}
	return b
}
