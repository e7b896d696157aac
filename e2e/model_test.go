package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"app-server/model/responsestest"
	"app-server/protocol"
)

// Model-driven turns against a scripted mock Responses server
// (model/responsestest): the server under test is the built binary, its
// config.toml names the mock as provider "mock".

// modelConfig is a config.toml whose default model is served by the mock.
func modelConfig(mock *responsestest.Server, extra string) string {
	return fmt.Sprintf(`model = "mock-model"
model_provider = "mock"

[network]
enabled = false

[model_providers.mock]
name = "Mock"
base_url = %q
request_max_retries = 2
stream_max_retries = 2
%s`, mock.BaseURL(), extra)
}

// startModelServer starts a server using the mock and initializes it.
func startModelServer(t *testing.T, mock *responsestest.Server, o options) *server {
	t.Helper()
	if o.config == "" {
		o.config = modelConfig(mock, "")
	}
	s := startServer(t, o)
	s.initialize()
	return s
}

// startModelTurn starts a turn with a text input.
func (s *server) startModelTurn(threadID, text string) string {
	s.t.Helper()
	var r protocol.TurnStartResponse
	s.ok("turn/start", map[string]any{"threadId": threadID, "input": []map[string]any{{"type": "text", "text": text}}}, &r)
	return r.Turn.ID
}

// modelFlow is what a model-driven turn sent, up to turn/completed.
type modelFlow struct {
	methods       []string
	started       []protocol.ThreadItem
	items         []protocol.ThreadItem // completed
	deltas        strings.Builder       // agent message deltas
	summaryDeltas strings.Builder
	textDeltas    strings.Builder // raw reasoning text
	errors        []protocol.ErrorNotification
	usage         []protocol.ThreadTokenUsageUpdatedNotification
	cmdApprovals  []protocol.CommandExecutionRequestApprovalParams
	fileApprovals []protocol.FileChangeRequestApprovalParams
	turn          protocol.Turn
}

// answers say how the test client answers approval requests; a nil
// function fails the test on a request of that kind.
type answers struct {
	command func(protocol.CommandExecutionRequestApprovalParams) protocol.CommandExecutionApprovalDecision
	file    func(protocol.FileChangeRequestApprovalParams) protocol.FileChangeApprovalDecision
	// each, if set, sees every message first.
	each func(m msg)
}

func (s *server) runModelFlow(a answers) *modelFlow {
	s.t.Helper()
	f := &modelFlow{}
	for {
		m := s.next()
		if a.each != nil {
			a.each(m)
		}
		f.methods = append(f.methods, m.Method)
		switch m.Method {
		case "item/commandExecution/requestApproval":
			var p protocol.CommandExecutionRequestApprovalParams
			m.decode(s.t, &p)
			f.cmdApprovals = append(f.cmdApprovals, p)
			if a.command == nil {
				s.t.Fatalf("unexpected command approval: %s", m.Raw)
			}
			s.answer(m, protocol.CommandExecutionRequestApprovalResponse{Decision: a.command(p)})
		case "item/fileChange/requestApproval":
			var p protocol.FileChangeRequestApprovalParams
			m.decode(s.t, &p)
			f.fileApprovals = append(f.fileApprovals, p)
			if a.file == nil {
				s.t.Fatalf("unexpected file change approval: %s", m.Raw)
			}
			s.answer(m, protocol.FileChangeRequestApprovalResponse{Decision: a.file(p)})
		case "item/started":
			var n protocol.ItemStartedNotification
			m.decode(s.t, &n)
			f.started = append(f.started, n.Item)
		case "item/completed":
			var n protocol.ItemCompletedNotification
			m.decode(s.t, &n)
			f.items = append(f.items, n.Item)
		case "item/agentMessage/delta":
			var n protocol.AgentMessageDeltaNotification
			m.decode(s.t, &n)
			f.deltas.WriteString(n.Delta)
		case "item/reasoning/summaryTextDelta":
			var n protocol.ReasoningSummaryTextDeltaNotification
			m.decode(s.t, &n)
			f.summaryDeltas.WriteString(n.Delta)
		case "item/reasoning/textDelta":
			var n protocol.ReasoningTextDeltaNotification
			m.decode(s.t, &n)
			f.textDeltas.WriteString(n.Delta)
		case "error":
			var n protocol.ErrorNotification
			m.decode(s.t, &n)
			f.errors = append(f.errors, n)
		case "thread/tokenUsage/updated":
			var n protocol.ThreadTokenUsageUpdatedNotification
			m.decode(s.t, &n)
			f.usage = append(f.usage, n)
		case "turn/completed":
			var n protocol.TurnCompletedNotification
			m.decode(s.t, &n)
			f.turn = n.Turn
			return f
		}
	}
}

// kinds lists the completed items' kinds.
func (f *modelFlow) kinds() []string {
	var out []string
	for _, it := range f.items {
		switch {
		case it.UserMessage != nil:
			out = append(out, "userMessage")
		case it.AgentMessage != nil:
			out = append(out, "agentMessage:"+it.AgentMessage.Text)
		case it.Reasoning != nil:
			out = append(out, "reasoning:"+strings.Join(it.Reasoning.Summary, "|"))
		case it.CommandExecution != nil:
			out = append(out, "commandExecution:"+string(it.CommandExecution.Status))
		case it.FileChange != nil:
			out = append(out, "fileChange:"+string(it.FileChange.Status))
		}
	}
	return out
}

func (f *modelFlow) fileChange(t *testing.T) *protocol.FileChangeItem {
	t.Helper()
	for _, it := range f.items {
		if it.FileChange != nil {
			return it.FileChange
		}
	}
	t.Fatalf("no fileChange item in %v", f.kinds())
	return nil
}

