package session

import (
	"context"
	"slices"
	"strings"

	"app-server/protocol"
)

// ListCommandRules serves command/rules/list: the command lines the thread
// accepted for the session, then the persisted prefix rules.
func (m *Manager) ListCommandRules(_ context.Context, p *protocol.CommandRulesListParams) (*protocol.CommandRulesListResponse, error) {
	t, err := m.loaded(p.ThreadID)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	lines := make([]string, 0, len(t.sessionCommands))
	for line := range t.sessionCommands {
		lines = append(lines, line)
	}
	t.mu.Unlock()
	slices.Sort(lines)
	rules := make([]protocol.CommandRule, 0, len(lines))
	for _, line := range lines {
		rules = append(rules, sessionCommandRule(line))
	}
	for _, c := range m.rules.List() {
		rules = append(rules, wireCommandRule(c))
	}
	return &protocol.CommandRulesListResponse{Rules: rules}, nil
}

// RevokeCommandRules serves command/rules/revoke.
func (m *Manager) RevokeCommandRules(_ context.Context, p *protocol.CommandRulesRevokeParams) (*protocol.CommandRulesRevokeResponse, error) {
	t, err := m.loaded(p.ThreadID)
	if err != nil {
		return nil, err
	}
	revoked := []protocol.CommandRule{}
	switch p.Scope {
	case protocol.ScopeSession:
		if p.Command == nil || strings.TrimSpace(*p.Command) == "" || p.Prefix != nil {
			return nil, invalidParams("a session revoke names the command line (command), not a prefix")
		}
		t.mu.Lock()
		found := t.sessionCommands[*p.Command]
		delete(t.sessionCommands, *p.Command)
		t.mu.Unlock()
		if found {
			revoked = append(revoked, sessionCommandRule(*p.Command))
		}
	case protocol.ScopePersistent:
		if len(p.Prefix) == 0 || p.Command != nil {
			return nil, invalidParams("a persistent revoke names the rule's prefix (prefix), not a command line")
		}
		removed, err := m.rules.Remove(p.Prefix)
		if err != nil {
			return nil, protocol.Errorf(protocol.ErrInternal, "%v", err)
		}
		for _, c := range removed {
			revoked = append(revoked, wireCommandRule(c))
		}
	default:
		return nil, invalidParams("unknown scope %q (want session or persistent)", p.Scope)
	}
	return &protocol.CommandRulesRevokeResponse{Revoked: revoked}, nil
}

func sessionCommandRule(line string) protocol.CommandRule {
	return protocol.CommandRule{Command: &line, Decision: protocol.CommandRuleAllow, Scope: protocol.ScopeSession}
}

// wireCommandDecisions pairs each decision with its wire tag, once.
var wireCommandDecisions = newEnumTable(map[CommandDecision]protocol.CommandRuleDecision{
	CommandAllow:     protocol.CommandRuleAllow,
	CommandForbidden: protocol.CommandRuleForbidden,
})

func wireCommandRule(c CommandRule) protocol.CommandRule {
	d, _ := wireCommandDecisions.wire(c.Decision)
	w := protocol.CommandRule{Prefix: slices.Clone(c.Prefix), Decision: d, Scope: protocol.ScopePersistent}
	if !c.AddedAt.IsZero() {
		ms := c.AddedAt.UnixMilli()
		w.AddedAtMs = &ms
	}
	return w
}
