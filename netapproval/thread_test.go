package netapproval

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// promptCall is one PromptNetwork call held by scriptPrompter until the test
// answers it.
type promptCall struct {
	ctx    context.Context
	req    PromptRequest
	answer chan Answer
}

// scriptPrompter queues prompts for the test to answer. A well-behaved
// prompter: it returns ctx.Err() as soon as its context ends.
type scriptPrompter struct {
	calls chan promptCall
}

func newScriptPrompter() *scriptPrompter { return &scriptPrompter{calls: make(chan promptCall, 100)} }

func (p *scriptPrompter) PromptNetwork(ctx context.Context, req PromptRequest) (Answer, error) {
	c := promptCall{ctx: ctx, req: req, answer: make(chan Answer, 1)}
	p.calls <- c
	select {
	case a := <-c.answer:
		return a, nil
	case <-ctx.Done():
		return Answer{}, ctx.Err()
	}
}

// drain returns the prompts queued so far.
func (p *scriptPrompter) drain() []promptCall {
	var out []promptCall
	for {
		select {
		case c := <-p.calls:
			out = append(out, c)
		default:
			return out
		}
	}
}

// recordingNotifier keeps what the Manager reported.
type recordingNotifier struct {
	mu       sync.Mutex
	warnings []string
	updates  map[string]int
}

func (n *recordingNotifier) GrantsUpdated(threadID string, grants []Grant) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.updates == nil {
		n.updates = make(map[string]int)
	}
	n.updates[threadID]++
}

func (n *recordingNotifier) Warning(threadID, message string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.warnings = append(n.warnings, threadID+": "+message)
}

func (n *recordingNotifier) updateCount(threadID string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.updates[threadID]
}

// serviceWorld is a Manager (no listeners) with public test names.
type serviceWorld struct {
	m        *Manager
	rulesDir string
	notifier *recordingNotifier
}

var publicNames = map[string]string{
	"a.com": "8.8.8.8", "b.com": "8.8.4.4", "c.com": "1.1.1.1", "other.com": "1.0.0.1",
}

func newServiceWorld(t *testing.T, cfg Config) *serviceWorld {
	t.Helper()
	dir := t.TempDir()
	return newServiceWorldIn(t, cfg, dir)
}

func newServiceWorldIn(t *testing.T, cfg Config, dir string) *serviceWorld {
	t.Helper()
	rules, err := OpenRules(filepath.Join(dir, "rules.toml"))
	if err != nil {
		t.Fatal(err)
	}
	n := &recordingNotifier{}
	m, err := NewManager(Options{Config: cfg, Rules: rules, Resolver: staticResolver(publicNames), Dialer: refusingDialer{t}, Notifier: n})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return &serviceWorld{m: m, rulesDir: dir, notifier: n}
}

// thread opens a thread with its own scriptPrompter and one attachment.
func (w *serviceWorld) thread(t *testing.T, id string) (*Thread, *Attachment, *scriptPrompter) {
	t.Helper()
	p := newScriptPrompter()
	th, err := w.m.OpenThread(id, p)
	if err != nil {
		t.Fatal(err)
	}
	a, err := w.m.Attach(ExecInfo{ThreadID: id, TurnID: "turn-" + id, CommandID: "cmd-" + id, PromptsAllowed: true})
	if err != nil {
		t.Fatal(err)
	}
	return th, a, p
}

// result is a verdict delivered by an asynchronous check.
type result struct {
	key Key
	v   verdict
}

// checkAsync runs check on its own goroutine and delivers the verdict.
func checkAsync(ctx context.Context, th *Thread, a *Attachment, k Key, out chan<- result) {
	go func() { out <- result{k, th.check(ctx, a, Request{Key: k, Method: "GET"})} }()
}

func httpsKey(host string) Key { return Key{Host: host, Protocol: ProtocolHTTPS, Port: 443} }

