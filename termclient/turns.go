package termclient

import (
	"encoding/json"

	"app-server/protocol"
)

// onMessage handles one notification or server request.
func (s *session) onMessage(m *message) {
	if m.isRequest() {
		switch m.Method {
		case protocol.MethodCommandApproval:
			s.onApproval(m)
			return
		case protocol.MethodFileChangeApproval:
			s.onFileChangeApproval(m)
			return
		}
		s.conn.replyError(m.ID, protocol.Errorf(protocol.ErrMethodNotFound, "the client does not handle %s", m.Method))
		return
	}
	switch m.Method {
	case protocol.MethodItemStarted:
		var n protocol.ItemStartedNotification
		switch {
		case !decode(m, &n):
		case n.Item.CommandExecution != nil:
			s.output()
			s.r.itemStarted(n.Item.CommandExecution)
		case n.Item.AgentMessage != nil:
			s.r.messageStarted(n.Item.AgentMessage.ID)
		case n.Item.FileChange != nil:
			s.fileChanges[n.Item.FileChange.ID] = n.Item.FileChange
		}
	case protocol.MethodAgentMessageDelta:
		var n protocol.AgentMessageDeltaNotification
		if decode(m, &n) {
			s.output()
			s.r.messageDelta(n.ItemID, n.Delta)
		}
	case protocol.MethodCommandOutputDelta:
		var n protocol.CommandExecutionOutputDeltaNotification
		if decode(m, &n) {
			s.output()
			s.r.delta(n.ItemID, n.Delta)
		}
	case protocol.MethodItemCompleted:
		var n protocol.ItemCompletedNotification
		if !decode(m, &n) {
			return
		}
		switch {
		case n.Item.CommandExecution != nil:
			s.output()
			s.r.itemCompleted(n.Item.CommandExecution)
			if n.TurnID == s.turnID {
				s.lastCommand = n.Item.CommandExecution
			}
		case n.Item.AgentMessage != nil:
			s.output()
			s.r.messageCompleted(n.Item.AgentMessage)
		case n.Item.Reasoning != nil:
			s.output()
			s.r.reasoning(n.Item.Reasoning)
		case n.Item.FileChange != nil:
			delete(s.fileChanges, n.Item.FileChange.ID)
			s.output()
			s.r.fileChangeCompleted(n.Item.FileChange)
		}
	case protocol.MethodTurnCompleted:
		var n protocol.TurnCompletedNotification
		if decode(m, &n) && n.ThreadID == s.threadID && n.Turn.ID == s.turnID {
			s.turnEnded(n.Turn)
		}
	case protocol.MethodServerRequestResolve:
		var n protocol.ServerRequestResolvedNotification
		if decode(m, &n) {
			s.onResolved(n)
		}
	case protocol.MethodError:
		var n protocol.ErrorNotification
		if decode(m, &n) {
			s.output()
			s.r.errorf("%s", n.Error.Message)
		}
	case protocol.MethodWarning:
		var n protocol.WarningNotification
		if decode(m, &n) {
			s.output()
			s.r.warn(n.Message)
		}
	}
	// thread/started, thread/status/changed, network/grants/updated and
	// the rest need no rendering.
}

// output notes that something is written below the prompt shown, so it is
// shown again (refresh).
func (s *session) output() {
	if h := s.prompts.head(); h != nil && h.shown {
		s.promptDirty = true
	}
}

// decode decodes m's params; a message that does not decode is skipped.
func decode(m *message, v any) bool {
	return json.Unmarshal(m.Params, v) == nil
}

// turnEnded shows how the running turn ended. --exec quits with the
// command's exit code; otherwise typed-ahead lines run now.
func (s *session) turnEnded(t protocol.Turn) {
	s.prompts.removeTurn(t.ID) // the server resolved them
	s.r.turnCompleted(t)
	s.turnID, s.interrupting = "", false
	if s.execMode {
		s.quit(execExitCode(t, s.lastCommand))
		return
	}
	s.pump()
}
