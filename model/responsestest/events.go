package responsestest

import (
	"encoding/json"
	"fmt"
)

// Events of a scripted response. Each helper returns the events of one
// output item; Response wraps items into a whole response.

// Message is an assistant message streamed in the given deltas.
func Message(id string, deltas ...string) []Event {
	text := ""
	var evs []Event
	evs = append(evs, Event{"response.output_item.added", map[string]any{
		"output_index": 0, "item": map[string]any{"type": "message", "id": id, "role": "assistant", "status": "in_progress", "content": []any{}}}})
	for _, d := range deltas {
		text += d
		evs = append(evs, Event{"response.output_text.delta", map[string]any{"item_id": id, "output_index": 0, "content_index": 0, "delta": d}})
	}
	evs = append(evs, Event{"response.output_item.done", map[string]any{
		"output_index": 0, "item": map[string]any{"type": "message", "id": id, "role": "assistant", "status": "completed",
			"content": []any{map[string]any{"type": "output_text", "text": text, "annotations": []any{}}}}}})
	return evs
}

// Reasoning is a reasoning item with one summary part.
func Reasoning(id, summary string) []Event {
	return []Event{
		{"response.output_item.added", map[string]any{"output_index": 0, "item": map[string]any{"type": "reasoning", "id": id, "summary": []any{}}}},
		{"response.reasoning_summary_part.added", map[string]any{"item_id": id, "output_index": 0, "summary_index": 0, "part": map[string]any{"type": "summary_text", "text": ""}}},
		{"response.reasoning_summary_text.delta", map[string]any{"item_id": id, "output_index": 0, "summary_index": 0, "delta": summary}},
		{"response.output_item.done", map[string]any{"output_index": 0, "item": map[string]any{"type": "reasoning", "id": id,
			"summary": []any{map[string]any{"type": "summary_text", "text": summary}}, "encrypted_content": "enc-" + id}}},
	}
}

// ReasoningText is a reasoning item with raw reasoning text and no
// summary, as gpt-oss on local servers sends it.
func ReasoningText(id, text string) []Event {
	return []Event{
		{"response.output_item.added", map[string]any{"output_index": 0, "item": map[string]any{"type": "reasoning", "id": id, "summary": []any{}}}},
		{"response.reasoning_text.delta", map[string]any{"item_id": id, "output_index": 0, "content_index": 0, "delta": text}},
		{"response.output_item.done", map[string]any{"output_index": 0, "item": map[string]any{"type": "reasoning", "id": id, "summary": []any{},
			"content": []any{map[string]any{"type": "reasoning_text", "text": text}}}}},
	}
}

// FunctionCall is a function call item with JSON arguments.
func FunctionCall(callID, name, arguments string) []Event {
	item := map[string]any{"type": "function_call", "id": "fc_" + callID, "call_id": callID, "name": name, "arguments": "", "status": "in_progress"}
	done := map[string]any{"type": "function_call", "id": "fc_" + callID, "call_id": callID, "name": name, "arguments": arguments, "status": "completed"}
	return []Event{
		{"response.output_item.added", map[string]any{"output_index": 0, "item": item}},
		{"response.function_call_arguments.delta", map[string]any{"item_id": "fc_" + callID, "output_index": 0, "delta": arguments}},
		{"response.output_item.done", map[string]any{"output_index": 0, "item": done}},
	}
}

// ExecCommand is an exec_command call running cmd.
func ExecCommand(callID, cmd string) []Event {
	return FunctionCall(callID, "exec_command", jsonString(map[string]any{"cmd": cmd}))
}

// ApplyPatch is an apply_patch call with the patch text.
func ApplyPatch(callID, patch string) []Event {
	return FunctionCall(callID, "apply_patch", jsonString(map[string]any{"input": patch}))
}

// Response wraps the items' events in response.created and
// response.completed (with a small usage).
func Response(id string, items ...[]Event) Reply {
	evs := []Event{{"response.created", map[string]any{"response": map[string]any{"id": id, "object": "response", "status": "in_progress", "output": []any{}}}}}
	for _, it := range items {
		evs = append(evs, it...)
	}
	evs = append(evs, Completed(id, 10, 5))
	return Reply{Events: evs}
}

// Completed is a response.completed event with a usage.
func Completed(id string, input, output int) Event {
	return Event{"response.completed", map[string]any{"response": map[string]any{
		"id": id, "object": "response", "status": "completed", "output": []any{},
		"usage": map[string]any{
			"input_tokens": input, "input_tokens_details": map[string]any{"cached_tokens": 0},
			"output_tokens": output, "output_tokens_details": map[string]any{"reasoning_tokens": 0},
			"total_tokens": input + output,
		}}}}
}

func jsonString(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprint("responsestest: ", err))
	}
	return string(b)
}