func TestDedupeABAGivesTwoPrompts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newServiceWorld(t, Config{})
		th, a, p := w.thread(t, "t1")
		out := make(chan result, 3)
		checkAsync(t.Context(), th, a, httpsKey("a.com"), out)
		checkAsync(t.Context(), th, a, httpsKey("b.com"), out)
		checkAsync(t.Context(), th, a, httpsKey("a.com"), out)
		synctest.Wait()
		calls := p.drain()
		if len(calls) != 2 {
			t.Fatalf("prompts = %d, want 2", len(calls))
		}
		for _, c := range calls {
			if c.req.TurnID != "turn-t1" || c.req.CommandID != "cmd-t1" || !c.req.ExpiresAt.IsZero() {
				t.Errorf("prompt attribution = %+v", c.req)
			}
			if c.req.Key.Host == "a.com" {
				c.answer <- Answer{Kind: AnswerAllowOnce}
			} else {
				c.answer <- Answer{Kind: AnswerDecline}
			}
		}
		got := map[string][]verdict{}
		for range 3 {
			r := <-out
			got[r.key.Host] = append(got[r.key.Host], r.v)
		}
		if len(got["a.com"]) != 2 || !got["a.com"][0].allow || !got["a.com"][1].allow {
			t.Errorf("a.com verdicts = %+v, want two allows", got["a.com"])
		}
		if b := got["b.com"]; len(b) != 1 || b[0].allow || b[0].denial.Reason != ReasonNotAllowed || b[0].denial.Source != SourceDecider {
			t.Errorf("b.com verdict = %+v, want not_allowed/decider", b)
		}
	})
}

func TestPortsAndProtocolsAreSeparateKeys(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newServiceWorld(t, Config{})
		th, a, p := w.thread(t, "t1")
		out := make(chan result, 4)
		keys := []Key{
			{Host: "a.com", Protocol: ProtocolHTTPS, Port: 443},
			{Host: "a.com", Protocol: ProtocolHTTPS, Port: 8443},
			{Host: "a.com", Protocol: ProtocolSOCKS5TCP, Port: 443},
			{Host: "a.com", Protocol: ProtocolHTTP, Port: 80},
		}
		for _, k := range keys {
			checkAsync(t.Context(), th, a, k, out)
		}
		synctest.Wait()
		calls := p.drain()
		if len(calls) != len(keys) {
			t.Fatalf("prompts = %d, want %d", len(calls), len(keys))
		}
		for _, c := range calls {
			c.answer <- Answer{Kind: AnswerAllowOnce}
		}
		for range keys {
			if r := <-out; !r.v.allow {
				t.Errorf("%v denied", r.key)
			}
		}
	})
}

// answerNext waits for the next prompt and answers it.
func answerNext(t *testing.T, p *scriptPrompter, ans Answer) PromptRequest {
	t.Helper()
	synctest.Wait()
	calls := p.drain()
	if len(calls) != 1 {
		t.Fatalf("prompts = %d, want 1", len(calls))
	}
	calls[0].answer <- ans
	return calls[0].req
}

// checkNow runs one check that must not prompt (the caller asserts).
func checkNow(t *testing.T, th *Thread, a *Attachment, k Key) verdict {
	t.Helper()
	return th.check(t.Context(), a, Request{Key: k, Method: "GET"})
}

func TestAllowOnceDoesNotStick(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newServiceWorld(t, Config{})
		th, a, p := w.thread(t, "t1")
		out := make(chan result, 1)
		for range 2 {
			checkAsync(t.Context(), th, a, httpsKey("a.com"), out)
			answerNext(t, p, Answer{Kind: AnswerAllowOnce})
			if r := <-out; !r.v.allow {
				t.Fatalf("denied: %v", r.v.denial)
			}
		}
		if g := th.Grants(); len(g) != 0 {
			t.Errorf("grants after allow once = %+v", g)
		}
	})
}