// callOutput finds the function_call_output for callID in a request.
func callOutput(t *testing.T, r *responsestest.Recorded, callID string) string {
	t.Helper()
	for _, in := range r.Input() {
		if in["type"] == "function_call_output" && in["call_id"] == callID {
			return fmt.Sprint(in["output"])
		}
	}
	t.Fatalf("request has no function_call_output for %s: %s", callID, r.Body)
	return ""
}

// inputTypes summarizes a request's input items.
func inputTypes(r *responsestest.Recorded) []string {
	var out []string
	for _, in := range r.Input() {
		typ := fmt.Sprint(in["type"])
		if role, ok := in["role"]; ok {
			typ += ":" + fmt.Sprint(role)
		}
		out = append(out, typ)
	}
	return out
}

func newMock(t *testing.T) *responsestest.Server {
	mock := responsestest.New()
	t.Cleanup(mock.Close)
	return mock
}

func TestModelToolCallWithApprovalThenMessage(t *testing.T) {
	mock := newMock(t)
	mock.Enqueue(
		responsestest.Response("r1", responsestest.Reasoning("rs1", "Need to create the file."), responsestest.ExecCommand("call_1", "touch made-by-model && echo made")),
		responsestest.Response("r2", responsestest.Message("m1", "Created ", "the file.")),
	)
	s := startModelServer(t, mock, options{})
	dir := t.TempDir()
	var start protocol.ThreadStartResponse
	s.ok("thread/start", map[string]any{"cwd": dir, "approvalPolicy": "untrusted"}, &start)
	if start.Model != "mock-model" || start.ModelProvider != "mock" || *start.Thread.Model != "mock-model" {
		t.Errorf("thread/start reports model %q provider %q (thread %q), want mock-model, mock", start.Model, start.ModelProvider, *start.Thread.Model)
	}
	s.until("thread/started")
	th := start.Thread.ID
	s.startModelTurn(th, "create a file")
	f := s.runModelFlow(answers{command: func(protocol.CommandExecutionRequestApprovalParams) protocol.CommandExecutionApprovalDecision {
		return protocol.Accept()
	}})

	if f.turn.Status != protocol.TurnCompleted {
		t.Fatalf("turn %s: %+v", f.turn.Status, f.turn.Error)
	}
	want := []string{"userMessage", "reasoning:Need to create the file.", "commandExecution:completed", "agentMessage:Created the file."}
	if !slices.Equal(f.kinds(), want) {
		t.Errorf("items %v, want %v", f.kinds(), want)
	}
	if f.deltas.String() != "Created the file." || f.summaryDeltas.String() != "Need to create the file." {
		t.Errorf("deltas %q, summary deltas %q", f.deltas.String(), f.summaryDeltas.String())
	}
	cmd := f.items[2].CommandExecution
	if cmd.Cwd != dir || *cmd.ExitCode != 0 || strings.TrimSpace(*cmd.AggregatedOutput) != "made" {
		t.Errorf("command item %+v", cmd)
	}
	// The item's id is ours (the provider's call id stays in the
	// conversation), and the approval names that item.
	if !isUUIDv7(cmd.ID) {
		t.Errorf("command item id %q, want a UUIDv7 of the server's, not the call id", cmd.ID)
	}
	if len(f.cmdApprovals) != 1 || f.cmdApprovals[0].ItemID != cmd.ID || *f.cmdApprovals[0].Command != "touch made-by-model && echo made" {
		t.Errorf("approvals %+v, want one for item %s", f.cmdApprovals, cmd.ID)
	}
	if _, err := os.Stat(filepath.Join(dir, "made-by-model")); err != nil {
		t.Errorf("the command did not run: %v", err)
	}
	if len(f.usage) != 2 || f.usage[1].TokenUsage.Total.TotalTokens != 30 || f.usage[1].TokenUsage.Last.TotalTokens != 15 {
		t.Errorf("token usage %+v", f.usage)
	}
	if i, j := slices.Index(f.methods, "item/commandExecution/requestApproval"), slices.Index(f.methods, "serverRequest/resolved"); i < 0 || j < i {
		t.Errorf("approval then serverRequest/resolved expected: %v", f.methods)
	}

	reqs := mock.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d model requests, want 2", len(reqs))
	}
	body := reqs[0].JSON()
	if body["model"] != "mock-model" || body["prompt_cache_key"] != th || body["stream"] != true || body["store"] != false {
		t.Errorf("first request: %s", reqs[0].Body)
	}
	var tools []string
	for _, tool := range body["tools"].([]any) {
		tools = append(tools, fmt.Sprint(tool.(map[string]any)["name"]))
	}
	if !slices.Equal(tools, []string{"exec_command", "apply_patch"}) {
		t.Errorf("tools %v", tools)
	}
	if got, want := inputTypes(reqs[1]), []string{"message:user", "reasoning", "function_call", "function_call_output"}; !slices.Equal(got, want) {
		t.Errorf("second request input %v, want %v (the whole history)", got, want)
	}
	if out := callOutput(t, reqs[1], "call_1"); !strings.Contains(out, "Exit code: 0") || !strings.Contains(out, "made") {
		t.Errorf("function_call_output %q", out)
	}
}

