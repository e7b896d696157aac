package rpc

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"app-server/protocol"
)

// pipeClient drives a Server over in-memory pipes, like a client on stdio.
type pipeClient struct {
	t      *testing.T
	in     *io.PipeWriter // what the client writes
	lines  chan string    // what the server wrote, one line each
	done   chan error     // Serve's result
	server *Server
}

func startServer(t *testing.T, opts Options, setup func(*Server)) *pipeClient {
	t.Helper()
	// Registered first, so it runs last: after the pipes are closed and
	// Serve has returned.
	t.Cleanup(func() { goleak.VerifyNone(t) })
	s := NewServer(opts)
	if setup != nil {
		setup(s)
	}
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	c := &pipeClient{t: t, in: inW, lines: make(chan string, 1024), done: make(chan error, 1), server: s}
	go func() {
		c.done <- s.Serve(context.Background(), inR, outW)
		outW.Close()
	}()
	go func() {
		sc := bufio.NewScanner(outR)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
	}()
	t.Cleanup(func() {
		inW.Close()
		select {
		case <-c.done:
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return after stdin closed")
		}
		for range c.lines {
		}
	})
	return c
}

func (c *pipeClient) send(line string) {
	c.t.Helper()
	if _, err := io.WriteString(c.in, line+"\n"); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *pipeClient) next() string {
	c.t.Helper()
	select {
	case l, ok := <-c.lines:
		if !ok {
			c.t.Fatal("server output ended")
		}
		return l
	case <-time.After(5 * time.Second):
		c.t.Fatal("no message from the server within 5s")
	}
	return ""
}

// expect reads the next line and requires it to equal want exactly.
func (c *pipeClient) expect(want string) {
	c.t.Helper()
	if got := c.next(); got != want {
		c.t.Errorf("server wrote\n  %s\nwant\n  %s", got, want)
	}
}

const initLine = `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"clientInfo":{"name":"test","version":"1.0"}}}`

func (c *pipeClient) initialize() {
	c.t.Helper()
	c.send(initLine)
	if got := c.next(); !strings.Contains(got, `"userAgent"`) {
		c.t.Fatalf("initialize answered %s", got)
	}
}

func TestErrorRowsOnTheWire(t *testing.T) {
	c := startServer(t, Options{Home: "/h", Version: "1.2.3"}, func(s *Server) {
		s.Register(protocol.MethodThreadRead, Typed(func(_ context.Context, p *protocol.ThreadReadParams) (*protocol.ThreadReadResponse, error) {
			return nil, protocol.Errorf(protocol.ErrInvalidParams, "unknown thread %s", p.ThreadID)
		}))
		s.Register(protocol.MethodThreadLoadedList, Typed(func(context.Context, *protocol.ThreadLoadedListParams) (*protocol.ThreadLoadedListResponse, error) {
			return &protocol.ThreadLoadedListResponse{Data: []string{}}, nil
		}))
		s.Register(protocol.MethodThreadArchive, Typed(func(context.Context, *protocol.ThreadArchiveParams) (*protocol.ThreadArchiveResponse, error) {
			panic("boom")
		}))
		s.Register(protocol.MethodThreadList, Typed(func(context.Context, *protocol.ThreadListParams) (*protocol.ThreadListResponse, error) {
			return nil, errors.New("disk on fire")
		}))
	})
	c.send(`{"id":"a","method":"thread/loaded/list"}`)
	c.expect(`{"id":"a","error":{"code":-32600,"message":"Not initialized"}}`)
	c.send(`{"id":1,"method":"initialize","params":{"clientInfo":{"name":"ide","version":"9"}}}`)
	c.expect(`{"id":1,"result":{"userAgent":"app-server/1.2.3 (` + platformOS() + `) ide/9","codexHome":"/h","platformFamily":"unix","platformOs":"linux"}}`)
	c.send(`{"method":"initialized"}`)
	c.send(`{"id":2,"method":"initialize","params":{"clientInfo":{"name":"ide","version":"9"}}}`)
	c.expect(`{"id":2,"error":{"code":-32600,"message":"Already initialized"}}`)
	c.send(`{"id":3,"method":"thread/explode"}`)
	c.expect(`{"id":3,"error":{"code":-32601,"message":"Method not found: thread/explode"}}`)
	c.send(`{"id":"4","method":"thread/read","params":{"threadId":7}}`)
	c.expect("{\"id\":\"4\",\"error\":{\"code\":-32602,\"message\":\"Invalid params: field `threadId`: expected string, got JSON number\"}}")
	c.send(`{"id":5,"method":"thread/read","params":{}}`)
	c.expect("{\"id\":5,\"error\":{\"code\":-32602,\"message\":\"Invalid params: missing field `threadId`\"}}")
	c.send(`{"id":6,"method":"thread/read","params":{"threadId":"x"}}`)
	c.expect(`{"id":6,"error":{"code":-32602,"message":"unknown thread x"}}`)
	c.send(`{"id":7,"method":"thread/archive","params":{"threadId":"x"}}`)
	c.expect(`{"id":7,"error":{"code":-32603,"message":"Internal error: handler for thread/archive failed"}}`)
	c.send(`{"id":8,"method":"thread/list","params":{}}`)
	c.expect(`{"id":8,"error":{"code":-32603,"message":"Internal error: disk on fire"}}`)
	c.send(`{"method":"no/such/notification"}`)
	c.send(`{"id":9,"method":"thread/loaded/list"}`)
	c.expect(`{"id":9,"result":{"data":[],"nextCursor":null}}`)
}

