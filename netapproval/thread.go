package netapproval

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"
	"time"
)

// Thread is the approval service of one thread (a "session" in NETWORK.md):
// pending prompts deduped by Key, the session allow and deny caches, grant
// statistics, live connections and block records. Obtain one with
// Manager.OpenThread; every command of the thread gets an Attachment from
// Manager.Attach.
type Thread struct {
	id       string
	m        *Manager
	prompter Prompter // nil: every allowlist miss is denied without a prompt

	// ctx is the parent of every prompt context; cancelled by Close.
	ctx    context.Context
	cancel context.CancelFunc
	// wg counts runPrompt goroutines; Close waits for them.
	wg sync.WaitGroup
	// notifyMu orders GrantsUpdated calls so the client never sees an older
	// list after a newer one. Taken before mu, never while holding it.
	notifyMu sync.Mutex

	// mu guards the fields below. It is never held while calling the
	// Prompter, the Notifier, the resolver, the rules file or a Closer.
	mu           sync.Mutex
	closed       bool
	pending      map[Key]*pending         // open prompts, one per key
	allowSession map[Key]time.Time        // session allow cache: key -> granted at
	denySession  map[Key]time.Time        // session deny cache: key -> granted at
	stats        map[grantRef]*grantStats // hits per grant
	conns        map[*tracked]struct{}    // live proxied connections
	attachments  map[*Attachment]struct{} // open attachments (credentials)
}

// pending is one open prompt. The first request for its key (the owner)
// creates it; later requests for the key wait on done.
type pending struct {
	key    Key
	req    PromptRequest
	ctx    context.Context         // the prompt's context, given to the Prompter
	cancel context.CancelCauseFunc // ends ctx; cause says why
	stop   func() bool             // disarms the ctx-done settlement

	// askers are the commands whose requests joined the prompt; when the
	// last of them ends, nobody is left to ask for (guarded by Thread.mu).
	askers  map[*Attachment]struct{}
	settled bool          // guarded by Thread.mu: a decision has been claimed
	verdict verdict       // written before done is closed, read after
	done    chan struct{} // closed once verdict is final
	asked   chan struct{} // closed when the Prompter has returned
}

// verdict is the decision on one request.
type verdict struct {
	key    Key // what was decided (set by Attachment.decide)
	allow  bool
	ref    grantRef // the grant that decided, zero if none
	denial *Denial  // set when !allow
	// abandoned: the requester went away before a decision; nothing to
	// report to it and nothing to record.
	abandoned bool
}

func allowVerdict(ref grantRef) verdict { return verdict{allow: true, ref: ref} }

// outcome is how a prompt settles: the verdict its requesters get, and
// what is remembered.
type outcome struct {
	v            verdict
	sessionAllow bool   // add the key to the session allow cache
	sessionDeny  bool   // add the key to the session deny cache
	amend        Action // persist a host-wide rule for the key's host
}

// maxOpenPrompts bounds the prompts open at once in one thread: past it, a
// request for a new destination is denied without a prompt, and the denial
// says why, so a command cannot bury the user under prompts.
const maxOpenPrompts = 32

// Causes for ending a prompt's context.
var (
	errPromptTimeout   = errors.New("netapproval: approval prompt timed out")
	errInterrupted     = errors.New("netapproval: thread interrupted")
	errThreadClosed    = errors.New("netapproval: thread closed")
	errCommandEnded    = errors.New("netapproval: the command ended before an answer")
	errPromptCompleted = errors.New("netapproval: approval prompt settled")
)

func newThread(m *Manager, id string, p Prompter) *Thread {
	ctx, cancel := context.WithCancel(m.ctx)
	return &Thread{
		id: id, m: m, prompter: p, ctx: ctx, cancel: cancel,
		pending:      make(map[Key]*pending),
		allowSession: make(map[Key]time.Time),
		denySession:  make(map[Key]time.Time),
		stats:        make(map[grantRef]*grantStats),
		conns:        make(map[*tracked]struct{}),
		attachments:  make(map[*Attachment]struct{}),
	}
}