func TestModelDeclinedCommandIsToldToTheModel(t *testing.T) {
	mock := newMock(t)
	mock.Enqueue(
		responsestest.Response("r1", responsestest.ExecCommand("call_rm", "rm -rf build")),
		responsestest.Response("r2", responsestest.Message("m", "OK, I left it.")),
	)
	s := startModelServer(t, mock, options{})
	dir := t.TempDir()
	th := s.startThread(dir, protocol.ApprovalUntrusted)
	s.startModelTurn(th, "clean up")
	f := s.runModelFlow(answers{command: func(protocol.CommandExecutionRequestApprovalParams) protocol.CommandExecutionApprovalDecision {
		return protocol.Decline()
	}})
	if want := []string{"userMessage", "commandExecution:declined", "agentMessage:OK, I left it."}; !slices.Equal(f.kinds(), want) {
		t.Errorf("items %v, want %v", f.kinds(), want)
	}
	reqs, _ := mock.WaitRequests(2, time.Second)
	if out := callOutput(t, reqs[1], "call_rm"); !strings.Contains(out, "did not run") || !strings.Contains(out, "declined") {
		t.Errorf("the model was not told of the decline: %q", out)
	}
}

func TestModelApplyPatch(t *testing.T) {
	mock := newMock(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "app.py"), []byte("def greet():\n    print(\"Hi\")\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "old.txt"), []byte("bye\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "m.txt"), []byte("a\nb\n"), 0o644)
	good := `*** Begin Patch
*** Add File: hello.txt
+Hello, world!
*** Update File: app.py
@@ def greet():
-    print("Hi")
+    print("Hello")
*** Delete File: old.txt
*** Update File: m.txt
*** Move to: moved/m.txt
@@
 a
-b
+c
*** End Patch`
	bad := "*** Begin Patch\n*** Update File: app.py\n@@\n-this line is not there\n+x\n*** End Patch"
	declined := "*** Begin Patch\n*** Add File: nope.txt\n+no\n*** End Patch"
	mock.Enqueue(
		responsestest.Response("r1", responsestest.ApplyPatch("call_p1", good)),
		responsestest.Response("r2", responsestest.ApplyPatch("call_p2", bad)),
		responsestest.Response("r3", responsestest.ApplyPatch("call_p3", declined)),
		responsestest.Response("r4", responsestest.Message("m", "Done.")),
	)
	s := startModelServer(t, mock, options{})
	th := s.startThread(dir, protocol.ApprovalUntrusted)
	s.startModelTurn(th, "edit the files")
	var startedChanges []protocol.FileUpdateChange
	asked := 0
	f := s.runModelFlow(answers{
		file: func(p protocol.FileChangeRequestApprovalParams) protocol.FileChangeApprovalDecision {
			asked++
			if asked == 2 { // the third patch: the second fails before asking
				return protocol.FileChangeDecline
			}
			return protocol.FileChangeAccept
		},
		each: func(m msg) {
			if m.Method == "item/started" && startedChanges == nil {
				var n protocol.ItemStartedNotification
				m.decode(t, &n)
				if n.Item.FileChange != nil {
					startedChanges = n.Item.FileChange.Changes
				}
			}
		},
	})
	if want := []string{"userMessage", "fileChange:completed", "fileChange:failed", "fileChange:declined", "agentMessage:Done."}; !slices.Equal(f.kinds(), want) {
		t.Fatalf("items %v, want %v", f.kinds(), want)
	}
	// Approvals: the good patch and the declined one; the patch that does
	// not apply fails before anyone is asked.
	if len(f.fileApprovals) != 2 || f.fileApprovals[0].ItemID != f.items[1].FileChange.ID || f.fileApprovals[1].ItemID != f.items[3].FileChange.ID {
		t.Errorf("file approvals %+v, want the first and third fileChange items", f.fileApprovals)
	}
	for _, i := range []int{1, 2, 3} {
		if id := f.items[i].FileChange.ID; !isUUIDv7(id) {
			t.Errorf("fileChange item id %q, want a UUIDv7 of the server's, not the call id", id)
		}
	}
	item := f.items[1].FileChange
	if len(item.Changes) != 4 || len(startedChanges) != 4 {
		t.Fatalf("fileChange item %+v (started with %d changes)", item, len(startedChanges))
	}
	kinds := []string{}
	for _, c := range item.Changes {
		k := "update"
		switch {
		case c.Kind.Add != nil:
			k = "add"
		case c.Kind.Delete != nil:
			k = "delete"
		case c.Kind.Update.MovePath != nil:
			k = "move:" + *c.Kind.Update.MovePath
		}
		kinds = append(kinds, filepath.Base(c.Path)+"="+k)
	}
	if want := []string{"hello.txt=add", "app.py=update", "old.txt=delete", "m.txt=move:" + filepath.Join(dir, "moved/m.txt")}; !slices.Equal(kinds, want) {
		t.Errorf("changes %v, want %v", kinds, want)
	}
	if d := item.Changes[1].Diff; !strings.Contains(d, "-    print(\"Hi\")\n+    print(\"Hello\")") {
		t.Errorf("update diff %q", d)
	}
	for name, want := range map[string]string{"hello.txt": "Hello, world!\n", "app.py": "def greet():\n    print(\"Hello\")\n", "moved/m.txt": "a\nc\n"} {
		if b, err := os.ReadFile(filepath.Join(dir, name)); err != nil || string(b) != want {
			t.Errorf("%s = %q, %v; want %q", name, b, err, want)
		}
	}
	for _, gone := range []string{"old.txt", "m.txt", "nope.txt"} {
		if _, err := os.Stat(filepath.Join(dir, gone)); err == nil {
			t.Errorf("%s exists", gone)
		}
	}
	reqs, _ := mock.WaitRequests(4, time.Second)
	if out := callOutput(t, reqs[1], "call_p1"); !strings.Contains(out, "Success") || !strings.Contains(out, "A hello.txt") {
		t.Errorf("output of the good patch %q", out)
	}
	if out := callOutput(t, reqs[2], "call_p2"); !strings.Contains(out, "this line is not there") || !strings.Contains(out, "nothing was changed") {
		t.Errorf("output of the patch that does not apply %q", out)
	}
	if out := callOutput(t, reqs[3], "call_p3"); !strings.Contains(out, "not applied") {
		t.Errorf("output of the declined patch %q", out)
	}
}