func platformOS() string { return "linux; amd64" }

func TestNotifyAddsEmittedAtAndHonoursOptOut(t *testing.T) {
	now := time.UnixMilli(1700000000123)
	c := startServer(t, Options{Now: func() time.Time { return now }}, nil)
	c.send(`{"id":0,"method":"initialize","params":{"clientInfo":{"name":"t","version":"1"},"capabilities":{"optOutNotificationMethods":["thread/started","bogus/method"]}}}`)
	c.next()
	if err := c.server.Notify(protocol.MethodThreadStarted, protocol.ThreadArchivedNotification{ThreadID: "t"}); err != nil {
		t.Fatal(err)
	}
	if err := c.server.Notify(protocol.MethodThreadArchived, protocol.ThreadArchivedNotification{ThreadID: "t"}); err != nil {
		t.Fatal(err)
	}
	c.expect(`{"emittedAtMs":1700000000123,"method":"thread/archived","params":{"threadId":"t"}}`)
}

func TestServerRequestRoundTrip(t *testing.T) {
	c := startServer(t, Options{}, nil)
	c.initialize()
	ctx := context.Background()

	call, err := c.server.Request(protocol.MethodCommandApproval, map[string]string{"threadId": "t"})
	if err != nil {
		t.Fatal(err)
	}
	c.expect(`{"id":0,"method":"item/commandExecution/requestApproval","params":{"threadId":"t"}}`)
	c.send(`{"id":0,"result":{"decision":"accept"}}`)
	var res protocol.CommandExecutionRequestApprovalResponse
	if err := call.Wait(ctx, &res); err != nil || res.Decision.Kind != protocol.DecisionAccept {
		t.Fatalf("Wait = %v, %+v", err, res)
	}

	call, _ = c.server.Request(protocol.MethodCommandApproval, map[string]string{})
	if call.ID() != protocol.IntID(1) {
		t.Errorf("second call id %v, want 1", call.ID())
	}
	c.next()
	// A response to an unknown id is ignored, then the real answer is an error.
	c.send(`{"id":99,"result":{}}`)
	c.send(`{"id":1,"error":{"code":-32000,"message":"user closed the dialog"}}`)
	err = call.Wait(ctx, &res)
	var perr *protocol.Error
	if !errors.As(err, &perr) || perr.Code != -32000 || perr.Message != "user closed the dialog" {
		t.Fatalf("Wait = %v, want the client's error", err)
	}

	// Disconnect: a pending call returns at once.
	call, _ = c.server.Request(protocol.MethodCommandApproval, map[string]string{})
	c.next()
	errc := make(chan error, 1)
	go func() { errc <- call.Wait(ctx, &res) }()
	c.in.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, ErrDisconnected) {
			t.Fatalf("Wait after disconnect = %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("pending call did not return on disconnect")
	}
}

