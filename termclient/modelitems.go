package termclient

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"app-server/protocol"
)

// Model-driven turns in the terminal: agent messages stream as the model
// writes them, reasoning summaries show dimmed, and a file change prompt
// shows the patch's diff before asking.

// messageStarted begins an agent message streamed by deltas.
func (r *renderer) messageStarted(id string) {
	r.streamed[id] = &strings.Builder{}
}

// messageDelta writes a chunk of an agent message.
func (r *renderer) messageDelta(id, text string) {
	b := r.streamed[id]
	if b == nil || text == "" {
		return
	}
	if b.Len() == 0 && r.shared && r.midLine {
		writeOut(r, "\n")
	}
	b.WriteString(text)
	writeOut(r, text)
	r.midLine = !strings.HasSuffix(text, "\n")
}

// messageCompleted ends an agent message: a streamed one gets its newline,
// one that was not streamed (the shell agent's) is shown whole.
func (r *renderer) messageCompleted(item *protocol.AgentMessageItem) {
	b, streamed := r.streamed[item.ID]
	delete(r.streamed, item.ID)
	if !streamed || b.Len() == 0 {
		r.agentMessage(item.Text)
		return
	}
	if r.midLine {
		writeOut(r, "\n")
		r.midLine = false
	}
}

func writeOut(r *renderer, s string) { r.out.Write([]byte(s)) }

// reasoning shows a reasoning item's summary, or the start of its raw
// reasoning text when it has no summary.
func (r *renderer) reasoning(item *protocol.ReasoningItem) {
	parts := item.Summary
	if len(parts) == 0 && len(item.Content) > 0 {
		text := strings.Join(strings.Fields(strings.Join(item.Content, " ")), " ")
		if rs := []rune(text); len(rs) > 200 {
			text = string(rs[:200]) + "..."
		}
		parts = []string{text}
	}
	for _, s := range parts {
		if s = strings.TrimSpace(s); s != "" {
			r.line(r.st.dim("thinking: " + s))
		}
	}
}

// fileChangeCompleted shows what a patch did.
func (r *renderer) fileChangeCompleted(item *protocol.FileChangeItem) {
	files := changeList(item.Changes)
	switch item.Status {
	case protocol.PatchCompleted:
		r.line(r.st.green("patched: ") + files)
	case protocol.PatchDeclined:
		r.line(r.st.yellow("patch declined: ") + files)
	default:
		r.line(r.st.yellow("patch failed: ") + files)
	}
}

// changeList is "A hello.txt, M app.py -> main.py, D old.txt".
func changeList(changes []protocol.FileUpdateChange) string {
	var parts []string
	for _, c := range changes {
		name := filepath.Base(c.Path)
		switch {
		case c.Kind.Add != nil:
			parts = append(parts, "A "+name)
		case c.Kind.Delete != nil:
			parts = append(parts, "D "+name)
		case c.Kind.Update != nil && c.Kind.Update.MovePath != nil:
			parts = append(parts, "M "+name+" -> "+filepath.Base(*c.Kind.Update.MovePath))
		default:
			parts = append(parts, "M "+name)
		}
	}
	return strings.Join(parts, ", ")
}

// diff shows a file change item's changes as colored diffs.
func (r *renderer) diff(item *protocol.FileChangeItem) {
	for _, c := range item.Changes {
		header := c.Path
		switch {
		case c.Kind.Add != nil:
			header = "new file " + c.Path
		case c.Kind.Delete != nil:
			header = "delete " + c.Path
		case c.Kind.Update != nil && c.Kind.Update.MovePath != nil:
			header = c.Path + " -> " + *c.Kind.Update.MovePath
		}
		r.line(r.st.bold(header))
		for _, l := range strings.Split(strings.TrimSuffix(c.Diff, "\n"), "\n") {
			switch {
			case c.Kind.Add != nil:
				r.line(r.st.green("+" + l))
			case c.Kind.Delete != nil:
				r.line(r.st.yellow("-" + l))
			case strings.HasPrefix(l, "+"):
				r.line(r.st.green(l))
			case strings.HasPrefix(l, "-"):
				r.line(r.st.yellow(l))
			case strings.HasPrefix(l, "@@"):
				r.line(r.st.dim(l))
			default:
				r.line(l)
			}
		}
	}
}

// fileChangePrompt shows a file change prompt: the question, then the keys.
func (r *renderer) fileChangePrompt(h *prompt, waiting int) {
	q := r.st.yellow(r.st.bold("?? ")) + r.st.bold(fmt.Sprintf("apply these changes (%s)?", changeList(h.fileChange.Changes)))
	if h.params.Reason != nil {
		q += r.st.dim("  (" + *h.params.Reason + ")")
	}
	if waiting > 0 {
		q += r.st.dim(fmt.Sprintf("  (%d more waiting)", waiting))
	}
	r.line(q)
	r.line("   " + strings.Join(keyHints(&h.params), "  "))
}

// onFileChangeApproval handles item/fileChange/requestApproval: the diff
// (from the item/started that came before) is shown, then the prompt joins
// the queue like a command prompt; its keys are a s d c.
func (s *session) onFileChangeApproval(m *message) {
	p, id, ok := decodeApproval[protocol.FileChangeRequestApprovalParams](s, m)
	if !ok {
		return
	}
	item := s.fileChanges[p.ItemID]
	if item == nil {
		item = &protocol.FileChangeItem{ID: p.ItemID}
	}
	s.output()
	s.r.diff(item)
	h := &prompt{id: m.ID, key: idKey(id), fileChange: item, params: protocol.CommandExecutionRequestApprovalParams{
		ThreadID: p.ThreadID, TurnID: p.TurnID, ItemID: p.ItemID, Reason: p.Reason,
		AvailableDecisions: []protocol.CommandExecutionApprovalDecision{protocol.Accept(), protocol.AcceptForSession(), protocol.Decline(), protocol.Cancel()},
	}}
	if s.opts.auto != "" {
		a := autoAnswer(s.opts.auto)
		s.replyFileChange(h.id, a)
		return
	}
	s.prompts.push(h)
	s.pump()
}

// replyFileChange answers a file change prompt with the decision a
// command prompt's key stands for.
func (s *session) replyFileChange(id json.RawMessage, a answer) {
	d := protocol.FileChangeDecline
	switch a.decision.Kind {
	case protocol.DecisionAccept, protocol.DecisionAcceptWithExecpolicyAmendment:
		d = protocol.FileChangeAccept
	case protocol.DecisionAcceptForSession:
		d = protocol.FileChangeAcceptForSession
	case protocol.DecisionCancel:
		d = protocol.FileChangeCancel
	}
	if err := s.conn.reply(id, protocol.FileChangeRequestApprovalResponse{Decision: d}); err != nil {
		s.r.errorf("answering the prompt: %v", err)
		return
	}
	s.r.answered(a)
}