// Under on-request, a patch inside the workspace applies without asking.
func TestModelApplyPatchInWorkspaceNeedsNoApproval(t *testing.T) {
	mock := newMock(t)
	mock.Enqueue(
		responsestest.Response("r1", responsestest.ApplyPatch("call_p", "*** Begin Patch\n*** Add File: a.txt\n+a\n*** End Patch")),
		responsestest.Response("r2", responsestest.Message("m", "ok")),
	)
	s := startModelServer(t, mock, options{})
	dir := t.TempDir()
	th := s.startThread(dir, protocol.ApprovalOnRequest)
	s.startModelTurn(th, "add a")
	f := s.runModelFlow(answers{})
	if f.fileChange(t).Status != protocol.PatchCompleted {
		t.Errorf("items %v", f.kinds())
	}
}

func TestModelInterruptMidStream(t *testing.T) {
	mock := newMock(t)
	mock.Enqueue(responsestest.Reply{Events: responsestest.Message("m", "partial ")[:2], Hang: true})
	s := startModelServer(t, mock, options{})
	th := s.startThread(t.TempDir(), protocol.ApprovalOnRequest)
	turnID := s.startModelTurn(th, "say something long")
	f := s.runModelFlow(answers{each: func(m msg) {
		if m.Method == "item/agentMessage/delta" {
			s.ok("turn/interrupt", map[string]any{"threadId": th, "turnId": turnID}, nil)
		}
	}})
	if f.turn.Status != protocol.TurnInterrupted {
		t.Errorf("turn %s, want interrupted", f.turn.Status)
	}
	if want := []string{"userMessage", "agentMessage:partial "}; !slices.Equal(f.kinds(), want) {
		t.Errorf("items %v, want %v (the started message completed with its text)", f.kinds(), want)
	}
	select {
	case <-mock.Requests()[0].ClientGone:
	case <-time.After(5 * time.Second):
		t.Fatal("the model request was not aborted by turn/interrupt")
	}
}

func TestModelServerErrorIsRetried(t *testing.T) {
	mock := newMock(t)
	mock.Enqueue(
		responsestest.Reply{Status: 500, Body: `{"error":{"message":"upstream exploded","type":"server_error"}}`},
		responsestest.Response("r", responsestest.Message("m", "fine")),
	)
	s := startModelServer(t, mock, options{})
	th := s.startThread(t.TempDir(), protocol.ApprovalOnRequest)
	s.startModelTurn(th, "hi")
	f := s.runModelFlow(answers{})
	if f.turn.Status != protocol.TurnCompleted {
		t.Fatalf("turn %s %+v", f.turn.Status, f.turn.Error)
	}
	if len(f.errors) != 1 || !f.errors[0].WillRetry || !strings.Contains(f.errors[0].Error.Message, "Reconnecting... 1/2") ||
		!strings.Contains(f.errors[0].Error.Message, "upstream exploded") || f.errors[0].Error.CodexErrorInfo.Class != protocol.ErrorResponseStreamDisconnected {
		t.Errorf("retry announcements %+v, want one error with willRetry", f.errors)
	}
	if len(mock.Requests()) != 2 {
		t.Errorf("%d requests", len(mock.Requests()))
	}
}

func TestModelBadRequestFailsTheTurn(t *testing.T) {
	mock := newMock(t)
	mock.Enqueue(responsestest.Reply{Status: 400, Body: `{"error":{"message":"Unsupported model mock-model","type":"invalid_request_error","code":"model_not_found"}}`})
	s := startModelServer(t, mock, options{})
	th := s.startThread(t.TempDir(), protocol.ApprovalOnRequest)
	s.startModelTurn(th, "hi")
	f := s.runModelFlow(answers{})
	if f.turn.Status != protocol.TurnFailed || f.turn.Error == nil {
		t.Fatalf("turn %s %+v", f.turn.Status, f.turn.Error)
	}
	te := f.turn.Error
	if !strings.Contains(te.Message, "Unsupported model mock-model") || te.CodexErrorInfo == nil || te.CodexErrorInfo.Class != protocol.ErrorModelNotFound {
		t.Errorf("turn error %+v", te)
	}
	if len(f.errors) != 1 || f.errors[0].WillRetry {
		t.Errorf("error notifications %+v", f.errors)
	}
	if len(mock.Requests()) != 1 {
		t.Errorf("a 400 was retried: %d requests", len(mock.Requests()))
	}
}

// Exhausted retries fail the turn with the class Codex 0.169.0 sends for
// the same answers.
func TestModelRetriesExhausted(t *testing.T) {
	status := func(n uint16) *uint16 { return &n }
	for _, tc := range []struct {
		status int
		want   protocol.CodexErrorInfo
	}{
		{503, protocol.CodexErrorInfo{Class: protocol.ErrorInternalServerError}},
		{429, protocol.CodexErrorInfo{Class: protocol.ErrorResponseTooManyFailedAttempt, HTTPStatusCode: status(429)}},
	} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			mock := newMock(t)
			mock.Enqueue(responsestest.Reply{Status: tc.status}, responsestest.Reply{Status: tc.status}, responsestest.Reply{Status: tc.status})
			s := startModelServer(t, mock, options{})
			th := s.startThread(t.TempDir(), protocol.ApprovalOnRequest)
			s.startModelTurn(th, "hi")
			f := s.runModelFlow(answers{})
			te := f.turn.Error
			if f.turn.Status != protocol.TurnFailed || te.CodexErrorInfo == nil || te.CodexErrorInfo.Class != tc.want.Class ||
				(tc.want.HTTPStatusCode != nil) != (te.CodexErrorInfo.HTTPStatusCode != nil) ||
				tc.want.HTTPStatusCode != nil && *te.CodexErrorInfo.HTTPStatusCode != *tc.want.HTTPStatusCode {
				t.Fatalf("turn %s error %+v (info %+v)", f.turn.Status, te, te.CodexErrorInfo)
			}
			if n := len(f.errors); n != 3 || !f.errors[0].WillRetry || !f.errors[1].WillRetry || f.errors[2].WillRetry {
				t.Errorf("error notifications %+v, want two retries then the failure", f.errors)
			}
			if n := len(mock.Requests()); n != 3 {
				t.Errorf("%d requests, want 3 (request_max_retries = 2)", n)
			}
		})
	}
}

