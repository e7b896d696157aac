package session

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"app-server/protocol"
)

// fakeClient records notifications and answers approval requests with
// answer; with answer nil, requests wait until their context ends.
type fakeClient struct {
	mu     sync.Mutex
	events []string
	notes  chan string
	answer *protocol.CommandExecutionApprovalDecision
	nextID int64
}

func newFakeClient(answer *protocol.CommandExecutionApprovalDecision) *fakeClient {
	return &fakeClient{notes: make(chan string, 1024), answer: answer}
}

func (c *fakeClient) Notify(method string, params any) error {
	c.mu.Lock()
	c.events = append(c.events, method)
	c.mu.Unlock()
	c.notes <- method
	return nil
}

func (c *fakeClient) Request(method string, params any) (ClientCall, error) {
	c.mu.Lock()
	id := c.nextID
	c.nextID++
	c.events = append(c.events, method)
	c.mu.Unlock()
	return fakeCall{id: protocol.IntID(id), answer: c.answer}, nil
}

type fakeCall struct {
	id     protocol.RequestID
	answer *protocol.CommandExecutionApprovalDecision
}

func (f fakeCall) ID() protocol.RequestID { return f.id }

func (f fakeCall) Wait(ctx context.Context, result any) error {
	if f.answer == nil {
		<-ctx.Done()
		return ctx.Err()
	}
	b, _ := json.Marshal(protocol.CommandExecutionRequestApprovalResponse{Decision: *f.answer})
	return json.Unmarshal(b, result)
}

// waitFor reads notifications until method arrives.
func (c *fakeClient) waitFor(t *testing.T, method string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case m := <-c.notes:
			if m == method {
				return
			}
		case <-deadline:
			t.Fatalf("no %s within 10s; saw %v", method, c.snapshot())
		}
	}
}

func (c *fakeClient) snapshot() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.events...)
}

func newTestManager(t *testing.T, client Client) *Manager {
	t.Helper()
	return newTestManagerWith(t, Options{Client: client})
}

// newTestManagerWith fills in opts.Config and makes a Manager.
func newTestManagerWith(t *testing.T, opts Options) *Manager {
	t.Helper()
	opts.Config = Config{
		Cwd: t.TempDir(), Shell: []string{"/bin/sh", "-c"},
		ApprovalPolicy: protocol.ApprovalOnRequest, Sandbox: protocol.SandboxWorkspaceWrite,
		Network: protocol.NetworkSettingsReadResponse{Mode: protocol.NetworkModeFull, ApprovalTimeoutDecision: protocol.NetworkTimeoutDecline},
	}
	m, err := NewManager(opts)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func startTestThread(t *testing.T, m *Manager, policy protocol.AskForApproval) string {
	t.Helper()
	resp, announce, err := m.StartThread(context.Background(), &protocol.ThreadStartParams{ApprovalPolicy: &policy})
	if err != nil {
		t.Fatal(err)
	}
	announce()
	return resp.Thread.ID
}

func TestManagerTurnWithApprovalLeavesNoGoroutine(t *testing.T) {
	defer goleak.VerifyNone(t)
	accept := protocol.Accept()
	c := newFakeClient(&accept)
	m := newTestManager(t, c)
	th := startTestThread(t, m, protocol.ApprovalUntrusted)
	_, start, err := m.StartTurn(context.Background(), &protocol.TurnStartParams{
		ThreadID: th, Input: []protocol.UserInput{protocol.TextUserInput("touch x && echo ok")},
	})
	if err != nil {
		t.Fatal(err)
	}
	start()
	c.waitFor(t, protocol.MethodTurnCompleted)
	got := c.snapshot()
	want := []string{
		protocol.MethodThreadStarted, protocol.MethodThreadStatusChanged, protocol.MethodTurnStarted,
		protocol.MethodItemStarted, protocol.MethodItemCompleted, protocol.MethodItemStarted,
		protocol.MethodThreadStatusChanged, protocol.MethodCommandApproval, protocol.MethodServerRequestResolve,
		protocol.MethodThreadStatusChanged, protocol.MethodCommandOutputDelta, protocol.MethodItemCompleted,
		protocol.MethodThreadStatusChanged, protocol.MethodTurnCompleted,
	}
	if len(got) != len(want) {
		t.Fatalf("events %v\nwant %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("event %d is %s, want %s\nall: %v", i, got[i], want[i], got)
		}
	}
	if err := m.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestManagerShutdownResolvesAPendingPrompt(t *testing.T) {
	defer goleak.VerifyNone(t)
	c := newFakeClient(nil) // never answers
	m := newTestManager(t, c)
	th := startTestThread(t, m, protocol.ApprovalUntrusted)
	_, start, err := m.StartTurn(context.Background(), &protocol.TurnStartParams{
		ThreadID: th, Input: []protocol.UserInput{protocol.TextUserInput("touch never")},
	})
	if err != nil {
		t.Fatal(err)
	}
	start()
	c.waitFor(t, protocol.MethodThreadStatusChanged) // active
	c.waitFor(t, protocol.MethodThreadStatusChanged) // waitingOnApproval
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := m.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	c.waitFor(t, protocol.MethodServerRequestResolve)
	c.waitFor(t, protocol.MethodTurnCompleted)
	if _, _, err := m.StartThread(context.Background(), &protocol.ThreadStartParams{}); !errors.Is(err, protocol.ErrRequestCancelled) {
		t.Errorf("thread/start after shutdown: %v, want -32800 request cancelled", err)
	}
}
