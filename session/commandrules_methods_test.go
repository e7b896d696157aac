package session

import (
	"context"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"

	"app-server/protocol"
)

func TestCommandDecisionWireTableIsComplete(t *testing.T) {
	checkTable(t, "command decision", wireCommandDecisions, protocol.CommandRuleDecision("").EnumValues(),
		[]CommandDecision{CommandAllow, CommandForbidden})
}

// Command rules are listed and revoked over the protocol: a command line
// accepted for the session, and a persisted prefix rule (also gone from
// rules.toml).
func TestCommandRulesListAndRevoke(t *testing.T) {
	defer goleak.VerifyNone(t)
	path := filepath.Join(t.TempDir(), "rules.toml")
	rules, err := OpenCommandRules(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := rules.Add([]string{"git", "fetch"}, CommandAllow); err != nil {
		t.Fatal(err)
	}
	forSession := protocol.AcceptForSession()
	c := newFakeClient(&forSession)
	m := newTestManagerWith(t, Options{Client: c, Rules: rules})
	defer m.Shutdown(context.Background())
	th := startTestThread(t, m, protocol.ApprovalUntrusted)
	_, start, err := m.StartTurn(context.Background(), &protocol.TurnStartParams{
		ThreadID: th, Input: []protocol.UserInput{protocol.TextUserInput("touch made")},
	})
	if err != nil {
		t.Fatal(err)
	}
	start()
	c.waitFor(t, protocol.MethodTurnCompleted)

	list := func() []protocol.CommandRule {
		t.Helper()
		resp, err := m.ListCommandRules(context.Background(), &protocol.CommandRulesListParams{ThreadID: th})
		if err != nil {
			t.Fatal(err)
		}
		return resp.Rules
	}
	got := list()
	if len(got) != 2 || got[0].Scope != protocol.ScopeSession || got[0].Command == nil || *got[0].Command != "touch made" ||
		got[1].Scope != protocol.ScopePersistent || len(got[1].Prefix) != 2 || got[1].Decision != protocol.CommandRuleAllow || got[1].AddedAtMs == nil {
		t.Fatalf("rules = %+v", got)
	}

	line := "touch made"
	resp, err := m.RevokeCommandRules(context.Background(), &protocol.CommandRulesRevokeParams{ThreadID: th, Scope: protocol.ScopeSession, Command: &line})
	if err != nil || len(resp.Revoked) != 1 {
		t.Fatalf("session revoke = %+v, %v", resp, err)
	}
	resp, err = m.RevokeCommandRules(context.Background(), &protocol.CommandRulesRevokeParams{ThreadID: th, Scope: protocol.ScopePersistent, Prefix: []string{"git", "fetch"}})
	if err != nil || len(resp.Revoked) != 1 || resp.Revoked[0].Decision != protocol.CommandRuleAllow {
		t.Fatalf("persistent revoke = %+v, %v", resp, err)
	}
	if got := list(); len(got) != 0 {
		t.Errorf("rules after revoking both = %+v", got)
	}
	reopened, err := OpenCommandRules(path)
	if err != nil {
		t.Fatal(err)
	}
	if l := reopened.List(); len(l) != 0 {
		t.Errorf("rules.toml still holds %+v", l)
	}

	// A revoke names what it removes the way its scope stores it.
	if _, err := m.RevokeCommandRules(context.Background(), &protocol.CommandRulesRevokeParams{ThreadID: th, Scope: protocol.ScopePersistent, Command: &line}); err == nil {
		t.Error("a persistent revoke by command line was accepted")
	}
}
