package termclient

import (
	"fmt"
	"testing"

	"app-server/protocol"
)

func newPrompt(n int64, turn string) *prompt {
	return &prompt{id: []byte(fmt.Sprint(n)), key: idKey(protocol.IntID(n)), params: protocol.CommandExecutionRequestApprovalParams{TurnID: turn}}
}

func TestPromptQueueOldestFirst(t *testing.T) {
	var q promptQueue
	for i := int64(0); i < 3; i++ {
		q.push(newPrompt(i, "t"))
	}
	for i := int64(0); i < 3; i++ {
		if h := q.head(); h == nil || h.key != idKey(protocol.IntID(i)) {
			t.Fatalf("head %d: %+v", i, h)
		}
		q.pop()
	}
	if q.head() != nil || q.len() != 0 {
		t.Error("not empty")
	}
	q.pop() // no panic on empty
}

func TestPromptQueueRemoveResolved(t *testing.T) {
	var q promptQueue
	for i := int64(0); i < 3; i++ {
		q.push(newPrompt(i, "t"))
	}
	if found, head := q.remove(idKey(protocol.IntID(1))); !found || head {
		t.Errorf("middle: found %v head %v", found, head)
	}
	if found, head := q.remove(idKey(protocol.IntID(0))); !found || !head {
		t.Errorf("head: found %v head %v", found, head)
	}
	if found, _ := q.remove(idKey(protocol.StringID("2"))); found {
		t.Error(`"2" matched 2`)
	}
	if h := q.head(); h == nil || h.key != idKey(protocol.IntID(2)) || q.len() != 1 {
		t.Errorf("left %+v", q.items)
	}
}

func TestPromptQueueRemoveTurn(t *testing.T) {
	var q promptQueue
	q.push(newPrompt(0, "a"))
	q.push(newPrompt(1, "b"))
	q.push(newPrompt(2, "a"))
	if n := q.removeTurn("a"); n != 2 || q.len() != 1 || q.head().params.TurnID != "b" {
		t.Errorf("removed %d, left %+v", n, q.items)
	}
}
