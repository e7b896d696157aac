package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"

	"app-server/protocol"
)

// hubClient is a WebSocket client of a Server in this process.
type hubClient struct {
	t *testing.T
	c *websocket.Conn
}

func (h *hubClient) send(s string) {
	h.t.Helper()
	if err := h.c.Write(context.Background(), websocket.MessageText, []byte(s)); err != nil {
		h.t.Fatal(err)
	}
}

// next reads the next message, failing after 5 s.
func (h *hubClient) next() string {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, b, err := h.c.Read(ctx)
	if err != nil {
		h.t.Fatalf("read: %v", err)
	}
	return string(b)
}

func (h *hubClient) expect(want string) {
	h.t.Helper()
	if got := h.next(); got != want {
		h.t.Errorf("got  %s\nwant %s", got, want)
	}
}

// startHub serves WebSocket clients whose thread/resume subscribes them
// to the thread it names; setup, if given, adjusts the options first.
func startHub(t *testing.T, setup ...func(*Options)) (*Server, func() *hubClient) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	opts := Options{Now: func() time.Time { return time.UnixMilli(7) }}
	for _, f := range setup {
		f(&opts)
	}
	s := NewServer(opts)
	s.Register(protocol.MethodThreadResume, Typed(func(ctx context.Context, p *protocol.ThreadResumeParams) (*struct{}, error) {
		s.subscribe(ctx, p.ThreadID)() // replays at once: before the response
		return &struct{}{}, nil
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ServeWebSocket(ctx, ln, WebSocketOptions{}) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ServeWebSocket: %v", err)
		}
	})
	dial := func() *hubClient {
		c, _, err := websocket.Dial(context.Background(), "ws://"+ln.Addr().String(), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.CloseNow() })
		h := &hubClient{t: t, c: c}
		h.send(initLine)
		if got := h.next(); !strings.Contains(got, `"userAgent"`) {
			t.Fatalf("initialize: %s", got)
		}
		return h
	}
	return s, dial
}

