package e2e

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"app-server/protocol"
)

// startThread starts a thread in dir with the given policy.
func (s *server) startThread(dir string, policy protocol.AskForApproval) string {
	s.t.Helper()
	var r protocol.ThreadStartResponse
	s.ok("thread/start", map[string]any{"cwd": dir, "approvalPolicy": policy}, &r)
	if m := s.next(); m.Method != "thread/started" {
		s.t.Fatalf("after thread/start got %s, want thread/started", m.Method)
	}
	return r.Thread.ID
}

// startTurn starts a turn of command lines and returns the turn id.
func (s *server) startTurn(threadID string, lines ...string) string {
	s.t.Helper()
	input := make([]map[string]any, len(lines))
	for i, l := range lines {
		input[i] = map[string]any{"type": "text", "text": l}
	}
	var r protocol.TurnStartResponse
	s.ok("turn/start", map[string]any{"threadId": threadID, "input": input}, &r)
	if r.Turn.Status != protocol.TurnInProgress {
		s.t.Fatalf("turn/start answered status %s", r.Turn.Status)
	}
	return r.Turn.ID
}

// flow collects the events of a turn up to turn/completed, answering
// approval requests with answer (nil: fail the test on a request).
type flow struct {
	methods   []string
	items     []protocol.ThreadItem // completed items
	approvals []protocol.CommandExecutionRequestApprovalParams
	resolved  []protocol.ServerRequestResolvedNotification
	warnings  []protocol.WarningNotification
	statuses  []string
	output    strings.Builder // deltas, concatenated
	turn      protocol.Turn
}

func (s *server) runFlow(answer func(protocol.CommandExecutionRequestApprovalParams) any) *flow {
	s.t.Helper()
	f := &flow{}
	for {
		m := s.next()
		f.methods = append(f.methods, m.Method)
		switch m.Method {
		case "item/commandExecution/requestApproval":
			var p protocol.CommandExecutionRequestApprovalParams
			m.decode(s.t, &p)
			f.approvals = append(f.approvals, p)
			if answer == nil {
				s.t.Fatalf("unexpected approval request: %s", m.Raw)
			}
			s.answer(m, answer(p))
		case "serverRequest/resolved":
			var n protocol.ServerRequestResolvedNotification
			m.decode(s.t, &n)
			f.resolved = append(f.resolved, n)
		case "warning":
			var n protocol.WarningNotification
			m.decode(s.t, &n)
			f.warnings = append(f.warnings, n)
		case "thread/status/changed":
			var n protocol.ThreadStatusChangedNotification
			m.decode(s.t, &n)
			f.statuses = append(f.statuses, statusString(n.Status))
		case "item/commandExecution/outputDelta":
			var n protocol.CommandExecutionOutputDeltaNotification
			m.decode(s.t, &n)
			f.output.WriteString(n.Delta)
		case "item/completed":
			var n protocol.ItemCompletedNotification
			m.decode(s.t, &n)
			f.items = append(f.items, n.Item)
		case "turn/completed":
			var n protocol.TurnCompletedNotification
			m.decode(s.t, &n)
			f.turn = n.Turn
			return f
		}
	}
}

func statusString(st protocol.ThreadStatus) string {
	switch {
	case st.Idle != nil:
		return "idle"
	case st.Active != nil && len(st.Active.ActiveFlags) > 0:
		return "active:" + string(st.Active.ActiveFlags[0])
	case st.Active != nil:
		return "active"
	}
	return "other"
}

// commands returns the completed command items of a flow.
func (f *flow) commands() []*protocol.CommandExecutionItem {
	var out []*protocol.CommandExecutionItem
	for _, it := range f.items {
		if it.CommandExecution != nil {
			out = append(out, it.CommandExecution)
		}
	}
	return out
}

// compact drops repeated output deltas so an ordering can be compared.
func compact(methods []string) []string {
	var out []string
	for _, m := range methods {
		if m == "item/commandExecution/outputDelta" && len(out) > 0 && out[len(out)-1] == m {
			continue
		}
		out = append(out, m)
	}
	return out
}

func decision(d protocol.CommandExecutionApprovalDecision) func(protocol.CommandExecutionRequestApprovalParams) any {
	return func(protocol.CommandExecutionRequestApprovalParams) any {
		return protocol.CommandExecutionRequestApprovalResponse{Decision: d}
	}
}

