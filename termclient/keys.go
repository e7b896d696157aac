package termclient

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"app-server/protocol"
)

// promptKey documents one answer key (for --help and the prompt's hints).
type promptKey struct {
	key rune
	doc string
}

// promptKeys are the answer keys, in the order they are shown.
var promptKeys = []promptKey{
	{'a', "allow once"},
	{'s', "allow for this session (this thread; not asked again for this host, port and protocol, or this exact command line)"},
	{'p', "persist an allow rule: network, for the host (all ports and protocols, every thread); command, for the proposed argv prefix"},
	{'x', "persist a deny rule for the host (network prompts only)"},
	{'d', "decline: deny, the turn goes on (an HTTP request gets a 403)"},
	{'c', "cancel: deny and interrupt the turn"},
}

// answer is what the client sends for a prompt, and how it is echoed.
type answer struct {
	decision protocol.CommandExecutionApprovalDecision
	label    string // past tense, e.g. "allowed for this session"
}

// answerForKey maps a keypress to the answer for prompt p. Upper case works
// too. An error says why the key does not answer p (unknown key, or a rule
// that this prompt cannot have).
func answerForKey(key rune, p *protocol.CommandExecutionRequestApprovalParams) (answer, error) {
	network := p.NetworkApprovalContext != nil
	switch unicode.ToLower(key) {
	case 'a':
		return answer{protocol.Accept(), "allowed once"}, nil
	case 's':
		return answer{protocol.AcceptForSession(), "allowed for this session"}, nil
	case 'p':
		if network {
			host := amendmentHost(p, protocol.RuleAllow)
			return answer{protocol.ApplyNetworkPolicyAmendment(protocol.NetworkPolicyAmendment{Host: host, Action: protocol.RuleAllow}),
				"allowed; rule saved: always allow " + host}, nil
		}
		if len(p.ProposedExecpolicyAmendment) == 0 {
			return answer{}, errors.New("no rule is proposed for this command (it is not a simple command)")
		}
		prefix := p.ProposedExecpolicyAmendment
		return answer{protocol.AcceptWithExecpolicyAmendment(prefix),
			"allowed; rule saved: always allow commands starting with " + strings.Join(prefix, " ")}, nil
	case 'x':
		if !network {
			return answer{}, errors.New("deny rules are for network prompts; use d to decline")
		}
		host := amendmentHost(p, protocol.RuleDeny)
		return answer{protocol.ApplyNetworkPolicyAmendment(protocol.NetworkPolicyAmendment{Host: host, Action: protocol.RuleDeny}),
			"denied; rule saved: always deny " + host}, nil
	case 'd':
		return answer{protocol.Decline(), "declined"}, nil
	case 'c':
		return answer{protocol.Cancel(), "cancelled; interrupting the turn"}, nil
	}
	return answer{}, fmt.Errorf("%q is not an answer", key)
}

// amendmentHost is the host of the proposed rule with the given action, or
// the prompt's host when the server proposed none.
func amendmentHost(p *protocol.CommandExecutionRequestApprovalParams, action protocol.NetworkPolicyRuleAction) string {
	for _, a := range p.ProposedNetworkPolicyAmendments {
		if a.Action == action {
			return a.Host
		}
	}
	return p.NetworkApprovalContext.Host
}

// autoAnswer is the answer of --auto mode (accept, acceptForSession or
// decline) to any prompt.
func autoAnswer(mode string) answer {
	switch mode {
	case "accept":
		return answer{protocol.Accept(), "auto: allowed once"}
	case "acceptForSession":
		return answer{protocol.AcceptForSession(), "auto: allowed for this session"}
	}
	return answer{protocol.Decline(), "auto: declined"}
}

// keysFor returns the keys that answer p, in promptKeys order: a, s, d
// and c when the server offers their decision (all of them when it lists
// none), p when there is a rule to save (network prompts; commands with a
// proposed prefix), x for network prompts only.
func keysFor(p *protocol.CommandExecutionRequestApprovalParams) []rune {
	network := p.NetworkApprovalContext != nil
	offered := func(kind protocol.DecisionKind) bool {
		return len(p.AvailableDecisions) == 0 || slices.ContainsFunc(p.AvailableDecisions, func(d protocol.CommandExecutionApprovalDecision) bool { return d.Kind == kind })
	}
	var keys []rune
	for _, k := range promptKeys {
		ok := false
		switch k.key {
		case 'a':
			ok = offered(protocol.DecisionAccept)
		case 's':
			ok = offered(protocol.DecisionAcceptForSession)
		case 'p':
			ok = network || len(p.ProposedExecpolicyAmendment) > 0
		case 'x':
			ok = network
		case 'd':
			ok = offered(protocol.DecisionDecline)
		case 'c':
			ok = offered(protocol.DecisionCancel)
		}
		if ok {
			keys = append(keys, k.key)
		}
	}
	return keys
}

// keyList is the keys that answer p, for messages: "a s p d c".
func keyList(p *protocol.CommandExecutionRequestApprovalParams) string {
	var b strings.Builder
	for i, k := range keysFor(p) {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(k)
	}
	return b.String()
}

// keyHints is the prompt's second line: one hint per key that answers p.
func keyHints(p *protocol.CommandExecutionRequestApprovalParams) []string {
	var hints []string
	for _, k := range keysFor(p) {
		switch k {
		case 'a':
			hints = append(hints, "[a] once")
		case 's':
			hints = append(hints, "[s] session")
		case 'p':
			if p.NetworkApprovalContext != nil {
				hints = append(hints, "[p] always allow "+amendmentHost(p, protocol.RuleAllow))
			} else {
				hints = append(hints, "[p] always allow `"+strings.Join(p.ProposedExecpolicyAmendment, " ")+"`")
			}
		case 'x':
			hints = append(hints, "[x] always deny "+amendmentHost(p, protocol.RuleDeny))
		case 'd':
			hints = append(hints, "[d] decline")
		case 'c':
			hints = append(hints, "[c] cancel turn")
		}
	}
	return hints
}
