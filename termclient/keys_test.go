package termclient

import (
	"encoding/json"
	"strings"
	"testing"

	"app-server/protocol"
)

func networkPrompt() *protocol.CommandExecutionRequestApprovalParams {
	return &protocol.CommandExecutionRequestApprovalParams{
		NetworkApprovalContext: &protocol.NetworkApprovalContext{Host: "api.example.com", Protocol: protocol.NetworkHTTPS, Port: ptr[uint16](443)},
		ProposedNetworkPolicyAmendments: []protocol.NetworkPolicyAmendment{
			{Host: "api.example.com", Action: protocol.RuleAllow}, {Host: "api.example.com", Action: protocol.RuleDeny},
		},
	}
}

func commandPrompt(prefix ...string) *protocol.CommandExecutionRequestApprovalParams {
	return &protocol.CommandExecutionRequestApprovalParams{Command: ptr("git fetch origin"), Cwd: ptr("/src"), ProposedExecpolicyAmendment: prefix}
}

// wire returns the decision as the server receives it.
func wire(t *testing.T, d protocol.CommandExecutionApprovalDecision) string {
	t.Helper()
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAnswerForKeyNetwork(t *testing.T) {
	for _, tc := range []struct {
		key  rune
		wire string
	}{
		{'a', `"accept"`},
		{'s', `"acceptForSession"`},
		{'S', `"acceptForSession"`},
		{'p', `{"applyNetworkPolicyAmendment":{"network_policy_amendment":{"host":"api.example.com","action":"allow"}}}`},
		{'x', `{"applyNetworkPolicyAmendment":{"network_policy_amendment":{"host":"api.example.com","action":"deny"}}}`},
		{'d', `"decline"`},
		{'c', `"cancel"`},
	} {
		a, err := answerForKey(tc.key, networkPrompt())
		if err != nil {
			t.Errorf("%c: %v", tc.key, err)
			continue
		}
		if got := wire(t, a.decision); got != tc.wire {
			t.Errorf("%c: %s, want %s", tc.key, got, tc.wire)
		}
		if a.label == "" {
			t.Errorf("%c: no label", tc.key)
		}
	}
}

func TestAnswerForKeyCommand(t *testing.T) {
	a, err := answerForKey('p', commandPrompt("git", "fetch"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := wire(t, a.decision), `{"acceptWithExecpolicyAmendment":{"execpolicy_amendment":["git","fetch"]}}`; got != want {
		t.Errorf("p: %s, want %s", got, want)
	}
	if _, err := answerForKey('p', commandPrompt()); err == nil {
		t.Error("p without a proposed prefix answers")
	}
	if _, err := answerForKey('x', commandPrompt("git")); err == nil {
		t.Error("x answers a command prompt")
	}
	for _, k := range []rune{'a', 's', 'd', 'c'} {
		if _, err := answerForKey(k, commandPrompt()); err != nil {
			t.Errorf("%c: %v", k, err)
		}
	}
	if _, err := answerForKey('z', commandPrompt()); err == nil {
		t.Error("z answers")
	}
}

// A network prompt without proposals still gets rules for its host.
func TestAnswerForKeyNetworkWithoutProposals(t *testing.T) {
	p := networkPrompt()
	p.ProposedNetworkPolicyAmendments = nil
	a, _ := answerForKey('x', p)
	if a.decision.NetworkPolicyAmendment == nil || a.decision.NetworkPolicyAmendment.Host != "api.example.com" {
		t.Errorf("x: %+v", a.decision)
	}
}

func TestAutoAnswer(t *testing.T) {
	for mode, want := range map[string]protocol.DecisionKind{
		"accept": protocol.DecisionAccept, "acceptForSession": protocol.DecisionAcceptForSession, "decline": protocol.DecisionDecline,
	} {
		if got := autoAnswer(mode).decision.Kind; got != want {
			t.Errorf("%s: %v", mode, got)
		}
	}
}

func TestKeyHints(t *testing.T) {
	if got := len(keyHints(networkPrompt())); got != 6 {
		t.Errorf("network: %d hints, want 6 (a s p x d c)", got)
	}
	if got := len(keyHints(commandPrompt("git"))); got != 5 {
		t.Errorf("command with prefix: %d hints, want 5 (a s p d c)", got)
	}
	if got := len(keyHints(commandPrompt())); got != 4 {
		t.Errorf("command without prefix: %d hints, want 4 (a s d c)", got)
	}
}

// The keys a prompt lists (hint line and "not an answer" messages) are the
// ones that apply to it: x only for network prompts, p only with a rule to
// save, and a, s, d, c only when the server offers them.
func TestKeyList(t *testing.T) {
	offered := commandPrompt("git")
	offered.AvailableDecisions = []protocol.CommandExecutionApprovalDecision{protocol.Accept(), protocol.Decline(), protocol.Cancel()}
	for _, tc := range []struct {
		name string
		p    *protocol.CommandExecutionRequestApprovalParams
		want string
	}{
		{"network", networkPrompt(), "a s p x d c"},
		{"command with a prefix", commandPrompt("git"), "a s p d c"},
		{"command without a prefix", commandPrompt(), "a s d c"},
		{"only what the server offers", offered, "a p d c"},
	} {
		if got := keyList(tc.p); got != tc.want {
			t.Errorf("%s: keys %q, want %q", tc.name, got, tc.want)
		}
		if got := len(keyHints(tc.p)); got != len(strings.Fields(tc.want)) {
			t.Errorf("%s: %d hints, want one per key of %q", tc.name, got, tc.want)
		}
	}
}