func TestCommandApprovalAccept(t *testing.T) {
	s := startServer(t, options{})
	s.initialize()
	dir := t.TempDir()
	th := s.startThread(dir, protocol.ApprovalUntrusted)
	turnID := s.startTurn(th, "echo hello > out.txt && cat out.txt")
	f := s.runFlow(decision(protocol.Accept()))

	want := []string{
		"thread/status/changed", "turn/started", "item/started", "item/completed",
		"item/started", "thread/status/changed", "item/commandExecution/requestApproval",
		"serverRequest/resolved", "thread/status/changed", "item/commandExecution/outputDelta",
		"item/completed", "thread/status/changed", "turn/completed",
	}
	if got := compact(f.methods); !slices.Equal(got, want) {
		t.Errorf("notification order\n got %v\nwant %v", got, want)
	}
	if want := []string{"active", "active:waitingOnApproval", "active", "idle"}; !slices.Equal(f.statuses, want) {
		t.Errorf("statuses %v, want %v", f.statuses, want)
	}
	a := f.approvals[0]
	if a.Command == nil || *a.Command != "echo hello > out.txt && cat out.txt" || a.Cwd == nil || *a.Cwd != dir || a.TurnID != turnID {
		t.Errorf("approval params %+v", a)
	}
	if a.NetworkApprovalContext != nil || len(a.CommandActions) == 0 {
		t.Errorf("command approval has network context or no actions: %+v", a)
	}
	if len(f.resolved) != 1 || f.resolved[0].ThreadID != th {
		t.Errorf("serverRequest/resolved %+v", f.resolved)
	}
	cmds := f.commands()
	if len(cmds) != 1 || cmds[0].Status != protocol.CommandCompleted || *cmds[0].ExitCode != 0 || *cmds[0].AggregatedOutput != "hello\n" {
		t.Fatalf("command item %+v", cmds[0])
	}
	if cmds[0].ID != a.ItemID || f.output.String() != "hello\n" {
		t.Errorf("item id %s vs approval %s; streamed %q", cmds[0].ID, a.ItemID, f.output.String())
	}
	if f.turn.Status != protocol.TurnCompleted || f.turn.ID != turnID {
		t.Errorf("turn %+v", f.turn)
	}
}

func TestCommandApprovalDecline(t *testing.T) {
	s := startServer(t, options{})
	s.initialize()
	dir := t.TempDir()
	th := s.startThread(dir, protocol.ApprovalUntrusted)
	s.startTurn(th, "touch declined.txt", "echo after")
	f := s.runFlow(func(p protocol.CommandExecutionRequestApprovalParams) any {
		if *p.Command == "touch declined.txt" {
			return protocol.CommandExecutionRequestApprovalResponse{Decision: protocol.Decline()}
		}
		return protocol.CommandExecutionRequestApprovalResponse{Decision: protocol.Accept()}
	})
	cmds := f.commands()
	if len(cmds) != 2 || cmds[0].Status != protocol.CommandDeclined || cmds[1].Status != protocol.CommandCompleted {
		t.Fatalf("items %+v", cmds)
	}
	if _, err := os.Stat(filepath.Join(dir, "declined.txt")); err == nil {
		t.Error("declined command ran")
	}
	if f.turn.Status != protocol.TurnCompleted {
		t.Errorf("turn %s, want completed (decline lets the turn go on)", f.turn.Status)
	}
}

func TestCommandApprovalCancel(t *testing.T) {
	s := startServer(t, options{})
	s.initialize()
	dir := t.TempDir()
	th := s.startThread(dir, protocol.ApprovalUntrusted)
	s.startTurn(th, "touch cancelled.txt", "touch never.txt")
	f := s.runFlow(decision(protocol.Cancel()))
	cmds := f.commands()
	if len(cmds) != 1 || cmds[0].Status != protocol.CommandDeclined {
		t.Fatalf("items %+v", cmds)
	}
	if f.turn.Status != protocol.TurnInterrupted {
		t.Errorf("turn %s, want interrupted", f.turn.Status)
	}
	for _, name := range []string{"cancelled.txt", "never.txt"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			t.Errorf("%s exists: a cancelled turn ran a command", name)
		}
	}
}

