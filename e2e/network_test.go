package e2e

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"app-server/protocol"
)

// localConfig lets tests reach their own servers on 127.0.0.1.
const localConfig = "[network]\nallow_local_binding = true\n"

// target is an HTTP server on 127.0.0.1 that counts its hits.
type target struct {
	srv  *httptest.Server
	hits atomic.Int64
	port int
	url  string
}

func newTarget(t *testing.T, tls bool) *target {
	t.Helper()
	tg := &target{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tg.hits.Add(1)
		if r.URL.Path == "/slow" {
			// A long download: 1 KiB every 50 ms for up to 30 s.
			fl := w.(http.Flusher)
			for i := 0; i < 600; i++ {
				if _, err := w.Write(make([]byte, 1024)); err != nil {
					return
				}
				fl.Flush()
				select {
				case <-r.Context().Done():
					return
				case <-time.After(50 * time.Millisecond):
				}
			}
			return
		}
		fmt.Fprint(w, "hello from target")
	})
	if tls {
		tg.srv = httptest.NewTLSServer(h)
	} else {
		tg.srv = httptest.NewServer(h)
	}
	t.Cleanup(tg.srv.Close)
	tg.url = tg.srv.URL
	tg.port = tg.srv.Listener.Addr().(*net.TCPAddr).Port
	return tg
}

// curl is a command line printing the HTTP status only.
func curl(url string, extra ...string) string {
	return "curl -s -k -o /dev/null -w '%{http_code}\\n' " + strings.Join(extra, " ") + " " + url
}

func netDecision(d protocol.CommandExecutionApprovalDecision) func(protocol.CommandExecutionRequestApprovalParams) any {
	return decision(d)
}

// oneCommand returns the single command item of a flow.
func oneCommand(t *testing.T, f *flow) *protocol.CommandExecutionItem {
	t.Helper()
	c := f.commands()
	if len(c) != 1 {
		t.Fatalf("%d command items, want 1", len(c))
	}
	return c[0]
}

func TestNetworkApprovalAccept(t *testing.T) {
	tg := newTarget(t, false)
	s := startServer(t, options{config: localConfig})
	s.initialize()
	th := s.startThread(t.TempDir(), protocol.ApprovalOnRequest)
	s.startTurn(th, curl(tg.url+"/"))
	var raw string
	f := s.runFlow(func(p protocol.CommandExecutionRequestApprovalParams) any {
		return protocol.CommandExecutionRequestApprovalResponse{Decision: protocol.Accept()}
	})
	if len(f.approvals) != 1 {
		t.Fatalf("%d approvals, want 1", len(f.approvals))
	}
	a := f.approvals[0]
	ctx := a.NetworkApprovalContext
	if ctx == nil || ctx.Host != "127.0.0.1" || ctx.Protocol != protocol.NetworkHTTP || ctx.Port == nil || int(*ctx.Port) != tg.port {
		t.Fatalf("network context %+v", ctx)
	}
	if prefix := fmt.Sprintf("network#http#127.0.0.1#%d#", tg.port); !strings.HasPrefix(a.ItemID, prefix) || !isUUIDv7(strings.TrimPrefix(a.ItemID, prefix)) {
		t.Errorf("itemId %q, want network#http#127.0.0.1#%d#<UUIDv7>", a.ItemID, tg.port)
	}
	if a.Reason == nil || *a.Reason != "Network access to 127.0.0.1 requires approval" {
		t.Errorf("reason %v", a.Reason)
	}
	if a.Command != nil || a.Cwd != nil || a.CommandActions != nil {
		t.Errorf("network approval carries command keys: %+v", a)
	}
	_ = raw
	c := oneCommand(t, f)
	if *c.AggregatedOutput != "200\n" || c.Status != protocol.CommandCompleted {
		t.Errorf("curl saw %q (%s)", *c.AggregatedOutput, c.Status)
	}
	if tg.hits.Load() != 1 {
		t.Errorf("target hit %d times", tg.hits.Load())
	}
	// Allow once does not stick: the same request prompts again.
	s.startTurn(th, curl(tg.url+"/"))
	if f = s.runFlow(netDecision(protocol.Decline())); len(f.approvals) != 1 {
		t.Errorf("second request: %d approvals, want 1", len(f.approvals))
	}
}