func TestModelMalformedStreamFailsTheTurnAndServerStaysUp(t *testing.T) {
	mock := newMock(t)
	mock.Enqueue(
		responsestest.Reply{Raw: "event: response.created\ndata: {\"type\":\"response.created\",\n\n"},
		responsestest.Response("r", responsestest.Message("m", "recovered")),
	)
	s := startModelServer(t, mock, options{})
	th := s.startThread(t.TempDir(), protocol.ApprovalOnRequest)
	s.startModelTurn(th, "hi")
	f := s.runModelFlow(answers{})
	if f.turn.Status != protocol.TurnFailed || !strings.Contains(f.turn.Error.Message, "malformed response stream") {
		t.Fatalf("turn %s %+v", f.turn.Status, f.turn.Error)
	}
	s.startModelTurn(th, "again")
	if f := s.runModelFlow(answers{}); f.turn.Status != protocol.TurnCompleted {
		t.Errorf("the next turn: %s %+v", f.turn.Status, f.turn.Error)
	}
}

func TestModelMissingAPIKeyFailsTheFirstTurn(t *testing.T) {
	mock := newMock(t)
	s := startModelServer(t, mock, options{config: modelConfig(mock, `env_key = "APP_SERVER_E2E_NO_SUCH_KEY"`+"\n")})
	th := s.startThread(t.TempDir(), protocol.ApprovalOnRequest)
	s.startModelTurn(th, "hi")
	f := s.runModelFlow(answers{})
	if f.turn.Status != protocol.TurnFailed || !strings.Contains(f.turn.Error.Message, "APP_SERVER_E2E_NO_SUCH_KEY") {
		t.Fatalf("turn %s %+v", f.turn.Status, f.turn.Error)
	}
	if n := len(mock.Requests()); n != 0 {
		t.Errorf("%d requests sent without the key", n)
	}
}

func TestModelAPIKeyAndHeadersAreSent(t *testing.T) {
	mock := newMock(t)
	mock.Enqueue(responsestest.Response("r", responsestest.Message("m", "hi")))
	t.Setenv("APP_SERVER_E2E_KEY", "k-123")
	t.Setenv("APP_SERVER_E2E_ORG", "org-9")
	s := startModelServer(t, mock, options{config: modelConfig(mock, `env_key = "APP_SERVER_E2E_KEY"
http_headers = { "X-Team" = "ide" }
env_http_headers = { "X-Org" = "APP_SERVER_E2E_ORG" }
query_params = { "api-version" = "2025-04-01" }
`)})
	th := s.startThread(t.TempDir(), protocol.ApprovalOnRequest)
	s.startModelTurn(th, "hi")
	s.runModelFlow(answers{})
	r := mock.Requests()[0]
	if r.Header.Get("Authorization") != "Bearer k-123" || r.Header.Get("X-Team") != "ide" || r.Header.Get("X-Org") != "org-9" || r.Query != "api-version=2025-04-01" {
		t.Errorf("headers %v query %q", r.Header, r.Query)
	}
}

func TestModelResumeAfterRestartSendsTheWholeHistory(t *testing.T) {
	mock := newMock(t)
	mock.Enqueue(
		responsestest.Response("r1", responsestest.ExecCommand("call_1", "echo one")),
		responsestest.Response("r2", responsestest.Message("m1", "First done.")),
		responsestest.Response("r3", responsestest.Message("m2", "Second done.")),
	)
	home, dir := t.TempDir(), t.TempDir()
	s := startModelServer(t, mock, options{home: home})
	th := s.startThread(dir, protocol.ApprovalNever)
	s.startModelTurn(th, "first")
	s.runModelFlow(answers{})
	s.stdin.Close()
	<-s.exited

	s2 := startModelServer(t, mock, options{home: home})
	var resumed protocol.ThreadResumeResponse
	s2.ok("thread/resume", map[string]any{"threadId": th}, &resumed)
	if resumed.Model != "mock-model" || resumed.ModelProvider != "mock" || len(resumed.Thread.Turns) != 1 {
		t.Errorf("resume: model %q provider %q, %d turns", resumed.Model, resumed.ModelProvider, len(resumed.Thread.Turns))
	}
	s2.startModelTurn(th, "second")
	if f := s2.runModelFlow(answers{}); f.turn.Status != protocol.TurnCompleted {
		t.Fatalf("turn after resume: %s %+v", f.turn.Status, f.turn.Error)
	}
	reqs := mock.Requests()
	want := []string{"message:user", "function_call", "function_call_output", "message:assistant", "message:user"}
	if got := inputTypes(reqs[2]); !slices.Equal(got, want) {
		t.Errorf("request after restart input %v, want %v", got, want)
	}
	first, _ := json.Marshal(reqs[1].Input())
	third, _ := json.Marshal(reqs[2].Input()[:3])
	if string(first) != string(third) {
		t.Errorf("history after restart differs:\n before %s\n after  %s", first, third)
	}
}