func TestThreadLanesKeepOrderAndRunConcurrently(t *testing.T) {
	var mu sync.Mutex
	var order []string
	release := make(chan struct{})
	var once sync.Once
	defer once.Do(func() { close(release) })
	c := startServer(t, Options{}, func(s *Server) {
		s.Register(protocol.MethodThreadRead, Typed(func(_ context.Context, p *protocol.ThreadReadParams) (*protocol.ThreadReadResponse, error) {
			if p.ThreadID == "slow" {
				<-release
			}
			mu.Lock()
			order = append(order, p.ThreadID)
			mu.Unlock()
			return nil, protocol.Errorf(protocol.ErrInvalidParams, "done %s", p.ThreadID)
		}))
	})
	c.initialize()
	c.send(`{"id":1,"method":"thread/read","params":{"threadId":"slow"}}`)
	c.send(`{"id":2,"method":"thread/read","params":{"threadId":"slow"}}`)
	c.send(`{"id":3,"method":"thread/read","params":{"threadId":"fast"}}`)
	// The fast thread is answered while the slow one waits.
	if got := c.next(); !strings.HasPrefix(got, `{"id":3,`) {
		t.Fatalf("first answer %s, want id 3", got)
	}
	once.Do(func() { close(release) })
	if a, b := c.next(), c.next(); !strings.HasPrefix(a, `{"id":1,`) || !strings.HasPrefix(b, `{"id":2,`) {
		t.Fatalf("slow thread answered out of order: %s then %s", a, b)
	}
}

func TestOverloadAnswersServerOverloaded(t *testing.T) {
	block := make(chan struct{})
	c := startServer(t, Options{QueueLimit: 2}, func(s *Server) {
		s.Register(protocol.MethodThreadLoadedList, Typed(func(context.Context, *protocol.ThreadLoadedListParams) (*protocol.ThreadLoadedListResponse, error) {
			<-block
			return &protocol.ThreadLoadedListResponse{Data: []string{}}, nil
		}))
	})
	c.initialize()
	for i := 1; i <= 3; i++ {
		c.send(`{"id":` + string(rune('0'+i)) + `,"method":"thread/loaded/list"}`)
	}
	c.expect(`{"id":3,"error":{"code":-32001,"message":"Server overloaded; retry later."}}`)
	close(block)
	c.next()
	c.next()
	// Once drained, requests are served again.
	c.send(`{"id":4,"method":"thread/loaded/list"}`)
	c.expect(`{"id":4,"result":{"data":[],"nextCursor":null}}`)
}

func TestUnencodableResultIsAnInternalError(t *testing.T) {
	c := startServer(t, Options{}, func(s *Server) {
		s.Register(protocol.MethodThreadRead, Typed(func(context.Context, *protocol.ThreadReadParams) (*protocol.ThreadReadResponse, error) {
			return &protocol.ThreadReadResponse{}, nil // a Thread without a status cannot be encoded
		}))
	})
	c.initialize()
	c.send(`{"id":1,"method":"thread/read","params":{"threadId":"t"}}`)
	if got := c.next(); !strings.HasPrefix(got, `{"id":1,"error":{"code":-32603,`) {
		t.Fatalf("got %s, want a -32603 error", got)
	}
}

func TestBrokenOutputEndsServe(t *testing.T) {
	defer goleak.VerifyNone(t)
	s := NewServer(Options{})
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	outR.Close() // the client stopped reading for good
	done := make(chan error, 1)
	go func() { done <- s.Serve(context.Background(), inR, outW) }()
	io.WriteString(inW, initLine+"\n")
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Serve returned nil after output broke")
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Serve did not return after output broke")
	}
	inW.Close()
}

