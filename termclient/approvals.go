package termclient

import (
	"encoding/json"

	"app-server/protocol"
)

// onApproval handles item/commandExecution/requestApproval: --auto answers
// at once; otherwise the prompt joins the queue (refresh shows the head).
func (s *session) onApproval(m *message) {
	p, id, ok := decodeApproval[protocol.CommandExecutionRequestApprovalParams](s, m)
	if !ok {
		return
	}
	s.output()
	if s.opts.auto != "" {
		a := autoAnswer(s.opts.auto)
		s.r.autoPrompt(&p)
		s.reply(m.ID, a)
		return
	}
	s.prompts.push(&prompt{id: m.ID, key: idKey(id), params: p})
	if s.prompts.len() > 1 && s.prompts.head().shown {
		s.r.info("   (another prompt is waiting: " + promptQuestion(&p) + ")")
	}
	s.pump() // line mode: an answer may be typed ahead
}

// answerKey answers the head prompt h with key k, or says why k does not
// answer it.
func (s *session) answerKey(h *prompt, k rune) {
	a, err := answerForKey(k, &h.params)
	if err != nil {
		s.r.info("   " + err.Error() + " (keys: " + keyList(&h.params) + "; ? shows the prompt again)")
		return
	}
	s.answer(h, a)
}

// answer sends a for the head prompt h and shows the next one.
func (s *session) answer(h *prompt, a answer) {
	if !h.shown {
		s.showPrompt(h) // answered before it was drawn (typed ahead)
	}
	s.prompts.pop()
	if h.fileChange != nil {
		s.replyFileChange(h.id, a)
	} else {
		s.reply(h.id, a)
	}
	if a.decision.Kind == protocol.DecisionCancel {
		s.interrupting = true // the server interrupts the turn
	}
}

func (s *session) reply(id json.RawMessage, a answer) {
	if err := s.conn.reply(id, protocol.CommandExecutionRequestApprovalResponse{Decision: a.decision}); err != nil {
		s.r.errorf("answering the prompt: %v", err)
		return
	}
	s.r.answered(a)
}

// onResolved drops a prompt the server resolved (answered, timed out or
// cleared); if it was on screen, says so.
func (s *session) onResolved(n protocol.ServerRequestResolvedNotification) {
	h := s.prompts.head()
	found, wasHead := s.prompts.remove(idKey(n.RequestID))
	if found && wasHead && h.shown {
		s.r.promptClosed(&h.params)
	}
}

// decodeApproval decodes an approval request's params and id; when either
// does not decode it answers the request with an error and returns false.
func decodeApproval[P any](s *session, m *message) (P, protocol.RequestID, bool) {
	var p P
	var id protocol.RequestID
	if json.Unmarshal(m.Params, &p) != nil || json.Unmarshal(m.ID, &id) != nil {
		s.conn.replyError(m.ID, protocol.Errorf(protocol.ErrInvalidParams, "the client could not decode the approval request"))
		return p, id, false
	}
	return p, id, true
}