func TestAllowForSessionSticksForKeyAndThreadOnly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newServiceWorld(t, Config{})
		th, a, p := w.thread(t, "t1")
		th2, a2, p2 := w.thread(t, "t2")
		out := make(chan result, 1)
		checkAsync(t.Context(), th, a, httpsKey("a.com"), out)
		answerNext(t, p, Answer{Kind: AnswerAllowForSession})
		if r := <-out; !r.v.allow {
			t.Fatal("denied")
		}
		// Same key, same thread: no prompt.
		if v := checkNow(t, th, a, httpsKey("a.com")); !v.allow || v.ref.scope != ScopeSession {
			t.Fatalf("cached verdict = %+v", v)
		}
		if n := len(p.drain()); n != 0 {
			t.Fatalf("prompted %d times for a cached key", n)
		}
		// Another port prompts.
		checkAsync(t.Context(), th, a, Key{Host: "a.com", Protocol: ProtocolHTTPS, Port: 8443}, out)
		answerNext(t, p, Answer{Kind: AnswerDecline})
		<-out
		// Another thread prompts.
		checkAsync(t.Context(), th2, a2, httpsKey("a.com"), out)
		answerNext(t, p2, Answer{Kind: AnswerDecline})
		if r := <-out; r.v.allow {
			t.Fatal("thread 2 used thread 1's session grant")
		}
		g := th.Grants()
		if len(g) != 1 || g[0].Host != "a.com" || g[0].Protocol != ProtocolHTTPS || g[0].Port != 443 ||
			g[0].Action != ActionAllow || g[0].Scope != ScopeSession || g[0].Hits != 2 || g[0].GrantedAt.IsZero() {
			t.Errorf("grants = %+v", g)
		}
		if w.notifier.updateCount("t1") == 0 {
			t.Error("no grants update for t1")
		}
	})
}

func TestAmendmentsPersistApplyToOtherThreadsAndSurviveRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newServiceWorld(t, Config{})
		th, a, p := w.thread(t, "t1")
		th2, a2, p2 := w.thread(t, "t2")
		out := make(chan result, 1)

		checkAsync(t.Context(), th, a, httpsKey("a.com"), out)
		answerNext(t, p, Answer{Kind: AnswerAmendAllow, AmendHost: "A.com."})
		if r := <-out; !r.v.allow {
			t.Fatal("amend allow denied the request")
		}
		checkAsync(t.Context(), th, a, httpsKey("b.com"), out)
		answerNext(t, p, Answer{Kind: AnswerAmendDeny, AmendHost: "b.com"})
		if r := <-out; r.v.allow || r.v.denial.Reason != ReasonDenied || r.v.denial.Source != SourceDecider {
			t.Fatalf("amend deny verdict = %+v", r.v)
		}

		// Host-wide, every thread, no prompts.
		for _, k := range []Key{httpsKey("a.com"), {Host: "a.com", Protocol: ProtocolSOCKS5UDP, Port: 53}} {
			if v := checkNow(t, th2, a2, k); !v.allow {
				t.Errorf("thread 2 %v denied after amend allow", k)
			}
		}
		if v := checkNow(t, th2, a2, Key{Host: "b.com", Protocol: ProtocolHTTP, Port: 80}); v.allow || v.denial.Reason != ReasonDenied {
			t.Errorf("thread 2 b.com after amend deny = %+v", v)
		}
		if n := len(p.drain()) + len(p2.drain()); n != 0 {
			t.Errorf("%d prompts after amendments", n)
		}
		if w.notifier.updateCount("t2") == 0 {
			t.Error("thread 2 not told its grants changed")
		}

		// A new manager on the same home sees both rules.
		w2 := newServiceWorldIn(t, Config{}, w.rulesDir)
		th3, a3, _ := w2.thread(t, "t3")
		if v := checkNow(t, th3, a3, httpsKey("a.com")); !v.allow {
			t.Error("amend allow lost on restart")
		}
		if v := checkNow(t, th3, a3, httpsKey("b.com")); v.allow {
			t.Error("amend deny lost on restart")
		}
		g := th3.Grants()
		if len(g) != 2 || g[0].Scope != ScopePersistent || g[0].Port != 0 || g[0].Protocol != 0 {
			t.Errorf("restarted grants = %+v", g)
		}
	})
}

func TestAmendmentHostMismatchIsRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newServiceWorld(t, Config{})
		th, a, p := w.thread(t, "t1")
		out := make(chan result, 1)
		checkAsync(t.Context(), th, a, httpsKey("a.com"), out)
		answerNext(t, p, Answer{Kind: AnswerAmendAllow, AmendHost: "other.com"})
		if r := <-out; r.v.allow {
			t.Fatal("mismatched amendment allowed the request")
		}
		want := "t1: network policy amendment host 'other.com' does not match approved host 'a.com'"
		if !slices.Contains(w.notifier.warnings, want) {
			t.Errorf("warnings = %q, want %q", w.notifier.warnings, want)
		}
		if r := w.m.rules.HostRules(); len(r) != 0 {
			t.Errorf("rules after refused amendment = %+v", r)
		}
		// Nothing remembered: the next request prompts again.
		checkAsync(t.Context(), th, a, httpsKey("a.com"), out)
		answerNext(t, p, Answer{Kind: AnswerDecline})
		<-out
	})
}

func TestPromptTimeoutAppliesDefault(t *testing.T) {
	for _, tc := range []struct {
		name      string
		def       AnswerKind
		wantAllow bool
	}{{"decline", 0, false}, {"accept", AnswerAllowOnce, true}} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newServiceWorld(t, Config{ApprovalTimeout: 30 * time.Second, TimeoutDefault: tc.def})
				th, a, p := w.thread(t, "t1")
				out := make(chan result, 1)
				start := time.Now()
				checkAsync(t.Context(), th, a, httpsKey("a.com"), out)
				synctest.Wait()
				calls := p.drain()
				if len(calls) != 1 || !calls[0].req.ExpiresAt.Equal(start.Add(30*time.Second)) {
					t.Fatalf("prompts = %+v", calls)
				}
				r := <-out
				if time.Since(start) != 30*time.Second {
					t.Errorf("resolved after %v, want 30s", time.Since(start))
				}
				if r.v.allow != tc.wantAllow {
					t.Fatalf("allow = %v, want %v", r.v.allow, tc.wantAllow)
				}
				if !tc.wantAllow && (r.v.denial.Reason != ReasonTimeout || r.v.denial.Source != SourceDecider) {
					t.Errorf("denial = %+v", r.v.denial)
				}
				if calls[0].ctx.Err() == nil {
					t.Error("prompter context still live after timeout")
				}
				if g := th.Grants(); len(g) != 0 {
					t.Errorf("timeout remembered %+v", g)
				}
			})
		})
	}
}

func TestInterruptAndCloseResolveOwnerAndWaiters(t *testing.T) {
	for _, tc := range []struct {
		name string
		end  func(*Thread)
	}{{"interrupt", (*Thread).Interrupt}, {"close", (*Thread).Close}} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newServiceWorld(t, Config{})
				th, a, p := w.thread(t, "t1")
				out := make(chan result, 3)
				checkAsync(t.Context(), th, a, httpsKey("a.com"), out)
				checkAsync(t.Context(), th, a, httpsKey("a.com"), out)
				checkAsync(t.Context(), th, a, httpsKey("b.com"), out)
				synctest.Wait()
				calls := p.drain()
				if len(calls) != 2 {
					t.Fatalf("prompts = %d", len(calls))
				}
				tc.end(th)
				for range 3 {
					r := <-out
					if r.v.allow || r.v.denial.Reason != ReasonUserDenied {
						t.Errorf("%v: verdict %+v, want user_denied", r.key, r.v)
					}
				}
				for _, c := range calls {
					if c.ctx.Err() == nil {
						t.Error("prompt context live after " + tc.name)
					}
				}
				if len(blocksOf(a)) != 2 {
					t.Errorf("blocks = %d, want 2 destinations", len(blocksOf(a)))
				}
			})
		})
	}
}

// lateAnswerPrompter ignores its context and answers "allow for session"
// when released, after the prompt was already resolved.
type lateAnswerPrompter struct {
	started chan struct{}
	release chan struct{}
}

func (p *lateAnswerPrompter) PromptNetwork(ctx context.Context, req PromptRequest) (Answer, error) {
	p.started <- struct{}{}
	<-p.release
	return Answer{Kind: AnswerAllowForSession}, nil
}