var _ = json.Marshal

func TestInlineHandlersKeepOrderBehindQueuedWork(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	defer once.Do(func() { close(release) })
	c := startServer(t, Options{}, func(s *Server) {
		s.Register(protocol.MethodThreadRead, Typed(func(_ context.Context, p *protocol.ThreadReadParams) (*protocol.ThreadReadResponse, error) {
			<-release
			return nil, protocol.Errorf(protocol.ErrInvalidParams, "slow done")
		}))
		s.RegisterInline(protocol.MethodTurnInterrupt, Typed(func(_ context.Context, p *protocol.TurnInterruptParams) (*protocol.TurnInterruptResponse, error) {
			return &protocol.TurnInterruptResponse{}, nil
		}))
	})
	c.initialize()
	// Same thread: the inline method must wait behind the queued slow one.
	c.send(`{"id":1,"method":"thread/read","params":{"threadId":"t"}}`)
	c.send(`{"id":2,"method":"turn/interrupt","params":{"threadId":"t","turnId":"u"}}`)
	// Another thread: answered inline at once.
	c.send(`{"id":3,"method":"turn/interrupt","params":{"threadId":"other","turnId":"u"}}`)
	c.expect(`{"id":3,"result":{}}`)
	once.Do(func() { close(release) })
	if a, b := c.next(), c.next(); !strings.HasPrefix(a, `{"id":1,`) || b != `{"id":2,"result":{}}` {
		t.Fatalf("order on the thread: %s then %s", a, b)
	}
}

// Nothing the server writes is HTML-escaped: <, > and & stay one byte each
// (json.Marshal would write \u003c, six), in results, errors, notifications
// and server-to-client requests alike, and a big one stays its size.
func TestOutputIsNotHTMLEscaped(t *testing.T) {
	angles := strings.Repeat("<", 256<<10) // the test client reads lines up to 1 MiB
	c := startServer(t, Options{Now: func() time.Time { return time.UnixMilli(1) }}, func(s *Server) {
		s.Register(protocol.MethodThreadLoadedList, Typed(func(context.Context, *protocol.ThreadLoadedListParams) (*protocol.ThreadLoadedListResponse, error) {
			return &protocol.ThreadLoadedListResponse{Data: []string{"a<b>&c", angles}}, nil
		}))
		s.Register(protocol.MethodThreadRead, Typed(func(context.Context, *protocol.ThreadReadParams) (*protocol.ThreadReadResponse, error) {
			return nil, &protocol.Error{Code: -32000, Message: "no <thread> & no luck", Data: json.RawMessage(`"<&>"`)}
		}))
	})
	c.initialize()
	c.send(`{"id":1,"method":"thread/loaded/list"}`)
	if got, want := c.next(), `{"id":1,"result":{"data":["a<b>&c","`+angles+`"],"nextCursor":null}}`; got != want {
		t.Errorf("result: %d bytes %.80q…, want %d bytes %.80q…", len(got), got, len(want), want)
	}
	c.send(`{"id":2,"method":"thread/read","params":{"threadId":"t"}}`)
	c.expect(`{"id":2,"error":{"code":-32000,"message":"no <thread> & no luck","data":"<&>"}}`)
	if err := c.server.Notify(protocol.MethodTurnStarted, map[string]string{"x": "<&>"}); err != nil {
		t.Fatal(err)
	}
	c.expect(`{"emittedAtMs":1,"method":"turn/started","params":{"x":"<&>"}}`)
	if _, err := c.server.Request(protocol.MethodCommandApproval, map[string]string{"command": "a && b > c"}); err != nil {
		t.Fatal(err)
	}
	c.expect(`{"id":0,"method":"item/commandExecution/requestApproval","params":{"command":"a && b > c"}}`)
}
