package session

import (
	"encoding/json"
	"strings"
	"testing"

	"app-server/model"
	"app-server/protocol"
)

func TestUnansweredCallsAreAnswered(t *testing.T) {
	conv := []json.RawMessage{
		model.UserMessage("hi"),
		json.RawMessage(`{"type":"function_call","call_id":"a","name":"exec_command","arguments":"{}"}`),
		model.FunctionCallOutput("a", "done"),
		json.RawMessage(`{"type":"function_call","call_id":"b","name":"exec_command","arguments":"{}"}`),
		json.RawMessage(`{"type":"custom_tool_call","call_id":"c","name":"apply_patch","input":""}`),
	}
	got := unansweredCalls(conv)
	if len(got) != 2 || !strings.Contains(string(got[0]), `"call_id":"b"`) || !strings.Contains(string(got[1]), `"type":"custom_tool_call_output"`) {
		t.Errorf("outputs for the calls left open: %s", got)
	}
	if got := unansweredCalls(conv[:3]); got != nil {
		t.Errorf("a well-formed conversation got %s", got)
	}
}

func TestCommandOutputForTheModel(t *testing.T) {
	zero := int32(0)
	four := int64(4)
	for _, tc := range []struct {
		out  CommandOutcome
		max  *int64
		want []string
	}{
		{CommandOutcome{Status: protocol.CommandCompleted, ExitCode: &zero, Output: "hello\n"}, nil, []string{"Exit code: 0", "Output:\nhello\n"}},
		{CommandOutcome{Status: protocol.CommandDeclined, Output: "declined by the user\n"}, nil, []string{"did not run: declined by the user", "Do not run it again"}},
		{CommandOutcome{Status: protocol.CommandFailed, Output: strings.Repeat("x", 100) + "END"}, &four, []string{"Exit code: none", "[... output truncated ...]\n" + strings.Repeat("x", 13) + "END"}},
	} {
		got := commandOutput(tc.out, tc.max)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("commandOutput(%+v) = %q, want it to contain %q", tc.out, got, w)
			}
		}
	}
}

func TestWithinRoots(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		paths []string
		want  bool
	}{
		{[]string{dir + "/a.txt", dir + "/new/dir/b.txt"}, true},
		{[]string{dir + "/../elsewhere.txt"}, false},
		{[]string{dir + "/a.txt", "/etc/passwd"}, false},
	} {
		if got := withinRoots(tc.paths, []string{dir}); got != tc.want {
			t.Errorf("withinRoots(%v) = %v, want %v", tc.paths, got, tc.want)
		}
	}
}
