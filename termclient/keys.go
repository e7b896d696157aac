package termclient

import (
	"errors"
	"fmt"
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

// keyHints lists the keys that make sense for p, for the prompt's second
// line: p only with a proposed rule, x only for network prompts.
func keyHints(p *protocol.CommandExecutionRequestApprovalParams) []string {
	network := p.NetworkApprovalContext != nil
	hints := []string{"[a] once", "[s] session"}
	switch {
	case network:
		hints = append(hints, "[p] always allow "+amendmentHost(p, protocol.RuleAllow), "[x] always deny "+amendmentHost(p, protocol.RuleDeny))
	case len(p.ProposedExecpolicyAmendment) > 0:
		hints = append(hints, "[p] always allow `"+strings.Join(p.ProposedExecpolicyAmendment, " ")+"`")
	}
	return append(hints, "[d] decline", "[c] cancel turn")
}
