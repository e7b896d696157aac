package termclient

import (
	"fmt"
	"strings"
	"time"

	"app-server/protocol"
)

// state is what the banner and /status say about the thread: what prompts
// when, and what the server does when nobody answers. It is built from the
// wire only (thread/start or thread/resume, network/settings/read).
type state struct {
	ephemeral bool // the thread is not saved
	settings  protocol.ThreadSettings
	network   protocol.NetworkSettingsReadResponse
}

func (s *session) state() state {
	return state{ephemeral: s.ephemeral, settings: s.settings, network: s.network}
}

// line is the one-line summary: "approval on-request (commands run without
// a prompt) | sandbox workspace-write, not enforced by the OS | network
// proxy on, new destinations prompt | local addresses refused | network
// prompts wait for an answer".
func (st state) line() string {
	parts := []string{
		"approval " + string(st.settings.ApprovalPolicy) + " (" + policyMeaning(st.settings.ApprovalPolicy) + ")",
		sandboxState(st.settings.Sandbox),
	}
	proxied := st.network.Enabled && st.settings.Sandbox.DangerFullAccess == nil
	switch {
	case !proxied && st.settings.Sandbox.DangerFullAccess != nil:
		parts = append(parts, "network direct, no proxy (danger-full-access)")
	case !proxied:
		parts = append(parts, "network proxy off (network.enabled = false): "+proxyOffMeaning)
	default:
		n := "network proxy on, new destinations prompt"
		if st.settings.ApprovalPolicy == protocol.ApprovalNever {
			n = "network proxy on, new destinations denied (never prompts)"
		}
		if st.network.Mode == protocol.NetworkModeLimited {
			n += ", limited mode (GET, HEAD, OPTIONS over http only)"
		}
		local := "local addresses refused (network.allow_local_binding = true makes them prompt)"
		if st.network.AllowLocalBinding {
			local = "local addresses prompt like any other"
		}
		parts = append(parts, n, local, timeoutState(st.network))
	}
	return strings.Join(parts, " | ")
}

// proxyOffMeaning is what commands get without the proxy under a
// sandboxed mode (SANDBOX.md: never "unrestricted").
const proxyOffMeaning = "no network at all"

// policyMeaning says which commands prompt under an approval policy.
func policyMeaning(p protocol.AskForApproval) string {
	switch p {
	case protocol.ApprovalUntrusted:
		return "commands prompt unless known read-only or allowed by a rule"
	case protocol.ApprovalOnRequest:
		return "commands run without a prompt"
	case protocol.ApprovalNever:
		return "nothing prompts"
	}
	return "unknown policy"
}

// sandboxState names the sandbox the server reports and whether the OS
// enforces it. The server never reports a sandbox the OS is not
// enforcing: when it cannot (and allow_unenforced_sandbox lets commands
// run anyway), it reports danger-full-access and sends a warning, which
// the client shows under the banner.
func sandboxState(sb protocol.SandboxPolicy) string {
	name := "unknown"
	switch {
	case sb.DangerFullAccess != nil:
		return "sandbox none (danger-full-access)"
	case sb.ReadOnly != nil:
		name = "read-only"
	case sb.WorkspaceWrite != nil:
		name = "workspace-write"
	case sb.ExternalSandbox != nil:
		name = "external"
	}
	return "sandbox " + name + ", enforced by the OS"
}

// timeoutState says how long a network prompt waits and what happens then.
func timeoutState(n protocol.NetworkSettingsReadResponse) string {
	if n.ApprovalTimeoutMs <= 0 {
		return "network prompts wait for an answer (no timeout)"
	}
	return fmt.Sprintf("network prompts %s after %s", timeoutVerb(n.ApprovalTimeoutDecision), formatWait(time.Duration(n.ApprovalTimeoutMs)*time.Millisecond))
}

// timeoutVerb is what the server does for the user when a prompt expires.
func timeoutVerb(d protocol.NetworkTimeoutDecision) string {
	if d == protocol.NetworkTimeoutAccept {
		return "accept"
	}
	return "decline"
}

// formatWait is a wait as people say it: "4 s", "1 min 30 s", "250 ms".
func formatWait(d time.Duration) string {
	switch {
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Round(time.Second).Seconds()))
	}
	d = d.Round(time.Second)
	if s := int(d.Seconds()) % 60; s != 0 {
		return fmt.Sprintf("%d min %d s", int(d.Minutes()), s)
	}
	return fmt.Sprintf("%d min", int(d.Minutes()))
}