func TestModelList(t *testing.T) {
	mock := newMock(t)
	s := startModelServer(t, mock, options{})
	var r protocol.ModelListResponse
	s.ok("model/list", map[string]any{}, &r)
	if len(r.Data) != 2 || r.Data[0].ID != "mock-model" || !r.Data[0].IsDefault || r.Data[1].ID != "shell" || r.Data[1].IsDefault {
		t.Errorf("model/list %+v", r.Data)
	}
}

// Without a model configured the shell agent stays the default; a thread
// may still ask for a model by name.
func TestShellAgentStaysDefaultWithoutModel(t *testing.T) {
	mock := newMock(t)
	mock.Enqueue(responsestest.Response("r", responsestest.Message("m", "from the model")))
	cfg := fmt.Sprintf("[network]\nenabled = false\n[model_providers.mock]\nbase_url = %q\n", mock.BaseURL())
	s := startServer(t, options{config: cfg})
	s.initialize()
	var r protocol.ThreadStartResponse
	s.ok("thread/start", map[string]any{"cwd": t.TempDir()}, &r)
	s.until("thread/started")
	if r.Model != "shell" || r.ModelProvider != "builtin" {
		t.Errorf("default thread model %q %q", r.Model, r.ModelProvider)
	}
	s.ok("thread/start", map[string]any{"cwd": t.TempDir(), "model": "other-model", "modelProvider": "mock"}, &r)
	s.until("thread/started")
	if r.Model != "other-model" || r.ModelProvider != "mock" {
		t.Errorf("requested thread model %q %q", r.Model, r.ModelProvider)
	}
	s.startModelTurn(r.Thread.ID, "hi")
	if f := s.runModelFlow(answers{}); f.turn.Status != protocol.TurnCompleted || mock.Requests()[0].JSON()["model"] != "other-model" {
		t.Errorf("turn %s, request %s", f.turn.Status, mock.Requests()[0].Body)
	}
	m := s.call("thread/start", map[string]any{"modelProvider": "nope"})
	if m.Error == nil || !strings.Contains(m.Error.Message, `unknown model provider "nope"`) {
		t.Errorf("unknown provider: %+v", m.Error)
	}
}

// Outside the sandbox's writable roots a patch asks under on-request and
// is refused without asking under never; the model is told either way.
func TestModelApplyPatchOutsideWritableRoots(t *testing.T) {
	for _, tc := range []struct {
		policy  protocol.AskForApproval
		asked   int
		status  protocol.PatchApplyStatus
		written bool
	}{
		{protocol.ApprovalOnRequest, 1, protocol.PatchCompleted, true},
		{protocol.ApprovalNever, 0, protocol.PatchDeclined, false},
	} {
		t.Run(string(tc.policy), func(t *testing.T) {
			// The target is outside the thread's cwd, /tmp and $TMPDIR.
			outside, err := os.MkdirTemp(".", "outside-roots-")
			if err != nil {
				t.Fatal(err)
			}
			outside, _ = filepath.Abs(outside)
			t.Cleanup(func() { os.RemoveAll(outside) })
			target := filepath.Join(outside, "x.txt")
			mock := newMock(t)
			mock.Enqueue(
				responsestest.Response("r1", responsestest.ApplyPatch("call_o", "*** Begin Patch\n*** Add File: "+target+"\n+x\n*** End Patch")),
				responsestest.Response("r2", responsestest.Message("m", "ok")),
			)
			s := startModelServer(t, mock, options{})
			th := s.startThread(t.TempDir(), tc.policy)
			s.startModelTurn(th, "write outside")
			f := s.runModelFlow(answers{file: func(p protocol.FileChangeRequestApprovalParams) protocol.FileChangeApprovalDecision {
				if p.Reason == nil || !strings.Contains(*p.Reason, "writable roots") {
					t.Errorf("reason %v", p.Reason)
				}
				return protocol.FileChangeAccept
			}})
			if len(f.fileApprovals) != tc.asked || f.fileChange(t).Status != tc.status {
				t.Errorf("%d approvals, item %s; want %d, %s", len(f.fileApprovals), f.fileChange(t).Status, tc.asked, tc.status)
			}
			if _, err := os.Stat(target); (err == nil) != tc.written {
				t.Errorf("written: %v, want %v", err == nil, tc.written)
			}
		})
	}
}

// exec_command's workdir is relative to the thread's cwd; an unknown tool
// and bad arguments are answered to the model without an item.
func TestModelCommandWorkdirAndBadCalls(t *testing.T) {
	mock := newMock(t)
	mock.Enqueue(
		responsestest.Response("r1", responsestest.FunctionCall("call_w", "exec_command", `{"cmd":"pwd","workdir":"sub"}`)),
		responsestest.Response("r2", responsestest.FunctionCall("call_u", "browse", `{}`)),
		responsestest.Response("r3", responsestest.FunctionCall("call_b", "exec_command", `{"cmd":`)),
		responsestest.Response("r4", responsestest.Message("m", "ok")),
	)
	s := startModelServer(t, mock, options{})
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	th := s.startThread(dir, protocol.ApprovalNever)
	s.startModelTurn(th, "where am I")
	f := s.runModelFlow(answers{})
	if want := []string{"userMessage", "commandExecution:completed", "agentMessage:ok"}; !slices.Equal(f.kinds(), want) {
		t.Errorf("items %v, want %v", f.kinds(), want)
	}
	reqs := mock.Requests()
	if out := callOutput(t, reqs[1], "call_w"); !strings.Contains(out, filepath.Join(dir, "sub")) {
		t.Errorf("pwd in workdir: %q", out)
	}
	if out := callOutput(t, reqs[2], "call_u"); !strings.Contains(out, `unknown tool "browse"`) {
		t.Errorf("unknown tool: %q", out)
	}
	if out := callOutput(t, reqs[3], "call_b"); !strings.Contains(out, "invalid exec_command arguments") {
		t.Errorf("bad arguments: %q", out)
	}
}