// account records a verdict: a hit on the grant that decided and, for a
// denial, a block record.
func (t *Thread) account(a *Attachment, v verdict) {
	if v.ref.scope != 0 {
		t.mu.Lock()
		st := t.stats[v.ref]
		if st == nil {
			st = &grantStats{}
			t.stats[v.ref] = st
		}
		st.hits++
		t.mu.Unlock()
	}
	if !v.allow && !v.abandoned {
		a.recordBlock(v.key, v.denial)
	}
}

// begin evaluates a request up to the wait: it returns the verdict when the
// rules decide it, or the open prompt for the key (created if needed) whose
// verdict the caller waits for (pd.done, then pd.verdict).
func (t *Thread) begin(ctx context.Context, a *Attachment, req Request) (verdict, *pending) {
	k, p := req.Key, t.m.policy
	if ref, ok := p.denied(k.Host); ok {
		return verdict{ref: ref, denial: deny(ReasonDenied, SourceBaselinePolicy)}, nil
	}
	if !p.mode.permits(k.Protocol, req.Method) {
		return verdict{denial: deny(ReasonMethodNotAllowed, SourceModeGuard)}, nil
	}
	// The lookup may take up to two seconds; it runs without locks.
	if d := p.checkLocal(ctx, k.Host); d != nil {
		return verdict{denial: d}, nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if v, decided := t.cachedLocked(k); decided {
		return v, nil
	}
	if t.closed {
		return verdict{denial: deny(ReasonUserDenied, SourceDecider)}, nil
	}
	// An attachment that may not prompt is denied even when another
	// command's prompt for the key is open: waiting on it would be a prompt
	// on its behalf.
	if t.prompter == nil || !a.info.PromptsAllowed {
		return verdict{denial: deny(ReasonNotAllowed, SourceBaselinePolicy)}, nil
	}
	pd, ok := t.pending[k]
	if !ok && len(t.pending) >= maxOpenPrompts {
		return verdict{denial: &Denial{Reason: ReasonNotAllowed, Source: SourceBaselinePolicy,
			Message: fmt.Sprintf("Too many network approvals are open in this thread (%d); answer them first.", maxOpenPrompts)}}, nil
	}
	if !ok {
		pd = t.newPendingLocked(a, k)
		t.pending[k] = pd
		t.wg.Add(1)
		go t.runPrompt(pd)
	} else {
		t.m.log.Debug("request waits on the open prompt", "thread", t.id, "key", k.String(), "command", a.info.CommandID)
	}
	pd.askers[a] = struct{}{}
	return verdict{}, pd
}

// cachedLocked checks the rules and caches that can change while a prompt
// is open (session caches, persisted rules), under t.mu so that a request
// arriving as a prompt settles sees either the open prompt or its result.
func (t *Thread) cachedLocked(k Key) (verdict, bool) {
	p := t.m.policy
	if ref, ok := p.denied(k.Host); ok {
		return verdict{ref: ref, denial: deny(ReasonDenied, SourceBaselinePolicy)}, true
	}
	if _, ok := t.denySession[k]; ok {
		return verdict{ref: grantRef{scope: ScopeSession, key: k, action: ActionDeny}, denial: deny(ReasonDenied, SourceSession)}, true
	}
	if ref, ok := p.allowed(k.Host); ok {
		return allowVerdict(ref), true
	}
	if _, ok := t.allowSession[k]; ok {
		return allowVerdict(grantRef{scope: ScopeSession, key: k, action: ActionAllow}), true
	}
	return verdict{}, false
}

// newPendingLocked creates the prompt for k, owned by a's command.
func (t *Thread) newPendingLocked(a *Attachment, k Key) *pending {
	req := PromptRequest{Key: k, TurnID: a.info.TurnID, CommandID: a.info.CommandID}
	ctx, cancel := context.WithCancelCause(t.ctx)
	if d := t.m.policy.timeout; d > 0 {
		req.ExpiresAt = time.Now().Add(d)
		var cancelDeadline context.CancelFunc
		ctx, cancelDeadline = context.WithDeadlineCause(ctx, req.ExpiresAt, errPromptTimeout)
		parentCancel := cancel
		cancel = func(cause error) { parentCancel(cause); cancelDeadline() }
	}
	pd := &pending{key: k, req: req, ctx: ctx, cancel: cancel, askers: make(map[*Attachment]struct{}), done: make(chan struct{}), asked: make(chan struct{})}
	// Whatever ends the context first (timeout, Interrupt, Close) settles
	// the prompt, without waiting for the Prompter to return.
	pd.stop = context.AfterFunc(ctx, func() { t.settle(pd, t.endedOutcome(pd)) })
	return pd
}

// endedOutcome is the settlement of a prompt whose context ended before an
// answer.
func (t *Thread) endedOutcome(pd *pending) outcome {
	if errors.Is(context.Cause(pd.ctx), errPromptTimeout) {
		if t.m.policy.timeoutDefault == AnswerAllowOnce {
			return outcome{v: allowVerdict(grantRef{})}
		}
		return outcome{v: verdict{denial: deny(ReasonTimeout, SourceDecider)}}
	}
	msg := "Network approval was interrupted before an answer."
	if errors.Is(context.Cause(pd.ctx), errCommandEnded) {
		msg = "The command ended before the network approval was answered."
	}
	return outcome{v: verdict{denial: &Denial{Reason: ReasonUserDenied, Source: SourceDecider, Message: msg}}}
}

// runPrompt asks the Prompter about one pending key and settles it with the
// answer. It runs on a goroutine counted by t.wg.
func (t *Thread) runPrompt(pd *pending) {
	defer t.wg.Done()
	defer close(pd.asked)
	ans, err := t.prompter.PromptNetwork(pd.ctx, pd.req)
	if pd.ctx.Err() != nil {
		// The context ended first: the AfterFunc settled (or is settling)
		// the prompt, and an answer arriving now is late and ignored.
		return
	}
	if err != nil {
		t.m.log.Warn("network approval prompt failed", "thread", t.id, "key", pd.key.String(), "err", err)
		t.settle(pd, outcome{v: verdict{denial: &Denial{Reason: ReasonNotAllowed, Source: SourceDecider,
			Message: "Network approval could not be obtained."}}})
		return
	}
	if t.settle(pd, t.answerOutcome(pd, ans)) && ans.Then != nil {
		ans.Then()
	}
}

// answerOutcome maps the user's answer to an outcome (NETWORK.md
// "Decisions").
func (t *Thread) answerOutcome(pd *pending, ans Answer) outcome {
	k := pd.key
	switch ans.Kind {
	case AnswerAllowOnce:
		return outcome{v: allowVerdict(grantRef{})}
	case AnswerAllowForSession:
		return outcome{v: allowVerdict(grantRef{scope: ScopeSession, key: k, action: ActionAllow}), sessionAllow: true}
	case AnswerAmendAllow, AnswerAmendDeny:
		if h, err := NormalizeHost(ans.AmendHost); err != nil || h != k.Host {
			msg := fmt.Sprintf("network policy amendment host '%s' does not match approved host '%s'", ans.AmendHost, k.Host)
			t.m.log.Error(msg, "thread", t.id, "key", k.String())
			t.m.warn(t.id, msg)
			return outcome{v: verdict{denial: &Denial{Reason: ReasonNotAllowed, Source: SourceDecider, Message: msg}}}
		}
		if ans.Kind == AnswerAmendAllow {
			return outcome{v: allowVerdict(grantRef{scope: ScopePersistent, host: k.Host, action: ActionAllow}), amend: ActionAllow}
		}
		return outcome{
			v:           verdict{ref: grantRef{scope: ScopeSession, key: k, action: ActionDeny}, denial: deny(ReasonDenied, SourceDecider)},
			sessionDeny: true, amend: ActionDeny,
		}
	case AnswerCancel:
		return outcome{v: verdict{denial: deny(ReasonUserDenied, SourceDecider)}}
	}
	// Decline, and anything unknown: a declined prompt reads as an
	// allowlist miss decided by the user.
	return outcome{v: verdict{denial: deny(ReasonNotAllowed, SourceDecider)}}
}

// settle is the one path that ends a prompt. The first call wins (and
// reports true); later calls (a late answer, the timeout racing the answer)
// do nothing, so a late answer never applies to this or any newer prompt.
func (t *Thread) settle(pd *pending, o outcome) bool {
	t.mu.Lock()
	if pd.settled {
		t.mu.Unlock()
		return false
	}
	pd.settled = true
	t.mu.Unlock()
	pd.stop()
	pd.cancel(errPromptCompleted)

	// Persist before the entry leaves the pending map: until then new
	// requests for the key wait on this prompt, so none of them can miss
	// both the prompt and the new rule and prompt again.
	if o.amend != 0 {
		if err := t.m.rules.AddHostRule(pd.key.Host, o.amend); err != nil {
			t.m.log.Error("persisting network rule failed", "thread", t.id, "host", pd.key.Host, "action", o.amend.String(), "err", err)
			t.m.warn(t.id, fmt.Sprintf("could not save the network rule for '%s': %v", pd.key.Host, err))
			if o.v.allow {
				o.v.ref = grantRef{} // allowed once; nothing was remembered
			}
		}
	}

	t.mu.Lock()
	if t.pending[pd.key] == pd {
		delete(t.pending, pd.key)
	}
	changed := false
	if !t.closed {
		now := time.Now()
		if o.sessionAllow {
			t.allowSession[pd.key] = now
			changed = true
		}
		if o.sessionDeny {
			t.denySession[pd.key] = now
			changed = true
		}
	}
	pd.verdict = o.v
	t.mu.Unlock()
	close(pd.done)
	if changed {
		t.notifyGrants()
	}
	return true
}

// Interrupt resolves every pending prompt of the thread as a denial (the
// turn was interrupted or the client disconnected). The Prompter sees its
// contexts end. The thread stays usable.
func (t *Thread) Interrupt() {
	for _, pd := range t.pendingList() {
		pd.cancel(errInterrupted)
		t.settle(pd, t.endedOutcome(pd))
	}
}

func (t *Thread) pendingList() []*pending {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Collect(maps.Values(t.pending))
}

// Close resolves pending prompts as denials, closes the thread's live
// proxied connections, revokes its attachments' credentials, waits for its
// prompt goroutines (which wait for the Prompter to honour its context) and
// forgets the thread. Idempotent.
func (t *Thread) Close() {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return
	}
	t.closed = true
	pend := slices.Collect(maps.Values(t.pending))
	conns := slices.Collect(maps.Keys(t.conns))
	atts := slices.Collect(maps.Keys(t.attachments))
	t.mu.Unlock()

	for _, pd := range pend {
		pd.cancel(errThreadClosed)
		t.settle(pd, t.endedOutcome(pd))
	}
	t.cancel()
	for _, c := range conns {
		c.close()
	}
	for _, a := range atts {
		a.Close()
	}
	t.wg.Wait()
	t.m.forgetThread(t)
}