func TestCommandApprovalAcceptForSession(t *testing.T) {
	s := startServer(t, options{})
	s.initialize()
	th := s.startThread(t.TempDir(), protocol.ApprovalUntrusted)
	s.startTurn(th, "touch a && echo one")
	f := s.runFlow(decision(protocol.AcceptForSession()))
	if len(f.approvals) != 1 {
		t.Fatalf("%d approvals", len(f.approvals))
	}
	s.startTurn(th, "touch a && echo one")
	f = s.runFlow(nil) // no prompt the second time
	if c := f.commands(); len(c) != 1 || c[0].Status != protocol.CommandCompleted {
		t.Fatalf("second run %+v", c)
	}
	// Another thread has its own session cache.
	th2 := s.startThread(t.TempDir(), protocol.ApprovalUntrusted)
	s.startTurn(th2, "touch a && echo one")
	if f = s.runFlow(decision(protocol.Decline())); len(f.approvals) != 1 {
		t.Errorf("other thread was not asked")
	}
}

func TestExecpolicyAmendmentSurvivesRestart(t *testing.T) {
	home := t.TempDir()
	dir := t.TempDir()
	s := startServer(t, options{home: home})
	s.initialize()
	th := s.startThread(dir, protocol.ApprovalUntrusted)
	s.startTurn(th, "touch amended.txt")
	f := s.runFlow(func(p protocol.CommandExecutionRequestApprovalParams) any {
		if !slices.Equal(p.ProposedExecpolicyAmendment, []string{"touch", "amended.txt"}) {
			t.Errorf("proposed amendment %q", p.ProposedExecpolicyAmendment)
		}
		return protocol.CommandExecutionRequestApprovalResponse{Decision: protocol.AcceptWithExecpolicyAmendment([]string{"touch"})}
	})
	if c := f.commands(); c[0].Status != protocol.CommandCompleted {
		t.Fatalf("item %+v", c[0])
	}
	rules, err := os.ReadFile(filepath.Join(home, "rules.toml"))
	if err != nil || !strings.Contains(string(rules), "touch") {
		t.Fatalf("rules.toml: %q, %v", rules, err)
	}
	s.stdin.Close()
	<-s.exited

	s2 := startServer(t, options{home: home})
	s2.initialize()
	th2 := s2.startThread(dir, protocol.ApprovalUntrusted)
	s2.startTurn(th2, "touch other-file.txt")
	f = s2.runFlow(nil) // the persisted prefix rule allows it without a prompt
	if c := f.commands(); c[0].Status != protocol.CommandCompleted {
		t.Fatalf("item after restart %+v", c[0])
	}
	// A compound line never matches a prefix rule.
	s2.startTurn(th2, "touch x; rm -f x")
	if f = s2.runFlow(decision(protocol.Decline())); len(f.approvals) != 1 {
		t.Errorf("compound command ran on a prefix rule without a prompt")
	}
}

func TestCommandApprovalClientErrorReply(t *testing.T) {
	s := startServer(t, options{})
	s.initialize()
	th := s.startThread(t.TempDir(), protocol.ApprovalUntrusted)
	s.startTurn(th, "touch x")
	m, _ := s.until("item/commandExecution/requestApproval")
	s.send(`{"id":` + string(m.ID) + `,"error":{"code":-32000,"message":"dialog crashed"}}`)
	f := s.runFlow(nil)
	c := f.commands()
	if len(c) != 1 || c[0].Status != protocol.CommandFailed {
		t.Fatalf("items %+v", c)
	}
	if len(f.resolved) != 1 {
		t.Errorf("no serverRequest/resolved after an error reply")
	}
}

func TestPoliciesThatDoNotPrompt(t *testing.T) {
	s := startServer(t, options{})
	s.initialize()
	for _, policy := range []protocol.AskForApproval{protocol.ApprovalOnRequest, protocol.ApprovalNever} {
		th := s.startThread(t.TempDir(), policy)
		s.startTurn(th, "touch x && echo ran")
		f := s.runFlow(nil)
		if c := f.commands(); c[0].Status != protocol.CommandCompleted || *c[0].AggregatedOutput != "ran\n" {
			t.Errorf("%s: %+v", policy, c[0])
		}
	}
	// Known read-only commands run without a prompt even under untrusted.
	th := s.startThread(t.TempDir(), protocol.ApprovalUntrusted)
	s.startTurn(th, "ls", "pwd", "echo 'a;b'")
	if f := s.runFlow(nil); len(f.commands()) != 3 {
		t.Errorf("read-only commands: %v", f.methods)
	}
}

