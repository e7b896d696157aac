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

// requestBody is the JSON body of POST /responses.
type requestBody struct {
	Model             string            `json:"model"`
	Instructions      string            `json:"instructions,omitempty"`
	Input             []json.RawMessage `json:"input"`
	Tools             []json.RawMessage `json:"tools"`
	ToolChoice        string            `json:"tool_choice"`
	ParallelToolCalls bool              `json:"parallel_tool_calls"`
	Store             bool              `json:"store"`
	Stream            bool              `json:"stream"`
	PromptCacheKey    string            `json:"prompt_cache_key,omitempty"`
	Reasoning         *reasoning        `json:"reasoning,omitempty"`
	Include           []string          `json:"include,omitempty"`
}

type reasoning struct {
	Effort  string `json:"effort,omitempty"`
	Summary string `json:"summary,omitempty"`
}

func (r *Request) body() ([]byte, error) {
	b := requestBody{
		Model: r.Model, Instructions: r.Instructions, Input: r.Input, Tools: r.Tools,
		ToolChoice: "auto", ParallelToolCalls: false, Store: false, Stream: true,
		PromptCacheKey: r.PromptCacheKey,
	}
	if b.Input == nil {
		b.Input = []json.RawMessage{}
	}
	if b.Tools == nil {
		b.Tools = []json.RawMessage{}
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
	return json.Marshal(b)
}

// UserMessage is a Responses input item for the user's text.
func UserMessage(text string) json.RawMessage {
	return mustJSON(map[string]any{
		"type": "message", "role": "user",
		"content": []map[string]string{{"type": "input_text", "text": text}},
	})
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