// Grants lists the thread's session grants, then the persisted rules, with
// this thread's hit and open-connection counts.
func (t *Thread) Grants() []Grant {
	rules := t.m.rules.HostRules()
	t.mu.Lock()
	defer t.mu.Unlock()
	open := make(map[grantRef]int)
	for c := range t.conns {
		if c.ref.scope != 0 {
			open[c.ref]++
		}
	}
	var out []Grant
	for _, m := range []struct {
		cache  map[Key]time.Time
		action Action
	}{{t.allowSession, ActionAllow}, {t.denySession, ActionDeny}} {
		for k, at := range m.cache {
			g := Grant{Host: k.Host, Protocol: k.Protocol, Port: k.Port, Action: m.action, Scope: ScopeSession, GrantedAt: at}
			out = append(out, g)
		}
	}
	sortSessionGrants(out)
	for _, r := range rules {
		out = append(out, Grant{Host: r.Host, Action: r.Action, Scope: ScopePersistent, GrantedAt: r.AddedAt})
	}
	for i := range out {
		ref := out[i].ref()
		if st := t.stats[ref]; st != nil {
			out[i].Hits = st.hits
		}
		out[i].OpenConnections = open[ref]
	}
	return out
}

// Revoke removes the grants f selects and closes the live proxied
// connections they allowed; the next request to a revoked key is evaluated
// afresh (and prompts). Revoking a persisted rule rewrites rules.toml and
// affects every thread. It returns the removed grants.
func (t *Thread) Revoke(f RevokeFilter) ([]Grant, error) {
	pat, err := parsePattern(f.Host)
	if err != nil {
		return nil, err
	}
	switch f.Scope {
	case ScopeSession:
		return t.revokeSession(pat.text, f), nil
	case ScopePersistent:
		if f.Protocol != 0 || f.Port != 0 {
			return nil, errPersistentHostWide
		}
		before := t.Grants()
		removed, err := t.m.rules.RemoveHostRules(func(r HostRule) bool { return r.Host == pat.text })
		if err != nil {
			return nil, err
		}
		var out []Grant
		for _, r := range removed {
			g := Grant{Host: r.Host, Action: r.Action, Scope: ScopePersistent, GrantedAt: r.AddedAt}
			for _, b := range before {
				if b.ref() == g.ref() {
					g = b
				}
			}
			out = append(out, g)
			t.m.closeConns(g.ref())
			if r.Action == ActionDeny {
				// An "always deny" answer also put its key in the session
				// deny cache of the thread that asked: one revoke clears
				// both, so the next request prompts again.
				for _, th := range t.m.threadList() {
					th.clearSessionDenies(r.Host)
				}
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("netapproval: invalid grant scope %v", f.Scope)
}

func (t *Thread) revokeSession(host string, f RevokeFilter) []Grant {
	match := func(k Key) bool {
		return k.Host == host && (f.Protocol == 0 || k.Protocol == f.Protocol) && (f.Port == 0 || k.Port == f.Port)
	}
	before := t.Grants()
	t.mu.Lock()
	removed := make(map[grantRef]bool)
	for _, c := range []struct {
		cache  map[Key]time.Time
		action Action
	}{{t.allowSession, ActionAllow}, {t.denySession, ActionDeny}} {
		for k := range c.cache {
			if match(k) {
				delete(c.cache, k)
				ref := grantRef{scope: ScopeSession, key: k, action: c.action}
				removed[ref] = true
				delete(t.stats, ref)
			}
		}
	}
	var closers []*tracked
	for c := range t.conns {
		if removed[c.ref] {
			closers = append(closers, c)
		}
	}
	t.mu.Unlock()
	for _, c := range closers {
		c.close()
	}
	var out []Grant
	for _, g := range before {
		if removed[g.ref()] {
			out = append(out, g)
		}
	}
	if len(out) > 0 {
		t.notifyGrants()
	}
	return out
}

// clearSessionDenies removes the session denies of host, every protocol
// and port.
func (t *Thread) clearSessionDenies(host string) {
	t.mu.Lock()
	changed := false
	for k := range t.denySession {
		if k.Host == host {
			delete(t.denySession, k)
			delete(t.stats, grantRef{scope: ScopeSession, key: k, action: ActionDeny})
			changed = true
		}
	}
	t.mu.Unlock()
	if changed {
		t.notifyGrants()
	}
}

// notifyGrants sends the current grant list to the Notifier.
func (t *Thread) notifyGrants() {
	t.notifyMu.Lock()
	defer t.notifyMu.Unlock()
	if t.m.notifier == nil {
		return
	}
	t.m.notifier.GrantsUpdated(t.id, t.Grants())
}

// tracked is one live proxied connection (a tunnel, a plain HTTP exchange
// or a UDP association), closable by revocation and by Close.
type tracked struct {
	t      *Thread
	ref    grantRef
	closer io.Closer
	once   sync.Once
}

// track registers a live connection allowed by ref. It reports false when
// the thread is closed; the caller must then close the connection itself.
func (t *Thread) track(ref grantRef, c io.Closer) (*tracked, bool) {
	tr := &tracked{t: t, ref: ref, closer: c}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, false
	}
	t.conns[tr] = struct{}{}
	return tr, true
}

// release forgets the connection without closing it (it ended by itself).
func (tr *tracked) release() {
	tr.t.mu.Lock()
	delete(tr.t.conns, tr)
	tr.t.mu.Unlock()
}

// close closes the connection and forgets it.
func (tr *tracked) close() {
	tr.once.Do(func() { tr.closer.Close() })
	tr.release()
}

// closeRef closes this thread's connections allowed by ref and forgets
// its counters (the grant is gone).
func (t *Thread) closeRef(ref grantRef) {
	t.mu.Lock()
	delete(t.stats, ref)
	var list []*tracked
	for c := range t.conns {
		if c.ref == ref {
			list = append(list, c)
		}
	}
	t.mu.Unlock()
	for _, c := range list {
		c.close()
	}
}