// A model's command reaches the network through the same proxy and
// prompts as a typed command: the network approval carries the call's
// turn, and the command's output (with the status the proxy let through)
// goes back to the model.
func TestModelCommandNetworkApproval(t *testing.T) {
	tg := newTarget(t, false)
	mock := newMock(t)
	mock.Enqueue(
		responsestest.Response("r1", responsestest.ExecCommand("call_net", curl(tg.url))),
		responsestest.Response("r2", responsestest.Message("m", "fetched")),
	)
	config := strings.Replace(modelConfig(mock, ""), "[network]\nenabled = false\n", "[network]\nallow_local_binding = true\n", 1)
	s := startModelServer(t, mock, options{config: config})
	th := s.startThread(t.TempDir(), protocol.ApprovalOnRequest)
	turnID := s.startModelTurn(th, "fetch the page")
	f := s.runModelFlow(answers{command: func(p protocol.CommandExecutionRequestApprovalParams) protocol.CommandExecutionApprovalDecision {
		if p.NetworkApprovalContext == nil || p.NetworkApprovalContext.Host != "127.0.0.1" || p.TurnID != turnID {
			t.Errorf("approval %+v, want a network approval for 127.0.0.1 in the turn", p)
		}
		return protocol.Accept()
	}})
	if len(f.cmdApprovals) != 1 || tg.hits.Load() != 1 {
		t.Fatalf("%d approvals, %d hits; want 1, 1", len(f.cmdApprovals), tg.hits.Load())
	}
	if out := callOutput(t, mock.Requests()[1], "call_net"); !strings.Contains(out, "200") {
		t.Errorf("the model saw %q", out)
	}
}

// acceptForSession on a patch lets later patches of the same files through
// without asking; a patch touching another file still asks.
func TestModelApplyPatchAcceptForSession(t *testing.T) {
	mock := newMock(t)
	add := func(name, line string) string {
		return "*** Begin Patch\n*** Add File: " + name + "\n+" + line + "\n*** End Patch"
	}
	mock.Enqueue(
		responsestest.Response("r1", responsestest.ApplyPatch("call_1", add("a.txt", "one"))),
		responsestest.Response("r2", responsestest.ApplyPatch("call_2", add("a.txt", "two"))),
		responsestest.Response("r3", responsestest.ApplyPatch("call_3", add("b.txt", "three"))),
		responsestest.Response("r4", responsestest.Message("m", "ok")),
	)
	s := startModelServer(t, mock, options{})
	dir := t.TempDir()
	th := s.startThread(dir, protocol.ApprovalUntrusted)
	s.startModelTurn(th, "write")
	first := ""
	f := s.runModelFlow(answers{file: func(p protocol.FileChangeRequestApprovalParams) protocol.FileChangeApprovalDecision {
		if first == "" || p.ItemID == first {
			first = p.ItemID
			return protocol.FileChangeAcceptForSession
		}
		return protocol.FileChangeAccept
	}})
	var asked []string
	for _, a := range f.fileApprovals {
		asked = append(asked, a.ItemID)
	}
	var patches []string
	for _, it := range f.items {
		if it.FileChange != nil {
			patches = append(patches, it.FileChange.ID)
		}
	}
	if len(patches) != 3 || !slices.Equal(asked, []string{patches[0], patches[2]}) {
		t.Errorf("asked about %v, want the first and third of the fileChange items %v", asked, patches)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "a.txt")); string(b) != "two\n" {
		t.Errorf("a.txt = %q", b)
	}
}

