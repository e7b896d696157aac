package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"app-server/protocol"
)

func TestThreadListReadArchiveUnarchive(t *testing.T) {
	s := startServer(t, options{})
	s.initialize()
	var ids []string
	for i := 0; i < 3; i++ {
		th := s.startThread(t.TempDir(), protocol.ApprovalNever)
		s.startTurn(th, "echo thread-"+strconv.Itoa(i))
		s.runFlow(nil)
		ids = append(ids, th)
	}
	var page protocol.ThreadListResponse
	s.ok("thread/list", map[string]any{"limit": 2}, &page)
	if len(page.Data) != 2 || page.Data[0].ID != ids[2] || page.Data[1].ID != ids[1] || page.NextCursor == nil {
		t.Fatalf("first page: %d threads, next %v", len(page.Data), page.NextCursor)
	}
	if page.Data[0].Preview != "echo thread-2" {
		t.Errorf("preview %q", page.Data[0].Preview)
	}
	var rest protocol.ThreadListResponse
	s.ok("thread/list", map[string]any{"limit": 2, "cursor": *page.NextCursor}, &rest)
	if len(rest.Data) != 1 || rest.Data[0].ID != ids[0] || rest.NextCursor != nil {
		t.Fatalf("second page: %+v", rest)
	}
	var read protocol.ThreadReadResponse
	s.ok("thread/read", map[string]any{"threadId": ids[0], "includeTurns": true}, &read)
	if len(read.Thread.Turns) != 1 || len(read.Thread.Turns[0].Items) != 2 {
		t.Fatalf("read with turns: %+v", read.Thread.Turns)
	}

	s.ok("thread/archive", map[string]any{"threadId": ids[1]}, nil)
	if m, _ := s.until("thread/archived"); !strings.Contains(string(m.Params), ids[1]) {
		t.Errorf("thread/archived %s", m.Params)
	}
	var active, archived protocol.ThreadListResponse
	s.ok("thread/list", map[string]any{}, &active)
	s.ok("thread/list", map[string]any{"archived": true}, &archived)
	if len(active.Data) != 2 || len(archived.Data) != 1 || archived.Data[0].ID != ids[1] {
		t.Fatalf("after archive: %d active, %d archived", len(active.Data), len(archived.Data))
	}
	if _, err := os.Stat(filepath.Join(s.home, "archived", ids[1]+".jsonl")); err != nil {
		t.Errorf("archived file: %v", err)
	}
	var loaded protocol.ThreadLoadedListResponse
	s.ok("thread/loaded/list", map[string]any{}, &loaded)
	if len(loaded.Data) != 2 {
		t.Errorf("loaded after archive: %v", loaded.Data)
	}
	var un protocol.ThreadUnarchiveResponse
	s.ok("thread/unarchive", map[string]any{"threadId": ids[1]}, &un)
	if un.Thread.ID != ids[1] {
		t.Errorf("unarchive answered %+v", un.Thread)
	}
	s.until("thread/unarchived")
	var resumed protocol.ThreadResumeResponse
	s.ok("thread/resume", map[string]any{"threadId": ids[1]}, &resumed)
	if len(resumed.Thread.Turns) != 1 || resumed.Model != "shell" {
		t.Errorf("resume after unarchive: %+v", resumed)
	}
}

func TestEphemeralThreadsAreNotWritten(t *testing.T) {
	s := startServer(t, options{})
	s.initialize()
	var r protocol.ThreadStartResponse
	s.ok("thread/start", map[string]any{"ephemeral": true}, &r)
	s.until("thread/started")
	s.startTurn(r.Thread.ID, "echo hi")
	s.runFlow(nil)
	entries, _ := os.ReadDir(filepath.Join(s.home, "threads"))
	if len(entries) != 0 || r.Thread.Path != nil || !r.Thread.Ephemeral {
		t.Errorf("ephemeral thread written: %d files, path %v", len(entries), r.Thread.Path)
	}
	var list protocol.ThreadListResponse
	s.ok("thread/list", map[string]any{}, &list)
	for _, th := range list.Data {
		if th.ID == r.Thread.ID {
			t.Error("thread/list lists the ephemeral thread")
		}
	}
}

