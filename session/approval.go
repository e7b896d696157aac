package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"
	"unicode/utf8"

	"app-server/netapproval"
	"app-server/protocol"
)

// ask sends the server request method with params to the client and waits
// for the answer: the one way the session asks the client anything. While
// it is open the thread's waitingOnApproval flag is on; whatever ends the
// wait (an answer, an error reply, ctx done, a disconnect), the client is
// told with serverRequest/resolved, so it can dismiss the prompt. The
// result comes back undecoded with the request's id: each caller decodes
// its own response, so it can tell an answer it cannot read from a failed
// call. A client error reply is a *protocol.Error.
func (t *thread) ask(ctx context.Context, method string, params any) (protocol.RequestID, json.RawMessage, error) {
	t.approvalPending(+1)
	defer t.approvalPending(-1)
	call, err := t.m.client.Request(method, params)
	if err != nil {
		return protocol.RequestID{}, nil, err
	}
	var raw json.RawMessage
	err = call.Wait(ctx, &raw)
	t.m.notify(protocol.MethodServerRequestResolve, protocol.ServerRequestResolvedNotification{ThreadID: t.id.String(), RequestID: call.ID()})
	return call.ID(), raw, err
}

// askCommand puts a command or network approval to the client and returns
// its decision. A decision it cannot read is an error (badDecision), which
// callers treat as a decline.
func (t *thread) askCommand(ctx context.Context, params protocol.CommandExecutionRequestApprovalParams) (protocol.CommandExecutionApprovalDecision, error) {
	id, raw, err := t.ask(ctx, protocol.MethodCommandApproval, params)
	if err != nil {
		return protocol.CommandExecutionApprovalDecision{}, err
	}
	var resp protocol.CommandExecutionRequestApprovalResponse
	if err := json.Unmarshal(raw, &resp); err != nil {
		return protocol.CommandExecutionApprovalDecision{}, t.badDecision(id, params.ItemID, raw, err)
	}
	if resp.Decision.Kind == 0 {
		return protocol.CommandExecutionApprovalDecision{}, t.badDecision(id, params.ItemID, raw, errors.New("no decision"))
	}
	return resp.Decision, nil
}

// maxQuotedDecision bounds how much of a bad answer a warning repeats.
const maxQuotedDecision = 200

// badDecision reports an answer whose decision the server cannot read. It
// is treated as a decline (the caller fails closed), but a client bug must
// not be silent: a warning goes to the log and to the client, naming the
// request and the value.
func (t *thread) badDecision(id protocol.RequestID, itemID string, raw json.RawMessage, err error) error {
	value := raw
	var probe struct{ Decision json.RawMessage }
	if json.Unmarshal(raw, &probe) == nil && probe.Decision != nil {
		value = probe.Decision
	}
	quoted := clip(string(value), maxQuotedDecision)
	msg := fmt.Sprintf("approval request %s (item %s): unrecognized decision %s (%v); treated as decline", id, itemID, quoted, err)
	t.m.log.Warn(msg, "thread", t.id)
	t.m.warn(t.id, msg)
	return errors.New(msg)
}

// clip cuts s to at most n bytes, marked with "...", on a rune boundary:
// half a UTF-8 sequence would reach the client as U+FFFD, a character the
// client never sent.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	// A rune is at most utf8.UTFMax bytes: going further back means the
	// bytes are not UTF-8 at all, and any cut is as good as another.
	for back := 0; back < utf8.UTFMax && cut > 0 && !utf8.RuneStart(s[cut]); back++ {
		cut--
	}
	return s[:cut] + "..."
}

