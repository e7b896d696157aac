package model

import (
	"context"
	"encoding/json"
	"testing"

	"app-server/model/responsestest"
)

// nopHandler records the events of one response.
type nopHandler struct{ recorder }

// BenchmarkStreamToolCall measures one call (request, stream, tool call) against
// the mock in the same process, with a conversation of 41 items.
func BenchmarkStreamToolCall(b *testing.B) {
	srv := responsestest.New()
	defer srv.Close()
	reply := responsestest.Response("r1", responsestest.ExecCommand("call_1", "touch x"))
	srv.Responder = func(*responsestest.Recorded) responsestest.Reply { return reply }
	p := Provider{ID: "mock", ProviderConfig: ProviderConfig{BaseURL: srv.BaseURL()}}
	c := NewClient(p, nil)
	input := []json.RawMessage{UserMessage("hello")}
	for range 20 {
		input = append(input, json.RawMessage(`{"type":"function_call","call_id":"c","name":"exec_command","arguments":"{\"cmd\":\"ls -la\"}"}`), FunctionCallOutput("c", "Exit code: 0\nOutput:\nlots of output here\n"))
	}
	req := &Request{Model: "m", Input: input, Tools: Tools()}
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.Stream(context.Background(), req, &nopHandler{}); err != nil {
			b.Fatal(err)
		}
	}
}