// One prompt, two subscribers: one id, the first answer wins, a later
// answer changes nothing; a late subscriber gets the open prompt; the last
// subscriber leaving ends it as a disconnect.
func TestHubSharesPrompts(t *testing.T) {
	s, dial := startHub(t)
	a, b := dial(), dial()
	for _, c := range []*hubClient{a, b} {
		c.send(`{"id":1,"method":"thread/resume","params":{"threadId":"T"}}`)
		c.expect(`{"id":1,"result":{}}`)
	}
	call, err := s.Request(protocol.MethodCommandApproval, protocol.ServerRequestResolvedNotification{ThreadID: "T"})
	if err != nil {
		t.Fatal(err)
	}
	const prompt0 = `{"id":0,"method":"item/commandExecution/requestApproval","params":{"threadId":"T","requestId":0}}`
	a.expect(prompt0)
	b.expect(prompt0)
	b.send(`{"id":0,"result":{"decision":"accept"}}`)
	var got struct{ Decision string }
	if err := call.Wait(context.Background(), &got); err != nil || got.Decision != "accept" {
		t.Fatalf("Wait = %v, %+v; want b's accept", err, got)
	}
	a.send(`{"id":0,"result":{"decision":"decline"}}`) // too late: ignored

	// Notifications about T reach its subscribers only; thread/started
	// reaches everyone initialized.
	c := dial()
	if err := s.Notify(protocol.MethodTurnStarted, protocol.ServerRequestResolvedNotification{ThreadID: "T"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Notify(protocol.MethodThreadStarted, struct{}{}); err != nil {
		t.Fatal(err)
	}
	for _, cl := range []*hubClient{a, b} {
		cl.expect(`{"emittedAtMs":7,"method":"turn/started","params":{"threadId":"T","requestId":0}}`)
		cl.expect(`{"emittedAtMs":7,"method":"thread/started","params":{}}`)
	}
	c.expect(`{"emittedAtMs":7,"method":"thread/started","params":{}}`)

	// A second prompt: c subscribes while it is open and gets it replayed.
	call, err = s.Request(protocol.MethodCommandApproval, protocol.ServerRequestResolvedNotification{ThreadID: "T", RequestID: protocol.IntID(1)})
	if err != nil {
		t.Fatal(err)
	}
	const prompt1 = `{"id":1,"method":"item/commandExecution/requestApproval","params":{"threadId":"T","requestId":1}}`
	a.expect(prompt1)
	b.expect(prompt1)
	c.send(`{"id":"r","method":"thread/resume","params":{"threadId":"T"}}`)
	c.expect(prompt1)
	c.expect(`{"id":"r","result":{}}`)

	// Subscribers leave one by one; the prompt stays open while one is left.
	a.c.CloseNow()
	b.c.CloseNow()
	waitCtx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := call.Wait(waitCtx, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait with one subscriber left = %v, want it still open", err)
	}
	// That Wait gave up, which ends the prompt: a new one for the rest.
	call, err = s.Request(protocol.MethodCommandApproval, protocol.ServerRequestResolvedNotification{ThreadID: "T", RequestID: protocol.IntID(2)})
	if err != nil {
		t.Fatal(err)
	}
	var m struct{ ID json.RawMessage }
	if err := json.Unmarshal([]byte(c.next()), &m); err != nil || string(m.ID) != "2" {
		t.Fatalf("third prompt: %s %v", m.ID, err)
	}
	c.c.CloseNow()
	if err := call.Wait(context.Background(), nil); !errors.Is(err, ErrDisconnected) {
		t.Errorf("Wait after the last subscriber left = %v, want ErrDisconnected", err)
	}
	if _, err := s.Request(protocol.MethodCommandApproval, protocol.ServerRequestResolvedNotification{ThreadID: "T"}); !errors.Is(err, ErrDisconnected) {
		t.Errorf("Request with no subscriber = %v, want ErrDisconnected", err)
	}
}

// A message over the cap is answered -32600 with its id, as a line on
// stdio is, and the connection goes on.
func TestWebSocketMessageOverTheCap(t *testing.T) {
	_, dial := startHub(t)
	c := dial()
	big := `{"id":"big","method":"thread/loaded/list","params":{"pad":"` + strings.Repeat("x", DefaultMaxLineBytes) + `"}}`
	c.send(big)
	c.expect(`{"id":"big","error":{"code":-32600,"message":"Invalid request: line too long"}}`)
	c.send(`{"id":2,"method":"thread/resume","params":{"threadId":"T"}}`)
	c.expect(`{"id":2,"result":{}}`)
}

// Inbound overload over WebSocket is answered -32001, as on stdio, and the
// connection is served again once its queue drains.
func TestWebSocketOverloadAnswersServerOverloaded(t *testing.T) {
	block := make(chan struct{})
	s, dial := startHub(t, func(o *Options) { o.QueueLimit = 2 })
	s.Register(protocol.MethodThreadLoadedList, Typed(func(context.Context, *protocol.ThreadLoadedListParams) (*protocol.ThreadLoadedListResponse, error) {
		<-block
		return &protocol.ThreadLoadedListResponse{Data: []string{}}, nil
	}))
	c := dial()
	for _, id := range []string{"1", "2", "3"} {
		c.send(`{"id":` + id + `,"method":"thread/loaded/list"}`)
	}
	c.expect(`{"id":3,"error":{"code":-32001,"message":"Server overloaded; retry later."}}`)
	close(block)
	c.next()
	c.next()
	c.send(`{"id":4,"method":"thread/loaded/list"}`)
	c.expect(`{"id":4,"result":{"data":[],"nextCursor":null}}`)
}

// Call 0 replayed to a client that was already sent another call keeps its
// id, and the answers reach their calls, an error with its data. (The
// library takes id 0 as "none picked" and would number the replay with its
// own count of this client's calls, 1, the id of the other call.)
func TestHubReplaysCallZero(t *testing.T) {
	s, dial := startHub(t)
	a, b := dial(), dial()
	a.send(`{"id":1,"method":"thread/resume","params":{"threadId":"T"}}`)
	a.expect(`{"id":1,"result":{}}`)
	b.send(`{"id":1,"method":"thread/resume","params":{"threadId":"U"}}`)
	b.expect(`{"id":1,"result":{}}`)
	call0, err := s.Request(protocol.MethodCommandApproval, protocol.ServerRequestResolvedNotification{ThreadID: "T"})
	if err != nil {
		t.Fatal(err)
	}
	a.expect(`{"id":0,"method":"item/commandExecution/requestApproval","params":{"threadId":"T","requestId":0}}`)
	call1, err := s.Request(protocol.MethodCommandApproval, protocol.ServerRequestResolvedNotification{ThreadID: "U", RequestID: protocol.IntID(1)})
	if err != nil {
		t.Fatal(err)
	}
	b.expect(`{"id":1,"method":"item/commandExecution/requestApproval","params":{"threadId":"U","requestId":1}}`)
	b.send(`{"id":2,"method":"thread/resume","params":{"threadId":"T"}}`)
	b.expect(`{"id":0,"method":"item/commandExecution/requestApproval","params":{"threadId":"T","requestId":0}}`)
	b.expect(`{"id":2,"result":{}}`)

	b.send(`{"id":1,"error":{"code":-32000,"message":"no","data":{"why":["<&>"]}}}`)
	b.send(`{"id":0,"result":{"decision":"accept"}}`)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var got struct{ Decision string }
	if err := call0.Wait(ctx, &got); err != nil || got.Decision != "accept" {
		t.Fatalf("call 0: Wait = %v, %+v; want b's accept", err, got)
	}
	var perr *protocol.Error
	if err := call1.Wait(ctx, nil); !errors.As(err, &perr) || perr.Code != -32000 || string(perr.Data) != `{"why":["<&>"]}` {
		t.Fatalf("call 1: Wait = %v (data %s), want the client's error with its data", err, perr.Data)
	}
}

// An inline method's answer, written by the read loop without the writer
// when nothing is queued, still leaves after the notifications queued
// before it, and those queued while it is written wait for it: every round
// sees its notifications in order, then the answer.
func TestWebSocketInlineAnswerKeepsOrderWithQueuedNotifications(t *testing.T) {
	const perRound = 40 // well under OutboundQueue: nobody is dropped
	s, dial := startHub(t)
	s.RegisterInline(protocol.MethodThreadLoadedList, func(ctx context.Context, _ json.RawMessage) (any, error) {
		for i := range perRound {
			if err := s.NotifyContext(ctx, "test/ordered", map[string]int{"n": i}); err != nil {
				return nil, err
			}
		}
		return map[string]any{"data": []string{}}, nil
	})
	c := dial()
	for round := range 30 {
		id := strconv.Itoa(round + 1)
		c.send(`{"id":` + id + `,"method":"thread/loaded/list"}`)
		for i := range perRound {
			c.expect(`{"emittedAtMs":7,"method":"test/ordered","params":{"n":` + strconv.Itoa(i) + `}}`)
		}
		c.expect(`{"id":` + id + `,"result":{"data":[]}}`)
		if t.Failed() {
			return
		}
	}
}
