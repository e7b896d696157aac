package session

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"

	"github.com/google/uuid"

	"app-server/protocol"
)

// scriptedClient answers every request with the same ending and records,
// for each request, how many approvals the thread had open while the
// client held it, and every serverRequest/resolved.
type scriptedClient struct {
	t      *thread // set after the thread exists
	result json.RawMessage
	err    error // returned by Wait; nil with result nil: wait for ctx

	mu       sync.Mutex
	methods  []string
	pending  []int
	resolved []protocol.RequestID
}

func (c *scriptedClient) Notify(method string, params any) error {
	if n, ok := params.(protocol.ServerRequestResolvedNotification); ok && method == protocol.MethodServerRequestResolve {
		c.mu.Lock()
		c.resolved = append(c.resolved, n.RequestID)
		c.mu.Unlock()
	}
	return nil
}

func (c *scriptedClient) Request(method string, params any) (ClientCall, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.methods = append(c.methods, method)
	return scriptedCall{c: c, id: protocol.IntID(int64(len(c.methods)))}, nil
}

type scriptedCall struct {
	c  *scriptedClient
	id protocol.RequestID
}

func (s scriptedCall) ID() protocol.RequestID { return s.id }

func (s scriptedCall) Wait(ctx context.Context, result any) error {
	s.c.t.mu.Lock()
	open := s.c.t.approvals
	s.c.t.mu.Unlock()
	s.c.mu.Lock()
	s.c.pending = append(s.c.pending, open)
	s.c.mu.Unlock()
	switch {
	case s.c.err != nil:
		return s.c.err
	case s.c.result == nil:
		<-ctx.Done()
		return ctx.Err()
	}
	return json.Unmarshal(s.c.result, result)
}

// Every request to the client, whatever its method, goes through
// thread.ask: the approval is counted open while the client holds it, and
// serverRequest/resolved names it however the wait ends (an answer, an
// error reply, the wait given up).
func TestAskResolvesHoweverItEnds(t *testing.T) {
	replyErr := &protocol.Error{Code: -32000, Message: "client says no"}
	for _, method := range []string{protocol.MethodCommandApproval, protocol.MethodFileChangeApproval} {
		for _, tc := range []struct {
			name    string
			result  json.RawMessage
			err     error
			cancel  bool
			wantErr error
		}{
			{name: "answer", result: json.RawMessage(`{"decision":"accept"}`)},
			{name: "error reply", err: replyErr, wantErr: replyErr},
			{name: "given up", cancel: true, wantErr: context.Canceled},
		} {
			t.Run(method+"/"+tc.name, func(t *testing.T) {
				c := &scriptedClient{result: tc.result, err: tc.err}
				m := newTestManager(t, c)
				th := newThread(m, uuid.New(), true, 0, settings{})
				c.t = th
				ctx, cancel := context.WithCancel(context.Background())
				if tc.cancel {
					cancel()
				}
				defer cancel()
				id, raw, err := th.ask(ctx, method, struct{}{})
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				if tc.wantErr == nil && string(raw) != string(tc.result) {
					t.Errorf("result = %s, want %s", raw, tc.result)
				}
				c.mu.Lock()
				defer c.mu.Unlock()
				if len(c.methods) != 1 || c.methods[0] != method {
					t.Errorf("requests = %v, want one %s", c.methods, method)
				}
				if len(c.pending) != 1 || c.pending[0] != 1 {
					t.Errorf("approvals open while the client held the request = %v, want [1]", c.pending)
				}
				if len(c.resolved) != 1 || c.resolved[0] != id {
					t.Errorf("serverRequest/resolved = %v, want [%v]", c.resolved, id)
				}
				th.mu.Lock()
				defer th.mu.Unlock()
				if th.approvals != 0 {
					t.Errorf("approvals open after ask = %d", th.approvals)
				}
			})
		}
	}
}