func TestNetworkApprovalDeclineGives403AndTheTurnGoesOn(t *testing.T) {
	tg := newTarget(t, false)
	s := startServer(t, options{config: localConfig})
	s.initialize()
	th := s.startThread(t.TempDir(), protocol.ApprovalOnRequest)
	s.startTurn(th, "curl -s -i "+tg.url+"/; echo curl-exit=$?")
	f := s.runFlow(netDecision(protocol.Decline()))
	c := oneCommand(t, f)
	out := *c.AggregatedOutput
	for _, want := range []string{"HTTP/1.1 403 Forbidden", "x-proxy-error: blocked-by-allowlist", `"reason":"not_allowed"`, "curl-exit=0", "[network] http 127.0.0.1:"} {
		if !strings.Contains(strings.ToLower(out), strings.ToLower(want)) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if f.turn.Status != protocol.TurnCompleted || tg.hits.Load() != 0 {
		t.Errorf("turn %s, target hits %d", f.turn.Status, tg.hits.Load())
	}
}

func TestNetworkApprovalCancelInterruptsTheTurn(t *testing.T) {
	tg := newTarget(t, false)
	s := startServer(t, options{config: localConfig})
	s.initialize()
	th := s.startThread(t.TempDir(), protocol.ApprovalOnRequest)
	s.startTurn(th, curl(tg.url+"/")+"; sleep 20", "echo never")
	start := time.Now()
	f := s.runFlow(netDecision(protocol.Cancel()))
	if f.turn.Status != protocol.TurnInterrupted {
		t.Fatalf("turn %s, want interrupted", f.turn.Status)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("cancel did not kill the command quickly")
	}
	if len(f.commands()) != 1 {
		t.Errorf("later commands ran after cancel")
	}
}

func TestNetworkAcceptForSessionIsPerKeyAndThread(t *testing.T) {
	tg := newTarget(t, false)
	other := newTarget(t, false)
	s := startServer(t, options{config: localConfig})
	s.initialize()
	th := s.startThread(t.TempDir(), protocol.ApprovalOnRequest)
	s.startTurn(th, curl(tg.url+"/"))
	s.runFlow(netDecision(protocol.AcceptForSession()))
	s.startTurn(th, curl(tg.url+"/again"))
	if f := s.runFlow(nil); *oneCommand(t, f).AggregatedOutput != "200\n" {
		t.Errorf("session grant not applied")
	}
	// Another port is another key.
	s.startTurn(th, curl(other.url+"/"))
	if f := s.runFlow(netDecision(protocol.Decline())); len(f.approvals) != 1 {
		t.Errorf("other port was not asked")
	}
	// Another thread does not share the session cache.
	th2 := s.startThread(t.TempDir(), protocol.ApprovalOnRequest)
	s.startTurn(th2, curl(tg.url+"/"))
	if f := s.runFlow(netDecision(protocol.Decline())); len(f.approvals) != 1 {
		t.Errorf("other thread was not asked")
	}
	// The grant is listed.
	var g protocol.NetworkGrantsListResponse
	s.ok("network/grants/list", map[string]any{"threadId": th}, &g)
	if len(g.Grants) != 1 || g.Grants[0].Host != "127.0.0.1" || g.Grants[0].Scope != protocol.ScopeSession || int(*g.Grants[0].Port) != tg.port {
		t.Errorf("grants %+v", g.Grants)
	}
}

func TestConcurrentRequestsShareOnePrompt(t *testing.T) {
	a := newTarget(t, false)
	b := newTarget(t, false)
	s := startServer(t, options{config: localConfig})
	s.initialize()
	th := s.startThread(t.TempDir(), protocol.ApprovalOnRequest)
	// a, b, a at once: two prompts.
	s.startTurn(th, fmt.Sprintf("(%s) & (%s) & (%s) & wait", curl(a.url+"/1"), curl(b.url+"/2"), curl(a.url+"/3")))
	f := s.runFlow(func(p protocol.CommandExecutionRequestApprovalParams) any {
		// Answer only once the second request to a has joined the open
		// prompt (the server logs it), so the test does not race the curls.
		s.waitForLog("request waits on the open prompt", 20*time.Second)
		return protocol.CommandExecutionRequestApprovalResponse{Decision: protocol.Accept()}
	})
	if len(f.approvals) != 2 {
		t.Errorf("%d prompts for a/b/a, want 2", len(f.approvals))
	}
	if got := strings.Count(*oneCommand(t, f).AggregatedOutput, "200"); got != 3 {
		t.Errorf("%d of 3 requests succeeded: %q", got, *oneCommand(t, f).AggregatedOutput)
	}
}

func TestNeverPolicyDeniesWithoutPrompt(t *testing.T) {
	tg := newTarget(t, false)
	s := startServer(t, options{config: localConfig})
	s.initialize()
	th := s.startThread(t.TempDir(), protocol.ApprovalNever)
	s.startTurn(th, curl(tg.url+"/"))
	f := s.runFlow(nil)
	if out := *oneCommand(t, f).AggregatedOutput; !strings.HasPrefix(out, "403") {
		t.Errorf("never: curl saw %q", out)
	}
}

func TestDenylistAndLocalBlocksNeverPrompt(t *testing.T) {
	tg := newTarget(t, false)
	s := startServer(t, options{config: "[network]\nallow_local_binding = true\ndenied_domains = [\"127.0.0.1\"]\n"})
	s.initialize()
	th := s.startThread(t.TempDir(), protocol.ApprovalOnRequest)
	s.startTurn(th, "curl -s -i "+tg.url+"/")
	out := *oneCommand(t, s.runFlow(nil)).AggregatedOutput
	if !strings.Contains(out, "403") || !strings.Contains(strings.ToLower(out), "x-proxy-error: blocked-by-denylist") {
		t.Errorf("denylisted: %s", out)
	}

	s2 := startServer(t, options{}) // local binding off (the default)
	s2.initialize()
	th2 := s2.startThread(t.TempDir(), protocol.ApprovalOnRequest)
	s2.startTurn(th2, "curl -s -i "+tg.url+"/")
	out = *oneCommand(t, s2.runFlow(nil)).AggregatedOutput
	if !strings.Contains(out, `"reason":"not_allowed_local"`) {
		t.Errorf("local: %s", out)
	}
	if tg.hits.Load() != 0 {
		t.Errorf("target was reached")
	}
}

func TestHTTPSConnectAndSOCKS(t *testing.T) {
	tls := newTarget(t, true)
	plain := newTarget(t, false)
	s := startServer(t, options{config: localConfig})
	s.initialize()
	th := s.startThread(t.TempDir(), protocol.ApprovalOnRequest)
	s.startTurn(th, curl(tls.url+"/"))
	f := s.runFlow(netDecision(protocol.Accept()))
	if p := f.approvals[0].NetworkApprovalContext; p.Protocol != protocol.NetworkHTTPS || int(*p.Port) != tls.port {
		t.Errorf("CONNECT context %+v", p)
	}
	if out := *oneCommand(t, f).AggregatedOutput; out != "200\n" {
		t.Errorf("https through CONNECT: %q", out)
	}
	// SOCKS5 with the proxy resolving names (socks5h in ALL_PROXY).
	s.startTurn(th, curl(plain.url+"/", `-x "$ALL_PROXY"`))
	f = s.runFlow(netDecision(protocol.Accept()))
	if p := f.approvals[0].NetworkApprovalContext; p.Protocol != protocol.NetworkSOCKS5TCP {
		t.Errorf("SOCKS context %+v", p)
	}
	if out := *oneCommand(t, f).AggregatedOutput; out != "200\n" {
		t.Errorf("http through SOCKS5: %q", out)
	}
}

func TestProxyRefusesRequestsWithoutTheCommandsCredential(t *testing.T) {
	tg := newTarget(t, false)
	s := startServer(t, options{config: localConfig})
	s.initialize()
	th := s.startThread(t.TempDir(), protocol.ApprovalOnRequest)
	s.startTurn(th, `P=${HTTP_PROXY##*@}; `+curl(tg.url+"/", `-x "http://$P"`)+`; `+curl(tg.url+"/", `-x "http://x:wrong@$P"`))
	if out := *oneCommand(t, s.runFlow(nil)).AggregatedOutput; out != "407\n407\n" {
		t.Errorf("without or with a wrong credential: %q", out)
	}
}

func TestNetworkAmendmentsPersistAcrossThreadsAndRestarts(t *testing.T) {
	tg := newTarget(t, false)
	home := t.TempDir()
	s := startServer(t, options{config: localConfig, home: home})
	s.initialize()
	th := s.startThread(t.TempDir(), protocol.ApprovalOnRequest)
	s.startTurn(th, curl(tg.url+"/"))
	f := s.runFlow(netDecision(protocol.ApplyNetworkPolicyAmendment(protocol.NetworkPolicyAmendment{Host: "127.0.0.1", Action: protocol.RuleAllow})))
	if out := *oneCommand(t, f).AggregatedOutput; out != "200\n" {
		t.Fatalf("amend allow: %q", out)
	}
	th2 := s.startThread(t.TempDir(), protocol.ApprovalOnRequest)
	s.startTurn(th2, curl(tg.url+"/other"))
	if out := *oneCommand(t, s.runFlow(nil)).AggregatedOutput; out != "200\n" {
		t.Errorf("other thread after amend allow: %q", out)
	}
	s.stdin.Close()
	<-s.exited

	s2 := startServer(t, options{home: home})
	s2.initialize()
	th3 := s2.startThread(t.TempDir(), protocol.ApprovalOnRequest)
	s2.startTurn(th3, curl(tg.url+"/"))
	if out := *oneCommand(t, s2.runFlow(nil)).AggregatedOutput; out != "200\n" {
		t.Errorf("after restart: %q", out)
	}
	rules, _ := os.ReadFile(filepath.Join(home, "rules.toml"))
	if !strings.Contains(string(rules), "127.0.0.1") {
		t.Errorf("rules.toml: %s", rules)
	}
}

func TestNetworkAmendDenyAndMismatchedHost(t *testing.T) {
	tg := newTarget(t, false)
	s := startServer(t, options{config: localConfig})
	s.initialize()
	th := s.startThread(t.TempDir(), protocol.ApprovalOnRequest)
	// A mismatched host is refused: denied, with a warning.
	s.startTurn(th, curl(tg.url+"/"))
	f := s.runFlow(netDecision(protocol.ApplyNetworkPolicyAmendment(protocol.NetworkPolicyAmendment{Host: "example.com", Action: protocol.RuleAllow})))
	if out := *oneCommand(t, f).AggregatedOutput; !strings.HasPrefix(out, "403") {
		t.Errorf("mismatched amendment: %q", out)
	}
	if !containsMethod(f.methods, "warning") {
		t.Errorf("no warning for the mismatched amendment: %v", f.methods)
	}
	s.startTurn(th, curl(tg.url+"/"))
	s.runFlow(netDecision(protocol.ApplyNetworkPolicyAmendment(protocol.NetworkPolicyAmendment{Host: "127.0.0.1", Action: protocol.RuleDeny})))
	th2 := s.startThread(t.TempDir(), protocol.ApprovalOnRequest)
	s.startTurn(th2, "curl -s -i "+tg.url+"/")
	if out := *oneCommand(t, s.runFlow(nil)).AggregatedOutput; !strings.Contains(strings.ToLower(out), "blocked-by-denylist") {
		t.Errorf("after amend deny: %q", out)
	}
}

func containsMethod(methods []string, m string) bool {
	for _, x := range methods {
		if x == m {
			return true
		}
	}
	return false
}

func TestPromptTimeoutAppliesTheDefault(t *testing.T) {
	tg := newTarget(t, false)
	s := startServer(t, options{config: localConfig + "approval_timeout_ms = 300\n"})
	s.initialize()
	th := s.startThread(t.TempDir(), protocol.ApprovalOnRequest)
	s.startTurn(th, "curl -s -i "+tg.url+"/")
	var req protocol.CommandExecutionRequestApprovalParams
	f := &flow{}
	for {
		m := s.next()
		if m.Method == "item/commandExecution/requestApproval" {
			m.decode(t, &req) // never answered
		}
		if m.Method == "serverRequest/resolved" {
			f.resolved = append(f.resolved, protocol.ServerRequestResolvedNotification{})
		}
		if m.Method == "item/completed" {
			var n protocol.ItemCompletedNotification
			m.decode(t, &n)
			f.items = append(f.items, n.Item)
		}
		if m.Method == "turn/completed" {
			break
		}
	}
	if req.ExpiresAtMs == nil || *req.ExpiresAtMs < req.StartedAtMs+250 {
		t.Errorf("expiresAtMs %v, startedAtMs %d", req.ExpiresAtMs, req.StartedAtMs)
	}
	if len(f.resolved) != 1 {
		t.Errorf("timeout did not send serverRequest/resolved")
	}
	if out := *oneCommand(t, f).AggregatedOutput; !strings.Contains(out, `"reason":"timeout"`) {
		t.Errorf("timeout output: %s", out)
	}
}

func TestRevokeCutsALiveDownload(t *testing.T) {
	tg := newTarget(t, false)
	s := startServer(t, options{config: localConfig})
	s.initialize()
	th := s.startThread(t.TempDir(), protocol.ApprovalOnRequest)
	s.startTurn(th, "curl -s -f -o /dev/null "+tg.url+"/slow; echo curl-exit=$?")
	m, _ := s.until("item/commandExecution/requestApproval")
	s.answer(m, protocol.CommandExecutionRequestApprovalResponse{Decision: protocol.AcceptForSession()})
	// Wait for the grant to have a live connection, then revoke it.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var g protocol.NetworkGrantsListResponse
		s.ok("network/grants/list", map[string]any{"threadId": th}, &g)
		if len(g.Grants) == 1 && g.Grants[0].OpenConnections > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no live connection on the grant: %+v", g.Grants)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var r protocol.NetworkGrantsRevokeResponse
	s.ok("network/grants/revoke", map[string]any{"threadId": th, "host": "127.0.0.1", "scope": "session"}, &r)
	if len(r.Revoked) != 1 {
		t.Fatalf("revoked %+v", r.Revoked)
	}
	f := s.runFlow(nil)
	if out := *oneCommand(t, f).AggregatedOutput; strings.Contains(out, "curl-exit=0") {
		t.Errorf("download survived the revoke: %q", out)
	}
	if !containsMethod(f.methods, "network/grants/updated") {
		t.Errorf("no network/grants/updated after revoke: %v", f.methods)
	}
	// The next request prompts again.
	s.startTurn(th, curl(tg.url+"/"))
	if f = s.runFlow(netDecision(protocol.Decline())); len(f.approvals) != 1 {
		t.Errorf("no prompt after revoke")
	}
}

func TestTwoThreadsAttributedSeparately(t *testing.T) {
	a := newTarget(t, false)
	b := newTarget(t, false)
	s := startServer(t, options{config: localConfig})
	s.initialize()
	ta := s.startThread(t.TempDir(), protocol.ApprovalNever)
	tb := s.startThread(t.TempDir(), protocol.ApprovalNever)
	s.startTurn(ta, curl(a.url+"/")+"; sleep 0.5; "+curl(a.url+"/"))
	s.startTurn(tb, curl(b.url+"/")+"; sleep 0.5; "+curl(b.url+"/"))
	outputs := map[string]string{}
	for len(outputs) < 2 {
		m := s.next()
		if m.Method == "turn/completed" {
			var n protocol.TurnCompletedNotification
			m.decode(t, &n)
			outputs[n.ThreadID] = *n.Turn.Items[len(n.Turn.Items)-1].CommandExecution.AggregatedOutput
		}
	}
	pa, pb := fmt.Sprintf(":%d blocked", a.port), fmt.Sprintf(":%d blocked", b.port)
	if !strings.Contains(outputs[ta], pa) || strings.Contains(outputs[ta], pb) {
		t.Errorf("thread a's blocks: %q", outputs[ta])
	}
	if !strings.Contains(outputs[tb], pb) || strings.Contains(outputs[tb], pa) {
		t.Errorf("thread b's blocks: %q", outputs[tb])
	}
}

func TestNoProxyWithoutManagedNetwork(t *testing.T) {
	tg := newTarget(t, false)
	show := `env | grep -ci '^\(http\|https\|all\|no\)_proxy=' ; ` + curl(tg.url+"/")
	// danger-full-access: direct network, no proxy variables, no prompt.
	s := startServer(t, options{})
	s.initialize()
	var r protocol.ThreadStartResponse
	s.ok("thread/start", map[string]any{"cwd": t.TempDir(), "sandbox": "danger-full-access"}, &r)
	s.until("thread/started")
	if r.Sandbox.DangerFullAccess == nil {
		t.Errorf("sandbox reported %+v", r.Sandbox)
	}
	s.startTurn(r.Thread.ID, show)
	if out := *oneCommand(t, s.runFlow(nil)).AggregatedOutput; out != "0\n200\n" {
		t.Errorf("danger-full-access: %q", out)
	}
	// The same thread settings with the managed proxy get the variables.
	th := s.startThread(t.TempDir(), protocol.ApprovalNever)
	s.startTurn(th, `env | grep -c '^\(HTTP_PROXY\|HTTPS_PROXY\|http_proxy\|https_proxy\|ALL_PROXY\|all_proxy\|NO_PROXY\|no_proxy\)='`)
	if out := *oneCommand(t, s.runFlow(nil)).AggregatedOutput; out != "8\n" {
		t.Errorf("managed proxy variables: %q", out)
	}
	// network.enabled = false: no proxy and, sandboxed, no network at all
	// (SANDBOX.md: it never means "unrestricted").
	before := tg.hits.Load()
	s2 := startServer(t, options{config: "[network]\nenabled = false\n"})
	s2.initialize()
	th2 := s2.startThread(t.TempDir(), protocol.ApprovalNever)
	s2.startTurn(th2, show)
	if out := *oneCommand(t, s2.runFlow(nil)).AggregatedOutput; out != "0\n000\n" || tg.hits.Load() != before {
		t.Errorf("network disabled: %q, %d requests reached the target", out, tg.hits.Load()-before)
	}
}