// PromptNetwork implements netapproval.Prompter: it puts one destination to
// the client as an item/commandExecution/requestApproval with a network
// context and maps the decision back.
func (t *thread) PromptNetwork(ctx context.Context, req netapproval.PromptRequest) (netapproval.Answer, error) {
	host, port := req.Key.Host, req.Key.Port
	proto, ok := wireProtocols.wire(req.Key.Protocol)
	if !ok {
		return netapproval.Answer{}, fmt.Errorf("session: no wire tag for %v", req.Key.Protocol)
	}
	reason := "Network access to " + host + " requires approval"
	allow := protocol.NetworkPolicyAmendment{Host: host, Action: protocol.RuleAllow}
	deny := protocol.NetworkPolicyAmendment{Host: host, Action: protocol.RuleDeny}
	params := protocol.CommandExecutionRequestApprovalParams{
		ThreadID: t.id.String(), TurnID: req.TurnID, Kind: protocol.ApprovalKindCommand, StartedAtMs: t.m.nowMs(),
		// A network approval has no item of its own: its id is synthetic.
		ItemID:                          fmt.Sprintf("network#%s#%s#%d#%s", proto, host, port, newID()),
		Reason:                          &reason,
		NetworkApprovalContext:          &protocol.NetworkApprovalContext{Host: host, Protocol: proto, Port: &port},
		ProposedNetworkPolicyAmendments: []protocol.NetworkPolicyAmendment{allow, deny},
		AvailableDecisions: []protocol.CommandExecutionApprovalDecision{
			protocol.Accept(), protocol.AcceptForSession(), protocol.ApplyNetworkPolicyAmendment(allow),
			protocol.Decline(), protocol.Cancel(),
		},
	}
	if !req.ExpiresAt.IsZero() {
		ms := req.ExpiresAt.UnixMilli()
		params.ExpiresAtMs = &ms
	}
	d, err := t.askCommand(ctx, params)
	if err != nil {
		return netapproval.Answer{}, err
	}
	ans, ok := networkAnswer(d)
	if !ok {
		// acceptWithExecpolicyAmendment names a command prefix, which means
		// nothing for a destination: fail closed.
		t.m.log.Warn("decision does not apply to a network approval; declining", "decision", d.Kind, "host", host)
	}
	if turnID, ok := parseID(req.TurnID); ok && ans.Kind == netapproval.AnswerCancel {
		// One path: the prompt settles as cancelled (a recorded denial),
		// then the turn is interrupted.
		ans.Then = func() { t.interrupt(turnID) }
	}
	return ans, nil
}

// networkAnswer maps the client's decision on a network prompt to
// netapproval's answer: the one place a decision crosses into netapproval.
// ok is false for a decision that does not apply to a destination
// (declined).
func networkAnswer(d protocol.CommandExecutionApprovalDecision) (ans netapproval.Answer, ok bool) {
	switch d.Kind {
	case protocol.DecisionAccept:
		return netapproval.Answer{Kind: netapproval.AnswerAllowOnce}, true
	case protocol.DecisionAcceptForSession:
		return netapproval.Answer{Kind: netapproval.AnswerAllowForSession}, true
	case protocol.DecisionApplyNetworkPolicyAmendment:
		a := d.NetworkPolicyAmendment
		if a.Action == protocol.RuleDeny {
			return netapproval.Answer{Kind: netapproval.AnswerAmendDeny, AmendHost: a.Host}, true
		}
		return netapproval.Answer{Kind: netapproval.AnswerAmendAllow, AmendHost: a.Host}, true
	case protocol.DecisionCancel:
		return netapproval.Answer{Kind: netapproval.AnswerCancel}, true
	case protocol.DecisionDecline:
		return netapproval.Answer{Kind: netapproval.AnswerDecline}, true
	}
	return netapproval.Answer{Kind: netapproval.AnswerDecline}, false
}

// NetworkNotifier returns the netapproval.Notifier that reports grant
// changes and warnings to this Manager's client. The network manager is
// built before the session, so it is handed this value.
func NetworkNotifier(client Client, log *slog.Logger) netapproval.Notifier {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return clientNotifier{client: client, log: log}
}

type clientNotifier struct {
	client Client
	log    *slog.Logger
}

func (n clientNotifier) GrantsUpdated(threadID string, grants []netapproval.Grant) {
	n.send(protocol.MethodGrantsUpdated, protocol.NetworkGrantsUpdatedNotification{ThreadID: threadID, Grants: wireGrants(grants)})
}

func (n clientNotifier) Warning(threadID string, message string) {
	n.send(protocol.MethodWarning, protocol.WarningNotification{ThreadID: &threadID, Message: message})
}

func (n clientNotifier) send(method string, params any) {
	if err := n.client.Notify(method, params); err != nil {
		n.log.Debug("notification not sent", "method", method, "err", err)
	}
}

// wireGrants converts grants to the protocol, persisted rules showing null
// protocol and port ("all").
func wireGrants(grants []netapproval.Grant) []protocol.NetworkGrant {
	out := make([]protocol.NetworkGrant, 0, len(grants))
	for _, g := range grants {
		action, _ := wireActions.wire(g.Action)
		scope, _ := wireScopes.wire(g.Scope)
		w := protocol.NetworkGrant{
			Host: g.Host, Action: action, Scope: scope, GrantedAtMs: unixMs(g.GrantedAt),
			Hits: uint64(g.Hits), OpenConnections: uint64(g.OpenConnections),
		}
		if p, ok := wireProtocols.wire(g.Protocol); ok {
			w.Protocol = &p
		}
		if g.Port != 0 {
			port := g.Port
			w.Port = &port
		}
		out = append(out, w)
	}
	return out
}

func unixMs(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}
