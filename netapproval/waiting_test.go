package netapproval

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/netip"
	"testing"
	"testing/synctest"
)

// Requests that wait on a prompt, run in a synctest bubble over net.Pipe
// connections, so the tests order events by waiting for every goroutine
// to block (synctest.Wait), never by sleeping.

// pipeDialer connects every upstream dial to an echo goroutine over a pipe.
type pipeDialer struct{}

func (pipeDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	c, s := net.Pipe()
	go func() {
		defer s.Close()
		io.Copy(s, s)
	}()
	return c, nil
}

// waitWorld is a Manager without listeners, a thread whose prompts wait
// for the test, and one attachment.
type waitWorld struct {
	m       *Manager
	a       *Attachment
	prompts chan promptCall
}

func newWaitWorld(t *testing.T) *waitWorld {
	t.Helper()
	m, err := NewManager(Options{Config: Config{AllowLocalBinding: true}, Dialer: pipeDialer{}})
	if err != nil {
		t.Fatal(err)
	}
	w := &waitWorld{m: m, prompts: make(chan promptCall, 1)}
	if _, err := m.OpenThread("t1", PrompterFunc(func(ctx context.Context, req PromptRequest) (Answer, error) {
		c := promptCall{ctx: ctx, req: req, answer: make(chan Answer, 1)}
		w.prompts <- c
		select {
		case a := <-c.answer:
			return a, nil
		case <-ctx.Done():
			return Answer{}, ctx.Err()
		}
	})); err != nil {
		t.Fatal(err)
	}
	if w.a, err = m.Attach(ExecInfo{ThreadID: "t1", TurnID: "turn-1", CommandID: "cmd-1", PromptsAllowed: true}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return w
}

// connect serves one client connection the way the HTTP listener's front
// does and returns the client's end.
func (w *waitWorld) connect(socks bool) net.Conn {
	client, server := net.Pipe()
	w.m.enter()
	if socks {
		go w.m.serveSOCKSConn(server, w.m.adm.admit(server))
	} else {
		go w.m.serveHTTPConn(server, w.m.adm.admit(server), nil)
	}
	return client
}

// target is the destination these tests ask for: a private address, which
// AllowLocalBinding makes promptable.
var waitTarget = netip.MustParseAddrPort("10.1.2.3:7")

// startConnect sends a CONNECT (or a SOCKS5 CONNECT) and returns once its
// prompt is open.
func (w *waitWorld) startConnect(t *testing.T, socks bool) (net.Conn, promptCall) {
	t.Helper()
	c := w.connect(socks)
	if socks {
		c.Write([]byte{5, 1, byte(methodUserPass)})
		io.ReadFull(c, make([]byte, 2))
		c.Write(append(append(append([]byte{userPassVersion, byte(len(w.a.user))}, w.a.user...), byte(len(w.a.token))), w.a.token...))
		io.ReadFull(c, make([]byte, 2))
		c.Write(appendSocksAddr([]byte{5, byte(cmdConnect), 0}, waitTarget))
	} else {
		io.WriteString(c, connectHead(w.a, waitTarget.String()))
	}
	synctest.Wait()
	select {
	case p := <-w.prompts:
		return c, p
	default:
		t.Fatal("no prompt")
	}
	return nil, promptCall{}
}

// readReply reads the CONNECT or SOCKS5 reply and reports success.
func readReply(t *testing.T, br *bufio.Reader, socks bool) bool {
	t.Helper()
	if socks {
		hdr := make([]byte, 3)
		if _, err := io.ReadFull(br, hdr); err != nil {
			t.Fatal(err)
		}
		if _, _, err := readSocksAddr(br); err != nil {
			t.Fatal(err)
		}
		return socksReply(hdr[1]) == repSucceeded
	}
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode == http.StatusOK
}

func forBothFronts(t *testing.T, f func(t *testing.T, socks bool)) {
	for _, socks := range []bool{false, true} {
		name := "CONNECT"
		if socks {
			name = "SOCKS5"
		}
		t.Run(name, func(t *testing.T) { synctest.Test(t, func(t *testing.T) { f(t, socks) }) })
	}
}

// Bytes the client sends while its request waits on the prompt (some
// clients send their TLS ClientHello at once) reach the destination.
func TestEarlyDataWhileWaitingOnPrompt(t *testing.T) {
	forBothFronts(t, func(t *testing.T, socks bool) {
		w := newWaitWorld(t)
		c, p := w.startConnect(t, socks)
		defer c.Close()
		go io.WriteString(c, "early")
		synctest.Wait() // the waiting handler has read what it could
		p.answer <- Answer{Kind: AnswerAllowOnce}
		br := bufio.NewReader(c)
		if !readReply(t, br, socks) {
			t.Fatal("not allowed")
		}
		buf := make([]byte, 5)
		if _, err := io.ReadFull(br, buf); err != nil || string(buf) != "early" {
			t.Fatalf("echo %q, %v", buf, err)
		}
	})
}

// A client that leaves while its request waits abandons it: no block is
// recorded, and the prompt's later answer finds nobody to tell.
func TestClientLeavingWhileWaitingIsAbandoned(t *testing.T) {
	forBothFronts(t, func(t *testing.T, socks bool) {
		w := newWaitWorld(t)
		c, p := w.startConnect(t, socks)
		c.Close()
		synctest.Wait() // the handler saw the close and returned
		p.answer <- Answer{Kind: AnswerDecline}
		synctest.Wait()
		if b := blocksOf(w.a); len(b) != 0 {
			t.Errorf("blocks = %+v, want none for an abandoned request", b)
		}
	})
}
