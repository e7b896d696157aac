package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
)

// DecisionKind is the variant of a CommandExecutionApprovalDecision.
type DecisionKind int

const (
	// DecisionAccept allows this once.
	DecisionAccept DecisionKind = iota + 1
	// DecisionAcceptForSession allows, and does not ask again for the same
	// thing in this thread.
	DecisionAcceptForSession
	// DecisionAcceptWithExecpolicyAmendment allows, and persists an allow rule
	// for commands starting with ExecpolicyAmendment.
	DecisionAcceptWithExecpolicyAmendment
	// DecisionApplyNetworkPolicyAmendment persists NetworkPolicyAmendment, then
	// allows or denies according to its action.
	DecisionApplyNetworkPolicyAmendment
	// DecisionDecline denies; the turn goes on.
	DecisionDecline
	// DecisionCancel denies and interrupts the turn.
	DecisionCancel
)

// Wire tags of the decision variants.
const (
	tagAccept                = "accept"
	tagAcceptForSession      = "acceptForSession"
	tagAcceptWithExecpolicy  = "acceptWithExecpolicyAmendment"
	tagApplyNetworkAmendment = "applyNetworkPolicyAmendment"
	tagDecline               = "decline"
	tagCancel                = "cancel"
)

var decisionTags = map[DecisionKind]string{
	DecisionAccept:                        tagAccept,
	DecisionAcceptForSession:              tagAcceptForSession,
	DecisionAcceptWithExecpolicyAmendment: tagAcceptWithExecpolicy,
	DecisionApplyNetworkPolicyAmendment:   tagApplyNetworkAmendment,
	DecisionDecline:                       tagDecline,
	DecisionCancel:                        tagCancel,
}

func (k DecisionKind) String() string {
	if t, ok := decisionTags[k]; ok {
		return t
	}
	return fmt.Sprintf("DecisionKind(%d)", int(k))
}

// CommandExecutionApprovalDecision is the user's answer to an approval
// request. On the wire it is externally tagged: a bare string for the
// variants without payload, or a single-key object whose inner keys are
// snake_case:
//
//	"accept" | "acceptForSession" | "decline" | "cancel"
//	{"acceptWithExecpolicyAmendment":{"execpolicy_amendment":["git","fetch"]}}
//	{"applyNetworkPolicyAmendment":{"network_policy_amendment":{"host":"a.com","action":"allow"}}}
type CommandExecutionApprovalDecision struct {
	Kind DecisionKind
	// ExecpolicyAmendment is the argv prefix, for
	// DecisionAcceptWithExecpolicyAmendment.
	ExecpolicyAmendment []string
	// NetworkPolicyAmendment is the host rule, for
	// DecisionApplyNetworkPolicyAmendment.
	NetworkPolicyAmendment *NetworkPolicyAmendment
}

// Decision constructors.
func Accept() CommandExecutionApprovalDecision {
	return CommandExecutionApprovalDecision{Kind: DecisionAccept}
}
func AcceptForSession() CommandExecutionApprovalDecision {
	return CommandExecutionApprovalDecision{Kind: DecisionAcceptForSession}
}
func Decline() CommandExecutionApprovalDecision {
	return CommandExecutionApprovalDecision{Kind: DecisionDecline}
}
func Cancel() CommandExecutionApprovalDecision {
	return CommandExecutionApprovalDecision{Kind: DecisionCancel}
}
func AcceptWithExecpolicyAmendment(prefix []string) CommandExecutionApprovalDecision {
	return CommandExecutionApprovalDecision{Kind: DecisionAcceptWithExecpolicyAmendment, ExecpolicyAmendment: prefix}
}
func ApplyNetworkPolicyAmendment(a NetworkPolicyAmendment) CommandExecutionApprovalDecision {
	return CommandExecutionApprovalDecision{Kind: DecisionApplyNetworkPolicyAmendment, NetworkPolicyAmendment: &a}
}

// Payloads of the two object variants, as they appear inside the tag.
type execpolicyAmendmentPayload struct {
	ExecpolicyAmendment []string `json:"execpolicy_amendment"`
}

type networkPolicyAmendmentPayload struct {
	NetworkPolicyAmendment NetworkPolicyAmendment `json:"network_policy_amendment"`
}

