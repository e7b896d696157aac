package termclient

import (
	"encoding/json"

	"app-server/protocol"
)

// prompt is one approval request waiting for the user.
type prompt struct {
	id     json.RawMessage // the request id, echoed in the reply
	key    string          // idKey of the request id
	params protocol.CommandExecutionRequestApprovalParams
	shown  bool // rendered since it became the head (or since output hid it)
	// fileChange is the item of a file change prompt (params then holds
	// its ids and the decisions it offers); nil for a command prompt.
	fileChange *protocol.FileChangeItem
}

// idKey identifies a request id: 7 and "7" are different ids.
func idKey(id protocol.RequestID) string {
	if id.IsString() {
		return "s:" + id.String()
	}
	return "n:" + id.String()
}

// promptQueue holds the pending prompts, oldest first. Only the head is
// shown; the others wait their turn. It is owned by the session loop.
type promptQueue struct {
	items []*prompt
}

func (q *promptQueue) push(p *prompt) { q.items = append(q.items, p) }

func (q *promptQueue) len() int { return len(q.items) }

// head is the prompt to show and answer, nil when none is pending.
func (q *promptQueue) head() *prompt {
	if len(q.items) == 0 {
		return nil
	}
	return q.items[0]
}

// pop removes the head.
func (q *promptQueue) pop() {
	if len(q.items) > 0 {
		q.items[0] = nil
		q.items = q.items[1:]
	}
}

// remove drops the prompt with the given key (resolved elsewhere). It
// reports whether it was there and whether it was the head.
func (q *promptQueue) remove(key string) (found, wasHead bool) {
	for i, p := range q.items {
		if p.key == key {
			q.items = append(q.items[:i:i], q.items[i+1:]...)
			return true, i == 0
		}
	}
	return false, false
}

// removeTurn drops every prompt of a turn (the turn ended, so the server
// has resolved them) and returns how many were dropped.
func (q *promptQueue) removeTurn(turnID string) int {
	kept := q.items[:0:0]
	for _, p := range q.items {
		if p.params.TurnID != turnID {
			kept = append(kept, p)
		}
	}
	n := len(q.items) - len(kept)
	q.items = kept
	return n
}
