package netapproval

import (
	"context"
	"go/parser"
	"go/token"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDeps enforces the import direction of DESIGN.md: netapproval never
// imports the packages above it, and only the allowed modules.
func TestDeps(t *testing.T) {
	allowed := []string{"golang.org/x/net", "golang.org/x/sync", "github.com/google/uuid", "github.com/pelletier/go-toml/v2"}
	files, _ := filepath.Glob("*.go")
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range af.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			first, _, _ := strings.Cut(path, "/")
			if !strings.Contains(first, ".") && !strings.HasPrefix(path, "app-server") {
				continue // standard library
			}
			ok := false
			for _, a := range allowed {
				if path == a || strings.HasPrefix(path, a+"/") {
					ok = true
				}
			}
			if !ok {
				t.Errorf("%s imports %s", f, path)
			}
		}
	}
}

// Close must end a request that is waiting for the user, stop every
// goroutine (goleak checks at exit) and leave nothing listening.
func TestCloseWhilePromptPending(t *testing.T) {
	m, err := NewManager(Options{Config: Config{AllowLocalBinding: true}})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	asked := make(chan struct{})
	_, err = m.OpenThread("t1", PrompterFunc(func(ctx context.Context, req PromptRequest) (Answer, error) {
		close(asked)
		<-ctx.Done()
		return Answer{}, ctx.Err()
	}))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := m.Attach(ExecInfo{ThreadID: "t1", PromptsAllowed: true})
	c := proxyClient(t, a.HTTPProxyURL())
	done := make(chan error, 1)
	go func() {
		resp, err := c.Get("http://127.0.0.1:9/")
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	<-asked
	addr := m.HTTPAddr().String()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("request still blocked after Close")
	}
	if _, err := http.Get("http://" + addr); err == nil {
		t.Error("proxy still listening after Close")
	}
	if _, err := m.Attach(ExecInfo{ThreadID: "t1"}); err == nil {
		t.Error("Attach after Close succeeded")
	}
}

func TestRevokePersistentRuleClosesConnectionsInEveryThread(t *testing.T) {
	w := newProxyWorld(t, Config{AllowLocalBinding: true})
	w.answer.Store(AnswerAmendAllow)
	resp, c1, br1 := rawConnect(t, w.a, w.echo.Addr().String())
	if resp.StatusCode != 200 {
		t.Fatalf("CONNECT %d", resp.StatusCode)
	}
	th2, err := w.m.OpenThread("t2", nil)
	if err != nil {
		t.Fatal(err)
	}
	a2, _ := w.m.Attach(ExecInfo{ThreadID: "t2", CommandID: "c2"})
	resp, c2, br2 := rawConnect(t, a2, w.echo.Addr().String())
	if resp.StatusCode != 200 {
		t.Fatalf("thread 2 CONNECT %d (the persisted rule should allow it)", resp.StatusCode)
	}
	if g := th2.Grants(); len(g) != 1 || g[0].Scope != ScopePersistent || g[0].OpenConnections != 1 {
		t.Fatalf("thread 2 grants %+v", g)
	}
	removed, err := w.th.Revoke(RevokeFilter{Host: "127.0.0.1", Scope: ScopePersistent})
	if err != nil || len(removed) != 1 {
		t.Fatalf("Revoke = %+v, %v", removed, err)
	}
	for i, c := range []struct {
		c interface{ SetReadDeadline(time.Time) error }
		r interface{ ReadByte() (byte, error) }
	}{{c1, br1}, {c2, br2}} {
		c.c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.r.ReadByte(); err == nil || os.IsTimeout(err) {
			t.Errorf("tunnel %d not closed by revoke: %v", i+1, err)
		}
	}
	if len(w.m.rules.HostRules()) != 0 {
		t.Error("rule still persisted")
	}
}

// With StartOnFirstUse nothing listens until a command attaches; the
// first Attach starts the proxy and its URLs serve.
func TestStartOnFirstUse(t *testing.T) {
	m, err := NewManager(Options{Config: Config{AllowLocalBinding: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	m.StartOnFirstUse()
	if _, err := m.OpenThread("t1", PrompterFunc(func(context.Context, PromptRequest) (Answer, error) {
		return Answer{Kind: AnswerAllowOnce}, nil
	})); err != nil {
		t.Fatal(err)
	}
	if addr := m.HTTPAddr(); addr.IsValid() {
		t.Fatalf("listening at %s before any Attach", addr)
	}
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") }))
	defer target.Close()
	a, err := m.Attach(ExecInfo{ThreadID: "t1", PromptsAllowed: true})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if !m.HTTPAddr().IsValid() || !m.SOCKSAddr().IsValid() {
		t.Fatalf("not listening after Attach: http %s socks %s", m.HTTPAddr(), m.SOCKSAddr())
	}
	resp, err := proxyClient(t, a.HTTPProxyURL()).Get(target.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "hello" {
		t.Errorf("through the proxy: %d %q", resp.StatusCode, body)
	}
	// A second Attach reuses the listeners.
	addr := m.HTTPAddr()
	b, err := m.Attach(ExecInfo{ThreadID: "t1"})
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	if m.HTTPAddr() != addr {
		t.Errorf("second Attach moved the proxy from %s to %s", addr, m.HTTPAddr())
	}
}

// ListenUnix (the sandbox's way in) also starts a Manager that waits for
// its first use, and the TCP ports it reports with the sockets are real.
func TestStartOnFirstUseByListenUnix(t *testing.T) {
	m, err := NewManager(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	m.StartOnFirstUse()
	socks, err := m.ListenUnix(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if !m.HTTPAddr().IsValid() || !m.SOCKSAddr().IsValid() {
		t.Fatalf("not listening after ListenUnix: http %s socks %s", m.HTTPAddr(), m.SOCKSAddr())
	}
	for _, p := range []string{socks.HTTP, socks.SOCKS} {
		c, err := net.Dial("unix", p)
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
}