func TestBadThreadAndTurnInputIsRefusedNamingTheProblem(t *testing.T) {
	s := startServer(t, options{})
	s.initialize()
	dir := t.TempDir()
	th := s.startThread(dir, protocol.ApprovalNever)
	threadFiles := func() int {
		entries, _ := os.ReadDir(filepath.Join(s.home, "threads"))
		return len(entries)
	}
	before := threadFiles()
	size := func() int64 {
		st, err := os.Stat(filepath.Join(s.home, "threads", th+".jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		return st.Size()
	}
	sizeBefore := size()
	for _, tc := range []struct {
		name, line, want string
	}{
		{"unknown thread", `{"id":"a","method":"turn/start","params":{"threadId":"01a20000-0000-7000-8000-000000000000","input":[{"type":"text","text":"ls"}]}}`, "thread not found"},
		{"empty input", `{"id":"b","method":"turn/start","params":{"threadId":"` + th + `","input":[]}}`, "input is empty"},
		{"non-text input", `{"id":"c","method":"turn/start","params":{"threadId":"` + th + `","input":[{"type":"localImage","path":"/x.png"}]}}`, "not text"},
		{"blank command", `{"id":"d","method":"turn/start","params":{"threadId":"` + th + `","input":[{"type":"text","text":"  "}]}}`, "empty command line"},
		{"relative cwd", `{"id":"e","method":"thread/start","params":{"cwd":"relative/dir"}}`, "absolute"},
		{"missing cwd", `{"id":"f","method":"thread/start","params":{"cwd":"/does/not/exist"}}`, "does not exist"},
		{"unknown policy", `{"id":"g","method":"thread/start","params":{"approvalPolicy":"sometimes"}}`, `unknown AskForApproval "sometimes"`},
		{"unknown sandbox", `{"id":"h","method":"thread/start","params":{"sandbox":"open"}}`, `unknown SandboxMode "open"`},
		{"turn cwd missing", `{"id":"i","method":"turn/start","params":{"threadId":"` + th + `","cwd":"/nope","input":[{"type":"text","text":"ls"}]}}`, "does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var id string
			if i := strings.Index(tc.line, `"id":"`); i >= 0 {
				id = tc.line[i+6 : i+7]
			}
			s.mu.Lock()
			ch := make(chan msg, 1)
			s.waiting[`"`+id+`"`] = ch
			s.mu.Unlock()
			s.send(tc.line)
			m := s.await(ch)
			if m.Error == nil || m.Error.Code != -32602 || !strings.Contains(m.Error.Message, tc.want) {
				t.Fatalf("got %s, want -32602 naming %q", m.Raw, tc.want)
			}
		})
	}
	if threadFiles() != before || size() != sizeBefore {
		t.Errorf("refused requests changed persisted state")
	}
	var read protocol.ThreadReadResponse
	s.ok("thread/read", map[string]any{"threadId": th, "includeTurns": true}, &read)
	if len(read.Thread.Turns) != 0 || read.Thread.Cwd != dir {
		t.Errorf("thread changed: %+v", read.Thread)
	}
}

func TestKill9ThenResume(t *testing.T) {
	home := t.TempDir()
	dir := t.TempDir()
	s := startServer(t, options{home: home})
	s.initialize()
	th := s.startThread(dir, protocol.ApprovalNever)
	s.startTurn(th, "echo first", "echo second")
	done := s.runFlow(nil)
	s.startTurn(th, "echo $$ > crash.pid; echo running; sleep 30")
	s.until("item/commandExecution/outputDelta")
	s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.exited
	t.Cleanup(func() {
		if pid, err := os.ReadFile(filepath.Join(dir, "crash.pid")); err == nil {
			if n, err := strconv.Atoi(strings.TrimSpace(string(pid))); err == nil {
				syscall.Kill(n, syscall.SIGKILL) // the orphan of the killed server
			}
		}
	})

	s2 := startServer(t, options{home: home})
	s2.initialize()
	var list protocol.ThreadListResponse
	s2.ok("thread/list", map[string]any{}, &list)
	if len(list.Data) != 1 || list.Data[0].ID != th {
		t.Fatalf("thread/list after kill -9: %+v", list.Data)
	}
	var r protocol.ThreadResumeResponse
	s2.ok("thread/resume", map[string]any{"threadId": th}, &r)
	turns := r.Thread.Turns
	if len(turns) != 2 {
		t.Fatalf("%d turns after resume, want 2", len(turns))
	}
	if turns[0].ID != done.turn.ID || turns[0].Status != protocol.TurnCompleted || len(turns[0].Items) != 3 {
		t.Errorf("completed turn: %+v", turns[0])
	}
	out := *turns[0].Items[2].CommandExecution.AggregatedOutput
	if out != "second\n" {
		t.Errorf("second command's output %q", out)
	}
	if turns[1].Status != protocol.TurnInterrupted {
		t.Errorf("crashed turn status %s, want interrupted", turns[1].Status)
	}
	// The command that was running is in the history, failed, with the
	// output it had printed.
	if items := turns[1].Items; len(items) != 2 || items[1].CommandExecution == nil {
		t.Errorf("crashed turn's items: %+v", items)
	} else if c := items[1].CommandExecution; c.Status != protocol.CommandFailed || c.AggregatedOutput == nil || *c.AggregatedOutput != "running\n" {
		t.Errorf("the command running at the crash: status %s, output %v", c.Status, c.AggregatedOutput)
	}
	// The resumed thread takes new turns, appended to the same file.
	s2.startTurn(th, "echo after-restart")
	if f := s2.runFlow(nil); f.turn.Status != protocol.TurnCompleted {
		t.Errorf("turn after resume: %s", f.turn.Status)
	}
}

// A command printing 200 MB streams it all, in order, while the server's
// memory stays bounded.
func TestHugeOutputStaysBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 200 MB")
	}
	s := startServer(t, options{bin: plainBin}) // memory is measured: no race detector
	s.initialize()
	th := s.startThread(t.TempDir(), protocol.ApprovalNever)
	// seq 1..N prints about 200 MB; the client checks the numbers arrive in order.
	s.startTurn(th, "seq 1 24000000")
	var next, total int64 = 1, 0
	var partial string
	var item *protocol.CommandExecutionItem
	for item == nil {
		m := s.next()
		switch m.Method {
		case "item/commandExecution/outputDelta":
			var n protocol.CommandExecutionOutputDeltaNotification
			m.decode(t, &n)
			total += int64(len(n.Delta))
			lines := strings.Split(partial+n.Delta, "\n")
			partial = lines[len(lines)-1]
			for _, l := range lines[:len(lines)-1] {
				if l != strconv.FormatInt(next, 10) {
					t.Fatalf("output out of order: got %q, want %d", l, next)
				}
				next++
			}
		case "item/completed":
			var n protocol.ItemCompletedNotification
			m.decode(t, &n)
			item = n.Item.CommandExecution
		}
	}
	s.runFlow(nil)
	hwm := vmKB(t, s.cmd.Process.Pid, "VmHWM")
	t.Logf("streamed %d bytes; server peak RSS %d KiB; tail %d bytes", total, hwm, len(*item.AggregatedOutput))
	if next != 24000001 {
		t.Errorf("saw %d numbers, want 24000000", next-1)
	}
	if hwm > 64<<10 {
		t.Errorf("server peak RSS %d KiB, want under 64 MiB", hwm)
	}
	if n := len(*item.AggregatedOutput); n > 1<<20+256 || !strings.HasSuffix(*item.AggregatedOutput, "24000000\n") {
		t.Errorf("aggregatedOutput is %d bytes, want the last MiB ending in 24000000", n)
	}
}
