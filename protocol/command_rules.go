package protocol

// Command rules (extension): the command decisions a thread remembers, which
// a client can list and revoke, as network grants. Codex has no equivalent
// over the protocol.

// CommandRuleDecision is what a command rule decides.
type CommandRuleDecision string

const (
	// CommandRuleAllow runs matching commands without a command prompt.
	CommandRuleAllow CommandRuleDecision = "allow"
	// CommandRuleForbidden declines matching commands without a prompt.
	CommandRuleForbidden CommandRuleDecision = "forbidden"
)

var commandRuleDecisions = []CommandRuleDecision{CommandRuleAllow, CommandRuleForbidden}

// EnumValues implements Enum.
func (CommandRuleDecision) EnumValues() []string { return enumStrings(commandRuleDecisions) }

// UnmarshalJSON refuses unknown decisions.
func (d *CommandRuleDecision) UnmarshalJSON(b []byte) error {
	return unmarshalEnum(b, d, commandRuleDecisions)
}

// CommandRule is one remembered command decision: a persisted prefix rule
// ([[command]] in rules.toml, every thread), or a command line accepted for
// the session (acceptForSession, this thread).
type CommandRule struct {
	// Prefix is the argv prefix of a persistent rule; null for a session
	// approval.
	Prefix []string `json:"prefix"`
	// Command is the exact command line of a session approval; null for a
	// persistent rule.
	Command  *string             `json:"command"`
	Decision CommandRuleDecision `json:"decision"`
	Scope    GrantScope          `json:"scope"`
	// AddedAtMs is when the rule was made (unix ms); null when unknown.
	AddedAtMs *int64 `json:"addedAtMs"`
}

// CommandRulesListParams asks for a thread's command rules
// (command/rules/list).
type CommandRulesListParams struct {
	ThreadID string `json:"threadId"`
}

// CommandRulesListResponse lists the thread's session approvals, then the
// persistent rules.
type CommandRulesListResponse struct {
	Rules []CommandRule `json:"rules"`
}

// CommandRulesRevokeParams removes command rules (command/rules/revoke):
// with scope persistent, the rules whose prefix is exactly Prefix; with
// scope session, the thread's approval of the command line Command. The
// next matching command is evaluated afresh (and prompts under untrusted).
type CommandRulesRevokeParams struct {
	ThreadID string     `json:"threadId"`
	Scope    GrantScope `json:"scope"`
	Prefix   []string   `json:"prefix,omitempty"`
	Command  *string    `json:"command,omitempty"`
}

// CommandRulesRevokeResponse lists what was removed.
type CommandRulesRevokeResponse struct {
	Revoked []CommandRule `json:"revoked"`
}