// A file change answer the server cannot read (an unknown decision, or
// none) is a decline, as a command's is, and not a silent one: a warning
// names the request and the value, and the model is told the patch was not
// applied.
func TestModelBadFileChangeDecisionDeclinesWithAWarning(t *testing.T) {
	for _, tc := range []struct{ name, answer, value string }{
		{"unknown", `{"decision":"maybe"}`, `"maybe"`},
		{"missing", `{}`, `{}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mock := newMock(t)
			mock.Enqueue(
				responsestest.Response("r1", responsestest.ApplyPatch("call_p", "*** Begin Patch\n*** Add File: a.txt\n+x\n*** End Patch")),
				responsestest.Response("r2", responsestest.Message("m", "ok")),
			)
			s := startModelServer(t, mock, options{})
			dir := t.TempDir()
			th := s.startThread(dir, protocol.ApprovalUntrusted)
			s.startModelTurn(th, "write")
			var prompt msg
			var warnings []string
			for done := false; !done; {
				m := s.next()
				switch m.Method {
				case "item/fileChange/requestApproval":
					prompt = m
					s.answer(m, json.RawMessage(tc.answer))
				case "warning":
					var n protocol.WarningNotification
					m.decode(t, &n)
					warnings = append(warnings, n.Message)
				case "turn/completed":
					done = true
				}
			}
			if prompt.Method == "" {
				t.Fatal("no file change prompt")
			}
			if len(warnings) != 1 || !strings.Contains(warnings[0], "approval request "+string(prompt.ID)+" ") || !strings.Contains(warnings[0], tc.value) {
				t.Errorf("warnings %q, want one naming request %s and %s", warnings, prompt.ID, tc.value)
			}
			if _, err := os.Stat(filepath.Join(dir, "a.txt")); err == nil {
				t.Error("the patch was applied")
			}
			if out := callOutput(t, mock.Requests()[1], "call_p"); !strings.Contains(out, "not applied") {
				t.Errorf("the model was told %q", out)
			}
		})
	}
}

// Raw reasoning text (gpt-oss on local servers sends it instead of
// summaries) streams as item/reasoning/textDelta and ends in the item's
// content.
func TestModelRawReasoningText(t *testing.T) {
	mock := newMock(t)
	mock.Enqueue(responsestest.Response("r", responsestest.ReasoningText("rs", "The user wants a greeting."), responsestest.Message("m", "Hello!")))
	s := startModelServer(t, mock, options{})
	th := s.startThread(t.TempDir(), protocol.ApprovalOnRequest)
	s.startModelTurn(th, "greet me")
	f := s.runModelFlow(answers{})
	if f.textDeltas.String() != "The user wants a greeting." {
		t.Errorf("text deltas %q", f.textDeltas.String())
	}
	var content []string
	for _, it := range f.items {
		if it.Reasoning != nil {
			content = it.Reasoning.Content
		}
	}
	if !slices.Equal(content, []string{"The user wants a greeting."}) {
		t.Errorf("reasoning content %q", content)
	}
}

// The writable roots of a patch are the sandbox's: a configured
// [sandbox_workspace_write] root takes patches without asking, while the
// workspace's .git stays protected and asks.
func TestModelApplyPatchUsesTheSandboxRoots(t *testing.T) {
	extra, err := os.MkdirTemp(".", "extra-root-")
	if err != nil {
		t.Fatal(err)
	}
	extra, _ = filepath.Abs(extra)
	t.Cleanup(func() { os.RemoveAll(extra) })
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, ".git"), 0o755)
	mock := newMock(t)
	mock.Enqueue(
		responsestest.Response("r1", responsestest.ApplyPatch("call_extra", "*** Begin Patch\n*** Add File: "+filepath.Join(extra, "ok.txt")+"\n+ok\n*** End Patch")),
		responsestest.Response("r2", responsestest.ApplyPatch("call_git", "*** Begin Patch\n*** Add File: .git/hooks/pre-commit\n+#!/bin/sh\n*** End Patch")),
		responsestest.Response("r3", responsestest.Message("m", "ok")),
	)
	config := modelConfig(mock, "") + fmt.Sprintf("\n[sandbox_workspace_write]\nwritable_roots = [%q]\n", extra)
	config = strings.Replace(config, "[network]\n", "allow_unenforced_sandbox = true\n\n[network]\n", 1)
	s := startModelServer(t, mock, options{config: config})
	th := s.startThread(dir, protocol.ApprovalOnRequest)
	s.startModelTurn(th, "write")
	f := s.runModelFlow(answers{file: func(p protocol.FileChangeRequestApprovalParams) protocol.FileChangeApprovalDecision {
		return protocol.FileChangeDecline
	}})
	gitItem := ""
	for _, it := range f.items {
		if it.FileChange != nil && len(it.FileChange.Changes) == 1 && strings.Contains(it.FileChange.Changes[0].Path, ".git") {
			gitItem = it.FileChange.ID
		}
	}
	if len(f.fileApprovals) != 1 || gitItem == "" || f.fileApprovals[0].ItemID != gitItem {
		t.Errorf("approvals %+v, want one, for the .git patch's item %q", f.fileApprovals, gitItem)
	}
	if _, err := os.Stat(filepath.Join(extra, "ok.txt")); err != nil {
		t.Errorf("the patch in the configured root was not applied: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".git/hooks/pre-commit")); err == nil {
		t.Error("the declined .git patch was applied")
	}
}

// Images of the turn's input go to the model: by URL, and local files as
// data: URLs; a local file that is not an image is named in the text.
func TestModelImagesInInput(t *testing.T) {
	mock := newMock(t)
	mock.Enqueue(responsestest.Response("r", responsestest.Message("m", "a red dot")))
	dir := t.TempDir()
	png := filepath.Join(dir, "dot.png")
	os.WriteFile(png, []byte("\x89PNG\r\n\x1a\nfake"), 0o644)
	s := startModelServer(t, mock, options{})
	th := s.startThread(dir, protocol.ApprovalOnRequest)
	var r protocol.TurnStartResponse
	s.ok("turn/start", map[string]any{"threadId": th, "input": []map[string]any{
		{"type": "text", "text": "what is this?"},
		{"type": "image", "url": "https://example.com/a.png"},
		{"type": "localImage", "path": png},
		{"type": "localImage", "path": filepath.Join(dir, "notes.txt")},
	}}, &r)
	if f := s.runModelFlow(answers{}); f.turn.Status != protocol.TurnCompleted {
		t.Fatalf("turn %s %+v", f.turn.Status, f.turn.Error)
	}
	content := mock.Requests()[0].Input()[0]["content"].([]any)
	var got []string
	for _, c := range content {
		m := c.(map[string]any)
		switch m["type"] {
		case "input_text":
			got = append(got, "text:"+fmt.Sprint(m["text"]))
		case "input_image":
			u := fmt.Sprint(m["image_url"])
			if strings.HasPrefix(u, "data:") {
				u = u[:strings.Index(u, ",")]
			}
			got = append(got, "image:"+u)
		}
	}
	want := []string{"text:what is this?\n[image " + filepath.Join(dir, "notes.txt") + " not attached: not a png, jpeg, gif or webp file]",
		"image:https://example.com/a.png", "image:data:image/png;base64"}
	if !slices.Equal(got, want) {
		t.Errorf("content %q, want %q", got, want)
	}
}
