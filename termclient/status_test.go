package termclient

import (
	"testing"

	"app-server/protocol"
)

// The state line says what prompts when, from what the wire reports.
func TestStateLine(t *testing.T) {
	ww := protocol.SandboxPolicy{WorkspaceWrite: &protocol.WorkspaceWriteSandbox{}}
	full := protocol.SandboxPolicy{DangerFullAccess: &protocol.DangerFullAccessSandbox{}}
	on := protocol.NetworkSettingsReadResponse{Enabled: true, Mode: protocol.NetworkModeFull, ApprovalTimeoutDecision: protocol.NetworkTimeoutDecline}
	enforced := ", enforced by the OS"
	for _, tc := range []struct {
		name   string
		policy protocol.AskForApproval
		sb     protocol.SandboxPolicy
		net    func(*protocol.NetworkSettingsReadResponse)
		want   string
	}{
		{"defaults", protocol.ApprovalOnRequest, ww, nil,
			"approval on-request (commands run without a prompt) | sandbox workspace-write" + enforced +
				" | network proxy on, new destinations prompt | local addresses refused (network.allow_local_binding = true makes them prompt)" +
				" | network prompts wait for an answer (no timeout)"},
		{"untrusted, local, timeout", protocol.ApprovalUntrusted, ww, func(n *protocol.NetworkSettingsReadResponse) {
			n.AllowLocalBinding, n.ApprovalTimeoutMs = true, 4000
		},
			"approval untrusted (commands prompt unless known read-only or allowed by a rule) | sandbox workspace-write" + enforced +
				" | network proxy on, new destinations prompt | local addresses prompt like any other | network prompts decline after 4 s"},
		{"never, limited, accept", protocol.ApprovalNever, ww, func(n *protocol.NetworkSettingsReadResponse) {
			n.Mode, n.ApprovalTimeoutMs, n.ApprovalTimeoutDecision = protocol.NetworkModeLimited, 90_000, protocol.NetworkTimeoutAccept
		},
			"approval never (nothing prompts) | sandbox workspace-write" + enforced +
				" | network proxy on, new destinations denied (never prompts), limited mode (GET, HEAD, OPTIONS over http only)" +
				" | local addresses refused (network.allow_local_binding = true makes them prompt) | network prompts accept after 1 min 30 s"},
		{"danger-full-access", protocol.ApprovalOnRequest, full, nil,
			"approval on-request (commands run without a prompt) | sandbox none (danger-full-access) | network direct, no proxy (danger-full-access)"},
		{"proxy off", protocol.ApprovalOnRequest, ww, func(n *protocol.NetworkSettingsReadResponse) { n.Enabled = false },
			"approval on-request (commands run without a prompt) | sandbox workspace-write" + enforced +
				" | network proxy off (network.enabled = false): " + proxyOffMeaning},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := on
			if tc.net != nil {
				tc.net(&n)
			}
			st := state{settings: protocol.ThreadSettings{ApprovalPolicy: tc.policy, Sandbox: tc.sb}, network: n}
			if got := st.line(); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}