func TestLateAnswerIsIgnored(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newServiceWorld(t, Config{})
		lp := &lateAnswerPrompter{started: make(chan struct{}, 10), release: make(chan struct{})}
		th, err := w.m.OpenThread("t1", lp)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := w.m.Attach(ExecInfo{ThreadID: "t1", PromptsAllowed: true})
		out := make(chan result, 2)
		checkAsync(t.Context(), th, a, httpsKey("a.com"), out)
		<-lp.started
		th.Interrupt()
		if r := <-out; r.v.allow {
			t.Fatal("interrupted prompt allowed")
		}
		// A newer prompt for the same key is open when the late answer lands.
		checkAsync(t.Context(), th, a, httpsKey("a.com"), out)
		<-lp.started
		lp.release <- struct{}{} // the first, late answer
		synctest.Wait()
		if g := th.Grants(); len(g) != 0 {
			t.Fatalf("late answer remembered: %+v", g)
		}
		select {
		case r := <-out:
			t.Fatalf("late answer settled the newer prompt: %+v", r.v)
		default:
		}
		th.Interrupt()
		<-out
		close(lp.release)
	})
}

func TestOwnerGoneKeepsPromptForWaiters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newServiceWorld(t, Config{})
		th, a, p := w.thread(t, "t1")
		ownerCtx, cancelOwner := context.WithCancel(t.Context())
		owner := make(chan result, 1)
		waiter := make(chan result, 1)
		checkAsync(ownerCtx, th, a, httpsKey("a.com"), owner)
		synctest.Wait()
		checkAsync(t.Context(), th, a, httpsKey("a.com"), waiter)
		synctest.Wait()
		cancelOwner()
		if r := <-owner; r.v.allow || !r.v.abandoned {
			t.Fatalf("owner verdict = %+v, want abandoned", r.v)
		}
		answerNext(t, p, Answer{Kind: AnswerAllowForSession})
		if r := <-waiter; !r.v.allow {
			t.Fatal("waiter denied")
		}
		if len(blocksOf(a)) != 0 {
			t.Errorf("abandoned request recorded a block: %+v", blocksOf(a))
		}
	})
}

func TestPrompterErrorDenies(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newServiceWorld(t, Config{})
		th, _ := w.m.OpenThread("t1", PrompterFunc(func(context.Context, PromptRequest) (Answer, error) {
			return Answer{}, context.DeadlineExceeded
		}))
		a, _ := w.m.Attach(ExecInfo{ThreadID: "t1", PromptsAllowed: true})
		if v := checkNow(t, th, a, httpsKey("a.com")); v.allow || v.denial.Source != SourceDecider {
			t.Fatalf("verdict = %+v", v)
		}
	})
}

func TestRevokeSessionGrantPromptsAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newServiceWorld(t, Config{})
		th, a, p := w.thread(t, "t1")
		out := make(chan result, 1)
		checkAsync(t.Context(), th, a, httpsKey("a.com"), out)
		answerNext(t, p, Answer{Kind: AnswerAllowForSession})
		<-out
		before := w.notifier.updateCount("t1")
		removed, err := th.Revoke(RevokeFilter{Host: "A.COM", Scope: ScopeSession})
		if err != nil || len(removed) != 1 || removed[0].Host != "a.com" || removed[0].Hits != 1 {
			t.Fatalf("Revoke = %+v, %v", removed, err)
		}
		if w.notifier.updateCount("t1") <= before {
			t.Error("no grants update after revoke")
		}
		checkAsync(t.Context(), th, a, httpsKey("a.com"), out)
		answerNext(t, p, Answer{Kind: AnswerDecline})
		<-out
		if _, err := th.Revoke(RevokeFilter{Host: "a.com", Port: 443, Scope: ScopePersistent}); err == nil {
			t.Error("persistent revoke with a port accepted")
		}
	})
}

// An "always deny" answer persists a deny rule and also denies the key for
// the session; revoking the persisted rule (from any thread) clears both,
// so the next request prompts again instead of being refused.
func TestRevokePersistentDenyClearsItsSessionDeny(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newServiceWorld(t, Config{})
		th, a, p := w.thread(t, "t1")
		th2, _, _ := w.thread(t, "t2")
		out := make(chan result, 1)
		checkAsync(t.Context(), th, a, httpsKey("b.com"), out)
		answerNext(t, p, Answer{Kind: AnswerAmendDeny, AmendHost: "b.com"})
		if r := <-out; r.v.allow {
			t.Fatal("always deny allowed the request")
		}
		removed, err := th2.Revoke(RevokeFilter{Host: "b.com", Scope: ScopePersistent})
		if err != nil || len(removed) != 1 || removed[0].Action != ActionDeny {
			t.Fatalf("Revoke = %+v, %v", removed, err)
		}
		for _, g := range th.Grants() {
			t.Errorf("grant left after the revoke: %+v", g)
		}
		checkAsync(t.Context(), th, a, httpsKey("b.com"), out)
		answerNext(t, p, Answer{Kind: AnswerAllowOnce})
		if r := <-out; !r.v.allow {
			t.Fatalf("after the revoke: %+v, want a prompt that allows", r.v)
		}
	})
}