// MarshalJSON writes one of the six wire forms.
func (d CommandExecutionApprovalDecision) MarshalJSON() ([]byte, error) {
	switch d.Kind {
	case DecisionAccept, DecisionAcceptForSession, DecisionDecline, DecisionCancel:
		return marshal(decisionTags[d.Kind])
	case DecisionAcceptWithExecpolicyAmendment:
		prefix := d.ExecpolicyAmendment
		if prefix == nil {
			prefix = []string{}
		}
		return marshal(map[string]execpolicyAmendmentPayload{tagAcceptWithExecpolicy: {prefix}})
	case DecisionApplyNetworkPolicyAmendment:
		if d.NetworkPolicyAmendment == nil {
			return nil, errors.New("applyNetworkPolicyAmendment decision without an amendment")
		}
		return marshal(map[string]networkPolicyAmendmentPayload{tagApplyNetworkAmendment: {*d.NetworkPolicyAmendment}})
	}
	return nil, fmt.Errorf("unknown decision kind %d", int(d.Kind))
}

// UnmarshalJSON accepts exactly the six wire forms.
func (d *CommandExecutionApprovalDecision) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		for _, k := range []DecisionKind{DecisionAccept, DecisionAcceptForSession, DecisionDecline, DecisionCancel} {
			if decisionTags[k] == s {
				*d = CommandExecutionApprovalDecision{Kind: k}
				return nil
			}
		}
		return fmt.Errorf("decision: unknown variant `%s`", s)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil || obj == nil {
		return errors.New("decision: expected a string or an object with one key")
	}
	if len(obj) != 1 {
		return fmt.Errorf("decision: expected an object with exactly one key, got %d", len(obj))
	}
	for tag, inner := range obj {
		switch tag {
		case tagAcceptWithExecpolicy:
			var p struct {
				ExecpolicyAmendment *[]string `json:"execpolicy_amendment"`
			}
			if err := json.Unmarshal(inner, &p); err != nil {
				return fmt.Errorf("decision %s: %w", tag, err)
			}
			if p.ExecpolicyAmendment == nil {
				return fmt.Errorf("decision %s: missing field `execpolicy_amendment`", tag)
			}
			*d = AcceptWithExecpolicyAmendment(*p.ExecpolicyAmendment)
		case tagApplyNetworkAmendment:
			var p struct {
				NetworkPolicyAmendment *json.RawMessage `json:"network_policy_amendment"`
			}
			if err := json.Unmarshal(inner, &p); err != nil {
				return fmt.Errorf("decision %s: %w", tag, err)
			}
			if p.NetworkPolicyAmendment == nil {
				return fmt.Errorf("decision %s: missing field `network_policy_amendment`", tag)
			}
			var a NetworkPolicyAmendment
			if err := checkRequired(*p.NetworkPolicyAmendment, reflect.TypeFor[NetworkPolicyAmendment]()); err != nil {
				return fmt.Errorf("decision %s: network_policy_amendment: %w", tag, err)
			}
			if err := json.Unmarshal(*p.NetworkPolicyAmendment, &a); err != nil {
				return fmt.Errorf("decision %s: network_policy_amendment: %w", tag, err)
			}
			*d = ApplyNetworkPolicyAmendment(a)
		default:
			return fmt.Errorf("decision: unknown variant `%s`", tag)
		}
	}
	return nil
}

// UnionKind implements Union.
func (CommandExecutionApprovalDecision) UnionKind() UnionKind { return ExternallyTaggedUnion }

// Variants implements Union.
func (CommandExecutionApprovalDecision) Variants() []Variant {
	return []Variant{
		{Tag: tagAccept, Description: "User approved the command."},
		{Tag: tagAcceptForSession, Description: "User approved the command and future prompts in the same session-scoped approval cache should run without prompting."},
		{Tag: tagAcceptWithExecpolicy, Title: "AcceptWithExecpolicyAmendmentCommandExecutionApprovalDecision", Payload: execpolicyAmendmentPayload{},
			Description: "User approved the command, and wants to apply the proposed execpolicy amendment so future matching commands can run without prompting."},
		{Tag: tagApplyNetworkAmendment, Title: "ApplyNetworkPolicyAmendmentCommandExecutionApprovalDecision", Payload: networkPolicyAmendmentPayload{},
			Description: "User chose a persistent network policy rule (allow/deny) for this host."},
		{Tag: tagDecline, Description: "User denied the command. The agent will continue the turn."},
		{Tag: tagCancel, Description: "User denied the command. The turn will also be immediately interrupted."},
	}
}