func TestInterruptKillsTheProcessGroup(t *testing.T) {
	s := startServer(t, options{})
	s.initialize()
	dir := t.TempDir()
	th := s.startThread(dir, protocol.ApprovalNever)
	// The child's pid as the command sees it is its pid namespace's (the
	// command is sandboxed): the test finds the child by a marker in its
	// argv instead.
	marker := "bgchild-" + filepath.Base(dir)
	turnID := s.startTurn(th, "sh -c 'sleep 30; true' "+marker+" & echo started; wait")
	// Wait until the command is running (its output arrives).
	s.until("item/commandExecution/outputDelta")
	start := time.Now()
	s.ok("turn/interrupt", map[string]any{"threadId": th, "turnId": turnID}, nil)
	f := s.runFlow(nil)
	if f.turn.Status != protocol.TurnInterrupted {
		t.Fatalf("turn %s, want interrupted", f.turn.Status)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("interrupt took %v, want under 2s", d)
	}
	if pids := processesWith(marker); len(pids) > 0 {
		t.Errorf("background child %v of the interrupted command is still alive", pids)
	}
	if c := f.commands(); len(c) != 1 || c[0].Status != protocol.CommandFailed {
		t.Errorf("interrupted item %+v", c)
	}
}

func TestSecondTurnWhileRunningIsRefused(t *testing.T) {
	s := startServer(t, options{})
	s.initialize()
	th := s.startThread(t.TempDir(), protocol.ApprovalNever)
	turnID := s.startTurn(th, "sleep 5")
	m := s.call("turn/start", map[string]any{"threadId": th, "input": []any{map[string]any{"type": "text", "text": "echo"}}})
	if m.Error == nil || !strings.Contains(m.Error.Message, "already running") {
		t.Fatalf("second turn/start: %s", m.Raw)
	}
	s.ok("turn/interrupt", map[string]any{"threadId": th, "turnId": turnID}, nil)
	s.runFlow(nil)
}

func TestTwoThreadsRunAtOnce(t *testing.T) {
	s := startServer(t, options{})
	s.initialize()
	dir := t.TempDir()
	a := s.startThread(dir, protocol.ApprovalNever)
	b := s.startThread(dir, protocol.ApprovalNever)
	// Each waits for the other's file, so they finish only if both run concurrently.
	s.startTurn(a, "touch a.flag; for i in $(seq 50); do [ -e b.flag ] && echo A-done && exit 0; sleep 0.1; done; exit 1")
	s.startTurn(b, "touch b.flag; for i in $(seq 50); do [ -e a.flag ] && echo B-done && exit 0; sleep 0.1; done; exit 1")
	done := map[string]protocol.Turn{}
	for len(done) < 2 {
		m := s.next()
		if m.Method == "turn/completed" {
			var n protocol.TurnCompletedNotification
			m.decode(t, &n)
			done[n.ThreadID] = n.Turn
		}
	}
	for _, id := range []string{a, b} {
		tu := done[id]
		c := tu.Items[len(tu.Items)-1].CommandExecution
		if tu.Status != protocol.TurnCompleted || c == nil || *c.ExitCode != 0 {
			t.Errorf("thread %s: turn %s, item %+v", id, tu.Status, c)
		}
	}
}

func TestForbiddenRuleDeclinesWithoutPrompt(t *testing.T) {
	home := t.TempDir()
	rules := "[[command]]\nprefix = [\"rm\", \"-rf\"]\ndecision = \"forbidden\"\n"
	if err := os.WriteFile(filepath.Join(home, "rules.toml"), []byte(rules), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, options{home: home})
	s.initialize()
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "keep"), 0o755)
	for _, policy := range []protocol.AskForApproval{protocol.ApprovalNever, protocol.ApprovalUntrusted} {
		th := s.startThread(dir, policy)
		s.startTurn(th, "echo cleaning && rm -rf keep")
		f := s.runFlow(nil) // no prompt under any policy
		if c := f.commands(); c[0].Status != protocol.CommandDeclined {
			t.Errorf("%s: item %+v", policy, c[0])
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "keep")); err != nil {
		t.Errorf("a forbidden command ran: %v", err)
	}
}