// A cancel settles the prompt as cancelled first; Answer.Then (the session
// interrupting the turn) runs after, when the requesters already have the
// cancellation as their verdict.
func TestCancelSettlesBeforeThen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newServiceWorld(t, Config{})
		th, a, p := w.thread(t, "t1")
		out := make(chan result, 1)
		checkAsync(t.Context(), th, a, httpsKey("a.com"), out)
		synctest.Wait()
		var got []result
		then := func() {
			got = append(got, <-out) // the verdict is already delivered
			th.Interrupt()           // what the session does: nothing left to settle
		}
		answerNext(t, p, Answer{Kind: AnswerCancel, Then: then})
		synctest.Wait()
		if len(got) != 1 || got[0].v.allow || got[0].v.denial.Message != "Network access was denied by the user." {
			t.Fatalf("verdict when Then ran: %+v", got)
		}
		if b := blocksOf(a); len(b) != 1 || b[0].Reason != ReasonUserDenied {
			t.Errorf("blocks %+v, want the cancellation recorded", b)
		}
	})
}

// A prompt is resolved (denied, its Prompter context ended) when the last
// command that asked for it ends; a later answer changes nothing.
func TestPromptResolvedWhenItsCommandsEnd(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newServiceWorld(t, Config{})
		th, a, p := w.thread(t, "t1")
		a2, err := w.m.Attach(ExecInfo{ThreadID: "t1", TurnID: "turn-t1", CommandID: "cmd-2", PromptsAllowed: true})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		out := make(chan result, 2)
		checkAsync(ctx, th, a, httpsKey("a.com"), out)
		checkAsync(ctx, th, a2, httpsKey("a.com"), out)
		synctest.Wait()
		calls := p.drain()
		if len(calls) != 1 {
			t.Fatalf("prompts = %d, want 1", len(calls))
		}
		cancel() // both requests leave, as a killed command's would
		<-out
		<-out
		a.Close()
		synctest.Wait()
		if calls[0].ctx.Err() != nil {
			t.Fatal("prompt resolved while cmd-2, which asked too, still runs")
		}
		a2.Close()
		synctest.Wait()
		if calls[0].ctx.Err() == nil {
			t.Fatal("prompt still open after its commands ended")
		}
		calls[0].answer <- Answer{Kind: AnswerAllowForSession} // late
		synctest.Wait()
		if g := th.Grants(); len(g) != 0 {
			t.Errorf("late answer remembered: %+v", g)
		}
	})
}

// Past maxOpenPrompts open prompts, a new destination is denied without a
// prompt, and the denial says why.
func TestOpenPromptsAreBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newServiceWorld(t, Config{AllowLocalBinding: true})
		th, a, p := w.thread(t, "t1")
		out := make(chan result, maxOpenPrompts+1)
		for i := range maxOpenPrompts + 1 {
			checkAsync(t.Context(), th, a, Key{Host: "10.0.0.1", Protocol: ProtocolHTTPS, Port: uint16(1000 + i)}, out)
			synctest.Wait()
		}
		if n := len(p.drain()); n != maxOpenPrompts {
			t.Fatalf("prompts = %d, want %d", n, maxOpenPrompts)
		}
		r := <-out
		if r.v.allow || r.key.Port != 1000+maxOpenPrompts || !strings.Contains(r.v.denial.Message, "Too many network approvals are open") {
			t.Fatalf("request past the bound: %+v", r)
		}
		th.Interrupt()
		for range maxOpenPrompts {
			<-out
		}
	})
}
